"""Run and sweep folders for the report tests, in sim-run's output format.

Uses sim-run's own folder writer when it exists (``sim.cli.run``); until then writes
the same files from the Python API: summary.json, worlds.parquet, steps.parquet,
metadata.json, trace.parquet (with trace) and, for a sweep, numbered job folders and
sweep_summary.csv.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim import OUTCOMES, load_params, simulate
from sim.rules import wilson_interval


def _jsonable(o):
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.generic):
        return o.item()
    if hasattr(o, "isoformat"):
        return o.isoformat()
    return o


def _nest(overrides: dict[str, object]) -> dict:
    out: dict = {}
    for key, v in overrides.items():
        d = out
        *head, last = key.split(".")
        for h in head:
            d = d.setdefault(h, {})
        d[last] = v
    return out


def write_run(path: Path, scenario: str = "baseline", worlds: int = 300, seed: int = 0,
              horizon_weeks: int = 156, overrides: dict[str, object] | None = None,
              trace: bool = False) -> tuple[Path, object]:
    overrides = overrides or {}
    params = load_params(scenario, overrides=_nest(overrides) or None)
    res = simulate(params, worlds=worlds, seed=seed, horizon_weeks=horizon_weeks,
                   trace=trace)
    path.mkdir(parents=True, exist_ok=True)
    ov = [f"scenario={scenario}"] + [f"{k}={v}" for k, v in overrides.items()]
    s = res.summary()
    s.update(scenario=scenario, seed=seed, horizon_weeks=horizon_weeks,
             start_date=res.start_date.isoformat(), overrides=ov)
    (path / "summary.json").write_text(json.dumps(_jsonable(s), indent=2))
    res.outcomes.to_parquet(path / "worlds.parquet")
    res.steps.to_parquet(path / "steps.parquet")
    md = {"package_version": "0.1.0", "git_revision": "test", "scenario": scenario,
          "seed": seed, "worlds": worlds, "horizon_weeks": horizon_weeks,
          "start_date": res.start_date.isoformat(), "issues": list(res.issues),
          "ideal_points": res.ideal_points, "overrides": ov,
          "config": {"actors": {k: {"label": a.label} for k, a in params.actors.items()},
                     "issue_labels": params.issue_labels}}
    (path / "metadata.json").write_text(json.dumps(_jsonable(md), indent=2))
    if trace:
        res.trace.to_parquet(path / "trace.parquet")
    return path, res


def write_sweep(path: Path, jobs: list[tuple[str, dict]], worlds: int = 300, seed: int = 0,
                horizon_weeks: int = 156, baseline: int | None = 0) -> Path:
    """``jobs``: (scenario, overrides) per job; ``baseline``: job index or None."""
    path.mkdir(parents=True, exist_ok=True)
    results = []
    keys = list(dict.fromkeys(k for _, o in jobs for k in o))
    for j, (scen, ov) in enumerate(jobs):
        _, res = write_run(path / str(j), scen, worlds, seed, horizon_weeks, ov)
        results.append((scen, ov, res))
    rows = []
    base = results[baseline][2].outcomes["signed"].to_numpy(float) if baseline is not None \
        else None
    for j, (scen, ov, res) in enumerate(results):
        s = res.summary()
        row = {"job": j, "overrides": ",".join([f"scenario={scen}"]
                                               + [f"{k}={v}" for k, v in ov.items()]),
               "scenario": scen}
        for k in keys:
            row[k] = ov.get(k, np.nan)
        row.update(worlds=worlds, seed=seed, p_sign=s["p_sign"], ci_low=s["ci_low"],
                   ci_high=s["ci_high"])
        for m in (12, 24, 36):
            row[f"p_sign_{m}m"] = s.get(f"p_sign_{m}m")
        for c in OUTCOMES:
            row[f"share_{c}"] = s["outcome_shares"][c]
        row["median_weeks_to_sign"] = s["median_weeks_to_sign"]
        if base is not None:
            d = res.outcomes["signed"].to_numpy(float) - base
            m, se = d.mean(), d.std(ddof=1) / math.sqrt(len(d))
            row.update(diff_vs_baseline=m, diff_ci_low=m - 1.96 * se,
                       diff_ci_high=m + 1.96 * se)
        rows.append(row)
    pd.DataFrame(rows).to_csv(path / "sweep_summary.csv", index=False)
    return path


__all__ = ["write_run", "write_sweep", "wilson_interval"]
