"""Validation against Argo's official JSON schema (``api/jsonschema/schema.json`` of a release).

The project does not ship the schema: the user points at a file, or at a directory of them
(one per Argo release to stay compatible with). Each file is read, patched and compiled once
per process; validating a typical document then takes a few milliseconds.
"""

from __future__ import annotations

import hashlib
import json
import re
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from hera_imagebuild.lint.documents import WORKFLOW_KINDS, LintInputError
from hera_imagebuild.lint.problem import Finding, JsonPath, path_order

_ARGO_PREFIX = "io.argoproj.workflow.v1alpha1."

#: Definitions replaced before validating, with the reason. Kubernetes decodes both from a
#: JSON string or number, but the generated schema types them as strings only.
PATCHED_DEFINITIONS: dict[str, dict[str, Any]] = {
    # argo-workflows #6060: `limit: 3`, `activeDeadlineSeconds: 60` are valid Argo.
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {"type": ["string", "integer"]},
    # resource.Quantity.UnmarshalJSON parses unquoted numbers too (`cpu: 1`).
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": ["string", "number"]},
}

_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}
_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.\d+)?")
_MAX_MESSAGE = 200
_RESULTS_KEPT = 512  # validation results remembered per schema (oldest dropped first)
_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40


@dataclass
class ArgoSchema:
    """One Argo JSON schema file, patched (see :data:`PATCHED_DEFINITIONS`), with a validator per kind.

    Attributes:
        path: where the schema was read from.
        definitions: the schema's ``definitions``, patched.
    """

    path: Path
    definitions: dict[str, Any]
    _validators: dict[str, Draft202012Validator] = field(default_factory=dict, repr=False)
    _results: dict[str, list[Finding]] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        """How problem lines name this schema: its file name."""
        return self.path.name

    @property
    def version(self) -> str | None:
        """The Argo release (``"3.7"``) in the file name (``schema-v3.7.14.json``), if it names one."""
        match = _VERSION.search(self.path.name)
        return f"{match.group(1)}.{match.group(2)}" if match else None

    def validator(self, kind: str) -> Draft202012Validator:
        """The (cached) validator for documents of ``kind``, one of :data:`WORKFLOW_KINDS`."""
        validator = self._validators.get(kind)
        if validator is None:
            # Validating against the kind's own definition (not the top-level oneOf over all
            # kinds) gives errors about the document instead of "is not valid under any".
            root = {"definitions": self.definitions, "$ref": f"#/definitions/{_ARGO_PREFIX}{kind}"}
            validator = self._validators[kind] = Draft202012Validator(root)
        return validator

    def validate(self, kind: str, body: Any) -> list[Finding]:
        """Every schema violation of ``body`` (a document of ``kind``), in document order.

        Results are remembered by the document's content: test suites and editors lint the
        same rendered templates again and again, and validation is the slow part of lint.
        """
        try:
            key = hashlib.sha256(f"{kind}\0{json.dumps(body, sort_keys=True)}".encode()).hexdigest()
        except (TypeError, ValueError):  # YAML values JSON cannot hold (dates, odd keys): no caching
            return self._validate(kind, body)
        findings = self._results.get(key)
        if findings is None:
            if len(self._results) >= _RESULTS_KEPT:
                self._results.pop(next(iter(self._results)))
            findings = self._results[key] = self._validate(kind, body)
        return list(findings)

    def _validate(self, kind: str, body: Any) -> list[Finding]:
        errors = sorted(
            self.validator(kind).iter_errors(body), key=lambda error: path_order(error.absolute_path)
        )
        return [
            Finding(tuple(error.absolute_path), f"schema {self.label}: {_describe(error)}")
            for error in errors
        ]


def _describe(error: ValidationError) -> str:
    """A one-line message; jsonschema's own messages quote whole sub-documents."""
    if error.validator == "type":
        expected = error.validator_value
        expected_text = " or ".join(expected) if isinstance(expected, list) else str(expected)
        got = _JSON_TYPES.get(type(error.instance), type(error.instance).__name__)
        if got in ("object", "array"):
            return f"expected {expected_text}, got {got}"
        return f"expected {expected_text}, got {got} {_short.repr(error.instance)}"
    message = " ".join(error.message.split())
    if len(message) > _MAX_MESSAGE:
        message = f"{message[: _MAX_MESSAGE - 3]}..."
    return message


@lru_cache(maxsize=16)
def _load(path: Path, _mtime_ns: int, _size: int) -> ArgoSchema:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise LintInputError(f"{path}: cannot read schema: {error}") from None
    except json.JSONDecodeError as error:
        raise LintInputError(f"{path}: schema is not valid JSON: {error}") from None
    definitions = schema.get("definitions") if isinstance(schema, dict) else None
    missing = [kind for kind in WORKFLOW_KINDS if f"{_ARGO_PREFIX}{kind}" not in (definitions or {})]
    if not isinstance(definitions, dict) or missing:
        raise LintInputError(
            f"{path}: not an Argo Workflows JSON schema (no definition for {', '.join(missing)}); "
            "expected api/jsonschema/schema.json of an Argo Workflows release"
        )
    for name, replacement in PATCHED_DEFINITIONS.items():
        if name in definitions:
            definitions[name] = replacement
    return ArgoSchema(path, definitions)


def load_schema(path: str | Path) -> ArgoSchema:
    """Read, patch and compile one schema file; repeated calls for an unchanged file are free.

    Raises:
        LintInputError: the file cannot be read or is not an Argo Workflows JSON schema.
    """
    resolved = Path(path).resolve()
    try:
        stat = resolved.stat()
    except OSError as error:
        raise LintInputError(f"{path}: cannot read schema: {error.strerror}") from None
    return _load(resolved, stat.st_mtime_ns, stat.st_size)


def load_schemas(path: str | Path) -> list[ArgoSchema]:
    """Load one schema file, or every ``*.json`` file of a directory (sorted by name).

    Raises:
        LintInputError: nothing usable at ``path``, or one of the files is not an Argo schema.
    """
    location = Path(path)
    if location.is_dir():
        files = sorted(location.glob("*.json"))
        if not files:
            raise LintInputError(f"{path}: schema directory holds no *.json file")
        return [load_schema(file) for file in files]
    return [load_schema(location)]


def select_schemas(schemas: Sequence[ArgoSchema], version: str | None) -> list[ArgoSchema]:
    """The schemas of Argo ``version`` (all of them for ``None``), by the release in their file name.

    Raises:
        LintInputError: schemas were given but none is of ``version``.
    """
    if version is None:
        return list(schemas)
    selected = [schema for schema in schemas if schema.version == version]
    if schemas and not selected:
        given = ", ".join(schema.label for schema in schemas)
        raise LintInputError(
            f"no schema of Argo {version} among {given} (a file name must hold the release, "
            f"like schema-v{version}.0.json)"
        )
    return selected


def validate_with_schemas(schemas: Sequence[ArgoSchema], kind: str, body: Any) -> list[Finding]:
    """Validate against every schema; a violation several schemas report is one finding naming them all.

    The schemas are named by file name, sorted: the line does not depend on the order they were given in.
    """
    labels: dict[tuple[JsonPath, str], list[str]] = {}
    for schema in schemas:
        prefix = f"schema {schema.label}: "
        for finding in schema.validate(kind, body):
            key = (finding.path, finding.message.removeprefix(prefix))
            labels.setdefault(key, []).append(schema.label)
    return [
        Finding(path, f"schema {', '.join(sorted(names))}: {message}")
        for (path, message), names in labels.items()
    ]
