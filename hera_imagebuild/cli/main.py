"""Entry point of ``hera-imagebuild``.

Each sub-command lives in its own module, imported only when that command
runs: the pod-side steps (``prefetch``, ``push``) must start without paying
for Hera, pydantic or the Kubernetes client on every retry of every build.
A command module exposes ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from hera_imagebuild._version import __version__
from hera_imagebuild.common.failures import EXIT_FAILED, EXIT_USAGE

COMMANDS: dict[str, tuple[str, str]] = {
    # name: (module, one-line help). Help is duplicated here so that
    # ``--help`` lists every command without importing any of them.
    "render": ("hera_imagebuild.cli.render", "print the build templates as YAML"),
    "lint": ("hera_imagebuild.cli.lint", "check Argo documents offline (schema and references)"),
    "install": ("hera_imagebuild.cli.install", "apply the build template to a cluster"),
    "secret": ("hera_imagebuild.cli.secret", "make registry credential Secrets"),
    "build": ("hera_imagebuild.cli.build", "submit a one-off image build"),
    "submit": ("hera_imagebuild.cli.submit", "submit a workflow file and optionally watch it"),
    "prefetch": ("hera_imagebuild.cli.prefetch", "pod step: resolve and pin base images through mirrors"),
    "push": ("hera_imagebuild.cli.push", "pod step: push a built OCI image and verify its digest"),
    "demo": ("hera_imagebuild.cli.demo", "run prefetch and push against local registries (no cluster)"),
}


def _load(name: str) -> ModuleType:
    return importlib.import_module(COMMANDS[name][0])


def _parser(command: str | None) -> argparse.ArgumentParser:
    # allow_abbrev=False: "--password X" must not be read as "--password-stdin" (and X echoed back).
    parser = argparse.ArgumentParser(
        prog="hera-imagebuild",
        description="Reliable kaniko image builds for Argo Workflows, as a Hera DAG.",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text, allow_abbrev=False)
        if name == command:
            _load(name).add_arguments(sub_parser)
    return parser


CLIENT_DEPENDENCIES = frozenset({"hera", "pydantic", "yaml", "kubernetes", "jsonschema"})
"""Top-level packages only client-side commands use; the runtime image leaves them out."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``hera-imagebuild`` with ``argv`` (default: ``sys.argv[1:]``) and return its exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    if any(arg == "--password" or arg.startswith("--password=") for arg in argv):
        # Refused before argparse, which would echo the value back as an unrecognized argument.
        print(
            f"hera-imagebuild {command}: --password: not accepted, and its value is not shown: a password "
            "on the command line is visible to other users and stays in shell history; use --password-stdin",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        args = _parser(command if command in COMMANDS else None).parse_args(argv)
        code: int = _load(args.command).run(args)
    except ModuleNotFoundError as error:
        package = (error.name or "").partition(".")[0]
        if package not in CLIENT_DEPENDENCIES:
            return _internal_error(command, error)
        print(
            f"hera-imagebuild {command}: needs the Python package {package!r}, which is not installed "
            "here (the runtime image carries only 'prefetch' and 'push'); "
            "install the full package: pip install hera-imagebuild",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (``render | head``): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except ValueError as error:  # bad input that a command did not word itself
        print(f"hera-imagebuild {command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as error:
        return _internal_error(command, error)
    return code


def _internal_error(command: str | None, error: BaseException) -> int:
    """One line for an error no command expected (a bug of ours: the line says so)."""
    detail = " ".join(str(error).split())[:500]
    print(
        f"hera-imagebuild {command}: internal error {type(error).__name__}: {detail} "
        "(a bug: please report it with the command line)",
        file=sys.stderr,
    )
    return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
