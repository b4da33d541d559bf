"""The building blocks: tag and expression scanning, depends parsing, cycles, model-derived keys, paths."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hera.workflows import DAG, Container, Parameter, Workflow, WorkflowTemplate
from hera.workflows.models import TemplateRef

from hera_imagebuild.lint import Document, Problem, lint_documents
from hera_imagebuild.lint.dag import ancestors, find_cycle, parse_depends
from hera_imagebuild.lint.keys import known_fields, unknown_keys
from hera_imagebuild.lint.problem import format_path
from hera_imagebuild.lint.tags import Reference, TagError, expression_references, iter_tags


def test_tags_are_found_like_argo_finds_them() -> None:
    tags = list(iter_tags("a {{ inputs.parameters.x }} b {{=asInt(item) + 1}} {{workflow.name}}"))
    assert [(tag.body, tag.expression) for tag in tags] == [
        ("inputs.parameters.x", False),
        ("asInt(item) + 1", True),
        ("workflow.name", False),
    ]
    with pytest.raises(TagError, match="without closing"):
        list(iter_tags("ok {{workflow.name}} then {{inputs"))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("inputs.parameters['my-param']", [Reference(("inputs", "parameters", "my-param"))]),
        (
            'tasks["build"].outputs.parameters.digest',
            [Reference(("tasks", "build", "outputs", "parameters", "digest"))],
        ),
        ("steps?.a.outputs.result", [Reference(("steps", "a", "outputs", "result"))]),
        ("inputs.parameters[name]", [Reference(("inputs", "parameters"), complete=False)]),
        ("sprig.trim('inputs.parameters.x') + x.inputs", []),
        (
            "asInt(lastRetry.exitCode) == 75 || item.size > 2",
            [Reference(("lastRetry", "exitCode")), Reference(("item", "size"))],
        ),
        ("filter([1, 2], {# > 1})", []),
    ],
)
def test_expression_references(expression: str, expected: list[Reference]) -> None:
    assert expression_references(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("asInt(x", "')' missing"),
        ("a)", "unbalanced ')'"),
        ("[1, 2)", "unbalanced ')'"),
        ("'open", "unterminated string"),
    ],
)
def test_malformed_expressions(expression: str, message: str) -> None:
    with pytest.raises(TagError, match=re.escape(message)):
        expression_references(expression)


def test_depends_expressions() -> None:
    assert parse_depends("a && (b.Failed || !c.AnySucceeded)") == ["a", "b", "c"]
    assert parse_depends("") == []
    for bad, message in [
        ("a &", "unexpected '&'"),
        ("(a", "unbalanced '\\('"),
        ("a.Done", "unknown result 'Done'"),
        # workflow/controller/dag.go: evaluateDependsLogic compiles it with expr: a dangling
        # operator fails when the task is due to run.
        ("a ||", "'\\|\\|' at offset 2 has no right operand"),
        ("a && (b ||)", "unexpected '\\)'"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_depends(bad)


def test_cycles_and_ancestors() -> None:
    assert find_cycle({"a": [], "b": ["a"], "c": ["a", "b"]}) is None
    assert find_cycle({"a": ["a"]}) == ["a", "a"]
    assert find_cycle({"x": [], "a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    graph = {"a": [], "b": ["a"], "c": ["b", "ghost"]}
    found = ancestors(graph)
    assert {name: {other for other in [*graph, "ghost"] if other in found[name]} for name in graph} == {
        "a": set(),
        "b": {"a"},
        "c": {"a", "b"},
    }
    # A cycle is tolerated: each member sees the others it reaches before the cycle closes.
    cyclic = ancestors({"a": ["b"], "b": ["a"], "c": ["a"]})
    assert "b" in cyclic["a"]
    assert "a" in cyclic["c"]
    assert "c" not in cyclic["a"]


def test_known_fields_use_argo_names() -> None:
    fields = known_fields(TemplateRef)
    assert set(fields) == {"name", "template", "clusterScope"}


def test_unknown_keys_everywhere_in_the_tree() -> None:
    body: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "w", "labels": {"any-label": "ok"}},
        "spec": {
            "templates": [
                {
                    "name": "t",
                    "plugin": {"my-plugin": {"free": "form"}},
                    "container": {
                        "image": "a",
                        "volumeMounts": [{"name": "v", "mountPath": "/v", "readonly": True}],
                    },
                    "outputs": {
                        "artifacts": [{"name": "a", "path": "/a", "archive": {"none": {"level": 1}}}]
                    },
                }
            ],
            "podGC": {"strategy": "OnPodSuccess", "deleteDelayDuration": "1m"},
        },
    }
    findings = {
        ".".join(map(str, finding.path)): finding.message for finding in unknown_keys("Workflow", body)
    }
    assert findings == {
        "spec.templates.0.container.volumeMounts.0.readonly": (
            "unknown field 'readonly' in VolumeMount (did you mean 'readOnly'?)"
        ),
        "spec.templates.0.outputs.artifacts.0.archive.none.level": (
            "unknown field 'level' in NoneStrategy (it takes no fields)"
        ),
    }


def test_paths_and_problem_lines() -> None:
    assert (
        format_path(("spec", "templates", 2, "steps", 0, 1, "name")) == "spec.templates[2].steps[0][1].name"
    )
    assert format_path(()) == "$"
    problem = Problem("w.yaml", "Workflow", "w-", "spec.entrypoint", "template 'x' not found")
    assert str(problem) == "w.yaml: Workflow/w-: spec.entrypoint: template 'x' not found"


def test_documents_built_with_hera_lint_clean() -> None:
    # What Hera renders must pass: the check derives its field names from the same models.
    with WorkflowTemplate(name="lib", entrypoint="say") as library:
        Container(
            name="say",
            image="alpine:3.20",
            command=["echo", "{{inputs.parameters.text}}"],
            inputs=[Parameter(name="text")],
        )
    with Workflow(generate_name="hera-", entrypoint="main", arguments={"greeting": "hi"}) as workflow:
        echo = Container(
            name="echo",
            image="alpine:3.20",
            command=["sh", "-c", "echo {{inputs.parameters.text}} | tee /tmp/out"],
            inputs=[Parameter(name="text")],
            outputs=[Parameter(name="out", value_from={"path": "/tmp/out"})],
        )
        with DAG(name="main"):
            first = echo(name="first", arguments={"text": "{{workflow.parameters.greeting}}"})
            second = echo(name="second", arguments={"text": first.get_parameter("out")})
            first >> second
            third = Container(name="third-template", image="alpine:3.20")(name="third")
            second >> third
    documents = [
        Document("hera.yaml", index, item.to_dict()) for index, item in enumerate([library, workflow], 1)
    ]
    assert lint_documents(documents) == []
    broken = workflow.to_dict()
    (dag,) = [template["dag"] for template in broken["spec"]["templates"] if "dag" in template]
    dag["tasks"][1]["arguments"]["parameters"][0]["value"] = "{{tasks.first.outputs.parameters.output}}"
    assert [problem.message for problem in lint_documents([Document("hera.yaml", 1, broken)])] == [
        "{{tasks.first.outputs.parameters.output}}: task 'first' runs template 'echo', "
        "which declares no output parameter 'output' (outputs.parameters: out)"
    ]
