"""End to end on a real cluster: kind + Argo Workflows + registries + kaniko (see scripts/e2e-cluster.sh).

Skipped unless HERA_IMAGEBUILD_E2E_KUBECONTEXT names a prepared cluster.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import httpx
import pytest
from e2e_config import E2EConfig, build_settings

from hera_imagebuild.cli.main import main
from hera_imagebuild.client.context import PvcContext
from hera_imagebuild.client.published import TEMPLATE_NAME, build_from_template
from hera_imagebuild.client.spec import BuildSpec
from hera_imagebuild.cluster import Cluster
from hera_imagebuild.cluster.resources import CLUSTER_WORKFLOW_TEMPLATE, WORKFLOW
from hera_imagebuild.cluster.watch import ProgressPrinter

REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)
BUILD_TIMEOUT = 900.0


def served_digest(registry_url: str, repository: str, tag: str) -> str:
    """The digest the registry serves for ``repository:tag`` (HEAD on the manifest)."""
    response = httpx.head(
        f"{registry_url}/v2/{repository}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES}, timeout=30
    )
    response.raise_for_status()
    return response.headers["Docker-Content-Digest"]


def spec_for(e2e: E2EConfig, tag: str) -> BuildSpec:
    return BuildSpec(
        context=PvcContext(claim_name="e2e-context", sub_path="app"),
        destinations=(f"{e2e.registry}/e2e/app:{tag}",),
        build_args={"GREETING": tag},
        mirrors={"docker.io": (e2e.broken_mirror, e2e.mirror)},
        runtime_image=e2e.runtime_image,
        probe_timeout=3.0,
    )


def test_install_is_idempotent_and_versioned(e2e: E2EConfig, cluster: Cluster) -> None:
    results = cluster.install(
        settings=build_settings(e2e), contexts=["artifact"], executor_service_account=None
    )
    assert [r.action for r in results] == ["updated"]
    stored = cluster.backend.get(CLUSTER_WORKFLOW_TEMPLATE, TEMPLATE_NAME)
    assert stored["metadata"]["name"] == TEMPLATE_NAME


def test_cli_build_through_mirrors_with_the_first_broken_pushes_the_reported_digest(
    e2e: E2EConfig, cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = f"cli-{int(time.time())}"
    argv = [
        "build", "--context", "pvc:e2e-context/app",
        "-d", f"{e2e.registry}/e2e/app:{tag}",
        "--mirror", f"docker.io={e2e.broken_mirror},{e2e.mirror}",
        "--build-arg", f"GREETING={tag}",
        "--runtime-image", e2e.runtime_image, "--probe-timeout", "3",
        "--kube-context", e2e.kube_context, "-n", e2e.namespace,
        "--watch", "--timeout", str(BUILD_TIMEOUT), "--poll-interval", "3",
    ]  # fmt: skip
    code = main(argv)
    out, err = capsys.readouterr()
    sys.stdout.write(out)
    assert code == 0, err
    refs = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("image build: ")]
    assert len(refs) == 1
    digest = refs[0].split("@", 1)[1]
    assert served_digest(e2e.registry_url, "e2e/app", tag) == digest
    # The base image came through the healthy mirror (a pull-through cache keeps what it served).
    catalog = httpx.get(f"{e2e.mirror_url}/v2/_catalog", timeout=30).json()
    assert "library/busybox" in catalog["repositories"]


def test_pipeline_runs_the_built_image_by_digest(e2e: E2EConfig, cluster: Cluster) -> None:
    from hera.workflows import DAG, Container, Parameter, Workflow
    from hera.workflows.models import ValueFrom

    tag = f"api-{int(time.time())}"
    with Workflow(generate_name="e2e-pipeline-", entrypoint="main") as workflow, DAG(name="main"):
        image = build_from_template(spec_for(e2e, tag), name="image")
        greet = Container(
            name="greet",
            image="{{inputs.parameters.image}}",
            command=["cat", "/greeting.txt"],
            inputs=[Parameter(name="image")],
            outputs=[Parameter(name="greeting", value_from=ValueFrom(path="/greeting.txt"))],
        )(arguments={"image": image.image_ref})
        image >> greet
    submitted = cluster.submit(workflow)
    state = cluster.wait(
        submitted.name, timeout=BUILD_TIMEOUT, poll_interval=3, on_update=ProgressPrinter(sys.stdout)
    )
    assert state.succeeded, state.message
    output = state.outputs[0]
    assert served_digest(e2e.registry_url, "e2e/app", tag) == output.digest
    final = cluster.backend.get(WORKFLOW, submitted.name)
    greet_node = next(n for n in final["status"]["nodes"].values() if n.get("displayName") == "greet")
    params = {p["name"]: p["value"] for p in greet_node["outputs"]["parameters"]}
    assert params["greeting"].strip() == f"{tag} from hera-imagebuild e2e"


@pytest.mark.skipif(
    not os.environ.get("HERA_IMAGEBUILD_E2E_ML"),
    reason="the ML pipeline example needs its git repository, dataset and a GPU node: "
    "set HERA_IMAGEBUILD_E2E_ML=1 on a cluster that has them",
)
def test_ml_pipeline_example(e2e: E2EConfig, cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    example = REPO_ROOT / "examples" / "train_pipeline_templateref.py"
    code = main(
        ["submit", str(example), "--kube-context", e2e.kube_context, "-n", e2e.namespace,
         "--watch", "--timeout", "3600", "--poll-interval", "10"]
    )  # fmt: skip
    out, err = capsys.readouterr()
    sys.stdout.write(out)
    assert code == 0, err
    assert "image trainer-image: " in out
