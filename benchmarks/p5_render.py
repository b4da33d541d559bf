"""P5 render and lint: a pipeline with 100 image builds vs Hera rendering 100 plain containers.

Each case runs in a fresh interpreter (``--worker CASE``), as ``python
pipeline.py > pipeline.yaml`` or a CI lint job would: the whole-process time
includes importing Hera. The worker also reports its in-process phases. Ours
builds 100 images, either inline (``ImageBuild``: every build brings its DAG and
three pod templates) or through the installed template (``build_from_template``:
one ``templateRef`` task each), renders the Workflow to YAML and lints it
(Argo's JSON schemas from ``$HERA_IMAGEBUILD_ARGO_SCHEMA_DIR`` or ``../shared/argo``
when there, plus the strict own checks). The baseline
is Hera alone: a DAG of 100 plain container tasks rendered to YAML, not linted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.harness import REPO_ROOT, BenchmarkError, Case, Result, interleave, parse_args, publish, timed
from hera_imagebuild.sandbox.process import run_checked

if TYPE_CHECKING:  # the worker imports these itself, inside the timed part
    from hera.workflows import Workflow

    from hera_imagebuild.client.spec import BuildSpec

BUILDS = 100
SCHEMA_DIR = Path(os.environ.get("HERA_IMAGEBUILD_ARGO_SCHEMA_DIR") or REPO_ROOT.parent / "shared" / "argo")
"""Argo's JSON schemas (the project cannot vendor them): as the tests find them."""

ETCD_REQUEST_LIMIT_KIB = 1536
"""etcd's default ``--max-request-bytes`` (1.5 MiB): the largest object a default cluster stores."""

INLINE = f"render + lint, {BUILDS} inline builds"
TEMPLATE_REF = f"render + lint, {BUILDS} builds by templateRef"
PLAIN = f"Hera render, {BUILDS} plain containers"
WORKERS = {"inline": INLINE, "templateref": TEMPLATE_REF, "plain": PLAIN}


def _spec(index: int) -> BuildSpec:
    from hera_imagebuild.client.spec import BuildSpec, GitContext

    return BuildSpec(
        context=GitContext(url="https://git.example.com/ml/monorepo.git", ref="main"),
        dockerfile=f"components/c{index}/Dockerfile",
        destinations=(f"registry.example.com/ml/c{index}:v1",),
        build_args={"COMPONENT": f"c{index}"},
    )


def _ours_workflow(inline: bool) -> Workflow:
    from hera.workflows import DAG, Workflow

    from hera_imagebuild.client.inline import ImageBuild
    from hera_imagebuild.client.published import build_from_template

    specs = [_spec(index) for index in range(BUILDS)]
    builds = [ImageBuild(spec, name=f"c{index}-image") for index, spec in enumerate(specs)] if inline else []
    with Workflow(generate_name="many-images-", entrypoint="main") as workflow, DAG(name="main"):
        for index, spec in enumerate(specs):
            if inline:
                builds[index]()
            else:
                build_from_template(spec, name=f"c{index}-image")
    return workflow


def _plain_workflow() -> Workflow:
    from hera.workflows import DAG, Container, Workflow

    with Workflow(generate_name="many-containers-", entrypoint="main") as workflow, DAG(name="main"):
        for index in range(BUILDS):
            container = Container(
                name=f"c{index}",
                image="python:3.12-slim",
                command=["python", "-c"],
                args=[f"print('component c{index}')"],
            )
            container(name=f"c{index}-task")
    return workflow


def _lint(text: str, schema_dir: Path | None, references: str | None) -> int:
    from hera_imagebuild.lint import lint_documents, load_schemas, parse_documents

    schemas = load_schemas(schema_dir) if schema_dir else []
    refs = parse_documents(references, "published template") if references else []
    problems = lint_documents(parse_documents(text, "pipeline.yaml"), schemas=schemas, references=refs)
    for problem in problems:
        print(problem, file=sys.stderr)
    return len(problems)


def worker(case: str, schema_dir: Path | None) -> dict[str, float]:
    """Run one case in this process; return its phases in seconds."""
    phases: dict[str, float] = {}
    started = time.perf_counter()
    import hera.workflows  # noqa: F401  (timed: every user pays for it)

    if case != "plain":
        import hera_imagebuild.client.inline  # noqa: F401
    phases["import"] = time.perf_counter() - started
    mark = time.perf_counter()
    workflow = _plain_workflow() if case == "plain" else _ours_workflow(inline=case == "inline")
    phases["build"] = time.perf_counter() - mark
    mark = time.perf_counter()
    text = workflow.to_yaml()
    phases["render"] = time.perf_counter() - mark
    if case != "plain":
        from hera_imagebuild.client.render import render_template

        references = render_template() if case == "templateref" else None
        mark = time.perf_counter()
        if _lint(text, schema_dir, references):
            raise BenchmarkError(f"the rendered {case} pipeline has lint problems (listed above)")
        phases["lint"] = time.perf_counter() - mark
    phases["yaml_kib"] = len(text.encode()) / 1024
    return phases


def main(argv: Sequence[str] | None = None) -> Result:
    """Run P5 and publish its table."""
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "--worker":
        parser = argparse.ArgumentParser()
        parser.add_argument("--worker", choices=sorted(WORKERS), required=True)
        parser.add_argument("--schema-dir", type=Path)
        worker_args = parser.parse_args(argv)
        print(json.dumps(worker(worker_args.worker, worker_args.schema_dir)))
        raise SystemExit(0)
    args = parse_args(__doc__ or "", default_runs=5, argv=argv)
    schema_dir = SCHEMA_DIR if SCHEMA_DIR.is_dir() else None
    phases: dict[str, list[dict[str, float]]] = {name: [] for name in WORKERS.values()}

    def process(case: str) -> Callable[[], float]:
        worker_argv = [sys.executable, "-m", "benchmarks.p5_render", "--worker", case]
        if schema_dir:
            worker_argv += ["--schema-dir", str(schema_dir)]
        return timed(lambda: phases[WORKERS[case]].append(json.loads(run_checked(worker_argv, timeout=300))))

    samples = interleave({name: process(case) for case, name in WORKERS.items()}, args.runs)
    phases = {name: runs[-args.runs :] for name, runs in phases.items()}  # drop the warm-up round

    def median_phase(name: str, phase: str) -> float:
        return statistics.median(run[phase] for run in phases[name] if phase in run)

    in_process = {
        name: [sum(run[p] for p in ("build", "render", "lint") if p in run) for run in phases[name]]
        for name in WORKERS.values()
    }
    cases = [
        Case(name, samples[name], "baseline" if name == PLAIN else "ours", "whole process")
        for name in WORKERS.values()
    ]
    cases += [
        Case(
            f"{name}, in-process",
            in_process[name],
            "baseline" if name == PLAIN else "ours",
            "build + render (+ lint)",
        )
        for name in WORKERS.values()
    ]
    notes = [
        f"{name}: import {median_phase(name, 'import'):.2f} s, build {median_phase(name, 'build'):.2f} s, "
        f"render {median_phase(name, 'render'):.2f} s"
        + (f", lint {median_phase(name, 'lint'):.2f} s" if name != PLAIN else "")
        + f"; YAML {median_phase(name, 'yaml_kib'):.0f} KiB."
        for name in WORKERS.values()
    ]
    if median_phase(INLINE, "yaml_kib") > ETCD_REQUEST_LIMIT_KIB:
        notes.append(
            f"The inline form's Workflow is {median_phase(INLINE, 'yaml_kib') / 1024:.1f} MiB of YAML: "
            "more than "
            "the 1.5 MiB etcd accepts per request by default, so a cluster would refuse it ('etcdserver: "
            "request is too large', argo-workflows#4065). With many builds, use the templateRef form "
            f"({median_phase(TEMPLATE_REF, 'yaml_kib'):.0f} KiB here)."
        )
    result = Result(
        id="P5",
        title="render and lint 100 image builds",
        question=(
            f"How long does turning a pipeline with {BUILDS} image builds into linted Argo YAML take, "
            f"next to Hera rendering {BUILDS} plain containers?"
        ),
        runs=args.runs,
        cases=cases,
        comparisons=[
            (INLINE, PLAIN),
            (TEMPLATE_REF, PLAIN),
            (f"{INLINE}, in-process", f"{PLAIN}, in-process"),
            (f"{TEMPLATE_REF}, in-process", f"{PLAIN}, in-process"),
        ],
        params={
            "builds": BUILDS,
            "lint schemas": "Argo v3.7.14 and v4.0.9" if schema_dir else "none found (own checks only)",
        },
        extra={"notes": notes},
    )
    publish(result, args.results_dir)
    return result


if __name__ == "__main__":
    main()
