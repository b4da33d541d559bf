"""``hera-imagebuild install``: put the versioned build template (and executor account) into a cluster."""

from __future__ import annotations

import argparse
import sys

from hera_imagebuild.cli.render import add_registry_access_arguments, registry_access_settings
from hera_imagebuild.client.options import DEFAULT_EXECUTOR_SERVICE_ACCOUNT
from hera_imagebuild.cluster.cli_support import dump_yaml, report_errors
from hera_imagebuild.cluster.settings import add_connection_arguments
from hera_imagebuild.common.failures import EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``install``'s flags."""
    parser.add_argument(
        "--namespaced",
        action="store_true",
        help="install a WorkflowTemplate in --namespace instead of the ClusterWorkflowTemplate",
    )
    parser.add_argument(
        "--executor-service-account",
        default=DEFAULT_EXECUTOR_SERVICE_ACCOUNT,
        metavar="NAME",
        help="service account (with token Secret and executor Role) to create for Argo's own containers in "
        f"build pods (default {DEFAULT_EXECUTOR_SERVICE_ACCOUNT})",
    )
    parser.add_argument(
        "--no-executor-service-account",
        dest="executor_service_account",
        action="store_const",
        const=None,
        help="do not create the executor service account (the template must then be given another one)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be applied, as YAML; no cluster"
    )
    add_registry_access_arguments(parser)
    add_connection_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Apply (or print) the template and executor objects."""
    return report_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from hera_imagebuild.cluster.settings import settings_from_args

    settings = settings_from_args(args)
    template_settings = registry_access_settings(args)
    if args.dry_run:
        from hera_imagebuild.cluster.install import CONTEXT_KINDS, executor_manifests, template_manifest

        namespace = settings.namespace or "default"
        manifests = [
            template_manifest(
                namespaced=args.namespaced, namespace=namespace, settings=template_settings, context=context
            )
            for context in CONTEXT_KINDS
        ]
        if args.executor_service_account:
            manifests += executor_manifests(namespace, args.executor_service_account)
        dump_yaml(manifests, sys.stdout)
        return EXIT_OK

    from hera_imagebuild.cluster.api import Cluster

    with Cluster(settings) as cluster:
        results = cluster.install(
            namespaced=args.namespaced,
            settings=template_settings,
            executor_service_account=args.executor_service_account,
        )
        print(f"connected to {cluster.backend.description}")
    skipped = [r for r in results if r.action == "skipped"]
    for result in results:
        if result not in skipped:
            print(result)
    if skipped:
        print(
            f"note: {', '.join(f'{r.kind} {r.name}' for r in skipped)} not created: the Argo Server "
            "has no API for them. Apply them with a kubeconfig: "
            "hera-imagebuild install --dry-run | kubectl apply -f -",
            file=sys.stderr,
        )
    return EXIT_OK
