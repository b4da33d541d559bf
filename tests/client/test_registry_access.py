"""Plain-HTTP registries and private CAs: what each pod's argv and volumes get, and the render flags."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from hera_imagebuild.cli.main import main
from hera_imagebuild.client.inline import ImageBuild
from hera_imagebuild.client.options import BuildSettings
from hera_imagebuild.client.published import TEMPLATE_NAME, cluster_workflow_template, workflow_template
from hera_imagebuild.client.registry_access import RegistryCA
from hera_imagebuild.client.render import render_template
from hera_imagebuild.common import contract
from hera_imagebuild.common.contract import REGISTRY_CA_DIR
from hera_imagebuild.lint import ArgoSchema

from .conftest import (
    as_dict,
    inline_workflow,
    lint_text,
    parse_step_args,
    pod_templates,
    resolve_pods,
    spec,
    template,
)

IN_CLUSTER = "registry.registry.svc.cluster.local:5000"
HARBOR = "harbor.corp.example.com"
CORP_CA = RegistryCA(
    secret="corp-registry-ca",
    # Docker Hub and quay.io behind a TLS-intercepting proxy share the proxy's CA file.
    certificates={HARBOR: "corp-ca.crt", "index.docker.io": "proxy-ca.crt", "quay.io": "proxy-ca.crt"},
)
# Flags that would weaken TLS (or switch every registry to HTTP): the template never sets them.
WEAKENING = (
    "--skip-tls-verify",
    "--skip-tls-verify-pull",
    "--skip-tls-verify-registry",
    "--insecure",
    "--insecure-pull",
)


STEP_SUFFIXES = ("-prefetch", "-kaniko", "-push")


def _steps(settings: BuildSettings) -> dict[str, dict[str, Any]]:
    """The three pod templates of an inline build, parameters resolved as Argo would."""
    document = as_dict(inline_workflow(ImageBuild(spec(settings=settings), name="trainer")))
    return resolve_pods(document, "trainer")


def _flag_names(args: list[str]) -> set[str]:
    return {arg.partition("=")[0] for arg in args}


def test_plain_http_registries_in_every_pods_argv() -> None:
    settings = BuildSettings(insecure_registries=(IN_CLUSTER, "10.0.0.12:5000", IN_CLUSTER))
    assert settings.insecure_registries == (IN_CLUSTER, "10.0.0.12:5000")
    steps = _steps(settings)
    kaniko = steps["build"]["container"]["args"]
    # kaniko's --insecure-registry covers pulls (original and mapped registries), the cache and pushes.
    assert [arg for arg in kaniko if "insecure" in arg or "tls" in arg or "certificate" in arg] == [
        f"--insecure-registry={IN_CLUSTER}",
        "--insecure-registry=10.0.0.12:5000",
    ]
    for step, args_type in (("prefetch", contract.PrefetchArgs), ("push", contract.PushArgs)):
        args = steps[step]["container"]["args"]
        assert [arg for arg in args if arg.startswith("--insecure-registr")] == [
            f"--insecure-registry={IN_CLUSTER}",
            "--insecure-registry=10.0.0.12:5000",
        ]
        parsed = parse_step_args(args_type, args[1:])
        assert (parsed.insecure_registries, parsed.cert_dir) == ([IN_CLUSTER, "10.0.0.12:5000"], None)
    for pod in steps.values():
        assert not _flag_names(pod["container"]["args"]) & set(WEAKENING)
        assert all(volume["name"] != "registry-ca" for volume in pod["volumes"])


def test_private_ca_mounted_read_only_in_every_pod() -> None:
    steps = _steps(BuildSettings(registry_ca=CORP_CA))
    kaniko = steps["build"]["container"]["args"]
    assert [arg for arg in kaniko if arg.startswith("--registry-certificate")] == [
        f"--registry-certificate={HARBOR}={REGISTRY_CA_DIR}/corp-ca.crt",
        # kaniko names Docker Hub index.docker.io, as in its registry map.
        f"--registry-certificate=index.docker.io={REGISTRY_CA_DIR}/proxy-ca.crt",
        f"--registry-certificate=quay.io={REGISTRY_CA_DIR}/proxy-ca.crt",
    ]
    assert f"--cert-dir={REGISTRY_CA_DIR}" in steps["prefetch"]["container"]["args"]
    assert f"--cert-dir={REGISTRY_CA_DIR}" in steps["push"]["container"]["args"]
    assert (
        parse_step_args(contract.PushArgs, steps["push"]["container"]["args"][1:]).cert_dir == REGISTRY_CA_DIR
    )
    for pod in steps.values():
        assert not _flag_names(pod["container"]["args"]) & set(WEAKENING)
        assert "--insecure-registry" not in _flag_names(pod["container"]["args"])
        # Not optional: a missing Secret must stop the pod, not fall back to an untrusted connection.
        assert [v for v in pod["volumes"] if v["name"] == "registry-ca"] == [
            {
                "name": "registry-ca",
                "secret": {
                    "secretName": "corp-registry-ca",
                    "items": [
                        {"key": "corp-ca.crt", "path": "corp-ca.crt"},
                        {"key": "proxy-ca.crt", "path": "proxy-ca.crt"},
                    ],
                },
            }
        ]
        mounts = [mount for mount in pod["container"]["volumeMounts"] if mount["name"] == "registry-ca"]
        assert mounts == [{"name": "registry-ca", "mountPath": REGISTRY_CA_DIR, "readOnly": True}]


def test_ca_from_a_config_map_beside_plain_http() -> None:
    registry_ca = RegistryCA(config_map="corp-ca-bundle", certificates={"docker.io": "ca-bundle.crt"})
    settings = BuildSettings(registry_ca=registry_ca, insecure_registries=(IN_CLUSTER,))
    assert registry_ca.certificates == {"docker.io": "ca-bundle.crt"}
    steps = _steps(settings)
    assert steps["build"]["container"]["args"][-2:] == [
        f"--insecure-registry={IN_CLUSTER}",
        f"--registry-certificate=index.docker.io={REGISTRY_CA_DIR}/ca-bundle.crt",
    ]
    for pod in steps.values():
        volume = next(v for v in pod["volumes"] if v["name"] == "registry-ca")
        assert volume == {
            "name": "registry-ca",
            "configMap": {
                "name": "corp-ca-bundle",
                "items": [{"key": "ca-bundle.crt", "path": "ca-bundle.crt"}],
            },
        }
    for step in ("prefetch", "push"):
        args = steps[step]["container"]["args"]
        assert {f"--cert-dir={REGISTRY_CA_DIR}", f"--insecure-registry={IN_CLUSTER}"} <= set(args)


@pytest.mark.parametrize("form", ["inline", "cluster", "namespaced", "pvc"])
def test_rendered_with_registry_access_passes_lint(form: str, argo_schemas: list[ArgoSchema]) -> None:
    settings = BuildSettings(insecure_registries=(IN_CLUSTER,), registry_ca=CORP_CA)
    if form == "inline":
        document: Any = inline_workflow(ImageBuild(spec(settings=settings), name="trainer"))
    elif form == "namespaced":
        document = workflow_template(settings, namespace="ml-team")
    else:
        document = cluster_workflow_template(settings, context="artifact" if form == "cluster" else "pvc")
    text = document.to_yaml()
    assert lint_text(text, argo_schemas) == []
    pods = [pod for pod in pod_templates(yaml.safe_load(text)) if pod["name"].endswith(STEP_SUFFIXES)]
    assert len(pods) == 3
    assert all(f"--insecure-registry={IN_CLUSTER}" in pod["container"]["args"] for pod in pods)


RENDER_FLAGS = [
    "--insecure-registry",
    IN_CLUSTER,
    "--registry-ca-secret",
    "corp-registry-ca",
    "--registry-ca",
    f"{HARBOR}=corp-ca.crt",
    "--registry-ca",
    "index.docker.io=proxy-ca.crt",
    "--registry-ca",
    "quay.io=proxy-ca.crt",
]


def test_render_flags_bake_registry_access_into_the_versioned_template(
    capsys: pytest.CaptureFixture[str], argo_schemas: list[ArgoSchema]
) -> None:
    assert main(["render", *RENDER_FLAGS]) == 0
    text = capsys.readouterr().out
    settings = BuildSettings(insecure_registries=(IN_CLUSTER,), registry_ca=CORP_CA)
    assert text == render_template(settings=settings)
    document = yaml.safe_load(text)
    assert document["metadata"]["name"] == TEMPLATE_NAME
    assert lint_text(text, argo_schemas) == []
    kaniko = template(document, "build-kaniko")["container"]["args"]
    assert f"--registry-certificate={HARBOR}={REGISTRY_CA_DIR}/corp-ca.crt" in kaniko
    assert f"--insecure-registry={IN_CLUSTER}" in kaniko


def test_render_namespaced_pvc_with_a_config_map(
    capsys: pytest.CaptureFixture[str], argo_schemas: list[ArgoSchema]
) -> None:
    argv = ["render", "--namespaced", "--namespace", "ml-team", "--context", "pvc"]
    argv += ["--registry-ca-config-map", "corp-ca-bundle", "--registry-ca", f"{HARBOR}=corp-ca.crt"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert lint_text(text, argo_schemas) == []
    document = yaml.safe_load(text)
    assert (document["kind"], document["metadata"]["name"]) == (
        "WorkflowTemplate",
        "hera-imagebuild-pvc-v0-1-0",
    )
    for pod in pod_templates(document):
        volume = next(v for v in pod["volumes"] if v["name"] == "registry-ca")
        assert volume["configMap"]["name"] == "corp-ca-bundle"
