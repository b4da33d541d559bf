"""What a check reports: one problem, located by file, document and JSON path."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: A location inside a document: mapping keys and list indexes, outermost first.
JsonPath = tuple[str | int, ...]


def format_path(path: Sequence[str | int]) -> str:
    """Render ``("spec", "templates", 0, "name")`` as ``spec.templates[0].name``.

    The document root renders as ``$``.
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "$"


def path_order(path: Sequence[str | int]) -> tuple[tuple[int, str | int], ...]:
    """A sort key for JSON paths: at each level a list index sorts before a mapping key."""
    return tuple((0, part) if isinstance(part, int) else (1, part) for part in path)


def listing(names: Iterable[str]) -> str:
    """Names for a message, sorted and comma-separated (``none`` when there are none)."""
    return ", ".join(sorted(names)) or "none"


@dataclass(frozen=True)
class Finding:
    """A problem found inside one document, before it is tied to that document."""

    path: JsonPath
    message: str


@dataclass(frozen=True, order=True)
class Problem:
    """One lint problem.

    Attributes:
        file: the file the document came from, as given on the command line.
        kind: the document's ``kind`` (``?`` when it has none).
        name: ``metadata.name`` (or ``generateName``, or ``#N`` for the N-th document of the file).
        path: where in the document, e.g. ``spec.templates[0].retryStrategy.backof``.
        message: what is wrong, in one line.
    """

    file: str
    kind: str
    name: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.kind}/{self.name}: {self.path}: {self.message}"
