"""The build spec: what to build, from where, to where, and through which mirrors.

A :class:`BuildSpec` is validated when it is constructed: a bad value raises
:class:`ValueError` naming the field, the value and what is accepted, long
before anything reaches a cluster. :meth:`BuildSpec.arguments` turns it into
the build DAG's input parameters (list and map values as JSON strings, because
an Argo parameter is one string).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hera.workflows import Artifact

from hera_imagebuild._version import __version__
from hera_imagebuild.client import params as p
from hera_imagebuild.client import validation as v
from hera_imagebuild.client.context import ArtifactContext, Context, GitContext, PvcContext, S3Context
from hera_imagebuild.client.options import (
    ArtifactHandoff,
    BuildSettings,
    PvcHandoff,
    RetryPolicy,
    StepOptions,
)
from hera_imagebuild.client.registry_access import RegistryCA

DEFAULT_EXECUTOR_IMAGE = "ghcr.io/osscontainertools/kaniko:v1.28.3"
"""The maintained kaniko fork (osscontainertools), newest release when this version was cut."""
DEFAULT_RUNTIME_IMAGE = f"ghcr.io/hera-imagebuild/hera-imagebuild-runtime:{__version__}"
"""The runtime image (Python, skopeo, this package) for prefetch and push; built from images/runtime/."""
DEFAULT_DOCKER_CONFIG_SECRET = "hera-imagebuild-docker-config"  # noqa: S105 (a Secret's name)
"""The Secret mounted as the docker config when the spec names none (mounted optionally)."""
DEFAULT_PLATFORM = "linux/amd64"


@dataclass(kw_only=True, frozen=True)
class LayerCache:
    """kaniko's layer cache in a registry repository (``--cache=true --cache-repo=...``).

    Attributes:
        repo: The cache repository, such as ``registry.example.com/cache/train``.
    """

    repo: str

    def __post_init__(self) -> None:
        v.repository("cache.repo", self.repo)


@dataclass(kw_only=True, frozen=True)
class Proxy:
    """Outbound proxies: env for the pods (kaniko's own pulls), build args for RUN steps.

    Attributes:
        http: ``HTTP_PROXY``.
        https: ``HTTPS_PROXY``.
        no_proxy: ``NO_PROXY``: comma-separated hosts, ``.domains``, IPs or CIDRs.
    """

    http: str = ""
    https: str = ""
    no_proxy: str = ""

    def __post_init__(self) -> None:
        v.proxy_url("proxy.http", self.http)
        v.proxy_url("proxy.https", self.https)
        v.no_proxy("proxy.no_proxy", self.no_proxy)


@dataclass(kw_only=True, frozen=True)
class BuildSpec:
    """One image build: context, Dockerfile, destinations and how to reach registries.

    Attributes:
        context: Where the build context comes from (PVC, git, S3 or an upstream artifact).
        destinations: Where to push, ``registry/repository:tag``; at least one. The first is
            the one ``image-ref`` names.
        dockerfile: The Dockerfile's path relative to the context.
        build_args: ``--build-arg`` values (prefetch bakes them into the pinned Dockerfile).
        target: The stage to build ('' = the last stage).
        labels: Image labels. OCI labels known at render time (source, revision) are added
            unless given; prefetch adds ``org.opencontainers.image.created`` at run time.
        platform: ``os/arch[/variant]`` to build for.
        cache: kaniko's layer cache, or ``None`` for no layer cache.
        mirrors: Per registry (``docker.io`` for Docker Hub), mirrors to try in order,
            each ``host[:port][/prefix]``.
        fallback: Try the original registry when no mirror has an image.
        proxy: Outbound proxies.
        docker_config_secret: Secret (type ``kubernetes.io/dockerconfigjson``) with registry
            credentials, mounted in all three pods; a missing Secret means anonymous access.
        base_image_cache: ``host[:port][/prefix]`` of a registry prefetch copies base
            images into, so kaniko pulls them from nearby ('' = off).
        probe_timeout: Seconds a source may take to answer during prefetch.
        disable_http2: Force HTTP/1.1 in kaniko (``FF_KANIKO_DISABLE_HTTP2``).
        executor_image: The kaniko image.
        runtime_image: The hera-imagebuild runtime image (prefetch, push).
        settings: Template shape: resources, timeouts, retries, handoff, pod security.
    """

    context: Context
    destinations: Sequence[str]
    dockerfile: str = "Dockerfile"
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    platform: str = DEFAULT_PLATFORM
    cache: LayerCache | None = None
    mirrors: Mapping[str, Sequence[str]] = field(default_factory=dict)
    fallback: bool = True
    proxy: Proxy = field(default_factory=Proxy)
    docker_config_secret: str = DEFAULT_DOCKER_CONFIG_SECRET
    base_image_cache: str = ""
    probe_timeout: float = 5.0
    disable_http2: bool = False
    executor_image: str = DEFAULT_EXECUTOR_IMAGE
    runtime_image: str = DEFAULT_RUNTIME_IMAGE
    settings: BuildSettings = field(default_factory=BuildSettings)

    def __post_init__(self) -> None:
        if isinstance(self.destinations, str):
            raise v.invalid("destinations", self.destinations, "a list of 'registry/repository:tag'")
        destinations = tuple(self.destinations)
        if not destinations:
            raise v.invalid("destinations", [], "at least one 'registry/repository:tag'")
        for i, dest in enumerate(destinations):
            v.destination(f"destinations[{i}]", dest)
        v.unique("destinations", destinations)
        object.__setattr__(self, "destinations", destinations)
        v.relative_path("dockerfile", self.dockerfile)
        for name, value in self.build_args.items():
            v.build_arg_name("build_args", name)
            # No line break: the value becomes an ARG default in the pinned Dockerfile, one line.
            v.literal_text(f"build_args[{name}]", value)
        object.__setattr__(self, "build_args", dict(self.build_args))
        v.stage_name("target", self.target)
        for key, value in self.labels.items():
            v.label_key("labels", key)
            v.literal_text(f"labels[{key}]", value)
        object.__setattr__(self, "labels", dict(self.labels))
        v.platform("platform", self.platform)
        object.__setattr__(self, "mirrors", _check_mirrors(self.mirrors))
        if not self.fallback and not self.mirrors:
            raise ValueError(
                "fallback: False is not valid without mirrors; with no mirror and no fallback "
                "no image can be pulled: add mirrors or set fallback=True"
            )
        v.dns_subdomain("docker_config_secret", self.docker_config_secret)
        if self.base_image_cache:
            v.mirror("base_image_cache", "", self.base_image_cache)
        if isinstance(self.probe_timeout, bool) or not 0 < float(self.probe_timeout) <= 600:
            raise v.invalid("probe_timeout", self.probe_timeout, "seconds, more than 0 and at most 600")
        v.image("executor_image", self.executor_image)
        v.image("runtime_image", self.runtime_image)

    def all_labels(self) -> dict[str, str]:
        """The labels the image gets: OCI labels known now, overridden by the spec's own."""
        return {**self.context.oci_labels(), **self.labels}

    def arguments(self) -> dict[str, str]:
        """The build DAG's input parameters for this spec, every value a string."""
        args = {
            p.DOCKERFILE: self.dockerfile,
            p.DESTINATIONS: json.dumps(list(self.destinations)),
            p.BUILD_ARGS: json.dumps(self.build_args),
            p.TARGET: self.target,
            p.LABELS: json.dumps(self.all_labels()),
            p.PLATFORM: self.platform,
            p.CACHE: _flag(self.cache is not None),
            p.CACHE_REPO: self.cache.repo if self.cache else "",
            p.MIRRORS: json.dumps({registry: list(mirrors) for registry, mirrors in self.mirrors.items()}),
            p.FALLBACK: _flag(self.fallback),
            p.PROBE_TIMEOUT: f"{float(self.probe_timeout):g}",
            p.BASE_IMAGE_CACHE: self.base_image_cache,
            p.HTTP_PROXY: self.proxy.http,
            p.HTTPS_PROXY: self.proxy.https,
            p.NO_PROXY: self.proxy.no_proxy,
            p.DOCKER_CONFIG_SECRET: self.docker_config_secret,
            p.DISABLE_HTTP2: _flag(self.disable_http2),
            p.EXECUTOR_IMAGE: self.executor_image,
            p.RUNTIME_IMAGE: self.runtime_image,
        }
        if isinstance(self.context, PvcContext):
            args[p.CONTEXT_PVC] = self.context.claim_name
            args[p.CONTEXT_SUB_PATH] = self.context.sub_path
        if isinstance(self.settings.handoff, PvcHandoff):
            args[p.HANDOFF_PVC] = self.settings.handoff.claim_name
        return args

    def context_artifact(self) -> Artifact | None:
        """The DAG's ``context`` input artifact, or ``None`` for a PVC context."""
        return self.context.artifact()


def parameter_defaults() -> dict[str, str]:
    """Defaults of the optional DAG parameters (``destinations`` has none: it is required)."""
    defaults = {
        p.DOCKERFILE: "Dockerfile",
        p.BUILD_ARGS: "{}",
        p.TARGET: "",
        p.LABELS: "{}",
        p.PLATFORM: DEFAULT_PLATFORM,
        p.CACHE: "false",
        p.CACHE_REPO: "",
        p.MIRRORS: "{}",
        p.FALLBACK: "true",
        p.PROBE_TIMEOUT: "5",
        p.BASE_IMAGE_CACHE: "",
        p.HTTP_PROXY: "",
        p.HTTPS_PROXY: "",
        p.NO_PROXY: "",
        p.DOCKER_CONFIG_SECRET: DEFAULT_DOCKER_CONFIG_SECRET,
        p.DISABLE_HTTP2: "false",
        p.EXECUTOR_IMAGE: DEFAULT_EXECUTOR_IMAGE,
        p.RUNTIME_IMAGE: DEFAULT_RUNTIME_IMAGE,
        p.CONTEXT_SUB_PATH: "",
    }
    return defaults


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _check_mirrors(mirrors: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    checked: dict[str, tuple[str, ...]] = {}
    for registry, targets in mirrors.items():
        key = v.registry("mirrors", registry, checked)
        if isinstance(targets, str) or not targets:
            raise v.invalid(f"mirrors[{registry}]", targets, "a non-empty list of 'host[:port][/prefix]'")
        for target in targets:
            v.mirror(f"mirrors[{registry}]", registry, target)
        v.unique(f"mirrors[{registry}]", targets)
        checked[key] = tuple(targets)
    return checked


__all__ = [
    "DEFAULT_DOCKER_CONFIG_SECRET",
    "DEFAULT_EXECUTOR_IMAGE",
    "DEFAULT_RUNTIME_IMAGE",
    "ArtifactContext",
    "ArtifactHandoff",
    "BuildSettings",
    "BuildSpec",
    "Context",
    "GitContext",
    "LayerCache",
    "Proxy",
    "PvcContext",
    "PvcHandoff",
    "RegistryCA",
    "RetryPolicy",
    "S3Context",
    "StepOptions",
    "parameter_defaults",
]
