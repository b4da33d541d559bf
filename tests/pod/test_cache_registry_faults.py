"""The cache registry under every fault: a failed copy falls back to the source, a passing fault is retried.

``prefetch --cache-registry`` copies each base image there by digest. When the
copy fails the step still succeeds: report.json records the failure, a warning
says the build pulls from the source that answered, and ``--registry-map``
leaves kaniko on that source. A fault that passes is retried (the presence
check within the probe window, the copy by the copy client) and the map then
points at the cache. test_prefetch_faults.py covers refused, hung, HTTP 503 and
auth denied; this file covers the other faults. Each observed outcome is
recorded in the reliability matrix.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from prefetch_helpers import PrefetchRun, Seeded, run_prefetch, seed

from hera_imagebuild.builders.kaniko import NO_OP_REGISTRY_MAP
from hera_imagebuild.pod.prefetch import COPY_ATTEMPTS
from hera_imagebuild.sandbox.faultproxy import Fault, FaultProxy
from hera_imagebuild.sandbox.registry import start_registry

pytestmark = pytest.mark.timeout(60)

ROLE = "cache registry"
PROBE_TIMEOUT = 1.0
FALLBACK_WARNING = "the build pulls from the source that answered instead"
MANIFEST_PUT = {"path": "/manifests/", "method": "PUT"}
VERIFY_GET = {"path": "/manifests/sha256:", "method": "GET"}
PRESENCE_HEAD = {"path": "/manifests/sha256:", "method": "HEAD"}


@dataclass(frozen=True)
class CacheFault:
    """A fault on the cache registry that makes the copy fail for good."""

    fault: Fault
    error: str
    """Regex the recorded cache error must match."""
    copied_blobs: bool
    """Whether the copy got as far as uploading (the fault hits after the presence check)."""


FAILING = {
    "slow": CacheFault(
        Fault("delay", delay=3 * PROBE_TIMEOUT), r"no answer within the probe timeout \(1s\)", False
    ),
    "reset mid-body": CacheFault(
        Fault("reset", body_bytes=16, **VERIFY_GET), r"(?i)ReadError|peer closed|reset", True
    ),
    "truncated": CacheFault(
        Fault("truncate", body_bytes=16, **VERIFY_GET), r"(?i)incomplete|peer closed", True
    ),
    "HTTP 500": CacheFault(Fault("status", status=500), r"HTTP 500", False),
    "429 Retry-After": CacheFault(Fault("status", status=429, retry_after=30), r"HTTP 429", False),
    # A manifest PUT answered 201 but never stored: the registry itself answers the
    # verification GET with 404 MANIFEST_UNKNOWN (its own JSON error body).
    "manifest unknown": CacheFault(
        Fault("status", status=201, **MANIFEST_PUT), r"\(HTTP 404, MANIFEST_UNKNOWN\)", True
    ),
}

PASSING = {
    "reset mid-body": (
        Fault("reset", body_bytes=16, times=1, **VERIFY_GET),
        "verification GET reset after 16 bytes once; fetched again, copied to the cache",
    ),
    "truncated": (
        Fault("truncate", body_bytes=16, times=1, **VERIFY_GET),
        "verification GET truncated after 16 bytes once; fetched again, copied to the cache",
    ),
    "HTTP 500": (
        Fault("status", status=500, times=1, **MANIFEST_PUT),
        "manifest PUT answered 500 once; retried, copied to the cache",
    ),
    "429 Retry-After": (
        Fault("status", status=429, retry_after=0.3, times=1, **PRESENCE_HEAD),
        "presence check answered 429 with Retry-After: 0.3 once; retried within the probe window, copied",
    ),
}


@pytest.fixture(scope="module")
def origin(plain_registry, skopeo, tmp_path_factory) -> Seeded:
    return seed(plain_registry, skopeo, tmp_path_factory.mktemp("cache-fault-images"))


def prefetch_via_cache(
    origin: Seeded, proxy: FaultProxy, capsys, tmp_path, *flags: str, insecure_cache: bool = True
) -> PrefetchRun:
    """Prefetch base/a from the (healthy, plain HTTP) origin with ``proxy`` as the cache registry."""
    hosts = [origin.registry.host, proxy.host] if insecure_cache else [origin.registry.host]
    return run_prefetch(
        capsys,
        tmp_path,
        f"FROM {origin.ref('base/a')}\n",
        f"--cache-registry={proxy.host}/cache",
        f"--probe-timeout={PROBE_TIMEOUT}",
        *(f"--insecure-registry={host}" for host in hosts),
        *flags,
    )


def assert_fell_back(run: PrefetchRun, origin: Seeded, proxy: FaultProxy, error: str) -> dict[str, object]:
    """The step succeeded from the origin; report, warning and map all say the cache copy failed."""
    original = origin.ref("base/a")
    digest = origin.digest("base/a")
    assert run.code == 0, run.err
    entry = run.image(original)
    assert (entry["source"], entry["source_role"], entry["digest"]) == (
        origin.registry.host,
        "origin",
        digest,
    )
    cache = entry["cache"]
    assert cache["outcome"] == "failed"
    assert cache["reference"] == f"{proxy.host}/cache/base/a:1@{digest}"
    assert re.search(error, cache["error"]), cache["error"]
    assert cache["bytes_uploaded"] == 0
    warning = (
        f"copy to cache registry {proxy.host}/cache/base/a failed ({cache['error']}); {FALLBACK_WARNING}"
    )
    assert warning in run.err
    assert "Traceback" not in run.err
    # kaniko is not sent to the cache: the map matches nothing, so it pulls from the origin.
    assert run.registry_map == run.report["registry_config"] == NO_OP_REGISTRY_MAP
    pinned = f"{origin.registry.host}/base/a@{digest}"
    assert entry["pinned"] == pinned
    assert f"FROM {pinned}\n" in run.dockerfile
    return cache


def assert_within_the_attempt_limits(run: PrefetchRun, proxy: FaultProxy) -> None:
    """The copy client made at most COPY_ATTEMPTS attempts of any request: no retry beyond its limit."""
    assert f"retry after attempt {COPY_ATTEMPTS}" not in run.err
    for request in (MANIFEST_PUT, VERIFY_GET):
        assert proxy.count(**request) <= COPY_ATTEMPTS, (request, proxy.requests)


@pytest.mark.parametrize("fault", FAILING)
def test_failing_cache_copy_falls_back_to_the_source(
    fault, origin, fault_proxy, reliability, capsys, tmp_path
):
    spec = FAILING[fault]
    with start_registry(tmp_path / "cache", name="cache") as registry:
        proxy = fault_proxy(registry, spec.fault, name=f"cache-{fault}")
        run = prefetch_via_cache(origin, proxy, capsys, tmp_path)

    cache = assert_fell_back(run, origin, proxy, spec.error)
    assert (proxy.count("PATCH") + proxy.count("PUT", "/blobs/") > 0) is spec.copied_blobs
    if fault == "manifest unknown":  # a refusal: neither the PUT nor the verification is repeated
        assert (proxy.count(**MANIFEST_PUT), proxy.count(**VERIFY_GET)) == (1, 1)
    if fault == "HTTP 500":  # transient: the presence check is retried until the probe window is used up
        assert proxy.count(**PRESENCE_HEAD) >= 2
    if fault == "429 Retry-After":  # waiting 30 s does not fit the 1 s window: fall back at once
        assert proxy.count(**PRESENCE_HEAD) == 1
        assert proxy.count() == 1  # nothing after the one presence check: no wait, no copy
    if fault in ("reset mid-body", "truncated"):  # transient: the copy client tried three times
        assert proxy.count(**VERIFY_GET) == 3
        assert "retry after attempt 2" in run.err
    # The presence check is bounded by the probe window; a failed copy by the copy client's 3 attempts.
    assert_within_the_attempt_limits(run, proxy)
    reliability.record(
        role=ROLE, fault=fault, outcome="fallback taken", seconds=run.seconds, detail=str(cache["error"])
    )


@pytest.mark.parametrize("fault", PASSING)
def test_passing_fault_on_the_cache_registry_is_retried(
    fault, origin, fault_proxy, skopeo, reliability, capsys, tmp_path
):
    injected, detail = PASSING[fault]
    with start_registry(tmp_path / "cache", name="cache") as registry:
        proxy = fault_proxy(registry, injected, name=f"cache-{fault}")
        run = prefetch_via_cache(origin, proxy, capsys, tmp_path)
        original, digest = origin.ref("base/a"), origin.digest("base/a")
        served = skopeo.inspect(f"{registry.host}/cache/base/a@{digest}", registry=registry, raw=True)

    assert run.code == 0, run.err
    manifest = origin.images["base/a"].layout_dir / "blobs" / "sha256" / digest.removeprefix("sha256:")
    assert served == json.loads(manifest.read_bytes())  # the cache serves the image kaniko is sent to
    cache = run.image(original)["cache"]
    assert (cache["outcome"], cache["error"]) == ("copied", None)
    assert cache["reference"] == f"{proxy.host}/cache/base/a:1@{digest}"
    assert cache["bytes_uploaded"] > 0
    assert FALLBACK_WARNING not in run.err
    assert run.registry_map == f"{origin.registry.host}={proxy.host}/cache"  # kaniko pulls from the cache
    assert proxy.count(injected.method, injected.path) == 2  # the faulted request, then its retry
    if fault == "429 Retry-After":  # retried within the probe window, not by the copy client
        assert "retry after attempt" not in run.err
    else:  # retried by the copy client
        assert "retry after attempt 1" in run.err
    assert_within_the_attempt_limits(run, proxy)
    reliability.record(
        role=ROLE,
        fault=fault,
        outcome="retried and succeeded",
        seconds=run.seconds,
        detail=detail,
    )


def test_untrusted_cache_registry_is_skipped_without_downgrade(
    origin, tls_registry, fault_proxy, reliability, capsys, tmp_path
):
    """No --cert-dir: the cache's certificate is not trusted; no plain-HTTP or unverified retry."""
    proxy = fault_proxy(tls_registry, name="cache-untrusted")
    run = prefetch_via_cache(origin, proxy, capsys, tmp_path, insecure_cache=False)

    cache = assert_fell_back(run, origin, proxy, r"TLS certificate not trusted")
    assert proxy.count() == 0  # no HTTP request got through the failed handshake
    reliability.record(
        role=ROLE,
        fault="untrusted TLS",
        outcome="fallback taken",
        seconds=run.seconds,
        detail=str(cache["error"]),
    )


def test_a_cache_copy_that_outlives_its_deadline_falls_back_to_the_source(
    origin, fault_proxy, skopeo, capsys, tmp_path
):
    """A cache registry that takes uploads at a trickle: the copy stops at --cache-copy-timeout, not at
    the pod's deadline, and the build pulls from the source that answered."""
    with start_registry(tmp_path / "cache", name="cache") as registry:
        # Manifest probes pass; blob uploads crawl at 64 bytes/s (the layer is 4 KiB: a minute).
        proxy = fault_proxy(
            registry, Fault("throttle", method="PATCH", bytes_per_second=64), name="cache-trickle"
        )
        run = prefetch_via_cache(origin, proxy, capsys, tmp_path, "--cache-copy-timeout=2")
    cache = assert_fell_back(run, origin, proxy, r"time limit|within")
    assert proxy.count("PATCH") >= 1  # the copy had started: the deadline, not a refusal, ended it
    assert cache["outcome"] == "failed"


def test_the_cache_copy_timeout_is_a_positive_number(capsys, tmp_path, bad_input):
    run = run_prefetch(capsys, tmp_path, "FROM scratch\n", "--cache-copy-timeout=nan")
    assert run.code == 2
    assert run.last_line == "prefetch: --cache-copy-timeout: nan must be a positive number of seconds"
    bad_input.record(area="CLI", given="prefetch --cache-copy-timeout=nan", error=run.last_line)
