"""Example (b): the training pipeline of example (a), building through the installed template.

Install the template once (``hera-imagebuild install`` or
``kubectl apply -f templates/cluster-workflow-template.yaml``); the pipeline then
only references it, so every team builds with the same reviewed template.

Render: python examples/train_pipeline_templateref.py > examples/train_pipeline_templateref.yaml
"""

from __future__ import annotations

from train_pipeline import TRAINER_SPEC, training_workflow

from hera_imagebuild.client.published import build_from_template

w = training_workflow(lambda: build_from_template(TRAINER_SPEC, name="trainer-image"))

if __name__ == "__main__":
    print(w.to_yaml(), end="")
