"""A kubeconfig the Kubernetes client cannot read is one line naming the file, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from hera_imagebuild.cli.main import main


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: [unclosed\n", "ParserError"),
        ("just a scalar\n", "TypeError"),
        ("- a list\n- of things\n", "Error"),
    ],
    ids=["invalid YAML", "a scalar", "a list"],
)
def test_a_broken_kubeconfig_names_the_file(
    text: str,
    problem: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("ARGO_SERVER", "ARGO_TOKEN", "KUBECONFIG"):
        monkeypatch.delenv(variable, raising=False)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(text)
    code = main(["build", "--context=pvc:src", "-d=r.example.com/a:1", f"--kubeconfig={kubeconfig}"])
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert "Traceback" not in err
    assert "internal error" not in err
    assert err.startswith(f"error: kubeconfig {kubeconfig}: not a valid kubeconfig (")
    assert problem in err
