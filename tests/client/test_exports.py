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


def test_type_checkers_see_every_public_name_as_its_real_type(tmp_path) -> None:
    """``from hera_imagebuild import BuildSpec`` was ``Any`` to mypy (a lazy ``__getattr__`` only)."""
    from mypy import api

    names = [name for name in hera_imagebuild.__all__ if name != "__version__"]
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import hera_imagebuild\n" + "".join(f"reveal_type(hera_imagebuild.{n})\n" for n in names)
    )
    out, err, status = api.run(
        [str(probe), "--strict", "--no-error-summary", "--cache-dir", str(tmp_path / "c")]
    )
    revealed = [line for line in out.splitlines() if "Revealed type is" in line]
    assert status == 0, out + err
    assert len(revealed) == len(names)
    assert not [line for line in revealed if '"Any"' in line], revealed
