"""Valid hand-written workflows lint clean for each Argo release they state (``# argo: 3.7 4.0``).

They exercise what real workflows use (loops, exit handlers, hooks, retries, suspend, resource,
script, containerSet, http and data templates, volumes, memoization, synchronization, templateRef,
workflowTemplateRef, CronWorkflow), so that a new check that refuses valid Argo fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hera_imagebuild.lint import ARGO_VERSIONS, ArgoSchema, lint_files

from .conftest import FIXTURES

CORPUS = sorted((FIXTURES / "corpus").glob("*.yaml"))


def versions(path: Path) -> list[str]:
    """The releases a corpus file states in its ``# argo:`` line."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# argo:"):
            return line.removeprefix("# argo:").split()
    return []


def test_every_corpus_file_states_its_releases() -> None:
    assert len(CORPUS) >= 7
    assert all(versions(path) and set(versions(path)) <= set(ARGO_VERSIONS) for path in CORPUS)


@pytest.mark.parametrize("version", ARGO_VERSIONS)
def test_corpus_lints_clean_for_each_release_it_states(version: str, argo_schemas: list[ArgoSchema]) -> None:
    files = [path for path in CORPUS if version in versions(path)]
    assert files
    assert [str(problem) for problem in lint_files(files, schemas=argo_schemas, argo_version=version)] == []


def test_a_release_specific_file_is_refused_for_the_other_release(argo_schemas: list[ArgoSchema]) -> None:
    only_37 = [path for path in CORPUS if versions(path) == ["3.7"]]
    assert only_37
    problems = lint_files(only_37, schemas=argo_schemas, argo_version="4.0")
    assert {problem.path: problem.message for problem in problems} == {
        "spec.synchronization.mutex": "field 'mutex' of Synchronization exists in Argo 3.7, not in Argo 4.0",
        "spec.templates[0].synchronization.semaphore": (
            "field 'semaphore' of Synchronization exists in Argo 3.7, not in Argo 4.0"
        ),
        "spec.templates[0].memoize.cache.configMap.key": (
            "unknown field 'key' in LocalObjectReference (known: name)"
        ),
    }
    only_40 = [path for path in CORPUS if versions(path) == ["4.0"]]
    problems = lint_files(only_40, schemas=argo_schemas, argo_version="3.7")
    assert [problem.path for problem in problems] == ["spec.templates[0].memoize.cache.configMap"]
