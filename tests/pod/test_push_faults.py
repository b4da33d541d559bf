"""Faults on the push destination: each is retried and survived, or fails clearly within its bound.

A real registry sits behind the sandbox fault proxy; every test bounds the push
with ``--timeout`` and asserts the wall time, the exit code and the last line,
then records what it observed in the reliability matrix.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from push_helpers import UPLOAD_POSTS, PushRun, assert_no_outputs, assert_pushed, run_push

from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_TRANSIENT
from hera_imagebuild.sandbox.faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.timeout(60)

ROLE = "push destination"
MANIFEST_PUT = {"path": "/manifests/", "method": "PUT"}
VERIFY_GET = {"path": "/manifests/sha256:", "method": "GET"}


@pytest.fixture
def image(oci_image, request):
    """A small image whose blobs no registry has yet (seeded by the test's name)."""
    return oci_image(seed=request.node.name, layer_sizes=(1024, 100_000), incompressible=True)


@pytest.fixture
def later() -> Iterator[list[threading.Timer]]:
    """Timers that change a fault while a push runs; cancelled and joined after the test."""
    timers: list[threading.Timer] = []
    yield timers
    for timer in timers:
        timer.cancel()
        timer.join(5)


def push_through(
    capsys, proxy: FaultProxy, image, out: Path, *extra: str, timeout: float = 20, plain_http: bool = True
) -> PushRun:
    insecure = [f"--insecure-registry={proxy.host}"] if plain_http else []
    return run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destination={proxy.host}/faults/app:v1",
        f"--timeout={timeout:g}",
        f"--output-dir={out}",
        *insecure,
        *extra,
    )


def retries_in(run: PushRun) -> int:
    return run.err.count("retry after attempt")


def assert_recovered(run: PushRun, proxy: FaultProxy, image, out: Path) -> None:
    assert run.code == 0, run.err
    assert retries_in(run) >= 1, run.err
    assert_pushed(out, image.digest, [f"{proxy.host}/faults/app"])


def assert_clear_failure(run: PushRun, proxy: FaultProxy, out: Path, code: int) -> None:
    assert run.code == code, run.err
    assert run.last_line.startswith(f"push failed: {proxy.host}/faults/app:v1: "), run.last_line
    assert "Traceback" not in run.err
    assert_no_outputs(out)


def test_refused_then_back(capsys, fault_proxy, plain_registry, image, tmp_path, reliability, later):
    proxy = fault_proxy(plain_registry, Fault("refuse"))
    timer = threading.Timer(1.5, proxy.clear)
    later.append(timer)
    timer.start()
    run = push_through(capsys, proxy, image, tmp_path / "out", "--max-attempts=8")
    assert_recovered(run, proxy, image, tmp_path / "out")
    assert "cannot connect" in run.err
    reliability.record(
        role=ROLE,
        fault="refused",
        outcome="retried and succeeded",
        seconds=run.seconds,
        detail="destination refused connections for 1.5 s; pushed after retries with backoff",
    )


def test_refused_for_good(capsys, fault_proxy, plain_registry, image, tmp_path, reliability):
    proxy = fault_proxy(plain_registry, Fault("refuse"))
    run = push_through(capsys, proxy, image, tmp_path / "out", "--max-attempts=3", timeout=10)
    assert_clear_failure(run, proxy, tmp_path / "out", EXIT_TRANSIENT)
    assert "cannot connect" in run.last_line
    assert run.seconds < 10
    reliability.record(
        role=ROLE, fault="refused", outcome="clear failure", seconds=run.seconds, detail=run.last_line
    )


def test_hung_request_is_cut_and_retried(capsys, fault_proxy, plain_registry, image, tmp_path, reliability):
    proxy = fault_proxy(plain_registry, Fault("hang", times=1, **MANIFEST_PUT))
    # --timeout=8 gives each request 2 s: the hung PUT costs 2 s, then the retry goes through.
    run = push_through(capsys, proxy, image, tmp_path / "out", timeout=8)
    assert_recovered(run, proxy, image, tmp_path / "out")
    assert 2 <= run.seconds < 8
    assert "no complete answer within 2.0s" in run.err
    reliability.record(
        role=ROLE,
        fault="hung",
        outcome="retried and succeeded",
        seconds=run.seconds,
        detail="manifest PUT never answered: cut after the 2 s request limit, retried",
    )


def test_hung_registry_fails_within_the_timeout(
    capsys, fault_proxy, plain_registry, image, tmp_path, reliability
):
    proxy = fault_proxy(plain_registry, Fault("hang"))
    run = push_through(capsys, proxy, image, tmp_path / "out", timeout=4)
    assert_clear_failure(run, proxy, tmp_path / "out", EXIT_TRANSIENT)
    assert run.seconds < 6
    reliability.record(
        role=ROLE, fault="hung", outcome="clear failure", seconds=run.seconds, detail=run.last_line
    )


def test_trickling_upload_is_cut_and_retried(
    capsys, fault_proxy, plain_registry, image, tmp_path, reliability
):
    """A layer accepted at 4 KB/s would take 25 s: the transfer limit cuts it and the retry goes through."""
    # Every blob's first PATCH is throttled (three blobs): the two small ones still finish in time.
    proxy = fault_proxy(plain_registry, Fault("throttle", method="PATCH", times=3, bytes_per_second=4000))
    run = push_through(capsys, proxy, image, tmp_path / "out", timeout=8)
    assert_recovered(run, proxy, image, tmp_path / "out")
    # Cut by the 2 s read timeout or the 2.4 s transfer limit (2 s + 100 kB at the 256 KiB/s floor).
    assert re.search(r"retry after attempt 1 .*: upload blob .*(timed out|no complete answer)", run.err), (
        run.err
    )
    assert run.seconds < 8
    reliability.record(
        role=ROLE,
        fault="slow",
        outcome="retried and succeeded",
        seconds=run.seconds,
        detail="layer upload throttled to 4 KB/s: cut at its transfer deadline, retried at full speed",
    )


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("reset mid-body", "reset"), ("truncated", "truncate")],
)
def test_cut_response_body_is_retried(
    capsys, fault_proxy, plain_registry, image, tmp_path, reliability, fault, kind
):
    # The verification GET's body is cut after 20 bytes: the digest check catches it, the retry passes.
    proxy = fault_proxy(plain_registry, Fault(kind, body_bytes=20, times=1, **VERIFY_GET))
    run = push_through(capsys, proxy, image, tmp_path / "out")
    assert_recovered(run, proxy, image, tmp_path / "out")
    assert proxy.count("GET", VERIFY_GET["path"]) == 2
    reliability.record(
        role=ROLE,
        fault=fault,
        outcome="retried and succeeded",
        seconds=run.seconds,
        detail="manifest body cut after 20 bytes while verifying; fetched again and verified",
    )


def test_http_500_is_retried(capsys, fault_proxy, plain_registry, image, tmp_path, reliability):
    proxy = fault_proxy(
        plain_registry, Fault("status", status=500, path=UPLOAD_POSTS, method="POST", times=2)
    )
    run = push_through(capsys, proxy, image, tmp_path / "out")
    assert_recovered(run, proxy, image, tmp_path / "out")
    assert "HTTP 500" in run.err
    assert proxy.count("POST", UPLOAD_POSTS) == 3 + 2  # three blobs, two refused starts
    reliability.record(
        role=ROLE,
        fault="HTTP 500",
        outcome="retried and succeeded",
        seconds=run.seconds,
        detail="two upload starts answered 500; retried",
    )


def test_http_503_for_good_fails_as_transient(
    capsys, fault_proxy, plain_registry, image, tmp_path, reliability
):
    proxy = fault_proxy(plain_registry, Fault("status", status=503))
    run = push_through(capsys, proxy, image, tmp_path / "out", "--max-attempts=3", timeout=10)
    assert_clear_failure(run, proxy, tmp_path / "out", EXIT_TRANSIENT)
    assert "HTTP 503" in run.last_line
    assert run.seconds < 10
    reliability.record(
        role=ROLE, fault="HTTP 503", outcome="clear failure", seconds=run.seconds, detail=run.last_line
    )


def test_http_503_once_is_retried(capsys, fault_proxy, plain_registry, image, tmp_path, reliability):
    proxy = fault_proxy(plain_registry, Fault("status", status=503, times=1, **MANIFEST_PUT))
    run = push_through(capsys, proxy, image, tmp_path / "out")
    assert_recovered(run, proxy, image, tmp_path / "out")
    reliability.record(
        role=ROLE,
        fault="HTTP 503",
        outcome="retried and succeeded",
        seconds=run.seconds,
        detail="manifest PUT answered 503 once; retried",
    )


def test_429_retry_after_is_honoured(capsys, fault_proxy, plain_registry, image, tmp_path, reliability):
    proxy = fault_proxy(plain_registry, Fault("status", status=429, retry_after=1.5, times=1, **MANIFEST_PUT))
    run = push_through(capsys, proxy, image, tmp_path / "out")
    assert_recovered(run, proxy, image, tmp_path / "out")
    assert "retry after attempt 1 in 1.5s" in run.err
    assert run.seconds >= 1.5
    reliability.record(
        role=ROLE,
        fault="429 Retry-After",
        outcome="retried and succeeded",
        seconds=run.seconds,
        detail="429 with Retry-After: 1.5; waited exactly that long, then pushed",
    )


def test_429_retry_after_beyond_the_timeout_fails_at_once(
    capsys, fault_proxy, plain_registry, image, tmp_path, reliability
):
    proxy = fault_proxy(plain_registry, Fault("status", status=429, retry_after=30, **MANIFEST_PUT))
    run = push_through(capsys, proxy, image, tmp_path / "out", timeout=5)
    assert_clear_failure(run, proxy, tmp_path / "out", EXIT_TRANSIENT)
    assert "TOOMANYREQUESTS" in run.last_line
    assert run.seconds < 2
    reliability.record(
        role=ROLE, fault="429 Retry-After", outcome="clear failure", seconds=run.seconds, detail=run.last_line
    )


def test_auth_denied_is_not_retried(
    capsys, fault_proxy, tls_registry, wrong_tls_user, docker_config, image, tmp_path, reliability
):
    proxy = fault_proxy(tls_registry)
    authfile = docker_config({proxy.host: wrong_tls_user})
    cert_dir = f"--cert-dir={tls_registry.tls.cert_dir}"
    run = push_through(
        capsys, proxy, image, tmp_path / "out", f"--authfile={authfile}", cert_dir, plain_http=False
    )
    assert_clear_failure(run, proxy, tmp_path / "out", EXIT_FAILED)
    assert "UNAUTHORIZED" in run.last_line
    assert retries_in(run) == 0
    # Each blob check: once anonymous, once with the (wrong) credentials; then nothing more.
    assert proxy.count() <= 2 * 3
    reliability.record(
        role=ROLE, fault="auth denied", outcome="clear failure", seconds=run.seconds, detail=run.last_line
    )


def test_token_without_push_access_is_denied_without_retry(
    capsys, fault_proxy, token_registry, token_reader, docker_config, image, tmp_path, reliability
):
    proxy = fault_proxy(token_registry)
    authfile = docker_config({proxy.host: token_reader})
    run = push_through(capsys, proxy, image, tmp_path / "out", f"--authfile={authfile}")
    assert_clear_failure(run, proxy, tmp_path / "out", EXIT_FAILED)
    assert "UNAUTHORIZED" in run.last_line or "DENIED" in run.last_line
    assert retries_in(run) == 0
    reliability.record(
        role=ROLE, fault="auth denied", outcome="clear failure", seconds=run.seconds, detail=run.last_line
    )


def test_untrusted_tls_fails_without_downgrade(
    capsys, fault_proxy, tls_registry, tls_user, docker_config, image, tmp_path, reliability
):
    proxy = fault_proxy(tls_registry)
    authfile = docker_config({proxy.host: tls_user})
    run = push_through(capsys, proxy, image, tmp_path / "out", f"--authfile={authfile}", plain_http=False)
    assert_clear_failure(run, proxy, tmp_path / "out", EXIT_FAILED)
    assert "TLS certificate not trusted" in run.last_line
    assert retries_in(run) == 0
    assert proxy.count() == 0  # no HTTP request got through: no plain-HTTP retry, no unverified one
    reliability.record(
        role=ROLE, fault="untrusted TLS", outcome="clear failure", seconds=run.seconds, detail=run.last_line
    )
