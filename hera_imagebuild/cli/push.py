"""``hera-imagebuild push``: push a built OCI image layout and verify every destination serves its digest.

Exit codes: 0 pushed and verified everywhere; 75 (``EXIT_TRANSIENT``) when a
new attempt may succeed; 1 for a failure a retry cannot fix; 2 for bad
command-line input. The last line on stderr (and ``/dev/termination-log`` in a
pod) says what happened.
"""

from __future__ import annotations

import argparse
import asyncio

from hera_imagebuild.cli.step_options import merged_list, registry_access
from hera_imagebuild.common import contract
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from hera_imagebuild.common.reference import ImageReference, ReferenceError, parse_reference
from hera_imagebuild.pod.oci_layout import OciLayout, OciLayoutError
from hera_imagebuild.pod.progress import make_progress
from hera_imagebuild.pod.push import DigestMismatchError, PushFailure, push_image, push_policy, write_outputs
from hera_imagebuild.pod.registry.manifest import check_digest
from hera_imagebuild.pod.termination import exit_code, finish


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the push step's options (from :class:`~hera_imagebuild.common.contract.PushArgs`)."""
    contract.add_arguments(parser, contract.PushArgs)


def _destinations(args: argparse.Namespace) -> list[tuple[str, ImageReference]]:
    texts = merged_list(
        args.destinations, args.destinations_json, flag="--destination", json_flag="--destinations-json"
    )
    if not texts:
        raise ValueError("--destination: at least one is required (registry/repository:tag)")
    return [(text, parse_reference(text, field="--destination")) for text in texts]


def run(args: argparse.Namespace) -> int:
    """Run the push step; returns the exit code."""
    try:
        destinations = _destinations(args)
        policy = push_policy(max_attempts=args.max_attempts, timeout=args.timeout)
        expected = (
            check_digest(args.expected_digest, field="--expected-digest") if args.expected_digest else None
        )
        access = registry_access(args)
    except (ValueError, ReferenceError) as exc:
        finish(f"push: {exc}")
        return EXIT_USAGE
    progress = make_progress()
    try:
        layout = OciLayout.open(args.image)
        result = asyncio.run(
            push_image(
                layout,
                destinations,
                access=access,
                policy=policy,
                timeout=args.timeout,
                expected_digest=expected,
                progress=progress,
            )
        )
    except (OciLayoutError, DigestMismatchError) as exc:
        finish(f"push failed: {exc}")
        return EXIT_FAILED
    except PushFailure as failure:
        finish(f"push failed: {failure}")
        return exit_code(failure.kind)
    try:
        write_outputs(result, args.output_dir)
    except OSError as exc:
        finish(f"push failed: cannot write outputs to {args.output_dir!r}: {exc.strerror or exc}")
        return EXIT_FAILED
    for destination in result.destinations:
        print(destination.ref, flush=True)
    finish(f"push: {result.digest} pushed and verified at {len(result.destinations)} destination(s)")
    return EXIT_OK
