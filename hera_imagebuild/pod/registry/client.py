"""An async registry client (OCI distribution API) on httpx, HTTP/1.1.

One :class:`RegistryClient` talks to any number of registries; every public
operation retries transient failures under the client's :class:`RetryPolicy`
and overall :class:`Deadline`, and raises :class:`RegistryError` otherwise.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import httpx

from hera_imagebuild.common.failures import FailureKind
from hera_imagebuild.common.reference import ImageReference
from hera_imagebuild.pod.registry.access import RegistryAccess
from hera_imagebuild.pod.registry.auth import Authenticator, pull_scope, push_scope
from hera_imagebuild.pod.registry.errors import RegistryError, error_from_exception, error_from_response
from hera_imagebuild.pod.registry.manifest import (
    MANIFEST_ACCEPT,
    MAX_MANIFEST_BYTES,
    Descriptor,
    Manifest,
    ManifestError,
    Platform,
)
from hera_imagebuild.pod.registry.retry import Deadline, RetryHook, RetryPolicy, with_retries

T = TypeVar("T")
ByteSource = Callable[[], AsyncGenerator[bytes, None]]
"""Opens a fresh stream of a blob's bytes (called again for each attempt, closed when it ends)."""
ByteCounter = Callable[[int], None]
"""Called with the size of each chunk sent or received."""

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ResolvedImage:
    """A tag or digest resolved for one platform.

    Attributes:
        digest: The platform manifest's digest (what to pin).
        manifest: That manifest.
        index_digest: The index it was chosen from, if the reference named an index.
    """

    digest: str
    manifest: Manifest
    index_digest: str | None = None


def _describe(repo: ImageReference, reference: str) -> str:
    separator = "@" if ":" in reference else ":"
    return f"{repo.repository}{separator}{reference}"


class RegistryClient:
    """Registry operations with authentication, TLS, retries and time limits.

    Use as an async context manager (or call :meth:`aclose`)::

        async with RegistryClient(RegistryAccess.create(authfile=...)) as client:
            resolved = await client.resolve(parse_reference("python:3.12"), Platform.parse("linux/amd64"))

    Args:
        access: Credentials and TLS/plain-HTTP settings.
        policy: Attempts, backoff and per-request time limits.
        deadline: Overall time limit shared by every operation of this client.
        on_retry: Called before each retry sleep (for progress output).
        max_connections: Open connections across all registries.
    """

    def __init__(
        self,
        access: RegistryAccess | None = None,
        policy: RetryPolicy | None = None,
        *,
        deadline: Deadline | None = None,
        on_retry: RetryHook | None = None,
        max_connections: int = 16,
    ) -> None:
        self.access = access or RegistryAccess()
        self.policy = policy or RetryPolicy()
        self.deadline = deadline or Deadline(None)
        self.on_retry = on_retry
        self._auth = Authenticator(self.access.docker_config, self.access.insecure_registries)
        timeout = httpx.Timeout(
            self.policy.read_timeout, connect=self.policy.connect_timeout, pool=self.policy.request_timeout
        )
        self._http = httpx.AsyncClient(
            verify=self.access.ssl_context(),
            timeout=timeout,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"User-Agent": "hera-imagebuild"},
        )

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection."""
        await self._http.aclose()

    # -- plumbing ---------------------------------------------------------------

    def url(self, repo: ImageReference, path: str) -> str:
        """The API URL of ``/v2/<repository>/<path>`` on ``repo``'s registry."""
        host = repo.api_host
        return f"{self.access.scheme(host)}://{host}/v2/{repo.repository}/{path}"

    async def _run(
        self, operation: str, host: str, attempt: Callable[[], Awaitable[T]], *, timeout: float | None = None
    ) -> T:
        """Run one operation's ``attempt`` with the time limit, error mapping and retries."""
        limit = timeout or self.policy.request_timeout

        async def once() -> T:
            if self.deadline.expired:
                raise RegistryError(
                    "the overall time limit is used up",
                    kind=FailureKind.TRANSIENT,
                    operation=operation,
                    host=host,
                )
            seconds = self.deadline.cap(limit)
            try:
                return await asyncio.wait_for(attempt(), seconds)
            except RegistryError:
                raise
            except (asyncio.TimeoutError, TimeoutError):
                raise RegistryError(
                    f"no complete answer within {seconds:.1f}s",
                    kind=FailureKind.TRANSIENT,
                    operation=operation,
                    host=host,
                ) from None
            except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
                raise error_from_exception(exc, operation=operation, host=host) from None

        return await with_retries(once, policy=self.policy, deadline=self.deadline, on_retry=self.on_retry)

    @asynccontextmanager
    async def _open(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        host: str,
        scopes: list[str],
        operation: str,
        headers: dict[str, str] | None = None,
        content: bytes | AsyncIterator[bytes] | None = None,
        follow_redirects: bool = False,
    ) -> AsyncIterator[httpx.Response]:
        """Send a request, answering one 401 challenge; yields the response with its body unread.

        Credentials go only to the registry's own origin (scheme, host and port), as Docker scopes
        them: a ``Location`` that points elsewhere gets the request without them, and one that
        would leave HTTPS for plain HTTP is refused.
        """
        own = self._is_own_origin(host, operation, httpx.URL(url))

        async def send() -> tuple[httpx.Response, str | None]:
            request_headers = dict(headers or {})
            authorization = self._auth.header(host, scopes) if own else None
            if authorization:
                request_headers["Authorization"] = authorization
            request = self._http.build_request(method, url, headers=request_headers, content=content)
            sent = await self._http.send(request, stream=True, follow_redirects=follow_redirects)
            return sent, authorization

        response, authorization = await send()
        try:
            if response.status_code == 401 and own:
                await response.aread()
                if await self._auth.answer(
                    host,
                    response.headers.get("www-authenticate"),
                    scopes,
                    rejected=authorization,
                    operation=operation,
                    send=self._send_plain,
                ):
                    if content is not None and not isinstance(content, bytes):
                        # A streamed body cannot be sent twice: the operation's retry starts over.
                        raise RegistryError(
                            "credentials expired during the transfer",
                            kind=FailureKind.TRANSIENT,
                            operation=operation,
                            host=host,
                            status=401,
                        )
                    await response.aclose()
                    response, _ = await send()
            yield response
        finally:
            await response.aclose()

    def _is_own_origin(self, host: str, operation: str, target: httpx.URL) -> bool:
        """Whether ``target`` is the registry's own origin; refuse a downgrade from HTTPS to HTTP.

        Raises:
            RegistryError: If the registry is reached over HTTPS and ``target`` is plain HTTP.
        """
        registry = httpx.URL(f"{self.access.scheme(host)}://{host}/")
        if registry.scheme == "https" and target.scheme != "https":
            raise RegistryError(
                f"the registry sent the request on to {target.copy_with(query=None)} over plain HTTP; "
                "refusing to leave HTTPS",
                kind=FailureKind.DETERMINISTIC,
                operation=operation,
                host=host,
            )
        return _origin_of(target) == _origin_of(registry)

    async def _send_plain(self, request: httpx.Request) -> httpx.Response:
        return await self._http.send(request)

    async def _fail(self, response: httpx.Response, *, operation: str, host: str) -> RegistryError:
        """The error for an unexpected response (a 401 explains what the docker config lacks)."""
        await response.aread()
        error = error_from_response(response, operation=operation, host=host)
        if response.status_code != 401:
            return error
        if self.access.docker_config.lookup(host) is None:
            hint = f"the docker config has no credentials for {host}"
        else:
            hint = "the docker config's credentials were refused or lack access to this repository"
        return RegistryError(
            f"{error.detail}; {hint}",
            kind=FailureKind.DETERMINISTIC,
            operation=operation,
            host=host,
            status=401,
            code=error.code or "UNAUTHORIZED",
        )

    def _operation(self, repo: ImageReference, name: str, *scopes: str) -> _Operation:
        return _Operation(self, repo, name, scopes or (pull_scope(repo.repository),))

    # -- manifests --------------------------------------------------------------

    async def get_manifest(self, repo: ImageReference, reference: str | None = None) -> Manifest:
        """Fetch a manifest or index by tag or digest and check its digest.

        Args:
            repo: The registry and repository (its tag/digest is the default ``reference``).
            reference: A tag or ``sha256:`` digest.

        Raises:
            RegistryError: ``MANIFEST_UNKNOWN`` (deterministic) when absent, or
                any other failure; a body that does not match the requested digest
                (or the registry's ``Docker-Content-Digest``) is transient.
        """
        reference = reference or repo.reference
        op = self._operation(repo, f"get manifest {_describe(repo, reference)}")

        async def attempt() -> Manifest:
            async with op.open(
                "GET", f"manifests/{reference}", headers={"Accept": MANIFEST_ACCEPT}
            ) as response:
                if response.status_code != 200:
                    raise await op.fail(response)
                data = await _read_limited(response, MAX_MANIFEST_BYTES, op)
            try:
                manifest = Manifest.parse(data, response.headers.get("content-type"))
            except ManifestError as exc:
                raise op.error(str(exc)) from None
            expected = (
                reference
                if reference.startswith("sha256:")
                else response.headers.get("docker-content-digest")
            )
            if expected and expected.startswith("sha256:") and expected != manifest.digest:
                raise op.error(
                    f"received manifest has digest {manifest.digest}, expected {expected} "
                    "(truncated or altered)",
                    FailureKind.TRANSIENT,
                )
            return manifest

        return await op.run(attempt)

    async def manifest_digest(self, repo: ImageReference, reference: str | None = None) -> str | None:
        """The digest a registry reports for a tag or digest (HEAD); ``None`` if it has no such manifest."""
        reference = reference or repo.reference
        op = self._operation(repo, f"check manifest {_describe(repo, reference)}")

        async def attempt() -> str | None:
            async with op.open(
                "HEAD", f"manifests/{reference}", headers={"Accept": MANIFEST_ACCEPT}
            ) as response:
                if response.status_code == 404:
                    return None
                if response.status_code != 200:
                    raise await op.fail(response)
                reported: str | None = response.headers.get("docker-content-digest")
                return reported

        return await op.run(attempt)

    async def resolve(self, repo: ImageReference, platform: Platform) -> ResolvedImage:
        """Resolve ``repo``'s tag or digest to the manifest digest for ``platform``.

        An index / manifest list is followed to the child matching os,
        architecture and (if given) variant; an image manifest is returned as is.

        Raises:
            RegistryError: When the manifest is missing, the index has no such
                platform (deterministic), or the registry fails.
        """
        top = await self.get_manifest(repo)
        if not top.is_index:
            return ResolvedImage(top.digest, top)
        try:
            child = top.select(platform)
        except ManifestError as exc:
            raise self._operation(repo, f"resolve {repo}").error(str(exc)) from None
        return ResolvedImage(child.digest, await self.get_manifest(repo, child.digest), top.digest)

    async def put_manifest(
        self, repo: ImageReference, manifest: Manifest, reference: str | None = None
    ) -> None:
        """Store ``manifest``'s exact bytes under a tag or its digest.

        Raises:
            RegistryError: If the registry refuses, or reports a different digest
                than the bytes have (deterministic).
        """
        reference = reference or manifest.digest
        op = self._operation(repo, f"put manifest {_describe(repo, reference)}", push_scope(repo.repository))

        async def attempt() -> None:
            headers = {"Content-Type": manifest.media_type}
            async with op.open(
                "PUT", f"manifests/{reference}", headers=headers, content=manifest.data
            ) as response:
                if response.status_code not in (200, 201):
                    raise await op.fail(response)
                reported = response.headers.get("docker-content-digest")
            if reported and reported != manifest.digest:
                raise op.error(f"registry stored digest {reported}, the manifest's is {manifest.digest}")

        await op.run(attempt)

    # -- blobs ------------------------------------------------------------------

    async def blob_exists(self, repo: ImageReference, blob: Descriptor, *, for_push: bool = False) -> bool:
        """Whether the registry has ``blob`` in ``repo`` with the expected size (HEAD).

        Args:
            repo: Registry and repository.
            blob: The blob's descriptor.
            for_push: Ask for a push token (saves a token request when a push follows).
        """
        scope = push_scope(repo.repository) if for_push else pull_scope(repo.repository)
        op = self._operation(repo, f"check blob {blob.digest[:19]} in {repo.repository}", scope)

        async def attempt() -> bool:
            async with op.open("HEAD", f"blobs/{blob.digest}", follow_redirects=True) as response:
                if response.status_code == 404:
                    return False
                if response.status_code != 200:
                    raise await op.fail(response)
                length = response.headers.get("content-length")
                return length is None or int(length) == blob.size

        return await op.run(attempt)

    @asynccontextmanager
    async def open_blob(self, repo: ImageReference, blob: Descriptor) -> AsyncIterator[AsyncIterator[bytes]]:
        """Stream a blob's bytes; the stream raises if they do not match the digest and size.

        One attempt, no retry (the caller owns what the bytes flow into). Time
        limits are the caller's too: wrap the whole transfer.

        Raises:
            RegistryError: On any failure; a short or corrupt body is transient.
        """
        op = self._operation(repo, f"get blob {blob.digest[:19]} from {repo.repository}")
        try:
            async with op.open("GET", f"blobs/{blob.digest}", follow_redirects=True) as response:
                if response.status_code != 200:
                    raise await op.fail(response)
                yield _verified(response.aiter_bytes(_CHUNK), blob, op)
        except RegistryError:
            raise
        except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
            raise error_from_exception(exc, operation=op.name, host=op.host) from None

    async def mount_blob(self, repo: ImageReference, blob: Descriptor, source_repository: str) -> bool:
        """Ask the registry to link ``blob`` from another repository on the same registry.

        Returns:
            ``True`` if mounted; ``False`` if the registry declined (then upload).
        """
        name = f"mount blob {blob.digest[:19]} into {repo.repository}"
        op = self._operation(repo, name, push_scope(repo.repository), pull_scope(source_repository))
        url = httpx.URL(self.url(repo, "blobs/uploads/")).copy_merge_params(
            {"mount": blob.digest, "from": source_repository}
        )

        async def attempt() -> bool:
            async with op.open("POST", url) as response:
                if response.status_code == 201:
                    return True
                if response.status_code != 202:
                    raise await op.fail(response)
            if "location" in response.headers:  # declined, and an upload session opened instead: close it
                async with op.open("DELETE", _location(response)):
                    pass
            return False

        return await op.run(attempt)

    async def upload_blob(
        self,
        repo: ImageReference,
        blob: Descriptor,
        source: ByteSource,
        *,
        chunk_size: int | None = None,
        on_bytes: ByteCounter | None = None,
    ) -> None:
        """Upload a blob: POST a session, PATCH the bytes (streamed), PUT with the digest.

        Each attempt starts a new upload session and re-opens ``source``; the
        registry checks the digest when the upload is closed.

        Args:
            repo: Destination registry and repository.
            blob: The blob's descriptor (digest and size).
            source: Opens the blob's bytes; called once per attempt.
            chunk_size: Bytes per PATCH request; ``None`` sends the whole blob in one.
            on_bytes: Progress counter (called with bytes as they are sent).

        Raises:
            RegistryError: On failure after the retries allowed.
        """
        name = f"upload blob {blob.digest[:19]} to {repo.repository}"
        op = self._operation(repo, name, push_scope(repo.repository))

        async def attempt() -> None:
            async with op.open("POST", "blobs/uploads/") as started:
                if started.status_code != 202 or "location" not in started.headers:
                    raise await op.fail(started)
            location = _location(started)
            async with aclosing(source()) as stream:
                chunker = _Chunker(stream, on_bytes)
                sent = 0
                while sent < blob.size:
                    length = min(chunk_size or blob.size, blob.size - sent)
                    headers = {
                        "Content-Type": "application/octet-stream",
                        "Content-Length": str(length),
                        "Content-Range": f"{sent}-{sent + length - 1}",
                    }
                    async with op.open(
                        "PATCH", location, headers=headers, content=chunker.take(length)
                    ) as response:
                        if response.status_code != 202:
                            raise await op.fail(response)
                    location = _location(response, location)
                    sent += length
                await chunker.end()
            close = location.copy_merge_params({"digest": blob.digest})
            async with op.open("PUT", close, headers={"Content-Length": "0"}) as closed:
                if closed.status_code not in (201, 204):
                    raise await op.fail(closed)

        await op.run(attempt, timeout=self.policy.transfer_timeout(blob.size))


@dataclass(frozen=True)
class _Operation:
    """One public operation: its name in messages, the repository and the token scopes it needs."""

    client: RegistryClient
    repo: ImageReference
    name: str
    scopes: tuple[str, ...]

    @property
    def host(self) -> str:
        return self.repo.api_host

    def open(
        self,
        method: str,
        target: str | httpx.URL,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | AsyncIterator[bytes] | None = None,
        follow_redirects: bool = False,
    ) -> AbstractAsyncContextManager[httpx.Response]:
        """Send a request to ``target`` (a path below ``/v2/<repository>/``, or a full URL)."""
        url = target if isinstance(target, httpx.URL) else self.client.url(self.repo, target)
        return self.client._open(
            method,
            url,
            host=self.host,
            scopes=list(self.scopes),
            operation=self.name,
            headers=headers,
            content=content,
            follow_redirects=follow_redirects,
        )

    async def fail(self, response: httpx.Response) -> RegistryError:
        return await self.client._fail(response, operation=self.name, host=self.host)

    def error(self, detail: str, kind: FailureKind = FailureKind.DETERMINISTIC) -> RegistryError:
        return RegistryError(detail, kind=kind, operation=self.name, host=self.host)

    async def run(self, attempt: Callable[[], Awaitable[T]], *, timeout: float | None = None) -> T:
        return await self.client._run(self.name, self.host, attempt, timeout=timeout)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_of(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host.lower(), url.port or _DEFAULT_PORTS.get(url.scheme)


def _location(response: httpx.Response, default: httpx.URL | None = None) -> httpx.URL:
    """The upload session URL a response points to (relative ``Location`` resolved)."""
    location = response.headers.get("location")
    return response.url.join(location) if location else (default or response.url)


async def _read_limited(response: httpx.Response, limit: int, op: _Operation) -> bytes:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data.extend(chunk)
        if len(data) > limit:
            raise op.error(f"answer is larger than {limit} bytes")
    return bytes(data)


async def _verified(chunks: AsyncIterator[bytes], blob: Descriptor, op: _Operation) -> AsyncIterator[bytes]:
    digest = hashlib.sha256()
    size = 0
    async for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        yield chunk
    actual = "sha256:" + digest.hexdigest()
    if size != blob.size or actual != blob.digest:
        raise op.error(
            f"received {size} of {blob.size} bytes with digest {actual[:19]}... (truncated or corrupt)",
            FailureKind.TRANSIENT,
        )


class _Chunker:
    """Cuts a byte stream into requests of exact lengths (one PATCH each)."""

    def __init__(self, stream: AsyncIterator[bytes], on_bytes: ByteCounter | None) -> None:
        self._stream = stream
        self._pending = b""
        self._on_bytes = on_bytes

    async def take(self, length: int) -> AsyncIterator[bytes]:
        """The next ``length`` bytes; a source that ends early is an error."""
        remaining = length
        while remaining > 0:
            chunk = self._pending or await anext(self._stream, b"")
            if not chunk:
                raise OSError(f"blob source ended {remaining} bytes early")
            piece, self._pending = chunk[:remaining], chunk[remaining:]
            remaining -= len(piece)
            if self._on_bytes is not None:
                self._on_bytes(len(piece))
            yield piece

    async def end(self) -> None:
        """Read past the last byte, so a source that checks its bytes there (digest) does so."""
        # More bytes than the descriptor says is as wrong as fewer (see take()).
        if self._pending or await anext(self._stream, b""):
            raise OSError("blob source has more bytes than the blob's size")
