"""P4 push: one image (3 x 30 MB layers) to 2 registries, ours vs ``skopeo copy`` to each; then a re-push.

Ours pushes to both destinations concurrently and checks afterwards that each
registry serves the digest. The baseline is what a script does with the
standard tool: ``skopeo copy oci:LAYOUT docker://DEST`` once per destination,
each with a fresh skopeo blob-info cache. Every cold run gets two new, empty
registries; the re-push runs push the unchanged image to registries that hold it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from benchmarks.env import MB, BenchEnv, FreshRegistries
from benchmarks.harness import (
    BenchmarkError,
    Case,
    Result,
    interleave,
    parse_args,
    publish,
    timed,
)
from benchmarks.steps import run_step
from hera_imagebuild.common.contract import PushArgs, PushOutputs
from hera_imagebuild.sandbox.images import OCIImage
from hera_imagebuild.sandbox.registry import Registry

LAYERS = (30 * MB, 30 * MB, 30 * MB)
REPOSITORY = "bench/app"

OURS = "hera-imagebuild push, 2 destinations"
BASELINE = "skopeo copy x2"
OURS_AGAIN = "hera-imagebuild re-push, unchanged"
BASELINE_AGAIN = "skopeo copy x2, unchanged"


def push_args(image: OCIImage, registries: Sequence[Registry], output_dir: Path) -> PushArgs:
    """Our push step's arguments: every destination, the digest kaniko reported, plain HTTP."""
    return PushArgs(
        image=str(image.layout_dir),
        destinations=[f"{registry.host}/{REPOSITORY}:1" for registry in registries],
        expected_digest=image.digest,
        insecure_registries=[registry.host for registry in registries],
        output_dir=str(output_dir),
    )


def main(argv: Sequence[str] | None = None) -> Result:
    """Run P4 and publish its table."""
    args = parse_args(__doc__ or "", default_runs=5, argv=argv)
    with BenchEnv("p4") as env:
        image = env.image("app", LAYERS)
        names = ("destination-a", "destination-b")
        ours_targets, baseline_targets = FreshRegistries(env, *names), FreshRegistries(env, *names)

        def ours() -> None:
            output_dir = env.directory("out")
            run_step(push_args(image, ours_targets.registries, output_dir))
            if (output_dir / PushOutputs.DIGEST).read_text().strip() != image.digest:
                raise BenchmarkError("push reported a digest other than the image's")
            refs = json.loads((output_dir / PushOutputs.IMAGE_REFS).read_text())
            if len(refs) != len(ours_targets.registries):
                raise BenchmarkError(
                    f"push reported {refs!r} for {len(ours_targets.registries)} destinations"
                )

        def baseline() -> None:
            for registry in baseline_targets.registries:
                skopeo = env.skopeo()  # a fresh blob-info cache: it must not remember the other push
                skopeo.push(image, registry, REPOSITORY, "1")
                if (
                    skopeo.inspect(f"{registry.host}/{REPOSITORY}:1", registry=registry)["Digest"]
                    != image.digest
                ):
                    raise BenchmarkError(f"skopeo copy to {registry.host} changed the digest")

        samples = interleave(
            {
                OURS: timed(ours, setup=ours_targets.renew),
                OURS_AGAIN: timed(ours),
                BASELINE: timed(baseline, setup=baseline_targets.renew),
                BASELINE_AGAIN: timed(baseline),
            },
            args.runs,
        )
    result = Result(
        id="P4",
        title="push to two registries",
        question=(
            "How long does pushing one built image (3 x 30 MB incompressible layers, an OCI layout as "
            "kaniko writes it) to 2 registries take, and re-pushing it unchanged (a retried push step)?"
        ),
        runs=args.runs,
        cases=[
            Case(OURS, samples[OURS], "ours", "concurrent push to both, then digest verified on each"),
            Case(
                BASELINE,
                samples[BASELINE],
                "baseline",
                "per destination: skopeo copy, then skopeo inspect (digest check)",
            ),
            Case(OURS_AGAIN, samples[OURS_AGAIN], "ours", "blobs already present: nothing uploaded"),
            Case(
                BASELINE_AGAIN,
                samples[BASELINE_AGAIN],
                "baseline",
                "the same; skopeo skips blobs the registry has",
            ),
        ],
        comparisons=[(OURS, BASELINE), (OURS_AGAIN, BASELINE_AGAIN), (OURS_AGAIN, OURS)],
        params={"layers": "3 x 30 MB", "destinations": 2, "image size": f"{image.size / MB:.0f} MB"},
    )
    publish(result, args.results_dir)
    return result


if __name__ == "__main__":
    main()
