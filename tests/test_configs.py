"""Config tests: every bundled scenario composes through Hydra and validates, the Hydra
composition matches sim.experiment.config's, scenario files follow the house rules."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sim import CONFIG_DIR, load_params, scenarios
from sim.cli.compose import compose_config, prepare_job
from sim.model.dists import Dist
from sim.model.params import parse_params

SCENARIOS = scenarios()
#: The run key that keeps the YAML's point values (the default draws the assumptions from
#: the record's posterior): for the tests of composition itself.
POINT = ["assumptions=point"]


def test_at_least_ten_scenarios_with_the_named_ones():
    assert len(SCENARIOS) >= 10
    for name in ("baseline", "march_2025", "no_constitution_precondition",
                 "corridor_demand", "russia_spoiler", "us_disengages", "eu_monitors_leave",
                 "incident_spike", "opposition_surge", "investigation_mechanism",
                 "western_incentives", "turkey_iran"):
        assert name in SCENARIOS


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_composes_with_hydra_and_validates(name):
    cfg = compose_config([f"scenario={name}"])
    job = prepare_job(cfg, [f"scenario={name}"])
    assert job.settings.scenario == name
    assert job.settings.worlds >= 1 and job.settings.seed == 0
    # Hydra's composition and the library loader (sim.experiment.config) give the same parameters
    assert job.params == load_params(name)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_file_header_comment_and_command(name):
    text = (CONFIG_DIR / "scenario" / f"{name}.yaml").read_text()
    lines = text.splitlines()
    assert lines[0] == "# @package _global_"
    assert re.search(r"^# Run: sim-run scenario=" + name + r"\b", text, re.M), \
        "the command that runs it"
    comment = " ".join(ln for ln in lines[1:] if ln.startswith("#"))
    assert len(comment) > 60, "a comment saying which assumption it tests"


@pytest.mark.parametrize("name", [s for s in SCENARIOS if s != "baseline"])
def test_scenario_changes_something_from_baseline(name):
    assert load_params(name) != load_params("baseline")


def test_scenarios_hold_only_what_they_change():
    # no scenario repeats a group default verbatim (a changed value or a new key only)
    import yaml

    defaults = {g: yaml.safe_load((CONFIG_DIR / g / "default.yaml").read_text())
                for g in ("actors", "incidents", "negotiation", "domestic", "state")}

    def repeats(over, base, path):
        for k, v in over.items():
            if isinstance(v, dict) and isinstance(base.get(k), dict) and "dist" not in v:
                yield from repeats(v, base[k], f"{path}.{k}")
            elif k in base and base[k] == v:
                yield f"{path}.{k}"

    for name in SCENARIOS:
        data = yaml.safe_load((CONFIG_DIR / "scenario" / f"{name}.yaml").read_text()) or {}
        for g, base in defaults.items():
            assert not list(repeats(data.get(g, {}), base, g)), name


def test_yaml_only_actors_turkey_and_iran():
    p = load_params("turkey_iran")
    assert p.actors["turkey"].role == "mediator"
    assert p.actors["iran"].role == "spoiler"
    assert "turkey" not in load_params("baseline").actors


def test_no_constitution_precondition_drops_only_that_precondition():
    p = load_params("no_constitution_precondition")
    assert p.actors["azerbaijan"].preconditions == ("minsk_closed",)
    assert "constitution_changed" in load_params("baseline").actors["azerbaijan"].preconditions


def test_run_keys_defaults_and_overrides():
    cfg = compose_config(["worlds=123", "seed=0", "precision=0.02", "quiet=true"])
    job = prepare_job(cfg, ["worlds=123", "seed=0", "precision=0.02", "quiet=true"])
    s = job.settings
    assert (s.worlds, s.seed, s.precision, s.quiet, s.trace) == (123, 0, 0.02, True, False)
    assert s.horizon_weeks == 156 and s.scenario == "baseline"
    assert Path(s.paths["results_dir"]).name == "results"


def test_model_key_override_on_command_line():
    ov = ["scenario=russia_spoiler", "incidents.base_rate=0.5", "actors.eu.monitors=null"]
    job = prepare_job(compose_config(ov), ov)
    assert job.params.incidents.base_rate == 0.5
    assert job.params.actors["eu"].monitors is None
    assert job.params.actors["russia"].strength == 0.9  # the scenario still applies


def test_scalar_as_distribution_on_command_line():
    ov = ["state.trust={dist: beta, a: 7, b: 13}"]
    job = prepare_job(compose_config(ov), ov)
    assert job.params.state.trust == Dist("beta", (("a", 7.0), ("b", 13.0)), 0.0, 1.0)


@pytest.fixture
def config_copy(tmp_path) -> Path:
    d = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, d)
    return d


def test_distribution_replaced_whole_by_a_scenario(config_copy):
    # the default base_rate is a uniform; a scenario writes a normal: Hydra alone would
    # merge the two mappings key by key (low, high, mean, sd) - the model replaces it
    (config_copy / "scenario" / "normal_rate.yaml").write_text(
        "# @package _global_\nincidents:\n  base_rate: {dist: normal, mean: 0.5, sd: 0.1}\n")
    ov = ["scenario=normal_rate"]
    job = prepare_job(compose_config(ov, config_copy), ov, config_copy)
    assert job.params.incidents.base_rate.kind == "normal"
    assert dict(job.params.incidents.base_rate.args) == {"mean": 0.5, "sd": 0.1}
    assert job.params == load_params("normal_rate", config_copy)


def test_partial_distribution_change_keeps_the_rest(config_copy):
    # the YAML's distribution (under the default assumptions=posterior the key comes
    # from the record's posterior instead, and the override is the user's what-if)
    default = load_params("baseline", assumptions="point").incidents.base_rate
    assert default.kind == "uniform"
    high = default.arg("low") + 0.01
    ov = [f"incidents.base_rate.high={high}", *POINT]
    job = prepare_job(compose_config(ov, config_copy), ov, config_copy)
    assert dict(job.params.incidents.base_rate.args) == {"low": default.arg("low"),
                                                          "high": high}


def test_hydra_config_equals_library_config_for_baseline_model_sections():
    # composition alike; the assumptions switch (applied after it) is compared across
    # the library and the command line in tests/test_posterior_record.py
    cfg = compose_config(POINT)
    assert parse_params(cfg) == load_params("baseline", assumptions="point")


def test_omegaconf_fast_loader_reads_every_bundled_file_as_the_slow_one():
    """sim.cli installs OmegaConf's loader on libyaml: same values for every file,
    duplicate keys still refused, OmegaConf's float syntax and no timestamps."""
    import yaml
    from omegaconf import _utils

    from sim.cli import fastyaml

    assert fastyaml.install() and _utils.get_yaml_loader() is fastyaml.fast_loader()
    slow = _utils.get_yaml_loader._sim_slow()
    files = sorted(CONFIG_DIR.rglob("*.yaml"))
    assert len(files) > 30
    for f in files:
        text = f.read_text()
        assert yaml.load(text, Loader=fastyaml.fast_loader()) == yaml.load(text, Loader=slow), f
    odd = "a: 1e3\nb: 2026-06-07\nc: .5\nd: 1_000\ne: !!python/object/apply:pathlib.Path [x]\n"
    assert yaml.load(odd, Loader=fastyaml.fast_loader()) == yaml.load(odd, Loader=slow)
    assert yaml.load(odd, Loader=fastyaml.fast_loader())["b"] == "2026-06-07"
    with pytest.raises(yaml.constructor.ConstructorError, match="duplicate key"):
        yaml.load("a: 1\na: 2\n", Loader=fastyaml.fast_loader())


# ------------------------------------------------------------------ scenario defaults lists


@pytest.mark.parametrize("name", ["turkey_iran", "western_incentives"])
def test_a_scenario_defaults_list_composes_alike_in_library_command_line_and_hydra(name):
    """``defaults: [{override /actors: with_turkey}]``: the library, sim-run's job and
    Hydra (the front end, whose record is .hydra/config.yaml) all add Turkey."""
    from sim.cli.compose import hydra_compose, to_plain

    ov = [f"scenario={name}", *POINT]
    job = prepare_job(None, ov)
    assert job.params == load_params(name, assumptions="point")
    assert parse_params(to_plain(hydra_compose(ov))) == job.params
    assert job.params.actors["turkey"].role == "mediator"
    assert job.params.actors["turkey"].incentives == {"armenia": 0.06, "azerbaijan": 0.0}


def test_turkey_is_written_once():
    holders = [p.relative_to(CONFIG_DIR) for p in CONFIG_DIR.rglob("*.yaml")
               if re.search(r"^\s*turkey:\s*$", p.read_text(), re.M)]
    assert holders == [Path("actors/with_turkey.yaml")]


def test_the_command_line_choice_wins_over_the_scenarios_as_in_hydra():
    from sim.cli.compose import hydra_compose, to_plain

    ov = ["scenario=turkey_iran", "actors=default", *POINT]
    job = prepare_job(None, ov)
    assert "turkey" not in job.params.actors and "iran" in job.params.actors
    assert parse_params(to_plain(hydra_compose(ov))) == job.params


@pytest.fixture
def configs(tmp_path):
    d = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, d)
    return d


@pytest.mark.parametrize("body, words", [
    ("defaults:\n  - override /actors: with_turky\n",
     "unknown actors option 'with_turky' (did you mean 'with_turkey'?)"),
    ("defaults:\n  - override /scenario: russia_spoiler\n", "unexpected entry"),
    ("defaults:\n  - override /hydra/launcher: joblib\n", "unexpected entry"),
    ("defaults:\n  - /actors/with_turkey@_here_\n", "unexpected entry"),
    ("defaults:\n  - override /actors: ../x\n", "is not an option name"),
    ("defaults: {override /actors: with_turkey}\n", "must be a list"),
])
def test_a_bad_scenario_defaults_entry_names_the_file(configs, body, words):
    from sim.errors import ConfigError

    path = configs / "scenario" / "shared.yaml"
    path.write_text("# @package _global_\n" + body)
    with pytest.raises(ConfigError) as e:
        load_params("shared", configs)
    assert str(e.value).startswith("configs/scenario/shared.yaml: ")
    assert words in str(e.value)


def test_a_group_option_extending_itself_is_refused(configs):
    from sim.errors import ConfigError

    (configs / "actors" / "a.yaml").write_text("defaults:\n  - b\n")
    (configs / "actors" / "b.yaml").write_text("defaults:\n  - a\n")
    from sim.experiment.config import compose_layers

    with pytest.raises(ConfigError, match=r"actors/b.yaml: defaults: actors/a extends "
                                          r"itself \(through a -> b -> a\)"):
        compose_layers(configs, {"actors": "a"})


# ------------------------------------------------------------------ did you mean, headers


@pytest.mark.parametrize("body, key, guess", [
    ("incidents:\n  base_rat: 0.1\n", "incidents.base_rat", "base_rate"),
    ("incidents:\n  escalation:\n    tension_treshold: 0.5\n",
     "incidents.escalation.tension_treshold", "tension_threshold"),
    ("incidnts:\n  base_rate: 0.1\n", "incidnts", "incidents"),
    ("actors:\n  rusia:\n    strength: 0.9\n", "actors.rusia.role", "russia"),
])
def test_a_misspelt_key_in_a_scenario_file_gets_the_nearest_name(configs, body, key, guess):
    from sim.errors import ConfigError

    (configs / "scenario" / "shared.yaml").write_text("# @package _global_\n" + body)
    with pytest.raises(ConfigError) as e:
        load_params("shared", configs)
    assert str(e.value).startswith(f"configs/scenario/shared.yaml: {key}: ")
    assert f"did you mean {guess!r}?" in str(e.value)


def test_a_misspelt_key_in_a_group_file_gets_the_nearest_name(configs):
    from sim.errors import ConfigError

    path = configs / "incidents" / "default.yaml"
    path.write_text(path.read_text().replace("\nbase_rate:", "\nbase_rat:", 1))
    with pytest.raises(ConfigError, match=r"^configs/incidents/default.yaml: "
                                          r"incidents.base_rat: unknown key \(did you mean "
                                          r"'base_rate'\?\)"):
        load_params("baseline", configs)


def test_a_misspelt_scenario_name_gets_the_nearest_name():
    from sim.errors import ConfigError

    with pytest.raises(ConfigError, match=r"unknown scenario 'rusia_spoiler' \(did you "
                                          r"mean 'russia_spoiler'\?\); available: "
                                          r"baku_pledge_path, baseline"):
        load_params("rusia_spoiler")


def test_the_header_rule_as_the_readme_states_it(configs):
    """A scenario file starts with its one header line (Hydra would file a headerless
    one under ``scenario.``); a group file may go without it."""
    from sim.errors import ConfigError

    readme = (CONFIG_DIR.parent / "README.md").read_text()
    assert "a scenario file starts with the one header line `# @package _global_`" \
        in " ".join(readme.split())
    (configs / "scenario" / "shared.yaml").write_text("incidents:\n  base_rate: 0.1\n")
    with pytest.raises(ConfigError, match="# @package _global_: missing: a scenario file "
                                          "must start with this line"):
        load_params("shared", configs)
    assert "# @package" not in (configs / "incidents" / "default.yaml").read_text()
    assert load_params("baseline", configs, assumptions="point") == \
        load_params("baseline", assumptions="point")


def test_exponent_floats_read_as_numbers_in_library_and_command_line(configs):
    """``1e-1`` is a number to OmegaConf (so to Hydra) but a string to YAML 1.1: the
    one composer reads it as Hydra does, for the library and sim-run alike."""
    from sim.cli.compose import hydra_compose, to_plain

    (configs / "scenario" / "shared.yaml").write_text(
        "# @package _global_\nincidents:\n  base_rate: 1e-1\n  tension_gain: 2E0\n")
    p = load_params("shared", configs, assumptions="point")
    assert (p.incidents.base_rate, p.incidents.tension_gain) == (0.1, 2.0)
    ov = ["scenario=shared", *POINT]
    assert prepare_job(None, ov, configs).params == p
    assert parse_params(to_plain(hydra_compose(ov, configs))) == p


def test_a_scenario_claim_is_parsed_and_never_reaches_the_model(tmp_path):
    """``expect:`` is read by scenario_claims, checked, and dropped before the schema."""
    from sim.experiment.config import scenario_claims
    cfg = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, cfg)
    (cfg / "scenario" / "claimed.yaml").write_text(
        "# @package _global_\nexpect:\n  p_escalation: up\n  p_sign: down\n"
        "  under: {domestic.support.frozen: true}\n  worlds: 5000\n")
    c = scenario_claims("claimed", cfg)
    assert c.directions == {"p_escalation": "up", "p_sign": "down"}
    assert c.under == {"domestic.support.frozen": True} and c.worlds == 5000
    assert load_params("claimed", config_dir=cfg) is not None


@pytest.mark.parametrize("block, words", [
    ("  p_bogus: up\n", "expect.p_bogus: unknown measure"),
    ("  p_sign: higher\n", "expect.p_sign: must be one of up, down"),
    ("  under: 3\n  p_sign: up\n", "expect.under: must be a mapping"),
    ("  worlds: 5\n  p_sign: up\n", "expect.worlds: must be a whole number"),
    ("  worlds: 500\n", "names no measure"),
])
def test_a_bad_scenario_claim_is_refused_in_one_line(tmp_path, block, words):
    from sim.errors import ConfigError
    from sim.experiment.config import scenario_claims
    cfg = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, cfg)
    (cfg / "scenario" / "claimed.yaml").write_text("# @package _global_\nexpect:\n" + block)
    with pytest.raises(ConfigError) as e:
        scenario_claims("claimed", cfg)
    assert words in str(e.value) and "claimed.yaml" in str(e.value)
