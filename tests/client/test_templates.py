"""The pod templates: static argv from the shared contract, safe pods, volumes where templateRef needs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hera_imagebuild.builders import KANIKO
from hera_imagebuild.client.inline import ImageBuild
from hera_imagebuild.client.options import BuildSettings, PvcHandoff, RetryPolicy, StepOptions
from hera_imagebuild.client.published import cluster_workflow_template
from hera_imagebuild.common import contract
from hera_imagebuild.common.failures import step_retry_expression

from .conftest import as_dict, inline_workflow, parse_step_args, pod_templates, resolve_pods, spec, template


def _published(**kwargs: Any) -> dict[str, Any]:
    return as_dict(cluster_workflow_template(**kwargs))


def test_kaniko_step() -> None:
    build = template(_published(), "build-kaniko")
    container = build["container"]
    assert container["command"] == ["/kaniko/executor"]
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    args = container["args"]
    for expected in (
        "--dockerfile=/kaniko/hera-imagebuild/pinned/Dockerfile",
        "--context=dir:///kaniko/hera-imagebuild/context",
        "--no-push",
        "--oci-layout-path=/kaniko/hera-imagebuild/image",
        "--digest-file=/kaniko/hera-imagebuild/out/digest",
        "--registry-map={{inputs.parameters.registry-map}}",
        "--custom-platform={{inputs.parameters.platform}}",
        "--log-format=text",
        "--build-arg=HTTPS_PROXY={{inputs.parameters.https-proxy}}",
    ):
        assert expected in args
    assert build["retryStrategy"]["expression"] == KANIKO.failures.retry_expression()
    # The pinned Dockerfile arrives as a raw artifact: no artifact repository needed for it.
    dockerfile = next(a for a in build["inputs"]["artifacts"] if a["path"] == KANIKO.paths.dockerfile)
    assert dockerfile["raw"]["data"] == "{{inputs.parameters.pinned-dockerfile}}"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["DOCKER_CONFIG"] == contract.DOCKER_CONFIG_DIR
    assert env["FF_KANIKO_DISABLE_HTTP2"] == "{{inputs.parameters.disable-http2}}"


def test_prefetch_and_push_argv_parse_with_the_step_cli_definitions() -> None:
    built = spec(build_args={"CUDA_VERSION": "12.4.1"}, mirrors={"docker.io": ["mirror.example.com/hub"]})
    document = as_dict(inline_workflow(ImageBuild(built, name="trainer")))
    pods = resolve_pods(document, "trainer")
    prefetch, push = pods["prefetch"]["container"], pods["push"]["container"]
    assert prefetch["command"] == push["command"] == ["hera-imagebuild"]
    assert prefetch["args"][0] == "prefetch"
    assert push["args"][0] == "push"
    parsed = parse_step_args(contract.PrefetchArgs, prefetch["args"][1:])
    assert json.loads(parsed.build_args_json) == {"CUDA_VERSION": "12.4.1"}
    assert json.loads(parsed.mirrors_json) == {"docker.io": ["mirror.example.com/hub"]}
    assert (parsed.fallback, parsed.probe_timeout, parsed.target) == ("true", 5.0, "")
    assert parsed.dockerfile == f"{contract.CONTEXT_DIR}/Dockerfile"
    assert parsed.output_dir == contract.OUTPUT_DIR
    parsed = parse_step_args(contract.PushArgs, push["args"][1:])
    assert json.loads(parsed.destinations_json) == ["registry.example.com/ml/trainer:v1"]
    assert parsed.expected_digest == "{{tasks.build.outputs.parameters.digest}}"
    assert parsed.image == contract.IMAGE_LAYOUT_DIR
    for step in ("trainer-prefetch", "trainer-push"):
        assert template(document, step)["retryStrategy"]["expression"] == step_retry_expression()


def test_pods_carry_no_token_and_no_privilege() -> None:
    for pod in pod_templates(_published()):
        assert pod["automountServiceAccountToken"] is False
        assert pod["executor"]["serviceAccountName"] == "hera-imagebuild-executor"
        security = pod["container"]["securityContext"]
        assert security["privileged"] is False
        assert not any("hostPath" in volume for volume in pod.get("volumes", []))
        # The docker config Secret is optional: anonymous pulls work without it.
        secret = next(v for v in pod["volumes"] if "secret" in v)["secret"]
        assert secret["optional"] is True
        assert secret["items"] == [{"key": ".dockerconfigjson", "path": "config.json"}]
    for step in ("build-prefetch", "build-push"):
        security = template(_published(), step)["container"]["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert security["runAsNonRoot"] is True


def test_token_opt_out_drops_the_executor_account() -> None:
    settings = BuildSettings(automount_service_account_token=True, executor_service_account=None)
    for pod in pod_templates(_published(settings=settings)):
        assert pod["automountServiceAccountToken"] is True
        assert "executor" not in pod


def test_pvc_context_is_mounted_at_template_level() -> None:
    document = _published(context="pvc")
    assert "volumes" not in document["spec"]  # a templateRef would not bring spec-level volumes
    for step, path in (("build-prefetch", contract.CONTEXT_DIR), ("build-kaniko", KANIKO.paths.context)):
        pod = template(document, step)
        volume = next(v for v in pod["volumes"] if "persistentVolumeClaim" in v)
        assert volume["persistentVolumeClaim"]["claimName"] == "{{inputs.parameters.context-pvc}}"
        mount = next(m for m in pod["container"]["volumeMounts"] if m["name"] == volume["name"])
        assert mount["mountPath"] == path
        assert mount["subPath"] == "{{inputs.parameters.context-sub-path}}"
        assert mount["readOnly"] is True
        assert "artifacts" not in pod["inputs"] or all(
            a["name"] != "context" for a in pod["inputs"]["artifacts"]
        )


def test_pvc_handoff_shares_one_sub_path_per_build() -> None:
    document = _published(settings=BuildSettings(handoff=PvcHandoff(claim_name="scratch")))
    dag = template(document, "build")
    assert next(p for p in dag["inputs"]["parameters"] if p["name"] == "handoff-pvc")["default"] == "scratch"
    sub_paths = {
        task["name"]: next(
            p["value"] for p in task["arguments"]["parameters"] if p["name"] == "handoff-sub-path"
        )
        for task in dag["dag"]["tasks"]
        if task["name"] in ("build", "push")
    }
    assert sub_paths == {
        "build": "{{workflow.uid}}/{{tasks.prefetch.id}}",
        "push": "{{workflow.uid}}/{{tasks.prefetch.id}}",
    }
    build, push = template(document, "build-kaniko"), template(document, "build-push")
    assert "artifacts" not in build.get("outputs", {})
    mounts = {
        name: next(m for m in pod["container"]["volumeMounts"] if m["mountPath"] == path)
        for name, pod, path in (
            ("build", build, KANIKO.paths.layout),
            ("push", push, contract.IMAGE_LAYOUT_DIR),
        )
    }
    assert mounts["build"]["readOnly"] is False
    assert mounts["push"]["readOnly"] is True


def test_artifact_handoff_is_an_uncompressed_tar() -> None:
    build = template(_published(), "build-kaniko")
    image = next(a for a in build["outputs"]["artifacts"] if a["name"] == "image")
    assert image["archive"] == {"tar": {"compressionLevel": 0}}


def test_settings_shape_thepod_templates() -> None:
    settings = BuildSettings(
        build=StepOptions(
            cpu="4", memory="16Gi", memory_limit="16Gi", timeout_seconds=600, retry=RetryPolicy(limit=1)
        ),
        node_selector={"node.kubernetes.io/pool": "builders"},
        extra_kaniko_args=("--snapshot-mode=redo", "--compression=zstd"),
        kaniko_retries=0,
    )
    build = template(_published(settings=settings), "build-kaniko")
    assert build["container"]["resources"] == {
        "requests": {"cpu": "4", "memory": "16Gi"},
        "limits": {"memory": "16Gi"},
    }
    assert build["activeDeadlineSeconds"] == 600
    assert build["retryStrategy"]["limit"] == 1
    assert build["nodeSelector"] == {"node.kubernetes.io/pool": "builders"}
    assert build["container"]["args"][-2:] == ["--snapshot-mode=redo", "--compression=zstd"]
    assert "--image-download-retry=0" in build["container"]["args"]


@pytest.mark.parametrize("context", ["artifact", "pvc"])
def test_every_argv_element_is_a_flag(context: str) -> None:
    for pod in pod_templates(_published(context=context)):
        args = pod["container"]["args"]
        flags = args[1:] if pod["container"]["command"] == ["hera-imagebuild"] else args
        assert all(arg.startswith("--") for arg in flags), flags
        assert not any(c in "".join(pod["container"]["command"]) for c in (" ", ";", "|", "&")), "no shell"


def test_the_build_pod_mounts_nothing_where_a_dockerfile_writes() -> None:
    """kaniko leaves mount points out of the image: ours stay inside /kaniko, which it never snapshots.

    A WORKDIR /workspace image (PyTorch, NGC) with ``COPY . .`` of a repository holding out/ or image/
    lost those directories to the old /workspace mounts; docs/builders.md has the real kaniko run.
    """
    for settings in (BuildSettings(), BuildSettings(handoff=PvcHandoff(claim_name="scratch"))):
        for context in ("artifact", "pvc"):
            build = template(_published(settings=settings, context=context), "build-kaniko")
            paths = [m["mountPath"] for m in build["container"]["volumeMounts"]]
            paths += [a["path"] for a in build["inputs"].get("artifacts", [])]
            assert paths, build
            assert all(path.startswith("/kaniko/") for path in paths), paths


def test_push_can_read_the_layout_kaniko_wrote() -> None:
    """kaniko writes layer blobs 0600 as root; push reads them without running user code as root."""
    push = template(_published(), "build-push")
    image = next(a for a in push["inputs"]["artifacts"] if a["name"] == "image")
    # Argo's init container chmods the unpacked artifact (executor.go, chmod after untar).
    assert (image["mode"], image["recurseMode"]) == (0o755, True)
    assert push["container"]["securityContext"]["runAsNonRoot"] is True

    pvc = template(_published(settings=BuildSettings(handoff=PvcHandoff(claim_name="scratch"))), "build-push")
    security = pvc["container"]["securityContext"]
    assert (security["runAsUser"], security["runAsNonRoot"], security["allowPrivilegeEscalation"]) == (
        0,
        False,
        False,
    )
    assert security["capabilities"] == {"drop": ["ALL"]}
