"""What the dashboard computes, without any user interface (so it is testable).

The page offers a handful of the model's main assumptions as sliders
(:data:`SLIDERS`). Each slider names a dotted key of the composed configuration; its
starting value is read from the chosen scenario, so a renamed key fails here, loudly,
instead of silently sliding nothing. Only sliders the user moved become overrides: an
untouched slider leaves the scenario as it is (including values drawn per world).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.experiment.api import OUTCOMES, Result, simulate
from sim.experiment.config import CONFIG_DIR, compose, load_params, scenarios
from sim.experiment.display import INTERVAL_NOTE, interval, percent
from sim.model.outputs import series_names
from sim.viz import plots, report

#: Worlds per ensemble run offered in the page (a few thousand: seconds per run).
WORLD_CHOICES = (1000, 2000, 5000, 10000)
DEFAULT_WORLDS = 2000
#: Results folder browsed by default.
RESULTS_DIR = CONFIG_DIR.parent / "results"


@dataclass(frozen=True)
class Slider:
    """One assumption offered as a slider.

    Attributes:
        key: Dotted key of the composed configuration (e.g. ``incidents.base_rate``).
        label: Short name shown next to the slider.
        low, high, step: Slider range and step (within the schema's allowed range).
        help: What the key means, in words.
    """

    key: str
    label: str
    low: float
    high: float
    step: float
    help: str = ""

    @property
    def css(self) -> str:
        """CSS class of the slider's box in the page (for tests and styling)."""
        return "slider-" + self.key.replace(".", "-").replace("_", "-")


#: The main assumptions, as sliders.
SLIDERS = (
    Slider("incidents.base_rate", "Incident rate /week", 0.0, 0.5, 0.01,
           "background rate of border incidents"),
    Slider("domestic.referendum.yes_share", "Referendum yes share", 0.0, 1.0, 0.01,
           "yes share of votes cast for the new constitution: the gate P(sign) hinges on"),
    Slider("domestic.support.initial", "Public support (AM)", 0.0, 1.0, 0.01,
           "Armenian support for the peace agenda: the start and the level it reverts to"),
    Slider("actors.russia.strength", "Russian spoiling", 0.0, 1.0, 0.05,
           "maximum intensity of Russia's spoiling"),
    Slider("actors.eu.incentives.armenia", "EU incentives (AM)", 0.0, 0.3, 0.01,
           "EU offer to Armenia on signing (reservation reduction)"),
    Slider("actors.us.incentives.azerbaijan", "US incentives (AZ)", 0.0, 0.3, 0.01,
           "US offer to Azerbaijan on signing (reservation reduction)"),
)


def get_key(cfg: Mapping, key: str) -> object:
    """The value at dotted ``key`` of a composed configuration.

    Raises:
        KeyError: The key does not exist (naming the key and the missing part).
    """
    node: object = cfg
    for i, part in enumerate(key.split(".")):
        if not isinstance(node, Mapping) or part not in node:
            where = ".".join(key.split(".")[:i]) or "the configuration"
            raise KeyError(f"dashboard slider {key!r}: no key {part!r} under {where}")
        node = node[part]
    return node


def describe(value: object) -> str:
    """A scenario value in words: a number, or a distribution drawn per world."""
    if isinstance(value, Mapping) and "dist" in value:
        args = ", ".join(f"{k} {v:g}" if isinstance(v, (int, float)) else f"{k} {v}"
                         for k, v in value.items() if k != "dist")
        return f"{value['dist']} ({args}), drawn per world"
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def central(value: object) -> float:
    """Where a slider starts for a scenario value: the number, or the distribution's centre."""
    if isinstance(value, Mapping) and "dist" in value:
        if "low" in value and "high" in value:
            return (float(value["low"]) + float(value["high"])) / 2
        for k in ("mean", "mode", "loc", "value"):
            if k in value:
                return float(value[k])
        raise ValueError(f"no centre for distribution {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


@functools.lru_cache(maxsize=64)
def _composed(scenario: str) -> dict:
    cfg, _ = compose(scenario)
    return cfg


def slider_defaults(scenario: str) -> dict[str, tuple[float, str]]:
    """``{key: (slider start, scenario value in words)}`` for every slider.

    Raises:
        KeyError: A slider's key is not in the scenario's configuration.
    """
    cfg = _composed(scenario)
    out = {}
    for s in SLIDERS:
        v = get_key(cfg, s.key)
        start = min(max(round(central(v) / s.step) * s.step, s.low), s.high)
        out[s.key] = (round(start, 10), describe(v))
    return out


def overrides(scenario: str, values: Mapping[str, float]) -> dict:
    """Nested overrides for :func:`sim.experiment.config.load_params`: only the sliders moved."""
    start = slider_defaults(scenario)
    out: dict = {}
    for key, v in values.items():
        if key not in start:
            raise KeyError(f"not a dashboard slider: {key!r}")
        if abs(float(v) - start[key][0]) < 1e-12:
            continue
        node = out
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = float(v)
    return out


def flat(over: Mapping, prefix: str = "") -> list[str]:
    """``key=value`` lines of a nested overrides mapping (what the page shows)."""
    out = []
    for k, v in over.items():
        key = f"{prefix}.{k}" if prefix else k
        out += flat(v, key) if isinstance(v, Mapping) else [f"{key}={v:g}"]
    return out


def run_ensemble(scenario: str, values: Mapping[str, float], worlds: int, seed: int,
                 horizon_weeks: int = 156) -> Result:
    """Run ``worlds`` worlds of ``scenario`` with the moved sliders applied."""
    params = load_params(scenario, overrides=overrides(scenario, values))
    return simulate(params, worlds=worlds, seed=seed, horizon_weeks=horizon_weeks)


def as_run(res: Result, label: str, scenario: str) -> report.RunData:
    """A :class:`sim.viz.report.RunData` of an in-memory result, for report's tables and plots."""
    summary = {**res.summary(), "scenario": scenario, "seed": res.seed,
               "horizon_weeks": res.horizon_weeks, "start_date": str(res.start_date)}
    run = report.RunData(Path("."), label, summary, {"issues": list(res.issues)},
                         res.outcomes, res.steps, _trace=res.trace)
    return run


def headline(res: Result) -> dict:
    """The numbers the page prints: P(sign) with its interval, and outcome shares.

    In per cent through :func:`sim.experiment.display.percent`, as the report and the
    console print them; ``note`` says what the interval is.
    """
    s = res.summary()
    return {
        "signed": s["signed"], "worlds": s["worlds"],
        "p_sign": percent(s["p_sign"]),
        "ci": interval(s["ci_low"], s["ci_high"]),
        "shares": {c: percent(s["outcome_shares"][c]) for c in OUTCOMES},
        "note": INTERVAL_NOTE,
    }


def ensemble_figures(run: report.RunData) -> tuple[Figure, Figure]:
    """The cumulative signing curve and the outcome shares (sim.viz.plots via sim.viz.report)."""
    curve = plots.cumulative_signing(report.cumulative([run]))
    shares = plots.outcome_classes(report.estimates([run]), horizon_weeks=run.horizon_weeks)
    return curve, shares


def one_world(scenario: str, values: Mapping[str, float], seed: int,
              horizon_weeks: int = 156) -> report.RunData:
    """One world, traced week by week (``simulate(..., worlds=1, trace=True)``)."""
    params = load_params(scenario, overrides=overrides(scenario, values))
    res = simulate(params, worlds=1, seed=seed, horizon_weeks=horizon_weeks, trace=True)
    return as_run(res, scenario, scenario)


def last_week(run: report.RunData) -> int:
    """The last week worth stepping to: the world's end (signing or escalation) or horizon."""
    row = run.worlds.iloc[0]
    ends = [int(row[c]) for c in ("sign_week", "escalation_week") if int(row[c]) >= 0]
    return min(ends) if ends else run.horizon_weeks - 1


def timeline_until(run: report.RunData, week: int) -> Figure:
    """The world's timeline up to ``week`` (:func:`sim.viz.report.trace_figure`)."""
    tr = run.trace
    assert tr is not None, "a dashboard world is always traced (world_run)"
    cut = report.RunData(run.path, run.label, run.summary, run.metadata, run.worlds,
                         run.steps, _trace=tr[tr["week"] <= week].reset_index(drop=True))
    return report.trace_figure(cut)


def _fmt(v: object) -> str:
    return f"{float(v):.3g}" if isinstance(v, (float, np.floating)) else str(v)


def week_state(run: report.RunData, week: int) -> pd.DataFrame:
    """The world's state in ``week``: one row per quantity (quantity, value)."""
    tr = run.trace
    assert tr is not None, "a dashboard world is always traced (world_run)"
    row = tr[tr["week"] == week].iloc[0]
    keep = [c for c in tr.columns if c not in ("world", "week")]
    vals = [str(row[c])[:10] if c == "date" else _fmt(row[c]) for c in keep]
    return pd.DataFrame({"quantity": keep, "value": vals})


def week_summary(run: report.RunData, week: int) -> str:
    """One line of the world's climate in ``week`` (the model's weekly series)."""
    tr = run.trace
    assert tr is not None, "a dashboard world is always traced (world_run)"
    row = tr[tr["week"] == week].iloc[0]
    text = ", ".join(f"{name} {_fmt(row[name])}" for name in series_names() if name in row)
    event = str(row.get("event", "") or "")
    return f"{str(row['date'])[:10]}: {text}" + (f"; event: {event}" if event else "")


def find_results(root: Path | str = RESULTS_DIR, limit: int = 200) -> list[str]:
    """Run and sweep folders under ``root``, newest first (paths as strings)."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = []
    for p in root.rglob("summary.json"):
        d = p.parent
        if d.parent.joinpath("sweep_summary.csv").is_file() or report.is_sweep_dir(d.parent):
            d = d.parent
        if report.is_run_dir(d) or report.is_sweep_dir(d):
            found.append(d)
    uniq = sorted(set(found), key=lambda d: d.stat().st_mtime, reverse=True)
    return [str(d) for d in uniq[:limit]]


def inside_root(path: Path | str, root: Path | str) -> Path:
    """``path`` resolved, if it is ``root`` or a folder under it (links followed).

    The page is reachable by anyone who can reach its port (and its text box takes any
    path): it opens folders only under the results root it was started with.

    Raises:
        sim.viz.report.ReportInputError: ``path`` resolves outside ``root``.
    """
    real, top = Path(path).resolve(), Path(root).resolve()
    if not real.is_relative_to(top):
        raise report.ReportInputError(path, f"outside the results folder {top}; the "
                                      "dashboard opens only folders under it (start it "
                                      "with sim-dashboard --results DIR to browse another)")
    return real


def browse(path: Path | str, root: Path | str | None = None
           ) -> tuple[pd.DataFrame, list[report.FigureSpec]]:
    """A run or sweep folder's estimates table and its report figures (sim.viz.report).

    Args:
        path: The run or sweep folder.
        root: Open ``path`` only if it lies under this folder (:func:`inside_root`);
            the page passes its results root.

    Raises:
        sim.viz.report.ReportInputError: Not a run or sweep folder, outside ``root``, or
            damaged (one line for the user).
    """
    if root is not None:
        path = inside_root(path, root)
    data = report.load(path)
    if isinstance(data, report.SweepData):
        runs, sweep = data.runs, data
        table = report.estimates(runs, data.table)
    else:
        runs, sweep = [data], None
        table = report.estimates(runs)
    return table, report.run_figures(runs, sweep)


def scenario_names() -> list[str]:
    """The bundled scenarios."""
    return scenarios()
