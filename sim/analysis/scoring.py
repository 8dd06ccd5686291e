"""Proper scores for probabilistic forecasts, and skill against reference forecasts.

The backtest (:mod:`sim.analysis.backtest`) scores the model's forecasts of dated facts with the
scores conflict forecasters publish (ViEWS, ACLED CAST) and against the naive baselines
they beat or lose to. Every score here is negatively oriented: lower is better.

- Binary facts: the Brier score ``(p - y)^2`` and the log score ``-ln p(y)``
  (``scoringrules.brier_score`` and ``log_score``); the log
  score of a forecast that put probability 0 on what happened is infinite, so every
  forecaster's probability (the model's and the baselines' alike) is clipped to
  ``[eps, 1 - eps]`` before the log is taken (``eps`` stated in the backtest config).
- Counts: the continuous ranked probability score (CRPS) of a predictive distribution
  given by a sample (the model's worlds), by a point (the no-change forecast: CRPS is
  then the absolute error) or by a Poisson law (a climatological rate), computed with
  the ``scoringrules`` package (Zamo and Naveau 2018 estimator for samples).
- Skill ``1 - S / S_ref``: positive when the forecast beats the reference, 0 when it
  ties, negative when it loses.
"""

from __future__ import annotations

import numpy as np
import scoringrules as sr


def brier(p, y) -> np.ndarray:
    """Brier score ``(p - y)^2`` of probability ``p`` for binary outcome ``y`` (0/1 or bool).

    ``scoringrules.brier_score``.
    """
    return np.asarray(sr.brier_score(np.asarray(y, dtype=float), np.asarray(p, dtype=float)))


def log_score(p, y, eps: float = 0.01) -> np.ndarray:
    """Log score ``-ln(p)`` if ``y`` happened, ``-ln(1 - p)`` if not, ``p`` clipped.

    Args:
        p: Forecast probability of the event.
        y: What happened (0/1 or bool).
        eps: ``p`` is clipped to ``[eps, 1 - eps]`` so that a confident miss costs
            ``-ln(eps)`` instead of infinity.
    """
    if not 0.0 < eps < 0.5:
        raise ValueError(f"eps must be in (0, 0.5), got {eps}")
    p = np.clip(np.asarray(p, dtype=float), eps, 1.0 - eps)
    return np.asarray(sr.log_score(np.asarray(y, dtype=float), p))


def crps_sample(sample, y) -> float:
    """CRPS of the empirical distribution of ``sample`` at the observation ``y``.

    ``CRPS = E|X - y| - E|X - X'| / 2`` over the sample (``scoringrules.crps_ensemble``).
    """
    x = np.asarray(sample, dtype=float).ravel()
    if x.size == 0:
        raise ValueError("a CRPS needs at least one sample")
    return float(sr.crps_ensemble(float(y), x))


def crps_point(x, y) -> float:
    """CRPS of a point forecast ``x``: the absolute error ``|x - y|``."""
    return float(abs(float(x) - float(y)))


def crps_poisson(mean, y) -> float:
    """CRPS of a Poisson law with the given mean at the count ``y``."""
    return float(sr.crps_poisson(float(y), float(mean)))


def skill(score, reference) -> float:
    """Skill score ``1 - score / reference`` (NaN where the reference scores 0)."""
    score, reference = float(score), float(reference)
    if reference == 0.0:
        return float("nan") if score != 0.0 else 0.0
    return 1.0 - score / reference
