"""kaniko: the cluster builder (the maintained osscontainertools fork).

It runs as root in an unprivileged container, builds with ``--no-push`` into an
OCI layout, and takes prefetch's plan as ``--registry-map``. Facts it rests on
(checked against a real v1.28.3 executor, docs/builders.md):

* kaniko leaves every mount point out of the image it snapshots, and ``/kaniko``
  too. Our volumes live below ``/kaniko/hera-imagebuild`` so that a Dockerfile
  with ``WORKDIR /workspace`` and ``COPY . .`` loses none of its files to them.
* kaniko sets no per-request timeout: a hung registry holds the build until the
  pod's deadline, so the deadline's message is in the retry rule.
* Errors are go-containerregistry's ``METHOD URL: CODE: message`` for registry
  bodies, without the HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hera_imagebuild.builders.base import BuilderSecurity, BuildJob, BuildPaths, Command, MirrorPlan
from hera_imagebuild.common.failures import POD_DISRUPTIONS, REGISTRY_FAILURES, FailureTable
from hera_imagebuild.common.reference import DOCKER_HUB

ROOT = "/kaniko/hera-imagebuild"
"""Where the build pod mounts its volumes: inside kaniko's own directory, which it never snapshots."""

NO_OP_REGISTRY_MAP = "hera-imagebuild.invalid=hera-imagebuild.invalid"
"""A registry map entry that matches no image.

kaniko rejects an empty ``--registry-map``, and a template's argv is fixed
when it is rendered, so prefetch writes this when no image needs mapping.
``.invalid`` is a reserved top-level domain (RFC 2606): no real registry has it.
"""

POD_DEADLINE_MESSAGE = POD_DISRUPTIONS[-1]
"""The kubelet's message for a pod killed at ``activeDeadlineSeconds``: for kaniko, which sets no
request timeout, a hung or stalled registry ends this way."""

FAILURES = REGISTRY_FAILURES.extended(
    transient=POD_DISRUPTIONS,
    deterministic=(
        "failed to execute command",
        "dockerfile parse error",
        "unknown instruction",
        "error resolving dockerfile path",
        "please provide a valid path to a Dockerfile",
        "no such file or directory",
    ),
)


SECURITY = BuilderSecurity(run_as_root=True)
"""Root to unpack base images and run RUN lines; never privileged."""


def registry_key(registry: str) -> str:
    """The registry name as kaniko's flags expect it (``index.docker.io`` for Docker Hub)."""
    return "index.docker.io" if registry == DOCKER_HUB else registry


@dataclass(frozen=True, kw_only=True)
class Kaniko:
    """The kaniko builder (see the module docstring)."""

    name: str = "kaniko"
    image: str = "ghcr.io/osscontainertools/kaniko:v1.28.3"
    executor: str = "/kaniko/executor"
    paths: BuildPaths = field(
        default_factory=lambda: BuildPaths(
            context=f"{ROOT}/context",
            dockerfile=f"{ROOT}/pinned/Dockerfile",
            layout=f"{ROOT}/image",
            output=f"{ROOT}/out",
            docker_config="/kaniko/.docker",
        )
    )
    security: BuilderSecurity = SECURITY
    failures: FailureTable = FAILURES
    registry_config_file: str = "registry-map"
    install_hint: str = (
        "give the path of a kaniko executor binary (the /kaniko/executor of the "
        "ghcr.io/osscontainertools/kaniko image) with --kaniko-executor PATH or "
        "HERA_IMAGEBUILD_KANIKO_EXECUTOR; it runs as root"
    )

    def check_mirror(self, registry: str, source: str, *, field: str) -> None:
        """A dot in a mirror's path is refused: ``--registry-map`` reads it as a host (kaniko #3182)."""
        prefix = source.partition("/")[2]
        if "." in prefix:
            raise ValueError(
                f"{field}: {source!r} has a '.' in its path {prefix!r}; kaniko's --registry-map misreads "
                "such a path as a registry host (kaniko #3182); expected a path without dots"
            )

    def registry_config(self, plan: MirrorPlan) -> str:
        """``--registry-map``: ``orig=new;orig=new2`` in preference order (never empty)."""
        entries = [
            f"{registry_key(registry)}={source}"
            for registry, sources in plan.sources.items()
            for source in sources
        ]
        return ";".join(dict.fromkeys(entries)) or NO_OP_REGISTRY_MAP

    def commands(self, job: BuildJob) -> list[Command]:
        """One executor run: ``--no-push`` into the OCI layout, with the digest file kaniko computed."""
        paths = job.paths
        argv = [
            self.executor,
            f"--dockerfile={paths.dockerfile}",
            f"--context=dir://{paths.context}",
            "--no-push",
            f"--oci-layout-path={paths.layout}",
            f"--digest-file={paths.digest_file}",
            f"--registry-map={job.registry_config}",
            f"--skip-default-registry-fallback={job.skip_fallback}",
            f"--custom-platform={job.platform}",
            f"--target={job.target}",
            f"--cache={job.cache}",
            f"--cache-repo={job.cache_repo}",
            *(f"--build-arg={name}={value}" for name, value in job.proxies),
            "--log-format=text",
            f"--image-download-retry={job.pull_retries}",
            f"--image-fs-extract-retry={job.pull_retries}",
            *(f"--insecure-registry={registry_key(host)}" for host in job.insecure_registries),
            *(
                f"--registry-certificate={registry_key(host)}={path}"
                for host, path in job.registry_certificates
            ),
            *job.extra_args,
        ]
        env = dict(job.proxies)
        env["DOCKER_CONFIG"] = paths.docker_config
        return [Command(tuple(argv), env)]


KANIKO = Kaniko()
