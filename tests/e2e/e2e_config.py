"""Where the real-cluster suite's cluster, registries and images are (filled from HERA_IMAGEBUILD_E2E_*)."""

from __future__ import annotations

from dataclasses import dataclass

from hera_imagebuild.client.options import BuildSettings


@dataclass(frozen=True)
class E2EConfig:
    """Where the suite's cluster, registries and images are."""

    kube_context: str
    namespace: str
    runtime_image: str
    registry: str  # as pods see it: host:port
    registry_url: str  # as this machine sees the same registry
    mirror: str
    mirror_url: str
    broken_mirror: str = "broken-mirror.invalid:5000"  # .invalid never resolves (RFC 2606)


def build_settings(e2e: E2EConfig) -> BuildSettings:
    """The template shape for the suite: the kind registries speak plain HTTP."""
    return BuildSettings(insecure_registries=(e2e.registry, e2e.mirror))
