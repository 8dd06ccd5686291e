"""Where a run's CPU time goes: each phase of the weekly step, the build and the tables.

One fresh process per ``--worlds`` (every thread pool pinned to one), this checkout
first on the path; after a small warm-up run (the kernels' compilation) it times one
``simulate`` with each mechanism's ``step``, the weekly record, the model's build and the
result tables (``collect``) wrapped in CPU-time counters (``time.process_time``, so the
load of a shared machine does not enter), and reports per world-run: the run's CPU time
(user and system), minor page faults, and each part's CPU time and share. The numbers of
``docs/model.md`` 7.1 ("Where the time goes") come from this script::

    .venv/bin/python benchmarks/bench_phases.py --worlds 20000 200000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench_kernels import PINNED  # the same thread pins as the whole-run benchmark

ROOT = Path(__file__).resolve().parents[1]


def worker(worlds: int, scenario: str, horizon: int, seed: int,
           assumptions: str | None = None) -> dict:
    """Time one run in this process; the figures as a dict."""
    from scipy import special

    from sim import load_params, simulate
    from sim.experiment import api
    from sim.model import model as mm
    from sim.model import schedule

    spent: dict[str, float] = {}

    def wrap(owner, meth: str, key: str) -> None:
        f = getattr(owner, meth)

        def run(*a, **k):
            tic = time.process_time()
            try:
                return f(*a, **k)
            finally:
                spent[key] = spent.get(key, 0.0) + time.process_time() - tic
        setattr(owner, meth, run)

    for c in vars(schedule).values():
        if (isinstance(c, type) and issubclass(c, schedule.Mechanism)
                and c is not schedule.Mechanism and "step" in c.__dict__):
            wrap(c, "step", c.__name__)
    wrap(mm.PeaceModel, "_record", "record (series)")
    wrap(mm.PeaceModel, "__init__", "build (draws, agents)")
    wrap(api, "collect", "result tables (collect)")
    # inside the incidents' step: the severities' beta quantile, scipy's (not a kernel)
    wrap(special, "betaincinv", "  Incidents: severity quantile")
    params = load_params(scenario, assumptions=assumptions)
    simulate(params, worlds=200, seed=seed + 1, horizon_weeks=horizon)  # compile / warm
    spent.clear()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    tic, cpu = time.perf_counter(), time.process_time()
    simulate(params, worlds=worlds, seed=seed, horizon_weeks=horizon)
    wall, cpu = time.perf_counter() - tic, time.process_time() - cpu
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    return {"worlds": worlds, "wall_s": wall, "cpu_s": cpu,
            "user_s": r1.ru_utime - r0.ru_utime, "sys_s": r1.ru_stime - r0.ru_stime,
            "minor_faults": r1.ru_minflt - r0.ru_minflt, "parts_cpu_s": spent}


def main() -> int:
    """Run one worker per size and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, nargs="+", default=[20_000, 200_000])
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--horizon", type=int, default=156, help="weeks")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--assumptions", choices=["point", "prior", "posterior"],
                    help="the run's assumptions mode (default: the scenario's)")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        print(json.dumps(worker(args.worker, args.scenario, args.horizon, args.seed,
                                args.assumptions)))
        return 0
    env = {**os.environ, **PINNED, "PYTHONPATH": str(ROOT)}
    runs = []
    mode = ["--assumptions", args.assumptions] if args.assumptions else []
    for W in args.worlds:
        p = subprocess.run([sys.executable, __file__, "--worker", str(W), "--scenario",
                            args.scenario, "--horizon", str(args.horizon), "--seed",
                            str(args.seed), *mode], cwd=ROOT, env=env, capture_output=True,
                           text=True)
        if p.returncode:
            sys.exit(f"bench_phases: the worker failed:\n{p.stderr}")
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    print(f"CPU time per world-run; scenario {args.scenario}, {args.horizon} weeks, seed "
          f"{args.seed}, assumptions {args.assumptions or 'default'}, one core "
          "(an indented part is inside the one above it)")
    for r in runs:
        W, cpu = r["worlds"], r["cpu_s"]
        print(f"\n{W} worlds: {W / cpu:,.0f} world-runs per CPU second, {cpu / W * 1e6:.1f} "
              f"us CPU per world-run (user {r['user_s'] / W * 1e6:.1f}, system "
              f"{r['sys_s'] / W * 1e6:.1f}); wall {r['wall_s']:.1f} s for {cpu:.1f} s CPU; "
              f"{r['minor_faults'] / W:.2f} minor faults per world")
        for k, v in sorted(r["parts_cpu_s"].items(), key=lambda kv: -kv[1]):
            print(f"  {k:28s} {v / W * 1e6:7.1f} us {100 * v / cpu:5.1f} %")
    if args.json:
        Path(args.json).write_text(json.dumps(runs, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
