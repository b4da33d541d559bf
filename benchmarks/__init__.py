"""Benchmarks for hera-imagebuild, each against a named baseline measured in the same run.

Run one with ``python -m benchmarks.p1_failover`` (``--runs N`` for fewer or more
repetitions) or all of them with ``python -m benchmarks.run_all`` (``make bench``).
Each prints a table of medians and writes ``.artifacts/bench/<ID>.json``, which
``scripts/render_docs.py`` turns into ``docs/performance.md``.

The benchmarks start real registries on 127.0.0.1 through :mod:`hera_imagebuild.sandbox`
and run the real command-line steps as separate processes, start-up included, because
that is what a pod pays on every attempt. They are not part of the test suite's pass/fail.
"""
