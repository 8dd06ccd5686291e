"""Which assumptions drive the headline: Morris screening and Sobol indices over worlds.

The uncertain inputs of an exploration are found in the composed parameters: every
distribution (:class:`~sim.model.dists.Dist`) the scenario draws per world, every
assumption of the one list ``configs/priors.yaml`` that the defaults fix at a point
(drawn from its declared prior, :func:`sim.experiment.priors.prior_overrides`; off with
``explore.priors=false``), plus any key the user names with a range (it becomes a
uniform distribution on that range before the parameters are validated, so the range is
checked against the key's allowed range). A key a scenario or the command line sets
keeps its value. Nothing here lists parameters by hand.

A design is drawn by SALib in the unit hypercube, mapped onto each input's own
distribution by its inverse CDF (:meth:`sim.model.dists.Dist.ppf`) and fed to the engine as
per-world parameter arrays (``simulate(..., fixed_draws=...)``): each model run holds
many design points as its worlds, vectorised, instead of one run per design point.

**World luck.** The model is stochastic: two worlds with the same parameters differ by
their random numbers ("luck"). Luck is position-based: world ``j`` of a run with seed
``s`` and block ``b`` draws the same numbers in every run with that ``(s, b)`` and the
same number of worlds (common random numbers, :mod:`sim.model.rng`). Sobol's estimators
compare rows that must differ *only* in the input studied; so the rows of one Saltelli
group sit at the same world position of different runs, and luck is treated as one more
input, ``luck``: rows that take it from matrix A run with block ``2b``, rows that take it
from B with block ``2b + 1``. An input the model ignores then changes no world at all
and gets indices of exactly zero, and ``luck``'s indices say how much of the outcome is
the worlds' own randomness. (Feeding every row fresh luck would add the noise share to
every total index, ignored inputs included.) In Morris, the points of one trajectory
share luck (same position, same block), so an elementary effect is the effect of one
input with everything else, luck included, held fixed.

**Outputs.** Each world contributes one value per output (:data:`OUTPUTS`): indicators
``signed``, ``signed by 12 months``, ``signed by 24 months``, ``escalated`` (their
means are P(sign), P(sign by 12/24 months), P(escalation)) and ``weeks to signing``
censored at the horizon (a world that does not sign counts as the horizon; the median of
this value is the median weeks to signing when more than half the worlds sign, and the
horizon otherwise). Indices decompose the variance of these per-world values.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ConfigError, check_keys
from sim.model.dists import Dist
from sim.model.params import ModelParams, lookup

#: Exploration methods.
METHODS = ("morris", "sobol", "prim")
#: Per-world outputs: name -> (display name, what its mean is).
OUTPUTS = {
    "signed": ("P(sign)", "share of worlds signed within the horizon"),
    "signed_12m": ("P(sign by 12 months)", "share signed within 52 weeks"),
    "signed_24m": ("P(sign by 24 months)", "share signed within 104 weeks"),
    "escalated": ("P(escalation)", "share of worlds ending in escalation"),
    "weeks_to_sign": ("weeks to signing", "weeks to signing, censored at the horizon"),
}
#: The output whose indices a precision target refers to.
PRIMARY = "signed"
#: Name of the world-luck input of a Sobol design.
LUCK = "luck"
#: PRIM targets: per-world boolean outputs.
PRIM_TARGETS = ("signed", "signed_12m", "signed_24m", "escalated")

#: Evaluator: (per-world parameter arrays, block) -> per-world outputs.
Evaluator = Callable[[Mapping[str, np.ndarray], int], Mapping[str, np.ndarray]]


# ----------------------------------------------------------------------- settings
@dataclass(frozen=True)
class ExploreSettings:
    """The ``explore`` section of the configuration (``configs/explore/*.yaml``).

    Attributes:
        method: ``morris``, ``sobol`` or ``prim``.
        n: Sobol base samples N (a power of two; N * (2D + 2) worlds with second-order
            indices, N * (D + 2) without) or Morris trajectories (N * (D + 1) worlds).
        second_order: Sobol: also estimate second-order indices.
        luck: Sobol: treat the worlds' own randomness as an input (see module doc);
            false runs the whole design as one run in which every row has its own luck
            (first-order indices are unbiased, total indices then include the noise).
        replicates: Sobol and Morris: worlds per design point, R >= 1. A point's output
            is the mean over R worlds, each with its own luck (world positions
            ``R j .. R j + R - 1`` of its run, so the rows of one Saltelli group share
            their R worlds' luck); the luck's share of the variance shrinks about as
            1/R and the inputs' indices are read through less noise, for R times the
            worlds.
        levels: Morris grid levels (an even number >= 2).
        inputs: Keys named with a range: dotted key -> ``[low, high]`` (uniform).
        priors: Also every assumption of ``configs/priors.yaml`` that the defaults fix at
            a point, drawn from its prior (:func:`sim.experiment.priors.prior_overrides`);
            false: only the scenario's distributions and the named keys.
        conf_level: Confidence level of the indices' intervals.
        resamples: Bootstrap resamples for the intervals.
        precision: Grow N (doubling) until the widest interval half-width of the ``top``
            inputs' indices of P(sign) (total index; Morris mu*) is at most this; or None.
        top: How many top inputs the precision target covers.
        max_n: Largest N a precision run may reach.
        source: PRIM: a ``sim-run`` folder whose worlds to use, or None for a fresh run.
        target: PRIM: the per-world outcome whose concentration is sought.
        threshold: PRIM: the box density sought (the box with the most coverage at or
            above it is chosen; if none reaches it, the densest box).
        peel_alpha: PRIM: share of the box's worlds removed per peeling step.
        paste_alpha: PRIM: share added per pasting step.
        mass_min: PRIM: smallest share of all worlds a box may hold.
        step: PRIM: take the box from this step of the peeling trajectory (EMA's
            ``box.select``), or None to choose by ``threshold``.
    """

    method: str
    n: int
    second_order: bool
    luck: bool
    replicates: int
    levels: int
    inputs: dict
    priors: bool
    conf_level: float
    resamples: int
    precision: float | None
    top: int
    max_n: int
    source: str | None
    target: str
    threshold: float
    peel_alpha: float
    paste_alpha: float
    mass_min: float
    step: int | None


def _int(v: Any, key: str, lo: int, hi: int) -> int:
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        v = int(v)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ConfigError(key, f"must be a whole number in [{lo}, {hi}], got {v!r}")
    return v


def _real(v: Any, key: str, lo: float, hi: float, what: str = "") -> float:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    if not ok or not lo < v < hi:
        raise ConfigError(key, what or f"must be a number in ({lo:g}, {hi:g}), got {v!r}")
    return float(v)


def _bool(v: Any, key: str) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(key, f"must be true or false, got {v!r}")
    return v


def flatten_ranges(node: Any, prefix: str = "explore.inputs") -> dict[str, tuple]:
    """``{a: {b: [lo, hi]}}`` -> ``{"a.b": (lo, hi)}``; checks each range.

    Raises:
        ConfigError: A leaf that is not ``[low, high]`` with finite low < high.
    """
    if node is None:
        return {}
    if not isinstance(node, Mapping):
        raise ConfigError(prefix, "must be a mapping of parameter keys to [low, high]")
    out: dict[str, tuple] = {}
    for k, v in node.items():
        key = f"{prefix}.{k}"
        if isinstance(v, Mapping):
            out.update(flatten_ranges(v, key))
            continue
        ok = (isinstance(v, list | tuple) and len(v) == 2
              and all(isinstance(x, int | float) and not isinstance(x, bool)
                      and math.isfinite(x) for x in v))
        if not ok or not v[0] < v[1]:
            raise ConfigError(key, f"must be a range [low, high] with low < high, got {v!r}")
        out[key[len("explore.inputs."):]] = (float(v[0]), float(v[1]))
    return out


def parse_explore(cfg: Mapping) -> ExploreSettings:
    """Check the ``explore`` section.

    Raises:
        ConfigError: Unknown or missing key, wrong type or value out of range (the key is
            named ``explore.<key>``).
    """
    if not isinstance(cfg, Mapping):
        raise ConfigError("explore", "must be a mapping (choose explore=morris, sobol or prim)")
    names = [f.name for f in dataclasses.fields(ExploreSettings)]
    check_keys(cfg, names, "explore")
    method = cfg["method"]
    if method not in METHODS:
        raise ConfigError("explore.method", f"must be one of {', '.join(METHODS)}, "
                          f"got {method!r}")
    n = _int(cfg["n"], "explore.n", 2, 2**22)
    if method == "sobol" and n & (n - 1):
        raise ConfigError("explore.n", f"Sobol needs a power of two (e.g. 256, 512, 1024), "
                          f"got {n}")
    levels = _int(cfg["levels"], "explore.levels", 2, 100)
    if levels % 2:
        raise ConfigError("explore.levels", f"must be even (Morris grid), got {levels}")
    precision = cfg["precision"]
    if precision is not None:
        precision = _real(precision, "explore.precision", 0, math.inf,
                          f"must be null or a positive half-width, got {precision!r}")
    max_n = _int(cfg["max_n"], "explore.max_n", n, 2**24)
    source = cfg["source"]
    if source is not None and (not isinstance(source, str) or not source):
        raise ConfigError("explore.source", f"must be null or a sim-run folder, got {source!r}")
    target = cfg["target"]
    if target not in PRIM_TARGETS:
        raise ConfigError("explore.target", f"must be one of {', '.join(PRIM_TARGETS)}, "
                          f"got {target!r}")
    return ExploreSettings(
        method=method, n=n,
        second_order=_bool(cfg["second_order"], "explore.second_order"),
        luck=_bool(cfg["luck"], "explore.luck"),
        replicates=_int(cfg["replicates"], "explore.replicates", 1, 10_000),
        levels=levels, inputs=flatten_ranges(cfg["inputs"]),
        priors=_bool(cfg["priors"], "explore.priors"),
        conf_level=_real(cfg["conf_level"], "explore.conf_level", 0, 1),
        resamples=_int(cfg["resamples"], "explore.resamples", 10, 100_000),
        precision=precision, top=_int(cfg["top"], "explore.top", 1, 1000), max_n=max_n,
        source=source, target=target,
        threshold=_real(cfg["threshold"], "explore.threshold", 0, 1.000001),
        peel_alpha=_real(cfg["peel_alpha"], "explore.peel_alpha", 0, 0.5),
        paste_alpha=_real(cfg["paste_alpha"], "explore.paste_alpha", 0, 0.5),
        mass_min=_real(cfg["mass_min"], "explore.mass_min", 0, 1),
        step=None if cfg["step"] is None else _int(cfg["step"], "explore.step", 0, 10_000))


def apply_ranges(cfg: dict, ranges: Mapping[str, tuple]) -> dict:
    """Return ``cfg`` with each named key replaced by ``{dist: uniform, low, high}``.

    The key must already hold a number or a distribution; the schema
    (:func:`sim.model.params.parse_params`) then checks the range against the key's range.

    Raises:
        ConfigError: A key that is not a numeric model parameter (named
            ``explore.inputs.<key>``).
    """
    import copy

    out = copy.deepcopy(cfg)
    for key, (lo, hi) in ranges.items():
        node: Any = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.get(p) if isinstance(node, dict) else None
        leaf = node.get(parts[-1]) if isinstance(node, dict) else None
        numeric = isinstance(leaf, int | float) and not isinstance(leaf, bool)
        if not (numeric or (isinstance(leaf, dict) and "dist" in leaf)):
            raise ConfigError(f"explore.inputs.{key}", "not a numeric model parameter "
                              "(name a key such as incidents.base_rate that holds a "
                              "number or a distribution)")
        node[parts[-1]] = {"dist": "uniform", "low": lo, "high": hi}
    return out


# ----------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Input:
    """One uncertain input: a distributed parameter of the scenario."""

    key: str
    dist: Dist
    named: bool  # True: named with a range by the user; False: the scenario's own

    def describe(self) -> str:
        """``uniform(low=0.1, high=0.5)``."""
        args = ", ".join(f"{k}={v:g}" for k, v in self.dist.args)
        return f"{self.dist.kind}({args})"


def discover_inputs(params: ModelParams, named: Sequence[str] = ()) -> list[Input]:
    """Every distribution the model draws per world, in the model's drawing order.

    Uses the model's own walk (:func:`sim.model.model.draw_parameters`), so the keys are
    exactly those ``fixed_draws`` accepts, whatever parameters the model has today.
    """
    from sim.model.model import _Streams, draw_parameters

    draws: dict = {}
    draw_parameters(params, 1, _Streams(0, 0), draws)
    return [Input(k, lookup(params, k), k in set(named)) for k in draws]


def problem(names: Sequence[str]) -> dict:
    """A SALib problem over the unit hypercube (inputs are mapped by their quantiles)."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def to_arrays(inputs: Sequence[Input], u: np.ndarray) -> dict[str, np.ndarray]:
    """Per-world parameter arrays from unit-hypercube rows ``u`` (one column per input)."""
    return {inp.key: inp.dist.ppf(u[:, i]) for i, inp in enumerate(inputs)}


def world_outputs(outcomes: pd.DataFrame, horizon_weeks: int) -> dict[str, np.ndarray]:
    """Per-world values of every output in :data:`OUTPUTS` from a run's outcomes table."""
    week = outcomes["sign_week"].to_numpy()
    signed = outcomes["signed"].to_numpy(dtype=bool)
    return {
        "signed": signed.astype(float),
        "signed_12m": (signed & (week < 52)).astype(float),
        "signed_24m": (signed & (week < 104)).astype(float),
        "escalated": outcomes["escalated"].to_numpy(dtype=float),
        "weeks_to_sign": np.where(signed, week, horizon_weeks).astype(float),
    }


def model_evaluator(params: ModelParams, seed: int, horizon_weeks: int) -> Evaluator:
    """The default evaluator: one model run whose worlds are the given rows."""
    from sim.experiment.api import simulate

    def evaluate(arrays: Mapping[str, np.ndarray], block: int) -> dict[str, np.ndarray]:
        n = len(next(iter(arrays.values())))
        res = simulate(params, worlds=n, seed=seed, horizon_weeks=horizon_weeks,
                       block=block, fixed_draws=dict(arrays))
        return world_outputs(res.outcomes, horizon_weeks)

    return evaluate


# ----------------------------------------------------------------------- designs
@dataclass
class Design:
    """Design points and how they are laid out in model runs.

    Attributes:
        names: Column names of ``u`` (inputs, then ``luck`` for a Sobol design with luck).
        u: Unit-hypercube design, one row per design point, in SALib's order.
        runs: ``(block, rows)`` per model run; ``rows`` index ``u`` and all runs have
            the same length, so world ``j`` of every run of one block shares luck.
    """

    names: list[str]
    u: np.ndarray
    runs: list[tuple[int, np.ndarray]]


def sobol_design(names: Sequence[str], n: int, second_order: bool, luck: bool, seed: int,
                 start: int = 0, batch: int = 0) -> Design:
    """Rows ``start * rows_per_group`` onward of SALib's Sobol (Saltelli) design of N = n.

    Rows of one Saltelli group sit at one world position of several runs (see the
    module doc); groups before ``start`` belong to earlier batches (a precision run
    doubles N: SALib's scrambled Sobol sequence of 2N starts with that of N).
    """
    from SALib.sample import sobol as sobol_sample

    cols = list(names) + ([LUCK] if luck else [])
    D = len(cols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib warns about N vs skip_values
        u = sobol_sample.sample(problem(cols), n, calc_second_order=second_order,
                                seed=seed)
    per = 2 * D + 2 if second_order else D + 2
    u = u[start * per:]
    groups = n - start
    if not luck:  # one run, every row its own luck
        return Design(cols, u, [(2 * batch, np.arange(len(u)))])
    # luck from A (the group's first row) or from B: two blocks
    lk = u[:, -1].reshape(groups, per)
    from_a = lk == lk[:, :1]
    pattern = from_a[0]
    if not (from_a == pattern).all():  # pragma: no cover - SALib's layout is fixed
        raise RuntimeError("unexpected Saltelli layout")
    base = np.arange(groups)[:, None] * per
    runs = [(2 * batch + (0 if pattern[k] else 1), (base[:, 0] + k)) for k in range(per)]
    return Design(cols, u, runs)


def morris_design(names: Sequence[str], r: int, levels: int, seed: int,
                  batch: int = 0) -> Design:
    """SALib's Morris design of ``r`` trajectories; trajectory ``t`` is world ``t``."""
    from SALib.sample import morris as morris_sample

    D = len(names)
    u = morris_sample.sample(problem(names), r, num_levels=levels, seed=seed + 7919 * batch)
    base = np.arange(r) * (D + 1)
    return Design(list(names), u, [(batch, base + k) for k in range(D + 1)])


def evaluate_design(design: Design, inputs: Sequence[Input], evaluate: Evaluator,
                    replicates: int = 1) -> dict[str, np.ndarray]:
    """Run every run of ``design`` through ``evaluate``; outputs in design-row order.

    With ``replicates`` R > 1 each row becomes R consecutive worlds of its run (row j:
    worlds ``R j .. R j + R - 1``) and its output is their mean.
    """
    m = len(design.u)
    out: dict[str, np.ndarray] = {}
    D = len(inputs)
    for block, rows in design.runs:
        arrays = to_arrays(inputs, design.u[rows, :D])
        if replicates > 1:
            arrays = {k: np.repeat(v, replicates) for k, v in arrays.items()}
        res = evaluate(arrays, block)
        for name, vals in res.items():
            if name not in out:
                out[name] = np.full(m, np.nan)
            v = np.asarray(vals, dtype=float)
            out[name][rows] = v.reshape(len(rows), replicates).mean(axis=1)
    return out


# ----------------------------------------------------------------------- analysis
@dataclass
class Exploration:
    """Result of a Morris or Sobol exploration.

    Attributes:
        method: ``morris`` or ``sobol``.
        inputs: The inputs (without ``luck``).
        names: Analysed variables (inputs, plus ``luck`` for Sobol with luck).
        u: The unit design, all batches.
        y: Per-world outputs in design order.
        blocks: Block (luck) of each design row.
        n: Final N (Sobol base samples or Morris trajectories).
        indices: Long table: ``output``, ``input``, ``index``, ``value``, ``conf``,
            ``low``, ``high`` (Sobol: S1, ST; Morris: mu_star, sigma, mu).
        second_order: Sobol S2 long table (``output``, ``input``, ``other``, ``value``,
            ``conf``), empty otherwise.
        precision_reached: None without a precision target.
        history: Widest top-interval half-width after each batch.
        replicates: Worlds per design point (:attr:`ExploreSettings.replicates`).
        warnings: Why the indices of P(sign) may not have converged
            (:func:`convergence_warnings`); empty when nothing is amiss.
    """

    method: str
    inputs: list[Input]
    names: list[str]
    u: np.ndarray
    y: dict[str, np.ndarray]
    blocks: np.ndarray
    n: int
    indices: pd.DataFrame
    second_order: pd.DataFrame
    precision_reached: bool | None = None
    history: list[tuple[int, float]] = field(default_factory=list)
    replicates: int = 1
    warnings: list[str] = field(default_factory=list)

    @property
    def worlds(self) -> int:
        """Worlds run: design points times replicates."""
        return len(self.u) * self.replicates

    def variance_shares(self, output: str = PRIMARY) -> dict[str, float]:
        """First-order variance shares of ``output`` (Sobol only), named as what they are.

        ``first_order_inputs``: the sum of the inputs' S1, the share of the variance of
        the output (per design point) that the inputs explain one at a time;
        ``first_order_luck``: luck's S1 (with luck as an input); ``interactions``: one
        less every S1, the share left to interactions (the inputs' with each other and
        with luck). Not shares of the summed indices.
        """
        if self.method != "sobol":
            return {}
        t = self.indices[(self.indices["output"] == output) & (self.indices["index"] == "S1")]
        s1 = dict(zip(t["input"], t["value"], strict=True))
        inputs = float(sum(v for k, v in s1.items() if k != LUCK))
        out = {"first_order_inputs": inputs}
        if LUCK in s1:
            out["first_order_luck"] = float(s1[LUCK])
        out["interactions"] = 1.0 - float(sum(s1.values()))
        return out

    def headline(self) -> dict[str, float]:
        """Mean of each output over the design's worlds; the censored median weeks."""
        out = {f"mean_{k}": float(np.mean(v)) for k, v in self.y.items()}
        if "weeks_to_sign" in self.y:
            out["median_weeks_to_sign_censored"] = float(np.median(self.y["weeks_to_sign"]))
        return out

    def top(self, output: str = PRIMARY, k: int | None = None) -> pd.DataFrame:
        """The inputs ranked by total index (Sobol) or mu* (Morris), for one output."""
        idx = "ST" if self.method == "sobol" else "mu_star"
        t = self.indices[(self.indices["output"] == output) & (self.indices["index"] == idx)]
        t = t.sort_values("value", ascending=False)
        return t.head(k) if k else t


def _boot_seed(seed: int) -> int:
    """A positive bootstrap seed derived from ``seed``.

    SALib's Sobol analysis treats a seed of 0 as no seed at all, which would make seed
    0's intervals irreproducible.
    """
    return int(np.random.SeedSequence([seed, 0x5A11B]).generate_state(1)[0]) | 1


def _analyse_sobol(names: list[str], y: dict[str, np.ndarray], second_order: bool,
                   resamples: int, conf_level: float, seed: int
                   ) -> tuple[pd.DataFrame, pd.DataFrame]:
    from SALib.analyze import sobol as sobol_analyze

    rows, rows2 = [], []
    prob = problem(names)
    for out, vals in y.items():
        if np.var(vals) == 0:  # a constant output: every index is zero
            for nm in names:
                for ix in ("S1", "ST"):
                    rows.append((out, nm, ix, 0.0, 0.0))
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            res = sobol_analyze.analyze(prob, vals, calc_second_order=second_order,
                                        num_resamples=resamples, conf_level=conf_level,
                                        seed=_boot_seed(seed))
        for i, nm in enumerate(names):
            rows.append((out, nm, "S1", res["S1"][i], res["S1_conf"][i]))
            rows.append((out, nm, "ST", res["ST"][i], res["ST_conf"][i]))
            if second_order:
                for j in range(i + 1, len(names)):
                    rows2.append((out, nm, names[j], res["S2"][i, j], res["S2_conf"][i, j]))
    t = pd.DataFrame(rows, columns=["output", "input", "index", "value", "conf"])
    t["low"], t["high"] = t["value"] - t["conf"], t["value"] + t["conf"]
    t2 = pd.DataFrame(rows2, columns=["output", "input", "other", "value", "conf"])
    return t, t2


def _analyse_morris(names: list[str], u: np.ndarray, y: dict[str, np.ndarray], levels: int,
                    resamples: int, conf_level: float, seed: int) -> pd.DataFrame:
    from SALib.analyze import morris as morris_analyze

    rows = []
    prob = problem(names)
    for out, vals in y.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            res = morris_analyze.analyze(prob, u, vals, num_resamples=resamples,
                                         conf_level=conf_level, num_levels=levels,
                                         seed=_boot_seed(seed))
        for i, nm in enumerate(names):
            rows.append((out, nm, "mu_star", res["mu_star"][i], res["mu_star_conf"][i]))
            rows.append((out, nm, "sigma", res["sigma"][i], np.nan))
            rows.append((out, nm, "mu", res["mu"][i], np.nan))
    t = pd.DataFrame(rows, columns=["output", "input", "index", "value", "conf"])
    t["low"], t["high"] = t["value"] - t["conf"], t["value"] + t["conf"]
    return t


def _widest(indices: pd.DataFrame, method: str, top: int) -> float:
    idx = "ST" if method == "sobol" else "mu_star"
    t = indices[(indices["output"] == PRIMARY) & (indices["index"] == idx)]
    t = t[t["input"] != LUCK].sort_values("value", ascending=False).head(top)
    return float(t["conf"].max()) if len(t) else 0.0


def convergence_warnings(indices: pd.DataFrame, method: str, precision: float | None,
                         top: int) -> list[str]:
    """Signs that the indices of P(sign) have not converged, one sentence each.

    The top ``top`` inputs' intervals (total index ST; Morris mu*) wider than the
    ``precision`` target (when there is one), and Sobol indices (S1, ST) whose whole
    interval lies outside [0, 1], where no variance share can be.
    """
    out: list[str] = []
    width = _widest(indices, method, top)
    if precision is not None and width > precision:
        what = "total indices" if method == "sobol" else "mu*"
        out.append(f"the top {top} inputs' {what} of P(sign) are +-{width:.3f}, wider than "
                   f"the target +-{precision:g}: raise explore.max_n or explore.replicates")
    if method == "sobol":
        t = indices[(indices["output"] == PRIMARY) & indices["index"].isin(("S1", "ST"))]
        bad = t[(t["high"] < 0) | (t["low"] > 1)]
        for r in bad.itertuples():
            out.append(f"{r.index} of {r.input} on P(sign) is {r.value:.2f} +- {r.conf:.2f}, "
                       "outside [0, 1]: the estimate has not converged")
    return out


def explore(inputs: Sequence[Input], evaluate: Evaluator, settings: ExploreSettings,
            seed: int, progress: Callable[[str], None] | None = None) -> Exploration:
    """Run a Morris or Sobol exploration of ``inputs`` through ``evaluate``.

    Args:
        inputs: The uncertain inputs (:func:`discover_inputs`).
        evaluate: Per-world arrays and block -> per-world outputs
            (:func:`model_evaluator`, or any function, e.g. a known test function).
        settings: Method, N, intervals, precision target.
        seed: The design's and the bootstrap's seed; the same seed gives the same indices.
        progress: Called with a line after each batch (e.g. ``print``).

    Returns:
        An :class:`Exploration`.
    """
    s = settings
    if s.method not in ("morris", "sobol"):
        raise ValueError(f"explore() runs morris or sobol, not {s.method!r}")
    if not inputs:
        raise ConfigError("explore.inputs", "nothing to explore: the scenario draws no "
                          "distribution and no key is named with a range")
    keys = [i.key for i in inputs]
    n, batch, start = s.n, 0, 0
    u_parts, blocks_parts, y_parts = [], [], []
    history: list[tuple[int, float]] = []
    reached = None
    while True:
        if s.method == "sobol":
            d = sobol_design(keys, n, s.second_order, s.luck, seed, start, batch)
        else:
            d = morris_design(keys, n - start, s.levels, seed, batch)
        y = evaluate_design(d, inputs, evaluate, s.replicates)
        blocks = np.zeros(len(d.u), dtype=np.int64)
        for b, rows in d.runs:
            blocks[rows] = b
        u_parts.append(d.u)
        blocks_parts.append(blocks)
        y_parts.append(y)
        u = np.concatenate(u_parts)
        yy = {k: np.concatenate([p[k] for p in y_parts]) for k in y_parts[0]}
        if s.method == "sobol":
            ind, ind2 = _analyse_sobol(d.names, yy, s.second_order, s.resamples,
                                       s.conf_level, seed)
        else:
            ind = _analyse_morris(d.names, u, yy, s.levels, s.resamples, s.conf_level, seed)
            ind2 = pd.DataFrame(columns=["output", "input", "other", "value", "conf"])
        width = _widest(ind, s.method, s.top)
        history.append((n, width))
        if progress is not None:
            progress(f"{s.method}: N={n}, {len(u) * s.replicates:,} worlds, widest "
                     "half-width of the top "
                     f"{s.top} = {width:.4f}")
        if s.precision is None:
            break
        if width <= s.precision:
            reached = True
            break
        if 2 * n > s.max_n:
            reached = False
            break
        start, n, batch = n, 2 * n, batch + 1
    return Exploration(s.method, list(inputs), d.names, u, yy, np.concatenate(blocks_parts),
                       n, ind, ind2, reached, history, s.replicates,
                       convergence_warnings(ind, s.method, s.precision, s.top))


def design_table(ex: Exploration) -> pd.DataFrame:
    """One row per world of the design: unit values, parameter values, block, outputs."""
    cols: dict[str, Any] = {"row": np.arange(len(ex.u)), "block": ex.blocks}
    for i, nm in enumerate(ex.names):
        cols[f"u.{nm}"] = ex.u[:, i]
    arrays = to_arrays(ex.inputs, ex.u[:, :len(ex.inputs)])
    for k, v in arrays.items():
        cols[f"param.{k}"] = v
    for k, v in ex.y.items():
        cols[k] = v
    return pd.DataFrame(cols)


def ranking_markdown(ex: Exploration, outputs: Sequence[str] | None = None) -> str:
    """A Markdown table: inputs ranked by their index on P(sign), one column per output.

    Sobol: total index ST (first-order S1 in brackets), each +- its interval half-width;
    Morris: mu* +- its half-width.
    """
    outputs = list(outputs or ex.y)
    idx = "ST" if ex.method == "sobol" else "mu_star"
    t = ex.indices
    order = list(ex.top(PRIMARY)["input"])
    head = ["Input"] + [OUTPUTS.get(o, (o,))[0] for o in outputs]
    lines = ["| " + " | ".join(head) + " |", "|---" + "|--:" * len(outputs) + "|"]
    for nm in order:
        cells = [f"`{nm}`" if nm != LUCK else "luck (the worlds' own randomness)"]
        for o in outputs:
            r = t[(t["output"] == o) & (t["input"] == nm)].set_index("index")
            cell = f"{r.loc[idx, 'value']:.2f} ± {r.loc[idx, 'conf']:.2f}"
            if ex.method == "sobol":
                cell += f" ({r.loc['S1', 'value']:.2f})"
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    what = ("total Sobol index ST ± 95% half-width (first-order S1 in brackets)"
            if ex.method == "sobol" else "Morris mu* ± 95% half-width (output units per "
            "full quantile range of the input)")
    per = (f" ({ex.replicates} worlds per design point, outputs their mean)"
           if ex.replicates > 1 else "")
    text = "\n".join(lines) + f"\n\nCells: {what}; {ex.worlds:,} worlds{per}, N={ex.n}.\n"
    shares = ex.variance_shares()
    if shares:
        luck = (f", luck's S1 {shares['first_order_luck']:.2f}"
                if "first_order_luck" in shares else "")
        text += (f"\nFirst-order shares of the variance of P(sign)'s per-point outcome: the "
                 f"inputs one at a time {shares['first_order_inputs']:.2f} (the sum of their "
                 f"S1){luck}, interactions {shares['interactions']:.2f} (one less every "
                 "S1). These are shares of the variance, not of the summed indices.\n")
    for w in ex.warnings:
        text += f"\nWarning: {w}.\n"
    return text
