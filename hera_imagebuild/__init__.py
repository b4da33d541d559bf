"""hera-imagebuild: kaniko image builds as a reusable, reliable Argo Workflows DAG for Hera.

The public client API is importable from here; it loads lazily, so that the
pod-side steps (``hera_imagebuild.pod``) never import Hera.
"""

from __future__ import annotations

import importlib
from typing import Any

from hera_imagebuild._version import __version__

# Public name -> module that defines it (client side; most import Hera).
_CLIENT_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        (
            "BuildSpec",
            "GitContext",
            "S3Context",
            "PvcContext",
            "ArtifactContext",
            "LayerCache",
            "Proxy",
            "BuildSettings",
            "StepOptions",
            "RetryPolicy",
            "ArtifactHandoff",
            "PvcHandoff",
            "RegistryCA",
        ),
        "hera_imagebuild.client.spec",
    ),
    "ImageBuild": "hera_imagebuild.client.inline",
    # build --local's Python twin (no Hera): for notebooks and tests.
    **dict.fromkeys(("LocalBuild", "LocalResult", "build_locally"), "hera_imagebuild.local.build"),
    "BuildHandle": "hera_imagebuild.client.dag",
    **dict.fromkeys(
        (
            "TEMPLATE_NAME",
            "build_from_template",
            "build_workflow",
            "cluster_workflow_template",
            "workflow_template",
        ),
        "hera_imagebuild.client.published",
    ),
}

__all__ = ["__version__", *_CLIENT_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _CLIENT_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hera_imagebuild' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
