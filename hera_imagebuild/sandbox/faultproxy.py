"""A fault-injecting HTTP/1.1 proxy on loopback, to put in front of a registry.

:class:`FaultProxy` runs an asyncio server in its own thread and forwards each
request to one upstream registry unchanged (the ``Host`` header included, so
the registry builds its upload ``Location`` URLs with the proxy's address and
they lead back through the proxy). Faults are chosen at run time with
:meth:`FaultProxy.set_faults`: each :class:`Fault` can be limited to a method,
a path regex and the first N matching requests, after which requests pass
through again. Every request is recorded (method, path, status, fault), so
tests can count, for example, blob uploads that did or did not happen.
It speaks HTTP/1.1 with keep-alive, Content-Length and chunked bodies; it does
not implement ``Expect: 100-continue`` (neither skopeo nor httpx sends it).

Faults:

``refuse``
    The proxy stops listening and drops open connections: connection refused.
``hang``
    Reads the request and never answers (until the client gives up or the proxy stops).
``delay``
    Waits ``delay`` seconds, then forwards (a slow start).
``hold``
    Waits until :meth:`FaultProxy.release` is called (or the proxy stops), then forwards: a
    request held at a chosen point, so a test can act (push another image, say) in between.
``status``
    Answers ``status`` itself without forwarding: a registry-style JSON error for 4xx/5xx (and
    ``Retry-After`` if set); an empty body for 2xx/3xx, e.g. a 201 to a manifest PUT that the
    registry never receives (a destination that "accepts" and drops a push).
``reset``
    Forwards, sends the response headers and ``body_bytes`` of the body, then a TCP RST.
``truncate``
    Like ``reset`` but closes cleanly: fewer bytes than ``Content-Length`` promised.
``sever``
    Reads ``body_bytes`` of the request body, then a TCP RST, forwarding nothing: a connection cut
    mid-upload (the registry never sees the request).
``throttle``
    Forwards request and response bodies at ``bytes_per_second``.
``relocate``
    Forwards, and points the response's ``Location`` at ``location`` (a base URL such as
    ``http://127.0.0.1:5001``; the path and query are kept): a registry that sends an upload, or a
    redirect, to another host or scheme.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import ssl
import struct
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Literal, get_args
from urllib.parse import urlsplit

from hera_imagebuild.sandbox.process import Running, SandboxError
from hera_imagebuild.sandbox.registry import Registry

__all__ = ["Fault", "FaultKind", "FaultProxy", "RequestRecord", "closed_port_url", "proxy_in_front_of"]

FaultKind = Literal[
    "refuse", "hang", "delay", "hold", "status", "reset", "truncate", "sever", "throttle", "relocate"
]

_HEAD_LIMIT = 64 * 1024
_TLS_HANDSHAKE = b"\x16"  # first byte of a TLS record carrying a ClientHello
_ERROR_CODES = {
    401: "UNAUTHORIZED",
    403: "DENIED",
    429: "TOOMANYREQUESTS",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "UNAVAILABLE",
}
"""The registry error code in the JSON body of an injected error status (default ``UNKNOWN``), as
distribution words it; a 404 names what is unknown (:func:`_error_code`)."""


@dataclass(frozen=True)
class Fault:
    """One fault and the requests it applies to (see the module docstring for the kinds)."""

    kind: FaultKind
    path: str = ""
    """Regex searched in the request path (``""``: every path)."""
    method: str | None = None
    """Only requests with this method (``None``: any)."""
    times: int | None = None
    """Only the first N matching requests; afterwards they pass through. ``None``: all."""
    status: int = 503
    """``status``: the HTTP status to answer (200-599)."""
    retry_after: float | None = None
    """``status``: the ``Retry-After`` header value in seconds."""
    delay: float = 0.0
    """``delay``: seconds to wait before forwarding."""
    body_bytes: int = 0
    """``reset``/``truncate``: bytes of the response body sent before cutting it; ``sever``: of the
    request body read before cutting it."""
    bytes_per_second: int = 0
    """``throttle``: bandwidth for request and response bodies."""
    location: str = ""
    """``relocate``: the scheme and host (``http://127.0.0.1:5001``) the ``Location`` is moved to."""
    echo_header: str = ""
    """``status``: a request header whose value the error message repeats (a registry echoing
    ``Authorization``)."""
    text: str = ""
    """``status``: more text for the error message (newlines, ANSI escapes: a registry forging lines)."""

    def __post_init__(self) -> None:
        if self.kind not in get_args(FaultKind):
            raise ValueError(f"kind: {self.kind!r} is not one of {', '.join(get_args(FaultKind))}")
        re.compile(self.path)
        if self.times is not None and self.times < 1:
            raise ValueError(f"times: {self.times!r} must be >= 1 or None")
        if self.kind == "refuse" and (self.path or self.method or self.times is not None):
            raise ValueError("refuse: closes the port for every request; it takes no path, method or times")
        if self.kind == "status" and not (200 <= self.status <= 599 and self.status not in (204, 304)):
            raise ValueError(
                f"status: {self.status!r} must be an HTTP status from 200 to 599 (not 204 or 304)"
            )
        if self.kind == "relocate" and not urlsplit(self.location).netloc:
            raise ValueError(
                f"location: {self.location!r} must be a base URL such as 'http://127.0.0.1:5001'"
            )
        if self.kind == "throttle" and self.bytes_per_second <= 0:
            raise ValueError(f"bytes_per_second: {self.bytes_per_second!r} must be > 0 for throttle")
        if self.delay < 0 or self.body_bytes < 0:
            raise ValueError("delay and body_bytes must be >= 0")

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to a request (ignoring its remaining count)."""
        return (self.method is None or self.method == method) and re.search(self.path, path) is not None


@dataclass
class RequestRecord:
    """A request the proxy saw."""

    method: str
    path: str
    fault: FaultKind | None
    status: int | None = None
    """The status sent to the client (``None``: no response, e.g. hang or upstream down)."""
    authorized: bool = False
    """Whether the request carried an ``Authorization`` header (its value is never kept)."""
    started: float = field(default_factory=time.monotonic)


class _Cut(Exception):
    """Raised inside a body relay when a fault cuts the response short."""


@dataclass
class _Message:
    """A parsed HTTP/1.1 request or response head."""

    raw: bytes
    first_line: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)

    @property
    def chunked(self) -> bool:
        return "chunked" in (self.header("transfer-encoding") or "").lower()

    @property
    def content_length(self) -> int | None:
        value = self.header("content-length")
        return int(value) if value is not None else None

    @property
    def wants_close(self) -> bool:
        return (self.header("connection") or "").lower() == "close"


async def _read_head(reader: asyncio.StreamReader, prefix: bytes = b"") -> _Message | None:
    """Read one message head (after ``prefix``, already read); ``None`` on a clean end of stream."""
    try:
        raw = prefix + await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not (prefix or exc.partial):
            return None
        raise
    lines = raw.decode("latin-1").split("\r\n")
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if ":" in line]
    return _Message(raw=raw, first_line=lines[0], headers=headers)  # type: ignore[arg-type]


Sink = Callable[[bytes], Awaitable[None]]


async def _relay_body(reader: asyncio.StreamReader, message: _Message, sink: Sink, *, no_body: bool) -> bool:
    """Copy one message body from ``reader`` to ``sink`` as framed; return True if framed by EOF."""
    if no_body:
        return False
    if message.chunked:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            await sink(size_line)
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while True:  # trailers, up to the empty line
                    line = await reader.readuntil(b"\r\n")
                    await sink(line)
                    if line == b"\r\n":
                        return False
            await sink(await reader.readexactly(size + 2))
    length = message.content_length
    if length is not None:
        remaining = length
        while remaining:
            data = await reader.read(min(remaining, 65536))
            if not data:
                raise asyncio.IncompleteReadError(b"", remaining)
            remaining -= len(data)
            await sink(data)
        return False
    if message.first_line.startswith("HTTP/"):
        while data := await reader.read(65536):
            await sink(data)
        return True
    return False  # a request without Content-Length or chunked encoding has no body


def _throttled(write: Sink, bytes_per_second: int) -> Sink:
    step = max(1, bytes_per_second // 20)

    async def sink(data: bytes) -> None:
        for start in range(0, len(data), step):
            piece = data[start : start + step]
            await write(piece)
            await asyncio.sleep(len(piece) / bytes_per_second)

    return sink


def _error_code(status: int, path: str) -> str:
    if status == 404:
        return (
            "BLOB_UNKNOWN"
            if "/blobs/" in path
            else "MANIFEST_UNKNOWN"
            if "/manifests/" in path
            else "NAME_UNKNOWN"
        )
    return _ERROR_CODES.get(status, "UNKNOWN")


def _fault_response(fault: Fault, method: str, path: str, request: _Message) -> bytes:
    """The proxy's own answer for a ``status`` fault: a registry-style JSON error, or an empty success."""
    reason = HTTPStatus(fault.status).phrase
    body = b""
    if fault.status >= 400:
        code = _error_code(fault.status, path)
        message = f"injected by the sandbox fault proxy: {reason}{fault.text}"
        if fault.echo_header:
            message += f"; you sent {fault.echo_header}: {request.header(fault.echo_header)}"
        body = json.dumps({"errors": [{"code": code, "message": message}]}).encode()
    lines = [f"HTTP/1.1 {fault.status} {reason}", f"Content-Length: {len(body)}", "Connection: close"]
    if body:
        lines.append("Content-Type: application/json; charset=utf-8")
    if fault.retry_after is not None:
        lines.append(f"Retry-After: {fault.retry_after:g}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return head if method == "HEAD" else head + body


def _relocated(response: _Message, base: str) -> bytes:
    """The response head with its ``Location`` moved to ``base`` (path and query kept)."""
    location = response.header("location")
    if location is None:
        return response.raw
    parts = urlsplit(location)
    moved = base.rstrip("/") + parts.path + (f"?{parts.query}" if parts.query else "")
    lines = response.raw.decode("latin-1").split("\r\n")
    lines = [f"Location: {moved}" if line.lower().startswith("location:") else line for line in lines]
    return "\r\n".join(lines).encode("latin-1")


def closed_port_url() -> str:
    """An ``http://127.0.0.1:PORT`` URL where nothing listens (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class FaultProxy(Running):
    """An HTTP/1.1 proxy in front of one upstream, injecting faults on demand.

    Args:
        upstream: The upstream base URL (``http://127.0.0.1:5000`` or ``https://...``).
        name: A label for reprs and the leak check.
        server_context: Serve TLS to clients with this context (for an HTTPS upstream,
            so clients see the same scheme and certificate names).
        upstream_context: The SSL context to verify an HTTPS upstream with.
    """

    def __init__(
        self,
        upstream: str,
        *,
        name: str = "fault-proxy",
        server_context: ssl.SSLContext | None = None,
        upstream_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.hostname or not parts.port:
            raise ValueError(f"upstream: {upstream!r} is not an http(s)://HOST:PORT URL")
        self.name = name
        self.upstream_host = parts.hostname
        self.upstream_port = parts.port
        self._upstream_ssl = upstream_context if parts.scheme == "https" else None
        if parts.scheme == "https" and upstream_context is None:
            self._upstream_ssl = ssl.create_default_context()
        self._server_ssl = server_context
        self._scheme = "https" if server_context else "http"
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._remaining: list[int | None] = []
        self._records: list[RequestRecord] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._stopping: asyncio.Event | None = None
        self._released = asyncio.Event()
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` of the proxy."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Base URL of the proxy (same scheme as it serves)."""
        return f"{self._scheme}://{self.host}"

    def __repr__(self) -> str:
        return f"FaultProxy({self.name}, {self.url} -> {self.upstream_host}:{self.upstream_port})"

    def start(self, timeout: float = 5.0) -> FaultProxy:
        """Start serving on a free loopback port; returns self."""
        if self._thread is not None:
            raise SandboxError(f"{self!r} was already started")
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(ready,), name=self.name, daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or self._server is None:
            self.stop()
            raise SandboxError(f"fault proxy {self.name} did not start within {timeout:g} s")
        self._started(f"fault proxy {self.name} ({self.url})")
        return self

    def _run(self, ready: threading.Event) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._stopping = asyncio.Event()
        try:
            self._loop.run_until_complete(self._listen())
            self.port = self._server.sockets[0].getsockname()[1] if self._server else 0
        finally:
            ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, ssl=self._server_ssl, limit=_HEAD_LIMIT, reuse_address=True
        )

    async def _close_listener_and_connections(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._connections):
            writer.transport.abort()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, drop all connections and join the thread (idempotent)."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():

            async def shutdown() -> None:
                if self._stopping is not None:
                    self._stopping.set()
                await self._close_listener_and_connections()
                tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)
        self._stopped()

    # -- faults and records ------------------------------------------------------------------------

    def set_faults(self, *faults: Fault, timeout: float = 5.0) -> None:
        """Replace the active faults (the first matching fault wins); no faults = pass through."""
        with self._lock:
            self._faults = list(faults)
            self._remaining = [fault.times for fault in faults]
        refuse = any(fault.kind == "refuse" for fault in faults)
        if self._loop is None:
            raise SandboxError(f"{self!r} is not started")
        action = self._close_listener_and_connections() if refuse else self._ensure_listening()
        asyncio.run_coroutine_threadsafe(action, self._loop).result(timeout)

    def clear(self) -> None:
        """Remove all faults: every request passes through."""
        self.set_faults()

    async def _ensure_listening(self) -> None:
        self._released.clear()  # new faults: a new hold holds until the next release()
        if self._server is None:
            await self._listen()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for number, fault in enumerate(self._faults):
                remaining = self._remaining[number]
                if fault.kind == "refuse" or remaining == 0 or not fault.matches(method, path):
                    continue
                if remaining is not None:
                    self._remaining[number] = remaining - 1
                return fault
        return None

    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of every request seen so far, in arrival order."""
        with self._lock:
            return list(self._records)

    def count(self, method: str | None = None, path: str = "") -> int:
        """Number of requests seen with ``method`` (any if None) and a path matching regex ``path``."""
        return sum(
            1
            for record in self.requests
            if (method is None or record.method == method) and re.search(path, record.path)
        )

    def reset_records(self) -> None:
        """Forget the requests seen so far."""
        with self._lock:
            self._records.clear()

    # -- serving -----------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        if self._server_ssl is None:
            # No user-space buffering: drain() then means "handed to the kernel", which the cut faults
            # need. (asyncio's TLS transport never drains to zero, so there the cuts rely on a pause.)
            writer.transport.set_write_buffer_limits(0)
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            first = b"" if self._server_ssl else await reader.read(1)
            if first == _TLS_HANDSHAKE:
                await self._answer_tls_probe(reader, writer)
                return
            while True:
                request = await _read_head(reader, first)
                first = b""
                if request is None:
                    break
                method, target, *_ = [*request.first_line.split(" "), "", ""]
                record = RequestRecord(
                    method=method,
                    path=urlsplit(target).path,
                    fault=None,
                    authorized=request.header("authorization") is not None,
                )
                fault = self._take_fault(method, record.path)
                record.fault = fault.kind if fault else None
                with self._lock:
                    self._records.append(record)
                if fault is not None and fault.kind in ("hang", "status", "sever"):
                    await self._answer_without_upstream(fault, request, method, reader, writer, record)
                    break
                if fault is not None and fault.kind == "delay":
                    await asyncio.sleep(fault.delay)
                if fault is not None and fault.kind == "hold":
                    await self._released_or_stopping()
                if upstream is None or upstream[0].at_eof():
                    if upstream is not None:
                        upstream[1].transport.abort()
                    upstream = await asyncio.open_connection(
                        self.upstream_host, self.upstream_port, ssl=self._upstream_ssl, limit=_HEAD_LIMIT
                    )
                keep_open = await self._forward(request, method, fault, reader, writer, upstream, record)
                if not keep_open:
                    break
        except _Cut:
            pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError, ValueError):
            writer.transport.abort()
        finally:
            self._connections.discard(writer)
            if upstream is not None:
                upstream[1].transport.abort()
            if not writer.transport.is_closing():
                writer.close()

    async def _answer_tls_probe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer a TLS ClientHello on the plain port as Go's HTTP server does, so clients fall back fast.

        Clients told a registry is insecure (skopeo ``--tls-verify=false``) try HTTPS first.
        A proxy that "hangs" for every request hangs here too; nothing is recorded.
        """
        with self._lock:
            hang = next((f for f in self._faults if f.kind == "hang" and not f.path and not f.method), None)
        if hang is not None:
            await self._hang(reader)
            return
        writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
        await writer.drain()

    def release(self, timeout: float = 5.0) -> None:
        """Let every request a ``hold`` fault holds (now or later) go on to the registry."""
        if self._loop is None:
            raise SandboxError(f"{self!r} is not started")
        asyncio.run_coroutine_threadsafe(self._set_released(), self._loop).result(timeout)

    async def _set_released(self) -> None:
        self._released.set()

    async def _released_or_stopping(self) -> None:
        assert self._stopping is not None
        waits = [asyncio.ensure_future(event.wait()) for event in (self._released, self._stopping)]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    async def _hang(self, reader: asyncio.StreamReader) -> None:
        """Swallow whatever the client sends; return when it hangs up or the proxy stops."""
        assert self._stopping is not None
        stop = asyncio.ensure_future(self._stopping.wait())
        try:
            while not stop.done():
                read = asyncio.ensure_future(reader.read(65536))
                await asyncio.wait({read, stop}, return_when=asyncio.FIRST_COMPLETED)
                if not read.done():
                    read.cancel()
                elif not read.result():
                    break
        finally:
            stop.cancel()

    async def _answer_without_upstream(
        self,
        fault: Fault,
        request: _Message,
        method: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        record: RequestRecord,
    ) -> None:
        if fault.kind == "hang":
            await self._hang(reader)
            return

        async def discard(_: bytes) -> None:
            pass

        if fault.kind == "sever":
            cutter = _Cutter(writer, discard, budget=fault.body_bytes, reset=True)
            await _relay_body(reader, request, cutter.write, no_body=False)
            await cutter.cut()  # the body was shorter than body_bytes: cut right after it

        # Read the whole request first: a client still sending its body would see a reset, not our answer.
        await _relay_body(reader, request, discard, no_body=False)
        writer.write(_fault_response(fault, method, record.path, request))
        record.status = fault.status
        await writer.drain()

    async def _forward(
        self,
        request: _Message,
        method: str,
        fault: Fault | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter],
        record: RequestRecord,
    ) -> bool:
        """Forward one request and its response; return whether the client connection stays usable."""
        up_reader, up_writer = upstream
        throttle = fault.bytes_per_second if fault is not None and fault.kind == "throttle" else 0

        async def to_upstream(data: bytes) -> None:
            up_writer.write(data)
            await up_writer.drain()

        async def to_client(data: bytes) -> None:
            writer.write(data)
            await writer.drain()

        up_writer.write(request.raw)
        request_sink = _throttled(to_upstream, throttle) if throttle else to_upstream
        await _relay_body(reader, request, request_sink, no_body=False)
        await up_writer.drain()

        response = await _read_head(up_reader)
        if response is None:
            raise ConnectionResetError("upstream closed the connection without answering")
        status = int(response.first_line.split(" ")[1])
        record.status = status
        relocated = fault is not None and fault.kind == "relocate"
        await to_client(_relocated(response, fault.location) if relocated and fault else response.raw)
        no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
        if fault is not None and fault.kind in ("reset", "truncate"):
            cutter = _Cutter(writer, to_client, budget=fault.body_bytes, reset=fault.kind == "reset")
            await _relay_body(up_reader, response, cutter.write, no_body=no_body)
            await cutter.cut()  # the body was shorter than body_bytes: cut right after it anyway
        sink = _throttled(to_client, throttle) if throttle else to_client
        closed_by_eof = await _relay_body(up_reader, response, sink, no_body=no_body)
        return not (closed_by_eof or response.wants_close or request.wants_close)


class _Cutter:
    """A response sink that passes ``budget`` bytes, then resets or closes the client connection."""

    def __init__(self, writer: asyncio.StreamWriter, write: Sink, *, budget: int, reset: bool) -> None:
        self._writer = writer
        self._write = write
        self._budget = budget
        self._reset = reset

    async def write(self, data: bytes) -> None:
        if data[: self._budget]:
            await self._write(data[: self._budget])
        self._budget -= min(self._budget, len(data))
        if self._budget == 0:
            await self.cut()

    async def cut(self) -> None:
        await asyncio.sleep(0.05)  # let the client read what was sent before the cut
        if self._reset:
            sock = self._writer.get_extra_info("socket")
            if sock is not None:
                # SO_LINGER with a zero timeout turns close() into a TCP RST.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self._writer.transport.abort()
        else:
            self._writer.close()
        raise _Cut


def proxy_in_front_of(registry: Registry, *faults: Fault, name: str | None = None) -> FaultProxy:
    """Start a :class:`FaultProxy` for ``registry`` (TLS in front if the registry serves TLS).

    Clients reach the proxy exactly as they reach the registry: same scheme, same CA.
    """
    context = registry.tls.server_context() if registry.tls else None
    upstream_context = registry.tls.client_context() if registry.tls else None
    proxy = FaultProxy(
        registry.url,
        name=name or f"proxy-{registry.name}",
        server_context=context,
        upstream_context=upstream_context,
    ).start()
    if faults:
        proxy.set_faults(*faults)
    return proxy
