"""The numbers the README quotes, regenerated: the headline paragraph from a fresh run.

The README's headline paragraph (between the ``readme-numbers`` markers) is this
module's :data:`TEMPLATE` filled with :func:`measure`'s numbers. Run it to check the
README against a fresh run, or to rewrite the paragraph:

    python experiments/readme_numbers/readme_numbers.py            # check (exit 1 if stale)
    python experiments/readme_numbers/readme_numbers.py --write    # rewrite the paragraph

Each scenario runs as ``sim-run scenario=<name> worlds=50000 seed=0`` runs it (composed
by the same code, in blocks of ``block_worlds``), so the numbers are ``make run``'s.
The headline is the default run (``assumptions=posterior``) with its spread across
the posterior (:data:`SPREAD_DRAWS` draws of :data:`SPREAD_WORLDS` worlds, as ``sim-run
spread.draws=1000 spread.worlds=1000`` computes it, about 4.5 min of one core); the
scenarios at 50,000 worlds take about 30 s more, and each of the other two modes
(:data:`MODES`: ``assumptions=point`` and ``prior``) its run and spread.
``tests/test_readme_numbers.py`` runs the check.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from pathlib import Path

import numpy as np

from sim.cli.compose import compose_config, prepare_job
from sim.experiment.runs import simulate_job
from sim.experiment.spread import spread
from sim.model.rules import wilson_interval

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
START, END = "<!-- readme-numbers:start -->", "<!-- readme-numbers:end -->"
#: Worlds and seed the README quotes.
WORLDS, SEED = 50_000, 0
#: The scenarios the paragraph quotes.
SCENARIOS = ("baseline", "constitution_unpopular", "constitution_bypass_route",
             "baku_pledge_path")
#: Draws of the assumptions and worlds per draw of the headline's spread (the default
#: mode, ``assumptions=posterior``) and of the prior's (``sim-run spread.draws=1000
#: spread.worlds=1000``: 1,000,000 world-runs each).
SPREAD_DRAWS, SPREAD_WORLDS = 1000, 1000
#: The ``assumptions`` modes compared with the default (``sim-run assumptions=...``), and
#: the draws and worlds per draw of each one's spread: the point values keep only the
#: defaults' own distributions, so 200 draws of them suffice.
MODES = {"point": (200, 1000), "prior": (SPREAD_DRAWS, SPREAD_WORLDS)}
#: Bins of the referendum yes-share draw quoted in the paragraph.
YES_BINS = ((0.0, 0.30), (0.30, 0.40), (0.40, 0.50), (0.50, 1.01))

TEMPLATE = (
    "**The headline today** (baseline from {start}, {worlds} worlds, seed {seed}, every "
    "assumption drawn per world from what is known of it: the posterior learnt on the "
    "record to 4 Jul 2026 where the record says something, the declared prior elsewhere; "
    "`assumptions=posterior`, the default, docs/model.md 9.2): P(sign within three years) = "
    "**{p_sign}** (95 % interval {ci_low}–{ci_high}, Monte Carlo error only). The "
    "headline's own uncertainty — P(sign) over {spread_draws} draws of the posterior, each "
    "on the same {spread_worlds} worlds — has a mean of {spread_mean} and a 10–90 % range of "
    "{spread_q10}–{spread_q90}: no world signs in {spread_silent} of the draws, "
    "{spread_high} give P(sign) above 0.1, the 95th and 99th percentiles are {spread_q95} "
    "and {spread_q99}, the highest gives {spread_max}; the assumptions explain "
    "{spread_share} of the per-world variance of signing, and Monte Carlo noise is "
    "{spread_noise} of the draws' variance. With the defaults' point values instead "
    "(`assumptions=point`) P(sign) is {point_p_sign} ({point_ci_low}–{point_ci_high}; over "
    "{point_draws} draws of the distributions those defaults keep, a 10–90 % range of "
    "{point_q10}–{point_q90}, {point_silent} draws silent, highest {point_max}), and with "
    "every declared assumption drawn from its prior (`assumptions=prior`) {prior_p_sign} "
    "({prior_ci_low}–{prior_ci_high}; over {prior_draws} draws a mean of {prior_mean} and "
    "{prior_q10}–{prior_q90}, {prior_silent} silent, {prior_high} above 0.1, 95th and 99th "
    "percentiles {prior_q95} and {prior_q99}, highest {prior_max}, share {prior_share}, "
    "noise {prior_noise}). Under the default: "
    "P(signed and ratified) = {p_ratified}; P(referendum held) = "
    "{p_held}, P(referendum passed) = {p_passed}; P(escalation) = {p_escalation} "
    "({p_coercion} of it coercion over Baku's unmet stated demands, {p_spiral} from incident "
    "spirals); the government falls in {p_fell} of worlds; the rest is stalemate "
    "({p_stalemate}). It is low because every signature passes through a referendum on a "
    "new constitution whose yes share is anchored to polls that find little appetite for "
    "it: P(sign) is {yes_0} in worlds whose yes-share draw is under 0.30, {yes_1} between "
    "0.30 and 0.40, {yes_2} between 0.40 and 0.50 and {yes_3} above 0.50; and the "
    "government holds no referendum it expects to lose. Once the "
    "constitution has changed, {p_after_change} of worlds sign. With public support held "
    "at its first draw (`domestic.support.frozen=true`), P(sign) is {p_frozen} "
    "({frozen_low}–{frozen_high}). Taken at face value (yes "
    "share {unpopular_range}, scenario `constitution_unpopular`) the polls give P(sign) of "
    "{p_unpopular}; the unsourced route around the two-thirds vote "
    "(`constitution_bypass_route`) gives {p_bypass}; Baku's floated pledge path "
    "(`baku_pledge_path`: a binding pledge of no territorial claims in place of the new "
    "constitution, said by an Azerbaijani MP in Feb 2026, not official) gives {p_pledge}. "
    "`sim-report` draws the dependence "
    "(`curves.png`). Regenerated by `python experiments/readme_numbers/readme_numbers.py "
    "--write`; `tests/test_readme_numbers.py` checks them against a fresh run."
)


def prob(p: float, decimals: int, n: int | None = None) -> str:
    """A probability to ``decimals`` places that never rounds a non-zero one to zero.

    ``prob(0.0862, 3)`` is ``0.086``; ``prob(0.00016, 3, 50_000)`` is ``0.0002 (8 of
    50,000 worlds)``; an exact zero states its count, ``prob(0.0, 3, 10)`` is ``0 (0 of
    10 worlds)``, so that a reader never mistakes it for a rounded one.
    """
    if p == 0 and n is not None:
        return f"0 (0 of {n:,} worlds)"
    text = f"{p:.{decimals}f}"
    if p > 0 and float(text) == 0.0:
        text = f"{p:.1g}"
        if n is not None:
            text += f" ({round(p * n):,} of {n:,} worlds)"
    return text


def run(scenario: str, worlds: int, seed: int, *extra: str):
    """One scenario's worlds table and settings, computed as sim-run computes them.

    ``extra`` are further command-line overrides (``domestic.support.frozen=true``).
    """
    ov = [f"scenario={scenario}", f"worlds={worlds}", f"seed={seed}", "quiet=true", *extra]
    job = prepare_job(compose_config(ov), ov)
    return simulate_job(job, progress=False), job


def measure(worlds: int = WORLDS, seed: int = SEED) -> dict[str, str]:
    """Every number of the paragraph, as printed, from fresh runs."""
    base, job = run("baseline", worlds, seed, f"spread.draws={SPREAD_DRAWS}",
                    f"spread.worlds={SPREAD_WORLDS}")
    w = base.outcomes
    n = len(w)
    signed = w["signed"].to_numpy(dtype=bool)
    k = int(signed.sum())
    lo, hi = wilson_interval(k, n)
    kind = w["escalation_kind"].astype(str)
    yes = w["param.domestic.referendum.yes_share"].to_numpy(dtype=float)
    changed = w["constitution_changed"].to_numpy(dtype=bool)
    out = {
        "start": f"{base.start_date:%-d %b %Y}", "worlds": f"{n:,}", "seed": str(seed),
        "p_sign": prob(k / n, 3, n), "ci_low": prob(float(lo), 3), "ci_high": prob(float(hi), 3),
        "p_ratified": prob(float(w["ratified"].mean()), 3, n),
        "p_held": prob(float(w["referendum_held"].mean()), 2, n),
        "p_passed": prob(float(w["referendum_passed"].mean()), 2, n),
        "p_escalation": prob(float(w["escalated"].mean()), 3, n),
        "p_coercion": prob(float((kind == "coercion").mean()), 3, n),
        "p_spiral": prob(float((kind == "incidents").mean()), 3, n),
        "p_fell": prob(float((w["outcome"] == "government_fell").mean()), 2, n),
        "p_stalemate": prob(float((w["outcome"] == "stalemate").mean()), 2, n),
        "p_after_change": prob(float(signed[changed].mean()), 2),
    }
    if job.settings.assumptions != "posterior":
        raise SystemExit("readme_numbers: the headline is the default run, and the "
                         f"default is now assumptions={job.settings.assumptions}: "
                         "rewrite the template")
    sp = spread(job.params, job.settings.spread, seed, job.settings.horizon_weeks,
                job.settings.block_worlds).block
    out.update(spread_numbers("spread", sp))
    for i, (a, b) in enumerate(YES_BINS):
        sel = (yes >= a) & (yes < b)
        out[f"yes_{i}"] = prob(float(signed[sel].mean()), 3 if i == 0 else 2, int(sel.sum()))
    unpop, ujob = run("constitution_unpopular", worlds, seed)
    d = dict(ujob.params.domestic.referendum.yes_share.args)
    out["unpopular_range"] = f"{d['low']:.2f}–{d['high']:.2f}"
    out["p_unpopular"] = prob(float(np.mean(unpop.outcomes["signed"])), 3, worlds)
    frozen, _ = run("baseline", worlds, seed, "domestic.support.frozen=true")
    fs = frozen.outcomes["signed"].to_numpy(dtype=bool)
    out["p_frozen"] = prob(float(fs.mean()), 3, worlds)
    flo, fhi = wilson_interval(int(fs.sum()), len(fs))
    out["frozen_low"], out["frozen_high"] = prob(float(flo), 3), prob(float(fhi), 3)
    pledge, _ = run("baku_pledge_path", worlds, seed)
    out["p_pledge"] = prob(float(np.mean(pledge.outcomes["signed"])), 3, worlds)
    bypass, _ = run("constitution_bypass_route", worlds, seed)
    out["p_bypass"] = prob(float(np.mean(bypass.outcomes["signed"])), 3, worlds)
    for mode, (draws, draw_worlds) in MODES.items():
        out.update(measure_mode(mode, worlds, seed, draws, draw_worlds))
    del job
    return out


def spread_numbers(name: str, sp: dict) -> dict[str, str]:
    """A spread block's numbers as the paragraph prints them, keys prefixed ``name_``."""
    by_draw = sp["p_sign_by_draw"]
    return {f"{name}_draws": f"{sp['draws']:,}", f"{name}_worlds": f"{sp['worlds']:,}",
            f"{name}_mean": prob(sp["p_sign_mean"], 3),
            f"{name}_q10": prob(sp["p_sign_q10"], 3), f"{name}_q90": prob(sp["p_sign_q90"], 3),
            f"{name}_silent": f"{sp['draws'] - sp['draws_signing']:,}",
            f"{name}_max": prob(max(by_draw), 3),
            f"{name}_high": f"{sum(p > 0.1 for p in by_draw):,}",
            f"{name}_q95": prob(float(np.quantile(by_draw, 0.95)), 3),
            f"{name}_q99": prob(float(np.quantile(by_draw, 0.99)), 3),
            f"{name}_share": f"{sp['share_between']:.2f}",
            f"{name}_noise": f"{sp['noise_share']:.2f}"}


def measure_mode(mode: str, worlds: int, seed: int, draws: int,
                 draw_worlds: int) -> dict[str, str]:
    """The baseline under ``assumptions=<mode>``: P(sign), its interval and its spread."""
    res, job = run("baseline", worlds, seed, f"assumptions={mode}", f"spread.draws={draws}",
                   f"spread.worlds={draw_worlds}")
    signed = res.outcomes["signed"].to_numpy(dtype=bool)
    n, k = len(signed), int(signed.sum())
    lo, hi = wilson_interval(k, n)
    sp = spread(job.params, job.settings.spread, seed, job.settings.horizon_weeks,
                job.settings.block_worlds).block
    return {f"{mode}_p_sign": prob(k / n, 3, n), f"{mode}_ci_low": prob(float(lo), 3),
            f"{mode}_ci_high": prob(float(hi), 3), **spread_numbers(mode, sp)}


def render(numbers: dict[str, str]) -> str:
    """The README's headline paragraph with ``numbers``."""
    return TEMPLATE.format(**numbers)


def quoted(readme: str) -> str:
    """The headline paragraph as the README has it (between the markers), one line.

    Raises:
        ValueError: The README has no such paragraph.
    """
    m = re.search(re.escape(START) + r"(.*?)" + re.escape(END), readme, flags=re.S)
    if m is None:
        raise ValueError(f"README.md has no {START} ... {END} paragraph")
    return " ".join(m.group(1).split())


def replace(readme: str, paragraph: str, width: int = 89) -> str:
    """``readme`` with the paragraph between the markers replaced (wrapped to ``width``)."""
    import textwrap

    body = textwrap.fill(paragraph, width, break_on_hyphens=False, break_long_words=False)
    new = f"{START}\n{body}\n{END}"
    return re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: new, readme,
                  flags=re.S)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=WORLDS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--write", action="store_true", help="rewrite README.md's paragraph")
    args = ap.parse_args(argv)
    fresh = render(measure(args.worlds, args.seed))
    # read after measuring (12 min of one core, longer on a shared machine): an edit made
    # to the README meanwhile is kept
    text = README.read_text(encoding="utf-8")
    if args.write:
        README.write_text(replace(text, fresh), encoding="utf-8")
        print(f"rewrote the headline paragraph of {README}")
        return 0
    have = quoted(text)
    if have == fresh:
        print("README.md's headline numbers are those of a fresh run")
        return 0
    sys.stdout.writelines(difflib.unified_diff(
        [s + "\n" for s in re.split(r"(?<=;) ", have)],
        [s + "\n" for s in re.split(r"(?<=;) ", fresh)], "README.md", "fresh run"))
    return 1


if __name__ == "__main__":
    sys.exit(main())
