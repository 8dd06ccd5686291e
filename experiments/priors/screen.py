"""One-at-a-time screen of the declared priors: which assumptions move the headline.

Every assumption of ``configs/priors.yaml`` that the baseline holds (point value or
distribution) is set, in all worlds, to its prior's low end and then to its high end
(for a beta prior: its 5 % and 95 % quantiles), everything else as in the baseline. The
runs share the seed and the number of worlds, so world ``j`` has the same luck in every
run and the same draws of every other parameter (each parameter draws from its own
stream, :func:`sim.model.state.draw_parameters`): the effect of an assumption is the
mean of the per-world differences high minus low, with a 95 % interval from their
standard error (paired worlds). Outcomes: P(sign), P(escalation) and P(government
falls) within the horizon.

Two stages keep it inside about ten minutes on a shared machine (keys are screened in
batches: key ``i`` of a batch in its own block of worlds of one pair of runs): every
assumption at ``--worlds`` (default 4,000 per key and end), then the ``--top``
assumptions with the largest effect on each of the three outcomes (in units of its
interval; the union) again at ``--confirm-worlds`` (default 20,000). The table reports
the confirming run where there is one.

Usage::

    PYTHONPATH=. python experiments/priors/screen.py            # writes screen.json, .md
    PYTHONPATH=. python experiments/priors/screen.py --worlds 500 --top 3 --confirm-worlds 2000
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

from sim import simulate
from sim.experiment.config import load_params
from sim.experiment.priors import assumptions, load_declarations
from sim.model.dists import Dist

HERE = Path(__file__).resolve().parent
#: Outcome column -> display name.
OUTCOMES = {"signed": "P(sign)", "escalated": "P(escalation)",
            "government_fell": "P(government falls)"}
Z = 1.959963984540054


def ends(prior: Dist) -> tuple[float, float]:
    """The prior's low and high ends (a beta's 5 % and 95 % quantiles)."""
    if prior.kind == "beta":
        lo, hi = prior.ppf(np.array([0.05, 0.95]))
        return float(lo), float(hi)
    return prior.support()


class Screen:
    """The baseline with every assumption given per world (``fixed_draws``).

    Each assumption the baseline holds at a point is made a distribution (its prior)
    only so that the engine accepts per-world values for it; every world gets the
    baseline's value except where a key is screened. A distribution's baseline values
    are the baseline run's own draws (its ``param.<key>`` column), so a world that does
    not screen a key has exactly the baseline's parameters.
    """

    def __init__(self, seed: int, horizon: int):
        from sim.experiment.priors import prior_overrides

        self.seed, self.horizon = seed, horizon
        base = load_params("baseline")
        self.todo = [(leaf, d) for leaf, d in assumptions(base, load_declarations())
                     if d.prior is not None]
        self.point = {leaf.key: float(leaf.value) for leaf, _ in self.todo
                      if not isinstance(leaf.value, Dist)}
        over = {k: v for k, v in prior_overrides(base, load_declarations()).items()
                if k in self.point}
        self.params = load_params("baseline", overrides=over)
        self._draws: dict[int, dict[str, np.ndarray]] = {}

    def run(self, fixed: dict[str, np.ndarray], worlds: int) -> dict[str, np.ndarray]:
        res = simulate(self.params, worlds=worlds, seed=self.seed,
                       horizon_weeks=self.horizon, fixed_draws=fixed)
        out = {c: res.outcomes[c].to_numpy(dtype=float) for c in OUTCOMES}
        out.update({c: res.outcomes[c].to_numpy(dtype=float) for c in res.outcomes.columns
                    if c.startswith("param.")})
        return out

    def baseline(self, worlds: int) -> dict[str, np.ndarray]:
        """The baseline's per-world outcomes and draws at ``worlds`` worlds."""
        if worlds not in self._draws:
            self._draws[worlds] = self.run(self._constants(worlds), worlds)
        return self._draws[worlds]

    def _constants(self, worlds: int) -> dict[str, np.ndarray]:
        return {k: np.full(worlds, v) for k, v in self.point.items()}

    def batch(self, keys: list[tuple[str, float, float]], per_key: int) -> list[dict]:
        """Screen ``keys`` in one pair of runs: key ``i`` in worlds ``i*per_key`` on."""
        worlds = per_key * len(keys)
        base = self.baseline(worlds)
        ends_ = []
        for side in (1, 2):
            fixed = self._constants(worlds)
            for i, spec in enumerate(keys):
                key = spec[0]
                if key not in fixed:
                    fixed[key] = base["param." + key].copy()
                fixed[key][i * per_key:(i + 1) * per_key] = spec[side]
            ends_.append(self.run(fixed, worlds))
        rows = []
        for i, (key, lo, hi) in enumerate(keys):
            seg = slice(i * per_key, (i + 1) * per_key)
            row: dict = {"key": key, "low_value": lo, "high_value": hi, "worlds": per_key}
            for c in OUTCOMES:
                a, b = ends_[0][c][seg], ends_[1][c][seg]
                row[c] = {"at_low": float(a.mean()), "at_high": float(b.mean()),
                          **paired(a, b)}
            rows.append(row)
        return rows


def paired(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Mean of ``b - a`` over paired worlds, with a 95 % interval."""
    d = b - a
    m = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(len(d))) if len(d) > 1 else math.nan
    return {"effect": m, "low": m - Z * se, "high": m + Z * se, "se": se}


def screen(sc: Screen, specs: list[tuple[str, float, float]], per_key: int,
           batch_worlds: int) -> list[dict]:
    """Every spec at ``per_key`` worlds, in batches of about ``batch_worlds`` worlds."""
    k = max(1, batch_worlds // per_key)
    rows: list[dict] = []
    for i in range(0, len(specs), k):
        rows += sc.batch(specs[i:i + k], per_key)
        print(f"  {min(i + k, len(specs))}/{len(specs)} keys at {per_key:,} worlds",
              flush=True)
    return rows


def strength(row: dict, outcomes: tuple[str, ...] = tuple(OUTCOMES)) -> float:
    """Largest |effect| / half-width of its interval over ``outcomes`` (0 if none moves)."""
    out = 0.0
    for c in outcomes:
        r = row[c]
        half = (r["high"] - r["low"]) / 2
        if half > 0:
            out = max(out, abs(r["effect"]) / half)
        elif r["effect"] != 0:
            out = math.inf
    return out


def fmt(r: dict) -> str:
    return f"{r['effect']:+.4f} [{r['low']:+.4f}, {r['high']:+.4f}]"


def markdown(rows: list[dict], base: dict, meta: dict) -> str:
    lines = ["# One-at-a-time screen of the declared priors", "",
             "Generated by `experiments/priors/screen.py` (do not edit by hand). Each "
             "assumption of `configs/priors.yaml` that the baseline holds is set in every "
             "world to its prior's low end, then to its high end; everything else as in "
             "the baseline; paired worlds (same seed, same world count: same luck and same "
             "draws of every other parameter). Effect = P at the high end minus P at the "
             "low end, with a 95 % interval from the paired per-world differences.", "",
             f"- Stage 1: {meta['assumptions']} assumptions at {meta['worlds']:,} worlds each "
             f"end; stage 2: the {meta['top']} strongest on each outcome (largest "
             f"|effect| in units of its interval; {meta['confirmed']} keys in all) again "
             f"at {meta['confirm_worlds']:,} worlds.",
             f"- Seed {meta['seed']}, horizon {meta['horizon_weeks']} weeks, baseline "
             f"scenario; {meta['world_runs']:,} world-runs in {meta['seconds']:.0f} s.",
             f"- Baseline at {meta['confirm_worlds']:,} worlds: "
             + ", ".join(f"{OUTCOMES[c]} = {base[c]:.4f}" for c in OUTCOMES) + ".",
             "- A prior marked `rule` in the file is the stated convention (x0.5-1.5 of "
             "the point value, or +-0.2 on the issue scale), not a measurement.", ""]
    confirmed = [r for r in rows if r.get("confirmed")]
    confirmed.sort(key=lambda r: -abs(r["signed"]["effect"]))
    lines += [f"## The {len(confirmed)} confirmed, at {meta['confirm_worlds']:,} worlds", "",
              "| assumption | prior (low – high) | ΔP(sign) [95 %] | ΔP(escalation) [95 %] | "
              "ΔP(government falls) [95 %] |", "|---|---|---|---|---|"]
    for r in confirmed:
        lines.append(f"| `{r['key']}` | {r['low_value']:.4g} – {r['high_value']:.4g} | "
                     f"{fmt(r['signed'])} | {fmt(r['escalated'])} | "
                     f"{fmt(r['government_fell'])} |")
    for c, name in OUTCOMES.items():
        ranked = sorted(rows, key=lambda r, c=c: -abs(r[c]["effect"]))[:10]
        lines += ["", f"## Top ten by |Δ{name}| (stage 2 where confirmed, else stage 1)", "",
                  f"| assumption | prior (low – high) | worlds | {name} at low | at high | "
                  f"Δ [95 %] |", "|---|---|---|---|---|---|"]
        for r in ranked:
            lines.append(f"| `{r['key']}` | {r['low_value']:.4g} – {r['high_value']:.4g} | "
                         f"{r['worlds']:,} | {r[c]['at_low']:.4f} | {r[c]['at_high']:.4f} | "
                         f"{fmt(r[c])} |")
    quiet = [r["key"] for r in rows
             if all(r[c]["low"] <= 0 <= r[c]["high"] for c in OUTCOMES)]
    lines += ["", f"## No effect detected ({len(quiet)} of {len(rows)})", "",
              "Every interval includes zero at the stage-1 world count (an effect smaller "
              "than the interval may remain): " + ", ".join(f"`{k}`" for k in quiet) + ".",
              ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--worlds", type=int, default=4000, help="stage 1, per key and end")
    ap.add_argument("--confirm-worlds", type=int, default=20000, help="stage 2")
    ap.add_argument("--top", type=int, default=6, help="confirmed per outcome")
    ap.add_argument("--batch-worlds", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--horizon-weeks", type=int, default=156)
    ap.add_argument("--out", type=Path, default=HERE)
    a = ap.parse_args(argv)
    tic = time.perf_counter()
    sc = Screen(a.seed, a.horizon_weeks)
    specs = [(leaf.key, *ends(d.prior)) for leaf, d in sc.todo if d.prior is not None]
    rows = screen(sc, specs, a.worlds, a.batch_worlds)
    runs = 2 * a.worlds * len(specs)
    order: list[int] = []
    for c in OUTCOMES:  # the strongest on each outcome (the union)
        best = sorted(range(len(rows)), key=lambda j, c=c: -strength(rows[j], (c,)))
        order += [j for j in best[:a.top] if j not in order]
    again = screen(sc, [specs[j] for j in order], a.confirm_worlds, a.batch_worlds)
    runs += 2 * a.confirm_worlds * len(order)
    for j, r in zip(order, again, strict=True):
        rows[j] = r | {"confirmed": True, "stage1": {c: rows[j][c] for c in OUTCOMES}}
    y0 = sc.baseline(a.confirm_worlds)
    runs += a.confirm_worlds + a.worlds  # the baselines whose draws the batches reuse
    base = {c: float(y0[c].mean()) for c in OUTCOMES}
    meta = {"assumptions": len(specs), "worlds": a.worlds, "confirm_worlds": a.confirm_worlds,
            "top": a.top, "confirmed": len(order), "seed": a.seed, "horizon_weeks": a.horizon_weeks,
            "world_runs": runs, "seconds": time.perf_counter() - tic}
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "screen.json").write_text(json.dumps({"meta": meta, "baseline": base,
                                                   "rows": rows}, indent=1) + "\n")
    (a.out / "screen.md").write_text(markdown(rows, base, meta))
    print(f"wrote {a.out / 'screen.md'} ({meta['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
