"""The builders' real last lines, captured from real runs (tests/builds, with
HERA_IMAGEBUILD_RECORD_BUILDER_OUTPUT=1) and kept as test data, classified as they were then.

These run everywhere, CI included, though CI can run no kaniko: a change to a failure table that
would misread a line kaniko or buildah really prints fails here. For kaniko the rendered Argo retry
rule is evaluated too, on the same text as the node's message (``lastRetry.message``; Argo puts the
container's termination message there: workflow/controller/operator.go, inferFailedReason).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from client.expr_eval import evaluate, last_retry

from hera_imagebuild.builders import BUILDERS, KANIKO
from hera_imagebuild.client.options import RetryPolicy, StepOptions
from hera_imagebuild.client.retry import build_retry

DATA = Path(__file__).resolve().parents[1] / "data" / "builder-output"
CASES = [
    (builder, case, kind)
    for builder, cases in json.loads((DATA / "cases.json").read_text()).items()
    for case, kind in sorted(cases.items())
]


def test_both_builders_have_real_lines_of_both_kinds() -> None:
    kinds = {(builder, kind) for builder, _, kind in CASES}
    assert kinds >= {(name, kind) for name in BUILDERS for kind in ("transient", "deterministic")}


@pytest.mark.parametrize(("builder", "case", "kind"), CASES, ids=[f"{b}-{c}" for b, c, _ in CASES])
def test_a_captured_line_is_classified_as_it_was_when_captured(builder: str, case: str, kind: str) -> None:
    text = (DATA / builder / f"{case}.txt").read_text()
    found = BUILDERS[builder].failures.classify(text)
    assert (found.value if found else None) == kind


KANIKO_CASES = [(case, kind) for builder, case, kind in CASES if builder == KANIKO.name]


@pytest.mark.parametrize(("case", "kind"), KANIKO_CASES, ids=[case for case, _ in KANIKO_CASES])
def test_the_rendered_kaniko_retry_rule_agrees(case: str, kind: str) -> None:
    text = (DATA / KANIKO.name / f"{case}.txt").read_text()
    expression = build_retry(StepOptions(retry=RetryPolicy(limit=2))).expression
    assert expression is not None
    assert evaluate(expression, last_retry(message=text)) is (kind == "transient")
