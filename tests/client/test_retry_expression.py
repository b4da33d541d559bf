"""The retry expressions, evaluated on the error lines kaniko and our steps really leave behind."""

from __future__ import annotations

import pytest

from hera_imagebuild.client.options import (
    DEFAULT_BUILD,
    DEFAULT_PREFETCH,
    DEFAULT_PUSH,
    POD_START_ALLOWANCE,
    RetryPolicy,
    StepOptions,
)
from hera_imagebuild.client.retry import build_retry, step_retry
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_TRANSIENT

from .expr_eval import ExprSyntaxError, evaluate, last_retry

# kaniko's last log lines (--log-format=text) for failures a new attempt can cure.
TRANSIENT_LINES = [
    "error building image: error building stage: failed to get filesystem from image: "
    "stream error: stream ID 3; PROTOCOL_ERROR; received from peer",
    "Unpacking rootfs as cmd RUN pip install -r requirements.txt requires it.\nerror building image: "
    "stream error: stream ID 19; INTERNAL_ERROR; received from peer",
    "error building image: GET https://index.docker.io/v2/library/python/blobs/sha256:ab12: "
    "read tcp 10.1.2.3:51234->54.1.2.3:443: read: connection reset by peer",
    'error building image: Get "https://registry.example.com/v2/": dial tcp 10.0.0.7:443: i/o timeout',
    'error building image: Get "https://registry-1.docker.io/v2/library/ubuntu/manifests/22.04": EOF',
    "error building image: http2: server sent GOAWAY and closed the connection; LastStreamID=1999, "
    'ErrCode=NO_ERROR, debug=""',
    "error building image: unexpected status code 503 Service Unavailable: upstream connect error",
    "error building image: GET https://nvcr.io/v2/nvidia/pytorch/manifests/24.10-py3: "
    "unexpected status code 502 Bad Gateway",
    "error building image: GET https://index.docker.io/v2/library/python/manifests/3.12: TOOMANYREQUESTS: "
    "You have reached your pull rate limit.",
    "error building image: unexpected status code 429 Too Many Requests",
]

# Failures that fail the same way every time: never retried.
DETERMINISTIC_LINES = [
    "error building image: error building stage: failed to execute command: waiting for process to exit: "
    "exit status 1",
    # A RUN line that failed *because of* a network error is still a failing RUN: the user's command decides.
    "ERROR: Could not install packages due to an OSError: connection reset by peer\n"
    "error building image: error building stage: failed to execute command: waiting for process to exit: "
    "exit status 1",
    "error building image: GET https://index.docker.io/v2/library/python/manifests/3.99: MANIFEST_UNKNOWN: "
    "manifest unknown; unknown tag=3.99",
    "error building image: GET https://registry.example.com/v2/ml/base/manifests/1: NAME_UNKNOWN: "
    "repository name not known to registry",
    "error building image: GET https://registry.example.com/v2/ml/base/manifests/1: UNAUTHORIZED: "
    "authentication required",
    "error building image: GET https://ghcr.io/v2/org/private/manifests/1: DENIED: requested access to "
    "the resource is denied",
    "error building image: parsing dockerfile: dockerfile parse error line 7: unknown instruction: RUNN",
    "error resolving dockerfile path: please provide a valid path to a Dockerfile within the build context "
    "with --dockerfile",
    "error building image: something nobody has seen before",
    "",
]

BUILD_EXPRESSION = build_retry(StepOptions(retry=RetryPolicy(limit=2))).expression
STEP_EXPRESSION = step_retry(StepOptions(retry=RetryPolicy(limit=2))).expression


@pytest.mark.parametrize("line", TRANSIENT_LINES)
def test_build_retries_transient_kaniko_errors(line: str) -> None:
    assert BUILD_EXPRESSION is not None
    assert evaluate(BUILD_EXPRESSION, last_retry(message=line)) is True


@pytest.mark.parametrize("line", DETERMINISTIC_LINES)
def test_build_never_retries_deterministic_errors(line: str) -> None:
    assert BUILD_EXPRESSION is not None
    assert evaluate(BUILD_EXPRESSION, last_retry(message=line)) is False


def test_build_retries_pod_errors_whatever_the_message() -> None:
    # Argo's status "Error": eviction, node loss, the pod deleted under us.
    assert BUILD_EXPRESSION is not None
    assert evaluate(BUILD_EXPRESSION, last_retry(status="Error", exit_code="-1", message="pod deleted"))


@pytest.mark.parametrize(
    ("status", "exit_code", "expected"),
    [
        ("Failed", str(EXIT_TRANSIENT), True),
        ("Failed", str(EXIT_FAILED), False),
        ("Failed", "2", False),
        ("Error", "-1", True),
    ],
)
def test_step_retry_follows_the_transient_exit_code(status: str, exit_code: str, expected: bool) -> None:
    assert STEP_EXPRESSION is not None
    assert evaluate(STEP_EXPRESSION, last_retry(status=status, exit_code=exit_code)) is expected


# What the kubelet writes as the pod's message when it stops a pod, which Argo keeps as the node's
# message with status Failed (workflow/controller/operator.go, inferFailedReason; v3.7.18, v4.0.10).
POD_DISRUPTIONS = [
    # An eviction: the exit code is 137 (killed) or -1 (never ran).
    (
        "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 3Gi. "
        "Container main was using 41Gi, request is 0, has larger consumption of ephemeral-storage.",
        "137",
    ),
    ("The node was low on resource: memory. Container main was using 30Gi, request is 4Gi.", "137"),
    ("The node had condition: [DiskPressure].", "-1"),
    ("Pod was terminated in response to imminent node shutdown.", "137"),
    ("Pod was active on the node longer than the specified deadline", "137"),
]


@pytest.mark.parametrize(("message", "exit_code"), POD_DISRUPTIONS)
def test_every_step_retries_a_pod_the_kubelet_stopped(message: str, exit_code: str) -> None:
    """Evictions were never retried: status Failed, exit 137 or -1, matched neither rule."""
    for expression in (STEP_EXPRESSION, BUILD_EXPRESSION):
        assert expression is not None
        assert evaluate(expression, last_retry(status="Failed", exit_code=exit_code, message=message))


def test_retry_strategy_carries_policy_and_lets_the_expression_decide() -> None:
    strategy = build_retry(
        StepOptions(retry=RetryPolicy(limit=5, backoff="20s", factor=3, max_duration="2h", cap="10m"))
    ).build()
    assert strategy.limit is not None
    assert strategy.limit.root == 5
    assert strategy.retry_policy == "Always"
    assert strategy.backoff is not None
    assert (strategy.backoff.duration, strategy.backoff.max_duration, strategy.backoff.cap) == (
        "20s",
        "2h",
        "10m",
    )
    assert strategy.backoff.factor is not None
    assert strategy.backoff.factor.root == 3


def test_evaluator_refuses_what_it_does_not_know() -> None:
    with pytest.raises(ExprSyntaxError):
        evaluate('lastRetry.message contains "x"', last_retry())
    with pytest.raises(ExprSyntaxError):
        evaluate("lastRetry.exitCode > 1", last_retry())


def _argo_attempt_windows(step: StepOptions) -> list[tuple[float, float]]:
    """(start, end) of each attempt when every one runs into its timeout, as Argo schedules them.

    Argo waits ``backoff * factor**(n-1)`` (at most ``cap``) after attempt n before it starts the
    next, and from the second attempt gives the pod only what is left of ``maxDuration`` counted
    from the first attempt's start (workflow/controller/operator.go: processNodeRetries sets
    opts.executionDeadline = firstChild.StartedAt + maxDuration).
    """
    assert step.timeout_seconds is not None
    policy = step.retry
    base = {"10s": 10, "15s": 15, "20s": 20, "30s": 30}[policy.backoff]
    cap = {"2m": 120, "5m": 300, "10m": 600}[policy.cap or "10m"]
    windows, start = [], 0.0
    for attempt in range(policy.limit + 1):
        end = start + POD_START_ALLOWANCE + step.timeout_seconds
        windows.append((start, end))
        start = end + min(cap, base * policy.factor**attempt)
    return windows


@pytest.mark.parametrize(
    "step", [DEFAULT_PREFETCH, DEFAULT_BUILD, DEFAULT_PUSH], ids=["prefetch", "build", "push"]
)
def test_every_attempt_gets_its_whole_timeout_within_max_duration(step: StepOptions) -> None:
    """Was: push's 3600 s timeout under maxDuration 1h left attempts 2-5 nothing."""
    backoff = step_retry(step).build().backoff
    assert backoff is not None
    assert backoff.max_duration is not None
    max_duration = int(backoff.max_duration.removesuffix("s"))
    windows = _argo_attempt_windows(step)
    assert len(windows) == step.retry.limit + 1
    assert windows[-1][1] <= max_duration
    # Not padded beyond what the attempts need either: the step's worst case is this bound.
    assert max_duration - windows[-1][1] < 1


def test_a_max_duration_too_short_for_the_attempts_is_refused_with_what_would_fit() -> None:
    with pytest.raises(ValueError, match=r"retry\.max_duration") as caught:
        StepOptions(timeout_seconds=3600, retry=RetryPolicy(limit=4, backoff="15s", max_duration="1h"))
    message = str(caught.value)
    needed = 5 * (3600 + POD_START_ALLOWANCE) + 15 + 30 + 60 + 120
    assert f"retry.max_duration: '1h' is not valid; expected at least {needed}s" in message
    assert "or leave it unset" in message
    # Long enough, or no timeout to add up: accepted as given.
    assert (
        StepOptions(timeout_seconds=60, retry=RetryPolicy(limit=1, max_duration="1h")).max_duration() == "1h"
    )
    assert StepOptions(retry=RetryPolicy(limit=1)).max_duration() is None
