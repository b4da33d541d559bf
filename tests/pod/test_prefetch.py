"""``hera-imagebuild prefetch`` against real registries: pinning, mirrors, indexes, cache registry, timing.

Faults on mirrors, origins and the cache registry are in test_prefetch_faults.py;
bad command lines in test_prefetch_cli.py.
"""

from __future__ import annotations

import json

import pytest
from prefetch_helpers import Seeded, run_prefetch, seed

from hera_imagebuild.builders.kaniko import NO_OP_REGISTRY_MAP
from hera_imagebuild.common.contract import PrefetchOutputs
from hera_imagebuild.sandbox.faultproxy import Fault, closed_port_url
from hera_imagebuild.sandbox.images import write_image
from hera_imagebuild.sandbox.registry import start_registry

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def origin(plain_registry, skopeo, tmp_path_factory) -> Seeded:
    return seed(plain_registry, skopeo, tmp_path_factory.mktemp("origin-images"))


@pytest.fixture(scope="module")
def mirror(skopeo, tmp_path_factory):
    """A second registry holding the same images under the path prefix ``mirror/``."""
    with start_registry(tmp_path_factory.mktemp("mirror-registry"), name="mirror") as registry:
        yield seed(registry, skopeo, tmp_path_factory.mktemp("mirror-images"), prefix="mirror")


def insecure(*hosts: str) -> list[str]:
    return [f"--insecure-registry={host}" for host in hosts]


def test_multi_stage_arg_driven_and_copy_from_dockerfile_is_pinned(origin, capsys, tmp_path):
    host = origin.registry.host
    dockerfile = f"""\
ARG ORIGIN=registry.invalid
ARG FLAVOUR=a
FROM ${{ORIGIN}}/base/${{FLAVOUR}}:1 AS Build
RUN --mount=type=bind,from={host}/base/b:1,target=/b true
FROM build AS test
FROM scratch
COPY --from={host}/base/c:1 /x /x
COPY --from=BUILD /y /y
"""
    run = run_prefetch(
        capsys,
        tmp_path,
        dockerfile,
        f"--build-arg=ORIGIN={host}",
        *insecure(host),
    )

    assert run.code == 0, run.err
    pins = {repo: f"{host}/{repo}@{origin.digest(repo)}" for repo in ("base/a", "base/b", "base/c")}
    assert run.dockerfile.startswith(
        f'ARG ORIGIN="{host}"\nARG FLAVOUR=a\n'
        f"FROM {pins['base/a']} AS Build\n"
        f"RUN --mount=type=bind,from={pins['base/b']},target=/b true\n"
        "FROM build AS test\nFROM scratch\n"
        f"COPY --from={pins['base/c']} /x /x\nCOPY --from=BUILD /y /y\nLABEL "
    )
    assert '"org.opencontainers.image.created"=' in run.dockerfile
    assert "base.name" not in run.dockerfile  # the target stage is FROM scratch
    base_images = json.loads(run.output(PrefetchOutputs.BASE_IMAGES))
    assert [(e["original"], e["pinned"], e["source"]) for e in base_images] == [
        (f"{host}/{repo}:1", pins[repo], host) for repo in ("base/a", "base/b", "base/c")
    ]
    assert run.registry_map == NO_OP_REGISTRY_MAP
    assert run.report["images"][0]["lines"] == [3]
    assert run.outcomes(f"{host}/base/a:1") == [(host, "chosen")]
    assert run.last_line.startswith("prefetch: 3 base image(s) pinned")


def test_target_stage_gets_base_labels_and_later_stages_are_not_fetched(origin, capsys, tmp_path):
    host = origin.registry.host
    dockerfile = f"FROM {host}/base/a:1 AS app\nRUN true\nFROM {host}/missing/image:1 AS docs\n"
    run = run_prefetch(capsys, tmp_path, dockerfile, "--target=app", "--label=team=ml", *insecure(host))

    assert run.code == 0, run.err
    digest = origin.digest("base/a")
    lines = run.dockerfile.splitlines()
    assert lines[0] == f"FROM {host}/base/a@{digest} AS app"
    assert lines[1] == "RUN true"
    assert lines[2].startswith('LABEL "team"="ml" "org.opencontainers.image.created"=')
    assert lines[2].endswith(
        f'"org.opencontainers.image.base.name"="{host}/base/a:1" '
        f'"org.opencontainers.image.base.digest"="{digest}"'
    )
    assert lines[3] == f"FROM {host}/missing/image:1 AS docs"  # never built, never fetched
    assert [e["original"] for e in run.report["images"]] == [f"{host}/base/a:1"]


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64"])
def test_index_resolves_to_the_platform_manifest_digest(origin, capsys, tmp_path, platform):
    host = origin.registry.host
    run = run_prefetch(
        capsys, tmp_path, f"FROM {host}/base/multi:1\n", f"--platform={platform}", *insecure(host)
    )

    assert run.code == 0, run.err
    image = origin.images["base/multi"]
    entry = run.image(f"{host}/base/multi:1")
    assert entry["digest"] == image.manifest_digests[platform]
    assert entry["index_digest"] == image.digest
    assert run.dockerfile.startswith(f"FROM {host}/base/multi@{image.manifest_digests[platform]}\n")
    assert image.manifest_digests["linux/amd64"] != image.manifest_digests["linux/arm64"]


def test_from_platform_flag_picks_its_own_index_entry(origin, capsys, tmp_path):
    host = origin.registry.host
    dockerfile = f"FROM --platform=linux/arm64 {host}/base/multi:1 AS tool\nFROM {host}/base/multi:1\n"
    run = run_prefetch(capsys, tmp_path, dockerfile, *insecure(host))

    assert run.code == 0, run.err
    digests = origin.images["base/multi"].manifest_digests
    assert [(e["platform"], e["digest"]) for e in run.report["images"]] == [
        ("linux/arm64", digests["linux/arm64"]),
        ("linux/amd64", digests["linux/amd64"]),
    ]


def test_mirror_with_path_prefix_is_used_and_mapped(origin, mirror, capsys, tmp_path):
    host, mirror_host = origin.registry.host, mirror.registry.host
    run = run_prefetch(
        capsys,
        tmp_path,
        f"FROM {host}/base/a:1\n",
        f"--mirror={host}={mirror_host}/mirror",
        *insecure(host, mirror_host),
    )

    assert run.code == 0, run.err
    assert run.outcomes(f"{host}/base/a:1") == [(f"{mirror_host}/mirror", "chosen"), (host, "not needed")]
    assert run.image(f"{host}/base/a:1")["sources"][0]["reference"] == f"{mirror_host}/mirror/base/a:1"
    assert run.registry_map == f"{host}={mirror_host}/mirror"
    # The pinned Dockerfile keeps the original registry: kaniko's --registry-map redirects the pull.
    assert (
        run.dockerfile == f"FROM {host}/base/a@{origin.digest('base/a')}\n" + run.dockerfile.split("\n", 1)[1]
    )


def test_docker_hub_image_through_a_mirror(skopeo, mirror, capsys, tmp_path):
    image = write_image(tmp_path / "python", seed="hub-python", tag="3.12")
    skopeo.push(image, mirror.registry, "hub/library/python", "3.12")
    mirror_host = mirror.registry.host
    run = run_prefetch(
        capsys,
        tmp_path,
        "FROM python:3.12\n",
        f"--mirror=docker.io={mirror_host}/hub",
        "--no-fallback",
        *insecure(mirror_host),
    )

    assert run.code == 0, run.err
    assert run.outcomes("docker.io/library/python:3.12") == [(f"{mirror_host}/hub", "chosen")]
    assert run.registry_map == f"index.docker.io={mirror_host}/hub"
    assert run.dockerfile.startswith(f"FROM python@{image.digest}\n")


def test_each_image_takes_the_first_mirror_that_has_it_and_the_map_lists_both(
    origin, mirror, skopeo, capsys, tmp_path
):
    # "partial" has base/a only; the full mirror has everything.
    skopeo.push(origin.images["base/a"], mirror.registry, "partial/base/a", "1")
    host, mirror_host = origin.registry.host, mirror.registry.host
    run = run_prefetch(
        capsys,
        tmp_path,
        f"FROM {host}/base/a:1 AS a\nFROM {host}/base/b:1\n",
        f"--mirror={host}={mirror_host}/partial,{mirror_host}/mirror",
        *insecure(host, mirror_host),
    )

    assert run.code == 0, run.err
    assert run.outcomes(f"{host}/base/a:1")[0] == (f"{mirror_host}/partial", "chosen")
    assert run.outcomes(f"{host}/base/b:1")[:2] == [
        (f"{mirror_host}/partial", "failed"),
        (f"{mirror_host}/mirror", "chosen"),
    ]
    assert "MANIFEST_UNKNOWN" in run.image(f"{host}/base/b:1")["sources"][0]["error"]
    assert run.registry_map == f"{host}={mirror_host}/partial;{host}={mirror_host}/mirror"


def test_fallback_off_never_asks_the_origin(origin, mirror, fault_proxy, capsys, tmp_path):
    front = fault_proxy(origin.registry)  # the "origin" as the Dockerfile names it; counts requests
    mirror_host = mirror.registry.host
    run = run_prefetch(
        capsys,
        tmp_path,
        f"FROM {front.host}/base/a:1\n",
        f"--mirror={front.host}={mirror_host}/empty",
        "--fallback=false",
        *insecure(front.host, mirror_host),
    )

    assert run.code == 1, run.err
    assert run.outcomes(f"{front.host}/base/a:1") == [(f"{mirror_host}/empty", "failed")]
    assert front.count() == 0
    assert f"no source could provide {front.host}/base/a:1" in run.last_line
    assert not (run.output_dir / PrefetchOutputs.DOCKERFILE).exists()


def test_pull_through_cache_registry_as_a_mirror(origin, capsys, tmp_path):
    host = origin.registry.host
    with start_registry(
        tmp_path / "pull-through", name="pull-through", proxy_remote=origin.registry.url
    ) as cache:
        run = run_prefetch(
            capsys,
            tmp_path,
            f"FROM {host}/base/c:1\n",
            f"--mirror={host}={cache.host}",
            *insecure(host, cache.host),
        )

    assert run.code == 0, run.err
    assert run.outcomes(f"{host}/base/c:1") == [(cache.host, "chosen"), (host, "not needed")]
    assert run.image(f"{host}/base/c:1")["digest"] == origin.digest("base/c")
    assert run.registry_map == f"{host}={cache.host}"


def test_cache_registry_cold_then_warm(origin, skopeo, capsys, tmp_path):
    host = origin.registry.host
    dockerfile = f"FROM {host}/base/a:1 AS a\nFROM {host}/base/b:1 AS b\nFROM {host}/base/multi:1\n"
    with start_registry(tmp_path / "cache", name="cache") as cache:
        args = (f"--cache-registry={cache.host}/cache", *insecure(host, cache.host))
        cold = run_prefetch(capsys, tmp_path, dockerfile, *args)
        warm = run_prefetch(capsys, tmp_path, dockerfile, *args)
        served = skopeo.inspect(
            f"{cache.host}/cache/base/multi@{origin.digest('base/multi')}", registry=cache, raw=True
        )

    assert cold.code == 0, cold.err
    assert warm.code == 0, warm.err
    assert [e["cache"]["outcome"] for e in cold.report["images"]] == ["copied"] * 3
    assert [e["cache"]["outcome"] for e in warm.report["images"]] == ["present"] * 3
    assert all(e["cache"]["bytes_uploaded"] > 0 for e in cold.report["images"])
    assert served["layers"], served  # the platform manifest itself, by digest
    assert cold.registry_map == warm.registry_map == f"{host}={cache.host}/cache"
    assert cold.dockerfile.split("LABEL")[0] == warm.dockerfile.split("LABEL")[0]
    print(
        f"\nprefetch with a cache registry, 3 base images: cold {cold.seconds:.2f}s, warm {warm.seconds:.2f}s"
    )


def test_one_hung_mirror_costs_one_probe_timeout_for_all_images(origin, fault_proxy, capsys, tmp_path):
    host = origin.registry.host
    hung = fault_proxy(origin.registry, Fault("hang"), name="hung-mirror")
    refused = closed_port_url().removeprefix("http://")
    dockerfile = "".join(f"FROM {host}/base/{x}:1 AS {x}\n" for x in "abc")
    run = run_prefetch(
        capsys,
        tmp_path,
        dockerfile,
        f"--mirror={host}={hung.host},{refused},{host}",
        "--no-fallback",
        "--probe-timeout=1",
        *insecure(host, hung.host, refused),
    )

    assert run.code == 0, run.err
    for x in "abc":
        assert run.outcomes(f"{host}/base/{x}:1") == [
            (hung.host, "failed"),
            (refused, "failed"),
            (host, "chosen"),
        ]
        hung_probe = run.image(f"{host}/base/{x}:1")["sources"][0]
        # One attempt per image, cut by the 1 s probe window (not a longer limit), not retried.
        assert hung_probe["attempts"] == 1
        assert hung_probe["error"].endswith("no answer within the probe timeout (1s)")
    # How long the whole run takes (all probes share one window) is benchmark P1's to measure.
    print(
        "\n3 base images, mirrors [hung, refused, healthy], probe timeout 1 s: "
        f"prefetch took {run.seconds:.2f}s"
    )


def test_credentials_come_from_the_docker_config_and_stay_out_of_outputs(
    origin, tls_registry, tls_user, skopeo, docker_config, capsys, tmp_path
):
    skopeo.push(origin.images["base/a"], tls_registry, "secure/base/a", "1")
    host = origin.registry.host
    authfile = docker_config({tls_registry.host: tls_user})
    run = run_prefetch(
        capsys,
        tmp_path,
        f"FROM {host}/base/a:1\n",
        f"--mirror={host}={tls_registry.host}/secure",
        f"--authfile={authfile}",
        f"--cert-dir={tls_registry.tls.cert_dir}",
        "--no-fallback",
        *insecure(host),
    )

    assert run.code == 0, run.err
    assert run.outcomes(f"{host}/base/a:1") == [(f"{tls_registry.host}/secure", "chosen")]
    outputs = "".join(path.read_text() for path in run.output_dir.iterdir())
    assert tls_user.password not in outputs + run.err
    assert tls_user.auth not in outputs + run.err


def test_images_used_twice_are_probed_once(origin, fault_proxy, capsys, tmp_path):
    front = fault_proxy(origin.registry)
    image = f"{front.host}/base/a:1"
    dockerfile = f"FROM {image} AS one\nFROM {image}\nCOPY --from={image} / /\n"
    run = run_prefetch(capsys, tmp_path, dockerfile, *insecure(front.host))

    assert run.code == 0, run.err
    assert len(run.report["images"]) == 1
    assert run.report["images"][0]["lines"] == [1, 2, 3]
    assert run.dockerfile.count(f"{front.host}/base/a@{origin.digest('base/a')}") == 3
    assert front.count(method="GET", path="/manifests/") == 1


def test_elapsed_time_is_reported_per_source(origin, capsys, tmp_path):
    host = origin.registry.host
    run = run_prefetch(capsys, tmp_path, f"FROM {host}/base/b:1\n", *insecure(host))

    assert run.code == 0, run.err
    source = run.image(f"{host}/base/b:1")["sources"][0]
    assert isinstance(source["ms"], int)
    assert source["ms"] >= 0
    assert source["attempts"] == 1
    assert (
        f"{host}/base/b:1 (linux/amd64): pinned to {origin.digest('base/b')} from origin {host} in "
        in run.err
    )
    # The human line and report.json give the same time.
    assert f"from origin {host} in {source['ms']} ms\n" in run.err


def test_index_without_the_platform_is_a_deterministic_failure(origin, capsys, tmp_path):
    host = origin.registry.host
    run = run_prefetch(
        capsys, tmp_path, f"FROM {host}/base/multi:1\n", "--platform=linux/s390x", *insecure(host)
    )

    assert run.code == 1
    assert "has no manifest for linux/s390x (it has: linux/amd64, linux/arm64)" in run.last_line
    assert "[deterministic]" in run.last_line
