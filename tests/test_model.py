"""The model as a whole: reproducibility, world independence, and each mechanism."""

from __future__ import annotations

import copy
import sys

import numpy as np
import pandas as pd
import pytest

from sim import PeaceModel, parse_params, simulate
from sim.experiment.api import collect
from sim.model.codes import Stage, Status
from sim.model.rules import wilson_interval
from sim.model.schedule import Table


def test_same_seed_same_outcomes_table(cfg):
    p = parse_params(cfg)
    a = simulate(p, worlds=500, seed=7, horizon_weeks=80)
    b = simulate(p, worlds=500, seed=7, horizon_weeks=80)
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    pd.testing.assert_frame_equal(a.steps, b.steps)


def test_seed_zero_is_a_seed_and_seeds_differ(cfg):
    p = parse_params(cfg)
    a = simulate(p, worlds=500, seed=0, horizon_weeks=80).outcomes
    b = simulate(p, worlds=500, seed=1, horizon_weeks=80).outcomes
    assert not a["incidents"].equals(b["incidents"])


def test_blocks_have_their_own_streams_and_world_ids(cfg):
    p = parse_params(cfg)
    a = simulate(p, worlds=300, seed=3, horizon_weeks=40, block=0).outcomes
    b = simulate(p, worlds=300, seed=3, horizon_weeks=40, block=1).outcomes
    assert b["world"].min() == 300
    assert not np.array_equal(a["param.incidents.base_rate"], b["param.incidents.base_rate"])


def test_worlds_are_independent(cfg):
    """Many one-world models and one many-world model estimate the same P(sign)."""
    cfg["incidents"]["base_rate"] = 0.4  # make escalation common enough to compare too
    p = parse_params(cfg)
    n = 300
    single = [simulate(p, worlds=1, seed=1000 + i, horizon_weeks=104).outcomes
              for i in range(n)]
    one = pd.concat(single)
    many = simulate(p, worlds=6000, seed=5, horizon_weeks=104).outcomes
    for col in ("signed", "escalated"):
        k1, k2 = int(one[col].sum()), int(many[col].sum())
        lo1, hi1 = wilson_interval(k1, n)
        lo2, hi2 = wilson_interval(k2, len(many))
        assert lo1 <= hi2 and lo2 <= hi1, (col, k1 / n, k2 / len(many))


def test_a_world_does_not_depend_on_its_neighbours(cfg):
    """Changing other worlds' state leaves a world's trajectory unchanged."""
    p = parse_params(cfg)
    m1 = PeaceModel(p, worlds=50, seed=11, horizon_weeks=30)
    m2 = PeaceModel(p, worlds=50, seed=11, horizon_weeks=30)
    m2.tension[1:] = 0.99  # disturb every world but world 0
    m2.opposition.m[1:] = 0.99
    m1.run()
    m2.run()
    assert m1.series["tension"][:, 0].tolist() == m2.series["tension"][:, 0].tolist()
    assert m1.status[0] == m2.status[0]


def test_common_random_numbers_pair_scenarios(cfg):
    """Two scenarios with one seed share the incident stream: more base rate never
    gives a world fewer incidents in the first week."""
    low, high = copy.deepcopy(cfg), copy.deepcopy(cfg)
    low["incidents"]["base_rate"] = 0.1
    high["incidents"]["base_rate"] = 0.6
    m_low = PeaceModel(parse_params(low), worlds=4000, seed=2, horizon_weeks=1).run()
    m_high = PeaceModel(parse_params(high), worlds=4000, seed=2, horizon_weeks=1).run()
    assert (m_high.border.count >= m_low.border.count).all()
    # severity has its own stream and is drawn by inversion: changing its parameters
    # keeps the counts paired, and a higher mean never lowers a world's severity
    sev = copy.deepcopy(low)
    sev["incidents"]["severity_mean"] = 0.4
    m_sev = PeaceModel(parse_params(sev), worlds=4000, seed=2, horizon_weeks=1).run()
    assert np.array_equal(m_sev.border.count, m_low.border.count)
    hit = m_low.border.count > 0
    assert (m_sev.border.severity[hit] >= m_low.border.severity[hit]).all()
    assert (m_sev.border.severity[hit] > m_low.border.severity[hit]).any()
    # an unrelated parameter's draws are untouched by the change
    assert np.array_equal(m_low.draws["actors.armenia.reservation"],
                          m_high.draws["actors.armenia.reservation"])


def test_distributions_are_drawn_per_world_and_kept(cfg):
    p = parse_params(cfg)
    out = simulate(p, worlds=2000, seed=1, horizon_weeks=5).outcomes
    col = out["param.incidents.base_rate"]
    assert col.min() >= 0.03 and col.max() <= 0.15
    assert col.std() > 0.02
    assert "param.incidents.tension_gain" not in out  # constants are not drawn


def test_single_world_is_the_plain_case_with_a_trace(cfg):
    p = parse_params(cfg)
    res = simulate(p, worlds=1, seed=4, horizon_weeks=52, trace=True)
    tr = res.trace
    assert len(tr) == 52 and len(res.outcomes) == 1
    for col in ("tension", "incidents", "table.constitution", "position.armenia.transit_regime",
                "margin.azerbaijan", "stage", "event", "status", "attention.us"):
        assert col in tr
    assert tr["table.constitution"].between(0, 1).all()


def test_mesa_agents_are_the_six_actors(cfg):
    m = PeaceModel(parse_params(cfg), worlds=3, seed=0, horizon_weeks=2)
    names = sorted(a.name for a in m.agents)
    assert names == ["armenia", "azerbaijan", "eu", "opposition", "russia", "us"]
    assert all(a.x.shape == (3, len(m.issues)) for a in m.agents)
    m.run()
    assert m.time == 2.0 and m.week == 2


def test_core_does_not_import_hydra():
    import subprocess
    code = "import sim, sim.experiment.api, sim.model.model, sys; print('hydra' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ mechanisms


def test_incident_process_long_run_rate_is_mu_over_one_minus_eta(cfg):
    c = cfg["incidents"]
    c.update(base_rate=0.8, branching_ratio=0.5, decay_weeks=3.0, tension_gain=0.0,
             spoiler_gain=0.0)
    for a in cfg["actors"].values():
        if a.get("monitors"):
            a["monitors"] = None
    cfg["incidents"]["escalation"].update(max_weekly_probability=0.0, coercion_rate=0.0)
    cfg["domestic"]["constitution"]["stage"] = "abandoned"  # no signing: all weeks count
    cfg["domestic"]["government"]["successor_pursues"] = 0.0  # (a successor could revive it)
    m = PeaceModel(parse_params(cfg), worlds=3000, seed=9, horizon_weeks=200).run()
    rate = m.series["incidents"][50:].mean()  # after the burn-in
    assert rate == pytest.approx(0.8 / (1 - 0.5), rel=0.03)
    # self-excitation: half-year counts are overdispersed relative to Poisson
    # (their variance-to-mean ratio tends to 1 / (1 - eta)^2 = 4 for long windows)
    sums = m.series["incidents"][50:180].reshape(5, 26, -1).sum(axis=1).ravel()
    assert sums.var() / sums.mean() > 2.5


def test_monitors_damp_incidents_until_their_mandate_ends(cfg):
    cfg["incidents"].update(base_rate=1.0, branching_ratio=0.0, tension_gain=0.0,
                            spoiler_gain=0.0)
    cfg["incidents"]["escalation"].update(max_weekly_probability=0.0, coercion_rate=0.0)
    eu = cfg["actors"]["eu"]["monitors"]
    eu.update(damping=0.5, renewal_probability=0.0)
    cfg["domestic"]["constitution"]["stage"] = "abandoned"
    m = PeaceModel(parse_params(cfg), worlds=4000, seed=1, horizon_weeks=40).run()
    # the mandate's end is the calendar's event
    end_date = cfg["state"]["events"]["euma_mandate_end"]["date"]
    end = (end_date - cfg["state"]["start_date"]).days / 7
    before = m.series["incidents"][: int(end)].mean()
    after = m.series["incidents"][int(end) + 1:].mean()
    assert before == pytest.approx(0.5, rel=0.05)
    assert after == pytest.approx(1.0, rel=0.05)


def test_investigation_mechanism_lowers_damage_per_incident(cfg):
    cfg["incidents"]["base_rate"] = 1.0
    off = PeaceModel(parse_params(cfg), worlds=3000, seed=1, horizon_weeks=1).run()
    cfg["incidents"]["investigation_mechanism"] = True
    on = PeaceModel(parse_params(cfg), worlds=3000, seed=1, horizon_weeks=1).run()
    assert np.array_equal(off.border.count, on.border.count)  # same incidents (CRN)
    assert on.border.damage.sum() < 0.8 * off.border.damage.sum()
    assert on.tension.mean() < off.tension.mean()


def test_opposition_mobilises_on_concessions_and_incidents(cfg):
    def mobilisation(table_value, base_rate):
        c = copy.deepcopy(cfg)
        c["negotiation"]["initial_table"] = {k: table_value for k in
                                             c["negotiation"]["initial_table"]}
        c["negotiation"]["table_inertia"] = 0.99
        c["incidents"]["base_rate"] = base_rate
        m = PeaceModel(parse_params(c), worlds=2000, seed=3, horizon_weeks=10).run()
        return m.opposition.m.mean()
    assert mobilisation(1.0, 0.0) > mobilisation(0.0, 0.0) + 0.02   # concessions on the table
    assert mobilisation(0.5, 2.0) > mobilisation(0.5, 0.0) + 0.01   # incidents


def test_preconditions_block_signing_until_met(cfg):
    cfg["domestic"]["constitution"]["stage"] = "abandoned"
    m = PeaceModel(parse_params(cfg), worlds=2000, seed=1, horizon_weeks=60).run()
    assert (m.status != Status.SIGNED).all()
    # both sides accept the package in some worlds: there only the precondition binds
    assert (m.counterpart.accept & m.home.accept).mean() > 0.05
    cfg["domestic"]["constitution"]["stage"] = "passed"
    m2 = PeaceModel(parse_params(cfg), worlds=2000, seed=1, horizon_weeks=60).run()
    assert (m2.status == Status.SIGNED).mean() > 0.5


def test_red_lines_veto_packages_whatever_their_utility(cfg):
    cfg["domestic"]["constitution"]["stage"] = "passed"
    m = PeaceModel(parse_params(cfg), worlds=1000, seed=2, horizon_weeks=1).run()
    assert m.home.accept.mean() > 0.5
    cfg["actors"]["armenia"]["red_lines"] = {"transit_regime": {"max": 0.2}}  # text: 0.3
    m2 = PeaceModel(parse_params(cfg), worlds=1000, seed=2, horizon_weeks=1).run()
    assert not m2.home.accept.any()
    assert np.allclose(m2.home.margin, m.home.margin)  # the margin itself is unchanged


def test_linkage_satisfies_a_precondition_at_signing(cfg):
    cfg["domestic"]["constitution"]["stage"] = "passed"
    cfg["state"]["flags"] = []  # Minsk process still open, as in March 2025:
    cfg["state"]["events"]["minsk_closure_complete"] = None  # the calendar cancels it
    m = PeaceModel(parse_params(cfg), worlds=1000, seed=2, horizon_weeks=40).run()
    signed = m.status == Status.SIGNED
    assert signed.mean() > 0.5
    assert m.flags["minsk_closed"][signed].all() and not m.flags["minsk_closed"][~signed].any()
    cfg["actors"]["armenia"]["linkages"] = []  # Armenia no longer offers same-day closure
    m2 = PeaceModel(parse_params(cfg), worlds=1000, seed=2, horizon_weeks=40).run()
    assert not (m2.status == Status.SIGNED).any()


def test_rare_event_draws_do_not_depend_on_the_scenario(cfg):
    """Votes, referendums and elections read pre-drawn, event-indexed numbers: changing
    a delay or a probability leaves them unchanged (common random numbers)."""
    a = PeaceModel(parse_params(cfg), worlds=100, seed=3, horizon_weeks=1)
    cfg["domestic"]["constitution"]["vote_retry_weeks"] = 5
    cfg["domestic"]["government"]["early_election_probability"] = 0.9
    b = PeaceModel(parse_params(cfg), worlds=100, seed=3, horizon_weeks=1)
    for name in ("z_referendum", "z_faction", "u_deputies", "z_election", "u_baku",
                 "u_court", "u_successor"):
        assert np.array_equal(getattr(a.domestic, name), getattr(b.domestic, name)), name


def test_constitutional_track_reaches_every_stage(cfg):
    c = cfg["domestic"]["constitution"]
    c.update(draft_weeks=2, campaign_weeks=4, cooldown_weeks=6, vote_retry_weeks=3)
    cfg["domestic"]["government"]["fall_base_hazard"] = 0.02
    cfg["domestic"]["government"]["successor_pursues"] = 0.5
    m = PeaceModel(parse_params(cfg), worlds=3000, seed=5, horizon_weeks=40)
    seen = set()
    for _ in range(40):
        m.step()
        seen |= set(np.unique(m.domestic.stage).tolist())
    assert set(Stage) <= seen
    dom = m.domestic
    assert (dom.referendum_passed[dom.stage == Stage.PASSED]).all()
    # a track is abandoned only where a successor government does not pursue it
    ab = dom.stage == Stage.ABANDONED
    assert (dom.government_fell[ab] & ~dom.pursuing[ab]).all()


def test_supermajority_needs_opposition_votes_without_the_alternative_route(cfg):
    c = cfg["domestic"]["constitution"]
    c.update(draft_weeks=1, campaign_weeks=50)
    for f in cfg["domestic"]["parliament"]["factions"].values():
        f["willingness"] = 1e-6
    cfg["domestic"]["government"]["fall_base_hazard"] = 0.0
    # the arithmetic of the vote: the government holds it even though it expects to lose
    cfg["domestic"]["parliament"]["vote_margin"] = 1000
    m = PeaceModel(parse_params(cfg), worlds=500, seed=1, horizon_weeks=3).run()
    assert not (m.domestic.stage == Stage.CAMPAIGN).any()  # 64 seats < 70 needed
    assert (m.domestic.max_opposition_yes[m.status == Status.ACTIVE] == 0).all()
    cfg["domestic"]["government"]["seats"] = 70
    cfg["domestic"]["parliament"]["factions"]["strong_armenia"]["seats"] = 23
    m = PeaceModel(parse_params(cfg), worlds=500, seed=1, horizon_weeks=3).run()
    assert (m.domestic.stage[m.status == Status.ACTIVE] == Stage.CAMPAIGN).all()


def test_successor_government_moves_toward_the_opposition(cfg):
    cfg["domestic"]["government"]["fall_base_hazard"] = 1.0
    cfg["domestic"]["government"]["successor_pursues"] = 0.0
    m = PeaceModel(parse_params(cfg), worlds=200, seed=1, horizon_weeks=1)
    x0 = m.home.x.copy()
    m.run()
    assert m.domestic.government_fell.all()
    assert (m.domestic.stage == Stage.ABANDONED).all()
    phi = cfg["domestic"]["government"]["successor_similarity"]
    assert np.allclose(m.home.x, x0 + phi * (m.opposition.x - x0))


def test_elections_can_bring_the_government_down(cfg):
    cfg["domestic"]["government"]["elections"] = [cfg["state"]["start_date"]]
    cfg["domestic"]["government"]["election_vote_share"] = 0.2
    m = PeaceModel(parse_params(cfg), worlds=300, seed=1, horizon_weeks=2).run()
    assert m.domestic.government_fell.mean() > 0.95


def test_escalation_is_absorbing_and_freezes_the_world(cfg):
    cfg["incidents"]["escalation"].update(max_weekly_probability=1.0, tension_threshold=0.0,
                                          tension_scale=0.001)
    cfg["state"]["tension"] = 0.5
    m = PeaceModel(parse_params(cfg), worlds=100, seed=1, horizon_weeks=10).run()
    assert (m.status == Status.ESCALATION).all() and (m.escalation_week == 0).all()
    # the state is frozen at the escalation; the weekly series leave absorbed worlds out
    assert np.allclose(m.tension, m.series["tension"][0])
    assert np.isnan(m.series["tension"][1:]).all()
    res = collect(m)
    assert res.steps["p_active"].iloc[1] == 0.0 and np.isnan(res.steps["tension_q50"].iloc[1])


def test_spoiling_falls_with_inclusion_and_rises_with_western_alignment(cfg):
    def spoil(inclusion, alignment):
        c = copy.deepcopy(cfg)
        c["actors"]["russia"]["inclusion"] = inclusion
        c["state"]["western_alignment"] = alignment
        m = PeaceModel(parse_params(c), worlds=50, seed=1, horizon_weeks=1).run()
        return m.spoiling.mean()
    assert spoil(0.6, 0.7) < spoil(0.1, 0.7) - 0.1
    assert spoil(0.1, 1.0) > spoil(0.1, 0.2) + 0.05


def test_us_attention_fades_toward_its_floor(cfg):
    cfg["actors"]["us"].update(attention=1.0, attention_floor=0.2, attention_fade=0.1,
                               crisis_attention=0.0)
    m = PeaceModel(parse_params(cfg), worlds=10, seed=1, horizon_weeks=60).run()
    us = next(a for a in m.mediators if a.name == "us")
    assert np.allclose(us.attention, 0.2, atol=0.01)


def test_nash_rule_runs_and_tables_packages_between_the_signatories(cfg):
    cfg["negotiation"]["rule"] = "nash"
    m = PeaceModel(parse_params(cfg), worlds=500, seed=1, horizon_weeks=20).run()
    lo = np.minimum(m.home.y, m.counterpart.y) - 1e-9
    hi = np.maximum(m.home.y, m.counterpart.y) + 1e-9
    target = m.mechanism(Table).propose(m)
    inside = ((target >= lo) & (target <= hi)).all(axis=1)
    assert inside.mean() > 0.99
    cfg["actors"]["armenia"]["loss_exponent"] = 2
    m2 = PeaceModel(parse_params(cfg), worlds=200, seed=1, horizon_weeks=5).run()
    assert np.isfinite(m2.table).all()


def test_turkey_and_iran_are_yaml_only(cfg):
    turkey = copy.deepcopy(cfg["actors"]["eu"])
    turkey.update(label="Turkey", monitors=None, western=0.3,
                  incentives={"armenia": 0.05, "azerbaijan": 0.0})
    iran = copy.deepcopy(cfg["actors"]["russia"])
    iran.update(label="Iran")
    iran["position"]["transit_regime"] = 0.0
    cfg["actors"]["turkey"] = turkey
    cfg["actors"]["iran"] = iran
    m = PeaceModel(parse_params(cfg), worlds=100, seed=1, horizon_weeks=10).run()
    assert len(m.mediators) == 3 and len(m.spoilers) == 2
    assert {a.name for a in m.agents} >= {"turkey", "iran"}


def test_severity_follows_its_beta_distribution(cfg):
    cfg["incidents"].update(base_rate=5.0, severity_mean=0.3, severity_concentration=4.0)
    m = PeaceModel(parse_params(cfg), worlds=20000, seed=4, horizon_weeks=1).run()
    sev = m.border.severity[m.border.count > 0]
    from scipy import stats
    assert stats.kstest(sev, stats.beta(1.2, 2.8).cdf).pvalue > 0.01
