"""The builder seam: what a build step runs between prefetch and push, described as data.

A :class:`Builder` says everything the rest of the project needs to know about
one image builder, and nothing else knows it:

* its container image, and where its pod mounts the build's inputs and outputs
  (:class:`BuildPaths`);
* its command lines and environment for one :class:`BuildJob`, whose values are
  real ones on a workstation and ``{{inputs.parameters.X}}`` references in a
  rendered template (one function writes both, so they cannot drift);
* the security context it needs;
* how prefetch's neutral :class:`MirrorPlan` becomes the builder's own
  registry configuration, and which mirrors that configuration can express;
* its failure vocabulary: which of its last log lines a retry can cure.

Every builder leaves an OCI image layout (``paths.layout``) and the digest of
its image manifest (``paths.digest_file``); push reads nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from hera_imagebuild.common.failures import FailureTable


@dataclass(frozen=True, kw_only=True)
class MirrorPlan:
    """Where the build should pull each registry's images from, as prefetch decided.

    Attributes:
        sources: For each registry (``docker.io`` for Docker Hub), the sources
            (``host[:port][/prefix]``) that answered for its images, in order
            of preference; the registry itself is never listed.
        fallback: Whether the builder may fall back to a registry itself.
        insecure: Registries reached over plain HTTP.
    """

    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fallback: bool = True
    insecure: tuple[str, ...] = ()

    def __str__(self) -> str:
        mapped = "; ".join(f"{registry} -> {', '.join(found)}" for registry, found in self.sources.items())
        return (
            f"{mapped or 'every image from its own registry'} (fallback {'on' if self.fallback else 'off'})"
        )

    def to_json(self) -> str:
        """The plan as prefetch writes it (``mirror-plan.json``)."""
        document = {
            "sources": {registry: list(sources) for registry, sources in self.sources.items()},
            "fallback": self.fallback,
            "insecure": list(self.insecure),
        }
        return json.dumps(document, indent=2) + "\n"


@dataclass(frozen=True, kw_only=True)
class BuildPaths:
    """Where a builder finds its inputs and leaves its outputs (in a pod: its mounts).

    Attributes:
        context: The build context directory.
        dockerfile: The pinned Dockerfile prefetch wrote.
        layout: The OCI image layout the builder writes.
        output: The directory of the step's output files.
        docker_config: The directory holding ``config.json`` (registry credentials).
    """

    context: str
    dockerfile: str
    layout: str
    output: str
    docker_config: str

    @property
    def digest_file(self) -> str:
        """The file the builder writes its image manifest's digest to."""
        return f"{self.output}/digest"


@dataclass(frozen=True, kw_only=True)
class BuildJob:
    """One build, as a builder's command line sees it.

    Values are strings so that a template can pass ``{{inputs.parameters.X}}``
    where a workstation passes the value itself.

    Attributes:
        paths: Inputs and outputs.
        registry_config: What prefetch wrote for this builder (:attr:`Builder.registry_config_file`):
            its content for kaniko (the ``--registry-map`` value), its path for buildah.
        skip_fallback: ``"true"`` to never pull from an image's own registry.
        platform: ``OS/ARCH[/VARIANT]``.
        target: The stage to build (``""``: the last).
        cache: ``"true"`` to use the builder's layer cache in ``cache_repo``.
        cache_repo: The layer cache repository.
        proxies: ``(NAME, value)`` proxy variables, for the builder's own pulls and for RUN.
        pull_retries: The builder's own retries of a base-image pull (small: the step is retried as a whole).
        insecure_registries: Registries reached over plain HTTP.
        registry_certificates: ``(registry, CA file)`` for privately signed registries.
        cert_dir: A directory of CA files (``*.crt``) trusted for every registry.
        authfile: A docker ``config.json`` with registry credentials (default: the builder's).
        storage: A scratch directory for the builder's own state (buildah's image store).
        extra_args: More flags for the builder, validated by the caller.
    """

    paths: BuildPaths
    registry_config: str
    skip_fallback: str = "false"
    platform: str = "linux/amd64"
    target: str = ""
    cache: str = "false"
    cache_repo: str = ""
    proxies: tuple[tuple[str, str], ...] = ()
    pull_retries: int = 2
    insecure_registries: tuple[str, ...] = ()
    registry_certificates: tuple[tuple[str, str], ...] = ()
    cert_dir: str | None = None
    authfile: str | None = None
    storage: str | None = None
    extra_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    """One process a builder runs: its argv and the environment it adds."""

    argv: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class BuilderSecurity:
    """What the builder's container needs from Kubernetes.

    Attributes:
        run_as_root: It must run as uid 0 (to unpack base images and run RUN lines).
        privileged: It needs a privileged container.
    """

    run_as_root: bool
    privileged: bool = False


class Builder(Protocol):
    """An image builder: see the module docstring for what each member means."""

    @property
    def name(self) -> str:
        """Its name in ``--builder`` and the builders table."""

    @property
    def image(self) -> str:
        """Its default container image."""

    @property
    def paths(self) -> BuildPaths:
        """Where its pod mounts the build's inputs and outputs."""

    @property
    def security(self) -> BuilderSecurity:
        """The security context it needs."""

    @property
    def failures(self) -> FailureTable:
        """Its failure vocabulary (the registry table plus its own lines)."""

    @property
    def registry_config_file(self) -> str:
        """The name of the file prefetch writes its registry configuration to."""

    @property
    def install_hint(self) -> str:
        """What to install or set when the builder is missing, in one sentence."""

    def check_mirror(self, registry: str, source: str, *, field: str) -> None:
        """Refuse a mirror its registry configuration cannot express.

        Raises:
            ValueError: Naming ``field``, the mirror and why.
        """

    def registry_config(self, plan: MirrorPlan) -> str:
        """Its registry configuration for ``plan`` (the content of :attr:`registry_config_file`)."""

    def commands(self, job: BuildJob) -> list[Command]:
        """The processes that build ``job`` into ``job.paths.layout``, in order."""
