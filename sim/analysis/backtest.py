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
    origin: dt.date | None = None

    def window(self) -> tuple[dt.date, int] | None:
        """``(start, weeks)`` for facts about a window of weeks, else None."""
        if "start" in self.args and "weeks" in self.args:
            return self.args["start"], int(self.args["weeks"])
        return None

    def applies(self, origin: dt.date) -> bool:
        """Whether a forecast made at ``origin`` can be scored on this fact.

        The fact must be settled after the origin, and a window must not have begun
        before it (its first weeks would otherwise be known, not forecast). A standard
        question of the rolling backtest (``origin`` set) is asked of its own origin only.
        """
        if self.origin is not None and self.origin != origin:
            return False
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
_OPTIONAL = ("annual_rate", "climatology", "args", "origin")
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
        asked = entry.get("origin")
        asked = None if asked is None else _date(asked, f"{at}.origin", source)
        facts.append(Fact(
            id=fid, date=_date(entry["date"], f"{at}.date", source),
            source=entry["source"], kind=kind, quantity=quantity, observed=observed,
            no_change=no_change, climatology_source=str(entry["climatology_source"]),
            annual_rate=None if rate is None else float(rate),
            climatology=None if clim is None else float(clim), args=args, origin=asked))
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
    """A flag set by the fact's date, dates mapped to weeks by the calendar's own rule.

    The calendar (:mod:`sim.model.calendar`) fires an event at the first week that begins
    on or after its date, so a flag set by an event dated on or before the fact's date
    holds from week ``event_week(fact.date)`` at the latest; reading it with the week
    that *contains* the date would miss an event of the same week (the Minsk closure of
    30 Nov 2025 against a fact of 1 Dec).
    """
    from sim.model.calendar import event_week

    week = run.column(f"flag_week.{fact.args['flag']}", fact.quantity)
    return (week >= 0) & (week <= event_week(fact.date, run.start))


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


# ----------------------------------------------------------- rolling origins
#
# The rolling-origin backtest (``sim-backtest rolling=true``; docs/model.md 9.1): an
# origin every month, each started from the state known on its date and calibrated only
# on facts dated before it, scored on a fact set generated by a rule written before
# scoring (``configs/backtest/rolling.yaml``), with bootstrap intervals on skill.

#: Horizon bins (months after the origin, right-inclusive; standard questions sit on 3, 6, 12).
HORIZON_BINS = (("0-3 months", 3.05), ("3-6 months", 6.05), ("6-12 months", 12.05),
                ("over 12 months", math.inf))
_QUESTION_KEYS = ("name", "quantity", "kind", "observed", "no_change", "source",
                  "climatology_source", "annual_rate", "annual_mean")


@dataclass(frozen=True)
class RollingRule:
    """The parsed ``configs/backtest/rolling.yaml`` (see the file's comments)."""

    end: dt.date
    origins: tuple[dt.date, ...]
    bases: tuple[tuple[dt.date, str], ...]
    record: Path
    generated: Path
    horizons: tuple[int, ...]
    questions: tuple[dict, ...]
    quantile: float
    min_share: float
    source: str


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` plus whole months (the day clipped to the month's length)."""
    import calendar

    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def load_rule(path: Path) -> RollingRule:
    """Read and check the rolling backtest's rule.

    Raises:
        ConfigError: A missing or bad key, naming the file and the key.
    """
    from sim.experiment.config import read_yaml

    path = Path(path)
    src = str(path)
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError("rule", "the file must be a mapping of keys", src)
    for k in ("end", "origins", "bases", "record", "generated", "horizons_months",
              "questions"):
        if k not in data:
            raise ConfigError(k, "missing (required)", src)
    end = _date(data["end"], "end", src)
    o = data["origins"]
    if not isinstance(o, dict) or "first" not in o:
        raise ConfigError("origins.first", "missing (required)", src)
    first = _date(o["first"], "origins.first", src)
    every = o.get("every_months", 1)
    if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= 12:
        raise ConfigError("origins.every_months", f"must be a whole number in [1, 12], got "
                          f"{every!r}", src)
    moved = {}
    for i, m in enumerate(o.get("moved") or []):
        if not isinstance(m, dict) or set(m) != {"from", "to"}:
            raise ConfigError(f"origins.moved[{i}]", "must be {from: date, to: date}", src)
        moved[_date(m["from"], f"origins.moved[{i}].from", src)] = _date(
            m["to"], f"origins.moved[{i}].to", src)
    dates: list = []
    step = 0
    while (d := add_months(first, step * every)) < end:
        dates.append(moved.get(d, d))
        step += 1
    if not dates or any(d >= end for d in dates):
        raise ConfigError("origins", f"every origin must lie before end {end}", src)
    bases = []
    for i, b in enumerate(data["bases"] or []):
        if not isinstance(b, dict) or set(b) != {"from", "scenario"}:
            raise ConfigError(f"bases[{i}]", "must be {from: date, scenario: name}", src)
        bases.append((_date(b["from"], f"bases[{i}].from", src), str(b["scenario"])))
    bases.sort()
    if not bases or bases[0][0] > dates[0]:
        raise ConfigError("bases", f"need a base scenario from the first origin {dates[0]}",
                          src)
    hz = data["horizons_months"]
    if not isinstance(hz, list) or not hz or not all(
            isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= 60 for h in hz):
        raise ConfigError("horizons_months", f"must be a list of whole months in [1, 60], "
                          f"got {hz!r}", src)
    qs = data["questions"]
    if not isinstance(qs, list):
        raise ConfigError("questions", "must be a list", src)
    for i, q in enumerate(qs):
        if not isinstance(q, dict):
            raise ConfigError(f"questions[{i}]", "must be a mapping", src)
        bad = sorted(set(q) - set(_QUESTION_KEYS))
        if bad:
            raise ConfigError(f"questions[{i}].{bad[0]}", "unknown key; allowed: "
                              + ", ".join(_QUESTION_KEYS), src)
        for key in ("name", "quantity", "kind", "observed", "no_change", "source",
                    "climatology_source"):
            if key not in q:
                raise ConfigError(f"questions[{i}].{key}", "missing (required)", src)
        if q["kind"] == "binary" and "annual_rate" not in q:
            raise ConfigError(f"questions[{i}].annual_rate", "a binary question needs an "
                              "annual rate (its climatology)", src)
        if q["kind"] == "count" and "annual_mean" not in q:
            raise ConfigError(f"questions[{i}].annual_mean", "a count question needs a "
                              "Poisson mean a year (its climatology)", src)
    cal = data.get("calibration") or {}
    quantile = cal.get("quantile", 0.1)
    if isinstance(quantile, bool) or not isinstance(quantile, int | float) \
            or not 0 < quantile <= 1:
        raise ConfigError("calibration.quantile", f"must be in (0, 1], got {quantile!r}", src)
    share = cal.get("min_share", 0.0)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share < 1:
        raise ConfigError("calibration.min_share", f"must be in [0, 1), got {share!r}", src)
    return RollingRule(end, tuple(dates), tuple(bases), path.parent / str(data["record"]),
                       path.parent / str(data["generated"]), tuple(hz), tuple(qs),
                       float(quantile), float(share), src)


def standard_questions(rule: RollingRule, origin: dt.date) -> list[dict]:
    """The rule's standard questions for one origin (facts-file entries).

    Each question at each horizon that resolves on or before ``rule.end``; none left out.
    """
    out = []
    for h in rule.horizons:
        date = add_months(origin, h)
        if date > rule.end:
            continue
        for q in rule.questions:
            e: dict[str, Any] = {
                "id": f"{q['name']}_{h}m_from_{origin.isoformat()}", "origin": origin,
                "date": date, "source": q["source"], "kind": q["kind"],
                "quantity": q["quantity"], "observed": q["observed"],
                "no_change": q["no_change"], "climatology_source": q["climatology_source"]}
            if q["kind"] == "binary":
                e["annual_rate"] = q["annual_rate"]
            else:
                weeks = (date - origin).days // 7
                e["args"] = {"start": origin, "weeks": weeks}
                e["climatology"] = round(float(q["annual_mean"]) * weeks * 7 / 365.25, 4)
            out.append(e)
    return out


def generated_entries(rule: RollingRule) -> list[dict]:
    """Every standard question of every origin (the generated list)."""
    return [e for o in rule.origins for e in standard_questions(rule, o)]


def generated_yaml(rule: RollingRule) -> str:
    """The generated list as YAML text (``rolling_facts.yaml``)."""
    import yaml

    def plain(v: Any) -> Any:
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    head = ("# GENERATED by `sim-backtest rolling=true generate=true` from rolling.yaml: do\n"
            "# not edit by hand (a test checks it equals the rule's output). The standard\n"
            "# questions of every origin; the record facts are in facts.yaml.\n")
    body = yaml.safe_dump({"facts": [plain(e) for e in generated_entries(rule)]},
                          sort_keys=False, allow_unicode=True, width=100)
    return head + body


def rolling_facts(rule: RollingRule, record: Path | None = None) -> list[Fact]:
    """The fact set: the record (every origin before it) and the generated questions.

    Raises:
        ConfigError: A bad entry, or a generated file that is not what the rule makes.
    """
    from sim.experiment.config import read_yaml

    recs = load_facts(record or rule.record)
    gen_src = str(rule.generated)
    data = read_yaml(rule.generated)
    want = parse_facts({"facts": generated_entries(rule)}, gen_src)
    got = parse_facts(data, gen_src)
    if got != want:
        raise ConfigError("facts", "differs from what rolling.yaml generates (a question "
                          "added, removed or edited by hand); regenerate it with "
                          "`sim-backtest rolling=true generate=true`", gen_src)
    ids = {f.id for f in recs}
    clash = [f.id for f in got if f.id in ids]
    if clash:
        raise ConfigError("facts", f"id {clash[0]!r} is both a record fact and a generated "
                          "question", gen_src)
    return recs + got


def _calendar_overrides(known_at: dt.date, told_from: dt.date | None = None) -> dict:
    """``state.events`` as known at ``known_at`` (``configs/state/default.yaml``).

    The calendar's events whose date was announced by then are kept; so are those known
    by then as pending (``pending_since``; the run draws their completion,
    :mod:`sim.model.calendar`); the others are cancelled. ``told_from``: a hindcast's
    start; the events known at ``known_at`` are told to it from its first week (the
    model drops an event known only after a run's start): a dated one is announced then,
    a pending one is pending from then (its date, still unknown at ``known_at``, is not).
    """
    from sim.experiment.config import CONFIG_DIR, read_yaml

    def date_of(ev: Any, key: str) -> dt.date | None:
        v = ev.get(key) if isinstance(ev, dict) else None
        return dt.date.fromisoformat(str(v)) if v is not None else None

    raw = read_yaml(CONFIG_DIR / "state" / "default.yaml")
    out: dict[str, Any] = {}
    for name, ev in (raw.get("events") or {}).items():
        ann, pend = date_of(ev, "announced"), date_of(ev, "pending_since")
        dated = ann is not None and ann <= known_at
        pending = not dated and pend is not None and pend <= known_at
        if not (dated or pending):
            out[name] = None
            continue
        ev = dict(ev)
        if told_from is not None:
            if dated and ann is not None and ann > told_from:
                ev["announced"] = told_from.isoformat()
            if pend is not None and pend > told_from:
                ev["pending_since"] = told_from.isoformat()
        out[name] = ev
    return out


def base_scenario(rule: RollingRule, origin: dt.date) -> str:
    """The latest base scenario on or before ``origin``."""
    return [s for d, s in rule.bases if d <= origin][-1]


def _origin_setting(rule: RollingRule, origin: dt.date) -> tuple[str, dict]:
    """An origin's base scenario and the overrides that place it at its date."""
    return base_scenario(rule, origin), {"state.start_date": origin.isoformat(),
                                         "state.events": _calendar_overrides(origin)}


def origin_inputs(rule: RollingRule, origin: dt.date, priors: bool = True):
    """An origin's parameters with its calibration keys as priors (composed once).

    The key selection of ``sim-calibrate`` (:func:`sim.analysis.calibrate.calibration_inputs`):
    every distribution the origin draws and, with ``priors``, every assumption its
    defaults fix at a point, drawn from its declared prior (``configs/priors.yaml``).
    """
    from sim.analysis.calibrate import calibration_inputs

    scen, over = _origin_setting(rule, origin)
    inputs = calibration_inputs(scen, over, priors=priors)
    check_origin(inputs.params, scen)
    return inputs


def hindcast_inputs(rule: RollingRule, origin: dt.date, priors: bool = True):
    """The hindcast that calibrates ``origin``, with the same key selection.

    The first origin's configuration, run from the first origin, with the calendar as
    known at ``origin`` (what happened in between is known then).
    """
    from sim.analysis.calibrate import calibration_inputs

    first = rule.origins[0]
    return calibration_inputs(base_scenario(rule, first),
                              {"state.start_date": first.isoformat(),
                               "state.events": _calendar_overrides(origin, first)},
                              priors=priors)


def shared_keys(hindcast, own) -> list[str]:
    """The keys an origin is calibrated on: the hindcast's, where the origin agrees.

    A key is calibrated when the origin's own configuration, with the declared priors
    applied the same way (:func:`origin_inputs`), gives it the same prior as the
    hindcast; a key the origin sets differently (a point value, a newer distribution)
    keeps the origin's value, and is drawn from the origin's own prior if it is one.
    """
    return [k for k, d in hindcast.priors.items() if own.priors.get(k) == d]


def _fact_key(f: Fact) -> tuple:
    return (f.quantity, tuple(sorted((k, str(v)) for k, v in f.args.items())), f.date,
            f.observed)


def calibration_facts(facts: list[Fact], first: dt.date, origin: dt.date) -> list[Fact]:
    """Facts an origin is calibrated on, in date order.

    Dated before it and after the first origin (windows begun on or after it); a
    question asked of several origins is counted once.
    """
    seen: set = set()
    out = []
    for f in sorted(facts, key=lambda f: f.date):
        win = f.window()
        if not first < f.date < origin or (win is not None and win[0] < first):
            continue
        if (key := _fact_key(f)) in seen:
            continue
        seen.add(key)
        out.append(f)
    return out


def calibrate_rolling_origin(rule: RollingRule, origin: dt.date, facts: list[Fact],
                             prior_worlds: int, seed: int, priors: bool = True, own=None):
    """Rejection ABC for one origin on the facts dated before it (None: nothing to use).

    Args:
        rule: The rolling rule.
        origin: The origin's date; only facts dated before it are read
            (:func:`calibration_facts`).
        facts: The fact set (:func:`rolling_facts`).
        prior_worlds: Prior worlds of the rejection step.
        seed: The calibration's seed.
        priors: Calibrate the declared priors of the point-valued assumptions too
            (:func:`hindcast_inputs`); false: the distributions only.
        own: The origin's :func:`origin_inputs` (composed here when not given).

    Returns:
        ``(calibration or None, keys calibrated, facts used)``.
    """
    from sim.analysis import calibrate as cal

    first = rule.origins[0]
    used = calibration_facts(facts, first, origin)
    if not used:
        return None, [], []
    hind = hindcast_inputs(rule, origin, priors)
    keys = shared_keys(hind, own if own is not None else origin_inputs(rule, origin, priors))
    prior_of = {k: hind.priors[k] for k in keys}
    # up to the week the calendar maps the origin's date to (an event dated before the
    # origin fires by then; the facts are read with that rule: _flag_set_by)
    from sim.model.calendar import event_week

    horizon = event_week(origin, first) + 1
    sim_ = cal.fact_simulator(hind.params, used, horizon)
    targets = [cal.Target(f.id, f.kind, f.observed) for f in used]
    try:
        c = cal.rejection(sim_, prior_of, targets, prior_worlds, seed, quantile=rule.quantile,
                          drop_unmatched=True, min_share=rule.min_share)
    except cal.CalibrationError:
        # no prior world matches every binary fact at once (too few prior worlds): the
        # origin keeps its prior, and the table says so
        return None, keys, used
    return c, keys, used


def origin_label(d: dt.date) -> str:
    """An origin's name in the tables."""
    return f"rolling_{d.isoformat()}"


@dataclass
class Rolling:
    """The rolling backtest: every (origin, fact) score, skill with intervals, origins."""

    scores: pd.DataFrame
    skill: pd.DataFrame
    origins: pd.DataFrame
    posteriors: dict[str, pd.DataFrame] = field(default_factory=dict)


def horizon_bin(months: float) -> str:
    """The horizon bin of a lead time in months."""
    return next(name for name, hi in HORIZON_BINS if months <= hi)


def rolling_backtest(rule: RollingRule, facts: list[Fact], worlds: int, seed: int,
                     calibration_worlds: int, log_eps: float = 0.01, boot: int = 2000,
                     origins: list[dt.date] | None = None,
                     progress: Callable[[str], None] | None = None,
                     priors: bool = True) -> Rolling:
    """Run, calibrate and score every origin of the rule (or the given subset).

    Per origin: (b) rejection ABC on the facts dated before it
    (:func:`calibrate_rolling_origin`, ``calibration_worlds`` prior worlds; 0: no
    calibration, every origin from its prior, an ablation); (a) a run of
    ``worlds`` worlds from its state (:func:`origin_inputs`: with ``priors``, the
    point-valued assumptions drawn from their declared priors) to ``rule.end``, the
    calibrated assumptions resampled from the posterior (whole rows: the joint
    structure kept); every fact that applies to it scored (:func:`score_origin`). The
    run's length is set by ``rule.end``, never by the facts, so moving a later fact
    cannot change an origin's forecasts.
    """
    chosen = list(rule.origins if origins is None else origins)
    unknown = [o for o in chosen if o not in rule.origins]
    if unknown:
        raise ConfigError("rolling_origins", f"{unknown[0]} is not an origin of the rule; "
                          f"origins: {', '.join(o.isoformat() for o in rule.origins)}",
                          rule.source)
    rows: list[dict] = []
    info: list[dict] = []
    posts: dict[str, pd.DataFrame] = {}
    for o in chosen:
        label = origin_label(o)
        if progress:
            progress(f"origin {o}: calibrating")
        own = origin_inputs(rule, o, priors)
        if calibration_worlds > 0:
            c, keys, used = calibrate_rolling_origin(rule, o, facts, calibration_worlds, seed,
                                                     priors, own)
        else:  # the ablation: every origin from its prior
            c, keys, used = None, [], []
        params = own.params
        fixed = None
        if c is not None:
            w = c.samples["weight"].to_numpy(float)
            rng = np.random.default_rng(np.random.SeedSequence(
                int(seed), spawn_key=(0xB0C7, o.toordinal())))
            idx = rng.choice(len(c.samples), size=worlds, p=w / w.sum())
            fixed = {k: c.samples[k].to_numpy(float)[idx] for k in keys}
            posts[label] = c.samples
        horizon = (rule.end - o).days // 7 + 1
        run = run_view(params, worlds, seed, horizon, fixed_draws=fixed)
        scored = score_origin(label, run, facts, log_eps)
        for r in scored:
            r["horizon_months"] = round((r["date"] - o).days / 30.4375, 2)
            r["horizon"] = horizon_bin(r["horizon_months"])
            r["question"] = next(f.origin is not None for f in facts if f.id == r["fact"])
        rows += scored
        dropped = (c.settings.get("dropped", []) if c is not None
                   else ["all (no prior world matches every binary fact: prior kept)"]
                   if used else [])
        info.append({"origin": label, "date": o, "base": base_scenario(rule, o),
                     "weeks": horizon, "facts_scored": len(scored),
                     "calibration_facts": len(used), "calibration_dropped": ";".join(dropped),
                     "calibrated_keys": 0 if c is None else len(keys),
                     "from_prior": len(own.from_prior),
                     "accepted": 0 if c is None else len(c.samples),
                     "prior_worlds": 0 if c is None else calibration_worlds})
    scores = pd.DataFrame(rows)
    return Rolling(scores, bootstrap_skill(scores, boot, seed), pd.DataFrame(info), posts)


def bootstrap_skill(scores: pd.DataFrame, boot: int, seed: int,
                    level: float = 0.95) -> pd.DataFrame:
    """Mean scores and skill with bootstrap intervals: all facts, by horizon, by kind.

    The kinds: the record's dated facts and the standard questions.

    The forecasts are partly crossed: one origin's facts share its run and its
    calibration, and a record fact (the Minsk closure by 1 Dec 2025, no treaty by a date)
    is scored from every origin before it, so neither the rows nor the origins are
    independent. The bootstrap draws the origins with replacement and, independently, the
    *shared* facts (those scored from more than one origin) with replacement, and weighs
    row (origin o, fact f) by (times o is drawn) x (times f is drawn): the two-way
    *pigeonhole* bootstrap of crossed effects (Owen 2007, "The pigeonhole bootstrap",
    Ann. Appl. Stat. 1(2)), whose variance is if anything a little larger than the true
    one, the cautious side. A fact scored from one origin only (each standard question) is
    nested in it and weighs by its origin's count alone: drawing it as well would count
    its variance twice. Resampling origins alone (until stop 30) treated a fact scored
    from ten origins as ten independent pieces of evidence, so its intervals were too
    narrow wherever one shared fact carries the skill. Skill of a resample is
    ``1 - sum(w * model) / sum(w * baseline)``. The interval is the percentile interval
    of ``boot`` resamples (seeded: same seed, same interval), widened to contain the
    point estimate when the skill's skewed resampling law leaves it outside.
    """
    rows: list[dict] = []
    if scores.empty:
        return pd.DataFrame(rows)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(0xB007,)))
    groups = [("all", scores)] + [(h, scores[scores["horizon"] == h])
                                  for h, _ in HORIZON_BINS]
    if "question" in scores:  # the record's facts and the standard questions apart
        q = scores["question"].astype(bool)
        groups += [("record facts", scores[~q]), ("standard questions", scores[q])]
    a = (1 - level) / 2
    for hname, g in groups:
        for kind, names in SCORES.items():
            gk = g[g["kind"] == kind]
            if gk.empty:
                continue
            weights, n_org, n_fact = _pigeonhole_weights(gk, boot, rng)
            for s in names:
                row: dict[str, Any] = {"horizon": hname, "score": s, "facts": len(gk),
                                       "origins": n_org, "shared_facts": n_fact,
                                       "model": float(gk[f"{s}_model"].mean())}
                num = weights @ gk[f"{s}_model"].to_numpy(float)
                for b in BASELINES:
                    row[b] = float(gk[f"{s}_{b}"].mean())
                    point = scoring.skill(row["model"], row[b])
                    den = weights @ gk[f"{s}_{b}"].to_numpy(float)
                    with np.errstate(divide="ignore", invalid="ignore"):
                        sk = np.where(den > 0, 1.0 - num / den, np.nan)
                    sk = sk[np.isfinite(sk)]
                    if len(sk) and math.isfinite(point):
                        lo, hi = np.quantile(sk, [a, 1 - a])
                        lo, hi = min(float(lo), point), max(float(hi), point)
                    else:
                        lo = hi = math.nan
                    row[f"skill_vs_{b}"] = point
                    row[f"skill_vs_{b}_low"] = lo
                    row[f"skill_vs_{b}_high"] = hi
                rows.append(row)
    return pd.DataFrame(rows)


def _pigeonhole_weights(rows: pd.DataFrame, boot: int, rng: np.random.Generator
                        ) -> tuple[np.ndarray, int, int]:
    """``(boot, len(rows))`` weights of the bootstrap, the origins and the shared facts.

    Row (o, f)'s weight in a resample is (times origin o is drawn) x (times fact f is
    drawn) for a fact scored from more than one origin, and (times o is drawn) for one
    scored from o alone; origins and shared facts are drawn independently, with
    replacement, in their order of first appearance.
    """
    orgs = list(dict.fromkeys(rows["origin"]))
    spread = rows.groupby("fact", sort=False)["origin"].nunique()
    shared = [f for f, n in spread.items() if n > 1]
    c_o = _counts(rng.integers(0, len(orgs), size=(boot, len(orgs))), len(orgs))
    w = c_o[:, rows["origin"].map({o: i for i, o in enumerate(orgs)}).to_numpy()]
    if shared:
        c_f = _counts(rng.integers(0, len(shared), size=(boot, len(shared))), len(shared))
        c_f = np.hstack([c_f, np.ones((boot, 1))])  # last column: the unshared facts
        code_f = rows["fact"].map({f: i for i, f in enumerate(shared)}).fillna(
            len(shared)).to_numpy(int)
        w = w * c_f[:, code_f]
    return w, len(orgs), len(shared)


def _counts(draw: np.ndarray, n: int) -> np.ndarray:
    """How many times each of ``n`` items is drawn, per row of ``draw``."""
    return np.stack([np.bincount(d, minlength=n) for d in draw]).astype(float)


def skill_without_each(scores: pd.DataFrame, score: str = "brier") -> pd.DataFrame:
    """Skill over the binary forecasts with each record fact left out in turn.

    Says how much of the skill one fact carries: a fact scored from many origins that
    the model gets right and a naive forecast wrong (the Minsk closure) can carry all of
    it. Rows: ``fact`` (``"(none)"`` for all facts kept), ``facts`` (forecasts kept),
    and the skill against each baseline. No intervals: a reading aid, not a test.
    """
    b = scores[scores["kind"] == "binary"]
    if b.empty:
        return pd.DataFrame()
    record = list(dict.fromkeys(b.loc[~b["question"].astype(bool), "fact"]))
    out = []
    for fid in ["(none)", *record]:
        kept = b[b["fact"] != fid]
        row: dict[str, Any] = {"fact": fid, "facts": len(kept)}
        for base in BASELINES:
            row[f"skill_vs_{base}"] = scoring.skill(float(kept[f"{score}_model"].mean()),
                                                    float(kept[f"{score}_{base}"].mean()))
        out.append(row)
    return pd.DataFrame(out)


def rolling_markdown(result: Rolling, settings: dict) -> str:
    """The rolling scoreboard as Markdown: skill with intervals by horizon, the origins."""
    o = result.origins
    lines = [f"Rolling-origin backtest of {settings.get('date', '')}: {len(o)} origins "
             f"({o['date'].min()} to {o['date'].max()}), {settings['worlds']:,} worlds per "
             f"origin, " + (f"calibration on {settings['calibration_worlds']:,} prior "
                            "worlds per origin" if settings['calibration_worlds'] else
                            "no calibration (every origin from its prior)")
             + (", the defaults' point-valued assumptions drawn from their declared priors"
                if settings.get('priors', True) else ", the defaults' point values kept")
             + f", seed {settings['seed']}, {settings['bootstrap']:,} bootstrap "
             "resamples of origins and of facts scored from several origins; log score "
             f"clipped to [{settings['log_eps']}, {1 - settings['log_eps']}]; "
             f"{len(result.scores):,} (origin, fact) forecasts."
             + (f" Wall time {settings['seconds']:.0f} s." if "seconds" in settings else ""),
             "", "Mean scores (lower is better) and skill 1 - model / baseline with 95 % "
             "bootstrap intervals (negative: the baseline wins):", "",
             "| horizon | score | facts | origins | model | no change | skill vs no change | "
             "climatology | skill vs climatology |", "|---|---|---|---|---|---|---|---|---|"]

    def iv(r, b):
        return (f"{_fmt(r[f'skill_vs_{b}'])} [{_fmt(r[f'skill_vs_{b}_low'])}, "
                f"{_fmt(r[f'skill_vs_{b}_high'])}]")
    for _, r in result.skill.iterrows():
        lines.append(f"| {r['horizon']} | {r['score']} | {r['facts']} | {r['origins']} | "
                     f"{_fmt(r['model'])} | {_fmt(r['no_change'])} | {iv(r, 'no_change')} | "
                     f"{_fmt(r['climatology'])} | {iv(r, 'climatology')} |")
    lines += ["", "Origins (start state from the base scenario and the calendar as known; "
              "calibrated by rejection ABC on the facts dated before the origin):", "",
              "| origin | base | facts scored | calibration facts | left out (under the "
              "rule's share of prior worlds reproduce it) | keys calibrated | point values "
              "drawn from their declared priors | accepted |",
              "|---|---|---|---|---|---|---|---|"]
    for _, r in o.iterrows():
        lines.append(f"| {r['date']} | {r['base']} | {r['facts_scored']} | "
                     f"{r['calibration_facts']} | {r['calibration_dropped'] or '-'} | "
                     f"{r['calibrated_keys']} | {r['from_prior']} | {r['accepted']:,} |")
    s = result.scores
    if not s.empty:
        by = (s.groupby("fact", sort=False)
              .agg(n=("origin", "size"), observed=("observed", "first"),
                   model=("forecast", "mean"), clim=("climatology", "mean")))
        rec = by[[not q for q in s.groupby("fact", sort=False)["question"].first()]]
        lines += ["", "Record facts (mean forecast over the origins that score them):", "",
                  "| fact | origins | observed | model (mean) | climatology (mean) |",
                  "|---|---|---|---|---|"]
        for fid, r in rec.iterrows():
            lines.append(f"| {fid} | {r['n']} | {_fmt(r['observed'])} | {_fmt(r['model'])} "
                         f"| {_fmt(r['clim'])} |")
        wo = skill_without_each(s)
        if not wo.empty:
            lines += ["", "Brier skill over the binary forecasts with each record fact left "
                      "out (how much of the skill one fact carries):", "",
                      "| left out | forecasts kept | skill vs no change | skill vs "
                      "climatology |", "|---|---|---|---|"]
            for _, r in wo.iterrows():
                lines.append(f"| {r['fact']} | {r['facts']} | {_fmt(r['skill_vs_no_change'])} "
                             f"| {_fmt(r['skill_vs_climatology'])} |")
    return "\n".join(lines) + "\n"
