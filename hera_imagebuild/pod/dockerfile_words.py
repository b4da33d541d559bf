r"""Dockerfile words: splitting, variable expansion and quoting.

The rules follow BuildKit's shell lexer for the parts that decide which base
images a build pulls: quotes, the escape character (``\`` or the one set by
``# escape=``), ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
``${VAR:+alt}`` and ``${VAR+alt}``. Anything fancier (pattern substitution,
``${VAR:?err}``) is refused rather than guessed at, and so is nesting or a
value beyond the limits in :mod:`~hera_imagebuild.pod.dockerfile_limits`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from hera_imagebuild.pod.dockerfile_limits import MAX_EXPANDED_CHARS, MAX_EXPANSION_DEPTH

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ExpansionError(ValueError):
    """A word whose variables cannot be expanded."""


class UndefinedVariableError(ExpansionError):
    """A variable that has no value, where one is required."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"variable {name!r} is not defined")


@dataclass(frozen=True)
class Word:
    """A whitespace-separated word of an instruction, with its position.

    Attributes:
        start: Index of the first character in the instruction text.
        end: Index just past the last character.
        raw: The word as written (quotes and escapes kept).
    """

    start: int
    end: int
    raw: str


def split_words(text: str, escape: str, start: int = 0) -> list[Word]:
    """Split ``text[start:]`` on white space outside quotes.

    Unbalanced quotes run to the end of the text, as a shell command that
    BuildKit passes on unparsed would.
    """
    words: list[Word] = []
    i, n = start, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        begin, quote = i, ""
        while i < n and (quote or not text[i].isspace()):
            ch = text[i]
            if ch == escape and quote != "'":
                i += 2
                continue
            if quote and ch == quote:
                quote = ""
            elif not quote and ch in "'\"":
                quote = ch
            i += 1
        i = min(i, n)
        words.append(Word(begin, i, text[begin:i]))
    return words


def _closing_brace(text: str, start: int, escape: str) -> int:
    """Index of the ``}`` that closes the ``${`` whose body starts at ``start``."""
    depth, i = 1, start
    while i < len(text):
        ch = text[i]
        if ch == escape:
            i += 2
            continue
        if text.startswith("${", i):
            depth += 1
            # Refused here, before any recursion: each level expands its operand once more.
            if depth > MAX_EXPANSION_DEPTH:
                raise ExpansionError(f"'${{' is nested more than {MAX_EXPANSION_DEPTH} levels deep")
            i += 2
            continue
        if ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ExpansionError(f"'${{' without a closing '}}' in {text!r}")


class _Output:
    """Expanded text, refused as soon as it grows past :data:`MAX_EXPANDED_CHARS`."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, text: str) -> None:
        self.size += len(text)
        if self.size > MAX_EXPANDED_CHARS:
            raise ExpansionError(f"the value is longer than {MAX_EXPANDED_CHARS} characters once expanded")
        self.parts.append(text)


class _Expander:
    def __init__(self, env: Mapping[str, str], escape: str, strict: bool) -> None:
        self.env = env
        self.escape = escape
        self.strict = strict

    def word(self, text: str) -> str:
        out = _Output()
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch == self.escape:
                out.add(text[i + 1 : i + 2] or ch)
                i += 2
            elif ch == "'":
                end = text.find("'", i + 1)
                end = n if end < 0 else end
                out.add(text[i + 1 : end])
                i = end + 1
            elif ch == '"':
                i = self._double_quoted(text, i + 1, out)
            elif ch == "$":
                i = self._dollar(text, i, out)
            else:
                out.add(ch)
                i += 1
        return "".join(out.parts)

    def _double_quoted(self, text: str, i: int, out: _Output) -> int:
        n = len(text)
        while i < n and text[i] != '"':
            ch = text[i]
            if ch == self.escape and i + 1 < n and text[i + 1] in ('"', "$", self.escape):
                out.add(text[i + 1])
                i += 2
            elif ch == "$":
                i = self._dollar(text, i, out)
            else:
                out.add(ch)
                i += 1
        return i + 1

    def _dollar(self, text: str, i: int, out: _Output) -> int:
        if text.startswith("${", i):
            end = _closing_brace(text, i + 2, self.escape)
            out.add(self._braced(text[i + 2 : end]))
            return end + 1
        match = _NAME.match(text, i + 1)
        if not match:
            out.add("$")
            return i + 1
        out.add(self._lookup(match.group()))
        return match.end()

    def _lookup(self, name: str) -> str:
        if name in self.env:
            return self.env[name]
        if self.strict:
            raise UndefinedVariableError(name)
        return ""

    def _braced(self, body: str) -> str:
        match = _NAME.match(body)
        if not match:
            raise ExpansionError(f"'${{{body}}}' is not a variable name")
        name, rest = match.group(), body[match.end() :]
        if not rest:
            return self._lookup(name)
        operator = rest[:2] if rest.startswith(":") else rest[:1]
        operand = rest[len(operator) :]
        value = self.env.get(name)
        if operator in (":-", "-"):
            unset = value is None or (operator == ":-" and value == "")
            return self.word(operand) if unset else str(value)
        if operator in (":+", "+"):
            is_set = value is not None and (operator == "+" or value != "")
            return self.word(operand) if is_set else ""
        raise ExpansionError(
            f"'${{{body}}}' uses an operator this parser does not evaluate; "
            "supported: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:+alt}, ${VAR+alt}"
        )


def expand(text: str, env: Mapping[str, str], *, escape: str = "\\", strict: bool = False) -> str:
    """Expand variables and remove quotes and escapes in one Dockerfile word.

    Args:
        text: The word as written.
        env: Variable values in scope.
        escape: The Dockerfile's escape character.
        strict: Raise :class:`UndefinedVariableError` for a variable without a
            value instead of expanding it to an empty string (Docker's rule).

    Raises:
        ExpansionError: For an expansion this parser cannot evaluate, ``${``
            nested more than :data:`MAX_EXPANSION_DEPTH` deep or a result
            longer than :data:`MAX_EXPANDED_CHARS`.
    """
    return _Expander(env, escape, strict).word(text)


def quote(value: str, escape: str = "\\") -> str:
    """Quote ``value`` so that :func:`expand` (and BuildKit) read it back unchanged.

    Raises:
        ValueError: If ``value`` contains a line break, which no Dockerfile
            instruction line can carry.
    """
    if "\n" in value or "\r" in value:
        raise ValueError("a line break cannot be written into a Dockerfile instruction")
    escaped = "".join(escape + ch if ch in ('"', "$", escape) else ch for ch in value)
    return f'"{escaped}"'
