"""``hera-imagebuild lint``: exit codes, one line per problem, clear usage errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hera_imagebuild.cli.main import main
from hera_imagebuild.sandbox.matrix import BadInputRecorder

from .conftest import ARGO_SCHEMA_DIR, FIXTURES, LIBRARY

GOOD = sorted(str(path) for path in (FIXTURES / "good").glob("*.yaml"))


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["lint", *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.strip()


def test_clean_documents_exit_0_and_print_no_problem(
    capsys: pytest.CaptureFixture[str], argo_schemas: object
) -> None:
    code, out, err = lint(capsys, "--schema", str(ARGO_SCHEMA_DIR), *GOOD)
    assert (code, out) == (0, [])
    assert err == "lint: 6 document(s), schemas: schema-v3.7.14.json, schema-v4.0.9.json: clean"


def test_problems_exit_1_with_one_line_each(capsys: pytest.CaptureFixture[str], argo_schemas: object) -> None:
    bad = [
        str(FIXTURES / "bad" / name)
        for name in ("unknown-key.yaml", "schema-type.yaml", "argument-unknown.yaml")
    ]
    code, out, err = lint(capsys, "--schema", str(ARGO_SCHEMA_DIR), "--ref", str(LIBRARY), *bad)
    assert code == 1
    assert [line.split(": ")[:3] for line in out] == [
        [bad[0], "Workflow/unknown-key", "spec.templates[0].retryStrategy.backof"],
        [bad[1], "Workflow/schema-type", "spec.templates[0].container.image"],
        [bad[2], "Workflow/argument-unknown", "spec.templates[0].dag.tasks[0].arguments.parameters[1].name"],
    ]
    assert err.endswith(": 3 problem(s)")


def test_without_a_schema_only_the_own_checks_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = lint(capsys, str(FIXTURES / "bad" / "schema-type.yaml"))
    assert (code, out) == (0, [])
    assert "schemas: none (pass --schema to validate against Argo's)" in err


def test_refs_and_allowing_unresolved_refs(capsys: pytest.CaptureFixture[str]) -> None:
    user = str(FIXTURES / "good" / "uses-library.yaml")
    assert lint(capsys, user)[0] == 1
    assert lint(capsys, "--ref", str(LIBRARY), user)[:2] == (0, [])
    assert lint(capsys, "--allow-unresolved-refs", user)[:2] == (0, [])


def test_other_kinds_are_skipped_with_a_note_and_a_misspelt_kind_is_a_problem(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bad_input: BadInputRecorder
) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(
        (FIXTURES / "good" / "steps-pipeline.yaml").read_text()
        + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"
        + "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: cache}\n"
    )
    code, out, err = lint(capsys, str(path))
    assert (code, out) == (0, [])
    notes = [line for line in err.splitlines() if "skipped" in line]
    assert notes == [
        f"lint: {path}: {name}: skipped (not an Argo workflow kind)"
        for name in ("ConfigMap/settings", "PersistentVolumeClaim/cache")
    ]
    path.write_text("apiVersion: argoproj.io/v1alpha1\nkind: Workflw\nmetadata: {name: typo}\nspec: {}\n")
    code, out, _ = lint(capsys, str(path))
    expected = (
        f"{path}: Workflw/typo: kind: kind 'Workflw' is not an Argo workflow kind "
        "(accepted: Workflow, WorkflowTemplate, ClusterWorkflowTemplate, CronWorkflow)"
    )
    assert (code, out) == (1, [expected])
    bad_input.record(area="CLI", given="hera-imagebuild lint FILE with kind: Workflw", error=out[0])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "hera-imagebuild lint: error: {path}: cannot read: No such file or directory"),
        (
            "kind: Workflow\nspec: [unclosed\n",
            "hera-imagebuild lint: error: {path}: line 3, column 1: not valid YAML: ",
        ),
        (
            b"kind: \xff\xfe",
            "hera-imagebuild lint: error: {path}: cannot read: 'utf-8' codec can't decode byte 0xff",
        ),
    ],
    ids=["missing-file", "bad-yaml", "not-utf8"],
)
def test_unreadable_input_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    bad_input: BadInputRecorder,
    content: str | bytes | None,
    expected: str,
) -> None:
    path = tmp_path / "workflow.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    code, out, err = lint(capsys, str(GOOD[0]), str(path))
    assert (code, out) == (2, [])
    assert err.startswith(expected.format(path=path))
    assert "Traceback" not in err
    given = {None: "a file that does not exist", bytes: "a file that is not UTF-8"}.get(
        content if content is None else type(content), "a file that is not valid YAML"
    )
    bad_input.record(area="CLI", given=f"hera-imagebuild lint with {given}", error=err)


def test_a_bad_schema_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bad_input: BadInputRecorder
) -> None:
    schema = tmp_path / "openapi.json"
    schema.write_text('{"definitions": {"io.k8s.api.core.v1.Pod": {}}}')
    code, out, err = lint(capsys, "--schema", str(schema), GOOD[0])
    assert (code, out) == (2, [])
    assert err == (
        f"hera-imagebuild lint: error: {schema}: not an Argo Workflows JSON schema "
        "(no definition for Workflow, WorkflowTemplate, ClusterWorkflowTemplate, CronWorkflow); "
        "expected api/jsonschema/schema.json of an Argo Workflows release"
    )
    bad_input.record(
        area="CLI", given="hera-imagebuild lint --schema <a JSON file that is not Argo's schema>", error=err
    )


def test_the_installed_command_reports_bad_yaml_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n  metadata: x\n")
    result = subprocess.run(
        [sys.executable, "-m", "hera_imagebuild.cli.main", "lint", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"hera-imagebuild lint: error: {path}: line 3, column 11: "
        "not valid YAML: mapping values are not allowed in this context\n"
    )


def test_missing_files_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["lint"])
    assert stopped.value.code == 2
    assert "the following arguments are required: FILE" in capsys.readouterr().err


def test_argo_version_picks_that_release_schema_and_fields(
    capsys: pytest.CaptureFixture[str], argo_schemas: object
) -> None:
    singular = str(FIXTURES / "corpus" / "sync-singular-3.7.yaml")
    code, out, err = lint(capsys, "--schema", str(ARGO_SCHEMA_DIR), "--argo-version", "3.7", singular)
    assert (code, out) == (0, [])
    assert err == "lint: 1 document(s), schemas: schema-v3.7.14.json: clean"
    code, out, err = lint(capsys, "--schema", str(ARGO_SCHEMA_DIR), "--argo-version", "4.0", singular)
    assert code == 1
    assert [line.split(": ")[2] for line in out] == [
        "spec.synchronization.mutex",
        "spec.templates[0].memoize.cache.configMap.key",
        "spec.templates[0].synchronization.semaphore",
    ]
    assert err.startswith("lint: 1 document(s), schemas: schema-v4.0.9.json: ")
    only_40 = str(ARGO_SCHEMA_DIR / "schema-v4.0.9.json")
    code, out, err = lint(capsys, "--schema", only_40, "--argo-version", "3.7", singular)
    assert (code, out) == (2, [])
    assert err == (
        "hera-imagebuild lint: error: no schema of Argo 3.7 among schema-v4.0.9.json "
        "(a file name must hold the release, like schema-v3.7.0.json)"
    )
