"""Every password the tests use is defined where the secret scan finds it.

The scan (tests/plugins/secret_scan.py) looks for the module-level credentials
of ``hera_imagebuild.sandbox.credentials`` and of the conftest files. A password
written as a literal anywhere else would be invisible to it, and could leak
unnoticed; this test finds such literals in the test suite and the sandbox.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SEARCHED = (REPO_ROOT / "tests", REPO_ROOT / "hera_imagebuild" / "sandbox")
CREDENTIAL_TYPES = {"Credentials", "TokenUser"}
"""The sandbox's credential types: what tests hand to real registries, token issuers and skopeo."""


def _is_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value)


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _module_level_nodes(tree: ast.Module) -> set[int]:
    """Ids of the nodes that run at import time (not inside a function or class body)."""
    definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return {
        id(node)
        for statement in tree.body
        if not isinstance(statement, definitions)
        for node in ast.walk(statement)
    }


def _has_literal_secret(call: ast.Call) -> bool:
    name = _called_name(call)
    if name not in CREDENTIAL_TYPES:
        return False
    password = call.args[1:2] if name == "Credentials" else call.args[:1]
    return any(_is_literal(arg) for arg in password) or any(
        keyword.arg == "password" and _is_literal(keyword.value) for keyword in call.keywords
    )


def literal_passwords(path: Path, root: Path = REPO_ROOT) -> list[str]:
    """``file:line`` of each credential built from a string literal where the scan cannot see it.

    Allowed: module-level definitions in a ``conftest.py`` or the sandbox's ``credentials.py``.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    allowed = _module_level_nodes(tree) if path.name in ("conftest.py", "credentials.py") else set()
    return [
        f"{path.relative_to(root)}:{node.lineno}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _has_literal_secret(node) and id(node) not in allowed
    ]


def test_credentials_are_defined_where_the_secret_scan_looks() -> None:
    files = [path for root in SEARCHED for path in sorted(root.rglob("*.py"))]
    assert len(files) > 10
    offenders = [where for path in files for where in literal_passwords(path)]
    assert not offenders, (
        "passwords written as literals where the secret scan cannot see them; define them at module "
        "level in hera_imagebuild/sandbox/credentials.py (or tests/conftest.py) and import them: "
        + ", ".join(offenders)
    )


def test_literals_are_found_except_at_module_level_of_a_conftest(tmp_path: Path) -> None:
    source = (
        "from hera_imagebuild.sandbox.credentials import Credentials\n"
        "USER = Credentials('alice', 'module-level-pw')\n"
        "def test_x():\n"
        "    other = Credentials('bob', 'literal-pw')\n"
        "    issuer(users={'carol': TokenUser(password='literal-pw-2')})\n"
        "    ok = Credentials('dave', USER.password)\n"
    )
    (tmp_path / "test_sample.py").write_text(source)
    (tmp_path / "conftest.py").write_text(source)
    assert literal_passwords(tmp_path / "test_sample.py", tmp_path) == [
        "test_sample.py:2",
        "test_sample.py:4",
        "test_sample.py:5",
    ]
    assert literal_passwords(tmp_path / "conftest.py", tmp_path) == ["conftest.py:4", "conftest.py:5"]
