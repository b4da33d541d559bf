"""hera-imagebuild: kaniko image builds as a reusable, reliable Argo Workflows DAG for Hera.

The public client API is importable from here; it loads lazily, so that the
pod-side steps (``hera_imagebuild.pod``) never import Hera.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hera_imagebuild._version import __version__

if TYPE_CHECKING:  # what type checkers see; at run time the names load lazily (see __getattr__)
    from hera_imagebuild.client.dag import (
        BuildHandle as BuildHandle,
    )
    from hera_imagebuild.client.inline import (
        ImageBuild as ImageBuild,
    )
    from hera_imagebuild.client.published import (
        TEMPLATE_NAME as TEMPLATE_NAME,
    )
    from hera_imagebuild.client.published import (
        build_from_template as build_from_template,
    )
    from hera_imagebuild.client.published import (
        build_workflow as build_workflow,
    )
    from hera_imagebuild.client.published import (
        cluster_workflow_template as cluster_workflow_template,
    )
    from hera_imagebuild.client.published import (
        workflow_template as workflow_template,
    )
    from hera_imagebuild.client.spec import (
        ArtifactContext as ArtifactContext,
    )
    from hera_imagebuild.client.spec import (
        ArtifactHandoff as ArtifactHandoff,
    )
    from hera_imagebuild.client.spec import (
        BuildSettings as BuildSettings,
    )
    from hera_imagebuild.client.spec import (
        BuildSpec as BuildSpec,
    )
    from hera_imagebuild.client.spec import (
        GitContext as GitContext,
    )
    from hera_imagebuild.client.spec import (
        LayerCache as LayerCache,
    )
    from hera_imagebuild.client.spec import (
        Proxy as Proxy,
    )
    from hera_imagebuild.client.spec import (
        PvcContext as PvcContext,
    )
    from hera_imagebuild.client.spec import (
        PvcHandoff as PvcHandoff,
    )
    from hera_imagebuild.client.spec import (
        RegistryCA as RegistryCA,
    )
    from hera_imagebuild.client.spec import (
        RetryPolicy as RetryPolicy,
    )
    from hera_imagebuild.client.spec import (
        S3Context as S3Context,
    )
    from hera_imagebuild.client.spec import (
        StepOptions as StepOptions,
    )
    from hera_imagebuild.local.build import (
        LocalBuild as LocalBuild,
    )
    from hera_imagebuild.local.build import (
        LocalResult as LocalResult,
    )
    from hera_imagebuild.local.build import (
        build_locally as build_locally,
    )

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
