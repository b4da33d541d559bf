"""``hera-imagebuild submit FILE``: submit a Hera Python or YAML Workflow and optionally watch it."""

from __future__ import annotations

import argparse

from hera_imagebuild.cluster.cli_support import add_submit_arguments, print_or_submit, report_errors


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
    add_submit_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Load, submit and (with ``--watch``) follow the workflow."""
    return report_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from hera_imagebuild.cluster.workflow_file import load_workflow

    manifest = load_workflow(args.file, name=args.workflow)
    return print_or_submit(manifest, args)
