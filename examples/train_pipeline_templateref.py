"""Example (b): the training pipeline of example (a), building through the installed template.

Install the template once (``hera-imagebuild install`` or
``kubectl apply -f templates/cluster-workflow-template.yaml``); the pipeline then
only references it, so every team builds with the same reviewed template.

Render: python examples/train_pipeline_templateref.py > examples/train_pipeline_templateref.yaml
"""

from __future__ import annotations

from hera.workflows import DAG, Parameter, Workflow
from ml_steps import evaluate, preprocess, train
from train_pipeline import TRAINER_SPEC

from hera_imagebuild.client.published import build_from_template

with (
    Workflow(
        generate_name="fraud-train-",
        entrypoint="pipeline",
        arguments=[Parameter(name="dataset", value="s3://example-ml-data/fraud/2026-11/")],
    ) as w,
    DAG(name="pipeline"),
):
    image = build_from_template(TRAINER_SPEC, name="trainer-image")
    features = preprocess(arguments={"image": image.image_ref, "dataset": "{{workflow.parameters.dataset}}"})
    model = train(arguments={"image": image.image_ref, "features": features.get_artifact("features")})
    scores = evaluate(
        arguments={
            "image": image.image_ref,
            "model": model.get_artifact("model"),
            "features": features.get_artifact("features"),
        }
    )
    image >> features >> model >> scores

if __name__ == "__main__":
    print(w.to_yaml(), end="")
