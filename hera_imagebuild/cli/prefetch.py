"""``hera-imagebuild prefetch``: resolve and pin a Dockerfile's base images through mirrors.

Exit codes: 0 every base image pinned; 75 (``EXIT_TRANSIENT``) when every
image without a working source had a source fail in a way a retry may cure;
1 for a failure a retry cannot fix (a Dockerfile error, an image every source
answered "unknown" or "denied"); 2 for bad command-line input. The last line
on stderr (and ``/dev/termination-log`` in a pod) says what happened.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path

from hera_imagebuild.builders import CLUSTER_BUILDER, builder_named
from hera_imagebuild.cli.step_options import load_json, registry_access
from hera_imagebuild.common import contract, grammar
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from hera_imagebuild.pod.dockerfile_lexer import DockerfileError
from hera_imagebuild.pod.prefetch import prefetch
from hera_imagebuild.pod.prefetch_report import failure_message, write_outputs
from hera_imagebuild.pod.prefetch_result import PrefetchConfig
from hera_imagebuild.pod.prefetch_sources import parse_mirror_flag, parse_mirrors, parse_target
from hera_imagebuild.pod.progress import make_progress
from hera_imagebuild.pod.termination import finish


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the prefetch step's options (from :class:`~hera_imagebuild.common.contract.PrefetchArgs`)."""
    contract.add_arguments(parser, contract.PrefetchArgs)
    parser.add_argument(
        "--no-fallback",
        dest="fallback",
        action="store_const",
        const="false",
        help="the same as --fallback=false: use only the mirrors",
    )


def merged_map(
    repeated: list[str] | None, json_text: str | None, *, flag: str, json_flag: str
) -> dict[str, str]:
    """``KEY=VALUE`` pairs from a JSON object of strings, then from the repeated flag (which wins).

    Raises:
        ValueError: For JSON that is not an object of strings, or a flag value without ``=``.
    """
    loaded = load_json(json_text, json_flag, '{"KEY": "VALUE"}')
    values: dict[str, str] = {}
    if loaded is not None:
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise ValueError(
                f'{json_flag}: expected a JSON object of strings like {{"KEY": "VALUE"}} ({flag})'
            )
        values.update(loaded)
    for item in repeated or []:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise ValueError(f"{flag}: {item!r} is not KEY=VALUE")
        values[key] = value
    return values


def _mirrors(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    loaded = load_json(args.mirrors_json, "--mirrors-json", '{"REGISTRY": ["MIRROR", ...]}')
    entries: list[tuple[str, list[str]]] = []
    if loaded is not None:
        if not isinstance(loaded, dict):
            raise ValueError('--mirrors-json: expected a JSON object like {"docker.io": ["mirror:5000"]}')
        for registry, targets in loaded.items():
            if isinstance(targets, str):
                targets = [t for t in targets.split(",") if t.strip()]
            if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
                raise ValueError(
                    f"--mirrors-json: the mirrors of {registry!r} must be a list of strings "
                    "or one comma-separated string"
                )
            entries.append((registry, targets))
    entries.extend(parse_mirror_flag(text) for text in args.mirrors or [])
    return entries


def _checked_values(
    values: dict[str, str], check_key: Callable[[str, str], str], field: str
) -> dict[str, str]:
    """``values`` whose keys and values follow the grammar the client holds a spec to."""
    for key, value in values.items():
        check_key(field, key)
        grammar.literal_text(f"{field} {key}", value)
    return values


def config_from_args(args: argparse.Namespace) -> PrefetchConfig:
    """Validate the command line into a :class:`PrefetchConfig`.

    Raises:
        ValueError: Naming the option, the value and what is accepted.
    """
    cache = args.cache_registry
    builder = builder_named(args.builder or CLUSTER_BUILDER)
    mirrors = parse_mirrors(_mirrors(args))
    for registry, sources in mirrors.items():
        for source in sources:
            builder.check_mirror(registry, str(source), field=f"--mirror {registry}")
    if cache:
        builder.check_mirror("", cache, field="--cache-registry")
    return PrefetchConfig(
        dockerfile=Path(args.dockerfile),
        build_args=_checked_values(
            merged_map(
                args.build_args, args.build_args_json, flag="--build-arg", json_flag="--build-args-json"
            ),
            grammar.build_arg_name,
            "--build-arg",
        ),
        labels=_checked_values(
            merged_map(args.labels, args.labels_json, flag="--label", json_flag="--labels-json"),
            grammar.label_key,
            "--label",
        ),
        target=args.target or None,
        platform=grammar.platform("--platform", args.platform),
        mirrors=mirrors,
        fallback=args.fallback == "true",
        probe_timeout=args.probe_timeout,
        cache_copy_timeout=args.cache_copy_timeout,
        cache_registry=parse_target(cache, field="--cache-registry", role="cache") if cache else None,
        access=registry_access(args),
        builder=builder,
    )


def run(args: argparse.Namespace) -> int:
    """Run the prefetch step; returns the exit code."""
    try:
        config = config_from_args(args)
    except ValueError as error:
        finish(f"prefetch: {error}")
        return EXIT_USAGE
    progress = make_progress()
    try:
        result = asyncio.run(prefetch(config, progress))
    except (DockerfileError, ValueError) as error:
        finish(f"prefetch failed: {error}")
        return EXIT_FAILED
    output_dir = Path(args.output_dir)
    try:
        write_outputs(result, output_dir)
    except OSError as error:
        finish(f"prefetch failed: cannot write outputs to {str(output_dir)!r}: {error.strerror or error}")
        return EXIT_FAILED
    if result.failed:
        finish("prefetch failed: " + " | ".join(failure_message(result).splitlines()))
        return result.exit_code
    for name in result.dockerfile.unused_build_args:
        progress.info(f"warning: build arg {name!r} is not declared by any ARG in the Dockerfile (unused)")
    finish(
        f"prefetch: {len(result.images)} base image(s) pinned in {result.seconds:.2f}s; "
        f"mirror plan: {result.mirror_plan}"
    )
    return EXIT_OK
