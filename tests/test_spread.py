"""P(sign)'s spread across draws of the assumptions (sim/experiment/spread.py).

Known answers: a draw set whose P(sign) does not move gives zero between-draw variance
(exactly, through the model, when the draws share their worlds; within its interval
when they do not, which tests the Monte Carlo correction); a planted two-point
assumption gives the analytic spread and variance share. Then: reproducible by seed,
summary.json's block round-trips and is refused when damaged, the config hash sees
the spread, the report shows it, bad values are one line through the command line.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from helpers import sim_run_refuses

from sim import load_params, simulate
from sim.analysis.explore import discover_inputs
from sim.cli.compose import compose_config
from sim.cli.run import run
from sim.experiment.runfolder import DamagedRunError, check_summary
from sim.experiment.runs import Summary, format_table, load_run, simulate_blocks
from sim.experiment.settings import SpreadSettings
from sim.experiment.spread import assumption_draws, spread, spread_statistics
from sim.model.params import lookup
from sim.model.posterior import PosteriorDist, write_posterior
from sim.model.rng import stream

#: The assumption planted in the known-answer tests.
KEY = "domestic.referendum.yes_share"


def posterior_file(tmp_path, values, name="post.csv"):
    """A posterior sample of ``KEY`` holding ``values`` with equal weights."""
    path = tmp_path / name
    write_posterior(path, pd.DataFrame({KEY: values, "weight": 1.0}), {"method": "test"})
    return path


#: A scenario in which many worlds sign (the pledge replaces the referendum).
SIGNING = "baku_pledge_path"


def at_means(scenario, **extra):
    """``scenario``'s parameters with every distribution at its mean but those in ``extra``
    (the YAML's distributions: ``assumptions=point``)."""
    ov = {i.key: float(i.dist.mean())
          for i in discover_inputs(load_params(scenario, assumptions="point"))
          if i.key not in extra}
    return load_params(scenario, overrides={**ov, **extra}, assumptions="point")


def fixed_everywhere_but(tmp_path, values):
    """:data:`SIGNING` with every distribution at its mean but ``KEY``, drawn from a
    posterior sample of ``values``."""
    return at_means(SIGNING, **{KEY: {"dist": "posterior", "column": KEY,
                                      "file": str(posterior_file(tmp_path, values))}})


def planted(p_of, independent=False):
    """A planted outcome: world j signs when its luck u_j < p_of(yes share).

    The luck is the block's (common to every draw) unless ``independent``, when each
    call draws fresh luck (as draws without common random numbers would).
    """
    calls = {"n": 0}

    def evaluate(values, size, block):
        calls["n"] += 1
        name = f"luck-{calls['n']}" if independent else "luck"
        return stream(7, name, block).random(size) < p_of(values[KEY])

    return evaluate


# ----------------------------------------------------------------------- known answers


def test_draws_whose_p_sign_is_fixed_give_exactly_zero_between_variance_through_the_model(
        tmp_path):
    # every draw takes the same value: each runs the model anew, on the same worlds
    params = fixed_everywhere_but(tmp_path, [0.7, 0.7])
    sp = spread(params, SpreadSettings(3, 400, 50), seed=2, horizon_weeks=104,
                block_worlds=150)
    assert (sp.signed == sp.signed[0]).all()          # common random numbers, world by world
    b = sp.block
    assert b["p_sign_q10"] == b["p_sign_q50"] == b["p_sign_q90"] == b["p_sign_mean"]
    assert b["variance_between"] == pytest.approx(0.0, abs=1e-15)
    assert b["share_between"] == pytest.approx(0.0, abs=1e-12)
    # and each draw is the run's own first 400 worlds (blocks of 150) with the value
    # written as a number
    plain = simulate_blocks(at_means(SIGNING, **{KEY: 0.7}), 400, seed=2, horizon_weeks=104,
                            block_worlds=150, progress=False)
    assert plain.outcomes is not None
    assert np.array_equal(sp.signed[0], plain.outcomes["signed"].to_numpy(dtype=bool))
    assert b["p_sign_mean"] == plain.outcomes["signed"].mean() > 0.05


def test_fixed_p_sign_with_independent_luck_gives_between_variance_within_its_interval():
    # without common luck the draws' values scatter, and the correction removes it
    sp = spread(load_params(), SpreadSettings(60, 2000, 400), seed=0, horizon_weeks=156,
                block_worlds=2000, evaluate=planted(lambda y: 0.1, independent=True))
    b = sp.block
    assert b["p_sign_q90"] - b["p_sign_q10"] > 0.01      # Monte Carlo scatter alone
    lo, hi = b["share_between_ci"]
    assert lo <= 0.0 <= hi and abs(b["share_between"]) < 0.002
    assert b["noise_share_ci"][0] <= 1.0 <= b["noise_share_ci"][1]   # all of it is noise


def test_a_planted_two_point_assumption_gives_the_analytic_spread(tmp_path):
    # yes share 0.2 or 0.8 with equal weight; P(sign | y) = y / 10: 0.02 or 0.08
    path = posterior_file(tmp_path, [0.2, 0.8])
    params = load_params(overrides={KEY: {"dist": "posterior", "file": str(path),
                                          "column": KEY}})
    K, M = 200, 20_000
    sp = spread(params, SpreadSettings(K, M, 400), seed=1, horizon_weeks=156,
                block_worlds=8000, evaluate=planted(lambda y: y / 10))
    b = sp.block
    drawn = sp.draws[f"param.{KEY}"].to_numpy()
    assert set(np.round(drawn, 12)) == {0.2, 0.8} and 0.4 < (drawn == 0.8).mean() < 0.6
    luck = np.concatenate([stream(7, "luck", blk).random(n)
                           for blk, n in enumerate((8000, 8000, 4000))])
    assert b["p_sign_q10"] == (luck < 0.02).mean()       # the low draws' worlds, exactly
    assert b["p_sign_q90"] == (luck < 0.08).mean()
    assert b["p_sign_q10"] == pytest.approx(0.02, abs=3 * math.sqrt(0.02 * 0.98 / M))
    assert b["p_sign_q90"] == pytest.approx(0.08, abs=3 * math.sqrt(0.08 * 0.92 / M))
    # law of total variance: Var_theta(p) = 0.03^2, Var(signed) = 0.05 * 0.95
    share = 0.03 ** 2 / (0.05 * 0.95)
    lo, hi = b["share_between_ci"]
    assert lo <= share <= hi and b["share_between"] == pytest.approx(share, rel=0.2)
    assert b["share_within"] == pytest.approx(1 - b["share_between"])
    assert b["noise_share"] < 0.05                        # common luck: M is plenty
    assert b["draws_signing"] == K


def test_statistics_of_a_hand_table():
    # two draws, four worlds: p = 0.5 and 0.25; worlds' counts 2, 1, 0, 0
    Y = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], dtype=bool)
    st = spread_statistics(Y, 20, seed=0)
    observed = np.var([0.5, 0.25], ddof=1)                  # 0.03125
    trace = (0.5 * 0.5 + 0.25 * 0.75) * 4 / 3
    noise = (trace - np.var([2, 1, 0, 0], ddof=1) / 2) / (4 * 1)
    assert st["variance_between"] == pytest.approx(observed - noise)
    assert st["p_sign_mean"] == 0.375
    assert st["variance_total"] == pytest.approx(0.375 * 0.625)
    assert st["draws_signing"] == 2
    with pytest.raises(ValueError, match="at least 2 draws"):
        spread_statistics(Y[:1], 20, seed=0)


# ----------------------------------------------------------------------- reproducible


def test_the_same_seed_gives_the_same_spread_and_another_seed_other_draws():
    params = load_params()
    a = assumption_draws(params, 5, seed=3)
    assert set(a) == {i.key for i in discover_inputs(params)}
    assert all(np.array_equal(a[k], v) for k, v in assumption_draws(params, 5, 3).items())
    assert not np.array_equal(a["incidents.base_rate"],
                              assumption_draws(params, 5, 4)["incidents.base_rate"])
    # the draws are not the run's own first worlds (streams of their own), for a key the
    # default draws from the record's posterior too: its rows come from the spread's own
    # stream of the file (they were the run's first worlds' rows until stop 31)
    assert isinstance(lookup(params, "incidents.base_rate"), PosteriorDist)
    run = simulate(params, worlds=5, seed=3, horizon_weeks=4)
    assert not np.array_equal(a["incidents.base_rate"],
                              run.outcomes["param.incidents.base_rate"].to_numpy())
    ev = planted(lambda y: y / 10)
    s1 = spread(params, SpreadSettings(20, 3000, 100), 3, 156, 3000, evaluate=ev).block
    s2 = spread(params, SpreadSettings(20, 3000, 100), 3, 156, 3000, evaluate=ev).block
    s1.pop("elapsed_seconds"), s2.pop("elapsed_seconds")
    assert s1 == s2


# ----------------------------------------------------------------------- the run folder


FAST = ["worlds=200", "horizon_weeks=26", "quiet=true", "block_worlds=100"]


def test_sim_run_writes_the_spread_block_and_it_round_trips(tmp_path, capsys):
    ov = [*FAST, "spread.draws=3", "spread.worlds=150", "spread.resamples=20"]
    s = run(compose_config(ov), tmp_path, ov)
    summary = json.loads((tmp_path / "summary.json").read_text())
    b = summary["spread"]
    assert summary == json.loads(json.dumps(s))
    assert (b["draws"], b["worlds"], b["resamples"]) == (3, 150, 20)
    # the default draws the record's posterior where it says something, the priors elsewhere
    assert len(b["p_sign_by_draw"]) == 3 and b["inputs_posterior"] > 0 < b["inputs_prior"]
    assert b["inputs"] == b["inputs_prior"] + b["inputs_posterior"]
    assert Summary.from_dict(summary).to_dict() == summary
    loaded = load_run(tmp_path)
    assert loaded.summary["spread"] == b
    text = format_table(loaded.estimates)
    assert "across assumptions 10-90 %: [" in text and "[MC " in text
    # a run without a spread prints what it always printed, and no spread block
    plain = run(compose_config(FAST), tmp_path / "plain", FAST)
    assert "spread" not in plain
    assert "across assumptions" not in format_table(Summary.from_dict(plain))


def test_the_spread_is_part_of_the_config_hash(tmp_path):
    # a finished run without a spread is not reused for one that asks for it
    plain = run(compose_config(FAST), tmp_path, FAST)
    ov = [*FAST, "spread.draws=2", "spread.worlds=50", "spread.resamples=10"]
    with_spread = run(compose_config(ov), tmp_path, ov)
    assert plain["config_hash"] != with_spread["config_hash"] and "spread" in with_spread


@pytest.mark.parametrize("bad_block, says", [
    ({"draws": 3, "worlds": 10, "p_sign_q10": 0.5, "p_sign_q50": 0.2, "p_sign_q90": 0.1,
      "p_sign_mean": 0.2, "share_between": 0.1, "noise_share": 0.0,
      "share_between_ci": [0, 1], "p_sign_q10_ci": [0, 1], "p_sign_q90_ci": [0, 1]},
     "spread must be"),
    ("wide", "spread must be"),
    ({"draws": 3}, "spread must be"),
])
def test_a_damaged_spread_block_is_refused(tmp_path, bad_block, says):
    run(compose_config(FAST), tmp_path, FAST)
    summary = json.loads((tmp_path / "summary.json").read_text())
    summary["spread"] = bad_block
    with pytest.raises(DamagedRunError, match=says):
        check_summary(summary, tmp_path / "summary.json")


def test_the_report_shows_the_spread(tmp_path):
    from sim.viz.report import build_report

    ov = [*FAST, "spread.draws=2", "spread.worlds=100", "spread.resamples=10"]
    run(compose_config(ov), tmp_path, ov)
    html = (build_report(tmp_path)).read_text(encoding="utf-8")
    assert "10–90 % across assumptions" in html and "2 draws × 100 worlds" in html


# ----------------------------------------------------------------------- bad input


bad = sim_run_refuses


@pytest.mark.parametrize("argv, key, says", [
    (["spread.draws=1"], "spread.draws", "a spread needs two draws"),
    (["spread.draws=-2"], "spread.draws", "[0, 100000]"),
    (["spread.draws=abc"], "spread.draws", "whole number"),
    (["spread.worlds=1"], "spread.worlds", "[2,"),
    (["spread.resamples=5"], "spread.resamples", "[10,"),
    (["+spread.bogus=1"], "spread.bogus", "unknown key; allowed: draws, worlds, resamples"),
    (["spread=7"], "spread", "must be a mapping"),
])
def test_bad_spread_values_are_one_line_exit_2(argv, key, says, capsys):
    line = bad(argv, capsys)
    assert line.startswith(f"sim-run: error: command line: {key}: "), line
    assert says in line, line
