"""docs/model.md's table of hazards against base rates is experiments/remeasure/hazards.json.

The table (7.12, between the ``hazards-table`` markers) is generated from the JSON by
``python experiments/remeasure/hazards.py --write``; these tests read the numbers back
from the docs and compare them with the JSON's, row by row, so that neither drifts from
the other. The instrumented run behind the JSON must give ``simulate()``'s worlds; the
slow test re-measures the JSON itself (20,000 worlds, about 20 s).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd
import pytest
from helpers import load_script

from sim.experiment.api import simulate
from sim.experiment.config import load_params

ROOT = Path(__file__).resolve().parent.parent
hz = load_script("experiments/remeasure/hazards.py")

NUMBER = re.compile(r"(?<![\w.`])\d[\d,]*(?:\.\d+)?")


def _rows(block: str) -> dict[str, list[float]]:
    """Each table row's numbers (every cell after the key), keyed by the row's key."""
    out: dict[str, list[float]] = {}
    for line in block.splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|(.*)\|\s*$", line)
        if m is None:
            continue
        out[m.group(1)] = [float(x.replace(",", "")) for x in NUMBER.findall(m.group(2))]
    return out


def _json() -> dict:
    return json.loads(hz.JSON.read_text(encoding="utf-8"))


def test_the_docs_table_has_the_numbers_of_hazards_json():
    h = _json()
    have = _rows(hz.quoted(hz.DOC.read_text(encoding="utf-8")))
    want = _rows(hz.table(h))
    assert have.keys() == want.keys(), "docs/model.md's hazard table has other rows"
    for key, nums in want.items():
        assert len(have[key]) == len(nums) and all(
            math.isclose(a, b, rel_tol=0, abs_tol=1e-12)
            for a, b in zip(have[key], nums, strict=True)), (
            f"docs/model.md's hazard row {key}: {have[key]} against hazards.json's {nums};"
            f" run `{hz.COMMAND}`")
    # and each number printed is the JSON's, rounded as printed
    for key, *_ in hz.ROWS:
        r = h["rows"][key]
        assert f"{hz._f(r['rate'])} [{hz._f(r['low'])}, {hz._f(r['high'])}]" in \
            hz.quoted(hz.DOC.read_text(encoding="utf-8")), key


def test_the_row_reader_sees_a_changed_number():
    h = _json()
    text = hz.table(h)
    key = "escalation"
    r = h["rows"][key]
    wrong = text.replace(f"| {hz._f(r['rate'])} [", f"| {hz._f(r['rate'] + 0.5)} [", 1)
    assert _rows(wrong)[key] != _rows(text)[key]


def test_the_json_states_its_run_and_every_rate_lies_in_its_interval():
    h = _json()
    assert (h["scenario"], h["worlds"], h["seed"]) == ("baseline", hz.WORLDS, hz.SEED)
    assert h["command"] == hz.COMMAND
    for key, r in h["rows"].items():
        assert r["low"] <= r["rate"] <= r["high"], key
        assert r["events"] <= r["years"] * 52, key
    for rec in h["record"].values():
        assert all(rec["low"] <= x <= rec["high"] for x in rec["rates"])


def test_the_routes_of_a_fall_add_up_to_the_falls():
    rows = _json()["rows"]
    routes = ("snap_election", "scheduled_election", "failed_referendum", "weekly_hazard")
    assert sum(rows[f"government_fall.{r}"]["events"] for r in routes) == \
        rows["government_fall"]["events"]
    terms = ("base", "mobilisation", "outside")
    assert math.isclose(sum(rows[f"government_fall.weekly_hazard.{t}"]["events"]
                            for t in terms), rows["government_fall.weekly_hazard"]["events"])
    assert rows["escalation.coercion"]["events"] + rows["escalation.incidents"]["events"] \
        == rows["escalation"]["events"]


@pytest.mark.parametrize("k, exposure, low, high", [
    (0, 1.0, 0.0, 3.6889),      # the rule of three's exact form: -ln(0.025)
    (2, 10.0, 0.02422, 0.72247),
    (10, 100.0, 0.04795, 0.18390),
])
def test_poisson_interval_known_answers(k, exposure, low, high):
    lo, hi = hz.poisson_interval(k, exposure)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


def test_the_instrumented_run_gives_simulates_worlds():
    """Reading the model between weeks changes nothing: same worlds table, and the
    tallies agree with the table's own event columns."""
    o, tal, sides = hz.run_block("baseline", 400, 3, 0, 104, [])
    ref = simulate(load_params("baseline"), worlds=400, seed=3, horizon_weeks=104).outcomes
    pd.testing.assert_frame_equal(o, ref)
    assert sides == ["armenia", "azerbaijan"]
    fell = o["government_fell"].to_numpy(bool)
    assert ((tal["route"] != "") == fell).all()
    assert (tal["fixed_weeks"] <= o["active_weeks"].to_numpy()).all()


@pytest.mark.slow
def test_hazards_json_is_that_of_a_fresh_run():
    fresh = json.loads(hz._dump(hz.measure()))
    assert fresh == _json(), f"hazards.json is stale: run `{hz.COMMAND}`"
