"""Stylized facts the model must show (MODEL-BRIEF.md, "Behaviour it must show").

Fixed seeds and enough worlds for each effect to be unambiguous. Scenarios compared
with one seed share their random numbers (common random numbers), so differences are
paired and small worlds counts already separate them.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from helpers import FIXED_AGENDA, OPEN_GATE, merged, two_party_cfg

from sim import parse_params, simulate
from sim.model.model import PeaceModel, rules

WORLDS = 4000
SEED = 2026


def run(cfg, worlds=WORLDS, seed=SEED, horizon=156):
    return simulate(parse_params(cfg), worlds=worlds, seed=seed, horizon_weeks=horizon)


def with_(cfg, path, value):
    c = copy.deepcopy(cfg)
    node = c
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return c


def test_1_more_incidents_never_raise_p_sign(cfg):
    rates = [0.02, 0.1, 0.3, 0.8]
    cfg = merged(cfg, OPEN_GATE)  # the incidents' channel, whatever the referendum prior
    p = [run(with_(cfg, ("incidents", "base_rate"), r)).summary()["p_sign"] for r in rates]
    for a, b in zip(p, p[1:], strict=False):
        assert b <= a + 0.005, p
    assert p[0] - p[-1] > 0.05, p  # about 0.09 at 4,000 worlds (SE of the gap ~0.005)


def test_2_stronger_opposition_lowers_p_sign_and_pulls_terms_toward_armenia(cfg):
    """Putnam's two-level game and Schelling's tied hands.

    Channel for the terms: the table, through the government's leverage at the table and
    the domestic pull on its stated position, on a text not yet initialled (the
    initialling event cancelled), so that every issue is bargained over. With the text
    fixed the side issues alone move away from Armenia (-0.003 in Armenia's utility, 95 %
    interval excluding zero); at 1c616bf the claim held there only through Baku's
    reopening of the text without a trigger (docs/model.md 7.2, 9). Terms are compared
    on the table after a year in every world (paired by seed), not on signed texts,
    whose timing and selection differ between the two.
    The government-change channel is held fixed for the terms (no fall, no early
    election): a successor's ideal moves toward the opposition's (7.15), which would
    change what "toward Armenia" means mid-run.

    Only the opposition's strength differs; both start at the start's mobilisation. The
    start's mobilisation is the reference of the deputies' mobilisation term (7.13), so
    starting the strong opposition at 0.6 and the weak at 0.1 (as until issue 18) made
    the strong one's decay read as calm and the weak one's rise as unrest: at 20,000
    worlds that *raised* P(sign) with the stronger opposition (-0.0043 [-0.0084,
    -0.0003]; -0.025 with falls off), the reference artefact, not the opposition.
    """
    cfg = merged(cfg, OPEN_GATE)  # the opposition's channel, whatever the referendum prior
    weak = with_(cfg, ("actors", "opposition", "strength"), 0.3)
    strong = with_(cfg, ("actors", "opposition", "strength"), 2.0)
    # paired by seed: the 95 % interval of the world-by-world drop excludes zero (the
    # merged model's government holds few referendums even with OPEN_GATE, so P(sign)
    # is about 0.1 and a fixed gap of 0.05 no longer measures the channel)
    d = (run(weak).outcomes["signed"].to_numpy(dtype=float)
         - run(strong).outcomes["signed"].to_numpy(dtype=float))
    assert d.mean() - 1.96 * d.std(ddof=1) / np.sqrt(d.size) > 0, d.mean()
    u = {}
    for name, c in (("weak", weak), ("strong", strong)):
        for key in ("fall_base_hazard", "fall_mobilisation_hazard",
                    "early_election_probability"):
            c = with_(c, ("domestic", "government", key), 0.0)
        c = with_(c, ("state", "events", "initialling"), None)
        m = PeaceModel(parse_params(c), worlds=WORLDS, seed=SEED, horizon_weeks=52).run()
        u[name] = {s.name: s.utility(m.table) for s in m.signatories}
        assert not m.text_fixed().any()  # the whole text is bargained over
    for actor, sign in (("armenia", 1.0), ("azerbaijan", -1.0)):
        d = sign * (u["strong"][actor] - u["weak"][actor])
        assert d.mean() - 1.96 * d.std(ddof=1) / np.sqrt(d.size) > 0, actor


def test_3_dropping_the_constitutional_precondition_raises_p_sign_and_signs_earlier(cfg):
    """Channel: the precondition check (step 8); acceptance of the package is unchanged."""
    base = run(cfg).summary()
    free = run(with_(cfg, ("actors", "azerbaijan", "preconditions"), ["minsk_closed"])).summary()
    assert free["p_sign"] > base["p_sign"] + 0.2
    assert free["median_weeks_to_sign"] < base["median_weeks_to_sign"]
    assert free["p_sign_12m"] > base["p_sign_12m"]





def test_corridor_as_a_condition_against_armenias_red_line_blocks_every_deal():
    """Channel: the two red lines (7.4) leave no acceptable package; Baku's holding
    also reopens the initialled text (7.2), which does not help. Set-up: a favourable
    referendum prior (OPEN_GATE) and the government's agenda held fixed (FIXED_AGENDA:
    it votes and holds the referendum when due) so that the baseline signs often and the
    corridor demand's effect, every deal blocked by the red line, is visible."""
    from sim import load_params
    gate = merged(OPEN_GATE, FIXED_AGENDA)
    base = simulate(load_params("baseline", overrides=gate), worlds=2000,
                    seed=SEED).summary()["p_sign"]
    corridor = simulate(load_params("corridor_demand", overrides=gate), worlds=2000,
                        seed=SEED)
    assert base > 0.2
    assert corridor.summary()["p_sign"] == 0.0


def test_march_2025_start_gives_what_happened_next_a_high_probability():
    """Started at the seed article's moment, the model should find the observed path to
    the 7 June 2026 election likely: no signature (the constitution had not changed), no
    escalation, and the government still in office.

    An expected failure from the coercion calibration (7.12) until the deputies'
    baselines became the start's state (issue 18); re-measured at 20,000 worlds, seed 0:
    no signature and no escalation by the election 0.936 [0.933, 0.939], the observed
    path 0.815 [0.809, 0.820] at the point values; with the assumptions drawn from their
    priors (the scenario's own mode since the default became the record's posterior,
    which it may not use) 0.933 [0.929, 0.936] and 0.790 [0.784, 0.796]: the priors'
    wider fall hazards make the government's survival less sure. The bound below is "at
    least three in four", under either."""
    import datetime as dt

    from sim import load_params
    p = load_params("march_2025")
    res = simulate(p, worlds=3000, seed=SEED, horizon_weeks=104)
    week = (dt.date(2026, 6, 7) - p.state.start_date).days // 7
    o = res.outcomes

    def after(col):
        return (o[col] < 0) | (o[col] > week)
    observed = after("sign_week") & after("escalation_week") & after("government_fell_week")
    # a probabilistic statement, not "no world signs": what happened (no signature and
    # no war by the election) must be likely, P >= 0.9 at the lower end of its 95 %
    # interval (3000 worlds: half-width about 0.01)
    calm = after("sign_week") & after("escalation_week")
    lo, _ = rules.wilson_interval(int(calm.sum()), len(o))
    assert lo >= 0.9
    assert observed.mean() > 0.75
    # only what was known on 13 March 2025: the calendar holds the EUMA mandate end alone
    m = PeaceModel(p, worlds=10, seed=SEED, horizon_weeks=1)
    assert [e.name for e in m.calendar.events] == ["euma_mandate_end"]
    assert all(p.state.events[e.name].announced <= p.state.start_date
               for e in m.calendar.events)


def test_signed_text_carries_the_changed_constitution(cfg):
    """Channel: the constitution lock on the table (7.2) and the precondition (7.16)."""
    res = run(merged(cfg, OPEN_GATE), worlds=2000)  # enough signed texts to check
    signed = res.outcomes[res.outcomes["signed"]]
    assert len(signed) > 100
    assert (signed["terms.constitution"] == 1.0).all()
    assert signed["constitution_changed"].all()


@pytest.mark.xfail(reason="finding (branch support): with the gate open, tripled EU and US "
                   "incentives move P(sign) by +0.0003 once they no longer raise public "
                   "support (7.7): their own channel is branch powers' work", strict=False)
def test_4a_larger_mediator_incentives_raise_p_sign(cfg):
    """Channel: reservation values (7.3); mediators no longer enter public support (7.7).
    The gate is open (OPEN_GATE) so that signed worlds are common enough to see it; the
    support-frozen version is in tests/test_negotiation.py."""
    cfg = merged(cfg, OPEN_GATE)
    big = copy.deepcopy(cfg)
    for m in ("eu", "us"):
        big["actors"][m]["incentives"] = {k: 3 * v for k, v in
                                          cfg["actors"][m]["incentives"].items()}
    assert run(big).summary()["p_sign"] > run(cfg).summary()["p_sign"] + 0.05


def test_4b_harder_russian_spoiling_lowers_p_sign(cfg):
    """Channels: signing costs on reservation values (7.3), incidents, mobilisation and
    support (7.9). The gate is open (OPEN_GATE): enough signed worlds to see it."""
    cfg = merged(cfg, OPEN_GATE)
    soft = run(with_(cfg, ("actors", "russia", "strength"), 0.2)).summary()["p_sign"]
    hard = run(with_(cfg, ("actors", "russia", "strength"), 1.0)).summary()["p_sign"]
    assert hard < soft - 0.05


@pytest.mark.parametrize("base_rate", [0.1, 0.4])
def test_5_investigation_mechanism_lowers_escalation(cfg, base_rate):
    """Channel: contested attribution -> damage -> tension -> the incident channel of the
    escalation hazard (7.10-7.12). The coercion channel (7.12) does not read incidents,
    so it is held fixed (off) here; with it on, total escalation still falls."""
    c = with_(cfg, ("incidents", "base_rate"), base_rate)
    esc = lambda x: run(x).summary()["p_escalation"]  # noqa: E731
    probe = ("incidents", "investigation_mechanism")
    assert esc(with_(c, probe, True)) < esc(c)
    c = with_(c, ("incidents", "escalation", "coercion_rate"), 0.0)
    off, on = esc(c), esc(with_(c, probe, True))
    assert on < off
    if base_rate >= 0.4:
        assert on < 0.7 * off


def test_6a_overlapping_positions_and_no_frictions_sign_everywhere_quickly(cfg):
    c = two_party_cfg(cfg, armenia_pos=0.45, azerbaijan_pos=0.55, reservation=0.5)
    res = run(c, worlds=2000, horizon=52)
    assert res.outcomes["signed"].all()
    assert res.outcomes["sign_week"].max() <= 2


def test_6b_disjoint_positions_without_pressure_never_sign(cfg):
    c = two_party_cfg(cfg, armenia_pos=0.0, azerbaijan_pos=1.0, reservation=0.6)
    res = run(c, worlds=2000)
    assert not res.outcomes["signed"].any()
    assert (res.outcomes["outcome"] == "stalemate").mean() > 0.99


def test_6c_a_moderate_gap_is_closed_by_the_table_moving_to_the_compromise(cfg):
    # between the two: positions apart, but a package exists that both prefer to no
    # deal; a text tabled at Azerbaijan's ideal is refused by Armenia until the
    # mediator's table has moved toward the compromise
    c = two_party_cfg(cfg, armenia_pos=0.2, azerbaijan_pos=0.8, reservation=0.5)
    c["negotiation"]["initial_table"] = {k: 0.8 for k in c["negotiation"]["initial_table"]}
    res = run(c, worlds=500, horizon=156)
    assert res.outcomes["signed"].all()
    assert res.outcomes["sign_week"].min() > 2
