"""Contract tests of ``build``/``submit`` with ``--watch`` and the Python API.

The contract server stores the submitted Workflow and plays a scripted status
sequence (tests/cluster/contract_server.py: build_statuses): prefetch, a build
whose first attempt fails with a transient error and is retried, push, then
success with the digest, or a second, deterministic build failure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from contract_server import ContractServer, Fault, build_statuses

from hera_imagebuild.client.context import GitContext
from hera_imagebuild.client.published import PVC_TEMPLATE_NAME, TEMPLATE_NAME
from hera_imagebuild.client.spec import BuildSpec
from hera_imagebuild.cluster import Cluster, ConnectionSettings, WaitTimeout
from hera_imagebuild.cluster.install import template_manifest

if TYPE_CHECKING:
    from conftest import CliRunner

DIGEST = "sha256:" + "ab" * 32
WORKFLOWS = "/apis/argoproj.io/v1alpha1/namespaces/ci/workflows"
BUILD = [
    "build",
    "--context", "https://github.com/example/app.git",
    "--git-ref", "v1.2.0",
    "-d", "registry.example.com/team/app:v1",
    "-d", "mirror.example.com/team/app:v1",
    "--mirror", "docker.io=broken.mirror.example.com,mirror.gcr.io",
    "--build-arg", "PYTHON_VERSION=3.12",
    "--watch", "--poll-interval", "0.01", "--timeout", "20",
]  # fmt: skip


@pytest.fixture
def installed(contract_server: ContractServer) -> ContractServer:
    """The contract server with this version's ClusterWorkflowTemplate in place."""
    contract_server.put_object(template_manifest())
    contract_server.workflow_statuses = build_statuses()
    return contract_server


def parameters(workflow: dict[str, Any]) -> dict[str, str]:
    task = workflow["spec"]["templates"][0]["dag"]["tasks"][0]
    assert task["templateRef"] == {"name": TEMPLATE_NAME, "template": "build", "clusterScope": True}
    return {p["name"]: p["value"] for p in task["arguments"]["parameters"]}


def test_contract_build_watch_reports_steps_retry_reason_and_digests(
    kube_env: Path, installed: ContractServer, cli: CliRunner
) -> None:
    code, out, err = cli(BUILD)
    assert code == 0, err

    create = installed.calls("POST", WORKFLOWS)
    assert len(create) == 1
    params = parameters(create[0].body)
    assert json.loads(params["destinations"]) == [
        "registry.example.com/team/app:v1",
        "mirror.example.com/team/app:v1",
    ]
    assert json.loads(params["mirrors"]) == {"docker.io": ["broken.mirror.example.com", "mirror.gcr.io"]}
    assert json.loads(params["build-args"]) == {"PYTHON_VERSION": "3.12"}
    name = installed.calls("GET", WORKFLOWS)[0].path.rsplit("/", 1)[1]
    assert name.startswith("image-build-")

    assert f"workflow {name} submitted in namespace ci" in out
    assert "build.prefetch: Succeeded (3s)" in out
    assert "build.build: Running attempt 2" in out
    assert "retried after: error building image: GET https://mirror/v2/: connection reset by peer" in out
    assert "build.push: Succeeded (4s)" in out
    assert f"workflow {name} succeeded in 45s" in out
    assert out.strip().splitlines()[-2:] == [
        f"image build: registry.example.com/team/app@{DIGEST}",
        f"image build: mirror.example.com/team/app@{DIGEST}",
    ]
    # One line per change, not per poll: the scripted sequence has 7 states.
    assert len(installed.calls("GET", WORKFLOWS)) == len(installed.workflow_statuses)
    assert out.count("build.prefetch: Running") == 1


def test_contract_failed_build_names_the_step_and_its_message(
    kube_env: Path, installed: ContractServer, cli: CliRunner
) -> None:
    installed.workflow_statuses = build_statuses(fail_build=True)
    code, out, err = cli(BUILD)
    assert code == 1
    assert (
        "failed step build.build (build): error building image: failed to execute command: exit status 2"
        in err
    )
    assert "workflow image-build-" in err
    assert "failed: child 'image-build-" in err
    assert "image build:" not in out


def test_contract_watch_times_out_with_its_own_exit_code(
    kube_env: Path, installed: ContractServer, cli: CliRunner
) -> None:
    installed.workflow_statuses = build_statuses()[:3]  # never finishes
    code, _, err = cli([*BUILD[:-2], "--timeout", "0.3"])
    assert code == 3
    assert "did not finish within 0.3 s (phase Running); it is still running in the cluster" in err


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--timeout", "0"), ("--timeout", "nan"), ("--poll-interval", "-1"), ("--poll-interval", "nan")],
)
def test_contract_watch_bounds_are_checked_before_anything_is_submitted(
    flag: str, value: str, kube_env: Path, installed: ContractServer, cli: CliRunner
) -> None:
    """A wait that could not work (or never end, for NaN) is refused without leaving a workflow behind."""
    code, out, err = cli([*BUILD, flag, value])
    assert code == 2
    assert out == ""
    assert "expected positive seconds" in err
    assert not installed.calls("POST", WORKFLOWS)


def test_contract_watch_rides_out_transient_server_errors_but_not_a_missing_workflow(
    kube_env: Path, installed: ContractServer, cli: CliRunner
) -> None:
    installed.faults.append(
        Fault(500, method="GET", path="/workflows/", times=2, message="etcd leader changed")
    )
    assert cli(BUILD)[0] == 0
    assert len(installed.calls("GET", WORKFLOWS)) == len(installed.workflow_statuses) + 2

    installed.faults.append(Fault(404, method="GET", path="/workflows/", message='workflows "x" not found'))
    code, _, err = cli(BUILD)
    assert code == 1
    assert "error: get Workflow image-build-" in err
    assert "not found (HTTP 404)" in err


def test_contract_build_through_the_argo_server(
    argo_env: pytest.MonkeyPatch, installed: ContractServer, cli: CliRunner
) -> None:
    code, out, _ = cli(BUILD)
    assert code == 0
    create = installed.calls("POST", "^/api/v1/workflows/ci$")
    assert len(create) == 1
    assert create[0].body["namespace"] == "ci"
    assert parameters(create[0].body["workflow"])["dockerfile"] == "Dockerfile"
    assert f"image build: registry.example.com/team/app@{DIGEST}" in out


def test_contract_workflow_referencing_a_template_that_is_not_installed_is_refused(
    kube_env: Path, contract_server: ContractServer, cli: CliRunner
) -> None:
    code, _, err = cli([*BUILD, "--template-name", "hera-imagebuild-v0-0-1"])
    assert code == 1
    assert "error: create Workflow image-build-*: " in err
    assert "hera-imagebuild-v0-0-1" in err
    assert "(HTTP 400)" in err
    contract_server.invalid_bodies.clear()  # refused on purpose


def test_contract_python_api_builds_and_returns_the_digest(kube_env: Path, installed: ContractServer) -> None:
    spec = BuildSpec(
        context=GitContext(url="https://github.com/example/app.git"),
        destinations=("registry.example.com/team/app:v1",),
    )
    seen: list[str] = []
    with Cluster(ConnectionSettings()) as cluster:
        state = cluster.build(spec, timeout=10, poll_interval=0.01, on_update=lambda s: seen.append(s.phase))
    assert state.succeeded
    assert [o.digest for o in state.outputs] == [DIGEST]
    assert state.outputs[0].image_ref == f"registry.example.com/team/app@{DIGEST}"
    assert seen[0] == "Pending"
    assert seen[-1] == "Succeeded"
    retried = next(s for s in state.steps if s.path == "build.build")
    assert len(retried.attempts) == 2
    assert retried.retry_reasons == ["error building image: GET https://mirror/v2/: connection reset by peer"]


def test_contract_python_api_build_refuses_a_bad_timeout_before_submitting(
    kube_env: Path, installed: ContractServer
) -> None:
    spec = BuildSpec(
        context=GitContext(url="https://github.com/example/app.git"),
        destinations=("registry.example.com/team/app:v1",),
    )
    with Cluster() as cluster, pytest.raises(ValueError, match="expected positive seconds"):
        cluster.build(spec, timeout=float("nan"))
    assert not installed.calls("POST", WORKFLOWS)


def test_contract_python_api_wait_timeout_carries_the_last_state(
    kube_env: Path, installed: ContractServer
) -> None:
    installed.workflow_statuses = build_statuses()[:2]
    with Cluster() as cluster:
        submitted = cluster.submit(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Workflow",
                "metadata": {"generateName": "hello-"},
                "spec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]},
            }
        )
        with pytest.raises(WaitTimeout) as caught:
            cluster.wait(submitted.name, timeout=0.2, poll_interval=0.01)
    assert caught.value.state is not None
    assert caught.value.state.phase == "Running"


def test_contract_pvc_build_against_the_namespaced_template(
    kube_env: Path, contract_server: ContractServer, cli: CliRunner
) -> None:
    assert cli(["install", "--namespaced", "--no-executor-service-account"])[0] == 0
    argv = ["build", "--context", "pvc:build-context/app", "-d", "registry.example.com/team/app:v1"]
    code, _, err = cli([*argv, "--namespaced-template"])
    assert code == 0, err
    body = contract_server.calls("POST", WORKFLOWS)[0].body
    task = body["spec"]["templates"][0]["dag"]["tasks"][0]
    assert task["templateRef"] == {"name": PVC_TEMPLATE_NAME, "template": "build"}
    params = {p["name"]: p["value"] for p in task["arguments"]["parameters"]}
    assert (params["context-pvc"], params["context-sub-path"]) == ("build-context", "app")
    assert "artifacts" not in task["arguments"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--context", "ftp://x/y"], "--context: 'ftp://x/y' is not a context"),
        (["--context", "pvc:Bad_Claim"], "context.claim_name"),
        (
            ["--context", "https://github.com/a/b.git", "--build-arg", "NOVALUE"],
            "--build-arg: 'NOVALUE' is not NAME=VALUE",
        ),
        (
            ["--context", "https://github.com/a/b.git", "--mirror", "docker.io="],
            "--mirror: 'docker.io=' is not",
        ),
        (["--context", "https://github.com/a/b.git", "-d", "Not A Ref"], "destinations"),
    ],
    ids=["context-scheme", "claim-name", "build-arg", "mirror", "destination"],
)
def test_bad_build_flags_are_clear_errors_before_any_request(
    extra: list[str],
    expected: str,
    kube_env: Path,
    contract_server: ContractServer,
    cli: CliRunner,
    bad_input: Any,
) -> None:
    argv = ["build", "-d", "registry.example.com/team/app:v1", *extra]
    code, out, err = cli(argv)
    assert code == 2
    assert out == ""
    assert expected in err
    assert contract_server.requests == []
    bad_input.record(area="CLI", given=" ".join(["hera-imagebuild", *argv]), error=err.strip())
