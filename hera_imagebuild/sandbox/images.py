"""OCI image layouts written without Docker, byte-for-byte deterministic from a seed.

:func:`write_image` writes an OCI image layout directory (``oci-layout``,
``index.json``, ``blobs/sha256/...``) holding either one image manifest or,
for several platforms, an image index of per-platform manifests. Layers are
gzip tarballs of generated files: the same seed and sizes always give the same
digests, a different seed gives different ones. ``incompressible=True`` fills
layers with pseudo-random bytes so a 30 MB layer stays 30 MB on the wire
(benchmarks); otherwise the data is text and compresses well (fast tests).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "CONFIG_MEDIA_TYPE",
    "INDEX_MEDIA_TYPE",
    "LAYER_MEDIA_TYPE",
    "MANIFEST_MEDIA_TYPE",
    "OCIImage",
    "write_image",
    "write_shell_image",
]

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
_REF_NAME = "org.opencontainers.image.ref.name"
_EPOCH = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class OCIImage:
    """An image written to an OCI layout directory."""

    layout_dir: Path
    tag: str
    """The layout's reference name (``oci:DIR:TAG`` for skopeo)."""
    digest: str
    """Digest of the top-level manifest: the image index for multi-platform images."""
    media_type: str
    manifest_digests: dict[str, str]
    """Platform (``linux/amd64``) -> digest of that platform's image manifest."""
    layer_digests: tuple[str, ...]
    """Every layer blob, of every platform, in manifest order."""
    size: int
    """Total bytes of all blobs (manifests, configs, layers)."""

    @property
    def is_index(self) -> bool:
        """Whether the top-level manifest is an image index."""
        return self.media_type == INDEX_MEDIA_TYPE

    @property
    def oci_ref(self) -> str:
        """The skopeo source reference ``oci:DIR:TAG``."""
        return f"oci:{self.layout_dir}:{self.tag}"


class _BlobWriter:
    """Writes content-addressed blobs into a layout and remembers their total size."""

    def __init__(self, layout_dir: Path) -> None:
        self.blob_dir = layout_dir / "blobs" / "sha256"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.total = 0

    def write(self, data: bytes, media_type: str) -> dict[str, Any]:
        digest = hashlib.sha256(data).hexdigest()
        (self.blob_dir / digest).write_bytes(data)
        self.total += len(data)
        return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}

    def write_json(self, document: dict[str, Any], media_type: str) -> dict[str, Any]:
        return self.write(_canonical_json(document), media_type)


def _canonical_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _layer_content(seed: str, size: int, incompressible: bool) -> bytes:
    if incompressible:
        return random.Random(seed).randbytes(size)
    line = f"hera-imagebuild sandbox layer {seed}\n".encode()
    return (line * (size // len(line) + 1))[:size]


def _layer_tar(seed: str, size: int, incompressible: bool) -> bytes:
    """An uncompressed tar with one file, with fixed metadata so its bytes depend only on the inputs."""
    content = _layer_content(seed, size, incompressible)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(f"sandbox/{hashlib.sha256(seed.encode()).hexdigest()[:16]}.dat")
        info.size = len(content)
        info.mode = 0o644
        info.mtime = 0
        info.uname = info.gname = "root"
        tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _gzip(data: bytes, level: int) -> bytes:
    buffer = io.BytesIO()
    # mtime=0 and no file name keep the gzip header deterministic.
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=level, mtime=0, filename="") as stream:
        stream.write(data)
    return buffer.getvalue()


def _platform_manifest(
    blobs: _BlobWriter, *, seed: str, platform: str, layer_sizes: Sequence[int], incompressible: bool
) -> tuple[dict[str, Any], list[str]]:
    os_name, _, architecture = platform.partition("/")
    layers: list[dict[str, Any]] = []
    diff_ids: list[str] = []
    for number, size in enumerate(layer_sizes):
        tar = _layer_tar(f"{seed}/{platform}/{number}", size, incompressible)
        diff_ids.append(f"sha256:{hashlib.sha256(tar).hexdigest()}")
        layers.append(blobs.write(_gzip(tar, 1 if incompressible else 6), LAYER_MEDIA_TYPE))
    config = {
        "architecture": architecture,
        "os": os_name,
        "created": _EPOCH,
        "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Labels": {"sandbox.seed": seed}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": _EPOCH, "created_by": f"sandbox layer {n}"} for n in range(len(layer_sizes))],
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": blobs.write_json(config, CONFIG_MEDIA_TYPE),
        "layers": layers,
    }
    descriptor = blobs.write_json(manifest, MANIFEST_MEDIA_TYPE)
    return descriptor, [layer["digest"] for layer in layers]


def _check_inputs(platforms: Sequence[str], layer_sizes: Sequence[int], tag: str) -> None:
    if not platforms:
        raise ValueError("platforms: give at least one OS/ARCH, e.g. linux/amd64")
    for platform in platforms:
        os_name, slash, architecture = platform.partition("/")
        if not (os_name and slash and architecture) or "/" in architecture:
            raise ValueError(f"platforms: {platform!r} is not OS/ARCH (e.g. linux/amd64)")
    if len(set(platforms)) != len(platforms):
        raise ValueError(f"platforms: {list(platforms)} lists a platform twice")
    if any(size < 0 for size in layer_sizes):
        raise ValueError(f"layer_sizes: {list(layer_sizes)} has a negative size")
    if not tag or ":" in tag or "/" in tag:
        raise ValueError(f"tag: {tag!r} must be a non-empty tag without ':' or '/'")


def _finish_layout(
    layout_dir: Path,
    blobs: _BlobWriter,
    top: dict[str, Any],
    *,
    tag: str,
    manifest_digests: dict[str, str],
    layers: Sequence[str],
) -> OCIImage:
    """Write ``oci-layout`` and ``index.json`` naming ``top`` as ``tag``."""
    (layout_dir / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    layout_index = {
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA_TYPE,
        "manifests": [top | {"annotations": {_REF_NAME: tag}}],
    }
    (layout_dir / "index.json").write_text(json.dumps(layout_index, indent=2))
    return OCIImage(
        layout_dir=layout_dir,
        tag=tag,
        digest=top["digest"],
        media_type=top["mediaType"],
        manifest_digests=manifest_digests,
        layer_digests=tuple(layers),
        size=blobs.total,
    )


def write_image(
    layout_dir: Path,
    *,
    seed: str,
    layer_sizes: Sequence[int] = (4096,),
    platforms: Sequence[str] = ("linux/amd64",),
    index: bool | None = None,
    incompressible: bool = False,
    tag: str = "latest",
) -> OCIImage:
    """Write a deterministic image into an OCI layout directory.

    Args:
        layout_dir: The layout directory (created; must not already hold a layout).
        seed: Any string; the same seed and arguments give the same bytes and digests.
        layer_sizes: Uncompressed size in bytes of each layer's one file.
        platforms: ``OS/ARCH`` values; each gets its own layers and config.
        index: Wrap the manifests in an image index. Default: only for several platforms.
        incompressible: Fill layers with pseudo-random bytes instead of text.
        tag: The reference name in ``index.json``.

    Raises:
        ValueError: If a platform, size or tag is malformed, or the directory already holds a layout.
    """
    _check_inputs(platforms, layer_sizes, tag)
    if (layout_dir / "index.json").exists():
        raise ValueError(f"layout_dir: {layout_dir} already holds an OCI layout")
    blobs = _BlobWriter(layout_dir)
    manifests: dict[str, dict[str, Any]] = {}
    layer_digests: list[str] = []
    for platform in platforms:
        descriptor, layers = _platform_manifest(
            blobs, seed=seed, platform=platform, layer_sizes=layer_sizes, incompressible=incompressible
        )
        manifests[platform] = descriptor
        layer_digests.extend(layers)
    if index is None:
        index = len(platforms) > 1
    if index:
        entries = []
        for platform, descriptor in manifests.items():
            os_name, _, architecture = platform.partition("/")
            entries.append(descriptor | {"platform": {"architecture": architecture, "os": os_name}})
        top = blobs.write_json(
            {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": entries}, INDEX_MEDIA_TYPE
        )
    elif len(manifests) == 1:
        top = next(iter(manifests.values()))
    else:
        raise ValueError(f"index: False needs exactly one platform, got {list(platforms)}")
    digests = {platform: d["digest"] for platform, d in manifests.items()}
    return _finish_layout(layout_dir, blobs, top, tag=tag, manifest_digests=digests, layers=layer_digests)


BUSYBOX = Path("/bin/busybox")
"""Debian's busybox-static: one static binary that is a whole shell userland."""
_BUSYBOX_APPLETS = (
    "sh", "cat", "echo", "printf", "ls", "mkdir", "cp", "mv", "rm", "env", "id", "test", "true", "false",
    "sleep", "wc", "grep", "sed", "tr", "head", "tail", "uname", "date", "chmod", "touch", "sha256sum",
)  # fmt: skip


def _shell_layer(release: str) -> bytes:
    """A tar with ``/bin/busybox``, its applets as symlinks, ``/tmp`` and an ``/etc/os-release``."""
    try:
        busybox = BUSYBOX.read_bytes()
    except OSError as error:
        raise ValueError(
            f"{BUSYBOX}: cannot read it ({error.strerror}); install Debian's busybox-static"
        ) from None
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add(name: str, kind: bytes, mode: int, data: bytes = b"", link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime, info.linkname, info.size = kind, mode, 0, link, len(data)
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data) if data else None)

        for directory, mode in (("bin", 0o755), ("etc", 0o755), ("tmp", 0o1777), ("root", 0o700)):
            add(directory, tarfile.DIRTYPE, mode)
        add("bin/busybox", tarfile.REGTYPE, 0o755, busybox)
        for applet in _BUSYBOX_APPLETS:
            add(f"bin/{applet}", tarfile.SYMTYPE, 0o777, link="busybox")
        add("etc/os-release", tarfile.REGTYPE, 0o644, f"NAME=busybox\nVERSION_ID={release}\n".encode())
    return buffer.getvalue()


def write_shell_image(layout_dir: Path, *, release: str, tag: str = "latest") -> OCIImage:
    """Write a linux/amd64 base image with a real shell (busybox) into an OCI layout.

    Its RUN lines really execute under a builder; ``release`` goes into
    ``/etc/os-release`` (and so into the digest), so stand-ins for two tags differ.

    Raises:
        ValueError: If busybox-static is not installed, or the directory already holds a layout.
    """
    _check_inputs(("linux/amd64",), (), tag)
    if (layout_dir / "index.json").exists():
        raise ValueError(f"layout_dir: {layout_dir} already holds an OCI layout")
    blobs = _BlobWriter(layout_dir)
    tar = _shell_layer(release)
    layer = blobs.write(_gzip(tar, 6), LAYER_MEDIA_TYPE)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": _EPOCH,
        "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"], "Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(tar).hexdigest()}"]},
        "history": [{"created": _EPOCH, "created_by": f"busybox-static as release {release}"}],
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": blobs.write_json(config, CONFIG_MEDIA_TYPE),
        "layers": [layer],
    }
    top = blobs.write_json(manifest, MANIFEST_MEDIA_TYPE)
    digests = {"linux/amd64": top["digest"]}
    return _finish_layout(layout_dir, blobs, top, tag=tag, manifest_digests=digests, layers=[layer["digest"]])
