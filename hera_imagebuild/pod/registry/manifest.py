"""Manifests and indexes: media types, descriptors, digests, platform selection."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from hera_imagebuild.common.untrusted_json import UntrustedJSONError, load_untrusted

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
IMAGE_MEDIA_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEX_MEDIA_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
MANIFEST_ACCEPT = ", ".join((*IMAGE_MEDIA_TYPES, *INDEX_MEDIA_TYPES))
"""The ``Accept`` header for manifest requests (schema 1 manifests are not supported)."""
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
"""The largest manifest accepted (distribution's own limit)."""

_SHA256_RE = re.compile(r"sha256:[a-f0-9]{64}")


class ManifestError(ValueError):
    """Manifest bytes that are not a supported manifest or index."""


def sha256_digest(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_digest(digest: str, *, field: str = "digest") -> str:
    """Return ``digest`` if it is ``sha256:`` and 64 lower-case hex digits.

    Raises:
        ValueError: Naming ``field`` and the value otherwise.
    """
    if not isinstance(digest, str) or not _SHA256_RE.fullmatch(digest):
        raise ValueError(
            f"{field}: {digest!r} is not a digest; expected 'sha256:' and 64 lower-case hex digits"
        )
    return digest


@dataclass(frozen=True)
class Platform:
    """An image platform, as in ``linux/arm64/v8``."""

    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str, *, field: str = "platform") -> Platform:
        """Parse ``OS/ARCH[/VARIANT]``.

        Raises:
            ValueError: If ``text`` does not have that form.
        """
        parts = text.split("/") if isinstance(text, str) else []
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(
                f"{field}: {text!r} is not a platform; expected OS/ARCH[/VARIANT] such as linux/amd64"
            )
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def matches(self, other: Platform) -> bool:
        """Whether an index entry for ``other`` serves this platform (arm64's variant v8 is the default)."""
        if (self.os, self.architecture) != (other.os, other.architecture):
            return False
        mine, theirs = self.variant, other.variant
        if self.architecture == "arm64":
            mine, theirs = mine or "v8", theirs or "v8"
        return mine is None or mine == theirs

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor: what a manifest says about a blob or a child manifest."""

    media_type: str
    digest: str
    size: int
    platform: Platform | None = None

    @classmethod
    def from_json(cls, data: Any, *, where: str) -> Descriptor:
        """Read a descriptor object.

        Raises:
            ManifestError: If a required field is missing or malformed.
        """
        if not isinstance(data, dict):
            raise ManifestError(f"{where}: a descriptor must be an object")
        try:
            digest = check_digest(data.get("digest", ""), field=f"{where}.digest")
        except ValueError as exc:
            raise ManifestError(str(exc)) from None
        size = data.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ManifestError(f"{where}.size: {size!r} is not a non-negative integer")
        platform = None
        raw = data.get("platform")
        if isinstance(raw, dict) and raw.get("os") and raw.get("architecture"):
            platform = Platform(str(raw["os"]), str(raw["architecture"]), raw.get("variant") or None)
        return cls(str(data.get("mediaType") or ""), digest, size, platform)


@dataclass(frozen=True)
class Manifest:
    """A manifest or index: its exact bytes, media type and digest, plus what it references.

    Attributes:
        data: The bytes exactly as stored (the digest is over these).
        media_type: One of :data:`IMAGE_MEDIA_TYPES` or :data:`INDEX_MEDIA_TYPES`.
        digest: ``sha256:`` of ``data``.
        config: The config blob (image manifests only).
        layers: The layer blobs (image manifests only).
        manifests: The child manifests (indexes only).
    """

    data: bytes = field(repr=False)
    media_type: str
    digest: str
    config: Descriptor | None = None
    layers: tuple[Descriptor, ...] = ()
    manifests: tuple[Descriptor, ...] = ()

    @property
    def is_index(self) -> bool:
        """Whether this is an image index / manifest list."""
        return self.media_type in INDEX_MEDIA_TYPES

    @property
    def blobs(self) -> tuple[Descriptor, ...]:
        """Config and layers: every blob an image manifest needs."""
        return ((self.config,) if self.config else ()) + self.layers

    def select(self, platform: Platform) -> Descriptor:
        """The child manifest of an index for ``platform`` (the first match).

        Raises:
            ManifestError: If this is not an index or no child matches; the message
                lists the platforms it has.
        """
        if not self.is_index:
            raise ManifestError(f"{self.digest} is an image manifest, not an index")
        for child in self.manifests:
            if child.platform and platform.matches(child.platform):
                return child
        offered = ", ".join(str(c.platform) for c in self.manifests if c.platform) or "none"
        raise ManifestError(f"index {self.digest} has no manifest for {platform} (it has: {offered})")

    @classmethod
    def parse(cls, data: bytes, media_type: str | None = None) -> Manifest:
        """Parse manifest bytes; ``media_type`` (a Content-Type) wins over the body's ``mediaType``.

        Raises:
            ManifestError: For anything but an OCI/Docker v2 manifest or index.
        """
        digest = sha256_digest(data)
        try:
            document = load_untrusted(data, what=f"manifest {digest}", max_bytes=MAX_MANIFEST_BYTES)
        except UntrustedJSONError as error:
            raise ManifestError(str(error)) from None
        if not isinstance(document, dict):
            raise ManifestError(f"manifest {digest} is not a JSON object")
        declared = str(document.get("mediaType") or "")
        kind = (media_type or "").split(";")[0].strip() or declared
        if kind not in (*IMAGE_MEDIA_TYPES, *INDEX_MEDIA_TYPES):
            if not kind and "manifests" in document:
                kind = OCI_INDEX
            elif not kind and "layers" in document:
                kind = OCI_MANIFEST
            else:
                raise ManifestError(
                    f"manifest {digest} has unsupported media type {kind or 'none'!r}; "
                    f"supported: {MANIFEST_ACCEPT}"
                )
        if kind in INDEX_MEDIA_TYPES:
            children = document.get("manifests")
            if not isinstance(children, list):
                raise ManifestError(f"index {digest}: 'manifests' must be a list")
            found = tuple(
                Descriptor.from_json(c, where=f"index {digest} manifests[{i}]")
                for i, c in enumerate(children)
            )
            return cls(data, kind, digest, manifests=found)
        layers = document.get("layers")
        if not isinstance(layers, list):
            raise ManifestError(f"manifest {digest}: 'layers' must be a list")
        config = Descriptor.from_json(document.get("config"), where=f"manifest {digest} config")
        return cls(
            data,
            kind,
            digest,
            config=config,
            layers=tuple(
                Descriptor.from_json(d, where=f"manifest {digest} layers[{i}]") for i, d in enumerate(layers)
            ),
        )
