"""YAML for the published templates: what ``hera-imagebuild render`` prints and ``templates/`` holds."""

from __future__ import annotations

from hera_imagebuild.client.options import BuildSettings
from hera_imagebuild.client.published import ContextKind, cluster_workflow_template, workflow_template

GENERATED_HEADER = (
    "# Generated from hera_imagebuild by `python scripts/render_templates.py` (or `make templates`).\n"
    "# Do not edit: change the Python source and regenerate.\n"
)

SHIPPED_FILES: dict[str, tuple[bool, ContextKind]] = {
    # file name under templates/: (namespaced, context kind)
    "cluster-workflow-template.yaml": (False, "artifact"),
    "workflow-template.yaml": (True, "artifact"),
    "cluster-workflow-template-pvc.yaml": (False, "pvc"),
    "workflow-template-pvc.yaml": (True, "pvc"),
}
"""The files under ``templates/`` and what each holds."""


def render_template(
    *,
    namespaced: bool = False,
    namespace: str | None = None,
    context: ContextKind = "artifact",
    settings: BuildSettings | None = None,
) -> str:
    """The published template as YAML (a ClusterWorkflowTemplate unless ``namespaced``).

    ``settings`` changes the template's shape (plain-HTTP registries, a private CA, ...);
    its name stays the versioned one, so workflows reference it the same way.
    """
    if namespaced:
        return workflow_template(settings, namespace=namespace, context=context).to_yaml()
    return cluster_workflow_template(settings, context=context).to_yaml()


def shipped_templates() -> dict[str, str]:
    """File name -> content of every file under ``templates/``."""
    return {
        name: GENERATED_HEADER + render_template(namespaced=namespaced, context=context)
        for name, (namespaced, context) in SHIPPED_FILES.items()
    }
