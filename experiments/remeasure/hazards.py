"""The rate per year each hazard implies in the baseline, beside the record's base rate.

Runs a scenario (default the baseline, 20,000 worlds, seed 0, as one block: the worlds
of ``simulate(load_params("baseline"), worlds=20000, seed=0)``; ``--block-worlds 10000``
gives ``sim-run worlds=20000 seed=0``'s) week by week, and from each world's event
weeks and its weeks at risk computes the implied annual rate of

* the **fall of the start's government** (its first fall, over the years it was in
  office in a running world), split by route: a lost snap election (called after a
  failed or postponed two-thirds vote), a lost scheduled election, a failed referendum
  (the 1998 channel, ``failure_hazard``), and the weekly hazard, itself split into its
  terms (any cause, mass protest, outside powers) in proportion to each term's share
  of the hazard in the week of the fall;
* **escalation** (over active world-years), by cause: coercion over Baku's unmet
  stated demands, incident spirals;
* **reopening** of the initialled text (over the world-years the text was fixed in a
  running world), by side, and for each side over the years its trigger held.

Each rate has a 95 % interval (exact Poisson for a count over its exposure; the delta
method for the fractional split of the weekly hazard). Beside each: the record's base
rate from DOMAIN.md (the line quoted), with its Poisson interval.

    python experiments/remeasure/hazards.py            # check hazards.json (exit 1 if stale)
    python experiments/remeasure/hazards.py --write    # rewrite hazards.json, hazards.md
                                                       # and the table in docs/model.md
    python experiments/remeasure/hazards.py --scenario march_2025   # print another's table

The instrumented run only reads the model between weeks (no random draws): its worlds
table equals ``simulate()``'s world by world (``tests/test_hazards_table.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import re
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.experiment.api import collect
from sim.experiment.config import load_params
from sim.experiment.runs import block_plan
from sim.model.codes import DomesticEvent, Status
from sim.model.model import PeaceModel
from sim.model.schedule import Decisions, Escalation

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
JSON = HERE / "hazards.json"
MD = HERE / "hazards.md"
DOC = ROOT / "docs" / "model.md"
START, END = "<!-- hazards-table:start -->", "<!-- hazards-table:end -->"
COMMAND = "python experiments/remeasure/hazards.py --write"
#: One block of all the worlds: the run is ``simulate(load_params(scenario), worlds, seed)``,
#: the run the tests and docs/model.md quote at "20,000 worlds, seed 0".
WORLDS, SEED, BLOCK, HORIZON = 20_000, 0, 20_000, 156
WEEKS_PER_YEAR = 52.0
Z = 1.959963984540054

#: The record's base rates (DOMAIN.md, the line quoted): events over years observed.
#: Independence (21 Sep 1991) to the end of the stored sources (25 Jun 2026).
_INDEPENDENCE_YEARS = (dt.date(2026, 6, 25) - dt.date(1991, 9, 21)).days / 365.25
#: The initialling (8 Aug 2025) to the end of the stored sources.
_INITIALLED_YEARS = (dt.date(2026, 6, 25) - dt.date(2025, 8, 8)).days / 365.25
RECORD: dict[str, dict[str, Any]] = {
    "government_fall": {
        "events": [2], "years": _INDEPENDENCE_YEARS,
        "what": "leaders who left office early under pressure since independence "
                "(Ter-Petrosyan Feb 1998, Sargsyan Apr 2018), 21 Sep 1991 to 25 Jun 2026",
        "section": "Outside forecasts to compare with",
        "quote": "since independence two Armenian leaders left office early under "
                 "pressure: President Ter-Petrosyan (Feb 1998), when his own ministers "
                 "and parliamentary majority rejected his step-by-step Karabakh "
                 "settlement, and Serzh Sargsyan (Apr 2018), after eleven days of mass "
                 "protest",
    },
    "escalation": {
        "events": [4, 5], "years": 31.0,
        "what": "large interstate escalations 1992-2023 (1992-94, Apr 2016, autumn 2020, "
                "Sep 2022, Sep 2023)",
        "section": "Outside forecasts to compare with",
        "quote": "Large interstate escalations on this conflict: 1992–94, April 2016, "
                 "autumn 2020, September 2022, September 2023 (Karabakh): four or five in "
                 "about 31 years, none since the 2023 exodus ended the Karabakh front.",
    },
    "escalation.coercion": {
        "events": [3, 4], "years": 31.0,
        "what": "the same less April 2016 (the incident channel's event, docs/model.md "
                "7.12); Sep 2022 'came without a preceding incident spiral'",
        "section": "Border incidents; Outside forecasts to compare with",
        "quote": "September 2022: a large Azerbaijani attack on Armenia proper came "
                 "without a preceding incident spiral (coercion, not escalation from "
                 "incidents).",
    },
    "escalation.incidents": {
        "events": [1], "years": 31.0,
        "what": "April 2016, the four-day war, on the old line of contact",
        "section": "Border incidents",
        "quote": "escalation cycles 2010–2017 tracked negotiation intensity.",
    },
    "reopening": {
        "events": [0], "years": _INITIALLED_YEARS,
        "what": "no side reopened the text from its initialling (8 Aug 2025) to the end "
                "of the sources (25 Jun 2026); no government fell",
        "section": "Timeline",
        "quote": "Jun 2026 | treaty still initialled, not signed",
    },
}

#: Rows of the table: key, hazard, route, and which record row it is set beside.
ROWS = (
    ("government_fall", "government fall", "all routes", "government_fall"),
    ("government_fall.snap_election", "government fall", "lost snap election", None),
    ("government_fall.scheduled_election", "government fall", "lost scheduled election",
     None),
    ("government_fall.failed_referendum", "government fall", "failed referendum", None),
    ("government_fall.weekly_hazard", "government fall", "weekly hazard", None),
    ("government_fall.weekly_hazard.base", "government fall",
     "weekly hazard: any cause", None),
    ("government_fall.weekly_hazard.mobilisation", "government fall",
     "weekly hazard: mass protest", None),
    ("government_fall.weekly_hazard.outside", "government fall",
     "weekly hazard: outside powers", None),
    ("government_change", "government fall", "any government (successors too), "
     "per active world-year", "government_fall"),
    ("escalation", "escalation", "all causes", "escalation"),
    ("escalation.coercion", "escalation", "coercion", "escalation.coercion"),
    ("escalation.incidents", "escalation", "incident spiral", "escalation.incidents"),
    ("reopening", "reopening", "either side", "reopening"),
)


def poisson_interval(k: float, exposure: float) -> tuple[float, float]:
    """Exact (Garwood) 95 % interval of a Poisson rate: ``k`` events over ``exposure``."""
    lo = 0.0 if k <= 0 else stats.chi2.ppf(0.025, 2 * k) / 2.0
    hi = stats.chi2.ppf(0.975, 2 * k + 2) / 2.0
    return float(lo / exposure), float(hi / exposure)


def ratio_interval(num: np.ndarray, den: np.ndarray) -> tuple[float, float, float]:
    """``sum(num) / sum(den)`` over worlds with its delta-method 95 % interval."""
    n = len(num)
    r = float(num.sum() / den.sum())
    resid = num - r * den
    se = float(np.sqrt(n * np.sum(resid ** 2) / (n - 1)) / den.sum())
    return r, max(0.0, r - Z * se), r + Z * se


def _rate(k: float, weeks: float) -> dict[str, Any]:
    """``k`` events over ``weeks`` at risk as a rate a year (None without exposure)."""
    years = weeks / WEEKS_PER_YEAR
    if years <= 0:
        return {"events": float(k), "years": 0.0, "rate": None, "low": None, "high": None}
    lo, hi = poisson_interval(k, years)
    return {"events": float(k), "years": years, "rate": k / years, "low": lo, "high": hi}


def run_block(scenario: str, size: int, seed: int, block: int, horizon: int,
              overrides: list[str]) -> tuple[pd.DataFrame, dict[str, np.ndarray], list[str]]:
    """One block of worlds, stepped week by week: its worlds table, per-world tallies
    and the signatories' names.

    Tallies (each ``(size,)``): the weeks the start's government was at risk, the route
    of its first fall, the weekly-hazard terms' shares in the week of a hazard fall, the
    weeks the text was fixed and each side's trigger held.
    """
    params = load_params(scenario, overrides=overrides)
    m = PeaceModel(params, worlds=size, seed=seed, horizon_weeks=horizon, block=block)
    dec, esc = m.mechanism(Decisions), m.mechanism(Escalation)
    dom = m.domestic
    W = m.W
    S = len(m.signatories)
    gov_weeks = np.zeros(W)
    route = np.full(W, "", dtype=object)
    terms = np.zeros((3, W))           # share of each weekly-hazard term at a hazard fall
    fixed_weeks = np.zeros(W)
    trigger_weeks = np.zeros((S, W))
    unmet = np.zeros(W)                 # sum over active weeks of Baku's unmet share G
    for t in range(horizon):
        act = m.status == Status.ACTIVE
        at_risk = act & (dom.fell_week < 0)
        refs_before = dom.referendums.copy()
        reopened_before = m.reopened.copy()
        m.step()
        gov_weeks += at_risk
        # the text counts as fixed in a week it was fixed at the decision step (7.2);
        # the week it is reopened is its last week at risk
        fixed = act & m.text_fixed_now & ~reopened_before
        fixed_weeks += fixed
        for i, s in enumerate(m.signatories):
            trigger_weeks[i] += fixed & dec.triggered(m, s)
        unmet += act * esc.unmet_share(m)
        fell = at_risk & (dom.fell_week == t)
        if not fell.any():
            continue
        ev = dom.event
        lost = fell & (ev == DomesticEvent.ELECTION_LOST)
        route[lost] = "scheduled_election" if t in dom.election_weeks else "snap_election"
        ref_failed = (fell & ~lost & (dom.referendums > refs_before)
                      & ~((dom.yes_cast > params.domestic.referendum.yes_threshold)
                          & (dom.yes_registered >= params.domestic.referendum.quorum)))
        route[ref_failed] = "failed_referendum"
        hz = fell & ~lost & ~ref_failed
        route[hz] = "weekly_hazard"
        # the hazard's terms in the week of the fall, read through fall_hazard itself
        inp = dom._inputs
        assert inp is not None
        total = dom.fall_hazard(inp)
        no_outside = dom.fall_hazard(replace(inp, outside_fall_hazard=0.0))
        base = dom.fall_hazard(replace(inp, mobilisation=np.zeros(W),
                                       outside_fall_hazard=0.0))
        share = np.divide(np.stack([base, no_outside - base, total - no_outside]), total,
                          out=np.zeros((3, W)), where=total > 0)
        terms[:, hz] = share[:, hz]
    res = collect(m)
    tallies = {"gov_weeks": gov_weeks, "route": route, "terms": terms,
               "fixed_weeks": fixed_weeks, "trigger_weeks": trigger_weeks,
               "unmet": unmet}
    return res.outcomes, tallies, [sg.name for sg in m.signatories]


def measure(scenario: str = "baseline", worlds: int = WORLDS, seed: int = SEED,
            horizon: int = HORIZON, block_worlds: int = BLOCK,
            overrides: list[str] | None = None) -> dict[str, Any]:
    """Every rate of the table, from a fresh run."""
    overrides = list(overrides or [])
    outs, talls = [], []
    for b, size in enumerate(block_plan(worlds, block_worlds)):
        o, t, sides = run_block(scenario, size, seed, b, horizon, overrides)
        outs.append(o)
        talls.append(t)
    o = pd.concat(outs, ignore_index=True)
    tal = {k: np.concatenate([t[k] for t in talls], axis=-1) for k in talls[0]}
    n = len(o)
    fell = o["government_fell"].to_numpy(bool)
    fell_week = o["government_fell_week"].to_numpy()
    active = o["active_weeks"].to_numpy(float)
    gov = tal["gov_weeks"]
    # the exposure is the one tests/test_government.py::fall_rate_per_year counts
    assert np.array_equal(gov, np.where(fell, fell_week + 1, active)), "exposure"
    route = tal["route"]
    assert ((route != "") == fell).all(), "every first fall has a route"
    rows: dict[str, dict[str, Any]] = {}
    rows["government_fall"] = _rate(fell.sum(), gov.sum())
    for via in ("snap_election", "scheduled_election", "failed_referendum", "weekly_hazard"):
        rows[f"government_fall.{via}"] = _rate((route == via).sum(), gov.sum())
    for j, name in enumerate(("base", "mobilisation", "outside")):
        num = tal["terms"][j] * (route == "weekly_hazard")
        r, lo, hi = ratio_interval(num, gov / WEEKS_PER_YEAR)
        rows[f"government_fall.weekly_hazard.{name}"] = {
            "events": float(num.sum()), "years": gov.sum() / WEEKS_PER_YEAR,
            "rate": r, "low": lo, "high": hi}
    rows["government_change"] = _rate(o["government_changes"].sum(), active.sum())
    kind = o["escalation_kind"].astype(str).to_numpy()
    esc = o["escalated"].to_numpy(bool)
    rows["escalation"] = _rate(esc.sum(), active.sum())
    rows["escalation.coercion"] = _rate((kind == "coercion").sum(), active.sum())
    rows["escalation.incidents"] = _rate((kind == "incidents").sum(), active.sum())
    reopened = o["reopened"].to_numpy(bool)
    by = o["reopened_by"].astype(str).to_numpy()
    fixed = tal["fixed_weeks"]
    rows["reopening"] = _rate(reopened.sum(), fixed.sum())
    reopen_sides: dict[str, Any] = {}
    for i, side in enumerate(sides):
        k = int((by == side).sum())
        trig = tal["trigger_weeks"][i].sum()
        reopen_sides[side] = {"per_fixed_year": _rate(k, fixed.sum()),
                              "while_triggered": _rate(k, trig)}
    record = {}
    for key, rec in RECORD.items():
        lo = min(poisson_interval(k, rec["years"])[0] for k in rec["events"])
        hi = max(poisson_interval(k, rec["years"])[1] for k in rec["events"])
        record[key] = {**rec, "rates": [k / rec["years"] for k in rec["events"]],
                       "low": lo, "high": hi}
    return {
        "command": COMMAND, "scenario": scenario, "worlds": n, "seed": seed,
        "horizon_weeks": horizon, "block_worlds": block_worlds, "overrides": overrides,
        "start_date": str(load_params(scenario, overrides=overrides).state.start_date),
        "p_government_fell": float(fell.mean()), "p_escalation": float(esc.mean()),
        "p_reopened": float(reopened.mean()), "p_sign": float(o["signed"].mean()),
        "mean_unmet_share": float(tal["unmet"].sum() / active.sum()),
        "rows": rows, "reopening_by_side": reopen_sides, "record": record,
    }


# ------------------------------------------------------------------ the table
def _f(x: float | None, d: int = 3) -> str:
    """``x`` to ``d`` decimals, or to two significant figures when it is smaller."""
    if x is None:
        return "n/a"
    if 0 < abs(x) < 10 ** -(d - 1):
        d = min(6, 1 - math.floor(math.log10(abs(x))))
    return f"{x:.{d}f}"


def _cell(r: dict[str, Any], d: int = 3) -> str:
    if r["rate"] is None:
        return "n/a (never at risk)"
    return f"{_f(r['rate'], d)} [{_f(r['low'], d)}, {_f(r['high'], d)}]"


def _record_cell(rec: dict[str, Any]) -> str:
    ev = " or ".join(str(k) for k in rec["events"])
    rates = "–".join(_f(x) for x in rec["rates"])
    return (f"{ev} in {rec['years']:.1f} years: {rates} [{_f(rec['low'])}, "
            f"{_f(rec['high'])}]")


def table(h: dict[str, Any]) -> str:
    """The markdown table docs/model.md and hazards.md carry, from ``h`` (hazards.json)."""
    out = ["| key | hazard | route | events | world-years at risk | implied per year "
           "[95 %] | record per year [95 %] |",
           "|---|---|---|---|---|---|---|"]
    for key, hazard, what, rec in ROWS:
        r = h["rows"][key]
        events = (f"{int(r['events'])}" if float(r["events"]).is_integer()
                  else f"{r['events']:.1f}")
        out.append(f"| `{key}` | {hazard} | {what} | {events} | {r['years']:,.0f} | "
                   f"{_cell(r)} | {_record_cell(h['record'][rec]) if rec else ''} |")
    for side, rr in h["reopening_by_side"].items():
        for part, label in (("per_fixed_year", "per year the text was fixed"),
                            ("while_triggered", "per year its trigger held")):
            r = rr[part]
            out.append(f"| `reopening.{side}.{part}` | reopening | by {side}, {label} | "
                       f"{int(r['events'])} | {r['years']:,.0f} | "
                       f"{_cell(r)} | |")
    return "\n".join(out)


def caption(h: dict[str, Any]) -> str:
    return (f"Scenario `{h['scenario']}` from {h['start_date']}, {h['worlds']:,} worlds, "
            f"seed {h['seed']}, {h['horizon_weeks']} weeks "
            f"(`experiments/remeasure/hazards.json`, made by `{h['command']}`).")


def block(h: dict[str, Any]) -> str:
    return f"{START}\n{caption(h)}\n\n{table(h)}\n{END}"


def quoted(doc: str) -> str:
    """The marked block of ``doc`` (docs/model.md).

    Raises:
        ValueError: It has none.
    """
    m = re.search(re.escape(START) + r".*?" + re.escape(END), doc, flags=re.S)
    if m is None:
        raise ValueError(f"docs/model.md has no {START} ... {END} block")
    return m.group(0)


def markdown(h: dict[str, Any]) -> str:
    """hazards.md: the table, the records quoted, and how it was made."""
    lines = ["# Hazards against base rates", "",
             f"Made by `{h['command']}` (check: the same command without `--write`).", "",
             caption(h), "", table(h), "",
             f"P(government fell) {h['p_government_fell']:.4f}, P(escalation) "
             f"{h['p_escalation']:.4f}, P(reopened) {h['p_reopened']:.4f}, P(sign) "
             f"{h['p_sign']:.4f}; Baku's mean unmet share of its stated demands over "
             f"active weeks G = {h['mean_unmet_share']:.3f}.", "",
             "Exposure: a government fall counts the start's government's first fall over "
             "the weeks it was in office in a running world; escalation the weeks a world "
             "was active; reopening the weeks the initialled text was fixed in a running "
             "world (and, by side, the weeks that side's trigger held). Intervals: exact "
             "Poisson; the weekly hazard's terms share each fall in proportion to the "
             "term's part of the hazard that week (delta-method interval).", "",
             "## The record (DOMAIN.md)", ""]
    for key, rec in h["record"].items():
        lines += [f"- `{key}` ({rec['section']}): {rec['what']}. Quoted: "
                  f"\"{rec['quote']}\""]
    return "\n".join(lines) + "\n"


def _dump(h: dict[str, Any]) -> str:
    return json.dumps(h, indent=1, sort_keys=True, default=float) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=WORLDS)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--block-worlds", type=int, default=BLOCK)
    ap.add_argument("--scenario", default="baseline",
                    help="another scenario: print its table (hazards.json is the baseline's)")
    ap.add_argument("--write", action="store_true",
                    help="rewrite hazards.json, hazards.md and docs/model.md's table")
    args = ap.parse_args(argv)
    if args.scenario != "baseline" and args.write:
        ap.error("--write records the baseline only; drop --scenario or --write")
    h = json.loads(_dump(measure(args.scenario, worlds=args.worlds, seed=args.seed,
                                 block_worlds=args.block_worlds)))
    if args.scenario != "baseline":
        print(caption(h) + "\n\n" + table(h))
        return 0
    if args.write:
        JSON.write_text(_dump(h), encoding="utf-8")
        MD.write_text(markdown(h), encoding="utf-8")
        doc = DOC.read_text(encoding="utf-8")
        quoted(doc)
        DOC.write_text(re.sub(re.escape(START) + r".*?" + re.escape(END),
                              lambda _: block(h), doc, flags=re.S), encoding="utf-8")
        print(f"wrote {JSON.relative_to(ROOT)}, {MD.relative_to(ROOT)} and the table "
              f"in {DOC.relative_to(ROOT)}")
        return 0
    have = json.loads(JSON.read_text(encoding="utf-8")) if JSON.exists() else None
    if have == h:
        print("hazards.json is that of a fresh run")
        return 0
    print(f"hazards.json is stale: run `{COMMAND}`")
    print(table(h))
    return 1


if __name__ == "__main__":
    sys.exit(main())
