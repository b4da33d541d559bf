"""Argo's JSON schema: the IntOrString/Quantity patch, per-kind validators built once, loading errors."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from hera_imagebuild.lint import (
    ArgoSchema,
    LintInputError,
    lint_documents,
    load_files,
    load_schema,
    load_schemas,
    parse_documents,
)
from hera_imagebuild.lint.documents import Document
from hera_imagebuild.lint.keys import ONLY_IN_3_7, ONLY_IN_4_0
from hera_imagebuild.lint.schema import select_schemas

from .conftest import ARGO_SCHEMA_DIR, ARGO_SCHEMA_FILES, FIXTURES

NUMBERS = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"name": "numbers"},
    "spec": {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "activeDeadlineSeconds": 3600,
                "retryStrategy": {"limit": 3},
                "container": {"image": "alpine:3.20", "resources": {"limits": {"cpu": 1, "memory": "1Gi"}}},
            }
        ],
    },
}


def test_the_unpatched_schema_rejects_integer_limits_and_quantities(argo_schemas: list[ArgoSchema]) -> None:
    # Why the patch exists: Argo's generated schema types IntOrString and Quantity as strings only.
    raw = json.loads((ARGO_SCHEMA_DIR / ARGO_SCHEMA_FILES[0]).read_text(encoding="utf-8"))
    root = {"definitions": raw["definitions"], "$ref": "#/definitions/io.argoproj.workflow.v1alpha1.Workflow"}
    rejected = {tuple(error.absolute_path) for error in Draft202012Validator(root).iter_errors(NUMBERS)}
    assert rejected == {
        ("spec", "templates", 0, "activeDeadlineSeconds"),
        ("spec", "templates", 0, "retryStrategy", "limit"),
        ("spec", "templates", 0, "container", "resources", "limits", "cpu"),
    }
    for schema in argo_schemas:
        assert schema.validate("Workflow", NUMBERS) == []


def test_patched_types_still_reject_other_types(argo_schemas: list[ArgoSchema]) -> None:
    document = copy.deepcopy(NUMBERS)
    document["spec"]["templates"][0]["retryStrategy"]["limit"] = [3]
    problems = lint_documents([Document("numbers.yaml", 1, document)], schemas=argo_schemas)
    assert [str(problem) for problem in problems] == [
        "numbers.yaml: Workflow/numbers: spec.templates[0].retryStrategy.limit: "
        "schema schema-v3.7.14.json, schema-v4.0.9.json: expected string or integer, got array"
    ]


def test_each_kind_is_validated_against_its_own_definition(argo_schemas: list[ArgoSchema]) -> None:
    spec = {"schedules": ["0 * * * *"]}
    cron = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "c"},
        "spec": spec,
    }
    schema = argo_schemas[0]
    messages = [finding.message for finding in schema.validate("CronWorkflow", cron)]
    assert messages == [f"schema {schema.label}: 'workflowSpec' is a required property"]
    assert [finding.message for finding in schema.validate("Workflow", {"kind": "Workflow"})] == [
        f"schema {schema.label}: 'metadata' is a required property",
        f"schema {schema.label}: 'spec' is a required property",
    ]


def test_schemas_are_compiled_once(argo_schemas: list[ArgoSchema]) -> None:
    path = ARGO_SCHEMA_DIR / ARGO_SCHEMA_FILES[0]
    assert load_schema(path) is load_schema(str(path)) is argo_schemas[0]
    assert argo_schemas[0].validator("Workflow") is argo_schemas[0].validator("Workflow")


def test_a_schema_directory_gives_every_schema_in_it_sorted(argo_schemas: list[ArgoSchema]) -> None:
    assert [schema.label for schema in load_schemas(ARGO_SCHEMA_DIR)] == sorted(ARGO_SCHEMA_FILES)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "schema directory holds no *.json file"),
        ("{not json", "schema is not valid JSON"),
        (
            '{"definitions": {}}',
            "not an Argo Workflows JSON schema (no definition for Workflow, WorkflowTemplate",
        ),
    ],
    ids=["empty-directory", "not-json", "not-argo"],
)
def test_unusable_schemas_are_clear_errors(tmp_path: Path, content: str | None, expected: str) -> None:
    if content is not None:
        (tmp_path / "schema.json").write_text(content)
    with pytest.raises(LintInputError, match=r".") as caught:
        load_schemas(tmp_path)
    assert expected in str(caught.value)


def test_a_missing_schema_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LintInputError, match="cannot read schema: No such file or directory"):
        load_schemas(tmp_path / "schema-v9.json")


def test_validating_many_documents_reuses_one_validator_per_kind(argo_schemas: list[ArgoSchema]) -> None:
    """What keeps validation fast: the validator (and the $refs it resolved) is built once per kind.

    How fast it is belongs to the benchmarks; here, that the work is shared and the answers are right.
    """
    (document,) = load_files([FIXTURES / "good" / "dag-pipeline.yaml"])
    schema = ArgoSchema(argo_schemas[0].path, argo_schemas[0].definitions)  # empty caches
    assert schema.validate(document.kind, document.body) == []  # the first call builds the validator
    validator = schema.validator(document.kind)
    for round_ in range(30):
        # A new name each round: results are cached by content, the cache must not answer here.
        body = copy.deepcopy(document.body)
        body["metadata"]["generateName"] = f"round-{round_}-"
        assert schema.validate(document.kind, body) == []
        assert len(schema._results) == round_ + 2  # validated, not answered from the cache
    assert schema._validators == {document.kind: validator}  # one validator, built once


def test_results_are_reused_for_the_same_content_only(argo_schemas: list[ArgoSchema]) -> None:
    schema = argo_schemas[0]
    body = copy.deepcopy(NUMBERS)
    body["spec"]["templates"][0]["container"]["image"] = 7
    first = schema.validate("Workflow", body)
    again = schema.validate("Workflow", copy.deepcopy(body))
    assert again == first
    assert again is not first  # callers may extend the list they get
    assert [finding.path for finding in first] == [("spec", "templates", 0, "container", "image")]
    body["spec"]["templates"][0]["container"]["image"] = "alpine:3.20"
    assert schema.validate("Workflow", body) == []


def test_unquoted_timestamps_stay_strings_as_in_kubernetes(argo_schemas: list[ArgoSchema]) -> None:
    text = (FIXTURES / "good" / "steps-pipeline.yaml").read_text(encoding="utf-8")
    text = text.replace("name: steps-pipeline", "name: steps-pipeline\n  annotations: {released: 2026-11-28}")
    assert lint_documents(parse_documents(text, "dated.yaml"), schemas=argo_schemas) == []


def _property_models(schema: ArgoSchema) -> dict[str, dict[str, str | None]]:
    """Argo definition -> property -> the definition it refers to (its items' for a list)."""
    table: dict[str, dict[str, str | None]] = {}
    for name, definition in schema.definitions.items():
        if not name.startswith("io.argoproj.workflow.v1alpha1."):
            continue
        properties = definition.get("properties", {})
        table[name.rsplit(".", 1)[-1]] = {
            key: (value.get("$ref") or value.get("items", {}).get("$ref") or "").rsplit(".", 1)[-1] or None
            for key, value in properties.items()
        }
    return table


def test_the_release_tables_are_the_difference_of_the_two_schemas(argo_schemas: list[ArgoSchema]) -> None:
    by_version = {schema.version: _property_models(schema) for schema in argo_schemas}
    old, new = by_version["3.7"], by_version["4.0"]
    only_old = {
        model: {key: ref for key, ref in fields.items() if new.get(model, {}).get(key, "-") != ref}
        for model, fields in old.items()
    }
    only_new = {
        model: frozenset(key for key in fields if key not in old.get(model, {}))
        for model, fields in new.items()
    }
    assert {model: fields for model, fields in only_old.items() if fields} == ONLY_IN_3_7
    documents = {model: fields for model, fields in only_new.items() if fields and model in ONLY_IN_4_0}
    assert documents == ONLY_IN_4_0
    # The rest of 4.0's additions are API types (node status, sync requests), not document fields.
    assert {model for model, fields in only_new.items() if fields} - set(ONLY_IN_4_0) == {
        "NodeStatus",
        "PluginArtifact",
        "PluginArtifactRepository",
    }


def test_schemas_are_selected_by_the_release_in_their_name(argo_schemas: list[ArgoSchema]) -> None:
    assert [schema.label for schema in select_schemas(argo_schemas, "3.7")] == ["schema-v3.7.14.json"]
    assert select_schemas(argo_schemas, None) == argo_schemas
    with pytest.raises(LintInputError, match=re.escape("no schema of Argo 3.7 among schema-v4.0.9.json")):
        select_schemas([schema for schema in argo_schemas if schema.version == "4.0"], "3.7")
