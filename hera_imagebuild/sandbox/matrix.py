"""Recorders for the reliability and bad-input matrices, filled by the test run.

Tests record what they observed, after asserting it; the docs generator reads
the JSON-lines files back and lays them out with the row and column orders
defined here. Values outside these vocabularies are rejected, so a typo
cannot create a new row.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

__all__ = [
    "BAD_INPUT_AREAS",
    "FAULTS",
    "OUTCOMES",
    "ROLES",
    "BadInputRecorder",
    "ReliabilityRecorder",
]

ROLES = ("mirror", "origin", "cache registry", "push destination")
FAULTS = (
    "refused",
    "hung",
    "slow",
    "reset mid-body",
    "truncated",
    "HTTP 500",
    "HTTP 503",
    "429 Retry-After",
    "auth denied",
    "untrusted TLS",
    "manifest unknown",
)
OUTCOMES = ("fallback taken", "retried and succeeded", "clear failure")
BAD_INPUT_AREAS = ("build spec", "CLI", "Dockerfile", "docker config", "OCI layout")

_lock = threading.Lock()


def _check(field: str, value: str, accepted: tuple[str, ...]) -> None:
    if value not in accepted:
        raise ValueError(f"{field}: {value!r} is not one of {', '.join(map(repr, accepted))}")


def _append(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock, path.open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(record, ensure_ascii=False) + "\n")


class ReliabilityRecorder:
    """Appends observed (role, fault) -> outcome cells to a JSON-lines file."""

    def __init__(self, path: Path, test_id: str) -> None:
        self.path = path
        self.test_id = test_id

    def record(self, *, role: str, fault: str, outcome: str, seconds: float, detail: str = "") -> None:
        """Record one observed cell.

        Args:
            role: One of :data:`ROLES`.
            fault: One of :data:`FAULTS`.
            outcome: One of :data:`OUTCOMES`.
            seconds: Measured wall time of the operation under the fault.
            detail: What the user saw (message or source chosen); no secrets.
        """
        _check("role", role, ROLES)
        _check("fault", fault, FAULTS)
        _check("outcome", outcome, OUTCOMES)
        if seconds < 0:
            raise ValueError(f"seconds: {seconds!r} must be >= 0")
        _append(
            self.path,
            {
                "test": self.test_id,
                "role": role,
                "fault": fault,
                "outcome": outcome,
                "seconds": round(seconds, 3),
                "detail": detail,
            },
        )


class BadInputRecorder:
    """Appends observed (area, input) -> error message rows to a JSON-lines file."""

    def __init__(self, path: Path, test_id: str) -> None:
        self.path = path
        self.test_id = test_id

    def record(self, *, area: str, given: str, error: str) -> None:
        """Record one bad input and the exact error the user saw.

        Args:
            area: One of :data:`BAD_INPUT_AREAS`.
            given: The bad input, as the user wrote it (no secrets).
            error: The exact message shown; must not be a traceback.
        """
        _check("area", area, BAD_INPUT_AREAS)
        if not error.strip():
            raise ValueError("error: the recorded message is empty")
        if "Traceback (most recent call last)" in error:
            raise ValueError(f"error: a traceback is not a clear error message: {error[-300:]!r}")
        _append(self.path, {"test": self.test_id, "area": area, "given": given, "error": error})
