"""Loading the Workflow to submit from a file: Argo YAML/JSON, or a Hera Python file.

A Python file is run as a module named ``__hera_imagebuild_submit__`` (so its
``if __name__ == "__main__":`` block does not run) with its own directory on
``sys.path`` (as ``python FILE`` has it, so sibling modules import), and the module-level Hera
``Workflow`` it defines is taken; with several, ``name`` picks one by its
variable name or workflow name.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]


def load_workflow(path: str | Path, *, name: str | None = None) -> Manifest:
    """The Workflow manifest defined in ``path``.

    Args:
        path: A ``.py`` file defining a Hera ``Workflow``, or a YAML/JSON file.
        name: Which workflow to take when the file defines several (a Python
            variable name, ``metadata.name`` or ``metadata.generateName``).

    Raises:
        ValueError: If the file is missing, unreadable, or does not define
            exactly one matching Workflow; the message names the file.
    """
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"FILE: {str(file)!r} does not exist or is not a file")
    found = _from_python(file) if file.suffix == ".py" else _from_yaml(file)
    if not found:
        raise ValueError(f"FILE: {str(file)!r} defines no Workflow (kind: Workflow)")
    if name is not None:
        found = {k: m for k, m in found.items() if name in (k, *_names(m))}
        if not found:
            raise ValueError(f"--workflow: {name!r} matches no Workflow in {str(file)!r}")
    if len(found) > 1:
        raise ValueError(
            f"FILE: {str(file)!r} defines {len(found)} Workflows ({', '.join(found)}); "
            "pick one with --workflow NAME"
        )
    return next(iter(found.values()))


def _names(manifest: Manifest) -> tuple[str, ...]:
    metadata = manifest.get("metadata") or {}
    return tuple(str(metadata[k]) for k in ("name", "generateName") if metadata.get(k))


def _from_yaml(file: Path) -> dict[str, Manifest]:
    try:
        documents = list(yaml.safe_load_all(file.read_text()))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ValueError(f"FILE: {str(file)!r} is not readable YAML: {error}") from None
    workflows = [d for d in documents if isinstance(d, dict) and d.get("kind") == "Workflow"]
    return {(_names(w) or (f"document {i + 1}",))[0]: w for i, w in enumerate(workflows)}


def _from_python(file: Path) -> dict[str, Manifest]:
    from hera.workflows import Workflow

    directory = str(file.resolve().parent)
    sys.path.insert(0, directory)
    try:
        namespace = runpy.run_path(str(file), run_name="__hera_imagebuild_submit__")
    except Exception as error:
        # The user's file failed; say where, without our own stack.
        raise ValueError(f"FILE: running {str(file)!r} failed: {type(error).__name__}: {error}") from None
    finally:
        sys.path.remove(directory)
    found: dict[str, Manifest] = {}
    for variable, value in namespace.items():
        if isinstance(value, Workflow) and not variable.startswith("_"):
            manifest: Manifest = value.to_dict()
            if manifest.get("kind") == "Workflow":
                found[variable] = manifest
    return found
