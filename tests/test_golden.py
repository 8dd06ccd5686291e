"""Every scenario's numbers at a fixed seed are those of the golden record."""

from __future__ import annotations

import json

import pytest
from golden_outcomes import RECORD, scenario_hashes

from sim import scenarios

RECORDED = json.loads(RECORD.read_text())


def test_every_bundled_scenario_is_in_the_record():
    assert sorted(RECORDED) == sorted(scenarios())


@pytest.mark.parametrize("scenario", sorted(RECORDED))
def test_outcomes_match_the_golden_record(scenario):
    now = scenario_hashes(scenario)
    for table in ("worlds", "steps"):
        want = RECORDED[scenario][table]
        missing = sorted(set(want) - set(now[table]))
        assert not missing, f"{scenario}: {table} columns gone: {missing}"
        moved = sorted(c for c in want if now[table][c] != want[c])
        assert not moved, f"{scenario}: {table} columns changed: {moved}"
