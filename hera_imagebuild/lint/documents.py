"""Reading Argo documents from (multi-document) YAML files."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hera_imagebuild.lint.problem import Finding, Problem, format_path

try:  # the C loader is several times faster; fall back where libyaml is missing
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):
    """A safe loader that reads timestamps as Kubernetes does: as strings, not datetimes."""


def _timestamp_as_text(loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)

#: Largest file lint reads (Argo objects live in etcd, whose requests are at most 1.5 MiB).
MAX_FILE_BYTES = 8 * 1024 * 1024
#: Largest size of a document with its YAML aliases expanded (see ``_check_expanded_size``).
MAX_EXPANDED_SIZE = 4 * MAX_FILE_BYTES
#: Deepest nesting of mappings and lists lint walks (Argo documents need a few dozen levels).
MAX_DEPTH = 200

#: Kinds the linter checks, all in ``argoproj.io/v1alpha1``.
WORKFLOW_KINDS = ("Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow")
API_VERSION = "argoproj.io/v1alpha1"


class LintInputError(Exception):
    """A file cannot be linted at all: unreadable, or not YAML (a usage error, not a lint problem)."""


@dataclass(frozen=True)
class Document:
    """One YAML document of a file.

    Attributes:
        file: the file name as the user gave it (used in problem lines).
        index: 1-based position of the document in its file.
        body: the parsed document (any YAML value; a mapping for every valid Argo document).
    """

    file: str
    index: int
    body: Any

    @property
    def kind(self) -> str:
        """The document's ``kind``, or ``?`` when it has none."""
        kind = self.body.get("kind") if isinstance(self.body, dict) else None
        return kind if isinstance(kind, str) and kind else "?"

    @property
    def name(self) -> str:
        """``metadata.name``, else ``metadata.generateName``, else ``#<index>``."""
        metadata = self.body.get("metadata") if isinstance(self.body, dict) else None
        if isinstance(metadata, dict):
            for key in ("name", "generateName"):
                value = metadata.get(key)
                if isinstance(value, str) and value:
                    return value
        return f"#{self.index}"

    @property
    def spec(self) -> dict[str, Any]:
        """The workflow spec (``spec``, or ``spec.workflowSpec`` of a CronWorkflow); ``{}`` if absent."""
        spec = self.body.get("spec") if isinstance(self.body, dict) else None
        if self.kind == "CronWorkflow" and isinstance(spec, dict):
            spec = spec.get("workflowSpec")
        return spec if isinstance(spec, dict) else {}

    @property
    def spec_path(self) -> tuple[str, ...]:
        """The JSON path of :attr:`spec`."""
        return ("spec", "workflowSpec") if self.kind == "CronWorkflow" else ("spec",)

    def problem(self, finding: Finding) -> Problem:
        """Tie ``finding`` to this document."""
        return Problem(self.file, self.kind, self.name, format_path(finding.path), finding.message)


def parse_documents(text: str, file: str) -> list[Document]:
    """Parse every non-empty YAML document of ``text``.

    Raises:
        LintInputError: ``text`` is not valid YAML (the message names the file and line), or a
            document expands past :data:`MAX_EXPANDED_SIZE` through aliases, refers to itself, or
            nests deeper than :data:`MAX_DEPTH`.
    """
    try:
        bodies = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise LintInputError(f"{file}:{where}: not valid YAML: {reason}") from None
    documents = [
        Document(file, index, body) for index, body in enumerate(bodies, start=1) if body is not None
    ]
    for document in documents:
        _check_expanded_size(document)
    return documents


def _check_expanded_size(document: Document) -> None:
    """Refuse alias bombs: the size of the document with every alias expanded is bounded.

    The loader shares one object per anchor, so loading is cheap, but every check walks the
    expanded tree. Sizes are computed once per shared object: linear in the file, not in the
    expansion. A size is one per mapping and list plus the length of each string.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[Any, int, bool]] = [(document.body, 1, False)]
    while stack:
        value, depth, finished = stack.pop()
        children = _children(value)
        if children is None:
            continue
        key = id(value)
        if finished:
            active.discard(key)
            sizes[key] = size = 1 + sum(
                sizes[id(child)] if _children(child) is not None else _size(child) for child in children
            )
            if size > MAX_EXPANDED_SIZE:
                raise LintInputError(
                    f"{document.file}: document {document.index} expands to more than "
                    f"{MAX_EXPANDED_SIZE} nodes and characters through YAML aliases (an alias bomb?)"
                )
            continue
        if key in sizes:
            continue
        if key in active:
            raise LintInputError(
                f"{document.file}: document {document.index} refers to itself through a YAML alias"
            )
        if depth > MAX_DEPTH:
            raise LintInputError(
                f"{document.file}: document {document.index} nests deeper than {MAX_DEPTH} levels"
            )
        active.add(key)
        stack.append((value, depth, True))
        stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)


def _children(value: Any) -> list[Any] | None:
    if isinstance(value, dict):
        return [*value.keys(), *value.values()]
    return value if isinstance(value, list) else None


def _size(scalar: Any) -> int:
    return len(scalar) if isinstance(scalar, str) else 1


def _read(path: str | Path) -> str:
    """The text of one file (``-``: standard input), refusing what is not a regular file or too large."""
    if str(path) == "-":
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    else:
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just after.
            descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except OSError as error:
            raise LintInputError(f"{path}: cannot read: {error.strerror or error}") from None
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise LintInputError(
                f"{path}: not a regular file (a FIFO, device or directory): give a file, or - for stdin"
            )
        with os.fdopen(descriptor, "rb") as stream:
            try:
                data = stream.read(MAX_FILE_BYTES + 1)
            except OSError as error:
                raise LintInputError(f"{path}: cannot read: {error.strerror or error}") from None
    if len(data) > MAX_FILE_BYTES:
        raise LintInputError(f"{path}: larger than {MAX_FILE_BYTES} bytes, lint's limit for one file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LintInputError(f"{path}: cannot read: {error}") from None


def load_files(paths: Iterable[str | Path]) -> list[Document]:
    """Read and parse every file in ``paths``; ``-`` is standard input.

    Raises:
        LintInputError: a file cannot be read, is not a regular file, is larger than
            :data:`MAX_FILE_BYTES`, is not valid YAML or holds no document.
    """
    documents: list[Document] = []
    for path in paths:
        found = parse_documents(_read(path), "<stdin>" if str(path) == "-" else str(path))
        if not found:
            raise LintInputError(f"{path}: holds no YAML document (empty file?)")
        documents.extend(found)
    return documents


def iter_named(items: Any) -> Iterator[tuple[int, dict[str, Any], str]]:
    """Yield ``(index, item, name)`` for the mappings of a list that have a string ``name``."""
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            yield index, item, item["name"]
