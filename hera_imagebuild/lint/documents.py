"""Reading Argo documents from (multi-document) YAML files."""

from __future__ import annotations

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
        LintInputError: ``text`` is not valid YAML (the message names the file and line).
    """
    try:
        bodies = list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise LintInputError(f"{file}:{where}: not valid YAML: {reason}") from None
    return [Document(file, index, body) for index, body in enumerate(bodies, start=1) if body is not None]


def load_files(paths: Iterable[str | Path]) -> list[Document]:
    """Read and parse every file in ``paths`` (``-`` is not special: give real files).

    Raises:
        LintInputError: a file cannot be read or is not valid YAML.
    """
    documents: list[Document] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise LintInputError(f"{path}: cannot read: {reason}") from None
        documents.extend(parse_documents(text, str(path)))
    return documents


def iter_named(items: Any) -> Iterator[tuple[int, dict[str, Any], str]]:
    """Yield ``(index, item, name)`` for the mappings of a list that have a string ``name``."""
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            yield index, item, item["name"]
