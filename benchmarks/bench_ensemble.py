"""Throughput of the ensemble-vectorised model against one-world Mesa models.

Runs the baseline scenario over a 156-week horizon two ways in the same process:

* vectorised: one :class:`~sim.model.model.PeaceModel` holding ``--worlds`` worlds;
* one world at a time, the usual Mesa way: ``--single`` separate one-world models,
  each built, stepped to the horizon and collected in a loop.

Both produce the same outcome tables (one row per world), so the comparison is like for
like. Prints world-runs per second for each and their ratio; ``--profile`` adds where
the vectorised run spends its time. Run with ``make bench`` or::

    .venv/bin/python benchmarks/bench_ensemble.py --worlds 10000 --single 10000

Numbers depend on the machine and on what else it is doing; compare ratios measured in
one run, not figures from different runs.
"""

from __future__ import annotations

import os

# one core: pin every BLAS/OpenMP pool before numpy is imported
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from sim import load_params, simulate  # noqa: E402


def bench_vectorised(params, worlds: int, horizon: int, repeats: int) -> tuple[float, float]:
    """Best-of-``repeats`` seconds for one model of ``worlds`` worlds, and its P(sign)."""
    best = np.inf
    p_sign = np.nan
    for r in range(repeats):
        t = time.perf_counter()
        res = simulate(params, worlds=worlds, seed=r, horizon_weeks=horizon)
        best = min(best, time.perf_counter() - t)
        p_sign = res.summary()["p_sign"]
    return best, p_sign


def bench_single(params, n: int, horizon: int) -> tuple[float, float]:
    """Seconds for ``n`` one-world models run one after another, and their P(sign)."""
    signed = 0
    t = time.perf_counter()
    for i in range(n):
        res = simulate(params, worlds=1, seed=i, horizon_weeks=horizon)
        signed += int(res.outcomes["signed"].iloc[0])
    return time.perf_counter() - t, signed / n


def main() -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=10_000, help="worlds in the vectorised model")
    ap.add_argument("--single", type=int, default=10_000, help="one-world models to run")
    ap.add_argument("--horizon", type=int, default=156, help="weeks")
    ap.add_argument("--repeats", type=int, default=3, help="repeats of the vectorised run")
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--profile", action="store_true", help="profile the vectorised run")
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()

    params = load_params(args.scenario)
    simulate(params, worlds=100, seed=0, horizon_weeks=args.horizon)  # warm-up

    vec_s, vec_p = bench_vectorised(params, args.worlds, args.horizon, args.repeats)
    one_s, one_p = bench_single(params, args.single, args.horizon)
    vec_rate = args.worlds / vec_s
    one_rate = args.single / one_s
    out = {
        "scenario": args.scenario,
        "horizon_weeks": args.horizon,
        "vectorised": {"worlds": args.worlds, "seconds": vec_s, "world_runs_per_s": vec_rate,
                       "p_sign": vec_p},
        "one_world_models": {"models": args.single, "seconds": one_s,
                             "world_runs_per_s": one_rate, "p_sign": one_p},
        "speedup": vec_rate / one_rate,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    print(f"baseline, {args.horizon} weeks, one process")
    print(f"{'way':28s} {'world-runs':>10s} {'seconds':>9s} {'world-runs/s':>13s} {'P(sign)':>8s}")
    print(f"{'one model, W worlds':28s} {args.worlds:10d} {vec_s:9.3f} {vec_rate:13.0f} "
          f"{vec_p:8.3f}")
    print(f"{'one-world Mesa models':28s} {args.single:10d} {one_s:9.3f} {one_rate:13.1f} "
          f"{one_p:8.3f}")
    print(f"speed-up (same run): {out['speedup']:.0f}x")

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        simulate(params, worlds=args.worlds, seed=0, horizon_weeks=args.horizon)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
        print(buf.getvalue())
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
