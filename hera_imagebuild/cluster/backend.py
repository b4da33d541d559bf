"""One interface over the two ways into a cluster, and create-or-update on top of it."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Protocol

from hera_imagebuild.cluster.errors import STATUS_HINTS, ClusterError
from hera_imagebuild.cluster.resources import Kind, kind_of
from hera_imagebuild.cluster.settings import ConnectionSettings

Manifest = dict[str, Any]

MAX_UPDATE_CONFLICTS = 3
"""How many times an update that lost a race (409 on replace) is retried with a fresh resourceVersion."""


class Backend(Protocol):
    """Create, read and replace objects; implemented for the Kubernetes API and the Argo Server."""

    description: str
    """Where requests go, for messages."""
    namespace: str
    """The namespace used when a call does not name one."""

    def create(self, kind: Kind, manifest: Manifest, namespace: str | None = None) -> Manifest:
        """Create an object; :class:`ClusterError` with status 409 if it exists."""
        ...

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> Manifest:
        """Read an object; :class:`ClusterError` with status 404 if it does not exist."""
        ...

    def replace(self, kind: Kind, manifest: Manifest, namespace: str | None = None) -> Manifest:
        """Replace an object; the manifest carries ``metadata.resourceVersion``."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@dataclass(frozen=True)
class ApplyResult:
    """What :func:`apply` did.

    Attributes:
        action: ``created`` or ``updated``.
        kind: The object's kind.
        name: The object's name.
        namespace: Its namespace, ``None`` for cluster-scoped objects.
        manifest: The object as the server returned it.
    """

    action: str
    kind: Kind
    name: str
    namespace: str | None
    manifest: Manifest

    def __str__(self) -> str:
        where = f" in namespace {self.namespace}" if self.namespace else ""
        return f"{self.kind} {self.name} {self.action}{where}"


def object_name(manifest: Manifest) -> str:
    """``metadata.name`` of a manifest.

    Raises:
        ValueError: If it has none.
    """
    name = manifest.get("metadata", {}).get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"metadata.name: missing in the {manifest.get('kind', 'object')} to apply")
    return name


def display_name(manifest: Manifest) -> str:
    """``metadata.name``, or ``generateName`` followed by ``*`` for an object the server will name."""
    metadata = manifest.get("metadata", {})
    return str(metadata.get("name") or f"{metadata.get('generateName', '')}*")


def apply(backend: Backend, manifest: Manifest, namespace: str | None = None) -> ApplyResult:
    """Create ``manifest``, or replace the existing object of the same kind and name.

    Create first and fall back to get-then-replace on 409, so the common case
    (a new version) is one request, and an update carries the server's current
    ``resourceVersion`` (a replace without it is refused).

    Raises:
        ClusterError: If the server refuses; 409 on replace is retried
            :data:`MAX_UPDATE_CONFLICTS` times first.
        ValueError: If the manifest has no name or an unsupported kind.
    """
    kind = kind_of(manifest)
    name = object_name(manifest)
    where = (namespace or backend.namespace) if kind.namespaced else None
    try:
        created = backend.create(kind, manifest, where)
        return ApplyResult("created", kind, name, where, created)
    except ClusterError as error:
        if error.status != 409:
            raise
    for attempt in range(1, MAX_UPDATE_CONFLICTS + 1):
        current = backend.get(kind, name, where)
        update = copy.deepcopy(manifest)
        update["metadata"]["resourceVersion"] = current.get("metadata", {}).get("resourceVersion")
        try:
            replaced = backend.replace(kind, update, where)
            return ApplyResult("updated", kind, name, where, replaced)
        except ClusterError as error:
            if error.status != 409 or attempt == MAX_UPDATE_CONFLICTS:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def request_error(
    action: str, kind: Kind, name: str, status: int | None, detail: str, *, reason: str = ""
) -> ClusterError:
    """A :class:`ClusterError` saying what was attempted, what the server said and what to check."""
    hint = STATUS_HINTS.get(status or 0, "")
    http = f" (HTTP {status})" if status else ""
    text = f"{action} {kind} {name}: {detail.strip() or 'no message'}{http}"
    return ClusterError(f"{text}; {hint}" if hint else text, status=status, reason=reason)


def unreachable_error(action: str, kind: Kind, name: str, where: str, error: Exception) -> ClusterError:
    """The :class:`ClusterError` for a request that got no answer (refused, reset, DNS, timeout)."""
    return request_error(
        action, kind, name, None, f"{where} is unreachable ({type(error).__name__})", reason="Unreachable"
    )


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret replaced by ``***`` (servers sometimes echo headers)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def connect(settings: ConnectionSettings) -> Backend:
    """A backend for ``settings``: the Argo Server when one is configured, else the Kubernetes API.

    Raises:
        ClusterError: If no cluster connection can be configured.
        ValueError: If a setting is malformed.
    """
    if settings.uses_argo_server:
        from hera_imagebuild.cluster.argo_server import ArgoServerBackend

        return ArgoServerBackend(settings)
    from hera_imagebuild.cluster.kube import KubernetesBackend

    return KubernetesBackend(settings)
