"""The dashboard: its computations, and the page driven in a real (headless) browser.

The browser test needs the `dashboard` extra and Debian's chromium + chromium-driver
(`.ci/run` installs them); on a machine without them it is skipped, saying so. With
SIM_DASHBOARD_SCREENSHOTS=1 it also refreshes the screenshots in docs/figures/.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _report_fixtures import write_run, write_sweep  # noqa: E402
from servers import CHROMEDRIVER, CHROMIUM, SIM_DASHBOARD, headless_chromium, served_dashboard  # noqa: E402

from sim.experiment.api import simulate  # noqa: E402
from sim.experiment.config import compose, load_params, scenarios  # noqa: E402
from sim.experiment.display import INTERVAL_NOTE, interval, percent  # noqa: E402
from sim.viz.dashboard import logic  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def attr(params, key: str):
    """The value of dotted ``key`` in typed parameters (attributes or mapping keys)."""
    node = params
    for part in key.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


# ----------------------------------------------------------------- what the page computes
@pytest.mark.parametrize("scenario", scenarios())
def test_every_slider_names_a_key_of_every_scenario(scenario):
    start = logic.slider_defaults(scenario)   # KeyError if a key was renamed
    cfg, _ = compose(scenario)
    for s in logic.SLIDERS:
        v, text = start[s.key]
        assert s.low <= v <= s.high, (s.key, v)
        assert text == logic.describe(logic.get_key(cfg, s.key))


@pytest.mark.parametrize("s", logic.SLIDERS, ids=lambda s: s.key)
def test_each_slider_sets_the_parameter_it_names(s):
    start = logic.slider_defaults("baseline")
    moved = {k: v for k, (v, _) in start.items()}
    moved[s.key] = s.high
    over = logic.overrides("baseline", moved)
    assert logic.flat(over) == [f"{s.key}={s.high:g}"]   # only the moved slider
    params = load_params("baseline", overrides=over)
    assert attr(params, s.key) == pytest.approx(s.high)
    # and the range ends are allowed by the schema
    assert attr(load_params("baseline", overrides=logic.overrides(
        "baseline", {**moved, s.key: s.low})), s.key) == pytest.approx(s.low)


def test_a_renamed_key_fails_loudly():
    with pytest.raises(KeyError, match="incidents.no_such_rate"):
        logic.get_key(compose("baseline")[0], "incidents.no_such_rate")


def test_untouched_sliders_leave_the_scenario_as_it_is():
    start = {k: v for k, (v, _) in logic.slider_defaults("baseline").items()}
    assert logic.overrides("baseline", start) == {}
    a = logic.run_ensemble("baseline", start, worlds=500, seed=4, horizon_weeks=52)
    b = simulate(load_params("baseline"), worlds=500, seed=4, horizon_weeks=52)
    assert a.summary() == b.summary()   # base_rate stays drawn per world


def test_a_moved_slider_changes_the_result_through_its_key():
    start = {k: v for k, (v, _) in logic.slider_defaults("baseline").items()}
    calm = logic.run_ensemble("baseline", {**start, "incidents.base_rate": 0.0}, 2000, 1)
    hot = logic.run_ensemble("baseline", {**start, "incidents.base_rate": 0.5}, 2000, 1)
    assert "param.incidents.base_rate" not in calm.outcomes  # fixed, no longer drawn
    assert hot.outcomes["incidents"].mean() > calm.outcomes["incidents"].mean()


def test_one_world_is_the_traced_world_of_simulate():
    start = {k: v for k, (v, _) in logic.slider_defaults("baseline").items()}
    run = logic.one_world("baseline", start, seed=5)
    ref = simulate(load_params("baseline"), worlds=1, seed=5, trace=True)
    np.testing.assert_array_equal(run.trace["tension"], ref.trace["tension"])
    end = logic.last_week(run)
    assert 0 <= end < run.horizon_weeks
    fig = logic.timeline_until(run, min(10, end))
    assert len(fig.axes) >= 5
    state = logic.week_state(run, 3).set_index("quantity")["value"]
    t3 = float(ref.trace.loc[ref.trace["week"] == 3, "tension"].iloc[0])
    assert state["tension"] == f"{t3:.3g}"
    assert f"tension {t3:.3g}," in logic.week_summary(run, 3)


def test_results_folder_browsing(tmp_path):
    sw = write_sweep(tmp_path / "sw", [("baseline", {}), ("russia_spoiler", {})],
                     worlds=300, horizon_weeks=52)
    write_run(tmp_path / "one", worlds=200, horizon_weeks=52)
    found = logic.find_results(tmp_path)
    assert set(found) == {str(sw), str(tmp_path / "one")}
    table, specs = logic.browse(sw)
    assert list(table["scenario"]) == ["baseline", "russia_spoiler"]
    assert {"p_sign.png", "cumulative.png"} <= {s.name for s in specs}
    from sim.viz.report import ReportInputError
    with pytest.raises(ReportInputError):
        logic.browse(tmp_path / "nothing")


# ------------------------------------------------------------------------ in the browser
def _browser_missing() -> str | None:
    for mod, extra in (("solara", "dashboard"), ("selenium", "dashboard")):
        if importlib.util.find_spec(mod) is None:
            return f"the `{extra}` extra is not installed (pip install -e \".[{extra}]\")"
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not Path(exe).exists():
            return (f"{exe} not found: apt-get install chromium chromium-driver "
                    "(.ci/run installs them)")
    return None


@pytest.fixture
def dashboard(tmp_path):
    """A running sim-dashboard on a free localhost port, its results folder holding a run."""
    results = tmp_path / "results"
    write_run(results / "runs" / "one", worlds=300, horizon_weeks=52)
    with served_dashboard(results, tmp_path) as (port, proc):
        yield {"url": f"http://127.0.0.1:{port}/", "proc": proc, "results": results,
               "port": port}


@pytest.fixture
def browser():
    with headless_chromium() as driver:
        yield driver


def _shot(driver, name: str) -> None:
    if os.environ.get("SIM_DASHBOARD_SCREENSHOTS") == "1":
        driver.save_screenshot(str(ROOT / "docs" / "figures" / f"dashboard_{name}.png"))


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(_browser_missing() is not None, reason=str(_browser_missing()))
def test_dashboard_in_a_real_browser_gives_simulates_numbers(dashboard, browser):
    import psutil
    from selenium.common.exceptions import (
        ElementClickInterceptedException,
        ElementNotInteractableException,
        NoSuchElementException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    # it listens on 127.0.0.1 only
    conns = psutil.Process(dashboard["proc"].pid).net_connections(kind="tcp")
    listen = {c.laddr.ip for c in conns if c.status == psutil.CONN_LISTEN}
    assert listen == {"127.0.0.1"}, listen

    wait = WebDriverWait(browser, float(os.environ.get("SIM_BROWSER_WAIT", "180")),
                         poll_frequency=0.25)

    def find(css):
        return wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, css)))

    def text_has(css, text):
        wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
        return browser.find_element(By.CSS_SELECTOR, css).text

    def click(by, what):
        """Click once the element is there and clickable (retrying while it re-renders)."""
        def attempt(d):
            try:
                el = d.find_element(by, what)
                if not (el.is_displayed() and el.is_enabled()):
                    return False
                el.click()
                return True
            except (StaleElementReferenceException, ElementClickInterceptedException,
                    ElementNotInteractableException, NoSuchElementException):
                return False
        wait.until(attempt)

    def tab(name):
        click(By.XPATH, "//*[contains(concat(' ', normalize-space(@class), ' '), ' v-tab ')"
                        f" and normalize-space(.)='{name}']")

    browser.get(dashboard["url"])
    base = next(s for s in logic.SLIDERS if s.key == "incidents.base_rate")
    knob = find(f".{base.css} [role=slider]")
    start = float(knob.get_attribute("aria-valuenow"))
    assert start == pytest.approx(logic.slider_defaults("baseline")[base.key][0])
    browser.execute_script("arguments[0].focus();", knob)
    for _ in range(3):
        knob.send_keys(Keys.ARROW_RIGHT)
    value = round(start + 3 * base.step, 10)
    text_has(f".{base.css} .slider-value", f"{base.key} = {value:g} ")
    assert float(knob.get_attribute("aria-valuenow")) == pytest.approx(value)

    click(By.CSS_SELECTOR, ".run-button")
    text_has(".run-inputs", f"changed: {base.key}={value:g}, ")
    shown = {k: find(f".{k}").text.strip(" ;")
             for k in ("p-sign", "p-sign-ci", "signed-count")}
    # the same inputs through the library, without the dashboard's code
    res = simulate(load_params("baseline", overrides={"incidents": {"base_rate": value}}),
                   worlds=logic.DEFAULT_WORLDS, seed=0)
    s = res.summary()
    # in per cent, through the one function the report and the console print with
    assert shown["p-sign"] == percent(s["p_sign"]) and "%" in shown["p-sign"]
    assert shown["p-sign-ci"] == f"95% interval {interval(s['ci_low'], s['ci_high'])}"
    assert find(".interval-note").text == INTERVAL_NOTE
    assert shown["signed-count"] == f"{s['signed']} of {s['worlds']} worlds signed"
    for c, share in s["outcome_shares"].items():
        assert find(f".share-{c.replace('_', '-')}").text == f"{c}: {percent(share)}"
    assert len(browser.find_elements(By.CSS_SELECTOR, "img")) >= 2  # curve and shares
    _shot(browser, "ensemble")

    # one world, stepped week by week
    tab("One world")
    click(By.CSS_SELECTOR, ".trace-button")
    text_has(".week-label", "Week 0 of ")
    for w in (1, 2, 3):
        click(By.CSS_SELECTOR, ".next-week")
        text_has(".week-label", f"Week {w} of ")
    ref = simulate(load_params("baseline", overrides={"incidents": {"base_rate": value}}),
                   worlds=1, seed=0, trace=True).trace
    tension = float(ref.loc[ref["week"] == 3, "tension"].iloc[0])
    text_has(".week-state", f"tension {tension:.3g},")
    _shot(browser, "one_world")

    # a results folder
    tab("Results folder")
    run_dir = dashboard["results"] / "runs" / "one"
    click(By.CSS_SELECTOR, ".results-select .v-select__slot")
    click(By.XPATH, "//*[contains(@class, 'v-list-item__title') and "
                    f"normalize-space(.)='{run_dir}']")
    from sim.viz.report import load_run
    p = load_run(run_dir).summary["p_sign"]
    wait.until(lambda d: "P(sign) by scenario" in d.find_element(By.TAG_NAME, "body").text)
    text_has(".estimates", percent(p))  # as the report prints it
    _shot(browser, "results")


@pytest.mark.parametrize("argv, needle", [(["--port", "70000"], "--port 70000"),
                                          (["--port", "x"], "invalid int value")])
def test_sim_dashboard_bad_arguments_exit_2_with_one_line(argv, needle):
    p = subprocess.run([SIM_DASHBOARD, *argv], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert needle in p.stderr and "Traceback" not in p.stderr


def test_sim_dashboard_binds_to_localhost_by_default():
    from sim.viz.dashboard.cli import parse_args

    assert parse_args([]).host == "127.0.0.1"
