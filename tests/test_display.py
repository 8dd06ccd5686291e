"""One rule for printing estimates: a non-zero estimate is never printed as zero."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.experiment.display import INTERVAL_NOTE, interval, percent, points
from sim.experiment.runs import format_sweep


@pytest.mark.parametrize("p, text", [(0.0, "0.0%"), (1.0, "100.0%"), (0.0815, "8.2%"),
                                     (8 / 50_000, "<0.1%"), (0.00049, "<0.1%"),
                                     (0.9996, ">99.9%"), (None, "–"), (np.nan, "–")])
def test_percent(p, text):
    assert percent(p) == text


def test_no_non_zero_proportion_prints_as_zero_or_one():
    for p in np.r_[np.geomspace(1e-9, 0.01, 200), 1 - np.geomspace(1e-9, 0.01, 200)]:
        for decimals in (0, 1, 2):
            t = percent(float(p), decimals)
            assert float(t.strip("<>%")) not in (0.0, 100.0) or t[0] in "<>", (p, t)


@pytest.mark.parametrize("d, text", [(0.0, "0.0 pp"), (0.012, "+1.2 pp"), (-0.05, "-5.0 pp"),
                                     (0.0003, "+<0.1 pp"), (-0.0003, "-<0.1 pp")])
def test_points(d, text):
    assert points(d) == text


def test_console_sweep_table_in_per_cent_and_says_what_its_brackets_are():
    t = pd.DataFrame([{"job": 0, "overrides": "scenario=constitution_unpopular", "p_sign": 8e-5,
                       "ci_low": 4e-5, "ci_high": 3e-4, "diff_vs_baseline": -0.0856,
                       "diff_ci_low": -0.088, "diff_ci_high": -0.083, "status": "done"}])
    text = format_sweep(t)
    assert "<0.1%" in text and "0.0%" not in text
    assert interval(4e-5, 3e-4) in text and "-8.6 [-8.8, -8.3]" in text
    assert INTERVAL_NOTE in text
