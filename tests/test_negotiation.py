"""Negotiation that binds: the initialled text, the open side issues, acceptance.

Fixed seeds; scenarios compared with one seed share their random numbers (common random
numbers), so effects are paired differences of the per-world signing indicator, with a
95 % interval from their standard error.

Where P(sign | constitution changed) is measured, the set-up starts with the
constitution already changed (``domestic.constitution.stage: passed``), so the figure
does not depend on the domestic track (parliament, referendum): only on the table and
the two sides' acceptance of the whole package.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sim import compose, parse_params, simulate
from sim.model.codes import Status
from sim.model.model import PeaceModel, rules
from sim.model.schedule import Table

WORLDS = 4000
SEED = 2026


def setp(cfg: dict, path: str, value) -> dict:
    c = copy.deepcopy(cfg)
    node = c
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return c


def passed(cfg: dict) -> dict:
    """The constitution has already changed at the start (no domestic track)."""
    return setp(cfg, "domestic.constitution.stage", "passed")


#: Horizon of the acceptance tests with the constitution already changed. Three years
#: saturate (P(sign) about 0.996 once reopening needs a stated trigger: 7.2), so the
#: channel is measured on signing within half a year (about 0.57 at the defaults).
PASSED_WEEKS = 26


def signed(cfg: dict, worlds: int = WORLDS, seed: int = SEED,
           horizon: int = 156) -> np.ndarray:
    return simulate(parse_params(cfg), worlds=worlds, seed=seed,
                    horizon_weeks=horizon).outcomes["signed"].to_numpy()


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of ``b - a`` per world and its 95 % interval."""
    d = b.astype(float) - a.astype(float)
    m, se = d.mean(), d.std(ddof=1) / np.sqrt(d.size)
    return m, m - 1.96 * se, m + 1.96 * se


# ------------------------------------------------------------------ the initialled text


@pytest.mark.parametrize("rule", ["compromise", "nash"])
def test_terms_of_the_initialled_text_do_not_change_unless_reopened(cfg, rule):
    c = passed(setp(cfg, "negotiation.rule", rule))
    p = parse_params(c)
    m = PeaceModel(p, worlds=2000, seed=SEED, horizon_weeks=156)
    text = m.table[:, m.text_mask].copy()
    side = ~m.text_mask
    moved_side = np.zeros(m.W, dtype=bool)
    for _ in range(m.horizon):
        before = m.table.copy()
        m.step()
        keep = ~m.reopened
        assert np.array_equal(m.table[keep][:, m.text_mask], text[keep])
        moved_side |= (m.table[:, side] != before[:, side]).any(axis=1)
    o = simulate(p, worlds=2000, seed=SEED).outcomes
    terms = o[[f"terms.{k}" for k in p.negotiation.text_issues]].to_numpy()
    ok = o["signed"] & ~o["reopened"]
    assert ok.sum() > 500
    assert np.array_equal(terms[ok.to_numpy()], text[ok.to_numpy()])
    assert moved_side.mean() > 0.9          # the bargaining happens on the side issues
    assert 0 < m.reopened.mean() < 0.5      # and reopening happens, in a minority


def test_a_text_not_yet_initialled_moves_under_the_rule(cfg):
    c = setp(passed(cfg), "state.flags", ["minsk_closed"])
    c["state"]["events"]["initialling"] = None  # the calendar would initial it in week 0
    m = PeaceModel(parse_params(c), worlds=500, seed=SEED, horizon_weeks=10)
    text0 = m.table[:, m.text_mask].copy()
    m.run()
    assert (np.abs(m.table[:, m.text_mask] - text0) > 1e-3).any(axis=1).mean() > 0.9


def test_reopening_costs_trust_and_reopens_the_text_to_the_rule(cfg):
    """corridor_demand: Baku's red line cannot be met by the initialled text, so it holds
    and, at its scenario hazard, reopens; the text then moves toward its restated ideal."""
    c, _ = compose("corridor_demand")
    p = parse_params(c)
    m = PeaceModel(p, worlds=1000, seed=SEED, horizon_weeks=104)
    k = p.issues.index("transit_regime")
    t0 = m.table[0, k]
    for t in range(m.horizon):
        trust_before = m.trust.copy()
        m.step()
        now = m.reopen_week == t
        if now.any():
            # the loss is applied after this week's perception update, which can only
            # raise trust by the recovery share; so trust ends below (1 - loss) * 1.01
            assert (m.trust[now] < trust_before[now] * (1 - 0.3) + 0.011).all()
    assert m.reopened.mean() > 0.9
    assert (m.reopened_by[m.reopened] == 1).mean() > 0.95  # mostly Azerbaijan (index 1)
    assert (m.table[m.reopened, k] > t0 + 0.1).mean() > 0.9
    assert not (m.status == Status.SIGNED).any()       # the red lines still collide


# ------------------------------------------------------------ acceptance of the package


def test_p_sign_given_constitution_changed_is_neither_zero_nor_one(cfg):
    """P(sign within half a year | constitution already changed) at the defaults.

    Channel: acceptance of the whole package (text plus side issues): reservation
    values, commitment cost, the patience holdout and the side issues' table. (Within
    three years it is about 0.996: with the constitution changed nothing but timing
    stands in the way; see PASSED_WEEKS.)
    """
    s = signed(passed(cfg), horizon=PASSED_WEEKS)
    lo, hi = rules.wilson_interval(s.sum(), s.size)
    assert 0.2 < lo and hi < 0.95, (s.mean(), lo, hi)


@pytest.mark.parametrize(("path", "value", "direction"), [
    ("negotiation.rule", "nash", +1),
    ("actors.azerbaijan.reservation", {"dist": "uniform", "low": 0.60, "high": 0.75}, -1),
    ("negotiation.commitment_cost", 0.3, -1),
    ("actors.azerbaijan.patience", 0.6, +1),
    ("actors.armenia.reservation", {"dist": "uniform", "low": 0.50, "high": 0.65}, -1),
    ("actors.armenia.patience", 0.5, -1),
])
def test_negotiation_levers_move_p_sign_given_constitution_changed(cfg, path, value,
                                                                  direction):
    """Each lever moves P(sign within half a year | constitution changed) by a paired
    difference whose 95 % interval excludes zero, in the stated direction (Nash vs
    compromise; Baku's and Armenia's reservation values; the commitment cost; each
    side's patience: a more patient side holds out longer and concedes more slowly)."""
    base = passed(cfg)
    m, lo, hi = paired(signed(base, horizon=PASSED_WEEKS),
                       signed(setp(base, path, value), horizon=PASSED_WEEKS))
    if direction > 0:
        assert lo > 0, (m, lo, hi)
    else:
        assert hi < 0, (m, lo, hi)


# ------------------------------------------------- mediators with support held fixed


def test_frozen_support_stays_at_its_initial_draw(cfg):
    c = setp(cfg, "domestic.support.frozen", True)
    res = simulate(parse_params(c), worlds=500, seed=SEED)
    o = res.outcomes
    assert np.allclose(o["final_support"], o["param.domestic.support.initial"])
    free = simulate(parse_params(cfg), worlds=500, seed=SEED).outcomes
    assert not np.allclose(free["final_support"], free["param.domestic.support.initial"])


@pytest.mark.parametrize(("scenario", "direction"), [("us_disengages", -1),
                                                     ("western_incentives", +1)])
def test_mediators_move_p_sign_with_support_frozen(scenario, direction):
    """Channel: reservation values (incentives) and the commitment cost (guarantees);
    the public-support channel is switched off (domestic.support.frozen) and the
    constitution has already changed, so the referendum does not stand in between."""
    base, _ = compose("baseline")
    alt, _ = compose(scenario)
    base = passed(setp(base, "domestic.support.frozen", True))
    alt = passed(setp(alt, "domestic.support.frozen", True))
    m, lo, hi = paired(signed(base), signed(alt))
    assert (lo > 0) if direction > 0 else (hi < 0), (m, lo, hi)


def test_guarantees_lower_the_commitment_cost(cfg):
    m = PeaceModel(parse_params(cfg), worlds=10, seed=SEED, horizon_weeks=1)
    kappa = cfg["negotiation"]["commitment_cost"]
    expected = kappa * (1 - m.trust)
    for med in m.mediators:
        expected = expected * (1 - med.p.guarantee * med.attention)
    assert np.allclose(m.commitment_cost(), expected)
    assert (m.commitment_cost() < kappa * (1 - m.trust)).all()


# ------------------------------------------------------------ one compromise rule


def test_the_model_tables_the_compromise_through_rules_compromise(cfg, monkeypatch):
    """The known-answer test (EC example) guards the function the model calls."""
    calls = []
    real = rules.compromise

    def spy(x, weight, factors=None, cols=None):  # the table passes weight factors
        calls.append(len(x))
        return real(x, weight, factors, cols)

    monkeypatch.setattr(rules, "compromise", spy)
    m = PeaceModel(parse_params(cfg), worlds=50, seed=SEED, horizon_weeks=3).run()
    assert len(calls) == 3
    # the pooled static actor gives the same package as listing every actor
    xs, ws = [], []
    for a in m.agents:
        w = a.table_weights()
        if a is m.home and m.opposition is not None:
            w = w * (1 + m.opposition.p.leverage * m.opposition.m)[:, None]
        xs.append(a.y if hasattr(a, "y") else a.x)
        ws.append(w)
    target = m.mechanism(Table).propose(m)
    assert np.allclose(target, real(np.stack(xs, axis=1), np.stack(ws, axis=1)))


def test_reopening_hazard_is_the_stated_weekly_probability():
    """Known answer: in corridor_demand Baku holds every week (its red line excludes the
    text), so with Armenia's hazard at 0 the text is reopened by the end of week t with
    probability 1 - (1 - h)^(t + 1), h = Baku's reopen_hazard."""
    c, _ = compose("corridor_demand")
    c = setp(c, "actors.armenia.reopen_hazard", 0.0)
    h = c["actors"]["azerbaijan"]["reopen_hazard"]
    m = PeaceModel(parse_params(c), worlds=4000, seed=SEED, horizon_weeks=20).run()
    assert not m.counterpart.accept.any()
    for t in (4, 9, 19):
        p = 1 - (1 - h) ** (t + 1)
        k = int(((m.reopen_week >= 0) & (m.reopen_week <= t)).sum())
        lo, hi = rules.wilson_interval(k, m.W, z=3.0)
        assert lo < p < hi, (t, k / m.W, p)
