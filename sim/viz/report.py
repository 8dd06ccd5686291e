"""Load run and sweep folders into tidy tables, save the figures and write the report.

This is the one module that writes figures to disk; :mod:`sim.viz.plots` only returns them.

A *run folder* (written by ``sim-run``) holds ``summary.json``, ``worlds.parquet``
(one row per world), ``steps.parquet`` (one row per week), ``metadata.json`` and, with
``trace=true``, ``trace.parquet``. A *sweep folder* holds numbered job folders
(``0/``, ``1/``, ...), each a run folder, and ``sweep_summary.csv`` with one row per job.

>>> from sim import report                                   # doctest: +SKIP
>>> report.build_report("results/sweep")                     # doctest: +SKIP
PosixPath('results/sweep/report/index.html')

Everything is written under ``<folder>/report/``; nothing lands in the current folder.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import html
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.experiment.api import OUTCOMES
from sim.experiment.display import INTERVAL_NOTE, percent, points
from sim.experiment.runfolder import MAX_JSON_BYTES, spread_ok
from sim.experiment.runs import (
    BASELINE,
    RUN_KEYS,
    SWEEP_HEAD,
    SWEEP_TAIL,
    Z95,
    RunData,
    RunFolderError,
    baseline_job,
    is_run_dir,
    is_sweep_dir,
    load_run,
    numbered_dirs,
    read_json_object,
    read_table_file,
    sweep_table,
)
from sim.model import rules
from sim.model.outputs import column_named
from sim.safeio import UnsafeFile, open_regular, read_regular_text
from sim.viz import plots

#: Entries of a run's ``spread`` block the estimates table takes (as ``spread_<name>``).
SPREAD_COLUMNS = ("p_sign_q10", "p_sign_q50", "p_sign_q90", "draws", "worlds",
                  "share_between", "draws_signing")
#: Columns of ``sweep_summary.csv`` that are not swept keys.
SWEEP_COLUMNS = (*SWEEP_HEAD, *SWEEP_TAIL, "path")
#: Figure file written for one world's story in a run folder.
TRACE_FIGURE = "trace.png"
_DPI = 150
#: Up to this many runs, trajectories are overlaid in one figure; beyond, small multiples.
OVERLAY_MAX = 4
#: A path that is not a (finished, intact) run or sweep folder; ``str()`` is one line.
ReportInputError = RunFolderError


# ------------------------------------------------------------------------- loading
@dataclass
class SweepData:
    """A sweep folder's contents.

    Attributes:
        path: The sweep folder.
        table: ``sweep_summary.csv`` (or the same table rebuilt from the jobs,
            :func:`sim.experiment.runs.sweep_table`), with a ``label`` column added.
        runs: The job folders, in job order.
        swept: Keys that take more than one value across jobs (``scenario`` included).
        baseline: Label of the baseline job, if the sweep has one.
    """

    path: Path
    table: pd.DataFrame
    runs: list[RunData]
    swept: list[str]
    baseline: str | None = None


_short_keys = plots.short_keys


def _fmt_value(v: object) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def load_sweep(path: Path | str) -> SweepData:
    """Load a sweep folder: its summary table and every job's run folder.

    Raises:
        ReportInputError: ``path`` holds no numbered run folders, or one of them is
            not a finished, intact run (a sweep is reported whole or not at all), or
            ``sweep_summary.csv`` is malformed.
    """
    path = Path(path)
    if not path.exists():
        raise ReportInputError(path, "no such folder (a relative path is taken from the "
                               f"working directory, {Path.cwd()})")
    jobs = numbered_dirs(path) if path.is_dir() else []
    if not jobs:
        raise ReportInputError(path, "expected a sweep folder with numbered sim-run job "
                               "folders (0/, 1/, ...)")
    runs = [load_run(p, job=int(p.name)) for p in jobs]
    csv = path / "sweep_summary.csv"
    if csv.exists() or csv.is_symlink():   # a FIFO or device there is refused, not skipped
        table = _read_sweep_csv(csv, [r.job for r in runs])
    else:
        table = sweep_table(path)
    table = table.sort_values("job").reset_index(drop=True)
    candidates = ["scenario"] + [c for c in table.columns if c not in SWEEP_COLUMNS
                                 and c not in RUN_KEYS and not c.startswith("hydra")]
    candidates += [c for c in ("worlds", "seed") if c in table]
    swept = [c for c in candidates if c in table and table[c].nunique(dropna=False) > 1]
    short = _short_keys(swept)
    labels = []
    for _, row in table.iterrows():
        parts = [str(row["scenario"]) if k == "scenario"
                 else f"{short[k]}={_fmt_value(row[k])}" for k in swept
                 if k == "scenario" or not pd.isna(row[k])]
        labels.append(", ".join(parts) if parts else str(row.get("scenario", "run")))
    if len(set(labels)) < len(labels):  # duplicates: fall back to job numbers
        labels = [f"{lab} (job {j})" for lab, j in zip(labels, table["job"], strict=True)]
    table["label"] = labels
    by_job = dict(zip(table["job"], labels, strict=True))
    for r in runs:
        r.label = by_job.get(r.job, r.label)
    runs = [r for r in runs if r.job in by_job]
    baseline = _find_baseline(table, runs)
    return SweepData(path, table, runs, swept, baseline)


def _read_sweep_csv(csv: Path, jobs: list) -> pd.DataFrame:
    """``sweep_summary.csv``, checked: one row per job folder, numeric estimates."""
    try:
        with open_regular(csv, MAX_JSON_BYTES) as fh:
            table = pd.read_csv(fh)
    except UnsafeFile as e:
        raise ReportInputError(csv, f"{e}; delete it and sim-report rebuilds it from the "
                               "jobs") from None
    except OSError:
        raise
    except Exception as e:  # noqa: BLE001 - pandas raises several types for bad files
        raise ReportInputError(csv, f"cannot read it as CSV ({e.__class__.__name__}); "
                               "delete it and sim-report rebuilds it from the jobs") from None
    for col in ("job", "scenario", "p_sign", "ci_low", "ci_high"):
        if col not in table:
            raise ReportInputError(csv, f"expected a {col!r} column; delete the file and "
                                   "sim-report rebuilds it from the jobs")
    for col in ("job", "p_sign", "ci_low", "ci_high", "diff_vs_baseline", "diff_ci_low",
                "diff_ci_high"):
        if col in table and not pd.api.types.is_numeric_dtype(table[col]):
            raise ReportInputError(csv, f"column {col!r} must hold numbers; delete the file "
                                   "and sim-report rebuilds it from the jobs")
    table = table[table["job"].isin(jobs)]
    if sorted(table["job"].tolist()) != sorted(jobs):
        raise ReportInputError(csv, "does not list each job folder once; delete it and "
                               "sim-report rebuilds it from the jobs")
    table = table.copy()
    table["job"] = table["job"].astype(int)
    return table


def _find_baseline(table: pd.DataFrame, runs: list[RunData]) -> str | None:
    """What the sweep's jobs are compared with, or ``None`` if nothing.

    As in ``sim-run``'s sweep summary, each job is paired with the job of scenario
    ``baseline`` that has the same other swept values. When there is one such job its
    label is returned, else ``"baseline"``. A sweep that does not vary the scenario
    has no baseline.
    """
    if len(runs) < 2 or BASELINE not in set(table["scenario"].astype(str)) \
            or table["scenario"].nunique() < 2:
        return None
    base = table[table["scenario"].astype(str) == BASELINE]
    return str(base["label"].iloc[0]) if len(base) == 1 else BASELINE


def load(path: Path | str) -> RunData | SweepData:
    """Load a run folder or a sweep folder, whichever ``path`` is.

    Raises:
        ReportInputError: ``path`` is missing or is neither.
    """
    path = Path(path)
    if not path.exists():
        raise ReportInputError(path, "no such folder; expected a sim-run output folder "
                               "or a sweep folder")
    if not path.is_dir():
        raise ReportInputError(path, "is a file; expected a sim-run output folder or a "
                               "sweep folder")
    if is_run_dir(path):
        return load_run(path)
    if is_sweep_dir(path):
        return load_sweep(path)
    raise ReportInputError(path, "expected a sim-run output folder (summary.json, "
                           "worlds.parquet, steps.parquet) or a sweep folder (numbered "
                           "job folders 0/, 1/, ...)")


# -------------------------------------------------------------------- tidy tables
def estimates(runs: Sequence[RunData], sweep_table: pd.DataFrame | None = None
              ) -> pd.DataFrame:
    """One row per run: P(sign) with its interval, by 12/24/36 months, outcome shares.

    Values come from each run's ``summary.json``; paired differences from the baseline
    (``diff``, ``diff_ci_low``, ``diff_ci_high``) from ``sweep_table`` when given.
    """
    rows = []
    for r in runs:
        row = {"label": r.label, "scenario": r.scenario, "job": r.job,
               "horizon_weeks": r.horizon_weeks, "start_date": r.start_date,
               **r.estimates.row()}   # the summary's one list of table columns
        for c in OUTCOMES:             # outcome shares under the outcome's own name
            row[c] = row.pop(f"share_{c}")
        sp = r.summary.get("spread")
        for c in SPREAD_COLUMNS:
            row[f"spread_{c}"] = sp.get(c) if isinstance(sp, dict) and spread_ok(sp) else None
        rows.append(row)
    df = pd.DataFrame(rows)
    if sweep_table is not None and "diff_vs_baseline" in sweep_table:
        d = sweep_table.set_index("job")
        df["diff"] = df["job"].map(d["diff_vs_baseline"])
        for c in ("diff_ci_low", "diff_ci_high"):  # Series.map(None) would raise
            df[c] = df["job"].map(d[c]) if c in d else np.nan
        base = df["scenario"].astype(str) == BASELINE  # compared with itself: no entry
        df.loc[base, ["diff", "diff_ci_low", "diff_ci_high"]] = np.nan
    return df


def cumulative(runs: Sequence[RunData]) -> pd.DataFrame:
    """Long table of the cumulative share signed by week, with a 95 % Wilson band."""
    from sim.model.rules import wilson_interval

    frames = []
    for r in runs:
        st = r.steps
        n = r.n_worlds
        k = np.round(st["p_signed"].to_numpy(dtype=float) * n)
        lo, hi = wilson_interval(k, n)
        frames.append(pd.DataFrame({"label": r.label, "week": st["week"].to_numpy(),
                                    "p_signed": st["p_signed"].to_numpy(dtype=float),
                                    "ci_low": lo, "ci_high": hi}))
    return pd.concat(frames, ignore_index=True)


def signed_terms(runs: Sequence[RunData]) -> pd.DataFrame:
    """Long table of signed worlds' terms: ``label``, ``world``, ``issue``, ``value``."""
    frames = []
    for r in runs:
        have = set(r.world_columns())
        cols = [f"terms.{i}" for i in r.issues if f"terms.{i}" in have]
        w = r.read_worlds(["world", "signed", *cols])   # only the columns drawn
        w = w[w["signed"].astype(bool)]
        if not cols or w.empty:
            continue
        long = w[["world", *cols]].melt(id_vars="world", var_name="issue", value_name="value")
        long["issue"] = long["issue"].str.slice(6)
        long.insert(0, "label", r.label)
        frames.append(long)
    if not frames:
        return pd.DataFrame(columns=["label", "world", "issue", "value"])
    return pd.concat(frames, ignore_index=True)


def paired_differences(sweep: SweepData) -> pd.DataFrame:
    """Difference in P(sign) of each job from the baseline, with its 95 % interval.

    From the sweep table's ``diff_vs_baseline`` columns (:func:`sim.experiment.runs.sweep_table`:
    worlds paired by id against the baseline job at the same values of the other swept
    keys).
    """
    if sweep.baseline is None or "diff_vs_baseline" not in sweep.table:
        return pd.DataFrame(columns=["label", "diff", "ci_low", "ci_high"])
    t = sweep.table
    d = t[t["scenario"].astype(str) != BASELINE].dropna(subset=["diff_vs_baseline"])
    return pd.DataFrame({"label": d["label"], "diff": d["diff_vs_baseline"],
                         "ci_low": d["diff_ci_low"], "ci_high": d["diff_ci_high"]}
                        ).reset_index(drop=True)


# ------------------------------------------------------------- labels and metadata
#: Per-world columns of ``worlds.parquet`` behind each panel of the gate curves.
GATE_COLUMNS = {"yes_share": "param.domestic.referendum.yes_share",
                "opposition_votes": column_named("opposition_votes_expected").name}


def gate_curves(runs: Sequence[RunData], bins: int = 10) -> pd.DataFrame:
    """P(sign) within the horizon by bins of the per-world draws that decide the gate.

    For each run and each quantity in :data:`GATE_COLUMNS` that varies across its worlds
    (a fixed value has no curve), worlds are cut into ``bins`` equal-count bins; each
    row is a bin: ``panel``, ``label``, ``value`` (mean of the quantity in the bin),
    ``p_sign``, ``ci_low``, ``ci_high`` (95 % Wilson) and ``n``.
    """
    rows = []
    for r in runs:
        w = r.read_worlds(["signed", *GATE_COLUMNS.values()])   # only the columns drawn
        for panel, col in GATE_COLUMNS.items():
            if col not in w or w[col].nunique() < 2:
                continue
            x = w[col].to_numpy(float)
            rank = np.argsort(np.argsort(x, kind="stable"), kind="stable")
            b = rank * bins // len(x)
            signed = w["signed"].to_numpy()
            for i in range(bins):
                sel = b == i
                n = int(sel.sum())
                if not n:
                    continue
                k = int(signed[sel].sum())
                lo, hi = rules.wilson_interval(k, n)
                rows.append({"panel": panel, "label": r.label, "value": float(x[sel].mean()),
                             "p_sign": k / n, "ci_low": float(lo), "ci_high": float(hi),
                             "n": n})
    return pd.DataFrame(rows, columns=["panel", "label", "value", "p_sign", "ci_low",
                                       "ci_high", "n"])


def _config_section(run: RunData, section: str) -> dict | None:
    md = run.metadata
    for key in ("config", "resolved_config", "cfg"):
        c = md.get(key)
        if isinstance(c, Mapping):
            if isinstance(c.get(section), Mapping):
                return dict(c[section])
            model = c.get("model")
            if isinstance(model, Mapping) and isinstance(model.get(section), Mapping):
                return dict(model[section])
    return None


def _params(run: RunData):
    """The scenario's parameters, for labels and ideal points missing from metadata."""
    from sim.experiment.config import load_params

    try:
        return load_params(run.scenario)
    except Exception:  # an unknown or since-edited scenario: labels fall back to names
        return None


def actor_labels(run: RunData) -> dict[str, str]:
    """Display name of each actor (from the resolved config, else the scenario)."""
    actors = _config_section(run, "actors")
    if actors:
        return {k: str(v.get("label", k)) if isinstance(v, Mapping) else k
                for k, v in actors.items()}
    p = _params(run)
    return {k: a.label for k, a in p.actors.items()} if p is not None else {}


def issue_labels(run: RunData) -> dict[str, dict]:
    """``{issue: {"label", "zero", "one"}}`` (from the resolved config, else the scenario)."""
    labels = _config_section(run, "issue_labels") or _config_section(run, "issues")
    if labels and all(isinstance(v, Mapping) for v in labels.values()):
        return {k: dict(v) for k, v in labels.items()}
    p = _params(run)
    return {k: dict(v) for k, v in p.issue_labels.items()} if p is not None else {}


def ideal_points(run: RunData) -> dict[str, dict[str, float]]:
    """``{actor: {issue: ideal point}}`` from metadata (else the scenario's positions)."""
    ip = run.metadata.get("ideal_points")
    if ip:
        return {a: {i: float(v) for i, v in d.items()} for a, d in ip.items()}
    p = _params(run)
    if p is None:
        return {}
    out = {}
    for name, a in p.actors.items():
        pos = getattr(a, "position", None) or {}
        out[name] = {i: float(v) if isinstance(v, (int, float)) else float("nan")
                     for i, v in pos.items()}
    return out


def parameter_label(key: str, scenario: str = "baseline") -> str:
    """Axis label for a swept key: the key with its unit from the parameter schema.

    ``incidents.base_rate`` becomes ``incidents.base_rate (incidents/week)`` when the
    schema gives a unit, else the key itself.
    """
    from sim.experiment.config import load_params

    try:
        obj = load_params(scenario)
    except Exception:  # labels are cosmetic: never fail a report over them
        return key
    unit = doc = ""
    for part in key.split("."):
        if dataclasses.is_dataclass(obj):
            f = next((f for f in dataclasses.fields(obj) if f.name == part), None)
            if f is None:
                return key
            unit, doc = f.metadata.get("unit", ""), f.metadata.get("doc", "")
            obj = getattr(obj, part)
        elif isinstance(obj, Mapping) and part in obj:
            obj = obj[part]
        else:
            return key
    if unit:
        return f"{key} ({unit})"
    if doc and len(doc) <= 40:
        return f"{key} ({doc})"
    return key


def _common[T](values: Sequence[T]) -> T | None:
    vals = list(dict.fromkeys(values))
    return vals[0] if len(vals) == 1 else None


def held_fixed(runs: Sequence[RunData], swept: Sequence[str] = ()) -> str:
    """One line saying what all runs share: worlds, seed, horizon, start, overrides."""
    parts = []
    w = _common([r.n_worlds for r in runs])
    parts.append((f"{w:,} worlds per run" if len(runs) > 1 else f"{w:,} worlds") if w
                 else "worlds differ by run")
    s = _common([r.seed for r in runs])
    if s is not None:
        parts.append(f"seed {s} (common random numbers)" if len(runs) > 1 else f"seed {s}")
    h = _common([r.horizon_weeks for r in runs])
    if h:
        parts.append(f"{h}-week horizon")
    sd = _common([r.start_date for r in runs])
    parts.append(f"start {sd}" if sd else "each scenario from its own start date")
    if "scenario" not in swept:
        parts.append(f"scenario {runs[0].scenario}")
    common = set.intersection(*[set(r.overrides) for r in runs]) if runs else set()
    shared = sorted(o for o in common if o.split("=", 1)[0].lstrip("+~")
                    not in (*RUN_KEYS, *swept) and not o.lstrip("+~").startswith(
                        ("hydra", "paths")))
    if shared:
        parts.append("with " + ", ".join(shared))
    elif swept and set(swept) - {"scenario"}:
        parts.append("other parameters as in the scenario")
    return "; ".join(parts)


# ----------------------------------------------------------------------- figures
@dataclass
class FigureSpec:
    """A figure of the report: file name, heading, caption and the figure itself.

    ``figure`` may be given as a function that draws it (drawn on first use), with
    ``source`` a file that already holds the same figure: the report then copies that
    file instead of drawing the figure again (a traced run's ``trace.png``).
    """

    name: str
    heading: str
    caption: str
    _figure: Figure | Callable[[], Figure] = field(repr=False)
    source: Path | None = None

    @property
    def figure(self) -> Figure:
        """The figure (drawn now if it was given as a function)."""
        if not isinstance(self._figure, Figure):
            self._figure = self._figure()
        return self._figure


def _caption(what: str, covers: str, fixed: str) -> str:
    """A figure caption: what is shown, which worlds each series covers, what was fixed."""
    return f"{what} Worlds covered: {covers}. Held fixed: {fixed}."


def trajectory_steps(run: RunData) -> pd.DataFrame:
    """``steps.parquet`` with the 95 % interval of each rate's weekly mean added.

    For each series in :data:`sim.viz.plots.RATE_SERIES` (incidents), the mean count per
    active world in a week is ``<s>_mean``; with ``<s>_sq_mean`` (the mean square over the
    same worlds) and the number of active worlds ``n = p_active × worlds`` its normal 95 %
    interval is ``mean ± 1.96 · sqrt(var · n/(n−1) / n)``, added as ``<s>_ci_low`` and
    ``<s>_ci_high`` (NaN where fewer than two worlds are active). Run folders written
    before ``<s>_sq_mean`` existed get no interval columns.
    """
    st = run.steps
    add = {}
    if "p_active" in st:
        n = np.round(st["p_active"].to_numpy(dtype=float) * run.n_worlds)
        for name in plots.RATE_SERIES:
            if f"{name}_mean" not in st or f"{name}_sq_mean" not in st:
                continue
            m = st[f"{name}_mean"].to_numpy(dtype=float)
            var = np.maximum(st[f"{name}_sq_mean"].to_numpy(dtype=float) - m * m, 0.0)
            ok = n >= 2
            se = np.full(len(st), np.nan)
            se[ok] = np.sqrt(var[ok] / (n[ok] - 1))
            add[f"{name}_ci_low"] = np.maximum(m - Z95 * se, 0.0)
            add[f"{name}_ci_high"] = m + Z95 * se
    return st.assign(**add) if add else st


def baseline_pairs(sweep: SweepData | None) -> dict[str, str]:
    """``{job label: label of the baseline job it is compared with}``.

    As in ``sim-run``'s sweep summary, a job is paired with the job of scenario
    ``baseline`` that has the same seed and the same values of the other swept keys (in
    a grid sweep, the baseline at the same value). Baseline jobs and jobs without such
    a partner are left out; a sweep without a baseline gives ``{}``.
    """
    if sweep is None or sweep.baseline is None:
        return {}
    t = sweep.table
    seeds = {r.job: r.seed for r in sweep.runs}
    scen = [str(s) for s in t["scenario"]]
    values = [{k: str(row[k]) for k in sweep.swept if k != "scenario"}
              for _, row in t.iterrows()]
    job_seeds = [seeds.get(j) for j in t["job"]]
    labels = [str(lab) for lab in t["label"]]
    out = {}
    for i in range(len(t)):
        j = baseline_job(i, scen, job_seeds, values, sweep.swept)  # the sweep table's rule
        if j is not None and scen[i] != BASELINE:
            out[labels[i]] = labels[j]
    return out


def _active_text(runs: Sequence[RunData]) -> str:
    """How many worlds are still active in the last week, over the runs."""
    last = {r.label: float(r.steps["p_active"].iloc[-1]) for r in runs
            if "p_active" in r.steps and len(r.steps)}
    if not last:
        return ""
    lo, hi = min(last, key=last.__getitem__), max(last, key=last.__getitem__)
    if len(last) == 1 or last[lo] == last[hi]:
        return f"; in the last week {100 * last[hi]:.0f}% of worlds are still active"
    return (f"; in the last week {100 * last[lo]:.0f}% ({lo}) to {100 * last[hi]:.0f}% "
            f"({hi}) of worlds are still active")


def run_figures(runs: Sequence[RunData], sweep: SweepData | None = None,
                est: pd.DataFrame | None = None) -> list[FigureSpec]:
    """Build the report's figures for one run or a sweep's runs (nothing is saved).

    Every caption says which worlds each series covers and what was held fixed. In a
    sweep with a baseline, each run is compared with its own baseline job
    (:func:`baseline_pairs`). ``est`` is :func:`estimates` of ``runs`` if already made.
    """
    swept = sweep.swept if sweep is not None else []
    fixed = held_fixed(runs, swept)
    horizon = _common([r.horizon_weeks for r in runs])
    est = estimates(runs) if est is None else est
    cols = plots.colours([r.label for r in runs])
    pairs = baseline_pairs(sweep)
    grid = len(set(pairs.values())) > 1
    n = _common([r.n_worlds for r in runs])
    every = (f"all {n:,} worlds" if n else "all worlds") + (" of each run" if len(runs) > 1
                                                             else "")
    specs = [
        FigureSpec("p_sign.png", "P(sign) by scenario", _caption(
            "Share of worlds in which the treaty is signed within the horizon; bars are "
            "95% Wilson intervals. Sorted, highest first.", every, fixed),
            plots.p_sign_by_scenario(est, horizon_weeks=horizon, colors=cols,
                                     subtitle=fixed)),
        FigureSpec("cumulative.png", "Cumulative probability of signing", _caption(
            "Share of worlds signed by each week since the scenario's start, with 95% "
            "Wilson bands (Monte Carlo error only)"
            + (f"; with more than {plots.CUMULATIVE_OVERLAY_MAX} runs, one panel per run "
               "against the baseline, each on its own scale." if len(runs)
               > plots.CUMULATIVE_OVERLAY_MAX else "."),
            every + " (a world that signed stays counted)", fixed),
            plots.cumulative_signing(cumulative(runs), colors=cols, subtitle=fixed,
                                     reference=sweep.baseline if sweep is not None
                                     else None)),
        FigureSpec("outcomes.png", "Outcome classes", _caption(
            "How worlds end: signed, escalation (absorbing breakdown), Armenian government "
            "fell without a deal, or stalemate at the horizon.", every, fixed),
            plots.outcome_classes(est, horizon_weeks=horizon, subtitle=fixed)),
    ]
    gate_runs = runs if len(runs) <= OVERLAY_MAX else (
        [r for r in runs if sweep is not None and r.label == sweep.baseline] or runs[:1])
    gate = gate_curves(gate_runs)
    if len(gate):
        which = ("" if len(gate_runs) == len(runs)
                 else f" ({', '.join(r.label for r in gate_runs)} only)")
        specs.append(FigureSpec(
            "curves.png", "P(sign) against the referendum prior and the opposition's votes",
            _caption(
                "Share of worlds signed within the horizon, by tenths of the worlds ranked "
                "by their draw of the referendum's yes share (left) and by the opposition "
                "yes votes they expect at the start (right), from the per-world draws in "
                "worlds.parquet; bands are 95% Wilson intervals. The dashed line is the "
                "50% a referendum must exceed.",
                f"all worlds{which}, each bin a tenth of them", fixed),
            plots.gate_curves(gate, horizon_weeks=horizon, colors=cols, subtitle=fixed)))
    ref = next((r for r in runs if sweep is not None and r.label == sweep.baseline), runs[0])
    terms = signed_terms(runs)
    specs.append(FigureSpec(
        "terms.png", "Terms of signed deals", _caption(
            "Signed package on each issue: box 25–75%, whiskers 10–90%, diamond the "
            "median, with the median and 25–75% range printed beside each box; dotted "
            f"lines and the markers above the rows are the actors' ideal points "
            f"({ref.label}).",
            "signed worlds only (their number per run in the row labels)", fixed),
        plots.signed_terms(terms, ideal_points(ref), issues=ref.issues,
                           issue_labels=issue_labels(ref), actor_labels=actor_labels(ref),
                           colors=cols, runs=[r.label for r in runs], subtitle=fixed)))
    if sweep is not None and sweep.baseline is not None:
        diffs = paired_differences(sweep)
        if len(diffs):
            if grid:  # say which baseline job each difference is taken from
                diffs = diffs.assign(label=[f"{lab} (vs {pairs[lab]})" if lab in pairs
                                            else lab for lab in diffs["label"]])
            specs.append(FigureSpec(
                "differences.png", f"Paired differences from {sweep.baseline}", _caption(
                    "Difference in P(sign) from the baseline, in percentage points, paired "
                    "world by world (same seed, common random numbers), with 95% "
                    "intervals. Green/red: the interval excludes zero."
                    + (" Each job is compared with the baseline job that has the same "
                       "other swept values (named in brackets)." if grid else ""),
                    "all worlds of each run and of its baseline job, paired by world",
                    fixed),
                plots.paired_differences(diffs, sweep.baseline, subtitle=fixed)))
    if sweep is not None:
        specs.extend(_numeric_sweep_figures(sweep, fixed, horizon, every))
    steps = {r.label: trajectory_steps(r) for r in runs}
    has_ci = all("incidents_ci_low" in s for s in steps.values())
    active = (f"worlds still active in each week (not yet signed or escalated)"
              f"{_active_text(runs)}")
    how = ("Tension, mobilisation and support: the median active world (line) and the "
           "10–90% band of active worlds. Incidents: the mean number per active "
           "world-week (line)" + (" with the 95% interval of that mean (band)" if has_ci
                                  else "; these run folders hold no interval for it")
           + ". A world that signs or escalates leaves the series from that week, so late "
           "weeks describe the worlds still in play, not all worlds. Incident rates over "
           "fixed 52-week windows counted in every world are in summary.json and the "
           "worlds table (incidents_window_*).")
    if len(runs) <= OVERLAY_MAX and not grid:
        specs.append(FigureSpec(
            "trajectories.png", "Trajectories", _caption(how, active, fixed),
            plots.trajectories(steps, colors=cols, subtitle=fixed)))
    else:  # small multiples, each run against its reference
        if pairs:
            reference: str | dict[str, str] = pairs
            against = ("the baseline job with the same other swept values" if grid
                       else str(next(iter(pairs.values()))))
        else:
            reference = against = runs[0].label
        left_out = [r.label for r in runs if pairs and r.label not in pairs
                    and r.label not in pairs.values()]
        extra = (f" Not shown (no baseline job with the same values): "
                 f"{', '.join(left_out)}." if left_out else "")
        for name in plots.TRAJECTORY_SERIES:
            specs.append(FigureSpec(
                f"trajectories_{name}.png", f"Trajectories: {plots.SERIES_STYLE[name][0]}",
                _caption(f"Each run (colour) against {against} (black line, grey band). "
                         + how + extra, active, fixed),
                plots.trajectory_panels(steps, name, reference, colors=cols,
                                        subtitle=fixed)))
    for r in runs:
        if r.has_trace:
            drawn = r.path / TRACE_FIGURE  # sim-run drew it already: copied, not redrawn
            specs.append(FigureSpec(
                "timeline.png" if len(runs) == 1 else f"timeline_job{r.job}.png",
                f"One world's story ({r.label})", _caption(
                    "Week-by-week path of one traced world: incidents, political climate, "
                    "the tabled package, each side's concessions and dated events.",
                    "one traced world (named in the subtitle)", fixed),
                functools.partial(trace_figure, r), drawn if drawn.is_file() else None))
    return specs


def _numeric_sweep_figures(sweep: SweepData, fixed: str, horizon: int | None,
                           every: str = "all worlds of each run") -> list[FigureSpec]:
    t = sweep.table
    numeric = [k for k in sweep.swept if k not in ("scenario", "seed", "worlds")
               and pd.api.types.is_numeric_dtype(t[k]) and t[k].notna().all()]
    if not numeric or len(numeric) > 2:
        return []
    others = [k for k in sweep.swept if k not in numeric]
    scen = str(t["scenario"].iloc[0]) if "scenario" in t else "baseline"
    group = t[others].astype(str).agg(", ".join, axis=1) if others else None
    if len(numeric) == 1:
        key = numeric[0]
        df = pd.DataFrame({"value": t[key], "p_sign": t["p_sign"], "ci_low": t["ci_low"],
                           "ci_high": t["ci_high"]})
        if group is not None:
            df["label"] = group.to_numpy()
        return [FigureSpec(
            "sweep.png", f"P(sign) against {key}",
            _caption(f"P(sign) at each swept value of {key}, with the 95% Wilson band"
                     + (" (one line per value of the other swept keys)." if others
                        else "."), every, fixed),
            plots.p_sign_vs_value(df, xlabel=parameter_label(key, scen),
                                  horizon_weeks=horizon, subtitle=fixed))]
    kx, ky = numeric
    out = []
    groups = [None] if group is None else list(dict.fromkeys(group))
    for i, g in enumerate(groups):
        sel = t if g is None else t[group == g]
        df = pd.DataFrame({"x": sel[kx], "y": sel[ky], "p_sign": sel["p_sign"],
                           "ci_low": sel["ci_low"], "ci_high": sel["ci_high"]})
        sub = fixed if g is None else f"{g}; {fixed}"
        out.append(FigureSpec(
            "sweep_heatmap.png" if g is None else f"sweep_heatmap_{i}.png",
            f"P(sign) over {kx} and {ky}" + (f" ({g})" if g else ""),
            _caption("P(sign) at each pair of swept values; the small numbers are the 95% "
                     "Wilson interval in per cent.", every, sub),
            plots.p_sign_heatmap(df, xlabel=parameter_label(kx, scen),
                                 ylabel=parameter_label(ky, scen), horizon_weeks=horizon,
                                 subtitle=sub)))
    return out


_OUTCOME_TEXT = {"signed": "signed", "escalation": "escalation",
                 "government_fell": "government fell without a deal",
                 "stalemate": "stalemate at the horizon"}


def trace_figure(run: RunData, world: int | None = None) -> Figure:
    """One traced world's timeline (:func:`sim.viz.plots.world_timeline`) with its labels.

    Args:
        run: A run folder with ``trace.parquet``.
        world: Which world (default: the first traced world).

    Raises:
        ReportInputError: The run has no trace, or no such world.
    """
    tr = run.trace
    if tr is None:
        raise ReportInputError(run.path, "no trace.parquet: run sim-run with trace=true")
    ids = list(dict.fromkeys(tr["world"])) if "world" in tr else [0]
    world = ids[0] if world is None else world
    if world not in ids:
        raise ReportInputError(run.path, f"world {world} is not in trace.parquet")
    one = tr[tr["world"] == world] if "world" in tr else tr
    row = run.world_row(world)
    outcome = str(row["outcome"].iloc[0]) if len(row) else ""
    what = _OUTCOME_TEXT.get(outcome, outcome)
    if outcome == "signed" and len(row):
        wk = int(row["sign_week"].iloc[0])
        d = one.loc[one["week"] == wk, "date"]
        what += f" in week {wk}" + (f" ({str(d.iloc[0])[:10]})" if len(d) else "")
    elif outcome == "escalation" and len(row) and "escalation_week" in row:
        what += f" in week {int(row['escalation_week'].iloc[0])}"
    title = f"One world's path under {run.scenario}" + (f": {what}" if what else "")
    sub = f"world {world}, seed {run.seed}, start {run.start_date}, {run.horizon_weeks} weeks"
    foot = None
    params = [c for c in row.columns if c.startswith("param.")] if len(row) else []
    if params:  # a long list: under the panels, not in the header
        short = _short_keys([c[6:] for c in params], min_parts=2)
        sub += f"; the {len(params)} values drawn for this world are listed at the bottom"
        foot = "Drawn for this world: " + ", ".join(
            f"{short[c[6:]]} {row[c].iloc[0]:.3g}" for c in params)
    return plots.world_timeline(one, issues=run.issues, issue_labels=issue_labels(run),
                                actor_labels=actor_labels(run), title=title, subtitle=sub,
                                footnote=foot)


def save_figure(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG at report resolution."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=_DPI, facecolor="white")
    return path


def write_trace_figure(run_dir: Path | str, world: int | None = None,
                       name: str = TRACE_FIGURE, verify: bool = True) -> Path:
    """Write one traced world's timeline into the run folder (``trace.png``).

    Called by ``sim-run`` (``verify=False``) while it writes a run folder with
    ``trace=true``, before the folder's manifest.
    """
    run = load_run(run_dir, verify=verify)
    return save_figure(trace_figure(run, world), run.path / name)


# ------------------------------------------------------------------------- report
_fmt_p = percent


def _estimates_rows(est: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the estimates table, one column per distinct quantity.

    P(sign) is the share of worlds in the ``signed`` outcome class, so that share has no
    column of its own; P(sign by m months) is shown only for months that end before
    the horizon (at the horizon it is P(sign) again).
    """
    horizon = int(est["horizon_weeks"].max()) if "horizon_weeks" in est and len(est) else 0
    months = [m for m in (12, 24, 36) if f"p_sign_{m}m" in est
              and round(m * 52 / 12) < horizon and est[f"p_sign_{m}m"].notna().any()]
    shares = [c for c in OUTCOMES if c != "signed"]
    has_spread = "spread_p_sign_q10" in est and est["spread_p_sign_q10"].notna().any()
    head = ["Scenario", "P(sign)", "95% CI",
            *(["10–90 % across assumptions"] if has_spread else []),
            *(f"by {m} m" for m in months), "Escalation", "Govt fell", "Stalemate",
            "Median weeks to sign"]
    has_diff = "diff" in est and est["diff"].notna().any()
    if has_diff:
        head += ["Δ vs baseline (pp)", "95% CI (pp)"]
    rows = []
    for _, r in est.sort_values("p_sign", ascending=False).iterrows():
        mw = r["median_weeks_to_sign"]
        spread = []
        if has_spread:
            q10, q90 = r["spread_p_sign_q10"], r["spread_p_sign_q90"]
            signing = r["spread_draws_signing"]
            some = ("" if signing is None or pd.isna(signing)
                    else f"; some world signs in {int(signing):,}")
            spread = ["–" if q10 is None or pd.isna(q10) else
                      f"{_fmt_p(q10)} – {_fmt_p(q90)} ({int(r['spread_draws']):,} draws × "
                      f"{int(r['spread_worlds']):,} worlds{some})"]
        row = [str(r["label"]), _fmt_p(r["p_sign"]),
               f"{_fmt_p(r['ci_low'])} – {_fmt_p(r['ci_high'])}", *spread,
               *(_fmt_p(r[f"p_sign_{m}m"]) for m in months),
               *(_fmt_p(r[c]) for c in shares),
               "–" if mw is None or pd.isna(mw) else f"{mw:g}"]
        if has_diff:
            if pd.isna(r["diff"]):
                row += ["–", "–"]
            else:
                row += [points(r["diff"], unit=""), f"{points(r['diff_ci_low'], unit='')} – "
                        f"{points(r['diff_ci_high'], unit='')}"]
        rows.append(row)
    return head, rows


def estimates_frame(est: pd.DataFrame) -> pd.DataFrame:
    """The estimates table as the report prints it (text cells: per cent, pp)."""
    head, rows = _estimates_rows(est)
    return pd.DataFrame(rows, columns=head)


#: What the estimates table shows (under it in index.html and report.md).
TABLE_NOTE = ("P(sign): share of all worlds in which the treaty is signed within the "
               "horizon (the 'signed' outcome class); 95% CI: its Wilson interval, a "
               f"{INTERVAL_NOTE}; "
               "10–90 % across assumptions (runs with spread.draws=K): the 10th and 90th "
               "percentiles of P(sign) over K draws of the scenario's distributed "
               "assumptions (posterior or priors), each over the same M worlds, so the "
               "uncertainty that comes from the assumptions; by N m: "
               "signed within N months; escalation, government fell and stalemate: shares "
               "of all worlds; median weeks to sign: over signed worlds only; Δ: paired "
               "difference from the baseline job with the same other swept values "
               "(percentage points).")


def _provenance(runs: Sequence[RunData]) -> list[tuple[str, str]]:
    md = runs[0].metadata
    out = [("Generated", dt.datetime.now().strftime("%Y-%m-%d %H:%M"))]
    for key, name in (("package_version", "Package version"), ("version", "Package version"),
                      ("git_revision", "Git revision"), ("git", "Git revision")):
        if md.get(key) and name not in dict(out):
            out.append((name, str(md[key])))
    return out


def _section_ids(specs: Sequence[FigureSpec]) -> dict[str, str]:
    """An HTML id for each figure's section, from its file name (unique per report)."""
    return {s.name: "fig-" + "".join(c if c.isalnum() else "-" for c in
                                     s.name.rsplit(".", 1)[0]) for s in specs}


def _md_anchor(heading: str) -> str:
    """The anchor GitHub-style Markdown gives a heading (lower case, dashes)."""
    keep = "".join(c for c in heading.lower() if c.isalnum() or c in " -_")
    return keep.replace(" ", "-")


def _alt_text(spec: FigureSpec) -> str:
    """A figure's alternative text: its title and subtitle when drawn, else its heading."""
    fig = spec._figure
    if isinstance(fig, Figure):
        return ". ".join(t for t in (plots.figure_title(fig), plots.figure_subtitle(fig))
                         if t) or spec.heading
    return spec.heading


def write_report(path: Path, title: str, runs: Sequence[RunData], specs: list[FigureSpec],
                 est: pd.DataFrame, fixed: str, notes: Sequence[str] = ()) -> Path:
    """Save the figures under ``path/report/`` and write ``index.html`` and ``report.md``."""
    out = path / "report"
    if out.is_symlink():
        raise ReportInputError(out, "is a link; the report is written only into a real "
                               "PATH/report/ folder: remove the link")
    if out.exists() and not out.is_dir():
        raise ReportInputError(out, "exists and is not a folder; move it away, the report "
                               "is written into PATH/report/")
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):  # figures of an earlier report that may not recur
        old.unlink()
    for s in specs:
        if s.source is not None and s.source.is_file():
            shutil.copyfile(s.source, out / s.name)
        else:
            save_figure(s.figure, out / s.name)
    head, rows = _estimates_rows(est)
    prov = _provenance(runs)
    # markdown
    md = [f"# {title}", "", f"Folder: `{path}`  ", f"Held fixed: {fixed}", ""]
    md += [f"{k}: {v}  " for k, v in prov] + ["", "Contents:", "",
                                              "- [Estimates](#estimates)"]
    md += [f"- [{s.heading}](#{_md_anchor(s.heading)})" for s in specs]
    md += ["", "## Estimates", "", f"Brackets: {INTERVAL_NOTE}.", ""]
    md.append("| " + " | ".join(head) + " |")
    md.append("|" + "|".join("---" if i == 0 else "--:" for i in range(len(head))) + "|")
    md += ["| " + " | ".join(r) + " |" for r in rows]
    md += ["", TABLE_NOTE, ""]
    md += [f"- {n}" for n in notes] + ([""] if notes else [])
    for s in specs:
        md += [f"## {s.heading}", "", f"![{s.heading}]({s.name})", "", s.caption, ""]
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    # html
    e = html.escape
    table = ("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head)
             + "</tr></thead><tbody>"
             + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows)
             + "</tbody></table>")
    ids = _section_ids(specs)
    figs = "".join(f'<section id="{ids[s.name]}"><h2>{e(s.heading)}</h2>'
                   f'<img src="{e(s.name)}" alt="{e(_alt_text(s))}">'
                   f'<p class="cap">{e(s.caption)}</p><p class="top"><a href="#top">'
                   "back to the contents</a></p></section>" for s in specs)
    contents = ('<nav id="contents" aria-label="Contents"><h2>Contents</h2><ol>'
                '<li><a href="#estimates">Estimates</a></li>'
                + "".join(f'<li><a href="#{ids[s.name]}">{e(s.heading)}</a></li>'
                          for s in specs) + "</ol></nav>")
    notes_html = "".join(f"<li>{e(n)}</li>" for n in notes)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222;
       max-width: 1150px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }}
h1 {{ font-size: 1.6em; margin-bottom: .2em; }} h2 {{ font-size: 1.2em; margin-top: 2em; }}
.meta {{ color: #555; font-size: .92em; }}
table {{ border-collapse: collapse; font-size: .9em; margin: 1em 0; }}
th, td {{ padding: .35em .7em; border-bottom: 1px solid #ddd; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }} td {{ white-space: nowrap; }}
.wide {{ overflow-x: auto; }}
th {{ background: #f3f4f6; }}
img {{ max-width: 100%; border: 1px solid #eee; }} .cap {{ color: #555; font-size: .92em; }}
body {{ max-width: 1400px; }} main {{ margin-left: 17em; }}
nav#contents {{ position: fixed; top: 1em; width: 15em; max-height: calc(100vh - 2em);
       overflow-y: auto; font-size: .9em; background: #fafafa; border: 1px solid #e5e5e5;
       padding: .3em 1em .6em 1em; }}
nav#contents h2 {{ font-size: 1em; margin: .6em 0 .3em 0; }}
nav#contents ol {{ padding-left: 1.3em; margin: 0; }} nav#contents li {{ margin: .25em 0; }}
section {{ scroll-margin-top: 1em; border-top: 1px solid #eee; }}
.top {{ font-size: .85em; }} .note {{ background: #fff8e1; padding: .4em .7em; }}
@media (max-width: 900px) {{ nav#contents {{ position: static; width: auto; }}
       main {{ margin-left: 0; }} }}
</style></head><body id="top">
{contents}
<main>
<h1>{e(title)}</h1>
<p class="meta">Folder: <code>{e(str(path))}</code><br>Held fixed: {e(fixed)}<br>
{"<br>".join(f"{e(k)}: {e(v)}" for k, v in prov)}</p>
<section id="estimates"><h2>Estimates</h2><div class="wide">{table}</div>
<p class="note">Brackets: {e(INTERVAL_NOTE)}.</p>
<p class="cap">{e(TABLE_NOTE)}</p></section>
{f"<ul>{notes_html}</ul>" if notes else ""}
{figs}
<p class="meta">Also available as <a href="report.md">report.md</a>.</p>
</main>
</body></html>
"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def build_report(path: Path | str) -> Path:
    """Write ``<path>/report/`` for a run or sweep folder and return its ``index.html``.

    Raises:
        ReportInputError: ``path`` is not a run or sweep folder.
    """
    path = Path(path)
    if is_exploration_dir(path):
        return build_exploration_report(path)
    data = load(path)
    notes: list[str] = []
    if isinstance(data, SweepData):
        runs, sweep = data.runs, data
        est = estimates(runs, data.table)
        title = "Scenario comparison" if "scenario" in data.swept else "Sweep report"
        if data.baseline is None:
            notes.append("No baseline job in this sweep: paired differences are not shown.")
    else:
        runs, sweep = [data], None
        est = estimates(runs)
        title = f"Run report: {data.scenario}"
    fixed = held_fixed(runs, sweep.swept if sweep else [])
    specs = run_figures(runs, sweep, est)
    return write_report(path, title, runs, specs, est, fixed, notes)


# -------------------------------------------------------------------- explorations
#: File that marks a finished ``sim-explore`` folder.
EXPLORATION_FILE = "exploration.json"
#: Display names of the exploration outputs (as in :data:`sim.analysis.explore.OUTPUTS`).
_EXPLORE_OUTPUTS = {"signed": "P(sign)", "signed_12m": "P(sign by 12 months)",
                    "signed_24m": "P(sign by 24 months)", "escalated": "P(escalation)",
                    "weeks_to_sign": "weeks to signing (censored at the horizon)"}


def is_exploration_dir(path: Path) -> bool:
    """Whether ``path`` holds a finished ``sim-explore`` run (``exploration.json``)."""
    return path.is_dir() and (path / EXPLORATION_FILE).is_file()


def _exploration_fixed(summary: dict) -> str:
    parts = [f"scenario {summary.get('scenario')}", f"seed {summary.get('seed')}",
             f"{summary.get('worlds', 0):,} worlds",
             f"{summary.get('horizon_weeks')}-week horizon from {summary.get('start_date')}"]
    if summary.get("method") in ("sobol", "morris"):
        parts.insert(2, f"N={summary.get('n')}")
    return "; ".join(parts)


def exploration_figures(path: Path, summary: dict) -> list[FigureSpec]:
    """The figures of an exploration folder (nothing is saved).

    Sobol: ranked S1/ST bars per output; Morris: the mu*-sigma plane per output; PRIM:
    the peeling trajectory and the chosen box.
    """
    method = summary.get("method")
    fixed = _exploration_fixed(summary)
    design = "every world of the design, one per sampled point"
    specs: list[FigureSpec] = []
    if method in ("sobol", "morris"):
        ind = read_table_file(path / "indices.parquet")
        for out in dict.fromkeys(ind["output"]):
            lab = _EXPLORE_OUTPUTS.get(out, out)
            if method == "sobol":
                specs.append(FigureSpec(
                    f"sensitivity_{out}.png", f"Sobol indices: {lab}",
                    _caption(f"Share of the variance of the per-world {lab} outcome due to "
                             "each input alone (S1) and with all its interactions (ST), with "
                             "95% bootstrap intervals; 'luck' is the worlds' own randomness. "
                             "Inputs are the scenario's distributions plus keys named with "
                             "ranges.", design, fixed),
                    plots.sobol_bars(ind, out, output_label=lab, subtitle=fixed)))
            else:
                specs.append(FigureSpec(
                    f"morris_bars_{out}.png", f"Morris ranking: {lab}",
                    _caption(f"Inputs ranked by their mean absolute elementary effect (mu*) "
                             f"on the per-world {lab} outcome, with 95% bootstrap intervals.",
                             design, fixed),
                    plots.morris_bars(ind, out, output_label=lab, subtitle=fixed)))
                specs.append(FigureSpec(
                    f"morris_{out}.png", f"Morris screening: {lab}",
                    _caption(f"Mean absolute elementary effect (mu*) of each input on the "
                             f"per-world {lab} outcome against the spread of its effects "
                             "(sigma); right: influential, high: non-linear or interacting. "
                             "Whiskers: 95% intervals.", design, fixed),
                    plots.morris_plane(ind, out, output_label=lab, subtitle=fixed)))
    elif method == "prim":
        traj = read_table_file(path / "prim_trajectory.parquet")
        box = summary["box"]
        target = summary.get("target", "signed")
        specs.append(FigureSpec(
            "prim_trajectory.png", "PRIM peeling trajectory",
            _caption("Each point is a box met while peeling: coverage (share of all target "
                     "worlds inside) against density (share of the box's worlds that hit the "
                     f"target); ringed: the chosen box; star: after pasting. {box['words']}.",
                     "all worlds of the exploration (each box: the worlds inside it)", fixed),
            plots.prim_trajectory(traj, int(box["chosen_step"]), box=box, outcome=target,
                                  subtitle=fixed)))
        specs.append(FigureSpec(
            "prim_box.png", "The chosen box",
            _caption("Limits of the box on each restricted parameter (green) within the range "
                     "the worlds drew (grey); qp: quasi-p-value of the restriction.",
                     "all worlds of the exploration (their range of draws)", fixed),
            plots.prim_box(box, outcome=target, subtitle=fixed)))
    return specs


def build_exploration_report(path: Path | str) -> Path:
    """Write ``<path>/report/`` for a ``sim-explore`` folder and return ``index.html``.

    Raises:
        ReportInputError: A damaged exploration folder.
    """
    path = Path(path)
    summary = read_json_object(path / EXPLORATION_FILE)
    specs = exploration_figures(path, summary)
    out = path / "report"
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.png"):
        old.unlink()
    for sp in specs:
        save_figure(sp.figure, out / sp.name)
    method = summary.get("method", "?")
    title = {"sobol": "Sensitivity (Sobol indices)", "morris": "Screening (Morris)",
             "prim": "Scenario discovery (PRIM)"}.get(method, "Exploration")
    title += f": {summary.get('scenario')}"
    fixed = _exploration_fixed(summary)
    md = [f"# {title}", "", f"Folder: `{path}`  ", f"Held fixed: {fixed}", ""]
    if method == "prim":
        md += ["## The box", "", summary["box"]["words"] + ".", ""]
    else:
        rank = path / "ranking.md"
        if rank.exists():
            try:
                ranking = read_regular_text(rank, MAX_JSON_BYTES)
            except (UnsafeFile, UnicodeDecodeError) as err:
                raise ReportInputError(rank, f"{err}; expected sim-explore's ranking"
                                       ) from None
            md += ["## Inputs ranked by their effect on P(sign)", "", ranking, ""]
        md += ["## Inputs", ""]
        md += [f"- `{i['key']}`: {i['distribution']} ({i['source']})"
               for i in summary.get("inputs", [])] + [""]
    for sp in specs:
        md += [f"## {sp.heading}", "", f"![{sp.heading}]({sp.name})", "", sp.caption, ""]
    (out / "report.md").write_text("\n".join(md), encoding="utf-8")
    e = html.escape
    body = "".join(f'<section><h2>{e(sp.heading)}</h2><img src="{e(sp.name)}" '
                   f'alt="{e(sp.heading)}"><p>{e(sp.caption)}</p></section>' for sp in specs)
    lead = (f"<p>{e(summary['box']['words'])}.</p>" if method == "prim" else "")
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}'
            '</title><style>body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;'
            'margin:2em auto;padding:0 1em;color:#222}img{max-width:100%}</style></head>'
            f"<body><h1>{e(title)}</h1><p>Folder: <code>{e(str(path))}</code><br>"
            f'Held fixed: {e(fixed)}</p>{lead}{body}<p>Tables: <a href="report.md">report.md'
            "</a></p></body></html>\n")
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
