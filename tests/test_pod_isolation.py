"""The pod-side steps must start without the client-side stack (Hera, pydantic, Kubernetes).

Their start-up is paid on every retry of every build, and the runtime image
installs the package without those dependencies.
"""

import subprocess
import sys

CLIENT_ONLY = ("hera", "pydantic", "kubernetes", "yaml", "jsonschema")

PROBE = """
import importlib, sys
from hera_imagebuild.cli.main import COMMANDS, _parser
for name in ("prefetch", "push"):
    importlib.import_module(COMMANDS[name][0])
    _parser(name)
print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:])))
"""


def test_step_commands_import_no_client_stack():
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *CLIENT_ONLY], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
