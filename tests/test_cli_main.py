"""The dispatcher: a client command without the client stack says what to install, no traceback."""

import re
import subprocess
import sys

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
