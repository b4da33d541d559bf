"""``hera-imagebuild build``: one image build from flags, run by the installed template or here.

The flags map onto :class:`hera_imagebuild.client.spec.BuildSpec`; the build
is submitted as a one-off Workflow whose single task references the
installed (Cluster)WorkflowTemplate. With ``--local`` the same flags run the
build on this machine (:mod:`hera_imagebuild.cli.build_local`).
"""

from __future__ import annotations

import argparse
from typing import Any

from hera_imagebuild.cluster.cli_support import add_submit_arguments, print_or_submit, report_errors

CONTEXT_HELP = (
    "build context: a git URL (https://host/org/repo.git, ssh://..., git@host:org/repo.git; "
    "--git-ref picks the revision), s3://bucket/key.tar.gz, or pvc:CLAIM[/SUB/PATH]"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``build``'s flags."""
    spec = parser.add_argument_group("build")
    spec.add_argument(
        "--context", required=True, metavar="URL", help=CONTEXT_HELP + "; with --local, a directory"
    )
    spec.add_argument(
        "--git-ref", default="main", metavar="REF", help="git branch, tag or commit (default main)"
    )
    spec.add_argument("--s3-endpoint", default="s3.amazonaws.com", metavar="HOST[:PORT]", help="S3 endpoint")
    spec.add_argument("--s3-credentials-secret", metavar="NAME", help="Secret with accessKey and secretKey")
    spec.add_argument("--s3-region", metavar="REGION", help="S3 region")
    spec.add_argument("--s3-insecure", action="store_true", help="reach the S3 endpoint over plain HTTP")
    spec.add_argument("-f", "--dockerfile", default="Dockerfile", help="Dockerfile path in the context")
    spec.add_argument(
        "-d",
        "--destination",
        action="append",
        default=[],
        required=True,
        metavar="REF",
        help="registry/repository:tag to push to; repeatable (the first is the output image-ref)",
    )
    spec.add_argument("--build-arg", action="append", default=[], metavar="NAME=VALUE", help="repeatable")
    spec.add_argument("--label", action="append", default=[], metavar="KEY=VALUE", help="repeatable")
    spec.add_argument("--target", default="", help="stage to build (default: the last)")
    spec.add_argument("--platform", help="os/arch[/variant] to build for (default linux/amd64)")
    spec.add_argument(
        "--mirror",
        action="append",
        default=[],
        metavar="REGISTRY=MIRROR[,MIRROR...]",
        help="mirrors to try in order for REGISTRY (docker.io for Docker Hub); repeatable",
    )
    spec.add_argument("--no-fallback", action="store_true", help="never pull from the original registry")
    spec.add_argument(
        "--cache-repo", metavar="REPO", help="kaniko layer cache repository (turns the cache on)"
    )
    spec.add_argument(
        "--base-image-cache", default="", metavar="HOST[/PREFIX]", help="copy base images there"
    )
    spec.add_argument("--docker-config-secret", metavar="NAME", help="registry credential Secret to mount")
    spec.add_argument("--probe-timeout", type=float, metavar="SECONDS", help="per-source probe timeout")
    spec.add_argument("--http-proxy", default="", metavar="URL")
    spec.add_argument("--https-proxy", default="", metavar="URL")
    spec.add_argument("--no-proxy", default="", metavar="HOSTS")
    spec.add_argument("--disable-http2", action="store_true", help="force HTTP/1.1 in kaniko")
    spec.add_argument("--executor-image", metavar="IMAGE", help="kaniko image")
    spec.add_argument("--runtime-image", metavar="IMAGE", help="hera-imagebuild runtime image")
    spec.add_argument("--template-name", metavar="NAME", help="installed template (default: this version's)")
    spec.add_argument(
        "--namespaced-template",
        action="store_true",
        help="reference the WorkflowTemplate in the namespace, not the ClusterWorkflowTemplate",
    )
    add_submit_arguments(parser)
    from hera_imagebuild.cli.build_local import add_local_arguments

    add_local_arguments(parser)


def parse_pairs(flag: str, values: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` flag values as a mapping (a later one wins).

    Raises:
        ValueError: For a value without ``=`` or without a name.
    """
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise ValueError(f"{flag}: {value!r} is not NAME=VALUE")
        pairs[key] = rest
    return pairs


def parse_mirror_flags(values: list[str]) -> dict[str, tuple[str, ...]]:
    """``REGISTRY=MIRROR[,MIRROR...]`` flag values as ordered mirrors per registry.

    Raises:
        ValueError: For a value that is not of that form.
    """
    mirrors: dict[str, tuple[str, ...]] = {}
    for value in values:
        registry, sep, rest = value.partition("=")
        targets = tuple(m.strip() for m in rest.split(",") if m.strip())
        if not sep or not registry or not targets:
            raise ValueError(
                f"--mirror: {value!r} is not REGISTRY=MIRROR[,MIRROR...], e.g. docker.io=mirror.local"
            )
        mirrors[registry] = mirrors.get(registry, ()) + targets
    return mirrors


def context_from_args(args: argparse.Namespace) -> Any:
    """The spec's context for ``--context`` and its companion flags.

    Raises:
        ValueError: If ``--context`` has none of the accepted forms.
    """
    from hera_imagebuild.client.context import GitContext, PvcContext, S3Context

    text: str = args.context
    if text.startswith("pvc:"):
        claim, _, sub_path = text.removeprefix("pvc:").partition("/")
        return PvcContext(claim_name=claim, sub_path=sub_path)
    if text.startswith("s3://"):
        return S3Context(
            url=text,
            endpoint=args.s3_endpoint,
            credentials_secret=args.s3_credentials_secret,
            region=args.s3_region,
            insecure=args.s3_insecure,
        )
    if text.startswith(("https://", "http://", "ssh://", "git://", "git@")):
        return GitContext(url=text.removeprefix("git+"), ref=args.git_ref)
    raise ValueError(f"--context: {text!r} is not a context; expected {CONTEXT_HELP}")


def spec_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~hera_imagebuild.client.spec.BuildSpec` the flags describe.

    Raises:
        ValueError: Naming the flag and value that are not accepted.
    """
    from hera_imagebuild.client.spec import BuildSpec, LayerCache, Proxy

    optional: dict[str, Any] = {
        "platform": args.platform,
        "docker_config_secret": args.docker_config_secret,
        "probe_timeout": args.probe_timeout,
        "executor_image": args.executor_image,
        "runtime_image": args.runtime_image,
    }
    return BuildSpec(
        context=context_from_args(args),
        destinations=tuple(args.destination),
        dockerfile=args.dockerfile,
        build_args=parse_pairs("--build-arg", args.build_arg),
        labels=parse_pairs("--label", args.label),
        target=args.target,
        mirrors=parse_mirror_flags(args.mirror),
        fallback=not args.no_fallback,
        cache=LayerCache(repo=args.cache_repo) if args.cache_repo else None,
        base_image_cache=args.base_image_cache,
        proxy=Proxy(http=args.http_proxy, https=args.https_proxy, no_proxy=args.no_proxy),
        disable_http2=args.disable_http2,
        **{k: v for k, v in optional.items() if v is not None},
    )


def run(args: argparse.Namespace) -> int:
    """Submit (or print) the one-off build workflow; with ``--local``, build here."""
    if args.local:
        from hera_imagebuild.cli.build_local import run_local

        return run_local(args)
    return report_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from hera_imagebuild.cluster.api import one_off_workflow

    manifest = one_off_workflow(
        spec_from_args(args), template_name=args.template_name, cluster_scope=not args.namespaced_template
    )
    return print_or_submit(manifest, args)
