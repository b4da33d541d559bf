"""``hera-imagebuild render``: print the build template as YAML (for ``kubectl apply -f -``)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hera_imagebuild.client.options import BuildSettings


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
    add_registry_access_arguments(parser)


def add_registry_access_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--insecure-registry`` and ``--registry-ca*``; read them with :func:`registry_access_settings`."""
    access = parser.add_argument_group(
        "registry access", "bake plain-HTTP registries and a private CA into the template (see docs/usage.md)"
    )
    access.add_argument(
        "--insecure-registry",
        action="append",
        default=[],
        metavar="HOST",
        help="registry (host[:port]) that all three steps reach over plain HTTP; repeatable",
    )
    access.add_argument(
        "--registry-ca-secret", metavar="NAME", help="Secret holding the CA files named by --registry-ca"
    )
    access.add_argument(
        "--registry-ca-config-map",
        metavar="NAME",
        help="ConfigMap holding the CA files (instead of a Secret)",
    )
    access.add_argument(
        "--registry-ca",
        action="append",
        default=[],
        metavar="HOST=FILE",
        help="registry whose TLS certificate is signed by the CA in FILE (a key ending in .crt of the "
        "Secret/ConfigMap); repeatable",
    )


def registry_access_settings(args: argparse.Namespace) -> BuildSettings | None:
    """The template shape the registry-access options ask for (``None``: the shipped default).

    Raises:
        ValueError: The options are incomplete or name a bad host, Secret, ConfigMap or file.
    """
    from hera_imagebuild.client.options import BuildSettings
    from hera_imagebuild.client.registry_access import RegistryCA

    registry_ca = None
    if args.registry_ca or args.registry_ca_secret or args.registry_ca_config_map:
        sources = [name for name in (args.registry_ca_secret, args.registry_ca_config_map) if name]
        if len(sources) != 1 or not args.registry_ca:
            raise ValueError(
                f"--registry-ca-secret={args.registry_ca_secret!r}, "
                f"--registry-ca-config-map={args.registry_ca_config_map!r} with {len(args.registry_ca)} "
                "--registry-ca is not valid; expected exactly one of --registry-ca-secret NAME and "
                "--registry-ca-config-map NAME, together with at least one --registry-ca HOST=FILE"
            )
        certificates: dict[str, str] = {}
        for pair in args.registry_ca:
            host, sep, file_name = pair.partition("=")
            if not sep or host in certificates:
                raise ValueError(
                    f"--registry-ca: {pair!r} is not valid; expected HOST=FILE such as "
                    "'harbor.example.com=corp-ca.crt', each HOST once"
                )
            certificates[host] = file_name
        registry_ca = RegistryCA(
            certificates=certificates, secret=args.registry_ca_secret, config_map=args.registry_ca_config_map
        )
    if registry_ca is None and not args.insecure_registry:
        return None
    return BuildSettings(insecure_registries=tuple(args.insecure_registry), registry_ca=registry_ca)


def run(args: argparse.Namespace) -> int:
    """Print the template; exit 2 with one line on stderr for bad options."""
    if args.namespace is not None and not args.namespaced:
        print("hera-imagebuild render: --namespace needs --namespaced", file=sys.stderr)
        return 2
    from hera_imagebuild.client.render import render_template

    try:
        text = render_template(
            namespaced=args.namespaced,
            namespace=args.namespace,
            context=args.context,
            settings=registry_access_settings(args),
        )
    except ValueError as error:
        print(f"hera-imagebuild render: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0
