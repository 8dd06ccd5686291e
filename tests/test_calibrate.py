"""Calibration (ABC) on toy models with known posteriors, posterior files, the real model."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from sim import load_params, simulate
from sim.analysis import backtest as bt
from sim.analysis import calibrate as cb
from sim.errors import ConfigError
from sim.experiment.config import CONFIG_DIR
from sim.model.dists import Dist
from sim.model.posterior import HEADER_PREFIX, PosteriorDist, read_posterior, write_posterior
from sim.viz.calibration_plots import prior_posterior

# Two real model keys, so that a toy posterior can be drawn from by a real scenario.
RATE = "incidents.base_rate"
EARLY = "domestic.government.early_election_probability"


def _uniform(lo: float = 0.0, hi: float = 1.0, key_hi: float = 1.0) -> Dist:
    return Dist("uniform", (("low", lo), ("high", hi)), 0.0, key_hi)


def toy(fixed: dict[str, np.ndarray], seed: int) -> dict[str, np.ndarray]:
    """A vectorised toy: four Bernoulli(theta) events and Poisson(50 * lam) counts."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    if EARLY in fixed:
        th = fixed[EARLY]
        out.update({f"event{i}": rng.random(len(th)) < th for i in range(4)})
    if RATE in fixed:
        lam = fixed[RATE]
        out["count"] = rng.poisson(50 * lam).astype(float)
        out["count2"] = rng.poisson(50 * lam).astype(float)
    return out


#: One event of four happened: with a U(0, 1) prior the posterior is Beta(2, 4).
EVENTS = [cb.Target(f"event{i}", "binary", float(i == 0)) for i in range(4)]
TRUE_LAM = 0.3


def _observed_counts() -> list[cb.Target]:
    obs = toy({RATE: np.array([TRUE_LAM])}, seed=12345)
    return [cb.Target("count", "count", float(obs["count"][0])),
            cb.Target("count2", "count", float(obs["count2"][0]))]


def _interval(cal: cb.Calibration, key: str) -> tuple[float, float]:
    q = cb.weighted_quantile(cal.samples[key], cal.samples["weight"], [0.05, 0.95])
    return float(q[0]), float(q[1])


def _mean(cal: cb.Calibration, key: str) -> float:
    return float(np.average(cal.samples[key], weights=cal.samples["weight"]))


# ------------------------------------------------------------------ known answers


def test_rejection_with_binary_facts_matches_the_exact_beta_posterior():
    cal = cb.rejection(toy, {EARLY: _uniform()}, EVENTS, prior_worlds=40_000, seed=1)
    assert cal.tolerance == 0.0 and cal.world_runs == 40_000
    x = cal.samples[EARLY].to_numpy()
    assert 1500 < len(x) < 2500  # P(accept) = B(2, 4) = 1/20
    exact = stats.beta(2, 4)
    assert abs(x.mean() - exact.mean()) < 4 * exact.std() / np.sqrt(len(x))
    assert stats.kstest(x, exact.cdf).pvalue > 0.01
    lo, hi = _interval(cal, EARLY)
    assert hi - lo < 0.9 * 0.7  # narrower than the prior's 90 % interval (0.9)


def test_smc_with_binary_facts_matches_the_exact_beta_posterior():
    cal = cb.smc(toy, {EARLY: _uniform()}, EVENTS, particles=2000, seed=2,
                 generations=2, prior_worlds=40_000)
    assert [g.tolerance for g in cal.generations] == [0.0, 0.0, 0.0]
    w = cal.samples["weight"].to_numpy()
    assert w.sum() == pytest.approx(1.0) and cal.ess > 500
    exact = stats.beta(2, 4)
    assert abs(_mean(cal, EARLY) - exact.mean()) < 0.02
    lo, hi = _interval(cal, EARLY)
    assert abs(lo - exact.ppf(0.05)) < 0.03 and abs(hi - exact.ppf(0.95)) < 0.04
    # proposals from the previous generation are accepted more often than prior draws
    g0, g2 = cal.generations[0], cal.generations[2]
    assert g2.accepted / g2.simulated > g0.accepted / g0.simulated


@pytest.mark.parametrize("method", ["rejection", "smc"])
def test_a_planted_rate_is_recovered_from_counts(method):
    targets = _observed_counts()
    prior = {RATE: _uniform(0.0, 1.0, key_hi=50.0)}
    if method == "rejection":
        cal = cb.rejection(toy, prior, targets, prior_worlds=60_000, seed=3, quantile=0.02)
    else:
        cal = cb.smc(toy, prior, targets, particles=1500, seed=3, generations=4)
    lo, hi = _interval(cal, RATE)
    assert lo < TRUE_LAM < hi
    assert hi - lo < 0.5 * 0.9  # the prior's 90 % interval is 0.9 wide
    # the exact posterior given both counts is Gamma(k1 + k2 + 1, rate 100) on [0, 1]
    k = sum(t.observed for t in targets)
    assert abs(_mean(cal, RATE) - (k + 1) / 100) < 0.03
    assert cal.scales["count"] > 0


def test_smc_tolerance_shrinks_and_costs_fewer_world_runs_than_rejection_at_that_tolerance():
    targets = _observed_counts()
    prior = {RATE: _uniform(0.0, 1.0, key_hi=50.0)}
    cal = cb.smc(toy, prior, targets, particles=1000, seed=4, generations=4)
    tol = [g.tolerance for g in cal.generations]
    assert all(b <= a for a, b in zip(tol, tol[1:], strict=False)) and tol[-1] < tol[0]
    last = cal.generations[-1]
    rej = cb.rejection(toy, prior, targets, prior_worlds=cal.world_runs, seed=4,
                       tolerance=last.tolerance)
    # rejection spending the same world-runs accepts fewer worlds at the final tolerance
    assert len(rej.samples) < last.accepted * 2


def test_binary_and_count_facts_together_use_exact_matching_and_the_count_distance():
    targets = EVENTS + _observed_counts()
    priors = {EARLY: _uniform(), RATE: _uniform(0.0, 1.0, key_hi=50.0)}
    cal = cb.rejection(toy, priors, targets, prior_worlds=60_000, seed=5, quantile=0.1,
                       batch_worlds=60_000)
    sims = toy({k: cal.prior[k].to_numpy() for k in priors}, cb.batch_seed(5, 0, 0))
    matched = np.all([sims[t.name] == t.observed for t in EVENTS], axis=0)
    d = cb.distances(sims, targets, cal.scales)
    assert np.isinf(d[~matched]).all() and np.isfinite(d[matched]).all()
    assert cal.tolerance == np.quantile(d[matched], 0.1)
    keep = d <= cal.tolerance
    np.testing.assert_array_equal(cal.samples[RATE], cal.prior[RATE][keep])
    np.testing.assert_array_equal(cal.distances, d[keep])
    assert 0.1 * matched.sum() <= len(cal.samples) < 0.2 * matched.sum()  # ties included


def test_smc_out_of_budget_keeps_the_last_complete_generation():
    prior = {RATE: _uniform(0.0, 1.0, key_hi=50.0)}
    full = cb.smc(toy, prior, _observed_counts(), particles=300, seed=9, generations=1)
    cut = cb.smc(toy, prior, _observed_counts(), particles=300, seed=9, generations=1,
                 max_world_runs=1300)
    assert not cut.generations[-1].complete and cut.world_runs <= 1300
    assert cut.generations[-1].accepted < 300
    assert cut.tolerance == cut.generations[0].tolerance == full.generations[0].tolerance
    assert len(cut.samples) == 300 and cut.samples["weight"].nunique() == 1  # generation 0
    assert full.generations[-1].complete and full.tolerance < full.generations[0].tolerance


def test_same_seed_same_posterior_and_another_seed_another():
    prior = {RATE: _uniform(0.0, 1.0, key_hi=50.0)}
    runs = [cb.smc(toy, prior, _observed_counts(), particles=300, seed=s, generations=2)
            for s in (7, 7, 8)]
    pd.testing.assert_frame_equal(runs[0].samples, runs[1].samples)
    assert not runs[0].samples.equals(runs[2].samples)


def test_smc_refuses_a_prior_without_density_and_exclude_names_unknown_facts(tmp_path):
    path = tmp_path / "p.csv"
    write_posterior(path, pd.DataFrame({EARLY: [0.2, 0.4], "weight": 1.0}), {})
    prior = load_params("baseline", overrides={
        EARLY: {"dist": "posterior", "file": str(path), "column": EARLY}})
    dist = prior.domestic.government.early_election_probability
    assert isinstance(dist, PosteriorDist)
    with pytest.raises(cb.CalibrationError, match="density"):
        cb.smc(toy, {EARLY: dist}, EVENTS, particles=10, seed=0)
    rej = cb.rejection(toy, {EARLY: dist}, EVENTS, prior_worlds=2000, seed=0)
    assert set(rej.samples[EARLY]) <= {0.2, 0.4}  # rejection can start from a posterior
    with pytest.raises(cb.CalibrationError, match="no fact 'atlantis'"):
        cb.facts_until(FACTS, dt.date(2025, 8, 8), CUTOFF, exclude=["atlantis"])


def test_a_fact_no_prior_world_reproduces_is_named():
    never = [cb.Target("event0", "binary", 1.0)]
    with pytest.raises(cb.CalibrationError, match="no prior world reproduces event0"):
        cb.rejection(toy, {EARLY: _uniform(0.0, 1e-9)}, never, prior_worlds=100, seed=0)


def test_moved_table_reports_the_narrowing():
    cal = cb.rejection(toy, {EARLY: _uniform()}, EVENTS, prior_worlds=20_000, seed=1)
    row = cb.moved_table(cal).set_index("key").loc[EARLY]
    assert row["prior_mean"] == pytest.approx(0.5, abs=0.01)
    assert row["posterior_mean"] == pytest.approx(1 / 3, abs=0.02)
    assert row["shift_sd"] == pytest.approx((1 / 3 - 0.5) / np.sqrt(1 / 12), abs=0.1)
    assert 0.5 < row["width_ratio"] < 0.8  # Beta(2, 4): 0.58 against the prior's 0.9


# ------------------------------------------------------- posterior sample files


def test_a_posterior_round_trips_through_a_scenario_and_keeps_rows_together(tmp_path):
    targets = EVENTS + _observed_counts()
    priors = {EARLY: _uniform(), RATE: _uniform(0.0, 1.0, key_hi=50.0)}
    cal = cb.smc(toy, priors, targets, particles=400, seed=6, generations=2)
    cal.settings = {"origin": "toy", "cutoff": "2026-01-01", "facts": [t.name for t in targets]}
    moved = cb.moved_table(cal)
    fig = prior_posterior(cal.prior, cal.samples, moved, cb.caption(cal))
    assert [ax.get_title() for ax in fig.axes] == [EARLY, RATE]
    cb.write_calibration(tmp_path, cal, fig)
    path = tmp_path / "posterior.csv"
    header, samples, _ = read_posterior(path)
    assert header["method"] == "smc" and header["accepted"] == 400
    assert header["origin"] == "toy" and header["effective_sample_size"] == pytest.approx(
        cal.ess, rel=1e-3)
    assert {"prior.csv", "moved.csv", "prior_posterior.png", "calibration.md",
            "manifest.json"} <= {p.name for p in tmp_path.iterdir()}
    over = {k: {"dist": "posterior", "file": str(path), "column": k} for k in priors}
    res = simulate(load_params("baseline", overrides=over), worlds=300, seed=2,
                   horizon_weeks=3)
    # the YAML the calibration prints for a scenario composes to the same draws
    snippet = yaml.safe_load(cb.scenario_snippet(list(priors), str(path)))
    assert snippet["incidents"]["base_rate"] == over[RATE]
    same = simulate(load_params("baseline", overrides=snippet), worlds=300, seed=2,
                    horizon_weeks=3)
    pd.testing.assert_frame_equal(same.outcomes, res.outcomes)
    drawn = res.outcomes[[f"param.{RATE}", f"param.{EARLY}"]].to_numpy()
    rows = {tuple(r) for r in samples[[RATE, EARLY]].to_numpy()}
    assert all(tuple(r) in rows for r in drawn)  # each world took one row, both keys
    assert len({tuple(r) for r in drawn}) > 50


def test_posterior_rows_are_drawn_by_weight(tmp_path):
    path = tmp_path / "p.csv"
    write_posterior(path, pd.DataFrame({RATE: [0.1, 0.2, 0.3], "weight": [1.0, 0.0, 3.0]}),
                    {"method": "hand-made"})
    res = simulate(load_params("baseline", overrides={
        RATE: {"dist": "posterior", "file": str(path), "column": RATE}}), worlds=4000, seed=0,
        horizon_weeks=1)
    x = res.outcomes[f"param.{RATE}"].to_numpy()
    assert set(np.unique(x)) == {0.1, 0.3}
    assert (x == 0.3).mean() == pytest.approx(0.75, abs=0.03)


def _bad(tmp_path, text: str | None, column: str = RATE) -> str:
    path = tmp_path / "p.csv"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_params("baseline", overrides={
            RATE: {"dist": "posterior", "file": str(path), "column": column}})
    msg = str(e.value)
    assert "\n" not in msg and str(path) in msg and RATE in msg
    return msg


def test_bad_posterior_files_are_one_line_naming_the_file_and_key(tmp_path):
    head = HEADER_PREFIX + json.dumps({"method": "x"}) + "\n"
    assert "no such file" in _bad(tmp_path, None)
    assert "has no column 'nope'" in _bad(tmp_path, head + f"{RATE},weight\n0.1,1\n", "nope")
    assert "empty sample" in _bad(tmp_path, head + f"{RATE},weight\n")
    assert "not a posterior sample file" in _bad(tmp_path, f"{RATE},weight\n0.1,1\n")
    assert "outside the key's allowed range" in _bad(tmp_path, head + f"{RATE},weight\n-1,1\n")
    assert "weights" in _bad(tmp_path, head + f"{RATE},weight\n0.1,-1\n")


# ------------------------------------------------------------------ the real model


FACTS = bt.load_facts(CONFIG_DIR / "backtest" / "facts.yaml")
#: A fact no world from 8 Aug 2025 reproduces (no event sets the pledge flag there).
IMPOSSIBLE_YAML = """
  - id: pledge_bound_by_2025_12_01
    date: 2025-12-01
    source: "test: a flag no event of the origin sets"
    kind: binary
    quantity: flag_set_by
    args: {flag: pledge_binding}
    observed: true
    no_change: false
    annual_rate: 0.032
    climatology_source: "test"
"""


def _with_impossible(tmp_path):
    """The bundled facts file plus :data:`IMPOSSIBLE_YAML`, written to ``tmp_path``."""
    path = tmp_path / "facts.yaml"
    path.write_text((CONFIG_DIR / "backtest" / "facts.yaml").read_text(encoding="utf-8")
                    .rstrip("\n") + "\n" + IMPOSSIBLE_YAML, encoding="utf-8")
    return path
RANGES = {RATE: (0.01, 0.3), EARLY: (0.05, 0.6)}
CUTOFF = dt.date(2026, 6, 20)


DRAFT = "domestic.constitution.draft_weeks"  # the origin's own prior, U(13, 104)
#: Record facts no world of origin_2025_08_08 reproduces: the origin does not know of the
#: OSCE's closing date or of the TRIPP framework (both announced later), and the model
#: sets neither flag by itself.
UNREPRODUCED = ["minsk_process_closed_by_2025_12_01", "tripp_framework_by_2026_01_14"]


def _real(facts, cutoff=CUTOFF, **kw):
    return cb.calibrate_origin("origin_2025_08_08", cutoff, facts, keys=[DRAFT], ranges=RANGES,
                               worlds=3000, seed=0,
                               exclude=UNREPRODUCED, **kw)


def test_real_model_calibration_runs_end_to_end(tmp_path):
    cal = _real(FACTS)
    used = set(cal.settings["facts"])
    assert used == {"government_in_office_after_2026_election", "civil_contract_seats_2026",
                    "no_constitutional_referendum_before_2026_06_07"}
    assert set(cal.settings["facts_after_cutoff"]) == {
        "no_treaty_signed_by_2026_06_25", "no_interstate_war_by_2026_06_25",
        "government_in_office_after_court_ruling_2026_07_04"}
    assert cal.keys == [DRAFT, RATE, EARLY] and 0 < len(cal.samples) < 3000
    assert cal.settings["priors"][RATE] == {"kind": "uniform", "low": 0.01, "high": 0.3}
    cb.write_calibration(tmp_path, cal)
    header, _, _ = read_posterior(tmp_path / "posterior.csv")
    assert header["cutoff"] == "2026-06-20" and header["prior_worlds"] == 3000


@pytest.mark.xfail(strict=False, reason="issue 18 (branch govt): the government holds no "
                   "referendum it expects to lose and no vote it expects to lose by more "
                   "than vote_margin, so 'no referendum before 7 Jun 2026' is explained by "
                   "its agenda and hardly constrains drafting time: at 20,000 worlds the "
                   "shift is +0.05 prior sd, width ratio 1.00 (it was +0.24 sd, 0.90 at "
                   "1e5 worlds); the old claim is now false")
def test_no_early_referendum_makes_short_drafting_times_less_likely():
    cal = _real(FACTS)
    moved = cb.moved_table(cal).set_index("key")
    # no referendum before the June 2026 election: short drafting times are less likely
    # (at 1e5 worlds the shift was +0.24 prior sd and the interval 0.90 as wide)
    assert moved.loc[DRAFT, "shift_sd"] > 0.1 and moved.loc[DRAFT, "width_ratio"] < 0.95


def test_facts_after_the_cutoff_are_never_read():
    base = _real(FACTS)
    later = {"no_treaty_signed_by_2026_06_25", "no_interstate_war_by_2026_06_25"}
    moved = [dataclasses.replace(f, observed=1.0 - f.observed, date=dt.date(2026, 9, 1))
             if f.id in later else f for f in FACTS]
    pd.testing.assert_frame_equal(_real(moved).samples, base.samples)
    # a fact the cut-off used, moved after it, is no longer used: the posterior changes
    ref = "no_constitutional_referendum_before_2026_06_07"
    cal = _real([dataclasses.replace(f, date=dt.date(2026, 7, 1)) if f.id == ref else f
                 for f in FACTS])
    assert ref in cal.settings["facts_after_cutoff"] and ref not in cal.settings["facts"]
    assert not cal.samples.equals(base.samples)


def test_real_model_bad_input_is_named(tmp_path):
    with pytest.raises(ConfigError, match="incidents.base_rate"):
        cb.calibrate_origin("origin_2025_08_08", CUTOFF, FACTS,
                            ranges={RATE: (-1.0, 0.3)}, worlds=10)
    # a fact no prior world reproduces is refused by name (the Minsk closure used to be
    # one; since the closure is a pending event it is reproduced: an impossible fact here)
    with pytest.raises(cb.CalibrationError, match="pledge_bound_by_2025_12_01"):
        cb.calibrate_origin("origin_2025_08_08", CUTOFF,
                            bt.load_facts(_with_impossible(tmp_path)), ranges=RANGES,
                            worlds=500)
    with pytest.raises(cb.CalibrationError, match="no fact to calibrate"):
        cb.calibrate_origin("origin_2025_08_08", dt.date(2025, 8, 9), FACTS, ranges=RANGES,
                            worlds=10)


def test_calibrate_origin_keeps_the_facts_the_rolling_rule_dropped(tmp_path):
    # calibrate_origin adds its own settings to the method's: rejection's list of the facts
    # drop_unmatched left out must survive (it used to be overwritten, so a calibration
    # that dropped a fact did not say which)
    cal = cb.calibrate_origin("origin_2025_08_08", CUTOFF,
                              bt.load_facts(_with_impossible(tmp_path)), ranges=RANGES,
                              worlds=500, seed=0, exclude=UNREPRODUCED,
                              drop_unmatched=True, min_share=0.01)
    assert cal.settings["dropped"] == ["pledge_bound_by_2025_12_01"]
    assert "pledge_bound_by_2025_12_01" in cal.settings["facts"]
    assert cal.settings["origin"] == "origin_2025_08_08"


def test_sim_calibrate_writes_its_folder_and_refuses_bad_input(tmp_path, capsys):
    from sim.cli.calibrate import main
    from sim.experiment.runfolder import verify_run_folder

    impossible = _with_impossible(tmp_path)
    out = tmp_path / "cal"
    argv = ["worlds=400", "cutoff=2026-06-20", "method=smc", "generations=1",
            f"range.{RATE}=0.01,0.3", "exclude=" + ",".join(UNREPRODUCED),
            f"out={out}", "thin=100"]
    assert main(argv) == 0
    verify_run_folder(out)
    header, samples, _ = read_posterior(out / "posterior.csv")
    assert header["method"] == "smc" and list(samples.columns) == [RATE, "weight"]
    # thin=: a smaller sample of the same posterior, saying how it was made
    small_header, small, _ = read_posterior(out / "posterior_thin.csv")
    assert len(small) == 100 and small_header["thinned"] == {
        "from_rows": len(samples), "rows": 100, "seed": 0, "rule": "sim.model.posterior.thin"}
    assert set(small[RATE]) <= set(samples[RATE])
    assert "Calibration:" in capsys.readouterr().out
    for bad, key in ((["worlds=0"], "worlds"), (["colour=red"], "colour"),
                     (["method=mcmc"], "method"), (["cutoff=June"], "cutoff"),
                     (["thin=-1"], "thin"),
                     ([f"range.{RATE}=0.3"], RATE),
                     ([f"range.{RATE}=0,60", f"out={tmp_path / 'x'}"], RATE),
                     (["origin=atlantis", f"out={tmp_path / 'x'}"], "scenario"),
                     (["keys=incidents.tension_gain", f"out={tmp_path / 'x'}"],
                      "incidents.tension_gain"),
                     (["worlds=300", f"facts={impossible}", f"out={tmp_path / 'x'}"],
                      "pledge_bound_by_2025_12_01")):
        capsys.readouterr()
        assert main(bad) == 2, bad
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and key in err, err
    assert not (tmp_path / "x").exists()
