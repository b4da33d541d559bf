"""Images written without Docker: deterministic, valid OCI, and served as written once pushed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from hera_imagebuild.sandbox.images import INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, OCIImage, write_image
from hera_imagebuild.sandbox.registry import Registry
from hera_imagebuild.sandbox.skopeo import Skopeo


def test_same_seed_same_digests_other_seed_other_digests(tmp_path: Path) -> None:
    first = write_image(
        tmp_path / "a", seed="s1", layer_sizes=(1000, 2000), platforms=("linux/amd64", "linux/arm64")
    )
    again = write_image(
        tmp_path / "b", seed="s1", layer_sizes=(1000, 2000), platforms=("linux/amd64", "linux/arm64")
    )
    other = write_image(
        tmp_path / "c", seed="s2", layer_sizes=(1000, 2000), platforms=("linux/amd64", "linux/arm64")
    )
    assert first.digest == again.digest
    assert first.manifest_digests == again.manifest_digests
    assert first.layer_digests == again.layer_digests
    assert other.digest != first.digest
    assert not set(other.layer_digests) & set(first.layer_digests)


def test_layout_blobs_match_their_digests_and_sizes(oci_image: Callable[..., OCIImage]) -> None:
    image = oci_image(seed="layout", layer_sizes=(10, 5000), platforms=("linux/amd64", "linux/arm64"))
    blob_dir = image.layout_dir / "blobs" / "sha256"
    for blob in blob_dir.iterdir():
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name
    index = json.loads((image.layout_dir / "index.json").read_text())
    (entry,) = index["manifests"]
    assert entry["digest"] == image.digest
    assert entry["annotations"]["org.opencontainers.image.ref.name"] == "latest"
    top = json.loads((blob_dir / image.digest.removeprefix("sha256:")).read_bytes())
    assert top["mediaType"] == INDEX_MEDIA_TYPE
    platforms = {
        f"{m['platform']['os']}/{m['platform']['architecture']}": m["digest"] for m in top["manifests"]
    }
    assert platforms == image.manifest_digests
    for digest in image.manifest_digests.values():
        manifest = json.loads((blob_dir / digest.removeprefix("sha256:")).read_bytes())
        assert manifest["mediaType"] == MANIFEST_MEDIA_TYPE
        for layer in manifest["layers"]:
            assert (blob_dir / layer["digest"].removeprefix("sha256:")).stat().st_size == layer["size"]


def test_incompressible_layers_stay_large(oci_image: Callable[..., OCIImage]) -> None:
    small = oci_image(seed="z", layer_sizes=(200_000,))
    large = oci_image(seed="z", layer_sizes=(200_000,), incompressible=True)
    assert small.size < 20_000
    assert large.size > 200_000


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"platforms": ()}, "platforms: give at least one"),
        ({"platforms": ("amd64",)}, "platforms: 'amd64' is not OS/ARCH"),
        ({"platforms": ("linux/amd64", "linux/amd64")}, "lists a platform twice"),
        ({"layer_sizes": (-1,)}, "layer_sizes"),
        ({"tag": "a:b"}, "tag: 'a:b'"),
        ({"platforms": ("linux/amd64", "linux/arm64"), "index": False}, "index: False needs exactly one"),
    ],
)
def test_bad_arguments_are_named(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        write_image(tmp_path / "x", seed="bad", **kwargs)  # type: ignore[arg-type]


def test_pushed_index_is_served_byte_for_byte(
    oci_image: Callable[..., OCIImage], plain_registry: Registry, skopeo: Skopeo
) -> None:
    image = oci_image(seed="pushed-index", platforms=("linux/amd64", "linux/arm64"))
    ref = skopeo.push(image, plain_registry, "sandbox/index", "v1")
    raw = skopeo.inspect(ref, registry=plain_registry, raw=True)
    assert raw["mediaType"] == INDEX_MEDIA_TYPE
    served = skopeo.inspect(ref, registry=plain_registry)
    assert served["Digest"] == image.digest
    arm = skopeo.inspect(
        f"{plain_registry.host}/sandbox/index@{image.manifest_digests['linux/arm64']}",
        registry=plain_registry,
    )
    assert arm["Architecture"] == "arm64"
    assert arm["Layers"] == [image.layer_digests[1]]


def test_skopeo_blob_cache_stays_in_its_workdir(
    oci_image: Callable[..., OCIImage], plain_registry: Registry, tmp_path: Path
) -> None:
    system_cache = Path("/var/lib/containers/cache/blob-info-cache-v1.boltdb")
    before = system_cache.stat().st_mtime_ns if system_cache.exists() else None
    private = Skopeo(tmp_path / "skopeo")
    private.push(oci_image(seed="cache-isolation"), plain_registry, "sandbox/cache-isolation")
    assert list(private.blob_info_cache_dir.glob("blob-info-cache-v1.*")), "skopeo wrote no private cache"
    after = system_cache.stat().st_mtime_ns if system_cache.exists() else None
    assert after == before, "skopeo touched the system blob-info cache"


def test_seeded_base_images_are_served_with_their_platforms(
    plain_registry: Registry, seeded_images: dict[str, OCIImage], skopeo: Skopeo
) -> None:
    python = seeded_images["library/python:3.12-slim"]
    index = skopeo.inspect(
        f"{plain_registry.host}/library/python:3.12-slim", registry=plain_registry, raw=True
    )
    assert index["mediaType"] == INDEX_MEDIA_TYPE
    assert {m["digest"] for m in index["manifests"]} == set(python.manifest_digests.values())
    busybox = seeded_images["library/busybox:1.36"]
    assert not busybox.is_index
    served = skopeo.inspect(f"{plain_registry.host}/library/busybox:1.36", registry=plain_registry)
    assert served["Digest"] == busybox.digest
