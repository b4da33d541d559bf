"""The shared benchmark harness: repeated runs, medians, ratios, a table and a JSON file.

Every benchmark measures its cases interleaved (run 1 of each case, then run 2 of
each, ...), so a slow patch of the machine hurts all cases alike, and compares them
against a baseline measured in the same process on the same registries.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / ".artifacts" / "bench"


@dataclass
class Case:
    """One measured (or configured) quantity of a benchmark.

    Attributes:
        name: What ran, as the table shows it.
        samples: Seconds, one per run.
        role: ``ours``, ``baseline`` (what we compare against) or ``reference``
            (a configured value such as a timeout, or a floor nothing can beat).
        note: One line on how it ran.
    """

    name: str
    samples: list[float]
    role: str = "ours"
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass
class Result:
    """A finished benchmark, as printed and as written to JSON."""

    id: str
    title: str
    question: str
    runs: int
    cases: list[Case]
    comparisons: list[tuple[str, str]]
    """Pairs ``(case, against)``: each is reported as ``median(case) / median(against)``."""
    params: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, Any] = field(default_factory=dict)

    def case(self, name: str) -> Case:
        for case in self.cases:
            if case.name == name:
                return case
        raise KeyError(name)

    def ratio(self, name: str, against: str) -> float:
        return self.case(name).median / self.case(against).median

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for case, raw in zip(self.cases, data["cases"], strict=True):
            raw["median"] = case.median
        data["comparisons"] = [
            {"case": a, "against": b, "ratio": self.ratio(a, b)} for a, b in self.comparisons
        ]
        return data


class BenchmarkError(RuntimeError):
    """A benchmark step did not do what it is timed for: its time would be meaningless."""


def interleave(
    cases: Mapping[str, Callable[[], float]], runs: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Run each case ``runs`` times, interleaved, and return the seconds each run reported.

    A case is a callable returning its own seconds (see :func:`timed`), so that
    preparing fresh state for a run stays outside the measurement. ``warmup``
    untimed rounds come first, so that cold operating-system file caches (the
    interpreter's modules, the registry binary) do not land in one case's numbers.
    """
    for _ in range(warmup):
        for run in cases.values():
            run()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):
        for name, run in cases.items():
            samples[name].append(run())
    return samples


def timed(work: Callable[[], object], setup: Callable[[], object] | None = None) -> Callable[[], float]:
    """Wrap ``work`` so that one call runs ``setup`` (untimed), then ``work`` (timed)."""

    def run() -> float:
        if setup is not None:
            setup()
        start = time.perf_counter()
        work()
        return time.perf_counter() - start

    return run


def _first_line(argv: Sequence[str]) -> str:
    if shutil.which(argv[0]) is None:
        return "not installed"
    out = subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return None
    match = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
    return round(int(match.group(1)) / 1024**2, 1) if match else None


def _commit() -> str:
    """The checkout's commit, marked ``+changes`` when the working tree differs from it."""
    git = ["git", "-C", str(REPO_ROOT)]
    try:
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=30
        )
        status = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except OSError:
        return "unknown"
    if commit.returncode != 0:
        return "unknown"
    return commit.stdout.strip() + ("+changes" if status.stdout.strip() else "")


def machine_info() -> dict[str, Any]:
    """The machine and tool versions a result was measured with."""
    from hera_imagebuild._version import __version__

    try:
        from importlib.metadata import version

        hera_version = version("hera")
    except Exception:  # a missing distribution only costs us a label
        hera_version = "unknown"
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "skopeo": _first_line(["skopeo", "--version"]),
        "registry": _first_line(["docker-registry", "--version"]),
        "hera": hera_version,
        "hera_imagebuild": __version__,
        "commit": _commit(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def format_seconds(seconds: float) -> str:
    """Seconds with three significant figures, as the tables show them."""
    if seconds >= 100:
        return f"{seconds:.0f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 0.01:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds * 1000:.1f} ms"


def format_table(result: Result) -> str:
    """The result as a plain-text table, followed by its ratios."""
    rows = [("case", "role", "median", "min", "max", "runs")]
    for case in result.cases:
        rows.append(
            (
                case.name,
                case.role,
                format_seconds(case.median),
                format_seconds(min(case.samples)),
                format_seconds(max(case.samples)),
                str(len(case.samples)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [f"{result.id}: {result.title}", result.question, ""]
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    lines.append("")
    for name, against in result.comparisons:
        lines.append(f"{name} / {against} = {result.ratio(name, against):.2f}x")
    return "\n".join(lines)


def format_machine(machine: Mapping[str, Any]) -> str:
    """One line naming the machine and tools."""
    return (
        f"{machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB; "
        f"Python {machine['python']}; {machine['skopeo']}; {machine['registry']}; "
        f"hera {machine['hera']}; {machine['date']}"
    )


def publish(result: Result, results_dir: Path = RESULTS_DIR) -> Path:
    """Print the result's table and write it to ``<results_dir>/<id>.json``."""
    result.machine = result.machine or machine_info()
    print(format_table(result))
    print(f"machine: {format_machine(result.machine)}")
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{result.id}.json"
    path.write_text(json.dumps(result.to_json(), indent=2) + "\n")
    print(f"wrote {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}\n")
    return path


def parse_args(description: str, default_runs: int, argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The options every benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--runs",
        type=int,
        default=default_runs,
        help=f"repetitions per case (default {default_runs}); fewer is faster and noisier",
    )
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where the JSON result goes")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs: {args.runs} is not a positive number of runs")
    return args
