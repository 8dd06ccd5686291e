"""The calibration's cost and how its result depends on the number of prior worlds.

The calibration of the committed posterior (``configs/posteriors/README.md``): origin
``march_2025`` (13 Mar 2025), every fact of ``configs/backtest/facts.yaml`` dated up to
4 Jul 2026 except the two no prior world reproduces (:data:`EXCLUDE`), every
distribution the origin draws and every point-valued assumption of
``configs/priors.yaml`` drawn from its prior (207 keys), rejection ABC keeping the
closest 10 % of the worlds that match every binary fact. Run at 1e5 and 1e6 prior worlds
(``--sizes``; 1e6 takes several minutes and about 4 GB of memory: run it on a quiet
machine, with ``nice``). For each size: world-runs, wall time, world-runs per second,
accepted draws, effective sample size, tolerance, how many keys moved by more than 0.2
and 0.1 prior standard deviations, and the posterior mean, 90 % interval and shift of
the top movers (:data:`TOP` keys, ranked at the largest size), so how the posterior
settles as the prior sample grows can be read off. Run::

    nice .venv/bin/python benchmarks/bench_calibrate.py
    nice .venv/bin/python benchmarks/bench_calibrate.py --sizes 100000 1000000
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

ORIGIN = "march_2025"
CUTOFF = dt.date(2026, 7, 4)
#: The facts no prior world reproduces (configs/posteriors/README.md states the rule).
EXCLUDE = ["text_initialled_by_2025_08_08", "tripp_framework_by_2026_01_14"]
#: Keys whose posterior is followed across sizes.
TOP = 8


def measure(worlds: int, seed: int) -> tuple[dict, object]:
    facts = bt.load_facts(CONFIG_DIR / "backtest" / "facts.yaml")
    t0 = time.perf_counter()
    cal = cb.calibrate_origin(ORIGIN, CUTOFF, facts, method="rejection", worlds=worlds,
                              seed=seed, exclude=EXCLUDE, quantile=0.1)
    wall = time.perf_counter() - t0
    moved = cb.moved_table(cal).set_index("key")
    shift = moved["shift_sd"].abs()
    row = {"worlds": worlds, "keys": len(cal.keys), "world_runs": cal.world_runs,
           "seconds": round(wall, 1), "world_runs_per_s": round(cal.world_runs / wall),
           "accepted": len(cal.samples), "acceptance": round(len(cal.samples) / worlds, 4),
           "ess": round(cal.ess, 1), "tolerance": round(cal.tolerance, 3),
           "moved_over_0.2sd": int((shift > 0.2).sum()),
           "moved_over_0.1sd": int((shift > 0.1).sum())}
    return row, moved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores, "
          f"{platform.python_version()}")
    rows, tables = [], []
    for n in a.sizes:
        row, moved = measure(n, a.seed)
        rows.append(row)
        tables.append(moved)
        print(json.dumps(row), flush=True)
    top = tables[-1]["shift_sd"].abs().sort_values(ascending=False).index[:TOP]
    print(f"\ntop {TOP} movers at {a.sizes[-1]:,} prior worlds: posterior mean [5 %, 95 %] "
          "(shift in prior sd, width ratio) at each size")
    for k in top:
        cells = [f"{n:,}: {t.loc[k, 'posterior_mean']:.4g} [{t.loc[k, 'posterior_q05']:.4g}, "
                 f"{t.loc[k, 'posterior_q95']:.4g}] ({t.loc[k, 'shift_sd']:+.2f}, "
                 f"{t.loc[k, 'width_ratio']:.2f})" for n, t in zip(a.sizes, tables, strict=True)]
        print(f"{k} (prior mean {tables[-1].loc[k, 'prior_mean']:.4g}): " + "; ".join(cells))
    base = rows[0]
    for r in rows[1:]:
        print(f"{r['worlds']:,}: {r['world_runs'] / base['world_runs']:.1f}x the world-runs "
              f"of {base['worlds']:,}, {r['seconds'] / base['seconds']:.1f}x the time")


if __name__ == "__main__":
    main()
