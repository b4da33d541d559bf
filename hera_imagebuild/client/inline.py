"""Inline builds: a build DAG inside your own Hera workflow.

Create an :class:`ImageBuild` once (module level, like any Hera template) and
call it inside a ``DAG`` context; each call adds a task and returns a
:class:`~hera_imagebuild.client.dag.BuildHandle`::

    trainer_image = ImageBuild(name="trainer-image", spec=BuildSpec(...))

    with Workflow(generate_name="train-", entrypoint="pipeline") as w:
        with DAG(name="pipeline"):
            image = trainer_image()
            image >> train(arguments={"image": image.image_ref})
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hera.workflows import DAG, Artifact, Container, Parameter, Workflow
from hera.workflows._context import _context

from hera_imagebuild.client import validation as v
from hera_imagebuild.client.dag import BuildHandle, build_dag
from hera_imagebuild.client.spec import BuildSpec


@contextmanager
def _outside_hera_context() -> Iterator[None]:
    # Templates add themselves to an active Hera context when created; these
    # are added explicitly, once, when the build is first called.
    saved = _context.pieces
    _context.pieces = []
    try:
        yield
    finally:
        _context.pieces = saved


def task_arguments(spec: BuildSpec) -> list[Parameter | Artifact]:
    """The arguments of a task that runs the build DAG for ``spec``."""
    args: list[Parameter | Artifact] = [Parameter(name=n, value=val) for n, val in spec.arguments().items()]
    artifact = spec.context_artifact()
    if artifact is not None:
        args.append(artifact)
    return args


class ImageBuild:
    """One image build as a reusable Hera template: a DAG with prefetch, build and push.

    Its templates are named after ``name`` (``<name>``, ``<name>-prefetch``,
    ``<name>-kaniko``, ``<name>-push``), so several builds in one workflow never
    collide; two different builds with the same name are an error.

    Args:
        spec: What to build.
        name: DNS-1123 label (at most 50 characters) naming the build's templates.
    """

    def __init__(self, spec: BuildSpec, *, name: str) -> None:
        self.spec = spec
        self.name = v.dns_label("name", name, max_length=50)
        with _outside_hera_context():
            self.dag, self.steps = build_dag(name, spec.settings, context_kind=spec.context.kind)

    @property
    def templates(self) -> list[DAG | Container]:
        """The build's templates: the DAG first, then its three pod templates."""
        return [self.dag, *self.steps]

    def add_templates(self, workflow: Workflow) -> None:
        """Add this build's templates to ``workflow`` (once; a clash with another build's raises)."""
        existing = {t.name: t for t in workflow.templates if hasattr(t, "name")}
        for template in self.templates:
            found = existing.get(template.name)
            if found is None:
                workflow.templates.append(template)
            elif found is not template:
                raise ValueError(
                    f"name: {self.name!r} is not valid here; the workflow already has a template named "
                    f"{template.name!r} from another build or template: give each ImageBuild its own name"
                )

    def __call__(self, name: str | None = None, **task_kwargs: object) -> BuildHandle:
        """Add the build as a task of the DAG being declared and return its handle.

        Args:
            name: The task's name (default: the build's name).
            **task_kwargs: More :class:`~hera.workflows.Task` fields (``when``, ``depends``, ...).
        """
        pieces = _context.pieces
        if not pieces or not isinstance(pieces[0], Workflow) or not isinstance(pieces[-1], DAG):
            raise RuntimeError(
                f"ImageBuild {self.name!r} was called outside a DAG: call it inside "
                "'with Workflow(...):' and 'with DAG(...):'"
            )
        self.add_templates(pieces[0])
        return BuildHandle(
            name=v.dns_label("task name", name or self.name),
            template=self.dag,
            arguments=task_arguments(self.spec),
            **task_kwargs,  # type: ignore[arg-type]
        )
