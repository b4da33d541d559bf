"""Transport errors become one readable, classified line."""

import httpx

from hera_imagebuild.common.failures import FailureKind
from hera_imagebuild.pod.registry.errors import error_from_exception


def test_reset_mid_body_says_what_happened():
    error = error_from_exception(httpx.ReadError(""), operation="get blob sha256:ab", host="r.example:5000")
    assert error.kind is FailureKind.TRANSIENT
    assert "connection closed while reading the response (ReadError)" in str(error)
    assert "ReadError: ReadError" not in str(error)


def test_read_error_with_a_message_keeps_it():
    error = error_from_exception(
        httpx.ReadError("[Errno 104] Connection reset by peer"), operation="get blob", host="r.example:5000"
    )
    assert "Connection reset by peer" in str(error)
    assert error.kind is FailureKind.TRANSIENT
