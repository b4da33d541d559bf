"""Argo's rules for single fields: what its validation, or the controller later, refuses.

Each rule cites where Argo enforces it (paths in argoproj/argo-workflows, the same in v3.7.14
and v4.0.9). The schema cannot express them, and most fail only once the workflow runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from hera_imagebuild.lint.documents import Document, iter_named
from hera_imagebuild.lint.expressions import check_retry_expression, check_when
from hera_imagebuild.lint.problem import Finding, JsonPath

# pkg/apis/workflow/v1alpha1/workflow_types.go: Template.IsLeaf.
_LEAF_TYPES = ("container", "containerSet", "script", "resource", "data", "http", "plugin")
# workflow/controller/workflowpod.go: setupServiceAccount runs for the templates that get a pod.
_POD_TYPES = ("container", "containerSet", "script", "resource", "data")
_BACKOFF_DURATIONS = ("duration", "cap", "maxDuration")
# Go's time.ParseDuration: a sequence of decimal numbers, each with a unit.
_GO_DURATION = re.compile(r"[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+|[-+]?0")
_GO_INT = re.compile(r"[-+]?[0-9]+")  # strconv.Atoi
_EXCERPT = 60


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= _EXCERPT else f"{flat[: _EXCERPT - 3]}...")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _is_tag(text: str) -> bool:
    """Whether ``text`` is one ``{{...}}`` (util/intstr/parametrizable.go: IsValidIntOrArgoVariable)."""
    return text.startswith("{{") and text.endswith("}}")


def check_rules(document: Document) -> list[Finding]:
    """Every rule below, on every template (inline ones included) and on the spec of ``document``."""
    spec, spec_path = document.spec, document.spec_path
    if not isinstance(document.body.get("spec"), dict):
        return []
    findings = list(_spec_rules(document, spec, spec_path))
    for template, path in _all_templates(spec, spec_path):
        findings.extend(_template_rules(template, path, spec))
    return findings


def _all_templates(spec: Mapping[str, Any], spec_path: JsonPath) -> Iterator[tuple[dict[str, Any], JsonPath]]:
    pending = [
        (template, (*spec_path, "templates", index))
        for index, template, _ in iter_named(spec.get("templates"))
    ]
    while pending:
        template, path = pending.pop()
        yield template, path
        for node, node_path in _nodes(template, path):
            if isinstance(node.get("inline"), dict):
                pending.append((node["inline"], (*node_path, "inline")))


def _nodes(template: Mapping[str, Any], path: JsonPath) -> Iterator[tuple[dict[str, Any], JsonPath]]:
    """The tasks of a DAG template, the steps of a steps template."""
    tasks = _mapping(template.get("dag")).get("tasks")
    if isinstance(tasks, list):
        for index, task in enumerate(tasks):
            if isinstance(task, dict):
                yield task, (*path, "dag", "tasks", index)
    steps = template.get("steps")
    if isinstance(steps, list):
        for group_index, group in enumerate(steps):
            for index, step in enumerate(group if isinstance(group, list) else ()):
                if isinstance(step, dict):
                    yield step, (*path, "steps", group_index, index)


def _spec_rules(document: Document, spec: Mapping[str, Any], spec_path: JsonPath) -> Iterator[Finding]:
    # workflow/validate/validate.go: ValidateWorkflow passes allowEmptyValues only to `argo lint`
    # and to a WorkflowTemplate validated on its own: a workflow's parameters need their value.
    # With a workflowTemplateRef the referenced template's arguments are merged in first.
    if document.kind in ("Workflow", "CronWorkflow") and "workflowTemplateRef" not in spec:
        parameters = _mapping(spec.get("arguments")).get("parameters")
        for index, parameter, name in iter_named(parameters):
            if "value" not in parameter and "valueFrom" not in parameter:
                yield Finding(
                    (*spec_path, "arguments", "parameters", index),
                    f"workflow parameter '{name}' has no value: a {document.kind} must set 'value' or "
                    "'valueFrom' (only a WorkflowTemplate may leave it to the submitter)",
                )


def _template_rules(template: dict[str, Any], path: JsonPath, spec: Mapping[str, Any]) -> Iterator[Finding]:
    kind = next((key for key in (*_LEAF_TYPES, "dag", "steps", "suspend") if key in template), None)
    yield from _retry_rules(_mapping(template.get("retryStrategy")), (*path, "retryStrategy"))
    for node, node_path in _nodes(template, path):
        when = node.get("when")
        if isinstance(when, str) and when.strip():
            for message in check_when(when):
                yield Finding((*node_path, "when"), f"{_excerpt(when)}: {message}")
    deadline = template.get("activeDeadlineSeconds")
    if isinstance(deadline, str) and not (_GO_INT.fullmatch(deadline) or _is_tag(deadline)):
        # workflow/validate/validate.go: validateLeaf (IsValidIntOrArgoVariable).
        yield Finding(
            (*path, "activeDeadlineSeconds"),
            f"{deadline!r} is not a number of seconds: write an integer (900) or a '{{{{...}}}}' expression",
        )
    if kind in ("dag", "steps"):
        yield from _non_leaf_output_rules(template, path, kind)
    if kind in _LEAF_TYPES:
        yield from _artifact_path_rules(template, path, kind)
    if kind in _POD_TYPES:
        yield from _service_account_rules(template, path, spec)


def _retry_rules(strategy: Mapping[str, Any], path: JsonPath) -> Iterator[Finding]:
    expression = strategy.get("expression")
    if isinstance(expression, str) and expression.strip():
        for message in check_retry_expression(expression):
            yield Finding((*path, "expression"), f"{_excerpt(expression)}: {message}")
    backoff = _mapping(strategy.get("backoff"))
    for key in _BACKOFF_DURATIONS:
        value = backoff.get(key)
        # pkg/apis/workflow/v1alpha1/utils.go: ParseStringToDuration, seconds or time.ParseDuration.
        if isinstance(value, str) and not (
            _GO_INT.fullmatch(value) or _GO_DURATION.fullmatch(value) or _is_tag(value)
        ):
            yield Finding(
                (*path, "backoff", key),
                f"{value!r} is not a duration Argo parses: a number of seconds ('10') or Go's "
                "duration syntax without spaces ('10s', '1m30s', '2h'; units ns, us, ms, s, m, h)",
            )


def _non_leaf_output_rules(template: Mapping[str, Any], path: JsonPath, kind: str) -> Iterator[Finding]:
    # workflow/validate/validate.go: validateOutputs (TemplateTypeDAG, TemplateTypeSteps).
    parameters = _mapping(template.get("outputs")).get("parameters")
    for index, parameter, name in iter_named(parameters):
        source = _mapping(parameter.get("valueFrom"))
        if "valueFrom" in parameter and not source.get("parameter") and not source.get("expression"):
            where = "valueFrom.path is only for container and script templates; " if "path" in source else ""
            yield Finding(
                (*path, "outputs", "parameters", index, "valueFrom"),
                f"output parameter '{name}' of a {kind} template: {where}"
                "set valueFrom.parameter or valueFrom.expression",
            )


def _artifact_path_rules(template: Mapping[str, Any], path: JsonPath, kind: str) -> Iterator[Finding]:
    artifacts = _mapping(template.get("inputs")).get("artifacts")
    # workflow/validate/validate.go: validateLeaf refuses two paths mounted at one place.
    mounted: dict[str, str] = {}
    if kind == "container":
        for mount in _mapping(template.get("container")).get("volumeMounts") or ():
            if isinstance(mount, dict) and isinstance(mount.get("mountPath"), str):
                mounted.setdefault(mount["mountPath"], f"volume mount '{mount.get('name')}'")
    for index, artifact, name in iter_named(artifacts):
        where = (*path, "inputs", "artifacts", index)
        target = artifact.get("path")
        if not isinstance(target, str) or not target:
            # workflow/validate/validate.go: validateInputs calls Artifact.CleanPath for leaves.
            yield Finding(where, f"input artifact '{name}' has no 'path': a {kind} template needs one")
            continue
        if kind != "container":
            continue
        if target in mounted:
            yield Finding((*where, "path"), f"'{target}' is already where {mounted[target]} is mounted")
        else:
            mounted[target] = f"input artifact '{name}'"


def _service_account_rules(
    template: Mapping[str, Any], path: JsonPath, spec: Mapping[str, Any]
) -> Iterator[Finding]:
    # workflow/controller/workflowpod.go: setupServiceAccount fails the pod when the token is
    # not mounted and no executor service account gives the executor one. Template defaults
    # are merged into each template first, so they count too.
    defaults = _mapping(spec.get("templateDefaults"))
    for holder in (template, defaults, spec):
        if "automountServiceAccountToken" in holder:
            automount = holder["automountServiceAccountToken"]
            break
    else:
        return
    executors = (template, defaults, spec)
    if automount is False and not any(
        _mapping(h.get("executor")).get("serviceAccountName") for h in executors
    ):
        key = "automountServiceAccountToken"
        yield Finding(
            (*path, key) if key in template else path,
            "automountServiceAccountToken is false but no executor.serviceAccountName is set (in the "
            "template, templateDefaults or spec): Argo fails the pod, as the executor needs a token",
        )
