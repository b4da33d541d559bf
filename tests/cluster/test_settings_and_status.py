"""Connection settings (Argo CLI conventions) and reading workflow status."""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import datetime, timezone

import pytest
from contract_server import build_statuses

from hera_imagebuild.cluster.settings import ConnectionSettings, add_connection_arguments, settings_from_args
from hera_imagebuild.cluster.status import workflow_state
from hera_imagebuild.cluster.watch import ProgressPrinter, summary
from hera_imagebuild.sandbox.credentials import Credentials


def parse(argv: list[str], env: dict[str, str]) -> ConnectionSettings:
    parser = argparse.ArgumentParser()
    add_connection_arguments(parser)
    return settings_from_args(parser.parse_args(argv), env)


def test_argo_env_is_read_like_the_argo_cli_and_flags_win(cluster_token: Credentials) -> None:
    env = {
        "ARGO_SERVER": "argo.example.com:2746",
        "ARGO_TOKEN": cluster_token.password,
        "ARGO_NAMESPACE": "ml",
        "ARGO_INSECURE_SKIP_VERIFY": "true",
        "ARGO_BASE_HREF": "/argo/",
    }
    settings = parse([], env)
    assert settings.argo_server_url == "https://argo.example.com:2746/argo/"
    assert settings.insecure_skip_verify
    assert settings.namespace == "ml"
    assert cluster_token.password not in repr(settings)
    assert cluster_token.password not in settings.describe()

    settings = parse(["-s", "localhost:2746", "--secure", "false", "-n", "team", "--argo-base-href", ""], env)
    assert settings.argo_server_url == "http://localhost:2746/"
    assert settings.namespace == "team"


def test_kubernetes_api_is_used_without_argo_server() -> None:
    settings = parse(["--kubeconfig", "/k", "--kube-context", "dev"], {})
    assert not settings.uses_argo_server
    assert settings.describe() == "Kubernetes API (/k, context dev)"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ARGO_INSECURE_SKIP_VERIFY": "sure"}, "ARGO_INSECURE_SKIP_VERIFY: 'sure' is not a boolean"),
        ({"ARGO_SERVER": "https://a.example.com/x y"}, "argo server"),
        ({"ARGO_SERVER": "ftp://a.example.com"}, "scheme 'ftp'"),
        ({"ARGO_SERVER": "a.example.com/path"}, "is not host:port"),
    ],
)
def test_malformed_settings_are_named(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ValueError, match=expected.replace("(", r"\(")):
        parse([], env).argo_server_url  # noqa: B018


@pytest.mark.parametrize("value", ["0", "-1", "nan"])
def test_request_timeout_must_be_positive(value: str) -> None:
    with pytest.raises(ValueError, match=r"--request-timeout: .* must be a positive number of seconds"):
        parse(["--request-timeout", value], {})


def test_status_of_a_pipeline_with_plain_pod_steps_and_two_builds() -> None:
    ref = "r.example.com/a@sha256:" + "cd" * 32
    workflow = {
        "metadata": {"name": "ml-1", "namespace": "ml"},
        "status": {
            "phase": "Failed",
            "startedAt": "2026-11-28T00:00:00Z",
            "finishedAt": "2026-11-28T00:01:40Z",
            "nodes": {
                "ml-1": {"name": "ml-1", "type": "DAG", "phase": "Failed"},
                "a": {"name": "ml-1.trainer-image", "type": "DAG", "phase": "Succeeded",
                      "outputs": {"parameters": [{"name": "image-ref", "value": ref},
                                                 {"name": "digest", "value": "sha256:" + "cd" * 32}]}},
                "t": {"name": "ml-1.train", "type": "Pod", "templateName": "train", "phase": "Failed",
                      "message": "OOMKilled (exit code 137)", "startedAt": "2026-11-28T00:01:00Z",
                      "finishedAt": "2026-11-28T00:01:40Z", "outputs": {"exitCode": "137"}},
            },
        },
    }  # fmt: skip
    state = workflow_state(workflow)
    assert state.done
    assert not state.succeeded
    assert state.outputs[0].task == "trainer-image"
    assert state.outputs[0].image_refs == (ref,)
    train = state.failed_steps[0]
    assert (train.path, train.elapsed, train.attempts[0].exit_code) == ("train", 40.0, "137")
    assert summary(state) == [
        "workflow ml-1 failed: no message",
        "failed step train (train): OOMKilled (exit code 137)",
    ]


def test_progress_printer_prints_changes_only(capsys: pytest.CaptureFixture[str]) -> None:
    printer = ProgressPrinter(sys.stdout)
    statuses = build_statuses()
    now = datetime.now(timezone.utc)
    for status in [statuses[1], statuses[1], statuses[2], statuses[2]]:
        printer(workflow_state({"metadata": {"name": "WF"}, "status": status}, now=now))
    lines = [line.split("] ", 1)[1].strip() for line in capsys.readouterr().out.splitlines()]
    assert [line.split(" (")[0] for line in lines] == [
        "workflow WF: Running",
        "build.prefetch: Running",
        "build.prefetch: Succeeded",
        "build.build: Running attempt 2",
    ]


def test_printing_a_secret_loads_neither_hera_nor_the_kubernetes_client(registry_user: Credentials) -> None:
    code = (
        "import io, sys\n"
        "from hera_imagebuild.cli.main import main\n"
        "sys.stdout = io.StringIO()\n"
        "assert main(['secret', 'docker-config', '--registry', 'r.example.com', '--username', 'u', "
        "'--password-stdin']) == 0\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'hera', 'kubernetes', 'pydantic'})\n"
        "sys.stderr.write(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], input=registry_user.password, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stderr == ""


def test_lazy_public_names_match_their_modules() -> None:
    import hera_imagebuild.cluster as cluster

    assert sorted(cluster.__all__) == sorted(cluster._MODULES)
    assert all(getattr(cluster, name).__name__ == name for name in cluster.__all__)
