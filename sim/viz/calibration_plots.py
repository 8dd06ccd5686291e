"""Figures of a calibration (:mod:`sim.analysis.calibrate`): prior against posterior.

Like :mod:`sim.viz.plots`, every function takes data and returns a
:class:`matplotlib.figure.Figure` made without pyplot; nothing here saves or shows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

PRIOR_COLOUR = "#a7adb5"
POSTERIOR_COLOUR = "#1f77b4"


#: Most panels drawn; with more assumptions, those the record narrowed most.
MAX_PANELS = 24


def prior_posterior(prior: pd.DataFrame, posterior: pd.DataFrame,
                    moved: pd.DataFrame | None = None, caption: str = "") -> Figure:
    """One panel per calibrated assumption: prior and posterior densities.

    With more than :data:`MAX_PANELS` assumptions (every assumption of
    ``configs/priors.yaml`` by default), the panels are the :data:`MAX_PANELS` whose
    posterior 90 % interval narrowed most against the prior's (``moved``'s width
    ratio, then its shift), and the title says so; ``moved.csv`` lists every one.

    Args:
        prior: Prior draws, one column per dotted key.
        posterior: Posterior draws, the same columns and ``weight`` (importance weights).
        moved: :func:`sim.analysis.calibrate.moved_table`; its 90 % intervals are drawn
            (the posterior's as a band, the prior's as dotted lines) when given.
        caption: What the calibration used (origin, cut-off, cost), under the title.
    """
    keys = [c for c in posterior.columns if c != "weight"]
    shown_of = ""
    if len(keys) > MAX_PANELS:
        if moved is not None and len(moved):
            order = moved.assign(a=moved["shift_sd"].abs()).sort_values(
                ["width_ratio", "a"], ascending=[True, False], kind="stable")["key"]
            keys = [k for k in order if k in keys][:MAX_PANELS]
        else:
            keys = keys[:MAX_PANELS]
        shown_of = (f" (the {MAX_PANELS} of {len(posterior.columns) - 1} the record "
                    "narrowed most; moved.csv lists all)")
    cols = min(3, max(1, len(keys)))
    rows = max(1, math.ceil(len(keys) / cols))
    fig = Figure(figsize=(4.2 * cols, 2.9 * rows + 0.6), layout="constrained")
    fig.suptitle("Prior and posterior of each calibrated assumption" + shown_of
                 + (f"\n{caption}" if caption else ""), fontsize=11, x=0.02, ha="left")
    w = posterior["weight"].to_numpy(dtype=float) if len(posterior) else np.zeros(0)
    by_key = moved.set_index("key") if moved is not None and len(moved) else None
    for i, k in enumerate(keys):
        ax = fig.add_subplot(rows, cols, i + 1)
        p = prior[k].to_numpy(dtype=float)
        x = posterior[k].to_numpy(dtype=float)
        lo, hi = float(np.nanmin(p)), float(np.nanmax(p))
        if not hi > lo:
            lo, hi = lo - 0.5, hi + 0.5
        # fewer bins for a small posterior sample, so its histogram is not all noise
        n_bins = int(np.clip(np.sqrt(max(len(x), 1)), 10, 40))
        bins = np.linspace(lo, hi, n_bins + 1).tolist()
        ax.hist(p, bins=bins, density=True, color=PRIOR_COLOUR, alpha=0.7, label="prior")
        ax.hist(np.clip(x, lo, hi), bins=bins, weights=w, density=True, histtype="step",
                color=POSTERIOR_COLOUR, lw=1.8, label="posterior")
        if by_key is not None and k in by_key.index:
            r = by_key.loc[k]
            ax.axvspan(r["posterior_q05"], r["posterior_q95"], color=POSTERIOR_COLOUR,
                       alpha=0.12, lw=0, label="posterior 90 %")
            for q in ("prior_q05", "prior_q95"):
                ax.axvline(r[q], color="#555555", ls=":", lw=1)
            ax.axvline(r["posterior_mean"], color=POSTERIOR_COLOUR, lw=1.2, ls="--")
        ax.set_title(k, fontsize=9)
        ax.set_yticks([])
        if i == 0:
            ax.legend(fontsize=7, frameon=False, loc="lower right")
    return fig
