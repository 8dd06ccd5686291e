"""The `sim-run` command: run(cfg) in process, the real command line, bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim import CONFIG_DIR, load_params, simulate
from sim.cli.compose import compose_config
from sim.cli.run import main, run
from sim.experiment.runs import block_plan
from sim.model.rules import wilson_interval

SIM_RUN = str(Path(sys.executable).with_name("sim-run"))
FAST = ["worlds=300", "horizon_weeks=52", "quiet=true"]


def run_job(overrides, out_dir, config_dir=None):
    return run(compose_config(overrides, config_dir), out_dir, overrides, config_dir)


# ------------------------------------------------------------------ run(cfg) in process


def test_run_writes_the_output_contract(tmp_path):
    ov = ["scenario=russia_spoiler", "seed=3", *FAST]
    s = run_job(ov, tmp_path)
    for f in ("summary.json", "worlds.parquet", "steps.parquet", "metadata.json"):
        assert (tmp_path / f).exists(), f
    assert not (tmp_path / "trace.parquet").exists()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary == json.loads(json.dumps(s))
    assert (summary["scenario"], summary["worlds"], summary["seed"]) == ("russia_spoiler", 300, 3)
    assert summary["horizon_weeks"] == 52 and summary["overrides"] == ov
    lo, hi = wilson_interval(summary["signed"], 300)
    assert (summary["ci_low"], summary["ci_high"]) == pytest.approx((lo, hi))
    assert summary["p_sign_12m"] is not None and summary["p_sign_24m"] is None  # 52 weeks
    assert set(summary["outcome_shares"]) == {"signed", "escalation", "government_fell",
                                              "stalemate"}
    assert sum(summary["outcome_shares"].values()) == pytest.approx(1.0)
    assert "median_weeks_to_sign" in summary and "start_date" in summary
    worlds = pd.read_parquet(tmp_path / "worlds.parquet")
    assert len(worlds) == 300 and worlds["signed"].mean() == summary["p_sign"]
    assert any(c.startswith("param.") for c in worlds.columns)
    steps = pd.read_parquet(tmp_path / "steps.parquet")
    assert len(steps) == 52 and "p_signed" in steps
    meta = json.loads((tmp_path / "metadata.json").read_text())
    for k in ("version", "git_revision", "config", "scenario", "seed", "worlds",
              "horizon_weeks", "start_date", "issues", "ideal_points", "overrides"):
        assert k in meta, k
    assert meta["config"]["actors"]["russia"]["strength"] == 0.9
    assert set(meta["ideal_points"]) >= {"armenia", "azerbaijan"}


def test_summary_says_where_the_assumptions_came_from(tmp_path):
    # the headline means something else under each mode: summary.json records it
    s = json.loads(json.dumps(run_job(["assumptions=point", *FAST], tmp_path / "point")))
    assert (s["assumptions"], s["posterior_file"]) == ("point", None)
    s = json.loads(json.dumps(run_job(FAST, tmp_path / "post")))   # the default
    assert s["assumptions"] == "posterior"
    assert s["posterior_file"].endswith("record_2026_07_04.csv")
    assert json.loads((tmp_path / "post" / "summary.json").read_text()) == s


def test_fixed_run_equals_the_python_api(tmp_path):
    run_job(["seed=5", *FAST], tmp_path)
    api = simulate(load_params("baseline"), worlds=300, seed=5, horizon_weeks=52)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "worlds.parquet"), api.outcomes)


def test_seed_zero_is_a_seed(tmp_path):
    a = run_job(["seed=0", *FAST], tmp_path / "a")
    run_job(["seed=1", *FAST], tmp_path / "b")
    c = run_job(["seed=0", *FAST], tmp_path / "c")
    assert a["p_sign"] == c["p_sign"]
    wa = pd.read_parquet(tmp_path / "a" / "worlds.parquet")
    wb = pd.read_parquet(tmp_path / "b" / "worlds.parquet")
    assert not wa["param.incidents.base_rate"].equals(wb["param.incidents.base_rate"])


def test_block_plan():
    assert block_plan(300, 1000) == [300]
    assert block_plan(2500, 1000) == [1000, 1000, 500]
    assert block_plan(2000, 1000) == [1000, 1000]


def test_multi_block_run_world_ids_and_shares(tmp_path):
    s = run_job(["worlds=250", "block_worlds=100", "horizon_weeks=26", "quiet=true"],
                tmp_path)
    w = pd.read_parquet(tmp_path / "worlds.parquet")
    assert list(w["world"]) == list(range(250)) and s["blocks"] == 3
    steps = pd.read_parquet(tmp_path / "steps.parquet")
    signed = (w["sign_week"] >= 0).mean()
    assert steps["p_signed"].iloc[-1] == pytest.approx(signed)


def test_precision_mode_stops_at_the_target_and_starts_like_a_fixed_run(tmp_path):
    # P(sign within a year) is a few per cent since issues 7 and 8: several blocks
    ov = ["precision=0.015", "block_worlds=100", "horizon_weeks=52", "quiet=true"]
    s = run_job(ov, tmp_path / "p")
    assert s["precision_reached"] is True
    assert (s["ci_high"] - s["ci_low"]) / 2 <= 0.015
    assert s["worlds"] % 100 == 0 and s["worlds"] > 100
    # reproducible: a fixed run of the same number of worlds gives the same worlds
    run_job([f"worlds={s['worlds']}", "block_worlds=100", "horizon_weeks=52",
             "quiet=true"], tmp_path / "f")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "p" / "worlds.parquet"),
                                  pd.read_parquet(tmp_path / "f" / "worlds.parquet"))
    # its first block is the fixed run of one block
    run_job(["worlds=100", "block_worlds=100", "horizon_weeks=52", "quiet=true"],
            tmp_path / "one")
    first = pd.read_parquet(tmp_path / "p" / "worlds.parquet").iloc[:100]
    pd.testing.assert_frame_equal(first, pd.read_parquet(tmp_path / "one" / "worlds.parquet"))


def test_precision_run_respects_max_worlds(tmp_path):
    s = run_job(["precision=0.001", "block_worlds=100", "max_worlds=300",
                 "horizon_weeks=26", "quiet=true"], tmp_path)
    assert s["precision_reached"] is False and s["worlds"] == 300


def test_trace_run_writes_trace(tmp_path):
    run_job(["worlds=4", "horizon_weeks=10", "trace=true", "quiet=true"], tmp_path)
    tr = pd.read_parquet(tmp_path / "trace.parquet")
    assert len(tr) == 40 and set(tr["world"]) == {0, 1, 2, 3}


def test_quiet_prints_nothing_and_loud_prints_a_table(tmp_path, capsys):
    run_job(FAST, tmp_path / "q")
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    run_job(["worlds=300", "horizon_weeks=52"], tmp_path / "l")
    out = capsys.readouterr().out
    assert "P(sign)" in out and "95% CI" in out and "baseline" in out


def test_rerun_of_a_finished_job_is_skipped_and_a_changed_one_is_not(tmp_path):
    first = run_job(FAST, tmp_path)
    mtime = (tmp_path / "worlds.parquet").stat().st_mtime_ns
    again = run_job(FAST, tmp_path)
    assert again == first and (tmp_path / "worlds.parquet").stat().st_mtime_ns == mtime
    changed = run_job(["worlds=301", *FAST[1:]], tmp_path)
    assert changed["worlds"] == 301 and changed["config_hash"] != first["config_hash"]


def test_unfinished_job_folder_is_rerun(tmp_path):
    run_job(FAST, tmp_path)
    (tmp_path / "summary.json").unlink()   # interrupted before its last file
    s = run_job(FAST, tmp_path)
    assert (tmp_path / "summary.json").exists() and s["worlds"] == 300


# ------------------------------------------------------------------ bad input


def bad(argv, capsys, config_dir: Path | None = None):
    if config_dir is not None:
        argv = ["--config-path", str(config_dir), *argv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("argv, where, key, says", [
    (["scenario=nope"], "configs/scenario", "scenario", "available: baku_pledge_path, baseline"),
    (["fooo=1"], "command line", "fooo", "unknown key"),
    (["+fooo=1"], "command line", "fooo", "unknown key"),
    (["incidents.bogus=1"], "command line", "incidents.bogus", "unknown key"),
    (["worlds=abc"], "command line", "worlds", "whole number"),
    (["worlds=0"], "command line", "worlds", "[1,"),
    (["worlds=nan"], "command line", "worlds", "whole number"),
    (["horizon_weeks=0"], "command line", "horizon_weeks", "[1,"),
    (["horizon_weeks=-3"], "command line", "horizon_weeks", "[1,"),
    (["seed=-1"], "command line", "seed", "[0,"),
    (["quiet=maybe"], "command line", "quiet", "true or false"),
    (["precision=0"], "command line", "precision", "(0, 0.5)"),
    (["incidents.base_rate=nan"], "command line", "incidents.base_rate", "NaN"),
    (["actors.armenia.salience.constitution=1.5"], "command line",
     "actors.armenia.salience.constitution", "[0, 1]"),
    (["state.pending_kinds.mandate_renewal.probability=-0.1"], "command line",
     "state.pending_kinds.mandate_renewal.probability", "[0, 1]"),
    (["actors.azerbaijan.preconditions=[constitution_changed,peace_day]"], "command line",
     "actors.azerbaijan.preconditions", "allowed: constitution_changed"),
    (["actors.eu.incentives.georgia=0.1"], "command line", "actors.eu.incentives.georgia",
     "armenia, azerbaijan"),
    (["incidents.base_rate={dist:uniform,low:2,high:1}"], "command line",
     "incidents.base_rate", "low < high"),
    (["state.trust={dist:beta,a:0,b:1}"], "command line", "state.trust", "a > 0"),
    (["scenario=baseline,russia_spoiler"], "command line", "scenario", "--multirun"),
    (["worlds=[1,2"], "command line", "worlds", "cannot parse"),
    (["paths=nope"], "configs/paths", "paths", "available: default"),
])
def test_bad_command_line_is_one_line_exit_2(argv, where, key, says, capsys):
    line = bad(argv, capsys)
    assert line.startswith(f"sim-run: error: {where}: {key}: "), line
    assert says in line, line


def test_bad_value_in_a_sweep_job_is_caught_before_any_job_runs(capsys, tmp_path):
    line = bad(["-m", "incidents.base_rate=0.5,-1", f"hydra.sweep.dir={tmp_path}/sw"], capsys)
    assert "incidents.base_rate" in line and "[0, 50]" in line
    assert not (tmp_path / "sw").exists()


@pytest.fixture
def config_copy(tmp_path) -> Path:
    d = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, d)
    return d


@pytest.mark.parametrize("body, key, says", [
    ("incidents:\n  base_rate: [1, 2\n", "yaml", "malformed YAML at line"),
    ("incidents:\n  base_rate: 1.0\n  bogus: 2\n", "incidents.bogus", "unknown key"),
    ("incidents:\n  base_rate: fast\n", "incidents.base_rate", "must be a number"),
    ("incidents:\n  base_rate: .nan\n", "incidents.base_rate", "NaN"),
    ("actors:\n  armenia:\n    salience: {constitution: 1.2}\n",
     "actors.armenia.salience.constitution", "[0, 1]"),
    ("actors:\n  azerbaijan:\n    preconditions: [treaty_day]\n",
     "actors.azerbaijan.preconditions", "unknown flag"),
    ("actors:\n  eu:\n    incentives: {georgia: 0.1}\n", "actors.eu.incentives.georgia",
     "not a signatory"),
    ("actors:\n  iran:\n    role: spoiler\n", "actors.iran", "missing"),
    ("actors:\n  iran:\n    role: hegemon\n", "actors.iran.role", "one of"),
    ("domestic:\n  constitution:\n    locks_issue: borders\n",
     "domestic.constitution.locks_issue", "unknown issue"),
    ("incidents:\n  base_rate: {dist: gamma, k: 2}\n", "incidents.base_rate",
     "unknown distribution"),
    ("incidents:\n  base_rate: {dist: triangular, low: 1, mode: 0, high: 2}\n",
     "incidents.base_rate", "low <= mode <= high"),
    ("worlds: 0\n", "worlds", "[1,"),
    ("incidents:\n  _target_: os.system\n", "incidents._target_", "unknown key"),
    ("_target_: os.system\n", "_target_", "unknown key"),
    ("hydra:\n  callbacks:\n    x:\n      _target_: os.system\n", "hydra", "configs/hydra"),
])
def test_bad_scenario_file_names_the_file(body, key, says, config_copy, capsys):
    path = config_copy / "scenario" / "broken.yaml"
    path.write_text("# @package _global_\n" + body)
    line = bad(["scenario=broken"], capsys, config_copy)
    assert line.startswith(f"sim-run: error: {path}: {key}"), line
    assert says in line, line


def test_scenario_without_global_header_is_refused(config_copy, capsys):
    path = config_copy / "scenario" / "broken.yaml"
    path.write_text("incidents:\n  base_rate: 1.0\n")
    line = bad(["scenario=broken"], capsys, config_copy)
    assert str(path) in line and "@package _global_" in line


def test_bad_group_default_names_the_group_file(config_copy, capsys):
    path = config_copy / "incidents" / "default.yaml"
    path.write_text(path.read_text().replace("fatality_rate: 0.5", "fatality_rate: -0.5"))
    line = bad([], capsys, config_copy)
    assert line.startswith(f"sim-run: error: {path}: incidents.fatality_rate: "), line


def test_python_objects_in_yaml_are_refused(config_copy, capsys):
    (config_copy / "scenario" / "broken.yaml").write_text(
        "# @package _global_\nincidents:\n  base_rate: !!python/object/apply:os.getcwd []\n")
    line = bad(["scenario=broken"], capsys, config_copy)
    assert "broken.yaml" in line and "malformed YAML" in line


def test_hydra_callbacks_other_than_ours_are_refused(capsys):
    line = bad(["+hydra.callbacks.x._target_=os.getcwd"], capsys)
    assert "hydra.callbacks.x._target_" in line and "may not instantiate" in line


# ------------------------------------------------------------------ the real command line


def test_import_sim_does_not_import_hydra():
    code = ("import sys, sim, sim.experiment.api, sim.experiment.config, sim.model.params, "
            "sim.model.model\n"
            "assert not any(m == 'hydra' or m.startswith('hydra.') for m in sys.modules), "
            "'hydra imported'\n"
            "assert 'omegaconf' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_sim_imports_nothing_heavy():
    """``import sim`` is instant: the model's libraries load with the names that need them."""
    heavy = ("scipy.stats", "mesa", "networkx", "pandas", "matplotlib", "hydra")
    code = ("import sys, sim\n"
            f"print([h for h in {heavy!r} if any(m == h or m.startswith(h + '.') "
            "for m in sys.modules)])\n"
            "assert sim.OUTCOMES[0] == 'signed' and callable(sim.simulate)\n"  # still there
            "assert 'pandas' in sys.modules and 'mesa' not in sys.modules\n"
            "sim.simulate(sim.load_params(), worlds=2, horizon_weeks=2)\n"  # the model now
            "assert 'mesa' in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True)
    assert out.stdout.strip() == "[]"


def test_the_command_line_imports_the_model_only_to_run_worlds():
    """``import sim.cli.run`` (``--help``, a refused configuration, a sweep's checks) loads
    neither the model's Mesa (with networkx and scipy.spatial) nor numba: about 1 s of
    the 2 s it took; the run imports them when it first runs or summarises worlds."""
    heavy = ("mesa", "networkx", "numba", "scipy.spatial", "scipy.stats", "matplotlib")
    code = ("import sys, sim.cli.run\n"
            f"print([h for h in {heavy!r} if any(m == h or m.startswith(h + '.') "
            "for m in sys.modules)])")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True)
    assert out.stdout.strip() == "[]"


def test_real_command_line_single_run(tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    out = tmp_path / "run"
    p = subprocess.run([SIM_RUN, "scenario=russia_spoiler", "worlds=500", "seed=3",
                        "horizon_weeks=52", f"hydra.run.dir={out}"],
                       cwd=cwd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert "P(sign)" in p.stdout and "russia_spoiler" in p.stdout
    s = json.loads((out / "summary.json").read_text())
    assert (s["scenario"], s["worlds"], s["seed"]) == ("russia_spoiler", 500, 3)
    assert (out / ".hydra" / "config.yaml").exists()
    assert list(cwd.iterdir()) == [], "nothing is written to the current directory"


def test_real_command_line_default_location_and_bad_input(tmp_path):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    results = tmp_path / "res"
    p = subprocess.run([SIM_RUN, "worlds=200", "horizon_weeks=26", "quiet=true",
                        f"paths.results_dir={results}"],
                       cwd=cwd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    (run_dir,) = [d for d in (results / "runs").glob("*/*") if d.is_dir()]
    assert (run_dir / "summary.json").exists() and list(cwd.iterdir()) == []
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    p = subprocess.run([SIM_RUN, "scenario=nope"], cwd=cwd, capture_output=True,
                       text=True, timeout=120, env=env)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1
    assert "unknown scenario 'nope'" in p.stderr and "Traceback" not in p.stderr


def test_hydra_reads_the_mode_preflight_composed_instead_of_composing_again(tmp_path):
    from hydra._internal.hydra import Hydra
    from hydra.types import RunMode

    from sim.cli.run import Plan, _mode_known

    original = Hydra.get_mode
    plan = Plan([["worlds=5"]], tmp_path, multirun=False, quiet=True, mode=RunMode.RUN)
    with _mode_known(plan):
        # no composition: a configuration that does not exist is not even looked for
        assert Hydra.get_mode(None, "no-such-config", ["nope=1"]) == RunMode.RUN
    assert Hydra.get_mode is original                 # restored afterwards
    with _mode_known(None):                           # --help and the like: as Hydra does
        assert Hydra.get_mode is original


def test_single_run_composes_the_whole_configuration_once_in_hydra(tmp_path, monkeypatch):
    from hydra._internal.hydra import Hydra

    from sim.cli.run import main

    calls = []
    original = Hydra.compose_config

    def counted(self, *args, **kwargs):
        calls.append(list(kwargs["overrides"]))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Hydra, "compose_config", counted)
    main(["worlds=3", "horizon_weeks=4", "quiet=true", f"hydra.run.dir={tmp_path / 'r'}"])
    # preflight's composition of Hydra's own settings leaves the model's groups out
    whole = [c for c in calls if not any(o.startswith("~") for o in c)]
    assert len(whole) == 1 and len(calls) == 2, calls   # get_mode's composition skipped
    assert (tmp_path / "r" / "summary.json").is_file()


def test_hydra_skips_recomposing_only_the_batch_preflight_checked(monkeypatch):
    from hydra.plugins.sweeper import Sweeper

    from sim.cli.run import _batch_checked

    seen = []
    monkeypatch.setattr(Sweeper, "validate_batch_is_legal",
                        lambda self, batch: seen.append(list(batch)))
    with _batch_checked([["scenario=baseline", "worlds=5"], ["scenario=x", "worlds=5"]]):
        Sweeper.validate_batch_is_legal(None, [["worlds=5", "scenario=baseline"]])
        assert seen == []                       # checked by preflight: not composed again
        Sweeper.validate_batch_is_legal(None, [["scenario=other"]])
        assert seen == [[["scenario=other"]]]   # anything else: Hydra validates it
    Sweeper.validate_batch_is_legal(None, [["scenario=baseline", "worlds=5"]])
    assert len(seen) == 2                       # restored afterwards


@pytest.mark.parametrize("app", ["sim-run", "sim-explore"])
def test_help_opens_with_usage_and_examples(app):
    exe = str(Path(sys.executable).with_name(app))
    p = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith(f"usage: {app}")
    assert "examples:" in lines and any(line.strip().startswith(app) for line in lines[8:])
    assert "scenario: baku_pledge_path, baseline" in p.stdout  # the groups and scenarios
    assert len(lines) < 60                       # not the whole configuration
    # a reader that stops early is not an error worth a traceback
    head = subprocess.run(f"{exe} --help | head -1", shell=True, capture_output=True,
                          text=True, timeout=120)
    assert head.stdout.startswith("usage:") and "Traceback" not in head.stderr
