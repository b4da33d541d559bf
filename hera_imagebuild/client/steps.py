"""The three pod templates of a build: prefetch, build (kaniko), push.

Every argv element is fixed when the template is rendered; per-build values
arrive as ``{{inputs.parameters.X}}`` inside single elements, so no value ever
passes through a shell or splits into several arguments. prefetch and push
command lines come from :mod:`hera_imagebuild.common.contract`, the same
definitions their CLI parses, and the build's from its builder
(:data:`hera_imagebuild.builders.KANIKO`), the same function ``build --local``
calls, so template, CLI and local builds cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass

from hera.workflows import (
    Artifact,
    Container,
    EmptyDirVolume,
    Env,
    Parameter,
    RawArtifact,
    RetryStrategy,
    SecretVolume,
)
from hera.workflows import models as m

from hera_imagebuild.builders import KANIKO, BuildJob
from hera_imagebuild.client import params as p
from hera_imagebuild.client import registry_access
from hera_imagebuild.client.context import CONTEXT_ARTIFACT
from hera_imagebuild.client.options import BuildSettings, PvcHandoff, StepOptions
from hera_imagebuild.client.params import input_ref
from hera_imagebuild.client.retry import build_retry, step_retry
from hera_imagebuild.common.contract import (
    CONTEXT_DIR,
    DOCKER_CONFIG_DIR,
    IMAGE_LAYOUT_DIR,
    OUTPUT_DIR,
    PrefetchArgs,
    PrefetchOutputs,
    PushArgs,
    PushOutputs,
)

IMAGE_ARTIFACT = "image"
"""The build step's output artifact (the OCI layout) in the artifact handoff."""
BASE_IMAGES = "base-images"
"""prefetch output: JSON list of the pinned base images."""

_DOCKER_CONFIG_VOLUME = "docker-config"
_CONTEXT_VOLUME = "build-context"
_HANDOFF_VOLUME = "image-handoff"


@dataclass(frozen=True)
class StepTemplates:
    """The pod templates of one build, named ``<prefix>-prefetch``, ``-kaniko``, ``-push``."""

    prefetch: Container
    build: Container
    push: Container


_PROXY_VARIABLES = tuple(
    (name, input_ref(param))
    for var, param in (("HTTP_PROXY", p.HTTP_PROXY), ("HTTPS_PROXY", p.HTTPS_PROXY), ("NO_PROXY", p.NO_PROXY))
    for name in (var, var.lower())
)
"""Each proxy variable and its value, under both spellings (tools read one or the other):
pod env for kaniko's own pulls, build args for RUN steps."""


def _context_inputs(context_kind: str, path: str) -> list[Parameter | Artifact]:
    if context_kind == "pvc":
        return [Parameter(name=p.CONTEXT_PVC), Parameter(name=p.CONTEXT_SUB_PATH)]
    return [Artifact(name=CONTEXT_ARTIFACT, path=path)]


def _context_volume(context_kind: str, path: str) -> tuple[list[m.Volume], list[m.VolumeMount]]:
    if context_kind != "pvc":
        return [], []
    claim = m.PersistentVolumeClaimVolumeSource(claim_name=input_ref(p.CONTEXT_PVC), read_only=True)
    volume = m.Volume(name=_CONTEXT_VOLUME, persistent_volume_claim=claim)
    mount = m.VolumeMount(
        name=_CONTEXT_VOLUME, mount_path=path, sub_path=input_ref(p.CONTEXT_SUB_PATH), read_only=True
    )
    return [volume], [mount]


def _handoff_volume(path: str, *, read_only: bool) -> tuple[list[m.Volume], list[m.VolumeMount]]:
    claim = m.PersistentVolumeClaimVolumeSource(claim_name=input_ref(p.HANDOFF_PVC))
    volume = m.Volume(name=_HANDOFF_VOLUME, persistent_volume_claim=claim)
    mount = m.VolumeMount(
        name=_HANDOFF_VOLUME, mount_path=path, sub_path=input_ref(p.HANDOFF_SUB_PATH), read_only=read_only
    )
    return [volume], [mount]


# The runtime image runs as an unprivileged user (images/runtime/Dockerfile); refuse to run it as root.
_RUNTIME_SECURITY = m.SecurityContext(
    run_as_non_root=True,
    privileged=False,
    allow_privilege_escalation=False,
    capabilities=m.Capabilities(drop=["ALL"]),
)
# push reads the layout the builder wrote, and kaniko writes layer blobs as root with mode 0600.
# Through the artifact handoff Argo's init container unpacks the layout keeping those modes, then
# applies the input artifact's ``mode`` recursively (workflow/executor/executor.go): 0755 makes it
# readable to push's unprivileged user. A PVC keeps kaniko's files as they are, owned by uid 0, so
# in that shape push runs as uid 0, their owner, with every capability dropped (no DAC_OVERRIDE:
# it reads as the owner, never past a file's mode); it runs no user code.
_LAYOUT_MODE = 0o755
_PVC_PUSH_SECURITY = m.SecurityContext(
    run_as_user=0,
    run_as_non_root=False,
    privileged=False,
    allow_privilege_escalation=False,
    capabilities=m.Capabilities(drop=["ALL"]),
)
# kaniko must run as root to unpack base images and run RUN lines, but needs no
# privilege: it is never privileged and never gets more than the default capabilities.
_KANIKO_SECURITY = m.SecurityContext(privileged=KANIKO.security.privileged)

_POD_PARAMETERS = (p.HTTP_PROXY, p.HTTPS_PROXY, p.NO_PROXY, p.DOCKER_CONFIG_SECRET)
"""Parameters every step's pod spec uses (env and the docker config volume)."""

Volumes = list[m.Volume | SecretVolume | EmptyDirVolume]


def _parameters(*names: str) -> list[Parameter | Artifact]:
    return [Parameter(name=name) for name in (*names, *_POD_PARAMETERS)]


def _output_file(name: str, file_name: str, directory: str = OUTPUT_DIR) -> Parameter:
    return Parameter(name=name, value_from=m.ValueFrom(path=f"{directory}/{file_name}"))


def _step(
    name: str,
    settings: BuildSettings,
    options: StepOptions,
    *,
    image: str,
    command: str,
    args: list[str],
    inputs: list[Parameter | Artifact],
    outputs: list[Parameter | Artifact],
    volumes: Volumes,
    mounts: list[m.VolumeMount],
    retry: RetryStrategy,
    security: m.SecurityContext,
    env: list[Env] | None = None,
    output_dir: str = OUTPUT_DIR,
) -> Container:
    """One step's pod template; what all three share is decided here."""
    executor = settings.executor_service_account
    ca_volumes, ca_mounts = registry_access.ca_volume(settings.registry_ca)
    mounts = [*mounts, *ca_mounts]
    return Container(
        name=name,
        image=input_ref(image),
        command=[command],
        args=args,
        env=[
            *(Env(name=name, value=value) for name, value in _PROXY_VARIABLES),
            Env(name="DOCKER_CONFIG", value=DOCKER_CONFIG_DIR),
            *(env or []),
        ],
        inputs=[*inputs, Parameter(name=image)],
        outputs=outputs,
        # The docker config is optional: a missing Secret means anonymous registry access.
        volumes=[
            SecretVolume(
                name=_DOCKER_CONFIG_VOLUME,
                secret_name=input_ref(p.DOCKER_CONFIG_SECRET),
                optional=True,
                items=[m.KeyToPath(key=".dockerconfigjson", path="config.json")],
                mount_path=DOCKER_CONFIG_DIR,
            ),
            EmptyDirVolume(name="outputs", mount_path=output_dir),
            *volumes,
            *ca_volumes,
        ],
        volume_mounts=mounts or None,
        retry_strategy=retry,
        security_context=security,
        node_selector=dict(settings.node_selector) or None,
        tolerations=list(settings.tolerations) or None,
        active_deadline_seconds=options.timeout_seconds,
        automount_service_account_token=settings.automount_service_account_token,
        executor=m.ExecutorConfig(service_account_name=executor) if executor else None,
        resources=options.resources(),
        termination_message_policy="FallbackToLogsOnError",
    )


def prefetch_template(name: str, settings: BuildSettings, *, context_kind: str) -> Container:
    """The prefetch step: pin base images through mirrors, write the pinned Dockerfile and registry map."""
    timeout = settings.prefetch.timeout_seconds
    argv = PrefetchArgs(
        dockerfile=f"{CONTEXT_DIR}/{input_ref(p.DOCKERFILE)}",
        target=input_ref(p.TARGET),
        platform=input_ref(p.PLATFORM),
        fallback=input_ref(p.FALLBACK),
        probe_timeout=input_ref(p.PROBE_TIMEOUT),  # type: ignore[arg-type]  # a float once Argo substitutes it
        cache_registry=input_ref(p.BASE_IMAGE_CACHE),
        # The cache copy ends five minutes before the pod does: time to fall back and report.
        cache_copy_timeout=float(max(timeout - 300, 60)) if timeout else PrefetchArgs.cache_copy_timeout,
        output_dir=OUTPUT_DIR,
        cert_dir=registry_access.cert_dir(settings.registry_ca),
        insecure_registries=list(settings.insecure_registries),
    ).to_argv(
        json_values={
            "build_args": input_ref(p.BUILD_ARGS),
            "labels": input_ref(p.LABELS),
            "mirrors": input_ref(p.MIRRORS),
        }
    )
    volumes, mounts = _context_volume(context_kind, CONTEXT_DIR)
    inputs = _parameters(
        p.DOCKERFILE,
        p.BUILD_ARGS,
        p.TARGET,
        p.LABELS,
        p.PLATFORM,
        p.MIRRORS,
        p.FALLBACK,
        p.PROBE_TIMEOUT,
        p.BASE_IMAGE_CACHE,
    )
    return _step(
        name,
        settings,
        settings.prefetch,
        image=p.RUNTIME_IMAGE,
        command="hera-imagebuild",
        args=argv,
        inputs=inputs + _context_inputs(context_kind, CONTEXT_DIR),
        outputs=[
            _output_file(p.PINNED_DOCKERFILE, PrefetchOutputs.DOCKERFILE),
            _output_file(p.REGISTRY_MAP, PrefetchOutputs.REGISTRY_MAP),
            _output_file(BASE_IMAGES, PrefetchOutputs.BASE_IMAGES),
        ],
        volumes=list(volumes),
        mounts=mounts,
        retry=step_retry(settings.prefetch),
        security=_RUNTIME_SECURITY,
    )


def kaniko_job(settings: BuildSettings) -> BuildJob:
    """The kaniko build as the template runs it: per-build values as ``{{inputs.parameters.X}}``."""
    return BuildJob(
        paths=KANIKO.paths,
        registry_config=input_ref(p.REGISTRY_MAP),
        # kaniko's flag is the inverse of ours: skip the original registry unless fallback is on.
        skip_fallback=f"{{{{=inputs.parameters.{p.FALLBACK} == 'false'}}}}",
        platform=input_ref(p.PLATFORM),
        target=input_ref(p.TARGET),
        cache=input_ref(p.CACHE),
        cache_repo=input_ref(p.CACHE_REPO),
        proxies=_PROXY_VARIABLES,
        pull_retries=settings.kaniko_retries,
        insecure_registries=settings.insecure_registries,
        registry_certificates=registry_access.certificate_files(settings.registry_ca),
        extra_args=settings.extra_kaniko_args,
    )


def build_template(name: str, settings: BuildSettings, *, context_kind: str) -> Container:
    """The kaniko step: build from the pinned Dockerfile into an OCI layout, without pushing."""
    paths = KANIKO.paths
    (command,) = KANIKO.commands(kaniko_job(settings))
    context_volumes, mounts = _context_volume(context_kind, paths.context)
    volumes: Volumes = list(context_volumes)
    inputs = _parameters(
        p.PINNED_DOCKERFILE,
        p.REGISTRY_MAP,
        p.FALLBACK,
        p.PLATFORM,
        p.TARGET,
        p.CACHE,
        p.CACHE_REPO,
        p.DISABLE_HTTP2,
    )
    inputs.append(
        RawArtifact(name="pinned-dockerfile", path=paths.dockerfile, data=input_ref(p.PINNED_DOCKERFILE))
    )
    outputs: list[Parameter | Artifact] = [_output_file(p.OUT_DIGEST, PushOutputs.DIGEST, paths.output)]
    if isinstance(settings.handoff, PvcHandoff):
        inputs += [Parameter(name=p.HANDOFF_PVC), Parameter(name=p.HANDOFF_SUB_PATH)]
        handoff_volumes, handoff_mounts = _handoff_volume(paths.layout, read_only=False)
        volumes += handoff_volumes
        mounts += handoff_mounts
    else:
        # Layers are gzip already: a second compression costs CPU and saves nothing.
        archive = m.ArchiveStrategy(tar=m.TarStrategy(compression_level=0))
        outputs.append(Artifact(name=IMAGE_ARTIFACT, path=paths.layout, archive=archive))
        # A mounted directory is outside kaniko's snapshots, so the layout never lands in the image.
        volumes.insert(0, EmptyDirVolume(name="image", mount_path=paths.layout))
    return _step(
        name,
        settings,
        settings.build,
        image=p.EXECUTOR_IMAGE,
        command=command.argv[0],
        args=list(command.argv[1:]),
        env=[Env(name="FF_KANIKO_DISABLE_HTTP2", value=input_ref(p.DISABLE_HTTP2))],
        inputs=inputs + _context_inputs(context_kind, paths.context),
        outputs=outputs,
        volumes=volumes,
        mounts=mounts,
        retry=build_retry(settings.build),
        security=_KANIKO_SECURITY,
        output_dir=paths.output,
    )


def push_template(name: str, settings: BuildSettings) -> Container:
    """The push step: push the OCI layout to every destination and prove each serves the digest."""
    timeout = settings.push.timeout_seconds
    argv = PushArgs(
        image=IMAGE_LAYOUT_DIR,
        expected_digest=input_ref(p.OUT_DIGEST),
        output_dir=OUTPUT_DIR,
        # Leave the pod a minute to report before its deadline ends it.
        timeout=float(max(timeout - 60, 60)) if timeout else PushArgs.timeout,
        cert_dir=registry_access.cert_dir(settings.registry_ca),
        insecure_registries=list(settings.insecure_registries),
    ).to_argv(json_values={"destinations": input_ref(p.DESTINATIONS)})
    inputs = _parameters(p.DESTINATIONS, p.OUT_DIGEST)
    volumes: Volumes = []
    mounts: list[m.VolumeMount] = []
    if isinstance(settings.handoff, PvcHandoff):
        inputs += [Parameter(name=p.HANDOFF_PVC), Parameter(name=p.HANDOFF_SUB_PATH)]
        handoff_volumes, mounts = _handoff_volume(IMAGE_LAYOUT_DIR, read_only=True)
        volumes += handoff_volumes
        security = _PVC_PUSH_SECURITY
    else:
        inputs.append(
            Artifact(name=IMAGE_ARTIFACT, path=IMAGE_LAYOUT_DIR, mode=_LAYOUT_MODE, recurse_mode=True)
        )
        security = _RUNTIME_SECURITY
    return _step(
        name,
        settings,
        settings.push,
        image=p.RUNTIME_IMAGE,
        command="hera-imagebuild",
        args=argv,
        inputs=inputs,
        outputs=[
            _output_file(p.OUT_DIGEST, PushOutputs.DIGEST),
            _output_file(p.OUT_IMAGE_REF, PushOutputs.IMAGE_REF),
            _output_file(p.OUT_IMAGE_REFS, PushOutputs.IMAGE_REFS),
        ],
        volumes=volumes,
        mounts=mounts,
        retry=step_retry(settings.push),
        security=security,
    )


def step_templates(prefix: str, settings: BuildSettings, *, context_kind: str) -> StepTemplates:
    """The three pod templates of a build whose templates are named after ``prefix``."""
    return StepTemplates(
        prefetch=prefetch_template(f"{prefix}-prefetch", settings, context_kind=context_kind),
        build=build_template(f"{prefix}-kaniko", settings, context_kind=context_kind),
        push=push_template(f"{prefix}-push", settings),
    )
