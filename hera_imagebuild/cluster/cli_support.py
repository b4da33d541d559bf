"""What the cluster commands share: error reporting, YAML output, submit-and-watch.

Exit codes: 0 success; 1 the workflow failed or the cluster refused a request;
2 bad input; 3 the wait timed out (the workflow is still running).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from typing import Any, TextIO

import yaml

from hera_imagebuild.cluster.errors import ClusterError
from hera_imagebuild.cluster.watch import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_TIMEOUT,
    ProgressPrinter,
    WaitTimeout,
    check_wait_bounds,
    summary,
)
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_OK, EXIT_USAGE

EXIT_TIMEOUT = 3


def report_errors(command: Callable[[], int], *, err: TextIO | None = None) -> int:
    """Run ``command``; print a :class:`ClusterError` or :class:`ValueError` as one line, not a traceback."""
    err = err or sys.stderr
    try:
        return command()
    except WaitTimeout as error:
        print(f"error: {error.message}", file=err)
        return EXIT_TIMEOUT
    except ClusterError as error:
        print(f"error: {error.message}", file=err)
        return EXIT_FAILED
    except ValueError as error:
        print(f"error: {error}", file=err)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return 130


def dump_yaml(manifests: Iterable[dict[str, Any]], out: TextIO) -> None:
    """Print manifests as a multi-document YAML stream (``kubectl apply -f -`` reads it)."""
    out.write(yaml.safe_dump_all(list(manifests), sort_keys=False, default_flow_style=False))


def add_submit_arguments(parser: argparse.ArgumentParser) -> None:
    """``--dry-run``, the watch flags and the connection flags, shared by ``build`` and ``submit``."""
    from hera_imagebuild.cluster.settings import add_connection_arguments

    parser.add_argument("--dry-run", action="store_true", help="print the Workflow as YAML; do not submit")
    group = parser.add_argument_group("watch")
    group.add_argument("-w", "--watch", action="store_true", help="follow the workflow until it finishes")
    group.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"with --watch: give up waiting after this long (default {DEFAULT_TIMEOUT:g})",
    )
    group.add_argument(
        "--poll-interval",
        type=float,
        default=DEFAULT_POLL_INTERVAL,
        metavar="SECONDS",
        help=f"with --watch: seconds between status requests (default {DEFAULT_POLL_INTERVAL:g})",
    )
    add_connection_arguments(parser)


def print_or_submit(manifest: dict[str, Any], args: argparse.Namespace) -> int:
    """With ``--dry-run`` print ``manifest``; otherwise submit it (and watch with ``--watch``)."""
    if args.dry_run:
        dump_yaml([manifest], sys.stdout)
        return EXIT_OK
    return submit_and_watch(manifest, args, sys.stdout, sys.stderr)


def submit_and_watch(
    manifest: dict[str, Any], args: argparse.Namespace, out: TextIO, err: TextIO | None = None
) -> int:
    """Submit ``manifest``; with ``args.watch`` follow it and report the images (failures on ``err``)."""
    from hera_imagebuild.cluster.api import Cluster
    from hera_imagebuild.cluster.settings import settings_from_args

    if args.watch:
        check_wait_bounds(args.timeout, args.poll_interval)  # before a workflow exists
    with Cluster(settings_from_args(args)) as cluster:
        submitted = cluster.submit(manifest)
        print(f"workflow {submitted.name} submitted in namespace {submitted.namespace}", file=out)
        if not args.watch:
            return EXIT_OK
        state = cluster.wait(
            submitted.name,
            namespace=submitted.namespace,
            timeout=args.timeout,
            poll_interval=args.poll_interval,
            on_update=ProgressPrinter(out),
        )
    for line in summary(state):
        print(line, file=out if state.succeeded else (err or sys.stderr))
    return EXIT_OK if state.succeeded else EXIT_FAILED
