"""Scenario discovery with PRIM (Friedman and Fisher 1999, as in EMA Workbench's ``prim``).

Given the drawn parameters of many worlds (``X``, one column per parameter) and a
per-world outcome of interest (``y``, e.g. signed), PRIM looks for a box (a range on a
few parameters) in which the outcome is concentrated:

* **peeling**: start from the box holding every world; at each step, for each parameter,
  consider cutting off the ``peel_alpha`` share of the box's worlds with the lowest or
  the highest values, and make the cut that leaves the highest density; stop when the
  box would hold less than ``mass_min`` of all worlds. Every step is one point of the
  *peeling trajectory*: coverage (share of all outcome worlds inside the box) against
  density (share of the box's worlds with the outcome), the trade-off the analyst chooses
  on;
* **pasting**: from the chosen box, widen any limit by ``paste_alpha`` of the box's
  worlds as long as this does not lower the density.

The chosen box is the one with the most coverage among those whose density reaches
``threshold``, or the densest if none does. Each restriction gets a quasi-p-value
(EMA's ``qp``): the one-sided binomial probability of the box's outcome count if that
restriction were dropped, a check that it is not noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Box:
    """A box over the parameters and what it holds.

    Attributes:
        limits: ``{parameter: (low, high)}`` for every parameter (the data's range when
            unrestricted).
        restricted: Parameters whose limits cut into the data's range.
        coverage: Share of all outcome worlds inside the box.
        density: Share of the box's worlds with the outcome.
        mass: Share of all worlds inside the box.
        n: Worlds in the box.
        k: Outcome worlds in the box.
        qp: Quasi-p-value of each restriction.
        data_range: ``{parameter: (min, max)}`` over all worlds.
    """

    limits: dict[str, tuple[float, float]]
    restricted: list[str]
    coverage: float
    density: float
    mass: float
    n: int
    k: int
    qp: dict[str, float] = field(default_factory=dict)
    data_range: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass
class PrimResult:
    """Peeling trajectory, the chosen box and the base rate.

    Attributes:
        trajectory: One row per peeling step: ``step``, ``coverage``, ``density``,
            ``mass``, ``n_restricted``, and ``low.<p>``/``high.<p>`` limits.
        chosen: Step of the trajectory the box was chosen at (before pasting).
        box: The chosen box after pasting.
        base_density: Share of all worlds with the outcome.
        threshold_reached: Whether the box's density reaches the threshold.
    """

    trajectory: pd.DataFrame
    chosen: int
    box: Box
    base_density: float
    threshold_reached: bool


def _inside(X: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    return ((X >= lo) & (X <= hi)).all(axis=1)


def _box(X: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray, names: Sequence[str],
         full_lo: np.ndarray, full_hi: np.ndarray) -> Box:
    m = _inside(X, lo, hi)
    n, k = int(m.sum()), int(y[m].sum())
    total = max(int(y.sum()), 1)
    restricted = [nm for j, nm in enumerate(names) if lo[j] > full_lo[j] or hi[j] < full_hi[j]]
    return Box({nm: (float(lo[j]), float(hi[j])) for j, nm in enumerate(names)}, restricted,
               k / total, k / n if n else 0.0, n / len(y), n, k, {},
               {nm: (float(full_lo[j]), float(full_hi[j])) for j, nm in enumerate(names)})


def peel(X: np.ndarray, y: np.ndarray, alpha: float, mass_min: float
         ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The peeling trajectory: box limits ``(low, high)`` after each step, step 0 first."""
    lo, hi = X.min(axis=0).astype(float), X.max(axis=0).astype(float)
    out = [(lo.copy(), hi.copy())]
    N = len(y)
    inside = np.ones(N, dtype=bool)
    while True:
        Xb, yb = X[inside], y[inside]
        best = None
        for j in range(X.shape[1]):
            x = Xb[:, j]
            for side in (0, 1):
                if side == 0:
                    cut = np.quantile(x, alpha, method="lower")
                    keep = x > cut if np.mean(x <= cut) <= 2 * alpha else x >= cut
                else:
                    cut = np.quantile(x, 1 - alpha, method="higher")
                    keep = x < cut if np.mean(x >= cut) <= 2 * alpha else x <= cut
                nk = int(keep.sum())
                if nk == len(x) or nk < mass_min * N or nk == 0:
                    continue
                dens = yb[keep].mean()
                if best is None or dens > best[0] + 1e-12 or (
                        abs(dens - best[0]) <= 1e-12 and nk > best[1]):
                    best = (dens, nk, j, side, keep)
        if best is None:
            return out
        _, _, j, side, keep = best
        idx = np.flatnonzero(inside)
        inside[idx[~keep]] = False
        lo, hi = lo.copy(), hi.copy()
        if side == 0:
            lo[j] = X[inside, j].min()
        else:
            hi[j] = X[inside, j].max()
        out.append((lo, hi))


def paste(X: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray, alpha: float
          ) -> tuple[np.ndarray, np.ndarray]:
    """Widen the box's limits while the density does not fall."""
    lo, hi = lo.copy(), hi.copy()
    full_lo, full_hi = X.min(axis=0), X.max(axis=0)
    while True:
        m = _inside(X, lo, hi)
        n, dens = int(m.sum()), y[m].mean() if m.any() else 0.0
        step = max(1, int(math.ceil(alpha * n)))
        best = None
        for j in range(X.shape[1]):
            others = np.ones(len(y), dtype=bool)
            for i in range(X.shape[1]):
                if i != j:
                    others &= (X[:, i] >= lo[i]) & (X[:, i] <= hi[i])
            for side in (0, 1):
                if (side == 0 and lo[j] <= full_lo[j]) or (side == 1 and hi[j] >= full_hi[j]):
                    continue
                cand = others & ((X[:, j] < lo[j]) if side == 0 else (X[:, j] > hi[j]))
                xs = np.sort(X[cand, j])
                if not len(xs):
                    continue
                new = xs[-min(step, len(xs))] if side == 0 else xs[min(step, len(xs)) - 1]
                nlo, nhi = lo.copy(), hi.copy()
                if side == 0:
                    nlo[j] = new
                else:
                    nhi[j] = new
                mm = _inside(X, nlo, nhi)
                d = y[mm].mean()
                if d >= dens - 1e-12 and (best is None or d > best[0]):
                    best = (d, nlo, nhi)
        if best is None:
            return lo, hi
        _, lo, hi = best


def _qp(X: np.ndarray, y: np.ndarray, box: Box, names: Sequence[str]) -> dict[str, float]:
    from scipy import stats

    out = {}
    lo = np.array([box.limits[n][0] for n in names])
    hi = np.array([box.limits[n][1] for n in names])
    for nm in box.restricted:
        j = list(names).index(nm)
        lo2, hi2 = lo.copy(), hi.copy()
        lo2[j], hi2[j] = -np.inf, np.inf
        m = _inside(X, lo2, hi2)
        p0 = float(y[m].mean()) if m.any() else 0.0
        out[nm] = float(stats.binom.sf(box.k - 1, box.n, p0))
    return out


def prim(X: pd.DataFrame, y: np.ndarray, *, peel_alpha: float = 0.05,
         paste_alpha: float = 0.05, mass_min: float = 0.05, threshold: float = 0.8,
         step: int | None = None) -> PrimResult:
    """Find a box of ``X`` in which ``y`` is concentrated (see the module doc).

    Args:
        X: One row per world, one numeric column per parameter.
        y: Boolean outcome per world.
        peel_alpha: Share of the box's worlds removed per peel.
        paste_alpha: Share of the box's worlds added per paste.
        mass_min: Smallest share of all worlds a box may hold.
        threshold: Density sought.
        step: Take the box from this step of the trajectory instead (EMA's
            ``box.select``); a step past the end raises ``IndexError``.
    """
    names = list(X.columns)
    Xa = X.to_numpy(dtype=float)
    ya = np.asarray(y, dtype=bool)
    if len(ya) != len(Xa) or not len(ya):
        raise ValueError("X and y must have the same, non-zero number of rows")
    full_lo, full_hi = Xa.min(axis=0), Xa.max(axis=0)
    traj = peel(Xa, ya, peel_alpha, mass_min)
    rows, boxes = [], []
    for i, (lo, hi) in enumerate(traj):
        b = _box(Xa, ya, lo, hi, names, full_lo, full_hi)
        boxes.append(b)
        row = {"step": i, "coverage": b.coverage, "density": b.density, "mass": b.mass,
               "n_restricted": len(b.restricted)}
        for j, nm in enumerate(names):
            row[f"low.{nm}"], row[f"high.{nm}"] = lo[j], hi[j]
        rows.append(row)
    good = [i for i, b in enumerate(boxes) if b.density >= threshold]
    if step is not None:
        if not 0 <= step < len(boxes):
            raise IndexError(f"the peeling trajectory has steps 0 to {len(boxes) - 1}")
        chosen = step
    else:
        chosen = (max(good, key=lambda i: (boxes[i].coverage, -i)) if good
                  else max(range(len(boxes)), key=lambda i: (boxes[i].density, -i)))
    lo, hi = paste(Xa, ya, *traj[chosen], paste_alpha)
    box = _box(Xa, ya, lo, hi, names, full_lo, full_hi)
    box.qp = _qp(Xa, ya, box, names)
    return PrimResult(pd.DataFrame(rows), chosen, box, float(ya.mean()),
                      box.density >= threshold)


def describe(box: Box, outcome: str, base: float, labels: dict[str, str] | None = None,
             digits: int = 3) -> str:
    """The box in plain words.

    E.g. ``P(signed) = 0.72 (0.35 over all worlds) when reservation <= 0.47 and
    base_rate <= 0.08; these are 18% of worlds and hold 38% of the signed ones``.
    """
    labels = labels or {}
    conds = []
    for nm in box.restricted:
        lo, hi = box.limits[nm]
        dlo, dhi = box.data_range[nm]
        lab = labels.get(nm, nm)
        if lo > dlo and hi < dhi:
            conds.append(f"{lab} is between {lo:.{digits}g} and {hi:.{digits}g}")
        elif lo > dlo:
            conds.append(f"{lab} >= {lo:.{digits}g}")
        else:
            conds.append(f"{lab} <= {hi:.{digits}g}")
    where = ("when " + " and ".join(conds)) if conds else "over all worlds (no box found)"
    return (f"P({outcome}) = {box.density:.2f} ({base:.2f} over all worlds) {where}; "
            f"these are {100 * box.mass:.0f}% of worlds and hold {100 * box.coverage:.0f}% "
            f"of the {outcome} ones")
