"""Each fault of the proxy does what it says, measured with httpx against a real registry behind it."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from hera_imagebuild.sandbox.faultproxy import Fault, FaultProxy, closed_port_url, proxy_in_front_of
from hera_imagebuild.sandbox.images import OCIImage, write_image
from hera_imagebuild.sandbox.registry import Registry
from hera_imagebuild.sandbox.skopeo import Skopeo

BLOB_SIZE = 256 * 1024
ProxyFactory = Callable[..., FaultProxy]


@pytest.fixture(scope="module")
def big_blob(
    plain_registry: Registry, skopeo: Skopeo, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, int]:
    """(blob URL path, size) of an incompressible layer in plain_registry."""
    image = write_image(
        tmp_path_factory.mktemp("faults") / "img",
        seed="fault-blob",
        layer_sizes=(BLOB_SIZE,),
        incompressible=True,
    )
    skopeo.push(image, plain_registry, "sandbox/faults")
    size = (image.layout_dir / "blobs/sha256" / image.layer_digests[0].removeprefix("sha256:")).stat().st_size
    return f"/v2/sandbox/faults/blobs/{image.layer_digests[0]}", size


@pytest.fixture
def proxy(plain_registry: Registry, fault_proxy: ProxyFactory) -> FaultProxy:
    return fault_proxy(plain_registry)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as c:
        yield c


def test_passes_through_and_counts_requests(proxy: FaultProxy, client: httpx.Client) -> None:
    assert client.get(f"{proxy.url}/v2/").status_code == 200
    assert client.head(f"{proxy.url}/v2/sandbox/none/manifests/x").status_code == 404
    assert proxy.count() == 2
    assert proxy.count("HEAD", r"/manifests/") == 1
    assert [(r.method, r.path, r.status, r.fault) for r in proxy.requests] == [
        ("GET", "/v2/", 200, None),
        ("HEAD", "/v2/sandbox/none/manifests/x", 404, None),
    ]


@pytest.mark.timeout(60)
def test_push_through_the_proxy_follows_upload_locations_and_skips_present_blobs(
    plain_registry: Registry, proxy: FaultProxy, skopeo: Skopeo, oci_image: Callable[..., OCIImage]
) -> None:
    image = oci_image(seed="through-proxy", layer_sizes=(1000, 2000))
    # dest_registry gives skopeo the registry's TLS view (plain HTTP): it probes HTTPS first, and the
    # proxy must refuse that probe at once, as the registry would: a TLS handshake is answered with
    # an HTTP error (a connection error for the client), not left hanging until a timeout.
    with httpx.Client(timeout=5) as client, pytest.raises(httpx.ConnectError):
        client.get(f"https://{proxy.host}/v2/")
    assert proxy.count() == 0  # the probe is answered without forwarding anything
    skopeo.copy(
        image.oci_ref, f"docker://{proxy.host}/sandbox/through-proxy:v1", dest_registry=plain_registry
    )
    # Two layers and one config: each started an upload at the proxy and was PUT through it.
    assert proxy.count("POST", r"/blobs/uploads/$") == 3
    assert proxy.count("PUT", r"/blobs/uploads/") == 3
    assert skopeo.inspect(f"{plain_registry.host}/sandbox/through-proxy:v1", registry=plain_registry)[
        "Digest"
    ] == (image.digest)
    proxy.reset_records()
    skopeo.copy(
        image.oci_ref, f"docker://{proxy.host}/sandbox/through-proxy:v2", dest_registry=plain_registry
    )
    assert proxy.count("POST", r"/blobs/uploads/") == 0
    assert proxy.count("HEAD", r"/blobs/sha256:") == 3


def test_refuse_closes_the_port_until_cleared(proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.set_faults(Fault("refuse"))
    with pytest.raises(httpx.ConnectError):
        client.get(f"{proxy.url}/v2/")
    proxy.clear()
    assert client.get(f"{proxy.url}/v2/").status_code == 200


def test_a_closed_port_refuses(client: httpx.Client) -> None:
    with pytest.raises(httpx.ConnectError):
        client.get(f"{closed_port_url()}/v2/")


@pytest.mark.timeout(30)
def test_hang_never_answers(proxy: FaultProxy) -> None:
    proxy.set_faults(Fault("hang", path=r"^/v2/$"))
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{proxy.url}/v2/", timeout=0.5)
    assert [(r.path, r.fault) for r in proxy.requests] == [("/v2/", "hang")]
    assert proxy.requests[-1].status is None


@pytest.mark.timeout(30)
def test_delay_then_forward(proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.set_faults(Fault("delay", delay=1, times=1))
    # A client that gives up before the delay is over gets no answer (a slower machine only delays more).
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{proxy.url}/v2/", timeout=0.05)
    proxy.set_faults(Fault("delay", delay=0.4))
    assert client.get(f"{proxy.url}/v2/").status_code == 200
    assert [(r.fault, r.status) for r in proxy.requests][-1] == ("delay", 200)  # forwarded after the wait


@pytest.mark.timeout(30)
def test_hold_forwards_only_after_release(proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.set_faults(Fault("hold", path=r"^/v2/$", times=1))
    answers: list[int] = []
    held = threading.Thread(target=lambda: answers.append(client.get(f"{proxy.url}/v2/").status_code))
    held.start()
    deadline = time.monotonic() + 10
    while proxy.count("GET", r"^/v2/$") == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    # Seen and held: a second request (past `times`) passes while the first still waits.
    assert httpx.get(f"{proxy.url}/v2/", timeout=5).status_code == 200
    assert answers == []
    proxy.release()
    held.join(10)
    assert answers == [200]
    assert [r.fault for r in proxy.requests] == ["hold", None]


@pytest.mark.parametrize(
    ("status", "code"), [(500, "UNKNOWN"), (503, "UNAVAILABLE"), (429, "TOOMANYREQUESTS")]
)
def test_status_answers_a_registry_error(
    proxy: FaultProxy, client: httpx.Client, status: int, code: str
) -> None:
    proxy.set_faults(Fault("status", status=status, retry_after=2 if status == 429 else None))
    response = client.get(f"{proxy.url}/v2/")
    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code
    assert response.headers.get("retry-after") == ("2" if status == 429 else None)
    assert client.head(f"{proxy.url}/v2/").status_code == status


def test_status_201_swallows_a_manifest_put(
    plain_registry: Registry, proxy: FaultProxy, client: httpx.Client, oci_image: Callable[..., OCIImage]
) -> None:
    image = oci_image(seed="dropped-put")
    manifest = (image.layout_dir / "blobs/sha256" / image.digest.removeprefix("sha256:")).read_bytes()
    proxy.set_faults(Fault("status", status=201, method="PUT", path=r"/manifests/"))
    url = f"{proxy.url}/v2/sandbox/dropped/manifests/v1"
    response = client.put(url, content=manifest, headers={"Content-Type": image.media_type})
    assert response.status_code == 201
    assert response.content == b""
    assert client.get(f"{plain_registry.url}/v2/sandbox/dropped/manifests/v1").status_code == 404


def test_times_method_and_path_limit_a_fault(proxy: FaultProxy, client: httpx.Client) -> None:
    proxy.set_faults(Fault("status", status=503, method="GET", path=r"/manifests/", times=2))
    manifest = f"{proxy.url}/v2/sandbox/none/manifests/x"
    assert client.get(f"{proxy.url}/v2/").status_code == 200  # other path
    assert client.head(manifest).status_code == 404  # other method
    assert [client.get(manifest).status_code for _ in range(3)] == [503, 503, 404]
    assert [r.fault for r in proxy.requests] == [None, None, "status", "status", None]


def test_reset_mid_body(proxy: FaultProxy, big_blob: tuple[str, int]) -> None:
    path, size = big_blob
    proxy.set_faults(Fault("reset", path=r"/blobs/", body_bytes=10_000))
    received: list[bytes] = []
    with httpx.Client(timeout=5) as client, client.stream("GET", f"{proxy.url}{path}") as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(size)
        with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
            received.extend(response.iter_raw())
    assert sum(map(len, received)) <= 10_000


def test_truncated_body(proxy: FaultProxy, big_blob: tuple[str, int]) -> None:
    path, size = big_blob
    proxy.set_faults(Fault("truncate", path=r"/blobs/", body_bytes=1000))
    with pytest.raises(httpx.RemoteProtocolError, match=rf"received 1000 bytes, expected {size}"):
        httpx.get(f"{proxy.url}{path}", timeout=5)


@pytest.mark.timeout(30)
def test_throttle_limits_bandwidth(
    proxy: FaultProxy, big_blob: tuple[str, int], client: httpx.Client
) -> None:
    path, size = big_blob
    unthrottled = client.get(f"{proxy.url}{path}").content
    assert len(unthrottled) == size
    proxy.set_faults(Fault("throttle", bytes_per_second=size * 2))  # 0.5 s for the blob
    assert client.get(f"{proxy.url}{path}").content == unthrottled  # every byte relayed, in order
    assert [(r.fault, r.status) for r in proxy.requests] == [(None, 200), ("throttle", 200)]
    # At 2 bytes/s the body comes a byte every 0.5 s: a client wanting one within 0.2 s gives up
    # (a busy machine only makes the gaps longer). Unthrottled, the blob arrives in one go.
    proxy.set_faults(Fault("throttle", bytes_per_second=2))
    trickle = httpx.Timeout(5, read=0.2)
    with (
        pytest.raises(httpx.ReadTimeout),
        client.stream("GET", f"{proxy.url}{path}", timeout=trickle) as response,
    ):
        for _ in response.iter_raw():
            pass


@pytest.mark.timeout(30)
def test_throttle_slows_uploads_too(proxy: FaultProxy, client: httpx.Client) -> None:
    data = bytes(range(256)) * 512  # 128 KiB
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    uploads = f"{proxy.url}/v2/sandbox/throttled/blobs/uploads/"
    # At 2 bytes/s the registry gets the body a byte every 0.5 s and cannot answer: a client waiting
    # at most 0.2 s for the answer gives up. Unthrottled, the registry answers 201 at once.
    proxy.set_faults(Fault("throttle", method="PUT", bytes_per_second=2))
    stalled = client.post(uploads).headers["location"]
    with pytest.raises(httpx.ReadTimeout):
        client.put(
            f"{stalled}&digest={digest}" if "?" in stalled else f"{stalled}?digest={digest}",
            content=data,
            timeout=httpx.Timeout(5, read=0.2),
        )
    proxy.set_faults(Fault("throttle", method="PUT", bytes_per_second=len(data) * 2))  # 0.5 s
    proxy.reset_records()
    session = client.post(uploads)
    location = session.headers["location"]
    assert location.startswith(f"{proxy.url}/")  # the registry saw the proxy's Host header
    separator = "&" if "?" in location else "?"
    response = client.put(f"{location}{separator}digest={digest}", content=data)
    assert response.status_code == 201
    assert [(r.method, r.fault, r.status) for r in proxy.requests] == [
        ("POST", None, 202),
        ("PUT", "throttle", 201),
    ]
    assert client.head(f"{proxy.url}/v2/sandbox/throttled/blobs/{digest}").status_code == 200


def test_tls_front_serves_the_registry_certificate(tls_registry: Registry, fault_proxy: ProxyFactory) -> None:
    proxy = fault_proxy(tls_registry, Fault("status", status=503, times=1))
    assert proxy.url.startswith("https://")
    ca = tls_registry.tls.client_context() if tls_registry.tls else None
    with httpx.Client(verify=ca or True, timeout=5) as client:
        assert client.get(f"{proxy.url}/v2/").status_code == 503
        assert client.get(f"{proxy.url}/v2/").status_code == 401  # passed through to the auth check


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (lambda: Fault("nonsense"), "kind: 'nonsense' is not one of"),  # type: ignore[arg-type]
        (lambda: Fault("refuse", path="/v2/"), "refuse: closes the port"),
        (lambda: Fault("status", status=204), "status: 204 must be an HTTP status from 200 to 599"),
        (lambda: Fault("status", status=600), "status: 600 must be an HTTP status from 200 to 599"),
        (lambda: Fault("throttle"), "bytes_per_second: 0 must be > 0"),
        (lambda: Fault("hang", times=0), "times: 0 must be >= 1"),
    ],
)
def test_bad_faults_are_named(fault: Callable[[], Fault], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fault()


@pytest.mark.timeout(60)
def test_stop_drops_hung_connections_quickly(plain_registry: Registry) -> None:
    proxy = proxy_in_front_of(plain_registry, Fault("hang"))
    with httpx.Client(timeout=20) as client:
        errors: list[BaseException] = []

        def call() -> None:
            try:
                client.get(f"{proxy.url}/v2/")
            except httpx.HTTPError as exc:
                errors.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        while proxy.count() == 0:  # the request is hanging at the proxy
            time.sleep(0.01)
        proxy.stop()
        caller.join(30)
    assert not caller.is_alive()
    assert len(errors) == 1
    # The connection was dropped by stop(), not given up on by the client's own 20 s timeout.
    assert not isinstance(errors[0], httpx.TimeoutException), repr(errors[0])
    assert isinstance(errors[0], (httpx.RemoteProtocolError, httpx.ReadError)), repr(errors[0])
