"""``hera-imagebuild render``: print the build template as YAML (for ``kubectl apply -f -``)."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``render`` options to ``parser``."""
    parser.add_argument(
        "--namespaced",
        action="store_true",
        help="print a namespaced WorkflowTemplate instead of a ClusterWorkflowTemplate",
    )
    parser.add_argument(
        "--namespace", metavar="NS", help="namespace of the WorkflowTemplate (with --namespaced)"
    )
    parser.add_argument(
        "--context",
        choices=("artifact", "pvc"),
        default="artifact",
        help="where the build context comes from: the input artifact 'context' (git, S3, an upstream "
        "task; default) or an existing PVC (parameters context-pvc, context-sub-path)",
    )


def run(args: argparse.Namespace) -> int:
    """Print the template; exit 2 with one line on stderr for bad options."""
    if args.namespace is not None and not args.namespaced:
        print("hera-imagebuild render: --namespace needs --namespaced", file=sys.stderr)
        return 2
    from hera_imagebuild.client.render import render_template

    try:
        text = render_template(namespaced=args.namespaced, namespace=args.namespace, context=args.context)
    except ValueError as error:
        print(f"hera-imagebuild render: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0
