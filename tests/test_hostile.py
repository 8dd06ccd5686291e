"""Hostile input: shared files cannot run code, damaged runs are never trusted, no input
crashes or hangs.

Every case asserts one line on stderr, the exit code (2: the user's input, 1: the
machine), that a payload's canary file never appears, and that nothing is written
outside the run folder (the test's folder is compared before and after).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim import CONFIG_DIR
from sim.cli.compose import compose_config
from sim.cli.report import main as report_main
from sim.cli.run import main, run
from sim.experiment.runs import write_sweep_summary

SIM_RUN = str(Path(sys.executable).with_name("sim-run"))
FAST = ["worlds=60", "horizon_weeks=8", "quiet=true"]


# ------------------------------------------------------------------ harness


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def world(tmp_path, monkeypatch):
    """A folder for one hostile case: configs copy, cwd, canary path, output folder."""
    cfg = tmp_path / "configs"
    shutil.copytree(CONFIG_DIR, cfg)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)

    class W:
        root = tmp_path
        configs = cfg
        canary = tmp_path / "CANARY"
        out = tmp_path / "out"

        def payload(self) -> str:
            return f"touch {self.canary}"

    return W()


def refused(argv, capsys, w, code=2, config=True, app=main, fast=FAST) -> str:
    """Run sim-run (or ``app``) in process; assert one line, the exit code, no canary,
    no writes."""
    before = tree(w.root)
    if config:
        argv = ["--config-path", str(w.configs), *argv]
    given = {a.split("=", 1)[0] for a in argv}
    argv = [*argv, f"hydra.run.dir={w.out}",
            *(f for f in fast if f.split("=", 1)[0] not in given)]
    with pytest.raises(SystemExit) as exc:
        app(argv)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert exc.value.code == code, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert not w.canary.exists(), "the payload ran"
    assert tree(w.root) == before, "something was written"
    return lines[0]


def scenario(w, body: str | bytes, name: str = "shared") -> Path:
    path = w.configs / "scenario" / f"{name}.yaml"
    path.write_bytes(body if isinstance(body, bytes) else body.encode())
    return path


GIT_PAYLOAD = """job:
  env_set:
    GIT_CONFIG_COUNT: "1"
    GIT_CONFIG_KEY_0: core.fsmonitor
    GIT_CONFIG_VALUE_0: "{cmd}; false"
"""


# ------------------------------------------------------------------ scenario files


@pytest.mark.parametrize("head", [
    "# @package _global_\n# @package hydra\n",
    "# @package _global_\n\n# @package hydra\n",
    "# @package _global_\n#@package hydra.job\n",
    "# @package hydra\n",
])
def test_scenario_header_into_hydra_settings_is_refused(head, world, capsys):
    body = GIT_PAYLOAD if head.rstrip().endswith("hydra") else "env_set:\n  A: b\n"
    path = scenario(world, head + body.format(cmd=world.payload()))
    line = refused(["scenario=shared"], capsys, world)
    assert f"{path}: header:" in line
    assert "# @package _global_" in line


def test_scenario_with_a_group_package_is_refused(world, capsys):
    path = scenario(world, "# @package actors\nrussia:\n  strength: 0.9\n")
    line = refused(["scenario=shared"], capsys, world)
    assert f"{path}: header:" in line and "only header allowed" in line


def test_hydra_key_with_nested_open_in_a_callback_is_refused(world, capsys):
    path = scenario(world, "# @package _global_\nhydra:\n  callbacks:\n    sweep_summary:\n"
                    "      f:\n        _target_: builtins.open\n"
                    f"        _args_: [{world.canary}, w]\n")
    line = refused(["scenario=shared"], capsys, world)
    assert line.startswith(f"sim-run: error: {path}: hydra:")


@pytest.mark.parametrize("body, key", [
    ("paths:\n  results_dir: /tmp/elsewhere\n", "paths"),        # moves the run folder
    ("defaults:\n  - override hydra/launcher: joblib\n", "defaults"),
    ("scenario: baseline\n", "scenario"),
])
def test_scenario_keys_beyond_model_and_run_keys_are_refused(body, key, world, capsys):
    path = scenario(world, "# @package _global_\n" + body)
    line = refused(["scenario=shared"], capsys, world)
    assert line.startswith(f"sim-run: error: {path}: {key}:"), line


@pytest.mark.parametrize("value", ["${oc.env:HOME}", "${oc.decode:'1'}",
                                   "x-${oc.env:PATH}-y"])
def test_resolvers_that_read_the_environment_are_refused(value, world, capsys):
    path = scenario(world, f"# @package _global_\nactors:\n  russia:\n    label: \"{value}\"\n")
    line = refused(["scenario=shared"], capsys, world)
    assert line.startswith(f"sim-run: error: {path}: actors.russia.label:"), line
    assert "resolver" in line


def _billion_laughs(levels: int = 9) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_scenario_is_refused_at_once(world, capsys):
    bomb = "# @package _global_\nincidents:\n  x:\n" + "".join(
        "    " + ln + "\n" for ln in _billion_laughs().splitlines())
    assert len(bomb) < 1000
    path = scenario(world, bomb)
    line = refused(["scenario=shared"], capsys, world)
    assert f"{path}: yaml:" in line and "aliases" in line


@pytest.mark.parametrize("body, says", [
    ("# @package _global_\nstate: &s {trust: 0.5}\nincidents: {x: *s}\n", "aliases"),
    ("# @package _global_\nincidents:\n  <<: {base_rate: 1.0}\n", "merge keys"),
    ("# @package _global_\nincidents:\n  base_rate: 1.0\n  base_rate: 2.0\n",
     "duplicate key 'base_rate'"),
    ("# @package _global_\nincidents: " + "[" * 3000 + "]" * 3000 + "\n", "nested"),
    ("# @package _global_\n" + "".join("  " * i + f"k{i}:\n" for i in range(200))
     + "  " * 200 + "v: 1\n", "nested"),
    ("# @package _global_\n- a\n- b\n", "mapping"),
    ("# @package _global_\nincidents:\n  base_rate: \"\x00\"\n", "malformed YAML"),
])
def test_malformed_scenario_yaml_is_one_line_naming_the_file(body, says, world, capsys):
    path = scenario(world, body)
    line = refused(["scenario=shared"], capsys, world)
    assert line.startswith(f"sim-run: error: {path}: yaml:"), line
    assert says in line, line


@pytest.mark.parametrize("raw", [
    b"# @package _global_\nactors:\n  russia:\n    label: Rossi\xe9\n",   # latin-1
    "# @package _global_\nincidents: {}\n".encode("utf-16"),
])
def test_non_utf8_scenario_is_refused(raw, world, capsys):
    path = scenario(world, raw)
    line = refused(["scenario=shared"], capsys, world)
    assert line.startswith(f"sim-run: error: {path}: file: not UTF-8"), line


def test_scenario_path_that_is_a_folder_is_refused(world, capsys):
    (world.configs / "scenario" / "shared.yaml").mkdir()
    line = refused(["scenario=shared"], capsys, world)
    assert "shared.yaml: file: is a folder" in line


def test_huge_scenario_file_is_refused_unread(world, capsys):
    scenario(world, "# @package _global_\n" + "# padding\n" * 200_000)
    line = refused(["scenario=shared"], capsys, world)
    assert "shared.yaml: file:" in line and "at most" in line


def test_a_broken_draft_does_not_block_other_scenarios(world, capsys):
    scenario(world, _billion_laughs(), name="draft")
    from sim.cli.run import preflight

    assert preflight(["--config-path", str(world.configs), "scenario=baseline", *FAST])
    line = refused(["-m", "scenario=baseline,draft"], capsys, world)
    assert "draft.yaml" in line


# ------------------------------------------------------------------ other config files


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def test_group_default_with_a_second_header_is_refused(world, capsys):
    path = world.configs / "incidents" / "default.yaml"
    path.write_text("# @package _global_\n# @package hydra\n" + path.read_text())
    line = refused([], capsys, world)
    assert f"{path}: header:" in line


def test_root_config_with_hydra_settings_is_refused(world, capsys):
    path = world.configs / "config.yaml"
    _append(path, "hydra:\n  job:\n    env_set: {GIT_CONFIG_COUNT: '1'}\n")
    line = refused([], capsys, world)
    assert f"{path}: hydra:" in line


@pytest.mark.parametrize("extra, key", [
    (GIT_PAYLOAD, "hydra.job.env_set"),
    ("job_logging:\n  handlers:\n    evil:\n      (): os.system\n",
     "hydra.job_logging.handlers.evil.()"),
    ("job_logging:\n  handlers:\n    evil:\n      class: builtins.open\n",
     "hydra.job_logging.handlers.evil.class"),
    ("job_logging:\n  handlers:\n    evil:\n      class: logging.FileHandler\n"
     "      filename: /tmp/peace-sim-outside.log\n", "hydra.job_logging.handlers.evil.filename"),
    ("output_subdir: ../../outside\n", "hydra.output_subdir"),
])
def test_foreign_hydra_group_cannot_run_code_or_write_outside(extra, key, world, capsys):
    path = world.configs / "hydra" / "default.yaml"
    text = path.read_text()
    if extra.startswith("job:"):
        text = text.replace("job:\n  chdir: false\n", extra.format(cmd=world.payload())
                            + "  chdir: false\n")
    elif extra.startswith("job_logging:"):
        text = text.replace("job_logging:\n  loggers:", extra + "  loggers:")
    else:
        text = text.replace("output_subdir: .hydra\n", extra)
    path.write_text(text)
    line = refused([], capsys, world)
    assert line.startswith(f"sim-run: error: {key}:"), line


def test_foreign_hydra_group_alias_bomb_is_refused(world, capsys):
    path = world.configs / "hydra" / "default.yaml"
    _append(path, _billion_laughs())
    line = refused([], capsys, world)
    assert f"{path}: yaml:" in line and "aliases" in line


# ------------------------------------------------------------------ search path


@pytest.fixture
def searchdir(world):
    d = world.root / "shared"
    (d / "scenario").mkdir(parents=True)
    return d


@pytest.mark.parametrize("app", ["sim-run", "sim-explore"])
def test_searchpath_scenario_with_second_header_is_refused(app, world, searchdir, capsys):
    path = searchdir / "scenario" / "theirs.yaml"
    path.write_text("# @package _global_\n# @package hydra\n"
                    + GIT_PAYLOAD.format(cmd=world.payload()))
    check = refused if app == "sim-run" else explore_refused
    line = check([f"hydra.searchpath=[file://{searchdir}]", "scenario=theirs"], capsys, world)
    assert line.startswith(f"{app}: error:") and f"{path}: header:" in line


def test_searchpath_group_file_setting_hydra_is_refused(world, searchdir, capsys):
    (searchdir / "extra").mkdir()
    path = searchdir / "extra" / "x.yaml"
    path.write_text("# @package _global_\nhydra:\n  job:\n    env_set: {A: b}\n")
    line = refused([f"hydra.searchpath=[file://{searchdir}]", "+extra=x"], capsys, world)
    assert f"{path}: hydra:" in line


def test_searchpath_folder_with_a_hydra_group_is_refused(world, searchdir, capsys):
    (searchdir / "hydra" / "launcher").mkdir(parents=True)
    (searchdir / "hydra" / "launcher" / "evil.yaml").write_text("n_jobs: 2\n")
    line = refused([f"hydra.searchpath=[file://{searchdir}]"], capsys, world)
    assert "search-path folder may not change Hydra's settings" in line


def test_searchpath_packages_are_refused(world, capsys):
    line = refused(["hydra.searchpath=[pkg://sim]"], capsys, world)
    assert "hydra.searchpath" in line and "pkg://sim" in line


def test_config_dir_flag_is_checked_like_a_searchpath(world, searchdir, capsys):
    path = searchdir / "scenario" / "theirs.yaml"
    path.write_text("# @package _global_\n# @package hydra\nverbose: true\n")
    line = refused(["--config-dir", str(searchdir), "scenario=theirs"], capsys, world)
    assert f"{path}: header:" in line


# ------------------------------------------------------------------ command line


@pytest.mark.parametrize("argv, key", [
    (["+hydra.job.env_set.GIT_CONFIG_COUNT=1"], "hydra.job.env_set"),
    (["+hydra.callbacks.sweep_summary.f._target_=builtins.open"],
     "hydra.callbacks.sweep_summary.f"),
    (["+hydra.job_logging.handlers.file.x=1"], "hydra.job_logging.handlers.file.x"),
    (["--experimental-rerun", "x.pickle"], "--experimental-rerun"),
    (["--bogus"], "arguments"),
    (["--config-name", "other"], "--config-name"),
])
def test_command_line_routes_to_code_are_refused(argv, key, world, capsys):
    line = refused(argv, capsys, world)
    assert f"{key}:" in line, line


@pytest.mark.parametrize("flag", ["--help", "--cfg=job", "--info=config"])
def test_informational_flags_do_not_compose_unchecked_files(flag, world, capsys):
    scenario(world, _billion_laughs(), name="bomb")
    line = refused([flag, "scenario=bomb"], capsys, world)
    assert "bomb.yaml" in line and "aliases" in line


def test_huge_numbers_are_printed_compactly(world, capsys):
    line = refused(["worlds=1e308"], capsys, world)
    assert "got 1e+308" in line and len(line) < 200


def test_comma_in_a_path_with_multirun_says_quote_not_add_m(world, capsys):
    line = refused(["-m", f"hydra.sweep.dir={world.root}/a,b"], capsys, world)
    assert "quote" in line and "add -m" not in line


def test_deeply_nested_command_line_value_is_one_line(world, capsys):
    line = refused(["incidents.base_rate=" + "[" * 3000 + "]" * 3000], capsys, world)
    assert "incidents.base_rate" in line or "nested" in line


def test_blocks_beyond_memory_are_refused_naming_the_largest_that_fits(world, capsys):
    """Rows are streamed to disk, so memory bounds the block, not the run."""
    line = refused(["worlds=100000000", "block_worlds=10000000", "max_worlds=100000000"],
                   capsys, world)
    assert "block_worlds: needs about" in line and "the largest that fits is block_worlds=" \
        in line
    largest = int(line.rsplit("block_worlds=", 1)[1].split()[0].replace(",", ""))
    from sim.experiment.memory import USABLE_SHARE, available_bytes, needed_bytes

    budget = available_bytes() * USABLE_SHARE   # moves a little with other processes
    total = 100_000_000
    # what the machine must still provide: the estimate less what this process holds
    assert needed_bytes(total, largest, 8) <= 1.02 * budget
    assert needed_bytes(total, int(largest * 1.05) + 1, 8) > budget


def test_trace_has_its_own_cap(world, capsys):
    line = refused(["trace=true", "worlds=100000", "horizon_weeks=52"], capsys, world)
    assert line.startswith("sim-run: error: command line: worlds:"), line
    assert "trace" in line and "at most 38,461 worlds" in line  # 2,000,000 / 52 weeks


def test_output_folder_under_a_file_is_refused(world, capsys):
    (world.root / "afile").write_text("x")
    before = tree(world.root)
    with pytest.raises(SystemExit) as exc:
        main(["--config-path", str(world.configs), *FAST,
              f"hydra.run.dir={world.root}/afile/run"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and len(err.strip().splitlines()) == 1
    assert "is a file" in err and tree(world.root) == before


# ------------------------------------------------------------------ the git subprocess


def test_git_runs_with_a_fixed_environment(monkeypatch, tmp_path):
    """GIT_CONFIG_* and PATH set for the job do not reach the git subprocess."""
    from sim.experiment import runs as run_mod

    canary = tmp_path / "CANARY"
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "git").write_text(f"#!/bin/sh\ntouch {canary}\n")
    (fake / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    for k, v in {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "core.fsmonitor",
                 "GIT_CONFIG_VALUE_0": f"touch {canary}; false",
                 "GIT_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(k, v)
    rev = run_mod.git_revision()
    assert not canary.exists()
    if shutil.which("git", path=run_mod.GIT_PATH):
        assert rev is not None and len(rev.split("-")[0]) == 40
    env = run_mod.git_environment()
    assert not any(k.startswith("GIT_CONFIG_") and k not in ("GIT_CONFIG_NOSYSTEM",
                                                              "GIT_CONFIG_GLOBAL")
                   for k in env)


def test_metadata_never_copies_environment_values(tmp_path, monkeypatch):
    secret = "s3cr3t-value-9d1f"
    monkeypatch.setenv("PEACE_SIM_SECRET", secret)
    ov = ["worlds=40", "horizon_weeks=6", "quiet=true"]
    run(compose_config(ov), tmp_path / "r", ov)
    for p in (tmp_path / "r").iterdir():
        if p.suffix == ".json":
            assert secret not in p.read_text()


# ------------------------------------------------------------------ damaged run folders


def make_run(path: Path, seed: int = 1) -> dict:
    ov = ["worlds=80", "horizon_weeks=10", "quiet=true", f"seed={seed}"]
    return run(compose_config(ov), path, ov)


def _truncate(p: Path) -> None:
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


DAMAGE = {
    "truncated worlds": lambda d: _truncate(d / "worlds.parquet"),
    "empty worlds": lambda d: (d / "worlds.parquet").write_bytes(b""),
    "missing steps": lambda d: (d / "steps.parquet").unlink(),
    "no manifest": lambda d: (d / "manifest.json").unlink(),
    "edited summary": lambda d: (d / "summary.json").write_text(
        (d / "summary.json").read_text().replace('"p_sign": ', '"p_sign": 0.0 + ')),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_job_is_redone_on_resume(damage, tmp_path):
    d = tmp_path / "job"
    first = make_run(d)
    good = pd.read_parquet(d / "worlds.parquet")
    DAMAGE[damage](d)
    again = make_run(d)
    assert again["p_sign"] == first["p_sign"]
    pd.testing.assert_frame_equal(pd.read_parquet(d / "worlds.parquet"), good)
    from sim.experiment.runfolder import verify_run_folder

    verify_run_folder(d)


def test_finished_job_is_skipped_only_when_it_verifies(tmp_path, capsys):
    d = tmp_path / "job"
    make_run(d)
    mtime = (d / "worlds.parquet").stat().st_mtime_ns
    make_run(d)
    assert (d / "worlds.parquet").stat().st_mtime_ns == mtime


def test_stale_temporary_files_are_cleaned_on_resume(tmp_path):
    d = tmp_path / "job"
    make_run(d)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = d / f".worlds.parquet.tmp-{dead.pid}"
    stale.write_bytes(b"half a file")
    (d / "manifest.json").unlink()   # killed mid-write: not finished
    make_run(d)
    assert not stale.exists()
    assert not [p for p in d.iterdir() if ".tmp-" in p.name]


def report_refused(path: Path, capsys, code: int = 2) -> str:
    before = tree(path.parent)
    assert report_main([str(path)]) == code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert tree(path.parent) == before, "the report wrote something"
    return lines[0]


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_report_refuses_a_damaged_run_in_one_line(damage, tmp_path, capsys):
    d = tmp_path / "job"
    make_run(d)
    DAMAGE[damage](d)
    line = report_refused(d, capsys)
    assert line.startswith(f"sim-report: {d}")
    assert "run the same sim-run command again" in line or "manifest" in line


def _rewrite_summary(d: Path, text: str) -> None:
    """Replace summary.json and re-sign the manifest (a crafted, consistent folder)."""
    from sim.experiment.runfolder import write_manifest

    (d / "summary.json").write_text(text)
    names = list(json.loads((d / "manifest.json").read_text())["files"])
    write_manifest(d, names)


@pytest.mark.parametrize("text, says", [
    ("[1, 2]", "expected a JSON object"),
    ("null", "got null"),
    ('{"scenario": "baseline"}', "missing"),
    ("{not json", "not valid JSON"),
])
def test_report_refuses_a_malformed_summary(text, says, tmp_path, capsys):
    d = tmp_path / "job"
    make_run(d)
    _rewrite_summary(d, text)
    assert says in report_refused(d, capsys)


def test_report_refuses_a_summary_of_wrong_types(tmp_path, capsys):
    d = tmp_path / "job"
    make_run(d)
    s = json.loads((d / "summary.json").read_text())
    s["p_sign"] = "high"
    _rewrite_summary(d, json.dumps(s))
    assert "p_sign must be a share" in report_refused(d, capsys)


@pytest.fixture
def sweep(tmp_path) -> Path:
    sw = tmp_path / "sweep"
    jobs = []
    for i, scen in enumerate(("baseline", "russia_spoiler")):
        ov = [f"scenario={scen}", "worlds=80", "horizon_weeks=10", "quiet=true"]
        run(compose_config(ov), sw / str(i), ov)
        jobs.append(ov)
    write_sweep_summary(sw, jobs)
    return sw


@pytest.mark.parametrize("content, says", [
    (b"\x00\xff\xfe garbage \x00", "sweep_summary.csv"),
    (b"a,b\n1,2\n", "column"),
    (b"job,scenario,p_sign,ci_low,ci_high\n0,baseline,x,0,1\n1,r,0.1,0,1\n", "numbers"),
    (b"job,scenario,p_sign,ci_low,ci_high\n0,baseline,0.1,0,1\n", "each job folder once"),
])
def test_report_refuses_a_garbled_sweep_summary(content, says, sweep, capsys):
    (sweep / "sweep_summary.csv").write_bytes(content)
    line = report_refused(sweep, capsys)
    assert "sweep_summary.csv" in line and says in line


def test_report_refuses_a_sweep_with_a_damaged_job(sweep, capsys):
    _truncate(sweep / "1" / "worlds.parquet")
    line = report_refused(sweep, capsys)
    assert f"{sweep / '1'}" in line


def test_report_refuses_a_sweep_with_an_unfinished_job(sweep, capsys):
    (sweep / "2").mkdir()
    (sweep / "2" / "run.log").write_text("")
    line = report_refused(sweep, capsys)
    assert f"{sweep / '2'}" in line and "did not finish" in line


def test_report_folder_that_is_a_file_is_one_line(tmp_path, capsys):
    d = tmp_path / "job"
    make_run(d)
    (d / "report").write_text("not a folder")
    line = report_refused(d, capsys)
    assert "report: exists and is not a folder" in line


# ------------------------------------------------------------------ the machine


def test_simulated_disk_full_during_a_job_is_one_line_exit_1(world, capsys, monkeypatch):
    import sim.experiment.runs as run_mod

    def full(path, write):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(run_mod, "atomic_write", full)
    argv = ["--config-path", str(world.configs), *FAST, f"hydra.run.dir={world.out}"]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "disk is full" in lines[0] and str(world.out) in lines[0]
    assert not (world.out / "manifest.json").exists()


def test_simulated_read_only_output_is_refused_before_running(world, capsys, monkeypatch):
    real = os.statvfs

    class RO:
        def __init__(self, st):
            self._st = st

        def __getattr__(self, k):
            return getattr(self._st, k)

        @property
        def f_flag(self):
            return self._st.f_flag | os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", lambda p: RO(real(p)))
    line = refused([], capsys, world, code=1)
    assert "read-only" in line


def test_simulated_full_disk_in_sim_report_is_one_line_exit_1(tmp_path, capsys,
                                                               monkeypatch):
    from sim.viz import report

    d = tmp_path / "job"
    make_run(d)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(report, "save_figure", full)
    assert report_main([str(d)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "disk is full" in err


def _mount_tmpfs(path: Path, size: str, ro: bool = False) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    path.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if ro else "")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)],
                       capture_output=True)
    return r.returncode == 0


@pytest.fixture
def tmpfs(tmp_path):
    mounted = []

    def make(name: str, size: str = "256k", ro: bool = False) -> Path:
        path = tmp_path / name
        if not _mount_tmpfs(path, size, ro):
            pytest.skip("cannot mount a tmpfs here (the simulated cases cover this)")
        mounted.append(path)
        return path

    yield make
    for p in mounted:
        subprocess.run(["umount", str(p)], capture_output=True)


def _sim_run(argv, cwd, timeout=300):
    return subprocess.run([SIM_RUN, *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def test_real_full_disk_is_one_line_exit_1(tmpfs, tmp_path):
    disk = tmpfs("small", "256k")
    p = _sim_run(["worlds=2000", "horizon_weeks=8", "quiet=true",
                  f"hydra.run.dir={disk}/run"], tmp_path)
    assert p.returncode == 1, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert "free" in p.stderr or "disk is full" in p.stderr


def test_real_read_only_folder_is_one_line_exit_1(tmpfs, tmp_path):
    disk = tmpfs("ro", "256k", ro=True)
    p = _sim_run([*FAST, f"hydra.run.dir={disk}/run"], tmp_path)
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "read-only" in p.stderr


def test_real_read_only_report_folder_is_one_line_exit_1(tmpfs, tmp_path):
    disk = tmpfs("rr", "2m")
    make_run(disk / "job")
    subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
    p = subprocess.run([sys.executable, "-m", "sim.cli.report", str(disk / "job")],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "read-only" in p.stderr


# ------------------------------------------------------------------ fingerprint, memory


def test_fingerprint_covers_every_module_of_the_package(tmp_path):
    from sim.experiment.api import code_fingerprint

    pkg = tmp_path / "sim"
    shutil.copytree(Path(CONFIG_DIR).parent / "sim", pkg,
                    ignore=shutil.ignore_patterns("__pycache__"))
    base = code_fingerprint(pkg)
    run_py = pkg / "cli" / "run.py"
    run_py.write_text(run_py.read_text() + "\n# changed\n")
    changed = code_fingerprint(pkg)
    assert changed != base
    (pkg / "calendar_new.py").write_text("X = 1\n")   # a module nobody listed
    assert code_fingerprint(pkg) not in (base, changed)


@pytest.mark.parametrize("worlds, weeks, trace", [(3000, 40, False), (300, 30, True)])
def test_memory_estimate_bounds_a_measured_peak(worlds, weeks, trace):
    import tracemalloc

    from sim import load_params
    from sim.experiment.memory import estimate_bytes
    from sim.experiment.runs import simulate_blocks

    p = load_params("baseline")
    tracemalloc.start()
    simulate_blocks(p, worlds, 0, weeks, worlds, trace=trace, progress=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # what the run adds (base=0): the default base is this process's resident memory,
    # which in a long test session is far above BASE
    est = estimate_bytes(worlds, worlds, weeks, trace, streamed=False, base=0)  # rows kept
    assert peak <= est <= 5 * peak


# ------------------------------------------------------------------ killed sweeps


def _children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


SWEEP = ["-m", "scenario=baseline,russia_spoiler,us_disengages,march_2025",
         "worlds=2000", "horizon_weeks=104", "quiet=true", "seed=5"]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> pd.DataFrame:
    sw = tmp_path_factory.mktemp("whole") / "sw"
    p = _sim_run([*SWEEP, f"hydra.sweep.dir={sw}"], sw.parent)
    assert p.returncode == 0, p.stderr
    return pd.read_csv(sw / "sweep_summary.csv")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_joblib_sweep_leaves_no_workers_and_resumes_identically(sig, tmp_path,
                                                                      uninterrupted):
    sw = tmp_path / "sw"
    argv = [*SWEEP, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
            f"hydra.sweep.dir={sw}"]
    p = subprocess.Popen([SIM_RUN, *argv], cwd=tmp_path, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:   # workers busy and one job done
            kids = _children(p.pid)
            if len(kids) >= 2 and list(sw.glob("*/manifest.json")):
                break
            assert p.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.05)
        workers = _children(p.pid)
        assert len(list(sw.glob("*/manifest.json"))) < 4, "killed too late"
    finally:
        p.send_signal(sig)
        p.wait(timeout=60)
    gone = time.monotonic() + 5
    while any(_alive(w) for w in workers) and time.monotonic() < gone:
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers), "a worker outlived its parent"
    q = _sim_run(argv, tmp_path)
    assert q.returncode == 0, q.stderr
    resumed = pd.read_csv(sw / "sweep_summary.csv")
    pd.testing.assert_frame_equal(resumed, uninterrupted)
    assert not list(sw.glob("*/.*.tmp-*"))


def _resign(d: Path) -> None:
    from sim.experiment.runfolder import write_manifest

    write_manifest(d, list(json.loads((d / "manifest.json").read_text())["files"]))


def test_report_refuses_crafted_tables_with_a_valid_manifest(tmp_path, capsys):
    d = tmp_path / "job"
    make_run(d)
    steps = pd.read_parquet(d / "steps.parquet")
    steps["p_signed"] = "many"
    steps.to_parquet(d / "steps.parquet", index=False)
    _resign(d)
    line = report_refused(d, capsys)
    assert "not what sim-run writes" in line


def test_report_refuses_a_worlds_table_of_another_length(tmp_path, capsys):
    d = tmp_path / "job"
    make_run(d)
    pd.read_parquet(d / "worlds.parquet").iloc[:10].to_parquet(d / "worlds.parquet")
    _resign(d)
    assert "rows but summary.json says 80 worlds" in report_refused(d, capsys)


def test_report_refuses_a_worlds_table_without_needed_columns(tmp_path, capsys):
    d = tmp_path / "job"
    make_run(d)
    pd.read_parquet(d / "worlds.parquet").drop(columns=["signed"]).to_parquet(
        d / "worlds.parquet")
    _resign(d)
    assert "column 'signed' missing" in report_refused(d, capsys)


def test_group_file_placed_in_hydra_settings_by_package_is_refused(world, capsys):
    scenario(world, "# @package _global_\nincidents:\n  base_rate: 1.0\n")
    line = refused(["+scenario@hydra=shared"], capsys, world)
    assert "Hydra's settings" in line


def test_package_override_still_checks_the_file(world, capsys):
    path = scenario(world, "# @package _global_\n# @package hydra\nverbose: true\n")
    line = refused(["+scenario@extra=shared"], capsys, world)
    assert f"{path}: header:" in line


def test_report_folder_that_is_a_link_elsewhere_is_refused(tmp_path, capsys):
    d = tmp_path / "job"
    make_run(d)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.png").write_bytes(b"keep me")
    (d / "report").symlink_to(elsewhere)
    line = report_refused(d, capsys)
    assert "is a link" in line
    assert (elsewhere / "precious.png").read_bytes() == b"keep me"
    assert list(elsewhere.iterdir()) == [elsewhere / "precious.png"]


def test_searchpath_set_in_the_hydra_group_is_checked_too(world, searchdir, capsys):
    path = searchdir / "scenario" / "theirs.yaml"
    path.write_text("# @package _global_\n# @package hydra\nverbose: true\n")
    _append(world.configs / "hydra" / "default.yaml", f"searchpath:\n  - file://{searchdir}\n")
    line = refused(["scenario=theirs"], capsys, world)
    assert f"{path}: header:" in line


def test_sweep_summary_callback_fails_loudly_on_a_damaged_job(tmp_path, capsys):
    from omegaconf import OmegaConf

    from sim.cli.run import job_overrides
    from sim.cli.sweep import SweepSummaryCallback

    sweep = tmp_path / "sweep"
    task = ["scenario=baseline,russia_spoiler", "worlds=80", "horizon_weeks=10",
            "quiet=true"]
    for i, ov in enumerate(job_overrides(task, True)):   # as Hydra's sweeper names them
        run(compose_config(ov), sweep / str(i), ov)
    _truncate(sweep / "1" / "worlds.parquet")
    cfg = OmegaConf.create({"quiet": True, "hydra": {
        "sweep": {"dir": str(sweep)}, "sweeper": {"params": None},
        "overrides": {"task": task}}})
    with pytest.raises(SystemExit) as exc:
        SweepSummaryCallback().on_multirun_end(cfg)
    assert exc.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "job(s) 1 did not finish intact" in err[0]
    table = pd.read_csv(sweep / "sweep_summary.csv")
    assert list(table["status"]) == ["done", "missing"]


def test_full_disk_while_hydra_writes_its_files_is_one_line_exit_1(world, capsys,
                                                                   monkeypatch):
    import hydra.core.utils as hydra_utils

    def full(cfg, filename, output_dir):
        raise OSError(errno.ENOSPC, "No space left on device",
                      str(Path(output_dir) / filename))

    monkeypatch.setattr(hydra_utils, "_save_config", full)
    flag = os.environ.get("HYDRA_FULL_ERROR")
    argv = ["--config-path", str(world.configs), *FAST, f"hydra.run.dir={world.out}"]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "disk is full" in lines[0] and "config.yaml" in lines[0]
    assert os.environ.get("HYDRA_FULL_ERROR") == flag   # restored


def test_real_disk_filling_during_a_joblib_sweep_is_one_line_exit_1(tmpfs, tmp_path):
    """The disk fills after the checks, while the workers run: one line, exit 1."""
    # room for the checks (2 jobs x 20,000 worlds; the default's drawn assumptions make
    # the disk estimate about 97 MB a job), not for the runs
    disk = tmpfs("filling", "160m")
    sw = disk / "sw"
    p = subprocess.Popen([SIM_RUN, "-m", "scenario=baseline,russia_spoiler",
                          "worlds=20000", "horizon_weeks=156", "quiet=true",
                          "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
                          f"hydra.sweep.dir={sw}"], cwd=tmp_path,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(sw.glob("*/.hydra/overrides.yaml")) and time.monotonic() < deadline:
        assert p.poll() is None, p.stderr.read()
        time.sleep(0.01)
    with open(disk / "filler", "wb", buffering=0) as fh:   # fill it while the jobs run
        try:
            while True:
                fh.write(b"\0" * (1 << 16))
        except OSError as e:
            assert e.errno == errno.ENOSPC
    err = p.communicate(timeout=120)[1]
    assert p.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "disk is full" in lines[0]
    assert not list(sw.glob("*/manifest.json"))


# ------------------------------------------------------------------ sim-explore

def explore_refused(argv, capsys, w, code=2) -> str:
    """:func:`refused` for sim-explore (a tiny design)."""
    from sim.cli.explore import main as explore_main
    return refused(argv, capsys, w, code, app=explore_main,
                   fast=["explore.n=8", "horizon_weeks=8"])


@pytest.mark.parametrize("head", ["# @package _global_\n# @package hydra\n",
                                  "# @package hydra\n"])
def test_sim_explore_refuses_a_scenario_reaching_hydra(head, world, capsys):
    path = scenario(world, head + GIT_PAYLOAD.format(cmd=world.payload()))
    line = explore_refused(["scenario=shared"], capsys, world)
    assert line.startswith("sim-explore: error:") and f"{path}: header:" in line


def test_sim_explore_refuses_an_alias_bomb_in_its_own_group(world, capsys):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    path = world.configs / "explore" / "sobol.yaml"
    path.write_text("# @package explore\n" + bomb)
    line = explore_refused([], capsys, world)
    assert str(Path("configs") / "explore" / "sobol.yaml") in line or str(path) in line


def test_sim_explore_refuses_a_non_utf8_explore_file(world, capsys):
    (world.configs / "explore" / "sobol.yaml").write_bytes(b"method: sobol\nn: \xff\xfe\n")
    line = explore_refused([], capsys, world)
    assert "sobol.yaml" in line


def test_sim_explore_refuses_env_set_on_the_command_line(world, capsys):
    line = explore_refused([f"+hydra.job.env_set.GIT_DIR={world.root}"], capsys, world)
    assert "env_set" in line


# ------------------------------------------------------------------ ways of loading a scenario


def ran(argv, capsys, w) -> dict:
    """Run sim-run in process into ``w.out``; return its summary.json."""
    main(["--config-path", str(w.configs), *argv, f"hydra.run.dir={w.out}", *FAST])
    capsys.readouterr()
    return json.loads((w.out / "summary.json").read_text())


@pytest.mark.parametrize("arg", ["+scenario@_global_=russia_spoiler",
                                 "scenario@_global_=russia_spoiler",
                                 "+scenario=russia_spoiler", "~scenario",
                                 "+actors@_global_=default", "+scenario/extra=russia_spoiler"])
def test_a_scenario_loaded_other_than_by_scenario_equals_is_refused(arg, world, capsys):
    """summary.json would say baseline while another scenario's parameters ran."""
    line = refused([arg], capsys, world)
    assert "command line:" in line
    assert "group=option" in line or "unknown config group" in line


@pytest.mark.parametrize("how", ["config-dir", "searchpath"])
def test_a_scenario_on_a_search_path_runs_and_is_recorded(how, world, searchdir, capsys):
    (searchdir / "scenario" / "theirs.yaml").write_text(
        "# @package _global_\n# Tests: a shared draft.\nincidents:\n  base_rate: 0.9\n")
    flag = (["--config-dir", str(searchdir)] if how == "config-dir"
            else [f"hydra.searchpath=[file://{searchdir}]"])
    summary = ran([*flag, "scenario=theirs"], capsys, world)
    assert summary["scenario"] == "theirs"
    meta = json.loads((world.out / "metadata.json").read_text())
    assert meta["config"]["incidents"]["base_rate"] == 0.9


def test_a_search_path_scenario_is_listed_when_misspelt(world, searchdir, capsys):
    (searchdir / "scenario" / "theirs.yaml").write_text("# @package _global_\n")
    line = refused([f"hydra.searchpath=[file://{searchdir}]", "scenario=thiers"], capsys,
                   world)
    assert "unknown scenario 'thiers' (did you mean 'theirs'?)" in line
    assert "theirs" in line.split("available:")[1]


def test_a_glob_sweep_over_scenarios_runs_each_match(world, capsys, tmp_path):
    sweep = tmp_path / "sweep"
    main(["--config-path", str(world.configs), "-m",
          "scenario=glob([turkey*,us_*],exclude=us_x*)", f"hydra.sweep.dir={sweep}", *FAST])
    capsys.readouterr()
    table = pd.read_csv(sweep / "sweep_summary.csv")
    assert sorted(table["scenario"]) == ["turkey_iran", "us_disengages"]


@pytest.mark.parametrize("args, words", [
    (["-m", "worlds=glob(*)"], "glob(...) sweeps over the options of a config group"),
    (["-m", "scenario=glob(zz*)"], "matches no option"),
    (["scenario=glob(*)"], "is a sweep: add -m"),
])
def test_a_glob_that_cannot_be_swept_is_one_line(args, words, world, capsys):
    line = refused(args, capsys, world)
    assert words in line and "ConfigLoader" not in line


@pytest.mark.parametrize("arg", ["scenario=a\x1b[31mred", "scenario=x\x1b]0;pwned\x07",
                                 "incidents.base_rate=\x1b[2J", "inc\x1bidents.x=1"])
def test_escape_bytes_on_the_command_line_are_printed_escaped(arg, world, capsys):
    line = refused([arg], capsys, world)
    assert "\x1b" not in line and "\x07" not in line
    assert "\\x1b" in line


def test_escape_bytes_in_a_scenario_file_are_printed_escaped(world, capsys):
    path = scenario(world, "# @package _global_\nincidents:\n  \"base\\e[31m\": 1\n")
    line = refused(["scenario=shared"], capsys, world)
    assert line.startswith(f"sim-run: error: {path}: ") and "\\x1b[31m" in line
    assert "\x1b" not in line


@pytest.mark.parametrize("version", ["1.3", "1.0", "2.0"])
def test_a_yaml_directive_names_the_file_that_has_it(version, world, capsys):
    path = scenario(world, f"%YAML {version}\n---\n# @package _global_\n"
                           "incidents:\n  base_rate: 0.1\n")
    line = refused(["scenario=shared"], capsys, world)
    assert line.startswith(f"sim-run: error: {path}: yaml: "), line
    assert "config.yaml" not in line


def test_a_yaml_directive_in_a_group_file_names_that_file(world, capsys):
    path = world.configs / "incidents" / "default.yaml"
    path.write_text("%YAML 1.3\n---\n" + path.read_text())
    line = refused([], capsys, world)
    assert line.startswith(f"sim-run: error: {path}: yaml: "), line


# ================================================================== second pass (issue 21)
# Every file a command reads on a user's word is read as a regular file of bounded size
# (sim/safeio.py); report and dashboard inputs are checked by type and range; output paths
# are checked after interpolation; limits are stated up front; the dashboard answers only
# its own address.

import contextlib  # noqa: E402
import socket  # noqa: E402

from sim.experiment.runs import RunFolderError, load_run, read_table_file  # noqa: E402
from sim.safeio import UnsafeFile, open_regular, read_regular_bytes  # noqa: E402


@contextlib.contextmanager
def within(seconds: int):
    """Fail (instead of hanging the suite) if the block takes longer than ``seconds``."""
    def timeout(signum, frame):
        raise TimeoutError(f"took longer than {seconds} s: it hangs")

    old = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


#: Things that are not regular files, put where a command expects one.
SPECIALS = ("fifo", "dev-zero", "socket", "folder")


@pytest.fixture
def special():
    """``special(path, kind)`` replaces ``path`` by a FIFO, a /dev/zero link, a bound
    socket or a folder."""
    socks: list[socket.socket] = []

    def make(path: Path, kind: str) -> Path:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        elif kind == "dev-zero":
            path.symlink_to("/dev/zero")
        elif kind == "socket":   # bound under a short name (108 bytes at most), then moved
            short = Path(f"/tmp/sim-hostile-{os.getpid()}-{len(socks)}.sock")
            short.unlink(missing_ok=True)
            s = socket.socket(socket.AF_UNIX)
            s.bind(str(short))
            socks.append(s)
            os.rename(short, path)
        elif kind == "folder":
            path.mkdir()
        return path

    yield make
    for s in socks:
        s.close()


@pytest.fixture(scope="module")
def template_run(tmp_path_factory) -> Path:
    """One finished run folder with a trace, copied by each case that damages it."""
    d = tmp_path_factory.mktemp("template") / "job"
    ov = ["worlds=80", "horizon_weeks=10", "quiet=true", "seed=1", "trace=true"]
    run(compose_config(ov), d, ov)
    return d


@pytest.fixture
def run_copy(template_run, tmp_path) -> Path:
    d = tmp_path / "job"
    shutil.copytree(template_run, d, symlinks=True)
    return d


# ------------------------------------------------------------------ files that are not files


@pytest.mark.parametrize("kind", SPECIALS)
@pytest.mark.parametrize("name", ["summary.json", "metadata.json", "manifest.json",
                                  "worlds.parquet", "steps.parquet", "trace.parquet"])
def test_report_refuses_a_run_file_that_is_not_a_regular_file(name, kind, run_copy,
                                                              special, capsys):
    special(run_copy / name, kind)
    with within(30):
        line = report_refused(run_copy, capsys)
    assert f"{run_copy / name}" in line, line
    what = {"fifo": "FIFO", "dev-zero": "character device", "socket": "socket",
            "folder": "folder"}[kind]
    assert what in line, line


@pytest.mark.parametrize("kind", SPECIALS)
def test_report_refuses_a_sweep_summary_that_is_not_a_regular_file(kind, sweep, special,
                                                                   capsys):
    special(sweep / "sweep_summary.csv", kind)
    with within(30):
        line = report_refused(sweep, capsys)
    assert "sweep_summary.csv" in line
    assert {"fifo": "FIFO", "dev-zero": "device", "socket": "socket",
            "folder": "folder"}[kind] in line, line


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "socket"])
@pytest.mark.parametrize("reader", ["bytes", "open", "table", "json"])
def test_readers_refuse_what_is_not_a_regular_file(reader, kind, tmp_path, special):
    path = special(tmp_path / "x.parquet", kind)
    with within(10):
        if reader == "bytes":
            with pytest.raises(UnsafeFile, match="only a regular file"):
                read_regular_bytes(path, 1000)
        elif reader == "open":
            with pytest.raises(UnsafeFile, match="only a regular file"):
                open_regular(path, 1000)
        elif reader == "table":
            with pytest.raises(RunFolderError, match="only a regular file"):
                read_table_file(path)
        else:
            from sim.experiment.runfolder import DamagedRunError, read_json
            with pytest.raises(DamagedRunError, match="only a regular file"):
                read_json(path)


def test_a_table_larger_than_the_cap_is_refused_before_pyarrow_reads_it(tmp_path,
                                                                        monkeypatch):
    from sim.experiment import runs as runs_mod

    d = tmp_path / "t.parquet"
    pd.DataFrame({"a": range(1000)}).to_parquet(d)
    monkeypatch.setattr(runs_mod, "MAX_FILE_BYTES", 100)
    with pytest.raises(RunFolderError, match="larger than 100 bytes"):
        read_table_file(d)


@pytest.mark.parametrize("kind", SPECIALS)
def test_sim_backtest_refuses_a_facts_file_that_is_not_a_regular_file(kind, tmp_path,
                                                                      special, capsys):
    from sim.cli.backtest import main as backtest_main

    facts = special(tmp_path / "facts.yaml", kind)
    with within(30):
        code = backtest_main([f"facts={facts}", "worlds=10", f"out={tmp_path / 'out'}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert str(facts) in err[0] and "file:" in err[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "socket"])
def test_sim_explore_refuses_a_source_run_holding_a_special_file(kind, run_copy, special,
                                                                 world, capsys):
    special(run_copy / "worlds.parquet", kind)
    with within(30):
        line = explore_refused(["explore=prim", f"explore.source={run_copy}"], capsys, world)
    assert "explore.source" in line and "worlds.parquet" in line


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "socket"])
def test_dashboard_refuses_a_results_folder_holding_a_special_file(kind, run_copy, special):
    from sim.viz.dashboard import logic

    special(run_copy / "summary.json", kind)
    with within(30), pytest.raises(RunFolderError) as exc:
        logic.browse(run_copy, root=run_copy.parent)
    assert "summary.json" in str(exc.value) and "\n" not in str(exc.value)


# ------------------------------------------------------------------ report and dashboard inputs


def _craft_table(d: Path, name: str, column: str, values) -> None:
    t = pd.read_parquet(d / name)
    t[column] = values(t) if callable(values) else values
    t.to_parquet(d / name, index=False)
    _resign(d)


CRAFTED_TABLES = {
    "signed NaN": ("worlds.parquet", "signed",
                   lambda t: [float("nan")] + [0.0] * (len(t) - 1), "'signed'"),
    "signed 2": ("worlds.parquet", "signed", lambda t: [2] * len(t), "'signed'"),
    "signed text": ("worlds.parquet", "signed", lambda t: ["yes"] * len(t), "'signed'"),
    "outcome unknown": ("worlds.parquet", "outcome", lambda t: ["victory"] * len(t),
                        "'outcome'"),
    "outcome None": ("worlds.parquet", "outcome", lambda t: [None] * len(t), "'outcome'"),
    "sign_week huge": ("worlds.parquet", "sign_week", lambda t: [10**12] * len(t),
                       "'sign_week'"),
    "sign_week -5": ("worlds.parquet", "sign_week", lambda t: [-5] * len(t), "'sign_week'"),
    "sign_week inf": ("worlds.parquet", "sign_week", lambda t: [float("inf")] * len(t),
                      "'sign_week'"),
    "world -1": ("worlds.parquet", "world", lambda t: [-1] * len(t), "'world'"),
    "world float": ("worlds.parquet", "world", lambda t: [0.5] * len(t), "'world'"),
    "week inf": ("steps.parquet", "week", lambda t: [float("inf")] * len(t), "'week'"),
    "week NaN": ("steps.parquet", "week", lambda t: [float("nan")] * len(t), "'week'"),
    "week -1": ("steps.parquet", "week", lambda t: [-1] * len(t), "'week'"),
    "week 1e9": ("steps.parquet", "week", lambda t: [10**9] * len(t), "'week'"),
    "p_signed 1.5": ("steps.parquet", "p_signed", lambda t: [1.5] * len(t), "'p_signed'"),
    "p_signed NaN": ("steps.parquet", "p_signed", lambda t: [float("nan")] * len(t),
                     "'p_signed'"),
    "p_active -0.1": ("steps.parquet", "p_active", lambda t: [-0.1] * len(t), "'p_active'"),
    "trace week inf": ("trace.parquet", "week", lambda t: [float("inf")] * len(t),
                       "'week'"),
}


@pytest.mark.parametrize("case", [c for c in CRAFTED_TABLES if not c.startswith("trace")])
def test_report_refuses_table_values_sim_run_cannot_write(case, run_copy, capsys):
    name, col, values, says = CRAFTED_TABLES[case]
    _craft_table(run_copy, name, col, values)
    line = report_refused(run_copy, capsys)
    assert name in line and says in line, line


@pytest.mark.parametrize("case", list(CRAFTED_TABLES))
def test_dashboard_refuses_table_values_sim_run_cannot_write(case, run_copy):
    from sim.viz.dashboard import logic

    name, col, values, says = CRAFTED_TABLES[case]
    _craft_table(run_copy, name, col, values)
    with pytest.raises(RunFolderError) as exc:
        logic.browse(run_copy, root=run_copy.parent)
        assert load_run(run_copy).trace is None   # never reached: a trace is checked too
    assert name in str(exc.value) and says in str(exc.value)


def test_signed_share_must_match_the_summary(run_copy, capsys):
    _craft_table(run_copy, "worlds.parquet", "signed", lambda t: [True] * len(t))
    assert "differs from summary.json's p_sign" in report_refused(run_copy, capsys)


CRAFTED_SUMMARIES = {
    "horizon 1e30": ("horizon_weeks", 1e30),
    "horizon 10**30": ("horizon_weeks", 10**30),
    "horizon 5201": ("horizon_weeks", 5201),
    "worlds 10**12": ("worlds", 10**12),
    "seed 2**64": ("seed", 2**64),
    "seed -1": ("seed", -1),
    "overrides 5 MB": ("overrides", ["x=" + "a" * 5_000_000]),
    "overrides 100k": ("overrides", ["worlds=1"] * 100_000),
    "overrides not strings": ("overrides", [1, 2]),
    "scenario 1000 chars": ("scenario", "s" * 1000),
    "scenario empty": ("scenario", ""),
    "median 1e300": ("median_weeks_to_sign", 1e300),
    "p_sign_12m 2": ("p_sign_12m", 2.0),
    "config_hash 1 MB": ("config_hash", "h" * 1_000_000),
    "p_sign true": ("p_sign", True),
}


@pytest.mark.parametrize("case", list(CRAFTED_SUMMARIES))
def test_report_refuses_summary_values_out_of_range_at_once(case, run_copy, capsys):
    key, value = CRAFTED_SUMMARIES[case]
    s = json.loads((run_copy / "summary.json").read_text())
    s[key] = value
    _rewrite_summary(run_copy, json.dumps(s))
    with within(20):
        line = report_refused(run_copy, capsys)
    assert f"{key} must be" in line and len(line) < 400, line


@pytest.mark.parametrize("case", ["horizon 1e30", "overrides 5 MB", "median 1e300"])
def test_dashboard_refuses_summary_values_out_of_range(case, run_copy):
    from sim.viz.dashboard import logic

    key, value = CRAFTED_SUMMARIES[case]
    s = json.loads((run_copy / "summary.json").read_text())
    s[key] = value
    _rewrite_summary(run_copy, json.dumps(s))
    with within(20), pytest.raises(RunFolderError, match=f"{key} must be"):
        logic.browse(run_copy, root=run_copy.parent)


# ------------------------------------------------------------------ output paths, interpolated


def refused_as_given(argv, capsys, w, code=2, app=main) -> str:
    """:func:`refused` without an output folder of the harness's choosing."""
    before = tree(w.root)
    with pytest.raises(SystemExit) as exc:
        app(["--config-path", str(w.configs), *argv, *FAST])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert exc.value.code == code, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert tree(w.root) == before, "something was written"
    return lines[0]


@pytest.mark.parametrize("argv, key", [
    (["hydra.job.name=../../../../esc/x"], "hydra.job.name"),
    (["hydra.job.name=/tmp/sim-hostile-esc/x"], "hydra.job.name"),
    (["hydra.job.name=${oc.env:HOME}/x"], "hydra.job.name"),
    (["hydra.job.name=.."], "hydra.job.name"),
    (["hydra.output_subdir=${hydra.job.name}", "hydra.job.name=../../esc"],
     "hydra.job.name"),
    (["hydra.output_subdir=${hydra.job.override_dirname}",
      "actors.russia.label=../../../../esc"], "hydra.output_subdir"),
    (["hydra.output_subdir=${oc.env:HOME}"], "hydra.output_subdir"),
    (["hydra.output_subdir=/tmp/sim-hostile-esc"], "hydra.output_subdir"),
    (["hydra.output_subdir=."], "hydra.output_subdir"),
    (["hydra.job_logging.handlers.file.filename=${hydra.runtime.output_dir}/"
      "${hydra.job.override_dirname}.log", "actors.russia.label=../../../../esc"],
     "hydra.job_logging.handlers.file.filename"),
    (["hydra.job_logging.handlers.file.filename=${hydra.runtime.output_dir}/../esc.log"],
     "hydra.job_logging.handlers.file.filename"),
])
def test_run_paths_are_checked_after_interpolation(argv, key, world, capsys):
    line = refused(argv, capsys, world)
    assert f"{key}:" in line, line
    assert not Path("/tmp/sim-hostile-esc").exists()
    assert not (world.root.parent / "esc").exists() and not (world.root / "esc").exists()


@pytest.mark.parametrize("argv", [
    ["hydra.sweep.subdir=${oc.env:HOME}/x", "seed=1,2"],
    ["hydra.sweep.subdir=/tmp/sim-hostile-esc/${hydra.job.num}", "seed=1,2"],
    ["hydra.sweep.subdir=${hydra.job.override_dirname}", "actors.russia.label=../../../x,y"],
    ["hydra.sweep.subdir=.", "seed=1,2"],
    ["hydra.sweep.subdir=''", "seed=1,2"],
    ["hydra.sweep.subdir=${hydra.job.num}/../..", "seed=1,2"],
])
def test_sweep_job_folders_are_checked_after_interpolation(argv, world, capsys):
    line = refused_as_given(["-m", f"hydra.sweep.dir={world.out}", *argv], capsys, world)
    assert "hydra.sweep.subdir:" in line and "inside" in line, line
    assert not Path("/tmp/sim-hostile-esc").exists()


# ------------------------------------------------------------------ existing folders


def test_a_folder_holding_the_users_own_files_is_never_overwritten(world, capsys):
    mine = world.root / "mine"
    mine.mkdir()
    (mine / "summary.json").write_text('{"my": "own numbers"}')
    line = refused_as_given([f"hydra.run.dir={mine}"], capsys, world)
    assert "hydra.run.dir:" in line and "did not write" in line and "summary.json" in line
    assert (mine / "summary.json").read_text() == '{"my": "own numbers"}'


def test_a_sweep_into_a_users_folder_is_refused(world, capsys):
    mine = world.root / "mine"
    (mine / "0").mkdir(parents=True)
    (mine / "0" / "notes.txt").write_text("keep")
    line = refused_as_given(["-m", f"hydra.sweep.dir={mine}", "seed=1,2"], capsys, world)
    assert "hydra.sweep.dir:" in line and "did not write" in line


def test_a_job_folder_holding_the_users_files_is_refused_in_our_sweep(world, capsys):
    sw = world.root / "sw"
    sw.mkdir()
    (sw / "multirun.yaml").write_text("hydra: {}\n")   # our sweep folder ...
    (sw / "1").mkdir()
    (sw / "1" / "thesis.tex").write_text("keep")      # ... but job 1's folder is not ours
    line = refused_as_given(["-m", f"hydra.sweep.dir={sw}", "seed=1,2"], capsys, world)
    assert f"{sw / '1'}" in line and "thesis.tex" in line


@pytest.mark.parametrize("value, says", [
    ("/", "root of the file system"),
    ("../../../../../../../../../..", "root of the file system"),
    ("''", "empty path"),
    ("${oc.env:HOME}", "home folder"),
    (str(CONFIG_DIR.parent), "checkout"),
    ("'~/sim-out'", "~ is not expanded"),
    ("${oc.env:NO_SUCH_VARIABLE_9f}", "cannot resolve"),
])
def test_output_folders_that_are_never_allowed(value, says, world, capsys):
    line = refused_as_given([f"hydra.run.dir={value}"], capsys, world)
    assert "hydra.run.dir:" in line and says in line, line


@pytest.mark.parametrize("value", ["/", "''", "${oc.env:HOME}", str(CONFIG_DIR.parent)])
def test_sweep_folders_that_are_never_allowed(value, world, capsys):
    line = refused_as_given(["-m", f"hydra.sweep.dir={value}", "seed=1,2"], capsys, world)
    assert "hydra.sweep.dir:" in line


def test_the_current_folder_is_not_a_run_folder_when_it_holds_files(world, capsys):
    (world.root / "cwd" / "data.csv").write_text("1,2\n")
    line = refused_as_given(["hydra.run.dir=."], capsys, world)
    assert "did not write" in line and "data.csv" in line


def test_resuming_our_own_run_and_sweep_folders_still_works(world, capsys):
    base = ["--config-path", str(world.configs), *FAST]
    for _ in range(2):
        main([*base, f"hydra.run.dir={world.out}"])          # no SystemExit: it ran
        main(["-m", *base, f"hydra.sweep.dir={world.root / 'sw'}", "seed=1,2"])
    assert (world.out / "manifest.json").is_file()
    assert pd.read_csv(world.root / "sw" / "sweep_summary.csv")["status"].tolist() == \
        ["done", "done"]


# ------------------------------------------------------------------ values written to outputs


@pytest.mark.parametrize("value", [
    "${oc.env:PEACE_SIM_SECRET}", "${oc.env:PEACE_SIM_SECRET,none}",
    "x-${oc.env:PEACE_SIM_SECRET}-y", "${hydra:runtime.cwd}", "${hydra:runtime.output_dir}",
    "${hydra:job.name}", "${now:%Y-%m-%d}", "${oc.decode:'1'}", "${hydra.runtime.cwd}",
    "${paths.root_dir}", "${oc.select:paths.root_dir}", "${hydra:runtime.version}",
])
def test_no_environment_or_runtime_resolver_in_values_written_to_outputs(value, world,
                                                                         capsys, monkeypatch):
    secret = "s3cr3t-9d1f-value"
    monkeypatch.setenv("PEACE_SIM_SECRET", secret)
    line = refused([f"actors.russia.label={value}"], capsys, world)
    assert "actors.russia.label:" in line and "environment" in line, line
    assert secret not in line and str(world.root) not in line


def test_resolvers_in_values_are_refused_by_sim_explore_too(world, capsys, monkeypatch):
    monkeypatch.setenv("PEACE_SIM_SECRET", "s3cr3t")
    line = explore_refused(["actors.russia.label=${oc.env:PEACE_SIM_SECRET}"], capsys, world)
    assert line.startswith("sim-explore: error:") and "actors.russia.label" in line


def test_a_model_value_may_still_interpolate_another_model_value(world):
    from sim.cli.run import preflight

    plan = preflight(["--config-path", str(world.configs), *FAST,
                      f"hydra.run.dir={world.out}",
                      "actors.russia.label=${actors.eu.label}"])
    assert plan is not None and plan.folder == world.out


# ------------------------------------------------------------------ launcher and sweeper settings


JOBLIB = ["-m", "seed=1,2", "hydra/launcher=joblib"]
RAY = ["-m", "seed=1,2", "hydra/launcher=ray"]


@pytest.mark.parametrize("argv, key", [
    ([*JOBLIB, "hydra.launcher.n_jobs=-1000"], "hydra.launcher.n_jobs"),
    ([*JOBLIB, "hydra.launcher.n_jobs=0"], "hydra.launcher.n_jobs"),
    ([*JOBLIB, "hydra.launcher.n_jobs=100000"], "hydra.launcher.n_jobs"),
    ([*JOBLIB, "hydra.launcher.pre_dispatch=__import__"], "hydra.launcher.pre_dispatch"),
    ([*JOBLIB, "hydra.launcher.pre_dispatch='2*n_jobs+__import__(\"os\")'"],
     "hydra.launcher.pre_dispatch"),
    ([*JOBLIB, "hydra.launcher.batch_size=0"], "hydra.launcher.batch_size"),
    ([*JOBLIB, "hydra.launcher.backend=dask"], "hydra.launcher.backend"),
    ([*JOBLIB, "hydra.launcher.prefer=gpus"], "hydra.launcher.prefer"),
    ([*JOBLIB, "hydra.launcher.require=everything"], "hydra.launcher.require"),
    ([*JOBLIB, "hydra.launcher.mmap_mode=x"], "hydra.launcher.mmap_mode"),
    ([*JOBLIB, "hydra.launcher.verbose=-1"], "hydra.launcher.verbose"),
    ([*JOBLIB, "hydra.launcher.timeout=-1"], "hydra.launcher.timeout"),
    ([*JOBLIB, "hydra.launcher.temp_folder=/tmp"], "hydra.launcher.temp_folder"),
    ([*JOBLIB, "hydra.launcher.max_nbytes=lots"], "hydra.launcher.max_nbytes"),
    (["-m", "seed=1,2", "hydra.sweeper.max_batch_size=0"], "hydra.sweeper.max_batch_size"),
    (["-m", "seed=1,2", "hydra.sweeper.max_batch_size=-3"], "hydra.sweeper.max_batch_size"),
    (["-m", "seed=1,2", "+hydra.sweeper.params.worlds=range(1,100000000)"], "sweep"),
    ([*RAY, "hydra.launcher.ray.init.address=auto",
      "+hydra.launcher.ray.init.object_store_memory=100000000"],
     "hydra.launcher.ray.init.object_store_memory"),
    ([*RAY, "hydra.launcher.ray.init.address=auto", "hydra.launcher.ray.init.num_cpus=4"],
     "hydra.launcher.ray.init.num_cpus"),
    ([*RAY, "hydra.launcher.ray.init.address=auto", "+hydra.launcher.ray.init.num_gpus=1"],
     "hydra.launcher.ray.init.num_gpus"),
    ([*RAY, "hydra.launcher.ray.init.address='http://evil.example/'"],
     "hydra.launcher.ray.init.address"),
    ([*RAY, "+hydra.launcher.ray.init.object_store_memory=1"],
     "hydra.launcher.ray.init.object_store_memory"),
    ([*RAY, "+hydra.launcher.ray.init.runtime_env.pip=[evil]"],
     "hydra.launcher.ray.init.runtime_env"),
    ([*RAY, "+hydra.launcher.ray.remote.runtime_env.env_vars.A=b"],
     "hydra.launcher.ray.remote.runtime_env"),
    ([*RAY, "hydra.launcher.ray.remote.num_cpus=-1"], "hydra.launcher.ray.remote.num_cpus"),
    ([*RAY, "+hydra.launcher.ray.evil=1"], "hydra.launcher.ray.evil"),
])
@pytest.mark.filterwarnings("ignore::UserWarning")   # Hydra's note on configs/hydra/launcher/ray
def test_launcher_and_sweeper_settings_are_one_line_naming_the_key(argv, key, world, capsys):
    with within(60):
        line = refused_as_given([*argv, f"hydra.sweep.dir={world.out}"], capsys, world)
    assert f"{key}:" in line or f"{key}." in line, line


# ------------------------------------------------------------------ limits stated up front


@pytest.mark.parametrize("sweep, jobs", [
    (["worlds=range(1,100000000,1)"], "99,999,999"),
    (["seed=range(0,1000000000)"], "1,000,000,000"),
    (["seed=range(0,1001)"], "1,001"),
    (["seed=range(0,40)", "worlds=range(100,140)"], "1,600"),
    (["incidents.base_rate=range(0,1,0.0000001)"], "10,000,000"),
])
def test_sweeps_beyond_the_job_limit_are_refused_at_once(sweep, jobs, world, capsys):
    with within(20):
        line = refused_as_given(["-m", f"hydra.sweep.dir={world.out}", *sweep], capsys, world)
    assert f"the sweep has {jobs} jobs; at most 1,000" in line, line


def test_a_sweep_beyond_the_limit_without_multirun_is_refused_at_once(world, capsys):
    with within(20):
        line = refused(["worlds=range(1,100000000,1)"], capsys, world)
    assert "at most 1,000" in line


# ------------------------------------------------------------------ facts


def _facts_file(tmp_path: Path, change) -> Path:
    import yaml

    data = yaml.safe_load((CONFIG_DIR / "backtest" / "facts.yaml").read_text())
    change(data["facts"])
    path = tmp_path / "facts.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _first_of(quantity: str, facts: list) -> dict:
    return next(f for f in facts if f["quantity"] == quantity)


FACT_CHANGES = {
    "dated 9999-12-31": (lambda fs: fs[0].update(date="9999-12-31"), "date",
                         "from 1991-01-01 to 2040-12-31"),
    "dated 1900-01-01": (lambda fs: fs[0].update(date="1900-01-01"), "date", "from 1991"),
    "window from 9999": (lambda fs: _first_of("reported_incidents", fs)["args"].update(
        start="9999-01-01"), "args.start", "to 2040-12-31"),
    "election in 9999": (lambda fs: _first_of("seats_after_election", fs)["args"].update(
        election="9999-06-07"), "args.election", "to 2040-12-31"),
    "window of 10**9 weeks": (lambda fs: _first_of("reported_incidents", fs)["args"].update(
        weeks=10**9), "args.weeks", "[1, 520]"),
    "window of 0 weeks": (lambda fs: _first_of("fatalities_in_window", fs)["args"].update(
        weeks=0), "args.weeks", "[1, 520]"),
    "window of 1.5 weeks": (lambda fs: _first_of("fatalities_in_window", fs)["args"].update(
        weeks=1.5), "args.weeks", "whole number"),
    "a 1 MB facts file": (lambda fs: fs.extend(dict(fs[0], id=f"x{i}") for i in range(5000)),
                          "file", "larger than 1,000,000 bytes"),
}


@pytest.mark.parametrize("case", list(FACT_CHANGES))
def test_sim_backtest_states_its_limits_on_facts(case, tmp_path, capsys):
    from sim.cli.backtest import main as backtest_main

    change, key, says = FACT_CHANGES[case]
    facts = _facts_file(tmp_path, change)
    with within(60):
        code = backtest_main([f"facts={facts}", "worlds=10", "origins=march_2025",
                              f"out={tmp_path / 'out'}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert str(facts) in err[0] and key in err[0] and says in err[0], err[0]
    assert not (tmp_path / "out").exists()


def test_sim_backtest_with_every_fact_before_its_origin_is_one_line(tmp_path, capsys):
    from sim.cli.backtest import main as backtest_main

    facts = _facts_file(tmp_path, lambda fs: [f.update(date="2020-01-01") for f in fs])
    with within(60):
        code = backtest_main([f"facts={facts}", "worlds=10", "origins=march_2025",
                              f"out={tmp_path / 'out'}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert "facts:" in err[0] and "march_2025 (2025-03-13)" in err[0], err[0]


# ------------------------------------------------------------------ the dashboard's server

from servers import SIM_DASHBOARD, headless_chromium, served_dashboard  # noqa: E402

needs_solara = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("solara") is None,
    reason="the `dashboard` extra is not installed")


def _asgi(scope_type: str, headers: dict) -> tuple[bool, list]:
    """Send one request through the guard of a server on 127.0.0.1:GUARD_PORT; return
    (did the application see it, what was sent back)."""
    import asyncio

    from sim.viz.dashboard.guard import HostOriginGuard, allowed_hosts

    seen: list = []
    sent: list = []

    async def app(scope, receive, send):
        seen.append(scope)

    async def receive():
        return {"type": "websocket.connect"} if scope_type == "websocket" else \
            {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    scope = {"type": scope_type, "path": "/", "method": "GET",
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(HostOriginGuard(app, allowed_hosts("127.0.0.1", GUARD_PORT))(
        scope, receive, send))
    return bool(seen), sent


GUARD_PORT = 8765
BAD_HOSTS = ["evil.example", f"evil.example:{GUARD_PORT}", f"127.0.0.1:{GUARD_PORT + 1}", "",
             f"127.0.0.1.evil.example:{GUARD_PORT}", f"localhost.evil:{GUARD_PORT}",
             "127.0.0.1", f"0.0.0.0:{GUARD_PORT}", f"192.168.1.1:{GUARD_PORT}"]
GOOD_HOSTS = [f"127.0.0.1:{GUARD_PORT}", f"localhost:{GUARD_PORT}", f"LOCALHOST:{GUARD_PORT}",
              f"[::1]:{GUARD_PORT}"]
BAD_ORIGINS = ["http://evil.example", "null", f"http://127.0.0.1:{GUARD_PORT + 1}",
               f"http://127.0.0.1:{GUARD_PORT}.evil.example", f"file://127.0.0.1:{GUARD_PORT}",
               f"http://evil.example:{GUARD_PORT}", None]
GOOD_ORIGINS = [f"http://127.0.0.1:{GUARD_PORT}", f"http://localhost:{GUARD_PORT}",
                f"http://127.0.0.1:{GUARD_PORT}/"]


@pytest.mark.parametrize("kind", ["http", "websocket"])
@pytest.mark.parametrize("host", BAD_HOSTS)
def test_guard_refuses_a_host_that_is_not_the_servers(host, kind):
    ok, sent = _asgi(kind,
                     {"host": host, "origin": f"http://127.0.0.1:{GUARD_PORT}"})
    assert not ok
    if kind == "http":
        assert sent[0]["status"] == 403 and b"not this server's address" in sent[1]["body"]
    else:
        assert len(sent) == 1 and sent[0]["type"] == "websocket.close"
        assert sent[0]["code"] == 1008 and "not this server's address" in sent[0]["reason"]


@pytest.mark.parametrize("origin", BAD_ORIGINS)
def test_guard_refuses_a_websocket_from_a_foreign_origin(origin):
    headers = {"host": f"127.0.0.1:{GUARD_PORT}"} | ({"origin": origin} if origin else {})
    ok, sent = _asgi("websocket", headers)
    assert not ok and sent[0]["type"] == "websocket.close"


@pytest.mark.parametrize("origin", [o for o in BAD_ORIGINS if o])
def test_guard_refuses_an_http_request_from_a_foreign_origin(origin):
    ok, sent = _asgi("http", {"host": f"127.0.0.1:{GUARD_PORT}",
                                                "origin": origin})
    assert not ok and sent[0]["status"] == 403 and b"Origin" in sent[1]["body"]


@pytest.mark.parametrize("host", GOOD_HOSTS)
@pytest.mark.parametrize("origin", GOOD_ORIGINS)
def test_guard_lets_its_own_pages_through(host, origin):
    origin = origin.replace(f"127.0.0.1:{GUARD_PORT}", host.lower())
    for kind in ("http", "websocket"):
        ok, sent = _asgi(kind, {"host": host, "origin": origin})
        assert ok and sent == [], (kind, host, origin)


def test_guard_bound_to_every_interface_accepts_the_machines_names_only():
    from sim.viz.dashboard.guard import allowed_hosts

    hosts = allowed_hosts("0.0.0.0", 9000, ["peace.example.org"])
    assert {"127.0.0.1:9000", "localhost:9000", "peace.example.org:9000",
            f"{socket.gethostname().lower()}:9000"} <= hosts
    assert "evil.example:9000" not in hosts and not any(h.endswith(":8765") for h in hosts)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A running sim-dashboard on a free localhost port (its results folder: one run)."""
    root = tmp_path_factory.mktemp("dash")
    results = root / "results"
    ov = ["worlds=50", "horizon_weeks=8", "quiet=true"]
    run(compose_config(ov), results / "one", ov)
    with served_dashboard(results, root) as (port, _):
        yield {"port": port, "results": results, "root": root}


def raw_request(port: int, lines: list[str]) -> str:
    """Send one raw HTTP/1.1 request to 127.0.0.1:port; return the status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode("latin-1").split("\r\n")[0]


def ws_upgrade(port: int, host: str, origin: str | None) -> str:
    import base64

    lines = ["GET /jupyter/api/kernels/00000000-0000-0000-0000-0000000000a1/channels"
             "?session_id=hostile HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16))
                                                         .decode()}",
             "Sec-WebSocket-Version: 13"] + ([f"Origin: {origin}"] if origin else [])
    return raw_request(port, lines)


@needs_solara
@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1:1",
                                  "localhost.evil.example:{port}", "attacker.test"])
def test_served_page_refuses_a_bad_host_header(host, served):
    port = served["port"]
    status = raw_request(port, ["GET / HTTP/1.1", f"Host: {host.format(port=port)}",
                                "Connection: close"])
    assert " 403 " in status + " ", status


@needs_solara
@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}"])
def test_served_page_answers_its_own_address(host, served):
    port = served["port"]
    status = raw_request(port, ["GET / HTTP/1.1", f"Host: {host.format(port=port)}",
                                "Connection: close"])
    assert " 200 " in status + " ", status


@needs_solara
@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1",
                                    "http://evil.example:{port}", None])
def test_served_websocket_from_a_foreign_origin_is_refused(origin, served):
    port = served["port"]
    status = ws_upgrade(port, f"127.0.0.1:{port}", origin and origin.format(port=port))
    assert " 403 " in status + " ", status


@needs_solara
@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}"])
def test_served_websocket_from_its_own_page_is_accepted(host, served):
    port = served["port"]
    h = host.format(port=port)
    assert " 101 " in ws_upgrade(port, h, f"http://{h}") + " "


@needs_solara
def test_served_websocket_with_a_rebound_host_is_refused(served):
    port = served["port"]
    status = ws_upgrade(port, f"evil.example:{port}", f"http://evil.example:{port}")
    assert " 403 " in status + " ", status


@needs_solara
def test_served_close_beacon_from_a_foreign_origin_is_refused(served):
    port = served["port"]
    status = raw_request(port, ["POST /_solara/api/close/x HTTP/1.1",
                                f"Host: 127.0.0.1:{port}", "Origin: http://evil.example",
                                "Content-Length: 0", "Connection: close"])
    assert " 403 " in status + " ", status


# ------------------------------------------------------------------ the dashboard's inputs


@pytest.mark.parametrize("where", ["/", "{tmp}/elsewhere", "{root}/../elsewhere",
                                   "{root}/link-out", "{root}-twin"])
def test_dashboard_opens_results_folders_only_under_its_root(where, tmp_path):
    from sim.viz.dashboard import logic

    root = tmp_path / "results"
    ov = ["worlds=40", "horizon_weeks=6", "quiet=true"]
    for d in (root / "one", tmp_path / "elsewhere", Path(f"{root}-twin")):
        run(compose_config(ov), d, ov)
    (root / "link-out").symlink_to(tmp_path / "elsewhere")
    assert logic.browse(root / "one", root=root)[0]["scenario"].tolist() == ["baseline"]
    with pytest.raises(RunFolderError, match="outside the results folder"):
        logic.browse(where.format(tmp=tmp_path, root=root), root=root)


@needs_solara
@pytest.mark.parametrize("worlds, seed, says", [
    (10**9, 0, "worlds 1000000000"), (50_000, 0, "worlds 50000"), (0, 0, "worlds 0"),
    (1000, -1, "seed -1"), (1000, 2**64, "seed 18446744073709551616"),
])
def test_dashboard_runs_only_the_world_counts_and_seeds_it_offers(worlds, seed, says,
                                                                  monkeypatch):
    from sim.viz.dashboard import app, logic

    called = []
    monkeypatch.setattr(logic, "run_ensemble", lambda *a, **k: called.append(a))
    app.worlds.value, app.seed.value = worlds, seed
    try:
        app._run()
        assert not called and app.problem.value.startswith(says), app.problem.value
    finally:
        app.worlds.value, app.seed.value, app.problem.value = logic.DEFAULT_WORLDS, 0, ""


@pytest.mark.parametrize("argv, code, says", [
    (["--results", "{file}"], 2, "--results"),
    (["--allow-host", "http://evil.example"], 2, "--allow-host"),
    (["--allow-host", "a b"], 2, "--allow-host"),
    (["--port", "{busy}"], 1, "cannot listen"),
    (["--host", "192.0.2.123"], 1, "cannot listen"),     # not an address of this machine
])
def test_sim_dashboard_bad_arguments_are_one_line(argv, code, says, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        args = [a.format(file=afile, busy=busy.getsockname()[1]) for a in argv]
        p = subprocess.run([SIM_DASHBOARD, *args], capture_output=True, text=True, timeout=120)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == code and len(lines) == 1, p.stderr
    assert says in lines[0] and "Traceback" not in p.stderr


# ------------------------------------------------------------------ in a real browser


def _chromium_missing() -> str | None:
    import importlib.util

    for mod in ("solara", "selenium"):
        if importlib.util.find_spec(mod) is None:
            return "the `dashboard` extra is not installed"
    for exe in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not Path(exe).exists():
            return f"{exe} not found: apt-get install chromium chromium-driver"
    return None


@pytest.fixture
def chromium(tmp_path):
    """Headless Chromium in which evil.example resolves to 127.0.0.1 (a rebound name)."""
    with headless_chromium("--host-resolver-rules=MAP evil.example 127.0.0.1",
                           page_load_timeout=60) as driver:
        yield driver


@pytest.mark.browser
@pytest.mark.skipif(_chromium_missing() is not None, reason=str(_chromium_missing()))
def test_browser_a_rebound_name_gets_no_page(served, chromium):
    port = served["port"]
    chromium.get(f"http://evil.example:{port}/")
    body = chromium.find_element("tag name", "body").text
    assert "not this server's address" in body and "peace-sim" not in chromium.title


@pytest.mark.browser
@pytest.mark.skipif(_chromium_missing() is not None, reason=str(_chromium_missing()))
def test_browser_a_foreign_page_cannot_open_the_dashboards_websocket(served, chromium,
                                                                     tmp_path):
    import http.server
    import threading

    from selenium.webdriver.support.ui import WebDriverWait

    port = served["port"]
    probe = ("<!doctype html><title>waiting</title><script>"
             f"const ws = new WebSocket('ws://127.0.0.1:{port}/jupyter/api/kernels/"
             "00000000-0000-0000-0000-0000000000b2/channels?session_id=probe');"
             "ws.onopen = () => { window.probe = 'opened'; };"
             "ws.onclose = () => { if (window.probe !== 'opened') "
             "window.probe = 'refused'; };</script>")
    (tmp_path / "index.html").write_text(probe)
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(tmp_path))
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        titles = {}
        # the attacker's page (another origin), then the same probe from the dashboard's
        # own origin (a control: the page's own WebSocket opens)
        # the probe's verdict is a window variable, not the title: the dashboard's own
        # page sets its title as it loads, which raced the probe's on a loaded machine
        def verdict(d):
            return d.execute_script("return window.probe || ''") in ("opened", "refused")

        chromium.get(f"http://evil.example:{site.server_address[1]}/index.html")
        WebDriverWait(chromium, 30).until(verdict)
        titles["foreign"] = chromium.execute_script("return window.probe")
        chromium.get(f"http://127.0.0.1:{port}/")
        chromium.execute_script(probe.split("<script>")[1].split("</script>")[0])
        WebDriverWait(chromium, 30).until(verdict)
        titles["own"] = chromium.execute_script("return window.probe")
    finally:
        site.shutdown()
        site.server_close()
    assert titles == {"foreign": "refused", "own": "opened"}


def test_sim_explore_checks_its_output_folder_like_sim_run(world, capsys):
    mine = world.root / "mine"
    mine.mkdir()
    (mine / "ranking.md").write_text("my own notes")
    before = tree(world.root)
    from sim.cli.explore import main as explore_main
    with pytest.raises(SystemExit) as exc:
        explore_main(["--config-path", str(world.configs), "explore.n=8", "horizon_weeks=8",
                      f"hydra.run.dir={mine}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "did not write" in err[0], err
    assert tree(world.root) == before


@pytest.mark.parametrize("argv, key", [
    (["hydra.job.name=../../esc"], "hydra.job.name"),
    (["hydra.run.dir=/"], "hydra.run.dir"),
    (["hydra.output_subdir=${oc.env:HOME}"], "hydra.output_subdir"),
])
def test_sim_explore_checks_its_paths_after_interpolation(argv, key, world, capsys):
    from sim.cli.explore import main as explore_main

    line = refused_as_given(argv, capsys, world, app=explore_main)
    assert line.startswith("sim-explore: error:") and f"{key}:" in line, line


def test_sim_explore_refuses_a_huge_sweep_at_once(world, capsys):
    with within(20):
        line = explore_refused(["seed=range(0,100000000)"], capsys, world)
    assert "at most 1,000" in line


def test_a_sweep_killed_before_hydra_recorded_it_still_resumes(world, capsys):
    from sim.cli.run import preflight

    sw = world.root / "sw"
    (sw / "0" / ".hydra").mkdir(parents=True)      # job 0 had started, nothing else yet
    plan = preflight(["--config-path", str(world.configs), "-m", *FAST,
                      f"hydra.sweep.dir={sw}", "seed=1,2"])
    assert plan is not None and plan.folder == sw
    (sw / "notes.txt").write_text("mine")
    line = refused_as_given(["-m", f"hydra.sweep.dir={sw}", "seed=1,2"], capsys, world)
    assert "notes.txt" in line
