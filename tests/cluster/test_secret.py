"""docker-config Secrets: the same content as kubectl's, and clear errors for bad input."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from hera_imagebuild.cluster.secret import (
    DOCKER_HUB_CONFIG_KEY,
    RegistryCredential,
    credentials_for,
    docker_config_secret,
)

if TYPE_CHECKING:
    from conftest import CliRunner
    from contract_server import ContractServer

    from hera_imagebuild.sandbox.credentials import Credentials

KUBECTL = shutil.which("kubectl")


def decoded_config(secret: dict[str, Any]) -> dict[str, Any]:
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    config: dict[str, Any] = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    return config


def kubectl_config(server: str | None, username: str, password: str) -> dict[str, Any]:
    """The .dockerconfigjson of ``kubectl create secret docker-registry`` (it takes the password in argv)."""
    assert KUBECTL is not None
    argv = [KUBECTL, "create", "secret", "docker-registry", "regcred", "--dry-run=client", "-o", "json"]
    argv += [f"--docker-username={username}", f"--docker-password={password}"]
    if server is not None:
        argv.append(f"--docker-server={server}")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
    return decoded_config(json.loads(result.stdout))


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed: cannot compare with its Secret")
@pytest.mark.parametrize(
    ("registry", "kubectl_server"),
    [
        ("registry.example.com:5000", "registry.example.com:5000"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("docker.io", None),  # kubectl's default server is Docker Hub's legacy key
        ("index.docker.io", None),
    ],
)
def test_cli_secret_decodes_to_the_same_docker_config_as_kubectl(
    registry: str,
    kubectl_server: str | None,
    clean_env: pytest.MonkeyPatch,
    cli: CliRunner,
    registry_user: Credentials,
) -> None:
    code, out, err = cli(
        [
            "secret",
            "docker-config",
            "--name",
            "regcred",
            "--registry",
            registry,
            "--username",
            registry_user.username,
            "--password-stdin",
        ],
        registry_user.password + "\n",
    )
    assert code == 0, err
    secret = yaml.safe_load(out)
    assert secret["metadata"]["name"] == "regcred"
    assert decoded_config(secret) == kubectl_config(
        kubectl_server, registry_user.username, registry_user.password
    )
    assert registry_user.password not in out + err


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed: cannot compare with its Secret")
def test_several_registries_each_match_kubectl_and_mirror_paths_are_dropped(
    registry_user: Credentials,
) -> None:
    password = registry_user.password
    creds = credentials_for(
        ["docker.io", "mirror.example.com:5000/dockerhub", "ghcr.io"], "builder", password
    )
    config = decoded_config(docker_config_secret("regcred", creds, namespace="ci"))
    assert list(config["auths"]) == [DOCKER_HUB_CONFIG_KEY, "mirror.example.com:5000", "ghcr.io"]
    for key in ("mirror.example.com:5000", "ghcr.io"):
        assert config["auths"][key] == kubectl_config(key, "builder", password)["auths"][key]
    assert (
        config["auths"][DOCKER_HUB_CONFIG_KEY]
        == kubectl_config(None, "builder", password)["auths"][DOCKER_HUB_CONFIG_KEY]
    )


def test_auth_is_base64_of_username_colon_password_and_repr_hides_the_password() -> None:
    cred = RegistryCredential(registry="r.example.com", username="u", password="p:w with spaces")
    assert base64.b64decode(cred.auth_entry()["auth"]).decode() == "u:p:w with spaces"
    assert "p:w with spaces" not in repr(cred)


def test_only_one_trailing_newline_is_removed_from_stdin(
    clean_env: pytest.MonkeyPatch, cli: CliRunner
) -> None:
    code, out, _ = cli(
        ["secret", "docker-config", "--registry", "r.example.com", "--username", "u", "--password-stdin"],
        " pw with spaces \n\n",
    )
    assert code == 0
    entry = decoded_config(yaml.safe_load(out))["auths"]["r.example.com"]
    assert entry["password"] == " pw with spaces \n"


@pytest.mark.parametrize(
    ("argv", "stdin", "expected"),
    [
        (["--username", "u", "--password-stdin"], "pw\n", "--registry"),
        (
            ["--registry", "bad host", "--username", "u", "--password-stdin"],
            "pw\n",
            "'bad host' is not a registry host",
        ),
        (
            ["--registry", "https://r.example.com", "--username", "u", "--password-stdin"],
            "pw\n",
            "has a URL scheme",
        ),
        (["--registry", "r.example.com", "--username", "u", "--password-stdin"], "\n", "stdin was empty"),
        (["--registry", "r.example.com", "--username", "a:b", "--password-stdin"], "pw\n", "contains ':'"),
        (["--registry", "r.example.com", "--username", "u"], "pw\n", "--password-stdin"),
        (
            ["--registry", "r.example.com", "--username", "u", "--password", "pw"],
            "",
            "--password: not accepted, and its value is not shown",
        ),
        (
            ["--registry", "r.example.com", "--username", "u", "--password-stdin", "--name", "Bad_Name"],
            "pw\n",
            "'Bad_Name' is not a valid Secret name",
        ),
    ],
    ids=[
        "no-registry",
        "bad-host",
        "url-scheme",
        "empty-password",
        "colon-username",
        "no-password-stdin",
        "password-flag",
        "bad-name",
    ],
)
def test_bad_input_is_a_clear_error_without_traceback(
    argv: list[str],
    stdin: str,
    expected: str,
    clean_env: pytest.MonkeyPatch,
    cli: CliRunner,
    bad_input: Any,
) -> None:
    code, out, err = cli(["secret", "docker-config", *argv], stdin)
    assert code == 2
    assert expected in err
    assert out == ""
    bad_input.record(area="docker config", given=" ".join(argv), error=err.strip().splitlines()[-1])


def test_contract_secret_apply_creates_then_updates_through_kubernetes(
    kube_env: Path, contract_server: ContractServer, cli: CliRunner, registry_user: Credentials
) -> None:
    argv = ["secret", "docker-config", "--registry", "registry.example.com", "--username", "builder"]
    code, out, err = cli([*argv, "--password-stdin", "--apply"], registry_user.password)
    assert code == 0, err
    assert out.strip() == "Secret hera-imagebuild-docker-config created in namespace ci"
    create = contract_server.calls("POST", "/api/v1/namespaces/ci/secrets$")
    assert len(create) == 1
    assert (
        decoded_config(create[0].body)["auths"]["registry.example.com"]["password"] == registry_user.password
    )

    code, out, _ = cli(
        [*argv, "--registry", "mirror.example.com", "--password-stdin", "--apply"], registry_user.password
    )
    assert code == 0
    assert out.strip() == "Secret hera-imagebuild-docker-config updated in namespace ci"
    stored = contract_server.get_object("Secret", "hera-imagebuild-docker-config", "ci")
    assert stored is not None
    assert set(decoded_config(stored)["auths"]) == {"registry.example.com", "mirror.example.com"}


def test_contract_secret_apply_through_the_argo_server_says_to_use_a_kubeconfig(
    argo_env: pytest.MonkeyPatch, contract_server: ContractServer, cli: CliRunner, registry_user: Credentials
) -> None:
    argv = ["secret", "docker-config", "--registry", "registry.example.com", "--username", "builder"]
    code, out, err = cli([*argv, "--password-stdin", "--apply"], registry_user.password)
    assert code == 1
    assert out == ""
    assert "the Argo Server has no API for this kind; unset ARGO_SERVER" in err
    assert contract_server.requests == []
