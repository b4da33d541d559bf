"""A push destination that answers MANIFEST_UNKNOWN when the pushed digest is verified.

The destination accepts the manifest PUT (201) but never stores it, so the
real registry behind the fault proxy answers the verification GET with
``404 MANIFEST_UNKNOWN`` and its own JSON error body. The push must fail at
once (a refusal is not retried), exit 1 even when another destination failed
transiently, and write no output for any destination, healthy ones included.
"""

from __future__ import annotations

import pytest
from push_helpers import assert_no_outputs, run_push

from hera_imagebuild.common.failures import EXIT_FAILED
from hera_imagebuild.sandbox.faultproxy import Fault

pytestmark = pytest.mark.timeout(60)

SWALLOWED_PUT = Fault("status", status=201, path="/manifests/", method="PUT")
VERIFY_GET = r"/manifests/sha256:"


def unknown_manifest_error(host: str, repository: str, digest: str) -> str:
    """What the push says about a verification answered 404 MANIFEST_UNKNOWN."""
    return f"get manifest {repository}@{digest} on {host}: manifest unknown (HTTP 404, MANIFEST_UNKNOWN)"


def test_manifest_unknown_at_verification_fails_the_whole_push(
    plain_registry, fault_proxy, oci_image, skopeo, reliability, tmp_path, capsys
):
    image = oci_image(seed="verify-unknown", layer_sizes=(1024, 50_000))
    lost = fault_proxy(plain_registry, SWALLOWED_PUT, name="dest-lost")
    healthy = f"{plain_registry.host}/verify/healthy:v1"
    run = run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destination={healthy}",
        f"--destination={lost.host}/verify/lost:v1",
        f"--insecure-registry={plain_registry.host}",
        f"--insecure-registry={lost.host}",
        "--timeout=20",
        f"--output-dir={tmp_path / 'out'}",
    )

    assert run.code == EXIT_FAILED, run.err
    # Only the failing destination is named, with the registry's own error code.
    error = unknown_manifest_error(lost.host, "verify/lost", image.digest)
    assert run.last_line == f"push failed: {lost.host}/verify/lost:v1: {error}"
    assert "retry after attempt" not in run.err  # a refusal is final
    assert (lost.count("PUT", "/manifests/"), lost.count("GET", VERIFY_GET)) == (1, 1)
    assert (
        lost.count("POST", r"/blobs/uploads/$") == 3
    )  # config + 2 layers went through: only the manifest is lost
    assert "Traceback" not in run.err
    # No output at all, although the healthy destination got the image.
    assert_no_outputs(tmp_path / "out")
    assert skopeo.inspect(healthy, registry=plain_registry)["Digest"] == image.digest
    reliability.record(
        role="push destination",
        fault="manifest unknown",
        outcome="clear failure",
        seconds=run.seconds,
        detail=run.last_line,
    )


def test_manifest_unknown_with_a_transient_failure_elsewhere_exits_1(
    plain_registry, fault_proxy, oci_image, tmp_path, capsys
):
    """Exit 75 means "retry the step": not when one destination refused for good."""
    image = oci_image(seed="verify-mixed")
    lost = fault_proxy(plain_registry, SWALLOWED_PUT, name="dest-lost")
    down = fault_proxy(plain_registry, Fault("status", status=503), name="dest-down")
    run = run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destination={lost.host}/verify/lost:v1",
        f"--destination={down.host}/verify/down:v1",
        f"--insecure-registry={lost.host}",
        f"--insecure-registry={down.host}",
        "--max-attempts=2",
        "--timeout=10",
        f"--output-dir={tmp_path / 'out'}",
    )

    assert run.code == EXIT_FAILED, run.err
    lost_error = unknown_manifest_error(lost.host, "verify/lost", image.digest)
    assert run.last_line.startswith(f"push failed: {lost.host}/verify/lost:v1: {lost_error}; ")
    assert f"; {down.host}/verify/down:v1: " in run.last_line
    assert "HTTP 503" in run.last_line
    assert "gave up after 2 attempts" in run.last_line
    assert_no_outputs(tmp_path / "out")
    assert "retry after attempt 2" not in run.err  # --max-attempts=2 bounds the 503 destination
