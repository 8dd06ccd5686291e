"""Sweeps: the sweep summary, paired differences, launchers and resuming."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli.compose import compose_config
from sim.cli.run import job_overrides, run
from sim.experiment.runs import paired_difference, write_sweep_summary

SIM_RUN = str(Path(sys.executable).with_name("sim-run"))
FAST = ["worlds=400", "horizon_weeks=52", "quiet=true"]


def fake_sweep(sweep_dir: Path, argv: list[str]) -> list[list[str]]:
    """Run a sweep's jobs in process, as Hydra would, into numbered folders."""
    jobs = job_overrides(argv, multirun=True)
    for i, ov in enumerate(jobs):
        run(compose_config(ov), sweep_dir / str(i), ov)
    return jobs


def test_paired_difference_known_answer():
    a = pd.DataFrame({"world": range(6), "signed": [1, 1, 0, 0, 1, 0]})
    b = pd.DataFrame({"world": range(6), "signed": [1, 0, 0, 0, 0, 0]})
    d = np.array([0, 1, 0, 0, 1, 0])
    mean, lo, hi = paired_difference(a, b)
    se = d.std(ddof=1) / np.sqrt(6)
    assert mean == pytest.approx(1 / 3)
    assert (lo, hi) == pytest.approx((1 / 3 - 1.959964 * se, 1 / 3 + 1.959964 * se))


def test_paired_difference_matches_worlds_by_id():
    a = pd.DataFrame({"world": [0, 1, 2, 3], "signed": [1, 1, 1, 1]})
    b = pd.DataFrame({"world": [2, 3], "signed": [0, 1]})   # a shorter (precision) run
    assert paired_difference(a, b)[0] == pytest.approx(0.5)


def test_job_overrides_mirror_the_basic_sweeper():
    jobs = job_overrides(["scenario=baseline,russia_spoiler", "incidents.base_rate=0.5,1",
                          "worlds=10"], multirun=True)
    assert jobs == [
        ["scenario=baseline", "incidents.base_rate=0.5", "worlds=10"],
        ["scenario=baseline", "incidents.base_rate=1", "worlds=10"],
        ["scenario=russia_spoiler", "incidents.base_rate=0.5", "worlds=10"],
        ["scenario=russia_spoiler", "incidents.base_rate=1", "worlds=10"],
    ]


def test_sweep_summary_paired_differences_against_the_baseline_job(tmp_path):
    # the full horizon and 2,000 worlds, on the channel both scenarios claim (their
    # expect: blocks' under: support frozen, the constitution passed): at the merged
    # baseline's gate (P(sign) about 0.007) the EU's incentives do not show
    # (-0.0007 low end at 2,000 worlds), with the gate passed both differences resolve
    jobs = fake_sweep(tmp_path, ["scenario=baseline,russia_spoiler,western_incentives",
                                 "worlds=2000", "quiet=true", "domestic.support.frozen=true",
                                 "domestic.constitution.stage=passed"])
    table = write_sweep_summary(tmp_path, jobs)
    assert (tmp_path / "sweep_summary.csv").exists()
    csv = pd.read_csv(tmp_path / "sweep_summary.csv")
    assert list(csv["job"]) == [0, 1, 2]
    for col in ("job", "overrides", "scenario", "worlds", "seed", "p_sign", "ci_low",
                "ci_high", "p_sign_12m", "p_sign_24m", "p_sign_36m", "share_signed",
                "share_escalation", "share_government_fell", "share_stalemate",
                "median_weeks_to_sign", "diff_vs_baseline", "diff_ci_low", "diff_ci_high"):
        assert col in csv.columns, col
    assert list(table["scenario"]) == ["baseline", "russia_spoiler", "western_incentives"]
    assert table.loc[0, "diff_vs_baseline"] == 0.0
    for i in (1, 2):
        row = table.loc[i]
        # same worlds, so the paired mean difference is the difference of the estimates
        assert row["diff_vs_baseline"] == pytest.approx(row["p_sign"] - table.loc[0, "p_sign"])
        assert row["diff_ci_low"] <= row["diff_vs_baseline"] <= row["diff_ci_high"]
        # pairing (common random numbers) beats comparing two independent estimates
        unpaired = np.hypot(row["ci_high"] - row["ci_low"],
                            table.loc[0, "ci_high"] - table.loc[0, "ci_low"])
        assert row["diff_ci_high"] - row["diff_ci_low"] < unpaired
    assert table.loc[1, "diff_ci_high"] < 0 < table.loc[2, "diff_ci_low"]


def test_sweep_summary_pairs_within_each_value_of_the_other_swept_keys(tmp_path):
    jobs = fake_sweep(tmp_path, ["scenario=baseline,russia_spoiler",
                                 "incidents.base_rate=0.05,1", *FAST])
    t = write_sweep_summary(tmp_path, jobs).set_index("job")
    assert list(t["incidents.base_rate"]) == [0.05, 1, 0.05, 1]
    assert t.loc[2, "diff_vs_baseline"] == pytest.approx(t.loc[2, "p_sign"]
                                                           - t.loc[0, "p_sign"])
    assert t.loc[3, "diff_vs_baseline"] == pytest.approx(t.loc[3, "p_sign"]
                                                           - t.loc[1, "p_sign"])


def test_numeric_sweep_without_scenarios_has_no_baseline_job(tmp_path):
    jobs = fake_sweep(tmp_path, ["incidents.base_rate=0.05,1", *FAST])
    t = write_sweep_summary(tmp_path, jobs)
    assert t["diff_vs_baseline"].isna().all() and (t["status"] == "done").all()
    assert t.loc[1, "p_sign"] <= t.loc[0, "p_sign"]   # more incidents never help


def test_sweep_summary_marks_missing_jobs(tmp_path):
    jobs = fake_sweep(tmp_path, ["scenario=baseline,russia_spoiler", *FAST])
    (tmp_path / "1" / "summary.json").unlink()
    t = write_sweep_summary(tmp_path, jobs)
    assert list(t["status"]) == ["done", "missing"] and np.isnan(t.loc[1, "p_sign"])


# ------------------------------------------------------------------ the real command line


def sim_run(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    p = subprocess.run([SIM_RUN, *argv], cwd=cwd, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stderr
    return p


SWEEP = ["-m", "scenario=baseline,russia_spoiler", "incidents.base_rate=0.05,1",
         "worlds=300", "horizon_weeks=52", "seed=7"]
ESTIMATES = ["p_sign", "ci_low", "ci_high", "p_sign_12m", "share_signed",
             "share_escalation", "diff_vs_baseline", "diff_ci_low", "diff_ci_high"]


@pytest.mark.slow
def test_multirun_basic_and_joblib_launchers_give_identical_numbers(tmp_path):
    basic, joblib = tmp_path / "basic", tmp_path / "joblib"
    p = sim_run(*SWEEP, f"hydra.sweep.dir={basic}", cwd=tmp_path)
    assert "sweep_summary.csv" in p.stdout
    sim_run(*SWEEP, f"hydra.sweep.dir={joblib}", "hydra/launcher=joblib",
            "hydra.launcher.n_jobs=2", "quiet=true", cwd=tmp_path)
    a = pd.read_csv(basic / "sweep_summary.csv")
    b = pd.read_csv(joblib / "sweep_summary.csv")
    assert len(a) == 4 and (a["seed"] == 7).all() and (a["status"] == "done").all()
    assert "incidents.base_rate" in a.columns
    pd.testing.assert_frame_equal(a[ESTIMATES], b[ESTIMATES])
    for job in range(4):
        pd.testing.assert_frame_equal(pd.read_parquet(basic / str(job) / "worlds.parquet"),
                                      pd.read_parquet(joblib / str(job) / "worlds.parquet"))
        s = json.loads((basic / str(job) / "summary.json").read_text())
        assert s["overrides"] == a.loc[job, "overrides"].split()


@pytest.mark.slow
def test_interrupted_sweep_resumes_without_redoing_finished_jobs(tmp_path):
    sw = tmp_path / "sw"
    argv = ["-m", "scenario=baseline,russia_spoiler,us_disengages", "worlds=300",
            "horizon_weeks=52", "quiet=true", f"hydra.sweep.dir={sw}"]
    sim_run(*argv, cwd=tmp_path)
    before = pd.read_csv(sw / "sweep_summary.csv")
    # interrupt: job 2 never finished (no summary.json), the sweep summary was not written
    (sw / "2" / "summary.json").unlink()
    (sw / "sweep_summary.csv").unlink()
    kept = {j: (sw / str(j) / "worlds.parquet").stat().st_mtime_ns for j in (0, 1)}
    redo = (sw / "2" / "worlds.parquet").stat().st_mtime_ns
    sim_run(*argv, cwd=tmp_path)
    for j, mtime in kept.items():
        assert (sw / str(j) / "worlds.parquet").stat().st_mtime_ns == mtime, "skipped"
    assert (sw / "2" / "worlds.parquet").stat().st_mtime_ns != redo, "re-run"
    after = pd.read_csv(sw / "sweep_summary.csv")
    pd.testing.assert_frame_equal(before, after)


def test_a_model_code_change_invalidates_finished_jobs(monkeypatch):
    """Resume must not reuse results computed by different model code."""
    import sim.experiment.runs as run_mod

    cfg = {"scenario": "baseline", "seed": 0, "worlds": 10}
    before = run_mod.config_hash(cfg)
    assert run_mod.config_hash(cfg) == before
    monkeypatch.setattr(run_mod, "model_fingerprint", lambda: "changed-code")
    assert run_mod.config_hash(cfg) != before


def test_blocks_combine_shares_exactly_and_series_over_active_worlds():
    import numpy as np

    from sim import load_params, simulate
    from sim.experiment.runs import simulate_blocks

    p = load_params("baseline")
    out = simulate_blocks(p, 1200, 4, 104, 600, progress=False)
    o = out.outcomes
    weeks = out.steps["week"].to_numpy()
    signed_by = [((o["sign_week"] >= 0) & (o["sign_week"] <= w)).mean() for w in weeks]
    assert np.allclose(out.steps["p_signed"], signed_by)
    blocks = [simulate(p, worlds=600, seed=4, horizon_weeks=104, block=b) for b in (0, 1)]
    active = [b.steps["p_active"].to_numpy() * 600 for b in blocks]
    total = sum(np.nan_to_num(b.steps["tension_mean"].to_numpy()) * a
                for b, a in zip(blocks, active, strict=True))
    assert np.allclose(out.steps["tension_mean"], total / sum(active))


@pytest.mark.slow
@pytest.mark.parametrize("toggle", [["quiet=true"], ["trace=true"], ["executor=process",
                                                                     "workers=2"]])
def test_resume_with_a_run_only_key_changed_keeps_every_estimate(tmp_path, toggle):
    """Run-only keys never change the numbers: resuming with one of them changed skips
    the finished jobs (or, for a trace it lacks, re-runs them to the same numbers) and
    the sweep summary keeps every estimate and paired difference."""
    sw = tmp_path / "sw"
    argv = ["-m", "scenario=baseline,russia_spoiler", "worlds=300", "horizon_weeks=40",
            "seed=5", f"hydra.sweep.dir={sw}"]
    sim_run(*argv, cwd=tmp_path)
    before = pd.read_csv(sw / "sweep_summary.csv")
    kept = {j: (sw / str(j) / "worlds.parquet").stat().st_mtime_ns for j in (0, 1)}
    sim_run(*argv, *toggle, cwd=tmp_path)
    after = pd.read_csv(sw / "sweep_summary.csv")
    assert (after["status"] == "done").all(), after
    cols = ["job", "scenario", *[c for c in after.columns if c.startswith(
        ("p_sign", "ci_", "share_", "diff"))]]
    assert after["diff_vs_baseline"].notna().all()  # the baseline job against itself: 0
    pd.testing.assert_frame_equal(before[cols], after[cols])
    redone = [(sw / str(j) / "worlds.parquet").stat().st_mtime_ns != m
              for j, m in kept.items()]
    # a trace the finished jobs lack is made (same numbers); otherwise nothing re-runs
    assert redone == ([True, True] if toggle == ["trace=true"] else [False, False])


def test_sweep_progress_counts_finished_job_folders(tmp_path):
    from sim.cli.run import Plan, SweepProgress

    plan = Plan([["scenario=baseline"], ["scenario=russia_spoiler"], ["scenario=x"]],
                tmp_path, multirun=True, quiet=False)
    fake_sweep(tmp_path, ["scenario=baseline,russia_spoiler", *FAST])
    (tmp_path / "2").mkdir()   # a job under way: no manifest yet
    assert SweepProgress(plan).done() == 2


def test_sweep_progress_writes_whole_lines_that_nothing_can_run_into(tmp_path, capsys):
    """Jobs print their tables to the same terminal: each progress report is one whole
    line (no carriage return, no bar left on the line for the next output to join)."""
    from sim.cli.run import MANIFEST, Plan, SweepProgress

    plan = Plan([[f"scenario=s{i}"] for i in range(3)], tmp_path, multirun=True,
                quiet=False)
    with SweepProgress(plan, interval=0.02):
        for i in range(3):
            (tmp_path / str(i)).mkdir()
            (tmp_path / str(i) / MANIFEST).write_text("{}")
            time.sleep(0.3)
            print(f"scenario s{i}")   # what a job prints when it finishes
    err = capsys.readouterr().err
    assert "\r" not in err and err.endswith("\n")
    lines = err.splitlines()
    # one whole line per change seen (a loaded machine may merge two changes into one)
    counts = [int(ln.split("/")[0].removeprefix("sweep: ")) for ln in lines]
    assert all(ln.startswith("sweep: ") and "/3 jobs finished, " in ln for ln in lines)
    assert counts == sorted(set(counts)) and counts[-1] == 3
    assert all("left" in ln for ln in lines[:-1]) and "left" not in lines[-1]
