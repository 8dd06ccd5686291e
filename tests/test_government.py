"""The government's agenda and the successor government (docs/model.md 7.13-7.15).

What must hold (issue 18): no default path adopts the constitution with fewer than 70
votes from deputies who hold seats, through a successor and with vacant seats too; a
successor can fall and faces elections; the government holds no referendum it expects to
lose and calls no snap election within ``snap_min_weeks`` of a mandate; the baseline's
implied rate of early falls per year lies in the prior range docs/model.md states beside
the record's base rate. Each check is shown able to fail on a configuration that breaks
it. Paired runs share seed and worlds (common random numbers).
"""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest
from helpers import FIXED_AGENDA, OPEN_GATE, merged

from sim import PeaceModel, load_params, parse_params, simulate
from sim.errors import ConfigError
from sim.model.codes import DomesticEvent, Stage

SEED = 3
WEEKS_PER_YEAR = 365.25 / 7

#: Prior range for the baseline's implied rate of early falls of the government in office
#: at the start, per year (docs/model.md 7.15): from the lower end of the record's
#: Poisson interval (2 early exits under pressure in 34.5 years: 0.058 a year, 95 %
#: interval 0.007-0.21) to the record's average, since a government just re-elected with
#: a majority is the hardest case for an early fall.
FALL_RATE_PRIOR = (0.005, 0.06)


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of ``b - a`` world by world and its 95 % interval."""
    d = np.asarray(b, float) - np.asarray(a, float)
    m, se = d.mean(), d.std(ddof=1) / np.sqrt(d.size)
    return m, m - 1.96 * se, m + 1.96 * se


def fall_rate_per_year(o) -> float:
    """Early falls of the start's government per year at risk: falls over the years it
    was in office in a running world (until its fall, signing, escalation or the end)."""
    fell = o["government_fell"].to_numpy()
    exposure = np.where(fell, o["government_fell_week"].to_numpy() + 1,
                        o["active_weeks"].to_numpy())
    return fell.sum() / (exposure.sum() / WEEKS_PER_YEAR)


def drafts_sent(c: dict, worlds: int = 3000, weeks: int = 156, seed: int = SEED):
    """Step a model; per draft sent to referendum: (votes, seated deputies, successor)."""
    m = PeaceModel(parse_params(c), worlds=worlds, seed=seed, horizon_weeks=weeks)
    dom = m.domestic
    N = c["domestic"]["government"]["total_seats"]
    out = []
    for _ in range(weeks):
        before = dom.stage.copy()
        successor = ~dom.in_office.copy()
        seated = N - dom.vacant.sum(axis=1)
        m.step()
        sent = (before != Stage.CAMPAIGN) & (dom.stage == Stage.CAMPAIGN)
        out += list(zip(dom.draft_votes[sent], seated[sent], successor[sent], strict=True))
    return np.array(out, dtype=float).reshape(-1, 3)


def _successor_heavy(cfg: dict, vacant: int = 0) -> dict:
    c = merged(cfg, OPEN_GATE)
    g = c["domestic"]["government"]
    g.update(fall_base_hazard=0.01, successor_pursues=1.0)
    c["domestic"]["parliament"]["factions"]["armenia_alliance"]["vacant"] = vacant
    return c


def test_no_default_path_adopts_with_fewer_than_70_seated_votes(cfg):
    for c in (merged(cfg, OPEN_GATE), _successor_heavy(cfg), _successor_heavy(cfg, 12)):
        d = drafts_sent(c)
        assert len(d) > 200
        votes, seated, successor = d.T
        assert (votes >= 70).all() and (votes <= seated).all()
        # the successor's path is exercised where it is meant to be
        if c["domestic"]["government"]["successor_pursues"] == 1.0:
            assert successor.sum() > 20
            assert (votes[successor == 1] >= 70).all()
    # the check can fail: the unsourced bypass sends drafts with fewer votes
    bypass = copy.deepcopy(_successor_heavy(cfg, 12))
    bypass["domestic"]["constitution"]["alternative_route"] = True
    votes = drafts_sent(bypass)[:, 0]
    assert (votes < 70).sum() > 20


def test_a_successor_holds_its_real_seats(cfg):
    # a fall without an election: a coalition with a majority of all 105 deputies, made
    # of every seated opposition deputy and as many of the party's as it needs
    for vacant, defectors in ((0, 12), (12, 24)):
        c = copy.deepcopy(cfg)
        c["domestic"]["government"]["fall_base_hazard"] = 1.0
        c["domestic"]["parliament"]["factions"]["armenia_alliance"]["vacant"] = vacant
        m = PeaceModel(parse_params(c), worlds=200, seed=SEED, horizon_weeks=1).run()
        dom = m.domestic
        assert dom.government_fell.all() and not dom.in_office.any()
        assert (dom.seats == 53).all() and (dom.defectors == defectors).all()
    # a lost election: the seats the other forces won
    c = copy.deepcopy(cfg)
    c["domestic"]["government"].update(elections=[c["state"]["start_date"]],
                                       election_vote_share=0.2)
    m = PeaceModel(parse_params(c), worlds=300, seed=SEED, horizon_weeks=1).run()
    dom = m.domestic
    lost = ~dom.in_office
    assert lost.mean() > 0.95
    assert np.array_equal(dom.seats[lost], 105 - dom.party_seats[lost])


def test_a_successor_can_fall_and_faces_elections(cfg):
    c = copy.deepcopy(cfg)
    start = c["state"]["start_date"]
    start = start if isinstance(start, dt.date) else dt.date.fromisoformat(str(start))
    c["domestic"]["government"].update(fall_base_hazard=0.01,
                                       elections=[start + dt.timedelta(weeks=80)])
    o = simulate(parse_params(c), worlds=4000, seed=SEED).outcomes
    # the successor falls: to the same hazards, or at the election
    assert (o["government_changes"] >= 2).mean() > 0.05
    before = o["government_fell"] & (o["government_fell_week"] < 80)
    faced = before & (o["elections_held"] > 0)
    assert faced.sum() > 200  # successors in office on election day held the election
    # ... and some lost it: the party of the start is back in office
    assert (faced & o["in_office"]).sum() > 20
    # the check can fail: a successor that could not fall would give no second change
    c["domestic"]["government"].update(fall_base_hazard=0.0, elections=[],
                                       fall_mobilisation_hazard=0.0)
    c["domestic"]["constitution"]["failure_hazard"] = 0.0
    c["domestic"]["government"]["early_election_probability"] = 0.0
    o = simulate(parse_params(c), worlds=4000, seed=SEED).outcomes
    assert not (o["government_changes"] >= 2).any()


def test_no_referendum_the_government_expects_to_lose(cfg):
    """The agenda's referendum rule (7.13). A yes-share prior on both sides of the pass
    threshold (0.35 to 0.65, both runs alike) so that referendums the government expects
    to win and to lose both arise: at the merged baseline's prior it held only 85 in
    10,000 worlds, too few to exercise the rule (343 here; 1,602 held at a negative
    expected lead with the rule off)."""
    cfg["domestic"]["referendum"]["yes_share"] = {"dist": "uniform", "low": 0.35,
                                                  "high": 0.65}
    o = simulate(parse_params(cfg), worlds=10000, seed=SEED).outcomes
    held = o["referendum_held"].to_numpy()
    lead = o["referendum_expected_lead"].to_numpy()
    margin = o["param.domestic.constitution.referendum_margin"].to_numpy()
    assert held.sum() > 200 and (margin >= 0).all()
    assert (lead[held] >= margin[held] - 1e-12).all()
    # paired: with the rule off (it holds every referendum when due) the government
    # holds ones it expects to lose, and loses more referendums
    c = copy.deepcopy(cfg)
    c["domestic"]["constitution"]["referendum_margin"] = -1.0
    off = simulate(parse_params(c), worlds=10000, seed=SEED).outcomes
    assert (off["referendum_expected_lead"] < 0).sum() > 200  # the check can fail
    lost = o["referendum_held"] & ~o["referendum_passed"]
    lost_off = off["referendum_held"] & ~off["referendum_passed"]
    d, lo, hi = paired(lost_off, lost)
    print(f"P(referendum lost): rule on - off {d:+.4f} [{lo:+.4f}, {hi:+.4f}]")
    assert hi < 0


def _snap_calls(c: dict, worlds: int = 3000, weeks: int = 104) -> np.ndarray:
    """Age of the mandate (weeks) at every snap election called."""
    m = PeaceModel(parse_params(c), worlds=worlds, seed=SEED, horizon_weeks=weeks)
    dom = m.domestic
    ages = []
    for t in range(weeks):
        mandate = dom.mandate_week.copy()
        m.step()
        called = dom.event == DomesticEvent.EARLY_ELECTION
        ages += list(t - mandate[called])
    return np.array(ages)


def test_no_snap_election_within_snap_min_weeks_of_a_mandate(cfg):
    c = copy.deepcopy(cfg)
    c["domestic"]["government"].update(early_election_probability=1.0, snap_seat_gain=0,
                                       snap_min_weeks=52)
    ages = _snap_calls(c)
    assert len(ages) > 100 and (ages >= 52).all()
    # the 7 Jun 2026 mandate is 26 weeks old at the start: without the rule the
    # government calls snap elections right after it (the check can fail)
    c["domestic"]["government"]["snap_min_weeks"] = 0
    ages = _snap_calls(c)
    assert (ages < 52).sum() > 100


def test_the_government_postpones_a_vote_it_expects_to_lose(cfg):
    c = copy.deepcopy(cfg)
    c["domestic"]["parliament"]["vote_margin"] = 0.0  # only votes it expects to carry
    strict = simulate(parse_params(c), worlds=6000, seed=SEED).outcomes
    c["domestic"]["parliament"]["vote_margin"] = 1000.0  # every vote when due
    every = simulate(parse_params(c), worlds=6000, seed=SEED).outcomes
    assert strict["votes_postponed"].mean() > 0.5 and not every["votes_postponed"].any()
    failed = strict["parliament_votes"] - (strict["draft_votes"] >= 0)
    failed_every = every["parliament_votes"] - (every["draft_votes"] >= 0)
    d, lo, hi = paired(failed_every, failed)
    assert hi < 0  # fewer failed votes


def test_implied_fall_rate_per_year_lies_in_the_prior_range():
    o = simulate(load_params("baseline"), worlds=20000, seed=0).outcomes
    rate = fall_rate_per_year(o)
    print(f"baseline: P(government fell) {o['government_fell'].mean():.4f}, implied "
          f"early falls {rate:.4f} a year; record 2 in 34.5 years = {2 / 34.5:.4f}")
    assert FALL_RATE_PRIOR[0] <= rate <= FALL_RATE_PRIOR[1]


def test_a_lost_referendum_can_bring_the_government_down(cfg):
    """The 1998 channel (a rejected concession), with the agenda held fixed so that the
    government holds referendums it may lose."""
    c = merged(cfg, FIXED_AGENDA)
    out = []
    for h in (0.0, 0.5):
        c["domestic"]["constitution"]["failure_hazard"] = h
        out.append(simulate(parse_params(c), worlds=6000, seed=SEED).outcomes)
    d, lo, hi = paired(out[0]["government_fell"], out[1]["government_fell"])
    print(f"P(government fell): failure_hazard 0.5 - 0 {d:+.4f} [{lo:+.4f}, {hi:+.4f}]")
    assert lo > 0


def test_a_mandate_dated_after_the_start_counts_from_the_start(cfg):
    # a run that moves the start back before the 7 Jun 2026 election keeps the mandate
    # date of the defaults: the mandate's age is 0 at the start, never negative
    cfg["state"]["start_date"] = dt.date(2025, 9, 8)
    m = PeaceModel(parse_params(cfg), worlds=10, seed=SEED, horizon_weeks=1)
    assert (m.domestic.mandate_week == 0).all()
    cfg["state"]["start_date"] = dt.date(2026, 12, 7)
    m = PeaceModel(parse_params(cfg), worlds=10, seed=SEED, horizon_weeks=1)
    assert np.allclose(m.domestic.mandate_week, -183 / 7)
    with pytest.raises(ConfigError, match="mandate_date"):
        cfg["domestic"]["government"]["mandate_date"] = "June"
        parse_params(cfg)
