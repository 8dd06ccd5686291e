"""The headline's spread across its assumptions, beside its Monte Carlo interval.

P(sign)'s 95 % Wilson interval is the sampling error of the worlds only: a run draws
each assumption (every distributed key of the scenario: its priors, or a calibration's
posterior sample, :mod:`sim.model.posterior`) once per world and averages over them, so
the interval says nothing about how much P(sign) depends on which values the
assumptions take. The spread answers that:

1. **K draws of the assumptions** (:func:`assumption_draws`): every distributed key
   drawn K times by the model's own walk (:func:`sim.model.state.draw_parameters`) — under
   ``assumptions=prior`` every declared assumption, under ``assumptions=posterior`` also
   every calibrated one from the posterior file (:mod:`sim.experiment.assumptions`) — so
   the draws follow the same laws as a run's worlds, and keys drawn from one posterior
   file take the same row in each draw (the sample's joint structure is kept). The
   draws come from streams of their own (``spread:param:<key>``), never those of a run.
2. **M worlds per draw, the same worlds for every draw** (common random numbers): draw
   k runs worlds ``0 .. M-1`` of the run's seed (in blocks of ``block_worlds``, block b
   as the run's block b) with every assumption fixed at draw k's values. The draws
   differ only in the assumptions, never in the worlds' luck: a scenario whose
   assumptions do not move P(sign) gives K equal values, not K noisy ones.
3. **Statistics** (:func:`spread_statistics`): P(sign) of each draw, its 10/50/90 %
   quantiles over the draws, and the law of total variance of the per-world outcome
   ``signed``::

       Var(signed) = Var_theta(P(sign | theta)) + E_theta[P(sign | theta)(1 - P(sign | theta))]
                     (assumptions: between draws)  (the worlds' luck: within a draw)

   The between-draw term is the observed variance of the K values of P(sign) less its
   Monte Carlo part, estimated without bias from the K x M table with the worlds'
   common luck allowed for (the world-by-world covariance across draws; see
   :func:`spread_statistics`). ``share_between`` is that term over Var(signed):
   the share of the per-world outcome's variance the assumptions explain jointly (the
   closed Sobol index of all assumptions together, not a sum of first-order indices).
   ``noise_share`` is the share of the observed variance of the K values of P(sign) that
   is Monte Carlo error of M worlds: near 0 means M is enough for the quantiles to be
   read as the assumptions' spread. Intervals are percentile bootstraps that resample
   the draws (rows of the table, with their worlds), not the worlds within a draw:
   resampling both levels would add the worlds' Monte Carlo variance a second time and
   bias the between-draw term upwards (Davison & Hinkley 1997, sec. 3.8, resample the
   groups only). The worlds' own sampling error enters through the noise correction,
   and through ``noise_share``. The bootstrap draws from a stream of the run's seed:
   the same seed gives the same numbers.

The quantiles are those of the K estimated values (each with its Monte Carlo error of M
worlds; ``noise_share`` says how much that widens them), not a deconvolution.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.experiment.api import simulate
from sim.experiment.display import percent
from sim.experiment.executors import AHEAD_PER_WORKER, Executor, InProcess
from sim.experiment.settings import SpreadSettings
from sim.model.dists import Dist
from sim.model.params import ModelParams, lookup
from sim.model.posterior import PosteriorDist
from sim.model.rng import stream
from sim.model.rules import wilson_interval
from sim.model.state import Streams, draw_parameters

#: Prefix of the streams the assumption draws come from (never a run's own streams).
STREAM_PREFIX = "spread:"
#: Quantiles of P(sign) over the draws that are reported.
QUANTILES = (0.1, 0.5, 0.9)
#: Confidence level of the bootstrap intervals.
CONF = 0.95
#: What the spread is, for the console, the report and summary.json.
SPREAD_NOTE = ("across assumptions: P(sign) of each of K draws of the scenario's "
               "distributed assumptions (posterior or priors), each over the same M worlds; "
               "10-90 % of the K values")

#: Evaluator: (one draw's values, worlds, block) -> each world's ``signed``.
Evaluator = Callable[[Mapping[str, float], int, int], np.ndarray]


class _SpreadStreams(Streams):
    """The streams of :func:`assumption_draws`: a run's names under :data:`STREAM_PREFIX`."""

    def __missing__(self, name: str) -> np.random.Generator:
        g = stream(self.seed, STREAM_PREFIX + name, self.block)
        self[name] = g
        return g


def assumption_draws(params: ModelParams, draws: int, seed: int) -> dict[str, np.ndarray]:
    """``draws`` joint draws of every distributed key of ``params``.

    The model's own walk (:func:`sim.model.state.draw_parameters`) over ``draws``
    "worlds", on streams of their own (:data:`STREAM_PREFIX`): keys drawn from one
    posterior file share its row in each draw, as in a run. Empty when the scenario
    draws nothing.

    Returns:
        Dotted key -> ``draws`` values, in the model's drawing order.
    """
    out: dict[str, np.ndarray] = {}
    draw_parameters(params, draws, _SpreadStreams(seed, 0), out)
    return {k: np.asarray(v, dtype=float) for k, v in out.items()}


def sources(params: ModelParams, keys: Iterable[str]) -> dict[str, int]:
    """How many of ``keys`` are drawn from a posterior sample, how many from a prior."""
    n = {"posterior": 0, "prior": 0}
    for k in keys:
        d = lookup(params, k)
        if isinstance(d, PosteriorDist):
            n["posterior"] += 1
        elif isinstance(d, Dist):
            n["prior"] += 1
    return n


def run_draw(params: ModelParams, values: Mapping[str, float], size: int, seed: int,
             horizon_weeks: int, block: int) -> np.ndarray:
    """Block ``block`` of one draw: ``size`` worlds with every assumption at ``values``.

    The worlds are those of block ``block`` of a run with ``seed`` (same luck); a plain
    module-level function so that any executor can ship it to a worker.
    """
    fixed = {k: np.full(size, float(v)) for k, v in values.items()}
    res = simulate(params, worlds=size, seed=seed, horizon_weeks=horizon_weeks, block=block,
                   fixed_draws=fixed or None)
    return res.outcomes["signed"].to_numpy(dtype=bool)


def _plan(worlds: int, block_worlds: int) -> list[int]:
    full, rest = divmod(worlds, block_worlds)
    return [block_worlds] * full + ([rest] if rest else [])


def signed_table(params: ModelParams, draws: Mapping[str, np.ndarray], worlds: int,
                 seed: int, horizon_weeks: int, block_worlds: int,
                 executor: Executor | None = None, evaluate: Evaluator | None = None,
                 progress: bool = False) -> np.ndarray:
    """The ``(K, M)`` table of each world's ``signed`` under each draw.

    Args:
        params: The scenario's parameters.
        draws: :func:`assumption_draws` (key -> K values); K is their length.
        worlds: M.
        seed: The run's seed (the worlds' luck).
        horizon_weeks: Weeks simulated.
        block_worlds: Worlds per block (block b of every draw is the run's block b).
        executor: Where the blocks are computed (default this process); never changes
            the numbers.
        evaluate: Instead of the model, ``evaluate(values, size, block)`` (in this
            process; for known-answer tests with a planted outcome).
        progress: Show a progress bar if it lasts more than two seconds.
    """
    keys = list(draws)
    K = len(next(iter(draws.values()))) if draws else 0
    if not keys:  # nothing drawn: every draw is the same scenario
        K = K or 1
    plan = _plan(worlds, block_worlds)

    def values(k: int) -> dict[str, float]:
        return {key: float(draws[key][k]) for key in keys}

    out = np.zeros((K, worlds), dtype=bool)
    cells = [(k, b, size) for k in range(K) for b, size in enumerate(plan)]
    results: Iterator[np.ndarray]
    if evaluate is not None:
        results = (np.asarray(evaluate(values(k), size, b), dtype=bool)
                   for k, b, size in cells)
    else:
        executor = executor or InProcess()
        tasks = ((params, values(k), size, seed, horizon_weeks, b) for k, b, size in cells)
        results = executor.map(run_draw, tasks, ahead=AHEAD_PER_WORKER * executor.workers)
    try:
        with tqdm(total=K * worlds, unit="world", unit_scale=True, delay=2.0, leave=False,
                  disable=not progress, file=sys.stderr, desc="spread") as bar:
            for (k, b, size), y in zip(cells, results, strict=True):
                out[k, b * block_worlds:b * block_worlds + size] = y
                bar.update(size)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()
    return out


def _between(p: np.ndarray, s_var: float, worlds: int) -> tuple[float, float, float]:
    """(observed variance of the K values, its Monte Carlo part, the between-draw term).

    ``p``: the K values of P(sign); ``s_var``: the sample variance over world positions
    of each world's count of signed draws. With Sigma the K x K covariance of one
    world's outcomes across the draws (estimated over the M worlds, which are
    independent), the K values' Monte Carlo errors have covariance Sigma / M, and the
    expected sample variance of the K values exceeds that of the true values by
    (tr Sigma - 1'Sigma 1 / K) / (M (K - 1)). For 0/1 outcomes tr Sigma is
    sum_k p_k (1 - p_k) M / (M - 1), and 1'Sigma 1 is ``s_var``.
    """
    K = len(p)
    observed = float(np.var(p, ddof=1))
    trace = float(np.sum(p * (1.0 - p))) * worlds / (worlds - 1)
    noise = (trace - s_var / K) / (worlds * (K - 1))
    return observed, noise, observed - noise


def _stats(p: np.ndarray, s_var: float, worlds: int) -> dict[str, float]:
    observed, noise, between = _between(p, s_var, worlds)
    mean = float(p.mean())
    total = mean * (1.0 - mean)
    q = np.quantile(p, QUANTILES)
    return {"q10": float(q[0]), "q50": float(q[1]), "q90": float(q[2]), "mean": mean,
            "observed": observed, "noise": noise, "between": between, "total": total,
            "share_between": between / total if total > 0 else 0.0,
            "noise_share": noise / observed if observed > 0 else 0.0}


def spread_statistics(signed: np.ndarray, resamples: int, seed: int) -> dict[str, Any]:
    """The spread's numbers from the ``(K, M)`` table of each world's ``signed``.

    Args:
        signed: Row k: the M worlds' outcomes under draw k (the same worlds in every
            row).
        resamples: Bootstrap resamples (of the draws, see the module doc).
        seed: The bootstrap's seed (its stream is ``spread:bootstrap``).

    Returns:
        The ``spread`` block of ``summary.json`` (without the run's settings):
        ``p_sign_by_draw``, ``p_sign_q10/q50/q90`` with ``_ci`` intervals,
        ``draws_signing`` (draws in which at least one world signs; with the 95 % Wilson
        interval of their share, ``draws_signing_share_ci``),
        ``p_sign_mean``, the variances (``variance_total``, ``variance_between``,
        ``variance_within``), ``share_between`` with its interval, ``share_within``,
        ``noise_share`` and ``resamples``.
    """
    Y = np.asarray(signed, dtype=bool)
    K, M = Y.shape
    if K < 2 or M < 2:
        raise ValueError(f"a spread needs at least 2 draws of at least 2 worlds, got {K} x {M}")
    Yf = Y.astype(np.float64)
    p = Yf.mean(axis=1)
    s = Yf.sum(axis=0)
    est = _stats(p, float(np.var(s, ddof=1)), M)
    rng = stream(seed, STREAM_PREFIX + "bootstrap")
    keep = ("q10", "q50", "q90", "share_between", "noise_share")
    boot = {k: np.empty(resamples) for k in keep}
    for r in range(resamples):
        rows = rng.integers(0, K, K)
        counts = np.bincount(rows, minlength=K).astype(np.float64)
        st = _stats(p[rows], float(np.var(counts @ Yf, ddof=1)), M)
        for k in keep:
            boot[k][r] = st[k]
    a = (1 - CONF) / 2

    def ci(k: str) -> list[float]:
        lo, hi = np.quantile(boot[k], [a, 1 - a])
        return [float(lo), float(hi)]

    signing = int((p > 0).sum())
    lo_s, hi_s = wilson_interval(signing, K)
    return {
        "p_sign_mean": est["mean"],
        "draws_signing": signing, "draws_signing_share_ci": [float(lo_s), float(hi_s)],
        "p_sign_q10": est["q10"], "p_sign_q10_ci": ci("q10"),
        "p_sign_q50": est["q50"], "p_sign_q50_ci": ci("q50"),
        "p_sign_q90": est["q90"], "p_sign_q90_ci": ci("q90"),
        "variance_total": est["total"], "variance_between": est["between"],
        "variance_within": est["total"] - est["between"],
        "share_between": est["share_between"], "share_between_ci": ci("share_between"),
        "share_within": 1.0 - est["share_between"],
        "noise_share": est["noise_share"], "noise_share_ci": ci("noise_share"),
        "resamples": resamples,
        "p_sign_by_draw": [float(x) for x in p],
    }


@dataclass
class Spread:
    """A spread: its ``summary.json`` block and the tables behind it.

    Attributes:
        block: The ``spread`` block of ``summary.json`` (:func:`spread_statistics`, the
            settings, the assumptions' count by source, the elapsed time).
        draws: The assumptions' values, one row per draw (``param.<key>`` columns) and
            each draw's ``p_sign``.
        signed: The ``(K, M)`` table of each world's ``signed``.
    """

    block: dict[str, Any]
    draws: pd.DataFrame
    signed: np.ndarray


def spread(params: ModelParams, settings: SpreadSettings, seed: int, horizon_weeks: int,
           block_worlds: int, executor: Executor | None = None,
           evaluate: Evaluator | None = None, progress: bool = False) -> Spread:
    """P(sign)'s spread across ``settings.draws`` draws of the assumptions (module doc).

    Args:
        params: The scenario's parameters.
        settings: K (``draws``, >= 2), M (``worlds``) and the bootstrap's ``resamples``.
        seed: The run's seed: the worlds' luck, the draws' and the bootstrap's streams.
        horizon_weeks: Weeks simulated.
        block_worlds: Worlds per block.
        executor: Where the draws' blocks run (:mod:`sim.experiment.executors`).
        evaluate: A planted outcome instead of the model (see :func:`signed_table`).
        progress: Show a progress bar (runs longer than two seconds).
    """
    if settings.draws < 2:
        raise ValueError(f"a spread needs at least 2 draws, got {settings.draws}")
    tic = time.perf_counter()
    draws = assumption_draws(params, settings.draws, seed)
    if draws:
        table = signed_table(params, draws, settings.worlds, seed, horizon_weeks,
                             block_worlds, executor, evaluate, progress)
    else:  # nothing is drawn: every draw is the same scenario on the same worlds
        one = signed_table(params, {}, settings.worlds, seed, horizon_weeks, block_worlds,
                           executor, evaluate, progress)
        table = np.repeat(one, settings.draws, axis=0)
    stats = spread_statistics(table, settings.resamples, seed)
    by_source = sources(params, draws)
    block = {"draws": settings.draws, "worlds": settings.worlds,
             "inputs": len(draws), "inputs_posterior": by_source["posterior"],
             "inputs_prior": by_source["prior"], **stats,
             "elapsed_seconds": round(time.perf_counter() - tic, 3), "note": SPREAD_NOTE}
    frame = pd.DataFrame({f"param.{k}": v for k, v in draws.items()})
    frame.insert(0, "draw", np.arange(settings.draws))
    frame["p_sign"] = stats["p_sign_by_draw"]
    return Spread(block, frame, table)


def spread_text(block: Mapping[str, Any]) -> str:
    """``across assumptions 10-90 %: [a, b]`` of a ``spread`` block (:func:`percent`).

    Followed by the number of draws in which any world signs, when the block has it.
    """
    text = (f"across assumptions 10-90 %: [{percent(block['p_sign_q10'])}, "
            f"{percent(block['p_sign_q90'])}]")
    if "draws_signing" in block:
        text += f" (some world signs in {block['draws_signing']:,} of {block['draws']:,} draws)"
    return text
