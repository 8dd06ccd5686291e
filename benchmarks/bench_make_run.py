"""How much `make run` costs beyond the model's own time.

Runs, in one go on this machine:

1. one process computing the same world-runs as `make run` (every bundled scenario,
   ``--worlds`` worlds, blocks of 10,000, seed 0) in process: the model's own time T1;
2. `make run`'s sweep command with the launcher/executor variants below (wall time,
   report included), into temporary folders.

and prints each variant's wall time divided by T1 / cores (the ideal on this many
cores). The issue's goal is at most 1.3.

    python benchmarks/bench_make_run.py                 # 50,000 worlds, as make run
    python benchmarks/bench_make_run.py --worlds 10000  # quicker
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sim import load_params, scenarios
from sim.experiment.executors import cpu_count
from sim.experiment.runs import simulate_blocks

BIN = Path(sys.executable).parent
VARIANTS = {
    "joblib n_jobs=2 (jobs in parallel)": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
    "basic + executor=process (blocks in parallel)": ["executor=process"],
}


def one_process(names: list[str], worlds: int) -> float:
    tic = time.perf_counter()
    for name in names:
        simulate_blocks(load_params(name), worlds, 0, 156, 10_000, progress=False)
    return time.perf_counter() - tic


def make_run(names: list[str], worlds: int, extra: list[str], folder: Path) -> float:
    sweep = folder / "sweep"
    tic = time.perf_counter()
    subprocess.run([str(BIN / "sim-run"), "-m", f"scenario={','.join(names)}",
                    f"worlds={worlds}", "seed=0", "quiet=true", *extra,
                    f"hydra.sweep.dir={sweep}"], check=True, cwd=folder,
                   stdout=subprocess.DEVNULL)
    subprocess.run([str(BIN / "sim-report"), str(sweep)], check=True, cwd=folder,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - tic


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=50_000)
    ap.add_argument("--only", help="run only the variant whose name contains this")
    args = ap.parse_args()
    names = scenarios()
    cores = cpu_count()
    t1 = one_process(names, args.worlds)
    runs = len(names) * args.worlds
    print(f"{len(names)} scenarios x {args.worlds:,} worlds = {runs:,} world-runs; "
          f"{cores} cores")
    print(f"one process, in process: {t1:7.1f} s ({runs / t1:,.0f} world-runs/s); "
          f"ideal on {cores} cores {t1 / cores:.1f} s")
    for name, extra in VARIANTS.items():
        if args.only and args.only not in name:
            continue
        with tempfile.TemporaryDirectory() as d:
            wall = make_run(names, args.worlds, extra, Path(d))
        print(f"{name:48s} {wall:7.1f} s   {wall / (t1 / cores):.2f} x ideal")


if __name__ == "__main__":
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    main()
