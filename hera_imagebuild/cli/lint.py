"""``hera-imagebuild lint``: check Argo documents offline.

Exit codes: 0 clean, 1 problems found (one line each on stdout:
``FILE: KIND/NAME: PATH: MESSAGE``), 2 usage error (unreadable file, bad YAML, bad schema).
"""

from __future__ import annotations

import argparse
import sys

from hera_imagebuild.lint import LintInputError, lint_documents, load_files, load_schemas


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``lint`` options to ``parser``."""
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="YAML files to lint (several documents each allowed)"
    )
    parser.add_argument(
        "--schema",
        action="append",
        default=[],
        metavar="PATH",
        help="Argo's api/jsonschema/schema.json, or a directory of such files (one per Argo release); "
        "repeatable. Without it only the schema-free checks run.",
    )
    parser.add_argument(
        "--ref",
        action="append",
        default=[],
        metavar="FILE",
        help="YAML file with WorkflowTemplates/ClusterWorkflowTemplates that templateRefs may name "
        "(not linted itself); repeatable",
    )
    parser.add_argument(
        "--allow-unresolved-refs",
        action="store_true",
        help="accept templateRefs/workflowTemplateRefs to templates not given as FILE or --ref "
        "(default: each is a problem, since its template name and arguments cannot be checked)",
    )


def run(args: argparse.Namespace) -> int:
    """Lint ``args.files``; print one line per problem and return the exit code."""
    try:
        schemas = [schema for location in args.schema for schema in load_schemas(location)]
        documents = load_files(args.files)
        references = load_files(args.ref)
    except LintInputError as error:
        print(f"hera-imagebuild lint: error: {error}", file=sys.stderr)
        return 2
    problems = lint_documents(
        documents, schemas=schemas, references=references, allow_unresolved_refs=args.allow_unresolved_refs
    )
    for problem in problems:
        print(problem)
    checked = (
        ", ".join(schema.label for schema in schemas) or "none (pass --schema to validate against Argo's)"
    )
    summary = f"{len(problems)} problem(s)" if problems else "clean"
    print(f"lint: {len(documents)} document(s), schemas: {checked}: {summary}", file=sys.stderr)
    return 1 if problems else 0
