"""Running one step's process on the workstation: bounded in time, its output shown live and its tail kept.

A pod's step ends with the last lines of its log (its termination message,
which the retry rules read); a local step keeps the same tail, bounded in
lines and bytes, so the same failure table classifies it. A step that
outlives its deadline is killed with its whole process group, as the kubelet
kills a pod at ``activeDeadlineSeconds``.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

TAIL_LINES = 80
TAIL_BYTES = 2048
"""What Kubernetes keeps of a log as a termination message (``FallbackToLogsOnError``), end kept."""
_MAX_LINE = 4096
_KILL_GRACE = 5.0


@dataclass(frozen=True)
class Finished:
    """How a process ended.

    Attributes:
        returncode: Its exit status (negative: killed by that signal).
        tail: Its last output lines, bounded like a termination message.
        timed_out: Whether it was killed at its deadline.
        seconds: Wall time.
    """

    returncode: int
    tail: str
    timed_out: bool
    seconds: float


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL it if it has not gone after a grace period."""
    for sig, wait in ((signal.SIGTERM, _KILL_GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_bounded(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    on_line: Callable[[str], None] | None = None,
    inherit_output: bool = False,
) -> Finished:
    """Run ``argv`` (no shell) until it exits or ``timeout`` seconds pass.

    Args:
        argv: The command line.
        timeout: Seconds before the process group is killed.
        env: The whole environment (default: this process's).
        on_line: Called with each output line (stdout and stderr merged), as it comes.
        inherit_output: Leave the output on this process's stdout and stderr (a terminal
            shows the step's live progress); the tail is then empty.

    Raises:
        FileNotFoundError: If the program does not exist.
    """
    started = time.monotonic()
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=None if inherit_output else subprocess.PIPE,
        stderr=None if inherit_output else subprocess.STDOUT,
        env=dict(env) if env is not None else None,
        start_new_session=True,  # its own process group, so a deadline kills its children too
    )
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)

    def read() -> None:
        if process.stdout is None:
            return
        for raw in process.stdout:
            line = raw[:_MAX_LINE].decode("utf-8", "replace").rstrip("\r\n")
            tail.append(line)
            if on_line is not None:
                on_line(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    timed_out = False
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop(process)
    finally:
        if process.poll() is None:
            _stop(process)
    reader.join(timeout=_KILL_GRACE)
    text = "\n".join(tail).encode()[-TAIL_BYTES:].decode("utf-8", "replace")
    return Finished(process.returncode, text, timed_out, time.monotonic() - started)
