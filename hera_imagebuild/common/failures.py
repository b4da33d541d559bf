"""Failure classification: which errors a retry can cure and which it cannot.

One table serves three places, so they cannot disagree:

* the pod-side steps (prefetch, push) classify registry errors to decide
  whether to retry in-process and which exit code to leave behind;
* each builder (:mod:`hera_imagebuild.builders`) extends the table with its
  own wording; the build step's Argo ``retryStrategy.expression`` is generated
  from that and matched against the builder's last log lines (the container's
  termination message), and ``build --local`` classifies the same lines;
* the prefetch and push steps' retry expressions read the exit codes below.

Deterministic patterns win over transient ones: a failing ``RUN`` that printed
"connection reset" is still a failing ``RUN``.
"""

from __future__ import annotations

import enum
import functools
import json
import re
from dataclasses import dataclass

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
    # A registry's JSON error code after "METHOD URL: " (go-containerregistry's wording of a 5xx
    # with an error body; a pull-through cache whose upstream is down answers UNKNOWN). Case matters:
    # MANIFEST_UNKNOWN must not match, nor prose such as "unknown instruction".
    "(?-i:: (UNAVAILABLE|UNKNOWN): )",
    "no such host",
    "temporary failure in name resolution",
    "server misbehaving",
)
DETERMINISTIC_PATTERNS: tuple[str, ...] = (
    "MANIFEST_UNKNOWN",
    "manifest unknown",
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


@functools.cache
def _compile(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def _expr_regex(patterns: tuple[str, ...]) -> str:
    # expr-lang string literals accept the same escapes as JSON strings.
    return json.dumps("(?i)(" + "|".join(patterns) + ")")


@dataclass(frozen=True)
class FailureTable:
    """Patterns that mark an error text transient or deterministic; deterministic wins.

    :data:`REGISTRY_FAILURES` is the registry vocabulary every step shares; a
    builder extends it with its own lines (:meth:`extended`).
    """

    transient: tuple[str, ...]
    deterministic: tuple[str, ...]

    def extended(
        self, *, transient: tuple[str, ...] = (), deterministic: tuple[str, ...] = ()
    ) -> FailureTable:
        """This table plus more patterns."""
        return FailureTable(self.transient + transient, self.deterministic + deterministic)

    def classify(self, message: str) -> FailureKind | None:
        """Classify an error message, or return ``None`` when no pattern matches.

        Callers treat ``None`` as "do not retry": only failures known to be
        transient earn another attempt.
        """
        if _compile(self.deterministic).search(message):
            return FailureKind.DETERMINISTIC
        if _compile(self.transient).search(message):
            return FailureKind.TRANSIENT
        return None

    def retry_expression(self) -> str:
        """The Argo ``retryStrategy.expression`` for a builder's pod.

        Retries pod-level errors (Argo status ``Error``) and failures whose
        message (the builder's last log lines, delivered through
        ``terminationMessagePolicy: FallbackToLogsOnError``) matches a transient
        pattern and no deterministic one.
        """
        transient = _expr_regex(self.transient)
        deterministic = _expr_regex(self.deterministic)
        return (
            'lastRetry.status == "Error" || '
            f"(lastRetry.message matches {transient} && !(lastRetry.message matches {deterministic}))"
        )


POD_DISRUPTIONS: tuple[str, ...] = (
    # The kubelet's messages for a pod it stopped. Argo keeps the pod's message as the node's
    # (workflow/controller/operator.go, inferFailedReason: "Pod has a nice error message. Use
    # that."), with status Failed and exit code 137 or -1: no rule on status or exit code sees them.
    "The node was low on resource",  # eviction under memory or disk pressure
    "The node had condition",  # eviction on a node condition
    "imminent node shutdown",  # graceful node shutdown
    "Pod was active on the node longer than the specified deadline",  # activeDeadlineSeconds
)
"""A pod that was stopped, not a step that failed: every step retries these."""

REGISTRY_FAILURES = FailureTable(TRANSIENT_PATTERNS, DETERMINISTIC_PATTERNS)
"""What registries and networks say, in every tool's wording we have seen."""


def classify_message(message: str) -> FailureKind | None:
    """Classify an error message with :data:`REGISTRY_FAILURES` (``None`` when no pattern matches)."""
    return REGISTRY_FAILURES.classify(message)


def classify_http_status(status: int) -> FailureKind:
    """Classify a registry's HTTP status code.

    408 (request timeout), 425, 429 (rate limited) and every 5xx are transient;
    every other 4xx (401 unauthorized, 403 denied, 404 unknown) is deterministic.
    """
    if status in (408, 425, 429) or 500 <= status <= 599:
        return FailureKind.TRANSIENT
    return FailureKind.DETERMINISTIC


def step_retry_expression() -> str:
    """The Argo ``retryStrategy.expression`` for the prefetch and push steps.

    Those steps run this package's own code, which exits with
    :data:`EXIT_TRANSIENT` exactly when a retry can help; a pod the kubelet stopped
    (:data:`POD_DISRUPTIONS`) is retried too.
    """
    return (
        f'lastRetry.status == "Error" || lastRetry.exitCode == "{EXIT_TRANSIENT}" || '
        f"lastRetry.message matches {_expr_regex(POD_DISRUPTIONS)}"
    )
