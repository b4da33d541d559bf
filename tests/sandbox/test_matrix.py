"""The matrix recorders write one JSON line per observation and reject values outside the tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hera_imagebuild.sandbox.matrix import FAULTS, ROLES, BadInputRecorder, ReliabilityRecorder


def test_reliability_rows_carry_the_test_id(tmp_path: Path) -> None:
    path = tmp_path / "artifacts" / "reliability.jsonl"
    recorder = ReliabilityRecorder(path, "tests/x.py::test_y")
    recorder.record(
        role="mirror", fault="hung", outcome="fallback taken", seconds=1.23456, detail="took mirror 2"
    )
    recorder.record(role="push destination", fault="HTTP 503", outcome="retried and succeeded", seconds=0.5)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert rows == [
        {
            "test": "tests/x.py::test_y",
            "role": "mirror",
            "fault": "hung",
            "outcome": "fallback taken",
            "seconds": 1.235,
            "detail": "took mirror 2",
        },
        {
            "test": "tests/x.py::test_y",
            "role": "push destination",
            "fault": "HTTP 503",
            "outcome": "retried and succeeded",
            "seconds": 0.5,
            "detail": "",
        },
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "registry"}, "role: 'registry' is not one of 'mirror'"),
        ({"fault": "HTTP 502"}, "fault: 'HTTP 502' is not one of"),
        ({"outcome": "ok"}, "outcome: 'ok' is not one of"),
        ({"seconds": -1.0}, "seconds: -1.0 must be >= 0"),
    ],
)
def test_reliability_rejects_values_outside_the_table(
    tmp_path: Path, fields: dict[str, object], message: str
) -> None:
    row: dict[str, object] = {
        "role": ROLES[0],
        "fault": FAULTS[0],
        "outcome": "clear failure",
        "seconds": 1.0,
    }
    with pytest.raises(ValueError, match=message):
        ReliabilityRecorder(tmp_path / "r.jsonl", "t").record(**(row | fields))  # type: ignore[arg-type]
    assert not (tmp_path / "r.jsonl").exists()


def test_bad_input_rows_and_rejections(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    recorder = BadInputRecorder(path, "tests/x.py::test_z")
    recorder.record(area="CLI", given="--probe-timeout=-1", error="--probe-timeout: -1 must be > 0")
    assert json.loads(path.read_text()) == {
        "test": "tests/x.py::test_z",
        "area": "CLI",
        "given": "--probe-timeout=-1",
        "error": "--probe-timeout: -1 must be > 0",
    }
    with pytest.raises(ValueError, match="area: 'YAML'"):
        recorder.record(area="YAML", given="x", error="y")
    with pytest.raises(ValueError, match="error: the recorded message is empty"):
        recorder.record(area="CLI", given="x", error="  ")
    with pytest.raises(ValueError, match="a traceback is not a clear error message"):
        recorder.record(area="CLI", given="x", error="Traceback (most recent call last):\n  File ...")
    assert len(path.read_text().splitlines()) == 1
