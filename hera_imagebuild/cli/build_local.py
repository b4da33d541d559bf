"""``hera-imagebuild build --local``: the build command's flags, run on this machine instead of a cluster.

The flags shared with a cluster build mean the same here (``-f``, ``-d``,
``--build-arg``, ``--label``, ``--target``, ``--mirror``, ``--no-fallback``,
``--base-image-cache``, ``--probe-timeout``, the proxies); the flags of the
cluster alone are refused with what to use instead. Exit codes are the
steps': 0, 1, 2 for bad input, 75 when a retry may help.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from hera_imagebuild.builders import BUILDERS, KANIKO, LOCAL_BUILDER
from hera_imagebuild.cli.build import parse_mirror_flags, parse_pairs
from hera_imagebuild.common.failures import EXIT_USAGE
from hera_imagebuild.local.build import KANIKO_EXECUTOR_ENV, BuilderUnavailable, LocalBuild, build_locally

CLUSTER_ONLY = {
    "git_ref": ("--git-ref", "main", "check the revision out and pass its directory to --context"),
    "s3_credentials_secret": ("--s3-credentials-secret", None, "download the context and pass its directory"),
    "s3_region": ("--s3-region", None, "download the context and pass its directory"),
    "s3_insecure": ("--s3-insecure", False, "download the context and pass its directory"),
    "cache_repo": ("--cache-repo", None, "a local build has no layer cache repository"),
    "docker_config_secret": ("--docker-config-secret", None, "use --authfile FILE"),
    "disable_http2": ("--disable-http2", False, "a cluster kaniko setting"),
    "executor_image": ("--executor-image", None, "use --kaniko-executor PATH"),
    "runtime_image": ("--runtime-image", None, "the steps run from this installation"),
    "template_name": ("--template-name", None, "no template is used"),
    "namespaced_template": ("--namespaced-template", False, "no template is used"),
    "dry_run": ("--dry-run", False, "nothing is submitted"),
    "watch": ("--watch", False, "the build runs in the foreground"),
}
"""Flags of a cluster build that mean nothing here: (flag, default, what to do instead)."""


def add_local_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``--local`` group to ``build``'s flags."""
    local = parser.add_argument_group("local build (--local)")
    local.add_argument(
        "--local",
        action="store_true",
        help="build on this machine: --context is a directory, prefetch -> builder -> push run here",
    )
    local.add_argument(
        "--builder",
        choices=tuple(BUILDERS),
        help=f"with --local: the builder (default {LOCAL_BUILDER}, or kaniko when an executor is named)",
    )
    local.add_argument(
        "--kaniko-executor",
        type=Path,
        metavar="PATH",
        help=f"with --local: a kaniko executor (default ${KANIKO_EXECUTOR_ENV}); implies --builder=kaniko",
    )
    local.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST",
        help="with --local: a registry reached over plain HTTP; repeatable",
    )
    local.add_argument(
        "--registry-ca",
        action="append",
        default=[],
        metavar="HOST=FILE",
        help="with --local: the CA certificate of a privately signed registry; repeatable",
    )
    local.add_argument("--authfile", type=Path, metavar="FILE", help="with --local: docker config.json")
    local.add_argument(
        "--output-dir", type=Path, default=Path("."), metavar="DIR", help="with --local: where outputs go"
    )
    local.add_argument(
        "--build-timeout",
        type=float,
        default=LocalBuild.build_timeout,
        metavar="SECONDS",
        help=f"with --local: the build's deadline (default {LocalBuild.build_timeout:g})",
    )
    local.add_argument("--workdir", type=Path, metavar="DIR", help="with --local: keep scratch files here")


def kaniko_executor_named(args: argparse.Namespace) -> bool:
    """Whether ``--kaniko-executor`` or ``$HERA_IMAGEBUILD_KANIKO_EXECUTOR`` names an executor."""
    return bool(args.kaniko_executor or os.environ.get(KANIKO_EXECUTOR_ENV))


def local_build_from_args(args: argparse.Namespace) -> LocalBuild:
    """The :class:`LocalBuild` the flags describe.

    Raises:
        ValueError: Naming the flag and value that are not accepted here.
    """
    for name, (flag, default, instead) in CLUSTER_ONLY.items():
        if getattr(args, name, default) != default:
            raise ValueError(f"{flag}: not used by a local build ({instead})")
    if args.s3_endpoint != "s3.amazonaws.com":
        raise ValueError(
            "--s3-endpoint: not used by a local build (download the context and pass its directory)"
        )
    proxies = {"HTTP_PROXY": args.http_proxy, "HTTPS_PROXY": args.https_proxy, "NO_PROXY": args.no_proxy}
    return LocalBuild(
        context=Path(args.context),
        destinations=tuple(args.destination),
        output_dir=args.output_dir,
        dockerfile=args.dockerfile,
        build_args=parse_pairs("--build-arg", args.build_arg),
        labels=parse_pairs("--label", args.label),
        target=args.target,
        platform=args.platform or "linux/amd64",
        mirrors={r: list(m) for r, m in parse_mirror_flags(args.mirror).items()},
        fallback=not args.no_fallback,
        base_image_cache=args.base_image_cache,
        probe_timeout=args.probe_timeout or LocalBuild.probe_timeout,
        proxies={name: value for name, value in proxies.items() if value},
        insecure_registries=tuple(args.insecure_registry),
        registry_ca={
            host: Path(path) for host, path in parse_pairs("--registry-ca", args.registry_ca).items()
        },
        authfile=args.authfile,
        builder=args.builder or (KANIKO.name if kaniko_executor_named(args) else LOCAL_BUILDER),
        kaniko_executor=args.kaniko_executor,
        build_timeout=args.build_timeout,
        workdir=args.workdir,
    )


def run_local(args: argparse.Namespace) -> int:
    """Run the build here; one line on stderr says how it ended, the pushed references go to stdout."""
    try:
        build = local_build_from_args(args)
        result = build_locally(build)
    except (BuilderUnavailable, ValueError) as error:
        print(f"hera-imagebuild build --local: {error}", file=sys.stderr)
        return EXIT_USAGE
    for ref in result.image_refs:
        print(ref, flush=True)
    steps = ", ".join(f"{step} {seconds:.1f}s" for step, seconds in result.seconds.items())
    print(f"hera-imagebuild build --local: {result.message} ({steps})", file=sys.stderr)
    return result.exit_code
