"""The ML steps the example pipelines share: preprocess, train, evaluate, serve.

Each runs the image it is given by digest (``{{inputs.parameters.image}}``),
so a pipeline runs exactly the image its build step pushed.
"""

from __future__ import annotations

from hera.workflows import Artifact, Container, Parameter, Resources
from hera.workflows.models import Toleration, ValueFrom

GPU_TOLERATION = Toleration(key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")

preprocess = Container(
    name="preprocess",
    image="{{inputs.parameters.image}}",
    command=["python", "-m", "features.build"],
    args=["--raw={{inputs.parameters.dataset}}", "--out=/mnt/out/features"],
    inputs=[Parameter(name="image"), Parameter(name="dataset")],
    outputs=[Artifact(name="features", path="/mnt/out/features")],
    resources=Resources(cpu_request="4", memory_request="16Gi"),
)

train = Container(
    name="train",
    image="{{inputs.parameters.image}}",
    command=["torchrun", "--nproc-per-node=1", "-m", "trainer.train"],
    args=["--data=/mnt/in/features", "--epochs={{inputs.parameters.epochs}}", "--out=/mnt/out/model"],
    inputs=[
        Parameter(name="image"),
        Parameter(name="epochs", default="20"),
        Artifact(name="features", path="/mnt/in/features"),
    ],
    outputs=[Artifact(name="model", path="/mnt/out/model")],
    resources=Resources(cpu_request="8", memory_request="48Gi", gpus=1),
    tolerations=[GPU_TOLERATION],
)

evaluate = Container(
    name="evaluate",
    image="{{inputs.parameters.image}}",
    command=["python", "-m", "trainer.evaluate"],
    args=["--model=/mnt/in/model", "--data=/mnt/in/features", "--metrics=/mnt/out/metrics.json"],
    inputs=[
        Parameter(name="image"),
        Artifact(name="model", path="/mnt/in/model"),
        Artifact(name="features", path="/mnt/in/features"),
    ],
    outputs=[Parameter(name="metrics", value_from=ValueFrom(path="/mnt/out/metrics.json"))],
    resources=Resources(cpu_request="4", memory_request="24Gi", gpus=1),
    tolerations=[GPU_TOLERATION],
)

serve_smoke_test = Container(
    name="serve-smoke-test",
    image="{{inputs.parameters.image}}",
    command=["python", "-m", "server.smoke_test"],
    args=["--model=/mnt/in/model", "--requests=100"],
    inputs=[Parameter(name="image"), Artifact(name="model", path="/mnt/in/model")],
    resources=Resources(cpu_request="2", memory_request="8Gi"),
)
