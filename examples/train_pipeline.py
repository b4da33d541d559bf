"""Example (a): build a PyTorch/CUDA training image, then train and evaluate with it by digest.

Render: python examples/train_pipeline.py > examples/train_pipeline.yaml
"""

from __future__ import annotations

from collections.abc import Callable

from hera.workflows import DAG, Parameter, Workflow
from ml_steps import evaluate, preprocess, train

from hera_imagebuild.client.dag import BuildHandle
from hera_imagebuild.client.inline import ImageBuild
from hera_imagebuild.client.spec import BuildSpec, GitContext, LayerCache

REGISTRY_CREDENTIALS = "ml-registry-credentials"  # a docker-config Secret's name

TRAINER_SPEC = BuildSpec(
    context=GitContext(url="https://github.com/example-org/fraud-detection.git", ref="v2.3.0"),
    dockerfile="docker/train.Dockerfile",
    destinations=["registry.example.com/ml/fraud-trainer:v2.3.0"],
    build_args={"BASE_IMAGE": "pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime", "EXTRAS": "train,eval"},
    labels={"com.example.team": "fraud-ml"},
    cache=LayerCache(repo="registry.example.com/ml/cache/fraud-trainer"),
    docker_config_secret=REGISTRY_CREDENTIALS,
)

trainer_image = ImageBuild(name="trainer-image", spec=TRAINER_SPEC)


def training_workflow(build_image: Callable[[], BuildHandle]) -> Workflow:
    """Build the trainer image, then preprocess, train and evaluate with exactly that image."""
    with (
        Workflow(
            generate_name="fraud-train-",
            entrypoint="pipeline",
            arguments=[Parameter(name="dataset", value="s3://example-ml-data/fraud/2026-11/")],
        ) as workflow,
        DAG(name="pipeline"),
    ):
        image = build_image()
        features = preprocess(
            arguments={"image": image.image_ref, "dataset": "{{workflow.parameters.dataset}}"}
        )
        model = train(arguments={"image": image.image_ref, "features": features.get_artifact("features")})
        scores = evaluate(
            arguments={
                "image": image.image_ref,
                "model": model.get_artifact("model"),
                "features": features.get_artifact("features"),
            }
        )
        image >> features >> model >> scores
    return workflow


w = training_workflow(trainer_image)

if __name__ == "__main__":
    print(w.to_yaml(), end="")
