"""The backtest's folder: scores, skill, the reliability figure and the Markdown scoreboard.

Written here, in the figures' layer, so that :mod:`sim.analysis.backtest` computes the
scores without importing matplotlib.
"""

from __future__ import annotations

import json
from pathlib import Path

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
