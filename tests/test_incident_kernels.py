"""The incidents' kernels are the NumPy step they replaced, bit for bit.

:meth:`sim.model.incidents.BorderProcess.step` runs :func:`kernels.incident_rates` and
:func:`kernels.incident_outcomes` (numba); ``_numpy_step`` below is the NumPy code they
replaced (7c5f25f..4a1a945). Both are run from one state with the same random streams, on
rates from none to the 200-a-week cap, monitors' shares from 0 to 1 and parameters drawn
per world, and must agree in every array.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy import special

from sim import PeaceModel, parse_params
from sim.model import rules


def _numpy_step(b, mu, spiral_damping, settled) -> None:
    """The NumPy ``BorderProcess.step`` the kernels replaced (same state, same draws)."""
    p = b.p
    u = b.rng.random((6, b.W))
    u_sev = b.severity_rng.random(b.W)
    lam = mu + b.h
    n = rules.poisson_inverse(u[0], lam)
    b.count = n
    b.contested = u[1] < b.ambiguity * (1.0 - settled)
    sev = np.zeros(b.W)
    fatalities = np.zeros(b.W, dtype=np.int64)
    initiated = np.zeros((2, b.W), dtype=np.int64)
    reports = np.zeros((2, b.W), dtype=np.int64)
    hit = np.flatnonzero(n)
    if hit.size:
        nh = n[hit]
        sev[hit] = special.betaincinv(b.sev_a[hit], b.sev_b[hit], u_sev[hit])
        rate = p.fatality_rate[hit] * nh * sev[hit]
        fatalities[hit] = rules.poisson_inverse(u[2, hit], rate)
        i0 = np.maximum(rules.binomial_inverse(u[3, hit], nh, b.share0[hit]),
                        0).astype(np.int64)
        initiated[0, hit] = i0
        initiated[1, hit] = nh - i0
        adm = p.admission[hit]
        for side in (0, 1):
            seen = initiated[1 - side, hit] + adm * initiated[side, hit]
            reports[side, hit] = rules.poisson_inverse(
                u[4 + side, hit], b.report_rate[side, hit] * seen)
    b.severity = sev
    b.initiated = initiated
    b.reports = reports
    weight = np.where(b.contested, 1.0, p.clear_damage)
    b.damage = reports * (sev * weight)
    b.fatalities = fatalities
    b.h = b.delta * b.h + b.alpha * (1.0 - spiral_damping) * n


FIELDS = ("count", "contested", "severity", "initiated", "reports", "damage",
          "fatalities", "h")


@pytest.mark.parametrize("seed", [0, 1])
def test_incident_kernels_are_the_numpy_step_bit_for_bit(cfg, seed):
    cfg["incidents"]["fatality_rate"] = 0.8  # fatalities in many worlds with incidents
    m = PeaceModel(parse_params(cfg), worlds=4001, seed=seed, horizon_weeks=2)
    got, want = m.border, copy.deepcopy(m.border)
    W = m.W
    rng = np.random.default_rng(seed + 30)
    # the split and the reports' rates varied per world, to their bounds
    h = rng.exponential(1.0, W) * (rng.random(W) < 0.5)
    share0 = rng.choice([0.0, 0.3, 0.5, 0.8, 1.0], W)
    rr = rng.uniform(0.0, 3.0, (2, W))
    for b in (got, want):  # the same draws, through the attributes each step reads
        b.h, b.share0, b.report_rate = h.copy(), share0.copy(), rr.copy()
    hits = 0
    for week in range(6):
        mu = rng.choice([0.0, 0.05, 0.7, 4.0, 250.0], W) * rng.random(W)
        spiral = rng.random(W) * (week % 2)
        settled = rng.random(W) if week % 3 else 0.0
        got.step(mu, spiral_damping=spiral, settled=settled)
        _numpy_step(want, mu, spiral, settled)
        for f in FIELDS:
            np.testing.assert_array_equal(getattr(got, f), getattr(want, f), err_msg=f)
            assert getattr(got, f).dtype == getattr(want, f).dtype, f
        hits += int((want.count > 0).sum())
        assert (want.fatalities > 0).any() and (want.reports > 0).all(axis=0).any()
        assert want.contested.any() and not want.contested.all()
    assert hits > W  # the kernels' branch ran in many worlds


def test_incident_rates_kernel_is_the_numpy_expression_bit_for_bit():
    """The rates themselves (a count rarely moves with a rate's last bit), to the cap."""
    from sim.model import kernels

    rng = np.random.default_rng(5)
    W = 50_001
    n = rng.poisson(1.5, W) * (rng.random(W) < 0.8)
    hit = np.flatnonzero(n)
    sev, u3, adm = rng.random(W), rng.random(W), rng.random(W)
    fat = rng.random(W) * 10.0 ** rng.integers(-3, 3, W)
    share0 = rng.choice([0.0, 0.2, 0.5, 0.7, 1.0], W) * rng.random(W) ** 0.1
    rr = rng.random((2, W)) * 10.0 ** rng.integers(-3, 3, (2, W))
    rates, i0 = kernels.incident_rates(hit, n, sev, fat, u3, share0, adm, rr)
    nh = n[hit]
    want_i0 = np.maximum(rules.binomial_inverse(u3[hit], nh, share0[hit]), 0).astype(np.int64)
    np.testing.assert_array_equal(i0, want_i0)
    i1 = nh - want_i0
    want = [fat[hit] * nh * sev[hit], rr[0, hit] * (i1 + adm[hit] * want_i0),
            rr[1, hit] * (want_i0 + adm[hit] * i1)]
    for r in range(3):
        np.testing.assert_array_equal(rates[r], np.minimum(want[r], 200.0))
        assert (rates[r] == 200.0).any() and (rates[r] < 1.0).any()


def test_tally_kernel_is_the_numpy_counters():
    """The incidents' counters: the NumPy updates of ``Incidents.step`` it replaced."""
    from sim.model import kernels

    rng = np.random.default_rng(9)
    W, n_win = 3001, 4
    count, fat = rng.poisson(1.0, W), rng.poisson(0.3, W)
    reports = rng.poisson(0.8, (2, W))
    got = [rng.integers(0, 50, W), rng.integers(0, 50, (2, W)), rng.integers(0, 50, W),
           rng.integers(0, 50, W), rng.integers(0, 50, (n_win, W)),
           rng.integers(0, 50, (2, n_win, W))]
    want = [a.copy() for a in got]
    for week, act in ((3, rng.random(W) < 0.6), (17, np.ones(W, bool))):
        win = week // 5
        kernels.tally_incidents(count, reports, fat, act, *got, win)
        want[0] += count * act
        want[1] += reports * act
        want[2] += act
        want[3] += fat * act
        want[4][win] += count
        want[5][:, win] += reports
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)


def test_escalation_kernels_are_the_numpy_hazards_and_draw_bit_for_bit():
    """``Escalation.hazards`` and ``step``: the NumPy code the kernels replaced, on inputs
    that reach both clips and both kinds."""
    from sim.model import kernels

    rng = np.random.default_rng(13)
    W = 20_001
    ts = rng.random((2, W))
    thr, scale = rng.random(W), rng.uniform(0.001, 0.3, W)
    pmax, ig, imb = rng.uniform(0.0, 2.0, W), rng.uniform(-3.0, 10.0, W), rng.random(W)
    ma, cr, unmet = rng.uniform(-0.5, 0.5, W), rng.uniform(-0.5, 3.0, W), rng.random(W)
    gain = 1.0 + ig * imb
    side = np.clip(pmax * rules.logistic((ts - thr) / scale) * gain, 0.0, 1.0)
    want_inc = 1.0 - (1.0 - side[0]) * (1.0 - side[1])
    want_coerce = np.clip(cr * unmet * (2.0 * np.maximum(0.0, ma)), 0.0, 1.0)
    e = np.exp(-((ts - thr) / scale))
    p_coerce, p_inc = kernels.escalation_hazards(e, pmax, ig, imb, ma, cr, unmet)
    np.testing.assert_array_equal(p_inc, want_inc)
    np.testing.assert_array_equal(p_coerce, want_coerce)
    assert (side == 0.0).any() and (side == 1.0).any() and (want_coerce == 1.0).any()

    u, active, signing = rng.random(W), rng.random(W) < 0.8, rng.random(W) < 0.1
    got = [np.zeros(W, np.int8), np.full(W, -1, np.int64), np.zeros(W, np.int8)]
    want = [a.copy() for a in got]
    kernels.escalate(u, p_coerce, p_inc, active, signing, *got, 7, 3, 1, 2)
    esc = active & ~signing & (u < 1.0 - (1.0 - p_coerce) * (1.0 - p_inc))
    want[0][esc], want[1][esc] = 3, 7
    want[2][esc] = np.where(u[esc] < p_coerce[esc], 1, 2)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    assert (want[2] == 1).any() and (want[2] == 2).any()
