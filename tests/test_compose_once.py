"""Compose once: the library and the command line share one composition and one check.

A bad override is refused by ``load_params`` in the same words as by ``sim-run`` (only
the source differs: ``overrides`` instead of ``command line``); dotted, nested and
``key=value`` library overrides give the parameters the command line gives; each YAML
file is parsed once per process, by libyaml, with every check of the strict loader.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

import sim.experiment.config as config
from sim import load_params, scenarios, simulate
from sim.cli.compose import (
    compose_config,
    hydra_compose,
    layers,
    prepare_job,
    to_plain,
)
from sim.cli.run import main
from sim.errors import ConfigError
from sim.experiment.config import CONFIG_DIR, SCENARIO_RUN_KEYS, compose
from sim.experiment.settings import RunSettings
from sim.model.params import MODEL_SECTIONS


def fresh_caches(monkeypatch) -> None:
    """Empty parse caches for one test (the module's caches are left as they were)."""
    monkeypatch.setattr(config, "_PARSED", {})
    monkeypatch.setattr(config, "_CHECKED", {})


# ----------------------------------------------------------------------- same words

#: Overrides that are wrong for both the command line and the library:
#: (command-line override, library mapping with a dotted key, the same nested).
BAD = [
    ("fooo=1", {"fooo": 1}, {"fooo": 1}),
    ("incidnts.base_rate=0.4", {"incidnts.base_rate": 0.4},
     {"incidnts": {"base_rate": 0.4}}),
    ("incidents.base_rat=0.4", {"incidents.base_rat": 0.4},
     {"incidents": {"base_rat": 0.4}}),
    ("incidents.escalation.tension_treshold=0.5",
     {"incidents.escalation.tension_treshold": 0.5},
     {"incidents": {"escalation": {"tension_treshold": 0.5}}}),
    ("domestic.goverment.seats=60", {"domestic.goverment.seats": 60},
     {"domestic": {"goverment": {"seats": 60}}}),
    ("incidents.branching_ratio=abc", {"incidents.branching_ratio": "abc"},
     {"incidents": {"branching_ratio": "abc"}}),
    ("state.trust=2", {"state.trust": 2}, {"state": {"trust": 2}}),
    ("incidents.base_rate.low=-1", {"incidents.base_rate.low": -1},
     {"incidents": {"base_rate": {"low": -1}}}),
    ("state.events.initialling.date=soon", {"state.events.initialling.date": "soon"},
     {"state": {"events": {"initialling": {"date": "soon"}}}}),
    ("actors.armenia={foo: 1}", {"actors.armenia": {"foo": 1}},
     {"actors": {"armenia": {"foo": 1}}}),
    ("actors.armenia.salience.constitution=1.5",
     {"actors.armenia.salience.constitution": 1.5},
     {"actors": {"armenia": {"salience": {"constitution": 1.5}}}}),
]


def cli_error(argv: list[str], capsys, tmp_path: Path) -> str:
    """The one line ``sim-run`` prints for a bad command line (exit code 2)."""
    with pytest.raises(SystemExit) as exc:
        main([*argv, "worlds=10", "quiet=true", f"hydra.run.dir={tmp_path / 'run'}"])
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(("cli", "dotted", "nested"), BAD, ids=[b[0] for b in BAD])
def test_library_refuses_a_bad_override_in_the_command_lines_words(cli, dotted, nested,
                                                                   capsys, tmp_path):
    line = cli_error([cli], capsys, tmp_path)
    for form in (dotted, nested, [cli]):
        with pytest.raises(ConfigError) as e:
            load_params("baseline", overrides=form)
        # the same line; the library names its overrides where sim-run says command line
        source = "command line" if e.value.source == "overrides" else e.value.source
        assert line == f"sim-run: error: {e.value.with_source(source)}"
        assert "\n" not in str(e.value)
    assert not (tmp_path / "run").exists()


def test_unknown_scenario_is_the_same_line_for_library_and_command_line(capsys, tmp_path):
    line = cli_error(["scenario=baseline_v2"], capsys, tmp_path)
    with pytest.raises(ConfigError) as e:
        load_params("baseline_v2")
    assert line == f"sim-run: error: {e.value}"
    assert "available: baku_pledge_path, baseline" in line


def test_misspellings_name_the_key_the_place_and_the_nearest_key():
    with pytest.raises(ConfigError) as e:
        load_params(overrides={"incidnts": {"base_rate": 0.4}})
    assert e.value.key == "incidnts.base_rate"
    assert "unknown key 'incidnts' (did you mean 'incidents'?)" in e.value.problem
    assert "allowed at the top level: " in e.value.problem and "incidents" in e.value.problem
    with pytest.raises(ConfigError) as e:
        load_params(overrides={"incidents.base_rat": 0.4})
    assert e.value.problem.startswith("unknown key (did you mean 'base_rate'?); allowed "
                                      "here: base_rate, ")


#: Every run setting: RunSettings' fields (paths by one of its keys).
RUN_KEYS = [f.name for f in fields(RunSettings) if f.name != "paths"] + ["paths.results_dir"]


def test_run_keys_list_covers_what_scenario_files_may_set():
    assert set(SCENARIO_RUN_KEYS) <= set(RUN_KEYS)


@pytest.mark.parametrize("key", RUN_KEYS)
def test_run_settings_are_refused_as_overrides_saying_where_they_belong(key):
    value = "x" if key in ("scenario", "paths.results_dir") else 5
    for form in ({key: value}, [f"{key}={value}"]):
        with pytest.raises(ConfigError) as e:
            load_params("baseline", overrides=form)
        assert e.value.key == key and e.value.source == "overrides"
        assert e.value.problem.startswith("a run setting, not a model parameter: ")
    if key in ("worlds", "seed", "horizon_weeks", "trace"):
        assert "to simulate()" in e.value.problem and key in e.value.problem
    elif key == "scenario":
        assert "load_params's first argument" in e.value.problem
    else:
        assert f"sim-run takes it on its command line ({key}=...)" in e.value.problem


def test_the_command_line_takes_the_run_settings_the_library_refuses():
    ov = ["worlds=7", "seed=3", "horizon_weeks=10", "trace=true", "quiet=true",
          "block_worlds=7", "max_worlds=70", "precision=0.1"]
    job = prepare_job(compose_config(ov), ov)
    assert (job.settings.worlds, job.settings.seed, job.settings.horizon_weeks) == (7, 3, 10)


@pytest.mark.parametrize("form", [42, "incidents.base_rate=0.4", ["incidents.base_rate"],
                                  {"": 1}, {"incidents..base_rate": 1}, ["~state.trust"]])
def test_malformed_overrides_are_one_line(form):
    with pytest.raises(ConfigError) as e:
        load_params(overrides=form)
    assert e.value.source == "overrides" and "\n" not in str(e.value)


# ----------------------------------------------------------------------- same numbers


def cli_params(overrides: list[str]):
    ov = ["scenario=baseline", *overrides]
    return prepare_job(compose_config(ov), ov).params


def test_dotted_nested_and_string_overrides_give_the_command_lines_parameters():
    base = load_params("baseline")
    dotted = load_params("baseline", overrides={"incidents.base_rate": 0.4})
    nested = load_params("baseline", overrides={"incidents": {"base_rate": 0.4}})
    strings = load_params("baseline", overrides=["incidents.base_rate=0.4"])
    assert dotted == nested == strings == cli_params(["incidents.base_rate=0.4"])
    assert dotted.incidents.base_rate == 0.4 and dotted != base
    # applied, not only accepted: the incidents it sets move (the headline, near zero on
    # the merged model, no longer shows a change of the base rate at 3,000 worlds)
    n0 = simulate(base, worlds=3000, seed=2).outcomes["incidents"].mean()
    n1 = simulate(dotted, worlds=3000, seed=2).outcomes["incidents"].mean()
    assert n1 > 1.5 * n0, (n0, n1)


def test_distribution_overrides_replace_or_merge_as_on_the_command_line():
    new = {"dist": "normal", "mean": 0.3, "sd": 0.05}
    lib = load_params(overrides={"incidents.base_rate": new})
    cli = cli_params(["~incidents.base_rate", "+incidents.base_rate={dist:normal,mean:0.3,"
                      "sd:0.05}"])
    assert lib == cli and lib.incidents.base_rate.kind == "normal"
    assert dict(lib.incidents.base_rate.args) == {"mean": 0.3, "sd": 0.05}
    # a distribution's argument alone merges into the distribution written before
    lib = load_params(overrides={"incidents": {"base_rate": {"high": 0.2}}})
    assert lib == cli_params(["incidents.base_rate.high=0.2"])
    assert dict(lib.incidents.base_rate.args)["high"] == 0.2


def test_later_overrides_win_and_mix_dotted_with_nested():
    p = load_params(overrides={"state": {"trust": 0.2, "tension": 0.3}, "state.trust": 0.6})
    assert (p.state.trust, p.state.tension) == (0.6, 0.3)
    assert p == cli_params(["state.trust=0.2", "state.tension=0.3", "state.trust=0.6"])


def test_the_library_still_adds_new_names_where_the_schema_takes_them():
    ev = {"label": "x", "date": "2026-03-01", "announced": "2025-01-01",
          "sets_flags": [], "ends_mandate": "", "spoiler_pressure": {}, "source": "test"}
    p = load_params(overrides={"state.events.new_pressure": ev})
    assert "new_pressure" in p.state.events
    with pytest.raises(ConfigError, match=r"state\.events\.new_pressure\.date: missing"):
        load_params(overrides={"state.events.new_pressure": {"label": "x"}})


def dates_as_text(x: object) -> object:
    if isinstance(x, dict):
        return {k: dates_as_text(v) for k, v in x.items()}
    if isinstance(x, list):
        return [dates_as_text(v) for v in x]
    return x.isoformat() if isinstance(x, dt.date) else x


@pytest.mark.parametrize("name", scenarios())
def test_every_scenario_composes_the_same_through_library_and_command_line(name):
    ov = [f"scenario={name}"]
    job = prepare_job(compose_config(ov), ov)
    model, prov = compose(name)
    # the same keys and values (OmegaConf reads dates as text, sim's loader as dates)
    assert dates_as_text(model) == {k: job.config[k] for k in MODEL_SECTIONS}
    assert load_params(name) == job.params
    assert prov == layers(CONFIG_DIR, ov).prov  # one composition: the same provenance


@pytest.mark.parametrize("name", ["baseline", "turkey_iran", "march_2025"])
def test_hydra_reads_the_same_configuration_through_libyaml(name, monkeypatch):
    """sim.cli gives OmegaConf (so Hydra) its loader on libyaml (sim.cli.fastyaml)."""
    import omegaconf._utils as oc_utils

    from sim.cli import fastyaml

    assert oc_utils.get_yaml_loader() is fastyaml.fast_loader()
    fast = to_plain(hydra_compose([f"scenario={name}"]))
    monkeypatch.setattr(oc_utils, "get_yaml_loader", oc_utils.get_yaml_loader._sim_slow)
    slow = to_plain(hydra_compose([f"scenario={name}"]))
    assert fast == slow


@pytest.mark.parametrize("ov", [
    ["incidents.base_rate={dist:normal,mean:0.3,sd:0.05}"],        # replaced whole
    ["~incidents.base_rate", "+incidents.base_rate={dist:normal,mean:0.3,sd:0.05}"],
])
def test_a_distribution_given_on_the_command_line_replaces_the_files_whole(ov):
    job = prepare_job(compose_config(ov), ov)
    assert job.config["incidents"]["base_rate"] == {"dist": "normal", "mean": 0.3,
                                                    "sd": 0.05}
    assert job.params == load_params(overrides={
        "incidents.base_rate": {"dist": "normal", "mean": 0.3, "sd": 0.05}})


def test_a_deleted_key_is_deleted_and_then_missing():
    with pytest.raises(ConfigError, match="incidents"):
        prepare_job(None, ["~incidents.base_rate"])


@pytest.mark.parametrize("name", scenarios())
def test_hydra_the_front_end_composes_what_the_job_runs(name):
    """Hydra's record of a job (.hydra/config.yaml) is the configuration that ran."""
    ov = [f"scenario={name}"]
    assert to_plain(hydra_compose(ov)) == compose_config(ov)


# ----------------------------------------------------------------------- parse once


def test_a_sweep_job_parses_each_file_once_per_process(monkeypatch):
    fresh_caches(monkeypatch)
    parsed: list[str] = []
    real = yaml.load

    ours = (config._StrictLoader, getattr(config, "_FastStrictLoader", None))

    def counting(text, Loader):  # noqa: N803 - yaml's name
        if Loader in ours:  # not Hydra's own reads (OmegaConf's loader)
            parsed.append(text)
        return real(text, Loader=Loader)

    monkeypatch.setattr(config.yaml, "load", counting)
    for name in ("baseline", "russia_spoiler", "baseline"):
        ov = [f"scenario={name}", "worlds=100"]
        layers(CONFIG_DIR, ov)                      # preflight
        cfg = to_plain(hydra_compose(ov))
        prepare_job(cfg, ov)                        # preflight
        prepare_job(cfg, ov)                        # the job
        load_params(name)
    assert len(parsed) == len(set(parsed)), "a file was parsed twice"
    files = {p.read_text() for p in CONFIG_DIR.rglob("*.yaml")}
    assert set(parsed) <= files
    assert len(parsed) == 8 + 2  # config.yaml, 7 groups, two scenarios


def test_an_edited_file_is_read_again_even_within_the_same_clock_tick(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: 1\n")
    assert config.safe_load_yaml(path) == {"a": 1}
    path.write_text("a: 2\n")  # same size, same mtime granularity
    assert config.safe_load_yaml(path) == {"a": 2}


def test_cached_data_is_a_copy_callers_may_change(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("a: {b: [1, 2]}\n")
    first = config.safe_load_yaml(path)
    first["a"]["b"].append(3)
    assert config.safe_load_yaml(path) == {"a": {"b": [1, 2]}}


# ----------------------------------------------------------------------- libyaml

HOSTILE = [
    "a: &x 1\nb: *x\n",
    "a: &x [1]\n",
    "base: &b {k: 1}\nother:\n  <<: *b\n",
    "a: 1\na: 2\n",
    "? [1, 2]\n: 3\n",
    "x: !!python/object/apply:os.system ['true']\n",
    "x: !!python/name:os.system\n",
    "x: !custom 1\n",
    "[" * 100 + "]" * 100 + "\n",
    "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 60)),
    "x: [" + ", ".join(["1"] * (config.MAX_YAML_NODES + 10)) + "]\n",
    "incidents:\n  base_rate: [0.3\n",
    "a: b: c\n",
    "a:\n\t- 1\n",
    "x: \"\x00\"\n",
    "x: \x07\n",
    "%YAML 2.0\n---\na: 1\n",
    "%TAG ! tag:evil.example,2024:\n---\na: !x 1\n",
    "a: 1\n---\nb: 2\n",
    "- 1\n- 2\n",
    "'unterminated\n",
]
FINE = [
    "%YAML 1.1\n---\na: 1\n",
    "\ufeffa: 1\n",
    "a: 2025-09-08\nb: 1e3\nc: .inf\nd: 0x1F\ne: 010\nf: yes\ng: ~\n",
    "a: !!binary aGVsbG8=\nb: !!str 1\nc: !!float 1\n",
    "a: |\n  text\n  more\nb: >\n  folded\n",
    "a: {b: [1, {c: d}], 'e f': \"g\\th\"}\n",
    "a:\u0085b\n",
    "é: ü\n",
]


def pure_outcome(text: str) -> object:
    try:
        return yaml.load(text, Loader=config._StrictLoader)  # noqa: S506
    except (yaml.YAMLError, RecursionError) as e:
        return type(e)


@pytest.mark.skipif(not config.LIBYAML, reason="PyYAML built without libyaml")
@pytest.mark.parametrize("text", HOSTILE + FINE)
def test_libyaml_loader_accepts_and_refuses_what_the_pure_loader_does(text):
    try:
        fast = yaml.load(text, Loader=config._FastStrictLoader)  # noqa: S506
    except (yaml.YAMLError, RecursionError) as e:
        fast = type(e)
    pure = pure_outcome(text)
    if isinstance(pure, type):
        assert isinstance(fast, type), "libyaml accepted what the strict loader refuses"
    else:
        assert fast == pure


@pytest.mark.parametrize("text", HOSTILE)
def test_refusals_read_the_same_with_or_without_libyaml(text, tmp_path, monkeypatch):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    fresh_caches(monkeypatch)
    with pytest.raises(ConfigError) as fast:
        config.safe_load_yaml(path, "s.yaml")
    monkeypatch.setattr(config, "LIBYAML", False)
    fresh_caches(monkeypatch)
    with pytest.raises(ConfigError) as pure:
        config.safe_load_yaml(path, "s.yaml")
    assert str(fast.value) == str(pure.value)
    assert str(fast.value).startswith("s.yaml: yaml: ")


@pytest.mark.skipif(not config.LIBYAML, reason="PyYAML built without libyaml")
def test_valid_files_are_parsed_by_libyaml(monkeypatch):
    fresh_caches(monkeypatch)

    class Refuse(config._StrictLoader):
        def __init__(self, stream):
            raise AssertionError("the pure loader was used")

    monkeypatch.setattr(config, "_StrictLoader", Refuse)
    for name in scenarios():
        load_params(name)


def test_without_libyaml_the_pure_loader_gives_the_same_data(monkeypatch):
    fresh_caches(monkeypatch)
    fast = {n: load_params(n) for n in ("baseline", "turkey_iran")}
    monkeypatch.setattr(config, "LIBYAML", False)
    fresh_caches(monkeypatch)
    assert {n: load_params(n) for n in ("baseline", "turkey_iran")} == fast


def test_a_megabyte_of_brackets_stops_at_the_depth_cap(tmp_path, monkeypatch):
    path = tmp_path / "deep.yaml"
    path.write_text("[" * (config.MAX_YAML_BYTES - 10))
    fresh_caches(monkeypatch)
    with pytest.raises(ConfigError, match=f"nested more than {config.MAX_YAML_DEPTH}"):
        config.safe_load_yaml(path, "deep.yaml")


# ----------------------------------------------------------------------- composed once


def test_a_single_run_is_composed_once_by_the_one_composer(monkeypatch, tmp_path, capsys):
    """Preflight composes the job; the job Hydra launches in the same process runs it."""
    import sim.cli.compose as cli_compose

    calls: list[dict] = []
    real = cli_compose.compose_layers

    def counting(*args, **kwargs):
        calls.append(dict(kwargs.get("choices") or (args[1] if len(args) > 1 else {})))
        return real(*args, **kwargs)

    monkeypatch.setattr(cli_compose, "compose_layers", counting)
    main(["scenario=turkey_iran", "worlds=5", "horizon_weeks=4", "quiet=true",
          f"hydra.run.dir={tmp_path / 'run'}"])
    capsys.readouterr()
    assert calls == [{"scenario": "turkey_iran"}]
    meta = (tmp_path / "run" / "metadata.json").read_text()
    assert '"turkey"' in meta and '"iran"' in meta


def test_preflights_hydra_composition_without_the_model_has_the_same_hydra_settings():
    """Hydra is asked for its own settings only (root, paths, hydra): they are those of
    the whole composition, apart from the record of the overrides given."""
    from omegaconf import OmegaConf

    from sim.cli.run import hydra_settings

    job = ["scenario=turkey_iran", "incidents.base_rate=0.2", "paths.results_dir=/tmp/x",
           "worlds=7"]
    hydra_ov = ["hydra/launcher=joblib", "hydra.launcher.n_jobs=3"]
    light = hydra_settings(job, hydra_ov, CONFIG_DIR, True)
    whole = hydra_compose([*job, *hydra_ov], CONFIG_DIR, multirun=True)

    def settings(cfg):
        h = OmegaConf.to_container(cfg.hydra, resolve=False)
        h.pop("overrides")
        h["job"].pop("override_dirname")
        h["runtime"].pop("choices")
        return h

    assert settings(light) == settings(whole)
    assert OmegaConf.select(light, "hydra.launcher.n_jobs") == 3
    assert str(OmegaConf.select(light, "hydra.sweep.dir")).startswith("/tmp/x/sweeps/")
