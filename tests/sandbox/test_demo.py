"""``hera-imagebuild demo`` end to end: real registries, the real prefetch and push steps."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from hera_imagebuild.cli.main import main
from hera_imagebuild.common.failures import EXIT_USAGE
from hera_imagebuild.sandbox.images import write_image
from hera_imagebuild.sandbox.matrix import BadInputRecorder
from hera_imagebuild.sandbox.process import live_resources
from hera_imagebuild.sandbox.seeds import BASE_IMAGES

PROBE_TIMEOUT = 0.5


def _expected_amd64_digests(tmp_path: Path) -> dict[str, str]:
    digests = {}
    for number, spec in enumerate(BASE_IMAGES):
        image = write_image(
            tmp_path / f"expected-{number}",
            seed=spec.name,
            layer_sizes=spec.layer_sizes,
            platforms=spec.platforms,
            tag=spec.tag,
        )
        digests[f"docker.io/{spec.name}"] = image.manifest_digests["linux/amd64"]
    return digests


@pytest.mark.timeout(60)
def test_demo_prefetches_through_a_broken_mirror_and_pushes_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workdir = tmp_path / "demo"
    running_before = live_resources()  # session fixtures may be running
    started = time.monotonic()
    code = main(["demo", f"--workdir={workdir}", f"--probe-timeout={PROBE_TIMEOUT}"])
    elapsed = time.monotonic() - started
    output = capsys.readouterr().out
    assert code == 0, output
    assert elapsed < 20
    assert live_resources() == running_before

    report = json.loads((workdir / "prefetch-out" / "report.json").read_text())
    expected = _expected_amd64_digests(tmp_path)
    pinned = {image["original"]: image["digest"] for image in report["images"]}
    assert pinned == {
        "docker.io/library/golang:1.23-alpine": expected["docker.io/library/golang:1.23-alpine"],
        "docker.io/library/python:3.13-slim": expected["docker.io/library/python:3.13-slim"],  # build arg won
        "docker.io/library/busybox:1.36": expected["docker.io/library/busybox:1.36"],
    }
    for image in report["images"]:
        broken, healthy = image["sources"]
        assert broken["outcome"] == "failed"
        assert PROBE_TIMEOUT * 1000 * 0.9 <= broken["ms"] < PROBE_TIMEOUT * 1000 * 3
        assert healthy["outcome"] == "chosen"
        assert image["cache"]["outcome"] == "copied"
    # One probe window for all three images, not one per image.
    assert report["seconds"] < 3 * PROBE_TIMEOUT

    refs = json.loads((workdir / "push-out" / "image-refs.json").read_text())
    digest = (workdir / "push-out" / "digest").read_text().strip()
    assert len(refs) == 2
    assert all(ref.endswith(f"/demo/app@{digest}") for ref in refs)
    for ref in refs:
        assert ref in output
    assert "Prefetch report" in output
    assert "Everything stopped" in output
    password = json.loads((workdir / "docker" / "config.json").read_text())
    assert password["auths"]  # the generated secret exists but is never printed:
    assert next(iter(password["auths"].values()))["auth"] not in output


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dockerfile=/no/such/Dockerfile"], "--dockerfile: '/no/such/Dockerfile' is not a file"),
        (["--probe-timeout=0"], "--probe-timeout: 0.0 must be > 0 and <= 60 seconds"),
    ],
)
def test_demo_bad_input_is_one_clear_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], bad_input: BadInputRecorder
) -> None:
    assert main(["demo", *argv]) == EXIT_USAGE
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"hera-imagebuild demo: {message}")
    assert "\n" not in error
    bad_input.record(area="CLI", given="hera-imagebuild demo " + " ".join(argv), error=error)


def test_demo_refuses_a_non_empty_workdir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "something").write_text("x")
    assert main(["demo", f"--workdir={tmp_path}"]) == EXIT_USAGE
    assert "exists and is not empty" in capsys.readouterr().err


@pytest.mark.timeout(60)
def test_demo_with_a_dockerfile_prefetch_cannot_parse_ends_with_its_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Prefetch fails before writing report.json: the demo says so, with no traceback, and stops all."""
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM\n")
    running_before = live_resources()
    code = main(["demo", f"--dockerfile={dockerfile}", f"--workdir={tmp_path / 'work'}"])
    captured = capsys.readouterr()
    assert code == 1
    assert "prefetch failed (exit 1)" in captured.out
    assert captured.err.strip().splitlines()[-1].startswith("prefetch failed: ")
    assert live_resources() == running_before
