"""DAG task dependencies: parsing ``depends`` and finding cycles and ancestors."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hera_imagebuild.lint.expressions import EXPR, parse

#: Results a ``depends`` operand may test (``task.Succeeded``); a bare name means success.
TASK_RESULTS = frozenset(
    {"Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed"}
)
_TOKEN = re.compile(r"\s*(?:(?P<op>&&|\|\||!|\(|\))|(?P<operand>[A-Za-z0-9_.\-]+))")


def parse_depends(expression: str) -> list[str]:
    """The task names a ``depends`` expression (``a && (b.Failed || !c)``) mentions, in order.

    Argo evaluates it as an expr expression once every ``-`` in it is a ``_``
    (workflow/controller/dag.go: evaluateDependsLogic), so it must parse as one: a dangling
    ``||`` fails only when the task is about to run.

    Raises:
        ValueError: the expression has an unexpected character, unbalanced parentheses, a
            missing operand or an unknown result (the message says which).
    """
    names: list[str] = []
    depth = 0
    position = 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ValueError(f"unexpected {text[position:].lstrip()[:1]!r} at offset {position}")
        position = match.end()
        operator, operand = match.group("op"), match.group("operand")
        if operator == "(":
            depth += 1
        elif operator == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("unbalanced ')'")
        elif operand is not None:
            name, _, result = operand.partition(".")
            if result and result not in TASK_RESULTS:
                raise ValueError(
                    f"unknown result '{result}' in '{operand}' (accepted: {', '.join(sorted(TASK_RESULTS))})"
                )
            names.append(name)
    if depth:
        raise ValueError("unbalanced '('")
    if text.strip():
        parse(text.replace("-", "_"), EXPR)
    return names


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """One dependency cycle as ``[a, b, ..., a]`` (``a`` depends on ``b``...), or ``None``."""
    done: set[str] = set()
    for start in graph:
        if start in done:
            continue
        # Iterative depth-first search: DAGs can be deep, recursion limits are not.
        trail = [start]
        on_trail = {start}
        pending = [iter(graph[start])]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                pending.pop()
                on_trail.discard(trail[-1])
                done.add(trail.pop())
            elif step in on_trail:
                return [*trail[trail.index(step) :], step]
            elif step in graph and step not in done:
                trail.append(step)
                on_trail.add(step)
                pending.append(iter(graph[step]))
    return None


@dataclass(frozen=True)
class AncestorSet:
    """The tasks one task transitively depends on, as a bit set over the DAG's tasks."""

    bits: Mapping[str, int]
    mask: int

    def __contains__(self, name: object) -> bool:
        bit = self.bits.get(name) if isinstance(name, str) else None
        return bit is not None and bool(self.mask & bit)


def ancestors(graph: Mapping[str, Sequence[str]]) -> dict[str, AncestorSet]:
    """Every task's transitive dependencies (edges to unknown tasks are ignored; cycles tolerated).

    One pass in dependency order, each task's set the union of its parents' (Python integers
    as bit sets): near-linear for chains and fans of thousands of tasks, where a set per task
    would be quadratic.
    """
    bits = {name: 1 << index for index, name in enumerate(graph)}
    masks: dict[str, int] = {}
    for start in graph:
        if start in masks:
            continue
        visiting = {start}
        stack = [(start, iter(graph[start]))]
        while stack:
            node, parents = stack[-1]
            parent = next(parents, None)
            if parent is None:
                stack.pop()
                visiting.discard(node)
                mask = 0
                for known in graph[node]:
                    if known in masks:  # not yet there: unknown, or an edge closing a cycle
                        mask |= masks[known] | bits[known]
                masks[node] = mask
            elif parent in graph and parent not in masks and parent not in visiting:
                visiting.add(parent)
                stack.append((parent, iter(graph[parent])))
    return {name: AncestorSet(bits, masks[name]) for name in graph}
