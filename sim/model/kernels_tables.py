"""Compiled kernels of the weekly record and the result tables (numba).

The rules of :mod:`sim.model.kernels` hold here too (its module docstring): each kernel
keeps the floating-point order of the NumPy code it replaced, so every outcome is bit for
bit what it was (``tests/test_golden.py``); ``tests/test_table_kernels.py`` keeps that
NumPy code as references and checks the kernels against it on random inputs.

* :func:`row_stats` gives, per week (row) of a recorded ``(H, W)`` series, the quantiles
  NumPy's linear interpolation gives over the values that are not NaN, the NaN-ignoring sum
  (``np.nansum(row, dtype=float)``) and the NaN-ignoring sum of squares
  (``np.nansum(np.square(row, dtype=float))``). The sums are NumPy's pairwise summation
  (:func:`_pairwise`, ``pairwise_sum`` of NumPy's ``loops_utils.h``): ranges of at most
  128 values in eight accumulators, larger ranges split in two at a multiple of eight;
  a float32 row is cast to float64 by NumPy in buffers of ``np.getbufsize()`` values,
  each buffer summed pairwise and added to the running total in order, a float64 row
  (the squares) summed pairwise in one piece; the total starts from 0.0. The quantiles
  read a row sorted by NumPy (its SIMD sort; NaN last) at the positions the NumPy code
  they replaced computed (``rules.row_quantiles``, 1ba4325 and before): ``pos = q (n -
  1)``, ``lo = floor(pos)``, ``hi = min(lo + 1, n - 1)``, ``v_lo + (pos - lo) (v_hi -
  v_lo)`` over the ``n`` values that are not NaN; NaN if there are none.
* :func:`week_counts` and :func:`mark_first_week` are the weekly record's counters and
  the calendar's first-week marks, one pass each instead of a temporary per comparison.

Compiled on first call, cached next to this module (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model.kernels import PW_BLOCKSIZE, pairwise_leaf


@njit(cache=True, nogil=True)
def _pairwise(z, lo, n, nodes, vals):  # pragma: no cover - compiled
    """``sum(z[lo:lo + n])`` in the order of NumPy's ``pairwise_sum`` (float64).

    A range of more than :data:`PW_BLOCKSIZE` values is the sum of its halves, split at
    ``n // 2`` rounded down to a multiple of eight (left + right); a smaller one a
    :func:`sim.model.kernels.pairwise_leaf`. Walked with an explicit stack (``nodes``:
    ``(64, 3)`` int64, ``vals``: 64 float64) rather than by recursion: numba's cache does
    not reload a recursive kernel safely.
    """
    if n <= PW_BLOCKSIZE:
        return pairwise_leaf(z, lo, n)
    sp = 1
    nodes[0, 0] = lo
    nodes[0, 1] = n
    nodes[0, 2] = 0
    vp = 0
    while sp > 0:
        i = sp - 1
        nlo = nodes[i, 0]
        nn = nodes[i, 1]
        if nn <= PW_BLOCKSIZE:
            vals[vp] = pairwise_leaf(z, nlo, nn)
            vp += 1
            sp -= 1
            continue
        n2 = nn // 2
        n2 -= n2 % 8
        state = nodes[i, 2]
        if state == 2:  # both halves summed: left + right
            vals[vp - 2] = vals[vp - 2] + vals[vp - 1]
            vp -= 1
            sp -= 1
            continue
        nodes[i, 2] = state + 1
        if state == 0:
            nodes[sp, 0] = nlo
            nodes[sp, 1] = n2
        else:
            nodes[sp, 0] = nlo + n2
            nodes[sp, 1] = nn - n2
        nodes[sp, 2] = 0
        sp += 1
    return vals[0]


@njit(cache=True, nogil=True)
def row_stats(a, s, qs, chunk, squares, z, z2, q_out, total_out,
              sq_out):  # pragma: no cover - compiled
    """Per row ``t`` of ``a`` (``(R, W)``): quantiles, NaN-ignoring sum and sum of squares.

    ``s`` holds the rows of ``a`` sorted (NaN last). Writes ``q_out[i, t]`` (quantile
    ``qs[i]`` over the row's values that are not NaN, NaN if there are none),
    ``total_out[t]`` (``np.nansum(a[t], dtype=float)``: the values as float64, NaN as
    0.0, summed pairwise in pieces of ``chunk`` values) and, with ``squares``,
    ``sq_out[t]`` (``np.nansum(np.square(a[t], dtype=float))``: summed pairwise in one
    piece). ``z`` and ``z2`` are scratch rows of ``W`` float64 (``z2`` used only with
    ``squares``).
    """
    R, W = a.shape
    nodes = np.empty((64, 3), dtype=np.int64)
    vals = np.empty(64)
    for t in range(R):
        n = 0
        for i in range(W):
            x = a[t, i]
            if np.isnan(x):
                z[i] = 0.0
                if squares:
                    z2[i] = 0.0
            else:
                v = np.float64(x)
                z[i] = v
                n += 1
                if squares:
                    z2[i] = v * v
        acc = 0.0
        j = 0
        while j < W:
            m = min(chunk, W - j)
            acc += _pairwise(z, j, m, nodes, vals)
            j += m
        total_out[t] = acc
        if squares:
            sq_out[t] = 0.0 + _pairwise(z2, 0, W, nodes, vals)
        last = n - 1
        for k in range(qs.shape[0]):
            if n == 0:
                q_out[k, t] = np.nan
                continue
            pos = qs[k] * last
            lo = np.int64(np.floor(pos))
            hi = min(lo + 1, last)
            frac = pos - lo
            vlo = np.float64(s[t, lo])
            vhi = np.float64(s[t, hi])
            q_out[k, t] = vlo + frac * (vhi - vlo)


@njit(cache=True, nogil=True)
def week_counts(active, status, signed, escalated, fell):  # pragma: no cover - compiled
    """Worlds active, signed, escalated and with a fallen government, in one pass.

    ``active`` and ``fell`` are boolean, ``status`` the status codes; ``signed`` and
    ``escalated`` the codes counted. Returns ``(active, signed, escalated, fell)``.
    """
    na = 0
    ns = 0
    ne = 0
    nf = 0
    for i in range(status.shape[0]):
        na += active[i]
        ns += status[i] == signed
        ne += status[i] == escalated
        nf += fell[i]
    return na, ns, ne, nf


@njit(cache=True, nogil=True)
def mark_first_week(week, held, t):  # pragma: no cover - compiled
    """``week[i] = t`` where ``held[i]`` and ``week[i] < 0`` (not yet marked)."""
    for i in range(week.shape[0]):
        if held[i] and week[i] < 0:
            week[i] = t
