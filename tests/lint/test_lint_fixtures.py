"""Hand-written good and bad documents: the good lint clean, each bad one gives exactly its expected line."""

from __future__ import annotations

from pathlib import Path

import pytest

from hera_imagebuild.lint import ArgoSchema, lint_files

from .conftest import FIXTURES, LIBRARY

GOOD = sorted((FIXTURES / "good").glob("*.yaml"))
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))
EXPECT = "# expect: "


def expected_lines(path: Path) -> list[str]:
    """The ``# expect:`` header lines of a bad fixture, as full problem lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [f"{path}: {line.removeprefix(EXPECT)}" for line in lines if line.startswith(EXPECT)]


def test_fixtures_exist() -> None:
    assert len(GOOD) >= 4
    assert len(BAD) >= 20
    assert all(expected_lines(path) for path in BAD), "every bad fixture states its expected problem"


def test_good_documents_lint_clean_against_both_schemas(argo_schemas: list[ArgoSchema]) -> None:
    assert lint_files(GOOD, schemas=argo_schemas) == []


@pytest.mark.parametrize("path", BAD, ids=[path.stem for path in BAD])
def test_bad_document_gives_exactly_the_expected_problem(path: Path, argo_schemas: list[ArgoSchema]) -> None:
    problems = lint_files([path], schemas=argo_schemas, references=[LIBRARY])
    assert [str(problem) for problem in problems] == expected_lines(path)


def test_template_refs_without_their_templates_are_one_problem_each() -> None:
    user = FIXTURES / "good" / "uses-library.yaml"
    problems = lint_files([user])
    assert [(problem.name, problem.path) for problem in problems] == [
        ("uses-library-", "spec.templates[0].dag.tasks[0].templateRef"),
        ("uses-library-", "spec.templates[0].dag.tasks[1].templateRef"),
        ("nightly-train", "spec.workflowSpec.workflowTemplateRef"),
    ]
    assert (
        "ClusterWorkflowTemplate 'shared-tools' is not among the linted or --ref documents"
        in problems[0].message
    )


def test_allowing_unresolved_refs_skips_only_what_cannot_be_checked() -> None:
    user = FIXTURES / "good" / "uses-library.yaml"
    assert lint_files([user], allow_unresolved_refs=True) == []
    # A local mistake is still found when the referenced templates are unknown.
    bad = FIXTURES / "bad" / "template-missing.yaml"
    assert [str(problem) for problem in lint_files([bad], allow_unresolved_refs=True)] == expected_lines(bad)


def test_referenced_documents_are_used_but_not_linted(tmp_path: Path) -> None:
    broken_library = tmp_path / "library.yaml"
    text = LIBRARY.read_text(encoding="utf-8").replace("retryStrategy", "retryStrategy")
    broken_library.write_text(
        text.replace("    - name: fetch\n", "    - name: fetch\n      retryStrategy: {limt: 1}\n")
    )
    user = FIXTURES / "good" / "uses-library.yaml"
    assert lint_files([user], references=[broken_library]) == []
    problems = lint_files([broken_library])
    assert [problem.path for problem in problems] == ["spec.templates[0].retryStrategy.limt"]
