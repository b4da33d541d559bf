"""``hera-imagebuild push`` against real registries: plain, TLS + basic auth, several at once, re-runs.

Faults on the destination are in test_push_faults.py; bad input in test_push_cli.py.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from push_helpers import UPLOAD_POSTS, assert_no_outputs, assert_pushed, run_push

from hera_imagebuild.common.contract import PushOutputs
from hera_imagebuild.common.failures import EXIT_FAILED
from hera_imagebuild.sandbox.faultproxy import Fault

pytestmark = pytest.mark.timeout(60)


def test_push_to_plain_registry_writes_verified_outputs(plain_registry, oci_image, skopeo, tmp_path, capsys):
    image = oci_image(seed="push-plain", layer_sizes=(2048, 300_000), incompressible=True)
    destination = f"{plain_registry.host}/push/plain:v1"

    run = run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destination={destination}",
        f"--insecure-registry={plain_registry.host}",
        f"--expected-digest={image.digest}",
        f"--output-dir={tmp_path / 'out'}",
    )

    assert run.code == 0, run.err
    assert_pushed(tmp_path / "out", image.digest, [f"{plain_registry.host}/push/plain"])
    # An independent client (skopeo) sees the tag at the digest kaniko would have reported.
    assert skopeo.inspect(destination, registry=plain_registry)["Digest"] == image.digest
    report = json.loads((tmp_path / "out" / PushOutputs.REPORT).read_text())
    assert report["destinations"][0]["blobs"] == {"uploaded": 3, "alreadyPresent": 0, "mounted": 0}
    assert run.out.strip() == f"{plain_registry.host}/push/plain@{image.digest}"
    assert run.err.strip().splitlines()[-1].startswith(f"push: {image.digest} pushed and verified")


def test_push_with_tls_and_basic_auth(tls_registry, tls_user, oci_image, docker_config, tmp_path, capsys):
    image = oci_image(seed="push-tls", layer_sizes=(4096,))
    authfile = docker_config({tls_registry.host: tls_user})

    run = run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destination={tls_registry.host}/push/tls:v1",
        f"--authfile={authfile}",
        f"--cert-dir={tls_registry.tls.cert_dir}",
        f"--output-dir={tmp_path / 'out'}",
    )

    assert run.code == 0, run.err
    assert_pushed(tmp_path / "out", image.digest, [f"{tls_registry.host}/push/tls"])
    assert tls_user.password not in run.out + run.err
    assert tls_user.password not in (tmp_path / "out" / PushOutputs.REPORT).read_text()


def test_push_index_to_several_destinations_concurrently(
    plain_registry, tls_registry, tls_user, oci_image, docker_config, tmp_path, capsys
):
    image = oci_image(seed="push-multi", platforms=("linux/amd64", "linux/arm64"), layer_sizes=(1024, 2048))
    authfile = docker_config({tls_registry.host: tls_user})
    destinations = [
        f"{plain_registry.host}/push/multi:v1",
        f"{tls_registry.host}/push/multi:v1",
        f"{plain_registry.host}/push/multi-copy:latest",
    ]

    run = run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destinations-json={json.dumps(destinations[1:])}",
        f"--destination={destinations[0]}",
        f"--insecure-registries-json={json.dumps([plain_registry.host])}",
        f"--authfile={authfile}",
        f"--cert-dir={tls_registry.tls.cert_dir}",
        f"--output-dir={tmp_path / 'out'}",
    )

    assert run.code == 0, run.err
    # Repeated flags first, then the JSON twin, in order.
    assert_pushed(
        tmp_path / "out",
        image.digest,
        [
            f"{plain_registry.host}/push/multi",
            f"{tls_registry.host}/push/multi",
            f"{plain_registry.host}/push/multi-copy",
        ],
    )


def test_repush_uploads_nothing_and_rerun_completes_a_partial_push(
    plain_registry, fault_proxy, oci_image, tmp_path, capsys
):
    image = oci_image(seed="push-rerun", layer_sizes=(1024, 50_000, 70_000), incompressible=True)
    # The manifest PUT fails deterministically: the blobs arrive, the image does not.
    proxy = fault_proxy(plain_registry, Fault("status", path="/manifests/", method="PUT", status=400))
    args = (
        f"--image={image.layout_dir}",
        f"--destination={proxy.host}/push/rerun:v1",
        f"--insecure-registry={proxy.host}",
        "--timeout=20",
    )

    partial = run_push(capsys, *args, f"--output-dir={tmp_path / 'partial'}")
    assert partial.code == EXIT_FAILED, partial.err
    assert proxy.count("POST", UPLOAD_POSTS) == 4  # config + 3 layers
    assert_no_outputs(tmp_path / "partial")

    proxy.clear()
    proxy.reset_records()
    completed = run_push(capsys, *args, f"--output-dir={tmp_path / 'completed'}")
    assert completed.code == 0, completed.err
    assert proxy.count("POST", UPLOAD_POSTS) == 0  # every blob was already there
    assert proxy.count("PUT", "/manifests/") == 1
    assert_pushed(tmp_path / "completed", image.digest, [f"{proxy.host}/push/rerun"])

    proxy.reset_records()
    again = run_push(capsys, *args, f"--output-dir={tmp_path / 'again'}")
    assert again.code == 0, again.err
    assert proxy.count("POST", UPLOAD_POSTS) == 0
    assert proxy.count("PATCH") == 0


def test_wrong_expected_digest_fails_without_outputs(
    plain_registry, fault_proxy, oci_image, tmp_path, capsys
):
    image = oci_image(seed="push-expected")
    wrong = "sha256:" + "0" * 64
    proxy = fault_proxy(plain_registry)
    run = run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destination={proxy.host}/push/expected:v1",
        f"--insecure-registry={proxy.host}",
        f"--expected-digest={wrong}",
        f"--output-dir={tmp_path / 'out'}",
    )
    assert run.code == EXIT_FAILED
    assert proxy.count() == 0  # refused before any request: nothing to wait for
    assert "retry after attempt" not in run.err
    last = run.last_line
    assert image.digest in last
    assert wrong in last
    assert "--expected-digest" in last
    assert_no_outputs(tmp_path / "out")


def test_layer_altered_after_the_build_fails_as_a_corrupt_layout(plain_registry, oci_image, tmp_path, capsys):
    """Same size, other bytes: the layout's own digest check names the cause (not the registry's 400)."""
    image = oci_image(seed="push-altered-layer", layer_sizes=(5000,))
    layer = image.layout_dir / "blobs" / "sha256" / image.layer_digests[0].removeprefix("sha256:")
    data = bytearray(layer.read_bytes())
    data[-1] ^= 0xFF
    layer.write_bytes(bytes(data))
    run = run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destination={plain_registry.host}/push/altered:v1",
        f"--insecure-registry={plain_registry.host}",
        f"--output-dir={tmp_path / 'out'}",
    )
    assert run.code == EXIT_FAILED, run.err
    assert "does not match its digest" in run.last_line
    assert "the layout is corrupt" in run.last_line
    assert_no_outputs(tmp_path / "out")


def test_destination_that_does_not_serve_the_digest_fails(
    plain_registry, fault_proxy, oci_image, tmp_path, capsys
):
    """The registry accepts everything, but asking for the digest afterwards finds nothing: no success."""
    image = oci_image(seed="push-unserved")
    proxy = fault_proxy(
        plain_registry, Fault("status", path=f"/manifests/{image.digest}$", method="GET", status=404)
    )
    run = run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destination={proxy.host}/push/unserved:v1",
        f"--insecure-registry={proxy.host}",
        "--timeout=20",
        f"--output-dir={tmp_path / 'out'}",
    )
    assert run.code == EXIT_FAILED, run.err
    assert f"{proxy.host}/push/unserved:v1" in run.last_line
    assert "get manifest" in run.last_line
    assert "HTTP 404" in run.last_line
    assert proxy.count("GET", f"/manifests/{image.digest}$") == 1  # deterministic: asked once
    assert_no_outputs(tmp_path / "out")


def test_push_with_bearer_token_auth(
    token_registry, token_issuer, token_pusher, oci_image, docker_config, skopeo, tmp_path, capsys
):
    image = oci_image(seed="push-token", layer_sizes=(2048, 4096))
    authfile = docker_config({token_registry.host: token_pusher})
    grants_before = len(token_issuer.grants)

    run = run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destination={token_registry.host}/push/token:v1",
        f"--insecure-registry={token_registry.host}",
        f"--authfile={authfile}",
        f"--output-dir={tmp_path / 'out'}",
    )

    assert run.code == 0, run.err
    assert_pushed(tmp_path / "out", image.digest, [f"{token_registry.host}/push/token"])
    grants = token_issuer.grants[grants_before:]
    # Concurrent requests share one push token (it covers the pulls of verification too).
    assert [g.granted for g in grants] == [("repository:push/token:pull,push",)]
    assert grants[0].username == token_pusher.username
    assert token_pusher.password not in run.out + run.err
    assert (
        skopeo.inspect(
            f"{token_registry.host}/push/token:v1", registry=token_registry, credentials=token_pusher
        )["Digest"]
        == image.digest
    )


def test_swallowed_manifest_put_fails(plain_registry, fault_proxy, oci_image, tmp_path, capsys):
    """The destination answers 201 Created to the manifest PUT but never stores it: no success, no outputs."""
    image = oci_image(seed="push-swallowed")
    proxy = fault_proxy(plain_registry, Fault("status", status=201, path="/manifests/", method="PUT"))
    run = run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destination={proxy.host}/push/swallowed:v1",
        f"--insecure-registry={proxy.host}",
        f"--output-dir={tmp_path / 'out'}",
    )
    assert run.code == EXIT_FAILED, run.err
    destination = f"{proxy.host}/push/swallowed:v1"
    verify = f"get manifest push/swallowed@{image.digest} on {proxy.host}"
    assert run.last_line.startswith(f"push failed: {destination}: {verify}: "), run.last_line
    assert "(HTTP 404, MANIFEST_UNKNOWN)" in run.last_line
    assert proxy.count("PUT", "/manifests/") == 1
    assert_no_outputs(tmp_path / "out")


def test_tag_moved_by_a_concurrent_push_is_reported_as_moved(
    plain_registry, fault_proxy, oci_image, skopeo, tmp_path, capsys
):
    """Two pushes to one tag: the other sets it between our PUT and our check; ours must say "moved"."""
    ours = oci_image(seed="push-moved-ours")
    theirs = oci_image(seed="push-moved-theirs")
    tag_check = {"path": "/manifests/v1$", "method": "HEAD"}
    proxy = fault_proxy(plain_registry, Fault("hold", times=1, **tag_check))

    def push_theirs_while_ours_is_held() -> None:
        deadline = time.monotonic() + 20
        while proxy.count(**tag_check) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            skopeo.push(theirs, plain_registry, "push/moved", "v1")  # straight to the registry
        finally:
            proxy.release()

    mover = threading.Thread(target=push_theirs_while_ours_is_held)
    mover.start()
    try:
        run = run_push(
            capsys,
            f"--image={ours.layout_dir}",
            f"--destination={proxy.host}/push/moved:v1",
            f"--insecure-registry={proxy.host}",
            f"--output-dir={tmp_path / 'out'}",
        )
    finally:
        mover.join(30)
    assert run.code == EXIT_FAILED, run.err
    assert f"tag v1 moved to {theirs.digest} after this push set it to {ours.digest}" in run.last_line
    assert f"this image stays at {proxy.host}/push/moved@{ours.digest}" in run.last_line
    assert "verified" not in run.err
    assert_no_outputs(tmp_path / "out")
    assert (
        skopeo.inspect(f"{plain_registry.host}/push/moved:v1", registry=plain_registry)["Digest"]
        == theirs.digest
    )


def test_tags_of_one_repository_share_the_upload(
    plain_registry, fault_proxy, oci_image, skopeo, tmp_path, capsys
):
    image = oci_image(seed="push-two-tags", layer_sizes=(1024, 2048))
    proxy = fault_proxy(plain_registry)
    run = run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destination={proxy.host}/push/tags:1.2",
        f"--destination={proxy.host}/push/tags",
        f"--insecure-registry={proxy.host}",
        f"--output-dir={tmp_path / 'out'}",
    )
    assert run.code == 0, run.err
    assert_pushed(tmp_path / "out", image.digest, [f"{proxy.host}/push/tags"] * 2)
    assert proxy.count("POST", UPLOAD_POSTS) == 3  # config + 2 layers, once
    assert proxy.count("PUT", "/manifests/") == 2  # 1.2 and latest (no tag given)
    for tag in ("1.2", "latest"):
        assert (
            skopeo.inspect(f"{plain_registry.host}/push/tags:{tag}", registry=plain_registry)["Digest"]
            == image.digest
        )


def test_destination_naming_another_digest_is_refused(plain_registry, oci_image, tmp_path, capsys):
    image = oci_image(seed="push-dest-digest")
    other = "sha256:" + "1" * 64
    run = run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destination={plain_registry.host}/push/pinned@{other}",
        f"--insecure-registry={plain_registry.host}",
        f"--output-dir={tmp_path / 'out'}",
    )
    assert run.code == EXIT_FAILED
    assert run.last_line == (
        f"push failed: --destination: '{plain_registry.host}/push/pinned@{other}' names a digest, "
        f"but the image's is {image.digest}"
    )
    assert_no_outputs(tmp_path / "out")


def test_unwritable_output_dir_is_a_clear_failure(plain_registry, oci_image, tmp_path, capsys):
    image = oci_image(seed="push-output-file")
    occupied = tmp_path / "out"
    occupied.write_text("a file where the output directory should be")
    run = run_push(
        capsys,
        f"--image={image.layout_dir}",
        f"--destination={plain_registry.host}/push/output:v1",
        f"--insecure-registry={plain_registry.host}",
        f"--output-dir={occupied}",
    )
    assert run.code == EXIT_FAILED
    assert run.last_line == f"push failed: cannot write outputs to '{occupied}': File exists"
    assert "Traceback" not in run.err
