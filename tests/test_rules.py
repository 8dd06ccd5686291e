"""Unit tests of the pure rules, including known answers from the literature."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import rules

# Bueno de Mesquita's EC example (emission standards), as tabulated in Bueno de
# Mesquita & Stokman (1994) and reused by Scholz, Calbert & Smith (2011):
# actor, capability, position, salience.
EC_EXAMPLE = [
    ("Netherlands", 0.08, 7, 40), ("Belgium", 0.08, 4, 80), ("Luxembourg", 0.03, 4, 20),
    ("Germany", 0.16, 4, 80), ("France", 0.16, 10, 60), ("Italy", 0.16, 10, 60),
    ("UK", 0.16, 10, 90), ("Ireland", 0.05, 7, 10), ("Denmark", 0.05, 4, 100),
    ("Greece", 0.08, 7, 70),
]


def test_compromise_reproduces_the_published_ec_weighted_mean():
    c = np.array([r[1] for r in EC_EXAMPLE])
    x = np.array([r[2] for r in EC_EXAMPLE], dtype=float)[:, None]
    s = np.array([r[3] for r in EC_EXAMPLE], dtype=float)[:, None]
    assert rules.compromise(x, c[:, None] * s)[0] == pytest.approx(7.38996, abs=5e-6)


def test_compromise_is_vectorised_over_worlds_and_issues():
    rng = np.random.default_rng(0)
    x = rng.random((5, 4, 3))
    w = rng.random((5, 4, 3))
    p = rules.compromise(x, w)
    assert p.shape == (5, 3)
    assert p[2, 1] == pytest.approx((w[2, :, 1] * x[2, :, 1]).sum() / w[2, :, 1].sum())


def test_utility_is_one_at_the_ideal_and_falls_with_salient_distance():
    x = np.array([[0.2, 0.8]])
    w = rules.normalise_salience(np.array([[3.0, 1.0]]))
    assert rules.utility(x, x, w, 1.0)[0] == pytest.approx(1.0)
    near_salient = rules.utility(np.array([[0.3, 0.8]]), x, w, 1.0)[0]
    near_other = rules.utility(np.array([[0.2, 0.9]]), x, w, 1.0)[0]
    assert near_salient == pytest.approx(1 - 0.75 * 0.1)
    assert near_other == pytest.approx(1 - 0.25 * 0.1)
    # quadratic loss punishes small deviations less than linear
    assert rules.utility(np.array([[0.3, 0.8]]), x, w, 2.0)[0] > near_salient


@pytest.mark.parametrize(("da", "db", "expected"), [(0.0, 0.0, 0.5), (0.2, 0.0, 0.4),
                                                    (0.0, 0.3, 0.65), (0.1, 0.1, 0.5)])
def test_nash_linear_gives_the_textbook_split(da, db, expected):
    # One issue, A's ideal 0, B's ideal 1, linear utilities U_a = 1 - p, U_b = p:
    # the Nash solution maximises (1 - p - da)(p - db): p = (1 - da + db) / 2.
    p, ok = rules.nash_linear(np.zeros((1, 1)), np.ones((1, 1)), np.ones((1, 1)),
                              np.ones((1, 1)), da, db)
    assert ok[0]
    assert p[0, 0] == pytest.approx(expected)


def _brute_force_nash(ya, yb, wa, wb, ra, rb, rho, rng, n=200_000):
    t = rng.random((n, ya.size))
    cand = ya + t * (yb - ya)
    ga = rules.utility(cand, ya[None], wa[None], rho) - ra
    gb = rules.utility(cand, yb[None], wb[None], rho) - rb
    prod = np.where((ga > 0) & (gb > 0), ga * gb, -np.inf)
    return prod.max()


def test_nash_linear_beats_random_search_on_many_issues():
    rng = np.random.default_rng(3)
    W, K = 6, 5
    ya, yb = rng.random((W, K)), rng.random((W, K))
    wa = rules.normalise_salience(rng.random((W, K)))
    wb = rules.normalise_salience(rng.random((W, K)))
    p, ok = rules.nash_linear(ya, yb, wa, wb, 0.3, 0.3)
    for i in range(W):
        got = ((rules.utility(p[i:i + 1], ya[i:i + 1], wa[i:i + 1], 1)[0] - 0.3)
               * (rules.utility(p[i:i + 1], yb[i:i + 1], wb[i:i + 1], 1)[0] - 0.3))
        best = _brute_force_nash(ya[i], yb[i], wa[i], wb[i], 0.3, 0.3, 1.0, rng)
        assert ok[i]
        assert got >= best - 1e-9


def test_nash_curved_matches_the_quadratic_one_issue_optimum():
    # U_a = 1 - p^2, U_b = 1 - (1 - p)^2, disagreement (0.2, 0): maximise on a fine grid
    p, ok = rules.nash_curved(np.zeros((1, 1)), np.ones((1, 1)), np.ones((1, 1)),
                              np.ones((1, 1)), 0.2, 0.0, 2.0)
    grid = np.linspace(0, 1, 200_001)
    prod = (1 - grid**2 - 0.2) * (1 - (1 - grid) ** 2)
    assert ok[0]
    assert p[0, 0] == pytest.approx(grid[np.argmax(prod)], abs=1e-4)


def test_nash_reports_infeasible_when_no_package_beats_both_reservations():
    p, ok = rules.nash_linear(np.zeros((1, 2)), np.ones((1, 2)), np.full((1, 2), 0.5),
                              np.full((1, 2), 0.5), 0.6, 0.6)
    assert not ok[0]
    assert np.allclose(p, 0.5)


def test_hawkes_kernel_branching_ratio_is_total_offspring():
    alpha, delta = rules.hawkes_kernel(0.45, 4.0)
    assert delta == pytest.approx(np.exp(-0.25))
    assert alpha / (1 - delta) == pytest.approx(0.45)


def test_poisson_inverse_has_poisson_mean_and_variance():
    rng = np.random.default_rng(1)
    u = rng.random(400_000)
    for lam in (0.05, 0.7, 6.0):
        n = rules.poisson_inverse(u, np.full(u.shape, lam))
        assert n.mean() == pytest.approx(lam, rel=0.02)
        assert n.var() == pytest.approx(lam, rel=0.03)


def test_poisson_inverse_is_monotone_in_rate_for_a_fixed_uniform():
    # the property that makes common random numbers work: more rate, never fewer events
    u = np.random.default_rng(2).random(10_000)
    low = rules.poisson_inverse(u, np.full(u.shape, 0.3))
    high = rules.poisson_inverse(u, np.full(u.shape, 0.9))
    assert (high >= low).all() and (high > low).any()


def _numpy_poisson_inverse(u, lam, max_count=400):
    """The NumPy recursion the counting kernel replaced (every world until the last)."""
    lam = np.minimum(np.broadcast_to(lam, u.shape).astype(float), 200.0)
    p = np.exp(-lam)
    cdf = p.copy()
    n = np.zeros(u.shape, dtype=np.int64)
    more = u > cdf
    k = 0
    while k < max_count and more.any():
        k += 1
        n += more
        p *= lam / k
        cdf += p
        more &= u > cdf
    return n


def test_poisson_inverse_kernel_is_the_numpy_recursion_bit_for_bit():
    rng = np.random.default_rng(4)
    u = rng.random(300_000)
    u[:5] = 0.0
    lam = np.concatenate([rng.gamma(0.3, 0.5, 100_000), rng.uniform(0.0, 260.0, 100_000),
                          np.zeros(100_000)])
    got = rules.poisson_inverse(u, lam)
    np.testing.assert_array_equal(got, _numpy_poisson_inverse(u, lam))
    assert got.max() > 200 and got.dtype == np.int64
    # a scalar rate broadcasts; a cap binds
    np.testing.assert_array_equal(rules.poisson_inverse(u[:1000], 3.0),
                                  _numpy_poisson_inverse(u[:1000], 3.0))
    np.testing.assert_array_equal(rules.poisson_inverse(u[:1000], 50.0, max_count=40),
                                  _numpy_poisson_inverse(u[:1000], 50.0, max_count=40))


def test_wilson_interval_known_values():
    lo, hi = rules.wilson_interval(50, 100)
    assert (lo, hi) == pytest.approx((0.40383, 0.59617), abs=1e-5)
    lo, hi = rules.wilson_interval(0, 20)
    assert lo == pytest.approx(0.0, abs=1e-12)
    assert hi == pytest.approx(0.16113, abs=1e-5)


@pytest.mark.parametrize(("y", "t_yes", "t_no", "passed"), [
    (0.60, 0.60, 0.60, True),    # 60 % yes of votes, 36 % of registered
    (0.45, 0.60, 0.60, False),   # loses the vote
    (0.80, 0.30, 0.30, False),   # wins the vote, misses the 25 % quorum (24 %)
    (0.55, 0.60, 0.84, False),   # a mobilised no vote (turnout x 1.4) defeats it
    (0.48, 0.60, 0.30, True),    # no voters stay home: the vote goes to yes, quorum met
    (0.55, 0.50, 0.10, True),    # a boycott of no voters alone: 27.5 % yes, passes
    (0.55, 0.43, 0.10, False),   # ...but when yes voters stay home too: 23.7 %, quorum missed
])
def test_referendum_rule(y, t_yes, t_no, passed):
    ok, share, yes, _ = rules.referendum(np.array([y]), t_yes, t_no, 0.5, 0.25)
    assert bool(ok[0]) is passed
    assert yes[0] == pytest.approx(y * t_yes)
    # the threshold the opposition compares is the exact boundary of the same rule
    thr = rules.referendum_threshold(np.array([t_yes]), np.array([t_no]), 0.5, 0.25)[0]
    assert bool(y > thr) is passed
    for dy in (-1e-6, 1e-6):
        ok2, *_ = rules.referendum(np.array([thr + dy]), t_yes, t_no, 0.5, 0.25)
        assert bool(ok2[0]) is (dy > 0)


def test_row_quantiles_match_numpy_and_ignore_nan():
    a = np.random.default_rng(4).random((7, 333)).astype(np.float32)
    q = (0.1, 0.5, 0.9)
    assert np.allclose(rules.row_stats(a, q)[0], np.quantile(a, q, axis=1), atol=1e-6)
    a[2, 100:] = np.nan
    a[5, :] = np.nan
    got = rules.row_stats(a, q)[0]
    assert np.allclose(got[:, 2], np.quantile(a[2, :100], q), atol=1e-6)
    assert np.isnan(got[:, 5]).all()


# ----------------------------------------------------------------------- library twins
# Each of these rules has a library twin; the model keeps its own for the reasons in the
# rule's docstring (bit-identical outcomes, speed). These tests show what each twin gives.


def test_logistic_agrees_with_scipy_expit_to_the_last_places():
    from scipy.special import expit

    z = np.random.default_rng(0).normal(0.0, 5.0, 200_000)
    np.testing.assert_allclose(rules.logistic(z), expit(z), rtol=0, atol=2.3e-16)


def test_poisson_inverse_equals_scipy_poisson_ppf():
    from scipy import stats

    rng = np.random.default_rng(1)
    u = rng.random(200_000)
    lam = np.concatenate([rng.gamma(0.3, 0.5, 100_000), rng.uniform(0.0, 60.0, 100_000)])
    np.testing.assert_array_equal(rules.poisson_inverse(u, lam), stats.poisson.ppf(u, lam))


@pytest.mark.parametrize("k,n", [(0, 10), (1, 3), (5, 10), (10, 10), (86, 1000),
                                 (4300, 50_000), (49_999, 50_000)])
def test_wilson_interval_equals_scipy_binomtest(k, n):
    from scipy import stats

    lo, hi = rules.wilson_interval(k, n)
    ci = stats.binomtest(k, n).proportion_ci(method="wilson")
    assert abs(lo - ci.low) < 1e-15 and abs(hi - ci.high) < 1e-15


# ------------------------------------------------ the kernels' stated summation orders


def _numpy_utility(p, x, w, rho):
    """The NumPy code the utility kernel replaced (sim/model/rules.py before issue 20)."""
    d = np.subtract(p, x)
    np.abs(d, out=d)
    if rho != 1.0:
        d **= rho
    return 1.0 - np.einsum("...k,...k->...", d, w)


def _numpy_compromise(x, weight):
    """The NumPy code the compromise kernel replaced: actors summed in the order given."""
    num = np.multiply(weight[0], x[0], dtype=float)
    den = np.array(weight[0], dtype=float)
    for xi, wi in zip(x[1:], weight[1:], strict=True):
        num += wi * xi
        den += wi
    return np.divide(num, den, out=np.full_like(num, 0.5), where=den > 0)


def _two_lane_sum(terms):
    """The stated order written out in Python: even issues in lane 0, odd in lane 1,
    blocks of eight taken by the pairs (6, 7), (4, 5), (2, 3), (0, 1), then the rest."""
    a, K, k = [0.0, 0.0], len(terms), 0
    while k + 8 <= K:
        for j in (6, 4, 2, 0):
            a[0] += terms[k + j]
            a[1] += terms[k + j + 1]
        k += 8
    while k < K:
        a[(k % 2)] += terms[k]
        k += 1
    return a[0] + a[1]


@pytest.mark.parametrize("K", [1, 2, 3, 7, 8, 9, 12, 15, 16, 17, 23, 31])
@pytest.mark.parametrize("rho", [1.0, 2.0, 1.5])
def test_utility_kernel_is_numpy_einsum_bit_for_bit(K, rho):
    rng = np.random.default_rng(K)
    W = 257
    # values spread over magnitudes so that a change of summation order shows
    p = rng.random((W, K)) * 10.0 ** rng.integers(-6, 3, (W, K))
    x = rng.random((W, K))
    w = rng.random((W, K)) * 10.0 ** rng.integers(-8, 2, (W, K))
    got = rules.utility(p, x, w, rho)
    # the order written out in Python (``**`` is the C library's pow, as in the kernel)
    for i in (0, 5, W - 1):
        terms = [(abs(a - b) * abs(a - b) if rho == 2.0 else abs(a - b) ** rho) * c
                 for a, b, c in zip(p[i].tolist(), x[i].tolist(), w[i].tolist(), strict=True)]
        assert got[i] == 1.0 - _two_lane_sum(terms)
    want, want_b = _numpy_utility(p, x, w, rho), _numpy_utility(p[3], x, w, rho)
    if rho in (1.0, 2.0):  # the model's exponents: NumPy's numbers bit for bit
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(rules.utility(p[3], x, w, rho), want_b)
    else:  # NumPy's pow is its CPU-dispatched SIMD one: equal to the last bits only
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(rules.utility(p[3], x, w, rho), want_b, rtol=1e-14,
                                   atol=1e-15)


def test_the_stated_order_is_not_a_plain_left_to_right_sum():
    # the test above can fail: at 12 issues a sequential sum differs for some rows
    rng = np.random.default_rng(1)
    W, K = 2000, 12
    p, x = rng.random((W, K)) * 10.0 ** rng.integers(-6, 3, (W, K)), rng.random((W, K))
    w = rng.random((W, K))
    got = rules.utility(p, x, w, 1.0)
    seq = np.array([1.0 - sum(float(t) for t in np.abs(p[i] - x[i]) * w[i])
                    for i in range(W)])
    assert (got != seq).any()


@pytest.mark.parametrize(("n", "K"), [(1, 1), (2, 12), (5, 7), (9, 13)])
def test_compromise_kernel_is_the_numpy_rule_bit_for_bit(n, K):
    rng = np.random.default_rng(n * 100 + K)
    W = 301
    xs = [rng.random((W, K)) for _ in range(n)]
    ws = [rng.random((W, K)) * 10.0 ** rng.integers(-6, 3, (W, K)) for _ in range(n)]
    ws[0][:7] = 0.0
    for w in ws:  # some issues with no weight at all: 0.5
        w[:3, 0] = 0.0
    want = _numpy_compromise(xs, ws)
    np.testing.assert_array_equal(rules.compromise(xs, ws), want)
    # weight factors multiplied inside, and a subset of columns
    f = [rng.random(W) if i % 2 else None for i in range(n)]
    wf = [w if fi is None else w * fi[:, None] for w, fi in zip(ws, f, strict=True)]
    cols = np.arange(K)[::2]
    got = rules.compromise(xs, ws, factors=f, cols=cols)
    np.testing.assert_array_equal(got, _numpy_compromise(xs, wf)[:, cols])
    assert (got[:3, 0] == 0.5).all()


def _numpy_table_move(table, target, cols, inertia, fixed, text_mask, lock, changed):
    """The NumPy update of ``Table.step`` that :func:`kernels.move_table` replaced."""
    keep = 1.0 - np.asarray(inertia, dtype=float).reshape(-1, 1)
    if cols.size < table.shape[1]:  # every world's text fixed: the open columns only
        cur = table[:, cols]
        target = target - cur
        target *= keep
        table[:, cols] = cur + target
    else:
        target = target - table
        target *= keep
        if fixed.all():
            target[:, text_mask] = 0.0
        elif fixed.any():
            target *= ~(fixed[:, None] & text_mask[None, :])
        table += target
    if lock >= 0:
        table[:, lock] = np.where(changed, 1.0, table[:, lock])


@pytest.mark.parametrize("case", ["open", "some fixed", "all fixed", "open columns"])
def test_table_move_kernel_is_the_numpy_update_bit_for_bit(case):
    from sim.model import kernels

    rng = np.random.default_rng(7)
    W, K = 503, 12
    table = rng.random((W, K))
    text_mask = np.arange(K) < 7
    fixed = {"open": np.zeros(W, bool), "some fixed": rng.random(W) < 0.4,
             "all fixed": np.ones(W, bool), "open columns": np.ones(W, bool)}[case]
    cols = np.flatnonzero(~text_mask) if case == "open columns" else np.arange(K)
    target = rng.random((W, cols.size))
    changed = rng.random(W) < 0.3
    for inertia, lock in ((np.array([0.9]), -1), (rng.uniform(0.45, 0.99, W), 3)):
        want = table.copy()
        _numpy_table_move(want, target, cols, inertia, fixed, text_mask, lock, changed)
        got = table.copy()
        kernels.move_table(got, target, cols.astype(np.int64), inertia, fixed, text_mask,
                           lock, changed)
        np.testing.assert_array_equal(got, want)
        assert not np.array_equal(got, table)


def test_binomial_inverse_equals_scipy_binom_ppf():
    """The model's binomial draws are scipy's quantiles, draw for draw (what it replaced)."""
    from scipy import stats

    rng = np.random.default_rng(20)
    N = 300_000
    for n, p in ((rng.poisson(2.0, N) + 1.0, rng.uniform(0.2, 0.8, N)),   # incidents' split
                 (rng.integers(0, 110, N).astype(float), rng.random(N)),  # deputies
                 (rng.integers(1, 110, N).astype(float), rng.beta(0.3, 0.3, N))):  # p near 0/1
        u = rng.random(N)
        np.testing.assert_array_equal(rules.binomial_inverse(u, n, p), stats.binom.ppf(u, n, p))
    # the conventions: u = 0 gives -1, u = 1 gives n, p = 0 / 1, no trials, outside the domain
    u = np.array([0.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.5, np.nan, 1e-300, 1 - 1e-16])
    n = np.array([5.0, 5.0, 0.0, 5.0, 5.0, 2.5, -1.0, 5.0, 5.0, 5.0, 50.0, 50.0])
    p = np.array([0.5, 0.5, 0.5, 0.0, 1.0, 0.5, 0.5, 1.2, 0.5, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(rules.binomial_inverse(u, n, p), stats.binom.ppf(u, n, p))
    # shapes broadcast as the domestic track's (votes, factions) draws do
    u2 = rng.random((40, 3))
    np.testing.assert_array_equal(rules.binomial_inverse(u2, np.array([30.0, 12.0, 7.0]), 0.4),
                                  stats.binom.ppf(u2, np.array([30.0, 12.0, 7.0]), 0.4))


def test_climate_and_mobilisation_kernels_are_the_numpy_updates_bit_for_bit():
    """Perceptions' tension, trust and the opposition's mobilisation: the NumPy code they
    replaced, on inputs that reach both clips and both branches of the calm week."""
    from sim.model import kernels

    rng = np.random.default_rng(11)
    W = 20_001
    ts = rng.random((2, W))
    dmg = rng.exponential(0.5, (2, W)) * (rng.random((2, W)) < 0.5)
    reports = rng.poisson(0.4, (2, W))
    trust = rng.random(W)
    decay, per, tpd, rec = (rng.uniform(-1.0, 3.0, W) for _ in range(4))
    got = kernels.climate(ts, dmg, reports, trust, decay, per, tpd, rec)
    want_ts = np.clip(ts * (1.0 - decay) + np.minimum(1.0, per * dmg) * (1.0 - ts), 0.0, 1.0)
    tr = trust * (1.0 - np.minimum(1.0, tpd * dmg.mean(axis=0)))
    want_trust = np.where((reports == 0).all(axis=0), tr + rec * (1.0 - tr), tr)
    for g, w in zip(got, (want_ts, want_ts.mean(axis=0), want_trust), strict=True):
        np.testing.assert_array_equal(g, w)
    assert (want_ts == 0.0).any() and (want_ts == 1.0).any()

    m, u, sp = rng.random(W), rng.uniform(-0.5, 1.0, W), rng.random(W)
    st, cs, tol, inc, ss, dec = (rng.uniform(-1.0, 2.0, W) for _ in range(6))
    gain = st * (cs * np.maximum(0.0, (1.0 - u) - tol) + inc * dmg[0] + ss * sp)
    want = np.clip(m + (1.0 - m) * np.minimum(gain, 1.0) - dec * m, 0.0, 1.0)
    np.testing.assert_array_equal(kernels.mobilise(m, u, dmg[0], sp, st, cs, tol, inc, ss,
                                                   dec), want)
    assert (want == 0.0).any() and (want == 1.0).any()
