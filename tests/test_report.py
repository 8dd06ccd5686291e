"""sim-report builds from a small run and small sweeps and writes what it promises."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from _report_fixtures import write_run, write_sweep  # noqa: E402

from sim.cli.report import main  # noqa: E402
from sim.experiment.display import points  # noqa: E402
from sim.model.rules import wilson_interval  # noqa: E402
from sim.viz import plots, report  # noqa: E402

COMMON = ["p_sign.png", "cumulative.png", "outcomes.png", "terms.png", "trajectories.png",
          "curves.png"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return write_run(tmp_path_factory.mktemp("run") / "run", worlds=200, seed=3, trace=True)


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("sweep") / "sweep",
                       [("baseline", {}), ("march_2025", {}), ("incident_spike", {})],
                       worlds=300)


@pytest.fixture(scope="module")
def numeric_sweep_dir(tmp_path_factory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("num") / "sweep",
                       [("baseline", {"incidents.base_rate": v}) for v in (0.05, 0.2, 0.5)],
                       worlds=200)


def _html_head(index: Path) -> list[str]:
    return re.findall(r"<th>(.*?)</th>", index.read_text())


def _html_cells(index: Path) -> list[list[str]]:
    text = index.read_text()
    body = re.search(r"<tbody>(.*?)</tbody>", text, re.S).group(1)
    return [re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_report_of_a_single_run(run_dir):
    index = report.build_report(run_dir)
    out = run_dir / "report"
    assert index == out / "index.html"
    for name in [*COMMON, "timeline.png", "report.md"]:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    html = index.read_text()
    for name in [*COMMON, "timeline.png"]:
        assert f'src="{name}"' in html
    md = (out / "report.md").read_text()
    assert "![P(sign) by scenario](p_sign.png)" in md
    summary = json.loads((run_dir / "summary.json").read_text())
    (cells,) = _html_cells(index)
    row = dict(zip(_html_head(index), cells, strict=True))
    assert row["Scenario"] == "baseline"
    assert row["P(sign)"] == f"{100 * summary['p_sign']:.1f}%"
    assert row["95% CI"] == f"{100 * summary['ci_low']:.1f}% – {100 * summary['ci_high']:.1f}%"
    assert row["by 12 m"] == f"{100 * summary['p_sign_12m']:.1f}%"
    assert row["Stalemate"] == f"{100 * summary['outcome_shares']['stalemate']:.1f}%"
    # the 'signed' share is P(sign) and P(sign by 36 months) is P(sign) at a 156-week
    # horizon: neither gets a column of its own
    assert summary["outcome_shares"]["signed"] == summary["p_sign"] == summary["p_sign_36m"]
    assert "Signed" not in row and "by 36 m" not in row
    assert f"| baseline | {row['P(sign)']} |" in md
    assert not (out / "differences.png").exists()  # a single run has no baseline to pair
    # the traced world's timeline is sim-run's trace.png, copied rather than drawn again
    assert (out / "timeline.png").read_bytes() == (run_dir / report.TRACE_FIGURE).read_bytes()
    spec = next(s for s in report.run_figures([report.load_run(run_dir)])
                if s.name == "timeline.png")
    assert spec.source == run_dir / report.TRACE_FIGURE
    assert "One world's path" in plots.figure_title(spec.figure)  # drawn when asked for


def test_estimates_equal_summary_json(sweep_dir):
    sweep = report.load_sweep(sweep_dir)
    est = report.estimates(sweep.runs, sweep.table)
    assert len(est) == 3
    for r, (_, row) in zip(sweep.runs, est.iterrows(), strict=True):
        s = json.loads((r.path / "summary.json").read_text())
        assert row["p_sign"] == s["p_sign"]
        assert row["ci_low"] == s["ci_low"] and row["ci_high"] == s["ci_high"]
        assert row["p_sign_12m"] == s["p_sign_12m"]
        for c in ("signed", "escalation", "government_fell", "stalemate"):
            assert row[c] == s["outcome_shares"][c]


def test_estimates_without_difference_intervals_in_the_sweep_table(sweep_dir):
    # A sweep_summary.csv with differences but no interval columns (edited by hand, or
    # cut short) gives the differences and empty intervals, not a pandas error.
    sweep = report.load_sweep(sweep_dir)
    full = report.estimates(sweep.runs, sweep.table)
    est = report.estimates(sweep.runs, sweep.table.drop(columns=["diff_ci_low",
                                                                 "diff_ci_high"]))
    pd.testing.assert_series_equal(est["diff"], full["diff"])
    assert full["diff_ci_low"].notna().sum() == 2
    assert est["diff_ci_low"].isna().all() and est["diff_ci_high"].isna().all()


def test_sweep_labels_and_baseline(sweep_dir):
    sweep = report.load_sweep(sweep_dir)
    assert [r.label for r in sweep.runs] == ["baseline", "march_2025", "incident_spike"]
    assert sweep.swept == ["scenario"]
    assert sweep.baseline == "baseline"
    diffs = report.paired_differences(sweep)
    csv = pd.read_csv(sweep_dir / "sweep_summary.csv")
    assert list(diffs["label"]) == ["march_2025", "incident_spike"]
    assert list(diffs["diff"]) == list(csv["diff_vs_baseline"].iloc[1:])


def test_scenario_by_value_sweep_pairs_within_each_value(tmp_path):
    """A 2x2 grid (scenario x base rate): every comparison in the figures is with the
    baseline job at the same base rate, not with one baseline for all. The constitution
    passed on every job (PASSED_GATE): at the merged baseline's gate almost no world signs
    within 60 weeks, so the base rate could not show in P(sign) at all."""
    gate = {"domestic.constitution.stage": "passed"}
    path = write_sweep(tmp_path / "sweep",
                       [(s, {"incidents.base_rate": b, **gate})
                        for s in ("baseline", "incident_spike") for b in (0.05, 0.6)],
                       worlds=300, horizon_weeks=60)
    sweep = report.load_sweep(path)
    assert [r.label for r in sweep.runs] == [
        "baseline, base_rate=0.05", "baseline, base_rate=0.6",
        "incident_spike, base_rate=0.05", "incident_spike, base_rate=0.6"]
    assert sweep.baseline == "baseline"
    assert report.baseline_pairs(sweep) == {
        "incident_spike, base_rate=0.05": "baseline, base_rate=0.05",
        "incident_spike, base_rate=0.6": "baseline, base_rate=0.6"}
    assert list(report.paired_differences(sweep)["label"]) == [
        "incident_spike, base_rate=0.05", "incident_spike, base_rate=0.6"]
    specs = {s.name: s for s in report.run_figures(sweep.runs, sweep)}
    ax = specs["sweep.png"].figure.axes[0]
    assert [ln.get_label() for ln in ax.get_lines()] == ["baseline", "incident_spike"]
    signed = {r.label: r.worlds.set_index("world")["signed"].astype(float)
              for r in sweep.runs}
    spike, same, other = ("incident_spike, base_rate=0.6", "baseline, base_rate=0.6",
                          "baseline, base_rate=0.05")
    right = float((signed[spike] - signed[same]).mean())
    wrong = float((signed[spike] - signed[other]).mean())
    assert abs(right - wrong) > 0.01  # the base rate matters: the pairing is visible
    # differences figure: the plotted difference is the same-value paired difference
    diff_ax = specs["differences.png"].figure.axes[0]
    plotted = {c.get_label(): float(c.lines[0].get_xdata()[0]) for c in diff_ax.containers}
    assert plotted[f"{spike} (vs {same})"] == pytest.approx(right, abs=1e-6)
    assert "same other swept values" in specs["differences.png"].caption
    # trajectory panels: each run against the baseline at its own value
    fig = specs["trajectories_incidents.png"].figure
    panels = {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_visible()}
    assert set(panels) == {f"{spike}\nvs {same}",
                           "incident_spike, base_rate=0.05\nvs baseline, base_rate=0.05"}
    ref_line, line = panels[f"{spike}\nvs {same}"].get_lines()
    steps = {r.label: r.steps for r in sweep.runs}
    np.testing.assert_array_equal(ref_line.get_ydata(), steps[same]["incidents_mean"])
    assert not np.allclose(ref_line.get_ydata(), steps[other]["incidents_mean"])
    np.testing.assert_array_equal(line.get_ydata(), steps[spike]["incidents_mean"])


def test_incident_panel_is_the_mean_rate_per_active_world_week(tmp_path):
    """The incidents line is the mean count over the worlds active in each week and its
    band the 95% interval of that mean, both as computed directly from every world's
    weekly record (trace.parquet); a run of three blocks also checks that the blocks'
    weekly columns combine exactly."""
    path = write_run(tmp_path / "r", worlds=400, seed=2, horizon_weeks=80, trace=True,
                     overrides={"block_worlds": 150})
    run = report.load_run(path)
    tr = run.trace.sort_values(["world", "week"])
    # a world is active in a week unless it signed or escalated in an earlier week
    before = tr.groupby("world")["status"].shift(1).fillna(0)
    act = tr[before == 0]
    by_week = act.groupby("week")["incidents"]
    mean, sd, n = by_week.mean(), by_week.std(ddof=1), by_week.size()
    assert n.iloc[-1] < 400  # some worlds have left: the rate is not over all worlds
    spec = next(s for s in report.run_figures([run]) if s.name == "trajectories.png")
    ax = next(a for a in spec.figure.axes if a.get_title(loc="left") == "Border incidents")
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), mean.to_numpy(), rtol=1e-6)
    st = report.trajectory_steps(run)
    half = 1.959963984540054 * (sd / np.sqrt(n)).to_numpy()
    np.testing.assert_allclose(st["incidents_ci_high"], mean.to_numpy() + half, rtol=1e-5)
    np.testing.assert_allclose(st["incidents_ci_low"],
                               np.maximum(mean.to_numpy() - half, 0), rtol=1e-5, atol=1e-9)
    (band,) = ax.collections
    ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
    assert ys.max() == pytest.approx(st["incidents_ci_high"].max(), rel=1e-6)
    assert "worlds still active in each week" in spec.caption


def test_every_caption_names_the_worlds_covered_and_what_was_held_fixed(sweep_dir, run_dir):
    for path in (sweep_dir, run_dir):
        data = report.load(path)
        runs, sweep = (data.runs, data) if isinstance(data, report.SweepData) else ([data], None)
        fixed = report.held_fixed(runs, sweep.swept if sweep else [])
        specs = report.run_figures(runs, sweep)
        for s in specs:
            assert "Worlds covered: " in s.caption and f"Held fixed: {fixed}." in s.caption, \
                s.name
        caps = {s.name: s.caption.split("Worlds covered: ")[1] for s in specs}
        n = runs[0].n_worlds
        assert caps["p_sign.png"].startswith(f"all {n:,} worlds")
        assert caps["terms.png"].startswith("signed worlds only")
        traj = caps["trajectories.png"]
        assert traj.startswith("worlds still active in each week")
        assert re.search(r"in the last week \d+% .*of worlds are still active", traj)
    html = report.build_report(sweep_dir).read_text()
    assert html.count("Worlds covered: ") == len(list((sweep_dir / "report").glob("*.png")))


def test_report_of_a_sweep(sweep_dir):
    index = report.build_report(sweep_dir)
    out = sweep_dir / "report"
    for name in [*COMMON, "differences.png", "report.md"]:
        assert (out / name).is_file(), name
    assert not (out / "sweep.png").exists()  # scenarios are not a numeric sweep
    head, rows = _html_head(index), _html_cells(index)
    assert len(rows) == 3
    csv = pd.read_csv(sweep_dir / "sweep_summary.csv").set_index("job")
    by_label = {r[0]: dict(zip(head, r, strict=True)) for r in rows}
    assert by_label["march_2025"]["P(sign)"] == f"{100 * csv.loc[1, 'p_sign']:.1f}%"
    diff = "Δ vs baseline (pp)"
    # the sweep summary's paired difference, printed by the one display rule (an exact
    # zero, as at the merged baseline's 300 worlds, is "0.0", never "+0.0")
    assert by_label["incident_spike"][diff] == points(csv.loc[2, "diff_vs_baseline"], unit="")
    assert by_label["baseline"][diff] == "–"  # the baseline is not compared with itself
    # sorted by P(sign), highest first
    ps = [float(r[1].rstrip("%")) for r in rows]
    assert ps == sorted(ps, reverse=True)
    # no two columns say the same thing, here or in report.md
    assert len(set(head)) == len(head)
    columns = [tuple(col) for col in zip(*rows, strict=True)]
    assert len(set(columns)) == len(columns), head
    md = (out / "report.md").read_text()
    md_head = next(ln for ln in md.splitlines() if ln.startswith("| Scenario"))
    assert [c.strip() for c in md_head.strip("|").split("|")] == head


def test_report_of_a_numeric_sweep(numeric_sweep_dir):
    report.build_report(numeric_sweep_dir)
    out = numeric_sweep_dir / "report"
    assert (out / "sweep.png").is_file()
    assert not (out / "differences.png").exists()  # no baseline job
    assert "No baseline job" in (out / "report.md").read_text()
    specs = report.run_figures(*(lambda s: (s.runs, s))(report.load_sweep(numeric_sweep_dir)))
    fig = next(s.figure for s in specs if s.name == "sweep.png")
    assert fig.axes[0].get_xlabel() == "incidents.base_rate (incidents/week)"


def test_two_key_sweep_gives_a_heat_map(tmp_path):
    path = write_sweep(tmp_path / "sweep",
                       [("baseline", {"incidents.base_rate": b, "incidents.decay_weeks": d})
                        for b in (0.05, 0.3) for d in (2.0, 5.0)],
                       worlds=100, horizon_weeks=60)
    specs = report.run_figures(*(lambda s: (s.runs, s))(report.load_sweep(path)))
    heat = next(s.figure for s in specs if s.name == "sweep_heatmap.png")
    assert heat.axes[0].images[0].get_array().shape == (2, 2)


def test_sweep_without_summary_csv_is_rebuilt_from_jobs(tmp_path):
    path = write_sweep(tmp_path / "sweep", [("baseline", {}), ("march_2025", {})],
                       worlds=100, horizon_weeks=60)
    (path / "sweep_summary.csv").unlink()
    sweep = report.load_sweep(path)
    assert list(sweep.table["label"]) == ["baseline", "march_2025"]
    assert sweep.baseline == "baseline"
    d = report.paired_differences(sweep)  # computed from paired worlds
    assert len(d) == 1 and d["ci_low"].iloc[0] <= d["diff"].iloc[0] <= d["ci_high"].iloc[0]


def test_trace_figure_written_into_the_run_folder(run_dir):
    # sim-run's job writes it after the run folder when trace=true
    assert (run_dir / report.TRACE_FIGURE).stat().st_size > 10_000
    path = report.write_trace_figure(run_dir)
    assert path == run_dir / report.TRACE_FIGURE and path.stat().st_size > 10_000
    fig = report.trace_figure(report.load_run(run_dir), world=1)
    assert "world 1" in fig.texts[1].get_text()


def test_cli_prints_index_path(run_dir, capsys):
    assert main([str(run_dir)]) == 0
    assert capsys.readouterr().out.strip() == str(run_dir / "report" / "index.html")


@pytest.mark.parametrize("kind", ["missing", "empty", "file"])
def test_cli_bad_path_one_line_exit_2(tmp_path, kind):
    target = tmp_path / "nothing"
    if kind == "empty":
        target.mkdir()
    elif kind == "file":
        target.write_text("x")
    proc = subprocess.run([sys.executable, "-m", "sim.cli.report", str(target)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(target) in lines[0]
    assert "expected" in lines[0] and "Traceback" not in proc.stderr
    assert not (target / "report").exists()


def test_many_scenarios_get_small_multiples_and_stale_figures_go(tmp_path):
    scen = ["baseline", "march_2025", "incident_spike", "russia_spoiler", "nash_rule"]
    path = write_sweep(tmp_path / "sweep", [(s, {}) for s in scen], worlds=60,
                       horizon_weeks=30)
    (path / "report").mkdir()
    (path / "report" / "trajectories.png").write_bytes(b"stale")
    report.build_report(path)
    out = path / "report"
    assert not (out / "trajectories.png").exists()
    for name in ("tension", "mobilisation", "incidents", "support"):
        assert (out / f"trajectories_{name}.png").is_file()
    assert len(_html_cells(out / "index.html")) == len(scen)


def test_gate_curves_come_from_the_per_world_draws(tmp_path):
    """The curves figure bins worlds by their own draw of the referendum's yes share and
    their expected opposition votes: P(sign) rises along the yes share, and a scenario
    that fixes the yes share has no curve for it."""
    path = write_run(tmp_path / "r", worlds=4000, seed=1)
    run = report.load_run(path)
    df = report.gate_curves([run])
    assert set(df["panel"]) == {"yes_share", "opposition_votes"}
    ys = df[df["panel"] == "yes_share"].sort_values("value")
    assert ys["n"].sum() == 4000 and len(ys) == 10
    # P(sign) rises along the yes share: the top bin's 95 % interval lies above the
    # bottom bin's (400 worlds a bin; at seed 1 about 0 of 400 and 21 of 400 at the merged
    # baseline, whose gate leaves P(sign) near 0.007: the old bar of 0.15 assumed 0.09)
    lo_bin = wilson_interval(round(ys["p_sign"].iloc[0] * ys["n"].iloc[0]), ys["n"].iloc[0])
    hi_bin = wilson_interval(round(ys["p_sign"].iloc[-1] * ys["n"].iloc[-1]),
                             ys["n"].iloc[-1])
    assert hi_bin[0] > lo_bin[1], (lo_bin, hi_bin)
    # each bin's estimate is the share of that bin's worlds that signed
    w = run.worlds
    top = w["param.domestic.referendum.yes_share"] >= w["param.domestic.referendum.yes_share"
                                                       ].quantile(0.9)
    assert ys["p_sign"].iloc[-1] == pytest.approx(w.loc[top, "signed"].mean(), abs=0.01)
    fig = next(s.figure for s in report.run_figures([run]) if s.name == "curves.png")
    assert len(fig.axes) == 2
    fixed = report.load_run(write_run(tmp_path / "f", worlds=300, seed=1, overrides={
        "domestic.referendum.yes_share": 0.5}))
    assert set(report.gate_curves([fixed])["panel"]) == {"opposition_votes"}
