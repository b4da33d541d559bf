"""Prefetch under faults on real registries: a broken mirror falls back, a broken origin fails clearly.

Each fault is injected by the sandbox fault proxy (or is real: a registry that
denies access, a certificate nobody trusts, a repository that does not exist)
and each observed outcome is recorded in the reliability matrix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from prefetch_helpers import PrefetchRun, Seeded, run_prefetch, seed

from hera_imagebuild.builders.kaniko import NO_OP_REGISTRY_MAP
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_TRANSIENT
from hera_imagebuild.sandbox.faultproxy import Fault, closed_port_url
from hera_imagebuild.sandbox.registry import start_registry

pytestmark = pytest.mark.timeout(60)

PROBE_TIMEOUT = 1.0


@dataclass(frozen=True)
class ProxyFault:
    fault: Fault
    error: str  # regex the recorded error must match
    transient: bool = True


PROXY_FAULTS = {
    "refused": ProxyFault(Fault("refuse"), "cannot connect"),
    "hung": ProxyFault(Fault("hang"), "no answer within the probe timeout"),
    "slow": ProxyFault(Fault("delay", delay=3 * PROBE_TIMEOUT), "no answer within the probe timeout"),
    "reset mid-body": ProxyFault(
        Fault("reset", path="/manifests/", body_bytes=16), "(?i)ReadError|peer closed|reset"
    ),
    "truncated": ProxyFault(
        Fault("truncate", path="/manifests/", body_bytes=16), "(?i)incomplete|peer closed"
    ),
    "HTTP 500": ProxyFault(Fault("status", status=500), r"HTTP 500"),
    "HTTP 503": ProxyFault(Fault("status", status=503), r"HTTP 503"),
    "429 Retry-After": ProxyFault(Fault("status", status=429, retry_after=30), r"HTTP 429"),
}
# Faults that are real behaviour of a real registry, not injected.
REAL_FAULTS = {
    "auth denied": ("UNAUTHORIZED", False),
    "untrusted TLS": ("TLS certificate not trusted", False),
    "manifest unknown": ("MANIFEST_UNKNOWN|NAME_UNKNOWN", False),
}


@pytest.fixture(scope="module")
def origin(plain_registry, skopeo, tmp_path_factory) -> Seeded:
    return seed(plain_registry, skopeo, tmp_path_factory.mktemp("fault-origin-images"))


@pytest.fixture(scope="module")
def secure(origin, tls_registry, skopeo) -> str:
    """``host/secure`` on the TLS + basic-auth registry, holding base/a."""
    skopeo.push(origin.images["base/a"], tls_registry, "secure/base/a", "1")
    return f"{tls_registry.host}/secure"


def insecure(*hosts: str) -> list[str]:
    return [f"--insecure-registry={host}" for host in hosts]


def real_fault_source(fault: str, origin: Seeded, secure: str, tls_registry) -> tuple[str, list[str]]:
    """A source exhibiting ``fault`` for base/a, and the extra flags it needs."""
    if fault == "auth denied":  # trusted, but no credentials
        return secure, [f"--cert-dir={tls_registry.tls.cert_dir}"]
    if fault == "untrusted TLS":  # no --cert-dir: the sandbox CA is unknown
        return secure, []
    return f"{origin.registry.host}/nothing-here", insecure(origin.registry.host)


def first_error(run: PrefetchRun, original: str) -> str:
    error: str = run.image(original)["sources"][0]["error"]
    return error


# One attempt holds the whole probe window (hung, slow), or a Retry-After longer than the window is
# not waited for: either way the source is given up on after one attempt, at the window.
ONE_ATTEMPT = {"hung", "slow", "429 Retry-After"}


def assert_bounded_by_the_probe_window(fault: str, source: dict[str, object]) -> None:
    """The source's failure shows it was given up on within the probe window, not a longer limit."""
    error = str(source["error"])
    if "probe timeout" in PROXY_FAULTS[fault].error:
        assert f"no answer within the probe timeout ({PROBE_TIMEOUT:g}s)" in error, error
    if fault in ONE_ATTEMPT:
        assert source["attempts"] == 1, source


@pytest.mark.parametrize("fault", PROXY_FAULTS)
def test_fault_on_a_mirror_falls_back_to_the_origin(
    fault, origin, fault_proxy, reliability, capsys, tmp_path
):
    spec = PROXY_FAULTS[fault]
    host = origin.registry.host
    mirror = fault_proxy(origin.registry, spec.fault, name=f"mirror-{fault}")
    run = run_prefetch(
        capsys,
        tmp_path,
        f"FROM {host}/base/a:1\n",
        f"--mirror={host}={mirror.host}",
        f"--probe-timeout={PROBE_TIMEOUT}",
        *insecure(host, mirror.host),
    )

    original = f"{host}/base/a:1"
    assert run.code == 0, run.err
    assert run.outcomes(original) == [(mirror.host, "failed"), (host, "chosen")]
    error = first_error(run, original)
    assert re.search(spec.error, error), error
    assert run.image(original)["sources"][0]["kind"] == "transient"
    assert run.image(original)["digest"] == origin.digest("base/a")
    assert_bounded_by_the_probe_window(fault, run.image(original)["sources"][0])
    reliability.record(
        role="mirror", fault=fault, outcome="fallback taken", seconds=run.seconds, detail=error
    )


@pytest.mark.parametrize("fault", REAL_FAULTS)
def test_real_refusal_by_a_mirror_falls_back_to_the_origin(
    fault, origin, secure, tls_registry, reliability, capsys, tmp_path
):
    pattern, _ = REAL_FAULTS[fault]
    host = origin.registry.host
    mirror, flags = real_fault_source(fault, origin, secure, tls_registry)
    run = run_prefetch(
        capsys,
        tmp_path,
        f"FROM {host}/base/a:1\n",
        f"--mirror={host}={mirror}",
        f"--probe-timeout={PROBE_TIMEOUT}",
        *flags,
        *insecure(host),
    )

    original = f"{host}/base/a:1"
    assert run.code == 0, run.err
    assert run.outcomes(original) == [(mirror, "failed"), (host, "chosen")]
    error = first_error(run, original)
    assert re.search(pattern, error), error
    assert run.image(original)["sources"][0]["kind"] == "deterministic"
    assert run.image(original)["sources"][0]["attempts"] == 1  # a refusal is not retried
    reliability.record(
        role="mirror", fault=fault, outcome="fallback taken", seconds=run.seconds, detail=error
    )


@pytest.mark.parametrize("fault", PROXY_FAULTS)
def test_fault_on_the_origin_without_mirror_fails_clearly(
    fault, origin, fault_proxy, reliability, capsys, tmp_path
):
    spec = PROXY_FAULTS[fault]
    front = fault_proxy(origin.registry, spec.fault, name=f"origin-{fault}")
    run = run_prefetch(
        capsys,
        tmp_path,
        f"FROM {front.host}/base/a:1\n",
        f"--probe-timeout={PROBE_TIMEOUT}",
        *insecure(front.host),
    )

    original = f"{front.host}/base/a:1"
    assert run.code == EXIT_TRANSIENT, run.err
    error = first_error(run, original)
    assert re.search(spec.error, error), error
    assert run.last_line.startswith(
        f"prefetch failed: no source could provide {original} for linux/amd64; tried: "
    )
    assert f"origin {front.host} ({original}): " in run.last_line
    assert error in run.last_line
    assert run.report["ok"] is False
    assert_bounded_by_the_probe_window(fault, run.image(original)["sources"][0])
    reliability.record(
        role="origin", fault=fault, outcome="clear failure", seconds=run.seconds, detail=run.last_line
    )


@pytest.mark.parametrize("fault", REAL_FAULTS)
def test_real_refusal_by_the_origin_fails_without_retry(
    fault, origin, secure, tls_registry, reliability, capsys, tmp_path
):
    pattern, _ = REAL_FAULTS[fault]
    source, flags = real_fault_source(fault, origin, secure, tls_registry)
    original = f"{source}/base/a:1"
    run = run_prefetch(capsys, tmp_path, f"FROM {original}\n", f"--probe-timeout={PROBE_TIMEOUT}", *flags)

    assert run.code == EXIT_FAILED, run.err
    assert re.search(pattern, first_error(run, original))
    assert run.image(original)["sources"][0]["attempts"] == 1
    assert run.last_line.startswith(f"prefetch failed: no source could provide {original}")
    reliability.record(
        role="origin", fault=fault, outcome="clear failure", seconds=run.seconds, detail=run.last_line
    )


@pytest.mark.parametrize(
    ("fault", "injected"),
    [
        ("HTTP 503", Fault("status", status=503, path="/manifests/", times=1)),
        ("429 Retry-After", Fault("status", status=429, retry_after=0.3, path="/manifests/", times=1)),
        ("reset mid-body", Fault("reset", path="/manifests/", body_bytes=16, times=1)),
    ],
)
@pytest.mark.parametrize("role", ["mirror", "origin"])
def test_a_passing_fault_is_retried_within_the_probe_window(
    role, fault, injected, origin, fault_proxy, reliability, capsys, tmp_path
):
    host = origin.registry.host
    proxy = fault_proxy(origin.registry, injected, name=f"{role}-{fault}")
    if role == "mirror":
        original, args = f"{host}/base/a:1", [f"--mirror={host}={proxy.host}", "--no-fallback"]
    else:
        original, args = f"{proxy.host}/base/a:1", []
    run = run_prefetch(
        capsys, tmp_path, f"FROM {original}\n", "--probe-timeout=2", *args, *insecure(proxy.host, host)
    )

    assert run.code == 0, run.err
    source = run.image(original)["sources"][0]
    assert (source["source"], source["outcome"], source["attempts"]) == (proxy.host, "chosen", 2)
    # The faulted request, then its retry. (That a Retry-After is read: a 30 s one is not waited for,
    # test_fault_on_the_origin_without_mirror_fails_clearly[429 Retry-After].)
    assert proxy.count("GET", "/manifests/") == 2
    reliability.record(role=role, fault=fault, outcome="retried and succeeded", seconds=run.seconds)


def test_all_sources_down_names_every_source_and_its_error(origin, fault_proxy, capsys, tmp_path):
    refused = closed_port_url().removeprefix("http://")
    unavailable = fault_proxy(origin.registry, Fault("status", status=503), name="mirror-503")
    front = fault_proxy(origin.registry, Fault("status", status=500), name="origin-500")
    original = f"{front.host}/base/b:1"
    run = run_prefetch(
        capsys,
        tmp_path,
        f"FROM {original}\n",
        f"--mirror={front.host}={refused},{unavailable.host}",
        f"--probe-timeout={PROBE_TIMEOUT}",
        *insecure(refused, unavailable.host, front.host),
    )

    assert run.code == EXIT_TRANSIENT
    assert run.outcomes(original) == [
        (refused, "failed"),
        (unavailable.host, "failed"),
        (front.host, "failed"),
    ]
    line = run.last_line
    assert line.startswith(f"prefetch failed: no source could provide {original} for linux/amd64; tried: ")
    for role, source, reference, error in [
        ("mirror", refused, f"{refused}/base/b:1", "cannot connect"),
        ("mirror", unavailable.host, f"{unavailable.host}/base/b:1", "HTTP 503"),
        ("origin", front.host, original, "HTTP 500"),
    ]:
        assert re.search(
            rf"{role} {source} \({re.escape(reference)}\): [^\[]*{error}[^\[]*\[transient\]", line
        )
    assert line.count("[transient]") == 3
    assert run.report["error"] == line.removeprefix("prefetch failed: ")


def test_one_failing_image_fails_the_step_but_reports_all(origin, capsys, tmp_path):
    host = origin.registry.host
    run = run_prefetch(
        capsys, tmp_path, f"FROM {host}/base/a:1 AS a\nFROM {host}/base/none:1\n", *insecure(host)
    )

    assert run.code == EXIT_FAILED
    assert [e["digest"] is not None for e in run.report["images"]] == [True, False]
    assert "MANIFEST_UNKNOWN" in run.last_line or "NAME_UNKNOWN" in run.last_line
    assert f"{host}/base/a:1" not in run.last_line


CACHE_FAULTS = {
    "HTTP 503": Fault("status", status=503),
    "refused": Fault("refuse"),
    "hung": Fault("hang"),
}


@pytest.mark.parametrize("fault", CACHE_FAULTS)
def test_fault_on_the_cache_registry_falls_back_to_the_source(
    fault, origin, fault_proxy, reliability, capsys, tmp_path
):
    host = origin.registry.host
    with start_registry(tmp_path / "cache", name="cache") as cache:
        front = fault_proxy(cache, CACHE_FAULTS[fault], name=f"cache-{fault}")
        run = run_prefetch(
            capsys,
            tmp_path,
            f"FROM {host}/base/a:1\n",
            f"--cache-registry={front.host}/cache",
            f"--probe-timeout={PROBE_TIMEOUT}",
            *insecure(host, front.host),
        )

    assert run.code == 0, run.err
    entry = run.image(f"{host}/base/a:1")["cache"]
    assert entry["outcome"] == "failed"
    assert entry["error"]
    assert run.registry_map == NO_OP_REGISTRY_MAP  # kaniko pulls from the origin, which answered
    assert "the build pulls from the source that answered instead" in run.err
    # The presence check failed (bounded by the probe window): the copy, with its longer limits and
    # retries, never started.
    presence_check = rf"check (manifest |{re.escape(front.host)}/)cache/base/a@{origin.digest('base/a')} "
    assert re.match(presence_check, entry["error"]), entry["error"]
    assert entry["bytes_uploaded"] == 0
    assert "retry after attempt" not in run.err
    if fault == "hung":
        assert f"no answer within the probe timeout ({PROBE_TIMEOUT:g}s)" in entry["error"]
    reliability.record(
        role="cache registry",
        fault=fault,
        outcome="fallback taken",
        seconds=run.seconds,
        detail=entry["error"],
    )


def test_cache_registry_that_denies_access_is_skipped(origin, tls_registry, reliability, capsys, tmp_path):
    host = origin.registry.host
    run = run_prefetch(
        capsys,
        tmp_path,
        f"FROM {host}/base/b:1\n",
        f"--cache-registry={tls_registry.host}/cache",
        f"--cert-dir={tls_registry.tls.cert_dir}",
        *insecure(host),
    )

    assert run.code == 0, run.err
    entry = run.image(f"{host}/base/b:1")["cache"]
    assert (entry["outcome"], "UNAUTHORIZED" in entry["error"]) == ("failed", True)
    reliability.record(
        role="cache registry",
        fault="auth denied",
        outcome="fallback taken",
        seconds=run.seconds,
        detail=entry["error"],
    )


def test_passing_upload_failures_on_the_cache_registry_are_retried(
    origin, fault_proxy, reliability, capsys, tmp_path
):
    host = origin.registry.host
    with start_registry(tmp_path / "cache", name="cache") as cache:
        front = fault_proxy(
            cache, Fault("status", status=503, path="/blobs/uploads/", times=2), name="cache-503"
        )
        run = run_prefetch(
            capsys,
            tmp_path,
            f"FROM {host}/base/c:1\n",
            f"--cache-registry={front.host}/c",
            *insecure(host, front.host),
        )

    assert run.code == 0, run.err
    assert run.image(f"{host}/base/c:1")["cache"]["outcome"] == "copied"
    assert run.registry_map == f"{host}={front.host}/c"
    assert "retry after attempt 1" in run.err
    reliability.record(
        role="cache registry", fault="HTTP 503", outcome="retried and succeeded", seconds=run.seconds
    )


def test_one_image_missing_and_one_source_down_is_not_worth_a_retry(origin, fault_proxy, capsys, tmp_path):
    """A retry might cure the 503, never the missing image: the step as a whole cannot succeed."""
    host = origin.registry.host
    front = fault_proxy(origin.registry, Fault("status", status=503), name="origin-503-mixed")
    missing, down = f"{host}/base/no-such-image:1", f"{front.host}/base/a:1"
    run = run_prefetch(
        capsys,
        tmp_path,
        f"FROM {missing} AS first\nFROM {down}\nCOPY --from=first / /\n",
        f"--probe-timeout={PROBE_TIMEOUT}",
        *insecure(host, front.host),
    )

    assert run.image(missing)["sources"][0]["kind"] == "deterministic"
    assert run.image(down)["sources"][0]["kind"] == "transient"
    assert run.code == EXIT_FAILED, run.err
