"""Dockerfile lines to instructions, keeping every character's place in the file.

Handles what decides where an instruction starts and ends: parser directives
(``# escape=``), comments, line continuations (with the comment and empty
lines BuildKit skips inside them) and heredocs, whose bodies belong to the
instruction above them. Each instruction keeps the file offset of every
character of its joined text, so a caller can replace a word in place and
leave the rest of the file byte-for-byte unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hera_imagebuild.pod.dockerfile_limits import MAX_DOCKERFILE_CHARS
from hera_imagebuild.pod.dockerfile_words import Word, split_words

INSTRUCTIONS = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
_HEREDOC_INSTRUCTIONS = frozenset({"ADD", "COPY", "RUN"})
# The value is stripped afterwards: "\s*(.*?)\s*" backtracks quadratically over inner white space.
_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=(.*)")
_KNOWN_DIRECTIVES = frozenset({"syntax", "escape", "check"})
_HEREDOC = re.compile(r"\d*<<(-?)(?:\"([^\"]+)\"|'([^']+)'|([^\s<>|&;()'\"]+))")
_MAX_SHOWN = 120
# A problem quotes values that can be as long as the file; the message goes to the log and the
# termination message.
_MAX_PROBLEM = 400
BOM = "\ufeff"
# Only "\n" ends a line (as in BuildKit), not every character str.splitlines() splits on.
_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


class DockerfileError(ValueError):
    """A Dockerfile this parser cannot understand; the message names the line."""

    def __init__(self, line: int, problem: str, text: str = "") -> None:
        self.line = line
        self.problem = _elide(problem, _MAX_PROBLEM)
        shown = _elide(text.strip(), _MAX_SHOWN)
        super().__init__(f"Dockerfile line {line}: {self.problem}" + (f": {shown}" if shown else ""))


def _elide(text: str, limit: int) -> str:
    """``text``, its middle replaced by ``...`` if it is longer than ``limit``."""
    if len(text) <= limit:
        return text
    head = (limit - 3) // 2
    return text[:head] + "..." + text[len(text) - (limit - 3 - head) :]


@dataclass(frozen=True)
class Instruction:
    """One instruction, its continuation lines joined.

    Attributes:
        keyword: The instruction in upper case (``FROM``).
        text: The joined text, keyword included, continuation markers removed.
        line: The 1-based line number where it starts.
        offsets: The file offset of each character of ``text``.
        end: The file offset just past the instruction (its heredoc bodies
            and final line break included).
        escape: The file's escape character.
    """

    keyword: str
    text: str
    line: int
    offsets: tuple[int, ...]
    end: int
    escape: str

    def words(self) -> list[Word]:
        """The instruction's arguments (the keyword excluded)."""
        return split_words(self.text, self.escape)[1:]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The file offsets covered by ``text[start:end]``."""
        return self.offsets[start], self.offsets[end - 1] + 1

    def error(self, problem: str) -> DockerfileError:
        """A :class:`DockerfileError` naming this instruction's line and text."""
        return DockerfileError(self.line, problem, self.text)


@dataclass(frozen=True)
class _Line:
    number: int
    start: int
    content: str  # without the line break
    end: int  # offset after the line break


def _lines(text: str) -> list[_Line]:
    lines, offset = [], 0
    for number, raw in enumerate(_LINE.findall(text), start=1):
        content = raw.rstrip("\r\n")
        start = offset
        if number == 1 and content.startswith(BOM):
            content, start = content[1:], start + 1
        lines.append(_Line(number, start, content, offset + len(raw)))
        offset += len(raw)
    return lines


def _directives(lines: list[_Line]) -> tuple[dict[str, str], int]:
    """The parser directives at the top of the file and the index of the first other line."""
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = _DIRECTIVE.fullmatch(line.content)
        if not match or match.group(1).lower() not in _KNOWN_DIRECTIVES:
            return found, index
        key = match.group(1).lower()
        if key in found:
            raise DockerfileError(line.number, f"parser directive {key!r} is given twice", line.content)
        found[key] = match.group(2).strip()
    return found, len(lines)


def _is_skipped(content: str) -> bool:
    stripped = content.lstrip()
    return not stripped or stripped.startswith("#")


def _heredoc_words(instruction: str, text: str, escape: str) -> list[tuple[str, bool]]:
    """``(terminator, strip_tabs)`` for each heredoc the instruction opens, in order."""
    if instruction not in _HEREDOC_INSTRUCTIONS:
        return []
    found = []
    for word in split_words(text, escape)[1:]:
        if word.raw.startswith("<<<"):
            continue
        match = _HEREDOC.match(word.raw)
        if match:
            found.append((match.group(2) or match.group(3) or match.group(4), match.group(1) == "-"))
    return found


def tokenize(text: str) -> tuple[str, list[Instruction]]:
    """Split a Dockerfile into instructions.

    Args:
        text: The whole Dockerfile.

    Returns:
        The escape character and the instructions in file order.

    Raises:
        DockerfileError: For a bad escape directive, an unknown instruction, an
            unterminated heredoc or a file longer than :data:`MAX_DOCKERFILE_CHARS`.
    """
    if len(text) > MAX_DOCKERFILE_CHARS:
        raise DockerfileError(
            text.count("\n", 0, MAX_DOCKERFILE_CHARS) + 1,
            f"the Dockerfile is longer than {MAX_DOCKERFILE_CHARS} characters (the limit); "
            "the pinned copy has to fit in the build pod's spec",
        )
    lines = _lines(text)
    directives, index = _directives(lines)
    escape = directives.get("escape", "\\")
    if escape not in ("\\", "`"):
        raise DockerfileError(1, f"escape directive {escape!r} is invalid; accepted: '\\' or '`'")
    continuation = re.compile(re.escape(escape) + r"[ \t]*$")
    instructions: list[Instruction] = []
    while index < len(lines):
        first = lines[index]
        index += 1
        if _is_skipped(first.content):
            continue
        chars: list[str] = []
        offsets: list[int] = []
        line = first
        while True:
            marker = continuation.search(line.content)
            content = line.content[: marker.start()] if marker else line.content
            chars.extend(content)
            offsets.extend(range(line.start, line.start + len(content)))
            end = line.end
            if not marker:
                break
            while index < len(lines) and _is_skipped(lines[index].content):
                index += 1
            if index == len(lines) and not "".join(chars).strip():
                break  # a lone continuation: reported below as continuing nothing
            if index == len(lines):
                # Anything appended later (prefetch's LABEL) would become part of this instruction.
                raise DockerfileError(
                    line.number,
                    f"the Dockerfile ends inside a line continuation ('{escape}' at the end of the line, "
                    "nothing after it); remove the trailing escape",
                    line.content,
                )
            line = lines[index]
            index += 1
        joined = "".join(chars)
        if not joined.strip():
            raise DockerfileError(first.number, "a line continuation that continues nothing", first.content)
        keyword = joined.split(maxsplit=1)[0].upper()
        if keyword not in INSTRUCTIONS:
            raise DockerfileError(first.number, f"unknown instruction {keyword!r}", joined)
        for terminator, strip_tabs in _heredoc_words(keyword, joined, escape):
            while True:
                if index == len(lines):
                    raise DockerfileError(
                        first.number, f"heredoc '<<{terminator}' is never terminated", joined
                    )
                body = lines[index]
                index += 1
                end = body.end
                if (body.content.lstrip("\t") if strip_tabs else body.content) == terminator:
                    break
        instructions.append(Instruction(keyword, joined, first.number, tuple(offsets), end, escape))
    return escape, instructions
