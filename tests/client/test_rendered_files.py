"""Checked-in YAML (templates/, examples/) is current and valid Argo; the render command prints it."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml

from hera_imagebuild.cli.main import main
from hera_imagebuild.client.render import GENERATED_HEADER, SHIPPED_FILES
from hera_imagebuild.lint import ArgoSchema

from .conftest import REPO_ROOT, lint_text

REGENERATE = "python scripts/render_templates.py"
_script: dict[str, Any] = runpy.run_path(
    str(REPO_ROOT / "scripts" / "render_templates.py"), run_name="render"
)
RENDERED: dict[Path, str] = _script["rendered_files"]()


def _id(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


@pytest.mark.parametrize("path", sorted(RENDERED), ids=_id)
def test_checked_in_file_is_current(path: Path) -> None:
    current = path.read_text() if path.exists() else None
    assert current == RENDERED[path], f"{_id(path)} is out of date; regenerate with: {REGENERATE}"


@pytest.mark.parametrize("path", sorted(RENDERED), ids=_id)
def test_rendered_file_passes_argo_schemas_and_lint(path: Path, argo_schemas: list[ArgoSchema]) -> None:
    assert lint_text(RENDERED[path], argo_schemas, name=_id(path)) == []


def test_shipped_files_are_the_expected_kinds() -> None:
    for name, (namespaced, context) in SHIPPED_FILES.items():
        document = yaml.safe_load((REPO_ROOT / "templates" / name).read_text())
        assert document["kind"] == ("WorkflowTemplate" if namespaced else "ClusterWorkflowTemplate")
        assert document["metadata"]["name"].startswith(
            "hera-imagebuild-" + ("pvc-" if context == "pvc" else "")
        )


def test_render_prints_the_shipped_template(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render"]) == 0
    shipped = (REPO_ROOT / "templates" / "cluster-workflow-template.yaml").read_text()
    assert GENERATED_HEADER + capsys.readouterr().out == shipped


def test_render_namespaced(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["render", "--namespaced", "--namespace", "ml-team", "--context", "pvc"]) == 0
    document = yaml.safe_load(capsys.readouterr().out)
    assert (document["kind"], document["metadata"]["namespace"]) == ("WorkflowTemplate", "ml-team")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["render", "--namespace", "ml"], "--namespace needs --namespaced"),
        (["render", "--namespaced", "--namespace", "ML_Team"], "namespace: 'ML_Team' is not valid"),
        (
            ["render", "--insecure-registry", "http://registry.local"],
            "insecure_registries: 'http://registry.local'",
        ),
        (["render", "--registry-ca", "harbor.example.com=ca.crt"], "--registry-ca-secret=None"),
        (["render", "--registry-ca-secret", "corp-ca"], "with 0 --registry-ca is not valid"),
        (
            ["render", "--registry-ca-secret", "corp-ca", "--registry-ca", "harbor.example.com"],
            "--registry-ca: 'harbor.example.com' is not valid; expected HOST=FILE",
        ),
        (
            ["render", "--registry-ca-secret", "corp-ca", "--registry-ca", "harbor.example.com=ca.pem"],
            "'ca.pem' is not valid",
        ),
    ],
)
def test_render_bad_options(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str], bad_input: Any
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert expected in captured.err
    assert len(captured.err.strip().splitlines()) == 1
    bad_input.record(area="CLI", given="hera-imagebuild " + " ".join(argv), error=captured.err.strip())
