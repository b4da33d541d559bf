"""The one exception type the registry client raises."""

from __future__ import annotations

from typing import Any

import httpx

from hera_imagebuild.common.failures import FailureKind, classify_http_status, classify_message
from hera_imagebuild.common.untrusted_json import load_untrusted

_MAX_DETAIL = 300
_MAX_ERROR_BODY = 65536
"""Larger error bodies are not parsed (a registry error is a few hundred bytes)."""
# TLS failures a retry meets again, by the OpenSSL reason in the message (first match wins).
_TLS_PROBLEMS = {
    "HOSTNAME MISMATCH": "the registry's TLS certificate is for another host name",
    "IP ADDRESS MISMATCH": "the registry's TLS certificate is for another address",
    "CERTIFICATE_VERIFY_FAILED": "TLS certificate not trusted; add its CA with --cert-dir "
    "(plain HTTP is used only for registries given with --insecure-registry)",
    "WRONG_VERSION_NUMBER": "the registry does not speak TLS here; if it serves plain HTTP, "
    "list it with --insecure-registry",
}


class RegistryError(Exception):
    """A registry operation failed.

    The message names the operation, the registry host and what went wrong; it
    never contains a credential, a token or a URL query (upload URLs carry
    session state). Callers decide on retries and exit codes from ``kind``.

    Attributes:
        kind: Whether a new attempt may succeed.
        operation: What was being done ("get manifest app:1.0", "upload blob sha256:ab12...").
        host: The registry host (``host[:port]``).
        status: The HTTP status, if the registry answered.
        code: The registry's error code (``MANIFEST_UNKNOWN``, ``UNAUTHORIZED``, ``DENIED``...), if any.
        detail: What went wrong, in words.
        retry_after: Seconds the registry asked us to wait (``Retry-After``), if it did.
    """

    def __init__(
        self,
        detail: str,
        *,
        kind: FailureKind,
        operation: str,
        host: str,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.kind = kind
        self.operation = operation
        self.host = host
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(self._message())

    def _message(self) -> str:
        facts = [f"HTTP {self.status}"] if self.status is not None else []
        if self.code:
            facts.append(self.code)
        suffix = f" ({', '.join(facts)})" if facts else ""
        return f"{self.operation} on {self.host}: {self.detail}{suffix}"

    def noted(self, note: str) -> RegistryError:
        """The same error with ``note`` added to its detail (why no further attempt was made)."""
        return RegistryError(
            f"{self.detail}; {note}",
            kind=self.kind,
            operation=self.operation,
            host=self.host,
            status=self.status,
            code=self.code,
            retry_after=self.retry_after,
        )

    @property
    def transient(self) -> bool:
        """Whether a new attempt may succeed."""
        return self.kind is FailureKind.TRANSIENT


def _registry_errors(response: httpx.Response) -> tuple[str | None, str | None]:
    """The first ``(code, message)`` of a registry's JSON error body, if it has one."""
    try:
        body: Any = load_untrusted(response.content, what="error body", max_bytes=_MAX_ERROR_BODY)
        first = body["errors"][0]
        return str(first.get("code") or "") or None, str(first.get("message") or "") or None
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None, None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header given as delay-seconds (HTTP dates are ignored)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return max(0.0, seconds)


def error_from_response(response: httpx.Response, *, operation: str, host: str) -> RegistryError:
    """Turn an unexpected HTTP response (whose body has been read) into a :class:`RegistryError`."""
    code, message = _registry_errors(response)
    kind = classify_http_status(response.status_code)
    if code == "TOOMANYREQUESTS":
        kind = FailureKind.TRANSIENT
    detail = message or response.reason_phrase or "unexpected response"
    return RegistryError(
        detail[:_MAX_DETAIL],
        kind=kind,
        operation=operation,
        host=host,
        status=response.status_code,
        code=code,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def error_from_exception(exc: BaseException, *, operation: str, host: str) -> RegistryError:
    """Turn a transport-level exception (connection, TLS, timeout, protocol) into a :class:`RegistryError`.

    Certificate failures are deterministic (a retry meets the same certificate);
    other transport errors (refused, reset, timeouts, truncated bodies) are transient.
    """
    text = str(exc) or type(exc).__name__
    tls_problem = _TLS_PROBLEMS.get(next((k for k in _TLS_PROBLEMS if k in text.upper()), ""))
    if tls_problem:
        return RegistryError(
            f"{tls_problem} ({_short(text)})", kind=FailureKind.DETERMINISTIC, operation=operation, host=host
        )
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        detail = f"timed out ({type(exc).__name__})"
    elif isinstance(exc, httpx.ConnectError):
        detail = f"cannot connect: {_short(text)}"
    elif isinstance(exc, httpx.ReadError) and not str(exc):
        # httpx says only "ReadError" when the peer resets or closes mid-response.
        detail = "connection closed while reading the response (ReadError)"
    else:
        detail = f"{type(exc).__name__}: {_short(text)}"
    kind = FailureKind.TRANSIENT
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        kind = classify_message(text) or FailureKind.DETERMINISTIC
    return RegistryError(detail, kind=kind, operation=operation, host=host)


def _short(text: str) -> str:
    return " ".join(text.split())[:_MAX_DETAIL]
