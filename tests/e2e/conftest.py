"""The real-cluster suite: configuration from the environment, skipped without a cluster.

``scripts/e2e-cluster.sh`` sets a kind cluster up and prints the variables;
docs/cluster.md explains each. Nothing here runs without
``HERA_IMAGEBUILD_E2E_KUBECONTEXT``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from e2e_config import E2EConfig, build_settings

from hera_imagebuild.cluster import Cluster, ConnectionSettings

SKIP_REASON = (
    "no Kubernetes cluster: set HERA_IMAGEBUILD_E2E_KUBECONTEXT (and the other HERA_IMAGEBUILD_E2E_* "
    "variables scripts/e2e-cluster.sh prints) to run the real-cluster suite; see docs/cluster.md"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test here ``cluster``; skip them all, with the reason, when no cluster is configured."""
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.cluster)
            if not os.environ.get("HERA_IMAGEBUILD_E2E_KUBECONTEXT"):
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON), append=False)


@pytest.fixture(scope="session")
def e2e() -> E2EConfig:
    env = os.environ
    return E2EConfig(
        kube_context=env["HERA_IMAGEBUILD_E2E_KUBECONTEXT"],
        namespace=env.get("HERA_IMAGEBUILD_E2E_NAMESPACE", "argo"),
        runtime_image=env.get("HERA_IMAGEBUILD_E2E_RUNTIME_IMAGE", "hera-imagebuild-runtime:e2e"),
        registry=env.get("HERA_IMAGEBUILD_E2E_REGISTRY", "kind-registry:5000"),
        registry_url=env.get("HERA_IMAGEBUILD_E2E_REGISTRY_URL", "http://127.0.0.1:5001"),
        mirror=env.get("HERA_IMAGEBUILD_E2E_MIRROR", "kind-mirror:5000"),
        mirror_url=env.get("HERA_IMAGEBUILD_E2E_MIRROR_URL", "http://127.0.0.1:5002"),
    )


@pytest.fixture(scope="session")
def cluster(e2e: E2EConfig) -> Iterator[Cluster]:
    """A connection through the kubeconfig context, with this version's templates installed."""
    settings = ConnectionSettings(context=e2e.kube_context, namespace=e2e.namespace)
    with Cluster(settings) as connected:
        connected.install(settings=build_settings(e2e))
        yield connected
