"""A source that already failed is not waited for once a later source has answered.

A refusing or erroring mirror would otherwise be retried for the whole probe
window (5 s by default) on every build, although the next source had the image.
"""

from __future__ import annotations

import pytest
from prefetch_helpers import Seeded, run_prefetch, seed

from hera_imagebuild.sandbox.faultproxy import Fault, closed_port_url

PROBE_TIMEOUT = 5.0


@pytest.fixture(scope="module")
def origin(plain_registry, skopeo, tmp_path_factory) -> Seeded:
    return seed(plain_registry, skopeo, tmp_path_factory.mktemp("failfast-images"))


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("name", "fault", "error"),
    [("refused", None, "cannot connect"), ("HTTP 503", Fault("status", status=503), "HTTP 503")],
)
def test_failing_mirror_is_dropped_as_soon_as_a_later_source_answers(
    name, fault, error, origin, fault_proxy, capsys, tmp_path
):
    host = origin.registry.host
    if fault is None:
        mirror = closed_port_url().removeprefix("http://")
    else:
        mirror = fault_proxy(origin.registry, fault, name=f"failfast-{name}").host
    run = run_prefetch(
        capsys,
        tmp_path,
        f"FROM {host}/base/a:1\n",
        f"--mirror={host}={mirror}",
        f"--probe-timeout={PROBE_TIMEOUT}",
        f"--insecure-registry={host}",
        f"--insecure-registry={mirror}",
    )

    original = f"{host}/base/a:1"
    assert run.code == 0, run.err
    assert run.outcomes(original) == [(mirror, "failed"), (host, "chosen")]
    failed = run.image(original)["sources"][0]
    assert error in failed["error"]
    # Without the cut the mirror would be retried until the 5 s window closes, and its error would be
    # its last failure (or "no answer within the probe timeout"), without this note.
    assert "; not retried further: a later source answered" in failed["error"]
    assert "probe timeout" not in failed["error"]
    assert failed["kind"] == "transient"
    print(f"{name} mirror dropped after {failed['ms']} ms; prefetch took {run.seconds:.2f} s")


def test_failing_source_without_alternative_keeps_its_retries(origin, fault_proxy, capsys, tmp_path):
    host = origin.registry.host
    mirror = fault_proxy(origin.registry, Fault("status", status=503, path="/manifests/", times=2))
    run = run_prefetch(
        capsys,
        tmp_path,
        f"FROM {host}/base/a:1\n",
        f"--mirror={host}={mirror.host}",
        "--no-fallback",
        f"--probe-timeout={PROBE_TIMEOUT}",
        f"--insecure-registry={mirror.host}",
    )

    original = f"{host}/base/a:1"
    assert run.code == 0, run.err
    source = run.image(original)["sources"][0]
    assert (source["source"], source["outcome"], source["attempts"]) == (mirror.host, "chosen", 3)
