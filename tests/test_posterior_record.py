"""The committed posterior (configs/posteriors/) and the ``assumptions`` switch.

The file is the calibration on the record to 4 Jul 2026 (configs/posteriors/README.md);
the switch draws a scenario's assumptions at a point, from their priors or from that
posterior (sim/experiment/assumptions.py).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import sim_run_refuses

from sim import load_params, simulate
from sim.cli.compose import compose_config, prepare_job
from sim.errors import ConfigError
from sim.experiment.assumptions import MODES, transferable
from sim.experiment.config import CONFIG_DIR, compose_model, params_from_config
from sim.experiment.priors import leaves, load_declarations, prior_overrides
from sim.experiment.spread import assumption_draws, sources
from sim.model.dists import Dist
from sim.model.params import lookup
from sim.model.posterior import WEIGHT, PosteriorDist, read_posterior, thin, write_posterior

RECORD = CONFIG_DIR / "posteriors" / "record_2026_07_04.csv"


@pytest.fixture(scope="module")
def record():
    header, samples, _ = read_posterior(RECORD)
    return header, samples


@pytest.fixture(scope="module")
def modes():
    return {m: load_params("baseline", assumptions=m) for m in MODES}


def _posterior_keys(params) -> list[str]:
    return [leaf.key for leaf in leaves(params) if isinstance(leaf.value, PosteriorDist)]


# ----------------------------------------------------------------- the committed file


def test_the_committed_posterior_is_the_record_to_its_cutoff_and_a_few_megabytes(record):
    header, samples = record
    assert header["origin"] == "march_2025" and header["cutoff"] == "2026-07-04"
    assert header["method"] == "rejection" and header["prior_worlds"] == 100_000
    assert header["thinned"]["rows"] == len(samples) == 1000
    assert header["thinned"]["from_rows"] == header["accepted"] > len(samples)
    assert set(header["excluded"]) == {"text_initialled_by_2025_08_08",
                                       "tripp_framework_by_2026_01_14"}
    assert "government_in_office_after_court_ruling_2026_07_04" in header["facts"]
    assert RECORD.stat().st_size < 6_000_000
    assert np.allclose(samples[WEIGHT], 1 / len(samples))


def test_every_column_is_a_declared_key_of_the_origin_with_values_in_range(record):
    header, samples = record
    comp = compose_model(header["origin"])
    origin = params_from_config(comp.model(), comp.prov)
    decl = load_declarations()
    by_key = {leaf.key: leaf for leaf in leaves(origin)}
    cols = [c for c in samples.columns if c != WEIGHT]
    assert len(cols) == len(header["keys"]) > 150 and cols == header["keys"]
    for c in cols:
        leaf = by_key[c]  # a parameter of the origin
        d = decl.lookup(c, leaf.role)
        assert d is not None, c
        x = samples[c].to_numpy(dtype=float)
        assert np.all(np.isfinite(x)) and x.min() >= leaf.lo and x.max() <= leaf.hi, c
        prior = header["priors"][c]
        lo, hi = (prior["low"], prior["high"]) if "low" in prior else (leaf.lo, leaf.hi)
        assert lo <= x.min() and x.max() <= hi, c  # rejection keeps prior draws
        if c in header["from_prior"]:
            assert d.kind == "assumption" and d.prior is not None
            plo, phi = d.prior.support()
            assert plo <= x.min() and x.max() <= phi, c


def test_the_committed_file_round_trips_through_a_scenario(record, modes):
    header, samples = record
    params = modes["posterior"]
    keys = _posterior_keys(params)
    assert len(keys) > 150
    res = simulate(params, worlds=60, seed=4, horizon_weeks=2)
    drawn = res.outcomes[[f"param.{k}" for k in keys]].to_numpy()
    rows = {tuple(r) for r in samples[keys].to_numpy()}
    # each world took one whole row of the file for every key drawn from it
    assert all(tuple(r) in rows for r in drawn)
    assert len({tuple(r) for r in drawn}) > 30


# ----------------------------------------------------------------------- the switch


def test_posterior_is_the_default_and_point_is_the_yamls_values(modes):
    # the default run draws from what is known of the assumptions (issue 19)
    assert compose_config([])["assumptions"] == "posterior"
    assert load_params("baseline") == modes["posterior"]
    assert len(_posterior_keys(modes["posterior"])) > 150
    # point is the composition itself, nothing drawn that the YAML does not draw
    comp = compose_model("baseline")
    assert modes["point"] == params_from_config(comp.model(), comp.prov)
    assert not _posterior_keys(modes["point"])


def test_a_scenario_that_starts_before_the_cutoff_says_prior_in_its_file():
    # march_2025 and the backtest origins start before the posterior's cut-off: their
    # files choose the priors, so the default run of each composes (and is not refused)
    for name in ("march_2025", "origin_2025_08_08", "origin_2026_06_07"):
        cfg = compose_config([f"scenario={name}"])
        assert cfg["assumptions"] == "prior", name
        assert not _posterior_keys(load_params(name)), name
        assert load_params(name) == load_params(name, assumptions="prior")
    # and the command line still wins, to the one-line refusal
    with pytest.raises(ConfigError, match="after state.start_date 2025-03-13"):
        load_params("march_2025", assumptions="posterior")


def test_prior_draws_every_point_valued_assumption_from_its_declared_prior(modes):
    comp = compose_model("baseline")
    point = params_from_config(comp.model(), comp.prov)
    over = prior_overrides(point, load_declarations(), comp.prov)
    assert len(over) > 100
    for k, spec in over.items():
        d = lookup(modes["prior"], k)
        assert isinstance(d, Dist) and not isinstance(d, PosteriorDist), k
        assert d.kind == spec["dist"], k
    assert not _posterior_keys(modes["prior"])


def test_posterior_draws_the_calibrated_keys_from_the_file_and_the_rest_from_priors(
        record, modes):
    header, samples = record
    post = set(_posterior_keys(modes["posterior"]))
    cols = [c for c in samples.columns if c != WEIGHT]
    moved_over = transferable(header, cols)
    assert post == set(moved_over)
    # the origin's own distributions (what was known on 13 Mar 2025) are not carried over
    left = set(cols) - post
    assert "domestic.referendum.yes_share" in left and "domestic.referendum.turnout" in left
    assert lookup(modes["posterior"], "domestic.referendum.yes_share") == lookup(
        modes["point"], "domestic.referendum.yes_share")
    # every assumption the prior mode draws is drawn under posterior too
    for leaf in leaves(modes["prior"]):
        if isinstance(leaf.value, Dist):
            assert isinstance(lookup(modes["posterior"], leaf.key), Dist), leaf.key


def test_a_scenarios_own_value_and_an_override_beat_the_posterior():
    # constitution_unpopular sets its own referendum yes share: it stays as it sets it
    own = load_params("constitution_unpopular")
    drawn = load_params("constitution_unpopular", assumptions="posterior")
    assert lookup(drawn, "domestic.referendum.yes_share") == lookup(own,
                                                                   "domestic.referendum.yes_share")
    assert drawn.state.start_date == own.state.start_date
    assert isinstance(lookup(drawn, "incidents.base_rate"), PosteriorDist)
    # a value set by an override (library or command line) beats the posterior
    fixed = load_params("baseline", overrides={"incidents.base_rate": 0.2},
                        assumptions="posterior")
    assert fixed.incidents.base_rate == 0.2
    job = prepare_job(compose_config(["assumptions=posterior", "incidents.base_rate=0.2"]),
                      ["assumptions=posterior", "incidents.base_rate=0.2"])
    assert job.params.incidents.base_rate == 0.2
    assert isinstance(job.params.incidents.report_rate["azerbaijan"], PosteriorDist)


def test_the_command_line_and_the_library_give_the_same_parameters(modes):
    for m in ("prior", "posterior"):
        ov = [f"assumptions={m}"]
        assert prepare_job(compose_config(ov), ov).params == modes[m]


def test_spread_draws_under_posterior_cover_every_assumption_and_take_whole_rows(
        record, modes):
    _, samples = record
    params = modes["posterior"]
    draws = assumption_draws(params, 40, seed=5)
    keys = _posterior_keys(params)
    assert set(keys) <= set(draws)
    assert {leaf.key for leaf in leaves(params) if isinstance(leaf.value, Dist)} == set(draws)
    n = sources(params, draws)
    assert n["posterior"] == len(keys) and n["prior"] == len(draws) - len(keys)
    table = np.column_stack([draws[k] for k in keys])
    rows = {tuple(r) for r in samples[keys].to_numpy()}
    assert all(tuple(r) in rows for r in table)


def test_same_seed_same_numbers_under_posterior(modes):
    a = simulate(modes["posterior"], worlds=200, seed=9, horizon_weeks=20).outcomes
    b = simulate(load_params("baseline", assumptions="posterior"), worlds=200, seed=9,
                 horizon_weeks=20).outcomes
    pd.testing.assert_frame_equal(a, b)


# ----------------------------------------------------------------------- bad input


def test_a_bad_mode_is_one_line_naming_the_key_and_the_modes():
    with pytest.raises(ConfigError) as e:
        load_params("baseline", assumptions="posteriors")
    assert str(e.value) == ("assumptions: must be one of point, prior, posterior, got "
                            "'posteriors'")


_exit_2 = sim_run_refuses


def test_bad_switch_values_on_the_command_line_are_one_line_exit_2(capsys, tmp_path):
    line = _exit_2(["assumptions=bogus"], capsys)
    assert "assumptions: must be one of point, prior, posterior, got 'bogus'" in line
    missing = tmp_path / "none.csv"
    line = _exit_2(["assumptions=posterior", f"posterior_file={missing}"], capsys)
    assert "posterior_file" in line and str(missing) in line and "no such file" in line


def test_a_posterior_learnt_after_the_start_is_refused_and_one_learnt_before_is_not(
        tmp_path, capsys):
    # what happened after a scenario's start must not reach it through a posterior: a
    # file whose cut-off is after state.start_date is refused, whichever way it comes in
    samples = pd.DataFrame({"incidents.base_rate": [0.1, 0.2], WEIGHT: [0.5, 0.5]})
    draw = {"incidents.base_rate": {"dist": "posterior", "column": "incidents.base_rate"}}
    for cutoff, start, ok in (("2026-07-04", "2026-07-03", False),
                              ("2026-07-04", "2026-07-04", True),
                              ("2026-07-04", "2026-12-07", True), (None, "2025-03-13", True)):
        path = tmp_path / f"p_{cutoff}_{start}.csv"
        write_posterior(path, samples, {} if cutoff is None else {"cutoff": cutoff})
        ov = {"state.start_date": start,
              "incidents.base_rate": dict(draw["incidents.base_rate"], file=str(path))}
        if ok:   # (point: this toy file the only posterior)
            assert isinstance(load_params("baseline", overrides=ov, assumptions="point")
                              .incidents.base_rate, PosteriorDist)
            continue
        with pytest.raises(ConfigError) as e:
            load_params("baseline", overrides=ov, assumptions="point")
        assert e.value.key == "incidents.base_rate"
        assert f"learnt on the record to {cutoff}, after state.start_date {start}" in str(
            e.value)
    line = _exit_2(["scenario=march_2025", "assumptions=posterior"], capsys)
    assert "after state.start_date 2025-03-13" in line and "assumptions=prior" in line


# ----------------------------------------------------------------------- thinning


def test_thinning_is_seeded_keeps_distinct_rows_and_resamples_weighted_ones(tmp_path):
    s = pd.DataFrame({"x": np.arange(100.0) + 0.5, WEIGHT: 0.01})
    a, b = thin(s, 10, seed=3), thin(s, 10, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 10 and a["x"].is_unique and a["x"].is_monotonic_increasing
    assert not thin(s, 10, seed=4).equals(a)
    assert thin(s, 500, seed=3).equals(s)
    w = pd.DataFrame({"x": [0.0, 1.0], WEIGHT: [0.0, 1.0]})
    t = thin(w.loc[[0, 1] * 50].reset_index(drop=True), 20, seed=1)
    assert set(t["x"]) == {1.0} and np.allclose(t[WEIGHT], 1 / 20)
    path = tmp_path / "p.csv"
    write_posterior(path, a, {"thinned": {"rows": 10}})
    header, back, _ = read_posterior(path)
    assert json.loads(json.dumps(header)) == {"thinned": {"rows": 10}}
    pd.testing.assert_frame_equal(back, a)


def _scenarios() -> list[str]:
    from sim.experiment.config import scenarios

    return scenarios()


@pytest.mark.parametrize("scenario", _scenarios())
def test_every_scenario_composes_under_posterior_and_keeps_what_it_sets(scenario, record):
    from sim.experiment.priors import from_defaults

    comp = compose_model(scenario)
    own = {k for k, src in comp.prov.items() if not from_defaults(src)}
    start = load_params(scenario).state.start_date
    if start.isoformat() < record[0]["cutoff"]:  # the origins of the backtest: refused
        with pytest.raises(ConfigError) as e:
            load_params(scenario, assumptions="posterior")
        assert (f"learnt on the record to {record[0]['cutoff']}, after state.start_date "
                f"{start.isoformat()}") in str(e.value)
        return
    params = load_params(scenario, assumptions="posterior")
    post = _posterior_keys(params)
    assert len(post) > 150
    for k in post:  # nothing the scenario sets itself is drawn from the posterior
        assert not any(o == k or o.startswith(f"{k}.") for o in own), (scenario, k)
