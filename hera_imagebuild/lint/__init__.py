"""Offline checks of Argo documents: Argo's JSON schema and a stricter check of our own.

Example::

    from hera_imagebuild.lint import lint_files, load_schemas

    for problem in lint_files(["workflow.yaml"], schemas=load_schemas("schemas/")):
        print(problem)  # FILE: KIND/NAME: PATH: MESSAGE
"""

from hera_imagebuild.lint.api import lint_documents, lint_files
from hera_imagebuild.lint.documents import (
    WORKFLOW_KINDS,
    Document,
    LintInputError,
    load_files,
    parse_documents,
)
from hera_imagebuild.lint.problem import Problem
from hera_imagebuild.lint.schema import PATCHED_DEFINITIONS, ArgoSchema, load_schema, load_schemas

__all__ = [
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
]
