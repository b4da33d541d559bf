"""Human output: timestamped lines in a pod, live per-transfer lines on a terminal."""

from __future__ import annotations

import io
import re

from hera_imagebuild.common.failures import FailureKind
from hera_imagebuild.pod.progress import Progress, TerminalProgress, human_bytes, make_progress
from hera_imagebuild.pod.registry import RegistryError

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_have_timestamps_sizes_and_rates():
    stream = io.StringIO()
    progress = make_progress(stream)
    assert type(progress) is Progress
    progress.start("a", "reg/app blob 0123", 3 * 1024 * 1024)
    progress.advance("a", 1024 * 1024)
    progress.restart("a")  # a retry starts the count over
    progress.advance("a", 3 * 1024 * 1024)
    progress.retry(RegistryError("boom", kind=FailureKind.TRANSIENT, operation="op", host="reg"), 1, 0.5)
    progress.finish("a", "uploaded")
    progress.finish("a", "uploaded")  # only once
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert re.fullmatch(rf"{STAMP} reg/app blob 0123: started \(3\.0 MiB\)", lines[0])
    assert re.fullmatch(rf"{STAMP} retry after attempt 1 in 0\.5s: op on reg: boom", lines[1])
    assert re.fullmatch(
        rf"{STAMP} reg/app blob 0123: uploaded, 3\.0 MiB in [0-9.]+s \([0-9.]+ [KMG]?i?B/s\)", lines[2]
    )
    assert "\x1b" not in stream.getvalue()  # no terminal control codes in pod logs


def test_terminal_redraws_active_transfers():
    stream = Terminal()
    progress = make_progress(stream)
    assert isinstance(progress, TerminalProgress)
    progress.start("a", "layer a", 2048)
    progress.advance("a", 1024)
    progress.finish("a", "uploaded")
    text = stream.getvalue()
    assert "  layer a: 0 B/2.0 KiB   0%" in text
    assert "\x1b[1F\x1b[J" in text  # the live line is erased before the next plain line
    # Once finished, the transfer is a plain line and no live line is left below it.
    assert re.search(rf"{STAMP} layer a: uploaded, 1\.0 KiB in [0-9.]+s \([^)]*\)\n$", text)


def test_human_bytes():
    assert [human_bytes(n) for n in (0, 1023, 1024, 5 * 1024**3)] == ["0 B", "1023 B", "1.0 KiB", "5.0 GiB"]
