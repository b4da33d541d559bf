"""Security properties of the rendered templates (templates/*.yaml and examples/*.yaml).

* Build pods get no service-account token: ``automountServiceAccountToken: false``
  on every pod template, with the executor service account that ``install`` creates
  (Argo refuses such a pod without one, and mounts that account's token only into
  its own containers).
* Parameters cannot inject: no pod runs a shell, parameters never reach a
  ``command``, and each argv element that carries a parameter starts with its own
  ``--flag=``, so whatever Argo substitutes stays one literal argv element. For our
  own steps this is checked end to end: every parameter is replaced by hostile
  strings, as Argo would, and the step's real argument parser must read exactly
  that string back as the flag's value, leaving every other option untouched.
"""

from __future__ import annotations

import argparse
import importlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from hera_imagebuild.cli.main import COMMANDS
from hera_imagebuild.client.options import BuildSettings
from hera_imagebuild.client.published import cluster_workflow_template
from hera_imagebuild.cluster.install import DEFAULT_EXECUTOR_SERVICE_ACCOUNT, executor_manifests

REPO_ROOT = Path(__file__).resolve().parents[2]
RENDERED = sorted((REPO_ROOT / "templates").glob("*.yaml")) + sorted((REPO_ROOT / "examples").glob("*.yaml"))
PARAMETER = re.compile(r"\{\{\s*inputs\.parameters\.[\w-]+\s*\}\}")
SHELLS = {"sh", "bash", "ash", "dash", "zsh", "busybox", "/bin/sh", "/bin/bash", "/bin/ash", "/bin/dash"}
HOSTILE = (
    "x; rm -rf /workspace",
    "$(touch /tmp/pwned)",
    "`id`",
    "--output-dir=/etc",
    "a --insecure-registry=evil.example.com --fallback=false",
    "line1\n--probe-timeout=0",
    "'\"\\ *",
)


def _pod_templates(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for document in yaml.safe_load_all(path.read_text()):
        if not isinstance(document, dict):
            continue
        for template in document.get("spec", {}).get("templates", []):
            if "container" in template or "script" in template:
                yield f"{path.name}: {template['name']}", template


def _our_build_pods(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Pod templates of image builds: ours run hera-imagebuild or kaniko; the examples' own steps do not."""
    for where, template in _pod_templates(path):
        command = template.get("container", {}).get("command", [])
        if command[:1] in (["hera-imagebuild"], ["/kaniko/executor"]):
            yield where, template


ALL_BUILD_PODS = [pod for path in RENDERED for pod in _our_build_pods(path)]
ALL_PODS = [pod for path in RENDERED for pod in _pod_templates(path)]


def test_rendered_files_hold_build_pods() -> None:
    assert len(RENDERED) >= 4, f"expected the shipped templates and examples, found {RENDERED}"
    steps = {template["container"]["command"][0] for _, template in ALL_BUILD_PODS}
    assert steps == {"hera-imagebuild", "/kaniko/executor"}


@pytest.mark.parametrize(("where", "template"), ALL_BUILD_PODS, ids=[where for where, _ in ALL_BUILD_PODS])
def test_build_pods_mount_no_service_account_token(where: str, template: dict[str, Any]) -> None:
    assert template.get("automountServiceAccountToken") is False, where
    assert template.get("executor", {}).get("serviceAccountName") == DEFAULT_EXECUTOR_SERVICE_ACCOUNT, where
    assert template["container"].get("securityContext", {}).get("privileged") is False, where


def test_install_creates_the_executor_account_with_its_token_secret() -> None:
    kinds = {(m["kind"], m["metadata"]["name"]) for m in executor_manifests("ml")}
    assert ("ServiceAccount", DEFAULT_EXECUTOR_SERVICE_ACCOUNT) in kinds
    secret = next(m for m in executor_manifests("ml") if m["kind"] == "Secret")
    assert secret["type"] == "kubernetes.io/service-account-token"
    assert secret["metadata"]["annotations"]["kubernetes.io/service-account.name"] == (
        DEFAULT_EXECUTOR_SERVICE_ACCOUNT
    )


def _rendered_pods(settings: BuildSettings) -> list[dict[str, Any]]:
    body = cluster_workflow_template(settings).to_dict()
    return [t for t in body["spec"]["templates"] if "container" in t]


def test_executor_account_setting_names_the_account_on_every_build_pod() -> None:
    pods = _rendered_pods(BuildSettings(executor_service_account="ml-builds-executor"))
    assert len(pods) == 3
    for pod in pods:
        assert pod["automountServiceAccountToken"] is False
        assert pod["executor"] == {"serviceAccountName": "ml-builds-executor"}


def test_opting_in_to_the_token_is_explicit_and_visible() -> None:
    pods = _rendered_pods(BuildSettings(automount_service_account_token=True, executor_service_account=None))
    for pod in pods:
        assert pod.get("automountServiceAccountToken", True) is True
        assert "executor" not in pod


def test_no_token_without_an_executor_account_is_refused() -> None:
    with pytest.raises(ValueError, match="executor_service_account"):
        BuildSettings(executor_service_account=None)


@pytest.mark.parametrize(("where", "template"), ALL_PODS, ids=[where for where, _ in ALL_PODS])
def test_no_pod_runs_a_shell_or_takes_a_parameter_in_its_command(
    where: str, template: dict[str, Any]
) -> None:
    assert "script" not in template, f"{where}: a script template would put parameters into source code"
    container = template["container"]
    command = container.get("command", [])
    assert command, f"{where}: every container names its command (Argo's emissary executor needs it)"
    assert command[0] not in SHELLS, f"{where}: runs a shell: {command}"
    assert not any(PARAMETER.search(part) for part in command), f"{where}: a parameter in the command"
    for element in container.get("args", []):
        match = PARAMETER.search(element)
        if match:
            assert re.fullmatch(r"(?:[a-z-]+ )?--[a-z][a-z0-9-]*=.*", element[: match.start()] + "x"), (
                f"{where}: {element!r} could become a flag of its own: a parameter must follow '--flag='"
            )


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=command, exit_on_error=False)
    importlib.import_module(COMMANDS[command][0]).add_arguments(parser)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> dict[str, Any] | None:
    """The parsed options, or None when the parser refused the value (a usage error, never a new option)."""
    try:
        return vars(parser.parse_args(argv))
    except argparse.ArgumentError:
        return None


STEP_PODS = [(where, t) for where, t in ALL_BUILD_PODS if t["container"]["command"] == ["hera-imagebuild"]]


def _benign(parser: argparse.ArgumentParser, element: str) -> str:
    """A value this element's option accepts (typed and choice options refuse most strings)."""
    for candidate in ("safe", "5", "true"):
        if _parse(parser, [PARAMETER.sub(candidate, element)]) is not None:
            return candidate
    raise AssertionError(f"no ordinary value parses for {element!r}")


@pytest.mark.parametrize(("where", "template"), STEP_PODS, ids=[where for where, _ in STEP_PODS])
def test_hostile_parameter_values_stay_one_literal_option_value(where: str, template: dict[str, Any]) -> None:
    command, *args = template["container"]["args"]
    parser = _parser(command)
    ordinary = [PARAMETER.sub(_benign(parser, a), a) if PARAMETER.search(a) else a for a in args]
    baseline = _parse(parser, ordinary)
    assert baseline is not None, f"{where}: the template's own argv does not parse: {ordinary}"
    checked = 0
    for index, element in enumerate(args):
        if not PARAMETER.search(element):
            continue
        for hostile in HOSTILE:
            # Argo substitutes each parameter into its own argv element; only this one is hostile.
            parsed = _parse(
                parser, [*ordinary[:index], PARAMETER.sub(hostile, element), *ordinary[index + 1 :]]
            )
            if parsed is None:  # a typed or choice option refused it: nothing was injected
                continue
            changed = {key: value for key, value in parsed.items() if value != baseline[key]}
            expected = PARAMETER.sub(hostile, element.split("=", 1)[1])
            assert list(changed.values()) == [expected], (
                f"{where}: {element!r} with {hostile!r} gave {changed}"
            )
            checked += 1
    assert checked, f"{where}: no parameter-carrying argument took a literal value"
