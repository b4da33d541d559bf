"""Subprocess helpers shared by the sandbox: find binaries, run them bounded, stop them for sure.

Every long-running thing the sandbox starts (registry processes, token issuer
and fault proxy threads) registers itself in :data:`LIVE` and leaves it when
stopped, so a test session can assert that nothing was left running.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

__all__ = [
    "LIVE",
    "Running",
    "SandboxError",
    "live_resources",
    "require_binary",
    "run_checked",
    "stop_process",
]


class SandboxError(RuntimeError):
    """A sandbox component could not be started or used (missing binary, start-up timeout, tool failure)."""


class _LiveSet:
    """Thread-safe set of started-but-not-stopped sandbox resources."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[int, str] = {}

    def add(self, item: object, description: str) -> None:
        with self._lock:
            self._items[id(item)] = description

    def discard(self, item: object) -> None:
        with self._lock:
            self._items.pop(id(item), None)

    def descriptions(self) -> list[str]:
        with self._lock:
            return sorted(self._items.values())


LIVE = _LiveSet()
"""Resources started by the sandbox and not stopped yet."""


_R = TypeVar("_R", bound="Running")


class Running:
    """Base of every process or server the sandbox starts: ``stop()`` it, or use it in a ``with`` block.

    Subclasses call :meth:`_started` once running and :meth:`_stopped` from ``stop``, which keeps
    :data:`LIVE` (and so the tests' leak check) accurate.
    """

    def stop(self) -> None:
        """Stop it and wait until it has stopped; safe to call twice."""
        raise NotImplementedError

    def _started(self, description: str) -> None:
        LIVE.add(self, description)

    def _stopped(self) -> None:
        LIVE.discard(self)

    def __enter__(self: _R) -> _R:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def live_resources() -> list[str]:
    """Describe every sandbox process or server that was started and not stopped yet."""
    return LIVE.descriptions()


def require_binary(name: str, package: str) -> str:
    """Return the path of ``name`` on PATH, or raise a :class:`SandboxError` naming its package."""
    path = shutil.which(name)
    if path is None:
        raise SandboxError(f"{name!r} was not found on PATH; install it ({package})")
    return path


def run_checked(
    argv: Sequence[str],
    *,
    timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
) -> str:
    """Run ``argv`` to completion within ``timeout`` seconds and return its stdout.

    Raises:
        SandboxError: If the command fails or times out; the message holds its stderr.
    """
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=dict(env) if env is not None else None,
            input=input_text,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SandboxError(f"{Path(argv[0]).name} did not finish within {timeout:g} s") from exc
    if done.returncode != 0:
        raise SandboxError(f"{Path(argv[0]).name} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return done.stdout


def stop_process(process: subprocess.Popen[bytes], *, grace: float = 5.0) -> None:
    """Terminate ``process`` and wait for it, killing it if it ignores SIGTERM for ``grace`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=grace)
