"""The kinds of objects this package reads and writes in a cluster, and where each lives."""

from __future__ import annotations

from dataclasses import dataclass

ARGO_GROUP = "argoproj.io"
ARGO_VERSION = "v1alpha1"
MANAGED_BY = {"app.kubernetes.io/managed-by": "hera-imagebuild"}
"""The label on the Secrets and executor objects ``secret`` and ``install`` create."""


@dataclass(frozen=True)
class Kind:
    """One resource kind.

    Attributes:
        name: ``kind`` as written in manifests.
        plural: The Kubernetes API's resource name.
        namespaced: Whether objects live in a namespace.
    """

    name: str
    plural: str
    namespaced: bool

    def __str__(self) -> str:
        return self.name


CLUSTER_WORKFLOW_TEMPLATE = Kind("ClusterWorkflowTemplate", "clusterworkflowtemplates", False)
WORKFLOW_TEMPLATE = Kind("WorkflowTemplate", "workflowtemplates", True)
WORKFLOW = Kind("Workflow", "workflows", True)
SECRET = Kind("Secret", "secrets", True)
SERVICE_ACCOUNT = Kind("ServiceAccount", "serviceaccounts", True)
ROLE = Kind("Role", "roles", True)
ROLE_BINDING = Kind("RoleBinding", "rolebindings", True)

ARGO_KINDS = (CLUSTER_WORKFLOW_TEMPLATE, WORKFLOW_TEMPLATE, WORKFLOW)
KINDS = {kind.name: kind for kind in (*ARGO_KINDS, SECRET, SERVICE_ACCOUNT, ROLE, ROLE_BINDING)}


def kind_of(manifest: dict[str, object]) -> Kind:
    """The :class:`Kind` of a manifest.

    Raises:
        ValueError: If the manifest's ``kind`` is not one this package handles.
    """
    name = manifest.get("kind")
    if not isinstance(name, str) or name not in KINDS:
        raise ValueError(f"kind: {name!r} is not supported; expected one of {', '.join(KINDS)}")
    return KINDS[name]
