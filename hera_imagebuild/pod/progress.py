"""Human output for the pod steps: live per-layer progress on a terminal, timestamped lines elsewhere.

Both renderers take the same calls, so prefetch and push report once and stay
readable in a terminal and in ``kubectl logs`` alike. Output goes to stderr by
default: stdout stays free for results.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TextIO

from hera_imagebuild.common.redaction import redact
from hera_imagebuild.pod.registry.errors import RegistryError

_REDRAW_INTERVAL = 0.1


def human_bytes(count: float) -> str:
    """``1.5 MiB`` style sizes."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024 or unit == "GiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GiB"  # pragma: no cover - loop always returns


@dataclass
class _Transfer:
    label: str
    total: int
    started: float
    done: int = 0
    finished: bool = False

    def rate(self, now: float) -> float:
        return self.done / max(now - self.started, 1e-6)


class Progress:
    """Plain timestamped lines: one when a transfer starts, one when it ends (size, time, rate).

    Args:
        stream: Where to write (default: stderr).
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self._transfers: dict[str, _Transfer] = {}

    def _line(self, text: str) -> None:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.stream.write(f"{stamp} {redact(text)}\n")
        self.stream.flush()

    def info(self, message: str) -> None:
        """A one-line message."""
        self._line(message)

    def start(self, key: str, label: str, total: int) -> None:
        """A transfer of ``total`` bytes begins."""
        self._transfers[key] = _Transfer(label, total, time.monotonic())
        self._line(f"{label}: started ({human_bytes(total)})")

    def advance(self, key: str, count: int) -> None:
        """``count`` more bytes of transfer ``key`` moved."""
        transfer = self._transfers.get(key)
        if transfer is not None:
            transfer.done += count

    def restart(self, key: str) -> None:
        """Transfer ``key`` starts over (a retry): its byte count goes back to zero."""
        transfer = self._transfers.get(key)
        if transfer is not None:
            transfer.done = 0

    def finish(self, key: str, note: str = "done") -> None:
        """Transfer ``key`` ended (``note`` says how: done, already present, mounted...)."""
        transfer = self._transfers.get(key)
        if transfer is None or transfer.finished:
            return
        transfer.finished = True
        now = time.monotonic()
        seconds = now - transfer.started
        moved = f", {human_bytes(transfer.done)} in {seconds:.2f}s ({human_bytes(transfer.rate(now))}/s)"
        self._line(f"{transfer.label}: {note}{moved if transfer.done else ''}")

    def retry(self, error: RegistryError, attempt: int, delay: float) -> None:
        """An operation failed transiently and is retried after ``delay`` seconds."""
        self._line(f"retry after attempt {attempt} in {delay:.1f}s: {error}")


class TerminalProgress(Progress):
    """Live progress for a terminal: one redrawn line per active transfer, plus the plain lines."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self._drawn = 0
        self._last_draw = 0.0

    def _line(self, text: str) -> None:
        self._erase()
        super()._line(text)
        self._draw()

    def advance(self, key: str, count: int) -> None:
        """Count bytes and redraw (at most ten times a second)."""
        super().advance(key, count)
        if time.monotonic() - self._last_draw >= _REDRAW_INTERVAL:
            self._erase()
            self._draw()

    def _erase(self) -> None:
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _draw(self) -> None:
        now = time.monotonic()
        active = [t for t in self._transfers.values() if not t.finished]
        for transfer in active:
            share = transfer.done / transfer.total if transfer.total else 1.0
            self.stream.write(
                f"  {transfer.label}: {human_bytes(transfer.done)}/{human_bytes(transfer.total)} "
                f"{share:4.0%} {human_bytes(transfer.rate(now))}/s\n"
            )
        self._drawn = len(active)
        self._last_draw = now
        self.stream.flush()


def make_progress(stream: TextIO | None = None) -> Progress:
    """Live progress when ``stream`` (default stderr) is a terminal, plain lines otherwise."""
    stream = stream or sys.stderr
    return TerminalProgress(stream) if stream.isatty() else Progress(stream)
