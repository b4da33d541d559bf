"""``hera-imagebuild secret docker-config``: registry credentials as a Kubernetes Secret.

The password is read from stdin only (``--password-stdin``), never from a
flag: flags end up in shell history and ``ps``. It appears in the output only
inside the Secret's base64 data, which is the point of the command.
"""

from __future__ import annotations

import argparse
import sys

from hera_imagebuild.cluster.cli_support import dump_yaml, report_errors
from hera_imagebuild.cluster.settings import add_connection_arguments
from hera_imagebuild.common.failures import EXIT_OK

# The name the build templates mount by default (client.spec.DEFAULT_DOCKER_CONFIG_SECRET; kept literal
# here so that `secret --help` does not import Hera). A test checks the two agree.
DEFAULT_SECRET_NAME = "hera-imagebuild-docker-config"  # noqa: S105 (a name, not a password)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``secret`` sub-commands."""
    kinds = parser.add_subparsers(dest="secret_kind", metavar="KIND", required=True)
    docker = kinds.add_parser(
        "docker-config",
        help="a kubernetes.io/dockerconfigjson Secret for one or more registries",
        description="Make a kubernetes.io/dockerconfigjson Secret (the content of `kubectl create secret "
        "docker-registry`) with the same credentials for every --registry (an origin and its mirrors). "
        "Prints YAML, or applies it with --apply.",
    )
    docker.add_argument(
        "--name", default=DEFAULT_SECRET_NAME, help=f"the Secret's name (default {DEFAULT_SECRET_NAME})"
    )
    docker.add_argument(
        "--registry",
        action="append",
        default=[],
        required=True,
        metavar="HOST[:PORT]",
        help="registry the credentials are for (docker.io for Docker Hub); repeatable",
    )
    docker.add_argument("--username", required=True, help="registry user name")
    docker.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password or token from stdin (required: there is no password flag)",
    )
    docker.add_argument("--apply", action="store_true", help="create or update the Secret in the cluster")
    add_connection_arguments(docker)


def run(args: argparse.Namespace) -> int:
    """Print or apply the Secret."""
    return report_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from hera_imagebuild.cluster.secret import (
        check_username,
        credentials_for,
        docker_config_secret,
        read_password,
        registry_config_key,
        validate_secret_name,
    )
    from hera_imagebuild.cluster.settings import settings_from_args

    settings = settings_from_args(args)
    # Everything that can be wrong without the password is checked before stdin is read.
    validate_secret_name(args.name)
    check_username(args.username)
    for registry in args.registry:
        registry_config_key(registry)
    password = read_password(sys.stdin.read())
    credentials = credentials_for(args.registry, args.username, password)  # validate before connecting
    if not args.apply:
        dump_yaml([docker_config_secret(args.name, credentials, namespace=settings.namespace)], sys.stdout)
        return EXIT_OK
    from hera_imagebuild.cluster.api import Cluster

    with Cluster(settings) as cluster:
        print(cluster.apply_docker_config(args.name, args.registry, args.username, password))
    return EXIT_OK
