"""Which Argo variables exist where: resolving ``{{...}}`` references against their scope."""

from __future__ import annotations

from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hera_imagebuild.lint.documents import iter_named
from hera_imagebuild.lint.problem import listing

_NODE_ATTRIBUTES = ("id", "ip", "status", "exitCode", "startedAt", "finishedAt", "hostNodeName")
_LAST_RETRY = ("exitCode", "status", "duration", "message")
# workflow.<name> without further parts, and workflow.<name>.<anything> (variables.md "Global",
# "Exit Handler"); workflow.parameters and workflow.outputs are resolved on their own.
_WORKFLOW_SCALARS = frozenset(
    {"name", "namespace", "mainEntrypoint", "serviceAccountName", "uid", "priority", "duration"}
    | {"scheduledTime", "status", "failures"}
)
_WORKFLOW_MAPS = frozenset({"annotations", "labels", "creationTimestamp"})


@dataclass(frozen=True)
class Node:
    """A task of a DAG or a step of a steps template, as later references see it.

    Attributes:
        template: how messages name the template it runs.
        parameters: its declared output parameters (``None`` when its template is not known).
        artifacts: its declared output artifacts (``None`` likewise).
    """

    template: str
    parameters: frozenset[str] | None = None
    artifacts: frozenset[str] | None = None


def names(items: Any) -> list[str]:
    """The ``name`` of every mapping in a list (parameters, artifacts, templates...)."""
    return [name for _, _, name in iter_named(items)]


def io_names(template: Mapping[str, Any], section: str, kind: str) -> frozenset[str]:
    """Names declared in ``template[section][kind]``, e.g. ``inputs.parameters``."""
    block = template.get(section)
    return frozenset(names(block.get(kind))) if isinstance(block, dict) else frozenset()


def node_for(template: Mapping[str, Any] | None, label: str) -> Node:
    """The :class:`Node` of a task or step running ``template`` (``None``: not known)."""
    if template is None:
        return Node(label)
    return Node(
        label, io_names(template, "outputs", "parameters"), io_names(template, "outputs", "artifacts")
    )


@dataclass(frozen=True)
class Including:
    """The names of ``base`` and ``name`` too (a task's or step's hooks see the task itself)."""

    base: Container[str]
    name: str

    def __contains__(self, item: object) -> bool:
        return item == self.name or item in self.base


@dataclass(frozen=True)
class EarlierSteps:
    """The steps of groups before ``group`` (``group_of``: step name -> its group's index)."""

    group_of: Mapping[str, int]
    group: int

    def __contains__(self, item: object) -> bool:
        where = self.group_of.get(item) if isinstance(item, str) else None
        return where is not None and where < self.group


@dataclass(frozen=True)
class Scope:
    """What a string at some place in a document may refer to.

    Attributes:
        template: the enclosing template (``None`` outside templates).
        template_name: its name, for messages.
        workflow_parameters: names of the workflow's arguments (``None``: not known, accept any).
        nodes: the tasks (or steps) of the enclosing DAG (steps) template.
        node_root: ``"tasks"`` or ``"steps"`` inside such a template, else ``""``.
        visible: the nodes this place may read (a task's ancestors, earlier step groups);
            ``None`` means all of them (the template's own outputs).
        current: the task or step this place belongs to.
        loop: whether ``item`` is defined here (``withItems``, ``withParam``, ``withSequence``).
    """

    template: Mapping[str, Any] | None = None
    template_name: str = ""
    workflow_parameters: frozenset[str] | None = None
    nodes: Mapping[str, Node] = field(default_factory=dict)
    node_root: str = ""
    visible: Container[str] | None = None
    current: str | None = None
    loop: bool = False


_Resolver = Callable[[list[str], "Scope", bool], None]


class _Unresolved(Exception):
    """Raised inside :func:`resolve` with the reason."""


def resolve(parts: Sequence[str], scope: Scope, *, prefix: bool = False) -> str | None:
    """Why the variable ``parts`` (``["inputs", "parameters", "x"]``) is not defined in ``scope``.

    Args:
        parts: the variable's names. Only Argo's own roots are judged (see ``tags.ARGO_ROOTS``).
        scope: where the variable is used.
        prefix: accept a leading part of a valid name (expressions index into maps).

    Returns:
        ``None`` when the variable resolves, else the reason in a few words.
    """
    resolver = _RESOLVERS.get(parts[0])
    if resolver is None:
        return None
    try:
        resolver(list(parts[1:]), scope, prefix)
    except _Unresolved as reason:
        return str(reason)
    return None


def _need(rest: Sequence[str], count: int, prefix: bool, what: str) -> bool:
    """Whether ``rest`` has ``count`` parts; a short simple tag is an error, a short expression is fine."""
    if len(rest) >= count:
        return True
    if prefix:
        return False
    raise _Unresolved(f"incomplete variable, expected {what}")


def _template(scope: Scope, root: str) -> Mapping[str, Any]:
    if scope.template is None:
        raise _Unresolved(f"'{root}' variables exist only inside a template")
    return scope.template


def _io(section: str) -> _Resolver:
    def check(rest: list[str], scope: Scope, prefix: bool) -> None:
        template = _template(scope, section)
        kinds = ("parameters", "artifacts", "result") if section == "outputs" else ("parameters", "artifacts")
        if not _need(rest, 1, prefix, f"{section}.{'|'.join(kinds)}..."):
            return
        kind = rest[0]
        if kind not in kinds:
            raise _Unresolved(f"unknown {section} kind '{kind}' (accepted: {', '.join(kinds)})")
        if kind == "result" or (kind == "parameters" and len(rest) == 1):
            return  # outputs.result; inputs.parameters is all parameters as JSON
        if not _need(rest, 2, prefix, f"{section}.{kind}.<NAME>"):
            return
        declared = io_names(template, section, kind)
        if rest[1] not in declared:
            singular = kind[:-1]
            raise _Unresolved(
                f"template '{scope.template_name}' declares no {section[:-1]} {singular} '{rest[1]}' "
                f"({section}.{kind}: {listing(declared)})"
            )

    return check


def _workflow(rest: list[str], scope: Scope, prefix: bool) -> None:
    if not _need(rest, 1, prefix, "workflow.<NAME>"):
        return
    head, tail = rest[0], rest[1:]
    if head == "parameters":
        known = scope.workflow_parameters
        if tail and tail[0] != "json" and known is not None and tail[0] not in known:
            raise _Unresolved(
                f"no workflow parameter '{tail[0]}' (spec.arguments.parameters: {listing(known)})"
            )
    elif head == "outputs":
        if _need(tail, 2, prefix, "workflow.outputs.parameters|artifacts.<NAME>") and tail[0] not in (
            "parameters",
            "artifacts",
        ):
            raise _Unresolved(f"unknown workflow output kind '{tail[0]}' (accepted: parameters, artifacts)")
    elif head in _WORKFLOW_SCALARS:
        if tail and not prefix:
            raise _Unresolved(f"workflow.{head} has no field '{tail[0]}'")
    elif head not in _WORKFLOW_MAPS:
        accepted = listing(_WORKFLOW_SCALARS | _WORKFLOW_MAPS | {"parameters", "outputs"})
        raise _Unresolved(f"unknown workflow variable 'workflow.{head}' (known: {accepted})")


def _nodes(root: str) -> _Resolver:
    noun = "task" if root == "tasks" else "step"

    def check(rest: list[str], scope: Scope, prefix: bool) -> None:
        if scope.node_root != root:
            where = "a DAG template" if root == "tasks" else "a steps template"
            raise _Unresolved(f"'{root}' variables exist only inside {where}")
        if not _need(rest, 1, prefix, f"{root}.<NAME>..."):
            return
        name, attributes = rest[0], rest[1:]
        if name == "name" and name not in scope.nodes and scope.current is not None and not attributes:
            return  # tasks.name / steps.name: the current task's own name
        node = scope.nodes.get(name)
        if node is None:
            raise _Unresolved(
                f"no {noun} '{name}' in template '{scope.template_name}' ({root}: {listing(scope.nodes)})"
            )
        if scope.visible is not None and name not in scope.visible:
            if root == "tasks":
                raise _Unresolved(
                    f"task '{scope.current}' does not depend on task '{name}' (add it to depends)"
                )
            raise _Unresolved(
                f"step '{name}' does not run before step '{scope.current}' (it is not in an earlier group)"
            )
        if not _need(attributes, 1, prefix, f"{root}.{name}.outputs... or .status"):
            return
        if attributes[0] in _NODE_ATTRIBUTES:
            return
        if attributes[0] != "outputs":
            raise _Unresolved(
                f"unknown {noun} field '{attributes[0]}' (accepted: outputs, {', '.join(_NODE_ATTRIBUTES)})"
            )
        _node_output(noun, name, node, attributes[1:], prefix)

    return check


def _node_output(noun: str, name: str, node: Node, rest: list[str], prefix: bool) -> None:
    if not _need(rest, 1, prefix, "outputs.result|parameters|artifacts..."):
        return
    kind = rest[0]
    if kind not in ("result", "parameters", "artifacts"):
        raise _Unresolved(f"unknown output kind '{kind}' (accepted: result, parameters, artifacts)")
    if kind == "result" or len(rest) == 1:
        if kind == "artifacts" and not prefix:
            raise _Unresolved("incomplete variable, expected outputs.artifacts.<NAME>")
        return
    declared = node.parameters if kind == "parameters" else node.artifacts
    if declared is not None and rest[1] not in declared:
        raise _Unresolved(
            f"{noun} '{name}' runs template {node.template}, which declares no output {kind[:-1]} "
            f"'{rest[1]}' (outputs.{kind}: {listing(declared)})"
        )


def _item(rest: list[str], scope: Scope, prefix: bool) -> None:
    if not scope.loop:
        raise _Unresolved("'item' exists only in a task or step with withItems, withParam or withSequence")


def _fixed(root: str, accepted: Sequence[str]) -> _Resolver:
    def check(rest: list[str], scope: Scope, prefix: bool) -> None:
        if not _need(rest, 1, prefix, f"{root}.{'|'.join(accepted)}"):
            return
        if rest[0] not in accepted or (len(rest) > 1 and not prefix):
            raise _Unresolved(f"unknown variable '{root}.{'.'.join(rest)}' (accepted: {', '.join(accepted)})")

    return check


def _retries(rest: list[str], scope: Scope, prefix: bool) -> None:
    template = _template(scope, "retries")
    if "retryStrategy" not in template:
        raise _Unresolved(
            f"template '{scope.template_name}' has no retryStrategy, so 'retries' is not defined"
        )


def _anything(rest: list[str], scope: Scope, prefix: bool) -> None:
    """cronworkflow.* is evaluated by the cron controller; its fields are not modelled here."""


_RESOLVERS: dict[str, _Resolver] = {
    "inputs": _io("inputs"),
    "outputs": _io("outputs"),
    "workflow": _workflow,
    "tasks": _nodes("tasks"),
    "steps": _nodes("steps"),
    "item": _item,
    "pod": _fixed("pod", ("name",)),
    "node": _fixed("node", ("name",)),
    "lastRetry": _fixed("lastRetry", _LAST_RETRY),
    "retries": _retries,
    "cronworkflow": _anything,
}
