"""Figures for comparing outcomes across scenarios and for telling one world's story.

Every function here takes data (tidy :class:`pandas.DataFrame` objects or plain
mappings, as built by :mod:`sim.viz.report`) and returns a :class:`matplotlib.figure.Figure`.
Nothing here saves, shows or touches pyplot's global state: figures are created with
``Figure()`` directly, so any number can be made in a loop or a test without leaking,
and :mod:`sim.viz.report` is the one module that writes them to disk.

Conventions shared by all figures:

* probabilities are shown in per cent, with 95 % intervals (Wilson for a proportion,
  paired normal intervals for differences) drawn as error bars or shaded bands;
* time runs in weeks since the scenario's start (one model step is one week);
* a bold title says what is shown and a grey subtitle says what was held fixed;
* scenario colours are assigned once per figure, in the order given, and outcome classes
  always use the same four colours.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import (
    FixedFormatter,
    FixedLocator,
    FuncFormatter,
    MaxNLocator,
    PercentFormatter,
)

from sim.experiment.display import INTERVAL_NOTE, percent, points
from sim.model import outputs
from sim.model.codes import OUTCOMES, DomesticEvent, Stage, Status

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

_OUTCOME_COLOURS = {"signed": "#2a9d5c", "escalation": "#c0392b",
                    "government_fell": "#e39b2d", "stalemate": "#a7adb5"}
#: Outcome classes in reporting order (:data:`sim.model.codes.OUTCOMES`), with display
#: names and colours.
OUTCOME_STYLE = {o.name: (o.label, _OUTCOME_COLOURS[o.name]) for o in OUTCOMES}
#: Trajectory series: display name and y-axis label (with units), as the model declares
#: them (:mod:`sim.model.outputs`).
SERIES_STYLE = {s.name: (s.label, s.axis) for s in outputs.series()}
#: Default trajectories shown in the report.
TRAJECTORY_SERIES = ("tension", "mobilisation", "incidents", "support")
#: Series that are counts per week: drawn as the mean rate per active world-week with the
#: 95 % interval of that mean (a median of small integer counts is 0 with a 0–1 band).
RATE_SERIES = frozenset({"incidents"})
#: A run's signed terms on an issue count as flat (one value, no box) when its 10–90 %
#: range is narrower than this (issue units, 0–1).
FLAT_RANGE = 0.01
#: Marker for each actor's ideal point (cycled for actors beyond these).
_ACTOR_MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*", "h")
_PALETTE = ("#1f5a96", "#d1603d", "#3a9a7a", "#8e5ea2", "#c9a227", "#5b8cc7", "#b5485d",
            "#6f7d3a", "#e07fb2", "#17a2b8", "#8c564b", "#f28e2b", "#76b7b2", "#9c755f",
            "#59a14f", "#bab0ac", "#edc948", "#af7aa1", "#ff9da7", "#4e79a7")
#: The baseline is drawn in near-black in every figure.
BASELINE_COLOUR = "#222222"
_RC: dict[RcKeyType, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "savefig.dpi": 150,
}


def colours(labels: Sequence[str], baseline: str | None = "baseline") -> dict[str, str]:
    """A stable colour for each label, in the order given; the baseline in near-black."""
    out, i = {}, 0
    for lab in labels:
        if lab == baseline:
            out[lab] = BASELINE_COLOUR
        else:
            out[lab] = _PALETTE[i % len(_PALETTE)]
            i += 1
    return out


#: Resolution figures are made and saved at (one resolution: text is laid out once).
DPI = 150


class _Figure(Figure):
    """A figure that knows its title block: height and where a figure legend goes."""

    legend_y: float = 1.0
    head_inches: float = 0.0


def _figure(width: float, height: float, title: str, subtitle: str | None,
            legend_space: float = 0.0, layout: bool = True) -> _Figure:
    """A constrained-layout figure with a bold title and a grey subtitle at the top.

    The subtitle is wrapped to the figure's width and the space above the axes grows
    with the number of its lines, so nothing is cut off. ``legend_space`` inches are
    reserved under the subtitle for a figure legend placed at ``fig.legend_y``.
    With ``layout=False`` no layout engine is set (grids of many small panels place
    their axes themselves, which is much cheaper than solving constrained layout);
    ``fig.head_inches`` is then the height taken by the title block.
    """
    title = textwrap.fill(title, max(30, int((width - 0.3) * 72 / (13 * 0.64))))
    tlines = title.count("\n") + 1
    chars = max(40, int((width - 0.3) * 72 / (9.5 * 0.56)))
    sub = textwrap.fill(subtitle, chars) if subtitle else ""
    lines = sub.count("\n") + 1 if sub else 0
    extra = 0.24 * (tlines - 1) + 0.19 * max(lines - 1, 0)
    head = 0.40 + 0.24 * (tlines - 1) + 0.19 * lines + 0.06 + legend_space
    fig = _Figure(figsize=(width, height + extra + legend_space), dpi=DPI)
    height = fig.get_figheight()
    if layout:
        fig.set_layout_engine(ConstrainedLayoutEngine(
            rect=(0.0, 0.0, 1.0, 1.0 - head / height), h_pad=0.06))
    fig.head_inches = head
    x = 0.12 / width
    fig.text(x, 1.0 - 0.10 / height, title, ha="left", va="top", fontsize=13,
             fontweight="bold", gid="title", linespacing=1.15)
    if sub:
        fig.text(x, 1.0 - (0.38 + 0.24 * (tlines - 1)) / height, sub, ha="left", va="top",
                 fontsize=9.5, color="#555555", gid="subtitle", linespacing=1.25)
    fig.legend_y = 1.0 - (head - legend_space) / height
    return fig


def figure_title(fig: Figure) -> str:
    """The bold title of a figure made here (for tests and captions)."""
    text = next((t.get_text() for t in fig.texts if t.get_gid() == "title"), "")
    return text.replace("\n", " ")


def figure_subtitle(fig: Figure) -> str:
    """The grey subtitle (what was held fixed) of a figure made here."""
    text = next((t.get_text() for t in fig.texts if t.get_gid() == "subtitle"), "")
    return text.replace("\n", " ")


_pct = percent


def _horizon_text(horizon_weeks: int | None) -> str:
    return f"within {horizon_weeks} weeks" if horizon_weeks else "within the horizon"


# ------------------------------------------------------------------ P(sign) by scenario
def p_sign_by_scenario(table: pd.DataFrame, *, horizon_weeks: int | None = None,
                       colors: Mapping[str, str] | None = None,
                       subtitle: str | None = None, title: str | None = None) -> Figure:
    """P(sign) for each scenario with its 95 % interval, highest first.

    Args:
        table: One row per scenario with columns ``label``, ``p_sign``, ``ci_low`` and
            ``ci_high`` (proportions in [0, 1]).
        horizon_weeks: The horizon the probability refers to (for the axis label).
        colors: ``{label: colour}`` (default: :func:`colours` in the table's order).
        subtitle: What was held fixed (worlds, seed, start, ...).
        title: Overrides the default title.

    Returns:
        A figure with one axes; one error-bar series per scenario (label = scenario).
    """
    df = table.sort_values("p_sign", ascending=True).reset_index(drop=True)
    n = len(df)
    cols = dict(colors) if colors else colours(list(table["label"]))
    title = title or f"Probability that the treaty is signed {_horizon_text(horizon_weeks)}"
    with mpl.rc_context(_RC):
        fig = _figure(8.0, 1.4 + 0.42 * max(n, 2), title, subtitle)
        ax = fig.add_subplot()
        for i, r in df.iterrows():
            c = cols[r["label"]]
            # at P(sign) = 0 the Wilson bound can sit a rounding error above it
            ax.errorbar([r["p_sign"]], [i], xerr=[[max(0.0, r["p_sign"] - r["ci_low"])],
                                                 [max(0.0, r["ci_high"] - r["p_sign"])]],
                        fmt="o", color=c, ms=7, capsize=4, elinewidth=2, label=r["label"])
            ax.annotate(f"{_pct(r['p_sign'])}  [{_pct(r['ci_low'])}–{_pct(r['ci_high'])}]",
                        (r["ci_high"], i), xytext=(8, 0), textcoords="offset points",
                        va="center", fontsize=9, color="#333333")
        ax.set_yticks(range(n), df["label"])
        ax.set_ylim(-0.6, n - 0.4)
        hi = float(df["ci_high"].max()) if n else 1.0
        ax.set_xlim(0, min(1.0, max(0.05, hi * 1.35 + 0.02)))
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(f"P(sign {_horizon_text(horizon_weeks)}), % of worlds "
                      "(dot: estimate)\n" + textwrap.fill(
                          f"bar and brackets: {INTERVAL_NOTE} (Wilson)", 70))
        ax.grid(axis="y", visible=False)
    return fig


# ------------------------------------------------------------- cumulative signing curves
#: Up to this many scenarios, cumulative curves share one axes; beyond, small multiples.
CUMULATIVE_OVERLAY_MAX = 6


def cumulative_signing(curves: pd.DataFrame, *, colors: Mapping[str, str] | None = None,
                       reference: str | None = None, subtitle: str | None = None,
                       title: str | None = None) -> Figure:
    """Cumulative probability of signing over time, with 95 % bands.

    Up to :data:`CUMULATIVE_OVERLAY_MAX` scenarios are lines on one axes; more would
    tangle, so each then gets a small panel of its own, drawn against ``reference``
    (grey), each panel on its own scale so that its band can be seen.

    Args:
        curves: Long table with columns ``label``, ``week`` (weeks since the scenario's
            start), ``p_signed`` and the 95 % band ``ci_low`` / ``ci_high``.
        colors: ``{label: colour}`` (default: :func:`colours` in order of appearance).
        reference: The run drawn in every small panel (default: ``baseline`` if present,
            else the first label).
        subtitle: What was held fixed.
        title: Overrides the default title.

    Returns:
        A figure. Overlaid: one axes, one line (label = scenario) and one band each.
        Small multiples: one axes per non-reference scenario (``gid`` = its label), with
        the reference's line and band first, then the scenario's.
    """
    labels = list(dict.fromkeys(curves["label"]))
    # legend order: highest final probability first
    final = curves.sort_values("week").groupby("label", sort=False)["p_signed"].last()
    order = sorted(labels, key=lambda lab: -final[lab])
    cols = dict(colors) if colors else colours(labels)
    title = title or "Cumulative probability that the treaty has been signed"
    if len(order) > CUMULATIVE_OVERLAY_MAX:
        ref = reference if reference is not None and reference in labels else (
            "baseline" if "baseline" in labels else str(labels[0]))
        return _cumulative_panels(curves, order, ref, cols, subtitle, title)
    by = {lab: curves[curves["label"] == lab].sort_values("week") for lab in order}
    with mpl.rc_context(_RC):
        fig = _figure(9.0, 5.2, title, subtitle)
        ax = fig.add_subplot()
        for lab in order:
            d = by[lab]
            _band(ax, d["week"].to_numpy(), d["ci_low"], d["ci_high"], color=cols[lab],
                  alpha=0.22, lw=0)
            ax.plot(d["week"], d["p_signed"], color=cols[lab], lw=2,
                    label=f"{lab}: {_final_text(d)}")
        wmax = int(curves["week"].max()) + 1 if len(curves) else 156
        _year_lines(ax, wmax)
        ax.set_xlim(0, wmax)
        ymax = float(curves["ci_high"].max()) if len(curves) else 1.0
        ax.set_ylim(0, min(1.0, max(0.05, ymax * 1.12)))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("Weeks since the scenario's start")
        ax.set_ylabel("Worlds signed so far, %\n(band: 95% Monte Carlo interval)")
        ax.legend(loc="upper left", title="Scenario: P(signed) at the end [95% interval]",
                  title_fontsize=9)
    return fig


def _final_text(d: pd.DataFrame) -> str:
    """``8.2% [7.0%, 9.4%]``: a curve's last value and its interval."""
    last = d.iloc[-1]
    return (f"{percent(last['p_signed'])} "
            f"[{percent(last['ci_low'])}, {percent(last['ci_high'])}]")


def _year_lines(ax, wmax: int, labels: bool = True) -> None:
    for yr in range(1, wmax // 52 + 1):
        ax.axvline(52 * yr, color="#bbbbbb", lw=0.8, ls=":")
        if labels:
            ax.text(52 * yr, 1.0, f" {yr} yr", transform=ax.get_xaxis_transform(),
                    va="top", ha="left", fontsize=8, color="#888888")


def _cumulative_panels(curves: pd.DataFrame, order: Sequence[str], ref: str,
                       cols: Mapping[str, str], subtitle: str | None, title: str
                       ) -> Figure:
    """Small multiples of :func:`cumulative_signing`: one panel per scenario vs ``ref``."""
    labels = [lab for lab in order if lab != ref]
    by = {lab: curves[curves["label"] == lab].sort_values("week") for lab in order}
    ncols = 4
    nrows = max(1, int(np.ceil(len(labels) / ncols)))
    axw, axh, left, right, bottom, gap_w, gap_h = 2.9, 1.55, 0.75, 0.2, 0.55, 0.6, 0.8
    width = left + right + ncols * axw + (ncols - 1) * gap_w
    body = 0.45 + nrows * axh + (nrows - 1) * gap_h + bottom
    wmax = int(curves["week"].max()) + 1 if len(curves) else 156
    step = 52 if wmax > 78 else 13
    with mpl.rc_context(_RC):
        fig = _figure(width, body + 0.65, f"{title}: each scenario against {ref}",
                      (subtitle + "; " if subtitle else "") + "each panel on its own scale; "
                      "line: share of worlds signed so far; band: its 95% Monte Carlo "
                      f"interval; grey: {ref} ({_final_text(by[ref])} at the end)",
                      layout=False)
        W, H = fig.get_figwidth(), fig.get_figheight()
        top = H - fig.head_inches - 0.45
        for k, lab in enumerate(labels):
            r, c = divmod(k, ncols)
            x = left + c * (axw + gap_w)
            y = top - r * (axh + gap_h) - axh
            ax = fig.add_axes((x / W, y / H, axw / W, axh / H))
            ax.set_gid(lab)
            hi = 0.0
            for name, colour, z in ((ref, "#777777", 1), (lab, cols[lab], 2)):
                d = by[name]
                _band(ax, d["week"].to_numpy(), d["ci_low"], d["ci_high"], color=colour,
                      alpha=0.25, lw=0, zorder=z)
                ax.plot(d["week"], d["p_signed"], color="#222222" if name == ref else colour,
                        lw=1.2 if name == ref else 1.8, zorder=z + 1, label=name)
                hi = max(hi, float(d["ci_high"].max()))
            _year_lines(ax, wmax, labels=False)
            top_y = max(hi * 1.1, 0.002)
            ax.set_xlim(0, wmax)
            ax.set_ylim(0, min(1.0, top_y))
            yt = [v for v in MaxNLocator(4).tick_values(0, top_y) if 0 <= v <= top_y]
            dec = 0 if top_y >= 0.04 else (1 if top_y >= 0.004 else 2)
            ax.yaxis.set_major_locator(FixedLocator(yt))
            ax.yaxis.set_major_formatter(FixedFormatter([f"{100 * v:.{dec}f}%" for v in yt]))
            xt = list(range(0, wmax + 1, step))
            ax.xaxis.set_major_locator(FixedLocator(xt))
            ax.xaxis.set_major_formatter(FixedFormatter([str(v) for v in xt]))
            ax.tick_params(labelsize=8)
            ax.set_title(f"{lab}\n{_final_text(by[lab])}", fontsize=9)
            if c == 0:
                ax.set_ylabel("signed so far", fontsize=8.5)
            if k >= len(labels) - ncols:
                ax.set_xlabel("weeks since start", fontsize=8.5)
    return fig


# -------------------------------------------------------------------- outcome classes
def outcome_classes(shares: pd.DataFrame, *, horizon_weeks: int | None = None,
                    subtitle: str | None = None, title: str | None = None) -> Figure:
    """Share of worlds ending in each outcome class, one stacked bar per scenario.

    A segment is labelled inside when its label fits (measured from the text's width);
    the shares of narrower segments (slivers) are listed right of their bar, so every
    non-zero share is printed once.

    Args:
        shares: One row per scenario with ``label`` and one column per outcome class
            (``signed``, ``escalation``, ``government_fell``, ``stalemate``), in [0, 1].
        horizon_weeks: Horizon (for the title).
        subtitle: What was held fixed.
        title: Overrides the default title.

    Returns:
        A figure with one axes holding one bar container per outcome class; the texts
        inside the bars have ``gid="share"``, the lists of slivers ``gid="slivers"``.
    """
    df = shares.sort_values("signed", ascending=True).reset_index(drop=True)
    n = len(df)
    title = title or f"How each scenario ends {_horizon_text(horizon_weeks)}"
    vals = {k: (df[k].to_numpy(dtype=float) if k in df else np.zeros(n))
            for k in OUTCOME_STYLE}
    with mpl.rc_context(_RC):
        axw, size = 6.4, 8.5
        inside: dict[str, list[bool]] = {}
        side: list[list[str]] = [[] for _ in range(n)]
        for key, (name, _) in OUTCOME_STYLE.items():
            fits = []
            for i, v in enumerate(vals[key]):
                ok = v > 0 and v * axw >= _text_inches([percent(v, 0)], size) + 0.1
                fits.append(ok)
                if v > 0 and not ok:
                    side[i].append(f"{name.lower()} {percent(v)}")
            inside[key] = fits
        notes = ["; ".join(t) for t in side]
        label_w = _text_inches(list(df["label"]), 9) + 0.25
        note_w = _text_inches(notes, size) + 0.25 if any(notes) else 0.2
        rows_h, top_h, bottom_h = 0.45 * max(n, 2), 0.45, 0.55
        fig = _figure(label_w + axw + note_w, rows_h + top_h + bottom_h + 0.65, title,
                      subtitle, layout=False)
        W, H = fig.get_figwidth(), fig.get_figheight()
        ax = fig.add_axes((label_w / W, bottom_h / H, axw / W, rows_h / H))
        left = np.zeros(n)
        for key, (name, c) in OUTCOME_STYLE.items():
            v_all = vals[key]
            ax.barh(range(n), v_all, left=left, color=c, height=0.62, label=name,
                    edgecolor="white", linewidth=0.8)
            for i, (v, lft) in enumerate(zip(v_all, left, strict=True)):
                if inside[key][i]:
                    ax.text(lft + v / 2, i, percent(v, 0), ha="center", va="center",
                            fontsize=size, gid="share",
                            color="white" if key != "stalemate" else "#222222")
            left += v_all
        for i, note in enumerate(notes):
            if note:
                ax.text(1.015, i, note, transform=ax.get_yaxis_transform(), va="center",
                        fontsize=size, color="#444444", gid="slivers")
        ax.set_yticks(range(n), df["label"])
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.6, n - 0.4)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel("Share of worlds, % (shares too narrow to label are listed right of "
                      "their bar)" if any(notes) else "Share of worlds, %")
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=4, fontsize=9,
                  handlelength=1.2)
    return fig


# ---------------------------------------------------------------------- signed terms
def signed_terms(terms: pd.DataFrame, ideal_points: Mapping[str, Mapping[str, float]],
                 *, issues: Sequence[str] | None = None,
                 issue_labels: Mapping[str, Mapping[str, str] | str] | None = None,
                 actor_labels: Mapping[str, str] | None = None,
                 colors: Mapping[str, str] | None = None, runs: Sequence[str] | None = None,
                 subtitle: str | None = None, title: str | None = None) -> Figure:
    """Terms of the signed deals: one panel per issue, one box per run, numbers beside.

    Each panel is one issue (title: its full label; x-axis label: what 0 and 1 mean, in
    full). Each run is a row: a box of the signed package's position over its signed
    worlds (box 25–75 %, whiskers 10–90 %, diamond: median) with the median and the
    25–75 % range printed to the right of the panel. The actors' ideal points are
    dotted lines behind the boxes with their markers in a strip above the rows, so no
    marker covers a box; the x-axis runs a little beyond [0, 1] so that a box at either
    end stays visible.

    Args:
        terms: Long table of signed worlds with ``label`` (run), ``world``, ``issue``
            and ``value`` (the signed package's position on that issue, in [0, 1]).
        ideal_points: ``{actor: {issue: ideal point}}`` (one scenario's, usually the
            baseline's).
        issues: Issue order; defaults to the order in ``terms``.
        issue_labels: ``{issue: label}`` or ``{issue: {"label", "zero", "one"}}``.
        actor_labels: Display names of the actors.
        colors: ``{label: colour}`` (default: :func:`colours` in order of appearance).
        runs: Row order, including runs without a signed world (default: the labels in
            ``terms``).
        subtitle: What was held fixed.
        title: Overrides the default title.

    Returns:
        A figure with one axes per issue (``gid`` = issue). In each, one box patch per
        run with signed worlds (``gid`` = run label), one marker collection per actor
        (label = actor) and one text per run (``gid`` = ``"value"``: median and
        25–75 % range; ``all 0.30`` for a run whose 10–90 % range is under
        :data:`FLAT_RANGE`; or "no signed world"). Issues the same in every signed
        world of every run get no panel: the subtitle states their value once.
    """
    issues = list(issues) if issues is not None else list(dict.fromkeys(terms["issue"]))
    issue_labels = issue_labels or {}
    labels = list(runs) if runs is not None else (
        list(dict.fromkeys(terms["label"])) if len(terms) else [])
    actor_labels = actor_labels or {}
    cols = dict(colors) if colors else colours(labels)
    title = title or "Terms of the signed deals, issue by issue"
    n_signed = ({lab: int(terms.loc[terms["label"] == lab, "world"].nunique())
                 for lab in labels} if "world" in terms else dict.fromkeys(labels, 0))
    # five numbers per (run, issue) at once: the boxes are drawn from these
    stats = (terms.dropna(subset=["value"]).groupby(["label", "issue"], sort=False)["value"]
             .quantile([0.1, 0.25, 0.5, 0.75, 0.9]).unstack() if len(terms)
             else pd.DataFrame())
    # an issue whose signed value is the same in every signed world of every run (the
    # initialled text, never reopened) is not drawn: it is stated once, in the subtitle
    fixed = _fixed_issues(stats, issues)
    if fixed and len(fixed) < len(issues):
        names_of = {}
        for key in fixed:
            meta = issue_labels.get(key, key)
            names_of[key] = (str(meta.get("label", key)) if isinstance(meta, Mapping)
                             else str(meta))
        said = "; ".join(f"{names_of[key]} {v}" for key, v in fixed.items())
        subtitle = ((subtitle + ". ") if subtitle else "") + (
            f"Not drawn, the same in every signed world of every run: {said}")
        issues = [i for i in issues if i not in fixed]
    K, S = max(len(issues), 1), max(len(labels), 1)
    ncols = min(K, 4 if K > 6 else 3)
    nrows = int(np.ceil(K / ncols))
    actors = list(ideal_points)
    strip = S - 0.4 + 0.45  # y of the ideal-point markers, above every box
    heads, feet = [], []  # each panel's title and x-axis label (what 0 and 1 mean)
    for issue in issues:
        meta = issue_labels.get(issue, issue)
        heads.append(textwrap.fill(meta.get("label", issue) if isinstance(meta, Mapping)
                                   else str(meta), 34))
        feet.append(textwrap.fill(f"0: {meta['zero']}", 52) + "\n"
                    + textwrap.fill(f"1: {meta['one']}", 52)
                    if isinstance(meta, Mapping) and meta.get("zero") and meta.get("one")
                    else "")
    names = [f"{lab} ({n_signed.get(lab, 0):,} signed)" for lab in labels[::-1]]
    with mpl.rc_context(_RC):
        # laid out by hand (in inches, from measured text widths): constrained layout
        # would measure every label and number of every panel again at each draw
        label_w = _text_inches(names, 9) + 0.3
        num_w = _text_inches(["0.00 [0.00–0.00]", "0.00 (10–90%: 0.00–0.00)",
                              "no signed world"], 7.5) + 0.2
        panel_w, panel_h = 2.6, 0.55 + 0.24 * S
        pitch = panel_w + num_w + 0.25
        rows = [range(r * ncols, min((r + 1) * ncols, K)) for r in range(nrows)]
        title_h = [0.08 + 0.2 * max(heads[i].count("\n") + 1 for i in rr) if issues else 0.3
                   for rr in rows]
        foot_h = [0.3 + 0.135 * max((feet[i].count("\n") + 1 if feet[i] else 0)
                                    for i in rr) if issues else 0.3 for rr in rows]
        body = sum(title_h) + sum(foot_h) + nrows * panel_h + 0.1
        fig = _figure(0.1 + label_w + ncols * pitch, body + 0.65, title, subtitle,
                      legend_space=0.3 if actors else 0.0, layout=False)
        W, H = fig.get_figwidth(), fig.get_figheight()
        axes, top = [], H - fig.head_inches
        for r in range(nrows):
            top -= title_h[r]
            for k in range(ncols):
                x = 0.1 + label_w + k * pitch
                axes.append(fig.add_axes((x / W, (top - panel_h) / H, panel_w / W,
                                          panel_h / H)))
            top -= panel_h + foot_h[r]
        for k, (ax, issue) in enumerate(zip(axes, issues, strict=False)):
            ax.set_gid(issue)
            ax.set_title(heads[k], fontsize=10)
            if feet[k]:
                ax.set_xlabel(feet[k], fontsize=7.5, color="#555555", loc="left")
            have = [(S - 1 - j, lab) for j, lab in enumerate(labels)
                     if (lab, issue) in stats.index]
            if have:
                ys = np.array([y for y, _ in have], dtype=float)
                q = stats.loc[[(lab, issue) for _, lab in have]].to_numpy(dtype=float)
                c = [cols.get(lab, BASELINE_COLOUR) for _, lab in have]
                ax.hlines(np.r_[ys, ys], np.r_[q[:, 0], q[:, 3]], np.r_[q[:, 1], q[:, 4]],
                          colors=c + c, lw=1.2, zorder=2)
                ax.vlines(np.r_[q[:, 0], q[:, 4]], np.r_[ys, ys] - 0.15, np.r_[ys, ys] + 0.15,
                          colors=c + c, lw=1.2, zorder=2)
                bars = ax.barh(ys, q[:, 3] - q[:, 1], left=q[:, 1], height=0.6, color=c,
                               alpha=0.9, zorder=3)
                for bar, (_, lab) in zip(bars, have, strict=True):
                    bar.set_gid(lab)
                ax.scatter(q[:, 2], ys, marker="D", s=22, c=c, edgecolors="white",
                           linewidths=0.8, zorder=4)
            five = dict(zip([lab for _, lab in have], q, strict=True)) if have else {}
            for j, lab in enumerate(labels):  # the numbers, row by row
                row = five.get(lab)
                ax.text(1.03, S - 1 - j, _terms_text(row),
                        transform=ax.get_yaxis_transform(), va="center", fontsize=7.5,
                        color="#888888" if row is None or row[4] - row[0] < FLAT_RANGE
                        else "#333333", gid="value")
            ax.text(1.03, strip, "median [25–75%]", transform=ax.get_yaxis_transform(),
                    va="center", fontsize=7, color="#777777")
            for a_i, actor in enumerate(actors):
                xv = float(ideal_points[actor].get(issue, np.nan))
                if not np.isfinite(xv):
                    continue
                ax.axvline(xv, ymax=1.0, color="#555555", lw=0.8, ls=":", zorder=0.5)
                ax.scatter([xv], [strip], marker=_ACTOR_MARKERS[a_i % len(_ACTOR_MARKERS)],
                           s=40, facecolor="white", edgecolor="#222222", lw=1.1, zorder=5,
                           clip_on=False, label=actor_labels.get(actor, actor))
            ax.axhline(S - 0.4 + 0.12, color="#cccccc", lw=0.8)
            ax.set_xlim(-0.06, 1.06)
            ax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])
            ax.grid(axis="y", visible=False)
        for i, ax in enumerate(axes):
            ax.set_ylim(-0.6, strip + 0.4)
            if i % ncols == 0:
                ax.set_yticks(range(S), names if labels else [""] * S)
            else:
                ax.set_yticks([])
        for ax in axes[len(issues):]:
            ax.set_visible(False)
        if not len(terms):
            fig.text(0.5, 0.5, "No world signed: no terms to show", ha="center",
                     va="center", fontsize=12, color="#888888", gid="empty")
        if actors:
            handles = [Line2D([], [], ls="", marker=_ACTOR_MARKERS[i % len(_ACTOR_MARKERS)],
                              mfc="white", mec="#222222", ms=7,
                              label=f"ideal point: {actor_labels.get(a, a)}")
                       for i, a in enumerate(actors)]
            fig.legend(handles=handles, loc="upper left", ncols=min(len(handles), 6),
                       bbox_to_anchor=(0.0, fig.legend_y), fontsize=8.5)
    return fig


def _terms_text(row: np.ndarray | None) -> str:
    """The numbers beside a box: median [25–75 %], never a degenerate range.

    ``row`` is the 10, 25, 50, 75 and 90 % quantiles. A run whose 10–90 % range is under
    :data:`FLAT_RANGE` prints ``all 0.30``; one whose 25–75 % range is, but not its
    10–90 %, prints the median and the 10–90 % range.
    """
    if row is None:
        return "no signed world"
    if row[4] - row[0] < FLAT_RANGE:
        return f"all {row[2]:.2f}"
    if row[3] - row[1] < FLAT_RANGE:
        return f"{row[2]:.2f} (10–90%: {row[0]:.2f}–{row[4]:.2f})"
    return f"{row[2]:.2f} [{row[1]:.2f}–{row[3]:.2f}]"


def _fixed_issues(stats: pd.DataFrame, issues: Sequence[str]) -> dict[str, str]:
    """``{issue: its value(s) as text}`` for issues flat in every run with a signed world.

    Flat: the run's 10–90 % range is under :data:`FLAT_RANGE`. The text is the value, or
    the values with the runs that have them when runs differ
    (``1.00; 0.30 in no_constitution_precondition``).
    """
    if not len(stats):
        return {}
    out = {}
    for issue in issues:
        rows = stats.xs(issue, level="issue") if issue in stats.index.get_level_values(
            "issue") else None
        if rows is None or not len(rows):
            continue
        q = rows.to_numpy(dtype=float)
        if not (q[:, 4] - q[:, 0] < FLAT_RANGE).all():
            continue
        by_value: dict[str, list[str]] = {}
        for lab, med in zip(rows.index, q[:, 2], strict=True):
            by_value.setdefault(f"{med:.2f}", []).append(str(lab))
        common = max(by_value, key=lambda v: len(by_value[v]))
        rest = [f"{v} in {', '.join(labs)}" for v, labs in by_value.items() if v != common]
        out[issue] = "= " + common + (f" ({'; '.join(rest)})" if rest else "")
    return out


def _text_inches(texts: Sequence[str], size: float) -> float:
    """Width of the widest of ``texts`` at ``size`` points in the current font, inches."""
    r = RendererAgg(10, 10, 72)
    prop = FontProperties(size=size)
    return max((r.get_text_width_height_descent(t, prop, ismath=False)[0] for t in texts),
               default=0.0) / 72


def _last(label: str) -> str:
    """``incidents.base_rate (incidents/week)`` -> ``base_rate``."""
    return label.split(" (")[0].split(".")[-1]


# ----------------------------------------------------------------- paired differences
def _zoom(lo: np.ndarray, hi: np.ndarray, keep: float = 0.85) -> tuple[float, float]:
    """x-limits that show the intervals of most rows at a readable scale.

    The limits cover zero and every row's interval, unless a few rows lie far beyond the
    rest: then they cover the rows up to the ``keep`` quantile of the intervals' reach
    (at least half the rows), and the others are drawn as arrows at the edge.
    """
    reach = np.maximum(np.abs(lo), np.abs(hi))
    ok = np.isfinite(reach)
    if not ok.any():
        return -0.02, 0.02
    cut = float(np.quantile(reach[ok], keep))
    inside = ok & (reach <= max(cut * 1.5, 1e-12))
    if inside.sum() < max(1, ok.sum() // 2):
        inside = ok
    x0 = min(0.0, float(np.nanmin(lo[inside])))
    x1 = max(0.0, float(np.nanmax(hi[inside])))
    pad = max(0.06 * (x1 - x0), 0.002)
    return x0 - pad, x1 + pad


def paired_differences(table: pd.DataFrame, baseline: str, *,
                       subtitle: str | None = None, title: str | None = None) -> Figure:
    """Paired difference in P(sign) of each scenario from the baseline, with intervals.

    The x-axis is zoomed on the bulk of the rows (a scenario far off, e.g. one that
    removes the referendum, would shrink every other interval to a dot): a row beyond
    it is an arrow at the edge. Every row's difference and interval are printed in a
    column right of the axes, so no number sits on a dot.

    Args:
        table: One row per non-baseline scenario with ``label``, ``diff`` (difference in
            P(sign), a proportion in [-1, 1]) and its 95 % interval ``ci_low``/``ci_high``.
        baseline: The baseline's label.
        subtitle: What was held fixed.
        title: Overrides the default title.

    Returns:
        A figure with one axes; one error-bar series per scenario (label = scenario);
        texts with ``gid="value"`` (one per row, the printed difference and interval) and
        a marker with ``gid="off-scale"`` for each row drawn at the edge.
    """
    df = table.sort_values("diff", ascending=True).reset_index(drop=True)
    n = len(df)
    title = title or f"Change in P(sign) compared with {baseline}"
    lo_all, hi_all = (df["ci_low"].to_numpy(dtype=float), df["ci_high"].to_numpy(dtype=float))
    x0, x1 = _zoom(lo_all, hi_all)
    texts = [f"{points(r['diff'])}  [{points(r['ci_low'], unit='')}, "
             f"{points(r['ci_high'], unit='')}]" for _, r in df.iterrows()]
    with mpl.rc_context(_RC):
        num_w = _text_inches([*texts, "difference [95% interval]"], 9) + 0.25
        fig = _figure(8.0 + num_w, 1.5 + 0.42 * max(n, 2), title, subtitle)
        ax = fig.add_subplot()
        ax.axvline(0, color="#444444", lw=1)
        for i, r in df.iterrows():
            sig = r["ci_low"] > 0 or r["ci_high"] < 0
            c = ("#2a9d5c" if r["diff"] > 0 else "#c0392b") if sig else "#8a8f96"
            # rounded CSV values can put the estimate a hair outside its interval
            ax.errorbar([r["diff"]], [i], xerr=[[max(0.0, r["diff"] - r["ci_low"])],
                                              [max(0.0, r["ci_high"] - r["diff"])]],
                        fmt="o", color=c, ms=6, capsize=4, elinewidth=2, label=r["label"])
            if r["ci_high"] > x1 or r["ci_low"] < x0:
                right = r["diff"] > x1 or r["ci_high"] > x1
                ax.plot([x1 if right else x0], [i], ">" if right else "<", color=c, ms=9,
                        clip_on=False, gid="off-scale")
            ax.text(1.04, i, texts[i], transform=ax.get_yaxis_transform(), va="center",
                    fontsize=9, color="#333333", gid="value")
        ax.text(1.04, n - 0.4, "difference [95% interval]", transform=ax.get_yaxis_transform(),
                va="bottom", fontsize=8, color="#777777")
        ax.set_yticks(range(n), df["label"])
        ax.set_ylim(-0.6, n - 0.4)
        ax.set_xlim(x0, x1)
        ax.xaxis.set_major_formatter(FuncFormatter(
            lambda v, _: "0" if abs(v) < 1e-12 else f"{100 * v:+.{0 if abs(v) >= 0.005 else 1}f}"))
        off = any(a.get_gid() == "off-scale" for a in ax.lines)
        ax.set_xlabel(f"Difference in P(sign) from {baseline}, percentage points (paired "
                      "worlds; bar: 95% Monte Carlo interval)"
                      + ("\narrow: beyond the axis (its numbers are printed)" if off else ""))
        ax.grid(axis="y", visible=False)
    return fig


# ---------------------------------------------------------------- numeric sweep: 1 key
def p_sign_vs_value(df: pd.DataFrame, *, xlabel: str, horizon_weeks: int | None = None,
                    colors: Mapping[str, str] | None = None,
                    subtitle: str | None = None, title: str | None = None) -> Figure:
    """P(sign) against a swept numeric value, with a 95 % interval band.

    Args:
        df: Columns ``value``, ``p_sign``, ``ci_low``, ``ci_high`` and optionally
            ``label`` (one line per label, e.g. per scenario).
        xlabel: Name (and unit) of the swept parameter.
        horizon_weeks: Horizon (for the axis label).
        colors: ``{label: colour}`` (default: :func:`colours` in order of appearance).
        subtitle: What was held fixed.
        title: Overrides the default title.

    Returns:
        A figure with one axes; one line (and band) per label.
    """
    d = df.copy()
    if "label" not in d:
        d["label"] = "P(sign)"
    labels = list(dict.fromkeys(d["label"]))
    cols = dict(colors) if colors else colours(labels)
    title = title or f"P(sign) as {_last(xlabel)} varies"
    with mpl.rc_context(_RC):
        fig = _figure(8.0, 5.0, title, subtitle)
        ax = fig.add_subplot()
        for lab in labels:
            g = d[d["label"] == lab].sort_values("value")
            ax.fill_between(g["value"], g["ci_low"], g["ci_high"], color=cols[lab],
                            alpha=0.2, lw=0)
            ax.plot(g["value"], g["p_sign"], "-o", color=cols[lab], lw=2, ms=5, label=lab)
        ax.set_ylim(0, min(1.0, max(0.05, float(d["ci_high"].max()) * 1.15)))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"P(sign {_horizon_text(horizon_weeks)}), %\n(band: 95% Wilson interval)")
        if len(labels) > 1:
            ax.legend(title="Scenario", title_fontsize=9)
    return fig


# ------------------------------------------------------- the ratification gate's curves
#: Panels of :func:`gate_curves`: column ``panel`` value -> x-axis label.
GATE_PANELS = {
    "yes_share": "Referendum yes share drawn for the world\n(share of votes cast on a "
                 "neutral day)",
    "opposition_votes": "Opposition yes votes expected at the start\n(seats x willingness "
                        "over factions; 6 needed)",
}


def gate_curves(df: pd.DataFrame, *, horizon_weeks: int | None = None,
                colors: Mapping[str, str] | None = None, subtitle: str | None = None,
                title: str | None = None) -> Figure:
    """P(sign) against the per-world draws that decide the constitutional gate.

    Args:
        df: Columns ``panel`` (keys of :data:`GATE_PANELS`), ``label`` (run), ``value``
            (bin centre), ``p_sign``, ``ci_low``, ``ci_high`` and ``n`` (worlds in the
            bin), as built by :func:`sim.viz.report.gate_curves`.
        horizon_weeks: Horizon (for the axis label).
        colors: ``{label: colour}``.
        subtitle: What was held fixed.
        title: Overrides the default title.

    Returns:
        A figure with one panel per quantity present in ``df``.
    """
    panels = [p for p in GATE_PANELS if p in set(df["panel"])]
    labels = list(dict.fromkeys(df["label"]))
    cols = dict(colors) if colors else colours(labels)
    title = title or "P(sign) against what decides the constitutional gate"
    with mpl.rc_context(_RC):
        fig = _figure(5.2 * max(1, len(panels)) + 0.6, 4.8, title, subtitle)
        axes = fig.subplots(1, max(1, len(panels)), squeeze=False)[0]
        top = max(0.05, float(df["ci_high"].max()) * 1.15) if len(df) else 0.05
        for ax, panel in zip(axes, panels, strict=False):
            d = df[df["panel"] == panel]
            for lab in labels:
                g = d[d["label"] == lab].sort_values("value")
                if not len(g):
                    continue
                ax.fill_between(g["value"], g["ci_low"], g["ci_high"], color=cols[lab],
                                alpha=0.2, lw=0)
                ax.plot(g["value"], g["p_sign"], "-o", color=cols[lab], lw=2, ms=4,
                        label=lab)
            ax.set_ylim(0, min(1.0, top))
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.set_xlabel(GATE_PANELS[panel])
            if panel == "yes_share":
                ax.axvline(0.5, color="#999999", lw=1, ls="--")
        axes[0].set_ylabel(f"P(sign {_horizon_text(horizon_weeks)}), %\n"
                           "(band: 95% Wilson interval)")
        if len(labels) > 1:
            axes[0].legend(title="Scenario", title_fontsize=9)
    return fig


# ---------------------------------------------------------------- numeric sweep: 2 keys
def p_sign_heatmap(df: pd.DataFrame, *, xlabel: str, ylabel: str,
                   horizon_weeks: int | None = None, subtitle: str | None = None,
                   title: str | None = None) -> Figure:
    """P(sign) over a grid of two swept values, as an annotated heat map.

    Args:
        df: Columns ``x``, ``y`` (the two swept values) and ``p_sign``; optionally
            ``ci_low``/``ci_high`` (printed under each estimate).
        xlabel: Name (and unit) of the parameter on the x axis.
        ylabel: Name (and unit) of the parameter on the y axis.
        horizon_weeks: Horizon (for the colour bar label).
        subtitle: What was held fixed.
        title: Overrides the default title.

    Returns:
        A figure with the heat map axes and a colour bar.
    """
    grid = df.pivot_table(index="y", columns="x", values="p_sign", aggfunc="mean")
    lo = df.pivot_table(index="y", columns="x", values="ci_low") if "ci_low" in df else None
    hi = df.pivot_table(index="y", columns="x", values="ci_high") if "ci_high" in df else None
    xs, ys = list(grid.columns), list(grid.index)
    title = title or (f"P(sign) over {_last(xlabel)} and {_last(ylabel)}")
    with mpl.rc_context(_RC):
        fig = _figure(1.8 + 1.05 * len(xs) + 1.2, 1.6 + 0.75 * len(ys) + 0.6, title, subtitle)
        ax = fig.add_subplot()
        vmax = max(0.05, float(np.nanmax(grid.to_numpy())))
        im = ax.imshow(grid.to_numpy(), origin="lower", cmap="viridis", vmin=0, vmax=vmax,
                       aspect="auto")
        for (i, j), v in np.ndenumerate(grid.to_numpy()):
            if np.isnan(v):
                continue
            txt = percent(v)
            if lo is not None and hi is not None:
                txt += f"\n{100 * lo.iloc[i, j]:.0f}–{100 * hi.iloc[i, j]:.0f}"
            ax.text(j, i, txt, ha="center", va="center", fontsize=8,
                    color="white" if v < 0.6 * vmax else "black")
        ax.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
        ax.set_yticks(range(len(ys)), [f"{y:g}" for y in ys])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(False)
        cb = fig.colorbar(im, ax=ax, format=PercentFormatter(1.0, decimals=0))
        cb.set_label(f"P(sign {_horizon_text(horizon_weeks)}), %")
    return fig


# ------------------------------------------------------------------------ trajectories
def _band(ax, x: np.ndarray, lo: object, hi: object, **kw: Any) -> PolyCollection:
    """A filled band between ``lo`` and ``hi`` (as ``fill_between``, gaps where NaN).

    Built as one polygon per run of finite values: ``fill_between`` costs several
    milliseconds per call, which adds up over small multiples.
    """
    x = np.asarray(x, dtype=float)
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    ok = np.isfinite(x) & np.isfinite(lo) & np.isfinite(hi)
    edges = np.flatnonzero(np.diff(np.r_[0, ok.astype(np.int8), 0]))
    verts = [np.r_[np.c_[x[a:b], lo[a:b]], np.c_[x[a:b][::-1], hi[a:b][::-1]]]
             for a, b in zip(edges[::2], edges[1::2], strict=True)]
    coll = PolyCollection(verts, **kw)
    # the data limits grow to the band; the view is autoscaled once, when drawn (asking
    # add_collection to do it autoscales the view at once, each time: slow in grids)
    ax.add_collection(coll, autolim=False)
    if verts:
        ax.update_datalim(np.concatenate(verts))
        ax.autoscale_view(scalex=False, scaley=False)  # marks the view stale, lazily
    return coll


def _centre_and_band(d: pd.DataFrame, name: str) -> tuple[pd.Series, object, object]:
    """The line and band drawn for one series: see :data:`RATE_SERIES`."""
    if name in RATE_SERIES:
        lo, hi = d.get(f"{name}_ci_low"), d.get(f"{name}_ci_high")
        return d[f"{name}_mean"], lo, hi
    return d[f"{name}_q50"], d[f"{name}_q10"], d[f"{name}_q90"]


def _band_text(name: str) -> str:
    if name in RATE_SERIES:
        return "line: mean over active worlds; band: its 95% interval"
    return "line: median active world; band: 10–90%"


def trajectories(steps: Mapping[str, pd.DataFrame],
                 series: Sequence[str] = TRAJECTORY_SERIES, *,
                 colors: Mapping[str, str] | None = None,
                 subtitle: str | None = None, title: str | None = None) -> Figure:
    """Each series over time in the worlds still active each week, one line per scenario.

    Rates (:data:`RATE_SERIES`, e.g. incidents) are drawn as the mean per active
    world-week with the 95 % interval of that mean; the other series as the median
    active world with the 10–90 % band of active worlds.

    Args:
        steps: ``{label: steps table}`` where each table has ``week`` and, per series,
            ``<series>_q10``, ``<series>_q50`` and ``<series>_q90``; for a rate
            ``<series>_mean`` and (optional) ``<series>_ci_low`` / ``<series>_ci_high``
            (as built by :func:`sim.viz.report.trajectory_steps`).
        series: Which series to draw, one panel each.
        colors: ``{label: colour}`` (default: :func:`colours` in the mapping's order).
        subtitle: What was held fixed.
        title: Overrides the default title.

    Returns:
        A figure with one axes per series (title = series name), one line per scenario
        in each (label = scenario).
    """
    labels = list(steps)
    cols = dict(colors) if colors else colours(labels)
    ncol = 2 if len(series) > 1 else 1
    nrow = int(np.ceil(len(series) / ncol))
    title = title or "How the situation evolves in the worlds still active each week"
    band = "band: 10–90% of active worlds"
    if any(s in RATE_SERIES for s in series):
        band += " (incidents: 95% interval of the mean)"
    with mpl.rc_context(_RC):
        width = 5.2 * ncol + 0.4
        # legend columns that fit the width, from the entries' measured widths
        entry = _text_inches([*labels, band], 9) + 0.75
        per_row = max(1, min(4, int((width - 0.2) // entry)))
        if _text_inches([band], 9) + 0.75 > (width - 0.2) / per_row:
            per_row = max(1, per_row - 1)
        rows = int(np.ceil((len(labels) + 1) / per_row))
        fig = _figure(width, 3.3 * nrow + 0.9, title, subtitle,
                      legend_space=0.26 * rows + 0.04)
        axes = fig.subplots(nrow, ncol, sharex=True, squeeze=False).ravel()
        for ax, name in zip(axes, series, strict=False):
            disp, unit = SERIES_STYLE.get(name, (name, name))
            for lab in labels:
                d = steps[lab]
                x = d["week"].to_numpy()
                centre, lo, hi = _centre_and_band(d, name)
                if lo is not None and hi is not None:
                    _band(ax, x, lo, hi, color=cols[lab], alpha=0.18, lw=0)
                ax.plot(x, centre, color=cols[lab], lw=1.8, label=lab)
            ax.set_title(disp)
            ax.set_ylabel(unit)
            ax.set_xlim(0, max(int(d["week"].max()) + 1, 1))
            ax.set_ylim(bottom=0)
            ax.text(0.99, 0.97, _band_text(name), transform=ax.transAxes, ha="right",
                    va="top", fontsize=7.5, color="#666666", gid="band")
        for ax in axes[len(series):]:
            ax.set_visible(False)
        for ax in axes[max(0, len(series) - ncol):len(series)]:
            ax.set_xlabel("Weeks since the scenario's start")
        handles: list[Artist] = [Line2D([], [], color=cols[lab], lw=2.2, label=lab)
                                 for lab in labels]
        handles.append(Patch(facecolor="#999999", alpha=0.3, label=band))
        fig.legend(handles=handles, loc="upper left", ncols=min(len(handles), per_row),
                   bbox_to_anchor=(0.0, fig.legend_y), fontsize=9)
    return fig


def trajectory_panels(steps: Mapping[str, pd.DataFrame], series: str,
                      reference: str | Mapping[str, str], *,
                      colors: Mapping[str, str] | None = None, ncols: int = 4,
                      subtitle: str | None = None, title: str | None = None) -> Figure:
    """One series for many scenarios: one small panel per scenario against its reference.

    Each panel shows the reference (grey band, black line) and one other scenario
    (coloured band and line), so that many scenarios can be compared without their
    bands piling up. The weeks are shared; each panel has its own y scale (from zero to
    its highest band), so a scenario with ten times the incidents does not flatten the
    others. Lines and bands are as in :func:`trajectories`.

    Args:
        steps: ``{label: steps table}`` as for :func:`trajectories`.
        series: The series to draw (a key of :data:`SERIES_STYLE`).
        reference: Label of the run drawn in every panel (usually the baseline), or
            ``{label: reference label}``: each run against its own reference (in a grid
            sweep, the baseline job with the same other swept values); runs not in the
            mapping get no panel.
        colors: ``{label: colour}`` (default: :func:`colours` in the mapping's order).
        ncols: Panels per row.
        subtitle: What was held fixed.
        title: Overrides the default title.

    Returns:
        A figure with one axes per compared run (title = its label; with several
        references, the label and "vs <reference>" on two lines). In each, the first
        line is the reference (label = reference) and the second the run.
    """
    if isinstance(reference, str):
        refs = {lab: reference for lab in steps if lab != reference}
    else:
        refs = {lab: ref for lab, ref in reference.items() if lab in steps and ref in steps}
    labels = [lab for lab in steps if lab in refs]
    several = len(set(refs.values())) > 1
    cols = dict(colors) if colors else colours(list(steps))
    ncols = max(1, min(ncols, len(labels)))
    nrows = max(1, int(np.ceil(len(labels) / ncols)))
    disp, unit = SERIES_STYLE.get(series, (series, series))
    against = ("the baseline with the same other swept values" if several
               else next(iter(refs.values()), str(reference)))
    how = ("mean per active world-week, 95% band" if series in RATE_SERIES
           else "median and 10–90% band of active worlds")
    title = title or f"{disp}: each run against {against} ({how}; own scale per panel)"
    # fixed margins in inches: a grid of small panels needs no layout solver
    axw, axh, left, right, bottom = 3.0, 1.75, 0.8, 0.2, 0.55
    tline = 0.2 * (2 if several else 1)
    gap_h, gap_w = tline + 0.32, 0.5
    width = left + right + ncols * axw + (ncols - 1) * gap_w
    body = tline + 0.1 + nrows * axh + (nrows - 1) * gap_h + bottom
    with mpl.rc_context(_RC):
        fig = _figure(width, body + 0.65, title, subtitle, layout=False)
        W, H = fig.get_figwidth(), fig.get_figheight()
        top = H - fig.head_inches - tline - 0.1
        axh = (top - bottom - (nrows - 1) * gap_h) / nrows
        gs = fig.add_gridspec(nrows, ncols, left=left / W, right=1 - right / W,
                              bottom=bottom / H, top=top / H, wspace=gap_w / axw,
                              hspace=gap_h / axh)
        axes = gs.subplots(sharex=True, sharey=False, squeeze=False).ravel()
        xmax = max(int(steps[lab]["week"].max()) + 1 for lab in steps)
        step = 52 if xmax > 78 else (13 if xmax > 20 else max(1, xmax // 4))
        xt = list(range(0, xmax + 1, step))
        for ax, lab in zip(axes, labels, strict=False):
            ref = refs[lab]
            top_y = 0.0
            for name, c, z, lw in ((ref, "#666666", 1, 1.4), (lab, cols[lab], 2, 1.8)):
                d = steps[name]
                x = d["week"].to_numpy()
                centre, lo, hi = _centre_and_band(d, series)
                if lo is not None and hi is not None:
                    _band(ax, x, lo, hi, color=c, alpha=0.18, lw=0, zorder=z)
                ax.plot(x, centre, color=c if c != "#666666" else "#111111", lw=lw,
                        zorder=z + 1, label=name)
                vals = np.asarray(hi if hi is not None else centre, dtype=float)
                vals = np.r_[vals, np.asarray(centre, dtype=float)]
                if np.isfinite(vals).any():
                    top_y = max(top_y, float(np.nanmax(vals)))
            # each panel its own scale; ticks fixed once (the default locator and
            # formatter would be re-run for every panel at every draw)
            top_y = top_y * 1.08 if top_y > 0 else 1.0
            ax.set_ylim(0, top_y)
            yt = [v for v in MaxNLocator(4).tick_values(0, top_y) if 0 <= v <= top_y]
            ax.yaxis.set_major_locator(FixedLocator(yt))
            ax.yaxis.set_major_formatter(FixedFormatter([f"{v:g}" for v in yt]))
            ax.tick_params(labelsize=8)
            ax.set_title(f"{lab}\nvs {ref}" if several else lab, fontsize=9.5)
        axes[0].set_xlim(0, xmax)  # shared: once for all (each call updates every panel)
        for ax in axes[len(labels):]:
            ax.set_visible(False)
        for i, ax in enumerate(axes[:len(labels)]):
            if i % ncols == 0:
                ax.set_ylabel(unit if len(unit) < 28 else unit.split(" (")[0], fontsize=8.5)
            if i >= len(labels) - ncols:
                ax.set_xlabel("weeks since start", fontsize=8.5)
                ax.tick_params(labelbottom=True)
        axes[0].xaxis.set_major_locator(FixedLocator(xt))
        axes[0].xaxis.set_major_formatter(FixedFormatter([str(v) for v in xt]))
    return fig


# ---------------------------------------------------------------- one world's timeline
_STAGE_NAMES = {int(s): s.label for s in Stage}


def world_timeline(trace: pd.DataFrame, *, issues: Sequence[str] | None = None,
                   issue_labels: Mapping[str, Mapping[str, str] | str] | None = None,
                   actor_labels: Mapping[str, str] | None = None,
                   subtitle: str | None = None, title: str | None = None,
                   footnote: str | None = None, tail_weeks: int = 12) -> Figure:
    """The story of one world: incidents, climate, the table, concessions and events.

    Panels, sharing a date axis: a strip of dated events (parliament votes, referendums,
    elections, monitors leaving, signing or escalation); border incidents per week (with
    deaths marked); tension, trust, mobilisation and public support; the tabled package
    on each issue (heat strip); and each signatory's distance from the table, which
    concessions close, with the weeks it would accept the table marked. A world that
    signs or escalates stops there: the figure ends ``tail_weeks`` later.

    Args:
        trace: One world's rows of ``Result.trace`` (one row per week) with ``week``,
            ``date``, the series, ``table.<issue>``, ``position.<side>.<issue>``,
            ``accept.<side>``, ``fatalities``, ``event``, ``status`` and
            ``monitors.<mediator>``.
        issues: Issue order; defaults to the ``table.*`` columns' order.
        issue_labels: ``{issue: label}`` or ``{issue: {"label": ...}}``.
        actor_labels: Display names of the actors.
        subtitle: What was held fixed.
        title: Overrides the default title.
        footnote: Small print under the panels (e.g. the values drawn for this world),
            wrapped to the figure's width.
        tail_weeks: Weeks shown after signing or escalation.

    Returns:
        A figure with five axes (events, incidents, climate, table, concessions).

    Raises:
        ValueError: ``trace`` holds more than one world.
    """
    if "world" in trace and trace["world"].nunique() > 1:
        raise ValueError("world_timeline takes one world's rows; filter on 'world' first")
    tr = trace.sort_values("week").reset_index(drop=True)
    status = tr["status"].to_numpy()
    end_i = next((i for i, v in enumerate(status) if v != Status.ACTIVE), None)
    if end_i is not None:
        tr = tr.iloc[: min(len(tr), end_i + 1 + tail_weeks)].reset_index(drop=True)
    issues = list(issues) if issues is not None else [c[6:] for c in tr.columns
                                                      if c.startswith("table.")]
    issue_labels = issue_labels or {}
    actor_labels = actor_labels or {}
    sides = list(dict.fromkeys(c.split(".")[1] for c in tr.columns
                               if c.startswith("position.")))
    mediators = [c.split(".", 1)[1] for c in tr.columns if c.startswith("monitors.")]
    dated = "date" in tr
    x = (np.asarray(pd.to_datetime(tr["date"]).dt.to_pydatetime()) if dated
         else tr["week"].to_numpy())
    events = _timeline_events(tr, x, mediators, actor_labels)
    frozen = np.zeros(len(tr), dtype=bool)
    if end_i is not None:
        frozen[end_i + 1:] = True
    title = title or "One world's path"
    with mpl.rc_context(_RC):
        foot = textwrap.fill(footnote, int((11.5 - 0.3) * 72 / (7.5 * 0.56))) if footnote \
            else ""
        foot_h = (0.13 * (foot.count("\n") + 1) + 0.2) if foot else 0.0
        lanes = _event_lanes_guess(len(events))
        fig = _figure(11.5, 12.5 + foot_h + 0.3 * max(0, lanes - 3), title, subtitle)
        if foot:  # room for the footnote under the panels
            eng = fig.get_layout_engine()
            rect = eng.get()["rect"] if eng is not None else (0.0, 0.0, 1.0, 1.0)
            y0 = foot_h / fig.get_figheight()
            fig.set_layout_engine(ConstrainedLayoutEngine(
                rect=(rect[0], y0, rect[2], rect[3] - y0), h_pad=0.06))
        axes = fig.subplots(5, 1, sharex=True,
                            gridspec_kw=dict(height_ratios=[
                                1.0 + 0.25 * max(0, lanes - 3), 1.1, 1.7, 1.9, 1.6]))
        ev_ax, inc_ax, clim_ax, tab_ax, con_ax = axes
        # x edges (one cell per week) for the heat strip and the limits
        if dated:
            half = (x[1] - x[0]) / 2 if len(x) > 1 else dt.timedelta(days=3.5)
            edges = np.array([*(xi - half for xi in x), x[-1] + half])
        else:
            edges = np.append(x - 0.5, x[-1] + 0.5)
        # events strip: labels placed after the layout (see _place_events)
        ev_ax.set_yticks([])
        ev_ax.grid(False)
        ev_ax.spines["left"].set_visible(False)
        ev_ax.set_title("Events")
        for when, _, colour in events:
            for ax in axes[1:]:
                ax.axvline(when, color=colour, lw=0.9, ls="--", alpha=0.7, zorder=1)
        if not events:
            ev_ax.set_ylim(0, 1)
            ev_ax.text(0.5, 0.5, "no dated events in this world", transform=ev_ax.transAxes,
                       ha="center", va="center", color="#888888")
        # incidents and deaths
        width = 5.0 if dated else 0.8
        inc = np.where(frozen, 0.0, tr["incidents"].to_numpy(dtype=float))
        fat = (np.where(frozen, 0.0, tr["fatalities"].to_numpy(dtype=float))
               if "fatalities" in tr else np.zeros(len(tr)))
        inc_ax.bar(x, inc, width=width, color="#6b7785", label="incidents")
        top = max(1.0, float(inc.max()))
        dead = fat > 0
        if dead.any():
            inc_ax.plot(x[dead], inc[dead] + 0.25 * top, "v", color="#c0392b", ms=7,
                        label="week with deaths")
            for xi, yi, f in zip(x[dead], inc[dead], fat[dead], strict=True):
                inc_ax.text(xi, yi + 0.42 * top, f"{int(f)}", ha="center", va="bottom",
                            fontsize=8, color="#c0392b")
        inc_ax.set_ylim(0, top * 1.75)
        inc_ax.set_ylabel("incidents / week")
        inc_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        inc_ax.set_title(f"Border incidents: {int(inc.sum())} in all, "
                         f"{int(fat.sum())} deaths")
        inc_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8.5)
        # climate
        for name, short, c in (("tension", "Tension", "#c0392b"),
                               ("trust", "Trust", "#1f5a96"),
                               ("mobilisation", "Opposition mobilisation", "#e39b2d"),
                               ("support", "Public support", "#2a9d5c")):
            if name in tr:
                clim_ax.plot(x, np.where(frozen, np.nan, tr[name].to_numpy(dtype=float)),
                             color=c, lw=1.8, label=short)
        clim_ax.set_ylim(0, 1)
        clim_ax.set_ylabel("index / share (0–1)")
        clim_ax.set_title("Political climate")
        clim_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8.5)
        # table heat strip
        tab = np.vstack([tr[f"table.{i}"].to_numpy(dtype=float) for i in issues])
        tab_shown = np.where(frozen[None, :], np.nan, tab)
        cmap = mpl.colormaps["cividis"].with_extremes(bad="#f2f2f2")
        mesh = tab_ax.pcolormesh(edges, np.arange(len(issues) + 1), tab_shown, cmap=cmap,
                                 vmin=0, vmax=1, shading="flat")
        names = []
        for i in issues:
            meta = issue_labels.get(i, i)
            names.append(meta.get("label", i) if isinstance(meta, Mapping) else str(meta))
        tab_ax.set_yticks(np.arange(len(issues)) + 0.5, names)
        tab_ax.set_ylim(len(issues), 0)
        tab_ax.grid(False)
        tab_ax.set_title("Package on the table (colour: position on each issue)")
        cb = fig.colorbar(mesh, ax=tab_ax, pad=0.01, aspect=14, fraction=0.025)
        cb.set_label("position (0–1)", fontsize=8.5)
        cb.ax.tick_params(labelsize=8)
        # concessions: distance between each side's stated position and the table
        for n, side in enumerate(sides):
            pos = np.vstack([tr[f"position.{side}.{i}"].to_numpy(dtype=float)
                             for i in issues])
            gap = np.where(frozen, np.nan, np.abs(pos - tab).mean(axis=0))
            c = _PALETTE[n % len(_PALETTE)]
            name = actor_labels.get(side, side)
            con_ax.plot(x, gap, color=c, lw=1.8, label=f"{name}: gap")
            acc = tr.get(f"accept.{side}")
            if acc is not None:
                m = acc.to_numpy(dtype=bool) & ~frozen
                con_ax.plot(x[m], gap[m], "|", color=c, ms=8, mew=1.3,
                            label=f"{name} would accept")
        con_ax.set_ylim(bottom=0)
        con_ax.set_ylabel("mean |position − table|\n(issue units, 0–1)")
        con_ax.set_title("Concessions: each side's distance from the table")
        con_ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8.5)
        con_ax.set_xlabel("Date" if dated else "Weeks since the scenario's start")
        if end_i is not None:
            for ax in (inc_ax, clim_ax, con_ax):
                ax.axvspan(x[end_i], edges[-1], color="#f2f2f2", zorder=0, lw=0)
            what = "signed" if status[end_i] == Status.SIGNED else "escalated"
            clim_ax.text(x[end_i], 0.96, f"  {what}: the world stops here", va="top",
                         fontsize=8.5, color="#666666")
        con_ax.set_xlim(edges[0], edges[-1])
        if footnote:
            fig.text(0.12 / fig.get_figwidth(), 0.08 / fig.get_figheight(),
                     foot, ha="left", va="bottom", fontsize=7.5, color="#555555",
                     gid="footnote", linespacing=1.2)
        if events:
            _place_events(fig, ev_ax, events)
    return fig


def _event_lanes_guess(n_events: int) -> int:
    """Lanes the event strip is given room for before labels are measured (3 to 8)."""
    return int(min(8, max(3, np.ceil(n_events / 3))))


def _place_events(fig: Figure, ax: Any, events: Sequence[tuple[object, str, str]],
                  size: float = 9.0) -> None:
    """Event stems and labels in lanes, so that no label touches another.

    The figure is laid out once to know the strip's width in pixels; each label's width
    is measured with the renderer. Events are taken in time order; each goes into the
    first lane (from the top) where its label keeps clear of every label already there.
    A label that would run past the right edge is written to the left of its event.
    Stems are faint and pass behind the labels (which have a white ground).
    """
    fig.draw_without_rendering()  # the layout: the strip's final width and position
    renderer = RendererAgg(int(fig.bbox.width), int(fig.bbox.height), fig.dpi)
    to_px = ax.transData.transform
    x_of = {id(w): float(to_px((mdates.date2num(w) if isinstance(w, dt.datetime)
                                else float(w), 0))[0])  # type: ignore[arg-type]
            for w, _, _ in events}
    box = ax.get_window_extent(renderer)
    prop = FontProperties(size=size)
    bold = FontProperties(size=size, weight="bold")
    pad = 6.0 * fig.dpi / 72  # pixels of clear space around a label
    # lanes from the top; each holds the label spans of its events
    lanes: list[list[tuple[float, float]]] = []
    placed = []
    for when, text, colour in events:
        xp = x_of[id(when)] if id(when) in x_of else 0.0
        w = renderer.get_text_width_height_descent(
            f" {text} ", bold if text.isupper() else prop, ismath=False)[0]
        right = xp + w <= box.x1
        span = (xp, xp + w) if right else (xp - w, xp)
        lane = next((k for k, ln in enumerate(lanes)
                     if all(span[1] + pad <= a or b + pad <= span[0] for a, b in ln)), None)
        if lane is None:
            lanes.append([])
            lane = len(lanes) - 1
        lanes[lane].append(span)
        placed.append((when, f" {text} ", colour, lane, right))
    n = max(len(lanes), 3)
    ax.set_ylim(0, n + 0.1)
    for when, label, colour, lane, right in placed:
        level = n - lane - 0.45  # lane 0 at the top
        ax.plot([when, when], [0, level], color=colour, lw=1.0, alpha=0.5, zorder=1)
        ax.plot([when], [level], "o", color=colour, ms=5, zorder=3)
        t = ax.text(when, level, label, va="center", ha="left" if right else "right",
                    fontsize=size, color=colour, gid="event", zorder=2,
                    fontweight="bold" if label.strip().isupper() else "normal",
                    bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=0.5))
        t.set_in_layout(False)  # placed inside the strip already: no relayout for it


def _timeline_events(tr: pd.DataFrame, x: np.ndarray, mediators: Sequence[str],
                     actor_labels: Mapping[str, str]) -> list[tuple[object, str, str]]:
    """Dated events of one world: (x, text, colour), in time order."""
    out: list[tuple[int, object, str, str]] = []
    ev = DomesticEvent
    colour = {ev.REFERENDUM_PASSED.label: "#2a9d5c", ev.REFERENDUM_FAILED.label: "#c0392b",
              ev.VOTE_FAILED.label: "#c0392b", ev.GOVERNMENT_FELL.label: "#e39b2d",
              ev.ELECTION_LOST.label: "#e39b2d", ev.TEXT_REJECTED.label: "#c0392b",
              ev.EARLY_ELECTION.label: "#c0392b"}
    if "event" in tr:
        for i, e in enumerate(tr["event"].fillna("").astype(str)):
            if e:
                out.append((i, x[i], e, colour.get(e, "#444444")))
    for med in mediators:
        m = tr[f"monitors.{med}"].to_numpy(dtype=float)
        for i in range(1, len(m)):
            if m[i - 1] > 0.5 >= m[i]:
                out.append((i, x[i], f"{actor_labels.get(med, med)} monitors leave",
                            "#5b6d8a"))
    status = tr["status"].to_numpy()
    end = next((i for i, s in enumerate(status) if s != Status.ACTIVE), None)
    if end is not None:
        if status[end] == Status.SIGNED:
            out.append((end, x[end], "TREATY SIGNED", "#1e7d46"))
        else:
            out.append((end, x[end], "ESCALATION", "#a01f13"))
    out.sort(key=lambda t: t[0])
    return [(w, t, c) for _, w, t, c in out]


# ------------------------------------------------------------------ sensitivity (sim-explore)
#: Most inputs a ranked bar chart shows (sim-explore's default inputs are every
#: assumption of configs/priors.yaml, about 200).
MAX_BARS = 40
#: Most near-zero inputs the Morris plane names.
MAX_NAMED_SMALL = 16


def short_keys(keys: Sequence[str], min_parts: int = 1) -> dict[str, str]:
    """Shortest dotted suffix of each key, unique among ``keys``, of >= ``min_parts``."""
    out = {}
    for k in keys:
        parts = k.split(".")
        for n in range(min(min_parts, len(parts)), len(parts) + 1):
            suf = ".".join(parts[-n:])
            if sum(1 for o in keys if o == suf or o.endswith("." + suf)) == 1:
                out[k] = suf
                break
        else:
            out[k] = k
    return out


def _short_names(names: Sequence[str]) -> dict[str, str]:
    """Shortest dotted suffix (at least two parts) that is unique among ``names``."""
    return short_keys(names, min_parts=2)


def sobol_bars(indices: pd.DataFrame, output: str, *, output_label: str | None = None,
               subtitle: str | None = None, title: str | None = None) -> Figure:
    """Ranked Sobol indices of one output: total (ST) and first-order (S1) with intervals.

    Args:
        indices: Long table with ``output``, ``input``, ``index`` (``S1``/``ST``),
            ``value``, ``low`` and ``high`` (as written by ``sim-explore``).
        output: Which output to draw.
        output_label: Its display name (e.g. ``P(sign)``).
        subtitle: What was held fixed.
        title: Overrides the default title.

    Returns:
        A figure with one axes: two error-bar series (labels ``ST`` and ``S1``), inputs
        ranked by ST, highest at the top.
    """
    t = indices[indices["output"] == output]
    st = t[t["index"] == "ST"].set_index("input")
    s1 = t[t["index"] == "S1"].set_index("input")
    order = list(st.sort_values("value", ascending=True).index)
    if len(order) > MAX_BARS:  # every assumption an input: the largest, the rest in the csv
        subtitle = ((subtitle + "; ") if subtitle else "") + (
            f"the {MAX_BARS} largest of {len(order)} inputs by ST (indices.csv lists all)")
        order = order[-MAX_BARS:]
    short = _short_names(order)
    lab = output_label or output
    title = title or f"What drives {lab}: Sobol indices"
    n = len(order)
    with mpl.rc_context(_RC):
        fig = _figure(8.5, 1.5 + 0.36 * max(n, 2), title, subtitle)
        ax = fig.add_subplot()
        y = np.arange(n)
        for frame, name, off, colour in ((st, "ST", 0.15, "#1f5a96"), (s1, "S1", -0.15,
                                                                         "#d1603d")):
            v = frame.loc[order, "value"].to_numpy(dtype=float)
            lo = frame.loc[order, "low"].to_numpy(dtype=float)
            hi = frame.loc[order, "high"].to_numpy(dtype=float)
            ax.barh(y + off, v, height=0.28, color=colour, alpha=0.85,
                    label={"ST": "total index ST (with all interactions)",
                           "S1": "first-order index S1 (alone)"}[name])
            ax.errorbar(v, y + off, xerr=[v - lo, hi - v], fmt="none", ecolor="#333333",
                        elinewidth=1, capsize=2.5, label=name)
        ax.set_yticks(y, [("luck (worlds' own randomness)" if k == "luck" else short[k])
                          for k in order])
        ax.axvline(0, color="#888888", lw=0.8)
        ax.set_xlabel(f"share of the variance of the per-world {lab} outcome\n"
                      "(bar: estimate; whisker: 95% bootstrap interval)")
        handles, labels = ax.get_legend_handles_labels()
        keep = [i for i, lb in enumerate(labels) if lb not in ("ST", "S1")]
        ax.legend([handles[i] for i in keep], [labels[i] for i in keep], loc="lower right")
        ax.grid(axis="y", visible=False)
    return fig


def morris_bars(indices: pd.DataFrame, output: str, *, output_label: str | None = None,
                subtitle: str | None = None, title: str | None = None) -> Figure:
    """Ranked Morris mu* of one output with 95 % bootstrap intervals, largest at the top.

    Args:
        indices: Long table with ``output``, ``input``, ``index`` (``mu_star``),
            ``value``, ``low`` and ``high``.
        output: Which output to draw.
        output_label: Its display name.
        subtitle: What was held fixed.
        title: Overrides the default title.

    Returns:
        A figure with one axes: one bar per input and an error-bar series ``mu*``.
    """
    t = indices[(indices["output"] == output) & (indices["index"] == "mu_star")]
    t = t.sort_values("value", ascending=True)
    if len(t) > MAX_BARS:  # every assumption an input: the largest, the rest in the csv
        subtitle = ((subtitle + "; ") if subtitle else "") + (
            f"the {MAX_BARS} largest of {len(t)} inputs (indices.csv lists all)")
        t = t.iloc[-MAX_BARS:]
    names = list(t["input"])
    short = _short_names(names)
    lab = output_label or output
    title = title or f"What drives {lab}: Morris screening"
    with mpl.rc_context(_RC):
        fig = _figure(8.5, 1.5 + 0.32 * max(len(names), 2), title, subtitle)
        ax = fig.add_subplot()
        y = np.arange(len(names))
        v = t["value"].to_numpy(dtype=float)
        ax.barh(y, v, height=0.55, color="#1f5a96", alpha=0.85)
        ax.errorbar(v, y, xerr=[v - t["low"].to_numpy(dtype=float),
                                t["high"].to_numpy(dtype=float) - v], fmt="none",
                    ecolor="#333333", elinewidth=1, capsize=2.5, label="mu*")
        ax.set_yticks(y, [short[k] for k in names])
        ax.set_xlabel(f"mu*: mean |elementary effect| on {lab} per full quantile range\n"
                      "(bar: estimate; whisker: 95% bootstrap interval)")
        ax.grid(axis="y", visible=False)
    return fig


def morris_plane(indices: pd.DataFrame, output: str, *, output_label: str | None = None,
                 subtitle: str | None = None, title: str | None = None) -> Figure:
    """Morris screening of one output: mu* against sigma, one labelled point per input.

    Inputs far right matter; inputs high up act non-linearly or through interactions.
    Horizontal whiskers are mu*'s 95 % bootstrap interval.

    Returns:
        A figure with one axes and one error-bar series per input (label = input key).
    """
    t = indices[indices["output"] == output]
    mu = t[t["index"] == "mu_star"].set_index("input")
    sg = t[t["index"] == "sigma"].set_index("input")
    names = list(mu.sort_values("value", ascending=False).index)
    short = _short_names(names)
    lab = output_label or output
    title = title or f"Morris screening of {lab}: mean effect against its spread"
    with mpl.rc_context(_RC):
        fig = _figure(8.0, 5.5, title, subtitle)
        ax = fig.add_subplot()
        top = max(float(mu["high"].max()), float(sg["value"].max()), 1e-9)
        for i, k in enumerate(names):
            x, s = float(mu.loc[k, "value"]), float(sg.loc[k, "value"])
            ax.errorbar([x], [s], xerr=[[x - float(mu.loc[k, "low"])],
                                        [float(mu.loc[k, "high"]) - x]],
                        fmt="o", color=_PALETTE[i % len(_PALETTE)], ms=6, capsize=3,
                        label=k)
            if x > 0.02 * top or s > 0.02 * top:
                ax.annotate(short[k], (x, s), xytext=(5, 4), textcoords="offset points",
                            fontsize=8.5, color="#333333")
        small = [short[k] for k in names if float(mu.loc[k, "value"]) <= 0.02 * top
                 and float(sg.loc[k, "value"]) <= 0.02 * top]
        if len(small) > MAX_NAMED_SMALL:  # every assumption an input: name a few
            small = [*small[:MAX_NAMED_SMALL // 2],
                     f"... {len(small) - MAX_NAMED_SMALL // 2} more (indices.csv)"]
        if small:
            ax.text(0.99, 0.02, textwrap.fill("near zero: " + ", ".join(small), 60),
                    transform=ax.transAxes, ha="right", va="bottom", fontsize=8,
                    color="#555555")
        ax.plot([0, top], [0, top], ls=":", color="#999999", lw=1)
        ax.set_xlim(left=min(0.0, float(mu["low"].min())))
        ax.set_ylim(bottom=0)
        ax.set_xlabel(f"mu*: mean |elementary effect| on {lab} per full quantile range "
                      "(whisker: 95% interval)")
        ax.set_ylabel("sigma: spread of the elementary effects")
    return fig


def prim_trajectory(trajectory: pd.DataFrame, chosen: int, *, box: Mapping | None = None,
                    outcome: str = "signed", subtitle: str | None = None,
                    title: str | None = None) -> Figure:
    """PRIM's peeling trajectory: coverage against density, coloured by restrictions.

    Args:
        trajectory: One row per peeling step with ``coverage``, ``density`` and
            ``n_restricted``.
        chosen: The step the box was chosen at (ringed).
        box: The final (pasted) box: ``coverage`` and ``density`` (a star).
        outcome: The outcome's name (for labels).
        subtitle: What was held fixed.
        title: Overrides the default title.

    Returns:
        A figure with one axes (scatter collection, chosen ring, pasted star).
    """
    title = title or f"Where '{outcome}' is concentrated: PRIM peeling trajectory"
    with mpl.rc_context(_RC):
        fig = _figure(8.0, 5.0, title, subtitle)
        ax = fig.add_subplot()
        nres = trajectory["n_restricted"].to_numpy()
        cmap = mpl.colormaps["viridis"].resampled(max(int(nres.max()) + 1, 2))
        sc = ax.scatter(trajectory["coverage"], trajectory["density"], c=nres, cmap=cmap,
                        vmin=-0.5, vmax=max(int(nres.max()) + 0.5, 1.5), s=22, zorder=3)
        cb = fig.colorbar(sc, ax=ax, ticks=range(int(nres.max()) + 1))
        cb.set_label("parameters restricted")
        r = trajectory.iloc[chosen]
        ax.scatter([r["coverage"]], [r["density"]], s=160, facecolors="none",
                   edgecolors="#c0392b", linewidths=1.8, zorder=4, label="chosen box")
        if box is not None:
            ax.scatter([box["coverage"]], [box["density"]], marker="*", s=180,
                       color="#c0392b", zorder=5, label="after pasting")
        ax.set_xlabel(f"coverage: share of all '{outcome}' worlds inside the box")
        ax.set_ylabel(f"density: share of the box's worlds that are '{outcome}'")
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlim(0, 1.02)
        ax.legend(loc="lower left")
    return fig


def prim_box(box: Mapping, *, outcome: str = "signed", subtitle: str | None = None,
             title: str | None = None) -> Figure:
    """The chosen box's limits on each restricted parameter, within its drawn range.

    Args:
        box: ``limits``, ``data_range``, ``restricted`` and ``qp`` (as in
            ``exploration.json``).
        outcome: The outcome's name (for the title).
        subtitle: What was held fixed.
        title: Overrides the default title.

    Returns:
        A figure with one axes: a grey bar per restricted parameter (its whole drawn
        range) and a coloured bar for the box's limits, labelled with both values.
    """
    names = list(box["restricted"])
    short = _short_names(names) if names else {}
    title = title or f"The box where '{outcome}' is concentrated"
    with mpl.rc_context(_RC):
        fig = _figure(8.0, 1.3 + 0.55 * max(len(names), 1), title, subtitle)
        ax = fig.add_subplot()
        for i, nm in enumerate(names):
            dlo, dhi = box["data_range"][nm]
            lo, hi = box["limits"][nm]
            w = (dhi - dlo) or 1.0
            ax.barh(i, 1.0, left=0, color="#e3e3e3", height=0.5)
            ax.barh(i, (hi - lo) / w, left=(lo - dlo) / w, color="#2a9d5c", height=0.5)
            ax.annotate(f"{lo:.3g} – {hi:.3g}  (drawn {dlo:.3g} – {dhi:.3g}; "
                        f"qp {box.get('qp', {}).get(nm, float('nan')):.1g})", (1.01, i),
                        va="center", fontsize=8.5, annotation_clip=False)
        ax.set_yticks(range(len(names)), [short[n] for n in names])
        ax.set_xlim(0, 1)
        ax.set_xlabel("position within the parameter's drawn range (0 = lowest, 1 = highest)")
        ax.grid(axis="y", visible=False)
        if not names:
            ax.text(0.5, 0.5, "no restriction", ha="center", va="center")
    return fig


def backtest_reliability(scores: pd.DataFrame) -> Figure:
    """Reliability of the backtest's binary forecasts: forecast against what happened.

    One marker per (origin, fact) and forecaster (model, no change, climatology); the
    diagonal is perfect calibration. With a dozen facts this is a scatter, not binned
    frequencies: each point is one forecast and its outcome (0 or 1).

    Args:
        scores: :attr:`sim.analysis.backtest.Backtest.scores`.
    """
    b = scores[scores["kind"] == "binary"]
    fig = _figure(6.4, 4.6, "Backtest: binary forecasts against the record",
                  f"{len(b)} forecasts of dated facts from {b['origin'].nunique()} origins; "
                  "1 = the event happened. A forecaster on the diagonal is calibrated.")
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=1, zorder=0)
    rng = np.random.default_rng(0)  # vertical jitter only, for legibility
    for col, label, marker, color in (("forecast", "model", "o", "#1f77b4"),
                                      ("no_change", "no change", "s", "#7f7f7f"),
                                      ("climatology", "climatology", "^", "#ff7f0e")):
        y = b["observed"].to_numpy(float) + rng.uniform(-0.03, 0.03, len(b))
        ax.scatter(b[col], y, marker=marker, color=color, label=label, alpha=0.8)
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(-0.1, 1.1)
    ax.set_xlabel("forecast probability")
    ax.set_ylabel("what happened (0 no, 1 yes)")
    ax.legend(loc="center right", frameon=False)
    return fig
