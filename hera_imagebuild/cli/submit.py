"""``hera-imagebuild submit FILE``: submit a Hera Python or YAML Workflow and optionally watch it."""

from __future__ import annotations

import argparse
import sys

from hera_imagebuild.cluster.cli_support import (
    add_watch_arguments,
    dump_yaml,
    report_errors,
    submit_and_watch,
)
from hera_imagebuild.cluster.settings import add_connection_arguments
from hera_imagebuild.common.failures import EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``submit``'s arguments."""
    parser.add_argument(
        "file", metavar="FILE", help="a Hera Python file defining a Workflow, or a YAML Workflow"
    )
    parser.add_argument(
        "--workflow",
        metavar="NAME",
        help="which Workflow to submit when FILE defines several (variable name, name or generateName)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the Workflow as YAML; do not submit")
    add_watch_arguments(parser)
    add_connection_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Load, submit and (with ``--watch``) follow the workflow."""
    return report_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from hera_imagebuild.cluster.workflow_file import load_workflow

    manifest = load_workflow(args.file, name=args.workflow)
    if args.dry_run:
        dump_yaml([manifest], sys.stdout)
        return EXIT_OK
    return submit_and_watch(manifest, args, sys.stdout, sys.stderr)
