"""The dispatcher: a client command without the client stack says what to install, no traceback."""

import re
import subprocess
import sys

import pytest

# sys.modules[name] = None makes "import name" raise ModuleNotFoundError, as in the runtime image.
PROBE = """
import sys
sys.modules["hera"] = None
sys.modules["yaml"] = None
from hera_imagebuild.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60, check=False
    )


def test_client_command_without_client_stack_is_one_clear_line(bad_input):
    result = _run("render")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert re.fullmatch(
        r"hera-imagebuild render: needs the Python package '(hera|yaml)', which is not installed here "
        r"\(the runtime image carries only 'prefetch' and 'push'\); install the full package: "
        r"pip install hera-imagebuild",
        line,
    ), line
    bad_input.record(area="CLI", given="hera-imagebuild render (runtime image, no Hera)", error=line)


def test_pod_steps_still_run_without_client_stack():
    result = _run("push", "--help")
    assert result.returncode == 0, result.stderr
    assert "--destination" in result.stdout


def test_a_password_on_the_command_line_is_refused_without_being_shown(capsys, bad_input):
    from hera_imagebuild.cli.main import main

    for argv in (["--password", "s3cret-value"], ["--password=s3cret-value"]):
        code = main(["secret", "docker-config", "--registry=r.example.com", "--username=u", *argv])
        err = capsys.readouterr().err
        assert code == 2
        assert "s3cret-value" not in err
        assert "use --password-stdin" in err
    bad_input.record(
        area="CLI", given="hera-imagebuild secret docker-config ... --password ***", error=err.strip()
    )


def test_abbreviated_flags_are_not_guessed(capsys):
    from hera_imagebuild.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main(["render", "--namesp", "x"])
    assert exit_.value.code == 2
    assert "unrecognized arguments: --namesp" in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly():
    """``render | head -1``: the reader goes away; no BrokenPipeError traceback."""
    render = subprocess.Popen(
        [sys.executable, "-m", "hera_imagebuild.cli.main", "render"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert render.stdout is not None
    render.stdout.close()  # before render writes: its first write meets a closed pipe
    _, err = render.communicate(timeout=60)
    assert b"Traceback" not in err
    assert b"BrokenPipeError" not in err
