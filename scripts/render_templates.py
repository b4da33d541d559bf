"""Regenerate the rendered YAML checked into the repository from the Python source.

Writes templates/*.yaml (the published build templates) and examples/<name>.yaml
(the golden rendering of each example examples/<name>.py). Run it after changing
hera_imagebuild.client or an example; the test suite fails while any file is stale.

Usage: python scripts/render_templates.py [--check]
"""

from __future__ import annotations

import argparse
import runpy
import sys
from pathlib import Path

from hera_imagebuild.client.render import shipped_templates

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = ROOT / "templates"
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = ("train_pipeline", "train_pipeline_templateref", "firewalled_build", "parallel_images")
"""Examples with a golden file (each defines its Workflow as ``w``)."""


def render_example(name: str) -> str:
    """The YAML of ``examples/<name>.py``'s workflow ``w``."""
    if str(EXAMPLES_DIR) not in sys.path:
        sys.path.insert(0, str(EXAMPLES_DIR))  # the examples import their shared ml_steps module
    namespace = runpy.run_path(str(EXAMPLES_DIR / f"{name}.py"), run_name=f"example_{name}")
    text: str = namespace["w"].to_yaml()
    return text


def rendered_files() -> dict[Path, str]:
    """Every generated file and its up-to-date content."""
    files = {TEMPLATES_DIR / name: text for name, text in shipped_templates().items()}
    files.update({EXAMPLES_DIR / f"{name}.yaml": render_example(name) for name in EXAMPLES})
    return files


def main() -> int:
    """Write (or with --check, compare) every generated file; return the exit code."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is out of date, write nothing")
    args = parser.parse_args()
    stale = {
        path: text for path, text in rendered_files().items() if not path.exists() or path.read_text() != text
    }
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)}", file=sys.stderr)
        if stale:
            print("regenerate with: python scripts/render_templates.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in stale.items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
