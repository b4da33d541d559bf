"""What the prefetch step was asked to do and what it found: configuration and result types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hera_imagebuild.builders import KANIKO, Builder, MirrorPlan
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_OK, EXIT_TRANSIENT, FailureKind
from hera_imagebuild.common.reference import ImageReference
from hera_imagebuild.pod.dockerfile import BaseImage, Dockerfile
from hera_imagebuild.pod.prefetch_probe import ImageProbes, ProbeResult
from hera_imagebuild.pod.prefetch_sources import Source
from hera_imagebuild.pod.registry import RegistryAccess


@dataclass(frozen=True)
class PrefetchConfig:
    """Everything the prefetch step needs, validated (the CLI builds it from ``PrefetchArgs``).

    Attributes:
        dockerfile: Path of the Dockerfile.
        build_args: Build arguments, as ``--build-arg`` would pass them.
        labels: Labels for the target stage.
        target: The stage to build (default: the last).
        platform: The platform to build for, ``OS/ARCH[/VARIANT]``.
        mirrors: Mirrors per registry (``docker.io`` for Docker Hub), in order.
        fallback: Whether to use an image's own registry after its mirrors.
        probe_timeout: Seconds each source may take to resolve an image, retries included.
        cache_registry: Where to copy the base images so the build pulls locally.
        cache_copy_timeout: Seconds all cache copies together may take (below the pod's deadline,
            so that a slow cache registry costs the cache, not the build).
        access: Credentials and TLS settings.
        builder: The builder whose registry configuration to write.
    """

    dockerfile: Path
    build_args: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    platform: str = "linux/amd64"
    mirrors: Mapping[str, list[Source]] = field(default_factory=dict)
    fallback: bool = True
    probe_timeout: float = 5.0
    cache_registry: Source | None = None
    cache_copy_timeout: float = 600.0
    access: RegistryAccess = field(default_factory=RegistryAccess)
    builder: Builder = KANIKO

    def __post_init__(self) -> None:
        for flag, value in (
            ("--probe-timeout", self.probe_timeout),
            ("--cache-copy-timeout", self.cache_copy_timeout),
        ):
            if not value > 0:  # NaN fails this too
                raise ValueError(f"{flag}: {value!r} must be a positive number of seconds")


@dataclass(frozen=True)
class CacheCopy:
    """What happened to one image at the cache registry.

    Attributes:
        location: The image's repository on the cache registry.
        outcome: ``present`` (already there), ``copied`` or ``failed``.
        seconds: Time taken.
        bytes_uploaded: Blob bytes sent.
        error: What went wrong (``failed`` only).
    """

    location: ImageReference
    outcome: str
    seconds: float
    bytes_uploaded: int = 0
    error: str | None = None


@dataclass(frozen=True)
class ImageResult:
    """One external base image (for one platform): the probes and where it ended up.

    Attributes:
        uses: Where the Dockerfile uses it.
        probes: Every source tried, in order.
        cache: The cache-registry copy, if a cache registry was given.
    """

    uses: tuple[BaseImage, ...]
    probes: ImageProbes
    cache: CacheCopy | None = None

    @property
    def image(self) -> ImageReference:
        """The image as the Dockerfile names it, normalised."""
        return self.probes.image

    @property
    def chosen(self) -> ProbeResult | None:
        """The source that answered first in order, if any."""
        return self.probes.chosen

    @property
    def digest(self) -> str | None:
        """The platform manifest digest, if resolved."""
        chosen = self.chosen
        return chosen.resolved.digest if chosen and chosen.resolved else None

    @property
    def pinned(self) -> str | None:
        """``registry/repository@sha256:...`` under the original registry name."""
        return self.image.with_digest(self.digest).pinned() if self.digest else None


@dataclass(frozen=True)
class PrefetchResult:
    """The outcome of :func:`prefetch`.

    Attributes:
        config: What was asked for.
        dockerfile: The parsed Dockerfile.
        images: One result per distinct (image, platform), in Dockerfile order.
        mirror_plan: Where the builder should pull each registry's images from.
        pinned_dockerfile: The Dockerfile to build (``None`` when an image has no source).
        labels: The labels written into the pinned Dockerfile.
        seconds: Wall time of the whole step.
    """

    config: PrefetchConfig
    dockerfile: Dockerfile
    images: tuple[ImageResult, ...]
    mirror_plan: MirrorPlan
    pinned_dockerfile: str | None
    labels: Mapping[str, str]
    seconds: float

    @property
    def registry_config(self) -> str:
        """The mirror plan in the builder's own terms (kaniko: the ``--registry-map`` value)."""
        return self.config.builder.registry_config(self.mirror_plan)

    @property
    def failed(self) -> list[ImageResult]:
        """Images no source could provide."""
        return [result for result in self.images if result.chosen is None]

    @property
    def exit_code(self) -> int:
        """0; :data:`EXIT_TRANSIENT` if every failed image had a source fail transiently; else 1.

        One image that no retry can provide (every source said unknown or denied)
        fails the step however the others fare, as in push.
        """
        failed = self.failed
        if not failed:
            return EXIT_OK
        # A failure with no source at all (fallback off, no mirror) is a configuration error.
        retry_may_help = all(
            any(probe.kind is FailureKind.TRANSIENT for probe in result.probes.results) for result in failed
        )
        return EXIT_TRANSIENT if retry_may_help else EXIT_FAILED
