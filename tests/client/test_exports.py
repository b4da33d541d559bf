"""The package root re-exports the client API lazily."""

from __future__ import annotations

import subprocess
import sys

import hera_imagebuild


def test_every_export_resolves() -> None:
    for name in hera_imagebuild.__all__:
        assert getattr(hera_imagebuild, name) is not None, name


def test_importing_the_package_does_not_import_hera() -> None:
    code = "import sys, hera_imagebuild; print('hera' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.strip() == "False"
