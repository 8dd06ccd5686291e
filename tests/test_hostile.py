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
    from sim.experiment.memory import USABLE_SHARE, available_bytes, estimate_bytes

    budget = available_bytes() * USABLE_SHARE   # moves a little with other processes
    total = 100_000_000
    assert estimate_bytes(total, largest, 8) <= 1.02 * budget
    assert estimate_bytes(total, int(largest * 1.05) + 1, 8) > budget


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
    from sim.experiment.memory import BASE, estimate_bytes
    from sim.experiment.runs import simulate_blocks

    p = load_params("baseline")
    tracemalloc.start()
    simulate_blocks(p, worlds, 0, weeks, worlds, trace=trace, progress=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    est = estimate_bytes(worlds, worlds, weeks, trace, streamed=False) - BASE  # rows kept
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
    disk = tmpfs("filling", "64m")   # room for the checks (2 jobs x 20,000 worlds)
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
