"""What calibrating the declared priors costs the rolling backtest, per origin.

For each origin (``--origins``), with the declared priors (``priors=true``: every
distribution plus the defaults' point-valued assumptions drawn from their declared
priors, about 207 keys) and without them (``priors=false``: the distributions only,
about 61 keys), measured in the same process and interleaved (``--repeats`` rounds, the
two settings alternating, so that the machine's load falls on both): the wall time of
the origin's calibration (:func:`sim.analysis.backtest.calibrate_rolling_origin`,
``--calibration-worlds`` prior worlds) and of its forecast run (``--worlds`` worlds to
the rule's end), the keys calibrated, and how many times the key selection composes a
configuration (:func:`sim.experiment.config.compose_layers` calls: one per
configuration, the origin's and its hindcast's). Also the compositions of one
:func:`sim.analysis.calibrate.calibrate_origin` call (one). Run::

    .venv/bin/python benchmarks/bench_rolling.py
    .venv/bin/python benchmarks/bench_rolling.py --origins 2025-09-13 2026-05-13 --repeats 3
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from sim.analysis import backtest as bt  # noqa: E402
from sim.analysis import calibrate as cb  # noqa: E402
from sim.experiment import config  # noqa: E402
from sim.experiment.config import CONFIG_DIR  # noqa: E402

_calls = [0]
_real = config.compose_layers


def _counting(*a, **kw):
    _calls[0] += 1
    return _real(*a, **kw)


config.compose_layers = _counting  # counted wherever the loader composes


def measure(rule, facts, origin: dt.date, priors: bool, worlds: int, cal_worlds: int,
            seed: int) -> dict:
    _calls[0] = 0
    t0 = time.perf_counter()
    own = bt.origin_inputs(rule, origin, priors)
    c, keys, used = bt.calibrate_rolling_origin(rule, origin, facts, cal_worlds, seed,
                                                priors, own)
    t_cal = time.perf_counter() - t0
    compositions = _calls[0]
    fixed = None
    if c is not None:
        idx = np.random.default_rng(seed).choice(len(c.samples), size=worlds)
        fixed = {k: c.samples[k].to_numpy(float)[idx] for k in keys}
    t1 = time.perf_counter()
    bt.run_view(own.params, worlds, seed, (rule.end - origin).days // 7 + 1, fixed_draws=fixed)
    t_run = time.perf_counter() - t1
    return {"origin": origin.isoformat(), "priors": priors, "keys": len(keys),
            "calibration_facts": len(used), "accepted": 0 if c is None else len(c.samples),
            "compositions": compositions, "calibration_s": round(t_cal, 2),
            "run_s": round(t_run, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--origins", nargs="+", default=["2025-09-13", "2026-05-13"])
    ap.add_argument("--worlds", type=int, default=5000)
    ap.add_argument("--calibration-worlds", type=int, default=20000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores, "
          f"{platform.python_version()}")
    rule = bt.load_rule(CONFIG_DIR / "backtest" / "rolling.yaml")
    facts = bt.rolling_facts(rule)
    # warm-up (numba compilation, file caches), not timed
    measure(rule, facts, rule.origins[2], True, 200, 400, a.seed)
    measure(rule, facts, rule.origins[2], False, 200, 400, a.seed)
    rows = []
    for o in (dt.date.fromisoformat(x) for x in a.origins):
        for _ in range(a.repeats):
            for priors in (True, False):
                r = measure(rule, facts, o, priors, a.worlds, a.calibration_worlds, a.seed)
                rows.append(r)
                print(json.dumps(r))
    for o in a.origins:
        med = {p: {k: statistics.median(r[k] for r in rows
                                        if r["origin"] == o and r["priors"] is p)
                   for k in ("calibration_s", "run_s", "keys")} for p in (True, False)}
        print(f"{o}: priors=true / priors=false (medians of {a.repeats}): "
              f"{med[True]['keys']:.0f} / {med[False]['keys']:.0f} keys, calibration "
              f"{med[True]['calibration_s']:.2f} / {med[False]['calibration_s']:.2f} s "
              f"({med[True]['calibration_s'] / med[False]['calibration_s']:.2f}x), run "
              f"{med[True]['run_s']:.2f} / {med[False]['run_s']:.2f} s "
              f"({med[True]['run_s'] / med[False]['run_s']:.2f}x)")
    b = bt.load_facts(CONFIG_DIR / "backtest" / "facts.yaml")
    _calls[0] = 0
    cb.calibrate_origin("origin_2025_08_08", dt.date(2025, 12, 31), b, worlds=100,
                        seed=a.seed, drop_unmatched=True)
    print(f"calibrate_origin (declared priors): {_calls[0]} composition(s)")


if __name__ == "__main__":
    main()
