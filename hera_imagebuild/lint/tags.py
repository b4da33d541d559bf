"""Argo template tags in strings: ``{{simple.tag}}`` and ``{{=expression}}``.

Argo finds a tag the way ``fasttemplate`` does: from ``{{`` to the next ``}}``. A simple
tag is a variable name (surrounding white-space allowed); an expression tag is an
expr-lang expression whose variables are written ``a.b`` or ``a['b-c']``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

#: First names of the variables Argo defines (variables.md). Tags under other names are
#: left alone, as Argo leaves them: they may belong to a script's own templating.
ARGO_ROOTS = frozenset(
    {
        "inputs",
        "outputs",
        "workflow",
        "tasks",
        "steps",
        "item",
        "pod",
        "node",
        "retries",
        "lastRetry",
        "cronworkflow",
    }
)
_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_QUOTES = "'\"`"


@dataclass(frozen=True)
class Tag:
    """One ``{{...}}`` occurrence.

    Attributes:
        text: the whole tag as written, braces included.
        body: what is between the braces, stripped (without the ``=`` of an expression).
        expression: whether it is an expression tag.
    """

    text: str
    body: str
    expression: bool


@dataclass(frozen=True)
class Reference:
    """A variable an expression reads, as dotted parts (``inputs['a-b']`` gives ``inputs``, ``a-b``).

    Attributes:
        parts: the names, outermost first.
        complete: ``False`` when the expression goes on past ``parts`` in a way a linter cannot
            follow (an index computed at run time), so ``parts`` may be a prefix of the real name.
    """

    parts: tuple[str, ...]
    complete: bool = True


class TagError(ValueError):
    """A string holds a malformed tag."""


def iter_tags(text: str) -> Iterator[Tag]:
    """Yield the tags of ``text`` in order.

    Raises:
        TagError: a ``{{`` has no closing ``}}``.
    """
    start = text.find("{{")
    while start != -1:
        end = text.find("}}", start + 2)
        if end == -1:
            raise TagError(f"'{{{{' without closing '}}}}' in {_excerpt(text[start:])}")
        inner = text[start + 2 : end]
        expression = inner.startswith("=")
        yield Tag(text[start : end + 2], (inner[1:] if expression else inner).strip(), expression)
        start = text.find("{{", end + 2)


def _excerpt(text: str, limit: int = 40) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else f"{flat[:limit]}...")


def expression_references(expression: str) -> list[Reference]:
    """The Argo variables an expression reads (variables under :data:`ARGO_ROOTS` only).

    Raises:
        TagError: unbalanced brackets or an unterminated string literal.
    """
    references: list[Reference] = []
    closing: list[str] = []
    index = 0
    length = len(expression)
    while index < length:
        char = expression[index]
        if char in _QUOTES:
            index = _skip_string(expression, index)
        elif char in _BRACKETS:
            closing.append(_BRACKETS[char])
            index += 1
        elif char in ")]}":
            if not closing or closing.pop() != char:
                raise TagError(f"unbalanced '{char}' in expression")
            index += 1
        elif _is_name_start(char) and not _follows_dot(expression, index):
            name, index = _read_name(expression, index)
            if name in ARGO_ROOTS:
                reference, index = _read_chain(expression, index, name)
                references.append(reference)
        else:
            index += 1
    if closing:
        raise TagError(f"'{closing[-1]}' missing in expression")
    return references


def _is_name_start(char: str) -> bool:
    return char.isalpha() or char == "_"


def _follows_dot(text: str, index: int) -> bool:
    """Whether the name at ``index`` is a member (``x.inputs``) or part of a longer name."""
    before = text[index - 1] if index else ""
    return before == "." or before.isalnum() or before == "_"


def _read_name(text: str, index: int) -> tuple[str, int]:
    end = index
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return text[index:end], end


def _skip_string(text: str, index: int) -> int:
    """Index just past the string literal starting at ``index``."""
    quote = text[index]
    position = index + 1
    while position < len(text):
        if text[position] == "\\" and quote != "`":
            position += 2
        elif text[position] == quote:
            return position + 1
        else:
            position += 1
    raise TagError("unterminated string in expression")


def _read_chain(text: str, index: int, root: str) -> tuple[Reference, int]:
    """Follow ``.name``, ``?.name`` and ``['literal']`` after a root name."""
    parts = [root]
    while index < len(text):
        member = index + 2 if text.startswith("?.", index) else index + 1
        if text[index] == "." or text.startswith("?.", index):
            if member < len(text) and _is_name_start(text[member]):
                name, index = _read_name(text, member)
                parts.append(name)
                continue
            break
        if text[index] == "[":
            inner = index + 1
            while inner < len(text) and text[inner] == " ":
                inner += 1
            if inner < len(text) and text[inner] in "'\"":
                end = _skip_string(text, inner)
                close = end
                while close < len(text) and text[close] == " ":
                    close += 1
                if close < len(text) and text[close] == "]":
                    parts.append(text[inner + 1 : end - 1])
                    index = close + 1
                    continue
            return Reference(tuple(parts), complete=False), index
        break
    return Reference(tuple(parts)), index
