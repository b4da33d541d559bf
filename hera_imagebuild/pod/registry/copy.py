"""Copying an image by digest into a registry, from any :class:`ImageSource`.

Sources are an OCI layout on disk (push) or another registry (prefetch's cache
copy). The copy is idempotent: blobs the destination already has are not sent
again, so a re-run after a partial copy only sends what is missing (manifests
are small and always stored again, which also puts a moved tag back). The
exact manifest bytes are stored, so the destination serves the source's digest.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hera_imagebuild.common.failures import FailureKind
from hera_imagebuild.common.reference import ImageReference
from hera_imagebuild.pod.progress import Progress
from hera_imagebuild.pod.registry.client import RegistryClient
from hera_imagebuild.pod.registry.errors import RegistryError
from hera_imagebuild.pod.registry.manifest import Descriptor, Manifest


class ImageSource(Protocol):
    """Where a copy reads manifests and blobs from."""

    @property
    def name(self) -> str:
        """How to name the source in messages (``oci:/workspace/image``, ``host/repo``)."""
        ...

    @property
    def registry_repository(self) -> ImageReference | None:
        """The source's registry repository, if it is one (enables cross-repository mounts)."""
        ...

    async def manifest(self, digest: str) -> Manifest:
        """The manifest or index with ``digest`` (digest checked)."""
        ...

    def open_blob(self, blob: Descriptor) -> AsyncGenerator[bytes, None]:
        """A fresh stream of the blob's bytes; it raises at the end if they do not match the digest."""
        ...


class RegistrySource:
    """An image in a registry repository, read through a :class:`RegistryClient`."""

    def __init__(self, client: RegistryClient, repository: ImageReference) -> None:
        self._client = client
        self._repo = repository

    @property
    def name(self) -> str:
        """``host/repository``."""
        return self._repo.name

    @property
    def registry_repository(self) -> ImageReference:
        """The source repository."""
        return self._repo

    async def manifest(self, digest: str) -> Manifest:
        """Fetch the manifest by digest (retried)."""
        return await self._client.get_manifest(self._repo, digest)

    async def open_blob(self, blob: Descriptor) -> AsyncGenerator[bytes, None]:
        """Stream the blob from the registry (one attempt; the upload's retry re-opens it)."""
        async with self._client.open_blob(self._repo, blob) as chunks:
            async for chunk in chunks:
                yield chunk


@dataclass
class CopyStats:
    """What a copy did at one destination.

    Attributes:
        uploaded: Digests of blobs sent.
        present: Digests of blobs the destination already had.
        mounted: Digests of blobs linked from the source repository (same registry).
        bytes_uploaded: Bytes of blob data sent.
        manifests_put: Manifests (and indexes) stored, tags included.
    """

    uploaded: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    mounted: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0
    manifests_put: int = 0


class _Copy:
    def __init__(
        self,
        client: RegistryClient,
        source: ImageSource,
        destination: ImageReference,
        progress: Progress | None,
        concurrency: int,
    ) -> None:
        self.client = client
        self.source = source
        self.destination = destination
        self.progress = progress
        self.limit = asyncio.Semaphore(concurrency)
        self.stats = CopyStats()
        self._blobs: dict[str, asyncio.Task[None]] = {}
        self._children: dict[str, asyncio.Task[Manifest]] = {}

    async def cancel_pending(self) -> None:
        """Stop blob transfers still running after a failure elsewhere."""
        tasks = [*self._blobs.values(), *self._children.values()]
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _mount_source(self) -> str | None:
        origin = self.source.registry_repository
        if origin is None or origin.api_host != self.destination.api_host:
            return None
        return None if origin.repository == self.destination.repository else origin.repository

    async def blob(self, blob: Descriptor) -> None:
        """Copy one blob once, however many manifests share it."""
        if blob.digest not in self._blobs:
            self._blobs[blob.digest] = asyncio.ensure_future(self._copy_blob(blob))
        await self._blobs[blob.digest]

    async def _copy_blob(self, blob: Descriptor) -> None:
        async with self.limit:
            key = f"{self.destination.name}:{blob.digest}"
            label = f"{self.destination.name} blob {blob.digest[7:19]}"
            if await self.client.blob_exists(self.destination, blob, for_push=True):
                self.stats.present.append(blob.digest)
                self._note(label, "already present")
                return
            mount_from = self._mount_source()
            if mount_from and await self.client.mount_blob(self.destination, blob, mount_from):
                self.stats.mounted.append(blob.digest)
                self._note(label, f"mounted from {mount_from}")
                return
            progress = self.progress
            if progress:
                progress.start(key, label, blob.size)

            def reopen() -> AsyncGenerator[bytes, None]:
                if progress:
                    progress.restart(key)
                return self.source.open_blob(blob)

            await self.client.upload_blob(
                self.destination,
                blob,
                reopen,
                on_bytes=(lambda n: progress.advance(key, n)) if progress else None,
            )
            self.stats.uploaded.append(blob.digest)
            self.stats.bytes_uploaded += blob.size
            if progress:
                progress.finish(key, "uploaded")

    def _note(self, label: str, note: str) -> None:
        if self.progress:
            self.progress.info(f"{label}: {note}")

    async def _child(self, digest: str) -> Manifest:
        """Copy a child manifest once, however many indexes (or entries) name it."""
        if digest not in self._children:
            self._children[digest] = asyncio.ensure_future(self.manifest(digest, [digest]))
        return await asyncio.shield(self._children[digest])

    async def manifest(self, digest: str, references: Sequence[str]) -> Manifest:
        """Copy a manifest (its blobs or children first), stored under ``references``."""
        manifest = await self.source.manifest(digest)
        if manifest.is_index:
            await _gather([self._child(child.digest) for child in manifest.manifests])
        else:
            await _gather([self.blob(b) for b in manifest.blobs])
        for reference in references:
            await self.client.put_manifest(self.destination, manifest, reference)
            self.stats.manifests_put += 1
        return manifest


async def _gather(coroutines: Sequence[Awaitable[object]]) -> None:
    """Await all; on the first failure cancel the rest and raise it (no orphaned transfers)."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def copy_image(
    client: RegistryClient,
    source: ImageSource,
    destination: ImageReference,
    digest: str,
    *,
    tags: Sequence[str] = (),
    progress: Progress | None = None,
    concurrency: int = 4,
) -> CopyStats:
    """Copy the manifest (or index) ``digest`` and everything it references to ``destination``.

    Blobs go first (up to ``concurrency`` at a time), then child manifests by
    digest, then the top manifest under each tag (or its digest when there are
    no tags). Blobs the destination has are skipped; blobs on the same
    registry are mounted instead of uploaded.

    Args:
        client: The client for the destination (and a registry source).
        source: Where the image comes from.
        destination: Registry and repository to copy into (its tag is ignored: pass ``tags``).
        digest: The top manifest's digest.
        tags: Tags to store the top manifest under.
        progress: Where to report transfers.
        concurrency: Blob transfers at once.

    Returns:
        What was sent and what was already there.

    Raises:
        RegistryError: The first failure, after the client's retries.
    """
    copy = _Copy(client, source, destination, progress, concurrency)
    try:
        await copy.manifest(digest, list(tags) or [digest])
    finally:
        await copy.cancel_pending()
    return copy.stats


async def verify_served(
    client: RegistryClient, destination: ImageReference, digest: str, tags: Sequence[str] = ()
) -> None:
    """Check that ``destination`` serves the manifest ``digest`` (bytes hashed) and each tag points at it.

    Raises:
        RegistryError: ``MANIFEST_UNKNOWN`` or a digest mismatch, as a deterministic
            failure naming the destination.
    """
    served = await client.get_manifest(destination, digest)
    if served.digest != digest:  # get_manifest checks this too; keep the promise explicit
        raise RegistryError(
            f"serves {served.digest} instead of {digest}",
            kind=FailureKind.DETERMINISTIC,
            operation=f"verify {destination.name}",
            host=destination.api_host,
        )
    for tag in tags:
        reported = await client.manifest_digest(destination, tag)
        if reported is None:
            problem = f"tag {tag} points at nothing after it was set to {digest}"
        elif reported != digest:
            # Two pushes to one tag: ours set it, the other's moved it before we checked.
            problem = (
                f"tag {tag} moved to {reported} after this push set it to {digest} (another push to "
                f"the same tag?); this image stays at {destination.name}@{digest}"
            )
        else:
            continue
        raise RegistryError(
            problem,
            kind=FailureKind.DETERMINISTIC,
            operation=f"verify {destination.name}:{tag}",
            host=destination.api_host,
        )
