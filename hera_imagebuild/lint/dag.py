"""DAG task dependencies: parsing ``depends`` and finding cycles and ancestors."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

#: Results a ``depends`` operand may test (``task.Succeeded``); a bare name means success.
TASK_RESULTS = frozenset(
    {"Succeeded", "Failed", "Errored", "Skipped", "Omitted", "Daemoned", "AnySucceeded", "AllFailed"}
)
_TOKEN = re.compile(r"\s*(?:(?P<op>&&|\|\||!|\(|\))|(?P<operand>[A-Za-z0-9_.\-]+))")


def parse_depends(expression: str) -> list[str]:
    """The task names a ``depends`` expression (``a && (b.Failed || !c)``) mentions, in order.

    Raises:
        ValueError: the expression has an unexpected character, unbalanced parentheses or an
            unknown result (the message says which).
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
    return names


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """One dependency cycle as ``[a, b, ..., a]`` (``a`` depends on ``b``...), or ``None``."""
    done: set[str] = set()
    for start in graph:
        if start in done:
            continue
        # Iterative depth-first search: DAGs can be deep, recursion limits are not.
        trail = [start]
        pending = [iter(graph[start])]
        while pending:
            step = next(pending[-1], None)
            if step is None:
                pending.pop()
                done.add(trail.pop())
            elif step in trail:
                return [*trail[trail.index(step) :], step]
            elif step in graph and step not in done:
                trail.append(step)
                pending.append(iter(graph[step]))
    return None


def ancestors(graph: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
    """Every task's transitive dependencies (edges to unknown tasks are ignored; cycles tolerated)."""
    result: dict[str, frozenset[str]] = {}
    for node in graph:
        seen: set[str] = set()
        queue = [parent for parent in graph[node] if parent in graph]
        while queue:
            parent = queue.pop()
            if parent not in seen:
                seen.add(parent)
                queue.extend(grand for grand in graph[parent] if grand in graph)
        result[node] = frozenset(seen)
    return result
