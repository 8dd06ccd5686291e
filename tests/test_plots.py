"""Plot functions return figures with the expected series, labels and titles."""

from __future__ import annotations

import ast
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from sim import load_params, simulate
from sim.viz import plots  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame({
        "label": ["baseline", "incident_spike", "western_incentives"],
        "p_sign": [0.30, 0.12, 0.45],
        "ci_low": [0.27, 0.10, 0.42],
        "ci_high": [0.33, 0.14, 0.48],
        "signed": [0.30, 0.12, 0.45],
        "escalation": [0.02, 0.20, 0.01],
        "government_fell": [0.08, 0.10, 0.04],
        "stalemate": [0.60, 0.58, 0.50],
    })


def _yticks(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def test_plot_modules_import_neither_hydra_nor_pyplot():
    for name in ("plots.py", "report.py"):
        tree = ast.parse((ROOT / "sim" / "viz" / name).read_text())
        mods = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        mods |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not any(m and (m.startswith("hydra") or m == "matplotlib.pyplot")
                       for m in mods), name


def test_p_sign_by_scenario_sorted_with_intervals(table):
    fig = plots.p_sign_by_scenario(table, horizon_weeks=156, subtitle="2,000 worlds; seed 0")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 3
    # highest at the top: y tick order bottom->top is ascending P(sign)
    assert _yticks(ax) == ["incident_spike", "baseline", "western_incentives"]
    assert sorted(c.get_label() for c in bars) == sorted(table["label"])
    assert "156 weeks" in plots.figure_title(fig)
    assert plots.figure_subtitle(fig) == "2,000 worlds; seed 0"
    assert "%" in ax.get_xlabel() and "95%" in ax.get_xlabel()
    # the annotation carries the estimate and interval
    assert any("45.0%" in t.get_text() and "42.0%" in t.get_text() for t in ax.texts)


def test_colours_are_shared_across_figures(table):
    cols = plots.colours(["western_incentives", "baseline", "incident_spike"])
    fig = plots.p_sign_by_scenario(table, colors=cols)
    bars = {c.get_label(): c.lines[0].get_color() for c in fig.axes[0].containers}
    assert bars == cols


def test_cumulative_signing_one_line_and_band_per_scenario():
    weeks = np.arange(156)
    rows = []
    for lab, rate in (("a", 0.002), ("b", 0.004)):
        p = 1 - np.exp(-rate * weeks)
        rows.append(pd.DataFrame({"label": lab, "week": weeks, "p_signed": p,
                                  "ci_low": p * 0.9, "ci_high": p * 1.1}))
    fig = plots.cumulative_signing(pd.concat(rows), subtitle="fixed")
    (ax,) = fig.axes
    lines = [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]
    assert len(lines) == 2
    assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("b:") and legend[1].startswith("a:")  # highest first
    assert ax.get_xlabel() == "Weeks since the scenario's start"
    assert "%" in ax.get_ylabel()


def test_outcome_classes_stacked_to_one(table):
    fig = plots.outcome_classes(table, horizon_weeks=156)
    (ax,) = fig.axes
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [b.get_label() for b in bars] == [v[0] for v in plots.OUTCOME_STYLE.values()]
    widths = np.array([[p.get_width() for p in b] for b in bars]).sum(axis=0)
    np.testing.assert_allclose(widths, 1.0)
    assert _yticks(ax)[-1] == "western_incentives"  # most signed at the top


def _terms_case():
    rng = np.random.default_rng(0)
    issues = ["constitution", "transit_regime", "humanitarian"]
    rows = [{"label": lab, "world": w, "issue": i,
             # nearly every signed world has the constitution changed: a box at the edge
             "value": (0.9 if lab == "opposition_surge" and w % 4 == 0 else 1.0)
             if i == "constitution" else rng.uniform()}
            for lab in ("baseline", "opposition_surge") for w in range(30) for i in issues]
    # ideal points at the edge too, where they used to hide the constitution's boxes
    ideal = {"armenia": dict.fromkeys(issues, 1.0), "azerbaijan": dict.fromkeys(issues, 0.9)}
    labels = {i: {"label": f"{i.title()} with a long display name that used to be cut",
                  "zero": f"a long meaning of zero for {i}, which must be printed in full",
                  "one": f"a long meaning of one for {i}, which must be printed in full"}
              for i in issues}
    return pd.DataFrame(rows), ideal, issues, labels


def test_signed_terms_boxes_and_ideal_points():
    terms, ideal, issues, labels = _terms_case()
    fig = plots.signed_terms(terms, ideal, issues=issues, issue_labels=labels,
                             actor_labels={"armenia": "Armenia", "azerbaijan": "Azerbaijan"},
                             runs=["baseline", "opposition_surge", "no_deal"])
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_gid() for ax in axes] == issues
    for ax, issue in zip(axes, issues, strict=True):
        boxes = [p for p in ax.patches if p.get_gid() in ("baseline", "opposition_surge")]
        assert [b.get_gid() for b in boxes] == ["baseline", "opposition_surge"]
        assert [c.get_label() for c in ax.collections if c.get_label() in (
            "Armenia", "Azerbaijan")] == ["Armenia", "Azerbaijan"]
        # the numbers beside each box are its median and 25-75 % range
        values = [t.get_text() for t in ax.texts if t.get_gid() == "value"]
        for lab, text in zip(("baseline", "opposition_surge"), values, strict=False):
            v = terms.loc[(terms["label"] == lab) & (terms["issue"] == issue), "value"]
            q10, q25, med, q75, q90 = np.percentile(v, [10, 25, 50, 75, 90])
            assert text == (f"all {med:.2f}" if q90 - q10 < plots.FLAT_RANGE
                            else f"{med:.2f} (10–90%: {q10:.2f}–{q90:.2f})"
                            if q75 - q25 < plots.FLAT_RANGE
                            else f"{med:.2f} [{q25:.2f}–{q75:.2f}]")
        assert values[2] == "no signed world"
    assert _yticks(axes[0]) == ["no_deal (0 signed)", "opposition_surge (30 signed)",
                                "baseline (30 signed)"]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["ideal point: Armenia", "ideal point: Azerbaijan"]


def test_signed_terms_labels_in_full_and_nothing_hidden():
    """Issue labels and the meanings of 0 and 1 are printed whole; every box lies inside
    its axes, and no ideal-point marker sits on a box (they have a strip of their own)."""
    terms, ideal, issues, labels = _terms_case()
    fig = plots.signed_terms(terms, ideal, issues=issues, issue_labels=labels)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    axes = [ax for ax in fig.axes if ax.get_visible()]
    for ax, issue in zip(axes, issues, strict=True):
        title = ax.get_title(loc="left")
        assert title.replace("\n", " ") == labels[issue]["label"]
        xlabel = ax.get_xlabel().replace("\n", " ")
        assert f"0: {labels[issue]['zero']}" in xlabel
        assert f"1: {labels[issue]['one']}" in xlabel
        assert "…" not in title + xlabel
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        boxes = [p for p in ax.patches if p.get_gid() in ("baseline", "opposition_surge")]
        assert boxes
        marker_y = [float(y) for c in ax.collections if c.get_label() in ideal
                    for _, y in c.get_offsets()]
        assert len(marker_y) == len(ideal)
        for b in boxes:
            bx0, by0, w, h = b.get_x(), b.get_y(), b.get_width(), b.get_height()
            # strictly inside: a box at 0 or 1 is not drawn on the axis edge
            assert x0 < bx0 and bx0 + w < x1 and y0 < by0 and by0 + h < y1
            assert min(bx0 - x0, x1 - bx0 - w) >= 0.04 * (x1 - x0)
            assert all(not by0 <= my <= by0 + h for my in marker_y)
        # the figure is laid out so that no text runs off its edge
        fw, fh = fig.bbox.width, fig.bbox.height
        texts = [c for c in ax.get_children() if isinstance(c, Text)]
        for t in [*texts, ax.xaxis.label, *ax.get_yticklabels()]:
            if t.get_text() and t.get_visible():
                bb = t.get_window_extent(r)
                assert bb.x0 >= -1 and bb.x1 <= fw + 1 and bb.y0 >= -1 and bb.y1 <= fh + 1


def test_signed_terms_states_an_issue_fixed_in_every_signed_world_once():
    terms, ideal, issues, labels = _terms_case()
    terms.loc[terms["issue"] == "constitution", "value"] = 1.0
    fig = plots.signed_terms(terms, ideal, issues=issues, issue_labels=labels)
    assert [ax.get_gid() for ax in fig.axes if ax.get_visible()] == issues[1:]
    sub = next(t.get_text() for t in fig.texts if t.get_gid() == "subtitle")
    assert ("same in every signed world of every run: Constitution with a long display "
            "name that used to be cut = 1.00") in sub.replace("\n", " ")


def test_signed_terms_without_signed_worlds_says_so():
    fig = plots.signed_terms(pd.DataFrame(columns=["label", "world", "issue", "value"]),
                             {"armenia": {"x": 0.5}}, issues=["x"])
    assert any("No world signed" in t.get_text() for t in fig.texts)


def test_paired_differences_in_percentage_points():
    df = pd.DataFrame({"label": ["a", "b"], "diff": [-0.05, 0.02],
                       "ci_low": [-0.07, -0.01], "ci_high": [-0.03, 0.05]})
    fig = plots.paired_differences(df, "baseline")
    (ax,) = fig.axes
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2
    assert "percentage points" in ax.get_xlabel()
    assert "baseline" in plots.figure_title(fig)
    # significant negative in red, non-significant in grey
    colours = {c.get_label(): c.lines[0].get_color() for c in bars}
    assert colours["a"] == "#c0392b" and colours["b"] == "#8a8f96"
    # each row's difference and interval, printed beside the axes
    assert {t.get_text() for t in ax.texts if t.get_gid() == "value"} == {
        "-5.0 pp  [-7.0, -3.0]", "+2.0 pp  [-1.0, +5.0]"}


def test_p_sign_vs_value_line_and_band():
    df = pd.DataFrame({"value": [0.05, 0.1, 0.2], "p_sign": [0.4, 0.35, 0.3],
                       "ci_low": [0.37, 0.32, 0.27], "ci_high": [0.43, 0.38, 0.33]})
    fig = plots.p_sign_vs_value(df, xlabel="incidents.base_rate (incidents/week)",
                                horizon_weeks=156)
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), [0.4, 0.35, 0.3])
    assert len(ax.collections) == 1
    assert ax.get_xlabel() == "incidents.base_rate (incidents/week)"
    assert plots.figure_title(fig) == "P(sign) as base_rate varies"


def test_p_sign_heatmap_grid_and_colourbar():
    xs, ys = [0.05, 0.1, 0.2], [0.3, 0.6]
    df = pd.DataFrame([{"x": x, "y": y, "p_sign": x + y, "ci_low": x + y - 0.02,
                        "ci_high": x + y + 0.02} for x in xs for y in ys])
    fig = plots.p_sign_heatmap(df, xlabel="x (1/week)", ylabel="y")
    ax, cax = fig.axes
    assert ax.images[0].get_array().shape == (2, 3)
    assert len(ax.texts) == 6
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.05", "0.1", "0.2"]
    assert "P(sign" in cax.get_ylabel()


def _steps(labels):
    weeks = np.arange(20)
    steps = {}
    for k, lab in enumerate(labels):
        d = {"week": weeks}
        for s in plots.TRAJECTORY_SERIES:
            for q, v in (("q10", 0.1), ("q50", 0.3), ("q90", 0.6), ("mean", 0.35),
                         ("ci_low", 0.33), ("ci_high", 0.37)):
                d[f"{s}_{q}"] = np.full(20, v + k)  # each run at its own level
        steps[lab] = pd.DataFrame(d)
    return steps


def _band_limits(coll) -> tuple[float, float]:
    ys = np.concatenate([p.vertices[:, 1] for p in coll.get_paths()])
    return float(ys.min()), float(ys.max())


def test_trajectories_one_panel_per_series():
    steps = _steps(["a", "b"])
    fig = plots.trajectories(steps)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in axes] == [plots.SERIES_STYLE[s][0]
                                                         for s in plots.TRAJECTORY_SERIES]
    for ax, name in zip(axes, plots.TRAJECTORY_SERIES, strict=True):
        assert [ln.get_label() for ln in ax.get_lines()] == ["a", "b"]
        assert len(ax.collections) == 2  # one band per scenario
        assert ax.get_ylabel()
        # counts are a mean rate with the interval of the mean, the rest a median and
        # the 10-90 % band: a median of weekly counts is 0 with a 0-1 band
        line, band = (("mean", ("ci_low", "ci_high")) if name in plots.RATE_SERIES
                      else ("q50", ("q10", "q90")))
        for k, lab in enumerate(["a", "b"]):
            np.testing.assert_array_equal(ax.get_lines()[k].get_ydata(),
                                          steps[lab][f"{name}_{line}"])
            assert _band_limits(ax.collections[k]) == pytest.approx(
                tuple(steps[lab][f"{name}_{b}"].iloc[0] for b in band))
    assert axes[list(plots.TRAJECTORY_SERIES).index("incidents")].get_ylabel() == \
        "incidents per active world-week"
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "a", "b", "band: 10–90% of active worlds (incidents: 95% interval of the mean)"]


def test_trajectory_panels_one_panel_per_scenario_against_the_reference():
    steps = _steps(["baseline", "a", "b", "c", "d", "e"])
    fig = plots.trajectory_panels(steps, "tension", "baseline", ncols=3)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in axes] == ["a", "b", "c", "d", "e"]
    for ax in axes:
        assert [ln.get_label() for ln in ax.get_lines()] == ["baseline", ax.get_title("left")]
        assert ax.get_lines()[0].get_color() == "#111111"
    assert "against baseline" in plots.figure_title(fig)
    assert axes[0].get_ylabel() == "tension index"


def test_trajectory_panels_each_run_against_its_own_reference():
    """A grid sweep: each panel draws the reference it is mapped to, not one baseline."""
    steps = _steps(["baseline, x=1", "baseline, x=2", "spike, x=1", "spike, x=2"])
    refs = {"spike, x=1": "baseline, x=1", "spike, x=2": "baseline, x=2"}
    fig = plots.trajectory_panels(steps, "incidents", refs)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title(loc="left") for ax in axes] == [
        "spike, x=1\nvs baseline, x=1", "spike, x=2\nvs baseline, x=2"]
    for ax, (lab, ref) in zip(axes, refs.items(), strict=True):
        ref_line, line = ax.get_lines()
        assert (ref_line.get_label(), line.get_label()) == (ref, lab)
        np.testing.assert_array_equal(ref_line.get_ydata(), steps[ref]["incidents_mean"])
        np.testing.assert_array_equal(line.get_ydata(), steps[lab]["incidents_mean"])
    assert "the baseline with the same other swept values" in plots.figure_title(fig)
    # the panels are placed without a layout engine and still fit the figure
    assert fig.get_layout_engine() is None
    for ax in axes:
        bb = ax.get_position()
        assert 0 < bb.x0 < bb.x1 < 1 and 0 < bb.y0 < bb.y1 < 1


def test_baseline_is_drawn_in_black():
    assert plots.colours(["a", "baseline", "b"]) == {
        "a": plots._PALETTE[0], "baseline": plots.BASELINE_COLOUR, "b": plots._PALETTE[1]}


@pytest.fixture(scope="module")
def one_world():
    params = load_params("baseline")
    res = simulate(params, worlds=3, seed=5, trace=True)
    return res, params


def test_world_timeline_panels_and_events(one_world):
    res, params = one_world
    one = res.trace[res.trace["world"] == 0]
    fig = plots.world_timeline(one, issues=res.issues,
                               issue_labels=params.issue_labels,
                               actor_labels={k: a.label for k, a in params.actors.items()},
                               title="t")
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[0] == "Events"
    assert titles[1].startswith("Border incidents")
    assert titles[2] == "Political climate"
    assert titles[3].startswith("Package on the table")
    assert titles[4].startswith("Concessions")
    table_ax = fig.axes[3]
    assert [t.get_text() for t in table_ax.get_yticklabels()][0] == "Constitution"
    row = res.outcomes.iloc[0]
    event_texts = [t.get_text().strip() for t in fig.axes[0].texts]
    if row["signed"]:
        assert "TREATY SIGNED" in event_texts
    elif row["outcome"] == "escalation":
        assert "ESCALATION" in event_texts
    legend = [t.get_text() for t in fig.axes[4].get_legend().get_texts()]
    assert "Armenia (government): gap" in legend


def test_world_timeline_refuses_several_worlds(one_world):
    res, _ = one_world
    with pytest.raises(ValueError, match="one world"):
        plots.world_timeline(res.trace)
