"""The sweep summary: one row per job of a multirun, with paired differences.

Jobs of one sweep share their seed, so world i of job A and world i of job B draw the
same random numbers (common random numbers, :mod:`sim.rng`). Each job's P(sign) is
compared with the *baseline job* world by world: the mean of the per-world differences
of ``signed`` and a normal-approximation 95 % interval on them, which is much narrower
than the difference of two independent estimates.

The baseline job of a job is the job of the same sweep whose scenario is ``baseline``
and whose other swept values are the same. When the scenario is not swept there is no
baseline job and the difference columns are empty.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.api import MONTHS, OUTCOMES
from sim.errors import environment_problem
from sim.runfolder import DamagedRunError, atomic_write, clean_temp_files, finished_run

#: Name of the scenario other jobs are compared with.
BASELINE = "baseline"
#: Estimate columns of sweep_summary.csv, in order.
ESTIMATES = (["worlds", "seed", "p_sign", "ci_low", "ci_high"]
             + [f"p_sign_{m}m" for m in MONTHS]
             + [f"share_{c}" for c in OUTCOMES]
             + ["median_weeks_to_sign", "diff_vs_baseline", "diff_ci_low", "diff_ci_high"])
Z95 = 1.959963984540054


def paired_difference(a: pd.DataFrame, b: pd.DataFrame) -> tuple[float, float, float]:
    """Mean per-world difference of ``signed`` (a - b) and its 95 % interval.

    Worlds are matched on ``world`` (jobs of different sizes, e.g. precision runs,
    are compared on the worlds they share).
    """
    m = a[["world", "signed"]].merge(b[["world", "signed"]], on="world", suffixes=("_a", "_b"))
    d = m["signed_a"].to_numpy(dtype=float) - m["signed_b"].to_numpy(dtype=float)
    n = len(d)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return mean, mean - Z95 * se, mean + Z95 * se


def _split(override: str) -> tuple[str, str]:
    key, _, value = override.partition("=")
    return key.lstrip("+~"), value


def _job_dirs(sweep_dir: Path) -> list[Path]:
    dirs = [p for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    return sorted(dirs, key=lambda p: int(p.name))


def sweep_table(sweep_dir: Path | str, jobs: Sequence[Sequence[str]] | None = None
                ) -> pd.DataFrame:
    """One row per job of the sweep in ``sweep_dir``.

    Args:
        sweep_dir: The sweep folder (job subfolders ``0/``, ``1/`` ...).
        jobs: The override list of each job, in job order (from the sweep's command
            line). If None, every numbered subfolder with a ``summary.json`` is a job.
            A job whose folder has no finished run of these overrides gets empty
            estimates and ``status`` ``missing``.
    """
    sweep_dir = Path(sweep_dir)
    summaries: list[dict | None]
    if jobs is None:
        names, summaries = [], []
        for d in _job_dirs(sweep_dir):
            s = _load(d / "summary.json")
            if s is not None:
                names.append(d.name)
                summaries.append(s)
        jobs = [s.get("overrides", []) for s in summaries if s is not None]  # all are here
    else:
        names = [str(i) for i in range(len(jobs))]
        summaries = []
        for name, ov in zip(names, jobs, strict=True):
            s = _load(sweep_dir / name / "summary.json")
            ok = s is not None and [o for o in s.get("overrides", [])
                                    if not o.startswith("hydra")] == [
                o for o in ov if not o.startswith("hydra")]
            summaries.append(s if ok else None)
    parsed = [dict(_split(o) for o in ov if not o.lstrip("+~").startswith("hydra"))
              for ov in jobs]
    keys: list[str] = []
    for p in parsed:
        keys += [k for k in p if k not in keys]
    varying = [k for k in keys if len({p.get(k) for p in parsed}) > 1]
    rows = []
    for name, ov, p, s in zip(names, jobs, parsed, summaries, strict=True):
        row: dict[str, Any] = {"job": name, "overrides": " ".join(ov),
                               "scenario": (s or {}).get("scenario", p.get("scenario",
                                                                           BASELINE))}
        for k in keys:
            if k not in ("scenario", *ESTIMATES):
                row[k] = p.get(k)
        if s is not None:
            for k in ("worlds", "seed", "p_sign", "ci_low", "ci_high"):
                row[k] = s.get(k)
            for m in MONTHS:
                row[f"p_sign_{m}m"] = s.get(f"p_sign_{m}m")
            for c in OUTCOMES:
                row[f"share_{c}"] = s.get("outcome_shares", {}).get(c)
            row["median_weeks_to_sign"] = s.get("median_weeks_to_sign")
        row["status"] = "done" if s is not None else "missing"
        rows.append(row)
    _add_differences(rows, parsed, summaries, varying, sweep_dir)
    cols = ["job", "overrides", "scenario"]
    cols += [k for k in keys if k not in ("scenario", *ESTIMATES)]
    cols += ESTIMATES + ["status"]
    return pd.DataFrame(rows, columns=cols)


def _add_differences(rows: list[dict], parsed: list[dict], summaries: list,
                     varying: list[str], sweep_dir: Path) -> None:
    if "scenario" not in varying:
        return
    others = [k for k in varying if k != "scenario"]
    cache: dict[str, pd.DataFrame] = {}

    def worlds(name: str) -> pd.DataFrame:
        if name not in cache:
            cache[name] = pd.read_parquet(sweep_dir / name / "worlds.parquet",
                                          columns=["world", "signed"])
        return cache[name]

    for row, p, s in zip(rows, parsed, summaries, strict=True):
        if s is None:
            continue
        ref = next((r for r, q, t in zip(rows, parsed, summaries, strict=True)
                    if t is not None and t.get("scenario") == BASELINE
                    and t.get("seed") == s.get("seed")
                    and all(q.get(k) == p.get(k) for k in others)), None)
        if ref is None:
            continue
        d, lo, hi = paired_difference(worlds(row["job"]), worlds(ref["job"]))
        row["diff_vs_baseline"], row["diff_ci_low"], row["diff_ci_high"] = d, lo, hi


def _load(path: Path) -> dict | None:
    """The summary of the finished, intact job whose ``summary.json`` is ``path``."""
    try:
        return finished_run(path.parent)
    except DamagedRunError:
        return None


def write_sweep_summary(sweep_dir: Path | str, jobs: Sequence[Sequence[str]] | None = None
                        ) -> pd.DataFrame:
    """Write ``sweep_summary.csv`` into ``sweep_dir`` (atomically) and return it."""
    sweep_dir = Path(sweep_dir)
    table = sweep_table(sweep_dir, jobs)
    clean_temp_files(sweep_dir)
    atomic_write(sweep_dir / "sweep_summary.csv", lambda p: table.to_csv(p, index=False))
    return table


def format_sweep(table: pd.DataFrame) -> str:
    """A short table of a sweep's estimates."""
    lines = [f"{'job':>4}  {'overrides':40s} {'P(sign)':>8} {'95% CI':>16} "
             f"{'vs baseline':>22}"]
    for r in table.itertuples(index=False):
        if r.status != "done":
            lines.append(f"{r.job:>4}  {r.overrides[:40]:40s} {'missing':>8}")
            continue
        diff = ""
        if r.diff_vs_baseline is not None and np.isfinite(r.diff_vs_baseline):
            diff = f"{r.diff_vs_baseline:+.3f} [{r.diff_ci_low:+.3f}, {r.diff_ci_high:+.3f}]"
        lines.append(f"{r.job:>4}  {r.overrides[:40]:40s} {r.p_sign:8.3f} "
                     f"[{r.ci_low:.3f}, {r.ci_high:.3f}] {diff:>22}")
    return "\n".join(lines)


class SweepSummaryCallback(Callback):
    """Hydra callback: write ``sweep_summary.csv`` when a multirun ends."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Summarise the jobs of the sweep that just ended (finished or resumed)."""
        from sim.cli.run import job_overrides

        sweep_dir = Path(str(config.hydra.sweep.dir))
        params = OmegaConf.select(config, "hydra.sweeper.params")
        params = OmegaConf.to_container(params) if isinstance(params, DictConfig) else {}
        assert isinstance(params, dict)  # a DictConfig becomes a dict
        jobs = job_overrides(list(config.hydra.overrides.task), True, params)
        try:
            table = write_sweep_summary(sweep_dir, jobs)
        except OSError as e:
            # Hydra turns a callback's exception into a warning and exit code 0
            print(f"sim-run: error: {environment_problem(e, sweep_dir)}", file=sys.stderr)
            raise SystemExit(1) from None
        if not config.get("quiet", False):
            print(format_sweep(table))
            print(f"sweep summary: {sweep_dir / 'sweep_summary.csv'}")
        missing = table.loc[table["status"] != "done", "job"].tolist()
        if missing:
            print(f"sim-run: error: {sweep_dir}: job(s) {', '.join(map(str, missing))} did "
                  "not finish intact; run the same command again", file=sys.stderr)
            raise SystemExit(1)
