"""The domestic ratification gate (issue 7): what must hold, each with fixed seeds.

Scenarios compared with one seed share their random numbers (common random numbers):
differences are paired world by world and measured with McNemar's statistic
``z = (b - a) / sqrt(discordant pairs)``.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from domestic_sweep import numeric_keys, scaled
from helpers import FIXED_AGENDA, OPEN_GATE, merged

from sim import compose, load_params, parse_params, simulate
from sim.model.codes import Stage

DOC = Path(__file__).resolve().parent.parent / "docs" / "model.md"
SEED = 7


def run(cfg, worlds=6000, seed=SEED, horizon=156):
    return simulate(parse_params(cfg), worlds=worlds, seed=seed, horizon_weeks=horizon)


def paired_z(a: np.ndarray, b: np.ndarray) -> float:
    """McNemar's z for the change from ``a`` to ``b`` (boolean per world, same worlds);
    for a numeric outcome, the paired t statistic of ``b - a``."""
    if a.dtype != bool:
        d = b.astype(float) - a.astype(float)
        sd = d.std(ddof=1)
        return 0.0 if sd == 0 else d.mean() / (sd / np.sqrt(d.size))
    disc = int((a != b).sum())
    return 0.0 if disc == 0 else (int(b.sum()) - int(a.sum())) / np.sqrt(disc)


def test_no_signed_world_reaches_the_referendum_without_70_votes(cfg):
    # on the gate's own channel: a referendum the draft wins (OPEN_GATE), so that enough
    # worlds sign whatever the sourced referendum prior leaves P(sign) at
    cfg["domestic"]["referendum"]["yes_share"] = OPEN_GATE["domestic"]["referendum"][
        "yes_share"]
    o = run(cfg, worlds=20000).outcomes
    signed = o[o["signed"]]
    assert len(signed) > 1000
    assert signed["referendum_passed"].all() and signed["constitution_changed"].all()
    assert (signed["draft_votes"] >= 70).all()
    assert not o["bypassed"].any()
    # the check can fail: with the bypass scenario some signed worlds never had 70 votes
    bypass = simulate(load_params("constitution_bypass_route", overrides=OPEN_GATE),
                      worlds=20000, seed=SEED)
    sb = bypass.outcomes[bypass.outcomes["signed"]]
    assert (sb["bypassed"] & (sb["draft_votes"] < 70)).sum() > 50


def _strategy(cfg, strategy):
    c = copy.deepcopy(cfg)
    r = c["domestic"]["referendum"]
    r["opposition_strategy"] = strategy
    r["turnout"] = {"dist": "uniform", "low": 0.44, "high": 0.50}  # near the quorum
    r["yes_share"] = {"dist": "uniform", "low": 0.50, "high": 0.65}
    # the day's rules, with the government's agenda held fixed: it holds the vote and the
    # referendum whatever it expects (it would otherwise skip the boycotted ones)
    return run(merged(c, FIXED_AGENDA), worlds=6000).outcomes


def test_a_boycott_defeats_the_referendum_through_the_quorum_when_turnout_is_low(cfg):
    camp, boy, best = (_strategy(cfg, s) for s in ("campaign", "boycott", "best"))
    held = camp["referendum_held"] & boy["referendum_held"]
    assert held.sum() > 1000  # enough referendums held in both runs to compare
    # the first referendum is the same event in both runs (same worlds, same draws)
    assert boy["referendum_passed"].mean() < camp["referendum_passed"].mean() - 0.05
    assert paired_z(camp["referendum_passed"].to_numpy(), boy["referendum_passed"].to_numpy()) < -5
    # the boycotted referendums that fail win the vote among votes cast but miss the 25 %
    failed = boy[boy["referendum_held"] & ~boy["referendum_passed"]]
    quorum_only = (failed["referendum_yes_cast"] > 0.5) & (failed["referendum_yes_registered"]
                                                           < 0.25)
    assert quorum_only.mean() > 0.5
    # the opposition picks the strategy that defeats the draft more likely
    assert best["referendum_passed"].mean() <= min(camp["referendum_passed"].mean(),
                                                  boy["referendum_passed"].mean()) + 0.005
    assert best.loc[best["referendum_held"], "boycott"].mean() > 0.5


def test_with_high_turnout_the_opposition_campaigns_no_instead(cfg):
    c = copy.deepcopy(cfg)
    c["domestic"]["referendum"]["turnout"] = {"dist": "uniform", "low": 0.70, "high": 0.80}
    o = run(c).outcomes
    assert o.loc[o["referendum_held"], "boycott"].mean() < 0.05


def test_more_willing_opposition_deputies_raise_p_sign(cfg):
    base = run(cfg, worlds=10000).outcomes
    c = copy.deepcopy(cfg)
    for f in c["domestic"]["parliament"]["factions"].values():
        w = f["willingness"]
        f["willingness"] = {"dist": "uniform", "low": 2 * w["low"], "high": 2 * w["high"]}
    more = run(c, worlds=10000).outcomes
    assert more["opposition_votes_expected"].mean() > 1.9 * base["opposition_votes_expected"].mean()
    assert paired_z(base["referendum_held"].to_numpy(), more["referendum_held"].to_numpy()) > 5
    assert paired_z(base["signed"].to_numpy(), more["signed"].to_numpy()) > 3
    assert more["signed"].mean() > base["signed"].mean() + 0.01


def test_retries_keep_p_sign_rising_after_week_130(cfg):
    cfg["domestic"]["referendum"]["yes_share"] = OPEN_GATE["domestic"]["referendum"][
        "yes_share"]  # the retries' channel, whatever the referendum prior gives
    res = run(cfg, worlds=10000, horizon=260)
    p = res.steps["p_signed"].to_numpy()
    assert p[259] - p[130] > 0.015
    # the late signatures come from second and later attempts (a postponed vote included)
    late = res.outcomes[res.outcomes["sign_week"] > 130]
    assert ((late["parliament_votes"] > 1) | (late["referendums"] > 1)
            | (late["elections_held"] > 0) | (late["votes_postponed"] > 0)).mean() > 0.9
    # without retries (delays beyond the horizon) the curve is flat after week 130
    c = copy.deepcopy(cfg)
    c["domestic"]["constitution"].update(vote_retry_weeks=520, cooldown_weeks=520)
    c["domestic"]["government"]["early_election_probability"] = 0.0
    flat = run(c, worlds=10000, horizon=260).steps["p_signed"].to_numpy()
    assert flat[259] - flat[130] < 0.5 * (p[259] - p[130])


def test_a_world_gives_up_only_when_a_successor_does_not_pursue_the_constitution(cfg):
    res = run(cfg, worlds=6000, horizon=260)
    assert res.outcomes["government_fell"].mean() > 0.1
    c = copy.deepcopy(cfg)
    c["domestic"]["government"]["successor_pursues"] = 1.0
    m_res = run(c, worlds=6000, horizon=260)
    assert m_res.outcomes["signed"].mean() > res.outcomes["signed"].mean()
    from sim import PeaceModel
    m = PeaceModel(parse_params(c), worlds=3000, seed=SEED, horizon_weeks=260).run()
    assert not (m.domestic.stage == Stage.ABANDONED).any()


def test_early_elections_cannot_give_one_party_more_than_two_thirds(cfg):
    from sim import PeaceModel
    g = cfg["domestic"]["government"]
    g.update(early_election_probability=1.0, early_election_weeks=4, election_vote_share=0.8,
             election_noise=0.01, snap_min_weeks=0)  # the seat cap's channel: snap at once
    for f in cfg["domestic"]["parliament"]["factions"].values():
        f["willingness"] = 1e-6
    m = PeaceModel(parse_params(cfg), worlds=2000, seed=SEED, horizon_weeks=80).run()
    dom = m.domestic
    assert (dom.elections_held > 0).mean() > 0.9
    assert dom.seats.max() == 70  # the Electoral Code leaves a third to the others
    inc = ~dom.government_fell
    assert inc.mean() > 0.8  # failed referendums and the base hazard topple some
    assert (dom.faction_seats.sum(axis=1) + dom.seats == 105)[inc].all()
    # ... which is exactly the 70 votes needed: the draft goes to referendum after it
    assert (dom.draft_votes[dom.elections_held > 0] >= 70).mean() > 0.9


def test_baku_signs_only_if_it_accepts_the_new_text(cfg):
    c = merged(cfg, OPEN_GATE)  # referendums that pass, whatever the sourced prior gives
    c["domestic"]["constitution"]["baku_accepts_text"] = 0.0
    o = run(c).outcomes
    assert o["referendum_passed"].mean() > 0.05
    assert not o["signed"].any() and not o["constitution_changed"].any()


def test_ratification_follows_signing_through_the_court(cfg):
    cfg["domestic"]["referendum"]["yes_share"] = OPEN_GATE["domestic"]["referendum"][
        "yes_share"]  # enough signed worlds whatever the referendum prior gives
    o = run(cfg, worlds=10000).outcomes
    r = o[o["ratified"]]
    assert len(r) > 500 and r["signed"].all()
    assert (r["ratify_week"] > r["sign_week"]).all()
    c = copy.deepcopy(cfg)
    c["domestic"]["ratification"]["court_approval"] = 0.0
    none = run(c, worlds=10000).outcomes
    assert none["signed"].equals(o["signed"]) and not none["ratified"].any()


def test_vacant_seats_scenario_lowers_the_bar_under_its_legal_assumption():
    base = simulate(load_params("baseline"), worlds=6000, seed=SEED).outcomes
    vac = simulate(load_params("vacant_seats"), worlds=6000, seed=SEED).outcomes
    # parliament's bar (the scenario's channel): the draft is sent in nearly every world;
    # whether the referendum is then held is the government's choice (7.13)
    sent, sent_base = vac["draft_votes"] >= 0, base["draft_votes"] >= 0
    assert sent.mean() > 0.95 > sent_base.mean()
    assert vac["referendum_held"].mean() > base["referendum_held"].mean()
    assert (vac.loc[vac["signed"], "draft_votes"] >= 62).all()


def test_the_referendum_prior_drives_p_sign_and_is_not_general_support(cfg):
    """P(sign) rises steeply with the referendum's yes share; changing it leaves general
    support, parliament's votes and P(referendum held) untouched (its own quantity).

    The government's agenda is held fixed (FIXED_AGENDA: it holds the vote and the
    referendum whatever it expects): with the choice on, it
    reads the expected yes share and skips referendums it expects to lose (7.13), so
    P(referendum held) depends on the prior by design (tests/test_government.py).
    """
    cfg = merged(cfg, FIXED_AGENDA)
    o = run(cfg, worlds=20000).outcomes
    b = pd.cut(o["param.domestic.referendum.yes_share"], [0.2, 0.3, 0.4, 0.5, 0.6])
    p = o.groupby(b, observed=True)["signed"].mean().to_numpy()
    # with support one latent state (no upward drift, 7.7) a yes share below 0.4 almost
    # never passes: the lower steps are near zero, the upper ones steep
    assert (np.diff(p) >= 0).all() and (np.diff(p)[1:] > 0.01).all() and p[0] < 0.01
    c = copy.deepcopy(cfg)
    c["domestic"]["referendum"]["yes_share"] = 0.6
    hi = run(c, worlds=20000).outcomes
    assert hi["referendum_held"].equals(o["referendum_held"])
    before = ~o["referendum_held"]  # worlds the referendum never touched
    assert np.array_equal(hi.loc[before, "final_support"], o.loc[before, "final_support"])
    # paired: the old margin 0.15 held only with the drift between two support draws
    # that lifted the yes share
    assert paired_z(o["signed"].to_numpy(), hi["signed"].to_numpy()) > 10
    assert hi["signed"].mean() > o["signed"].mean() + 0.10


# ------------------------------------------------------------ +-20 % of each key
#: Keys whose +-20 % does not move P(sign) or P(referendum held) at the defaults, by
#: design; each is listed with its reason in docs/model.md, section 8.10.
INERT = {
    "domestic.government.seats", "domestic.government.total_seats",
    "domestic.parliament.factions.strong_armenia.seats",
    "domestic.parliament.factions.armenia_alliance.seats",
    "domestic.parliament.factions.strong_armenia.vacant",
    "domestic.parliament.factions.armenia_alliance.vacant",
    "domestic.constitution.alternative_route_probability",
    "domestic.constitution.alternative_route_weeks",
    "domestic.referendum.boycott_no_abstention",
    "domestic.government.successor_similarity",
    "domestic.parliament.former_government_willingness",
    "domestic.constitution.failure_hazard",
    # no election is held in the three years from 7 Dec 2026 (the next scheduled one is
    # 2031, and no snap election is called: issue 18's sweep, 0 of 10,000 worlds)
    "domestic.government.early_election_probability",
    "domestic.government.early_election_weeks",
    "domestic.government.election_noise",
    "domestic.government.election_support_slope",
    "domestic.government.seat_cap",
    "domestic.government.snap_min_weeks",
    "domestic.government.snap_seat_gain",
}
#: Keys that act on another outcome by design (checked on that outcome instead).
OTHER_OUTCOME = {
    "domestic.ratification.court_weeks": "ratified",
    "domestic.ratification.court_approval": "ratified",
    "domestic.ratification.parliament_weeks": "ratified",
    "domestic.government.fall_base_hazard": "government_fell",
    "domestic.government.fall_mobilisation_hazard": "government_fell",
    # the government's agenda (7.13): the package moves the votes it expects, and so
    # whether it holds the vote; the draft's and the retries' timing move when votes
    # come, while P(sign) waits on the referendum the government expects to win
    "domestic.parliament.package_effect": "votes_postponed",
    "domestic.constitution.draft_weeks": "parliament_votes",
    "domestic.constitution.cooldown_weeks": "parliament_votes",
    # the mass-protest term of the fall hazard starts at this threshold (7.15)
    "domestic.government.mobilisation_threshold": "government_fell",
    # how fast support follows the climate moves the votes the government expects, and
    # so whether it holds the vote (7.13)
    "domestic.support.adjust_rate": "votes_postponed",
    "domestic.support.tension_effect": "votes_postponed",
}
#: Keys swept with a referendum the draft wins on both sides (OPEN_GATE), one rule: a key
#: is swept so iff it starts with one of these (a whole key is its own prefix). They act
#: after signing (every ``domestic.ratification.`` key: the treaty's own ratification acts
#: only on signed worlds), after a fall, or on the way to a referendum the merged
#: baseline's government seldom holds (P(referendum held) about 0.01, issue 18), too
#: rare at the defaults for +-20 % to show on their outcome.
UNDER_OPEN_GATE = (
    "domestic.ratification.",
    "domestic.government.successor_pursues",
    "domestic.government.mobilisation_threshold",
    "domestic.support.initial",
    "domestic.support.adjust_rate",
    "domestic.support.mobilisation_effect",
    "domestic.support.tension_effect",
    "domestic.support.spoiler_effect",
    "domestic.support.reference_tension",
    "domestic.parliament.incentive_effect",
    "domestic.parliament.opinion_effect",
    "domestic.parliament.mobilisation_effect",
    "domestic.constitution.campaign_weeks",
    "domestic.constitution.vote_retry_weeks",
    "domestic.constitution.cooldown_weeks",
    "domestic.referendum.support_link",
    "domestic.referendum.day_noise",
)


def under_open_gate(key: str) -> bool:
    """Whether the sweep moves ``key`` with the gate open (:data:`UNDER_OPEN_GATE`)."""
    return key.startswith(UNDER_OPEN_GATE)
_BASE, _ = compose("baseline")
SWEEP_KEYS = [".".join(p) for p in numeric_keys(_BASE)]


def test_the_inert_list_is_documented_with_reasons():
    doc = DOC.read_text(encoding="utf-8")
    section = doc[doc.index("#### Inert by design"):]
    section = section[:section.index("\n#")]
    for key in INERT | set(OTHER_OUTCOME) | {k for k in SWEEP_KEYS if under_open_gate(k)}:
        assert re.search(rf"`{re.escape(key)}`[^\n]*—", section), key
    assert set(SWEEP_KEYS) >= INERT | set(OTHER_OUTCOME)


@pytest.mark.slow
@pytest.mark.parametrize("key", [k for k in SWEEP_KEYS if k not in INERT])
def test_each_domestic_parameter_moves_the_gate_when_changed_by_20_percent(key):
    path = tuple(key.split("."))
    base = merged(_BASE, OPEN_GATE) if under_open_gate(key) else _BASE
    lo, hi = (simulate(parse_params(scaled(base, path, f)), worlds=10000, seed=11).outcomes
              for f in (0.8, 1.2))
    cols = [OTHER_OUTCOME[key]] if key in OTHER_OUTCOME else ["signed", "referendum_held"]
    z = [paired_z(lo[c].to_numpy(), hi[c].to_numpy()) for c in cols]
    assert max(abs(v) for v in z) >= 3, (key, dict(zip(cols, z, strict=True)))


# ------------------------------------------------------------ variance shares
def first_order_shares(o: pd.DataFrame, col: str = "signed", bins: int = 20) -> pd.Series:
    """Each drawn parameter's first-order index ``Var(E[y | x_i]) / Var(y)`` (equal-count
    bins, less the bias of pure noise ``(bins - 1) / n``) as a share of their sum."""
    y = o[col].to_numpy(float)
    n, v = len(y), y.var()
    out = {}
    for c in (c for c in o.columns if c.startswith("param.")):
        x = o[c].to_numpy()
        if np.unique(x).size < 2:
            continue
        r = np.argsort(np.argsort(x, kind="stable"), kind="stable") * bins // n
        cnt = np.bincount(r, minlength=bins)
        m = np.bincount(r, weights=y, minlength=bins) / cnt
        out[c[6:]] = max(0.0, (cnt * (m - y.mean()) ** 2).sum() / n / v - (bins - 1) / n)
    s = pd.Series(out)
    return s / s.sum()


def test_no_single_draw_explains_more_than_half_of_signed_unless_documented(cfg):
    o = run(cfg, worlds=30000, seed=0).outcomes
    share = first_order_shares(o)
    doc = DOC.read_text(encoding="utf-8")
    m = re.search(r"Dominant by evidence: ([^\n]*)", doc)
    allowed = set(re.findall(r"`([^`]+)`", m.group(1))) if m else set()
    assert len(allowed) <= 1
    over = share[share > 0.5]
    assert set(over.index) <= allowed, over


@pytest.mark.xfail(reason="finding: with public support one latent draw the referendum "
                   "prior carries about 0.7 of what the drawn parameters explain about "
                   "signed (30,000 worlds: 0.686 at seed 0, 0.727 at seed 1; the old 0.54 "
                   "included the unsourced drift between two support draws), on the "
                   "test's bar; docs/model.md 8.10", strict=False)
def test_the_dominant_draw_leaves_a_large_part_to_the_rest(cfg):
    share = first_order_shares(run(cfg, worlds=30000, seed=0).outcomes)
    assert share.max() < 0.7, share.sort_values().tail()
