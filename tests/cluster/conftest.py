"""Fixtures for the cluster contract tests: a loopback API server and the settings that reach it."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from contract_server import ContractServer

from hera_imagebuild.cli.main import main
from hera_imagebuild.sandbox.credentials import Credentials

# Test credentials: the secret scan plugin fails any test whose output or files contain them.
CLUSTER_TOKEN = Credentials("argo-token", "argo-token-s3cret-value")
REGISTRY_USER = Credentials("builder", "builder-s3cret-pw")

CliRunner = Callable[..., tuple[int, str, str]]

ENV_VARS = (
    "ARGO_SERVER",
    "ARGO_SECURE",
    "ARGO_TOKEN",
    "ARGO_NAMESPACE",
    "ARGO_INSECURE_SKIP_VERIFY",
    "ARGO_BASE_HREF",
    "ARGO_HTTP1",
    "KUBECONFIG",
)


@pytest.fixture
def contract_server() -> Iterator[ContractServer]:
    """A running loopback Kubernetes/Argo Server stand-in that requires :data:`CLUSTER_TOKEN`.

    At teardown, every body it received must have passed Argo's JSON schema.
    """
    server = ContractServer(token=CLUSTER_TOKEN.password).start()
    try:
        yield server
    finally:
        server.stop()
    assert not server.invalid_bodies, f"bodies that fail Argo's JSON schema: {server.invalid_bodies}"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ARGO_* or KUBECONFIG from the machine running the tests; HOME without a kubeconfig."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", tempfile.gettempdir() + "/hera-imagebuild-no-home")
    return monkeypatch


def write_kubeconfig(directory: Path, server: str, token: str, namespace: str = "ci") -> Path:
    path = directory / "kubeconfig"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "contract", "cluster": {"server": server}}],
        "users": [{"name": "tester", "user": {"token": token}}],
        "contexts": [
            {"name": "contract", "context": {"cluster": "contract", "user": "tester", "namespace": namespace}}
        ],
        "current-context": "contract",
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def kube_env(clean_env: pytest.MonkeyPatch, contract_server: ContractServer) -> Iterator[Path]:
    """KUBECONFIG pointing at the contract server (context namespace ``ci``); yields its path.

    The kubeconfig holds the token, like a docker config holds passwords, so it lives in a
    private directory outside pytest's temporary tree (which the secret scan reads) and is
    deleted after the test.
    """
    with tempfile.TemporaryDirectory(prefix="hera-imagebuild-kubeconfig-") as directory:
        path = write_kubeconfig(Path(directory), contract_server.url, CLUSTER_TOKEN.password)
        clean_env.setenv("KUBECONFIG", str(path))
        yield path


@pytest.fixture
def argo_env(clean_env: pytest.MonkeyPatch, contract_server: ContractServer) -> pytest.MonkeyPatch:
    """ARGO_SERVER (plain HTTP), ARGO_TOKEN and ARGO_NAMESPACE=ci pointing at the contract server."""
    clean_env.setenv("ARGO_SERVER", contract_server.host)
    clean_env.setenv("ARGO_SECURE", "false")
    clean_env.setenv("ARGO_TOKEN", CLUSTER_TOKEN.password)
    clean_env.setenv("ARGO_NAMESPACE", "ci")
    return clean_env


@pytest.fixture
def cluster_token() -> Credentials:
    """The bearer token the contract server accepts (as ``.password``)."""
    return CLUSTER_TOKEN


@pytest.fixture
def registry_user() -> Credentials:
    """A registry user for docker-config Secrets."""
    return REGISTRY_USER


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Run ``hera-imagebuild ARGV`` in-process: ``cli(argv, stdin=None) -> (exit code, stdout, stderr)``.

    Every run must end without a traceback and without a test secret in its output.
    """

    def run(argv: list[str], stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        try:
            code = main(argv)
        except SystemExit as exit_:  # argparse's own usage errors
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        for secret in (CLUSTER_TOKEN.password, REGISTRY_USER.password):
            assert secret not in out + err
        return code, out, err

    return run
