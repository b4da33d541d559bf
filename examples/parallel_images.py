"""Example (d): three images built in parallel, feeding one pipeline.

The feature pipeline (CPU, Spark-free pandas), the trainer (PyTorch + CUDA) and
the inference server (Triton) each have their own Dockerfile in one monorepo.
Their builds run side by side; each later step waits only for the image it runs.

Render: python examples/parallel_images.py > examples/parallel_images.yaml
"""

from __future__ import annotations

from hera.workflows import DAG, Parameter, Workflow
from ml_steps import evaluate, preprocess, serve_smoke_test, train

from hera_imagebuild.client.inline import ImageBuild
from hera_imagebuild.client.spec import BuildSpec, GitContext, LayerCache

REPO = GitContext(
    url="https://github.com/example-org/ranking.git", ref="8f3c2a1d9e4b7c6a5f0e1d2c3b4a59687f6e5d4c"
)
REGISTRY = "registry.example.com/ranking"
REGISTRY_CREDENTIALS = "ranking-registry-credentials"  # a docker-config Secret's name


def image_build(component: str, dockerfile: str, build_args: dict[str, str]) -> ImageBuild:
    """One component's image build, tagged with the commit and cached per component."""
    spec = BuildSpec(
        context=REPO,
        dockerfile=dockerfile,
        destinations=[f"{REGISTRY}/{component}:8f3c2a1", f"{REGISTRY}/{component}:latest"],
        build_args=build_args,
        cache=LayerCache(repo=f"{REGISTRY}/cache/{component}"),
        docker_config_secret=REGISTRY_CREDENTIALS,
    )
    return ImageBuild(name=f"{component}-image", spec=spec)


features_image = image_build("features", "features/Dockerfile", {"PYTHON_VERSION": "3.12"})
trainer_image = image_build(
    "trainer",
    "trainer/Dockerfile",
    {"BASE_IMAGE": "nvcr.io/nvidia/pytorch:24.10-py3", "TORCH_CUDA_ARCH_LIST": "8.0;9.0"},
)
server_image = image_build(
    "server", "server/Dockerfile", {"TRITON_BASE": "nvcr.io/nvidia/tritonserver:24.10-py3"}
)

with (
    Workflow(
        generate_name="ranking-pipeline-",
        entrypoint="pipeline",
        arguments=[Parameter(name="dataset", value="s3://example-ml-data/ranking/clicks/2026-11-27/")],
    ) as w,
    DAG(name="pipeline"),
):
    features_img = features_image()
    trainer_img = trainer_image()
    server_img = server_image()
    features = preprocess(
        arguments={"image": features_img.image_ref, "dataset": "{{workflow.parameters.dataset}}"}
    )
    model = train(arguments={"image": trainer_img.image_ref, "features": features.get_artifact("features")})
    scores = evaluate(
        arguments={
            "image": trainer_img.image_ref,
            "model": model.get_artifact("model"),
            "features": features.get_artifact("features"),
        }
    )
    smoke = serve_smoke_test(arguments={"image": server_img.image_ref, "model": model.get_artifact("model")})
    features_img >> features >> model >> scores
    trainer_img >> model
    [scores, server_img] >> smoke

if __name__ == "__main__":
    print(w.to_yaml(), end="")
