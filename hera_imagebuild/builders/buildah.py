"""buildah: the local builder (workstations, CI, the demo).

``buildah build`` with ``--isolation chroot`` and the ``vfs`` storage driver
runs RUN lines as root without a container runtime or an overlay filesystem;
``buildah push ... oci:DIR`` then writes the OCI layout push reads, and
``--digestfile`` the digest of the manifest it wrote. The image store lives in
the job's scratch directory and is thrown away with it, so nothing outside
the build is touched.

prefetch's plan becomes a ``registries.conf`` (containers-registries.conf(5),
version 2) that buildah reads through ``CONTAINERS_REGISTRIES_CONF``: each
registry's sources become its mirrors, tried in order; without fallback the
last source takes the registry's own place, so the registry itself is never
asked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hera_imagebuild.builders.base import BuilderSecurity, BuildJob, BuildPaths, Command, MirrorPlan
from hera_imagebuild.common.failures import REGISTRY_FAILURES, FailureTable
from hera_imagebuild.common.reference import DOCKER_HUB

FAILURES = REGISTRY_FAILURES.extended(
    # containers/image's wordings of a registry's 5xx and 429, with the status and no error code.
    transient=(
        "received unexpected HTTP status: 5[0-9][0-9]",
        "unexpected HTTP status: 429",
        "invalid status code from registry (5[0-9][0-9]|429)",
    ),
    deterministic=(
        'building at STEP "RUN',
        "Unknown instruction",
        "dockerfile parse error",
        "no such file or directory",
        "no FROM statement found",
        "unexpected HTTP status: 40[134]",
    ),
)
"""buildah's lines: a RUN that failed is ``building at STEP "RUN ...": exit status N``."""

SECURITY = BuilderSecurity(run_as_root=True, privileged=True)
"""RUN lines in a chroot need root; a pod would also need privileges no template here renders."""

_LOCAL_IMAGE = "localhost/hera-imagebuild-build:latest"


def _toml(text: str) -> str:
    # A TOML basic string accepts JSON's escapes.
    return json.dumps(text)


@dataclass(frozen=True, kw_only=True)
class Buildah:
    """The buildah builder (see the module docstring)."""

    name: str = "buildah"
    image: str = "quay.io/buildah/stable:v1.28"
    binary: str = "buildah"
    paths: BuildPaths = field(
        default_factory=lambda: BuildPaths(
            context="/build/context",
            dockerfile="/build/pinned/Dockerfile",
            layout="/build/image",
            output="/build/out",
            docker_config="/build/.docker",
        )
    )
    security: BuilderSecurity = SECURITY
    failures: FailureTable = FAILURES
    registry_config_file: str = "registries.conf"
    install_hint: str = "install buildah (Debian/Ubuntu: apt-get install buildah); it runs as root here"

    def check_mirror(self, registry: str, source: str, *, field: str) -> None:
        """registries.conf takes any ``host[:port][/path]`` location: nothing to refuse."""

    def registry_config(self, plan: MirrorPlan) -> str:
        """A ``registries.conf`` with one ``[[registry]]`` per planned or plain-HTTP registry."""
        lines = [
            "# Written by hera-imagebuild prefetch from its mirror plan.",
            'short-name-mode = "permissive"',
            f"unqualified-search-registries = [{_toml(DOCKER_HUB)}]",
        ]
        insecure = set(plan.insecure)
        for registry, sources in plan.sources.items():
            mirrors, location = list(sources), registry
            if not plan.fallback and mirrors:
                location = mirrors.pop()
            lines += ["", "[[registry]]", f"prefix = {_toml(registry)}", f"location = {_toml(location)}"]
            if location.partition("/")[0] in insecure:
                lines.append("insecure = true")
            for mirror in mirrors:
                lines += ["[[registry.mirror]]", f"location = {_toml(mirror)}"]
                if mirror.partition("/")[0] in insecure:
                    lines.append("insecure = true")
        for host in plan.insecure:
            if host not in plan.sources:
                lines += ["", "[[registry]]", f"location = {_toml(host)}", "insecure = true"]
        return "\n".join(lines) + "\n"

    def commands(self, job: BuildJob) -> list[Command]:
        """``buildah build`` into a private store, then ``buildah push`` of the result as an OCI layout."""
        storage = job.storage or f"{job.paths.output}/.buildah"
        store = (
            self.binary,
            f"--root={storage}/root",
            f"--runroot={storage}/run",
            "--storage-driver=vfs",
        )
        access = [f"--authfile={job.authfile}"] if job.authfile else []
        if job.cert_dir:
            access.append(f"--cert-dir={job.cert_dir}")
        build = [
            *store,
            "build",
            "--isolation=chroot",
            f"--retry={job.pull_retries}",
            f"--file={job.paths.dockerfile}",
            f"--platform={job.platform}",
            *([f"--target={job.target}"] if job.target else []),
            *(f"--build-arg={name}={value}" for name, value in job.proxies),
            *access,
            *job.extra_args,
            f"--tag={_LOCAL_IMAGE}",
            job.paths.context,
        ]
        push = [
            *store,
            "push",
            "--format=oci",
            f"--digestfile={job.paths.digest_file}",
            _LOCAL_IMAGE,
            f"oci:{job.paths.layout}:latest",
        ]
        env = {"CONTAINERS_REGISTRIES_CONF": job.registry_config, **dict(job.proxies)}
        return [Command(tuple(build), env), Command(tuple(push), env)]


BUILDAH = Buildah()
