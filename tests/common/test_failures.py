import pytest

from hera_imagebuild.builders import KANIKO
from hera_imagebuild.common.failures import (
    EXIT_TRANSIENT,
    FailureKind,
    classify_http_status,
    classify_message,
    step_retry_expression,
)

# kaniko's last log lines for failures a new pod can cure (DESIGN.md) ...
TRANSIENT_LINES = [
    "error building image: error building stage: failed to get filesystem from image: "
    "stream error: stream ID 3; PROTOCOL_ERROR; received from peer",
    "Unpacking rootfs as cmd RUN pip install requires it: stream error: stream ID 5; INTERNAL_ERROR",
    "GET https://index.docker.io/v2/library/python/blobs/sha256:abc: read tcp 10.0.0.1:443: "
    "read: connection reset by peer",
    'Get "https://ghcr.io/v2/": dial tcp: lookup ghcr.io: i/o timeout',
    "error building image: unexpected EOF",
    "http2: server sent GOAWAY and closed the connection; LastStreamID=1999",
    "GET https://quay.io/v2/x/manifests/1: unexpected status code 503 Service Unavailable",
    "TOOMANYREQUESTS: You have reached your pull rate limit.",
    "GET https://registry-1.docker.io/v2/: 429 Too Many Requests",
]
# ... and for failures it cannot.
DETERMINISTIC_LINES = [
    "error building image: error building stage: failed to execute command: "
    "waiting for process to exit: exit status 1",
    "error building image: parsing dockerfile: dockerfile parse error line 3: unknown instruction: RUNN",
    "MANIFEST_UNKNOWN: manifest unknown; map[Tag:3.99]",
    "NAME_UNKNOWN: repository name not known to registry",
    "UNAUTHORIZED: authentication required",
    "DENIED: requested access to the resource is denied",
    "error resolving dockerfile path: please provide a valid path to a Dockerfile within the build context",
    # A failing RUN stays deterministic even when its output mentions a network error.
    "failed to execute command: pip install: connection reset by peer",
]


@pytest.mark.parametrize("line", TRANSIENT_LINES)
def test_transient_lines(line):
    assert KANIKO.failures.classify(line) is FailureKind.TRANSIENT


@pytest.mark.parametrize("line", DETERMINISTIC_LINES)
def test_deterministic_lines(line):
    assert KANIKO.failures.classify(line) is FailureKind.DETERMINISTIC


def test_the_registry_table_alone_knows_no_builder_wording():
    assert classify_message("failed to execute command: waiting for process to exit: exit status 1") is None
    assert classify_message("MANIFEST_UNKNOWN: manifest unknown") is FailureKind.DETERMINISTIC


def test_unknown_message_is_not_retried():
    assert classify_message("something nobody has seen before") is None


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, FailureKind.TRANSIENT),
        (502, FailureKind.TRANSIENT),
        (503, FailureKind.TRANSIENT),
        (429, FailureKind.TRANSIENT),
        (408, FailureKind.TRANSIENT),
        (401, FailureKind.DETERMINISTIC),
        (403, FailureKind.DETERMINISTIC),
        (404, FailureKind.DETERMINISTIC),
        (400, FailureKind.DETERMINISTIC),
    ],
)
def test_http_status(status, kind):
    assert classify_http_status(status) is kind


def test_step_expression_reads_the_transient_exit_code():
    assert f'lastRetry.exitCode == "{EXIT_TRANSIENT}"' in step_retry_expression()
