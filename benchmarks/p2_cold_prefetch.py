"""P2 cold prefetch: copy a 3 x 30 MB base image into an empty cache registry, ours vs ``skopeo copy``.

Ours resolves the Dockerfile's base image, pins it and copies it by digest into
the cache registry (``--cache-registry``), so the build pulls from close by.
The baseline copies the same image with ``skopeo copy`` and a fresh blob-info
cache. Every run of each case gets a new, empty cache registry (untimed).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from benchmarks.env import MB, BenchEnv, FreshRegistries
from benchmarks.harness import BenchmarkError, Case, Result, interleave, parse_args, publish, timed
from benchmarks.steps import prefetch, stored_blobs
from hera_imagebuild.common.contract import PrefetchArgs
from hera_imagebuild.sandbox.registry import Registry

LAYERS = (30 * MB, 30 * MB, 30 * MB)
REPOSITORY = "bench/base"
CACHE_PREFIX = "cache"

OURS = "hera-imagebuild prefetch --cache-registry"
BASELINE = "skopeo copy"


def main(argv: Sequence[str] | None = None) -> Result:
    """Run P2 and publish its table."""
    args = parse_args(__doc__ or "", default_runs=5, argv=argv)
    with BenchEnv("p2") as env:
        origin = env.registry("origin")
        image = env.image("base", LAYERS)
        env.skopeo().push(image, origin, REPOSITORY, "1")
        dockerfile = env.directory("context") / "Dockerfile"
        dockerfile.write_text(f"FROM {origin.host}/{REPOSITORY}:1\nRUN true\n")
        ours_cache, baseline_cache = FreshRegistries(env, "cache"), FreshRegistries(env, "cache")
        reports: list[dict[str, Any]] = []

        def check_cached(cache: Registry) -> None:
            missing = set(image.layer_digests) - stored_blobs(cache)
            if missing:
                raise BenchmarkError(f"{len(missing)} layers missing from the cache registry after the copy")

        def ours() -> None:
            cache = ours_cache.registries[0]
            run = prefetch(
                PrefetchArgs(
                    dockerfile=str(dockerfile),
                    cache_registry=f"{cache.host}/{CACHE_PREFIX}",
                    insecure_registries=[origin.host, cache.host],
                    output_dir=str(env.directory("out")),
                )
            )
            if [entry.get("pinned", "").rsplit("@", 1)[-1] for entry in run.base_images] != [image.digest]:
                raise BenchmarkError(f"prefetch pinned {run.base_images!r}, expected {image.digest}")
            check_cached(cache)
            reports.append(run.report)

        def baseline() -> None:
            cache = baseline_cache.registries[0]
            env.skopeo().copy(
                f"docker://{origin.host}/{REPOSITORY}:1",
                f"docker://{cache.host}/{CACHE_PREFIX}/{REPOSITORY}:1",
                src_registry=origin,
                dest_registry=cache,
            )
            check_cached(cache)

        samples = interleave(
            {
                OURS: timed(ours, setup=ours_cache.renew),
                BASELINE: timed(baseline, setup=baseline_cache.renew),
            },
            args.runs,
        )
    reports = reports[-args.runs :]  # the timed runs, not the warm-up
    inside = statistics.median(float(report["seconds"]) for report in reports)
    copy = statistics.median(float(report["images"][0]["cache"]["ms"]) / 1000 for report in reports)
    result = Result(
        id="P2",
        title="cold prefetch into a cache registry",
        question=(
            "How long does making a base image of 3 x 30 MB incompressible layers local take, when the "
            "cache registry does not have it yet?"
        ),
        runs=args.runs,
        cases=[
            Case(OURS, samples[OURS], "ours", "whole step: parse, resolve, pin, copy by digest, report"),
            Case(BASELINE, samples[BASELINE], "baseline", "skopeo copy --preserve-digests, fresh cache"),
        ],
        comparisons=[(OURS, BASELINE)],
        params={"layers": "3 x 30 MB", "image size": f"{image.size / MB:.0f} MB"},
        extra={
            "notes": [
                f"Inside the step (report.json, medians): {inside:.2f} s, of which the copy into the cache "
                f"registry {copy:.2f} s; the rest of the {statistics.median(samples[OURS]):.2f} s is "
                "interpreter and CLI start-up."
            ]
        },
    )
    publish(result, args.results_dir)
    return result


if __name__ == "__main__":
    main()
