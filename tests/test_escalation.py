"""Escalation from what the sides have stated, and reopening as a triggered event.

docs/model.md 7.2 (reopening) and 7.12 (escalation). Every comparison is paired: one
seed, the same worlds (common random numbers), the 95 % interval of the world-by-world
difference. Gate and support fixtures (tests/helpers.py) go to both sides alike.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from helpers import FROZEN_SUPPORT, merged

from sim import compose, load_params, parse_params, simulate
from sim.experiment.config import scenario_claims
from sim.model.model import PeaceModel

SEED = 11
WORLDS = 8000

#: docs/model.md 7.12: prior on the annual rate of a large coercive attack when every
#: stated demand is unmet, at the default military advantage 2 (b - 1/2) = 0.7.
RECORD_RATE = (0.03, 0.20)
ADVANTAGE = 0.7


def paired(a, b) -> tuple[float, float, float]:
    """Mean of ``b - a`` per world and its 95 % interval."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    m, se = d.mean(), d.std(ddof=1) / np.sqrt(d.size)
    return m, m - 1.96 * se, m + 1.96 * se


def outcomes(scenario="baseline", overrides=None, worlds=WORLDS, cfg=None, horizon=156):
    p = parse_params(cfg) if cfg is not None else load_params(scenario,
                                                              overrides=overrides or {})
    return simulate(p, worlds=worlds, seed=SEED, horizon_weeks=horizon).outcomes


# ------------------------------------------------------------------ reopening


def test_armenia_reopens_only_after_its_government_has_fallen():
    """Trigger ``successor``: no world reopens before its government fell, and without
    government falls no world reopens at all, though the government holds in most weeks."""
    o = outcomes()
    ro = o[o["reopened"]]
    assert len(ro) > 200
    assert (ro["reopened_by"] == "armenia").all()   # Baku's trigger never holds here
    assert ro["government_fell"].all()
    assert (ro["reopen_week"] >= ro["government_fell_week"]).all()
    # every channel of a fall off: the domestic hazards, the snap election, the lost
    # referendum, and Russia's lever on the government's survival (7.9, 7.15), which the
    # merge added to the weekly hazard (182 of 8,000 worlds still fell without it)
    still = {"domestic": {"government": {"fall_base_hazard": 0.0,
                                         "fall_mobilisation_hazard": 0.0,
                                         "early_election_probability": 0.0},
                          "constitution": {"failure_hazard": 0.0}},
             "actors": {"russia": {"survival_hazard": 0.0,
                                   "suspension": {"fall_hazard": 0.0}}}}
    o = outcomes(overrides=still)
    assert not o["government_fell"].any()
    assert not o["reopened"].any()


def test_without_its_trigger_a_holding_side_does_not_reopen():
    """corridor_demand: Baku holds every week (its red line excludes the text). With its
    stated corridor demand the trigger holds and it reopens at its hazard (the known
    answer is tests/test_negotiation.py); with its stated demand back at the text's term
    the same holding side, same hazard, never reopens."""
    c, _ = compose("corridor_demand")
    c["actors"]["armenia"]["reopen_hazard"] = 0.0
    m = PeaceModel(parse_params(c), worlds=2000, seed=SEED, horizon_weeks=30).run()
    assert not m.counterpart.accept.any()
    assert m.reopened.mean() > 0.6               # 1 - 0.95^30 = 0.79
    c["actors"]["azerbaijan"]["stated_demands"]["transit_regime"] = {"min": 0.3}
    m = PeaceModel(parse_params(c), worlds=2000, seed=SEED, horizon_weeks=30).run()
    assert not m.counterpart.accept.any()
    assert not m.reopened.any()


def test_a_reopening_side_restates_its_stated_demands_not_its_ideal():
    """corridor_demand: on reopening Baku's stated transit position becomes its stated
    demand (0.8), not its ideal (1.0); its other text positions do not move that week."""
    c, _ = compose("corridor_demand")
    c["actors"]["armenia"]["reopen_hazard"] = 0.0
    p = parse_params(c)
    m = PeaceModel(p, worlds=2000, seed=SEED, horizon_weeks=40)
    k = p.issues.index("transit_regime")
    other = [i for i, name in enumerate(p.issues)
             if name in p.negotiation.text_issues and i != k]
    seen = 0
    for t in range(m.horizon):
        before = m.counterpart.y.copy()
        m.step()
        now = m.reopen_week == t
        if now.any():
            seen += int(now.sum())
            y = m.counterpart.y[now]
            assert np.allclose(y[:, k], np.maximum(before[now, k], 0.8))
            assert (y[:, k] < 1.0).all()
            # the week's concession may move other issues a little; never to the ideal
            assert np.allclose(y[:, other], before[now][:, other], atol=0.02)
    assert seen > 500


def test_a_successor_reopening_asks_for_what_the_opposition_stated():
    """Armenia's stated demand for a successor (ANCA, Aug 2025): humanitarian >= 1."""
    p = load_params("baseline")
    m = PeaceModel(p, worlds=4000, seed=SEED, horizon_weeks=156)
    k = p.issues.index("humanitarian")
    seen = 0
    for t in range(m.horizon):
        m.step()
        now = (m.reopen_week == t) & (m.reopened_by == 0)
        # the successor's demand, the week it reopens; unless it fell later that week
        # and the party of the start came back with its own positions (the domestic
        # track runs after the decisions; seen under the posterior's higher fall rate)
        back = now & m.domestic.in_office
        now &= ~back
        seen += int(now.sum())
        assert (m.home.y[now, k] >= 1.0 - 1e-9).all()   # the week it reopens
        if back.any():   # it came back to the positions saved when it left office
            assert m.domestic.home_positions is not None
            assert (m.home.y[back, k] == m.domestic.home_positions[1][back, k]).all()
    assert seen > 100


def test_demands_must_name_issues_and_successor_needs_a_government():
    from sim.errors import ConfigError
    c, _ = compose("baseline")
    bad = copy.deepcopy(c)
    bad["actors"]["azerbaijan"]["stated_demands"] = {"corridor": {"min": 0.8}}
    with pytest.raises(ConfigError, match="stated_demands.corridor"):
        parse_params(bad)
    bad = copy.deepcopy(c)
    bad["actors"]["azerbaijan"]["reopen_trigger"] = "successor"
    with pytest.raises(ConfigError, match="reopen_trigger"):
        parse_params(bad)
    bad = copy.deepcopy(c)
    bad["actors"]["azerbaijan"]["stated_flags"] = ["corridor_open"]
    with pytest.raises(ConfigError, match="stated_flags"):
        parse_params(bad)


# ------------------------------------------------------------------ coercion


def test_coercion_prior_is_the_record_rate():
    """The configured prior on ``coercion_rate`` is the record's annual rate (7.12)
    divided by 52 weeks and the default advantage."""
    c, _ = compose("baseline")
    d = c["incidents"]["escalation"]["coercion_rate"]
    assert d["dist"] == "uniform"
    lo, hi = (x * 52 * ADVANTAGE for x in (d["low"], d["high"]))
    assert lo == pytest.approx(RECORD_RATE[0], rel=0.05)
    assert hi == pytest.approx(RECORD_RATE[1], rel=0.05)


def test_baseline_coercion_rate_per_year_lies_inside_the_record_prior():
    """Coercive escalations per active world-year in the baseline lie inside the record's
    prior scaled by the baseline's unmet share (one of Baku's five stated demands, the
    constitution): [0.03, 0.20] / 5 a year (docs/model.md 7.12)."""
    o = outcomes(worlds=20000)
    years = o["active_weeks"].sum() / 52.0
    k = int((o["escalation_kind"] == "coercion").sum())
    rate, se = k / years, np.sqrt(k) / years
    lo, hi = (r / 5 for r in RECORD_RATE)
    assert lo < rate - 1.96 * se and rate + 1.96 * se < hi, rate


def test_initialling_does_not_raise_war_risk():
    """Paired: the baseline against the same start without the initialling (the text then
    bargained over), support frozen on both sides. The fixed text keeps Baku's stated
    demands met, so P(escalation) with the text initialled is not higher."""
    ov = FROZEN_SUPPORT
    init = outcomes(overrides=ov)
    open_ = outcomes(overrides=merged(ov, {"state": {"events": {"initialling": None}}}))
    assert not open_["reopened"].any()
    m, lo, hi = paired(open_["escalated"], init["escalated"])
    assert hi < 0, (m, lo, hi)


# ------------------------------------------------------------------ behaviour 1


@pytest.mark.parametrize("scenario", ["incident_spike", "incident_sustained"])
def test_1_more_incidents_lower_p_sign_and_raise_escalation_paired(scenario):
    """Brief, behaviour 1, paired with the baseline: more incidents lower P(sign) and raise
    P(escalation); with public support frozen they still do not raise P(sign)."""
    base, more = outcomes(), outcomes(scenario)
    m, lo, hi = paired(base["signed"], more["signed"])
    assert hi < 0, (m, lo, hi)
    m, lo, hi = paired(base["escalated"], more["escalated"])
    assert lo > 0, (m, lo, hi)
    base, more = outcomes(overrides=FROZEN_SUPPORT), outcomes(scenario,
                                                              overrides=FROZEN_SUPPORT)
    m, lo, hi = paired(base["signed"], more["signed"])
    assert lo < 0, (m, lo, hi)


def test_the_deputies_reference_climate_is_the_start_before_the_first_weeks_burst():
    """The vote model's baselines (7.13) are the start's tension and mobilisation, not the
    state after week 0: a burst from week 0 (incident_spike) is a change, not the
    reference. Known answer: after one week tension has risen, the reference has not."""
    m = PeaceModel(load_params("incident_spike"), worlds=2000, seed=SEED, horizon_weeks=1)
    m.run()
    start = m.domestic._start
    assert start is not None
    assert np.array_equal(start.tension, m.p.state.tension)
    assert np.array_equal(start.mobilisation, m.p.actors["opposition"].mobilisation)
    assert (m.tension > start.tension + 0.05).mean() > 0.5


@pytest.mark.parametrize("scenario", ["corridor_demand", "incident_spike",
                                      "incident_sustained", "march_2025"])
def test_escalation_scenarios_state_their_claims(scenario):
    claims = scenario_claims(scenario)
    assert claims is not None and claims.directions.get("p_escalation") == "up"


def test_march_2025_escalation_by_the_election_is_unlikely():
    """Backtest, escalation channel alone: started on 13 Mar 2025 (Minsk open, the text
    agreed, not initialled), no escalation by the 7 Jun 2026 election, as happened, has
    P >= 0.9 at the lower end of its 95 % interval (record-calibrated coercion: about
    0.94)."""
    import datetime as dt

    from sim.model import rules
    p = load_params("march_2025")
    o = simulate(p, worlds=6000, seed=SEED, horizon_weeks=70).outcomes
    week = (dt.date(2026, 6, 7) - p.state.start_date).days // 7
    calm = (o["escalation_week"] < 0) | (o["escalation_week"] > week)
    lo, _ = rules.wilson_interval(int(calm.sum()), len(o))
    assert lo >= 0.9, calm.mean()
