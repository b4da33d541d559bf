"""Credentials go to the registry they belong to and nowhere else, whatever its answers point at.

A registry names where an upload continues in its ``Location`` header. A hostile (or misconfigured)
one can point that at another host, or from HTTPS to plain HTTP. Docker attaches a registry's
credentials only to that registry's own origin; so does push: the other host gets the request
without ``Authorization``, a downgrade is refused before anything is sent, and neither ends in a
reported success. The proxy between client and registry moves the ``Location``; a second proxy
stands for the other host and records whether any request it saw carried ``Authorization``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hera_imagebuild.cli.main import main
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_OK
from hera_imagebuild.sandbox.credentials import Credentials
from hera_imagebuild.sandbox.faultproxy import Fault, FaultProxy
from hera_imagebuild.sandbox.images import OCIImage
from hera_imagebuild.sandbox.registry import Registry
from hera_imagebuild.sandbox.tls import TLSFiles

UPLOAD_START = r"/blobs/uploads/$"


def _push(
    capsys: pytest.CaptureFixture[str], image: OCIImage, destination: str, *options: str
) -> tuple[int, str]:
    capsys.readouterr()
    code = main(
        ["push", f"--image={image.layout_dir}", f"--destination={destination}", "--timeout=30", *options]
    )
    lines = capsys.readouterr().err.strip().splitlines()
    return code, lines[-1] if lines else ""


@pytest.fixture
def image(oci_image: Callable[..., OCIImage]) -> OCIImage:
    return oci_image(seed="credential-scope", layer_sizes=(4096,))


def test_an_upload_moved_to_another_host_goes_there_without_credentials(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    image: OCIImage,
    tls_registry: Registry,
    tls_files: TLSFiles,
    tls_user: Credentials,
    fault_proxy: Callable[..., FaultProxy],
    docker_config: Callable[..., Path],
) -> None:
    other_host = fault_proxy(tls_registry, name="other-host")
    front = fault_proxy(
        tls_registry,
        Fault("relocate", method="POST", path=UPLOAD_START, location=f"https://{other_host.host}"),
        name="relocating-registry",
    )
    authfile = docker_config({front.host: tls_user})
    code, last = _push(
        capsys,
        image,
        f"{front.host}/scope/app:1",
        f"--authfile={authfile}",
        f"--cert-dir={tls_files.cert_dir}",
        f"--output-dir={tmp_path / 'out'}",
    )
    assert other_host.requests, "the upload should have gone to the other host"
    assert not any(record.authorized for record in other_host.requests)
    assert any(record.authorized for record in front.requests)  # the registry itself got them
    # The registry behind the other host wants credentials it never got: the push fails, honestly.
    assert code == EXIT_FAILED, last
    assert last.startswith("push failed: ")
    assert not (tmp_path / "out").exists()


def test_an_upload_moved_from_https_to_plain_http_is_refused_before_anything_is_sent(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    image: OCIImage,
    tls_registry: Registry,
    plain_registry: Registry,
    tls_files: TLSFiles,
    tls_user: Credentials,
    fault_proxy: Callable[..., FaultProxy],
    docker_config: Callable[..., Path],
) -> None:
    plain_host = fault_proxy(plain_registry, name="plain-http-host")
    front = fault_proxy(
        tls_registry,
        Fault("relocate", method="POST", path=UPLOAD_START, location=f"http://{plain_host.host}"),
        name="downgrading-registry",
    )
    code, last = _push(
        capsys,
        image,
        f"{front.host}/scope/app:1",
        f"--authfile={docker_config({front.host: tls_user})}",
        f"--cert-dir={tls_files.cert_dir}",
        f"--output-dir={tmp_path / 'out'}",
    )
    assert code == EXIT_FAILED, last
    assert "over plain HTTP; refusing to leave HTTPS" in last
    assert plain_host.requests == []
    assert not (tmp_path / "out").exists()


def test_the_registrys_own_upload_location_keeps_the_credentials(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    image: OCIImage,
    tls_registry: Registry,
    tls_files: TLSFiles,
    tls_user: Credentials,
    fault_proxy: Callable[..., FaultProxy],
    docker_config: Callable[..., Path],
) -> None:
    front = fault_proxy(tls_registry, name="honest-registry")
    code, last = _push(
        capsys,
        image,
        f"{front.host}/scope/honest:1",
        f"--authfile={docker_config({front.host: tls_user})}",
        f"--cert-dir={tls_files.cert_dir}",
        f"--output-dir={tmp_path / 'out'}",
    )
    assert code == EXIT_OK, last
    uploads = [r for r in front.requests if r.method in ("PATCH", "PUT") and "/blobs/uploads/" in r.path]
    assert uploads
    assert all(record.authorized for record in uploads)
