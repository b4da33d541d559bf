"""Contract tests of ``install``: what it sends to the Kubernetes API and the Argo Server; how errors read.

The server is the loopback contract server (tests/cluster/contract_server.py): it
lints every body it receives and answers like the real APIs; it is not a cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from contract_server import ARGO_SCHEMA_DIR, ContractServer, Fault, argo_schemas

from hera_imagebuild.client.published import PVC_TEMPLATE_NAME, TEMPLATE_NAME
from hera_imagebuild.cluster import Cluster, ClusterError, ConnectionSettings
from hera_imagebuild.cluster.install import template_manifest
from hera_imagebuild.cluster.resources import CLUSTER_WORKFLOW_TEMPLATE

if TYPE_CHECKING:
    from conftest import CliRunner

    from hera_imagebuild.sandbox.credentials import Credentials
    from hera_imagebuild.sandbox.tls import TLSFiles

CWT_PATH = "/apis/argoproj.io/v1alpha1/clusterworkflowtemplates"
ARGO_CWT_PATH = "/api/v1/cluster-workflow-templates"


def test_contract_install_through_kubernetes_creates_template_and_executor_account(
    kube_env: Path, contract_server: ContractServer, cli: CliRunner
) -> None:
    code, out, _ = cli(["install"])
    assert code == 0
    sent = [(r.method, r.path) for r in contract_server.requests]
    assert sent == [
        ("POST", CWT_PATH),
        ("POST", CWT_PATH),
        ("POST", "/api/v1/namespaces/ci/serviceaccounts"),
        ("POST", "/api/v1/namespaces/ci/secrets"),
        ("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/ci/roles"),
        ("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/ci/rolebindings"),
    ]
    assert {r.authorization for r in contract_server.requests} == {f"Bearer {contract_server.token}"}
    assert contract_server.requests[0].body == template_manifest()
    assert contract_server.requests[1].body == template_manifest(context="pvc")
    assert contract_server.requests[1].body["metadata"]["name"] == PVC_TEMPLATE_NAME
    role = contract_server.get_object("Role", "hera-imagebuild-executor", "ci")
    assert role is not None
    assert role["rules"] == [
        {"apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"]}
    ]
    token = contract_server.get_object("Secret", "hera-imagebuild-executor.service-account-token", "ci")
    assert token is not None
    assert token["type"] == "kubernetes.io/service-account-token"
    assert f"ClusterWorkflowTemplate {TEMPLATE_NAME} created" in out
    assert f"ClusterWorkflowTemplate {PVC_TEMPLATE_NAME} created" in out


def test_contract_reinstall_updates_with_the_current_resource_version_and_keeps_the_token_secret(
    kube_env: Path, contract_server: ContractServer, cli: CliRunner
) -> None:
    assert cli(["install"])[0] == 0
    before = contract_server.get_object("ClusterWorkflowTemplate", TEMPLATE_NAME)
    assert before is not None
    version = before["metadata"]["resourceVersion"]
    contract_server.requests.clear()

    code, out, _ = cli(["install"])
    assert code == 0
    put = contract_server.calls("PUT", f"{CWT_PATH}/{TEMPLATE_NAME}$")
    assert len(put) == 1
    assert put[0].body["metadata"]["resourceVersion"] == version
    assert not contract_server.calls("PUT", "/secrets/")  # the token Secret is created once, never replaced
    assert f"ClusterWorkflowTemplate {TEMPLATE_NAME} updated" in out
    assert "Secret hera-imagebuild-executor.service-account-token unchanged" in out


def test_contract_installing_the_next_version_leaves_the_current_one_untouched(
    kube_env: Path, contract_server: ContractServer
) -> None:
    current = contract_server.put_object(template_manifest())
    with Cluster(ConnectionSettings(kubeconfig=str(kube_env))) as cluster:
        results = cluster.install(
            name="hera-imagebuild-v9-0-0", contexts=["artifact"], executor_service_account=None
        )
    assert [(r.action, r.name) for r in results] == [("created", "hera-imagebuild-v9-0-0")]
    assert all(TEMPLATE_NAME not in r.path for r in contract_server.requests)
    assert contract_server.get_object("ClusterWorkflowTemplate", TEMPLATE_NAME) == current
    assert contract_server.get_object("ClusterWorkflowTemplate", "hera-imagebuild-v9-0-0") is not None


def test_contract_namespaced_install_creates_a_workflow_template_in_that_namespace(
    kube_env: Path, contract_server: ContractServer, cli: CliRunner
) -> None:
    code, out, _ = cli(["install", "--namespaced", "--namespace", "team-a"])
    assert code == 0
    first = contract_server.requests[0]
    assert (first.method, first.path) == (
        "POST",
        "/apis/argoproj.io/v1alpha1/namespaces/team-a/workflowtemplates",
    )
    assert first.body["kind"] == "WorkflowTemplate"
    assert {r.path.split("/namespaces/")[1].split("/")[0] for r in contract_server.requests} == {"team-a"}
    assert f"WorkflowTemplate {TEMPLATE_NAME} created in namespace team-a" in out


def test_contract_install_through_the_argo_server_wraps_the_template_and_updates_on_conflict(
    argo_env: pytest.MonkeyPatch, contract_server: ContractServer, cli: CliRunner
) -> None:
    code, _, err = cli(["install"])
    assert code == 0
    create = contract_server.requests[0]
    assert (create.method, create.path) == ("POST", ARGO_CWT_PATH)
    assert create.body["template"]["metadata"]["name"] == TEMPLATE_NAME
    assert create.body["template"]["spec"] == template_manifest()["spec"]
    assert "not created: the Argo Server has no API for them" in err

    contract_server.requests.clear()
    assert cli(["install"])[0] == 0
    assert [(r.method, r.path) for r in contract_server.requests] == [
        ("POST", ARGO_CWT_PATH),
        ("GET", f"{ARGO_CWT_PATH}/{TEMPLATE_NAME}"),
        ("PUT", f"{ARGO_CWT_PATH}/{TEMPLATE_NAME}"),
        ("POST", ARGO_CWT_PATH),
        ("GET", f"{ARGO_CWT_PATH}/{PVC_TEMPLATE_NAME}"),
        ("PUT", f"{ARGO_CWT_PATH}/{PVC_TEMPLATE_NAME}"),
    ]
    assert contract_server.requests[2].body["template"]["metadata"]["resourceVersion"]


def test_contract_dry_run_prints_everything_and_sends_nothing(
    kube_env: Path, contract_server: ContractServer, cli: CliRunner
) -> None:
    code, out, _ = cli(["install", "--dry-run", "--namespace", "ci"])
    assert code == 0
    documents: list[dict[str, Any]] = list(yaml.safe_load_all(out))
    assert [d["kind"] for d in documents] == [
        "ClusterWorkflowTemplate",
        "ClusterWorkflowTemplate",
        "ServiceAccount",
        "Secret",
        "Role",
        "RoleBinding",
    ]
    assert documents[0] == template_manifest()
    assert contract_server.requests == []


def test_contract_install_bakes_registry_access_into_the_template(
    kube_env: Path, contract_server: ContractServer, cli: CliRunner
) -> None:
    code, _, _ = cli(["install", "--insecure-registry", "registry.ci.svc:5000"])
    assert code == 0
    template = contract_server.requests[0].body
    steps = {t["name"]: t for t in template["spec"]["templates"] if "container" in t}
    argv = {name: t["container"]["args"] for name, t in steps.items()}
    assert len(argv) == 3, sorted(argv)
    assert all("--insecure-registry=registry.ci.svc:5000" in args for args in argv.values()), argv


@pytest.mark.parametrize("api", ["kube", "argo"])
@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault(401, message="Unauthorized"), "check ARGO_TOKEN or the kubeconfig user"),
        (Fault(403, message="forbidden: cannot create clusterworkflowtemplates"), "RBAC"),
        (Fault(404, message="the server could not find the requested resource"), "Argo Workflows (its CRDs)"),
        (Fault(500, message="etcdserver: request timed out"), "etcdserver: request timed out (HTTP 500)"),
    ],
    ids=["401", "403", "404", "500"],
)
def test_contract_server_errors_reach_the_user_as_one_clear_line(
    api: str,
    fault: Fault,
    expected: str,
    request: pytest.FixtureRequest,
    contract_server: ContractServer,
    cli: CliRunner,
) -> None:
    request.getfixturevalue("kube_env" if api == "kube" else "argo_env")
    contract_server.faults.append(fault)
    code, out, err = cli(["install"])
    assert code == 1
    assert out == ""
    line = err.strip()
    assert "\n" not in line
    assert line.startswith(f"error: create ClusterWorkflowTemplate {TEMPLATE_NAME}: ")
    assert expected in line
    assert f"(HTTP {fault.status})" in line


def test_contract_wrong_token_is_refused_without_echoing_it(
    kube_env: Path, contract_server: ContractServer, cli: CliRunner
) -> None:
    contract_server.token = "another-token"  # the client still sends the kubeconfig token
    code, _, err = cli(["install"])
    assert code == 1
    assert "(HTTP 401)" in err


def test_contract_blank_argo_token_is_an_error_line_not_a_traceback(
    argo_env: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    argo_env.setenv("ARGO_TOKEN", " ")
    code, _, err = cli(["install", "--namespaced", "--no-executor-service-account"])
    assert code == 1
    assert err.startswith("error: create WorkflowTemplate hera-imagebuild-")


def test_contract_unreachable_server_and_missing_kubeconfig_are_clear(
    clean_env: pytest.MonkeyPatch, cli: CliRunner, bad_input: Any
) -> None:
    clean_env.setenv("ARGO_SERVER", "127.0.0.1:1")
    clean_env.setenv("ARGO_SECURE", "false")
    code, _, err = cli(["install", "--request-timeout", "5"])
    assert code == 1
    assert "Argo Server http://127.0.0.1:1/ is unreachable" in err

    clean_env.delenv("ARGO_SERVER")
    clean_env.setenv("KUBECONFIG", "/nonexistent/kubeconfig")
    code, _, err = cli(["install"])
    assert code == 1
    assert "no cluster connection" in err
    assert "KUBECONFIG/--kubeconfig" in err

    clean_env.setenv("ARGO_SECURE", "maybe")
    code, _, err = cli(["install", "--dry-run"])
    assert code == 2
    assert "ARGO_SECURE: 'maybe' is not a boolean" in err
    bad_input.record(area="CLI", given="ARGO_SECURE=maybe hera-imagebuild install", error=err.strip())


def test_contract_argo_server_over_tls_verifies_unless_told_to_skip(
    clean_env: pytest.MonkeyPatch, tls_files: TLSFiles, cluster_token: Credentials, cli: CliRunner
) -> None:
    with ContractServer(token=cluster_token.password, tls=tls_files) as server:
        clean_env.setenv("ARGO_SERVER", server.host)
        clean_env.setenv("ARGO_TOKEN", cluster_token.password)
        code, _, err = cli(["install"])
        assert code == 1
        assert "TLS verification of Argo Server https://127.0.0.1:" in err
        assert "set ARGO_INSECURE_SKIP_VERIFY=true" in err

        clean_env.setenv("ARGO_INSECURE_SKIP_VERIFY", "true")
        code, out, err = cli(["install"])
        assert code == 0, err
        assert "InsecureRequestWarning" not in err
        assert f"ClusterWorkflowTemplate {TEMPLATE_NAME} created" in out
        assert not server.invalid_bodies


@pytest.mark.parametrize("api", ["kube", "argo"])
def test_contract_a_server_message_that_echoes_the_token_is_scrubbed(
    api: str, request: pytest.FixtureRequest, contract_server: ContractServer, cli: CliRunner
) -> None:
    request.getfixturevalue("kube_env" if api == "kube" else "argo_env")
    contract_server.faults.append(Fault(500, message=f"proxy rejected token {contract_server.token}"))
    code, _, err = cli(["install"])  # the cli fixture fails the test if the token shows
    assert code == 1
    assert "proxy rejected token *** (HTTP 500)" in err


def test_contract_server_enforces_argos_schema(
    kube_env: Path, contract_server: ContractServer, cli: CliRunner
) -> None:
    """The contract server refuses what Argo's schema refuses (so passing tests mean schema-valid bodies)."""
    if not argo_schemas():
        pytest.skip(
            f"Argo's JSON schemas are not at {ARGO_SCHEMA_DIR}: request bodies got the strict lint only"
        )
    bad = template_manifest()
    bad["spec"]["templates"][0]["dag"]["tasks"] = "not a list"
    with Cluster() as cluster, pytest.raises(ClusterError, match=r"\(HTTP 400\)") as caught:
        cluster.backend.create(CLUSTER_WORKFLOW_TEMPLATE, bad)
    assert "schema" in caught.value.message
    assert len(contract_server.invalid_bodies) == 1
    contract_server.invalid_bodies.clear()  # refused on purpose
