"""The parameter schema: every kind of bad value is refused with a one-line message."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from sim import ConfigError, compose, load_params, parse_params
from sim.experiment.config import params_from_config
from sim.model.dists import Dist


def test_baseline_parses_and_has_the_six_actors_and_seven_text_issues(cfg):
    p = parse_params(cfg)
    assert set(p.actors) == {"armenia", "azerbaijan", "russia", "eu", "us", "opposition"}
    assert p.negotiation.text_issues == p.issues[:7]  # the initialled text
    assert set(p.issues[7:]) == {"tripp_operation", "delimitation_sequencing", "detainees",
                                 "claims_timing", "constitution_reading"}  # open side issues
    assert list(p.signatories) == ["armenia", "azerbaijan"]
    assert isinstance(p.incidents.base_rate, Dist)


@pytest.mark.parametrize(("path", "value", "message"), [
    (("incidents", "base_rate"), -1.0, "incidents.base_rate: must be in [0, 50], got -1"),
    (("actors", "armenia", "salience", "transit_regime"), 1.4,
     "actors.armenia.salience.transit_regime: must be in [0, 1], got 1.4"),
    (("domestic", "referendum", "quorum"), math.nan, "got NaN"),
    (("incidents", "ambiguity"), "high", "must be a number in [0, 1], got 'high'"),
    (("incidents", "investigation_mechanism"), "yes", "must be true or false"),
    (("negotiation", "rule"), "median", "must be one of compromise, nash"),
    (("state", "start_date"), "next year", "must be a date YYYY-MM-DD"),
    (("domestic", "government", "seats"), 64.5, "must be a whole number"),
    (("actors", "azerbaijan", "preconditions"), ["peace_in_our_time"],
     "unknown flag 'peace_in_our_time'"),
    (("domestic", "constitution", "locks_issue"), "borders", "unknown issue 'borders'"),
    (("incidents", "base_rate"), {"dist": "uniform", "low": 0.5, "high": 0.1},
     "uniform needs low < high"),
    (("incidents", "ambiguity"), {"dist": "normal", "mean": 0.5, "sd": -1},
     "normal needs sd > 0"),
    (("incidents", "ambiguity"), {"dist": "beta", "a": 0, "b": 2}, "beta needs a > 0"),
    (("incidents", "ambiguity"), {"dist": "uniform", "low": 0.5, "high": 1.5},
     "uniform support must lie in [0, 1]"),
    (("incidents", "ambiguity"), {"dist": "poisson", "lam": 2}, "unknown distribution"),
    (("incidents", "ambiguity"), {"dist": "uniform", "low": 0.1}, "missing high"),
    (("actors", "eu", "incentives"), {"turkey": 0.1}, "not a signatory"),
    (("actors", "armenia", "linkages"), ["constitution_changed"],
     "cannot be made true at signing; allowed: minsk_closed"),
    (("state", "flags"), ["constitution_changed"], "set domestic.constitution.stage: passed"),
    (("domestic", "parliament", "factions", "strong_armenia", "seats"), 30,
     "must equal domestic.government.total_seats (105), got 106"),
    (("domestic", "parliament", "factions", "armenia_alliance", "vacant"), 13,
     "must not exceed the faction's seats (12), got 13"),
    (("domestic", "referendum", "opposition_strategy"), "riot",
     "must be one of best, campaign, boycott"),
    (("actors", "armenia", "red_lines"), {"borders": {"max": 0.5}}, "unknown issue"),
    (("actors", "armenia", "red_lines"), {"transit_regime": {"max": 0.2, "min": 0.4}},
     "min must not exceed max"),
    (("actors", "armenia", "red_lines"), {"transit_regime": {"below": 0.5}},
     "must be {min: x}, {max: y} or both"),
    (("actors", "armenia", "red_lines"), {"transit_regime": {"max": 1.5}},
     "red_lines.transit_regime.max: must be in [0, 1]"),
])
def test_bad_values_are_refused_with_the_key_and_what_is_allowed(cfg, path, value, message):
    node = cfg
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    with pytest.raises(ConfigError) as e:
        parse_params(cfg)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_unknown_key_names_the_allowed_keys(cfg):
    cfg["incidents"]["base_rat"] = 0.3
    with pytest.raises(ConfigError, match=r"incidents\.base_rat: unknown key; allowed: "
                                          r"base_rate, branching_ratio"):
        parse_params(cfg)


def test_missing_key_is_refused(cfg):
    del cfg["actors"]["russia"]["strength"]
    with pytest.raises(ConfigError, match=r"actors\.russia\.strength: missing"):
        parse_params(cfg)


def test_python_objects_cannot_be_instantiated(cfg):
    cfg["incidents"]["_target_"] = "os.system"
    with pytest.raises(ConfigError, match="unknown key"):
        parse_params(cfg)


def test_position_on_an_unknown_issue_is_refused(cfg):
    cfg["actors"]["russia"]["position"]["borders"] = 0.3
    with pytest.raises(ConfigError, match=r"actors\.russia\.position\.borders: unknown issue"):
        parse_params(cfg)


def test_a_new_issue_needs_every_actor_to_take_a_position(cfg):
    cfg["issues"]["energy"] = {"label": "Energy", "zero": "-", "one": "-"}
    with pytest.raises(ConfigError, match=r"actors\.armenia\.position\.energy: missing"):
        parse_params(cfg)


def test_a_new_issue_is_yaml_only(cfg):
    cfg["issues"]["energy"] = {"label": "Energy", "zero": "-", "one": "-"}
    for a in cfg["actors"].values():
        a["position"]["energy"] = 0.5
        a["salience"]["energy"] = 0.3
    cfg["negotiation"]["initial_table"]["energy"] = 0.5
    p = parse_params(cfg)
    assert p.issues[-1] == "energy"


def test_exactly_two_signatories(cfg):
    cfg["actors"]["russia"] = dict(cfg["actors"]["azerbaijan"], domestic_politics=False)
    with pytest.raises(ConfigError, match="exactly two actors with role signatory"):
        parse_params(cfg)


def test_unknown_role(cfg):
    cfg["actors"]["turkey"] = {"role": "guarantor"}
    with pytest.raises(ConfigError, match=r"actors\.turkey\.role: must be one of"):
        parse_params(cfg)


def test_errors_name_the_file_that_set_the_key(tmp_path):
    import shutil

    from sim.experiment.config import CONFIG_DIR
    d = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, d)
    (d / "scenario" / "broken.yaml").write_text(
        "# @package _global_\nincidents:\n  branching_ratio: 1.2\n")
    with pytest.raises(ConfigError) as e:
        load_params("broken", config_dir=d)
    assert str(e.value).startswith("configs/scenario/broken.yaml: incidents.branching_ratio")
    with pytest.raises(ConfigError) as e:
        load_params("baseline", config_dir=d, overrides={"state": {"trust": 2}})
    assert str(e.value).startswith("overrides: state.trust: must be in [0, 1]")


def test_malformed_yaml_names_file_and_line(tmp_path):
    import shutil

    from sim.experiment.config import CONFIG_DIR
    d = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, d)
    (d / "scenario" / "bad.yaml").write_text("incidents:\n  base_rate: [0.3\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: yaml: malformed YAML at line"):
        load_params("bad", config_dir=d)


def test_yaml_python_tags_are_refused(tmp_path):
    import shutil

    from sim.experiment.config import CONFIG_DIR
    d = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, d)
    (d / "scenario" / "evil.yaml").write_text("x: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_params("evil", config_dir=d)


def test_unknown_scenario_lists_the_available_ones():
    with pytest.raises(ConfigError, match="unknown scenario 'nope'; available: .*baseline"):
        load_params("nope")


def test_distribution_draws_stay_in_the_allowed_range():
    from sim.model.dists import parse_dist
    d = parse_dist({"dist": "normal", "mean": 0.95, "sd": 0.2}, "k", 0.0, 1.0)
    x = d.sample(np.random.default_rng(0), 10_000)
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert (x == 1.0).any()  # clipped, not rejected


def test_every_drawn_parameter_is_reported_under_its_dotted_key(cfg):
    from sim import PeaceModel
    cfg["actors"]["armenia"]["position"]["constitution"] = {"dist": "uniform", "low": 0.2,
                                                            "high": 0.6}
    m = PeaceModel(params_from_config(cfg), worlds=50, seed=0, horizon_weeks=1)
    assert "actors.armenia.position.constitution" in m.draws
    assert "incidents.base_rate" in m.draws
    assert m.home.x[:, 0].min() >= 0.2 and m.home.x[:, 0].max() <= 0.6
    assert np.array_equal(m.home.x[:, 0], m.draws["actors.armenia.position.constitution"])


def test_compose_records_provenance():
    cfg, prov = compose("march_2025")
    assert prov["state.start_date"] == "configs/scenario/march_2025.yaml"
    assert prov["incidents.base_rate"] == "configs/incidents/default.yaml"
    assert str(cfg["state"]["start_date"]) == "2025-03-13"


@pytest.mark.parametrize(("value", "message"), [
    (["transit"], "negotiation.text_issues: unknown issue 'transit'"),
    (["detainees", "detainees"], "negotiation.text_issues: lists an issue twice"),
    ("detainees", "negotiation.text_issues: must be a list of issues"),
])
def test_text_issues_must_be_a_list_of_known_issues(cfg, value, message):
    cfg["negotiation"]["text_issues"] = value
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_params(cfg)


def test_support_frozen_must_be_a_bool(cfg):
    cfg["domestic"]["support"]["frozen"] = "yes"
    with pytest.raises(ConfigError, match=r"domestic\.support\.frozen: must be true or false"):
        parse_params(cfg)
