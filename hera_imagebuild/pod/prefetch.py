"""The prefetch step: resolve, pin and (optionally) cache every external base image of a Dockerfile.

:func:`prefetch` parses the Dockerfile, probes every source of every base
image concurrently (:mod:`~hera_imagebuild.pod.prefetch_probe`), pins each
image to its platform manifest digest, copies the images into the cache
registry when one is given, and works out the ``--registry-map`` that sends
kaniko to the sources that answered. :func:`write_outputs` writes the files
the build step and Argo read (:class:`~hera_imagebuild.common.contract.PrefetchOutputs`).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hera_imagebuild.common.contract import PrefetchOutputs
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_OK, EXIT_TRANSIENT, FailureKind
from hera_imagebuild.common.reference import ImageReference
from hera_imagebuild.pod.dockerfile import BaseImage, Dockerfile, ImageKey, parse_dockerfile
from hera_imagebuild.pod.prefetch_probe import ImageProbes, ProbeResult, probe_all, retry_within
from hera_imagebuild.pod.prefetch_sources import Source, registry_map, sources_for
from hera_imagebuild.pod.progress import Progress
from hera_imagebuild.pod.registry import RegistryAccess, RegistryClient, RegistryError, RetryPolicy
from hera_imagebuild.pod.registry.copy import RegistrySource, copy_image, verify_served

LABEL_CREATED = "org.opencontainers.image.created"
LABEL_BASE_NAME = "org.opencontainers.image.base.name"
LABEL_BASE_DIGEST = "org.opencontainers.image.base.digest"

COPY_ATTEMPTS = 3
"""Attempts per request while copying into the cache registry (Argo retries the whole step)."""


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
        access: Credentials and TLS settings.
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
    access: RegistryAccess = field(default_factory=RegistryAccess)

    def __post_init__(self) -> None:
        if not self.probe_timeout > 0:
            raise ValueError(f"--probe-timeout: {self.probe_timeout!r} must be a positive number of seconds")


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
        registry_map: The value for kaniko's ``--registry-map``.
        pinned_dockerfile: The Dockerfile to build (``None`` when an image has no source).
        labels: The labels written into the pinned Dockerfile.
        seconds: Wall time of the whole step.
    """

    config: PrefetchConfig
    dockerfile: Dockerfile
    images: tuple[ImageResult, ...]
    registry_map: str
    pinned_dockerfile: str | None
    labels: Mapping[str, str]
    seconds: float

    @property
    def failed(self) -> list[ImageResult]:
        """Images no source could provide."""
        return [result for result in self.images if result.chosen is None]

    @property
    def exit_code(self) -> int:
        """0, or for a failed image :data:`EXIT_TRANSIENT` if a source failed transiently, else 1."""
        failed = self.failed
        if not failed:
            return EXIT_OK
        kinds = {r.kind for result in failed for r in result.probes.results}
        # A failure with no source at all (fallback off, no mirror) is a configuration error.
        return EXIT_TRANSIENT if FailureKind.TRANSIENT in kinds else EXIT_FAILED


def _unique_images(uses: list[BaseImage]) -> dict[ImageKey, list[BaseImage]]:
    grouped: dict[ImageKey, list[BaseImage]] = {}
    for use in uses:
        grouped.setdefault(use.key, []).append(use)
    return grouped


async def _copy_to_cache(
    probe_client: RegistryClient,
    copy_client: RegistryClient,
    config: PrefetchConfig,
    result: ImageResult,
    progress: Progress,
) -> CacheCopy:
    """Copy one resolved image into the cache registry unless it is there already.

    The presence check is a probe (bounded by the probe timeout), so a dead
    or hung cache registry costs one probe timeout; the copy itself has the
    copy client's longer limits and retries.
    """
    chosen, digest, cache = result.chosen, result.digest, config.cache_registry
    assert chosen is not None  # only called for resolved images
    assert digest is not None
    assert cache is not None
    destination = cache.locate(result.image)
    started = time.monotonic()
    try:
        present = await retry_within(
            lambda: probe_client.manifest_digest(destination, digest),
            config.probe_timeout,
            operation=f"check {destination.name}@{digest}",
            host=destination.api_host,
        )
        if present == digest:
            return CacheCopy(destination, "present", time.monotonic() - started)
        source = RegistrySource(copy_client, chosen.location)
        stats = await copy_image(copy_client, source, destination, digest, progress=progress)
        await verify_served(copy_client, destination, digest)
    except RegistryError as error:
        return CacheCopy(destination, "failed", time.monotonic() - started, error=str(error))
    return CacheCopy(destination, "copied", time.monotonic() - started, stats.bytes_uploaded)


def _map_targets(config: PrefetchConfig, results: list[ImageResult]) -> dict[str, list[Source]]:
    """For each registry, the sources kaniko should try: the cache, then mirrors in configured order."""
    used: dict[str, set[Source]] = {}
    for result in results:
        if result.chosen is None:
            continue
        cached = result.cache is not None and result.cache.outcome != "failed"
        source = config.cache_registry if cached and config.cache_registry else result.chosen.source
        used.setdefault(result.image.registry, set()).add(source)
    targets: dict[str, list[Source]] = {}
    for registry, sources in used.items():
        ordered = [config.cache_registry] if config.cache_registry in sources else []
        targets[registry] = ordered + [m for m in config.mirrors.get(registry, []) if m in sources]
    return targets


def _labels(
    config: PrefetchConfig, dockerfile: Dockerfile, digests: Mapping[ImageKey, str]
) -> dict[str, str]:
    labels = dict(config.labels)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    labels.setdefault(LABEL_CREATED, now.isoformat().replace("+00:00", "Z"))
    base = dockerfile.base_image(config.target)
    if base is not None and base.key in digests:
        labels.setdefault(LABEL_BASE_NAME, str(base.image))
        labels.setdefault(LABEL_BASE_DIGEST, digests[base.key])
    return labels


async def prefetch(config: PrefetchConfig, progress: Progress) -> PrefetchResult:
    """Resolve, pin and optionally cache the Dockerfile's external base images.

    Args:
        config: The validated step configuration.
        progress: Where human output goes.

    Returns:
        The result; check :attr:`PrefetchResult.failed` (the caller decides the exit code).

    Raises:
        DockerfileError: For a Dockerfile construct the parser cannot evaluate.
        ValueError: For an unreadable Dockerfile, an unknown target or a bad label/build arg.
    """
    started = time.monotonic()
    try:
        text = config.dockerfile.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"--dockerfile: cannot read {str(config.dockerfile)!r}: {error}") from None
    dockerfile = parse_dockerfile(text, build_args=config.build_args, platform=config.platform)
    grouped = _unique_images(dockerfile.images_for(config.target))
    wanted = [
        (image, platform, sources_for(image, config.mirrors, fallback=config.fallback))
        for image, platform in grouped
    ]
    timeout = config.probe_timeout
    probe_policy = RetryPolicy(
        max_attempts=1, connect_timeout=timeout, read_timeout=timeout, request_timeout=timeout
    )
    probes_count = sum(len(sources) for _, _, sources in wanted)
    async with (
        RegistryClient(config.access, probe_policy, max_connections=max(16, probes_count)) as probe_client,
        RegistryClient(
            config.access, RetryPolicy(max_attempts=COPY_ATTEMPTS), on_retry=progress.retry
        ) as copier,
    ):
        probes = await probe_all(probe_client, wanted, timeout)
        results = [ImageResult(tuple(grouped[(p.image, p.platform)]), p) for p in probes]
        for result in results:
            _report_image(progress, result)
        if config.cache_registry is not None and all(r.chosen for r in results):
            copies = await asyncio.gather(
                *(_copy_to_cache(probe_client, copier, config, r, progress) for r in results)
            )
            results = [ImageResult(r.uses, r.probes, c) for r, c in zip(results, copies, strict=True)]
            for result in results:
                _report_cache(progress, result)

    digests = {(r.image, r.probes.platform): r.digest for r in results if r.digest}
    labels: dict[str, str] = {}
    pinned = None
    if len(digests) == len(results):
        labels = _labels(config, dockerfile, digests)
        pinned = dockerfile.render(digests, labels=labels, target=config.target)
    return PrefetchResult(
        config=config,
        dockerfile=dockerfile,
        images=tuple(results),
        registry_map=registry_map(_map_targets(config, results)),
        pinned_dockerfile=pinned,
        labels=labels,
        seconds=time.monotonic() - started,
    )


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _describe_source(source: Source) -> str:
    return f"{source.role} {source}"


def _report_image(progress: Progress, result: ImageResult) -> None:
    name = f"{result.image} ({result.probes.platform})"
    for probe in result.probes.results:
        if probe.outcome == "failed":
            progress.info(
                f"{name}: {_describe_source(probe.source)} failed after {_ms(probe.seconds)} ms: "
                f"{probe.error}"
            )
    chosen = result.chosen
    if chosen is not None:
        progress.info(
            f"{name}: pinned to {result.digest} from {_describe_source(chosen.source)} "
            f"in {_ms(chosen.seconds)} ms"
        )


def _report_cache(progress: Progress, result: ImageResult) -> None:
    cache = result.cache
    if cache is None:
        return
    if cache.outcome == "failed":
        progress.info(
            f"{result.image}: copy to cache registry {cache.location.name} failed ({cache.error}); "
            "the build pulls from the source that answered instead"
        )
    else:
        done = "already in" if cache.outcome == "present" else "copied to"
        progress.info(
            f"{result.image}: {done} the cache registry as {cache.location.name} in {_ms(cache.seconds)} ms"
        )


def failure_message(result: PrefetchResult) -> str:
    """One line per image without a working source, naming every source tried and its error."""
    lines = []
    for image in result.failed:
        tried = [
            f"{_describe_source(p.source)} ({p.location}): {p.error} "
            f"[{p.kind.value if p.kind else 'unknown'}]"
            for p in image.probes.results
        ]
        if not tried:
            tried = [
                f"none (no mirror is configured for {image.image.registry} and the fallback to it is off)"
            ]
        lines.append(
            f"no source could provide {image.image} for {image.probes.platform}; tried: " + "; ".join(tried)
        )
    return "\n".join(lines)


def _source_entry(probe: ProbeResult) -> dict[str, object]:
    return {
        "source": str(probe.source),
        "role": probe.source.role,
        "reference": str(probe.location),
        "outcome": probe.outcome,
        "error": probe.error,
        "kind": probe.kind.value if probe.kind else None,
        "ms": _ms(probe.seconds),
        "attempts": probe.attempts,
    }


def _image_entry(result: ImageResult) -> dict[str, object]:
    chosen = result.chosen
    entry: dict[str, object] = {
        "original": str(result.image),
        "written": sorted({use.written for use in result.uses}),
        "lines": sorted({use.line for use in result.uses}),
        "platform": result.probes.platform,
        "pinned": result.pinned,
        "digest": result.digest,
        "index_digest": chosen.resolved.index_digest if chosen and chosen.resolved else None,
        "source": str(chosen.source) if chosen else None,
        "source_role": chosen.source.role if chosen else None,
        "sources": [_source_entry(probe) for probe in result.probes.results],
    }
    if result.cache is not None:
        entry["cache"] = {
            "reference": str(result.cache.location.with_digest(result.digest)) if result.digest else None,
            "outcome": result.cache.outcome,
            "ms": _ms(result.cache.seconds),
            "bytes_uploaded": result.cache.bytes_uploaded,
            "error": result.cache.error,
        }
    return entry


def report(result: PrefetchResult) -> dict[str, object]:
    """The machine-readable report (``report.json``); it never holds a credential."""
    config = result.config
    return {
        "ok": not result.failed,
        "exit_code": result.exit_code,
        "dockerfile": str(config.dockerfile),
        "target": config.target,
        "platform": config.platform,
        "fallback": config.fallback,
        "probe_timeout_seconds": config.probe_timeout,
        "cache_registry": str(config.cache_registry) if config.cache_registry else None,
        "seconds": round(result.seconds, 3),
        "registry_map": result.registry_map,
        "labels": dict(result.labels),
        "unused_build_args": list(result.dockerfile.unused_build_args),
        "images": [_image_entry(image) for image in result.images],
        "error": failure_message(result) or None,
    }


def base_images(result: PrefetchResult) -> list[dict[str, object]]:
    """``base-images.json``: original, pinned, source (and platform) per image."""
    return [
        {
            "original": str(image.image),
            "pinned": image.pinned,
            "source": str(image.chosen.source) if image.chosen else None,
            "platform": image.probes.platform,
        }
        for image in result.images
    ]


def write_outputs(result: PrefetchResult, output_dir: Path) -> None:
    """Write the step's output files; on failure only ``report.json``.

    Raises:
        OSError: If the directory or a file cannot be written.
    """
    output_dir.mkdir(parents=True, exist_ok=True)

    def write(name: str, text: str) -> None:
        (output_dir / name).write_text(text, encoding="utf-8")

    write(PrefetchOutputs.REPORT, json.dumps(report(result), indent=2) + "\n")
    if result.pinned_dockerfile is None:
        return
    write(PrefetchOutputs.DOCKERFILE, result.pinned_dockerfile)
    write(PrefetchOutputs.REGISTRY_MAP, result.registry_map)
    write(PrefetchOutputs.BASE_IMAGES, json.dumps(base_images(result), indent=2) + "\n")
