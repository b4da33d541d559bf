"""The prefetch step's outputs: human lines, ``report.json``, ``base-images.json`` and the output files.

Nothing written here holds a credential: errors come from
:class:`~hera_imagebuild.pod.registry.RegistryError`, whose messages never do,
and sources are host names (a mirror given with ``user:password@`` is refused).
"""

from __future__ import annotations

import json
from pathlib import Path

from hera_imagebuild.common.contract import PrefetchOutputs
from hera_imagebuild.common.redaction import redact
from hera_imagebuild.pod.atomic import write_files
from hera_imagebuild.pod.prefetch_probe import FAILED, ProbeResult
from hera_imagebuild.pod.prefetch_result import ImageResult, PrefetchResult
from hera_imagebuild.pod.prefetch_sources import Source
from hera_imagebuild.pod.progress import Progress


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _describe_source(source: Source) -> str:
    return f"{source.role} {source}"


def log_image(progress: Progress, result: ImageResult) -> None:
    """Human lines for one image: each source that failed before the chosen one, then the pin."""
    name = f"{result.image} ({result.probes.platform})"
    for probe in result.probes.results:
        if probe.outcome == FAILED:
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


def log_cache(progress: Progress, result: ImageResult) -> None:
    """A human line for one image's cache-registry copy."""
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
        "builder": config.builder.name,
        "registry_config": result.registry_config,
        "mirror_plan": json.loads(result.mirror_plan.to_json()),
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
    """Write the step's output files, all or nothing; on failure only ``report.json``.

    Raises:
        OSError: If the directory or a file cannot be written.
    """
    # The report quotes registries' errors: the same redaction as every printed line.
    files = {PrefetchOutputs.REPORT: redact(json.dumps(report(result), indent=2)) + "\n"}
    if result.pinned_dockerfile is not None:
        files[PrefetchOutputs.DOCKERFILE] = result.pinned_dockerfile
        files[PrefetchOutputs.MIRROR_PLAN] = result.mirror_plan.to_json()
        files[result.config.builder.registry_config_file] = result.registry_config
        files[PrefetchOutputs.BASE_IMAGES] = json.dumps(base_images(result), indent=2) + "\n"
    write_files(output_dir, files)
