"""Per-step and template-shape options of a build: resources, timeouts, retries, handoff, pod security.

These settle the *shape* of the rendered templates (they are not DAG
parameters): an inline build renders them per build, and the published
template carries the defaults (render your own with
:func:`hera_imagebuild.client.published.cluster_workflow_template` to change them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from hera.workflows import Resources
from hera.workflows.models import Toleration

from hera_imagebuild.client import validation as v
from hera_imagebuild.client.registry_access import RegistryCA, insecure_registries

OWNED_KANIKO_FLAGS = frozenset(
    {
        "dockerfile",
        "context",
        "context-sub-path",
        "destination",
        "no-push",
        "tar-path",
        "oci-layout-path",
        "digest-file",
        "image-name-with-digest-file",
        "image-name-tag-with-digest-file",
        "registry-map",
        "registry-mirror",
        "skip-default-registry-fallback",
        "custom-platform",
        "target",
        "cache",
        "cache-repo",
        "build-arg",
        "label",
        "log-format",
        "image-download-retry",
        "image-fs-extract-retry",
        "bucket",
        "git",
        "dryrun",
    }
)
"""kaniko flags the build template sets itself (or that would bypass prefetch): not allowed as extras."""

_REGISTRY_ACCESS_FLAGS = {"insecure-registry": "insecure_registries", "registry-certificate": "registry_ca"}
"""kaniko flags that must agree with prefetch and push: set through these settings instead."""


POD_START_ALLOWANCE = 120
"""Seconds an attempt may spend before its pod's ``activeDeadlineSeconds`` starts to count
(scheduling, Argo's requeue), on top of its timeout, when ``maxDuration`` is derived."""


@dataclass(kw_only=True, frozen=True)
class RetryPolicy:
    """How often a step is retried and how long Argo waits in between.

    Attributes:
        limit: Retries after the first attempt (0 = never retry).
        backoff: First wait (``"10s"``, ``"1m"``).
        factor: Each wait is the previous one times this.
        max_duration: Stop retrying once this much time has passed since the first attempt.
            ``None`` (the default): long enough for every attempt to get the step's whole
            timeout (:meth:`StepOptions.max_duration`).
        cap: Upper bound of a single wait (Argo 3.7+; ``None`` to omit for older controllers).
    """

    limit: int
    backoff: str = "10s"
    factor: int = 2
    max_duration: str | None = None
    cap: str | None = "5m"

    def __post_init__(self) -> None:
        v.positive_int("retry.limit", self.limit, minimum=0)
        v.duration("retry.backoff", self.backoff)
        v.positive_int("retry.factor", self.factor)
        if self.max_duration is not None:
            v.duration("retry.max_duration", self.max_duration)
        if self.cap is not None:
            v.duration("retry.cap", self.cap)

    def waits_seconds(self) -> float:
        """The seconds Argo waits between attempts, all retries together.

        Before attempt n+1 Argo waits ``backoff * factor**(n-1)``, at most ``cap``
        (``processNodeRetries`` in Argo's workflow/controller/operator.go).
        """
        base = v.duration_seconds("retry.backoff", self.backoff)
        cap = v.duration_seconds("retry.cap", self.cap) if self.cap is not None else float("inf")
        return sum(min(cap, base * float(self.factor) ** retry) for retry in range(self.limit))


@dataclass(kw_only=True, frozen=True)
class StepOptions:
    """Resources, timeout and retries of one step's pod.

    Attributes:
        cpu: CPU request (``"500m"``, ``"2"``).
        memory: Memory request (``"512Mi"``).
        cpu_limit: CPU limit (``None``: none).
        memory_limit: Memory limit (``None``: none).
        ephemeral_storage: Ephemeral storage request (``None``: none).
        timeout_seconds: ``activeDeadlineSeconds`` of each attempt's pod.
        retry: The step's retry policy.
    """

    cpu: str | None = None
    memory: str | None = None
    cpu_limit: str | None = None
    memory_limit: str | None = None
    ephemeral_storage: str | None = None
    timeout_seconds: int | None = None
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(limit=3))

    def __post_init__(self) -> None:
        for name in ("cpu", "memory", "cpu_limit", "memory_limit", "ephemeral_storage"):
            value = getattr(self, name)
            if value is not None:
                v.quantity(name, value)
        if self.timeout_seconds is not None:
            v.positive_int("timeout_seconds", self.timeout_seconds)
        given = self.retry.max_duration
        needed = self.retries_need_seconds()
        if (
            given is not None
            and needed is not None
            and v.duration_seconds("retry.max_duration", given) < needed
        ):
            raise v.invalid(
                "retry.max_duration",
                given,
                f"at least {needed}s: Argo counts it from the first attempt's start and gives later "
                f"attempts only what is left of it, so {self.retry.limit + 1} attempts of "
                f"timeout_seconds={self.timeout_seconds} and the waits between them need {needed}s; "
                "raise it, lower retry.limit or timeout_seconds, or leave it unset to have it derived",
            )

    def retries_need_seconds(self) -> int | None:
        """Seconds from the first attempt's start until the last may end (``None``: no timeout).

        Every attempt's own deadline plus :data:`POD_START_ALLOWANCE`, and the waits in between.
        """
        if self.timeout_seconds is None:
            return None
        attempts = self.retry.limit + 1
        return math.ceil(attempts * (self.timeout_seconds + POD_START_ALLOWANCE) + self.retry.waits_seconds())

    def max_duration(self) -> str | None:
        """Argo's ``backoff.maxDuration`` for this step: the policy's, else derived, else none."""
        if self.retry.max_duration is not None:
            return self.retry.max_duration
        needed = self.retries_need_seconds()
        return None if needed is None else f"{needed}s"

    def resources(self) -> Resources | None:
        """The Hera resources of the step's container, or ``None`` when nothing is set."""
        if not any((self.cpu, self.memory, self.cpu_limit, self.memory_limit, self.ephemeral_storage)):
            return None
        return Resources(
            cpu_request=self.cpu,
            memory_request=self.memory,
            cpu_limit=self.cpu_limit,
            memory_limit=self.memory_limit,
            ephemeral_request=self.ephemeral_storage,
        )


DEFAULT_PREFETCH = StepOptions(
    cpu="100m",
    memory="256Mi",
    timeout_seconds=900,
    retry=RetryPolicy(limit=3, backoff="10s", factor=2, cap="2m"),
)
DEFAULT_BUILD = StepOptions(
    cpu="1",
    memory="4Gi",
    # kaniko sets no per-request timeout: a hung or 1 byte/s registry holds the build until this
    # deadline, whose message the retry rule accepts. Large CUDA images: raise it per build.
    timeout_seconds=2700,
    # Argo waits out the first backoff before it reads the retry expression, so a deterministic
    # failure is reported one backoff late: keep the first one short.
    retry=RetryPolicy(limit=2, backoff="15s", factor=2, cap="5m"),
)
DEFAULT_PUSH = StepOptions(
    cpu="250m",
    memory="512Mi",
    timeout_seconds=3600,
    retry=RetryPolicy(limit=4, backoff="15s", factor=2, cap="5m"),
)


@dataclass(kw_only=True, frozen=True)
class ArtifactHandoff:
    """Hand the built image from build to push as an Argo artifact (the default).

    Needs the workflow's artifact repository; works through ``templateRef``; costs
    one upload and one download of the image (stored as an uncompressed tar of the
    already-gzipped layers).
    """

    kind: ClassVar[str] = "artifact"


@dataclass(kw_only=True, frozen=True)
class PvcHandoff:
    """Hand the built image over on an existing ReadWriteMany PVC.

    No artifact repository traffic; the volume must be RWX (build and push pods may
    run on different nodes). Each build writes below ``<workflow uid>/<prefetch node id>``.

    Attributes:
        claim_name: The RWX PVC's name.
    """

    kind: ClassVar[str] = "pvc"
    claim_name: str

    def __post_init__(self) -> None:
        v.dns_subdomain("handoff.claim_name", self.claim_name)


Handoff = ArtifactHandoff | PvcHandoff
"""How build hands the image to push."""

DEFAULT_EXECUTOR_SERVICE_ACCOUNT = "hera-imagebuild-executor"
"""Service account whose token Argo's own containers use when the pod gets none (see docs/usage.md)."""


@dataclass(kw_only=True, frozen=True)
class BuildSettings:
    """Options that shape the rendered templates.

    Attributes:
        prefetch: Resources, timeout, retries of the prefetch step.
        build: Resources, timeout, retries of the kaniko step.
        push: Resources, timeout, retries of the push step.
        node_selector: Node selector for all three pods.
        tolerations: Tolerations for all three pods.
        extra_kaniko_args: More ``--flag[=value]`` arguments for kaniko (not ones the template sets).
        handoff: How build hands the image to push.
        executor_service_account: ``executor.serviceAccountName``: Argo's own containers use its
            token, so the pods need none of their own. ``None`` only with
            ``automount_service_account_token=True``.
        automount_service_account_token: Mount the pod's service-account token into the step
            containers (off by default: a RUN line executes user code as root).
        kaniko_retries: kaniko's own ``--image-download-retry`` and ``--image-fs-extract-retry``
            (small: Argo's retry strategy is the outer loop).
        insecure_registries: Registries (``host[:port]``) reached over plain HTTP by all three
            steps (mirrors, caches, destinations alike); stored normalised, without duplicates.
        registry_ca: CA certificates for registries with privately signed TLS certificates,
            mounted read-only in all three pods (see :mod:`hera_imagebuild.client.registry_access`).
    """

    prefetch: StepOptions = DEFAULT_PREFETCH
    build: StepOptions = DEFAULT_BUILD
    push: StepOptions = DEFAULT_PUSH
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: tuple[Toleration, ...] = ()
    extra_kaniko_args: tuple[str, ...] = ()
    handoff: Handoff = field(default_factory=ArtifactHandoff)
    executor_service_account: str | None = DEFAULT_EXECUTOR_SERVICE_ACCOUNT
    automount_service_account_token: bool = False
    kaniko_retries: int = 2
    insecure_registries: tuple[str, ...] = ()
    registry_ca: RegistryCA | None = None

    def __post_init__(self) -> None:
        for key, value in self.node_selector.items():
            v.label_key("node_selector", key)
            v.label_value(f"node_selector[{key}]", value)
        object.__setattr__(self, "tolerations", tuple(self.tolerations))
        object.__setattr__(self, "extra_kaniko_args", tuple(self.extra_kaniko_args))
        for arg in self.extra_kaniko_args:
            _check_kaniko_arg(arg)
        if self.executor_service_account is not None:
            v.dns_subdomain("executor_service_account", self.executor_service_account)
        elif not self.automount_service_account_token:
            raise ValueError(
                "executor_service_account: None is not valid while automount_service_account_token is False; "
                "Argo refuses such pods: name a service account with a token Secret "
                f"(default {DEFAULT_EXECUTOR_SERVICE_ACCOUNT!r}) or set automount_service_account_token=True"
            )
        v.positive_int("kaniko_retries", self.kaniko_retries, minimum=0)
        hosts = insecure_registries(self.insecure_registries, self.registry_ca)
        object.__setattr__(self, "insecure_registries", hosts)


def _check_kaniko_arg(arg: str) -> None:
    v.literal_text("extra_kaniko_args", arg)
    name = arg[2:].partition("=")[0] if arg.startswith("--") else ""
    if not name or not name.replace("-", "").isalnum() or not name[0].isalpha():
        raise v.invalid(
            "extra_kaniko_args", arg, "a kaniko flag '--name[=value]', such as '--snapshot-mode=redo'"
        )
    if name in _REGISTRY_ACCESS_FLAGS:
        raise v.invalid(
            "extra_kaniko_args",
            arg,
            f"a flag the template does not set itself; set BuildSettings.{_REGISTRY_ACCESS_FLAGS[name]} "
            f"instead, so that prefetch and push reach the registry the same way",
        )
    if name in OWNED_KANIKO_FLAGS:
        raise v.invalid(
            "extra_kaniko_args",
            arg,
            f"a flag the template does not set itself; --{name} is set from the build spec",
        )
