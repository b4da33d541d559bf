"""Fixtures of the lint tests: Argo's JSON schemas (outside the repo) and the hand-written documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from hera_imagebuild.lint import ArgoSchema, load_schema

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
LIBRARY = FIXTURES / "good" / "library.yaml"
# The project cannot vendor Argo's schemas; the workspace keeps them next to the repo.
ARGO_SCHEMA_DIR = REPO_ROOT.parent / "shared" / "argo"
ARGO_SCHEMA_FILES = ("schema-v4.0.9.json", "schema-v3.7.14.json")


@pytest.fixture(scope="session")
def argo_schemas() -> list[ArgoSchema]:
    """Argo v4.0.9 and v3.7.14 schemas, patched and compiled once for the whole session."""
    if not ARGO_SCHEMA_DIR.is_dir():
        pytest.skip(f"Argo's JSON schemas are not at {ARGO_SCHEMA_DIR} (../shared/argo from the repo root)")
    return [load_schema(ARGO_SCHEMA_DIR / name) for name in ARGO_SCHEMA_FILES]
