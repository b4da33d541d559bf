"""The build DAG as a versioned (Cluster)WorkflowTemplate, and how to use it by reference.

The template's name carries the package version (``hera-imagebuild-v0-1-0``),
so installing a new version never changes what running workflows reference.
Its entrypoint is the build DAG named :data:`ENTRYPOINT`; the per-build values
are its input parameters (see :mod:`hera_imagebuild.client.params`) and the
build context its input artifact ``context``.
"""

from __future__ import annotations

from typing import Literal

from hera.workflows import DAG, ClusterWorkflowTemplate, Workflow, WorkflowTemplate
from hera.workflows.models import TemplateRef

from hera_imagebuild._version import __version__
from hera_imagebuild.client import validation as v
from hera_imagebuild.client.dag import BuildHandle, build_dag
from hera_imagebuild.client.inline import task_arguments
from hera_imagebuild.client.options import BuildSettings
from hera_imagebuild.client.spec import BuildSpec

ContextKind = Literal["artifact", "pvc"]

TEMPLATE_NAME = "hera-imagebuild-v" + __version__.replace(".", "-").replace("+", "-").lower()
"""The published template's name: ``hera-imagebuild-v<major>-<minor>-<patch>`` (DNS-1123)."""
PVC_TEMPLATE_NAME = TEMPLATE_NAME.replace("hera-imagebuild-", "hera-imagebuild-pvc-", 1)
"""The variant whose build context is an existing PVC (parameters ``context-pvc``, ``context-sub-path``)."""
ENTRYPOINT = "build"
"""The build DAG inside the published template."""


def _default_name(context: ContextKind) -> str:
    return PVC_TEMPLATE_NAME if context == "pvc" else TEMPLATE_NAME


def _templates(settings: BuildSettings | None, context: ContextKind) -> list[object]:
    if context not in ("artifact", "pvc"):
        raise v.invalid("context", context, "'artifact' or 'pvc'")
    dag, steps = build_dag(ENTRYPOINT, settings or BuildSettings(), context_kind=context)
    return [dag, *steps]


def cluster_workflow_template(
    settings: BuildSettings | None = None, *, name: str | None = None, context: ContextKind = "artifact"
) -> ClusterWorkflowTemplate:
    """The build as a ClusterWorkflowTemplate (usable from every namespace).

    Args:
        settings: Template shape (resources, retries, handoff, ...); default :class:`BuildSettings`.
        name: The template's name; default :data:`TEMPLATE_NAME` (or :data:`PVC_TEMPLATE_NAME`).
        context: ``"artifact"``: the context is the input artifact ``context`` (git, S3, HTTP or
            an upstream task's output); ``"pvc"``: an existing PVC given by parameters.
    """
    name = v.dns_subdomain("name", name or _default_name(context))
    return ClusterWorkflowTemplate(
        name=name,
        labels=_labels(),
        entrypoint=ENTRYPOINT,
        templates=_templates(settings, context),  # type: ignore[arg-type]
    )


def workflow_template(
    settings: BuildSettings | None = None,
    *,
    namespace: str | None = None,
    name: str | None = None,
    context: ContextKind = "artifact",
) -> WorkflowTemplate:
    """The build as a namespaced WorkflowTemplate; arguments as :func:`cluster_workflow_template`."""
    name = v.dns_subdomain("name", name or _default_name(context))
    if namespace is not None:
        v.dns_label("namespace", namespace)
    return WorkflowTemplate(
        name=name,
        namespace=namespace,
        labels=_labels(),
        entrypoint=ENTRYPOINT,
        templates=_templates(settings, context),  # type: ignore[arg-type]
    )


def _labels() -> dict[str, str]:
    return {"app.kubernetes.io/name": "hera-imagebuild", "app.kubernetes.io/version": __version__}


def build_from_template(
    spec: BuildSpec, *, name: str, template_name: str | None = None, cluster_scope: bool = True
) -> BuildHandle:
    """Add a task that runs the installed template for ``spec``; call inside a ``DAG`` context.

    Only the spec's per-build values travel (as arguments); its ``settings`` are
    those the installed template was rendered with.

    Args:
        spec: What to build.
        name: The task's name.
        template_name: The installed template (default: this version's, matching the spec's context kind).
        cluster_scope: ``True`` for the ClusterWorkflowTemplate, ``False`` for a WorkflowTemplate.
    """
    ref = TemplateRef(
        name=template_name or _default_name("pvc" if spec.context.kind == "pvc" else "artifact"),
        template=ENTRYPOINT,
        cluster_scope=cluster_scope or None,
    )
    return BuildHandle(name=v.dns_label("name", name), template_ref=ref, arguments=task_arguments(spec))


def build_workflow(
    spec: BuildSpec,
    *,
    generate_name: str = "image-build-",
    namespace: str | None = None,
    template_name: str | None = None,
    cluster_scope: bool = True,
    service_account_name: str | None = None,
) -> Workflow:
    """A one-off Workflow that builds ``spec`` through the installed template.

    Its entrypoint DAG ``main`` has one task, ``build``, whose outputs are
    ``digest``, ``image-ref`` and ``image-refs``.
    """
    with (
        Workflow(
            generate_name=generate_name,
            namespace=namespace,
            entrypoint="main",
            service_account_name=service_account_name,
            labels=_labels(),
        ) as workflow,
        DAG(name="main"),
    ):
        build_from_template(spec, name="build", template_name=template_name, cluster_scope=cluster_scope)
    return workflow
