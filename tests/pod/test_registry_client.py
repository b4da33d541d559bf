"""The registry client against real registries: resolving, errors, auth, copying between registries."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from hera_imagebuild.common.failures import FailureKind
from hera_imagebuild.common.reference import parse_reference
from hera_imagebuild.pod.registry import (
    Descriptor,
    Platform,
    RegistryAccess,
    RegistryClient,
    RegistryError,
    RetryPolicy,
)
from hera_imagebuild.pod.registry.copy import RegistrySource, copy_image, verify_served
from hera_imagebuild.pod.registry.manifest import sha256_digest
from hera_imagebuild.pod.registry.retry import Deadline, with_retries
from hera_imagebuild.sandbox.faultproxy import Fault

pytestmark = pytest.mark.timeout(60)
T = TypeVar("T")
FAST = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, request_timeout=5)


def with_client(access: RegistryAccess, use: Callable[[RegistryClient], Awaitable[T]], **kwargs) -> T:
    async def main() -> T:
        async with RegistryClient(access, kwargs.pop("policy", FAST), **kwargs) as client:
            return await use(client)

    return asyncio.run(main())


@pytest.fixture(scope="module")
def multi_platform(plain_registry, skopeo, tmp_path_factory):
    from hera_imagebuild.sandbox.images import write_image

    image = write_image(
        tmp_path_factory.mktemp("multi") / "layout",
        seed="client-multi",
        platforms=("linux/amd64", "linux/arm64", "linux/ppc64le"),
    )
    return image, skopeo.push(image, plain_registry, "client/multi", "1.0")


def test_resolve_index_to_platform_digest(plain_registry, multi_platform):
    image, ref = multi_platform
    access = RegistryAccess.create(insecure_registries=[plain_registry.host])

    async def use(client: RegistryClient):
        return [
            await client.resolve(parse_reference(ref), Platform.parse(p))
            for p in ("linux/amd64", "linux/arm64/v8", "linux/ppc64le")
        ]

    amd64, arm64, ppc = with_client(access, use)
    assert amd64.index_digest == image.digest
    assert amd64.digest == image.manifest_digests["linux/amd64"]
    assert arm64.digest == image.manifest_digests["linux/arm64"]  # arm64 without a variant is v8
    assert ppc.digest == image.manifest_digests["linux/ppc64le"]
    assert not amd64.manifest.is_index


def test_platform_not_in_index_is_deterministic(plain_registry, multi_platform):
    _, ref = multi_platform
    access = RegistryAccess.create(insecure_registries=[plain_registry.host])
    with pytest.raises(RegistryError) as caught:
        with_client(access, lambda c: c.resolve(parse_reference(ref), Platform.parse("linux/s390x")))
    assert caught.value.kind is FailureKind.DETERMINISTIC
    assert "has no manifest for linux/s390x (it has: linux/amd64, linux/arm64, linux/ppc64le)" in str(
        caught.value
    )


def test_manifest_unknown_is_not_retried(plain_registry, fault_proxy):
    proxy = fault_proxy(plain_registry)
    access = RegistryAccess.create(insecure_registries=[proxy.host])
    retries: list[tuple[int | None, int, float]] = []
    with pytest.raises(RegistryError) as caught:
        with_client(
            access,
            lambda c: c.get_manifest(parse_reference(f"{proxy.host}/client/none:1")),
            on_retry=lambda error, attempt, delay: retries.append((error.status, attempt, delay)),
        )
    error = caught.value
    assert (error.status, error.code, error.kind) == (404, "MANIFEST_UNKNOWN", FailureKind.DETERMINISTIC)
    assert str(error).startswith(f"get manifest client/none:1 on {proxy.host}: ")
    assert proxy.count() == 1
    assert retries == []  # no backoff wait either


def test_tls_basic_auth(tls_registry, tls_user, docker_config, oci_image, skopeo):
    image = oci_image(seed="client-tls")
    ref = skopeo.push(image, tls_registry, "client/tls", "v1")
    good = RegistryAccess.create(
        authfile=str(docker_config({tls_registry.host: tls_user})), cert_dir=str(tls_registry.tls.cert_dir)
    )
    assert with_client(good, lambda c: c.manifest_digest(parse_reference(ref))) == image.digest

    anonymous = RegistryAccess.create(cert_dir=str(tls_registry.tls.cert_dir))
    with pytest.raises(RegistryError) as caught:
        with_client(anonymous, lambda c: c.get_manifest(parse_reference(ref)))
    assert (caught.value.code, caught.value.kind) == ("UNAUTHORIZED", FailureKind.DETERMINISTIC)

    untrusting = RegistryAccess.create(authfile=str(docker_config({tls_registry.host: tls_user})))
    with pytest.raises(RegistryError, match="TLS certificate not trusted") as caught:
        with_client(untrusting, lambda c: c.get_manifest(parse_reference(ref)))
    assert caught.value.kind is FailureKind.DETERMINISTIC


def test_anonymous_token_request_refused_is_clear(token_registry, oci_image, skopeo):
    image = oci_image(seed="client-token-anon")
    ref = skopeo.push(image, token_registry, "client/token", "v1")
    access = RegistryAccess.create(insecure_registries=[token_registry.host])
    with pytest.raises(RegistryError) as caught:
        with_client(access, lambda c: c.get_manifest(parse_reference(ref)))
    assert caught.value.kind is FailureKind.DETERMINISTIC
    assert f"the docker config has none for {token_registry.host}" in str(caught.value)


def test_copy_between_registries_and_mount_within_one(
    plain_registry, token_registry, token_pusher, docker_config, multi_platform, token_issuer
):
    """Prefetch's cache copy: an index with its platforms, across registries; then a mount on the target."""
    image, ref = multi_platform
    access = RegistryAccess.create(
        authfile=str(docker_config({token_registry.host: token_pusher})),
        insecure_registries=[plain_registry.host, token_registry.host],
    )
    cache = parse_reference(f"{token_registry.host}/cache/multi")
    mirror = parse_reference(f"{token_registry.host}/cache/multi-again")

    async def use(client: RegistryClient):
        copied = await copy_image(
            client, RegistrySource(client, parse_reference(ref)), cache, image.digest, tags=["1.0"]
        )
        await verify_served(client, cache, image.digest, ["1.0"])
        again = await copy_image(
            client, RegistrySource(client, parse_reference(ref)), cache, image.digest, tags=["1.0"]
        )
        mounted = await copy_image(client, RegistrySource(client, cache), mirror, image.digest)
        await verify_served(client, mirror, image.digest)
        return copied, again, mounted

    copied, again, mounted = with_client(access, use)
    blobs = 2 * 3  # a config and a layer per platform
    assert (len(copied.uploaded), copied.manifests_put) == (blobs, 4)
    assert (len(again.uploaded), len(again.present)) == (0, blobs)
    assert (len(mounted.uploaded), len(mounted.mounted)) == (0, blobs)
    # The mount asked one token for both repositories.
    assert any(
        set(grant.granted) == {"repository:cache/multi-again:pull,push", "repository:cache/multi:pull"}
        for grant in token_issuer.grants
    )


def test_retry_after_is_honoured_and_bounded_by_the_deadline(plain_registry, fault_proxy, multi_platform):
    _, ref = multi_platform
    proxy = fault_proxy(plain_registry, Fault("status", status=429, retry_after=0.6, times=1))
    access = RegistryAccess.create(insecure_registries=[proxy.host])
    target = parse_reference(ref).with_registry(proxy.host)
    retries: list[tuple[int | None, int, float]] = []

    def on_retry(error: RegistryError, attempt: int, delay: float) -> None:
        retries.append((error.status, attempt, delay))

    with_client(access, lambda c: c.get_manifest(target), on_retry=on_retry)
    assert retries == [(429, 1, 0.6)]  # slept the asked-for 0.6 s, not FAST's 0.05 s backoff
    assert [r.status for r in proxy.requests] == [429, 200]

    proxy.set_faults(Fault("status", status=503, retry_after=5))
    proxy.reset_records()
    retries.clear()
    with pytest.raises(RegistryError) as caught:
        with_client(access, lambda c: c.get_manifest(target), deadline=Deadline(2), on_retry=on_retry)
    # Waiting 5 s would overrun the 2 s deadline: fail now, without sleeping or asking again.
    assert retries == []
    assert proxy.count() == 1
    assert "no time left for a retry in 5.0s" in str(caught.value)
    assert (caught.value.status, caught.value.retry_after, caught.value.transient) == (503, 5.0, True)


def test_with_retries_stops_at_the_attempt_limit_and_on_deterministic_errors():
    calls: list[str] = []

    def failing(kind: FailureKind) -> Callable[[], Awaitable[None]]:
        async def attempt() -> None:
            calls.append(kind.value)
            raise RegistryError("boom", kind=kind, operation="op", host="h")

        return attempt

    policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
    for kind, expected in ((FailureKind.TRANSIENT, 3), (FailureKind.DETERMINISTIC, 1)):
        calls.clear()
        with pytest.raises(RegistryError):
            asyncio.run(with_retries(failing(kind), policy=policy, deadline=Deadline(None)))
        assert len(calls) == expected


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError, match="max_attempts: 0 must be at least 1"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="request_timeout: -1 must be a positive"):
        RetryPolicy(request_timeout=-1)
    delays = [RetryPolicy(base_delay=1, max_delay=4).backoff(n) for n in (1, 2, 3, 4, 5)]
    assert all(0.5 <= d <= 1 for d in delays[:1])
    assert all(2 <= d <= 4 for d in delays[3:])


def test_chunked_upload_and_streamed_download(plain_registry, fault_proxy):
    data = bytes(range(256)) * 20  # 5120 bytes
    blob = Descriptor("application/octet-stream", sha256_digest(data), len(data))
    proxy = fault_proxy(plain_registry)
    repo = parse_reference(f"{proxy.host}/client/chunks")
    access = RegistryAccess.create(insecure_registries=[proxy.host])

    async def pieces():
        for start in range(0, len(data), 700):  # chunk edges differ from the PATCH edges
            yield data[start : start + 700]

    async def use(client: RegistryClient) -> bytes:
        await client.upload_blob(repo, blob, pieces, chunk_size=2000)
        assert await client.blob_exists(repo, blob)
        async with client.open_blob(repo, blob) as chunks:
            return b"".join([chunk async for chunk in chunks])

    assert with_client(access, use) == data
    assert proxy.count("PATCH") == 3  # 2000 + 2000 + 1120


def test_truncated_source_blob_is_caught(plain_registry, fault_proxy, multi_platform):
    image, ref = multi_platform
    proxy = fault_proxy(plain_registry, Fault("truncate", path="/blobs/sha256:", method="GET", body_bytes=10))
    access = RegistryAccess.create(insecure_registries=[proxy.host])
    repo = parse_reference(ref).with_registry(proxy.host)

    async def use(client: RegistryClient) -> None:
        manifest = await client.get_manifest(repo, image.manifest_digests["linux/amd64"])
        async with client.open_blob(repo, manifest.layers[0]) as chunks:
            async for _ in chunks:
                pass

    with pytest.raises(RegistryError) as caught:
        with_client(access, use)
    assert caught.value.transient
    assert caught.value.operation.startswith("get blob sha256:")
