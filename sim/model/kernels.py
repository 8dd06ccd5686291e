"""Compiled kernels of the weekly step's hot phases (numba), worlds on the outside.

These are the rules the model runs: :func:`sim.model.rules.utility` and
:func:`sim.model.rules.compromise` call :func:`utility` and :func:`compromise`, the
signatories' ``value``, ``decide``, ``concede`` and ``term_shortfalls``
(:class:`sim.model.agents.Signatory`) call the kernels of the same names, so the
known-answer tests of ``tests/test_rules.py`` exercise the code production runs. Each
kernel loops over worlds on the outside and over issues inside, so a world's state stays
in cache and no ``(W, K)`` temporary is allocated per call.

Sums keep one stated order, that of the NumPy code they replaced, so the outcomes are bit
for bit those of the golden record (``tests/test_golden.py``):

* a salience-weighted loss ``sum_k w_k |p_k - x_k|^rho`` (:func:`weighted_loss`) is summed
  in NumPy ``einsum``'s order for two contiguous float64 operands on an SSE (two-lane)
  baseline: lane 0 takes the even issues and lane 1 the odd ones; issues come in blocks of
  eight, inside a block the pairs ``(6, 7), (4, 5), (2, 3), (0, 1)`` are added in that
  order; the remaining issues in pairs from the left (an odd last issue goes to lane 0);
  the result is ``lane 0 + lane 1``. Products are rounded before they are added (no fused
  multiply-add);
* the compromise rule's weighted sums run over actors in the order given, starting from
  the first actor's term (no pairwise summation);
* every other expression is evaluated in the order written in its docstring (Python's left
  to right), one rounding per operation as NumPy's element-wise ufuncs do.

``tests/test_rules.py`` pins these orders against NumPy references on random inputs and
awkward issue counts. The kernels compile on first call (not at import) and are cached
next to this module (``__pycache__``; ``NUMBA_CACHE_DIR`` moves it).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Cap on a weekly Poisson rate (:func:`sim.model.rules.poisson_inverse` and the
#: incidents' rates, :func:`incident_rates`); a compile-time constant of the kernels.
POISSON_MAX_RATE = 200.0
#: NumPy's pairwise summation sums ranges of at most this many values directly
#: (:func:`pairwise_leaf`).
PW_BLOCKSIZE = 128

# --------------------------------------------------------------------- helpers


@njit(cache=True, nogil=True, inline="always")
def pairwise_leaf(z, lo, n):  # pragma: no cover - compiled
    """``sum(z[lo:lo + n])``, ``n <= PW_BLOCKSIZE``, as NumPy's ``pairwise_sum`` leaf.

    The one leaf of NumPy's order of a sum: the weekly table's sums
    (:func:`sim.model.kernels_tables._pairwise`) and a row's sum over factions
    (:func:`sim.model.kernels_domestic._row_sum`).

    Fewer than eight values left to right from 0.0; otherwise eight accumulators over
    the multiple of eight, combined ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 +
    r7))``, then the rest left to right.
    """
    if n < 8:
        res = 0.0
        for i in range(n):
            res += z[lo + i]
        return res
    r0 = z[lo]
    r1 = z[lo + 1]
    r2 = z[lo + 2]
    r3 = z[lo + 3]
    r4 = z[lo + 4]
    r5 = z[lo + 5]
    r6 = z[lo + 6]
    r7 = z[lo + 7]
    i = 8
    m = n - n % 8
    while i < m:
        r0 += z[lo + i]
        r1 += z[lo + i + 1]
        r2 += z[lo + i + 2]
        r3 += z[lo + i + 3]
        r4 += z[lo + i + 4]
        r5 += z[lo + i + 5]
        r6 += z[lo + i + 6]
        r7 += z[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += z[lo + i]
        i += 1
    return res


@njit(cache=True, nogil=True, inline="always")
def _two_lanes(t, K):  # pragma: no cover - compiled
    """``sum_k t[k]`` over the first ``K`` terms in NumPy einsum's two-lane order."""
    a0 = 0.0
    a1 = 0.0
    k = 0
    while k + 8 <= K:
        a0 += t[k + 6]
        a1 += t[k + 7]
        a0 += t[k + 4]
        a1 += t[k + 5]
        a0 += t[k + 2]
        a1 += t[k + 3]
        a0 += t[k]
        a1 += t[k + 1]
        k += 8
    while k + 2 <= K:
        a0 += t[k]
        a1 += t[k + 1]
        k += 2
    if k < K:
        a0 += t[k]
    return a0 + a1


@njit(cache=True, nogil=True, inline="always")
def weighted_loss(p, pi, x, xi, w, wi, rho, t):  # pragma: no cover - compiled
    """``sum_k w[wi, k] |p[pi, k] - x[xi, k]|^rho`` in NumPy einsum's two-lane order.

    The terms ``|p_k - x_k|^rho w_k`` (the power rounded, then the product: no fused
    multiply-add; ``rho = 2`` a square as NumPy's ``d **= 2``) are first written to the
    scratch row ``t`` (``K`` floats, allocated once per kernel call), then summed: lane 0
    takes the even issues, lane 1 the odd ones; in blocks of eight issues the pairs are
    taken ``(6, 7), (4, 5), (2, 3), (0, 1)``, then the remaining issues in pairs from the
    left (an odd last one in lane 0); the result is ``lane0 + lane1``. This is the order
    of ``np.einsum("...k,...k->...", d, w)`` for contiguous float64 rows on an
    SSE2/x86-64-v2 baseline (``sum_of_products_contig_contig_outstride0_two``). The
    exponent is tested once per row, not per term: the term loop then vectorises.
    """
    K = p.shape[1]
    if rho == 1.0:
        for k in range(K):
            t[k] = abs(p[pi, k] - x[xi, k]) * w[wi, k]
    elif rho == 2.0:
        for k in range(K):
            d = abs(p[pi, k] - x[xi, k])
            t[k] = (d * d) * w[wi, k]
    else:
        for k in range(K):
            t[k] = abs(p[pi, k] - x[xi, k]) ** rho * w[wi, k]
    return _two_lanes(t, K)


@njit(cache=True, nogil=True, inline="always")
def _row(a, i):  # pragma: no cover - compiled
    """Row ``i`` of ``a``, or row 0 when ``a`` has one row (broadcast over worlds)."""
    return 0 if a.shape[0] == 1 else i


# --------------------------------------------------------------------- rules


@njit(cache=True, nogil=True)
def utility(p, x, w, rho):  # pragma: no cover - compiled
    """``U = 1 - weighted_loss`` per world; ``p``, ``x``, ``w`` 2-D, one row broadcasts.

    Order as :func:`weighted_loss`, then ``1.0 - sum``.
    """
    W = max(p.shape[0], x.shape[0], w.shape[0])
    out = np.empty(W)
    t = np.empty(p.shape[1])
    for i in range(W):
        out[i] = 1.0 - weighted_loss(p, _row(p, i), x, _row(x, i), w, _row(w, i), rho, t)
    return out


@njit(cache=True, nogil=True)
def compromise(xs, ws, fs, cols):  # pragma: no cover - compiled
    """Compromise rule on columns ``cols``: ``p_k = sum_i w_ik x_ik / sum_i w_ik``.

    Actor ``i``'s weight is ``ws[i][., k] * fs[i][.]`` (a base weight times a per-world
    factor, multiplied here rather than materialised). Sums run over actors in the order
    given, starting from actor 0's terms: ``num = w_0 x_0; num += w_i x_i``, ``den = w_0;
    den += w_i``; where ``den`` is not positive the package is 0.5.

    Args:
        xs: Positions, a tuple of ``(W, K)`` arrays, one per actor.
        ws: Base weights, the same shapes.
        fs: Per-world factors, a tuple of ``(W,)`` arrays (ones where none).
        cols: The columns (issues) to compute, ``int64``.

    Returns:
        The package on ``cols``, ``(W, len(cols))``.
    """
    W = xs[0].shape[0]
    C = cols.shape[0]
    n = len(xs)
    out = np.empty((W, C))
    for i in range(W):
        for c in range(C):
            k = cols[c]
            w0 = ws[0][i, k] * fs[0][i]
            num = w0 * xs[0][i, k]
            den = w0
            for a in range(1, n):
                wa = ws[a][i, k] * fs[a][i]
                num += wa * xs[a][i, k]
                den += wa
            out[i, c] = num / den if den > 0.0 else 0.5
    return out


@njit(cache=True, nogil=True)
def move_table(table, target, cols, inertia, fixed, text_mask, lock,
               changed):  # pragma: no cover - compiled
    """The table moves toward the target on columns ``cols``, in place; then the lock.

    ``table_k <- table_k + (target_c - table_k) (1 - inertia)`` with ``k = cols[c]``
    (the difference first, then the product, then the sum; ``inertia`` one value or one
    per world), except on the treaty-text issues (``text_mask``) of worlds whose text is
    ``fixed``, which stay put. Then, with ``lock >= 0``, ``table_lock = 1`` in worlds
    whose constitution has ``changed``.
    """
    W = table.shape[0]
    C = cols.shape[0]
    for i in range(W):
        keep = 1.0 - inertia[_row(inertia, i)]
        f = fixed[i]
        for c in range(C):
            k = cols[c]
            if f and text_mask[k]:
                continue
            t = table[i, k]
            table[i, k] = t + (target[i, c] - t) * keep
        if lock >= 0 and changed[i]:
            table[i, lock] = 1.0


@njit(cache=True, nogil=True)
def value(p, x, w, rho, dom, ox, ow, orho, dw, m, rows):  # pragma: no cover - compiled
    """Value a signatory weighs packages ``p`` by, in worlds ``rows`` (row j of ``p``).

    ``v = U(p) - (dw m) (1 - U_opp(p))`` for the domestic side (``dom``), else ``U(p)``.
    """
    out = np.empty(rows.shape[0])
    t = np.empty(p.shape[1])
    for j in range(rows.shape[0]):
        i = rows[j]
        u = 1.0 - weighted_loss(p, j, x, i, w, i, rho, t)
        if dom:   # v = U - (dw m) (1 - U_opp)
            ou = 1.0 - weighted_loss(p, j, ox, i, ow, i, orho, t)
            u = u - dw[i] * m[i] * (1.0 - ou)
        out[j] = u
    return out


@njit(cache=True, nogil=True, inline="always")
def _in_lines(p, i, rl_k, rl_lo, rl_hi):  # pragma: no cover - compiled
    """Whether row ``i`` of ``p`` respects every red line ``lo <= p_k <= hi``."""
    for j in range(rl_k.shape[0]):
        v = p[i, rl_k[j]]
        if not (v >= rl_lo[j] and v <= rl_hi[j]):
            return False
    return True


@njit(cache=True, nogil=True)
def utility_into(p, x, w, rho, out, t):  # pragma: no cover - compiled
    """``out[i] = 1 - weighted_loss`` of row ``i`` of ``p``, ``x``, ``w`` (same shapes).

    One loss per pass over the worlds: the kernels below take their utilities this way
    (into rows of a scratch array kept by the caller) rather than several losses per
    world in one loop, for which numba's code runs about half as fast.
    """
    for i in range(x.shape[0]):
        out[i] = 1.0 - weighted_loss(p, i, x, i, w, i, rho, t)


@njit(cache=True, nogil=True)
def decide_own(package, x, w, rho, y, r, commitment, patience, noise_sd, noise,
               rl_k, rl_lo, rl_hi, margin, accept, concedes, u):  # pragma: no cover
    """A side without domestic politics accepts or holds (in place on the outputs).

    ``floor = r + commitment``; ``demand = max(U(y) - floor, 0)``; ``margin = U(P) - floor
    - patience demand + noise_sd noise`` (left to right); ``accept = margin >= 0`` and
    ``P`` within every red line; ``concedes = not accept``. ``u`` is scratch, ``(3, W)``.
    """
    t = np.empty(x.shape[1])
    uy, up = u[0], u[1]
    utility_into(y, x, w, rho, uy, t)
    utility_into(package, x, w, rho, up, t)
    for i in range(x.shape[0]):
        floor = r[i] + commitment[i]
        demand = max(uy[i] - floor, 0.0)
        mg = up[i] - floor - patience[i] * demand + noise_sd[i] * noise[i]
        ok = mg >= 0.0 and _in_lines(package, i, rl_k, rl_lo, rl_hi)
        margin[i] = mg
        accept[i] = ok
        concedes[i] = not ok


@njit(cache=True, nogil=True)
def decide_two_level(package, x, w, rho, y, r, commitment, patience, noise_sd, noise,
                     rl_k, rl_lo, rl_hi, ox, ow, orho, dw, m, opp_table_u,
                     margin, accept, concedes, u):  # pragma: no cover - compiled
    """The domestic-politics side accepts or holds (Putnam's two-level game), in place.

    As :func:`decide_own` with the value ``v = U - (dw m) (1 - U_opp)`` (the opposition's
    utility of the table ``P`` is ``opp_table_u``); the side concedes only where it holds
    on its own terms too: ``own = U(P) - floor - patience max(U(y) - floor, 0) + noise_sd
    noise >= 0``, ``concedes = not accept and not (own and in_lines)``. ``u`` is scratch,
    ``(3, W)``.
    """
    t = np.empty(x.shape[1])
    uy, oy, up = u[0], u[1], u[2]
    utility_into(y, x, w, rho, uy, t)
    utility_into(y, ox, ow, orho, oy, t)
    utility_into(package, x, w, rho, up, t)
    for i in range(x.shape[0]):
        floor = r[i] + commitment[i]
        vy = uy[i] - dw[i] * m[i] * (1.0 - oy[i])
        demand = max(vy - floor, 0.0)
        vp = up[i] - dw[i] * m[i] * (1.0 - opp_table_u[i])
        nz = noise_sd[i] * noise[i]
        mg = vp - floor - patience[i] * demand + nz
        lines = _in_lines(package, i, rl_k, rl_lo, rl_hi)
        ok = mg >= 0.0 and lines
        own = (up[i] - floor - patience[i] * max(uy[i] - floor, 0.0) + nz) >= 0.0
        margin[i] = mg
        accept[i] = ok
        concedes[i] = not ok and not (own and lines)


@njit(cache=True, nogil=True)
def concede(y, x, w, rho, package, rate, hold, r, dom, ox, ow, orho, dw, m, pull,
            cand, u):  # pragma: no cover - compiled
    """Holders move their stated position ``y`` toward the package, in place.

    For the domestic side (``dom``) first, in every world, ``y += (x - y) pull`` (the
    concessions retracted under mobilisation; ``pull = position_pull m``). Then in worlds
    ``hold`` the step ``c = (P - y) rate + y`` toward the package is taken where its
    value, ``U(c)`` or for the domestic side ``U(c) - (dw m) (1 - U_opp(c))``, is at least
    ``r``. ``cand`` (``(W, K)``) and ``u`` (``(3, W)``) are scratch kept by the caller.
    """
    W, K = y.shape
    t = np.empty(K)
    if dom:
        for i in range(W):
            for k in range(K):
                y[i, k] += (x[i, k] - y[i, k]) * pull[i]
    for i in range(W):
        if hold[i]:
            for k in range(K):
                cand[i, k] = (package[i, k] - y[i, k]) * rate[i] + y[i, k]
    uc, oc = u[0], u[1]
    for i in range(W):
        if hold[i]:
            uc[i] = 1.0 - weighted_loss(cand, i, x, i, w, i, rho, t)
    if dom:
        for i in range(W):
            if hold[i]:
                oc[i] = 1.0 - weighted_loss(cand, i, ox, i, ow, i, orho, t)
    for i in range(W):
        if hold[i]:
            v = uc[i] - dw[i] * m[i] * (1.0 - oc[i]) if dom else uc[i]
            if v >= r[i]:
                for k in range(K):
                    y[i, k] = cand[i, k]


@njit(cache=True, nogil=True)
def term_shortfalls(package, dk, dlo, dhi):  # pragma: no cover - compiled
    """How far ``package`` falls short of each stated term demand, ``(n, W)``.

    ``min(max(0, lo - P_k) / lo [lo > 0] + max(0, P_k - hi) / (1 - hi) [hi < 1], 1)``,
    the terms added in that order to 0.
    """
    n = dk.shape[0]
    W = package.shape[0]
    out = np.zeros((n, W))
    for j in range(n):
        k, lo, hi = dk[j], dlo[j], dhi[j]
        for i in range(W):
            v = 0.0
            if lo > 0.0:
                v += max(0.0, lo - package[i, k]) / lo
            if hi < 1.0:
                v += max(0.0, package[i, k] - hi) / (1.0 - hi)
            out[j, i] = min(v, 1.0)
    return out


# --------------------------------------------------------------------- incidents


@njit(cache=True, nogil=True, inline="always")
def _poisson_one(ui, li, e, max_count):  # pragma: no cover - compiled
    """One Poisson count by inversion at ``ui``, rate ``li``, ``e = exp(-li)``.

    From ``p = cdf = e`` and ``n = 0``: while ``n < max_count`` and ``ui > cdf``: ``n +=
    1``, ``p *= li / n``, ``cdf += p`` (one rounding per operation, the division first).
    """
    p = e
    cdf = p
    n = 0
    while n < max_count and ui > cdf:
        n += 1
        p *= li / n
        cdf += p
    return n


@njit(cache=True, nogil=True)
def poisson_counts(u, lam, e, max_count):  # pragma: no cover - compiled
    """Poisson counts by inversion of the CDF at uniforms ``u`` (:func:`rules.poisson_inverse`).

    Per world :func:`_poisson_one` from ``e = exp(-lam)`` (computed by the caller).
    """
    out = np.empty(u.shape[0], dtype=np.int64)
    for i in range(u.shape[0]):
        out[i] = _poisson_one(u[i], lam[i], e[i], max_count)
    return out


@njit(cache=True, nogil=True, inline="always")
def _first_above(v, n, p, strict):  # pragma: no cover - compiled
    """Smallest ``j`` in ``0..n`` with ``CDF(j) >= v`` (``> v`` if ``strict``), Bin(n, p).

    The CDF is summed from ``pmf(0) = (1 - p)^n`` by ``pmf(j + 1) = pmf(j) ((n - j) /
    (j + 1)) (p / (1 - p))``, with ``p <= 0.5`` so that ``pmf(0)`` does not underflow;
    ``n`` where the sum has not passed ``v`` by then (rounding).
    """
    q = 1.0 - p
    odds = p / q
    pmf = q ** n
    cdf = pmf
    j = 0.0
    while (cdf <= v if strict else cdf < v) and j < n:
        pmf *= ((n - j) / (j + 1.0)) * odds
        cdf += pmf
        j += 1.0
    return j


@njit(cache=True, nogil=True)
def binomial_counts(u, n, p):  # pragma: no cover - compiled
    """Binomial quantiles at ``u`` by inversion of the CDF (:func:`rules.binomial_inverse`).

    Per element the smallest ``k`` in ``0..n`` with ``CDF(k) >= u``; ``-1`` where ``u
    <= 0`` and ``n`` where ``u >= 1`` (``scipy.stats.binom.ppf``'s conventions); ``p =
    0`` gives 0 and ``p = 1`` gives ``n``; NaN where ``n`` is not a count, ``p`` or ``u``
    not in [0, 1] (or NaN). For ``p <= 0.5`` the CDF is summed upward
    (:func:`_first_above`); for ``p > 0.5`` through ``n - k ~ Bin(n, 1 - p)``: ``k = n -
    j`` with ``j`` the smallest count of that mirror whose CDF exceeds ``1 - u``. Returned
    as floats, as ``ppf`` does.
    """
    out = np.empty(u.shape[0])
    for i in range(u.shape[0]):
        out[i] = _binomial_one(u[i], n[i], p[i])
    return out


@njit(cache=True, nogil=True, inline="always")
def _binomial_one(ui, ni, pi):  # pragma: no cover - compiled
    """One binomial quantile of :func:`binomial_counts` (its conventions), as a float."""
    if not (ni >= 0.0 and ni == np.floor(ni) and pi >= 0.0 and pi <= 1.0
            and ui >= 0.0 and ui <= 1.0):
        return np.nan  # outside the distribution's domain (or NaN), as ppf
    if ui <= 0.0:
        return -1.0
    if ui >= 1.0 or pi >= 1.0:
        return ni
    if pi <= 0.0 or ni <= 0.0:
        return 0.0
    if pi <= 0.5:
        return _first_above(ui, ni, pi, False)
    return ni - _first_above(1.0 - ui, ni, 1.0 - pi, True)


@njit(cache=True, nogil=True)
def incident_rates(hit, n, sev, fatality_rate, u_split, share0, admission,
                   report_rate):  # pragma: no cover - compiled
    """The split by initiator and the Poisson rates of the week's fatalities and reports.

    For the worlds ``hit`` (those with ``n > 0`` incidents), in order: the incidents
    side 0 initiated ``i0 = max(Bin^{-1}(u_split; n, share0), 0)`` (:func:`_binomial_one`,
    a count), side 1 ``n - i0``; the rates, each capped at :data:`POISSON_MAX_RATE` as
    :func:`rules.poisson_inverse` caps them: fatalities ``fatality_rate n sev``, side
    ``s``'s reports ``report_rate_s (i_{1-s} + admission i_s)`` (each side reports mostly
    the other's violations). Left to right as written, one rounding per operation, as
    the NumPy code of :meth:`sim.model.incidents.BorderProcess.step` it replaced. The
    ``exp(-rate)`` of each stays NumPy's (the caller's), for the record's last bits.

    Returns:
        ``(rates (3, H), i0 (H,))``: rows fatalities, side 0's and side 1's reports.
    """
    H = hit.shape[0]
    rates = np.empty((3, H))
    i0 = np.empty(H, dtype=np.int64)
    for j in range(H):
        w = hit[j]
        nh = float(n[w])
        rates[0, j] = min(fatality_rate[w] * nh * sev[w], POISSON_MAX_RATE)
        a = np.int64(max(_binomial_one(u_split[w], nh, share0[w]), 0.0))
        b = n[w] - a
        i0[j] = a
        rates[1, j] = min(report_rate[0, w] * (b + admission[w] * a), POISSON_MAX_RATE)
        rates[2, j] = min(report_rate[1, w] * (a + admission[w] * b), POISSON_MAX_RATE)
    return rates, i0


@njit(cache=True, nogil=True)
def incident_outcomes(hit, n, u, rates, e, i0, sev, ambiguity, settled, clear_damage,
                      h, delta, alpha, spiral, max_count):  # pragma: no cover - compiled
    """The week's fatalities, initiators, reports, contests, damage and next excitation.

    ``u`` is the week's ``(6, W)`` uniforms; ``rates``, ``e = exp(-rates)`` and ``i0``
    are those of :func:`incident_rates` for the worlds ``hit``. There: fatalities and
    each side's reports are Poisson counts (:func:`_poisson_one`) at ``u[2]``, ``u[4]``
    and ``u[5]``; elsewhere zero. In every world: contested ``u[1] < ambiguity (1 -
    settled)``; damage to side ``s`` ``reports_s (sev weight)``, ``weight = 1`` where
    contested, ``clear_damage`` otherwise; excitation ``delta h + alpha (1 - spiral)
    n``. Left to right as written, as the NumPy code it replaced.

    Returns:
        ``(fatalities (W,), initiated (2, W), reports (2, W), contested (W,), damage
        (2, W), h (W,))``.
    """
    W = n.shape[0]
    fatalities = np.zeros(W, dtype=np.int64)
    initiated = np.zeros((2, W), dtype=np.int64)
    reports = np.zeros((2, W), dtype=np.int64)
    for j in range(hit.shape[0]):
        w = hit[j]
        fatalities[w] = _poisson_one(u[2, w], rates[0, j], e[0, j], max_count)
        initiated[0, w] = i0[j]
        initiated[1, w] = n[w] - i0[j]
        reports[0, w] = _poisson_one(u[4, w], rates[1, j], e[1, j], max_count)
        reports[1, w] = _poisson_one(u[5, w], rates[2, j], e[2, j], max_count)
    contested = np.empty(W, dtype=np.bool_)
    damage = np.empty((2, W))
    h_new = np.empty(W)
    for w in range(W):
        c = u[1, w] < ambiguity[w] * (1.0 - settled[w])
        contested[w] = c
        f = sev[w] * (1.0 if c else clear_damage[w])
        damage[0, w] = reports[0, w] * f
        damage[1, w] = reports[1, w] * f
        h_new[w] = delta[w] * h[w] + alpha[w] * (1.0 - spiral[w]) * n[w]
    return fatalities, initiated, reports, contested, damage, h_new


@njit(cache=True, nogil=True)
def tally_incidents(count, reports, fatalities, active, incidents_total, reports_total,
                    active_weeks, fatalities_total, incidents_window, reports_window,
                    win):  # pragma: no cover - compiled
    """Add the week to the incidents' counters, in place (integers: exact).

    Where the world is ``active``: its incidents, each side's reports and its fatalities
    to the totals, one to its active weeks; in every world: its incidents and reports to
    the window ``win`` (``incidents_window[win]``, ``reports_window[:, win]``).
    """
    for i in range(count.shape[0]):
        c = count[i]
        if active[i]:
            incidents_total[i] += c
            reports_total[0, i] += reports[0, i]
            reports_total[1, i] += reports[1, i]
            active_weeks[i] += 1
            fatalities_total[i] += fatalities[i]
        incidents_window[win, i] += c
        reports_window[0, win, i] += reports[0, i]
        reports_window[1, win, i] += reports[1, i]


# --------------------------------------------------------------------- climate


@njit(cache=True, nogil=True)
def climate(ts, dmg, reports, trust, decay, per_damage, trust_per_damage,
            recovery):  # pragma: no cover - compiled
    """Each side's tension and the trust between them after the week's damage (new arrays).

    Per world, side ``j``: ``T_j' = clip(T_j (1 - decay) + min(1, per_damage D_j) (1 -
    T_j), 0, 1)``; the mean tension ``(T_0' + T_1') / 2``; ``tr = trust (1 - min(1,
    trust_per_damage (D_0 + D_1) / 2))``, then in a calm week (neither side reports an
    incident) ``tr + recovery (1 - tr)``. Each expression left to right as written, one
    rounding per operation, as the NumPy code it replaced.

    Returns:
        ``(tension_side (2, W), tension (W,), trust (W,))``.
    """
    W = trust.shape[0]
    ts_new = np.empty((2, W))
    tension = np.empty(W)
    trust_new = np.empty(W)
    for i in range(W):
        for j in range(2):
            t = ts[j, i]
            v = t * (1.0 - decay[i]) + min(1.0, per_damage[i] * dmg[j, i]) * (1.0 - t)
            ts_new[j, i] = min(max(v, 0.0), 1.0)
        tension[i] = (ts_new[0, i] + ts_new[1, i]) / 2.0
        tr = trust[i] * (1.0 - min(1.0, trust_per_damage[i] * ((dmg[0, i] + dmg[1, i])
                                                                / 2.0)))
        if reports[0, i] == 0 and reports[1, i] == 0:
            tr = tr + recovery[i] * (1.0 - tr)
        trust_new[i] = tr
    return ts_new, tension, trust_new


@njit(cache=True, nogil=True)
def mobilise(m, table_u, damage, spoiling, strength, concession, tolerance, incident,
             spoiler, decay):  # pragma: no cover - compiled
    """The opposition's mobilisation after the week (a new array).

    ``gain = strength (concession max(0, (1 - U_opp(table)) - tolerance) + incident D +
    spoiler sigma)``; ``m' = clip(m + (1 - m) min(gain, 1) - decay m, 0, 1)``, left to
    right as written, as the NumPy code it replaced.
    """
    W = m.shape[0]
    out = np.empty(W)
    for i in range(W):
        loss = 1.0 - table_u[i]
        gain = strength[i] * (concession[i] * max(0.0, loss - tolerance[i])
                              + incident[i] * damage[i] + spoiler[i] * spoiling[i])
        mi = m[i]
        v = mi + (1.0 - mi) * min(gain, 1.0) - decay[i] * mi
        out[i] = min(max(v, 0.0), 1.0)
    return out


# --------------------------------------------------------------------- escalation


@njit(cache=True, nogil=True)
def escalation_hazards(e, pmax, imbalance_gain, imbalance, advantage, coercion_rate,
                       unmet):  # pragma: no cover - compiled
    """This week's coercion and incident-driven escalation probabilities (new arrays).

    ``e`` is ``exp(-z)`` of each side's ``z = (T_j - T*) / s_T``, ``(2, W)``, computed by
    the caller (NumPy's exp, for the record's last bits). Per world: ``gain = 1 + g_I
    I``; side ``j`` tips with ``s_j = clip(p_max (1 / (1 + e_j)) gain, 0, 1)``; ``p_inc =
    1 - (1 - s_0) (1 - s_1)``; ``p_coerce = clip(coercion_rate G (2 max(0, advantage)),
    0, 1)``. Left to right as written, as the NumPy code it replaced.

    Returns:
        ``(p_coerce (W,), p_inc (W,))``.
    """
    W = unmet.shape[0]
    p_coerce = np.empty(W)
    p_inc = np.empty(W)
    for i in range(W):
        gain = 1.0 + imbalance_gain[i] * imbalance[i]
        s0 = min(max(pmax[i] * (1.0 / (1.0 + e[0, i])) * gain, 0.0), 1.0)
        s1 = min(max(pmax[i] * (1.0 / (1.0 + e[1, i])) * gain, 0.0), 1.0)
        p_inc[i] = 1.0 - (1.0 - s0) * (1.0 - s1)
        adv = 2.0 * max(0.0, advantage[i])
        p_coerce[i] = min(max(coercion_rate[i] * unmet[i] * adv, 0.0), 1.0)
    return p_coerce, p_inc


@njit(cache=True, nogil=True)
def escalate(u, p_coerce, p_inc, active, signing_now, status, week, kind, t, escalated,
             coercion, incidents):  # pragma: no cover - compiled
    """Worlds that escalate this week, in place.

    A world active and not signing this week escalates where ``u < 1 - (1 - p_coerce)
    (1 - p_inc)``: its status becomes ``escalated``, its week ``t``, its kind
    ``coercion`` where ``u < p_coerce`` and ``incidents`` otherwise.
    """
    for i in range(u.shape[0]):
        if active[i] and not signing_now[i] and u[i] < 1.0 - (1.0 - p_coerce[i]) * (
                1.0 - p_inc[i]):
            status[i] = escalated
            week[i] = t
            kind[i] = coercion if u[i] < p_coerce[i] else incidents


# --------------------------------------------------------------------- recording


@njit(cache=True, nogil=True)
def record_row(row, values, active):  # pragma: no cover - compiled
    """``row[i] = values[i]`` where ``active[i]``, else NaN.

    The value is cast straight to the row's type (float32), as NumPy's assignment does.
    """
    for i in range(row.shape[0]):
        if active[i]:
            row[i] = values[i]
        else:
            row[i] = np.nan
