"""Reading OCI image layouts (what kaniko --oci-layout-path writes): structure and digests checked."""

from __future__ import annotations

import asyncio
import json

import pytest

from hera_imagebuild.pod.oci_layout import OciLayout, OciLayoutError
from hera_imagebuild.pod.registry import RegistryError
from hera_imagebuild.pod.registry.manifest import OCI_INDEX


def _blob(layout: OciLayout, digest: str):
    return layout.blob_path(digest)


def test_reads_image_and_checks_every_blob(oci_image):
    image = oci_image(seed="layout-single", layer_sizes=(100, 200))
    layout = OciLayout.open(image.layout_dir)
    top = layout.image()
    assert top.digest == image.digest
    (manifest,) = layout.check(top)
    assert manifest.digest == image.digest
    assert [layer.digest for layer in manifest.layers] == list(image.layer_digests)


def test_index_layout_checks_children(oci_image):
    image = oci_image(seed="layout-index", platforms=("linux/amd64", "linux/arm64"))
    layout = OciLayout.open(image.layout_dir)
    manifests = layout.check(layout.image())
    assert manifests[0].media_type == OCI_INDEX
    assert {m.digest for m in manifests[1:]} == set(image.manifest_digests.values())


def test_missing_layer_is_named(oci_image):
    image = oci_image(seed="layout-missing")
    layout = OciLayout.open(image.layout_dir)
    _blob(layout, image.layer_digests[0]).unlink()
    with pytest.raises(OciLayoutError, match=f"blob {image.layer_digests[0]} .* is missing"):
        layout.check(layout.image())


def test_altered_manifest_is_rejected(oci_image):
    image = oci_image(seed="layout-altered")
    layout = OciLayout.open(image.layout_dir)
    path = _blob(layout, image.digest)
    path.write_bytes(path.read_bytes().replace(b"{", b"{ ", 1))
    with pytest.raises(OciLayoutError, match="content does not match its descriptor"):
        layout.check(layout.image())


def test_corrupt_layer_is_caught_while_streaming(oci_image):
    image = oci_image(seed="layout-corrupt", layer_sizes=(5000,))
    layout = OciLayout.open(image.layout_dir)
    (manifest,) = layout.check(layout.image())
    layer = manifest.layers[0]
    data = bytearray(_blob(layout, layer.digest).read_bytes())
    data[-1] ^= 0xFF  # same size, other content: only hashing notices
    _blob(layout, layer.digest).write_bytes(bytes(data))

    async def read_all() -> None:
        async for _ in layout.open_blob(layer):
            pass

    with pytest.raises(RegistryError, match="does not match its digest") as caught:
        asyncio.run(read_all())
    assert not caught.value.transient


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "oci-layout").unlink(), "oci-layout is missing"),
        (lambda d: (d / "oci-layout").write_text("[]"), "expected an object with 'imageLayoutVersion'"),
        (
            lambda d: (d / "index.json").write_text('{"manifests": 3}'),
            "expected an object with a 'manifests' list",
        ),
        (
            lambda d: (d / "index.json").write_text(
                json.dumps({"manifests": [{"digest": "sha256:12", "size": 1}]})
            ),
            "is not a digest",
        ),
    ],
)
def test_malformed_layouts(oci_image, damage, message):
    image = oci_image(seed="layout-malformed")
    damage(image.layout_dir)
    with pytest.raises(OciLayoutError, match=message):
        OciLayout.open(image.layout_dir)


def test_push_needs_exactly_one_image(oci_image):
    image = oci_image(seed="layout-two")
    index = json.loads((image.layout_dir / "index.json").read_text())
    index["manifests"] *= 2
    (image.layout_dir / "index.json").write_text(json.dumps(index))
    with pytest.raises(OciLayoutError, match="lists 2 images; push needs exactly one"):
        OciLayout.open(image.layout_dir).image()
