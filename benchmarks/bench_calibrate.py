"""The calibration's cost and how its result depends on the number of prior worlds.

Calibrates three assumptions of the origin of 8 August 2025 (``incidents.base_rate`` on
[0.01, 0.3], ``domestic.government.early_election_probability`` on [0.05, 0.6], and
``domestic.constitution.draft_weeks`` with the origin's own prior; every other
distribution of the origin drawn as usual) to the record up to 30 June 2026 (the
Minsk closure, which no world reproduces, left out) by rejection ABC with 1e4 and 1e5
prior worlds (``--sizes``; 1e6 only on an idle machine), and by ABC-SMC once. For each:
world-runs, wall time, world-runs per second, accepted draws, effective sample size,
and each key's posterior mean and 90 % interval width (against the prior's), so how the
posterior settles as the prior sample grows can be read off. Run::

    .venv/bin/python benchmarks/bench_calibrate.py
    .venv/bin/python benchmarks/bench_calibrate.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

from sim.analysis import backtest as bt  # noqa: E402
from sim.analysis import calibrate as cb  # noqa: E402
from sim.experiment.config import CONFIG_DIR  # noqa: E402

RANGES = {"incidents.base_rate": (0.01, 0.3),
          "domestic.government.early_election_probability": (0.05, 0.6)}
KEYS = ["domestic.constitution.draft_weeks"]  # with the origin's own prior
ORIGIN = "origin_2025_08_08"
CUTOFF = dt.date(2026, 6, 30)
EXCLUDE = ["minsk_process_closed_by_2025_12_01", "tripp_framework_by_2026_01_14"]


def measure(method: str, worlds: int, seed: int, **options) -> dict:
    facts = bt.load_facts(CONFIG_DIR / "backtest" / "facts.yaml")
    t0 = time.perf_counter()
    cal = cb.calibrate_origin(ORIGIN, CUTOFF, facts, keys=KEYS, ranges=RANGES, method=method,
                              worlds=worlds, seed=seed, exclude=EXCLUDE, **options)
    wall = time.perf_counter() - t0
    moved = cb.moved_table(cal).set_index("key")
    row = {"method": method, "worlds": worlds, "world_runs": cal.world_runs,
           "seconds": round(wall, 2), "world_runs_per_s": round(cal.world_runs / wall),
           "accepted": len(cal.samples), "ess": round(cal.ess, 1),
           "tolerance": round(cal.tolerance, 4)}
    for k in [*KEYS, *RANGES]:
        r = moved.loc[k]
        short = k.rsplit(".", 1)[-1]
        row[f"{short}_mean"] = round(float(r["posterior_mean"]), 4)
        row[f"{short}_width"] = round(float(r["posterior_q95"] - r["posterior_q05"]), 4)
        row[f"{short}_width_ratio"] = round(float(r["width_ratio"]), 3)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--smc-particles", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores, "
          f"{platform.python_version()}")
    rows = [measure("rejection", n, a.seed, quantile=0.1) for n in a.sizes]
    rows.append(measure("smc", a.smc_particles, a.seed, generations=3))
    for r in rows:
        print(json.dumps(r))
    base = rows[0]
    for r in rows[1:]:
        print(f"{r['method']} {r['worlds']:,}: {r['world_runs'] / base['world_runs']:.1f}x the "
              f"world-runs of rejection {base['worlds']:,}, {r['seconds'] / base['seconds']:.1f}x "
              "the time")


if __name__ == "__main__":
    main()
