"""The strict check of one document: templates, templateRefs, DAG dependencies, arguments, variables.

It needs no schema and no cluster. ``templateRef`` and ``workflowTemplateRef`` are resolved
against the WorkflowTemplates and ClusterWorkflowTemplates of the same lint run.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from hera_imagebuild.lint.dag import ancestors, find_cycle, parse_depends
from hera_imagebuild.lint.documents import Document, iter_named
from hera_imagebuild.lint.problem import Finding, JsonPath, listing
from hera_imagebuild.lint.tags import ARGO_ROOTS, Tag, TagError, expression_references, iter_tags
from hera_imagebuild.lint.variables import EarlierSteps, Including, Node, Scope, names, node_for, resolve

_LOOPS = ("withItems", "withParam", "withSequence")
# An input artifact with a location (or taken from another artifact) needs no argument.
_ARTIFACT_LOCATIONS = ("raw", "s3", "gcs", "git", "http", "hdfs", "oss", "azure", "artifactory", "plugin")
_ARTIFACT_SOURCES = frozenset((*_ARTIFACT_LOCATIONS, "from", "fromExpression"))
_PARAMETER_DEFAULTS = ("value", "default", "valueFrom")
_TAG_EXCERPT = 60
_TEMPLATE_KINDS = ("WorkflowTemplate", "ClusterWorkflowTemplate")
# workflow/validate/validate.go: paramRegex.
_PARAMETER_TAG = re.compile(r"\{\{[-a-zA-Z0-9]+(\.[-a-zA-Z0-9_]+)*\}\}")


class TemplateRegistry:
    """The WorkflowTemplates and ClusterWorkflowTemplates a lint run can resolve references against."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self._documents: dict[tuple[str, str], Document] = {}
        for document in documents:
            if document.kind in _TEMPLATE_KINDS and not document.name.startswith("#"):  # "#N": unnamed
                self._documents[(document.kind, document.name)] = document

    def get(self, name: str, *, cluster_scope: bool) -> Document | None:
        """The ClusterWorkflowTemplate (``cluster_scope``) or WorkflowTemplate called ``name``."""
        return self._documents.get((_ref_kind(cluster_scope), name))


def _ref_kind(cluster_scope: bool) -> str:
    return "ClusterWorkflowTemplate" if cluster_scope else "WorkflowTemplate"


def _templates(document: Document) -> dict[str, dict[str, Any]]:
    return {name: template for _, template, name in iter_named(document.spec.get("templates"))}


@dataclass(frozen=True)
class _Callee:
    """The template a task, step or hook runs (``template`` is ``None`` when it cannot be resolved)."""

    template: dict[str, Any] | None
    label: str


class ReferenceChecker:
    """Checks one document; :meth:`run` returns its findings."""

    def __init__(
        self, document: Document, registry: TemplateRegistry, *, allow_unresolved_refs: bool
    ) -> None:
        self.document = document
        self.registry = registry
        self.allow_unresolved_refs = allow_unresolved_refs
        self.findings: list[Finding] = []
        self.templates: dict[str, dict[str, Any]] = {}
        self.workflow_parameters: frozenset[str] | None = frozenset()

    def run(self) -> list[Finding]:
        """Check the whole document."""
        if not isinstance(self.document.body.get("spec"), dict):
            return []  # nothing to check; a missing spec is the schema's finding
        spec, spec_path = self.document.spec, self.document.spec_path
        self.templates = self._index_templates(spec.get("templates"), (*spec_path, "templates"))
        referenced = self._workflow_template_ref(spec, spec_path)
        parameters = set(names(_arguments(spec).get("parameters")))
        if referenced is not None:
            parameters.update(names(_arguments(referenced.spec).get("parameters")))
        unresolved = "workflowTemplateRef" in spec and referenced is None
        # A WorkflowTemplate's parameters may come from the workflow that uses it
        # (workflow/validate/validate.go: resolveAllVariables, workflowTemplateValidation).
        open_parameters = unresolved or self.document.kind in _TEMPLATE_KINDS
        self.workflow_parameters = None if open_parameters else frozenset(parameters)
        if not unresolved:
            self._check_entrypoint(spec, spec_path, referenced, parameters)
        if isinstance(spec.get("onExit"), str):
            self._local_template(spec["onExit"], (*spec_path, "onExit"))
        for name, hook in _mapping(spec.get("hooks")).items():
            self._invocation(hook, (*spec_path, "hooks", name), inline=False)
        for index, template, _ in iter_named(spec.get("templates")):
            self._check_template(template, (*spec_path, "templates", index))
        outside = Scope(workflow_parameters=self.workflow_parameters)
        for key, value in spec.items():
            if key not in ("templates", "templateDefaults"):
                self._strings(value, (*spec_path, key), outside)
        return self.findings

    def _add(self, path: JsonPath, message: str) -> None:
        self.findings.append(Finding(path, message))

    # -- templates and the references to them ------------------------------------------------

    def _index_templates(self, items: Any, path: JsonPath) -> dict[str, dict[str, Any]]:
        templates: dict[str, dict[str, Any]] = {}
        first: dict[str, int] = {}
        for index, template, name in iter_named(items):
            if name in templates:
                self._add(
                    (*path, index, "name"),
                    f"duplicate template name '{name}' (also templates[{first[name]}])",
                )
            else:
                templates[name], first[name] = template, index
        return templates

    def _workflow_template_ref(self, spec: Mapping[str, Any], spec_path: JsonPath) -> Document | None:
        ref = spec.get("workflowTemplateRef")
        if not isinstance(ref, dict) or not isinstance(ref.get("name"), str):
            return None
        path = (*spec_path, "workflowTemplateRef")
        if spec.get("templates"):
            self._add(
                (*spec_path, "templates"), "must be empty when workflowTemplateRef is set (Argo rejects both)"
            )
        return self._find_document(ref["name"], bool(ref.get("clusterScope")), path)

    def _find_document(self, name: str, cluster_scope: bool, path: JsonPath) -> Document | None:
        document = self.registry.get(name, cluster_scope=cluster_scope)
        if document is not None:
            return document
        kind = _ref_kind(cluster_scope)
        if self.registry.get(name, cluster_scope=not cluster_scope) is not None:
            self._add(
                (*path, "clusterScope"),
                f"'{name}' is a {_ref_kind(not cluster_scope)}, not a {kind}: "
                f"set clusterScope: {str(not cluster_scope).lower()}",
            )
        elif not self.allow_unresolved_refs:
            self._add(
                path,
                f"{kind} '{name}' is not among the linted or --ref documents, so this reference cannot be "
                "checked (give its file with --ref, or pass --allow-unresolved-refs)",
            )
        return None

    def _check_entrypoint(
        self,
        spec: Mapping[str, Any],
        spec_path: JsonPath,
        referenced: Document | None,
        passed: Collection[str],
    ) -> None:
        """The entrypoint exists; a workflow's ``passed`` parameters cover its inputs without default."""
        available = self.templates if referenced is None else _templates(referenced)
        entrypoint = spec.get("entrypoint")
        if entrypoint is None and referenced is not None:
            entrypoint = referenced.spec.get("entrypoint")
        is_workflow = self.document.kind in ("Workflow", "CronWorkflow")
        if not isinstance(entrypoint, str) or not entrypoint:
            if is_workflow:
                self._add(
                    spec_path, "no entrypoint: set spec.entrypoint to the template the workflow starts with"
                )
            return
        template = available.get(entrypoint)
        if template is None:
            self._add(
                (*spec_path, "entrypoint"),
                f"template '{entrypoint}' not found (templates: {listing(available)})",
            )
            return
        if is_workflow:
            # A workflow passes its arguments to the entrypoint by name.
            for _, parameter, name in iter_named(_mapping(template.get("inputs")).get("parameters")):
                if name not in passed and not any(key in parameter for key in _PARAMETER_DEFAULTS):
                    self._add(
                        (*spec_path, "arguments"),
                        f"entrypoint template '{entrypoint}' requires input parameter '{name}': "
                        "add it to spec.arguments.parameters",
                    )

    def _local_template(self, name: Any, path: JsonPath) -> dict[str, Any] | None:
        if not isinstance(name, str):
            return None
        template = self.templates.get(name)
        if template is None:
            self._add(
                path, f"template '{name}' not found in this document (templates: {listing(self.templates)})"
            )
        return template

    def _template_ref(self, ref: Any, path: JsonPath) -> _Callee:
        if (
            not isinstance(ref, dict)
            or not isinstance(ref.get("name"), str)
            or not isinstance(ref.get("template"), str)
        ):
            self._add(path, "templateRef needs 'name' and 'template'")
            return _Callee(None, "templateRef")
        name, wanted, cluster_scope = ref["name"], ref["template"], bool(ref.get("clusterScope"))
        label = f"'{wanted}' of {_ref_kind(cluster_scope)} '{name}'"
        document = self._find_document(name, cluster_scope, path)
        if document is None:
            return _Callee(None, label)
        templates = _templates(document)
        template = templates.get(wanted)
        if template is None:
            self._add(
                (*path, "template"),
                f"{_ref_kind(cluster_scope)} '{name}' has no template '{wanted}' "
                f"(templates: {listing(templates)})",
            )
        return _Callee(template, label)

    def _invocation(self, call: Any, path: JsonPath, *, inline: bool = True) -> _Callee:
        """Check what a task, step or lifecycle hook runs, and the arguments it passes."""
        if not isinstance(call, dict):
            return _Callee(None, "?")
        kinds = ("template", "templateRef", "inline") if inline else ("template", "templateRef")
        present = [kind for kind in kinds if kind in call]
        if len(present) != 1:
            found = f"sets {' and '.join(present)}" if present else "names no template"
            self._add(path, f"{found}: set exactly one of {', '.join(kinds)}")
        callee = _Callee(None, "?")
        if "template" in call:
            callee = _Callee(
                self._local_template(call["template"], (*path, "template")), f"'{call['template']}'"
            )
        elif "templateRef" in call:
            callee = self._template_ref(call["templateRef"], (*path, "templateRef"))
        elif isinstance(call.get("inline"), dict):
            callee = _Callee(call["inline"], "(inline)")
        if callee.template is not None:
            self._check_arguments(call, callee.template, callee.label, path)
        if "onExit" in call:
            self._local_template(call["onExit"], (*path, "onExit"))
        for name, hook in _mapping(call.get("hooks")).items():
            self._invocation(hook, (*path, "hooks", name), inline=False)
        return callee

    def _check_arguments(
        self, call: Mapping[str, Any], template: Mapping[str, Any], label: str, path: JsonPath
    ) -> None:
        """Arguments passed must be declared inputs; inputs without a default must be passed."""
        arguments = _arguments(call)
        inputs = _mapping(template.get("inputs"))
        if not inputs:
            # Arguments are matched to declared inputs only (workflow/common/util.go: ProcessArgs);
            # a template without inputs ignores them, as generic callers rely on.
            return
        for kind, defaults in (("parameters", _PARAMETER_DEFAULTS), ("artifacts", _ARTIFACT_SOURCES)):
            declared = {name: item for _, item, name in iter_named(inputs.get(kind))}
            passed = set()
            for index, _, name in iter_named(arguments.get(kind)):
                passed.add(name)
                if name not in declared:
                    self._add(
                        (*path, "arguments", kind, index, "name"),
                        f"template {label} has no input {kind[:-1]} '{name}' "
                        f"(inputs.{kind}: {listing(declared)})",
                    )
            for name, item in declared.items():
                optional = item.get("optional") is True or any(key in item for key in defaults)
                if name not in passed and not optional:
                    self._add(
                        (*path, "arguments") if "arguments" in call else path,
                        f"template {label} requires input {kind[:-1]} '{name}', which is not passed",
                    )

    # -- inside templates ----------------------------------------------------------------------

    def _check_template(self, template: dict[str, Any], path: JsonPath) -> None:
        scope = Scope(template, str(template.get("name", "(inline)")), self.workflow_parameters)
        dag, steps = template.get("dag"), template.get("steps")
        if isinstance(dag, dict) and isinstance(dag.get("tasks"), list):
            scope = replace(scope, nodes=self._check_dag(dag, (*path, "dag"), scope), node_root="tasks")
        elif isinstance(steps, list):
            scope = replace(scope, nodes=self._check_steps(steps, (*path, "steps"), scope), node_root="steps")
        for key, value in template.items():
            if key == "dag" and isinstance(value, dict):
                rest = {field: item for field, item in value.items() if field != "tasks"}
                self._strings(rest, (*path, key), scope)
            elif key != "steps":
                self._strings(value, (*path, key), scope)

    def _check_node(self, node: dict[str, Any], path: JsonPath, scope: Scope) -> None:
        """Variables of one task or step; an inline template is a template of its own."""
        name = node.get("name")
        scope = replace(scope, current=name, loop=any(loop in node for loop in _LOOPS))
        for key, value in node.items():
            if key == "inline" and isinstance(value, dict):
                self._check_template(value, (*path, key))
            elif key == "hooks" and isinstance(name, str) and scope.visible is not None:
                # Hooks run once the task has started or ended: it reads its own outputs and
                # status (workflow/validate/validate.go: validateDAG adds them for hooks).
                self._strings(value, (*path, key), replace(scope, visible=Including(scope.visible, name)))
            elif key != "name":
                self._strings(value, (*path, key), scope)

    def _check_dag(self, dag: Mapping[str, Any], path: JsonPath, scope: Scope) -> dict[str, Node]:
        tasks_path = (*path, "tasks")
        entries = list(iter_named(dag["tasks"]))
        nodes: dict[str, Node] = {}
        first: dict[str, int] = {}
        for index, task, name in entries:
            if name in nodes:
                self._add(
                    (*tasks_path, index, "name"), f"duplicate task name '{name}' (also tasks[{first[name]}])"
                )
                continue
            first[name] = index
            callee = self._invocation(task, (*tasks_path, index))
            nodes[name] = node_for(callee.template, callee.label)
        graph = self._dependency_graph(entries, first, tasks_path)
        cycle = find_cycle(graph)
        if cycle:
            self._add(tasks_path, f"dependency cycle: {' -> '.join(cycle)}")
        if isinstance(dag.get("target"), str):
            for target in dag["target"].split():
                # workflow/validate/validate.go: validateDAGTargets skips a '{{...}}' target.
                if target not in nodes and not _PARAMETER_TAG.fullmatch(target):
                    self._add((*path, "target"), f"no task '{target}' (tasks: {listing(nodes)})")
        before = ancestors(graph)
        for index, task, name in entries:
            if first.get(name) == index:
                self._check_node(
                    task,
                    (*tasks_path, index),
                    replace(scope, nodes=nodes, node_root="tasks", visible=before[name]),
                )
        return nodes

    def _dependency_graph(
        self, entries: list[tuple[int, dict[str, Any], str]], first: Mapping[str, int], path: JsonPath
    ) -> dict[str, list[str]]:
        """Task name -> the tasks it depends on (only the first of duplicate tasks counts)."""
        graph: dict[str, list[str]] = {name: [] for name in first}
        # Argo's validation rules for the two dependency styles (workflow/validate).
        styles = {key for _, task, _ in entries for key in ("depends", "dependencies") if task.get(key)}
        if len(styles) > 1:
            self._add(path, "mixes 'depends' and 'dependencies': Argo accepts only one style per DAG")
        for index, task, name in entries:
            if styles and name[:1].isdigit():
                self._add(
                    (*path, index, "name"),
                    f"task name '{name}' starts with a digit, which Argo rejects in a DAG with dependencies",
                )
            if "depends" in styles and "continueOn" in task:
                self._add(
                    (*path, index, "continueOn"),
                    "not allowed with 'depends': use 'task.Failed' or 'task.Errored' there",
                )
        for index, task, name in entries:
            parents: list[tuple[JsonPath, str]] = []
            if isinstance(task.get("dependencies"), list):
                parents += [
                    ((*path, index, "dependencies", i), d) for i, d in enumerate(task["dependencies"])
                ]
            if isinstance(task.get("depends"), str):
                try:
                    parents += [((*path, index, "depends"), d) for d in parse_depends(task["depends"])]
                except ValueError as error:
                    self._add((*path, index, "depends"), f"cannot parse {task['depends']!r}: {error}")
            for where, parent in parents:
                if parent not in first:
                    self._add(
                        where, f"task '{name}' depends on unknown task '{parent}' (tasks: {listing(first)})"
                    )
                elif first[name] == index:
                    graph[name].append(parent)
        return graph

    def _check_steps(self, groups: list[Any], path: JsonPath, scope: Scope) -> dict[str, Node]:
        nodes: dict[str, Node] = {}
        group_of: dict[str, int] = {}
        for group_index, group in enumerate(groups):
            for index, step, name in iter_named(group):
                callee = self._invocation(step, (*path, group_index, index))
                nodes.setdefault(name, node_for(callee.template, callee.label))
                group_of.setdefault(name, group_index)
        for group_index, group in enumerate(groups):
            earlier = EarlierSteps(group_of, group_index)
            node_scope = replace(scope, nodes=nodes, node_root="steps", visible=earlier)
            for index, step, _ in iter_named(group):
                self._check_node(step, (*path, group_index, index), node_scope)
        return nodes

    # -- variables ------------------------------------------------------------------------------

    def _strings(self, value: Any, path: JsonPath, scope: Scope) -> None:
        if isinstance(value, str):
            if "{{" in value:
                self._check_string(value, path, scope)
        elif isinstance(value, dict):
            for key, item in value.items():
                self._strings(item, (*path, key), scope)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self._strings(item, (*path, index), scope)

    def _check_string(self, text: str, path: JsonPath, scope: Scope) -> None:
        try:
            for tag in iter_tags(text):
                for message in self._check_tag(tag, scope):
                    self._add(path, message)
        except TagError as error:
            self._add(path, str(error))

    @staticmethod
    def _check_tag(tag: Tag, scope: Scope) -> list[str]:
        shown = tag.text if len(tag.text) <= _TAG_EXCERPT else f"{tag.text[: _TAG_EXCERPT - 3]}..."
        if not tag.expression:
            parts = tag.body.split(".")
            reason = resolve(parts, scope) if parts[0] in ARGO_ROOTS else None
            return [f"{shown}: {reason}"] if reason else []
        try:
            references = expression_references(tag.body)
        except TagError as error:
            return [f"{shown}: {error}"]
        messages = []
        for reference in references:
            reason = resolve(reference.parts, scope, prefix=True)
            if reason:
                messages.append(f"{shown}: '{'.'.join(reference.parts)}': {reason}")
        return messages


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _arguments(holder: Mapping[str, Any]) -> dict[str, Any]:
    return _mapping(holder.get("arguments"))


def check_references(
    document: Document, registry: TemplateRegistry, *, allow_unresolved_refs: bool = False
) -> list[Finding]:
    """Run :class:`ReferenceChecker` on ``document``."""
    return ReferenceChecker(document, registry, allow_unresolved_refs=allow_unresolved_refs).run()
