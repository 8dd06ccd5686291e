"""Re-measure the numbers docs/model.md states per mechanism, on the merged model.

Section numbers of docs/model.md 7.x were measured on each mechanism's own branch before
issue 18's branches were merged. This script re-measures each one that states a
baseline number or a paired difference, with the runs the text names (scenario,
overrides, worlds, seed 0; ``simulate()`` as the tests run it), and prints what the text
says beside what the merged model gives; ``stale.md`` keeps the list.

    python experiments/remeasure/stale.py            # print the list
    python experiments/remeasure/stale.py --write    # also write stale.md and stale.json

About four minutes of one core (nine on a loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiment.api import simulate
from sim.experiment.config import load_params, merged

HERE = Path(__file__).resolve().parent
Z = 1.959963984540054
SEED = 0

FROZEN = {"domestic": {"support": {"frozen": True}}}
PASSED_GATE = {"domestic": {"constitution": {"stage": "passed"}}}
OPEN_GATE = {"domestic": {"referendum": {"yes_share": {"dist": "uniform", "low": 0.60,
                                                       "high": 0.70}}}}
FIXED_AGENDA = {"domestic": {"parliament": {"vote_margin": 1000},
                             "constitution": {"referendum_margin": -1.0},
                             "government": {"snap_min_weeks": 0, "snap_seat_gain": 0}}}




_CACHE: dict[str, pd.DataFrame] = {}


def run(scenario: str = "baseline", *overrides: dict, worlds: int = 20_000,
        seed: int = SEED, horizon: int = 156) -> pd.DataFrame:
    """The worlds table of ``simulate(load_params(scenario, overrides), worlds, seed)``."""
    ov = merged(*overrides)
    key = json.dumps([scenario, ov, worlds, seed, horizon], sort_keys=True, default=str)
    if key not in _CACHE:
        _CACHE[key] = simulate(load_params(scenario, overrides=ov), worlds=worlds,
                               seed=seed, horizon_weeks=horizon).outcomes
    return _CACHE[key]


def col(o: pd.DataFrame, name: str) -> np.ndarray:
    """A per-world 0/1 (or count) series: a column, or ``kind=coercion`` and the like."""
    if name.startswith("kind="):
        return (o["escalation_kind"].astype(str) == name[5:]).to_numpy(float)
    if name.startswith("outcome="):
        return (o["outcome"].astype(str) == name[8:]).to_numpy(float)
    return o[name].to_numpy(float)


def paired(a: pd.DataFrame, b: pd.DataFrame, name: str) -> str:
    """``a - b`` on ``name``, world by world, with its 95 % interval, as printed."""
    d = col(a, name) - col(b, name)
    m = float(d.mean())
    h = Z * float(d.std(ddof=1)) / math.sqrt(len(d))
    digits = 1 if abs(m) >= 1 else 4
    return f"{m:+.{digits}f} [{m - h:+.{digits}f}, {m + h:+.{digits}f}]"


def mean(o: pd.DataFrame, name: str, digits: int = 4) -> str:
    return f"{col(o, name).mean():.{digits}f}"


def per_active_year(o: pd.DataFrame, name: str) -> str:
    k = col(o, name).sum()
    years = o["active_weeks"].sum() / 52.0
    return f"{k / years:.4f}"


# ------------------------------------------------------------------ the claims
def _reopen() -> str:
    o = run()
    fell = col(o, "government_fell").astype(bool)
    re_ = col(o, "reopened").astype(bool)
    by = o["reopened_by"].astype(str)
    none = run("baseline", {"actors": {"armenia": {"reopen_trigger": "none"}}})
    sides = ", ".join(f"{k} {v}" for k, v in by[re_].value_counts().items())
    return (f"{re_.mean():.1%} of worlds reopen ({sides}); "
            f"{re_[fell].mean():.0%} of the {fell.mean():.1%} of worlds whose government "
            f"falls; {per_active_year(o, 'reopened')} per active world-year; reopening "
            f"(against Armenia's trigger none) P(escalation) {paired(o, none, 'escalated')}")


def _escalation() -> str:
    o = run()
    return (f"P(escalation) {mean(o, 'escalated')} ({mean(o, 'kind=coercion')} coercion, "
            f"{mean(o, 'kind=incidents')} incidents)")


def _initialling() -> str:
    no_init = {"state": {"events": {"initialling": None}}}
    a, b = run(), run("baseline", no_init)
    fa, fb = run("baseline", FROZEN), run("baseline", FROZEN, no_init)
    return (f"initialled - not: P(escalation) {paired(a, b, 'escalated')}; support frozen "
            f"{paired(fa, fb, 'escalated')}")


def _march() -> str:
    o = run("march_2025")
    return (f"march_2025 P(escalation) {mean(o, 'escalated')} ({mean(o, 'kind=coercion')} "
            f"coercion; {per_active_year(o, 'kind=coercion')} coercive escalations per "
            f"active world-year)")


def _march_minsk() -> str:
    d = load_params("baseline").state.events["minsk_closure_complete"]
    ev = {"label": d.label, "date": str(d.date), "announced": "2025-03-13",
          "sets_flags": list(d.sets_flags), "ends_mandate": "", "spoiler_pressure": {},
          "source": d.source}
    a = run("march_2025", {"state": {"events": {"minsk_closure_complete": ev}}})
    return ("Minsk closed on 30 Nov 2025 in march_2025 (the event dated from the start): "
            f"P(escalation) {paired(a, run('march_2025'), 'escalated')}")


def _corridor() -> str:
    d = paired(run("corridor_demand"), run(), "escalated")
    return f"corridor_demand - baseline: P(escalation) {d}"


def _base_rate() -> str:
    o = run("baseline", {"incidents": {"base_rate": 0.5}}, worlds=4000)
    return (f"base rate 0.5 (4,000 worlds): P(escalation) {mean(o, 'escalated', 3)} "
            f"({mean(o, 'kind=incidents', 3)} through incidents)")


def _monitors() -> str:
    b = run("baseline", FROZEN, worlds=50_000)
    g = run("eu_monitors_leave", FROZEN, worlds=50_000)
    none = run("baseline", FROZEN, {"actors": {"eu": {"monitors": None}}}, worlds=50_000)
    return (f"eu_monitors_leave - baseline (support frozen, 50,000): P(escalation) "
            f"{paired(g, b, 'escalated')}, incidents {paired(g, b, 'incidents')} of "
            f"{b['incidents'].mean():.1f}, P(sign) {paired(g, b, 'signed')}, P(government "
            f"fell) {paired(g, b, 'government_fell')}; no mission: P(escalation) "
            f"{paired(none, b, 'escalated')}, incidents {paired(none, b, 'incidents')}")


def _us() -> str:
    b, u = run("baseline", FROZEN), run("us_disengages", FROZEN)
    bo, uo = run("baseline", FROZEN, PASSED_GATE), run("us_disengages", FROZEN, PASSED_GATE)
    baku = [int((o["reopened_by"] == "azerbaijan").sum()) for o in (b, u)]
    return (f"us_disengages - baseline (support frozen): P(escalation) "
            f"{paired(u, b, 'escalated')}, reopened {int(b['reopened'].sum()):,} -> "
            f"{int(u['reopened'].sum()):,} of 20,000 (by Baku {baku[0]} -> {baku[1]}); "
            f"gate passed: P(escalation) "
            f"{paired(uo, bo, 'escalated')}")


def _agenda() -> str:
    b = run()
    parts = []
    for name, ov in (("vote_margin 1000",
                      {"domestic": {"parliament": {"vote_margin": 1000}}}),
                     ("referendum_margin -1",
                      {"domestic": {"constitution": {"referendum_margin": -1.0}}}),
                     ("snap rule off", {"domestic": {"government": {
                         "snap_min_weeks": 0, "snap_seat_gain": 0}}}),
                     ("FIXED_AGENDA", FIXED_AGENDA),
                     ("early_election_probability 0",
                      {"domestic": {"government": {"early_election_probability": 0.0}}})):
        o = run("baseline", ov)
        parts.append(f"{name}: P(sign) {paired(o, b, 'signed')}, P(referendum held) "
                     f"{paired(o, b, 'referendum_held')}, P(government fell) "
                     f"{paired(o, b, 'government_fell')}")
    return f"baseline P(sign) {mean(b, 'signed')}; " + "; ".join(parts)


def _government() -> str:
    o = run()
    return (f"P(government fell) {mean(o, 'government_fell')}; elections held in "
            f"{int((o['elections_held'] > 0).sum())} of 20,000 worlds")


def _construction() -> str:
    o = run()
    w = o["flag_week.tripp_construction"].to_numpy()
    return (f"P(TRIPP construction started within a year) {np.mean((w >= 0) & (w < 52)):.3f}, "
            f"within the horizon {np.mean(w >= 0):.3f}")


def _wilson(k: int, n: int) -> str:
    from sim.model.rules import wilson_interval
    lo, hi = wilson_interval(k, n)
    return f"{k / n:.4f} ({float(lo):.4f}-{float(hi):.4f})"


def _gate() -> str:
    o = run(worlds=50_000)
    held = o["referendum_held"].to_numpy(bool)
    parts = [f"P(sign) {_wilson(int(o['signed'].sum()), len(o))}",
             f"P(ratified) {_wilson(int(o['ratified'].sum()), len(o))}",
             f"P(referendum held) {mean(o, 'referendum_held')}",
             f"P(referendum passed) {mean(o, 'referendum_passed')}",
             f"boycotts {o['boycott'].to_numpy(bool)[held].mean():.0%} of the referendums "
             "held"]
    for sc in ("constitution_bypass_route", "vacant_seats", "constitution_unpopular"):
        parts.append(f"{sc} P(sign) {mean(run(sc, worlds=50_000), 'signed')}")
    return "; ".join(parts)


def _retries() -> str:
    o = run(worlds=50_000, horizon=260)
    w = o["sign_week"].to_numpy()
    signed = o["signed"].to_numpy(bool)
    by = [f"{np.mean(signed & (w < k)):.4f} by week {k}" for k in (130, 156, 260)]
    return "P(sign) " + ", ".join(by) + " (260-week horizon, 50,000 worlds)"


def _yes_fixed() -> str:
    out = []
    for y in (0.30, 0.40, 0.50, 0.60):
        o = run("baseline", {"domestic": {"referendum": {"yes_share": y}}}, worlds=50_000)
        out.append(f"{mean(o, 'signed')} at {y:.2f}")
    return "P(sign), yes share fixed (50,000 worlds): " + ", ".join(out)


def _passed() -> str:
    o = run("baseline", PASSED_GATE)
    w = o["sign_week"].to_numpy()
    signed = o["signed"].to_numpy(bool)
    return (f"constitution changed at the start: P(sign within 26 weeks) "
            f"{np.mean(signed & (w < 26)):.3f}, within three years {signed.mean():.3f}, "
            f"P(escalation) {mean(o, 'escalated')}")


def _incident_scenarios() -> str:
    b = run()
    out = []
    for sc in ("incident_spike", "incident_sustained"):
        o = run(sc)
        out.append(f"{sc} P(sign) {paired(o, b, 'signed')}, P(escalation) "
                   f"{paired(o, b, 'escalated')}")
    fs, fb = run("incident_spike", FROZEN), run("baseline", FROZEN)
    out.append(f"incident_spike, support frozen, P(sign) {paired(fs, fb, 'signed')}")
    return "; ".join(out)


def _support() -> str:
    b, f = run(), run("baseline", FROZEN)
    drop = (b["param.domestic.support.initial"] - b["final_support"]).to_numpy(float)
    parts = [f"support ends {drop.mean():.3f} below its draw (10-90 %: "
             f"{np.quantile(drop, 0.1):.3f}-{np.quantile(drop, 0.9):.3f})"]
    for name in ("signed", "referendum_held", "referendum_passed"):
        parts.append(f"{name}: default {mean(b, name)}, frozen {mean(f, name)}, "
                     f"frozen - default {paired(f, b, name)}")
    return "; ".join(parts)


def _day_noise() -> str:
    b = run()
    out = []
    for name, ov in (("sigma_y 0", {"day_noise": 0.0}), ("sigma_y 0.02", {"day_noise": 0.02}),
                     ("sigma_y 0.08", {"day_noise": 0.08}),
                     ("lambda 0", {"support_link": 0.0}), ("lambda 1", {"support_link": 1.0})):
        o = run("baseline", {"domestic": {"referendum": ov}})
        out.append(f"{name} {paired(o, b, 'signed')}")
    f0 = run("baseline", FROZEN, {"domestic": {"referendum": {"day_noise": 0.0}}})
    return "P(sign) against the defaults: " + ", ".join(out) + (
        f"; frozen, no day noise P(sign) {mean(f0, 'signed')}")


def _russia() -> str:
    def act(**keys: Any) -> dict:
        return {"actors": {"russia": keys}}
    pb = run("baseline", FROZEN, PASSED_GATE)
    pc = run("baseline", FROZEN, PASSED_GATE,
             act(signing_cost={"armenia": 0.0, "azerbaijan": 0.0}))
    ob = run("baseline", FROZEN, OPEN_GATE)
    o0 = run("baseline", FROZEN, OPEN_GATE,
             act(survival_hazard=0.0, suspension={"fall_hazard": 0.0}))
    rs = run("russia_spoiler", FROZEN, PASSED_GATE)
    return (f"signing_cost to 0 (PASSED_GATE): P(sign) {paired(pc, pb, 'signed')}; "
            f"survival and suspension fall terms at defaults - 0 (OPEN_GATE): P(fell) "
            f"{paired(ob, o0, 'government_fell')}, P(sign) {paired(ob, o0, 'signed')}, "
            f"P(fell) without them {mean(o0, 'government_fell')}; russia_spoiler "
            f"(PASSED_GATE): P(fell) {paired(rs, pb, 'government_fell')}, P(sign) "
            f"{paired(rs, pb, 'signed')}")


def _minsk_closure() -> str:
    import datetime as dt
    out = []
    for sc in ("march_2025", "origin_2025_08_08"):
        o = run(sc)
        start = load_params(sc).state.start_date
        k = -(-(dt.date(2025, 12, 1) - start).days // 7)
        w = o["flag_week.minsk_closed"].to_numpy()
        out.append(f"{sc}: P(Minsk closed by 1 Dec 2025) {np.mean((w >= 0) & (w < k)):.3f}")
    return "; ".join(out)


def _mediators() -> str:
    def act(name: str, **keys: Any) -> dict:
        return {"actors": {name: keys}}
    zero = {"armenia": 0.0, "azerbaijan": 0.0}
    b = run("baseline", FROZEN, PASSED_GATE)
    out = []
    for name, sc, ov in (("EU incentives 0", "baseline", act("eu", incentives=zero)),
                         ("EU guarantee 0", "baseline", act("eu", guarantee=0.0)),
                         ("US incentives 0", "baseline", act("us", incentives=zero)),
                         ("US guarantee 0", "baseline", act("us", guarantee=0.0)),
                         ("US table weight 0", "baseline", act("us", table_weight=0.0)),
                         ("us_disengages", "us_disengages", {}),
                         ("western_incentives", "western_incentives", {})):
        out.append(f"{name} {paired(run(sc, FROZEN, PASSED_GATE, ov), b, 'signed')}")
    wo = paired(run("western_incentives", FROZEN, OPEN_GATE),
                run("baseline", FROZEN, OPEN_GATE), "signed")
    return ("P(sign), support frozen, constitution changed (PASSED_GATE): " + ", ".join(out)
            + f"; western_incentives with OPEN_GATE {wo}")


def _spike52() -> str:
    o = run("incident_spike", worlds=6000, seed=8)
    w = o["escalation_week"].to_numpy()
    kind = o["escalation_kind"].astype(str).to_numpy()
    early = (w >= 0) & (w < 52)
    return (f"incident_spike (seed 8, 6,000 worlds): P(escalation within 52 weeks) "
            f"{early.mean():.3f} ({(early & (kind == 'incidents')).mean():.3f} incidents, "
            f"{(early & (kind == 'coercion')).mean():.3f} coercion)")


def _renewal() -> str:
    point = {"state": {"pending_kinds": {"mandate_renewal": {"probability": 0.3}}}}
    b, p3 = run(), run("baseline", point)
    return (f"baseline (U(0.2, 0.8)) - probability 0.3: P(escalation) "
            f"{paired(b, p3, 'escalated')}, P(sign) {paired(b, p3, 'signed')}")


def _surge_sides() -> str:
    over = (OPEN_GATE, FROZEN)
    base, surge = run("baseline", *over), run("opposition_surge", *over)
    p = load_params("baseline", overrides=merged(*over))
    both = base["signed"].to_numpy(bool) & surge["signed"].to_numpy(bool)
    arm, aze = p.actors["armenia"], p.actors["azerbaijan"]
    gain = np.zeros(int(both.sum()))
    for k in arm.position:
        if k in p.negotiation.text_issues:
            continue
        b = base[f"terms.{k}"].to_numpy()[both]
        s = surge[f"terms.{k}"].to_numpy()[both]
        gain += float(arm.salience[k]) * (np.abs(b - float(arm.position[k]))
                                          - np.abs(s - float(arm.position[k])))
        if k == "detainees":
            det = (s - b) * np.sign(float(arm.position[k]) - float(aze.position[k]))
    def ci(d: np.ndarray) -> str:
        m, h = float(d.mean()), Z * float(d.std(ddof=1)) / math.sqrt(d.size)
        return f"{m:+.3f} [{m - h:+.3f}, {m + h:+.3f}]"
    return (f"gate open, support frozen, {int(both.sum()):,} worlds signed in both: "
            f"detainees toward Armenia {ci(det)}, Armenia's gain {ci(gain)}; P(sign) "
            f"{mean(base, 'signed', 3)} -> {mean(surge, 'signed', 3)} "
            f"({paired(surge, base, 'signed')})")


def _three_demands() -> str:
    from sim.experiment.config import compose, parse_params
    cfg, _ = compose("baseline")  # a mapping cannot lose keys through an override
    for k in ("legal_claims", "third_party_monitors"):
        del cfg["actors"]["azerbaijan"]["stated_demands"][k]
    b = run()
    t = simulate(parse_params(cfg), worlds=20_000, seed=SEED, horizon_weeks=156).outcomes
    return (f"P(escalation) {mean(b, 'escalated', 3)} -> {mean(t, 'escalated', 3)} "
            f"({paired(t, b, 'escalated')})")


#: (id, where in docs/model.md, what the text says, the re-measurement)
CLAIMS: tuple[tuple[str, str, str, Callable[[], str]], ...] = (
    ("reopening", "7.2 Triggers and hazards",
     "15.0 % of worlds reopen, all by a successor (65 % of the 23 % whose government "
     "falls): 0.055 per active world-year; reopening raises P(escalation) by +0.0009 "
     "[+0.0005, +0.0013]", _reopen),
    ("escalation", "7.12 (after the table); 8.8", "P(escalation within three years) "
     "0.068 (0.066 coercion, 0.002 incidents)", _escalation),
    ("initialling", "7.12", "initialled - not: -0.0088 [-0.0102, -0.0074]; support "
     "frozen -0.0091 [-0.0104, -0.0078]", _initialling),
    ("march_2025", "7.12", "march_2025 gives 0.128 (0.127 coercion; 0.050 coercive "
     "escalations per active world-year)", _march),
    ("march_2025_minsk", "7.12", "closing Minsk on its real date lowers it by -0.039 "
     "[-0.042, -0.037]", _march_minsk),
    ("corridor_demand", "7.12", "corridor_demand raises the baseline's by +0.030 "
     "[+0.027, +0.032]", _corridor),
    ("base_rate", "7.12", "a latent base rate of 0.5 gives 0.12 (0.049 through "
     "incidents; 4,000 worlds)", _base_rate),
    ("monitors", "7.8", "eu_monitors_leave against the baseline (which renews with "
     "probability 0.3): P(escalation) +0.0005 [+0.0002, +0.0008], incidents +3.6 of "
     "35.3, P(sign) -0.0011, P(government fell) +0.0027; no mission P(escalation) "
     "+0.0008, incidents +5.0", _monitors),
    ("us_disengages", "7.8", "P(escalation) -0.0016 [-0.0026, -0.0006]; Armenia reopens "
     "first in more worlds (1,019 -> 1,733), pre-empting Baku's reopening; gate open "
     "-0.0004 [-0.0015, +0.0007]", _us),
    ("agenda", "7.13 What the agenda carries", "vote_margin 1000 P(sign) +0.006; "
     "referendum_margin -1 P(sign) +0.016, P(held) +0.282, P(fell) +0.082; snap rule off "
     "P(sign) +0.013, P(fell) +0.018; FIXED_AGENDA P(sign) +0.043 (baseline 0.040), "
     "P(fell) +0.158; early_election_probability 0: P(fell) -0.007", _agenda),
    ("government", "7.15 Early falls against the record", "P(government fell) 0.070; "
     "a lost snap election about 0.012 of the 0.070", _government),
    ("construction", "7.19 pending kinds", "P(started within a year) 0.458, within the "
     "horizon 0.708", _construction),
    ("gate_headline", "9, item 8 and the paragraph after it", "P(sign) 0.138 "
     "(0.135-0.141), P(ratified) 0.113, P(referendum held) 0.651, P(referendum passed) "
     "0.155; boycotts 70 % of referendums; bypass 0.169, vacant_seats 0.208, "
     "constitution_unpopular 0.0003", _gate),
    ("retries", "9, item 8", "0.123 by week 130, 0.138 by 156, 0.172 by 260", _retries),
    ("yes_fixed", "8.10 (after the sweep)", "0.000 at 0.30, 0.001 at 0.40, 0.030 at 0.50, "
     "0.155 at 0.60", _yes_fixed),
    ("passed_gate", "9, item 8 (negotiation binds); 10", "P(sign within half a year) "
     "0.565, within three years 0.996, escalation 0.0006", _passed),
    ("incident_scenarios", "9, item 1", "incident_spike P(sign) -0.017, P(escalation) "
     "+0.011; incident_sustained -0.080, +0.057; frozen spike P(sign) -0.001",
     _incident_scenarios),
    ("support", "7.7", "support ends 0.017 below its draw (0.005-0.033); P(sign) 0.025 "
     "default, 0.035 frozen, +0.010; P(held) 0.443, 0.496; P(passed) 0.043, 0.060",
     _support),
    ("day_noise", "7.13 Referendum", "sigma_y 0 -0.0069, 0.02 -0.0052, 0.08 +0.0062; "
     "lambda 0 +0.0055, 1 +0.0003; frozen, no day noise P(sign) 0.027", _day_noise),
    ("russia", "8.5 table", "signing_cost to 0 +0.0059; survival terms P(fell) +0.0172, "
     "P(sign) -0.0025 (baseline 0.160); russia_spoiler P(fell) +0.110, P(sign) -0.292",
     _russia),
    ("mediators", "7.8 Direction of each mediator's effect", "PASSED_GATE, frozen: EU "
     "incentives 0 -0.014, EU guarantee 0 -0.006, US incentives 0 -0.048, US guarantee 0 "
     "-0.019, US table weight 0 +0.0056, us_disengages -0.034 (gate open); "
     "western_incentives +0.030 (constitution changed), +0.0008 (OPEN_GATE)", _mediators),
    ("spike52", "7.12 A spring-2025-sized burst", "0.030 within 52 weeks, 0.009 through "
     "incidents and 0.021 coercion", _spike52),
    ("renewal", "7.19 pending kinds (mandate_renewal)", "against probability 0.3: "
     "P(escalation) -0.0003 [-0.0006, -0.0001], P(sign) +0.0019 [+0.0013, +0.0026]",
     _renewal),
    ("minsk_closure", "5; 9.1; 7.19", "march_2025 0.285; origin_2025_08_08 0.700",
     _minsk_closure),
    ("surge_side_issues", "7.5 Who concedes", "detainees +0.051 [+0.049, +0.053], "
     "Armenia's gain +0.107 [+0.103, +0.110] (1,353 worlds signed in both); P(sign) "
     "0.241 -> 0.083", _surge_sides),
    ("three_demands", "10 (coercion weighs each demand equally)", "three demands "
     "instead of five: P(escalation) 0.068 -> 0.107 (+0.038 [+0.036, +0.041])",
     _three_demands),
)


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["# Numbers docs/model.md stated per mechanism, re-measured on the merged model",
             "", "Made by `python experiments/remeasure/stale.py --write` (seed 0, "
             "`simulate()`, 20,000 worlds unless stated).", "",
             "| id | where | stated | merged model |", "|---|---|---|---|"]
    lines += [f"| `{r['id']}` | {r['where']} | {r['stated']} | {r['now']} |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--only", nargs="*", default=None, help="claim ids to measure")
    args = ap.parse_args(argv)
    path = HERE / "stale.json"
    kept = ({r["id"]: r["now"] for r in json.loads(path.read_text(encoding="utf-8"))}
            if path.exists() and args.only is not None else {})
    rows: list[dict[str, Any]] = [{"id": i, "where": w, "stated": s, "now": kept.get(i)}
                                  for i, w, s, _ in CLAIMS]
    funcs = {i: f for i, _, _, f in CLAIMS}
    for r in rows:
        if args.only is None or r["id"] in args.only:
            r["now"] = funcs[str(r["id"])]()
            print(f"{r['id']}: {r['now']}", flush=True)
    if args.write:
        path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        (HERE / "stale.md").write_text(markdown(rows), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
