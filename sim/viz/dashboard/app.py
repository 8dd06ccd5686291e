"""The dashboard page (Solara). Start it with ``sim-dashboard``.

Three tabs: *Ensemble* (a few thousand worlds of a scenario with the sliders' values:
P(sign) with its interval, the cumulative signing curve, outcome shares), *One world*
(one traced world stepped week by week: its timeline and state) and *Results folder*
(a sim-run output or sweep folder: its estimates and report figures). Everything is
computed by :mod:`sim.viz.dashboard.logic`.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import solara
import solara.lab

from sim.experiment.api import Result
from sim.experiment.settings import MAX_SEED
from sim.viz import report
from sim.viz.dashboard import logic

RESULTS_ENV = "SIM_DASHBOARD_RESULTS"

scenario = solara.reactive("baseline")
values = solara.reactive({k: v for k, (v, _) in logic.slider_defaults("baseline").items()})
worlds = solara.reactive(logic.DEFAULT_WORLDS)
seed = solara.reactive(0)
# (inputs shown, scenario, Result) of the last ensemble run
result: solara.Reactive[tuple[str, str, Result] | None] = solara.reactive(None)
# (inputs shown, RunData) of the traced world
world: solara.Reactive[tuple[str, report.RunData] | None] = solara.reactive(None)
week = solara.reactive(0)
folder = solara.reactive(os.environ.get(RESULTS_ENV, str(logic.RESULTS_DIR)))
problem = solara.reactive("")       # one line for the user when inputs are refused


def _set_scenario(name: str) -> None:
    scenario.value = name
    values.value = {k: v for k, (v, _) in logic.slider_defaults(name).items()}


def _set_value(key: str, v: float) -> None:
    values.value = {**values.value, key: float(v)}


def _inputs() -> str:
    moved = logic.flat(logic.overrides(scenario.value, values.value))
    return f"scenario {scenario.value}, seed {seed.value}" + (
        "; changed: " + ", ".join(moved) if moved else "; scenario values unchanged")


def _checked_seed() -> int | None:
    s = seed.value
    if not isinstance(s, int) or isinstance(s, bool) or not 0 <= s <= MAX_SEED:
        problem.value = f"seed {s}: allowed a whole number in [0, 2**63 - 1]"
        return None
    problem.value = ""
    return int(s)


def _run() -> None:
    s = _checked_seed()
    if s is None:
        return
    if worlds.value not in logic.WORLD_CHOICES:   # the page offers only these
        problem.value = (f"worlds {worlds.value}: allowed "
                         + ", ".join(f"{w:,}" for w in logic.WORLD_CHOICES))
        return
    res = logic.run_ensemble(scenario.value, values.value, int(worlds.value), s)
    result.value = (_inputs() + f", {int(worlds.value)} worlds", scenario.value, res)


def _trace() -> None:
    s = _checked_seed()
    if s is None:
        return
    run = logic.one_world(scenario.value, values.value, s)
    world.value = (_inputs(), run)
    week.value = 0


@solara.component
def Assumptions():
    """Scenario, the sliders and the seed."""
    start = logic.slider_defaults(scenario.value)
    solara.Select("Scenario", values=logic.scenario_names(), value=scenario.value,
                  on_value=_set_scenario, classes=["scenario-select"])
    for s in logic.SLIDERS:
        with solara.Column(classes=["slider-box", s.css], gap="0px"):
            solara.SliderFloat(s.label, value=values.value[s.key], min=s.low, max=s.high,
                               step=s.step, on_value=partial(_set_value, s.key),
                               thumb_label=True)
            solara.Text(f"{s.help}. {s.key} = {values.value[s.key]:g} "
                        f"(scenario: {start[s.key][1]})",
                        classes=["slider-value"], style={"font-size": "0.8em"})
    solara.InputInt("Seed", value=seed, classes=["seed-input"])
    if problem.value:
        solara.Error(problem.value, classes=["input-problem"])


@solara.component
def Ensemble():
    """Run a few thousand worlds and show the headline numbers and figures."""
    with solara.Row():
        solara.Select("Worlds", values=list(logic.WORLD_CHOICES), value=worlds)
        solara.Button("Run worlds", on_click=_run, color="primary", classes=["run-button"])
    if result.value is None:
        solara.Info("Pick a scenario, move the sliders, then run.")
    else:
        EnsembleResult(*result.value)


@solara.component
def EnsembleResult(inputs: str, name: str, res):
    """P(sign) with its interval, outcome shares, the signing curve of one run."""
    h = logic.headline(res)
    run = solara.use_memo(lambda: logic.as_run(res, name, name), [res])
    figs = solara.use_memo(lambda: logic.ensemble_figures(run), [run])
    solara.Text(inputs, classes=["run-inputs"])
    with solara.Card("P(sign) within the horizon", classes=["p-sign-card"]):
        solara.Text(h["p_sign"], classes=["p-sign"], style={"font-size": "2em"})
        solara.Text(f" 95% interval {h['ci']}", classes=["p-sign-ci"])
        solara.Text(f"; {h['signed']} of {h['worlds']} worlds signed",
                    classes=["signed-count"])
        solara.Text(h["note"], classes=["interval-note"],
                    style={"display": "block", "color": "#555", "font-size": "0.9em"})
    with solara.Row(classes=["outcome-shares"]):
        for c, v in h["shares"].items():
            solara.Text(f"{c}: {v}", classes=[f"share-{c.replace('_', '-')}"])
    solara.FigureMatplotlib(figs[0], dependencies=[res], format="png")
    solara.FigureMatplotlib(figs[1], dependencies=[res], format="png")


@solara.component
def OneWorld():
    """Trace one world and step through it week by week."""
    solara.Button("Trace one world", on_click=_trace, color="primary",
                  classes=["trace-button"])
    if world.value is None:
        solara.Info("Trace one world of the scenario (the seed picks which), then step "
                    "through its weeks.")
    else:
        WorldView(*world.value)


@solara.component
def WorldView(inputs: str, run):
    """One traced world at the chosen week: timeline so far and that week's state."""
    end = logic.last_week(run)
    w = min(week.value, end)
    with solara.Row():
        solara.Button("Previous week", on_click=lambda: week.set(max(w - 1, 0)),
                      disabled=w <= 0, classes=["prev-week"])
        solara.Button("Next week", on_click=lambda: week.set(min(w + 1, end)),
                      disabled=w >= end, classes=["next-week"])
        solara.Button("To the end", on_click=lambda: week.set(end), classes=["end-week"])
    solara.SliderInt("Week", value=w, min=0, max=end, on_value=week.set)
    outcome = str(run.worlds["outcome"].iloc[0])
    solara.Text(f"{inputs}. Week {w} of {end} (this world: {outcome} "
                f"{'in week ' + str(end) if outcome in ('signed', 'escalation') else ''})",
                classes=["week-label"])
    solara.Text(logic.week_summary(run, w), classes=["week-state"])
    fig = solara.use_memo(lambda: logic.timeline_until(run, w), [run, w])
    solara.FigureMatplotlib(fig, dependencies=[run, w], format="png")
    with solara.Details("Everything recorded this week"):
        solara.DataFrame(logic.week_state(run, w), items_per_page=60)


def _pick_folder(path: str | None) -> None:
    # solara.Select types its callback as taking None too (when nothing is selected);
    # this select is not clearable, so a pick is always one of the folders listed.
    if path is not None:
        folder.set(path)


@solara.component
def ResultsFolder():
    """Open a sim-run output or sweep folder and browse it."""
    root = Path(os.environ.get(RESULTS_ENV, str(logic.RESULTS_DIR)))
    found = solara.use_memo(lambda: logic.find_results(root), [str(root)])
    solara.InputText("Folder (a sim-run output or a sweep)", value=folder,
                     classes=["folder-input"])
    if found:
        solara.Select(f"Or pick one under {root}", values=found,
                      value=folder.value if folder.value in found else None,
                      on_value=_pick_folder, classes=["results-select"])
    try:
        table, specs = logic.browse(folder.value, root=root)
    except report.ReportInputError as e:
        solara.Error(str(e))
        return
    except (KeyError, ValueError, TypeError, IndexError, OverflowError) as e:
        # a folder whose manifest verifies but whose data were crafted: as sim-report says
        solara.Error(f"{folder.value}: its data are not what sim-run writes "
                     f"({type(e).__name__}); re-run sim-run")
        return
    with solara.Column(classes=["estimates"]):
        solara.DataFrame(report.estimates_frame(table), items_per_page=50)
        solara.Text(report.TABLE_NOTE, classes=["table-note"])
    for spec in specs:
        with solara.Card(spec.heading):
            solara.Text(spec.caption)
            solara.FigureMatplotlib(spec.figure, dependencies=[folder.value, spec.name],
                                    format="png")


@solara.component
def Page():
    """The dashboard."""
    solara.Title("peace-sim dashboard")
    with solara.Sidebar():
        solara.Markdown("### Assumptions")
        Assumptions()
    with solara.lab.Tabs():
        with solara.lab.Tab("Ensemble"):
            Ensemble()
        with solara.lab.Tab("One world"):
            OneWorld()
        with solara.lab.Tab("Results folder"):
            ResultsFolder()
