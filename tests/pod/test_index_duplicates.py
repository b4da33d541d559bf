"""An index that names the same child many times costs one copy of the child, not one per mention.

Indexes nest, so a hostile index with k entries of one child at each of d levels was fetched k^d
times (1121 GETs for 3 distinct manifests in the attack run); push and the layout check now handle
each distinct manifest once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from hera_imagebuild.cli.main import main
from hera_imagebuild.sandbox.faultproxy import FaultProxy
from hera_imagebuild.sandbox.images import INDEX_MEDIA_TYPE, OCIImage
from hera_imagebuild.sandbox.registry import Registry

COPIES = 4
LEVELS = 3


def _write_blob(layout: Path, document: dict[str, object]) -> dict[str, object]:
    data = json.dumps(document).encode()
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"mediaType": INDEX_MEDIA_TYPE, "digest": f"sha256:{digest}", "size": len(data)}


def _nest_duplicates(image: OCIImage) -> tuple[str, set[str]]:
    """Wrap the image's index in LEVELS more indexes, each naming the one below COPIES times."""
    layout = image.layout_dir
    top = json.loads((layout / "index.json").read_text())["manifests"][0]
    top.pop("annotations", None)
    distinct = {top["digest"]}
    for _ in range(LEVELS):
        top = _write_blob(
            layout, {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": [top] * COPIES}
        )
        distinct.add(str(top["digest"]))
    index = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": [top]}
    (layout / "index.json").write_text(json.dumps(index))
    return str(top["digest"]), distinct


@pytest.mark.timeout(120)
def test_push_copies_each_distinct_manifest_once(
    tmp_path: Path,
    oci_image: Callable[..., OCIImage],
    plain_registry: Registry,
    fault_proxy: Callable[..., FaultProxy],
    capsys: pytest.CaptureFixture[str],
) -> None:
    image = oci_image(seed="duplicates", platforms=("linux/amd64", "linux/arm64"), layer_sizes=(512,))
    top, wrappers = _nest_duplicates(image)
    proxy = fault_proxy(plain_registry)
    code = main(
        [
            "push",
            f"--image={image.layout_dir}",
            f"--destination={proxy.host}/dup/app:1",
            f"--insecure-registry={proxy.host}",
            f"--expected-digest={top}",
            f"--output-dir={tmp_path / 'out'}",
        ]
    )
    assert code == 0, capsys.readouterr().err
    puts = [
        r.path.rsplit("/", 1)[-1] for r in proxy.requests if r.method == "PUT" and "/manifests/" in r.path
    ]
    distinct = wrappers | set(image.manifest_digests.values())
    # Every distinct manifest once (the top one under its tag), never once per mention: 4^3 = 64 otherwise.
    assert len(puts) == len(distinct), puts
    assert (tmp_path / "out" / "digest").read_text() == top
