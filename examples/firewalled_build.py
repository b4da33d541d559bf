"""Example (c): a build behind a corporate firewall.

Docker Hub and NVIDIA's NGC registry are reached only through the company's
Harbor mirrors (two per registry, tried in order); the public registries stay
as a last resort (fallback on) through the HTTPS proxy; credentials for the
mirrors and the destination come from one docker-config Secret, made with
``hera-imagebuild secret docker-config``.

Render: python examples/firewalled_build.py > examples/firewalled_build.yaml
"""

from __future__ import annotations

from hera.workflows import DAG, S3Artifact, Workflow
from ml_steps import serve_smoke_test

from hera_imagebuild.client.inline import ImageBuild
from hera_imagebuild.client.spec import BuildSpec, GitContext, Proxy

REGISTRY_CREDENTIALS = "harbor-robot-recsys"
"""docker-config Secret with the robot account for the Harbor mirrors and the destination."""

SERVER_SPEC = BuildSpec(
    context=GitContext(url="https://git.corp.example.com/ml/recsys-serving.git", ref="release-4.1"),
    dockerfile="Dockerfile.triton",
    destinations=["harbor.corp.example.com/recsys/triton-server:4.1.0"],
    build_args={"TRITON_BASE": "nvcr.io/nvidia/tritonserver:24.10-py3", "TOKENIZER_BASE": "python:3.12-slim"},
    mirrors={
        "docker.io": [
            "harbor.corp.example.com/dockerhub-proxy",
            "harbor-dr.corp.example.com/dockerhub-proxy",
        ],
        "nvcr.io": ["harbor.corp.example.com/ngc-proxy"],
    },
    fallback=True,
    proxy=Proxy(
        http="http://proxy.corp.example.com:3128",
        https="http://proxy.corp.example.com:3128",
        no_proxy=".corp.example.com,10.0.0.0/8,localhost",
    ),
    docker_config_secret=REGISTRY_CREDENTIALS,
    probe_timeout=3.0,
)

server_image = ImageBuild(name="triton-image", spec=SERVER_SPEC)

with Workflow(generate_name="recsys-serving-build-", entrypoint="release") as w, DAG(name="release"):
    image = server_image()
    smoke = serve_smoke_test(
        arguments={
            "image": image.image_ref,
            "model": S3Artifact(name="model", key="recsys/models/4.1.0"),
        }
    )
    image >> smoke

if __name__ == "__main__":
    print(w.to_yaml(), end="")
