"""Image builders: what runs between prefetch and push, one module per builder.

:data:`BUILDERS` is the table of them. kaniko is the cluster builder (the
rendered templates use it) and the default of ``prefetch --builder``; buildah
is the default of ``build --local`` because it builds for real on a machine
without a container engine. Neither the pod-side steps nor the client know a
builder's flags, paths or wording: they ask its entry here
(:class:`~hera_imagebuild.builders.base.Builder`).

Pure standard library: prefetch imports it in its pod.
"""

from __future__ import annotations

from hera_imagebuild.builders.base import Builder, BuilderSecurity, BuildJob, BuildPaths, Command, MirrorPlan
from hera_imagebuild.builders.buildah import BUILDAH
from hera_imagebuild.builders.kaniko import KANIKO

BUILDERS: dict[str, Builder] = {builder.name: builder for builder in (KANIKO, BUILDAH)}
"""Every builder by name."""

CLUSTER_BUILDER = KANIKO.name
LOCAL_BUILDER = BUILDAH.name


def builder_named(name: str, *, field: str = "--builder") -> Builder:
    """The builder called ``name``.

    Raises:
        ValueError: Naming ``field``, the value and the builders there are.
    """
    try:
        return BUILDERS[name]
    except KeyError:
        raise ValueError(f"{field}: {name!r} is not a builder; choose one of {', '.join(BUILDERS)}") from None


__all__ = [
    "BUILDAH",
    "BUILDERS",
    "CLUSTER_BUILDER",
    "KANIKO",
    "LOCAL_BUILDER",
    "BuildJob",
    "BuildPaths",
    "Builder",
    "BuilderSecurity",
    "Command",
    "MirrorPlan",
    "builder_named",
]
