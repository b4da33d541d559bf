"""Helpers for the prefetch tests: seeded base images, running the step in-process, reading its outputs."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hera_imagebuild.cli.main import main
from hera_imagebuild.common.contract import PrefetchOutputs
from hera_imagebuild.sandbox.images import OCIImage, write_image
from hera_imagebuild.sandbox.registry import Registry
from hera_imagebuild.sandbox.skopeo import Skopeo

BASE_REPOSITORIES = ("base/a", "base/b", "base/c")
MULTI_REPOSITORY = "base/multi"
TAG = "1"


@dataclass(frozen=True)
class Seeded:
    """Base images pushed to a registry: three single-platform images and one amd64+arm64 index."""

    registry: Registry
    images: dict[str, OCIImage]
    """repository -> image (each pushed with tag :data:`TAG`)."""

    def ref(self, repository: str, host: str | None = None) -> str:
        """``HOST/repository:1`` (``host`` defaults to the registry's own)."""
        return f"{host or self.registry.host}/{repository}:{TAG}"

    def digest(self, repository: str, platform: str = "linux/amd64") -> str:
        """The platform manifest digest of a seeded image."""
        return self.images[repository].manifest_digests[platform]


def seed(registry: Registry, skopeo: Skopeo, workdir: Path, *, prefix: str = "") -> Seeded:
    """Push the test base images to ``registry`` (under ``prefix/`` if given)."""
    images: dict[str, OCIImage] = {}
    for repository in BASE_REPOSITORIES:
        images[repository] = write_image(workdir / repository.replace("/", "-"), seed=repository, tag=TAG)
    images[MULTI_REPOSITORY] = write_image(
        workdir / "multi", seed="multi", platforms=("linux/amd64", "linux/arm64"), tag=TAG
    )
    for repository, image in images.items():
        skopeo.push(image, registry, f"{prefix}/{repository}" if prefix else repository, TAG)
    return Seeded(registry, images)


@dataclass
class PrefetchRun:
    """What one ``hera-imagebuild prefetch`` run left behind."""

    code: int
    err: str
    seconds: float
    output_dir: Path
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def last_line(self) -> str:
        """The final line on stderr (the one that also goes to the termination log)."""
        lines = self.err.strip().splitlines()
        return lines[-1] if lines else ""

    def output(self, name: str) -> str:
        """The text of an output file."""
        return (self.output_dir / name).read_text()

    @property
    def registry_map(self) -> str:
        """The ``--registry-map`` value written."""
        return self.output(PrefetchOutputs.REGISTRY_MAP)

    @property
    def dockerfile(self) -> str:
        """The pinned Dockerfile written."""
        return self.output(PrefetchOutputs.DOCKERFILE)

    def image(self, original: str) -> dict[str, Any]:
        """The report entry of one image (by its normalised original reference)."""
        entries: list[dict[str, Any]] = self.report["images"]
        return next(e for e in entries if e["original"] == original)

    def outcomes(self, original: str) -> list[tuple[str, str]]:
        """``(source, outcome)`` for each source tried for an image, in order."""
        return [(s["source"], s["outcome"]) for s in self.image(original)["sources"]]


def run_prefetch(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, dockerfile: str, *args: str
) -> PrefetchRun:
    """Write ``dockerfile`` and run ``hera-imagebuild prefetch`` on it in this process."""
    workdir = Path(tmp_path)
    index = len(list(workdir.glob("run-*")))
    run_dir = workdir / f"run-{index}"
    run_dir.mkdir(parents=True)
    (run_dir / "Dockerfile").write_text(dockerfile)
    output_dir = run_dir / "out"
    capsys.readouterr()
    started = time.monotonic()
    try:
        code = main(
            ["prefetch", f"--dockerfile={run_dir / 'Dockerfile'}", f"--output-dir={output_dir}", *args]
        )
    except SystemExit as exit_:  # argparse rejects unknown or malformed flags this way
        code = int(exit_.code or 0)
    seconds = time.monotonic() - started
    run = PrefetchRun(code, capsys.readouterr().err, seconds, output_dir)
    report_path = output_dir / PrefetchOutputs.REPORT
    if report_path.exists():
        run.report = json.loads(report_path.read_text())
    return run
