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


Push = Callable[[FaultProxy, str], tuple[int, str]]


@pytest.fixture
def push_as_tls_user(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    oci_image: Callable[..., OCIImage],
    tls_files: TLSFiles,
    tls_user: Credentials,
    docker_config: Callable[..., Path],
) -> Push:
    """``push(front, repository)``: push a small image through ``front`` with the TLS registry's
    credentials filed under ``front``'s host; returns the exit code and the last line."""
    image = oci_image(seed="credential-scope", layer_sizes=(4096,))

    def push(front: FaultProxy, repository: str) -> tuple[int, str]:
        capsys.readouterr()
        code = main(
            [
                "push",
                f"--image={image.layout_dir}",
                f"--destination={front.host}/{repository}:1",
                f"--authfile={docker_config({front.host: tls_user})}",
                f"--cert-dir={tls_files.cert_dir}",
                f"--output-dir={tmp_path / 'out'}",
                "--timeout=30",
            ]
        )
        lines = capsys.readouterr().err.strip().splitlines()
        return code, lines[-1] if lines else ""

    return push


def test_an_upload_moved_to_another_host_goes_there_without_credentials(
    tmp_path: Path,
    tls_registry: Registry,
    fault_proxy: Callable[..., FaultProxy],
    push_as_tls_user: Push,
) -> None:
    other_host = fault_proxy(tls_registry, name="other-host")
    front = fault_proxy(
        tls_registry,
        Fault("relocate", method="POST", path=UPLOAD_START, location=f"https://{other_host.host}"),
        name="relocating-registry",
    )
    code, last = push_as_tls_user(front, "scope/app")
    assert other_host.requests, "the upload should have gone to the other host"
    assert not any(record.authorized for record in other_host.requests)
    assert any(record.authorized for record in front.requests)  # the registry itself got them
    # The registry behind the other host wants credentials it never got: the push fails, honestly.
    assert code == EXIT_FAILED, last
    assert last.startswith("push failed: ")
    assert not (tmp_path / "out").exists()


def test_an_upload_moved_from_https_to_plain_http_is_refused_before_anything_is_sent(
    tmp_path: Path,
    tls_registry: Registry,
    plain_registry: Registry,
    fault_proxy: Callable[..., FaultProxy],
    push_as_tls_user: Push,
) -> None:
    plain_host = fault_proxy(plain_registry, name="plain-http-host")
    front = fault_proxy(
        tls_registry,
        Fault("relocate", method="POST", path=UPLOAD_START, location=f"http://{plain_host.host}"),
        name="downgrading-registry",
    )
    code, last = push_as_tls_user(front, "scope/app")
    assert code == EXIT_FAILED, last
    assert "over plain HTTP; refusing to leave HTTPS" in last
    assert plain_host.requests == []
    assert not (tmp_path / "out").exists()


def test_the_registrys_own_upload_location_keeps_the_credentials(
    tmp_path: Path,
    tls_registry: Registry,
    fault_proxy: Callable[..., FaultProxy],
    push_as_tls_user: Push,
) -> None:
    front = fault_proxy(tls_registry, name="honest-registry")
    code, last = push_as_tls_user(front, "scope/honest")
    assert code == EXIT_OK, last
    uploads = [r for r in front.requests if r.method in ("PATCH", "PUT") and "/blobs/uploads/" in r.path]
    assert uploads
    assert all(record.authorized for record in uploads)
