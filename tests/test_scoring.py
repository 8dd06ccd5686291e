"""Known answers for the proper scores the backtest uses (hand-made cases)."""

import math

import numpy as np
import pytest
from scipy import stats

from sim.analysis import scoring


def test_brier_known_values():
    assert scoring.brier(0.7, 1) == pytest.approx(0.09)
    assert scoring.brier(0.7, 0) == pytest.approx(0.49)
    assert scoring.brier(1.0, True) == 0.0
    np.testing.assert_allclose(scoring.brier([0.2, 0.9], [0, 0]), [0.04, 0.81])


def test_log_score_known_values_and_clipping():
    assert scoring.log_score(0.8, 1) == pytest.approx(-math.log(0.8))
    assert scoring.log_score(0.8, 0) == pytest.approx(-math.log(0.2))
    # a confident miss costs -ln(eps), not infinity
    assert scoring.log_score(0.0, 1, eps=0.01) == pytest.approx(math.log(100))
    assert scoring.log_score(1.0, 1, eps=0.01) == pytest.approx(-math.log(0.99))
    with pytest.raises(ValueError):
        scoring.log_score(0.5, 1, eps=0.0)


def test_crps_of_a_sample_by_hand():
    # E|X - 3| = (2 + 1 + 0 + 1) / 4 = 1; E|X - X'| = 20 / 16 = 1.25; CRPS = 1 - 0.625
    assert scoring.crps_sample([1, 2, 3, 4], 3) == pytest.approx(0.375)
    # a one-member sample is a point forecast: CRPS is the absolute error
    assert scoring.crps_sample([5], 2) == pytest.approx(3.0)
    assert scoring.crps_point(5, 2) == 3.0


def test_crps_poisson_equals_the_discrete_sum():
    # for an integer-valued law, CRPS = sum_k (F(k) - 1{k >= y})^2
    mean, y = 2.5, 4
    k = np.arange(0, 200)
    expected = np.sum((stats.poisson.cdf(k, mean) - (k >= y)) ** 2)
    assert scoring.crps_poisson(mean, y) == pytest.approx(expected, rel=1e-6)


def test_crps_of_a_large_poisson_sample_approaches_the_law():
    rng = np.random.default_rng(0)
    sample = rng.poisson(3.0, 200_000)
    assert scoring.crps_sample(sample, 1) == pytest.approx(scoring.crps_poisson(3.0, 1),
                                                           rel=0.02)


def test_skill_scores():
    assert scoring.skill(0.1, 0.2) == pytest.approx(0.5)
    assert scoring.skill(0.3, 0.2) == pytest.approx(-0.5)
    assert scoring.skill(0.0, 0.0) == 0.0
    assert math.isnan(scoring.skill(0.1, 0.0))


def test_brier_and_log_score_equal_their_formulas():
    # the scores come from scoringrules; the textbook formulas give the same numbers
    rng = np.random.default_rng(1)
    p = rng.uniform(0.0, 1.0, 1000)
    y = rng.uniform(size=1000) < 0.3
    np.testing.assert_allclose(scoring.brier(p, y), (p - y) ** 2, rtol=0, atol=1e-15)
    q = np.clip(p, 0.01, 0.99)
    np.testing.assert_allclose(scoring.log_score(p, y), -np.log(np.where(y, q, 1 - q)),
                               rtol=1e-12)
