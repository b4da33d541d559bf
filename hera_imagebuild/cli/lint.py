"""``hera-imagebuild lint``: check Argo documents offline.

Exit codes: 0 clean, 1 problems found (one line each on stdout:
``FILE: KIND/NAME: PATH: MESSAGE``), 2 usage error (unreadable, empty, oversized or non-regular
file, bad YAML or an alias bomb, bad schema, no schema of the ``--argo-version``).
"""

from __future__ import annotations

import argparse
import sys

from hera_imagebuild.lint import (
    ARGO_VERSIONS,
    LintInputError,
    lint_documents,
    load_files,
    load_schemas,
    skipped_documents,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``lint`` options to ``parser``."""
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="YAML files to lint (several documents each allowed; - reads standard input). Documents "
        "of other kinds (ConfigMap, Secret...) are skipped with a note.",
    )
    parser.add_argument(
        "--argo-version",
        choices=ARGO_VERSIONS,
        help="the Argo release the documents are for: only its schemas (by the release in the file "
        "name, e.g. schema-v3.7.14.json) and its fields (3.7: synchronization.mutex/semaphore and "
        "cron schedule; 4.0: plugin artifacts). Default: every release at once, since the project "
        "supports both: every schema given, and only fields that all releases have.",
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
        problems = lint_documents(
            documents,
            schemas=schemas,
            references=references,
            allow_unresolved_refs=args.allow_unresolved_refs,
            argo_version=args.argo_version,
        )
    except LintInputError as error:
        print(f"hera-imagebuild lint: error: {error}", file=sys.stderr)
        return 2
    for skipped in skipped_documents(documents):
        print(
            f"lint: {skipped.file}: {skipped.kind}/{skipped.name}: skipped (not an Argo workflow kind)",
            file=sys.stderr,
        )
    for problem in problems:
        print(problem)
    used = [schema for schema in schemas if args.argo_version in (None, schema.version)]
    checked = ", ".join(schema.label for schema in used) or "none (pass --schema to validate against Argo's)"
    summary = f"{len(problems)} problem(s)" if problems else "clean"
    print(f"lint: {len(documents)} document(s), schemas: {checked}: {summary}", file=sys.stderr)
    return 1 if problems else 0
