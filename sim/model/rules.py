"""Pure, vectorised decision rules and formulas.

Every function takes arrays with a leading world axis (``W``) and, where issues matter,
a trailing issue axis (``K``); a single world is ``W = 1``. Nothing here keeps state or
draws random numbers: the agents and the model call these functions. The equations are
written out, with sources, in ``docs/model.md``.
"""

from __future__ import annotations

import math

import numpy as np

from sim.model import kernels, kernels_domestic, kernels_tables

# ----------------------------------------------------------------------- utilities


def normalise_salience(s: np.ndarray) -> np.ndarray:
    """Scale saliences so they sum to one over issues (an actor with none stays zero)."""
    tot = s.sum(axis=-1, keepdims=True)
    return np.divide(s, tot, out=np.zeros_like(s, dtype=float), where=tot > 0)


def utility(p: np.ndarray, x: np.ndarray, w: np.ndarray, rho: float) -> np.ndarray:
    """Utility of package ``p`` to an actor with ideal ``x`` and normalised saliences ``w``.

    ``U(p) = 1 - sum_k w_k |p_k - x_k|^rho``: 1 at the ideal point, 0 at the far corner of
    the unit cube when positions are at 0 or 1. ``rho = 1`` is linear loss, ``rho = 2``
    quadratic (risk-averse) loss. Computed by :func:`sim.model.kernels.utility`, which
    sums over issues in one stated order (NumPy einsum's two lanes; see
    :func:`sim.model.kernels.weighted_loss`).

    Args:
        p: Packages, shape ``(W, K)`` or ``(K,)`` (a leading axis of 1 broadcasts).
        x: Ideal points, shape ``(W, K)``.
        w: Normalised saliences, shape ``(W, K)``.
        rho: Loss exponent, >= 1.

    Returns:
        Utilities, shape ``(W,)``.
    """
    p, x, w = (np.asarray(a, dtype=float) for a in (p, x, w))
    lead = np.broadcast_shapes(p.shape[:-1], x.shape[:-1], w.shape[:-1])
    K = p.shape[-1]
    p2, x2, w2 = (a.reshape(-1, K) if a.ndim != 2 else a for a in (p, x, w))
    u = kernels.utility(p2, x2, w2, float(rho))
    return u.reshape(lead)


# ----------------------------------------------------------------------- proposals


def compromise(x, weight, factors=None, cols=None) -> np.ndarray:
    """Compromise (mean-voter) rule: ``p_k = sum_i w_ik x_ik / sum_i w_ik``.

    With ``w_ik = c_i s_ik`` this is the weighted mean of Achen (2006) and the DEU
    studies; Bueno de Mesquita's EC example gives 7.38996. The model's table calls this
    function every week (``Table.propose``), so the known-answer test guards the code
    production runs: :func:`sim.model.kernels.compromise`, which sums over actors in the
    order given.

    Args:
        x: Positions: an array ``(..., N, K)`` with actors on the second-last axis, or a
            sequence of N arrays ``(..., K)``, one per actor (no stacked copy is made).
        weight: Weights ``c_i * s_ik``, in the same form and shapes as ``x``.
        factors: Sequence form only: per-actor factors of the weight, each ``None`` or an
            array over the leading (world) axis; actor ``i``'s weight is then
            ``weight[i] * factors[i][..., None]``, multiplied inside the kernel rather
            than materialised.
        cols: Only these issues (columns) of the package, an integer array.

    Returns:
        The package, shape ``(..., K)`` (``(..., len(cols))`` with ``cols``); where all
        weights on an issue are zero, 0.5.
    """
    if isinstance(x, np.ndarray):
        x = [x[..., i, :] for i in range(x.shape[-2])]
        weight = [weight[..., i, :] for i in range(weight.shape[-2])]
    if len(x) != len(weight) or not x:
        raise ValueError("compromise needs one weight array per position array")
    lead, K = np.shape(x[0])[:-1], np.shape(x[0])[-1]

    def rows(a) -> np.ndarray:
        return np.ascontiguousarray(a, dtype=float).reshape(-1, K)

    xs = tuple(rows(a) for a in x)
    ws = tuple(rows(a) for a in weight)
    W = xs[0].shape[0]
    if factors is None:
        factors = [None] * len(xs)
    ones = np.ones(W)
    fs = tuple(ones if f is None else np.ascontiguousarray(f, dtype=float).reshape(W)
               for f in factors)
    cols = (np.arange(K, dtype=np.int64) if cols is None
            else np.ascontiguousarray(cols, dtype=np.int64))
    return kernels.compromise(xs, ws, fs, cols).reshape(*lead, cols.shape[0])


def nash_linear(ya: np.ndarray, yb: np.ndarray, wa: np.ndarray, wb: np.ndarray,
                ra: np.ndarray, rb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nash bargaining solution for two actors with linear (L1) loss.

    Maximises ``(U_a(p) - r_a)(U_b(p) - r_b)`` over packages. With linear loss the Pareto
    frontier is piecewise linear: issues are handed from A's ideal to B's in decreasing
    order of ``w_b / w_a`` (B's gain per unit of A's loss); the product is a concave
    quadratic on each piece, maximised in closed form, and the best piece wins. Exact,
    and vectorised over worlds.

    Args:
        ya: Ideal (or stated) point of A, shape ``(W, K)``.
        yb: Ideal (or stated) point of B, shape ``(W, K)``.
        wa: A's normalised saliences, shape ``(W, K)``.
        wb: B's normalised saliences, shape ``(W, K)``.
        ra: A's disagreement utility, shape ``(W,)`` or a scalar.
        rb: B's disagreement utility, shape ``(W,)`` or a scalar.

    Returns:
        ``(package, feasible)``: the package ``(W, K)`` and whether a package giving both
        more than their disagreement value exists ``(W,)``. Infeasible worlds get the
        midpoint of the two ideals.
    """
    W, K = ya.shape
    d = np.abs(yb - ya)
    loss_a = wa * d  # A's utility lost if issue k goes fully to B
    gain_b = wb * d  # B's utility gained
    ratio = np.divide(gain_b, loss_a, out=np.full_like(gain_b, np.inf), where=loss_a > 0)
    order = np.argsort(-ratio, axis=1, kind="stable")
    la = np.take_along_axis(loss_a, order, axis=1)
    gb = np.take_along_axis(gain_b, order, axis=1)
    ra = np.broadcast_to(np.asarray(ra, dtype=float), (W,))
    rb = np.broadcast_to(np.asarray(rb, dtype=float), (W,))
    ub0 = 1.0 - (wb * d).sum(axis=1)  # B's utility at A's ideal
    ua_start = 1.0 - np.concatenate([np.zeros((W, 1)), np.cumsum(la, axis=1)[:, :-1]], axis=1)
    ub_start = ub0[:, None] + np.concatenate([np.zeros((W, 1)),
                                              np.cumsum(gb, axis=1)[:, :-1]], axis=1)
    ga = ua_start - ra[:, None]
    gbb = ub_start - rb[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = (gb * ga - la * gbb) / (2.0 * la * gb)
    tau = np.where(np.isfinite(tau), tau, np.where(gb * ga - la * gbb > 0, 1.0, 0.0))
    tau = np.clip(tau, 0.0, 1.0)
    fa = ga - la * tau
    fb = gbb + gb * tau
    ok = (fa > 0) & (fb > 0)
    prod = np.where(ok, fa * fb, -np.inf)
    j = np.argmax(prod, axis=1)
    feasible = np.isfinite(prod[np.arange(W), j])
    tau_j = tau[np.arange(W), j]
    # fraction of the way from A to B per sorted issue: 1 before j, tau at j, 0 after
    rank = np.arange(K)[None, :]
    frac_sorted = np.where(rank < j[:, None], 1.0, np.where(rank == j[:, None],
                                                            tau_j[:, None], 0.0))
    frac = np.empty_like(frac_sorted)
    np.put_along_axis(frac, order, frac_sorted, axis=1)
    p = ya + frac * (yb - ya)
    mid = 0.5 * (ya + yb)
    p = np.where(feasible[:, None], p, mid)
    return p, feasible


def nash_curved(ya: np.ndarray, yb: np.ndarray, wa: np.ndarray, wb: np.ndarray,
                ra: np.ndarray, rb: np.ndarray, rho: float,
                iterations: int = 40, rho_a: float | None = None,
                rho_b: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nash bargaining solution for two actors with loss exponent ``rho > 1``.

    On the contract curve the marginal rates of substitution are equal, which gives the
    one-parameter family ``p_k(t) = y_a + (y_b - y_a) / (1 + (t w_a / ((1-t) w_b))^(1/(rho-1)))``
    for ``t`` in (0, 1) (``t`` near 1 favours A). The Nash product is maximised over
    ``t`` by golden-section search, vectorised over worlds. When the two sides' loss
    exponents differ (``rho_a``, ``rho_b``), the family is built with ``rho`` (their
    maximum) and the Nash product is evaluated with each side's own utility, so the
    result is the best package on that approximate contract curve.

    Returns:
        ``(package, feasible)`` as in :func:`nash_linear`.
    """
    W = ya.shape[0]
    ra = np.broadcast_to(np.asarray(ra, dtype=float), (W,))
    rb = np.broadcast_to(np.asarray(rb, dtype=float), (W,))
    rho_a = rho if rho_a is None else rho_a
    rho_b = rho if rho_b is None else rho_b
    inv = 1.0 / (rho - 1.0)
    tiny = 1e-12

    def package(t: np.ndarray) -> np.ndarray:
        tt = t[:, None]
        ratio = (tt * (wa + tiny)) / ((1.0 - tt) * (wb + tiny))
        return ya + (yb - ya) / (1.0 + ratio**inv)

    def objective(t: np.ndarray) -> np.ndarray:
        p = package(t)
        ga = utility(p, ya, wa, rho_a) - ra
        gb = utility(p, yb, wb, rho_b) - rb
        return np.where((ga > 0) & (gb > 0), ga * gb, -1.0 + 0.0 * ga - np.abs(ga - gb))

    g = (math.sqrt(5) - 1) / 2
    lo = np.full(W, 1e-6)
    hi = np.full(W, 1 - 1e-6)
    c = hi - g * (hi - lo)
    e = lo + g * (hi - lo)
    fc, fe = objective(c), objective(e)
    for _ in range(iterations):
        left = fc > fe
        hi = np.where(left, e, hi)
        lo = np.where(left, lo, c)
        c_new = hi - g * (hi - lo)
        e_new = lo + g * (hi - lo)
        c, e = c_new, e_new
        fc, fe = objective(c), objective(e)
    t = 0.5 * (lo + hi)
    p = package(t)
    ga = utility(p, ya, wa, rho_a) - ra
    gb = utility(p, yb, wb, rho_b) - rb
    feasible = (ga > 0) & (gb > 0)
    p = np.where(feasible[:, None], p, 0.5 * (ya + yb))
    return p, feasible


# ----------------------------------------------------------------------- incidents


def binomial_inverse(u, n, p) -> np.ndarray:
    """Binomial counts ``Bin(n, p)`` by inversion of the CDF at uniforms ``u``.

    The smallest ``k`` with ``CDF(k) >= u``, as floats; ``-1`` at ``u = 0``, NaN outside
    the domain: the values of ``scipy.stats.binom.ppf(u, n, p)``, which this replaced
    (``tests/test_rules.py`` compares them on millions of draws over the model's ranges),
    at a fraction of its cost per call (its argument checks took more than its
    quantiles). One uniform per draw, so draws stay paired across scenarios (common
    random numbers). Computed by :func:`sim.model.kernels.binomial_counts`.

    Args:
        u: Uniforms in [0, 1].
        n: Trials (whole numbers >= 0), broadcastable with ``u`` and ``p``.
        p: Success probabilities in [0, 1].
    """
    u, n, p = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (u, n, p)))
    flat = [np.ascontiguousarray(a).reshape(-1) for a in (u, n, p)]
    return kernels.binomial_counts(*flat).reshape(u.shape)


def hawkes_kernel(branching_ratio, decay_weeks):
    """Return ``(alpha, delta)`` of the weekly Hawkes recursion.

    Excitation ``h`` evolves as ``h_{t+1} = delta h_t + alpha n_t`` with
    ``delta = exp(-1/decay_weeks)`` and ``alpha = eta (1 - delta)``, so one incident
    triggers ``alpha / (1 - delta) = eta`` incidents in expectation (the branching ratio)
    and the stationary rate is ``mu / (1 - eta)``.
    """
    delta = np.exp(-1.0 / np.asarray(decay_weeks, dtype=float))
    alpha = np.asarray(branching_ratio, dtype=float) * (1.0 - delta)
    return alpha, delta


#: Safety bound on a Poisson count by inversion (:func:`poisson_inverse`, and the
#: incidents' kernel, :meth:`sim.model.incidents.BorderProcess.step`).
POISSON_MAX_COUNT = 400


def poisson_inverse(u: np.ndarray, lam: np.ndarray,
                    max_count: int = POISSON_MAX_COUNT) -> np.ndarray:
    """Poisson counts by inversion of the CDF at uniforms ``u``.

    Inversion uses exactly one uniform per world whatever the rate, which keeps the
    incident stream aligned across scenarios (common random numbers).

    Not ``scipy.stats.poisson.ppf``: that gives the same counts (``tests/test_rules.py``
    checks it on a million draws) but took 16 to 80 times longer in
    ``benchmarks/bench_library_rules.py`` (the model calls this four times a week), so
    this recursion stays.

    The recursion runs in :func:`sim.model.kernels.poisson_counts` (one world at a time,
    stopping at its own count, rather than every world until the largest count); the
    starting term ``exp(-lam)`` is NumPy's.

    Args:
        u: Uniforms in [0, 1), shape ``(W,)``.
        lam: Rates (>= 0), broadcastable to ``u``; capped at
            :data:`sim.model.kernels.POISSON_MAX_RATE` (200) per week.
        max_count: Safety bound on the count.
    """
    lam = np.minimum(np.broadcast_to(lam, u.shape).astype(float), kernels.POISSON_MAX_RATE)
    shape = lam.shape
    u = np.ascontiguousarray(u, dtype=float).reshape(-1)
    lam = lam.reshape(-1)
    # exp in NumPy (its SIMD exp, as before the kernel: the record's last bits)
    return kernels.poisson_counts(u, lam, np.exp(-lam), max_count).reshape(shape)


def logistic(z):
    """The logistic function ``1 / (1 + exp(-z))``.

    Not ``scipy.special.expit``: expit agrees to within 2.3e-16 (``tests/test_rules.py``)
    but differs in the last bits for about 2 % of arguments, and those bits move
    threshold comparisons downstream: with expit 19 of the 20 scenarios' golden numbers
    change (``tests/test_golden.py``). Kept as written so that the record stands.
    """
    return 1.0 / (1.0 + np.exp(-z))


# ----------------------------------------------------------------------- referendum


def referendum(yes_share, turnout_yes, turnout_no, yes_threshold, quorum):
    """Outcome of a constitutional referendum.

    Of the registered voters, a share ``yes_share`` would vote yes and the rest no; yes
    voters turn out at ``turnout_yes`` and no voters at ``turnout_no`` (a no campaign
    raises the latter, a boycott lowers both). The draft passes when yes votes are more
    than ``yes_threshold`` of votes cast and at least ``quorum`` of all registered
    voters (Armenia: more than 50 % and at least 25 %).

    Returns:
        ``(passed, yes_share_of_cast, yes_share_of_registered, turnout_total)``.
    """
    yes = yes_share * turnout_yes
    no = (1.0 - yes_share) * turnout_no
    cast = yes + no
    share = np.divide(yes, cast, out=np.zeros_like(np.asarray(cast, dtype=float)),
                      where=cast > 0)
    passed = (share > yes_threshold) & (yes >= quorum)
    return passed, share, yes, cast


def referendum_threshold(turnout_yes, turnout_no, yes_threshold, quorum) -> np.ndarray:
    """Smallest yes share at which :func:`referendum` passes.

    At the boundary itself the share condition fails (it is strict). Share condition:
    ``y t_y (1 - theta) > theta (1 - y) t_n``, i.e. ``y > theta t_n / ((1 - theta) t_y
    + theta t_n)``; quorum: ``y >= Q / t_y``. The opposition compares
    this threshold across its strategies: the higher it is, the likelier the defeat.
    The rule the model runs in :func:`sim.model.kernels_domestic.referendum_plan`,
    here on arrays broadcast together (:func:`sim.model.kernels_domestic.referendum_threshold`).
    """
    args = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (
        turnout_yes, turnout_no, yes_threshold, quorum)))
    flat = [np.array(a).reshape(-1) for a in args]  # copies: a broadcast view is read-only
    return kernels_domestic.referendum_threshold(*flat).reshape(args[0].shape)


# ----------------------------------------------------------------------- statistics


#: Bytes of one block of sorted rows in :func:`row_stats` (the block stays in cache
#: between its sort and the pass that reads it; the scratch is reused for every block).
ROW_BLOCK_BYTES = 1 << 18


def row_stats(a: np.ndarray, qs, squares: bool = False
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Quantiles, NaN-ignoring sums and sums of squares of each row of ``a``.

    For the ``(weeks x worlds)`` series the model records: row by row, the quantiles
    ``qs`` of the values that are not NaN (numpy's linear interpolation, as
    ``np.nanquantile``; a row with no such value gives NaN), ``np.nansum(row,
    dtype=float)`` and, with ``squares``, ``np.nansum(np.square(row, dtype=float))``,
    each bit for bit NumPy's (:mod:`sim.model.kernels_tables`). The rows are sorted by
    NumPy a block at a time into one scratch block; one compiled pass per block then
    reads the quantiles off the sorted rows and sums the rows in NumPy's pairwise order.

    Args:
        a: ``(H, W)`` float32 or float64.
        qs: Quantiles in ``[0, 1]``.
        squares: Also return the sums of squares.

    Returns:
        ``(quantiles, sums, squares)``: arrays of shape ``(len(qs), H)``, ``(H,)`` and
        ``(H,)`` (``None`` without ``squares``).
    """
    a = np.ascontiguousarray(a)
    if a.ndim != 2 or a.dtype not in (np.float32, np.float64):
        raise TypeError(f"row_stats: (H, W) float32 or float64, got {a.dtype} {a.shape}")
    H, W = a.shape
    qv = np.asarray(qs, dtype=float).reshape(-1)
    out = np.empty((qv.size, H))
    total = np.empty(H)
    sq = np.empty(H) if squares else None
    # NumPy casts float32 to float64 in buffers of getbufsize() values, each summed apart
    chunk = np.getbufsize() if a.dtype == np.float32 else max(W, 1)
    rows = max(1, min(H, ROW_BLOCK_BYTES // max(W * a.itemsize, 1)))
    block = np.empty((rows, W), dtype=a.dtype)
    z = np.empty(W)
    z2 = np.empty(W if squares else 0)
    for t0 in range(0, H, rows):
        t1 = min(t0 + rows, H)
        s = block[:t1 - t0]
        np.copyto(s, a[t0:t1])
        s.sort(axis=1)
        # without squares the kernel writes no sum of squares: any float row will do
        kernels_tables.row_stats(a[t0:t1], s, qv, chunk, squares, z, z2, out[:, t0:t1],
                                 total[t0:t1], total[t0:t1] if sq is None else sq[t0:t1])
    return out, total, sq


def wilson_interval(k, n, z: float = 1.959963984540054):
    """Wilson score interval for a binomial proportion ``k / n`` (95 % by default).

    The same interval as ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``
    to within 2e-16 (``tests/test_rules.py``), but not bit for bit (scipy arranges the
    formula differently), and this one is vectorised over arrays of ``k`` and ``n``
    (the sweep tables call it per row); kept so that reported intervals stay as
    recorded.
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / den
    return centre - half, centre + half
