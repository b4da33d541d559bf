"""P8 local build: ``build --local`` (prefetch -> buildah -> verified push) against bare buildah build + push.

Both build the same multi-stage Dockerfile (two busybox-static base images from a local Docker Hub
mirror, RUN steps that execute) with buildah, ``--isolation chroot`` and vfs storage, into a fresh
store each run, and push to a fresh registry. The baseline is what a script does with the tool
alone: ``buildah build`` with the mirror in a registries.conf, then ``buildah push`` to the
registry. Ours adds what the baseline does not do: every base image resolved and pinned through
the mirrors first, the digest written, the push verified, the outputs written.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Sequence
from pathlib import Path

from benchmarks.env import BenchEnv, FreshRegistries
from benchmarks.harness import BenchmarkError, Case, Result, interleave, parse_args, publish, timed
from hera_imagebuild.builders import BUILDAH, MirrorPlan
from hera_imagebuild.common.failures import EXIT_OK
from hera_imagebuild.local.build import LocalBuild, build_locally
from hera_imagebuild.sandbox.seeds import seed_shell_images

OURS = "build --local (buildah)"
BASELINE = "buildah build + buildah push"

DOCKERFILE = """\
ARG RUNTIME=1.37
FROM busybox:1.36 AS builder
COPY . /src
RUN mkdir /out && cat /src/input.txt > /out/result.txt && sha256sum /src/input.txt >> /out/result.txt
FROM busybox:${RUNTIME}
COPY --from=builder /out/ /app/
RUN cat /app/result.txt
CMD ["cat", "/app/result.txt"]
"""


def _context(directory: Path) -> Path:
    directory.mkdir(parents=True)
    (directory / "Dockerfile").write_text(DOCKERFILE)
    (directory / "input.txt").write_text("benchmark input\n" * 1000)
    return directory


def main(argv: Sequence[str] | None = None) -> Result:
    """Run P8 and publish its table."""
    args = parse_args(__doc__ or "", default_runs=5, argv=argv)
    with BenchEnv("p8") as env:
        hub = env.registry("hub")
        seed_shell_images(hub, env.skopeo(), env.directory("seeds"))
        context = _context(env.directory("context") / "app")
        ours_target, baseline_target = FreshRegistries(env, "ours"), FreshRegistries(env, "baseline")
        registries_conf = env.directory("conf") / "registries.conf"
        registries_conf.write_text(
            BUILDAH.registry_config(MirrorPlan(sources={"docker.io": (hub.host,)}, insecure=(hub.host,)))
        )

        def ours() -> None:
            (registry,) = ours_target.registries
            build = LocalBuild(
                context=context,
                destinations=[f"{registry.host}/bench/app:1"],
                output_dir=env.directory("out"),
                mirrors={"docker.io": [hub.host]},
                fallback=False,
                insecure_registries=[hub.host, registry.host],
            )
            result = build_locally(build, out=io.StringIO())
            if result.exit_code != EXIT_OK:
                raise BenchmarkError(f"build --local failed: {result.message}")

        def baseline() -> None:
            (registry,) = baseline_target.registries
            store = env.directory("store")
            buildah = ["buildah", f"--root={store}/root", f"--runroot={store}/run", "--storage-driver=vfs"]
            env_vars = {"CONTAINERS_REGISTRIES_CONF": str(registries_conf), "PATH": "/usr/bin:/bin"}
            build = [*buildah, "build", "--isolation=chroot", "--tag=localhost/bench", str(context)]
            destination = f"docker://{registry.host}/bench/app:1"
            push = [*buildah, "push", "--tls-verify=false", "localhost/bench", destination]
            for command in (build, push):
                subprocess.run(command, env=env_vars, check=True, capture_output=True, timeout=300)

        samples = interleave(
            {
                OURS: timed(ours, setup=ours_target.renew),
                BASELINE: timed(baseline, setup=baseline_target.renew),
            },
            args.runs,
        )
    result = Result(
        id="P8",
        title="a real local build",
        question=(
            "What does a whole local build cost (prefetch through mirrors, buildah with RUN steps, push "
            "with verification) next to the bare buildah build + buildah push of the same Dockerfile?"
        ),
        runs=args.runs,
        cases=[
            Case(OURS, samples[OURS], "ours", "prefetch + buildah build/push to OCI layout + push step"),
            Case(BASELINE, samples[BASELINE], "baseline", "buildah build, then buildah push to the registry"),
        ],
        comparisons=[(OURS, BASELINE)],
        params={"base images": 2, "stages": 2, "RUN steps": 2, "builder": "buildah 1.28 (vfs, chroot)"},
    )
    publish(result, args.results_dir)
    return result


if __name__ == "__main__":
    main()
