"""Every figure the report draws reads at 19 scenarios: no text overlaps another (boxes
measured with the renderer), and every band or interval a figure promises is drawn."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from _report_fixtures import write_run, write_sweep  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from sim import scenarios  # noqa: E402
from sim.viz import plots, report  # noqa: E402


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> report.SweepData:
    names = sorted(scenarios())
    assert len(names) >= 19
    path = write_sweep(tmp_path_factory.mktemp("many") / "sweep", [(s, {}) for s in names],
                       worlds=400)
    return report.load_sweep(path)


@pytest.fixture(scope="module")
def specs(sweep) -> dict[str, Figure]:
    est = report.estimates(sweep.runs, sweep.table)
    return {s.name: s.figure for s in report.run_figures(sweep.runs, sweep, est)}


def _boxes(fig: Figure):
    """Every visible, non-empty text of ``fig`` with its box in pixels."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    r = canvas.get_renderer()
    # tick labels exist for ticks beyond the view too: only those drawn count
    ticks, drawn = set(), set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tk in axis.get_major_ticks() + axis.get_minor_ticks():
                ticks |= {id(tk.label1), id(tk.label2)}
            for tk in axis._update_ticks():
                drawn |= {id(tk.label1), id(tk.label2)}
    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip():
            continue
        if any(not a.get_visible() for a in _ancestors(t)):
            continue
        if id(t) in ticks and id(t) not in drawn:
            continue
        out.append((t, t.get_window_extent(r)))
    return out, r


def _ancestors(t: Text):
    a = t.axes
    return [a] if a is not None else []


def _overlaps(fig: Figure) -> list[tuple[str, str]]:
    boxes, _ = _boxes(fig)
    bad = []
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1:]:
            # one pixel of tolerance: neighbouring texts may touch, never cover
            if (min(a.x1, b.x1) - max(a.x0, b.x0) > 1.0
                    and min(a.y1, b.y1) - max(a.y0, b.y0) > 1.0):
                bad.append((ta.get_text(), tb.get_text()))
    return bad


def _inside(fig: Figure) -> list[str]:
    boxes, _ = _boxes(fig)
    W, H = fig.bbox.width, fig.bbox.height
    return [t.get_text() for t, b in boxes
            if b.x0 < -1 or b.y0 < -1 or b.x1 > W + 1 or b.y1 > H + 1]


def test_the_report_at_19_scenarios_has_every_figure(specs):
    assert {"p_sign.png", "cumulative.png", "outcomes.png", "terms.png",
            "differences.png", "trajectories_incidents.png"} <= set(specs)


@pytest.mark.parametrize("name", ["p_sign.png", "cumulative.png", "outcomes.png",
                                  "terms.png", "differences.png", "curves.png",
                                  *(f"trajectories_{s}.png" for s in plots.TRAJECTORY_SERIES)])
def test_no_text_overlaps_or_runs_off_the_figure(specs, name):
    fig = specs[name]
    assert _overlaps(fig) == []
    assert _inside(fig) == []


def test_trajectories_overlaid_for_19_scenarios_have_no_overlapping_text(sweep):
    steps = {r.label: report.trajectory_steps(r) for r in sweep.runs}
    fig = plots.trajectories(steps)
    assert _overlaps(fig) == [] and _inside(fig) == []


def test_a_world_with_many_events_has_no_overlapping_labels(tmp_path):
    run = report.load_run(write_run(tmp_path / "run", worlds=40, trace=True))
    tr = run.trace
    busiest = int(tr[tr["event"].fillna("") != ""].groupby("world")["event"].count().idxmax())
    fig = report.trace_figure(run, busiest)
    events = [t for t in fig.findobj(Text) if t.get_gid() == "event"]
    assert len(events) >= 6   # a busy world: labels that used to run into each other
    assert _overlaps(fig) == []
    assert _inside(fig) == []
    # the drawn values are under the panels, not five lines of header
    sub = next(t.get_text() for t in fig.texts if t.get_gid() == "subtitle")
    assert sub.count("\n") <= 1 and "listed at the bottom" in sub
    assert any(t.get_gid() == "footnote" and "Drawn for this world" in t.get_text()
               for t in fig.texts)


def _pixel_height(coll: PolyCollection, ax) -> float:
    """How tall a band is drawn at its last week, in pixels."""
    paths = coll.get_paths()
    if not paths:
        return 0.0
    v = np.concatenate([ax.transData.transform(p.vertices) for p in paths])
    last = v[np.isclose(v[:, 0], v[:, 0].max())]
    return float(last[:, 1].max() - last[:, 1].min())


def test_cumulative_bands_are_drawn_and_visible_in_every_panel(specs, sweep):
    fig = specs["cumulative.png"]
    FigureCanvasAgg(fig).draw()
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == len(sweep.runs) - 1  # one per scenario, the baseline in each
    for ax in panels:
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == 2, ax.get_gid()
        # both bands visible: on a panel's own scale each band is at least a few pixels
        # tall at the last week (the scale is set by the two runs drawn there)
        for band in bands:
            assert _pixel_height(band, ax) >= 3.0, ax.get_gid()
        # its final value and interval are printed
        title = ax.get_title(loc="left")
        assert "[" in title and "%" in title


def test_difference_intervals_are_drawn_visible_and_printed(specs, sweep):
    fig = specs["differences.png"]
    FigureCanvasAgg(fig).draw()
    (ax,) = fig.axes
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    diffs = report.paired_differences(sweep)
    assert len(bars) == len(diffs)
    x0, x1 = ax.get_xlim()
    arrows = sum(1 for ln in ax.lines if ln.get_gid() == "off-scale")
    shown = 0
    for c, (_, r) in zip(bars, diffs.sort_values("diff").iterrows(), strict=True):
        if r["ci_low"] >= x0 and r["ci_high"] <= x1:
            shown += 1
            seg = c.lines[2][0].get_segments()[0]
            px = ax.transData.transform(seg)
            width = abs(px[1, 0] - px[0, 0])
            # visible: at least 3 pixels wide unless the interval itself is that narrow
            assert width >= min(3.0, 0.99 * abs(ax.transData.transform((r["ci_high"], 0))[0]
                                                 - ax.transData.transform((r["ci_low"], 0))[0]))
    assert shown + arrows == len(diffs) and shown >= len(diffs) // 2
    values = [t.get_text() for t in ax.texts if t.get_gid() == "value"]
    assert len(values) == len(diffs) and all("[" in v and "pp" in v for v in values)


def test_trajectory_panels_each_have_their_own_scale(specs):
    fig = specs["trajectories_incidents.png"]
    tops = {ax.get_title(loc="left"): ax.get_ylim()[1] for ax in fig.axes
            if ax.get_visible()}
    assert tops["incident_spike"] > 3 * tops["eu_monitors_leave"]
    for ax in fig.axes:
        if ax.get_visible():
            assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2


def test_every_non_zero_share_is_printed_and_none_as_zero(specs, sweep):
    fig = specs["outcomes.png"]
    (ax,) = fig.axes
    texts = [t.get_text() for t in ax.texts]
    assert not any(t in ("0%", "0.0%") for t in texts)
    est = report.estimates(sweep.runs, sweep.table)
    small = [(r["label"], c) for _, r in est.iterrows() for c in plots.OUTCOME_STYLE
             if 0 < r[c] < 0.04]
    assert small  # at 19 scenarios some shares are slivers
    slivers = " ".join(t.get_text() for t in ax.texts if t.get_gid() == "slivers")
    for _, c in small:
        assert plots.OUTCOME_STYLE[c][0].lower() in slivers
    p_sign = specs["p_sign.png"]
    printed = " ".join(t.get_text() for t in p_sign.axes[0].texts)
    for _, r in est.iterrows():
        if r["p_sign"] > 0:
            assert f"{report.percent(r['p_sign'])}  [" in printed
    assert "0.0%  [" not in printed or (est["p_sign"] == 0).any()


def test_terms_show_only_issues_that_vary(specs, sweep):
    fig = specs["terms.png"]
    shown = [ax.get_gid() for ax in fig.axes if ax.get_visible()]
    ref = next(r for r in sweep.runs if r.label == sweep.baseline)
    assert set(shown) <= set(ref.issues)
    sub = next(t.get_text() for t in fig.texts if t.get_gid() == "subtitle")
    if len(shown) < len(ref.issues):
        assert "same in every signed world" in sub.replace("\n", " ")
    for ax in fig.axes:
        if ax.get_visible():
            for t in ax.texts:
                if t.get_gid() == "value" and t.get_text().endswith("]"):
                    lo, hi = t.get_text().split("[")[1].rstrip("]").split("–")
                    med = t.get_text().split(" ")[0]
                    assert not lo == hi == med   # no degenerate "1.00 [1.00–1.00]" rows

