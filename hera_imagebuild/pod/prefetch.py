"""The prefetch step: resolve, pin and (optionally) cache every external base image of a Dockerfile.

:func:`prefetch` parses the Dockerfile, probes every source of every base
image concurrently (:mod:`~hera_imagebuild.pod.prefetch_probe`), pins each
image to its platform manifest digest, copies the images into the cache
registry when one is given, and works out the mirror plan that sends the
builder to the sources that answered (kaniko's ``--registry-map``, buildah's
``registries.conf``: :mod:`hera_imagebuild.builders`).
:func:`~hera_imagebuild.pod.prefetch_report.write_outputs` writes the files the
build step and Argo read.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Mapping

from hera_imagebuild.pod.dockerfile import BaseImage, Dockerfile, ImageKey, parse_dockerfile
from hera_imagebuild.pod.dockerfile_lexer import DockerfileError
from hera_imagebuild.pod.prefetch_probe import probe_all, retry_within
from hera_imagebuild.pod.prefetch_report import log_cache, log_image
from hera_imagebuild.pod.prefetch_result import CacheCopy, ImageResult, PrefetchConfig, PrefetchResult
from hera_imagebuild.pod.prefetch_sources import Source, mirror_plan, sources_for
from hera_imagebuild.pod.progress import Progress
from hera_imagebuild.pod.registry import RegistryClient, RegistryError, RetryPolicy
from hera_imagebuild.pod.registry.copy import RegistrySource, copy_image, verify_served
from hera_imagebuild.pod.registry.retry import Deadline

LABEL_CREATED = "org.opencontainers.image.created"
LABEL_BASE_NAME = "org.opencontainers.image.base.name"
LABEL_BASE_DIGEST = "org.opencontainers.image.base.digest"

COPY_ATTEMPTS = 3
"""Attempts per request while copying into the cache registry (Argo retries the whole step)."""


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
    """For each registry, the sources the build should try: the cache, then mirrors in configured order."""
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


def _refuse_argo_braces(text: str) -> None:
    """Refuse a Dockerfile with ``{{``: on its way to the build Argo would rewrite it.

    The pinned Dockerfile reaches the build as a template parameter, and Argo
    substitutes inside parameter values (``SubstituteParams`` in
    workflow/common/util.go replaces ``{{workflow.*}}`` and evaluates ``{{=...}}``
    in the input values themselves; an unclosed ``{{`` fails the template:
    fasttemplate finds no end tag). ``build --local`` refuses it too, so a
    Dockerfile that builds locally also builds in the cluster.

    Raises:
        DockerfileError: Naming the first line with ``{{``.
    """
    index = text.find("{{")
    if index >= 0:
        number = text.count("\n", 0, index) + 1
        line = text.split("\n")[number - 1]
        raise DockerfileError(
            number,
            "'{{' cannot reach the build as written: Argo would expand or evaluate it on the way "
            "(the pinned Dockerfile is a workflow parameter); expected the braces written apart, "
            "for example '{''{' in a shell command",
            line,
        )


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
    _refuse_argo_braces(text)
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
            config.access,
            RetryPolicy(max_attempts=COPY_ATTEMPTS),
            deadline=Deadline(config.cache_copy_timeout),
            on_retry=progress.retry,
        ) as copier,
    ):
        probes = await probe_all(probe_client, wanted, timeout)
        results = [ImageResult(tuple(grouped[(p.image, p.platform)]), p) for p in probes]
        for result in results:
            log_image(progress, result)
        if config.cache_registry is not None and all(r.chosen for r in results):
            copies = await asyncio.gather(
                *(_copy_to_cache(probe_client, copier, config, r, progress) for r in results)
            )
            results = [ImageResult(r.uses, r.probes, c) for r, c in zip(results, copies, strict=True)]
            for result in results:
                log_cache(progress, result)

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
        mirror_plan=mirror_plan(
            _map_targets(config, results),
            fallback=config.fallback,
            insecure=config.access.insecure_registries,
        ),
        pinned_dockerfile=pinned,
        labels=labels,
        seconds=time.monotonic() - started,
    )
