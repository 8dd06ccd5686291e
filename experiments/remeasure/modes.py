"""What the default switch moved: every scenario at the point values and as it runs now.

Since stop 31 a run draws its assumptions from what is known of them (``assumptions:
posterior``; a scenario that starts before the posterior's cut-off says ``prior`` in its
file). This script runs every bundled scenario twice on the same worlds (20,000, seed 0,
``simulate()`` in one block) — at the YAML's point values and in its own mode — and
writes P(sign), P(escalation) and P(government fell) for both with the paired difference
of each, so docs/model.md 9.2 can say what the switch changed and which scenario
orderings it kept.

    python experiments/remeasure/modes.py            # print the table
    python experiments/remeasure/modes.py --write    # also write modes.md and modes.json

About four minutes of one core.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sim.analysis.claims import paired_interval, scenario_mode
from sim.experiment.api import simulate
from sim.experiment.config import load_params, scenarios

HERE = Path(__file__).resolve().parent
WORLDS, SEED = 20_000, 0
#: Measures: a label and the worlds-table test of each.
MEASURES = {
    "p_sign": ("P(sign)", lambda o: o["signed"].to_numpy(dtype=bool)),
    "p_escalation": ("P(escalation)", lambda o: o["escalated"].to_numpy(dtype=bool)),
    "p_fell": ("P(government fell)",
               lambda o: (o["outcome"].astype(str) == "government_fell").to_numpy()),
}


def measure(worlds: int = WORLDS, seed: int = SEED) -> list[dict]:
    """One row per scenario: its mode, and each measure at point and in that mode."""
    rows = []
    for name in scenarios():
        mode = scenario_mode(name)
        runs = {m: simulate(load_params(name, assumptions=m), worlds=worlds,
                            seed=seed).outcomes for m in ("point", mode)}
        row: dict = {"scenario": name, "mode": mode}
        for key, (_, f) in MEASURES.items():
            a, b = f(runs["point"]), f(runs[mode])
            row[f"{key}_point"], row[f"{key}_mode"] = float(a.mean()), float(b.mean())
            row[f"{key}_diff"] = paired_interval(b, a)
        rows.append(row)
        print(f"{name}: {mode}", flush=True)
    return rows


def table(rows: list[dict]) -> str:
    """The rows as a markdown table."""
    head = "| scenario | mode | " + " | ".join(
        f"{lab} point | {lab} mode | difference" for lab, _ in MEASURES.values()) + " |"
    out = [head, "|" + "---|" * (2 + 3 * len(MEASURES))]
    for r in rows:
        cells = [f"`{r['scenario']}`", r["mode"]]
        for key in MEASURES:
            d, lo, hi = r[f"{key}_diff"]
            cells += [f"{r[f'{key}_point']:.4f}", f"{r[f'{key}_mode']:.4f}",
                      f"{d:+.4f} [{lo:+.4f}, {hi:+.4f}]"]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=WORLDS)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args(argv)
    rows = measure(a.worlds)
    text = table(rows)
    print(text)
    if a.write:
        (HERE / "modes.json").write_text(json.dumps(rows, indent=1) + "\n")
        (HERE / "modes.md").write_text(
            f"# Every scenario at the point values and in its own mode\n\n{a.worlds:,} "
            f"worlds, seed {SEED}, one block each (`python experiments/remeasure/"
            f"modes.py --write`); difference: own mode minus point, paired by world, "
            "95 % normal interval.\n\n" + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
