"""How a pod step ends: an exit code that says whether a retry can help, and one summary line.

Argo's retry expression for prefetch and push reads the exit code
(:data:`~hera_imagebuild.common.failures.EXIT_TRANSIENT` means "try again");
people read the last line, which also goes to ``/dev/termination-log`` so it
shows up as the step's message in the Argo UI and ``lastRetry.message``.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_TRANSIENT, FailureKind
from hera_imagebuild.common.redaction import redact

TERMINATION_LOG = "/dev/termination-log"
"""Kubernetes' default ``terminationMessagePath``."""
_MAX_MESSAGE = 4000  # Kubernetes keeps at most 4096 bytes of a termination message.


def exit_code(kind: FailureKind | None) -> int:
    """:data:`EXIT_TRANSIENT` for a transient failure; :data:`EXIT_FAILED` otherwise (unknown included)."""
    return EXIT_TRANSIENT if kind is FailureKind.TRANSIENT else EXIT_FAILED


def finish(line: str, *, stream: TextIO | None = None, termination_log: str = TERMINATION_LOG) -> None:
    """Print the step's final line and leave it in the termination log when there is one.

    The log is written only if the file already exists and is writable (it does in a
    Kubernetes container; on a laptop nothing is created under ``/dev``).
    """
    line = " ".join(redact(line).split())
    print(line, file=stream or sys.stderr, flush=True)
    if os.path.exists(termination_log) and os.access(termination_log, os.W_OK):
        try:
            with open(termination_log, "w", encoding="utf-8") as handle:
                handle.write(line[:_MAX_MESSAGE])
        except OSError:
            pass  # the message is also on stderr; never fail a step over its summary
