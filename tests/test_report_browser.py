"""The report's index.html in headless Chromium: its contents list takes the reader to
each section, and every figure loads.

Needs selenium (the `dashboard` extra) and Debian's chromium + chromium-driver, as
tests/test_dashboard.py does.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from _report_fixtures import write_sweep
from servers import CHROMEDRIVER, CHROMIUM, headless_chromium

from sim.experiment.display import INTERVAL_NOTE
from sim.viz import report


def _missing() -> str | None:
    if importlib.util.find_spec("selenium") is None:
        return 'selenium is not installed (pip install -e ".[dashboard]")'
    for exe in (CHROMIUM, CHROMEDRIVER):
        if not Path(exe).exists():
            return f"{exe} not found: apt-get install chromium chromium-driver"
    return None


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    sw = write_sweep(tmp_path_factory.mktemp("rep") / "sweep",
                     [("baseline", {}), ("russia_spoiler", {}), ("western_incentives", {})],
                     worlds=300)
    return report.build_report(sw)


def test_the_report_has_a_contents_list_linking_every_section(index):
    page = index.read_text(encoding="utf-8")
    md = (index.parent / "report.md").read_text(encoding="utf-8")
    assert '<nav id="contents"' in page and 'href="#estimates"' in page
    for s in ("p-sign", "cumulative", "differences", "terms"):
        assert f'href="#fig-{s}"' in page and f'<section id="fig-{s}">' in page
    assert INTERVAL_NOTE in page and INTERVAL_NOTE in md
    assert "- [Paired differences from baseline](#paired-differences-from-baseline)" in md


@pytest.fixture
def browser():
    why = _missing()
    if why:
        pytest.skip(why)
    with headless_chromium("--allow-file-access-from-files", window="1400,900",
                           page_load_timeout=60) as driver:
        yield driver


@pytest.mark.browser
def test_clicking_the_contents_goes_to_the_section_and_figures_load(index, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(index.as_uri())
    wait = WebDriverWait(browser, 30, poll_frequency=0.2)
    nav = browser.find_element(By.ID, "contents")
    assert nav.is_displayed()
    # every figure loads (a broken src has naturalWidth 0)
    wait.until(lambda d: d.execute_script(
        "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"))
    assert browser.execute_script("return window.scrollY") == 0
    link = nav.find_element(By.CSS_SELECTOR, 'a[href="#fig-differences"]')
    assert link.text == "Paired differences from baseline"
    link.click()
    wait.until(lambda d: d.execute_script("return location.hash") == "#fig-differences")
    section = browser.find_element(By.ID, "fig-differences")
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", section)
    assert browser.execute_script("return window.scrollY") > 500
    assert 0 <= top <= 40   # the section is at the top of the window
    # the contents stay at hand (fixed) and lead back to the estimates
    assert nav.is_displayed()
    nav.find_element(By.CSS_SELECTOR, 'a[href="#estimates"]').click()
    wait.until(lambda d: d.execute_script("return location.hash") == "#estimates")
    est = browser.find_element(By.ID, "estimates")
    assert 0 <= browser.execute_script(
        "return arguments[0].getBoundingClientRect().top", est) <= 40
    assert INTERVAL_NOTE in est.text
