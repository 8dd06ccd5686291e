"""Each outside power acts through its own named channel (docs/model.md 7.8, 7.9).

Every comparison is paired (same seed, same worlds: common random numbers) with public
support held at its initial draw (FROZEN_SUPPORT), so no power works through the support
channel, and with the constitutional gate opened (OPEN_GATE) or passed (PASSED_GATE),
so that enough worlds sign to see a channel. Each test asserts the direction
docs/model.md derives and that the 95 % interval of the world-by-world difference
excludes zero.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import FROZEN_SUPPORT, OPEN_GATE, PASSED_GATE, merged

from sim import simulate
from sim.errors import ConfigError
from sim.experiment.config import load_params
from sim.model.model import PeaceModel
from sim.model.schedule import Incidents

SEED = 0
WORLDS = 20_000


def outcomes(scenario: str, *overrides: dict, worlds: int = WORLDS):
    return simulate(load_params(scenario, overrides=merged(FROZEN_SUPPORT, *overrides)),
                    worlds=worlds, seed=SEED).outcomes


def paired(a, b, col: str) -> tuple[float, float, float]:
    """Mean of ``b - a`` per world on ``col`` and its 95 % interval."""
    d = b[col].to_numpy(float) - a[col].to_numpy(float)
    m, se = d.mean(), d.std(ddof=1) / np.sqrt(d.size)
    return m, m - 1.96 * se, m + 1.96 * se


def up(r):
    assert r[1] > 0, f"expected a rise, got {r[0]:+.4f} [{r[1]:+.4f}, {r[2]:+.4f}]"


def down(r):
    assert r[2] < 0, f"expected a fall, got {r[0]:+.4f} [{r[1]:+.4f}, {r[2]:+.4f}]"


def actor(name: str, **keys) -> dict:
    return {"actors": {name: keys}}


# ----------------------------------------------------------------------------- EU

def test_eu_incentives_raise_p_sign():
    """7.3/7.8: an incentive lowers each side's reservation value, so more packages clear
    it: without the EU's incentives P(sign) falls."""
    base = outcomes("baseline", PASSED_GATE)
    none = outcomes("baseline", PASSED_GATE,
                    actor("eu", incentives={"armenia": 0.0, "azerbaijan": 0.0}))
    down(paired(base, none, "signed"))


def test_eu_monitors_leaving_raises_p_escalation():
    """7.8: monitors damp the incident base rate, the spiral and contested attributions;
    without them incidents, damage and tension rise and so does the incident-driven
    escalation hazard (the coercion hazard does not read incidents: a small effect)."""
    base = outcomes("baseline", worlds=50_000)
    gone = outcomes("eu_monitors_leave", worlds=50_000)
    up(paired(base, gone, "escalated"))
    up(paired(base, gone, "incidents"))


def test_each_monitor_channel_damps_incidents():
    """Base rate, spiral and attribution each act while monitors are present (the
    mandate runs to Feb 2027: the first ten weeks)."""
    p = load_params("baseline", overrides=merged(
        actor("eu", monitors={"damping": 0.0, "spiral_damping": 1.0, "attribution": 1.0})))
    m = PeaceModel(p, worlds=200, seed=SEED, horizon_weeks=1)
    damping, spiral, settled = Incidents.monitor_effects(m)
    assert (damping == 0).all() and (spiral == 1).all() and (settled == 1).all()
    m.run()
    assert (m.border.h == 0).all()          # no excitation carried over
    assert not m.border.contested.any()    # every attribution settled


def test_monitors_absent_damp_nothing():
    p = load_params("baseline", overrides=actor("eu", monitors=None))
    m = PeaceModel(p, worlds=50, seed=SEED, horizon_weeks=1)
    assert all((x == 0).all() for x in Incidents.monitor_effects(m))


# ----------------------------------------------------------------------------- US

def test_us_guarantee_raises_p_sign():
    """7.4/7.8: a guarantee removes a share of the commitment cost at acceptance."""
    base = outcomes("baseline", PASSED_GATE)
    none = outcomes("baseline", PASSED_GATE, actor("us", guarantee=0.0))
    down(paired(base, none, "signed"))


def test_us_incentives_raise_p_sign():
    """7.3/7.8: TRIPP and the Section 907 waiver lower both reservation values."""
    base = outcomes("baseline", PASSED_GATE)
    none = outcomes("baseline", PASSED_GATE,
                    actor("us", incentives={"armenia": 0.0, "azerbaijan": 0.0}))
    down(paired(base, none, "signed"))


def test_us_disengaging_lowers_p_sign_with_the_gate_open():
    """Fading attention scales down every US channel at once (incentives, guarantee,
    weight at the table)."""
    down(paired(outcomes("baseline", OPEN_GATE), outcomes("us_disengages", OPEN_GATE),
                "signed"))


# ------------------------------------------------------------------------- Russia

def russia_levers(hazard: float, probability: float = 0.5, pressure: float = 0.0) -> dict:
    """Russia's survival lever and the EAEU suspension's fall shock, both at ``hazard``."""
    return actor("russia", survival_hazard=hazard,
                 suspension={"event": "eaeu_suspension_report", "probability": probability,
                             "pressure": pressure, "fall_hazard": hazard})


def test_russia_lever_on_survival_raises_falls_and_lowers_p_sign():
    """7.9/7.15: Russia's named term of the fall hazard (survival_hazard x spoiling plus
    the EAEU suspension's shock) brings more governments down, and a successor signs
    less."""
    off = outcomes("baseline", OPEN_GATE, russia_levers(0.0))
    on = outcomes("baseline", OPEN_GATE, russia_levers(0.0004))
    up(paired(off, on, "government_fell"))
    down(paired(off, on, "signed"))


def test_russia_signing_cost_lowers_p_sign():
    """7.3/7.9: spoiling raises Armenia's reservation value by signing_cost x sigma."""
    base = outcomes("baseline", PASSED_GATE)
    none = outcomes("baseline", PASSED_GATE,
                    actor("russia", signing_cost={"armenia": 0.0, "azerbaijan": 0.0}))
    up(paired(base, none, "signed"))


def test_eaeu_decision_is_drawn_on_its_week_with_its_prior():
    p = load_params("baseline", overrides=actor(
        "russia", suspension={"event": "eaeu_suspension_report", "probability": 0.4,
                              "pressure": 0.15, "fall_hazard": 0.001}))
    m = PeaceModel(p, worlds=4000, seed=SEED, horizon_weeks=3)
    week = next(s.week for s in m.calendar.events if s.name == "eaeu_suspension_report")
    russia = next(sp for sp in m.spoilers if sp.name == "russia")
    assert not russia.suspended.any()
    for t in range(week + 1):
        m.step()
        if t < week:
            assert not russia.suspended.any()
    share = russia.suspended.mean()
    assert abs(share - 0.4) < 3 * np.sqrt(0.4 * 0.6 / 4000)
    # paired, world by world, against the same worlds with no suspension: the outcome's
    # 0.15 only where it went against Armenia. (The calendar's pending events complete
    # per world and add their own pressure, so a difference of group means is not 0.15.)
    none = PeaceModel(load_params("baseline", overrides=actor(
        "russia", suspension={"event": "eaeu_suspension_report", "probability": 0.0,
                              "pressure": 0.15, "fall_hazard": 0.001})),
        worlds=4000, seed=SEED, horizon_weeks=3)
    for _ in range(week + 1):
        none.step()
    other = next(sp for sp in none.spoilers if sp.name == "russia")
    assert not other.suspended.any()
    assert np.allclose(russia.pressure - other.pressure, 0.15 * russia.suspended)
    expected = russia.p.survival_hazard * russia.sigma + 0.001 * russia.suspended
    assert np.allclose(russia.fall_hazard(), expected)
    assert np.allclose(m.outside_fall_hazard, expected)


def test_unknown_suspension_event_is_a_one_line_error():
    with pytest.raises(ConfigError) as e:
        load_params("baseline", overrides={"actors.russia.suspension.event": "eaeu_report"})
    msg = str(e.value)
    assert "actors.russia.suspension.event" in msg and "\n" not in msg
    assert "eaeu_suspension_report" in msg
