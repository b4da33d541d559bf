"""Client side, talking to a cluster: install templates, registry Secrets, submit and watch builds.

Public API::

    Cluster                 connect (ARGO_SERVER or kubeconfig), install, submit, wait, build
    ConnectionSettings      where and how to connect (Argo CLI conventions)
    docker_config_secret    a kubernetes.io/dockerconfigjson Secret manifest
    RegistryCredential      one registry's username and password
    WorkflowState, BuildOutput, ClusterError, WaitTimeout

Names are imported on first use, so that commands that need neither Hera nor
the Kubernetes client (``secret docker-config`` printing YAML) do not load them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hera_imagebuild.cluster.api import Cluster, Submitted
    from hera_imagebuild.cluster.errors import ClusterError
    from hera_imagebuild.cluster.secret import (
        RegistryCredential,
        credentials_for,
        docker_config,
        docker_config_secret,
    )
    from hera_imagebuild.cluster.settings import ConnectionSettings
    from hera_imagebuild.cluster.status import BuildOutput, WorkflowState
    from hera_imagebuild.cluster.watch import WaitTimeout

_MODULES = {
    "Cluster": "api",
    "Submitted": "api",
    "ClusterError": "errors",
    "RegistryCredential": "secret",
    "credentials_for": "secret",
    "docker_config": "secret",
    "docker_config_secret": "secret",
    "ConnectionSettings": "settings",
    "BuildOutput": "status",
    "WorkflowState": "status",
    "WaitTimeout": "watch",
}

__all__ = [
    "BuildOutput",
    "Cluster",
    "ClusterError",
    "ConnectionSettings",
    "RegistryCredential",
    "Submitted",
    "WaitTimeout",
    "WorkflowState",
    "credentials_for",
    "docker_config",
    "docker_config_secret",
]


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_MODULES[name]}"), name)
