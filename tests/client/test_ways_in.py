"""Inline builds, builds by templateRef and the one-off workflow: names, handles, and valid Argo."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from hera.workflows import DAG, Artifact, Container, Task, Workflow

from hera_imagebuild.client.dag import BuildHandle
from hera_imagebuild.client.inline import ImageBuild
from hera_imagebuild.client.options import Handoff
from hera_imagebuild.client.published import (
    ENTRYPOINT,
    PVC_TEMPLATE_NAME,
    TEMPLATE_NAME,
    build_from_template,
    build_workflow,
    cluster_workflow_template,
)
from hera_imagebuild.client.spec import (
    ArtifactContext,
    ArtifactHandoff,
    BuildSettings,
    Context,
    PvcContext,
    PvcHandoff,
    S3Context,
)
from hera_imagebuild.lint import ArgoSchema

from .conftest import CONSUMER, as_dict, inline_workflow, lint_text, spec, template


def _task(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in template(document, "main")["dag"]["tasks"] if t["name"] == name)
    return found


def test_outputs_resolve_downstream(argo_schemas: list[ArgoSchema]) -> None:
    workflow = inline_workflow(ImageBuild(spec(), name="trainer"))
    document = as_dict(workflow)
    consumer = _task(document, "consume-trainer")
    assert consumer["depends"] == "trainer"
    passed = {p["name"]: p["value"] for p in consumer["arguments"]["parameters"]}
    assert passed == {
        "image": "{{tasks.trainer.outputs.parameters.image-ref}}",
        "digest": "{{tasks.trainer.outputs.parameters.digest}}",
        "refs": "{{tasks.trainer.outputs.parameters.image-refs}}",
    }
    # The referenced outputs exist on the DAG the task runs, each taken from the push step.
    outputs = {
        p["name"]: p["valueFrom"]["parameter"] for p in template(document, "trainer")["outputs"]["parameters"]
    }
    assert outputs["image-ref"] == "{{tasks.push.outputs.parameters.image-ref}}"
    assert {"digest", "image-refs"} <= outputs.keys()
    assert lint_text(workflow.to_yaml(), argo_schemas) == []


def test_two_builds_keep_separate_templates_and_outputs(argo_schemas: list[ArgoSchema]) -> None:
    trainer = ImageBuild(spec(), name="trainer")
    server = ImageBuild(spec(destinations=["registry.example.com/ml/server:v1"]), name="server")
    workflow = inline_workflow(trainer, server)
    document = as_dict(workflow)
    names = [t["name"] for t in document["spec"]["templates"]]
    assert len(names) == len(set(names))
    for build in ("trainer", "server"):
        assert {build, f"{build}-prefetch", f"{build}-kaniko", f"{build}-push"} <= set(names)
        dag = template(document, build)
        assert {t["template"] for t in dag["dag"]["tasks"]} == {
            f"{build}-prefetch",
            f"{build}-kaniko",
            f"{build}-push",
        }
    server_args = {p["name"]: p["value"] for p in _task(document, "server")["arguments"]["parameters"]}
    assert server_args["destinations"] == '["registry.example.com/ml/server:v1"]'
    consumer = {p["name"]: p["value"] for p in _task(document, "consume-server")["arguments"]["parameters"]}
    assert consumer["image"] == "{{tasks.server.outputs.parameters.image-ref}}"
    assert lint_text(workflow.to_yaml(), argo_schemas) == []


def test_one_build_called_twice_adds_its_templates_once() -> None:
    build = ImageBuild(spec(), name="trainer")
    with Workflow(generate_name="p-", entrypoint="main") as workflow, DAG(name="main"):
        first = build(name="trainer-amd64")
        second = build(name="trainer-again")
    names = [t.name for t in workflow.templates]
    assert names.count("trainer") == 1
    assert names.count("trainer-kaniko") == 1
    assert first.image_ref != second.image_ref


def test_two_different_builds_with_one_name_are_an_error() -> None:
    with pytest.raises(ValueError, match="already has a template named 'trainer'"):
        inline_workflow(
            ImageBuild(spec(), name="trainer"), ImageBuild(spec(target="runtime"), name="trainer")
        )


def test_a_build_outside_a_dag_is_an_error() -> None:
    build = ImageBuild(spec(), name="trainer")
    with pytest.raises(RuntimeError, match="inside 'with Workflow"):
        build()


def test_a_build_created_inside_a_workflow_context_stays_out_of_it() -> None:
    with Workflow(generate_name="p-", entrypoint="main") as workflow:
        build = ImageBuild(spec(), name="trainer")
        with DAG(name="main"):
            build()
    assert [t.name for t in workflow.templates].count("trainer-prefetch") == 1


def test_template_ref_returns_the_same_kind_of_handle(argo_schemas: list[ArgoSchema]) -> None:
    with Workflow(generate_name="p-", entrypoint="main") as workflow, DAG(name="main"):
        handle = build_from_template(spec(), name="trainer")
        consumer = CONSUMER(
            arguments={"image": handle.image_ref, "digest": handle.digest, "refs": handle.image_refs}
        )
        handle >> consumer
    assert isinstance(handle, BuildHandle)
    assert handle.image_ref == "{{tasks.trainer.outputs.parameters.image-ref}}"
    document = as_dict(workflow)
    ref = _task(document, "trainer")["templateRef"]
    assert ref == {"name": TEMPLATE_NAME, "template": ENTRYPOINT, "clusterScope": True}
    # Same arguments as the inline build; the context travels as an artifact argument.
    artifacts = _task(document, "trainer")["arguments"]["artifacts"]
    assert artifacts == [
        {"name": "context", "git": {"repo": "https://github.com/example-org/model.git", "revision": "v1.0.0"}}
    ]
    assert lint_text(workflow.to_yaml(), argo_schemas) == []


def test_template_ref_picks_the_pvc_variant_for_a_pvc_context(argo_schemas: list[ArgoSchema]) -> None:
    with Workflow(generate_name="p-", entrypoint="main") as workflow, DAG(name="main"):
        build_from_template(spec(context=PvcContext(claim_name="src", sub_path="trainer")), name="trainer")
    task = _task(as_dict(workflow), "trainer")
    assert task["templateRef"]["name"] == PVC_TEMPLATE_NAME
    assert "artifacts" not in task["arguments"]
    assert lint_text(workflow.to_yaml(), argo_schemas) == []


def test_one_off_workflow(argo_schemas: list[ArgoSchema]) -> None:
    workflow = build_workflow(spec(), namespace="ml", cluster_scope=False, service_account_name="builder")
    document = as_dict(workflow)
    assert document["metadata"] == {
        "generateName": "image-build-",
        "namespace": "ml",
        "labels": {"app.kubernetes.io/name": "hera-imagebuild", "app.kubernetes.io/version": "0.1.0"},
    }
    assert document["spec"]["serviceAccountName"] == "builder"
    assert _task(document, "build")["templateRef"] == {"name": TEMPLATE_NAME, "template": ENTRYPOINT}
    assert lint_text(workflow.to_yaml(), argo_schemas) == []


FETCH = Container(
    name="fetch-code",
    image="alpine/git:2.45.2",
    command=["git", "clone", "--depth=1", "https://github.com/example-org/model.git", "/src"],
    outputs=[Artifact(name="source", path="/src")],
)


def test_context_from_an_upstream_task(argo_schemas: list[ArgoSchema]) -> None:
    build = ImageBuild(
        spec(context=ArtifactContext(source="{{tasks.fetch-code.outputs.artifacts.source}}")), name="trainer"
    )
    with Workflow(generate_name="p-", entrypoint="main") as workflow, DAG(name="main"):
        fetch = FETCH()
        image = build()
        assert isinstance(fetch, Task)
        fetch >> image
    task = _task(as_dict(workflow), "trainer")
    assert task["arguments"]["artifacts"] == [
        {"name": "context", "from": "{{tasks.fetch-code.outputs.artifacts.source}}"}
    ]
    assert lint_text(workflow.to_yaml(), argo_schemas) == []


def test_build_handles_take_every_dependency_form_a_task_takes(argo_schemas: list[ArgoSchema]) -> None:
    """``[handle_a, handle_b] >> task`` raised AssertionError inside Hera: handles were not Tasks."""
    first, second = ImageBuild(spec(), name="trainer"), ImageBuild(spec(), name="server")
    with Workflow(generate_name="p-", entrypoint="main") as workflow, DAG(name="main"):
        fetch = FETCH()
        trainer, server = first(), second()
        smoke = CONSUMER(
            arguments={"image": server.image_ref, "digest": server.digest, "refs": server.image_refs}
        )
        fetch >> trainer
        [trainer, server] >> smoke
        via_template = build_from_template(spec(), name="from-template")
        via_template >> smoke
    document = as_dict(workflow)
    assert _task(document, "trainer")["depends"] == "fetch-code"
    assert _task(document, CONSUMER.name)["depends"] == "trainer && server && from-template"
    assert _task(document, CONSUMER.name)["arguments"]["parameters"][0]["value"] == (
        "{{tasks.server.outputs.parameters.image-ref}}"
    )
    assert lint_text(workflow.to_yaml(), argo_schemas) == []


@pytest.mark.parametrize(
    "context",
    [
        PvcContext(claim_name="sources", sub_path="trainer"),
        S3Context(url="s3://ml-contexts/trainer.tar.gz", endpoint="minio.example.com:9000", insecure=True),
    ],
)
@pytest.mark.parametrize("handoff", [ArtifactHandoff(), PvcHandoff(claim_name="build-scratch")])
def test_every_template_shape_is_valid_argo(
    context: Context, handoff: Handoff, argo_schemas: list[ArgoSchema]
) -> None:
    built = spec(context=context, settings=BuildSettings(handoff=handoff))
    assert lint_text(inline_workflow(ImageBuild(built, name="trainer")).to_yaml(), argo_schemas) == []
    kind: Literal["artifact", "pvc"] = "pvc" if context.kind == "pvc" else "artifact"
    published = cluster_workflow_template(BuildSettings(handoff=handoff), context=kind)
    assert lint_text(published.to_yaml(), argo_schemas) == []
