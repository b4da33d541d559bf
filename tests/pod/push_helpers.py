"""Helpers for the push tests: run the step in-process and check its output files."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from hera_imagebuild.cli.main import main
from hera_imagebuild.common.contract import PushOutputs

UPLOAD_POSTS = r"/blobs/uploads/$"
"""Path regex of the request that starts a blob upload."""


@dataclass(frozen=True)
class PushRun:
    """What one ``hera-imagebuild push`` run left behind."""

    code: int
    out: str
    err: str
    seconds: float

    @property
    def last_line(self) -> str:
        """The final line on stderr (the one that also goes to the termination log)."""
        lines = self.err.strip().splitlines()
        return lines[-1] if lines else ""


def run_push(capsys: pytest.CaptureFixture[str], *args: str) -> PushRun:
    """Run ``hera-imagebuild push ARGS`` in this process (exactly what the console script runs)."""
    capsys.readouterr()
    started = time.monotonic()
    try:
        code = main(["push", *args])
    except SystemExit as exit_:  # argparse rejects unknown or malformed flags this way
        code = int(exit_.code or 0)
    seconds = time.monotonic() - started
    captured = capsys.readouterr()
    return PushRun(code, captured.out, captured.err, seconds)


def assert_pushed(output_dir: Path, digest: str, names: list[str]) -> None:
    """The output files name ``digest`` and one ``name@digest`` per destination, in order."""
    assert (output_dir / PushOutputs.DIGEST).read_text() == digest
    refs = [f"{name}@{digest}" for name in names]
    assert (output_dir / PushOutputs.IMAGE_REF).read_text() == refs[0]
    assert json.loads((output_dir / PushOutputs.IMAGE_REFS).read_text()) == refs
    report = json.loads((output_dir / PushOutputs.REPORT).read_text())
    assert report["digest"] == digest
    assert [d["ref"] for d in report["destinations"]] == refs
    assert all(d["verified"] for d in report["destinations"])


def assert_no_outputs(output_dir: Path) -> None:
    """A failed push leaves no output file (nor temporary file) behind."""
    assert not output_dir.exists() or not any(output_dir.iterdir())
