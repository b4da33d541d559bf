"""The secret scan plugin, exercised by a nested pytest run that leaks on purpose.

The nested run gets a real sandbox credential through its environment (never
on a command line), leaks it in each way the plugin must catch, and this test
checks that every leak was caught, charged to the right test, and that the
nested run's own output never shows the secret.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from plugins import secret_scan

REPO_ROOT = Path(__file__).resolve().parents[2]

NESTED_CONFTEST = """
import os
import pytest
from hera_imagebuild.sandbox.credentials import Credentials

LEAKY = Credentials(os.environ["SCAN_USER"], os.environ["SCAN_PASSWORD"])


@pytest.fixture(scope="session")
def session_log(tmp_path_factory):
    path = tmp_path_factory.mktemp("session-registry") / "registry.log"
    path.write_text("level=info msg=login auth=" + LEAKY.auth + "\\n")
    return path
"""

NESTED_TESTS = """
import json
import logging
from conftest import LEAKY


def test_prints_password():
    print("connecting with", LEAKY.password)


def test_reads_its_output_with_capsys(capsys):
    print("token for", LEAKY.username, LEAKY.password)
    assert LEAKY.username in capsys.readouterr().out


def test_writes_report(tmp_path):
    (tmp_path / "report.json").write_text(json.dumps({"error": "denied for " + LEAKY.password}))


def test_logs_bearer_header():
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwdXNoZXIifQ.c2lnbmF0dXJlLWJ5dGVz"
    logging.getLogger("registry").warning("request headers: Authorization: Bearer %s", token)


def test_failure_message_is_redacted():
    assert LEAKY.password == "something else"


def test_docker_config_is_where_credentials_belong(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"auths": {"127.0.0.1:5000": {"auth": LEAKY.auth}}}))


def test_registry_config_is_where_credentials_belong(tmp_path):
    config = {"version": 0.1, "storage": {}, "http": {}, "proxy": {"password": LEAKY.password}}
    (tmp_path / "config.yml").write_text(json.dumps(config))


def test_session_fixture_leak(session_log):
    assert session_log.exists()


def test_clean(tmp_path):
    (tmp_path / "report.json").write_text(json.dumps({"user": LEAKY.username}))
    print("nothing secret here")
"""


@pytest.fixture(scope="module")
def nested_run(request: pytest.FixtureRequest) -> tuple[subprocess.CompletedProcess[str], str, str]:
    """Run the leaky nested session once; return it with the password and auth it used."""
    user = secret_scan.sandbox_credentials(request.config)[0]
    with tempfile.TemporaryDirectory(prefix="secret-scan-nested-") as directory:
        root = Path(directory)
        (root / "pytest.ini").write_text("[pytest]\n")
        (root / "conftest.py").write_text(textwrap.dedent(NESTED_CONFTEST))
        (root / "test_leaky.py").write_text(textwrap.dedent(NESTED_TESTS))
        env = {**os.environ, "SCAN_USER": user.username, "SCAN_PASSWORD": user.password}
        env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT / "tests"), env.get("PYTHONPATH", "")])
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "plugins.secret_scan", "-p", "no:cacheprovider",
             "-rA", "-q", f"--basetemp={root / 'basetemp'}", "test_leaky.py"],
            cwd=root, env=env, capture_output=True, text=True, timeout=90, check=False,
        )  # fmt: skip
    return completed, user.password, user.auth


def _output(nested: tuple[subprocess.CompletedProcess[str], str, str]) -> str:
    return nested[0].stdout + nested[0].stderr


def test_the_nested_run_fails_and_never_prints_the_secret(
    nested_run: tuple[subprocess.CompletedProcess[str], str, str],
) -> None:
    completed, password, auth = nested_run
    output = _output(nested_run)
    # No assert on the raw text: a failing assert would print it, secret and all.
    if password in output or auth in output:
        pytest.fail("the nested run printed a test credential: the plugin did not redact it", pytrace=False)
    assert completed.returncode == pytest.ExitCode.TESTS_FAILED
    assert "secret_scan: TEST CREDENTIALS LEAKED" in output


@pytest.mark.parametrize(
    ("test", "where"),
    [
        ("test_prints_password", "captured stdout call"),
        ("test_reads_its_output_with_capsys", "read through capsys/capfd (call)"),
        ("test_writes_report", "report.json"),
        ("test_logs_bearer_header", "captured log call"),
        ("test_failure_message_is_redacted", "the failure report (call)"),
    ],
)
def test_each_leak_is_charged_to_the_test_that_leaked(
    nested_run: tuple[subprocess.CompletedProcess[str], str, str], test: str, where: str
) -> None:
    lines = [line for line in _output(nested_run).splitlines() if f"(test: test_leaky.py::{test})" in line]
    assert any(where in line for line in lines), f"no leak line for {test} naming {where!r}"
    assert f"FAILED test_leaky.py::{test}" in _output(
        nested_run
    ) or f"ERROR test_leaky.py::{test}" in _output(nested_run)


def test_a_session_fixture_leak_names_the_file_and_fails_the_run(
    nested_run: tuple[subprocess.CompletedProcess[str], str, str],
) -> None:
    output = _output(nested_run)
    line = next((line for line in output.splitlines() if "registry.log" in line), "")
    assert "base64 auth of test user" in line
    assert "session-registry" in line


def test_clean_tests_and_credential_stores_pass(
    nested_run: tuple[subprocess.CompletedProcess[str], str, str],
) -> None:
    output = _output(nested_run)
    assert "PASSED test_leaky.py::test_clean" in output
    assert "PASSED test_leaky.py::test_docker_config_is_where_credentials_belong" in output
    assert "PASSED test_leaky.py::test_registry_config_is_where_credentials_belong" in output
    assert "redacted by secret_scan" in output
