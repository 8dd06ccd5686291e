"""Public support: one latent state per world, its dynamics and its link to the referendum.

docs/model.md 7.7 (support) and 7.13 (the referendum's yes share). Every comparison is
paired: the same seed and worlds on both sides (common random numbers), the 95 %
interval of the world-by-world difference must exclude zero.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from helpers import FIXED_AGENDA, FROZEN_SUPPORT, OPEN_GATE, merged

from sim import simulate
from sim.errors import ConfigError
from sim.experiment.config import load_params
from sim.model.model import PeaceModel
from sim.model.params import MediatorParams, SupportParams

SEED = 0
WORLDS = 4000

#: the climate's three pulls on support switched off: support can only stay at its draw
NO_CLIMATE = {"domestic": {"support": {"mobilisation_effect": 0.0, "tension_effect": 0.0,
                                       "spoiler_effect": 0.0}}}
#: only the tension channel, at the top of its prior
ONLY_TENSION = {"domestic": {"support": {"mobilisation_effect": 0.0, "tension_effect": 0.2,
                                         "spoiler_effect": 0.0}}}
#: a spring-2025-sized burst of incidents (incident_spike's burst) from week 2 on
SPIKE = {"incidents": {"burst_rate": 5.0, "burst_start_week": 2, "burst_weeks": 5}}


def paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of ``b - a`` and its 95 % interval."""
    d = np.asarray(b, float) - np.asarray(a, float)
    se = d.std(ddof=1) / np.sqrt(d.size)
    return d.mean(), d.mean() - 1.96 * se, d.mean() + 1.96 * se


def run(overrides: dict, worlds: int = WORLDS, horizon: int = 156):
    return simulate(load_params("baseline", overrides=overrides), worlds=worlds,
                    seed=SEED, horizon_weeks=horizon)


# ------------------------------------------------------------------ one latent state
def test_support_has_one_draw_and_no_second_level_to_drift_to():
    fields = {f.name for f in dataclasses.fields(SupportParams)}
    assert "initial" in fields and "baseline" not in fields
    with pytest.raises(ConfigError, match=r"domestic\.support"):
        load_params("baseline", overrides={"domestic": {"support": {"baseline": 0.5}}})


def test_without_a_worse_climate_support_stays_exactly_at_its_draw():
    """The start and the reversion level are the same number: with the climate's pulls
    off (support not frozen) support never moves."""
    o = run(NO_CLIMATE, worlds=2000).outcomes
    assert np.array_equal(o["final_support"], o["param.domestic.support.initial"])


def test_support_never_rises_above_its_draw():
    """A calmer climate than at the start does not lift support (no sourced dividend);
    a worse one pulls it below: at the defaults support ends below its draw on average."""
    o = run({}, worlds=2000).outcomes
    d = o["final_support"] - o["param.domestic.support.initial"]
    assert (d <= 1e-12).all()
    assert d.mean() < -0.005


def test_the_reference_climate_is_the_baselines_start():
    """support.reference_* name the climate the polls describe: the baseline's own start
    (after week 0). If a change elsewhere moves the baseline's start, this fails and the
    references must be restated, or the baseline would drift from its draw at once."""
    p = load_params("baseline", assumptions="point")   # the references are the YAML's
    m = PeaceModel(p, worlds=2000, seed=SEED, horizon_weeks=1).run()
    sp = p.domestic.support
    # the typical world (a few had an incident in week 0)
    for now, ref in ((m.opposition.m, sp.reference_mobilisation),
                     (m.tension_side[0], sp.reference_tension),
                     (m.spoiling, sp.reference_spoiling)):
        assert abs(np.median(now) - np.median(ref)) < 0.015, (np.median(now), ref[0])


@pytest.mark.parametrize("scenario", ["opposition_surge", "russia_spoiler"])
def test_a_scenario_that_starts_in_a_worse_climate_starts_support_lower(scenario):
    """Paired: the same worlds and draws; a worse start than the polls' climate pulls
    support below its draw (a week in, before anything else has happened)."""
    a = simulate(load_params("baseline"), worlds=2000, seed=SEED, horizon_weeks=2).outcomes
    b = simulate(load_params(scenario), worlds=2000, seed=SEED, horizon_weeks=2).outcomes
    m, lo, hi = paired(a["final_support"], b["final_support"])
    assert hi < 0, (m, lo, hi)


# ------------------------------------------------------------------ dynamics
def test_an_incident_spike_lowers_support_through_tension():
    """Paired, the tension channel alone: the same worlds with and without a burst of
    incidents; support 8 weeks in (the burst's last week) is lower with the burst."""
    base = run(ONLY_TENSION, horizon=8).outcomes
    spike = run(merged(ONLY_TENSION, SPIKE), horizon=8).outcomes
    both = (base["outcome"] == "stalemate") & (spike["outcome"] == "stalemate")
    assert both.mean() > 0.9
    m, lo, hi = paired(base.loc[both, "final_support"], spike.loc[both, "final_support"])
    assert hi < 0, (m, lo, hi)
    # and with the tension channel off the same burst leaves support where it was
    off = run(merged(NO_CLIMATE, SPIKE), horizon=8).outcomes
    assert np.array_equal(off["final_support"], off["param.domestic.support.initial"])


def test_support_reverts_toward_its_draw_after_the_spike():
    """Mean reversion: the burst's dent (deepest about week 20, while tension is still
    high) shrinks once tension has come back down (week 100)."""
    early = run(merged(ONLY_TENSION, SPIKE), horizon=20).outcomes
    late = run(merged(ONLY_TENSION, SPIKE), horizon=100).outcomes
    both = (early["outcome"] == "stalemate") & (late["outcome"] == "stalemate")
    s0 = early["param.domestic.support.initial"]
    m, lo, hi = paired((s0 - early["final_support"])[both], (s0 - late["final_support"])[both])
    assert hi < 0, (m, lo, hi)


# ------------------------------------------------------------------ the yes share
def _arena(overrides: dict, worlds: int = 2000):
    model = PeaceModel(load_params("baseline", overrides=overrides), worlds=worlds, seed=SEED)
    return model.domestic


def test_the_yes_share_is_the_prior_while_support_is_at_its_draw():
    dom = _arena({})
    idx = np.arange(dom.W)
    assert np.allclose(dom.referendum_yes(idx), dom.p.referendum.yes_share)


def test_higher_support_gives_a_higher_yes_share_paired():
    """Same worlds, same draws: support up by 0.05 raises the expected yes share in
    every world, by ybar / S_0 * lambda * 0.05 (the elasticity form)."""
    dom = _arena({})
    idx = np.arange(dom.W)
    lo_y = dom.referendum_yes(idx)
    dom.support = np.clip(dom.support0 + 0.05, 0, 1)
    hi_y = dom.referendum_yes(idx)
    r = dom.p.referendum
    assert (hi_y > lo_y).all()
    want = np.clip(r.yes_share * (1 + r.support_link * (dom.support / dom.support0 - 1)), 0, 1)
    assert np.allclose(hi_y, want)
    dom.support = dom.support0 - 0.05
    assert (dom.referendum_yes(idx) < lo_y).all()


def test_lower_support_lowers_the_referendum_yes_share_in_the_model():
    """Through the model: the same referendums (worlds that held their first referendum
    in the same week in both runs, gate open, no day noise) have a lower yes share when
    tension pulls support down."""
    # the government's agenda held fixed: it holds the vote and the referendum whatever
    # it expects, so the same referendums happen in both runs
    gate = merged(OPEN_GATE, FIXED_AGENDA, {"domestic": {"referendum": {"day_noise": 0.0}}})
    a = run(merged(gate, NO_CLIMATE), worlds=8000).outcomes
    b = run(merged(gate, ONLY_TENSION, {"incidents": {"base_rate": 0.5}}), worlds=8000).outcomes
    same = (a["referendum_held"] & b["referendum_held"]).to_numpy()
    assert same.sum() > 200
    m, lo, hi = paired(a.loc[same, "referendum_yes_cast"], b.loc[same, "referendum_yes_cast"])
    assert hi < 0, (m, lo, hi)
    # without the climate the day is the same as with support frozen: the yes share is
    # the prior's draw either way
    f = run(merged(gate, FROZEN_SUPPORT), worlds=8000).outcomes
    assert np.array_equal(a["referendum_yes_cast"].to_numpy(), f["referendum_yes_cast"].to_numpy(),
                          equal_nan=True)


# ------------------------------------------------------------------ frozen
def test_frozen_support_really_freezes_and_switches_the_channel_off():
    hot = {"incidents": {"base_rate": 1.0}}
    a = run(merged(FROZEN_SUPPORT, hot), worlds=2000)
    o = a.outcomes
    assert np.array_equal(o["final_support"], o["param.domestic.support.initial"])
    # the channel's own keys do nothing while frozen: identical worlds
    b = run(merged(FROZEN_SUPPORT, hot, ONLY_TENSION), worlds=2000).outcomes
    for col in ("signed", "referendum_held", "referendum_passed", "final_support"):
        assert o[col].equals(b[col]), col


# ------------------------------------------------------------------ outside powers
def test_mediators_have_no_support_effect_key():
    assert "support_effect" not in {f.name for f in dataclasses.fields(MediatorParams)}
    with pytest.raises(ConfigError, match=r"actors\.eu"):
        load_params("baseline", overrides={"actors": {"eu": {"support_effect": 0.04}}})


@pytest.mark.parametrize("change", [
    {"actors": {"eu": {"incentives": {"armenia": 0.3}}}},
    {"actors": {"us": {"attention": 0.0, "attention_floor": 0.0}}},
])
def test_mediators_do_not_move_support_directly(change):
    """With the climate's pulls off, no change to a mediator moves support at all: the
    only route left is the climate (spoiling, mobilisation, tension) a mediator moves."""
    o = run(merged(NO_CLIMATE, change), worlds=2000).outcomes
    assert np.array_equal(o["final_support"], o["param.domestic.support.initial"])
