"""The build DAG (prefetch -> build -> push) and the handle a caller gets back.

One function renders the DAG for both ways in: inline builds name it after
the build, the published templates call it ``build``. Its inputs are the
parameters of :mod:`hera_imagebuild.client.params` (with defaults, except the
required ``destinations``) plus, unless the context is a PVC, the input
artifact ``context``.
"""

from __future__ import annotations

from hera.workflows import DAG, Artifact, Container, Parameter, Task
from hera.workflows import models as m

from hera_imagebuild.client import params as p
from hera_imagebuild.client.context import CONTEXT_ARTIFACT
from hera_imagebuild.client.options import BuildSettings, PvcHandoff
from hera_imagebuild.client.params import input_ref
from hera_imagebuild.client.spec import parameter_defaults
from hera_imagebuild.client.steps import BASE_IMAGES, IMAGE_ARTIFACT, step_templates

PREFETCH_TASK = "prefetch"
BUILD_TASK = "build"
PUSH_TASK = "push"


def _task_output(task: str, name: str) -> str:
    return f"{{{{tasks.{task}.outputs.parameters.{name}}}}}"


class BuildHandle(Task):
    """A task that runs a build DAG, with Argo references to the build's outputs.

    It is a Hera :class:`~hera.workflows.Task`, so every dependency form works:
    ``image >> train``, ``[image_a, image_b] >> train``, ``fetch >> image``. Pass
    the output references as task arguments (``arguments={"image": image.image_ref}``).
    The references are built from the task's name because ``Task.get_parameter``
    cannot see into a ``templateRef``.
    """

    def _output(self, name: str) -> str:
        return f"{{{{tasks.{self.name}.outputs.parameters.{name}}}}}"

    @property
    def digest(self) -> str:
        """``sha256:...`` of the pushed manifest."""
        return self._output(p.OUT_DIGEST)

    @property
    def image_ref(self) -> str:
        """``registry/repository@sha256:...`` for the first destination."""
        return self._output(p.OUT_IMAGE_REF)

    @property
    def image_refs(self) -> str:
        """JSON list of ``repository@sha256:...``, one per destination."""
        return self._output(p.OUT_IMAGE_REFS)

    @property
    def base_images(self) -> str:
        """JSON list of the base images prefetch pinned (from the prefetch step)."""
        return self._output(BASE_IMAGES)


def dag_inputs(settings: BuildSettings, *, context_kind: str) -> list[Parameter | Artifact]:
    """The DAG's inputs: every build parameter (with its default, when it has one) and the context."""
    defaults = parameter_defaults()
    names = [
        p.DOCKERFILE,
        p.DESTINATIONS,
        p.BUILD_ARGS,
        p.TARGET,
        p.LABELS,
        p.PLATFORM,
        p.CACHE,
        p.CACHE_REPO,
        p.MIRRORS,
        p.FALLBACK,
        p.PROBE_TIMEOUT,
        p.BASE_IMAGE_CACHE,
        p.HTTP_PROXY,
        p.HTTPS_PROXY,
        p.NO_PROXY,
        p.DOCKER_CONFIG_SECRET,
        p.DISABLE_HTTP2,
        p.EXECUTOR_IMAGE,
        p.RUNTIME_IMAGE,
    ]
    if context_kind == "pvc":
        names += [p.CONTEXT_PVC, p.CONTEXT_SUB_PATH]
    if isinstance(settings.handoff, PvcHandoff):
        defaults[p.HANDOFF_PVC] = settings.handoff.claim_name
        names.append(p.HANDOFF_PVC)
    inputs: list[Parameter | Artifact] = [
        Parameter(name=name, default=defaults[name], description=p.DESCRIPTIONS[name])
        if name in defaults
        else Parameter(name=name, description=p.DESCRIPTIONS[name])
        for name in names
    ]
    if context_kind != "pvc":
        inputs.append(Artifact(name=CONTEXT_ARTIFACT))
    return inputs


def _pass_through(template: Container) -> dict[str, str]:
    """Arguments for ``template``'s inputs that the DAG receives as its own inputs."""
    produced = {p.PINNED_DOCKERFILE, p.REGISTRY_MAP, p.OUT_DIGEST, p.HANDOFF_SUB_PATH}
    return {
        param.name: input_ref(param.name)
        for param in (template.inputs if isinstance(template.inputs, list) else [])
        if isinstance(param, Parameter) and param.name and param.name not in produced
    }


def build_dag(name: str, settings: BuildSettings, *, context_kind: str) -> tuple[DAG, list[Container]]:
    """The build DAG named ``name`` and its three pod templates (named ``<name>-prefetch`` etc.).

    Args:
        name: The DAG template's name; the pod templates use it as their prefix.
        settings: The template shape (resources, retries, handoff, ...).
        context_kind: ``"pvc"`` (context volume from parameters) or ``"artifact"`` (input artifact).
    """
    steps = step_templates(name, settings, context_kind=context_kind)
    context_args = (
        []
        if context_kind == "pvc"
        else [Artifact(name=CONTEXT_ARTIFACT, from_="{{inputs.artifacts.context}}")]
    )
    # Unique per build DAG instance and known to both build and push.
    handoff = {p.HANDOFF_SUB_PATH: f"{{{{workflow.uid}}}}/{{{{tasks.{PREFETCH_TASK}.id}}}}"}
    pvc_handoff = isinstance(settings.handoff, PvcHandoff)

    prefetch = Task(
        name=PREFETCH_TASK,
        template=steps.prefetch,
        arguments=[*_params(_pass_through(steps.prefetch)), *context_args],
    )
    build_args = {
        **_pass_through(steps.build),
        p.PINNED_DOCKERFILE: _task_output(PREFETCH_TASK, p.PINNED_DOCKERFILE),
        p.REGISTRY_MAP: _task_output(PREFETCH_TASK, p.REGISTRY_MAP),
        **(handoff if pvc_handoff else {}),
    }
    build = Task(name=BUILD_TASK, template=steps.build, arguments=[*_params(build_args), *context_args])
    push_args = {
        **_pass_through(steps.push),
        p.OUT_DIGEST: _task_output(BUILD_TASK, p.OUT_DIGEST),
        **(handoff if pvc_handoff else {}),
    }
    image_args = (
        []
        if pvc_handoff
        else [Artifact(name=IMAGE_ARTIFACT, from_=f"{{{{tasks.{BUILD_TASK}.outputs.artifacts.image}}}}")]
    )
    push = Task(name=PUSH_TASK, template=steps.push, arguments=[*_params(push_args), *image_args])
    build.depends = PREFETCH_TASK
    push.depends = BUILD_TASK
    outputs = [
        Parameter(name=out, value_from=m.ValueFrom(parameter=_task_output(PUSH_TASK, out)))
        for out in p.OUTPUTS
    ]
    outputs.append(
        Parameter(
            name=BASE_IMAGES, value_from=m.ValueFrom(parameter=_task_output(PREFETCH_TASK, BASE_IMAGES))
        )
    )
    dag = DAG(
        name=name,
        inputs=dag_inputs(settings, context_kind=context_kind),
        outputs=outputs,
        tasks=[prefetch, build, push],
    )
    return dag, [steps.prefetch, steps.build, steps.push]


def _params(values: dict[str, str]) -> list[Parameter]:
    return [Parameter(name=name, value=value) for name, value in values.items()]
