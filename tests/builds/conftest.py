"""Fixtures for the suites that build images for real: a Docker Hub stand-in with shell base images."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hera_imagebuild.sandbox.images import OCIImage
from hera_imagebuild.sandbox.registry import Registry, start_registry
from hera_imagebuild.sandbox.seeds import seed_shell_images
from hera_imagebuild.sandbox.skopeo import Skopeo


@pytest.fixture(scope="session")
def shell_hub(sandbox_dir: Path) -> Iterator[Registry]:
    """A plain-HTTP registry acting as Docker Hub's mirror, for busybox:1.36 and 1.37 with a real shell."""
    with start_registry(sandbox_dir / "shell-hub", name="shell-hub") as registry:
        yield registry


@pytest.fixture(scope="session")
def shell_images(shell_hub: Registry, skopeo: Skopeo, sandbox_dir: Path) -> dict[str, OCIImage]:
    """The shell images pushed to :func:`shell_hub` (``library/busybox:1.36`` -> image)."""
    return seed_shell_images(shell_hub, skopeo, sandbox_dir / "shell-seeds")
