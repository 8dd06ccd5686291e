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
    default = load_params("baseline").incidents.base_rate
    assert default.kind == "uniform"
    high = default.arg("low") + 0.01
    ov = [f"incidents.base_rate.high={high}"]
    job = prepare_job(compose_config(ov, config_copy), ov, config_copy)
    assert dict(job.params.incidents.base_rate.args) == {"low": default.arg("low"),
                                                          "high": high}


def test_hydra_config_equals_library_config_for_baseline_model_sections():
    cfg = compose_config([])
    assert parse_params(cfg) == load_params("baseline")


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
