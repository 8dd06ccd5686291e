"""A precision run of up to 1,000,000 worlds: process pool against in process.

The same run (baseline, seed 0, blocks of 10,000 worlds, precision so fine that it goes
on to ``max_worlds``) is computed in this process and by a pool of one worker per core,
in the same invocation; the script prints both wall times, their ratio (the speed-up),
and checks that the two runs are the same block by block.

    python benchmarks/bench_executors.py                      # 1,000,000 worlds
    python benchmarks/bench_executors.py --worlds 200000      # quicker
    python benchmarks/bench_executors.py --ray                # and the Ray executor
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from sim import load_params
from sim.experiment.executors import cpu_count, make_executor
from sim.experiment.runs import simulate_blocks


def timed(executor, worlds: int, block: int):
    params = load_params("baseline")
    tic = time.perf_counter()
    out = simulate_blocks(params, 0, 0, 156, block, precision=1e-6, max_worlds=worlds,
                          progress=False, executor=executor)
    return time.perf_counter() - tic, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=1_000_000)
    ap.add_argument("--block-worlds", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--ray", action="store_true")
    args = ap.parse_args()
    workers = args.workers or cpu_count()
    t_in, here = timed(make_executor("in_process"), args.worlds, args.block_worlds)
    print(f"{args.worlds:,} worlds in blocks of {args.block_worlds:,}; {cpu_count()} cores")
    print(f"in process        {t_in:7.1f} s  ({args.worlds / t_in:,.0f} world-runs/s)")
    names = ["process"] + (["ray"] if args.ray else [])
    for name in names:
        t, out = timed(make_executor(name, workers), args.worlds, args.block_worlds)
        pd.testing.assert_frame_equal(here.outcomes, out.outcomes)
        assert here.block_sizes == out.block_sizes
        print(f"{name:8s} x{workers:<3d}    {t:7.1f} s  ({args.worlds / t:,.0f} world-runs/s)"
              f"  speed-up {t_in / t:.2f}x; same numbers: yes")
    print(f"P(sign) {here.outcomes['signed'].mean():.4f} over {len(here.outcomes):,} worlds")


if __name__ == "__main__":
    main()
