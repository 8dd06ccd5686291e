"""The one list of what every parameter is (configs/priors.yaml, sim/experiment/priors.py).

Known answers for the lookup and the loguniform prior; every way the list or a default
can be wrong is one line naming the file, the key and what is allowed (in the library
and through sim-run); sim-explore and sim-calibrate take every assumption as an input.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from sim import ConfigError, load_params
from sim.experiment.config import CONFIG_DIR, compose_model, params_from_config, scenarios
from sim.experiment.priors import (
    KINDS,
    assumptions,
    check_declarations,
    from_defaults,
    leaves,
    load_declarations,
    parse_declarations,
    prior_overrides,
)
from sim.model.dists import Dist, parse_dist

PRIORS = CONFIG_DIR / "priors.yaml"


@pytest.fixture
def configs(tmp_path) -> Path:
    d = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, d)
    return d


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


# ------------------------------------------------------------------ the list itself


def test_every_numeric_parameter_of_every_scenario_is_declared_and_kinds_are_known():
    decl = load_declarations()
    assert {d.kind for d in decl.entries.values()} == set(KINDS)
    for name in scenarios():
        comp = compose_model(name)
        params = params_from_config(comp.model(), comp.prov)  # checks the list
        for leaf in leaves(params):
            d = decl.lookup(leaf.key, leaf.role)
            assert d is not None, (name, leaf.key)
            assert (d.prior is not None) == (d.kind == "assumption"), leaf.key
            assert d.kind == "assumption" or d.source, leaf.key


def test_the_baseline_defaults_lie_inside_their_priors():
    params = load_params("baseline")
    pairs = assumptions(params, load_declarations())
    assert len(pairs) > 150  # guards against a walk that finds nothing
    for leaf, d in pairs:
        lo, hi = d.prior.support()
        v = leaf.value
        vlo, vhi = v.support() if isinstance(v, Dist) else (v, v)
        assert lo <= vlo and vhi <= hi, leaf.key


def test_the_most_specific_entry_wins():
    decl = parse_declarations({
        "actors.<name>.capability": {"kind": "assumption",
                                     "prior": {"dist": "uniform", "low": 0, "high": 1}},
        "actors.<mediator>.capability": {"kind": "assumption",
                                         "prior": {"dist": "uniform", "low": 0.1, "high": 0.9}},
        "actors.eu.capability": {"kind": "sourced", "source": "a source"},
        "actors.eu.incentives.*": {"kind": "calibrated", "source": "a record"},
        "actors.eu.incentives.armenia": {"kind": "sourced", "source": "another"},
    })
    assert decl.lookup("actors.eu.capability", "mediator").kind == "sourced"
    assert decl.lookup("actors.us.capability", "mediator").prior.support() == (0.1, 0.9)
    assert decl.lookup("actors.russia.capability", "spoiler").prior.support() == (0, 1)
    assert decl.lookup("actors.eu.incentives.azerbaijan", "mediator").kind == "calibrated"
    assert decl.lookup("actors.eu.incentives.armenia", "mediator").source == "another"
    assert decl.lookup("incidents.base_rate") is None


def test_loguniform_known_answers():
    d = parse_dist({"dist": "loguniform", "low": 1e-4, "high": 1e-2}, "k", 0, 1)
    assert d.ppf(np.array([0.5]))[0] == pytest.approx(1e-3)
    x = d.sample(np.random.default_rng(0), 200_000)
    assert x.min() >= 1e-4 and x.max() <= 1e-2
    assert np.mean(np.log10(x) < -3) == pytest.approx(0.5, abs=0.005)
    assert d.mean() == pytest.approx((1e-2 - 1e-4) / math.log(100))
    from sim.analysis.calibrate import log_prior

    grid = np.linspace(1e-4, 1e-2, 200_001)
    dens = np.exp(log_prior(d, grid))
    assert np.sum(dens) * (grid[1] - grid[0]) == pytest.approx(1.0, rel=1e-3)
    with pytest.raises(ConfigError, match="loguniform needs low > 0"):
        parse_dist({"dist": "loguniform", "low": 0, "high": 1}, "k", 0, 1)


# ------------------------------------------------------------------ one-line errors


@pytest.mark.parametrize("entry, key, says", [
    ({"kind": "guess", "source": "x"}, "k.kind", "must be one of sourced, calibrated, "
     "assumption"),
    ({"kind": "assumption"}, "k.prior", "missing: an assumption needs a prior"),
    ({"kind": "assumption", "prior": {"dist": "normal", "mean": 0, "sd": 1}}, "k.prior",
     "bounded distribution"),
    ({"kind": "assumption", "prior": {"dist": "uniform", "low": 2, "high": 1}}, "k.prior",
     "uniform needs low < high"),
    ({"kind": "sourced"}, "k.source", "missing: a sourced parameter names its source"),
    ({"kind": "sourced", "source": "x", "prior": {"dist": "uniform", "low": 0, "high": 1}},
     "k.prior", "only an assumption has a prior"),
    ({"kind": "calibrated", "source": "x", "why": "y"}, "k.why",
     "unknown key; allowed: kind, source, prior, note"),
])
def test_a_bad_entry_is_one_line_naming_the_file_and_key(entry, key, says):
    with pytest.raises(ConfigError) as e:
        parse_declarations({"k": entry}, "configs/priors.yaml")
    line = str(e.value)
    assert line.startswith(f"configs/priors.yaml: {key}: ") and says in line, line
    assert "\n" not in line


def test_an_undeclared_parameter_is_named_with_what_to_declare(configs):
    _edit(configs / "priors.yaml", "incidents.tension_gain: ", "incidents.tension_gain_x: ")
    with pytest.raises(ConfigError) as e:
        load_params("baseline", config_dir=configs)
    assert str(e.value).startswith("configs/priors.yaml: incidents.tension_gain: "
                                   "undeclared parameter: declare it in configs/priors.yaml")


def test_a_default_outside_its_prior_names_the_file_that_set_it(configs):
    _edit(configs / "actors" / "default.yaml", "  patience: 0.3", "  patience: 0.9")
    with pytest.raises(ConfigError) as e:
        load_params("baseline", config_dir=configs)
    assert str(e.value).startswith(
        "configs/actors/default.yaml: actors.armenia.patience: value 0.9 lies outside its "
        "prior [0.15, 0.45]"), str(e.value)


def test_a_default_distribution_must_lie_inside_its_prior_too(configs):
    _edit(configs / "incidents" / "default.yaml",
          "base_rate: {dist: uniform, low: 0.03, high: 0.15}",
          "base_rate: {dist: uniform, low: 0.03, high: 0.5}")
    with pytest.raises(ConfigError, match=r"incidents/default\.yaml: incidents\.base_rate: "
                       r"value uniform on \[0\.03, 0\.5\] lies outside its prior"):
        load_params("baseline", config_dir=configs)


def test_a_prior_outside_the_keys_range_is_refused(configs):
    _edit(configs / "priors.yaml",
          "actors.armenia.patience: {kind: assumption, prior: {dist: uniform, low: 0.15, "
          "high: 0.45}",
          "actors.armenia.patience: {kind: assumption, prior: {dist: uniform, low: 0.15, "
          "high: 1.45}")
    with pytest.raises(ConfigError, match=r"configs/priors\.yaml: actors\.armenia\.patience"
                       r"\.prior: the prior's support \[0\.15, 1\.45\] must lie in"):
        load_params("baseline", config_dir=configs)


def test_a_missing_list_is_one_line(configs):
    (configs / "priors.yaml").unlink()
    with pytest.raises(ConfigError, match=r"configs/priors\.yaml: priors: missing"):
        load_params("baseline", config_dir=configs)


def test_scenarios_and_overrides_are_what_ifs_not_defaults():
    assert load_params("russia_spoiler").actors["russia"].strength == 0.9  # prior to 0.75
    assert load_params(overrides={"actors.armenia.patience": 0.9}).actors[
        "armenia"].patience == 0.9
    assert from_defaults("configs/actors/default.yaml")
    assert from_defaults("/elsewhere/incidents/default.yaml")
    for s in ("configs/scenario/x.yaml", "command line", "overrides",
              "configs/explore/sobol.yaml", "configs/config.yaml", None):
        assert not from_defaults(s)


def test_a_bad_default_through_sim_run_is_one_line_and_exit_2(configs, tmp_path, capsys):
    from sim.cli.run import main

    _edit(configs / "actors" / "default.yaml", "  patience: 0.3", "  patience: 0.9")
    with pytest.raises(SystemExit) as exc:
        main(["--config-path", str(configs), "worlds=10", "quiet=true",
              f"hydra.run.dir={tmp_path / 'out'}"])
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0]
    assert "actors/default.yaml: actors.armenia.patience: value 0.9 lies outside its " \
           "prior" in lines[0]
    assert not (tmp_path / "out" / "summary.json").exists()


def test_a_bad_list_through_sim_run_is_one_line_and_exit_2(configs, tmp_path, capsys):
    from sim.cli.run import main

    _edit(configs / "priors.yaml", "incidents.tension_gain: {kind: assumption",
          "incidents.tension_gain: {kind: hunch")
    with pytest.raises(SystemExit) as exc:
        main(["--config-path", str(configs), "worlds=10", "quiet=true",
              f"hydra.run.dir={tmp_path / 'out'}"])
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert "configs/priors.yaml: incidents.tension_gain.kind: must be one of sourced, " \
           "calibrated, assumption, got 'hunch'" in lines[0]


# ------------------------------------------------------------------ explore, calibrate


def test_prior_overrides_are_the_point_valued_assumptions_of_the_defaults():
    comp = compose_model("russia_spoiler")
    params = params_from_config(comp.model(), comp.prov)
    decl = load_declarations()
    over = prior_overrides(params, decl, comp.prov, keep={"actors.armenia.patience"})
    assert over["actors.eu.attention"] == {"dist": "uniform", "low": 0.4, "high": 1}
    assert "actors.russia.strength" not in over  # the scenario's what-if stays
    assert "actors.armenia.patience" not in over  # named by the user
    assert "incidents.base_rate" not in over  # already a distribution
    assert "domestic.referendum.quorum" not in over  # sourced
    point = {leaf.key for leaf, _ in assumptions(params, decl)
             if not isinstance(leaf.value, Dist)}
    assert set(over) <= point and len(over) > 100


def test_sim_explore_defaults_to_every_assumption_and_keeps_named_ranges():
    from sim.analysis.explore import discover_inputs
    from sim.cli.explore import compose, prepare

    ov = ["+explore.inputs.incidents.tension_gain=[0,2]"]  # outside its prior: the user's
    xj = prepare(compose(ov), ov)
    keys = {i.key for i in discover_inputs(xj.job.params)}
    assert {"actors.armenia.patience", "incidents.base_rate",
            "incidents.tension_gain"} <= keys
    assert "incidents.tension_gain" not in xj.from_prior
    assert xj.job.params.incidents.tension_gain.support() == (0, 2)
    assert xj.job.params.actors["armenia"].patience.support() == (0.15, 0.45)
    assert "domestic.referendum.quorum" not in keys  # sourced, a point
    old = prepare(compose(["explore.priors=false"]), ["explore.priors=false"])
    assert not old.from_prior
    assert {i.key for i in discover_inputs(old.job.params)} < keys
    assert old.job.params.actors["armenia"].patience == 0.3


def test_sim_calibrate_defaults_to_every_assumption():
    import datetime as dt

    from sim.analysis import backtest as bt
    from sim.analysis import calibrate as cb

    facts = bt.load_facts(CONFIG_DIR / "backtest" / "facts.yaml")
    cal = cb.calibrate_origin("origin_2025_08_08", dt.date(2025, 12, 31), facts,
                              worlds=200, seed=0, drop_unmatched=True)
    assert "actors.armenia.patience" in cal.keys and "incidents.base_rate" in cal.keys
    assert "actors.armenia.patience" in cal.settings["from_prior"]
    assert "state.tension" not in cal.keys  # the origin's state, set by its scenario
    assert cal.prior["actors.armenia.patience"].between(0.15, 0.45).all()
    old = cb.calibrate_origin("origin_2025_08_08", dt.date(2025, 12, 31), facts,
                              worlds=200, seed=0, drop_unmatched=True, priors=False)
    assert "actors.armenia.patience" not in old.keys and not old.settings["from_prior"]


def test_check_declarations_without_provenance_checks_every_value():
    params = load_params("russia_spoiler")
    with pytest.raises(ConfigError, match="actors.russia.strength: value 0.9 lies outside"):
        check_declarations(params, load_declarations(), None)
