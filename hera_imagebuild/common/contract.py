"""The contract between the rendered templates and the steps that run in pods.

The templates (client side) build the prefetch and push command lines with
:meth:`StepArgs.to_argv`; the CLI (pod side) builds its parser from the same
field definitions with :func:`add_arguments`. Paths inside the pods and the
names of the files each step leaves in its output directory live here too, so
a template and the code it runs cannot drift apart.

Every value is its own argv element (``--flag=value``): nothing passes through
a shell. List- and map-valued options have two spellings: a repeatable flag for
people (``--build-arg K=V``) and one JSON-valued flag for templates
(``--build-args-json '{"K": "V"}'``), because an Argo parameter is one string
and cannot expand into several argv elements.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hera_imagebuild.builders import BUILDERS, CLUSTER_BUILDER, KANIKO

# Paths inside the prefetch and push pods (the build pod's are its builder's: ``Builder.paths``).
WORKSPACE = "/workspace"
CONTEXT_DIR = f"{WORKSPACE}/context"
"""Where the build context is mounted (volume sub-path or input artifact)."""
IMAGE_LAYOUT_DIR = f"{WORKSPACE}/image"
"""The OCI image layout push reads (the one the builder wrote)."""
OUTPUT_DIR = f"{WORKSPACE}/out"
"""Where each step writes the files Argo reads its output parameters from."""
DOCKER_CONFIG_DIR = KANIKO.paths.docker_config
"""The docker config directory (``config.json``) in every step; kaniko's default."""
REGISTRY_CA_DIR = "/kaniko/registry-ca"
"""Where all three pods mount the CA files of privately signed registries (below /kaniko: never in
kaniko's snapshots)."""


class PrefetchOutputs:
    """File names prefetch writes into ``--output-dir``."""

    DOCKERFILE = "Dockerfile"
    """The Dockerfile with external base images pinned by digest, build args and labels applied."""
    REGISTRY_MAP = KANIKO.registry_config_file
    """The value for kaniko's ``--registry-map`` (never empty), for ``--builder=kaniko``."""
    MIRROR_PLAN = "mirror-plan.json"
    """The builder-neutral plan (:class:`~hera_imagebuild.builders.MirrorPlan`) behind the registry config."""
    BASE_IMAGES = "base-images.json"
    """JSON list of ``{"original", "pinned", "source", "platform"}`` for each external base image."""
    REPORT = "report.json"
    """Machine-readable report: every source tried per image, its outcome and time."""


class PushOutputs:
    """File names push writes into ``--output-dir``."""

    DIGEST = "digest"
    """``sha256:...`` of the pushed manifest."""
    IMAGE_REF = "image-ref"
    """``repo@sha256:...`` for the first destination."""
    IMAGE_REFS = "image-refs.json"
    """JSON list of ``repo@sha256:...``, one per destination, in order."""
    REPORT = "report.json"


def option(flag: str, help: str, *, json_flag: str | None = None, **argparse_kwargs: Any) -> Any:
    """Declare a step option: a dataclass field carrying its CLI spelling.

    Args:
        flag: The command-line flag (``--dockerfile``).
        help: Help text for ``--help``.
        json_flag: For list or map options, the flag that takes the whole value as JSON.
        **argparse_kwargs: Extra keyword arguments for ``add_argument`` (``default``, ``type``, ...).
    """
    default = argparse_kwargs.get("default")
    repeated = argparse_kwargs.get("action") == "append"
    metadata = {"flag": flag, "help": help, "json_flag": json_flag, "argparse": argparse_kwargs}
    if repeated:
        return field(default_factory=list, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(kw_only=True)
class StepArgs:
    """Base class of a step's arguments; subclasses declare fields with :func:`option`."""

    command: ClassVar[str]

    def to_argv(self, *, json_values: dict[str, str] | None = None) -> list[str]:
        """The step's command line, one argv element per flag and value.

        Args:
            json_values: For list/map fields, a string to pass through the
                field's ``json_flag`` instead of the repeated flag (a template
                passes ``{{inputs.parameters.build-args}}`` this way).
        """
        json_values = json_values or {}
        argv = [self.command]
        for f in dataclasses.fields(self):
            meta = f.metadata
            if f.name in json_values:
                argv.append(f"{meta['json_flag']}={json_values[f.name]}")
                continue
            value = getattr(self, f.name)
            if value is None or value is False:
                continue
            if value is True:
                argv.append(meta["flag"])
            elif isinstance(value, list):
                argv.extend(f"{meta['flag']}={item}" for item in value)
            else:
                argv.append(f"{meta['flag']}={value}")
        return argv


def add_arguments(parser: argparse.ArgumentParser, args_type: type[StepArgs]) -> None:
    """Add one argparse option per field of ``args_type`` (and its JSON twin, if any)."""
    for f in dataclasses.fields(args_type):
        meta = f.metadata
        parser.add_argument(meta["flag"], dest=f.name, help=meta["help"], **meta["argparse"])
        if meta["json_flag"]:
            parser.add_argument(
                meta["json_flag"],
                dest=f"{f.name}_json",
                metavar="JSON",
                help=f"the same as {meta['flag']}, as one JSON value (for templates)",
            )


@dataclass(kw_only=True)
class RegistryAccessArgs(StepArgs):
    """How a step reaches registries: credentials and TLS."""

    authfile: str | None = option(
        "--authfile",
        "docker config.json with registry credentials (default: $DOCKER_CONFIG/config.json, "
        "then ~/.docker/config.json)",
    )
    cert_dir: str | None = option(
        "--cert-dir",
        "directory of extra CA certificates (*.crt) trusted for every registry",
    )
    insecure_registries: list[str] = option(
        "--insecure-registry",
        "registry (host[:port]) reached over plain HTTP; repeatable",
        json_flag="--insecure-registries-json",
        action="append",
        metavar="HOST",
    )


@dataclass(kw_only=True)
class PrefetchArgs(RegistryAccessArgs):
    """Arguments of ``hera-imagebuild prefetch``."""

    command: ClassVar[str] = "prefetch"

    dockerfile: str = option("--dockerfile", "path of the Dockerfile", default="Dockerfile")
    build_args: list[str] = option(
        "--build-arg",
        "build argument NAME=VALUE, as given to the build; repeatable",
        json_flag="--build-args-json",
        action="append",
        metavar="NAME=VALUE",
    )
    labels: list[str] = option(
        "--label",
        "image label KEY=VALUE to add to the target stage; repeatable",
        json_flag="--labels-json",
        action="append",
        metavar="KEY=VALUE",
    )
    target: str | None = option("--target", "the stage to build (default: the last)")
    platform: str = option(
        "--platform", "platform to resolve image indexes for, OS/ARCH[/VARIANT]", default="linux/amd64"
    )
    mirrors: list[str] = option(
        "--mirror",
        "REGISTRY=MIRROR[,MIRROR...]: mirrors to try in order for REGISTRY "
        "(Docker Hub is docker.io; a mirror may carry a path prefix); repeatable",
        json_flag="--mirrors-json",
        action="append",
        metavar="REGISTRY=MIRROR[,MIRROR...]",
    )
    fallback: str = option(
        "--fallback",
        "try the original registry after the mirrors: true or false",
        default="true",
        choices=("true", "false"),
    )
    probe_timeout: float = option(
        "--probe-timeout",
        "seconds one source may take to resolve an image, its quick retries included",
        default=5.0,
        type=float,
    )
    builder: str | None = option(
        "--builder",
        f"the builder to write the registry configuration for (default {CLUSTER_BUILDER}: registry-map; "
        "buildah: registries.conf)",
        choices=tuple(BUILDERS),
    )
    cache_registry: str | None = option(
        "--cache-registry",
        "HOST[/PREFIX]: copy each base image there by digest, so the build pulls locally",
    )
    cache_copy_timeout: float = option(
        "--cache-copy-timeout",
        "seconds, from the step's start, that the copies into the cache registry may take; past "
        "it the build pulls from the source that answered",
        default=600.0,
        type=float,
    )
    output_dir: str = option("--output-dir", "directory for the step's output files", default=".")


@dataclass(kw_only=True)
class PushArgs(RegistryAccessArgs):
    """Arguments of ``hera-imagebuild push``."""

    command: ClassVar[str] = "push"

    image: str = option(
        "--image", "OCI image layout directory written by kaniko --oci-layout-path", default="."
    )
    destinations: list[str] = option(
        "--destination",
        "registry/repository:tag to push to; repeatable",
        json_flag="--destinations-json",
        action="append",
        metavar="REF",
    )
    expected_digest: str | None = option(
        "--expected-digest",
        "fail unless the image's manifest digest is this (kaniko's --digest-file)",
    )
    max_attempts: int = option(
        "--max-attempts", "attempts per request on transient errors", default=5, type=int
    )
    timeout: float = option(
        "--timeout", "seconds the whole push may take, retries included", default=1800.0, type=float
    )
    output_dir: str = option("--output-dir", "directory for the step's output files", default=".")
