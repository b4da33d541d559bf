"""What ``install`` puts into a cluster: the versioned build template and the executor's account.

The template's name carries the package version (``hera-imagebuild-v0-1-0``),
so installing a new version creates a new object next to the old one and
workflows that reference either keep working. Create-or-update only ever
touches the object of the same name.

Build pods run with ``automountServiceAccountToken: false`` (user code in a
``RUN`` step gets no cluster credentials). Argo then needs an *executor*
service account for its own containers, with a token Secret (Kubernetes no
longer creates those) and the executor's minimal role: create and patch
``workflowtaskresults``. ``install`` creates those in the workflow namespace.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from hera_imagebuild.client.options import DEFAULT_EXECUTOR_SERVICE_ACCOUNT, BuildSettings
from hera_imagebuild.cluster.backend import ApplyResult, Backend, Manifest, apply
from hera_imagebuild.cluster.errors import ClusterError
from hera_imagebuild.cluster.resources import MANAGED_BY, SECRET, kind_of

ContextKind = Literal["artifact", "pvc"]
CONTEXT_KINDS: tuple[ContextKind, ...] = ("artifact", "pvc")
"""Both template variants: context from an input artifact (git, S3, upstream task), and from a PVC."""


def template_manifest(
    *,
    namespaced: bool = False,
    namespace: str | None = None,
    name: str | None = None,
    settings: BuildSettings | None = None,
    context: ContextKind = "artifact",
) -> Manifest:
    """The build template to install, as a manifest.

    Args:
        namespaced: A namespaced ``WorkflowTemplate`` instead of the ``ClusterWorkflowTemplate``.
        namespace: The WorkflowTemplate's namespace.
        name: Override the versioned name (tests install a "next" version this way).
        settings: The template's shape (resources, retries, handoff, ...); default: the client's defaults.
        context: Which variant: build context from an input artifact, or from a PVC.
    """
    from hera_imagebuild.client import published as published

    kwargs: dict[str, Any] = {"name": name, "context": context}
    if namespaced:
        template = published.workflow_template(settings, namespace=namespace, **kwargs)
    else:
        template = published.cluster_workflow_template(settings, **kwargs)
    manifest: Manifest = template.to_dict()
    return manifest


def executor_manifests(
    namespace: str, service_account: str = DEFAULT_EXECUTOR_SERVICE_ACCOUNT
) -> list[Manifest]:
    """ServiceAccount, its token Secret, and the executor Role and RoleBinding for ``namespace``."""
    metadata = {"namespace": namespace, "labels": dict(MANAGED_BY)}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": service_account, **metadata}},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": f"{service_account}.service-account-token",
                **metadata,
                "annotations": {"kubernetes.io/service-account.name": service_account},
            },
            "type": "kubernetes.io/service-account-token",
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": service_account, **metadata},
            "rules": [
                {
                    "apiGroups": ["argoproj.io"],
                    "resources": ["workflowtaskresults"],
                    "verbs": ["create", "patch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": service_account, **metadata},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": service_account},
            "subjects": [{"kind": "ServiceAccount", "name": service_account, "namespace": namespace}],
        },
    ]


def install(
    backend: Backend,
    *,
    namespaced: bool = False,
    namespace: str | None = None,
    name: str | None = None,
    settings: BuildSettings | None = None,
    contexts: Sequence[ContextKind] = CONTEXT_KINDS,
    executor_service_account: str | None = DEFAULT_EXECUTOR_SERVICE_ACCOUNT,
) -> list[ApplyResult]:
    """Create or update the build template and (optionally) the executor account.

    Args:
        backend: The cluster connection.
        namespaced: Install a ``WorkflowTemplate`` in ``namespace`` instead of the
            ``ClusterWorkflowTemplate``.
        namespace: Where the WorkflowTemplate and the executor account go
            (default: the backend's namespace).
        name: Override the versioned template name (only with a single context kind).
        settings: The template's shape.
        contexts: Which template variants to install (default: both).
        executor_service_account: The executor account to create, or ``None`` to skip it.

    Returns:
        One result per object, templates first. Executor objects the backend
        cannot create (the Argo Server has no API for them) are ``skipped``.

    Raises:
        ClusterError: If the server refuses a request.
    """
    if name is not None and len(contexts) != 1:
        raise ValueError(f"name: {name!r} can only name one template; give a single context kind")
    namespace = namespace or backend.namespace
    results = [
        apply(
            backend,
            template_manifest(
                namespaced=namespaced, namespace=namespace, name=name, settings=settings, context=c
            ),
            namespace,
        )
        for c in contexts
    ]
    if executor_service_account:
        for manifest in executor_manifests(namespace, executor_service_account):
            results.append(_apply_executor_object(backend, manifest, namespace))
    return results


def _apply_executor_object(backend: Backend, manifest: Manifest, namespace: str) -> ApplyResult:
    kind = kind_of(manifest)
    name = manifest["metadata"]["name"]
    try:
        if kind != SECRET:
            return apply(backend, manifest, namespace)
        # Kubernetes fills a token Secret's data; replacing it would drop the token: create once.
        try:
            return ApplyResult("created", kind, name, namespace, backend.create(kind, manifest, namespace))
        except ClusterError as error:
            if error.status != 409:
                raise
            return ApplyResult("unchanged", kind, name, namespace, backend.get(kind, name, namespace))
    except ClusterError as error:
        if error.reason != "Unsupported":
            raise
        # The Argo Server has no API for these kinds: report, do not fail the template install.
        return ApplyResult("skipped", kind, name, namespace, {})
