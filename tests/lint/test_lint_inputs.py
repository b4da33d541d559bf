"""What lint reads: standard input, refused inputs (empty, FIFO, oversized, alias bombs) and large DAGs."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from hera_imagebuild.cli.main import main
from hera_imagebuild.lint import LintInputError, lint_documents, parse_documents
from hera_imagebuild.lint.documents import MAX_DEPTH, MAX_FILE_BYTES, load_files

from .conftest import FIXTURES

GOOD = FIXTURES / "good" / "steps-pipeline.yaml"
BAD = FIXTURES / "bad" / "when-dangling.yaml"


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = main(["lint", *args])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.strip()


class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_dash_reads_a_document_stream_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(GOOD.read_bytes() + b"---\n" + BAD.read_bytes()))
    code, out, err = lint(capsys, "-")
    assert code == 1
    assert [line.split(": ")[:2] for line in out] == [["<stdin>", "Workflow/when-dangling"]]
    assert "2 document(s)" in err


@pytest.mark.parametrize(
    "content", [b"", b"# only a comment\n", b"---\n...\n"], ids=["empty", "comment", "null"]
)
def test_a_file_or_stdin_without_documents_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "empty.yaml"
    path.write_bytes(content)
    code, out, err = lint(capsys, str(path))
    assert (code, out, err) == (
        2,
        [],
        f"hera-imagebuild lint: error: {path}: holds no YAML document (empty file?)",
    )
    monkeypatch.setattr(sys, "stdin", _Stdin(content))
    assert lint(capsys, "-")[::2] == (
        2,
        "hera-imagebuild lint: error: -: holds no YAML document (empty file?)",
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.timeout(30)
def test_a_fifo_is_refused_without_waiting_for_a_writer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    code, out, err = lint(capsys, str(fifo))
    assert (code, out) == (2, [])
    assert err == (
        f"hera-imagebuild lint: error: {fifo}: not a regular file (a FIFO, device or directory): "
        "give a file, or - for stdin"
    )


def test_devices_and_directories_are_refused(tmp_path: Path) -> None:
    for path in ("/dev/zero", str(tmp_path)):
        with pytest.raises(LintInputError, match="not a regular file"):
            load_files([path])


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")
    with pytest.raises(LintInputError, match=f"larger than {MAX_FILE_BYTES} bytes"):
        load_files([path])


def _laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(30)
def test_an_alias_bomb_is_refused() -> None:
    with pytest.raises(
        LintInputError, match=r"expands to more than \d+ nodes and characters through YAML aliases"
    ):
        parse_documents(_laughs(9), "laughs.yaml")  # 10**9 strings once expanded
    # A few aliases that expand to little are fine.
    assert parse_documents(_laughs(2), "laughs.yaml")[0].body["a2"][0] == [["lol"]] * 10


def test_a_self_referring_alias_and_deep_nesting_are_refused() -> None:
    with pytest.raises(LintInputError, match="refers to itself"):
        parse_documents("a: &a [*a]\n", "loop.yaml")
    with pytest.raises(LintInputError, match=f"nests deeper than {MAX_DEPTH} levels"):
        parse_documents("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "deep.yaml")


def _dag(size: int, shape: str) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = [
        {"name": "t0", "template": "echo", "arguments": {"parameters": [{"name": "msg", "value": "x"}]}}
    ]
    for index in range(1, size):
        parent = f"t{index - 1}" if shape == "chain" else "t0"
        value = f"{{{{tasks.{parent}.outputs.result}}}}"
        tasks.append(
            {
                "name": f"t{index}",
                "template": "echo",
                "depends": parent,
                "arguments": {"parameters": [{"name": "msg", "value": value}]},
            }
        )
    echo = {
        "name": "echo",
        "inputs": {"parameters": [{"name": "msg"}]},
        "container": {"image": "alpine:3.20", "args": ["{{inputs.parameters.msg}}"]},
    }
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": f"{shape}-{size}"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": tasks}}, echo]},
    }


@pytest.mark.timeout(60)
@pytest.mark.parametrize("shape", ["chain", "fan"])
def test_a_dag_of_thousands_of_tasks_is_checked_in_full(shape: str) -> None:
    body = _dag(3000, shape)
    assert lint_documents(parse_documents(yaml.safe_dump(body), "big.yaml")) == []
    # The last task reading a task it does not depend on is still found.
    last = body["spec"]["templates"][0]["dag"]["tasks"][-1]
    last["arguments"]["parameters"][0]["value"] = "{{tasks.t1.outputs.result}}"
    problems = lint_documents(parse_documents(yaml.safe_dump(body), "big.yaml"))
    expected = [] if shape == "chain" else ["task 't2999' does not depend on task 't1' (add it to depends)"]
    assert [problem.message.split(": ", 1)[1] for problem in problems] == expected
