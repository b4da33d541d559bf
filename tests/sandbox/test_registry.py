"""Each registry variant really serves images and really enforces its auth."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from hera_imagebuild.sandbox.credentials import Credentials
from hera_imagebuild.sandbox.images import OCIImage
from hera_imagebuild.sandbox.process import SandboxError, live_resources
from hera_imagebuild.sandbox.registry import Registry, start_registry
from hera_imagebuild.sandbox.skopeo import Skopeo
from hera_imagebuild.sandbox.tls import TLSFiles


def test_plain_registry_serves_a_pushed_image(
    plain_registry: Registry, skopeo: Skopeo, oci_image: Callable[..., OCIImage]
) -> None:
    image = oci_image(seed="plain")
    ref = skopeo.push(image, plain_registry, "sandbox/plain", "v1")
    assert ref == f"{plain_registry.host}/sandbox/plain:v1"
    assert skopeo.inspect(ref, registry=plain_registry)["Digest"] == image.digest
    response = httpx.get(f"{plain_registry.url}/v2/sandbox/plain/tags/list", timeout=5)
    assert response.json() == {"name": "sandbox/plain", "tags": ["v1"]}


def test_tls_registry_needs_the_ca_and_the_password(
    tls_registry: Registry,
    tls_files: TLSFiles,
    tls_user: Credentials,
    wrong_tls_user: Credentials,
    skopeo: Skopeo,
    oci_image: Callable[..., OCIImage],
) -> None:
    image = oci_image(seed="tls")
    ref = skopeo.push(image, tls_registry, "sandbox/tls", "v1")
    assert skopeo.inspect(ref, registry=tls_registry, credentials=tls_user)["Digest"] == image.digest

    with httpx.Client(verify=tls_files.client_context(), timeout=5) as client:
        assert client.get(f"{tls_registry.url}/v2/").status_code == 401
        wrong = (wrong_tls_user.username, wrong_tls_user.password)
        assert client.get(f"{tls_registry.url}/v2/", auth=wrong).status_code == 401
        assert (
            client.get(f"{tls_registry.url}/v2/", auth=(tls_user.username, tls_user.password)).status_code
            == 200
        )
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_registry.url}/v2/", timeout=5)
    with pytest.raises(SandboxError, match=r"unauthorized|authentication required"):
        skopeo.inspect(ref, registry=tls_registry, credentials=wrong_tls_user)
    assert not list((skopeo.workdir / "run").iterdir()), "skopeo auth files outlived their call"


def test_start_and_stop_leave_nothing_running(tmp_path: Path) -> None:
    registry = start_registry(tmp_path / "r", name="short-lived")
    assert any("short-lived" in item for item in live_resources())
    registry.stop()
    registry.stop()  # idempotent
    assert not registry.running
    assert not any("short-lived" in item for item in live_resources())
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{registry.url}/v2/", timeout=2)


def test_missing_binary_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxError, match="'docker-registry' was not found on PATH; install it"):
        start_registry(tmp_path / "r")


def test_a_broken_config_fails_fast_with_the_registry_log(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="exited with"):
        start_registry(tmp_path / "r", tls=TLSFiles(*(tmp_path / n for n in ("a", "b", "c", "d", "e"))))
