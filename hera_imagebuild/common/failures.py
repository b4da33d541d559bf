"""Failure classification: which errors a retry can cure and which it cannot.

One table serves three places, so they cannot disagree:

* the pod-side steps (prefetch, push) classify registry errors to decide
  whether to retry in-process and which exit code to leave behind;
* the build step's Argo ``retryStrategy.expression`` is generated from the same
  patterns and matched against kaniko's last log lines (the container's
  termination message);
* the prefetch and push steps' retry expressions read the exit codes below.

Deterministic patterns win over transient ones: a failing ``RUN`` that printed
"connection reset" is still a failing ``RUN``.
"""

from __future__ import annotations

import enum
import json
import re

EXIT_OK = 0
EXIT_FAILED = 1
"""A deterministic failure: retrying with the same inputs fails the same way."""
EXIT_USAGE = 2
"""Bad command-line input (argparse's own code)."""
EXIT_TRANSIENT = 75
"""A transient failure (``EX_TEMPFAIL`` from sysexits.h): a new attempt may succeed."""


class FailureKind(enum.Enum):
    """Whether a retry can help."""

    TRANSIENT = "transient"
    DETERMINISTIC = "deterministic"


# Matched case-insensitively against error text (kaniko's log lines, registry
# error bodies, exception messages). Plain RE2/Python-compatible syntax only:
# the same strings go into Argo's expr ``matches`` operator.
TRANSIENT_PATTERNS: tuple[str, ...] = (
    "PROTOCOL_ERROR",
    "INTERNAL_ERROR",
    "stream error",
    "GOAWAY",
    "connection reset",
    "connection refused",
    "broken pipe",
    "i/o timeout",
    "timeout awaiting",
    "TLS handshake timeout",
    "context deadline exceeded",
    "Client.Timeout exceeded",
    "unexpected EOF",
    ": EOF",
    "TOOMANYREQUESTS",
    "429 Too Many Requests",
    "status code 429",
    "status code 5[0-9][0-9]",
    "50[0234] (Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout)",
    "no such host",
    "temporary failure in name resolution",
    "server misbehaving",
)
DETERMINISTIC_PATTERNS: tuple[str, ...] = (
    "failed to execute command",
    "dockerfile parse error",
    "unknown instruction",
    "error resolving dockerfile path",
    "please provide a valid path to a Dockerfile",
    "no such file or directory",
    "MANIFEST_UNKNOWN",
    "NAME_UNKNOWN",
    "NAME_INVALID",
    "TAG_INVALID",
    "BLOB_UNKNOWN",
    "UNAUTHORIZED",
    "DENIED",
    "status code 40[13]",
    "x509:",
    "certificate verify failed",
    "could not parse reference",
    "invalid reference format",
    "OOMKilled",
)


def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


_TRANSIENT = _compile(TRANSIENT_PATTERNS)
_DETERMINISTIC = _compile(DETERMINISTIC_PATTERNS)


def classify_message(message: str) -> FailureKind | None:
    """Classify an error message, or return ``None`` when no pattern matches.

    Callers treat ``None`` as "do not retry": only failures known to be
    transient earn another attempt.
    """
    if _DETERMINISTIC.search(message):
        return FailureKind.DETERMINISTIC
    if _TRANSIENT.search(message):
        return FailureKind.TRANSIENT
    return None


def classify_http_status(status: int) -> FailureKind:
    """Classify a registry's HTTP status code.

    408 (request timeout), 425, 429 (rate limited) and every 5xx are transient;
    every other 4xx (401 unauthorized, 403 denied, 404 unknown) is deterministic.
    """
    if status in (408, 425, 429) or 500 <= status <= 599:
        return FailureKind.TRANSIENT
    return FailureKind.DETERMINISTIC


def _expr_string(text: str) -> str:
    # expr-lang string literals accept the same escapes as JSON strings.
    return json.dumps(text)


def _expr_regex(patterns: tuple[str, ...]) -> str:
    return _expr_string("(?i)(" + "|".join(patterns) + ")")


def build_retry_expression() -> str:
    """The Argo ``retryStrategy.expression`` for the kaniko build step.

    Retries pod-level errors (eviction, node loss: Argo status ``Error``) and
    failures whose message (kaniko's last log lines, delivered through
    ``terminationMessagePolicy: FallbackToLogsOnError``) matches a transient
    pattern and no deterministic one.
    """
    transient = _expr_regex(TRANSIENT_PATTERNS)
    deterministic = _expr_regex(DETERMINISTIC_PATTERNS)
    return (
        'lastRetry.status == "Error" || '
        f"(lastRetry.message matches {transient} && !(lastRetry.message matches {deterministic}))"
    )


def step_retry_expression() -> str:
    """The Argo ``retryStrategy.expression`` for the prefetch and push steps.

    Those steps run this package's own code, which exits with
    :data:`EXIT_TRANSIENT` exactly when a retry can help.
    """
    return f'lastRetry.status == "Error" || lastRetry.exitCode == "{EXIT_TRANSIENT}"'
