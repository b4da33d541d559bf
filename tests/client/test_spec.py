"""The build spec: defaults, the DAG arguments it produces, and the errors bad input gets."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from hera_imagebuild.client.options import (
    BuildSettings,
    PvcHandoff,
    RetryPolicy,
    StepOptions,
)
from hera_imagebuild.client.registry_access import RegistryCA
from hera_imagebuild.client.spec import (
    DEFAULT_EXECUTOR_IMAGE,
    ArtifactContext,
    GitContext,
    LayerCache,
    Proxy,
    PvcContext,
    S3Context,
    parameter_defaults,
)

from .conftest import spec


def test_arguments_encode_every_value_as_a_string() -> None:
    built = spec(
        build_args={"CUDA_VERSION": "12.4.1"},
        labels={"com.example.team": "ml"},
        mirrors={
            "index.docker.io": ["mirror.example.com/hub", "mirror2.example.com"],
            "nvcr.io": ["m.example.com"],
        },
        cache=LayerCache(repo="registry.example.com/cache/trainer"),
        proxy=Proxy(https="http://proxy.example.com:3128", no_proxy=".example.com,10.0.0.0/8"),
        fallback=False,
        target="runtime",
    )
    args = built.arguments()
    assert all(isinstance(value, str) for value in args.values())
    assert json.loads(args["destinations"]) == ["registry.example.com/ml/trainer:v1"]
    assert json.loads(args["build-args"]) == {"CUDA_VERSION": "12.4.1"}
    # Docker Hub's aliases fold to docker.io, the name prefetch expects; order is kept.
    assert json.loads(args["mirrors"]) == {
        "docker.io": ["mirror.example.com/hub", "mirror2.example.com"],
        "nvcr.io": ["m.example.com"],
    }
    assert (args["cache"], args["cache-repo"]) == ("true", "registry.example.com/cache/trainer")
    assert (args["fallback"], args["target"], args["https-proxy"]) == (
        "false",
        "runtime",
        "http://proxy.example.com:3128",
    )
    assert args["executor-image"] == DEFAULT_EXECUTOR_IMAGE


def test_oci_labels_come_from_the_git_context_and_yield_to_the_users_own() -> None:
    labels = json.loads(spec(labels={"org.opencontainers.image.revision": "abc123"}).arguments()["labels"])
    assert labels == {
        "org.opencontainers.image.source": "https://github.com/example-org/model.git",
        "org.opencontainers.image.revision": "abc123",
    }


def test_defaults_of_the_published_dag_match_a_default_spec() -> None:
    args = spec().arguments()
    defaults = parameter_defaults()
    differing = {name for name in defaults if name in args and args[name] != defaults[name]}
    # Only values the spec derives from its context differ from the template defaults.
    assert differing == {"labels"}


def test_pvc_context_and_handoff_become_parameters() -> None:
    settings = BuildSettings(handoff=PvcHandoff(claim_name="build-scratch"))
    args = spec(
        context=PvcContext(claim_name="src", sub_path="services/trainer"), settings=settings
    ).arguments()
    assert (args["context-pvc"], args["context-sub-path"], args["handoff-pvc"]) == (
        "src",
        "services/trainer",
        "build-scratch",
    )
    assert spec(context=PvcContext(claim_name="src")).context_artifact() is None


def test_context_artifacts() -> None:
    git = spec().context_artifact()
    assert git is not None
    assert git.name == "context"
    s3 = S3Context(url="s3://ml-contexts/trainer/ctx.tar.gz", credentials_secret="s3-creds").artifact()
    built = s3._build_artifact()
    assert built.s3 is not None
    assert (built.s3.bucket, built.s3.key) == ("ml-contexts", "trainer/ctx.tar.gz")
    assert built.s3.access_key_secret is not None
    assert built.s3.access_key_secret.name == "s3-creds"
    upstream = ArtifactContext(source="{{tasks.fetch.outputs.artifacts.source}}").artifact()
    assert upstream.from_ == "{{tasks.fetch.outputs.artifacts.source}}"


# (description, factory, text the error must contain: field and what is accepted)
BAD_SPECS: list[tuple[str, Callable[[], Any], str]] = [
    ("no destination", lambda: spec(destinations=[]), "destinations: [] is not valid; expected at least one"),
    ("destination as a string", lambda: spec(destinations="r.example.com/a:b"), "destinations:"),
    (
        "upper-case repository",
        lambda: spec(destinations=["registry.example.com/ML/Trainer:v1"]),
        "destinations[0]",
    ),
    (
        "destination with digest",
        lambda: spec(destinations=["r.example.com/a@sha256:" + "a" * 64]),
        "without '@digest'",
    ),
    ("bad tag", lambda: spec(destinations=["r.example.com/a:-bad"]), "destinations[0]"),
    (
        "repeated destination",
        lambda: spec(destinations=["r.example.com/a:1", "r.example.com/a:1"]),
        "each entry once",
    ),
    ("absolute dockerfile", lambda: spec(dockerfile="/etc/passwd"), "dockerfile: '/etc/passwd'"),
    ("dockerfile escaping the context", lambda: spec(dockerfile="../other/Dockerfile"), "dockerfile:"),
    (
        "build arg name with dash",
        lambda: spec(build_args={"CUDA-VERSION": "12"}),
        "build_args: 'CUDA-VERSION'",
    ),
    ("build arg name with digit first", lambda: spec(build_args={"1X": "y"}), "build_args: '1X'"),
    ("build arg value with NUL", lambda: spec(build_args={"X": "a\x00b"}), "build_args[X]"),
    ("label key with space", lambda: spec(labels={"my label": "x"}), "labels: 'my label'"),
    ("unknown platform syntax", lambda: spec(platform="amd64"), "platform: 'amd64'"),
    ("platform with spaces", lambda: spec(platform="linux / amd64"), "OS/ARCH[/VARIANT]"),
    ("target with comma", lambda: spec(target="a,b"), "target: 'a,b'"),
    ("cache repo with tag", lambda: spec(cache=LayerCache(repo="r.example.com/cache:latest")), "cache.repo"),
    ("cache on without repo", lambda: spec(cache=LayerCache(repo="")), "cache.repo"),
    (
        "fallback off without mirrors",
        lambda: spec(fallback=False),
        "fallback: False is not valid without mirrors",
    ),
    ("mirror for a bad registry", lambda: spec(mirrors={"not a host": ["m.example.com"]}), "mirrors:"),
    (
        "mirror path with dot",
        lambda: spec(mirrors={"docker.io": ["m.example.com/v2.hub"]}),
        "kaniko #3182",
    ),
    ("empty mirror list", lambda: spec(mirrors={"docker.io": []}), "mirrors[docker.io]"),
    (
        "docker.io twice under two names",
        lambda: spec(mirrors={"docker.io": ["a.example.com"], "index.docker.io": ["b.example.com"]}),
        "each registry once",
    ),
    ("proxy without scheme", lambda: spec(proxy=Proxy(https="proxy.example.com:3128")), "proxy.https"),
    (
        "proxy with credentials",
        lambda: spec(proxy=Proxy(http="http://u:pw@proxy.example.com")),
        "with credentials",
    ),
    (
        "no_proxy with space",
        lambda: spec(proxy=Proxy(no_proxy="a.example.com b.example.com")),
        "proxy.no_proxy",
    ),
    (
        "secret name with capitals",
        lambda: spec(docker_config_secret="My_Secret"),
        "docker_config_secret: 'My_Secret'",
    ),
    ("executor image with space", lambda: spec(executor_image="kaniko latest"), "executor_image"),
    ("runtime image empty", lambda: spec(runtime_image=""), "runtime_image"),
    ("probe timeout zero", lambda: spec(probe_timeout=0), "probe_timeout: 0"),
    (
        "base image cache with scheme",
        lambda: spec(base_image_cache="https://cache.example.com"),
        "base_image_cache",
    ),
    (
        "git URL with credentials",
        lambda: GitContext(url="https://user:tok@github.com/o/r.git"),
        "context.url",
    ),
    ("git URL not a URL", lambda: GitContext(url="github.com/o/r"), "context.url"),
    (
        "git ref with space",
        lambda: GitContext(url="https://github.com/o/r.git", ref="main branch"),
        "context.ref",
    ),
    (
        "git ref as option",
        lambda: GitContext(url="https://github.com/o/r.git", ref="--upload-pack=x"),
        "context.ref",
    ),
    ("S3 URL without key", lambda: S3Context(url="s3://bucket"), "context.url"),
    ("PVC name with slash", lambda: PvcContext(claim_name="a/b"), "context.claim_name"),
    ("PVC sub-path escaping", lambda: PvcContext(claim_name="src", sub_path="../x"), "context.sub_path"),
    ("artifact source not a reference", lambda: ArtifactContext(source="tasks.fetch"), "context.source"),
    ("bad CPU quantity", lambda: StepOptions(cpu="two"), "cpu: 'two'"),
    ("bad memory quantity", lambda: StepOptions(memory="4GB"), "memory: '4GB'"),
    ("negative retry limit", lambda: RetryPolicy(limit=-1), "retry.limit: -1"),
    ("bad backoff duration", lambda: RetryPolicy(limit=1, backoff="ten seconds"), "retry.backoff"),
    ("zero timeout", lambda: StepOptions(timeout_seconds=0), "timeout_seconds: 0"),
    (
        "extra kaniko arg not a flag",
        lambda: BuildSettings(extra_kaniko_args=("rm -rf /",)),
        "extra_kaniko_args",
    ),
    (
        "extra kaniko arg we own",
        lambda: BuildSettings(extra_kaniko_args=("--destination=x",)),
        "--destination",
    ),
    ("extra kaniko arg short flag", lambda: BuildSettings(extra_kaniko_args=("-d",)), "extra_kaniko_args"),
    (
        "no token and no executor service account",
        lambda: BuildSettings(executor_service_account=None),
        "executor_service_account: None",
    ),
    ("handoff PVC bad name", lambda: PvcHandoff(claim_name="Scratch"), "handoff.claim_name"),
    (
        "plain-HTTP registry with a path",
        lambda: BuildSettings(insecure_registries=("registry.example.com/ml",)),
        "insecure_registries: 'registry.example.com/ml' is not a registry host",
    ),
    (
        "plain-HTTP registry as one string",
        lambda: BuildSettings(insecure_registries="registry.local:5000"),
        "insecure_registries: 'registry.local:5000' is not valid",
    ),
    (
        "Docker Hub over plain HTTP",
        lambda: BuildSettings(insecure_registries=("index.docker.io",)),
        "insecure_registries: 'index.docker.io'",
    ),
    (
        "plain-HTTP registry that also has a CA",
        lambda: BuildSettings(
            insecure_registries=("harbor.example.com",),
            registry_ca=RegistryCA(secret="ca", certificates={"harbor.example.com": "ca.crt"}),
        ),
        "insecure_registries: 'harbor.example.com'",
    ),
    (
        "registry CA without Secret or ConfigMap",
        lambda: RegistryCA(certificates={"harbor.example.com": "ca.crt"}),
        "registry_ca: secret=None, config_map=None",
    ),
    (
        "registry CA with Secret and ConfigMap",
        lambda: RegistryCA(secret="ca", config_map="ca", certificates={"harbor.example.com": "ca.crt"}),
        "registry_ca: secret='ca', config_map='ca'",
    ),
    (
        "registry CA for no registry",
        lambda: RegistryCA(secret="ca", certificates={}),
        "registry_ca.certificates",
    ),
    (
        "registry CA file not .crt",
        lambda: RegistryCA(secret="ca", certificates={"harbor.example.com": "ca.pem"}),
        "registry_ca.certificates[harbor.example.com]: 'ca.pem'",
    ),
    (
        "registry CA file outside the mount",
        lambda: RegistryCA(secret="ca", certificates={"harbor.example.com": "../etc/ca.crt"}),
        "'../etc/ca.crt'",
    ),
    (
        "registry CA host with a scheme",
        lambda: RegistryCA(secret="ca", certificates={"https://harbor.example.com": "ca.crt"}),
        "registry_ca.certificates: 'https://harbor.example.com'",
    ),
    (
        "registry CA for Docker Hub under two names",
        lambda: RegistryCA(secret="ca", certificates={"docker.io": "a.crt", "index.docker.io": "b.crt"}),
        "'index.docker.io'",
    ),
    (
        "registry CA Secret name",
        lambda: RegistryCA(secret="Corp_CA", certificates={"harbor.example.com": "ca.crt"}),
        "registry_ca.secret: 'Corp_CA'",
    ),
    (
        "extra kaniko arg for a plain-HTTP registry",
        lambda: BuildSettings(extra_kaniko_args=("--insecure-registry=registry.local:5000",)),
        "set BuildSettings.insecure_registries",
    ),
    (
        "extra kaniko arg for a registry certificate",
        lambda: BuildSettings(extra_kaniko_args=("--registry-certificate=h=/ca.crt",)),
        "set BuildSettings.registry_ca",
    ),
]


@pytest.mark.parametrize(("description", "factory", "expected"), BAD_SPECS, ids=[b[0] for b in BAD_SPECS])
def test_bad_input_is_refused_at_construction(
    description: str, factory: Callable[[], Any], expected: str, bad_input: Any
) -> None:
    with pytest.raises(ValueError, match=r"\S") as caught:
        factory()
    message = str(caught.value)
    assert expected in message
    # Every message says what would have been accepted (or how to fix it).
    assert any(word in message for word in ("expected", "add ", "set ", "give ", "name a")), message
    assert "Traceback" not in message
    bad_input.record(area="build spec", given=description, error=message)


@pytest.mark.parametrize(
    "factory",
    [
        lambda: Proxy(http="http://user:hunter2@proxy.example.com:3128"),
        lambda: GitContext(url="https://user:hunter2@github.com/o/r.git"),
    ],
)
def test_credentials_never_echoed_in_errors(factory: Callable[[], Any]) -> None:
    with pytest.raises(ValueError, match="credentials") as caught:
        factory()
    assert "hunter2" not in str(caught.value)
