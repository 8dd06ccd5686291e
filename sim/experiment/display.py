"""How estimates are printed: one rule for percentages and one note on the brackets.

The console tables (:func:`sim.experiment.runs.format_table`,
:func:`sim.experiment.runs.format_sweep`), the report (:mod:`sim.viz.report`), the
figures (:mod:`sim.viz.plots`) and the dashboard all print probabilities through
:func:`percent` and differences through :func:`points`, and say what their brackets are
with :data:`INTERVAL_NOTE`, so that the same number reads the same everywhere.
"""

from __future__ import annotations

import math

#: What every printed 95 % bracket around an estimate is (and is not).
INTERVAL_NOTE = ("95% Monte Carlo interval: sampling error of the worlds, not uncertainty "
                 "about the assumptions")


def _missing(v: float | None) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def percent(p: float | None, decimals: int = 1) -> str:
    """A proportion in [0, 1] as a percentage that never rounds a non-zero value to zero.

    ``0.0815`` prints as ``8.2%``; ``0.00016`` (8 worlds of 50,000) as ``<0.1%``, never
    ``0.0%``; a value just under one as ``>99.9%``, never ``100.0%``; exactly 0 and 1 as
    ``0.0%`` and ``100.0%`` (as are values within a rounding error of them, such as a
    Wilson bound at ``1e-18``); ``None`` or NaN as ``–``.

    Args:
        p: The proportion.
        decimals: Decimals of the percentage (at least 0).

    Returns:
        The text, with ``%`` and no space before it.
    """
    if _missing(p):
        return "–"
    v = 100.0 * float(p)  # type: ignore[arg-type]
    if abs(v) < 1e-9 or abs(v - 100.0) < 1e-9:  # a rounding error off 0 or 1 (Wilson)
        v = round(v)
    step = 10.0 ** -decimals
    text = f"{v:.{decimals}f}%"
    if 0.0 < v and float(text[:-1]) == 0.0:
        return f"<{step:.{decimals}f}%"
    if v < 100.0 and float(text[:-1]) == 100.0:
        return f">{100.0 - step:.{decimals}f}%"
    return text


def points(d: float | None, decimals: int = 1, unit: str = " pp") -> str:
    """A difference of proportions in percentage points, signed, never a false zero.

    ``0.012`` prints as ``+1.2 pp``; ``-0.0003`` as ``-<0.1 pp`` (less than 0.1 points
    below zero, not ``-0.0``); exactly 0 as ``0.0 pp``; ``None`` or NaN as ``–``.
    """
    if _missing(d):
        return "–"
    v = 100.0 * float(d)  # type: ignore[arg-type]
    step = 10.0 ** -decimals
    if v == 0.0:
        return f"{0.0:.{decimals}f}{unit}"
    if float(f"{abs(v):.{decimals}f}") == 0.0:
        return f"{'+' if v > 0 else '-'}<{step:.{decimals}f}{unit}"
    return f"{'+' if v > 0 else '-'}{abs(v):.{decimals}f}{unit}"


def interval(lo: float | None, hi: float | None, decimals: int = 1) -> str:
    """``[lo, hi]`` of a proportion, each end through :func:`percent`."""
    return f"[{percent(lo, decimals)}, {percent(hi, decimals)}]"
