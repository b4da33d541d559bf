"""Run P1-P5 and P8 one after the other (``make bench``); ``--runs N`` applies to each.

Each benchmark prints its table and writes ``.artifacts/bench/<ID>.json``;
``make docs`` turns those into docs/performance.md. A benchmark that fails
stops nothing else: the others still run, and the exit status says so.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Sequence

from benchmarks import p1_failover, p2_cold_prefetch, p3_warm_prefetch, p4_push, p5_render, p8_local_build
from benchmarks.harness import Result, format_machine, machine_info, parse_args

BENCHMARKS: dict[str, Callable[[Sequence[str]], Result]] = {
    "P1": p1_failover.main,
    "P2": p2_cold_prefetch.main,
    "P3": p3_warm_prefetch.main,
    "P4": p4_push.main,
    "P5": p5_render.main,
    "P8": p8_local_build.main,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run every benchmark; return 1 if any failed."""
    args = parse_args(__doc__ or "", default_runs=5, argv=argv)
    forwarded = ["--runs", str(args.runs), "--results-dir", str(args.results_dir)]
    print(f"machine: {format_machine(machine_info())}\n")
    failed = []
    for benchmark_id, run in BENCHMARKS.items():
        started = time.perf_counter()
        try:
            run(forwarded)
        except Exception:  # report and go on: one broken benchmark must not hide the others
            traceback.print_exc()
            failed.append(benchmark_id)
        print(f"[{benchmark_id} took {time.perf_counter() - started:.0f} s]\n")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
