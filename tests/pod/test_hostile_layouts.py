"""A layout is the build's output, so push does not trust it: no read outside it, no read without end.

Each hostile layout below ends push with exit 1 (the same files fail every attempt), one clear line
naming the file, no request to the registry and no output file; before, a link out of the layout
had its target's bytes uploaded, a FIFO hung push past its --timeout, /dev/zero exhausted memory
and an index.json nested 100,000 deep was a RecursionError traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from hera_imagebuild.cli.main import main
from hera_imagebuild.common.failures import EXIT_FAILED
from hera_imagebuild.sandbox.faultproxy import FaultProxy
from hera_imagebuild.sandbox.images import OCIImage
from hera_imagebuild.sandbox.matrix import BadInputRecorder
from hera_imagebuild.sandbox.registry import Registry


def _layer(image: OCIImage) -> Path:
    return image.layout_dir / "blobs" / "sha256" / image.layer_digests[0].removeprefix("sha256:")


def _link_out(image: OCIImage, tmp_path: Path) -> str:
    outside = tmp_path / "outside-secret.txt"
    outside.write_bytes(b"x" * _layer(image).stat().st_size)  # the right size: only the link gives it away
    _layer(image).unlink()
    _layer(image).symlink_to(outside)
    return "leads outside the layout"


def _link_inside(image: OCIImage, tmp_path: Path) -> str:
    copy = image.layout_dir / "blobs" / "copy"
    copy.write_bytes(_layer(image).read_bytes())
    _layer(image).unlink()
    _layer(image).symlink_to(copy)
    return "a symbolic link; a layout's files must be regular files"


def _fifo(image: OCIImage, tmp_path: Path) -> str:
    _layer(image).unlink()
    os.mkfifo(_layer(image))
    return "not a regular file (a FIFO, device"


def _device(image: OCIImage, tmp_path: Path) -> str:
    _layer(image).unlink()
    _layer(image).symlink_to("/dev/zero")
    return "leads outside the layout"


def _huge_index(image: OCIImage, tmp_path: Path) -> str:
    with (image.layout_dir / "index.json").open("r+b") as index:
        index.truncate(5 * 1024 * 1024)  # sparse: no disk, but 5 MiB to read
    return "more than the 4194304 a manifest may have"


def _deep_index(image: OCIImage, tmp_path: Path) -> str:
    (image.layout_dir / "index.json").write_text("[" * 100_000 + "]" * 100_000)
    return "nested more than 64 levels deep"


HOSTILE = {
    "link out of the layout": _link_out,
    "link inside the layout": _link_inside,
    "FIFO as a layer": _fifo,
    "/dev/zero as a layer": _device,
    "5 MiB index.json": _huge_index,
    "index.json nested 100,000 deep": _deep_index,
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_layout_is_refused_before_anything_is_sent(
    name: str,
    tmp_path: Path,
    oci_image: Callable[..., OCIImage],
    plain_registry: Registry,
    fault_proxy: Callable[..., FaultProxy],
    capsys: pytest.CaptureFixture[str],
    bad_input: BadInputRecorder,
) -> None:
    image = oci_image(seed=f"hostile {name}", layer_sizes=(4096,))
    expected = HOSTILE[name](image, tmp_path)
    proxy = fault_proxy(plain_registry)
    out = tmp_path / "out"
    argv = [
        "push",
        f"--image={image.layout_dir}",
        f"--destination={proxy.host}/hostile/app:1",
        f"--insecure-registry={proxy.host}",
        f"--output-dir={out}",
        "--timeout=20",
    ]
    code = main(argv)
    captured = capsys.readouterr()
    last = captured.err.strip().splitlines()[-1]
    assert code == EXIT_FAILED, captured.err
    assert last.startswith("push failed: ")
    assert expected in last
    assert "Traceback" not in captured.err
    assert proxy.requests == []
    assert not out.exists()
    bad_input.record(area="OCI layout", given=name, error=last)
