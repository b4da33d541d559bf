"""Stand-ins for well-known base images, pushed into a local registry for the demo, tests and benchmarks.

The images carry Docker Hub names (``library/python:3.12-slim``) so a
Dockerfile can say ``FROM python:3.12-slim`` and a local registry can act as
its Docker Hub mirror; their content is generated (:mod:`.images`), a few
kilobytes each, and the same on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from hera_imagebuild.sandbox.images import OCIImage, write_image, write_shell_image
from hera_imagebuild.sandbox.registry import Registry
from hera_imagebuild.sandbox.skopeo import Skopeo

__all__ = ["BASE_IMAGES", "SHELL_IMAGES", "BaseImageSpec", "seed_registry", "seed_shell_images"]


@dataclass(frozen=True)
class BaseImageSpec:
    """A base image to generate: repository, tag, platforms and layer sizes."""

    repository: str
    tag: str
    platforms: tuple[str, ...] = ("linux/amd64", "linux/arm64")
    layer_sizes: tuple[int, ...] = (8192, 4096)

    @property
    def name(self) -> str:
        """``repository:tag``."""
        return f"{self.repository}:{self.tag}"


BASE_IMAGES: tuple[BaseImageSpec, ...] = (
    BaseImageSpec("library/golang", "1.23-alpine"),
    BaseImageSpec("library/python", "3.12-slim"),
    BaseImageSpec("library/python", "3.13-slim"),
    BaseImageSpec("library/busybox", "1.36", platforms=("linux/amd64",)),
)
"""Multi-platform indexes (except busybox, a single manifest) with Docker Hub names."""


def seed_registry(
    registry: Registry, skopeo: Skopeo, workdir: Path, specs: Sequence[BaseImageSpec] = BASE_IMAGES
) -> dict[str, OCIImage]:
    """Generate each image and push it to ``registry``; return ``repository:tag`` -> image.

    Args:
        registry: Where to push (its first user, if any, pushes).
        skopeo: The (isolated) skopeo to push with.
        workdir: Where the OCI layouts are written (one sub-directory per image).
        specs: The images to generate.
    """
    images = [
        write_image(
            workdir / f"seed-{number}",
            seed=spec.name,
            layer_sizes=spec.layer_sizes,
            platforms=spec.platforms,
            tag=spec.tag,
        )
        for number, spec in enumerate(specs)
    ]
    # One skopeo process per image, run side by side: each spends most of its time starting up.
    with ThreadPoolExecutor(max_workers=4) as pool:
        pushes = [
            pool.submit(skopeo.push, image, registry, spec.repository)
            for spec, image in zip(specs, images, strict=True)
        ]
        for push in pushes:
            push.result()
    return {spec.name: image for spec, image in zip(specs, images, strict=True)}


SHELL_IMAGES: dict[str, str] = {"library/busybox:1.36": "1.36", "library/busybox:1.37": "1.37"}
"""Base images with a real shell (Debian's busybox-static) that a builder can RUN in: name -> release."""


def seed_shell_images(
    registry: Registry, skopeo: Skopeo, workdir: Path, images: dict[str, str] = SHELL_IMAGES
) -> dict[str, OCIImage]:
    """Write each shell image (``repository:tag`` -> release) and push it to ``registry``."""
    written = {}
    for number, (name, release) in enumerate(images.items()):
        repository, _, tag = name.partition(":")
        image = write_shell_image(workdir / f"shell-{number}", release=release, tag=tag)
        skopeo.push(image, registry, repository)
        written[name] = image
    return written
