"""The pull-through cache serves upstream images; what it does when its upstream is down."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from hera_imagebuild.sandbox.credentials import Credentials
from hera_imagebuild.sandbox.faultproxy import Fault, FaultProxy
from hera_imagebuild.sandbox.images import MANIFEST_MEDIA_TYPE, OCIImage
from hera_imagebuild.sandbox.process import SandboxError
from hera_imagebuild.sandbox.registry import Registry, start_registry
from hera_imagebuild.sandbox.skopeo import Skopeo
from hera_imagebuild.sandbox.tls import TLSFiles

ACCEPT = {"Accept": MANIFEST_MEDIA_TYPE}


def test_serves_an_image_pushed_upstream(
    plain_registry: Registry,
    pullthrough_registry: Registry,
    skopeo: Skopeo,
    oci_image: Callable[..., OCIImage],
) -> None:
    image = oci_image(seed="pullthrough", platforms=("linux/amd64", "linux/arm64"))
    skopeo.push(image, plain_registry, "sandbox/pullthrough", "v1")
    served = skopeo.inspect(
        f"{pullthrough_registry.host}/sandbox/pullthrough:v1", registry=pullthrough_registry
    )
    assert served["Digest"] == image.digest
    copy_dir = Path(image.layout_dir.parent / "copied")
    skopeo.copy(
        f"docker://{pullthrough_registry.host}/sandbox/pullthrough:v1",
        f"oci:{copy_dir}:v1",
        src_registry=pullthrough_registry,
    )
    assert {p.name for p in (copy_dir / "blobs/sha256").iterdir()} >= {
        d.removeprefix("sha256:") for d in image.layer_digests
    }


def test_upstream_refused_cached_content_served_uncached_fails(
    plain_registry: Registry,
    fault_proxy: Callable[..., FaultProxy],
    skopeo: Skopeo,
    oci_image: Callable[..., OCIImage],
    tmp_path: Path,
) -> None:
    cached, uncached = oci_image(seed="cached"), oci_image(seed="uncached")
    skopeo.push(cached, plain_registry, "sandbox/upstream-down", "cached")
    skopeo.push(uncached, plain_registry, "sandbox/upstream-down", "uncached")
    upstream = fault_proxy(plain_registry)
    with (
        start_registry(tmp_path / "cache", name="cache-of-proxy", proxy_remote=upstream.url) as cache,
        httpx.Client(timeout=10) as client,
    ):
        base = f"{cache.url}/v2/sandbox/upstream-down"
        assert client.get(f"{base}/manifests/cached", headers=ACCEPT).status_code == 200
        upstream.set_faults(Fault("refuse"))
        # What distribution 2.8 does with its upstream refusing connections (prefetch relies on it):
        assert client.get(f"{base}/manifests/cached", headers=ACCEPT).status_code == 200
        assert client.get(f"{base}/manifests/{cached.digest}", headers=ACCEPT).status_code == 200
        assert client.get(f"{base}/manifests/no-such-tag", headers=ACCEPT).status_code == 404
        assert client.get(f"{base}/manifests/{uncached.digest}", headers=ACCEPT).status_code == 500
        assert client.get(f"{base}/blobs/{uncached.layer_digests[0]}").status_code == 500


def test_cache_of_a_token_registry_with_pull_only_credentials(
    token_registry: Registry,
    token_reader: Credentials,
    skopeo: Skopeo,
    oci_image: Callable[..., OCIImage],
    tmp_path: Path,
) -> None:
    # distribution 2.8 sends upstream credentials only through a token realm (Docker Hub style);
    # with an htpasswd upstream it sends none and the upstream answers 401.
    image = oci_image(seed="token-upstream")
    skopeo.push(image, token_registry, "sandbox/token-upstream", "v1")
    with start_registry(
        tmp_path / "cache",
        name="cache-of-token",
        proxy_remote=token_registry.url,
        proxy_credentials=token_reader,
    ) as cache:
        served = skopeo.inspect(f"{cache.host}/sandbox/token-upstream:v1", registry=cache)
        assert served["Digest"] == image.digest
        assert token_reader.password not in cache.log_text()


def test_cache_of_a_tls_upstream_trusts_the_given_ca(
    tls_files: TLSFiles, skopeo: Skopeo, oci_image: Callable[..., OCIImage], tmp_path: Path
) -> None:
    image = oci_image(seed="tls-upstream")
    with start_registry(tmp_path / "upstream", name="tls-no-auth", tls=tls_files) as upstream:
        skopeo.push(image, upstream, "sandbox/tls-upstream", "v1")
        # distribution 2.8 pings its upstream at start-up and panics if that fails.
        with pytest.raises(SandboxError, match="x509: certificate signed by unknown authority"):
            start_registry(tmp_path / "cache", name="cache-of-tls", proxy_remote=upstream.url)
        with start_registry(
            tmp_path / "cache2", name="cache-of-tls", proxy_remote=upstream.url, upstream_ca=tls_files.ca_cert
        ) as cache:
            served = skopeo.inspect(f"{cache.host}/sandbox/tls-upstream:v1", registry=cache)
            assert served["Digest"] == image.digest
