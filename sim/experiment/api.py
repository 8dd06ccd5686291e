"""Plain Python entry point: run worlds, get tidy tables.

>>> from sim import load_params, simulate
>>> res = simulate(load_params(), worlds=2000, seed=1)   # doctest: +SKIP
>>> res.summary()["p_sign"]                              # doctest: +SKIP
>>> hot = load_params(overrides={"incidents.base_rate": 0.4})   # doctest: +SKIP

Run settings are arguments of :func:`simulate` (``worlds``, ``seed``, ``horizon_weeks``,
``trace``), never overrides: ``load_params(overrides={"worlds": 5})`` is refused in one
line saying so, as a misspelt key is (:func:`sim.experiment.config.check_override_key`).

``simulate`` takes typed parameters and returns a :class:`Result` with one row per world
(``outcomes``: drawn parameters and outcomes) and one row per week (``steps``:
aggregates and trajectory quantiles). No Hydra here: the command line converts its
configuration once and calls this function.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.model.codes import OUTCOME_NAMES, DomesticEvent, EscalationKind, classify
from sim.model.mechanism import declared
from sim.model.params import ModelParams

if TYPE_CHECKING:
    from sim.model.model import PeaceModel

# The model (Mesa, networkx, scipy.spatial: about 1 s) and its rules (numba) are imported
# when a world is first run or summarised, not with this module: the command line's
# checks, ``--help`` and a refused configuration import this module without running.


@functools.lru_cache(maxsize=1)
def model_fingerprint() -> str:
    """Hash of the code that produces a run's numbers.

    Derived, not listed by hand: every ``.py`` file of the :mod:`sim` package (the
    command line and the run-folder writer included, since they assemble the numbers
    too), by path and content, and the NumPy version (its random streams). Two runs
    with the same configuration, seed and fingerprint give the same numbers; used to
    tell whether a stored result is stale.
    """
    return code_fingerprint(Path(__file__).resolve().parents[1])


def code_fingerprint(package_dir: Path) -> str:
    """Hash of the ``.py`` files under ``package_dir`` (paths and contents), NumPy's version.

    :func:`model_fingerprint` is this of the installed :mod:`sim` package.
    """
    h = hashlib.sha256()
    for path in sorted(Path(package_dir).rglob("*.py")):
        h.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    h.update(f"numpy {np.__version__}".encode())
    return h.hexdigest()[:16]


#: Outcome classes, in reporting order (:data:`sim.model.codes.OUTCOMES` has their labels).
OUTCOMES = OUTCOME_NAMES
#: Months at which P(sign) is reported.
MONTHS = (12, 24, 36)
QUANTILES = (0.1, 0.5, 0.9)


@dataclass
class Result:
    """Outcomes of one run.

    Attributes:
        outcomes: One row per world: ``world``, drawn parameters (``param.<key>``),
            outcome class, signing week and terms (``terms.<issue>``), ratification
            (``ratified``, ``ratify_week``), parliament votes and referendums, incidents,
            fatalities, whether (``reopened``), when (``reopen_week``, -1 if never) and by
            whom (``reopened_by``) the initialled text was reopened, final mobilisation,
            trust, tension and support.
        steps: One row per week: ``week``, ``date``, cumulative shares signed /
            escalated / government fallen, the share still active, and the 10/50/90 %
            quantiles and mean of each series over the worlds still active that week,
            and ``incidents_sq_mean`` (mean squared weekly incident count over the same
            worlds, for the interval of the mean rate).
        worlds, seed, horizon_weeks, start_date: What was run.
        issues: Issue names in order.
        trace: Per-week detail of every world (only with ``trace=True``), long format.
    """

    outcomes: pd.DataFrame
    steps: pd.DataFrame
    worlds: int
    seed: int
    horizon_weeks: int
    start_date: dt.date
    issues: tuple[str, ...]
    trace: pd.DataFrame | None = None
    ideal_points: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """Headline estimates: P(sign) with 95 % Wilson interval and the rest."""
        return summarise(self.outcomes, self.horizon_weeks)


class SummaryStats:
    """Sufficient statistics of P(sign) and the other estimates, added block by block.

    :func:`summarise` is this over one table; a streamed run (:mod:`sim.experiment.runs`)
    adds each block's outcomes as it arrives and never holds them all. Everything kept
    is a count, a sum or a histogram of signing weeks, so the parent's memory does not
    grow with the run's size.
    """

    def __init__(self) -> None:
        self.n = 0
        self.signed = 0
        self.sign_weeks = np.zeros(0, dtype=np.int64)   # histogram over signed worlds
        self.by_month = dict.fromkeys(MONTHS, 0)
        self.outcome_counts = dict.fromkeys(OUTCOMES, 0)
        self.kinds: dict[str, int] | None = None
        self.terms: dict[str, float] = {}
        self.sums: dict[str, float] = {}        # incident, report and window totals
        self.has_active = True
        self.referendum_passed = 0
        self.referendum_held = 0
        self.ratified: int | None = None

    def add(self, outcomes: pd.DataFrame) -> SummaryStats:
        """Add a block's outcomes table (one row per world); returns ``self``."""
        n = len(outcomes)
        self.n += n
        signed = outcomes["signed"].to_numpy(dtype=bool)
        self.signed += int(signed.sum())
        week = outcomes["sign_week"].to_numpy()
        hist = np.bincount(week[signed].astype(np.int64), minlength=len(self.sign_weeks))
        hist[:len(self.sign_weeks)] += self.sign_weeks
        self.sign_weeks = hist
        for m in MONTHS:
            wk = int(round(m * 52 / 12))
            self.by_month[m] += int(((week >= 0) & (week < wk)).sum())
        outcome = outcomes["outcome"].to_numpy()
        for c in OUTCOMES:
            self.outcome_counts[c] += int((outcome == c).sum())
        if "escalation_kind" in outcomes:
            kind = outcomes["escalation_kind"].to_numpy()
            self.kinds = self.kinds or {e.label: 0 for e in EscalationKind if e.label}
            for k in self.kinds:
                self.kinds[k] += int((kind == k).sum())
        for c in outcomes.columns:
            if c.startswith("terms."):
                self.terms[c] = self.terms.get(c, 0.0) + float(
                    outcomes[c].to_numpy(dtype=float)[signed].sum())
        self.has_active = self.has_active and "active_weeks" in outcomes
        if self.has_active:
            for c in outcomes.columns:
                if c in ("active_weeks", "incidents") or c.startswith("incidents_window_") \
                        or (c.startswith("reports.") and not c.startswith("reports_window")):
                    self.sums[c] = self.sums.get(c, 0.0) + float(outcomes[c].sum())
        self.referendum_passed += int(outcomes["referendum_passed"].sum())
        if "ratified" in outcomes:
            self.referendum_held += int(outcomes["referendum_held"].sum())
            self.ratified = (self.ratified or 0) + int(outcomes["ratified"].sum())
        return self

    def median_sign_week(self) -> float | None:
        """Median signing week of the signed worlds (exact, from the histogram)."""
        k = self.signed
        if not k:
            return None
        cum = np.cumsum(self.sign_weeks)
        lo = int(np.searchsorted(cum, (k - 1) // 2 + 1))
        hi = int(np.searchsorted(cum, k // 2 + 1))
        return float((lo + hi) / 2)

    def result(self, horizon_weeks: int) -> dict:
        """The estimates (see :meth:`Result.summary`)."""
        from sim.model import rules

        n, k = self.n, self.signed
        lo, hi = rules.wilson_interval(k, n)
        out: dict[str, Any] = {
            "worlds": n,
            "signed": k,
            "p_sign": k / n,
            "ci_low": float(lo),
            "ci_high": float(hi),
            "median_weeks_to_sign": self.median_sign_week(),
        }
        for m in MONTHS:
            if int(round(m * 52 / 12)) <= horizon_weeks:
                km = self.by_month[m]
                lo_m, hi_m = rules.wilson_interval(km, n)
                out[f"p_sign_{m}m"] = km / n
                out[f"p_sign_{m}m_ci"] = [float(lo_m), float(hi_m)]
        out["outcome_shares"] = {c: self.outcome_counts[c] / n for c in OUTCOMES}
        if k:
            out["mean_terms"] = {c[6:]: s / k for c, s in self.terms.items()}
        out["p_escalation"] = self.outcome_counts["escalation"] / n
        if self.kinds is not None:
            out["p_escalation_by_kind"] = {c: v / n for c, v in self.kinds.items()}
        out.update(self._incidents())
        out["p_referendum_passed"] = self.referendum_passed / n
        if self.ratified is not None:
            out["p_referendum_held"] = self.referendum_held / n
            lo_r, hi_r = rules.wilson_interval(self.ratified, n)
            out["p_ratified"] = self.ratified / n
            out["p_ratified_ci"] = [float(lo_r), float(hi_r)]
        return out

    def _incidents(self) -> dict:
        out: dict = {}
        if not self.has_active or "active_weeks" not in self.sums:
            return out
        wk = self.sums["active_weeks"]
        out["incidents_mean"] = self.sums["incidents"] / self.n
        out["incidents_per_active_week"] = self.sums["incidents"] / wk if wk else None
        for c, s in self.sums.items():
            if c.startswith("reports."):
                out[f"reports_{c[8:]}_per_active_week"] = s / wk if wk else None
            if c.startswith("incidents_window_"):
                out[c] = s / self.n
        return out


def summarise(outcomes: pd.DataFrame, horizon_weeks: int) -> dict:
    """Summary statistics of an outcomes table (see :meth:`Result.summary`)."""
    return SummaryStats().add(outcomes).result(horizon_weeks)


def incident_metrics(outcomes: pd.DataFrame) -> dict:
    """Incident figures that are not confounded with signing or escalation.

    ``incidents_mean`` is the mean total while a world is active (it stops when a world
    signs or escalates, so it falls with P(sign)); ``incidents_per_active_week`` divides
    the pooled total by the pooled active world-weeks; ``incidents_window_<a>_<b>`` is
    the mean latent count in weeks a..b counted in every world whatever its status (the
    border does not stop when a treaty is signed; after an escalation the peacetime
    process is still counted). ``reports_<side>_per_active_week``: the same rate for each
    side's reports.
    """
    return SummaryStats().add(outcomes)._incidents()


def simulate(params: ModelParams, worlds: int = 1000, seed: int = 0,
             horizon_weeks: int = 156, block: int = 0, trace: bool = False,
             fixed_draws: dict[str, np.ndarray] | None = None) -> Result:
    """Run ``worlds`` independent worlds for ``horizon_weeks`` weeks.

    Args:
        params: Validated parameters (:func:`sim.experiment.config.load_params`).
        worlds: Number of worlds, >= 1.
        seed: Seed, an integer >= 0. The same seed gives the same numbers.
        horizon_weeks: Weeks to simulate, >= 1.
        block: Block index for runs assembled from several blocks (``world`` ids are
            offset by ``block * worlds``).
        trace: Also return week-by-week detail of every world (use with few worlds).
        fixed_draws: Per-world values (dotted key -> ``worlds`` values) for distributed
            parameters, used instead of drawing them: a sensitivity design becomes the
            worlds of one run (:mod:`sim.analysis.explore`).

    Returns:
        A :class:`Result`.
    """
    from sim.model.model import PeaceModel

    model = PeaceModel(params, worlds=worlds, seed=seed, horizon_weeks=horizon_weeks,
                       block=block, trace=trace, fixed_draws=fixed_draws)
    try:
        return collect(model.run())
    finally:
        model.release()   # its arrays are freed now, not at the next cyclic collection


def collect(model: PeaceModel) -> Result:
    """Build the :class:`Result` tables from a model that has run.

    The worlds table holds :data:`sim.model.outputs.BASE_COLUMNS` (``world``, the drawn
    ``param.<key>``, the ``outcome`` class), then each scheduled mechanism's declared
    columns in schedule order; the weekly table the shares absorbed and, for each
    declared series, its quantiles and mean over the worlds still active. A mechanism
    that returns a column it does not declare is a programming error (``ValueError``).
    """
    from sim.model import rules
    from sim.model.outputs import BASE_COLUMNS

    W, H = model.W, model.horizon
    cols: dict[str, object] = {"world": np.arange(W) + model.block * W}
    for key, arr in model.draws.items():
        cols[f"param.{key}"] = arr
    cols["outcome"] = classify(model.status, model.domestic.government_fell)
    for mech in model.schedule:
        for name, values in mech.columns(model).items():
            if declared(name, mech.outputs) is None or declared(name, BASE_COLUMNS):
                raise ValueError(f"mechanism {mech.name!r} returns column {name!r}, "
                                 "which it does not declare")
            cols[name] = values
    outcomes = pd.DataFrame(cols)

    weeks = np.arange(H)
    steps = {
        "week": weeks,
        "date": [model.start_date + dt.timedelta(weeks=int(w)) for w in weeks],
        "p_signed": model.counts["signed"] / W,
        "p_escalated": model.counts["escalated"] / W,
        "p_government_fell": model.counts["government_fell"] / W,
        "p_active": model.counts["active"] / W,
    }
    # trajectories describe the worlds still in play that week (absorbed ones are NaN)
    n_active = np.maximum(model.counts["active"], 1)
    any_active = model.counts["active"] > 0
    squares: dict[str, np.ndarray] = {}
    for s in model.declared_series:
        q, total, sq = rules.row_stats(model.series[s.name], QUANTILES, squares=s.rate)
        for qi, qv in zip(QUANTILES, q, strict=True):
            steps[f"{s.name}_q{int(qi * 100)}"] = qv
        steps[f"{s.name}_mean"] = np.where(any_active, total / n_active, np.nan)
        if sq is not None:
            squares[s.name] = sq
    # a count's mean square over active worlds: with the mean and the active count it
    # gives the interval of the mean rate; combines over blocks as a mean does
    for name, sq in squares.items():
        steps[f"{name}_sq_mean"] = np.where(any_active, sq / n_active, np.nan)
    steps_df = pd.DataFrame(steps)
    ideal = {a.name: dict(zip(model.issues, a.x.mean(axis=0), strict=True))
             for a in model.agents}
    trace = _trace_frame(model) if model.trace_on else None
    return Result(outcomes, steps_df, W, model.seed, H, model.start_date, model.issues,
                  trace, ideal)


def _trace_frame(model: PeaceModel) -> pd.DataFrame:
    """Week-by-week detail, one row per (world, week).

    After the week a world signs or escalates its story is over: numeric columns are
    NaN from the following week on (the arrays are still computed for common random
    numbers, but they describe nothing).
    """
    W, H = model.W, model.horizon
    tr = model.trace
    cols: dict[str, object] = {
        "world": np.repeat(np.arange(W), H),
        "week": np.tile(np.arange(H), W),
    }
    for name, values in model.series.items():
        cols[name] = values.T.reshape(-1)
    for key, vals in tr.items():
        arr = np.asarray(vals)  # (H, W) or (H, W, K)
        if arr.ndim == 3:
            for k, issue in enumerate(model.issues):
                cols[f"{key}.{issue}"] = arr[:, :, k].T.reshape(-1)
        else:
            cols[key] = arr.T.reshape(-1)
    df = pd.DataFrame(cols)
    absorbed = np.maximum(model.sign_week, model.escalation_week)  # -1 if neither
    end = np.where(absorbed >= 0, absorbed, H)[df["world"].to_numpy()]
    over = df["week"].to_numpy() > end
    if over.any():
        keep = {"world", "week", "status", "stage", "event"}
        for c in df.columns:
            if c not in keep and df[c].dtype.kind == "f":
                df.loc[over, c] = np.nan
    labels = {int(e): e.label for e in DomesticEvent}
    df["event"] = df["event"].map(lambda e: labels.get(int(e), ""))
    df["date"] = [model.start_date + dt.timedelta(weeks=int(w)) for w in df["week"]]
    return df
