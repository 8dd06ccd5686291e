"""Calibration to the dated record: approximate Bayesian computation on the ensemble.

Assumptions (distributed parameters) are drawn from their priors, one value per world,
the worlds are run from an origin, and the worlds that reproduce the dated record up to
a cut-off date are kept: their parameter values are a sample of the posterior. Two
methods, both on the vectorised ensemble (a batch of proposals is the worlds of one
model run, through ``fixed_draws``):

- **Rejection ABC** (:func:`rejection`; Pritchard et al. 1999): draw ``prior_worlds``
  values from the prior, simulate, accept the worlds within a tolerance; all accepted
  worlds weigh the same.
- **ABC-SMC** (:func:`smc`; Toni et al. 2009, with the importance weights and the
  perturbation kernel of Beaumont et al. 2009): generation 0 is a rejection step; each
  later generation resamples the previous one by weight, perturbs it with a Gaussian
  kernel of twice the weighted covariance, discards proposals outside the prior's
  support, simulates them in batches and accepts those within a tolerance that shrinks
  to the ``alpha`` quantile of the previous generation's distances, until
  ``particles`` are accepted; weights are prior density over the kernel mixture,
  ``w_i ∝ π(θ_i) / Σ_j w_j K(θ_i | θ_j)``.

**Distances.** A summary is *binary* (a dated event happened or not: "no treaty signed
by 25 June 2026") or a *count* ("64 seats"). Binary facts are matched exactly, world by
world: a world that does not reproduce one is never accepted (its distance is
infinite), so with binary facts alone the ABC posterior is the exact posterior given
those facts. Counts are compared on standardised scales: each count's difference from
the record is divided by its spread in the prior predictive (1.4826 × the median
absolute deviation of the prior worlds' values, else their standard deviation, else
1), and the distance is the Euclidean norm over counts. A count that a world does not
define (NaN: the election was not held) is not reproduced (infinite distance). The
tolerance is absolute (``tolerance``) or the closest ``quantile`` of the worlds that
match every binary fact; with no count among the summaries every such world is
accepted.

**Reproducible.** Every random number comes from ``seed``: the prior and proposal draws
from :func:`numpy.random.SeedSequence` streams of it, and batch ``b`` of generation
``g`` is simulated with the seed :func:`batch_seed` ``(seed, g, b)``. Same seed (and
batch size), same posterior.

**The real model.** :func:`fact_simulator` wraps one origin's run
(:func:`sim.analysis.backtest.run_view`) and reads each fact's per-world value through
the backtest's own resolution (:data:`sim.analysis.backtest.QUANTITIES`);
:func:`calibration_inputs` is the one selection of the keys a calibration draws (also
the rolling backtest's, :func:`sim.analysis.backtest.origin_inputs`): it composes the
origin once, turns named ranges into uniform priors and, by default, the point-valued
assumptions into their declared priors; :func:`calibrate_origin` keeps the facts settled
after the origin and on or before the cut-off (a later fact is never read, and the runs
stop at the last fact used) and runs a method.
:func:`write_calibration` saves the posterior sample file (:mod:`sim.model.posterior`,
which a scenario draws from with ``{dist: posterior, file: ..., column: ...}``), the
prior draws, the table of how far each assumption moved and the prior-against-posterior
figure (:mod:`sim.viz.calibration_plots`) under ``results/calibration/<date>/<time>/``.

From the command line: ``sim-calibrate`` (:mod:`sim.cli.calibrate`), e.g.
``sim-calibrate cutoff=2026-06-30 range.incidents.base_rate=0.01,0.3``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis import backtest as bt
from sim.errors import ConfigError
from sim.model.dists import Dist
from sim.model.params import lookup

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Simulator: (per-world parameter arrays, seed) -> per-world summaries (name -> array).
Simulator = Callable[[dict[str, np.ndarray], int], Mapping[str, np.ndarray]]
#: Methods.
METHODS = ("rejection", "smc")
#: Summary kinds (as the backtest's fact kinds).
KINDS = ("binary", "count")
#: Median absolute deviation to standard deviation of a normal.
MAD_SD = 1.4826


class CalibrationError(ValueError):
    """A calibration that cannot be done as asked; ``str()`` is one line saying why."""


@dataclass(frozen=True)
class Target:
    """One observed summary the worlds must reproduce.

    Attributes:
        name: The simulator's name for it (for facts, the fact's id).
        kind: ``binary`` (matched exactly) or ``count`` (a standardised distance).
        observed: What happened: 0 or 1 for binary, the count otherwise.
    """

    name: str
    kind: str
    observed: float


@dataclass
class Generation:
    """One round of a method: its tolerance and what it cost.

    ``complete`` is false for an ABC-SMC round that could not accept its particles
    within the budget of world-runs (the previous round is then the result).
    """

    generation: int
    tolerance: float
    proposed: int
    simulated: int
    accepted: int
    ess: float
    complete: bool = True


@dataclass
class Calibration:
    """A posterior sample and how it was obtained.

    Attributes:
        method: ``rejection`` or ``smc``.
        samples: One row per posterior draw: a column per key and ``weight`` (summing to 1).
        distances: Each draw's distance (aligned with ``samples``).
        prior: The prior draws of the first round (a column per key).
        scales: Each count summary's standardising scale.
        generations: Each round's tolerance, proposals, world-runs and acceptances.
        settings: Everything else worth recording (origin, cut-off, facts ...).
    """

    method: str
    samples: pd.DataFrame
    distances: np.ndarray
    prior: pd.DataFrame
    scales: dict[str, float]
    generations: list[Generation]
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        """The calibrated assumptions (dotted keys)."""
        return [c for c in self.samples.columns if c != "weight"]

    @property
    def world_runs(self) -> int:
        """World-runs simulated in all (the calibration's cost)."""
        return sum(g.simulated for g in self.generations)

    @property
    def ess(self) -> float:
        """Effective sample size of the final weights, (Σw)² / Σw²."""
        return effective_sample_size(self.samples["weight"].to_numpy())

    @property
    def tolerance(self) -> float:
        """The tolerance of the round whose draws are the result (the last complete one)."""
        return [g for g in self.generations if g.complete][-1].tolerance

    def header(self) -> dict[str, Any]:
        """The posterior sample file's JSON header."""
        return {**self.settings, "method": self.method, "tolerance": _json_float(self.tolerance),
                "prior_worlds": int(self.generations[0].simulated),
                "world_runs": int(self.world_runs), "accepted": int(len(self.samples)),
                "effective_sample_size": round(self.ess, 3), "keys": self.keys,
                "scales": {k: _json_float(v) for k, v in self.scales.items()},
                "generations": [dataclasses.asdict(g) | {"tolerance": _json_float(g.tolerance),
                                                         "ess": _json_float(g.ess)}
                                for g in self.generations]}


def _json_float(x: float) -> float | str | None:
    if math.isnan(x):
        return None
    return x if math.isfinite(x) else ("inf" if x > 0 else "-inf")


# -------------------------------------------------------------------- small pieces


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective sample size of weights ``w``."""
    w = np.asarray(w, dtype=float)
    s = w.sum()
    return float(s * s / np.dot(w, w)) if s > 0 else 0.0


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float | Sequence[float]) -> np.ndarray:
    """Quantiles of the weighted sample ``(x, w)`` (inverse of the weighted CDF)."""
    x = np.asarray(x, dtype=float)
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(np.asarray(w, dtype=float)[order])
    idx = np.searchsorted(cum, np.asarray(q, dtype=float) * cum[-1], side="left")
    return x[order][np.minimum(idx, len(x) - 1)]


def batch_seed(seed: int, generation: int, batch: int) -> int:
    """The simulator's seed for batch ``batch`` of generation ``generation``."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(0xCA11B, int(generation), int(batch)))
    return int(ss.generate_state(1, np.uint32)[0])


def _rng(seed: int, generation: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed),
                                                        spawn_key=(0xD4A3, int(generation))))


def log_prior(dist: Dist, x: np.ndarray) -> np.ndarray:
    """Log density of a prior at ``x`` (``-inf`` outside its support or the key's range).

    A normal is taken as truncated to the key's allowed range (its density there, up
    to a constant, which the weights do not need).

    Raises:
        CalibrationError: A prior with no density (a posterior sample file).
    """
    from scipy import stats

    x = np.asarray(x, dtype=float)
    a = dict(dist.args)
    if dist.kind == "uniform":
        out = np.where((x >= a["low"]) & (x <= a["high"]), -math.log(a["high"] - a["low"]),
                       -np.inf)
    elif dist.kind == "loguniform":
        inside = (x >= a["low"]) & (x <= a["high"])
        out = np.where(inside, -np.log(np.where(inside, x, 1.0))
                       - math.log(math.log(a["high"] / a["low"])), -np.inf)
    elif dist.kind == "normal":
        out = stats.norm.logpdf(x, a["mean"], a["sd"])
    elif dist.kind == "beta":
        out = stats.beta.logpdf(x, a["a"], a["b"])
    elif dist.kind == "triangular":
        width = a["high"] - a["low"]
        out = stats.triang.logpdf(x, (a["mode"] - a["low"]) / width, a["low"], width)
    else:
        raise CalibrationError(f"ABC-SMC needs a prior with a density; a {dist.kind} "
                               "distribution has none (use method rejection)")
    return np.where((x >= dist.lo) & (x <= dist.hi), out, -np.inf)


def count_scales(sims: Mapping[str, np.ndarray], targets: Sequence[Target]) -> dict[str, float]:
    """Each count summary's spread in the prior predictive (see the module doc)."""
    out: dict[str, float] = {}
    for t in targets:
        if t.kind != "count":
            continue
        v = np.asarray(sims[t.name], dtype=float)
        v = v[np.isfinite(v)]
        s = MAD_SD * float(np.median(np.abs(v - np.median(v)))) if len(v) else 0.0
        if not s > 0:
            s = float(v.std()) if len(v) > 1 else 0.0
        out[t.name] = s if s > 0 else 1.0
    return out


def distances(sims: Mapping[str, np.ndarray], targets: Sequence[Target],
              scales: Mapping[str, float]) -> np.ndarray:
    """Each world's distance from the record (infinite if it misses a binary fact)."""
    n = len(np.asarray(sims[targets[0].name]))
    d2 = np.zeros(n)
    for t in targets:
        v = np.asarray(sims[t.name], dtype=float)
        if v.shape != (n,):
            raise CalibrationError(f"summary {t.name!r} has {v.shape} values, expected {n}")
        if t.kind == "binary":
            d2[~(v == t.observed)] = np.inf
        else:
            z2 = ((v - t.observed) / scales[t.name]) ** 2
            d2 += np.where(np.isnan(z2), np.inf, z2)
    return np.sqrt(d2)


def _check_targets(targets: Sequence[Target]) -> None:
    if not targets:
        raise CalibrationError("no fact to calibrate to (none dated after the origin and "
                               "on or before the cut-off)")
    for t in targets:
        if t.kind not in KINDS:
            raise CalibrationError(f"summary {t.name!r}: kind must be binary or count, "
                                   f"got {t.kind!r}")


def _unmatched(sims: Mapping[str, np.ndarray], targets: Sequence[Target]) -> list[str]:
    out = []
    for t in targets:
        v = np.asarray(sims[t.name], dtype=float)
        if t.kind == "binary" and not (v == t.observed).any():
            out.append(t.name)
        if t.kind == "count" and not np.isfinite(v).any():
            out.append(t.name)
    return out


def _jointly_unmatched(sims: Mapping[str, np.ndarray], targets: Sequence[Target],
                       min_share: float = 0.0) -> list[str]:
    """Targets, in order, that too few worlds reproduce with the ones kept before.

    Too few: under ``min_share`` of the worlds, and at least one.
    """
    n = len(np.asarray(sims[targets[0].name])) if targets else 0
    need = max(1, math.ceil(min_share * n))
    ok = np.ones(n, dtype=bool)
    out = []
    for t in targets:
        v = np.asarray(sims[t.name], dtype=float)
        m = (v == t.observed) if t.kind == "binary" else np.isfinite(v)
        if (ok & m).sum() >= need:
            ok &= m
        else:
            out.append(t.name)
    return out


def _simulate(simulator: Simulator, theta: np.ndarray, keys: Sequence[str],
              targets: Sequence[Target], seed: int) -> dict[str, np.ndarray]:
    sims = simulator({k: theta[:, j].copy() for j, k in enumerate(keys)}, seed)
    missing = [t.name for t in targets if t.name not in sims]
    if missing:
        raise CalibrationError(f"the simulator returned no summary {missing[0]!r}")
    return {t.name: np.asarray(sims[t.name]) for t in targets}


def _prior_round(simulator: Simulator, priors: Mapping[str, Dist], targets: Sequence[Target],
                 n: int, seed: int, batch_worlds: int, check: bool = True
                 ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Draw ``n`` prior values per key and simulate them in batches (generation 0).

    With ``check`` (the default) a target that no prior world reproduces is an error.
    """
    rng = _rng(seed, 0)
    keys = list(priors)
    theta = np.column_stack([priors[k].sample(rng, n) for k in keys])
    parts: list[dict[str, np.ndarray]] = []
    for b, start in enumerate(range(0, n, batch_worlds)):
        parts.append(_simulate(simulator, theta[start:start + batch_worlds], keys, targets,
                               batch_seed(seed, 0, b)))
    sims = {t.name: np.concatenate([p[t.name] for p in parts]) for t in targets}
    bad = _unmatched(sims, targets)
    if bad and check:
        raise CalibrationError(f"no prior world reproduces {', '.join(bad)}: the model "
                               "cannot match it under these priors; leave it out "
                               f"(exclude={','.join(bad)}) or widen the priors")
    return theta, sims


def _check_common(priors: Mapping[str, Dist], targets: Sequence[Target], n: int,
                  batch_worlds: int) -> None:
    _check_targets(targets)
    if not priors:
        raise CalibrationError("no assumption to calibrate (name at least one key)")
    for k, d in priors.items():
        if not isinstance(d, Dist):
            raise CalibrationError(f"{k}: a prior must be a distribution, got {d!r}")
    if n < 1 or batch_worlds < 1:
        raise CalibrationError("the number of worlds and the batch size must be >= 1")


def _tolerance(d: np.ndarray, tolerance: float | None, quantile: float | None) -> float:
    finite = d[np.isfinite(d)]
    if tolerance is not None:
        return float(tolerance)
    if quantile is None or not len(finite):
        return math.inf
    return float(np.quantile(finite, quantile))


# ------------------------------------------------------------------------ methods


def rejection(simulator: Simulator, priors: Mapping[str, Dist], targets: Sequence[Target],
              prior_worlds: int, seed: int, quantile: float | None = 0.1,
              tolerance: float | None = None, batch_worlds: int = 20_000,
              drop_unmatched: bool = False, min_share: float = 0.0) -> Calibration:
    """Rejection ABC: accept the prior worlds within a tolerance of the record.

    Args:
        simulator: Per-world parameter arrays and a seed -> per-world summaries.
        priors: Dotted key -> prior distribution.
        targets: The observed summaries (binary ones are matched exactly).
        prior_worlds: Prior draws (one world each).
        seed: The calibration's seed (same seed, same posterior).
        quantile: Accept the closest share of the worlds that match every binary fact
            (ignored when ``tolerance`` is given or no count is among the targets).
        tolerance: An absolute tolerance on the distance instead of a quantile.
        batch_worlds: Worlds per simulator call.
        drop_unmatched: Leave out (instead of refusing) the targets that no prior world
            reproduces together with the targets before them (taken in the order given,
            e.g. by date: the record as it accrued); they are listed in
            ``settings["dropped"]`` (the rolling backtest's rule: the model cannot be
            conditioned on an event it gives probability zero; the fact is still scored).
        min_share: With ``drop_unmatched``: also leave out a target that fewer than this
            share of the prior worlds reproduce together with those kept before it (a
            posterior of a handful of worlds is no sample).

    Raises:
        CalibrationError: A target no prior world reproduces (unless
            ``drop_unmatched``), or nothing accepted.
    """
    _check_common(priors, targets, prior_worlds, batch_worlds)
    theta, sims = _prior_round(simulator, priors, targets, prior_worlds, seed, batch_worlds,
                               check=not drop_unmatched)
    dropped = _jointly_unmatched(sims, targets, min_share) if drop_unmatched else []
    targets = [t for t in targets if t.name not in dropped]
    keys = list(priors)
    if not targets:  # nothing left to condition on: the prior is the posterior
        samples = pd.DataFrame(theta, columns=keys)
        samples["weight"] = 1.0 / len(theta)
        gen = Generation(0, math.inf, prior_worlds, prior_worlds, len(theta), float(len(theta)))
        return Calibration("rejection", samples, np.zeros(len(theta)),
                           pd.DataFrame(theta, columns=keys), {}, [gen],
                           {"dropped": dropped})
    scales = count_scales(sims, targets)
    d = distances(sims, targets, scales)
    eps = _tolerance(d, tolerance, quantile)
    keep = np.isfinite(d) & (d <= eps)
    if not keep.any():
        raise CalibrationError(f"no world within tolerance {eps:g} of the record; raise it")
    samples = pd.DataFrame(theta[keep], columns=keys)
    samples["weight"] = 1.0 / keep.sum()
    gen = Generation(0, eps, prior_worlds, prior_worlds, int(keep.sum()), float(keep.sum()))
    return Calibration("rejection", samples, d[keep], pd.DataFrame(theta, columns=keys),
                       scales, [gen], {"dropped": dropped} if drop_unmatched else {})


def _kernel_logmix(new: np.ndarray, old: np.ndarray, logw_old: np.ndarray,
                   chol: np.ndarray) -> np.ndarray:
    """The log kernel mixture, log Σ_j w_j K(new_i | old_j), of each new particle.

    The kernel is Gaussian with Cholesky factor ``chol``; its normalising constant, the
    same for every i, is left out.
    """
    from scipy.linalg import solve_triangular
    from scipy.spatial.distance import cdist
    from scipy.special import logsumexp

    u_new = solve_triangular(chol, new.T, lower=True).T
    u_old = solve_triangular(chol, old.T, lower=True).T
    out = np.empty(len(new))
    for s in range(0, len(new), 2048):
        sq = cdist(u_new[s:s + 2048], u_old, "sqeuclidean")
        out[s:s + 2048] = logsumexp(logw_old[None, :] - 0.5 * sq, axis=1)
    return out


def smc(simulator: Simulator, priors: Mapping[str, Dist], targets: Sequence[Target],
        particles: int, seed: int, generations: int = 4, alpha: float = 0.5,
        prior_worlds: int | None = None, tolerance: float | None = None,
        batch_worlds: int = 20_000, max_world_runs: int = 10_000_000) -> Calibration:
    """ABC-SMC (Toni et al. 2009; Beaumont et al. 2009 weights and kernel).

    Args:
        simulator: Per-world parameter arrays and a seed -> per-world summaries.
        priors: Dotted key -> prior distribution (each with a density).
        targets: The observed summaries (binary ones are matched exactly).
        particles: Accepted draws per generation.
        seed: The calibration's seed (same seed, same posterior).
        generations: Rounds after the first (rejection) one.
        alpha: Each round's tolerance is this quantile of the previous round's distances.
        prior_worlds: Worlds of the first round (default ``4 * particles``); its
            ``particles`` closest worlds that match every binary fact are generation 0.
        tolerance: Stop once the tolerance reaches this value (the last round uses it).
        batch_worlds: Proposals per simulator call.
        max_world_runs: Budget of world-runs; a round that cannot fill its particles
            within it ends the calibration (the last complete round is the result).

    Raises:
        CalibrationError: A target no prior world reproduces, or a prior without density.
    """
    prior_worlds = 4 * particles if prior_worlds is None else prior_worlds
    _check_common(priors, targets, prior_worlds, batch_worlds)
    if particles < 2:
        raise CalibrationError("ABC-SMC needs at least 2 particles")
    if not 0 < alpha < 1:
        raise CalibrationError(f"alpha must be in (0, 1), got {alpha}")
    keys = list(priors)
    for k in keys:
        log_prior(priors[k], np.zeros(1))  # refuses a prior without density up front
    theta0, sims = _prior_round(simulator, priors, targets, prior_worlds, seed, batch_worlds)
    scales = count_scales(sims, targets)
    d0 = distances(sims, targets, scales)
    finite = np.flatnonzero(np.isfinite(d0))
    order = finite[np.argsort(d0[finite], kind="stable")][:particles]
    theta, d = theta0[order], d0[order]
    eps = float(d.max())
    w = np.full(len(theta), 1.0 / len(theta))
    hist = [Generation(0, eps, prior_worlds, prior_worlds, len(theta), float(len(theta)))]
    spent = prior_worlds

    def logp(x: np.ndarray) -> np.ndarray:
        return np.sum([log_prior(priors[k], x[:, j]) for j, k in enumerate(keys)], axis=0)

    for g in range(1, generations + 1):
        if tolerance is not None and hist[-1].tolerance <= tolerance:
            break
        eps_g = float(np.quantile(d, alpha)) if len(d) else eps
        if tolerance is not None:
            eps_g = max(eps_g, tolerance)
        rng = _rng(seed, g)
        cov = 2.0 * np.atleast_2d(np.cov(theta.T, aweights=w, ddof=0))
        span = np.array([max(float(np.ptp(theta0[:, j])), 1e-12) for j in range(len(keys))])
        cov += np.diag((1e-9 * span) ** 2)
        chol = np.linalg.cholesky(cov)
        acc_t: list[np.ndarray] = []
        acc_d: list[np.ndarray] = []
        n_acc = proposed = simulated = 0
        b = 0
        rate = max(hist[-1].accepted / max(hist[-1].simulated, 1), 1e-6)
        while n_acc < particles and spent + simulated < max_world_runs:
            if simulated:
                rate = max(n_acc / simulated, 1e-6)
            # enough proposals for the particles still missing at the acceptance rate
            # seen so far (and a margin), not a whole batch: fewer wasted world-runs
            want = math.ceil(1.2 * (particles - n_acc) / rate) + 64
            size = min(batch_worlds, want, max_world_runs - spent - simulated)
            idx = rng.choice(len(theta), size=size, p=w)
            prop = theta[idx] + rng.standard_normal((size, len(keys))) @ chol.T
            proposed += size
            prop = prop[np.isfinite(logp(prop))]
            if len(prop):
                s = _simulate(simulator, prop, keys, targets, batch_seed(seed, g, b))
                dist_b = distances(s, targets, scales)
                simulated += len(prop)
                ok = np.isfinite(dist_b) & (dist_b <= eps_g)
                acc_t.append(prop[ok])
                acc_d.append(dist_b[ok])
                n_acc += int(ok.sum())
            b += 1
        spent += simulated
        if n_acc < particles:
            hist.append(Generation(g, eps_g, proposed, simulated, n_acc, math.nan, False))
            break
        new = np.concatenate(acc_t)[:particles]
        d = np.concatenate(acc_d)[:particles]
        logw = logp(new) - _kernel_logmix(new, theta, np.log(w), chol)
        w = np.exp(logw - logw.max())
        w /= w.sum()
        theta = new
        hist.append(Generation(g, eps_g, proposed, simulated, particles,
                               effective_sample_size(w)))
    samples = pd.DataFrame(theta, columns=keys)
    samples["weight"] = w
    return Calibration("smc", samples, d, pd.DataFrame(theta0, columns=keys), scales, hist)


# ---------------------------------------------------------------------- summaries


def moved_table(cal: Calibration) -> pd.DataFrame:
    """How far each assumption moved: prior against posterior, one row per key.

    Columns: ``key``, the prior's and the posterior's (weighted) mean, 5 % and 95 %
    quantiles, ``shift_sd`` (posterior mean minus prior mean, in prior standard
    deviations) and ``width_ratio`` (the posterior's 90 % interval width over the
    prior's: below 1, the record narrowed the assumption).
    """
    rows = []
    w = cal.samples["weight"].to_numpy(dtype=float)
    for k in cal.keys:
        p = cal.prior[k].to_numpy(dtype=float)
        x = cal.samples[k].to_numpy(dtype=float)
        p05, p95 = np.quantile(p, [0.05, 0.95])
        q05, q95 = weighted_quantile(x, w, [0.05, 0.95])
        pm, qm = float(p.mean()), float(np.dot(w, x) / w.sum())
        sd = float(p.std())
        rows.append({"key": k, "prior_mean": pm, "prior_q05": float(p05),
                     "prior_q95": float(p95), "posterior_mean": qm,
                     "posterior_q05": float(q05), "posterior_q95": float(q95),
                     "shift_sd": (qm - pm) / sd if sd > 0 else math.nan,
                     "width_ratio": float((q95 - q05) / (p95 - p05)) if p95 > p05 else math.nan})
    return pd.DataFrame(rows)


def markdown(cal: Calibration, moved: pd.DataFrame, posterior_file: str) -> str:
    """The calibration in words: settings, rounds, the table, how to use the sample."""
    s = cal.settings
    lines = [f"# Calibration ({cal.method})", "",
             f"Origin `{s.get('origin', '?')}` (start {s.get('start_date', '?')}), cut-off "
             f"{s.get('cutoff', '?')}, seed {s.get('seed', '?')}; facts used: "
             f"{', '.join(s.get('facts', [])) or 'none'}; facts after the cut-off, never "
             f"read: {', '.join(s.get('facts_after_cutoff', [])) or 'none'}.", "",
             f"{cal.world_runs:,} world-runs; {len(cal.samples):,} posterior draws, effective "
             f"sample size {cal.ess:,.0f}. Binary facts are matched exactly; the final "
             f"tolerance on the standardised distance of the counts is {cal.tolerance:g} "
             "(0 when only binary facts are used).", "",
             "| round | tolerance | proposed | simulated | accepted | ESS |",
             "|---|---|---|---|---|---|"]
    for g in cal.generations:
        note = "" if g.complete else " (budget spent: not used)"
        lines.append(f"| {g.generation}{note} | {g.tolerance:.4g} | {g.proposed:,} | "
                     f"{g.simulated:,} | {g.accepted:,} | {g.ess:,.0f} |")
    lines += ["", "How far each assumption moved (90 % intervals):", "",
              "| key | prior mean | prior 5–95 % | posterior mean | posterior 5–95 % | "
              "shift (prior sd) | width ratio |", "|---|---|---|---|---|---|---|"]
    for r in moved.itertuples():
        lines.append(f"| {r.key} | {r.prior_mean:.4g} | {r.prior_q05:.4g}–{r.prior_q95:.4g} | "
                     f"{r.posterior_mean:.4g} | {r.posterior_q05:.4g}–{r.posterior_q95:.4g} | "
                     f"{r.shift_sd:+.2f} | {r.width_ratio:.2f} |")
    lines += ["", "To draw from this posterior in a scenario (each world takes one row for "
              "every key, so the sample's correlations are kept):", "", "```yaml",
              scenario_snippet(cal.keys, posterior_file).rstrip(), "```", ""]
    return "\n".join(lines)


def scenario_snippet(keys: Sequence[str], posterior_file: str) -> str:
    """Scenario YAML that draws each key from a posterior sample file."""
    import json

    quoted = json.dumps(posterior_file)  # a YAML double-quoted string: any path
    tree: dict[str, Any] = {}
    for k in keys:
        node = tree
        *parents, leaf = k.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = k
    out: list[str] = []

    def emit(node: dict[str, Any], depth: int) -> None:
        for name, v in node.items():
            if isinstance(v, dict):
                out.append("  " * depth + f"{name}:")
                emit(v, depth + 1)
            else:
                out.append("  " * depth + f"{name}: {{dist: posterior, file: {quoted}, "
                           f"column: {v}}}")

    emit(tree, 0)
    return "\n".join(out) + "\n"


def write_calibration(folder: Path, cal: Calibration, figure: Figure | None = None
                      ) -> list[Path]:
    """Write the posterior sample, the prior draws, the table, the figure and a summary.

    Files: ``posterior.csv`` (:func:`sim.model.posterior.write_posterior`: JSON header,
    one row per draw), ``prior.csv``, ``moved.csv``, ``prior_posterior.png`` (``figure``,
    when given: :func:`sim.viz.calibration_plots.prior_posterior`, made by the caller so
    that this layer never imports the figures'), ``calibration.md``, then
    ``manifest.json`` (:mod:`sim.experiment.runfolder`).
    """
    from sim.experiment.runfolder import atomic_write, write_manifest
    from sim.model.posterior import write_posterior

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    moved = moved_table(cal)
    names = ["posterior.csv", "prior.csv", "moved.csv", "calibration.md"]
    atomic_write(folder / "posterior.csv",
                 lambda p: write_posterior(p, cal.samples, cal.header()))
    atomic_write(folder / "prior.csv", lambda p: cal.prior.to_csv(p, index=False))
    atomic_write(folder / "moved.csv", lambda p: moved.to_csv(p, index=False))
    if figure is not None:
        names.append("prior_posterior.png")
        atomic_write(folder / "prior_posterior.png",
                     lambda p: figure.savefig(p, dpi=110, format="png"))
    text = markdown(cal, moved, str((folder / "posterior.csv").resolve()))
    atomic_write(folder / "calibration.md", lambda p: p.write_text(text, encoding="utf-8"))
    write_manifest(folder, names)
    return [folder / n for n in names]


def caption(cal: Calibration) -> str:
    """One line for a figure: origin, cut-off, method, cost, draws."""
    s = cal.settings
    where = (f"{s['origin']}, facts to {s['cutoff']}; " if "origin" in s else "")
    return (f"{where}{cal.method}, {cal.world_runs:,} world-runs, {len(cal.samples):,} "
            f"draws (ESS {cal.ess:,.0f})")


# ------------------------------------------------------------- the real model


def facts_until(facts: Sequence[bt.Fact], start: dt.date, cutoff: dt.date,
                exclude: Sequence[str] = ()) -> tuple[list[bt.Fact], list[bt.Fact]]:
    """The facts an origin may be calibrated to, and those it must not see.

    Returns:
        ``(used, later)``: facts that apply to the origin (settled after its start,
        windows not begun before it: :meth:`~sim.analysis.backtest.Fact.applies`),
        dated on or before ``cutoff`` and not excluded; and the applicable facts dated
        after the cut-off (never read).

    Raises:
        CalibrationError: An excluded id that names no fact.
    """
    ids = {f.id for f in facts}
    unknown = [e for e in exclude if e not in ids]
    if unknown:
        raise CalibrationError(f"exclude: no fact {unknown[0]!r}; facts: {', '.join(sorted(ids))}")
    applicable = [f for f in facts if f.applies(start) and f.id not in exclude]
    return ([f for f in applicable if f.date <= cutoff],
            [f for f in applicable if f.date > cutoff])


def fact_simulator(params, facts: Sequence[bt.Fact], horizon_weeks: int) -> Simulator:
    """The real model as a :data:`Simulator`: one origin run per call, facts per world.

    Each call runs ``len(arrays)`` worlds of ``params`` with the given values of the
    calibrated keys (every other distribution is drawn by the model as usual) and
    returns each fact's per-world value, resolved by the backtest's own
    :data:`~sim.analysis.backtest.QUANTITIES`, under the fact's id.
    """
    def simulate(fixed: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
        n = len(next(iter(fixed.values())))
        run = bt.run_view(params, worlds=n, seed=seed, horizon_weeks=horizon_weeks,
                          fixed_draws=fixed)
        return {f.id: np.asarray(bt.QUANTITIES[f.quantity].resolve(run, f)) for f in facts}

    return simulate


@dataclass(frozen=True)
class Inputs:
    """What a calibration of one configuration draws: its parameters and their priors.

    Attributes:
        params: The configuration's parameters, every calibrated key a distribution
            (its prior), so that ``fixed_draws`` accepts each of them.
        priors: Calibrated key -> prior, in the model's drawing order.
        from_prior: The point-valued assumptions of the defaults drawn from their
            declared prior (:func:`sim.experiment.priors.prior_overrides`).
    """

    params: Any
    priors: dict[str, Dist]
    from_prior: tuple[str, ...] = ()

    @property
    def keys(self) -> list[str]:
        """The calibrated keys (dotted), in the model's drawing order."""
        return list(self.priors)


def calibration_inputs(scenario: str, overrides: Mapping[str, Any] | None = None,
                       keys: Sequence[str] = (), ranges: Mapping[str, tuple[float, float]]
                       | None = None, priors: bool = True) -> Inputs:
    """The one selection of the keys a calibration draws (``sim-calibrate``, the rolling backtest).

    The scenario is composed once (with ``overrides`` and the ``ranges`` as uniform
    priors). With no ``keys`` and no ``ranges``: every distribution the configuration
    draws and, with ``priors``, every assumption of ``configs/priors.yaml`` that the
    defaults fix at a point, drawn from its declared prior
    (:func:`sim.experiment.priors.prior_overrides`: a value the scenario or an override
    sets, such as an origin's state, stays as set). Otherwise the named keys and the
    ranged ones, each of which must then be a distribution.

    Raises:
        ConfigError: A bad scenario, override, key or range (one line naming it).
    """
    from sim.analysis.explore import discover_inputs
    from sim.experiment.assumptions import apply_values, assumption_values
    from sim.experiment.config import compose_model, params_from_config

    ranges = dict(ranges or {})
    over: dict[str, Any] = dict(overrides or {})
    over.update({k: {"dist": "uniform", "low": lo, "high": hi}
                 for k, (lo, hi) in ranges.items()})
    comp = compose_model(scenario, overrides=over)
    cfg, prov = comp.model(), comp.prov
    params = params_from_config(cfg, prov)
    drawn_from: dict[str, dict] = {}
    if priors and not keys and not ranges:
        drawn_from = assumption_values("prior", params, prov)
        if drawn_from:
            # the declared priors replace the defaults' point values, as assumptions=prior
            # sets them (one rule), validated again without a second composition
            cfg, prov = apply_values(cfg, prov, drawn_from)
            params = params_from_config(cfg, prov)
    drawn = [i.key for i in discover_inputs(params)]
    chosen = list(dict.fromkeys([*keys, *ranges])) or drawn
    for k in chosen:
        if k not in drawn:
            raise ConfigError(k, "not a distributed parameter of the origin; give it a "
                              "range to calibrate it", f"configs/scenario/{scenario}.yaml")
    return Inputs(params, {k: lookup(params, k) for k in chosen}, tuple(drawn_from))


def calibrate_origin(origin: str, cutoff: dt.date, facts: Sequence[bt.Fact],
                     keys: Sequence[str] = (), ranges: Mapping[str, tuple[float, float]]
                     | None = None, method: str = "rejection", worlds: int = 20_000,
                     seed: int = 0, exclude: Sequence[str] = (), priors: bool = True,
                     **options: Any) -> Calibration:
    """Calibrate assumptions of an origin scenario to the facts up to ``cutoff``.

    Args:
        origin: A backtest origin scenario (e.g. ``origin_2025_08_08``).
        cutoff: Facts dated after this day are never read (no leakage); the runs stop
            at the last fact used.
        facts: The dated record (:func:`sim.analysis.backtest.load_facts`).
        keys: Distributed parameters of the origin to calibrate (their distributions in
            the scenario are the priors); with no keys and no ranges, every distribution
            the origin draws and (``priors``) every assumption of ``configs/priors.yaml``
            the defaults fix at a point, drawn from its declared prior
            (:func:`sim.experiment.priors.prior_overrides`; a value the origin scenario sets,
            such as its state, stays as set).
        ranges: Keys given a uniform prior on ``(low, high)`` (checked against the key's
            allowed range like any override); calibrated too.
        method: ``rejection`` or ``smc``.
        worlds: Prior worlds (rejection) or particles per generation (SMC).
        seed: The calibration's seed.
        exclude: Fact ids left out (e.g. one the model cannot reproduce).
        priors: With no keys and no ranges, add the point-valued assumptions (above);
            false: the origin's distributions only.
        **options: Passed on to :func:`rejection` or :func:`smc` (``quantile``,
            ``tolerance``, ``batch_worlds``, ``generations``, ``alpha`` ...).

    Raises:
        ConfigError: A bad scenario, key or range (one line naming it).
        CalibrationError: No fact to use, a fact no prior world reproduces, a key that
            is not a distribution.
    """
    if method not in METHODS:
        raise CalibrationError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    inputs = calibration_inputs(origin, keys=keys, ranges=ranges, priors=priors)
    params, prior_of = inputs.params, inputs.priors
    bt.check_origin(params, origin)
    start = params.state.start_date
    used, later = facts_until(facts, start, cutoff, exclude)
    targets = [Target(f.id, f.kind, f.observed) for f in used]
    _check_targets(targets)
    simulator = fact_simulator(params, used, bt.origin_horizon(start, used))
    if method == "rejection":
        cal = rejection(simulator, prior_of, targets, worlds, seed, **options)
    else:
        cal = smc(simulator, prior_of, targets, worlds, seed, **options)
    # the method's own settings (rejection's "dropped" facts under drop_unmatched) are kept
    cal.settings = {**cal.settings, "origin": origin, "start_date": start.isoformat(),
                    "cutoff": cutoff.isoformat(), "seed": seed, "facts": [f.id for f in used],
                    "facts_after_cutoff": [f.id for f in later], "excluded": list(exclude),
                    "from_prior": sorted(inputs.from_prior),
                    "priors": {k: {"kind": d.kind, **dict(d.args)} for k, d in prior_of.items()}}
    return cal
