"""Linting documents: the schema check, the unknown-key check and the reference check together."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path

from hera_imagebuild.lint.documents import API_VERSION, WORKFLOW_KINDS, Document, load_files
from hera_imagebuild.lint.keys import unknown_keys
from hera_imagebuild.lint.problem import Finding, Problem, path_order
from hera_imagebuild.lint.references import TemplateRegistry, check_references
from hera_imagebuild.lint.rules import check_rules
from hera_imagebuild.lint.schema import ArgoSchema, select_schemas, validate_with_schemas


def skipped_documents(documents: Iterable[Document]) -> list[Document]:
    """The documents lint passes over: other kinds (ConfigMaps, PVCs...) that files often carry along."""
    return [document for document in documents if _is_other_kind(document)]


def _is_other_kind(document: Document) -> bool:
    # A kind one typo away from a workflow kind is a mistake, not another kind.
    kind = document.kind
    return kind not in (*WORKFLOW_KINDS, "?") and not difflib.get_close_matches(
        kind, WORKFLOW_KINDS, n=1, cutoff=0.8
    )


def _document_findings(document: Document) -> list[Finding] | None:
    """Problems that make the other checks pointless (``None`` when there are none)."""
    body = document.body
    if not isinstance(body, dict):
        return [Finding((), f"a document must be a mapping, got {type(body).__name__}")]
    if _is_other_kind(document):
        return []
    if document.kind not in WORKFLOW_KINDS:
        return [
            Finding(
                ("kind",),
                f"kind {body.get('kind')!r} is not an Argo workflow kind "
                f"(accepted: {', '.join(WORKFLOW_KINDS)})",
            )
        ]
    if body.get("apiVersion") != API_VERSION:
        return [Finding(("apiVersion",), f"apiVersion {body.get('apiVersion')!r}: expected {API_VERSION!r}")]
    return None


def _sort_key(finding: Finding) -> tuple[tuple[tuple[int, str | int], ...], str]:
    return path_order(finding.path), finding.message


def lint_documents(
    documents: Sequence[Document],
    *,
    schemas: Sequence[ArgoSchema] = (),
    references: Iterable[Document] = (),
    allow_unresolved_refs: bool = False,
    argo_version: str | None = None,
) -> list[Problem]:
    """Lint Argo documents and return every problem (an empty list when they are clean).

    Documents of other kinds are passed over (see :func:`skipped_documents`).

    Args:
        documents: the documents to lint (see :func:`~hera_imagebuild.lint.documents.load_files`).
        schemas: Argo JSON schemas to validate against (see
            :func:`~hera_imagebuild.lint.schema.load_schemas`); none skips the schema check.
        references: further WorkflowTemplates/ClusterWorkflowTemplates that ``templateRef``s may
            name; they are not linted themselves.
        allow_unresolved_refs: accept a ``templateRef`` to a template that is in neither
            ``documents`` nor ``references`` (its template name and arguments go unchecked).
        argo_version: the Argo release to lint for (one of ``ARGO_VERSIONS``): only its schemas
            are used and only its fields are known. ``None``: every schema given, and only the
            fields every release has.

    Returns:
        The problems, document by document in the given order, by JSON path inside a document.

    Raises:
        LintInputError: schemas were given, but none of ``argo_version``.
    """
    schemas = select_schemas(schemas, argo_version)
    registry = TemplateRegistry([*references, *documents])
    problems: list[Problem] = []
    for document in documents:
        findings = _document_findings(document)
        if findings is None:
            findings = [
                *validate_with_schemas(schemas, document.kind, document.body),
                *unknown_keys(document.kind, document.body, argo_version),
                *check_references(document, registry, allow_unresolved_refs=allow_unresolved_refs),
                *check_rules(document),
            ]
        problems.extend(document.problem(finding) for finding in sorted(set(findings), key=_sort_key))
    return problems


def lint_files(
    paths: Iterable[str | Path],
    *,
    schemas: Sequence[ArgoSchema] = (),
    references: Iterable[str | Path] = (),
    allow_unresolved_refs: bool = False,
    argo_version: str | None = None,
) -> list[Problem]:
    """Read YAML files (multi-document allowed) and lint them; see :func:`lint_documents`.

    Raises:
        LintInputError: a file cannot be read or is not valid YAML, or no schema is of ``argo_version``.
    """
    return lint_documents(
        load_files(paths),
        schemas=schemas,
        references=load_files(references),
        allow_unresolved_refs=allow_unresolved_refs,
        argo_version=argo_version,
    )
