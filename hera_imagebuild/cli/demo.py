"""``hera-imagebuild demo``: a real image build on this machine, through the three steps, no cluster needed.

It starts a Docker Hub mirror (stand-in base images with a real shell), a
broken mirror in front of it (a proxy that accepts connections and never
answers), a plain-HTTP "cluster" registry (cache registry and push
destination) and a TLS registry with basic auth (push destination). Then it
runs ``hera-imagebuild build --local`` on ``examples/demo``: prefetch through
the mirrors ``[broken, healthy]``, buildah (RUN steps included), push to both
registries with verification, the same code and argv contract as the pods.
It prints the prefetch report, pulls the image back and runs its command,
and stops everything.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from hera_imagebuild.common.contract import PrefetchOutputs
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from hera_imagebuild.local.build import BuilderUnavailable, LocalBuild, build_locally, scratch_directory
from hera_imagebuild.sandbox.credentials import Credentials, write_docker_config
from hera_imagebuild.sandbox.faultproxy import Fault, FaultProxy, proxy_in_front_of
from hera_imagebuild.sandbox.process import SandboxError
from hera_imagebuild.sandbox.registry import Registry, start_registry
from hera_imagebuild.sandbox.run_image import run_image
from hera_imagebuild.sandbox.seeds import seed_shell_images
from hera_imagebuild.sandbox.skopeo import Skopeo
from hera_imagebuild.sandbox.tls import TLSFiles, make_tls

DEFAULT_CONTEXT = Path(__file__).resolve().parents[2] / "examples" / "demo"
BUILD_ARGS = (("RUNTIME_RELEASE", "1.37"), ("GREETING", "Hello from a real build, by hera-imagebuild"))
PLATFORM = "linux/amd64"
APP_REPOSITORY = "demo/app"
APP_TAG = "1.0"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the demo's options."""
    parser.add_argument(
        "--context",
        type=Path,
        default=DEFAULT_CONTEXT,
        help="build context holding a Dockerfile (default: examples/demo of the source checkout)",
    )
    parser.add_argument(
        "--probe-timeout",
        type=float,
        default=1.0,
        help="seconds a mirror may take to answer (the broken mirror costs this once; default 1)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        help="keep registry data, step outputs and reports in this new directory (default: a temporary one)",
    )


@dataclass(frozen=True)
class _Sandbox:
    """The running registries of one demo."""

    mirror: Registry
    broken: FaultProxy
    cluster: Registry
    secure: Registry
    secure_tls: TLSFiles
    authfile: Path
    """docker config.json with the secure registry's (generated) credentials."""


def _check_args(args: argparse.Namespace) -> None:
    if not (args.context / "Dockerfile").is_file():
        raise ValueError(
            f"--context: {str(args.context)!r} holds no Dockerfile; run from a source checkout "
            "(examples/demo) or pass --context DIR"
        )
    if not 0 < args.probe_timeout <= 60:
        raise ValueError(f"--probe-timeout: {args.probe_timeout!r} must be > 0 and <= 60 seconds")
    if args.workdir is not None and args.workdir.exists() and any(args.workdir.iterdir()):
        raise ValueError(f"--workdir: {str(args.workdir)!r} exists and is not empty; give a new directory")


def _step(out: TextIO, number: int, title: str) -> None:
    out.write(f"\n== {number}. {title}\n")
    out.flush()


def _short(digest: str | None) -> str:
    return f"{digest[:19]}..." if digest else "-"


def _print_prefetch_report(report: dict[str, Any], output_dir: Path, out: TextIO) -> None:
    seconds, timeout = report["seconds"], report["probe_timeout_seconds"]
    out.write(f"\nPrefetch report ({seconds:.2f} s; probe timeout {timeout:g} s):\n")
    waited = 0.0
    for image in report["images"]:
        out.write(f"  {image['original']}  (Dockerfile line {', '.join(map(str, image['lines']))})\n")
        for source in image["sources"]:
            where = f"{source['role']} {source['source']}"
            error = f"  {source['error']}" if source["error"] else ""
            out.write(f"      {where:<26} {source['outcome']:<10} {source['ms']:>5} ms{error}\n")
            waited += source["ms"] / 1000 if source["outcome"] == "failed" else 0
        cache = f"; cache registry: {image['cache']['outcome']}" if image.get("cache") else ""
        out.write(f"      pinned {_short(image['digest'])} for {image['platform']}{cache}\n")
    out.write(
        f"  The whole prefetch took {seconds:.2f} s: the broken mirror was probed for all "
        f"{len(report['images'])} images at once, costing one {timeout:g} s timeout, not {waited:.1f} s.\n"
    )
    out.write(f"  mirror plan for the builder: {report['mirror_plan']['sources']}\n")
    out.write("  pinned Dockerfile:\n")
    for line in (output_dir / PrefetchOutputs.DOCKERFILE).read_text().splitlines():
        if line.lstrip().upper().startswith(("ARG ", "FROM ", "COPY --FROM")):
            out.write(f"      {line}\n")


def _start_sandbox(stack: contextlib.ExitStack, work: Path) -> _Sandbox:
    """Start the registries (stopped when ``stack`` closes) and write the secure one's docker config."""
    user = Credentials("demo", secrets.token_urlsafe(16))
    mirror = stack.enter_context(start_registry(work / "mirror", name="mirror"))
    broken = stack.enter_context(proxy_in_front_of(mirror, Fault("hang"), name="broken-mirror"))
    cluster = stack.enter_context(start_registry(work / "cluster", name="cluster"))
    tls = make_tls(work / "tls")
    secure = stack.enter_context(
        start_registry(work / "secure", name="secure", tls=tls, users={user.username: user})
    )
    authfile = write_docker_config(work / "docker" / "config.json", {secure.host: user})
    return _Sandbox(
        mirror=mirror, broken=broken, cluster=cluster, secure=secure, secure_tls=tls, authfile=authfile
    )


def _demo(args: argparse.Namespace, work: Path, out: TextIO) -> int:
    with contextlib.ExitStack() as stack:
        sandbox = _start_sandbox(stack, work)
        seeded = seed_shell_images(sandbox.mirror, Skopeo(work / "skopeo"), work / "seeds")
        out.write("Registries on 127.0.0.1 (stopped at the end):\n")
        out.write(f"  mirror         {sandbox.mirror.url:<24} Docker Hub mirror: {', '.join(seeded)}\n")
        out.write(f"  broken mirror  {sandbox.broken.url:<24} accepts connections, never answers\n")
        out.write(f"  cluster        {sandbox.cluster.url:<24} cache registry and push destination\n")
        out.write(
            f"  secure         {sandbox.secure.url:<24} TLS (own CA) and basic auth, push destination\n"
        )
        registries = (sandbox.cluster, sandbox.secure)
        destinations = [f"{registry.host}/{APP_REPOSITORY}:{APP_TAG}" for registry in registries]
        build = LocalBuild(
            context=args.context,
            destinations=destinations,
            output_dir=work / "outputs",
            build_args=dict(BUILD_ARGS),
            platform=PLATFORM,
            mirrors={"docker.io": [sandbox.broken.host, sandbox.mirror.host]},
            fallback=False,
            base_image_cache=f"{sandbox.cluster.host}/cache",
            probe_timeout=args.probe_timeout,
            insecure_registries=[r.host for r in (sandbox.broken, sandbox.mirror, sandbox.cluster)],
            registry_ca={sandbox.secure.host: sandbox.secure_tls.ca_cert},
            authfile=sandbox.authfile,
            workdir=work / "build",
        )
        _step(
            out,
            1,
            f"build --local {args.context.name}/: mirrors [broken, healthy], no fallback to Docker Hub, "
            f"buildah, push to two registries",
        )
        result = build_locally(build, out=out)
        if result.exit_code != EXIT_OK:
            out.write(f"{result.message} (exit {result.exit_code})\n")
            return result.exit_code
        report = json.loads((build.output_dir / "report.json").read_text())["prefetch"]
        _print_prefetch_report(report, work / "build" / "prefetch", out)
        out.write(f"\nPushed {result.digest}; each registry serves it:\n")
        for ref in result.image_refs:
            out.write(f"  {ref}\n")

        secure_ref = result.image_refs[1]
        _step(out, 2, f"run the built image's command, pulled back from {secure_ref.partition('/')[0]}")
        output = run_image(secure_ref, authfile=sandbox.authfile, cert_dir=sandbox.secure_tls.cert_dir)
        for line in output.splitlines():
            out.write(f"  | {line}\n")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Run the demo; returns 0 when the image was built, pushed, verified and ran."""
    out = sys.stdout
    started = time.monotonic()
    try:
        _check_args(args)
    except ValueError as error:
        print(f"hera-imagebuild demo: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        with scratch_directory(args.workdir, prefix="hera-imagebuild-demo-") as work:
            code = _demo(args, work, out)
    except BuilderUnavailable as error:
        print(f"hera-imagebuild demo: the demo builds for real: {error}", file=sys.stderr)
        return EXIT_FAILED
    except (ValueError, SandboxError) as error:
        print(f"hera-imagebuild demo: {error}", file=sys.stderr)
        return EXIT_FAILED
    outcome = "Done" if code == EXIT_OK else "Failed"
    kept = f"; files kept in {args.workdir}" if args.workdir else ""
    out.write(f"\nEverything stopped{kept}. {outcome} in {time.monotonic() - started:.1f} s.\n")
    return code
