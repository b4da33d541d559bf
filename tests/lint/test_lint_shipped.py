"""Every shipped template and every example renders to documents that pass lint and both Argo schemas."""

from __future__ import annotations

from pathlib import Path

from hera_imagebuild.lint import ArgoSchema, lint_documents, lint_files, load_files, parse_documents

from .conftest import REPO_ROOT

TEMPLATES = sorted((REPO_ROOT / "templates").glob("*.yaml"))
EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.yaml"))


def test_templates_and_examples_exist() -> None:
    # An empty glob would make the tests below pass vacuously.
    assert TEMPLATES, "no templates/*.yaml: run scripts/render_templates.py"
    assert EXAMPLES, "no examples/*.yaml"


def test_shipped_templates_and_examples_lint_clean_against_both_schemas(
    argo_schemas: list[ArgoSchema],
) -> None:
    # Templates and examples are linted together, so examples' templateRefs are resolved and checked.
    problems = lint_files([*TEMPLATES, *EXAMPLES], schemas=argo_schemas)
    assert [str(problem) for problem in problems] == []
    kinds = {document.kind for document in load_files([*TEMPLATES, *EXAMPLES])}
    assert {"ClusterWorkflowTemplate", "WorkflowTemplate", "Workflow"} <= kinds


def test_examples_resolve_their_template_refs_only_through_the_shipped_templates() -> None:
    without = {str(problem.path).rsplit(".", 1)[-1] for problem in lint_files(EXAMPLES)}
    assert without <= {"templateRef", "workflowTemplateRef"}
    assert lint_files(EXAMPLES, references=TEMPLATES) == []


def test_a_broken_dependency_in_the_shipped_template_is_found(tmp_path: Path) -> None:
    # The shipped DAG passes prefetch outputs to build: without the dependency Argo cannot resolve them.
    source = next(path for path in TEMPLATES if "depends: prefetch" in path.read_text(encoding="utf-8"))
    broken = source.read_text(encoding="utf-8").replace("depends: prefetch", "depends: ''", 1)
    problems = lint_documents(parse_documents(broken, "broken.yaml"))
    assert problems
    assert all("does not depend on task 'prefetch'" in problem.message for problem in problems)
