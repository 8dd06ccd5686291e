"""The backtest's folder: scores, skill, the reliability figure and the Markdown scoreboard.

Written here, in the figures' layer, so that :mod:`sim.analysis.backtest` computes the
scores without importing matplotlib.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.analysis.backtest import Backtest, markdown
from sim.experiment.runfolder import atomic_write, write_manifest
from sim.viz import plots


def write_backtest(folder: Path, result: Backtest, settings: dict) -> list[Path]:
    """Write the scores, the skill table, the reliability figure and a Markdown summary.

    Every file is written atomically and ``manifest.json`` last (:mod:`sim.experiment.runfolder`).
    """
    folder.mkdir(parents=True, exist_ok=True)
    names = ["scores.csv", "skill.csv", "reliability.png", "backtest.md", "settings.json"]
    atomic_write(folder / "scores.csv", lambda p: result.scores.to_csv(p, index=False))
    atomic_write(folder / "skill.csv", lambda p: result.skill.to_csv(p, index=False))
    fig = plots.backtest_reliability(result.scores)
    atomic_write(folder / "reliability.png",
                 lambda p: fig.savefig(p, dpi=110, format="png"))
    atomic_write(folder / "backtest.md",
                 lambda p: p.write_text(markdown(result, settings), encoding="utf-8"))
    atomic_write(folder / "settings.json", lambda p: p.write_text(
        json.dumps(settings, indent=2, default=str), encoding="utf-8"))
    write_manifest(folder, names)
    return [folder / n for n in names]


def rolling_reliability(scores):
    """Reliability diagram of the rolling backtest's binary forecasts.

    Forecasts are binned by probability (edges 0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1:
    most forecasts of "the status quo persists" sit near 0); each bin's observed frequency
    is plotted against its mean forecast, the marker's area proportional to its number of
    forecasts, for the model and climatology (no change is 0 or 1 only).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    b = scores[scores["kind"] == "binary"]
    edges = np.array([0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0 + 1e-9])
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=1, zorder=0)
    for col, label, color in (("forecast", "model", "#1f77b4"),
                              ("climatology", "climatology", "#ff7f0e")):
        p = b[col].to_numpy(float)
        y = b["observed"].to_numpy(float)
        idx = np.digitize(p, edges) - 1
        xs, ys, ns = [], [], []
        for k in range(len(edges) - 1):
            m = idx == k
            if m.any():
                xs.append(p[m].mean())
                ys.append(y[m].mean())
                ns.append(int(m.sum()))
        ax.scatter(xs, ys, s=[12 + 3 * n for n in ns], color=color, alpha=0.7,
                   label=f"{label} (area: forecasts in the bin)")
        ax.plot(xs, ys, color=color, lw=0.8, alpha=0.7)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("mean forecast probability in the bin")
    ax.set_ylabel("observed frequency")
    ax.set_title(f"Rolling backtest: reliability ({len(b)} binary forecasts, "
                 f"{b['origin'].nunique()} origins)", fontsize=10)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def rolling_skill_figure(skill):
    """Skill by horizon and kind of fact against each baseline, with the bootstrap intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    scores = [s for s in ("brier", "log", "crps") if s in set(skill["score"])]
    fig, axes = plt.subplots(1, len(scores), figsize=(4.2 * len(scores), 4.0), squeeze=False)
    for ax, s in zip(axes[0], scores, strict=True):
        t = skill[skill["score"] == s]
        x = np.arange(len(t))
        for j, (b, color) in enumerate((("no_change", "#7f7f7f"), ("climatology", "#ff7f0e"))):
            v = t[f"skill_vs_{b}"].to_numpy(float)
            lo = t[f"skill_vs_{b}_low"].to_numpy(float)
            hi = t[f"skill_vs_{b}_high"].to_numpy(float)
            ax.errorbar(x + (j - 0.5) * 0.25, np.clip(v, -1.5, 1), yerr=np.abs(np.vstack(
                [np.clip(v, -1.5, 1) - np.clip(lo, -1.5, 1),
                 np.clip(hi, -1.5, 1) - np.clip(v, -1.5, 1)])),
                fmt="o", color=color, capsize=3, label=f"vs {b.replace('_', ' ')}")
        ax.axhline(0, color="#bbbbbb", lw=1)
        ax.set_xticks(x, [h.replace(" months", " m") for h in t["horizon"]], rotation=30,
                      fontsize=8)
        ax.set_ylim(-1.6, 1.05)
        ax.set_title(f"{s} skill (clipped to [-1.5, 1])", fontsize=9)
    axes[0][0].set_ylabel("skill 1 - model / baseline (95 % bootstrap, origins x shared facts)")
    axes[0][0].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


def write_rolling(folder: Path, result, settings: dict) -> list[Path]:
    """Write the rolling backtest's folder.

    Scores, skill (overall and by horizon, with intervals), the Brier skill with each
    record fact left out (``skill_without.csv``), origins, each origin's
    posterior sample, the reliability diagram, the skill-by-horizon figure, the Markdown
    scoreboard and the settings; ``manifest.json`` last.
    """
    from sim.analysis.backtest import rolling_markdown, skill_without_each

    folder.mkdir(parents=True, exist_ok=True)
    names = ["scores.csv", "skill.csv", "skill_without.csv", "origins.csv", "reliability.png",
             "skill_by_horizon.png", "backtest.md", "settings.json"]
    atomic_write(folder / "scores.csv", lambda p: result.scores.to_csv(p, index=False))
    atomic_write(folder / "skill.csv", lambda p: result.skill.to_csv(p, index=False))
    atomic_write(folder / "skill_without.csv",
                 lambda p: skill_without_each(result.scores).to_csv(p, index=False))
    atomic_write(folder / "origins.csv", lambda p: result.origins.to_csv(p, index=False))
    for label, post in result.posteriors.items():
        name = f"posterior_{label}.csv"
        def write(path: Path, d: Any = post) -> None:
            d.to_csv(path, index=False)
        atomic_write(folder / name, write)
        names.append(name)
    fig = rolling_reliability(result.scores)
    atomic_write(folder / "reliability.png", lambda p: fig.savefig(p, dpi=110, format="png"))
    fig2 = rolling_skill_figure(result.skill)
    atomic_write(folder / "skill_by_horizon.png",
                 lambda p: fig2.savefig(p, dpi=110, format="png"))
    atomic_write(folder / "backtest.md", lambda p: p.write_text(
        rolling_markdown(result, settings), encoding="utf-8"))
    atomic_write(folder / "settings.json", lambda p: p.write_text(
        json.dumps(settings, indent=2, default=str), encoding="utf-8"))
    write_manifest(folder, names)
    return [folder / n for n in names]
