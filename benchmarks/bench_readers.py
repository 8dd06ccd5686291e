"""Benchmark: what the checks of run-folder readers cost (issue 21).

Loads one run folder with :func:`sim.experiment.runs.load_run` (manifest, bounded
regular-file reads, summary and table checks) and with the same reads but without the
table checks (:func:`sim.experiment.runs.check_worlds_file` and
:func:`~sim.experiment.runs.check_steps`, which ``load_run`` calls, replaced by no-ops;
the rows are read when first used, so ``.worlds`` is read in both), alternating
in one process, so that the ratio comes from one run on the same machine state::

    .venv/bin/python benchmarks/bench_readers.py                 # 50,000 worlds, 7 rounds
    .venv/bin/python benchmarks/bench_readers.py --worlds 200000 --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sim.cli.compose import compose_config
from sim.cli.run import run
from sim.experiment import runs


def main() -> None:
    """Write one run folder, then time loading it with and without the table checks."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--worlds", type=int, default=50_000)
    ap.add_argument("--rounds", type=int, default=7)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "run"
        ov = [f"worlds={a.worlds}", "quiet=true", "block_worlds=50000"]
        run(compose_config(ov), d, ov)
        checked, unchecked = [], []
        real = runs.check_worlds_file, runs.check_steps
        for _ in range(a.rounds):
            for times, check in ((checked, real), (unchecked, (lambda *x: None,) * 2)):
                runs.check_worlds_file, runs.check_steps = check
                t = time.perf_counter()
                assert len(runs.load_run(d).worlds) == a.worlds
                times.append(time.perf_counter() - t)
        runs.check_worlds_file, runs.check_steps = real
    c, u = statistics.median(checked), statistics.median(unchecked)
    print(f"load_run of {a.worlds:,} worlds, median of {a.rounds}: checked {1000 * c:.1f} ms, "
          f"without table checks {1000 * u:.1f} ms, ratio {c / u:.2f}")


if __name__ == "__main__":
    main()
