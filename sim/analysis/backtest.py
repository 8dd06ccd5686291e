"""Score the model's forecasts against the dated record (rolling origins).

A *fact* (``configs/backtest/facts.yaml``) is something that happened, with its date and
source, and the model quantity that resolves it. An *origin* is a scenario whose start
date is a past moment and whose inputs use only what was known then. For every origin
and every fact settled after the origin's start (and, for counts over a window, whose
window starts on or after it), the backtest takes the model's forecast from one run of
the origin (the share of worlds in which a binary event happened by the fact's date; the
worlds' values as the predictive distribution of a count) and scores it, and the two
naive forecasts the fact states, with proper scores (:mod:`sim.analysis.scoring`):

- no change: the state at the origin carried forward (a degenerate 0/1 forecast for
  binary facts, the last observed value for counts);
- climatology: a stated base rate (an annual hazard turned into the probability of the
  event over the fact's span, or a Poisson mean for counts).

Skill scores compare the model with each baseline. Facts are never dropped for scoring
badly: every fact that applies to an origin is scored.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.analysis import scoring
from sim.errors import ConfigError

KINDS = ("binary", "count")


@dataclass(frozen=True)
class Fact:
    """One observed fact (see the header of ``configs/backtest/facts.yaml``)."""

    id: str
    date: dt.date
    source: str
    kind: str
    quantity: str
    observed: float
    no_change: float
    climatology_source: str
    annual_rate: float | None = None
    climatology: float | None = None
    args: dict = field(default_factory=dict)

    def window(self) -> tuple[dt.date, int] | None:
        """``(start, weeks)`` for facts about a window of weeks, else None."""
        if "start" in self.args and "weeks" in self.args:
            return self.args["start"], int(self.args["weeks"])
        return None

    def applies(self, origin: dt.date) -> bool:
        """Whether a forecast made at ``origin`` can be scored on this fact.

        The fact must be settled after the origin, and a window must not have begun
        before it (its first weeks would otherwise be known, not forecast).
        """
        if self.date <= origin:
            return False
        win = self.window()
        return win is None or win[0] >= origin

    def climatology_forecast(self, origin: dt.date) -> float:
        """The base-rate forecast made at ``origin``: a probability or a Poisson mean."""
        if self.kind == "count":
            return float(self.climatology)  # type: ignore[arg-type]
        if self.annual_rate is not None:
            years = (self.date - origin).days / 365.25
            return 1.0 - math.exp(-self.annual_rate * years)
        return float(self.climatology)  # type: ignore[arg-type]


# ------------------------------------------------------------------------- loading

_REQUIRED = ("id", "date", "source", "kind", "quantity", "observed", "no_change",
             "climatology_source")
_OPTIONAL = ("annual_rate", "climatology", "args")
#: Dates a facts file may hold (fact dates, window starts, elections): from Armenia's and
#: Azerbaijan's independence to a generation ahead. A run from an origin is as long as
#: its latest fact, so a date far in the future would run for ever.
FACT_DATES = (dt.date(1991, 1, 1), dt.date(2040, 12, 31))
#: Longest window of weeks a count fact may cover (ten years).
MAX_WINDOW_WEEKS = 520


def _date(v: Any, key: str, src: str) -> dt.date:
    d: dt.date | None = None
    if isinstance(v, dt.datetime):
        d = v.date()
    elif isinstance(v, dt.date):
        d = v
    elif isinstance(v, str):
        try:
            d = dt.date.fromisoformat(v)
        except ValueError:
            pass
    if d is None:
        raise ConfigError(key, f"must be a date YYYY-MM-DD, got {v!r}", src)
    lo, hi = FACT_DATES
    if not lo <= d <= hi:
        raise ConfigError(key, f"must be a date from {lo} to {hi}, got {d}", src)
    return d


def _number(v: Any, key: str, src: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise ConfigError(key, f"must be a finite number, got {v!r}", src)
    return float(v)


def parse_facts(data: Any, source: str) -> list[Fact]:
    """Validate the mapping read from a facts file.

    Raises:
        ConfigError: The first bad entry, naming the file, the key and what is allowed.
    """
    if not isinstance(data, dict) or not isinstance(data.get("facts"), list):
        raise ConfigError("facts", "the file must hold `facts:` with a list of entries",
                          source)
    facts: list[Fact] = []
    seen: set[str] = set()
    for i, entry in enumerate(data["facts"]):
        at = f"facts[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(at, "each fact must be a mapping of keys", source)
        unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
        if unknown:
            raise ConfigError(f"{at}.{unknown[0]}", "unknown key; allowed: "
                              + ", ".join(_REQUIRED + _OPTIONAL), source)
        for k in _REQUIRED:
            if k not in entry:
                raise ConfigError(f"{at}.{k}", "missing (required)", source)
        fid = entry["id"]
        if not isinstance(fid, str) or not fid:
            raise ConfigError(f"{at}.id", "must be a non-empty string", source)
        if fid in seen:
            raise ConfigError(f"{at}.id", f"duplicate fact id {fid!r}", source)
        seen.add(fid)
        at = f"facts[{i}] ({fid})"
        kind = entry["kind"]
        if kind not in KINDS:
            raise ConfigError(f"{at}.kind", f"must be one of {', '.join(KINDS)}, got {kind!r}",
                              source)
        quantity = entry["quantity"]
        if quantity not in QUANTITIES:
            raise ConfigError(f"{at}.quantity", f"unknown quantity {quantity!r}; available: "
                              + ", ".join(sorted(QUANTITIES)), source)
        if QUANTITIES[quantity].kind != kind:
            raise ConfigError(f"{at}.kind", f"quantity {quantity} is a "
                              f"{QUANTITIES[quantity].kind} quantity, got kind {kind}", source)
        args = entry.get("args") or {}
        if not isinstance(args, dict):
            raise ConfigError(f"{at}.args", "must be a mapping", source)
        args = {k: (_date(v, f"{at}.args.{k}", source)
                    if k in ("start", "election") else v) for k, v in args.items()}
        missing = [a for a in QUANTITIES[quantity].args if a not in args]
        if missing:
            raise ConfigError(f"{at}.args.{missing[0]}", f"required by quantity {quantity}",
                              source)
        weeks = args.get("weeks")
        if "weeks" in args and (isinstance(weeks, bool) or not isinstance(weeks, int)
                                or not 1 <= weeks <= MAX_WINDOW_WEEKS):
            raise ConfigError(f"{at}.args.weeks", f"must be a whole number of weeks in "
                              f"[1, {MAX_WINDOW_WEEKS}], got {weeks!r}", source)
        if kind == "binary":
            for k in ("observed", "no_change"):
                if not isinstance(entry[k], bool):
                    raise ConfigError(f"{at}.{k}", f"must be true or false for a binary "
                                      f"fact, got {entry[k]!r}", source)
            observed, no_change = float(entry["observed"]), float(entry["no_change"])
        else:
            observed = _number(entry["observed"], f"{at}.observed", source)
            no_change = _number(entry["no_change"], f"{at}.no_change", source)
        rate = entry.get("annual_rate")
        clim = entry.get("climatology")
        if kind == "binary":
            if (rate is None) == (clim is None):
                raise ConfigError(f"{at}.annual_rate", "a binary fact needs exactly one of "
                                  "annual_rate (per year, >= 0) or climatology (a "
                                  "probability)", source)
            if rate is not None and _number(rate, f"{at}.annual_rate", source) < 0:
                raise ConfigError(f"{at}.annual_rate", f"must be >= 0, got {rate}", source)
            if clim is not None and not 0 <= _number(clim, f"{at}.climatology", source) <= 1:
                raise ConfigError(f"{at}.climatology", f"must be in [0, 1], got {clim}",
                                  source)
        else:
            if clim is None or _number(clim, f"{at}.climatology", source) < 0:
                raise ConfigError(f"{at}.climatology", "a count fact needs climatology: a "
                                  "Poisson mean >= 0", source)
        if not isinstance(entry["source"], str) or not entry["source"].strip():
            raise ConfigError(f"{at}.source", "must say where the fact comes from", source)
        facts.append(Fact(
            id=fid, date=_date(entry["date"], f"{at}.date", source),
            source=entry["source"], kind=kind, quantity=quantity, observed=observed,
            no_change=no_change, climatology_source=str(entry["climatology_source"]),
            annual_rate=None if rate is None else float(rate),
            climatology=None if clim is None else float(clim), args=args))
    return facts


def load_facts(path: Path) -> list[Fact]:
    """Read and validate a facts file (see :func:`parse_facts`)."""
    from sim.experiment.config import read_yaml

    return parse_facts(read_yaml(Path(path)), str(path))


# ----------------------------------------------------------------------- resolvers


@dataclass
class RunView:
    """What a resolver may read from one origin's run.

    Attributes:
        start: The origin's start date.
        outcomes: One row per world (:attr:`sim.experiment.api.Result.outcomes`).
        weekly: Per-world weekly series, ``name -> (weeks, worlds)`` arrays.
    """

    start: dt.date
    outcomes: pd.DataFrame
    weekly: dict[str, np.ndarray] = field(default_factory=dict)

    def week_of(self, date: dt.date) -> int:
        """Index of the model week that contains ``date`` (week t covers days 7t..7t+6)."""
        return (date - self.start).days // 7

    def column(self, name: str, quantity: str) -> np.ndarray:
        """A per-world outcome column, or a clear error naming what is missing."""
        if name not in self.outcomes.columns:
            raise BacktestError(f"quantity {quantity} needs the per-world output {name!r}, "
                                "which this model does not record")
        return self.outcomes[name].to_numpy()

    def series(self, name: str, quantity: str) -> np.ndarray:
        """A per-world weekly series, or a clear error naming what is missing."""
        if name not in self.weekly:
            raise BacktestError(f"quantity {quantity} needs the weekly per-world series "
                                f"{name!r}, which this model does not record")
        return self.weekly[name]


class BacktestError(RuntimeError):
    """A fact that the model's outputs cannot resolve."""


@dataclass(frozen=True)
class Quantity:
    """A model quantity that resolves facts: per-world values from a run.

    ``resolve`` returns one value per world, in world order (booleans for binary
    quantities; numbers for counts, NaN in a world where the count is undefined), so
    both the backtest (the forecast) and a calibration (:mod:`sim.analysis.calibrate`,
    world by world) read the same resolution.
    """

    kind: str
    args: tuple[str, ...]
    resolve: Callable[[RunView, Fact], np.ndarray]


def _by(column: str) -> Callable[[RunView, Fact], np.ndarray]:
    def resolve(run: RunView, fact: Fact) -> np.ndarray:
        week = run.column(column, fact.quantity)
        return (week >= 0) & (week <= run.week_of(fact.date))
    return resolve


def _window_sum(series: str) -> Callable[[RunView, Fact], np.ndarray]:
    def resolve(run: RunView, fact: Fact) -> np.ndarray:
        name = series.format(**fact.args)
        arr = run.series(name, fact.quantity)
        start, weeks = fact.window()  # type: ignore[misc]
        first = run.week_of(start)
        if first + weeks > arr.shape[0]:
            raise BacktestError(f"fact {fact.id}: window ends after the run's horizon")
        return np.nansum(arr[first:first + weeks], axis=0)
    return resolve


def _flag_set_by(run: RunView, fact: Fact) -> np.ndarray:
    return _by(f"flag_week.{fact.args['flag']}")(run, fact)


def _seats_after(run: RunView, fact: Fact) -> np.ndarray:
    """Seats the governing party won, rescaled to a parliament of ``of`` seats.

    Worlds where the election was not held (signed, escalated or a successor government
    before it) have no value (NaN): the predictive sample leaves them out
    (:func:`score_fact`) and a calibration counts them as not reproducing the fact.
    """
    seats = run.column(f"seats_after.{fact.args['election'].isoformat()}", fact.quantity)
    total = run.column("total_seats", fact.quantity)
    if np.isnan(seats).all():
        raise BacktestError(f"fact {fact.id}: the election was held in no world")
    return seats * float(fact.args["of"]) / total


#: Quantities a fact can name (``quantity:`` in the facts file).
QUANTITIES: dict[str, Quantity] = {
    "signed_by": Quantity("binary", (), _by("sign_week")),
    "escalated_by": Quantity("binary", (), _by("escalation_week")),
    "government_fell_by": Quantity("binary", (), _by("government_fell_week")),
    "referendum_held_by": Quantity("binary", (), _by("referendum_week")),
    "flag_set_by": Quantity("binary", ("flag",), _flag_set_by),
    "seats_after_election": Quantity("count", ("election", "of"), _seats_after),
    "reported_incidents": Quantity("count", ("start", "weeks", "reporter"),
                                   _window_sum("reports.{reporter}")),
    "fatalities_in_window": Quantity("count", ("start", "weeks"), _window_sum("fatalities")),
}


# ------------------------------------------------------------------------- scoring


def score_fact(run: RunView, fact: Fact, origin: str, log_eps: float) -> dict:
    """Forecast ``fact`` from ``run`` and score it with the two baselines beside it."""
    values = QUANTITIES[fact.quantity].resolve(run, fact)
    clim = fact.climatology_forecast(run.start)
    row: dict[str, Any] = {"origin": origin, "start_date": run.start, "fact": fact.id,
                           "kind": fact.kind, "date": fact.date, "observed": fact.observed}
    if fact.kind == "binary":
        p = float(np.mean(values))
        row.update(forecast=p, no_change=fact.no_change, climatology=clim)
        for name, q in (("model", p), ("no_change", fact.no_change), ("climatology", clim)):
            row[f"brier_{name}"] = float(scoring.brier(q, fact.observed))
            row[f"log_{name}"] = float(scoring.log_score(q, fact.observed, log_eps))
    else:
        v = np.asarray(values, dtype=float)
        v = v[~np.isnan(v)]
        row.update(forecast=float(v.mean()), forecast_q10=float(np.quantile(v, 0.1)),
                   forecast_q90=float(np.quantile(v, 0.9)), no_change=fact.no_change,
                   climatology=clim)
        row["crps_model"] = scoring.crps_sample(v, fact.observed)
        row["crps_no_change"] = scoring.crps_point(fact.no_change, fact.observed)
        row["crps_climatology"] = scoring.crps_poisson(clim, fact.observed)
    return row


SCORES = {"binary": ("brier", "log"), "count": ("crps",)}
BASELINES = ("no_change", "climatology")


def skill_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean scores per origin (and over all) with the model's skill against each baseline."""
    rows = []
    groups = [(o, g) for o, g in scores.groupby("origin", sort=False)] + [("all", scores)]
    for origin, g in groups:
        for kind, names in SCORES.items():
            gk = g[g["kind"] == kind]
            if gk.empty:
                continue
            for s in names:
                row = {"origin": origin, "score": s, "facts": len(gk),
                       "model": float(gk[f"{s}_model"].mean())}
                for b in BASELINES:
                    row[b] = float(gk[f"{s}_{b}"].mean())
                    row[f"skill_vs_{b}"] = scoring.skill(row["model"], row[b])
                rows.append(row)
    return pd.DataFrame(rows)


def origin_horizon(start: dt.date, facts: list[Fact]) -> int:
    """Weeks an origin's run needs to reach every fact that applies to it (at least 1)."""
    ends = [((f.date - start).days // 7) + 1 for f in facts if f.applies(start)]
    for f in facts:
        win = f.window()
        if win and f.applies(start):
            ends.append((win[0] - start).days // 7 + win[1])
    return max([1, *ends])


def score_origin(origin: str, run: RunView, facts: list[Fact], log_eps: float) -> list[dict]:
    """Score every fact that applies to ``run``'s start date (none is left out)."""
    return [score_fact(run, f, origin, log_eps) for f in facts if f.applies(run.start)]


# --------------------------------------------------------------------- the ledger


def quarter_ends(start: dt.date, years: int = 3) -> list[dt.date]:
    """Quarter-end dates strictly after ``start`` for ``years`` years."""
    out = []
    y, m = start.year, ((start.month - 1) // 3 + 1) * 3
    while True:
        end = dt.date(y, m, 31 if m in (3, 12) else 30)
        if end > start:
            out.append(end)
        if len(out) == 4 * years:
            return out
        m += 3
        if m > 12:
            y, m = y + 1, 3


# ------------------------------------------------------------------------ origins


def check_origin(params, origin: str) -> None:
    """Refuse an origin whose inputs are dated after its start (hindsight).

    Every calendar event the origin's configuration holds must have been known on or
    before the start date (its date announced, or known as pending: ``pending_since``;
    a pending event's completion is then drawn, :mod:`sim.model.calendar`): an event
    learnt later must be cancelled in the origin's
    scenario (``state.events.<name>: null``), so that the scenario says what its moment
    did not know. Ordinary runs drop such events silently (:class:`sim.model.calendar.Calendar`);
    a backtest origin may not rely on that.

    Raises:
        ConfigError: One line naming the scenario file, the key and the dates.
    """
    start = params.state.start_date
    for name, ev in params.state.events.items():
        dated = ev.announced is not None and ev.announced <= start
        pending = ev.pending_since is not None and ev.pending_since <= start
        if not (dated or pending):
            known = ev.announced if ev.pending_since is None else ev.pending_since
            field = "announced" if ev.pending_since is None else "pending_since"
            raise ConfigError(
                f"state.events.{name}.{field}",
                f"{known} is after the origin's start {start}: a backtest origin "
                f"uses only what was known then; cancel it with `state.events.{name}: null`",
                f"configs/scenario/{origin}.yaml")


def run_view(params, worlds: int, seed: int, horizon_weeks: int,
             fixed_draws: dict[str, np.ndarray] | None = None, block: int = 0) -> RunView:
    """One run of ``params`` with the weekly series facts need, as a :class:`RunView`.

    Args:
        params: Validated parameters of an origin.
        worlds: Number of worlds.
        seed: The run's seed.
        horizon_weeks: Weeks to run (:func:`origin_horizon`).
        fixed_draws: Per-world values of distributed parameters
            (:class:`sim.model.model.PeaceModel`), e.g. a calibration's proposals.
        block: Block index (separates the random streams of successive batches).
    """
    from sim.experiment.api import collect
    from sim.model.model import PeaceModel

    model = PeaceModel(params, worlds=worlds, seed=seed, horizon_weeks=horizon_weeks,
                       block=block, fixed_draws=fixed_draws, weekly=True).run()
    return RunView(params.state.start_date, collect(model).outcomes, model.weekly)


def run_origin(origin: str, facts: list[Fact], worlds: int, seed: int) -> RunView:
    """Run an origin scenario far enough to resolve every fact that applies to it."""
    from sim.experiment.config import load_params

    params = load_params(origin)
    check_origin(params, origin)
    return run_view(params, worlds, seed, origin_horizon(params.state.start_date, facts))


@dataclass
class Backtest:
    """Scores of every (origin, fact) pair and the skill table."""

    scores: pd.DataFrame
    skill: pd.DataFrame
    origins: dict[str, dt.date]


def backtest(origins: list[str], facts: list[Fact], worlds: int, seed: int,
             log_eps: float = 0.01, source: str | None = None) -> Backtest:
    """Score every fact that applies to each origin (none is left out).

    Args:
        origins: Scenario names of the origins.
        facts: The facts (:func:`load_facts`).
        worlds: Worlds per origin.
        seed: The seed of every origin's run.
        log_eps: Clipping of probabilities in the log score.
        source: The facts file (named in errors).

    Raises:
        ConfigError: No fact is dated after any origin's start: nothing to score.
    """
    from sim.experiment.config import load_params

    starts = {o: load_params(o).state.start_date for o in origins}
    if not any(f.applies(start) for f in facts for start in starts.values()):
        when = ", ".join(f"{o} ({d})" for o, d in starts.items())
        raise ConfigError("facts", "no fact is settled after an origin's start (a fact "
                          f"dated on or before it is known, not forecast): {when}; add a "
                          "later fact or choose an earlier origin", source)
    rows: list[dict] = []
    for origin in origins:
        run = run_origin(origin, facts, worlds, seed)
        rows += score_origin(origin, run, facts, log_eps)
    scores = pd.DataFrame(rows)
    return Backtest(scores, skill_table(scores) if rows else pd.DataFrame(), starts)


def forecast_ledger(scenario: str, worlds: int, seed: int, years: int = 3) -> dict:
    """Today's forecast from ``scenario``: P(sign by each quarter-end) for ``years`` years.

    ``sim-backtest ledger=true`` writes it to ``forecasts/<date issued>-<scenario>.json``,
    to be committed, so that facts settled later can score it.
    """
    from sim.experiment.api import simulate
    from sim.experiment.config import load_params
    from sim.model.rules import wilson_interval

    params = load_params(scenario)
    start = params.state.start_date
    ends = quarter_ends(start, years)
    horizon = (ends[-1] - start).days // 7 + 1
    res = simulate(params, worlds=worlds, seed=seed, horizon_weeks=horizon)
    week = res.outcomes["sign_week"].to_numpy()
    rows = []
    for end in ends:
        k = int(((week >= 0) & (week <= (end - start).days // 7)).sum())
        lo, hi = wilson_interval(k, worlds)
        rows.append({"by": end.isoformat(), "p_sign": k / worlds,
                     "ci_low": min(float(lo), k / worlds), "ci_high": max(float(hi), k / worlds)})
    return {"scenario": scenario, "start_date": start.isoformat(), "worlds": worlds,
            "seed": seed, "quantity": "signed_by", "forecasts": rows}


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "n/a" if math.isnan(v) else f"{v:.3f}"
    return str(v)


def markdown(result: Backtest, settings: dict) -> str:
    """The scoreboard as Markdown: per-fact forecasts and the skill table."""
    s = result.scores
    lines = [f"Backtest of {settings.get('date', '')}: {settings['worlds']:,} worlds per "
             f"origin, seed {settings['seed']}, log score with probabilities clipped to "
             f"[{settings['log_eps']}, {1 - settings['log_eps']}].", "",
             "| origin | fact | observed | model | no change | climatology |",
             "|---|---|---|---|---|---|"]
    for r in s.itertuples():
        lines.append(f"| {r.origin} | {r.fact} | {_fmt(r.observed)} | {_fmt(r.forecast)} | "
                     f"{_fmt(r.no_change)} | {_fmt(r.climatology)} |")
    lines += ["", "Mean scores (lower is better) and the model's skill "
              "(1 - model / baseline; negative: the baseline wins; n/a: the baseline "
              "scored 0):", "",
              "| origin | score | facts | model | no change | skill vs no change | "
              "climatology | skill vs climatology |", "|---|---|---|---|---|---|---|---|"]
    for r in result.skill.itertuples():
        lines.append(f"| {r.origin} | {r.score} | {r.facts} | {_fmt(r.model)} | "
                     f"{_fmt(r.no_change)} | {_fmt(r.skill_vs_no_change)} | "
                     f"{_fmt(r.climatology)} | {_fmt(r.skill_vs_climatology)} |")
    return "\n".join(lines) + "\n"
