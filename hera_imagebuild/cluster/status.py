"""Reading a Workflow's status: steps, attempts, failures and the images a build produced.

Works on the Workflow object as either API returns it (a dict), so the
Kubernetes and Argo Server backends share it. Argo keeps one node per DAG
task, one ``Retry`` node per step with a ``retryStrategy``, and one ``Pod``
node per attempt below it; a step here is a ``Retry`` node, or a ``Pod`` node
that no ``Retry`` node owns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

TERMINAL_PHASES = frozenset({"Succeeded", "Failed", "Error"})
FAILED_PHASES = frozenset({"Failed", "Error"})

# The build DAG's output parameters (see hera_imagebuild.client.published).
OUTPUT_DIGEST = "digest"
OUTPUT_IMAGE_REF = "image-ref"
OUTPUT_IMAGE_REFS = "image-refs"


def _time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _elapsed(started: object, finished: object, now: datetime) -> float | None:
    start = _time(started)
    if start is None:
        return None
    end = _time(finished) or now
    return max(0.0, (end - start).total_seconds())


def _parameters(node: dict[str, Any]) -> dict[str, str]:
    params = (node.get("outputs") or {}).get("parameters") or []
    return {str(p.get("name")): str(p.get("value", "")) for p in params if isinstance(p, dict)}


@dataclass(frozen=True)
class Attempt:
    """One pod run of a step."""

    phase: str
    message: str
    exit_code: str | None


@dataclass(frozen=True)
class Step:
    """One step of a workflow (a retried step counts once, with its attempts).

    Attributes:
        path: Dotted position below the workflow, e.g. ``build.push``.
        template: The template it runs.
        phase: Argo's node phase (``Pending``, ``Running``, ``Succeeded``, ``Failed``, ``Error``).
        message: Argo's node message (for a failed step, the reason).
        elapsed: Seconds from start to finish (or to now, while it runs).
        attempts: Pod runs, oldest first; one for a step without retries.
    """

    path: str
    template: str
    phase: str
    message: str
    elapsed: float | None
    attempts: tuple[Attempt, ...] = ()

    @property
    def retry_reasons(self) -> list[str]:
        """Why each earlier attempt failed (the messages of all attempts but a running or last one)."""
        return [a.message or a.phase for a in self.attempts[:-1] if a.phase in FAILED_PHASES]


@dataclass(frozen=True)
class BuildOutput:
    """The image one build produced (the outputs of its DAG node).

    Attributes:
        task: Dotted position of the build in the workflow, e.g. ``build``.
        digest: ``sha256:...``.
        image_ref: ``repo@sha256:...`` for the first destination.
        image_refs: One ``repo@sha256:...`` per destination.
    """

    task: str
    digest: str
    image_ref: str
    image_refs: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class WorkflowState:
    """A snapshot of a workflow's progress."""

    name: str
    namespace: str
    phase: str
    message: str
    elapsed: float | None
    steps: tuple[Step, ...]
    outputs: tuple[BuildOutput, ...]

    @property
    def done(self) -> bool:
        """Whether the workflow has finished (succeeded or not)."""
        return self.phase in TERMINAL_PHASES

    @property
    def succeeded(self) -> bool:
        """Whether the workflow has finished successfully."""
        return self.phase == "Succeeded"

    @property
    def failed_steps(self) -> list[Step]:
        """The steps that failed for good (their last attempt failed)."""
        return [s for s in self.steps if s.phase in FAILED_PHASES]


def _path(node: dict[str, Any], root_name: str) -> str:
    name = str(node.get("name", ""))
    path = name.removeprefix(f"{root_name}.") if name != root_name else str(node.get("displayName", name))
    return path


def workflow_state(workflow: dict[str, Any], *, now: datetime | None = None) -> WorkflowState:
    """A :class:`WorkflowState` from a Workflow object as the API returns it."""
    now = now or datetime.now(timezone.utc)
    metadata = workflow.get("metadata") or {}
    status = workflow.get("status") or {}
    name = str(metadata.get("name", ""))
    nodes: dict[str, dict[str, Any]] = {
        k: v for k, v in (status.get("nodes") or {}).items() if isinstance(v, dict)
    }
    owned_by_retry = {
        child
        for node in nodes.values()
        if node.get("type") == "Retry"
        for child in node.get("children") or []
    }
    steps: list[tuple[str, Step]] = []  # (startedAt, step): steps are listed in start order
    outputs: list[BuildOutput] = []
    for node_id, node in nodes.items():
        kind = node.get("type")
        path = _path(node, name)
        if kind == "Retry" or (kind == "Pod" and node_id not in owned_by_retry):
            children = node.get("children") or [] if kind == "Retry" else [node_id]
            attempts = tuple(
                Attempt(
                    phase=str(nodes[c].get("phase", "")),
                    message=str(nodes[c].get("message", "")),
                    exit_code=(nodes[c].get("outputs") or {}).get("exitCode"),
                )
                for c in children
                if c in nodes
            )
            steps.append(
                (
                    str(node.get("startedAt") or "~"),
                    Step(
                        path=path,
                        template=str(
                            node.get("templateName") or (node.get("templateRef") or {}).get("template", "")
                        ),
                        phase=str(node.get("phase", "")),
                        message=str(node.get("message", "")),
                        elapsed=_elapsed(node.get("startedAt"), node.get("finishedAt"), now),
                        attempts=attempts,
                    ),
                )
            )
        params = _parameters(node)
        if kind in ("DAG", "Steps") and OUTPUT_IMAGE_REF in params:
            outputs.append(
                BuildOutput(
                    task=path,
                    digest=params.get(OUTPUT_DIGEST, ""),
                    image_ref=params[OUTPUT_IMAGE_REF],
                    image_refs=_refs(params.get(OUTPUT_IMAGE_REFS, ""), params[OUTPUT_IMAGE_REF]),
                )
            )
    return WorkflowState(
        name=name,
        namespace=str(metadata.get("namespace", "")),
        phase=str(status.get("phase") or "Pending"),
        message=str(status.get("message", "")),
        elapsed=_elapsed(status.get("startedAt"), status.get("finishedAt"), now),
        steps=tuple(step for _, step in sorted(steps, key=lambda pair: (pair[0], pair[1].path))),
        outputs=tuple(sorted(outputs, key=lambda o: o.task)),
    )


def _refs(text: str, first: str) -> tuple[str, ...]:
    try:
        value = json.loads(text) if text else None
    except ValueError:
        value = None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return (first,)
