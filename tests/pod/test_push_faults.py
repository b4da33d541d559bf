"""Faults on the push destination: each is retried and survived, or fails clearly within its bound.

A real registry sits behind the sandbox fault proxy; every test bounds the push
with ``--timeout`` and asserts the exit code, the last line and the retries
(the limit each error names, the requests the proxy saw), then records what it
observed in the reliability matrix. The module's pytest timeout is the hang guard.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from push_helpers import UPLOAD_POSTS, PushRun, assert_no_outputs, assert_pushed, run_push

from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_TRANSIENT
from hera_imagebuild.sandbox.faultproxy import Fault, FaultProxy

pytestmark = pytest.mark.timeout(60)

ROLE = "push destination"
MANIFEST_PUT = {"path": "/manifests/", "method": "PUT"}
VERIFY_GET = {"path": "/manifests/sha256:", "method": "GET"}


def retries_in(run: PushRun) -> int:
    return run.err.count("retry after attempt")


@dataclass
class Destination:
    """A registry behind a fault proxy, the image to push there, and the checks every fault test makes."""

    proxy: FaultProxy
    image: Any
    out: Path
    capsys: pytest.CaptureFixture[str]
    reliability: Any

    def push(self, *extra: str, timeout: float = 20, plain_http: bool = True) -> PushRun:
        insecure = [f"--insecure-registry={self.proxy.host}"] if plain_http else []
        return run_push(
            self.capsys,
            f"--image={self.image.layout_dir}",
            f"--destination={self.proxy.host}/faults/app:v1",
            f"--timeout={timeout:g}",
            f"--output-dir={self.out}",
            *insecure,
            *extra,
        )

    def recovered(self, run: PushRun, fault: str, detail: str) -> None:
        """Pushed and verified after at least one retry; recorded as such."""
        assert run.code == 0, run.err
        assert retries_in(run) >= 1, run.err
        assert_pushed(self.out, self.image.digest, [f"{self.proxy.host}/faults/app"])
        self.reliability.record(
            role=ROLE, fault=fault, outcome="retried and succeeded", seconds=run.seconds, detail=detail
        )

    def failed(self, run: PushRun, code: int, fault: str) -> None:
        """Failed with ``code`` and one line naming the destination, no outputs; recorded with that line."""
        assert run.code == code, run.err
        assert run.last_line.startswith(f"push failed: {self.proxy.host}/faults/app:v1: "), run.last_line
        assert "Traceback" not in run.err
        assert_no_outputs(self.out)
        self.reliability.record(
            role=ROLE, fault=fault, outcome="clear failure", seconds=run.seconds, detail=run.last_line
        )


@pytest.fixture
def destination(fault_proxy, oci_image, request, tmp_path, capsys, reliability):
    """Factory: ``destination(registry, *faults)``; the image's blobs are new to every registry."""
    image = oci_image(seed=request.node.name, layer_sizes=(1024, 100_000), incompressible=True)

    def make(registry, *faults: Fault) -> Destination:
        return Destination(fault_proxy(registry, *faults), image, tmp_path / "out", capsys, reliability)

    return make


@pytest.fixture
def later() -> Iterator[list[threading.Timer]]:
    """Timers that change a fault while a push runs; cancelled and joined after the test."""
    timers: list[threading.Timer] = []
    yield timers
    for timer in timers:
        timer.cancel()
        timer.join(5)


def test_refused_then_back(destination, plain_registry, later):
    target = destination(plain_registry, Fault("refuse"))
    timer = threading.Timer(1.5, target.proxy.clear)
    later.append(timer)
    timer.start()
    run = target.push("--max-attempts=8")
    target.recovered(
        run, "refused", "destination refused connections for 1.5 s; pushed after retries with backoff"
    )
    assert "cannot connect" in run.err


def test_refused_for_good(destination, plain_registry):
    target = destination(plain_registry, Fault("refuse"))
    run = target.push("--max-attempts=3", timeout=10)
    target.failed(run, EXIT_TRANSIENT, "refused")
    assert "cannot connect" in run.last_line
    assert "gave up after 3 attempts" in run.last_line  # stopped by --max-attempts, within --timeout


def test_hung_request_is_cut_and_retried(destination, plain_registry):
    target = destination(plain_registry, Fault("hang", times=1, **MANIFEST_PUT))
    # --timeout=8 gives each request 2 s: the hung PUT costs 2 s, then the retry goes through.
    run = target.push(timeout=8)
    target.recovered(run, "hung", "manifest PUT never answered: cut after the 2 s request limit, retried")
    assert "no complete answer within 2.0s" in run.err
    retried = r"retry after attempt 1 in [\d.]+s: put manifest .*no complete answer within 2\.0s"
    assert re.search(retried, run.err), run.err
    assert target.proxy.count(**MANIFEST_PUT) == 2  # the hung PUT, then the one that went through


def test_hung_registry_fails_within_the_timeout(destination, plain_registry):
    target = destination(plain_registry, Fault("hang"))
    run = target.push(timeout=4)
    target.failed(run, EXIT_TRANSIENT, "hung")
    # --timeout=4 gives each request 1 s: the hung requests are cut at that limit, and the push ends
    # on the 4 s deadline (5 attempts of 1 s each cannot fit in it), not on an answer.
    assert "no complete answer within 1.0s" in run.err
    assert re.search(r"no time left for a retry|not finished within --timeout=4s", run.last_line)


def test_trickling_upload_is_cut_and_retried(destination, plain_registry):
    """A layer accepted at 4 KB/s would take 25 s: the transfer limit cuts it and the retry goes through."""
    # Every blob's first PATCH is throttled (three blobs): the two small ones still finish in time.
    target = destination(plain_registry, Fault("throttle", method="PATCH", times=3, bytes_per_second=4000))
    run = target.push(timeout=8)
    target.recovered(run, "slow", "layer upload throttled to 4 KB/s: cut at its transfer deadline, retried")
    # Cut by the 2 s read timeout or the 2.4 s transfer limit (2 s + 100 kB at the 256 KiB/s floor).
    assert re.search(r"retry after attempt 1 .*: upload blob .*(timed out|no complete answer)", run.err)


@pytest.mark.parametrize(("fault", "kind"), [("reset mid-body", "reset"), ("truncated", "truncate")])
def test_cut_response_body_is_retried(destination, plain_registry, fault, kind):
    # The verification GET's body is cut after 20 bytes: the digest check catches it, the retry passes.
    target = destination(plain_registry, Fault(kind, body_bytes=20, times=1, **VERIFY_GET))
    run = target.push()
    target.recovered(
        run, fault, "manifest body cut after 20 bytes while verifying; fetched again and verified"
    )
    assert target.proxy.count("GET", VERIFY_GET["path"]) == 2


def test_http_500_is_retried(destination, plain_registry):
    target = destination(
        plain_registry, Fault("status", status=500, path=UPLOAD_POSTS, method="POST", times=2)
    )
    run = target.push()
    target.recovered(run, "HTTP 500", "two upload starts answered 500; retried")
    assert "HTTP 500" in run.err
    assert target.proxy.count("POST", UPLOAD_POSTS) == 3 + 2  # three blobs, two refused starts


def test_http_503_for_good_fails_as_transient(destination, plain_registry):
    target = destination(plain_registry, Fault("status", status=503))
    run = target.push("--max-attempts=3", timeout=10)
    target.failed(run, EXIT_TRANSIENT, "HTTP 503")
    assert "HTTP 503" in run.last_line
    assert "gave up after 3 attempts" in run.last_line


def test_http_503_once_is_retried(destination, plain_registry):
    target = destination(plain_registry, Fault("status", status=503, times=1, **MANIFEST_PUT))
    run = target.push()
    target.recovered(run, "HTTP 503", "manifest PUT answered 503 once; retried")


def test_429_retry_after_is_honoured(destination, plain_registry):
    target = destination(
        plain_registry, Fault("status", status=429, retry_after=1.5, times=1, **MANIFEST_PUT)
    )
    run = target.push()
    target.recovered(run, "429 Retry-After", "429 with Retry-After: 1.5; waited that long, then pushed")
    assert "retry after attempt 1 in 1.5s" in run.err  # the asked-for wait, not the backoff
    assert retries_in(run) == 1
    assert target.proxy.count(**MANIFEST_PUT) == 2  # the 429, then the PUT after the wait


def test_429_retry_after_beyond_the_timeout_fails_at_once(destination, plain_registry):
    target = destination(plain_registry, Fault("status", status=429, retry_after=30, **MANIFEST_PUT))
    run = target.push(timeout=5)
    target.failed(run, EXIT_TRANSIENT, "429 Retry-After")
    assert "TOOMANYREQUESTS" in run.last_line
    assert "no time left for a retry in 30.0s" in run.last_line
    assert retries_in(run) == 0  # failed at once: no wait, no further attempt
    assert target.proxy.count(**MANIFEST_PUT) == 1


def test_auth_denied_is_not_retried(destination, tls_registry, wrong_tls_user, docker_config):
    target = destination(tls_registry)
    authfile = docker_config({target.proxy.host: wrong_tls_user})
    run = target.push(f"--authfile={authfile}", f"--cert-dir={tls_registry.tls.cert_dir}", plain_http=False)
    target.failed(run, EXIT_FAILED, "auth denied")
    assert "UNAUTHORIZED" in run.last_line
    assert retries_in(run) == 0
    # Each blob check: once anonymous, once with the (wrong) credentials; then nothing more.
    assert target.proxy.count() <= 2 * 3


def test_token_without_push_access_is_denied_without_retry(
    destination, token_registry, token_reader, docker_config
):
    target = destination(token_registry)
    run = target.push(f"--authfile={docker_config({target.proxy.host: token_reader})}")
    target.failed(run, EXIT_FAILED, "auth denied")
    assert "UNAUTHORIZED" in run.last_line or "DENIED" in run.last_line
    assert retries_in(run) == 0


def test_untrusted_tls_fails_without_downgrade(destination, tls_registry, tls_user, docker_config):
    target = destination(tls_registry)
    run = target.push(f"--authfile={docker_config({target.proxy.host: tls_user})}", plain_http=False)
    target.failed(run, EXIT_FAILED, "untrusted TLS")
    assert "TLS certificate not trusted" in run.last_line
    assert retries_in(run) == 0
    assert target.proxy.count() == 0  # no HTTP request got through: no plain-HTTP retry, no unverified one
