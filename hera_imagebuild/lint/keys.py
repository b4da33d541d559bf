"""Unknown keys, anywhere in a document, judged by Hera's generated Argo models.

Argo's JSON schema allows unknown keys and the controller silently drops them, so a typo
such as ``retryStrategy.backof`` turns into "no backoff" at run time. The field names come
from ``hera.workflows.models`` (generated from Argo's OpenAPI spec, Kubernetes types
included), using each field's alias: the check follows the Argo API that Hera targets.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Union

from pydantic import BaseModel, RootModel

from hera_imagebuild.lint.problem import Finding, JsonPath

# Models without fields are empty structs (`archive: {none: {}}`) except these, which hold
# arbitrary content (plugin configuration, server-side apply bookkeeping).
_FREE_FORM_MODELS = frozenset({"Plugin", "FieldsV1"})


@dataclass(frozen=True)
class _Shape:
    """What a value must look like: ``model`` for an object, else a list/map of ``item``."""

    model: type[BaseModel] | None = None
    container: str | None = None  # "list" or "dict"
    item: _Shape | None = None


_ANY = _Shape()


def _shape(annotation: Any) -> _Shape:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _shape(args[0])
    if origin is Union or origin is types.UnionType:
        shapes = [_shape(arg) for arg in args if arg is not type(None)]
        structured = [shape for shape in shapes if shape != _ANY]
        # Unions of scalars (IntOrString) need no key check; no Argo field mixes two objects.
        return structured[0] if len(structured) == 1 else _ANY
    if origin is list:
        return _Shape(container="list", item=_shape(args[0]))
    if origin is dict:
        return _Shape(container="dict", item=_shape(args[1]))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if issubclass(annotation, RootModel):
            return _shape(annotation.model_fields["root"].annotation)
        if annotation.__name__ in _FREE_FORM_MODELS:
            return _ANY
        return _Shape(model=annotation)
    return _ANY


@cache
def known_fields(model: type[BaseModel]) -> dict[str, _Shape]:
    """The JSON keys ``model`` declares (aliases where Hera renamed a field), each with its shape."""
    return {info.alias or name: _shape(info.annotation) for name, info in model.model_fields.items()}


#: The Argo releases lint targets (``--argo-version``); ``None`` means every one of them.
ARGO_VERSIONS = ("3.7", "4.0")
#: Fields that Argo 3.7 has and 4.0 removed, or typed differently (model -> field -> the model
#: of its value in 3.7, ``None`` for a scalar). Hera's models are Argo 4.0's; test_lint_schema
#: checks both tables against the two releases' JSON schemas.
ONLY_IN_3_7: dict[str, dict[str, str | None]] = {
    "Synchronization": {"mutex": "Mutex", "semaphore": "SemaphoreRef"},
    "CronWorkflowSpec": {"schedule": None},
    "Cache": {"configMap": "ConfigMapKeySelector"},  # 4.0: a LocalObjectReference
}
#: Fields that Argo 4.0 added (model -> fields).
ONLY_IN_4_0: dict[str, frozenset[str]] = {
    "Artifact": frozenset({"plugin"}),
    "ArtifactLocation": frozenset({"plugin"}),
    "ArtifactPaths": frozenset({"plugin"}),
    "ArtifactRepository": frozenset({"plugin"}),
    "Link": frozenset({"target"}),
}


@cache
def version_fields(model: type[BaseModel], version: str | None) -> dict[str, _Shape]:
    """The keys ``model`` has in Argo ``version``; with ``None``, the keys it has in every release."""
    from hera.workflows import models

    fields = dict(known_fields(model))
    if version != "4.0":
        for name in ONLY_IN_4_0.get(model.__name__, ()):
            fields.pop(name, None)
    if version == "3.7":
        for name, value_model in ONLY_IN_3_7.get(model.__name__, {}).items():
            fields[name] = _Shape(model=getattr(models, value_model)) if value_model else _ANY
    return fields


@cache
def _kind_models() -> dict[str, type[BaseModel]]:
    from hera.workflows import models

    return {
        "Workflow": models.Workflow,
        "WorkflowTemplate": models.WorkflowTemplate,
        "ClusterWorkflowTemplate": models.ClusterWorkflowTemplate,
        "CronWorkflow": models.CronWorkflow,
    }


def unknown_keys(kind: str, body: Any, version: str | None = None) -> list[Finding]:
    """Every key of ``body`` (a document of ``kind``) that its Argo/Kubernetes model does not declare.

    Args:
        kind: one of the workflow kinds; other kinds have no model and no finding.
        body: the document.
        version: the Argo release targeted (see :data:`ARGO_VERSIONS`); ``None`` accepts only the
            fields every release has, so that the document works on each.
    """
    model = _kind_models().get(kind)
    if model is None:
        return []
    return list(_walk(_Shape(model=model), body, (), version))


def _walk(shape: _Shape, value: Any, path: JsonPath, version: str | None) -> Iterator[Finding]:
    # Values of the wrong type are the schema check's business: only descend where they fit.
    if shape.model is not None and isinstance(value, dict):
        fields = version_fields(shape.model, version)
        for key, child in value.items():
            child_shape = fields.get(key) if isinstance(key, str) else None
            if child_shape is None:
                message = _unknown_message(str(key), shape.model.__name__, fields, version)
                yield Finding((*path, str(key)), message)
            else:
                yield from _walk(child_shape, child, (*path, key), version)
    elif shape.container == "list" and shape.item is not None and isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(shape.item, child, (*path, index), version)
    elif shape.container == "dict" and shape.item is not None and isinstance(value, dict):
        for key, child in value.items():
            yield from _walk(shape.item, child, (*path, str(key)), version)


def _unknown_message(key: str, model_name: str, fields: dict[str, _Shape], version: str | None) -> str:
    releases = [
        release
        for release in ARGO_VERSIONS
        if release != version and key in _fields_by_name(model_name, release)
    ]
    if releases:
        where = f"Argo {', '.join(releases)}"
        if version:
            return f"field '{key}' of {model_name} exists in {where}, not in Argo {version}"
        return (
            f"field '{key}' of {model_name} exists only in {where}: without --argo-version a document "
            f"must work on every release ({', '.join(ARGO_VERSIONS)})"
        )
    close = difflib.get_close_matches(key, fields, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(sorted(fields))})"
    if not fields:
        hint = " (it takes no fields)"
    return f"unknown field '{key}' in {model_name}{hint}"


def _fields_by_name(model_name: str, version: str) -> frozenset[str]:
    """The keys of Hera's model ``model_name`` in Argo ``version`` (empty for an unknown model)."""
    from hera.workflows import models

    model = getattr(models, model_name, None)
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return frozenset()
    return frozenset(version_fields(model, version))
