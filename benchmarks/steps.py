"""Running our pod steps the way a pod does: a fresh ``hera-imagebuild`` process per attempt.

Command lines come from :mod:`hera_imagebuild.common.contract`, the same
definitions the rendered templates use, so a benchmark times what a pod runs.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hera_imagebuild.common.contract import PrefetchArgs, PrefetchOutputs, StepArgs
from hera_imagebuild.sandbox.process import run_checked
from hera_imagebuild.sandbox.registry import Registry


def hera_imagebuild_argv(*args: str) -> list[str]:
    """The argv that runs this checkout's ``hera-imagebuild`` in a fresh interpreter."""
    return [sys.executable, "-m", "hera_imagebuild.cli.main", *args]


def run_step(args: StepArgs, timeout: float = 300.0) -> None:
    """Run a step to success (a failure raises, with the step's stderr: its time would mean nothing)."""
    run_checked(hera_imagebuild_argv(*args.to_argv()), timeout=timeout)


@dataclass(frozen=True)
class PrefetchRun:
    """What one prefetch run left in its output directory."""

    base_images: list[dict[str, Any]]
    report: dict[str, Any]
    pinned_dockerfile: Path


def prefetch(args: PrefetchArgs, timeout: float = 300.0) -> PrefetchRun:
    """Run the prefetch step and read its outputs."""
    run_step(args, timeout)
    out = Path(args.output_dir)
    return PrefetchRun(
        base_images=json.loads((out / PrefetchOutputs.BASE_IMAGES).read_text()),
        report=json.loads((out / PrefetchOutputs.REPORT).read_text()),
        pinned_dockerfile=out / PrefetchOutputs.DOCKERFILE,
    )


def stored_blobs(registry: Registry) -> set[str]:
    """The ``sha256:...`` digests of every blob in a registry's storage (its filesystem driver)."""
    root = registry.storage_dir / "docker" / "registry" / "v2" / "blobs" / "sha256"
    return {f"sha256:{path.parent.name}" for path in root.glob("*/*/data")}
