"""Reading the OCI image layout kaniko writes with ``--oci-layout-path``.

Why push takes an OCI layout and not a docker tarball: the layout stores the
image manifest as the exact bytes kaniko hashed for ``--digest-file``, and
push sends those bytes unchanged, so the digest a registry serves after the
push is provably the one the build reported. A docker tarball
(``docker save`` format) holds no registry manifest at all; the pusher would
write a new one, and its digest would depend on the pusher's JSON encoding
and compression choices.

Layout: ``oci-layout`` (``{"imageLayoutVersion": "1.0.0"}``), ``index.json``
(descriptors of the top-level manifests) and ``blobs/sha256/<hex>``.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import stat
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import BinaryIO

from hera_imagebuild.common.failures import FailureKind
from hera_imagebuild.common.reference import ImageReference
from hera_imagebuild.common.untrusted_json import UntrustedJSONError, load_untrusted
from hera_imagebuild.pod.registry.errors import RegistryError
from hera_imagebuild.pod.registry.manifest import (
    MAX_MANIFEST_BYTES,
    Descriptor,
    Manifest,
    ManifestError,
    sha256_digest,
)

_CHUNK = 1024 * 1024


class OciLayoutError(ValueError):
    """A directory that is not a complete, consistent OCI image layout."""


class OciLayout:
    """An OCI image layout directory: the image source for push.

    Use :meth:`open`, which checks the layout's structure; digests of blob
    contents are checked as they are read.
    """

    def __init__(self, path: Path, manifests: tuple[Descriptor, ...]) -> None:
        self.path = path
        self.manifests = manifests

    @classmethod
    def open(cls, path: str | Path) -> OciLayout:
        """Read ``oci-layout`` and ``index.json``.

        Raises:
            OciLayoutError: Naming the file and what is wrong with it.
        """
        root = Path(path)
        if not root.is_dir():
            raise OciLayoutError(f"--image: {str(root)!r} is not a directory (expected an OCI image layout)")
        marker = _read_json(root, root / "oci-layout")
        if not isinstance(marker, dict) or "imageLayoutVersion" not in marker:
            raise OciLayoutError(f"{root / 'oci-layout'}: expected an object with 'imageLayoutVersion'")
        index = _read_json(root, root / "index.json")
        entries = index.get("manifests") if isinstance(index, dict) else None
        if not isinstance(entries, list):
            raise OciLayoutError(f"{root / 'index.json'}: expected an object with a 'manifests' list")
        try:
            manifests = tuple(
                Descriptor.from_json(entry, where=f"index.json manifests[{i}]")
                for i, entry in enumerate(entries)
            )
        except ManifestError as exc:
            raise OciLayoutError(f"{root}: {exc}") from None
        return cls(root, manifests)

    @property
    def name(self) -> str:
        """``oci:<path>``, for messages."""
        return f"oci:{self.path}"

    @property
    def registry_repository(self) -> ImageReference | None:
        """A layout is not a registry: nothing to mount from."""
        return None

    def image(self) -> Descriptor:
        """The layout's one top-level image (kaniko writes exactly one).

        Raises:
            OciLayoutError: If ``index.json`` lists no image or several.
        """
        if len(self.manifests) != 1:
            raise OciLayoutError(
                f"{self.path / 'index.json'}: lists {len(self.manifests)} images; push needs exactly one"
            )
        return self.manifests[0]

    def blob_path(self, digest: str) -> Path:
        """Where the blob with ``digest`` lives in the layout."""
        algorithm, _, encoded = digest.partition(":")
        return self.path / "blobs" / algorithm / encoded

    def read_manifest(self, descriptor: Descriptor) -> Manifest:
        """Read, check (size, digest) and parse a manifest or index.

        Raises:
            OciLayoutError: If the blob is missing, altered or not a manifest.
        """
        path = self.blob_path(descriptor.digest)
        missing = f"{self.path}: manifest blob {descriptor.digest} is missing"
        with _open_file(self.path, path, missing=missing, limit=MAX_MANIFEST_BYTES) as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
        actual = sha256_digest(data)
        if actual != descriptor.digest or len(data) != descriptor.size:
            raise OciLayoutError(
                f"{path}: content does not match its descriptor ({len(data)} bytes, {actual}; "
                f"expected {descriptor.size} bytes, {descriptor.digest})"
            )
        try:
            return Manifest.parse(data, descriptor.media_type or None)
        except ManifestError as exc:
            raise OciLayoutError(f"{self.path}: {exc}") from None

    def check(self, descriptor: Descriptor, _seen: set[str] | None = None) -> list[Manifest]:
        """Check that every manifest and blob ``descriptor`` needs is present with the right size.

        Returns:
            The manifests (top first, then children of an index).

        Raises:
            OciLayoutError: Naming the first missing or wrong-sized blob.
        """
        seen = set() if _seen is None else _seen
        seen.add(descriptor.digest)
        manifest = self.read_manifest(descriptor)
        found = [manifest]
        for child in manifest.manifests:
            if child.digest not in seen:  # an index naming a child twice is read once
                found.extend(self.check(child, seen))
        for blob in manifest.blobs:
            path = self.blob_path(blob.digest)
            missing = f"{self.path}: blob {blob.digest} (needed by {manifest.digest}) is missing"
            # Opened once here, so an unreadable layout fails before anything is uploaded.
            with _open_file(self.path, path, missing=missing) as handle:
                size = os.fstat(handle.fileno()).st_size
            if size != blob.size:
                raise OciLayoutError(f"{path}: {size} bytes, but manifest {manifest.digest} says {blob.size}")
        return found

    async def manifest(self, digest: str) -> Manifest:
        """The manifest with ``digest`` (as :class:`~hera_imagebuild.pod.registry.copy.ImageSource`)."""
        path = self.blob_path(digest)
        try:
            with _open_file(
                self.path, path, missing=f"{self.path}: manifest blob {digest} is missing"
            ) as handle:
                size = os.fstat(handle.fileno()).st_size
            return self.read_manifest(Descriptor("", digest, size))
        except OciLayoutError as exc:
            raise RegistryError(
                str(exc), kind=FailureKind.DETERMINISTIC, operation="read layout", host=self.name
            ) from None

    async def open_blob(self, blob: Descriptor) -> AsyncGenerator[bytes, None]:
        """Stream a blob file in chunks (read off the event loop); raises at the end on a digest mismatch."""
        path = self.blob_path(blob.digest)
        digest = hashlib.sha256()
        size = 0
        try:
            handle = _open_file(self.path, path, missing=f"{self.path}: blob {blob.digest} is missing")
        except OciLayoutError as error:
            # A local file the step cannot read is read the same way on every attempt.
            raise RegistryError(
                str(error), kind=FailureKind.DETERMINISTIC, operation="read layout", host=self.name
            ) from None
        with handle:
            # Never more than the descriptor's size (+1 to notice a longer file): a file that grows
            # cannot make push read without end.
            while size <= blob.size and (chunk := await asyncio.to_thread(handle.read, _CHUNK)):
                digest.update(chunk)
                size += len(chunk)
                yield chunk
        if size != blob.size or "sha256:" + digest.hexdigest() != blob.digest:
            raise RegistryError(
                f"{path} does not match its digest {blob.digest} (the layout is corrupt)",
                kind=FailureKind.DETERMINISTIC,
                operation="read layout",
                host=self.name,
            )


def _unreadable(path: Path, error: OSError) -> str:
    message = f"{path}: cannot read it ({error.strerror or type(error).__name__})"
    if isinstance(error, PermissionError):
        stat = path.stat()
        message += (
            f"; it is mode {stat.st_mode & 0o7777:04o}, owner uid {stat.st_uid}, and this step runs as uid "
            f"{os.geteuid()}: the layout's files must be readable to the push step (see docs/usage.md, "
            "'Handoff between build and push')"
        )
    return message


def _open_file(root: Path, path: Path, *, missing: str, limit: int | None = None) -> BinaryIO:
    """Open a file of the layout at ``root``: a regular file, not a link, inside the layout.

    The layout is the build's output, so it is not trusted: a link out of it, a FIFO (which would
    block forever) or a device (which never ends) is refused before a byte is read, and so is a
    file larger than ``limit``.

    Raises:
        OciLayoutError: Naming the file and what is wrong with it (``missing`` when it does not exist).
    """
    try:
        real = path.resolve(strict=True)
        inside = real.is_relative_to(root.resolve(strict=True))
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK) if inside else -1
    except FileNotFoundError:
        raise OciLayoutError(missing) from None
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW on a link
            raise OciLayoutError(f"{path}: a symbolic link; a layout's files must be regular files") from None
        raise OciLayoutError(_unreadable(path, error)) from None
    if not inside:
        raise OciLayoutError(f"{path}: leads outside the layout (to {real}); refusing to read it")
    info = os.fstat(descriptor)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = "not a regular file (a FIFO, device, socket or directory); refusing to read it"
    elif limit is not None and info.st_size > limit:
        problem = f"{info.st_size} bytes, more than the {limit} a manifest may have"
    if problem:
        os.close(descriptor)
        raise OciLayoutError(f"{path}: {problem}")
    os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def _read_json(root: Path, path: Path) -> object:
    missing = f"{path} is missing: is {path.parent} an OCI image layout?"
    with _open_file(root, path, missing=missing, limit=MAX_MANIFEST_BYTES) as handle:
        data = handle.read(MAX_MANIFEST_BYTES + 1)
    try:
        return load_untrusted(data, what=str(path), max_bytes=MAX_MANIFEST_BYTES)
    except UntrustedJSONError as error:
        raise OciLayoutError(str(error)) from None
