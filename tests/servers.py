"""The test suite's one way to start a served dashboard and a headless Chromium.

Both the dashboard tests and the hostile-input tests start ``sim-dashboard`` on a free
loopback port and wait for it; both browser test modules drive Debian's headless Chromium
with the flags this machine's closed network needs. Each is written once here.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
SIM_DASHBOARD = str(Path(sys.executable).with_name("sim-dashboard"))

# Without the background-networking flags Chromium's connections are refused by the
# closed network, many at a time.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served_dashboard(results: Path, cwd: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    """``sim-dashboard --results results`` on a free loopback port, started from ``cwd``
    (its log in ``cwd/dashboard.log``); yields (port, process) once the port answers and
    stops the server afterwards. Fails the test with the log's tail if it does not start
    within two minutes."""
    port = free_port()
    log_path = cwd / "dashboard.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen([SIM_DASHBOARD, "--port", str(port), "--results", str(results)],
                                stdout=log, stderr=subprocess.STDOUT, cwd=cwd,
                                env=dict(os.environ, MPLBACKEND="Agg"))
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        proc.kill()
                        pytest.fail("sim-dashboard did not start:\n"
                                    + log_path.read_text()[-3000:])
                    time.sleep(0.3)
            yield port, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


@contextlib.contextmanager
def headless_chromium(*extra: str, window: str = "1400,1000",
                      page_load_timeout: int = 120) -> Iterator:
    """A Selenium driver for Debian's headless Chromium with a fresh profile folder."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={window}",
              *extra):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(page_load_timeout)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
