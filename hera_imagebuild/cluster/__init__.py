"""Client side, talking to a cluster: install templates, registry Secrets, submit and watch builds.

Public API::

    Cluster                 connect (ARGO_SERVER or kubeconfig), install, submit, wait, build
    ConnectionSettings      where and how to connect (Argo CLI conventions)
    docker_config_secret    a kubernetes.io/dockerconfigjson Secret manifest
    RegistryCredential      one registry's username and password
    WorkflowState, BuildOutput, ClusterError, WaitTimeout
"""

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
