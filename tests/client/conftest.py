"""Helpers of the client tests: rendering, Argo's schemas, lint, and a model of Argo's substitution."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hera.workflows import DAG, Container, Parameter, Workflow

from hera_imagebuild.client.inline import ImageBuild
from hera_imagebuild.client.spec import BuildSpec, GitContext
from hera_imagebuild.common import contract
from hera_imagebuild.lint import ArgoSchema, Problem, lint_documents, load_schema, parse_documents

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = REPO_ROOT / "templates"
ARGO_SCHEMA_DIR = REPO_ROOT.parent / "shared" / "argo"
ARGO_SCHEMA_FILES = ("schema-v4.0.9.json", "schema-v3.7.14.json")

CONSUMER = Container(
    name="consume",
    image="{{inputs.parameters.image}}",
    command=["python", "-m", "trainer.train"],
    inputs=[Parameter(name="image"), Parameter(name="digest"), Parameter(name="refs")],
)
"""A downstream step that takes a build's three outputs."""


def spec(**overrides: Any) -> BuildSpec:
    """A valid spec, with ``overrides`` applied."""
    values: dict[str, Any] = {
        "context": GitContext(url="https://github.com/example-org/model.git", ref="v1.0.0"),
        "destinations": ["registry.example.com/ml/trainer:v1"],
    }
    values.update(overrides)
    return BuildSpec(**values)


def inline_workflow(*builds: ImageBuild) -> Workflow:
    """A workflow that runs ``builds`` and feeds each one's outputs to a consumer task."""
    with Workflow(generate_name="pipeline-", entrypoint="main") as workflow, DAG(name="main"):
        for build in builds:
            handle = build()
            consumer = CONSUMER(
                name=f"consume-{build.name}",
                arguments={"image": handle.image_ref, "digest": handle.digest, "refs": handle.image_refs},
            )
            handle >> consumer
    return workflow


def as_dict(workflow: Any) -> dict[str, Any]:
    """The document as Argo reads it: through YAML, as submitted."""
    loaded: dict[str, Any] = yaml.safe_load(workflow.to_yaml())
    return loaded


def template(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The template called ``name`` in a (Workflow or template) document."""
    for item in document["spec"]["templates"]:
        if item["name"] == name:
            found: dict[str, Any] = item
            return found
    raise KeyError(name)


def pod_templates(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The container (pod) templates of a document."""
    return [t for t in document["spec"]["templates"] if "container" in t]


def parse_step_args(args_type: type[contract.StepArgs], argv: list[str]) -> argparse.Namespace:
    """``argv`` (without the sub-command) parsed as the step's own CLI parses it."""
    parser = argparse.ArgumentParser(exit_on_error=False)
    contract.add_arguments(parser, args_type)
    return parser.parse_args(argv)


@pytest.fixture(scope="session")
def argo_schemas() -> list[ArgoSchema]:
    """Argo v4.0.9 and v3.7.14 schemas (IntOrString patched by the lint package), loaded once."""
    if not ARGO_SCHEMA_DIR.is_dir():
        pytest.skip(f"Argo's JSON schemas are not at {ARGO_SCHEMA_DIR} (../shared/argo from the repo root)")
    return [load_schema(ARGO_SCHEMA_DIR / name) for name in ARGO_SCHEMA_FILES]


def lint_text(text: str, schemas: list[ArgoSchema], *, name: str = "rendered.yaml") -> list[Problem]:
    """Schema check plus the strict check, with the shipped templates as templateRef targets."""
    references = [
        document
        for path in sorted(TEMPLATES_DIR.glob("*.yaml"))
        for document in parse_documents(path.read_text(), str(path))
    ]
    return lint_documents(parse_documents(text, name), schemas=schemas, references=references)


_PARAM = re.compile(r"\{\{inputs\.parameters\.([A-Za-z0-9_-]+)\}\}")


def substitute(value: Any, parameters: dict[str, str]) -> Any:
    """Replace ``{{inputs.parameters.X}}`` in every string of ``value``, as Argo does (one pass)."""
    if isinstance(value, str):
        return _PARAM.sub(lambda m: parameters[m.group(1)] if m.group(1) in parameters else m.group(0), value)
    if isinstance(value, list):
        return [substitute(item, parameters) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, parameters) for key, item in value.items()}
    return value


def resolve_pods(document: dict[str, Any], task_name: str) -> dict[str, dict[str, Any]]:
    """The pod templates of the build run by ``task_name``, with every input parameter resolved.

    Models Argo: the task's arguments become the DAG's inputs (defaults fill the
    rest), the DAG's tasks pass them on, and each pod template's ``{{inputs...}}``
    are replaced. Outputs of earlier steps stay as ``{{tasks...}}`` references.
    """
    main = template(document, document["spec"]["entrypoint"])
    task = next(t for t in main["dag"]["tasks"] if t["name"] == task_name)
    dag = template(document, task["template"])
    dag_inputs = {p["name"]: p.get("default") for p in dag["inputs"]["parameters"]}
    dag_inputs.update({p["name"]: p["value"] for p in task["arguments"]["parameters"]})
    pods = {}
    for step in dag["dag"]["tasks"]:
        step_inputs = {p["name"]: substitute(p["value"], dag_inputs) for p in step["arguments"]["parameters"]}
        pods[step["name"]] = substitute(template(document, step["template"]), step_inputs)
    return pods
