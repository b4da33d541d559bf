"""Contract tests of ``submit FILE``: Hera Python files and YAML workflows, and bad files."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from contract_server import ContractServer, build_statuses

from hera_imagebuild.cluster.install import template_manifest

if TYPE_CHECKING:
    from conftest import CliRunner

WORKFLOWS = "/apis/argoproj.io/v1alpha1/namespaces/ci/workflows"
HERA_FILE = """
from hera.workflows import Workflow
from steps_next_to_it import echo

with Workflow(generate_name="hello-", entrypoint="main") as hello:
    echo("hello")

with Workflow(generate_name="bye-", entrypoint="main", namespace="elsewhere") as bye:
    echo("bye")

if __name__ == "__main__":
    raise SystemExit("the __main__ block must not run on submit")
"""
SIBLING_MODULE = """
from hera.workflows import Container

def echo(word):
    return Container(name="main", image="busybox:1.36", command=["echo", word])
"""


def write_hera_file(directory: Path) -> Path:
    """A Hera file that imports a module next to it (as the examples do)."""
    (directory / "steps_next_to_it.py").write_text(textwrap.dedent(SIBLING_MODULE))
    file = directory / "pipeline.py"
    file.write_text(textwrap.dedent(HERA_FILE))
    return file


def build_workflow_yaml(path: Path) -> Path:
    workflow: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": "yaml-build-"},
        "spec": {
            "entrypoint": "main",
            "templates": [
                {
                    "name": "main",
                    "dag": {
                        "tasks": [
                            {
                                "name": "build",
                                "templateRef": {
                                    "name": template_manifest()["metadata"]["name"],
                                    "template": "build",
                                    "clusterScope": True,
                                },
                                "arguments": {
                                    "parameters": [
                                        {"name": "destinations", "value": '["registry.example.com/a:1"]'}
                                    ],
                                    "artifacts": [
                                        {
                                            "name": "context",
                                            "git": {"repo": "https://github.com/example/app.git"},
                                        }
                                    ],
                                },
                            }
                        ]
                    },
                }
            ],
        },
    }
    path.write_text(
        "# a ConfigMap first, to be ignored\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n"
        + yaml.safe_dump(workflow)
    )
    return path


def test_contract_submit_yaml_and_watch(
    kube_env: Path, contract_server: ContractServer, tmp_path: Path, cli: CliRunner
) -> None:
    contract_server.put_object(template_manifest())
    contract_server.workflow_statuses = build_statuses()
    file = build_workflow_yaml(tmp_path / "build.yaml")
    code, out, err = cli(["submit", str(file), "--watch", "--poll-interval", "0.01"])
    assert code == 0, err
    sent = contract_server.calls("POST", WORKFLOWS)[0].body
    assert sent["metadata"] == {"generateName": "yaml-build-", "namespace": "ci"}
    assert sent["spec"] == list(yaml.safe_load_all(file.read_text()))[1]["spec"]
    assert "image build: registry.example.com/team/app@sha256:" in out


def test_contract_submit_hera_python_file_picks_one_workflow(
    kube_env: Path, contract_server: ContractServer, tmp_path: Path, cli: CliRunner
) -> None:
    file = write_hera_file(tmp_path)

    code, _, err = cli(["submit", str(file)])
    assert code == 2
    assert "defines 2 Workflows (hello, bye); pick one with --workflow NAME" in err

    code, out, _ = cli(["submit", str(file), "--workflow", "hello"])
    assert code == 0
    body = contract_server.calls("POST", WORKFLOWS)[0].body
    assert body["spec"]["templates"][0]["container"]["command"] == ["echo", "hello"]
    assert out.startswith("workflow hello-")

    # The file's own namespace is kept unless --namespace/ARGO_NAMESPACE says otherwise.
    code, _, _ = cli(["submit", str(file), "--workflow", "bye-"])
    assert code == 0
    assert contract_server.calls("POST", "/namespaces/elsewhere/workflows")
    code, _, _ = cli(["submit", str(file), "--workflow", "bye", "-n", "team"])
    assert contract_server.calls("POST", "/namespaces/team/workflows")


def test_submit_dry_run_prints_the_workflow(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, cli: CliRunner
) -> None:
    file = write_hera_file(tmp_path)
    code, out, _ = cli(["submit", str(file), "--workflow", "hello", "--dry-run"])
    assert code == 0
    assert yaml.safe_load(out)["metadata"]["generateName"] == "hello-"


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (None, "missing.yaml", "does not exist or is not a file"),
        ("kind: ConfigMap\napiVersion: v1\n", "cm.yaml", "defines no Workflow"),
        ("a: [unclosed\n", "broken.yaml", "is not readable YAML"),
        ("raise RuntimeError('boom')\n", "broken.py", "failed: RuntimeError: boom"),
    ],
    ids=["missing", "no-workflow", "bad-yaml", "python-raises"],
)
def test_bad_workflow_files_are_clear_errors(
    content: str | None,
    name: str,
    expected: str,
    clean_env: pytest.MonkeyPatch,
    tmp_path: Path,
    cli: CliRunner,
    bad_input: Any,
) -> None:
    file = tmp_path / name
    if content is not None:
        file.write_text(content)
    code, out, err = cli(["submit", str(file)])
    assert code == 2
    assert out == ""
    assert expected in err
    bad_input.record(area="CLI", given=f"hera-imagebuild submit {name}", error=err.strip())


def test_contract_submit_the_ml_pipeline_example_by_template_reference(
    kube_env: Path, contract_server: ContractServer, cli: CliRunner
) -> None:
    """The shipped example reaches the server, passes the lint and references the installed template."""
    example = Path(__file__).resolve().parents[2] / "examples" / "train_pipeline_templateref.py"
    contract_server.put_object(template_manifest())
    code, out, err = cli(["submit", str(example)])
    assert code == 0, err
    body = contract_server.calls("POST", WORKFLOWS)[0].body
    assert body["metadata"]["generateName"] == "fraud-train-"
    tasks = {t["name"]: t for t in body["spec"]["templates"][0]["dag"]["tasks"]}
    assert tasks["trainer-image"]["templateRef"]["name"] == template_manifest()["metadata"]["name"]
    assert out.startswith("workflow fraud-train-")
