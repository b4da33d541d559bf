"""``hera-imagebuild demo`` end to end: real registries, real prefetch, a real buildah build, real push.

No assertion here is about time (the machine is shared and noisy): the demo's speed is measured by
the benchmarks. What is asserted is what happened: which mirror answered, what was pinned, what was
pushed where, and what the built image prints when it runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from real_builds import needs_buildah

from hera_imagebuild.cli.main import main
from hera_imagebuild.common.failures import EXIT_USAGE
from hera_imagebuild.sandbox.images import write_shell_image
from hera_imagebuild.sandbox.matrix import BadInputRecorder
from hera_imagebuild.sandbox.process import live_resources
from hera_imagebuild.sandbox.seeds import SHELL_IMAGES

PROBE_TIMEOUT = 0.5


@needs_buildah
@pytest.mark.timeout(120)
def test_demo_builds_runs_and_pushes_through_a_broken_mirror(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    workdir = tmp_path / "demo"
    running_before = live_resources()  # session fixtures may be running
    code = main(["demo", f"--workdir={workdir}", f"--probe-timeout={PROBE_TIMEOUT}"])
    output = capsys.readouterr().out
    assert code == 0, output
    assert live_resources() == running_before

    report = json.loads((workdir / "outputs" / "report.json").read_text())
    prefetch = report["prefetch"]
    expected = {
        f"docker.io/{name}": write_shell_image(tmp_path / name.replace("/", "_"), release=release).digest
        for name, release in SHELL_IMAGES.items()
    }
    assert {image["original"]: image["digest"] for image in prefetch["images"]} == expected
    for image in prefetch["images"]:
        broken, healthy = image["sources"]
        assert (broken["outcome"], healthy["outcome"]) == ("failed", "chosen")
        assert "no answer within the probe timeout" in broken["error"]
        assert image["cache"]["outcome"] == "copied"
    assert prefetch["builder"] == "buildah"

    refs = json.loads((workdir / "outputs" / "image-refs.json").read_text())
    digest = (workdir / "outputs" / "digest").read_text().strip()
    assert len(refs) == 2
    assert all(ref.endswith(f"/demo/app@{digest}") for ref in refs)
    assert report["push"]["digest"] == digest
    # The image ran: the RUN steps' output, the build arg that chose the runtime base.
    assert "  | Hello from a real build, by hera-imagebuild" in output
    assert "  | This line was copied from the build context" in output
    assert "  | runtime base release: 1.37" in output
    password = json.loads((workdir / "docker" / "config.json").read_text())
    assert password["auths"]  # the generated secret exists but is never printed:
    assert next(iter(password["auths"].values()))["auth"] not in output


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--context=/no/such/dir"], "--context: '/no/such/dir' holds no Dockerfile"),
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


@needs_buildah
@pytest.mark.timeout(60)
def test_demo_with_a_dockerfile_prefetch_cannot_parse_ends_with_its_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Prefetch fails before the build: the demo says so, with no traceback, and stops all."""
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM\n")
    running_before = live_resources()
    code = main(["demo", f"--context={context}", f"--workdir={tmp_path / 'work'}"])
    captured = capsys.readouterr()
    assert code == 1
    assert "prefetch failed: " in captured.out
    assert "(exit 1)" in captured.out
    assert "Traceback" not in captured.out + captured.err
    assert live_resources() == running_before
