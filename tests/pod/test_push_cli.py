"""Bad input to ``hera-imagebuild push``: a clear one-line message, the right exit code, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from push_helpers import assert_no_outputs, run_push

from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_TRANSIENT, EXIT_USAGE, FailureKind
from hera_imagebuild.pod.termination import exit_code, finish

pytestmark = pytest.mark.timeout(30)

DEST = "--destination=127.0.0.1:5000/app:v1"


@pytest.fixture
def layout(oci_image):
    return oci_image(seed="push-cli").layout_dir


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["--destination=127.0.0.1:5000/App:v1"], EXIT_USAGE, "--destination: '127.0.0.1:5000/App:v1'"),
        ([], EXIT_USAGE, "--destination: at least one is required"),
        (["--destinations-json=[oops"], EXIT_USAGE, "--destinations-json: not valid JSON"),
        (
            ['--destinations-json={"a": 1}'],
            EXIT_USAGE,
            "--destinations-json: expected a JSON list of strings",
        ),
        ([DEST, "--max-attempts=0"], EXIT_USAGE, "--max-attempts: 0 must be at least 1"),
        ([DEST, "--timeout=0"], EXIT_USAGE, "--timeout: 0.0 must be a positive number of seconds"),
        ([DEST, "--expected-digest=abc"], EXIT_USAGE, "--expected-digest: 'abc' is not a digest"),
        (
            [DEST, "--insecure-registry=http://reg"],
            EXIT_USAGE,
            "--insecure-registry: 'http://reg' is not a registry",
        ),
        ([DEST, "--insecure-registries-json=reg"], EXIT_USAGE, "--insecure-registries-json: not valid JSON"),
        (
            [DEST, "--cert-dir=/nonexistent-ca-dir"],
            EXIT_USAGE,
            "--cert-dir: '/nonexistent-ca-dir' is not a directory",
        ),
        (
            [DEST, "--authfile=/nonexistent/config.json"],
            EXIT_USAGE,
            "--authfile: '/nonexistent/config.json' does not",
        ),
        ([DEST, "--max-attempts=many"], EXIT_USAGE, "argument --max-attempts: invalid int value: 'many'"),
    ],
)
def test_bad_arguments(capsys, layout, tmp_path, bad_input, args, code, expected):
    run = run_push(capsys, f"--image={layout}", f"--output-dir={tmp_path / 'out'}", *args)
    assert run.code == code
    assert expected in run.last_line
    assert "Traceback" not in run.err
    assert_no_outputs(tmp_path / "out")
    bad_input.record(area="CLI", given=" ".join(["push", *args]), error=run.last_line)


def test_layout_problems(capsys, oci_image, tmp_path, bad_input):
    missing = tmp_path / "no-such-layout"
    run = run_push(capsys, f"--image={missing}", DEST, f"--output-dir={tmp_path / 'out'}")
    assert run.code == EXIT_FAILED
    assert (
        run.last_line
        == f"push failed: --image: '{missing}' is not a directory (expected an OCI image layout)"
    )
    bad_input.record(area="CLI", given=f"push --image={missing.name}", error=run.last_line)

    layout = oci_image(seed="push-cli-broken").layout_dir
    (layout / "index.json").write_text("{")
    run = run_push(capsys, f"--image={layout}", DEST, f"--output-dir={tmp_path / 'out'}")
    assert run.code == EXIT_FAILED
    assert f"{layout / 'index.json'}: not valid JSON" in run.last_line
    bad_input.record(area="CLI", given="push --image=<layout with a broken index.json>", error=run.last_line)
    assert_no_outputs(tmp_path / "out")


def test_bad_docker_config(capsys, layout, tmp_path, bad_input):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {"reg.example": {"auth": "bm90LWJhc2U2NA-no-colon"}}}))
    run = run_push(capsys, f"--image={layout}", DEST, f"--authfile={config}")
    assert run.code == EXIT_USAGE
    assert run.last_line.endswith("auths['reg.example']: 'auth' is not base64 of 'user:password'")
    bad_input.record(
        area="docker config", given='auths["reg.example"].auth = <not base64>', error=run.last_line
    )


def test_console_script_prints_no_traceback(tmp_path):
    """The installed command, as a pod runs it: one line on stderr, exit 1, nothing on stdout."""
    missing = tmp_path / "missing"
    result = subprocess.run(
        [sys.executable, "-m", "hera_imagebuild.cli.main", "push", f"--image={missing}", DEST],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == EXIT_FAILED
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"push failed: --image: '{missing}' is not a directory (expected an OCI image layout)"
    ]


def test_termination_log_is_written_only_where_it_exists(tmp_path, capsys):
    log = tmp_path / "termination-log"
    log.write_text("")
    finish("push failed: reg/app:v1: something\nwith a second line", termination_log=str(log))
    assert log.read_text() == "push failed: reg/app:v1: something with a second line"
    assert capsys.readouterr().err == "push failed: reg/app:v1: something with a second line\n"

    absent = tmp_path / "absent-log"
    finish("push: done", termination_log=str(absent))
    assert not absent.exists()


def test_exit_codes_say_whether_a_retry_can_help():
    assert exit_code(FailureKind.TRANSIENT) == EXIT_TRANSIENT
    assert exit_code(FailureKind.DETERMINISTIC) == EXIT_FAILED
    assert exit_code(None) == EXIT_FAILED
