"""Offline checks of Argo documents: Argo's JSON schema and a stricter check of our own.

These checks run on every Workflow, WorkflowTemplate, ClusterWorkflowTemplate and CronWorkflow:

* Argo's JSON schema, when given (a file, or a directory with one per Argo release). The project
  does not ship it. IntOrString and Quantity are patched to accept numbers (argo-workflows #6060).
* Unknown keys anywhere in the object tree, judged by Hera's generated models of the Argo and
  Kubernetes API (the schema allows unknown keys; Argo drops them silently).
* References: templates, ``templateRef`` and ``workflowTemplateRef`` (against the templates of
  the same run), DAG ``depends``/``dependencies`` (existence, cycles, Argo's style rules),
  arguments against declared inputs, and every Argo variable in ``{{...}}`` and ``{{=...}}``:
  inputs/outputs of the enclosing template, task and step outputs (only of tasks the task
  depends on, of steps in earlier groups), workflow parameters, documented globals, ``item``
  only inside loops. A reference to a template not given is a problem unless
  ``allow_unresolved_refs`` is set (``--allow-unresolved-refs``): then what it would check is
  skipped, nothing else.
* Expressions and Argo's field rules (``expressions``, ``rules``): retry expressions compiled as
  expr-lang against the retry variables, ``when`` as govaluate, RE2 patterns, backoff durations,
  ``activeDeadlineSeconds``, DAG outputs, artifact paths, workflow parameter values, the
  executor's service account.

``argo_version`` (``--argo-version``) picks one release's schemas and fields; by default a
document must work on every release in :data:`ARGO_VERSIONS`. Documents of other kinds are
skipped (:func:`skipped_documents`); input is bounded (file size, alias expansion, nesting).

Example::

    from hera_imagebuild.lint import lint_files, load_schemas

    for problem in lint_files(["workflow.yaml"], schemas=load_schemas("schemas/")):
        print(problem)  # FILE: KIND/NAME: PATH: MESSAGE
"""

from hera_imagebuild.lint.api import lint_documents, lint_files, skipped_documents
from hera_imagebuild.lint.documents import (
    WORKFLOW_KINDS,
    Document,
    LintInputError,
    load_files,
    parse_documents,
)
from hera_imagebuild.lint.keys import ARGO_VERSIONS
from hera_imagebuild.lint.problem import Problem
from hera_imagebuild.lint.schema import PATCHED_DEFINITIONS, ArgoSchema, load_schema, load_schemas

__all__ = [
    "ARGO_VERSIONS",
    "PATCHED_DEFINITIONS",
    "WORKFLOW_KINDS",
    "ArgoSchema",
    "Document",
    "LintInputError",
    "Problem",
    "lint_documents",
    "lint_files",
    "load_files",
    "load_schema",
    "load_schemas",
    "parse_documents",
    "skipped_documents",
]
