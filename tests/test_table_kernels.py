"""The result tables' and the weekly record's kernels are the NumPy code they replaced.

:func:`sim.model.rules.row_stats` (the weekly table's quantiles, sums and sums of squares,
:mod:`sim.model.kernels_tables`), the record's counters (``kernels_tables.week_counts``)
and the calendar's first-week marks (``kernels_tables.mark_first_week``) replaced NumPy
code (1ba4325 and before): ``rules.row_quantiles`` sorting whole rows and interpolating,
``np.nansum`` of the rows and of their squares, ``np.count_nonzero`` of each comparison
and ``fw[(fw < 0) & held] = t``. That code is kept here as the reference; the kernels
must give the same numbers bit for bit (NaN positions and dtypes included) on random
rows (all NaN, one value, ties, signed zeros, infinities, one world, the lengths where
NumPy's pairwise summation and its cast buffers change shape) and on a model's run,
whose weekly table must equal the reference table exactly.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim import PeaceModel, parse_params
from sim.experiment.api import QUANTILES, collect
from sim.model import kernels, kernels_tables, rules
from sim.model.codes import Status
from sim.model.schedule import CalendarEvents, default_schedule

QS = (0.1, 0.5, 0.9)


# ----------------------------------------------------------------------- references


def _row_quantiles_numpy(a: np.ndarray, qs) -> np.ndarray:
    """``rules.row_quantiles`` as it was: sort the rows (NaN last), interpolate."""
    s = np.sort(a, axis=1)
    n = (~np.isnan(s)).sum(axis=1)
    out = np.full((len(qs), s.shape[0]), np.nan)
    ok = n > 0
    last = np.maximum(n - 1, 0)
    for i, q in enumerate(qs):
        pos = q * last
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, last)
        frac = pos - lo
        vlo = np.take_along_axis(s, lo[:, None], axis=1)[:, 0].astype(float)
        vhi = np.take_along_axis(s, hi[:, None], axis=1)[:, 0].astype(float)
        out[i] = np.where(ok, vlo + frac * (vhi - vlo), np.nan)
    return out


def _steps_numpy(model) -> pd.DataFrame:
    """The weekly table as ``collect`` built it before ``row_stats``."""
    W, H = model.W, model.horizon
    weeks = np.arange(H)
    steps = {
        "week": weeks,
        "date": [model.start_date + dt.timedelta(weeks=int(w)) for w in weeks],
        "p_signed": model.counts["signed"] / W,
        "p_escalated": model.counts["escalated"] / W,
        "p_government_fell": model.counts["government_fell"] / W,
        "p_active": model.counts["active"] / W,
    }
    n_active = np.maximum(model.counts["active"], 1)
    for s in model.declared_series:
        q = _row_quantiles_numpy(model.series[s.name], QUANTILES)
        for qi, qv in zip(QUANTILES, q, strict=True):
            steps[f"{s.name}_q{int(qi * 100)}"] = qv
        total = np.nansum(model.series[s.name], axis=1, dtype=float)
        steps[f"{s.name}_mean"] = np.where(model.counts["active"] > 0, total / n_active,
                                           np.nan)
    for s in model.declared_series:
        if s.rate:
            sq = np.nansum(np.square(model.series[s.name], dtype=float), axis=1)
            steps[f"{s.name}_sq_mean"] = np.where(model.counts["active"] > 0,
                                                  sq / n_active, np.nan)
    return pd.DataFrame(steps)


class _NumpyRecordModel(PeaceModel):
    """The model with the weekly record as it was (counts by ``np.count_nonzero``)."""

    def _record(self, t: int, act: np.ndarray) -> None:
        sr, W = self.series, self.W
        for mech in self.schedule:
            values = mech.record(self, t)
            for s in mech.series:
                v = np.ascontiguousarray(np.broadcast_to(values[s.name], (W,)))
                kernels.record_row(sr[s.name][t], v, act)
        self.counts["active"][t] = np.count_nonzero(act)
        self.counts["signed"][t] = np.count_nonzero(self.status == Status.SIGNED)
        self.counts["escalated"][t] = np.count_nonzero(self.status == Status.ESCALATION)
        self.counts["government_fell"][t] = np.count_nonzero(self.domestic.government_fell)


class _NumpyCalendar(CalendarEvents):
    """The calendar with its first-week marks as they were."""

    def record(self, model, t):
        for f, held in model.flags.items():
            fw = model.flag_week[f]
            fw[(fw < 0) & held] = t
        return {}


# ----------------------------------------------------------------------- random rows


def _rows(rng, H: int, W: int, dtype) -> np.ndarray:
    """Rows over magnitudes with NaN, ties, signed zeros, infinities, empty and single rows."""
    a = rng.standard_normal((H, W)) * 10.0 ** rng.integers(-4, 5, (H, W))
    a[rng.random((H, W)) < 0.3] = np.nan
    kinds = rng.integers(0, 8, H)
    for t, k in enumerate(kinds):
        if k == 0:
            a[t] = np.nan  # every world absorbed this week
        elif k == 1:
            a[t] = np.nan
            a[t, rng.integers(W)] = rng.standard_normal()  # one world still active
        elif k == 2:
            a[t] = np.where(np.isnan(a[t]), np.nan, rng.integers(0, 3, W))  # counts: ties
        elif k == 3:
            a[t, rng.random(W) < 0.5] = -0.0
            a[t, rng.random(W) < 0.2] = 0.0
        elif k == 4:
            a[t, rng.integers(W)] = np.inf
            a[t, rng.integers(W)] = -np.inf
        elif k == 5:
            a[t] = 1.5  # one value everywhere
    return a.astype(dtype)


WIDTHS = [1, 2, 7, 8, 9, 16, 17, 127, 128, 129, 135, 136, 137, 255, 256, 257, 1000, 1001,
          8191, 8192, 8193, 16384, 16391, 20000]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_stats_are_the_numpy_quantiles_and_sums_bit_for_bit(dtype):
    rng = np.random.default_rng(11)
    for W in WIDTHS:
        for H in (1, 3, 40):
            a = _rows(rng, H, W, dtype)
            q, total, sq = rules.row_stats(a, QS, squares=True)
            with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, inf ** 2
                want_q = _row_quantiles_numpy(a, QS)
                want_total = np.nansum(a, axis=1, dtype=float)
                want_sq = np.nansum(np.square(a, dtype=float), axis=1)
            for got, want in ((q, want_q), (total, want_total), (sq, want_sq)):
                assert got.dtype == want.dtype and got.shape == want.shape
                assert np.array_equal(got, want, equal_nan=True), (W, H, dtype)
                # the signs of zeros too (array_equal takes -0.0 == 0.0)
                assert np.array_equal(np.signbit(got), np.signbit(want)), (W, H, dtype)
            q2, total2, none = rules.row_stats(a, QS)
            assert none is None
            assert np.array_equal(q2, want_q, equal_nan=True)
            assert np.array_equal(total2, want_total, equal_nan=True)


def test_row_stats_follow_numpys_cast_buffer_size():
    """A float32 row is summed in NumPy's cast buffers: their size is ``np.getbufsize``."""
    rng = np.random.default_rng(12)
    a = _rows(rng, 6, 20_000, np.float32)
    for size in (1008, 4096, 16384, 20_000):
        old = np.setbufsize(size)
        try:
            with np.errstate(invalid="ignore"):  # inf + -inf
                want = np.nansum(a, axis=1, dtype=float)
            got = rules.row_stats(a, QS)[1]
        finally:
            np.setbufsize(old)
        assert np.array_equal(got, want, equal_nan=True), size


def test_row_stats_in_blocks_of_rows_equal_one_block(monkeypatch):
    rng = np.random.default_rng(13)
    a = _rows(rng, 30, 3001, np.float32)
    one = rules.row_stats(a, QS, squares=True)
    for block in (1, 4 * 3001 * 7, 1 << 30):
        monkeypatch.setattr(rules, "ROW_BLOCK_BYTES", block)
        got = rules.row_stats(a, QS, squares=True)
        for x, y in zip(got, one, strict=True):
            assert np.array_equal(x, y, equal_nan=True)


def test_row_stats_refuse_other_types():
    with pytest.raises(TypeError, match="float32 or float64"):
        rules.row_stats(np.zeros((2, 3), dtype=np.int64), QS)
    with pytest.raises(TypeError, match="float32 or float64"):
        rules.row_stats(np.zeros(3, dtype=np.float32), QS)


def test_week_counts_and_first_week_marks_are_the_numpy_code():
    rng = np.random.default_rng(14)
    for W in (1, 2, 9, 1000, 20001):
        status = rng.integers(0, 3, W).astype(np.int8)
        act = rng.random(W) < 0.6
        fell = rng.random(W) < 0.2
        got = kernels_tables.week_counts(act, status, int(Status.SIGNED),
                                         int(Status.ESCALATION), fell)
        want = (np.count_nonzero(act), np.count_nonzero(status == Status.SIGNED),
                np.count_nonzero(status == Status.ESCALATION), np.count_nonzero(fell))
        assert got == want
        fw = rng.choice([-1, 0, 5], W).astype(np.int64)
        ref = fw.copy()
        for t in range(4):
            held = rng.random(W) < 0.3
            kernels_tables.mark_first_week(fw, held, t)
            ref[(ref < 0) & held] = t
            assert fw.dtype == ref.dtype and np.array_equal(fw, ref)


# ----------------------------------------------------------------------- a model's run


@pytest.fixture(scope="module")
def runs(baseline_cfg):
    """The baseline run with the kernels and with the reference record, 40 weeks."""
    params = parse_params(baseline_cfg)
    kw = dict(worlds=1500, seed=5, horizon_weeks=40)
    new = PeaceModel(params, **kw).run()
    schedule = [_NumpyCalendar() if isinstance(m, CalendarEvents) else m
                for m in default_schedule()]
    old = _NumpyRecordModel(params, schedule=schedule, **kw).run()
    return new, old


def test_the_record_is_the_numpy_record(runs):
    new, old = runs
    assert new.series.keys() == old.series.keys()
    for name in new.series:
        assert new.series[name].dtype == old.series[name].dtype
        assert np.array_equal(new.series[name], old.series[name], equal_nan=True), name
    for k in new.counts:
        assert new.counts[k].dtype == old.counts[k].dtype
        assert np.array_equal(new.counts[k], old.counts[k]), k
    assert new.counts["active"][-1] < new.W  # some worlds were absorbed (NaN in the rows)
    for f in new.flag_week:
        assert np.array_equal(new.flag_week[f], old.flag_week[f]), f
    assert any((new.flag_week[f] >= 0).any() for f in new.flag_week)


def test_the_weekly_table_is_the_numpy_table(runs):
    new, _ = runs
    pd.testing.assert_frame_equal(collect(new).steps, _steps_numpy(new), check_exact=True)


def test_the_weekly_table_of_worlds_all_absorbed_is_the_numpy_table(runs, monkeypatch):
    """Weeks in which no world is active (NaN quantiles and means), and one world."""
    new, _ = runs
    monkeypatch.setattr(new, "series", {k: v.copy() for k, v in new.series.items()})
    counts = {k: v.copy() for k, v in new.counts.items()}
    monkeypatch.setattr(new, "counts", counts)
    for v in new.series.values():
        v[30:] = np.nan
        v[20:30, 1:] = np.nan
    counts["active"][30:] = 0
    counts["active"][20:30] = 1
    got = collect(new).steps
    pd.testing.assert_frame_equal(got, _steps_numpy(new), check_exact=True)
    assert got.filter(like="_q50").iloc[30:].isna().all().all()
