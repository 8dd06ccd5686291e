"""Compiled kernels of the domestic track (numba), worlds on the outside.

These are the rules :class:`sim.model.domestic.DomesticArena` runs: public support's
weekly move (:func:`support_step`), the government's survival draw
(:func:`government_falls`), elections (:func:`election`), the change of government
(:func:`change_government`), the
deputies' willingness logits, the expected yes votes and the two-thirds bar
(:func:`vote_logits`, :func:`expected_yes`, :func:`seats_needed`), the referendum's
expected yes share, turnouts, pass thresholds and the opposition's choice
(:func:`referendum_yes`, :func:`referendum_plan`), the worlds due for a step on the
constitutional track (:func:`due_worlds`, :func:`end_cooldown`) and the snap-election
rule at a deadlock (:func:`deadlock`). Each
replaced the NumPy code of the same rule; ``tests/test_domestic_kernels.py`` keeps that
code as a reference and checks kernel and reference agree bit for bit.

The house rules of :mod:`sim.model.kernels` hold here too, so the outcomes stay those of
the golden record (``tests/test_golden.py``):

* every expression is evaluated in the order written in its docstring (Python's left to
  right), one rounding per operation as NumPy's element-wise ufuncs do (no fused
  multiply-add);
* ``maximum``, ``minimum`` and ``clip`` are NumPy's, ties and NaN included
  (:func:`_maximum`, :func:`_minimum`, :func:`_clip`, :func:`_clip_to`):
  ``maximum(x, y)`` is ``x`` only where ``x > y`` or ``x`` is NaN; ``clip`` between two
  scalar bounds returns ``x`` unless it lies strictly outside (``-0.0`` stays ``-0.0``,
  NaN stays NaN), with a per-world bound it is ``minimum(maximum(x, lo), hi)`` (NumPy's
  two loops differ on signed zeros);
* ``round`` to whole numbers is ``rint`` (half to even, as ``np.round``);
* a sum of seats over factions runs left to right: seats are whole numbers, so any order
  gives the same float;
* no random numbers are drawn here: the callers pass NumPy Generator draws made in the
  order and shapes they always had (common random numbers), and functions whose last bits
  differ between NumPy and numba (``exp``, ``log``) stay in NumPy.

The kernels compile on first call (not at import) and are cached next to this module
(``__pycache__``; ``NUMBA_CACHE_DIR`` moves it).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.model.kernels import _binomial_one, pairwise_leaf

# --------------------------------------------------------------------- helpers


@njit(cache=True, nogil=True, inline="always")
def _maximum(x, y):  # pragma: no cover - compiled
    """``np.maximum(x, y)``: ``x`` where ``x > y`` or ``x`` is NaN, else ``y``."""
    return x if (x > y or x != x) else y


@njit(cache=True, nogil=True, inline="always")
def _minimum(x, y):  # pragma: no cover - compiled
    """``np.minimum(x, y)``: ``x`` where ``x < y`` or ``x`` is NaN, else ``y``."""
    return x if (x < y or x != x) else y


@njit(cache=True, nogil=True, inline="always")
def _clip(x, lo, hi):  # pragma: no cover - compiled
    """``np.clip(x, lo, hi)``: ``y = lo if x < lo else x``, then ``hi if y > hi else y``."""
    y = lo if x < lo else x
    return hi if y > hi else y


@njit(cache=True, nogil=True, inline="always")
def _clip_to(x, lo, hi):  # pragma: no cover - compiled
    """``np.clip`` with a per-world bound: ``minimum(maximum(x, lo), hi)``.

    NumPy's loop for array bounds, which takes the bound on a tie (``-0.0`` clipped at
    ``0.0`` is ``0.0``), unlike its loop for two scalar bounds (:func:`_clip`).
    """
    return _minimum(_maximum(x, lo), hi)


@njit(cache=True, nogil=True, inline="always")
def _party_seats(share, seats_per_vote_share, seat_cap, N):  # pragma: no cover - compiled
    """Seats of the party of the start at vote share ``share`` (7.14).

    ``minimum(rint(clip(share varsigma, 0, 1) N), floor(cap N + 1e-9))``.
    """
    won = np.rint(_clip(share * seats_per_vote_share, 0.0, 1.0) * N)
    return _minimum(won, np.floor(seat_cap * N + 1e-9))


@njit(cache=True, nogil=True, inline="always")
def _row_sum(t, F):  # pragma: no cover - compiled
    """``t[:F].sum()`` in NumPy's order for a row of a ``(n, F)`` array (``F <= 128``).

    NumPy's pairwise leaf (:func:`sim.model.kernels.pairwise_leaf`: below eight terms left
    to right from ``0.0``; from eight on eight accumulators over blocks of eight, ``((r0 +
    r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``, then the remaining terms left to right);
    the reduction adds the result to ``0.0``.
    """
    return 0.0 + pairwise_leaf(t, 0, F)


# --------------------------------------------------------------------- support


@njit(cache=True, nogil=True)
def support_step(support, support0, mobilisation, tension, spoiling, adjust_rate,
                 mobilisation_effect, tension_effect, spoiler_effect,
                 reference_mobilisation, reference_tension,
                 reference_spoiling):  # pragma: no cover - compiled
    """Public support after the week's move toward its target (7.7), a new ``(W,)``.

    ``S* = ((S_0 - e_m max(0, m - m_r)) - e_T max(0, T - T_r)) - e_s max(0, s - s_r)``;
    ``S' = clip(S + a (clip(S*, 0, 1) - S), 0, 1)``. A new array: the climate holds the
    old one to restore absorbed worlds.
    """
    W = support.shape[0]
    out = np.empty(W)
    for i in range(W):
        target = (support0[i]
                  - mobilisation_effect[i]
                  * _maximum(0.0, mobilisation[i] - reference_mobilisation[i]))
        target = target - tension_effect[i] * _maximum(0.0, tension[i]
                                                       - reference_tension[i])
        target = target - spoiler_effect[i] * _maximum(0.0, spoiling[i]
                                                       - reference_spoiling[i])
        s = support[i]
        out[i] = _clip(s + adjust_rate[i] * (_clip(target, 0.0, 1.0) - s), 0.0, 1.0)
    return out


# --------------------------------------------------------------------- government


@njit(cache=True, nogil=True, inline="always")
def _hazard(m, outside, thr, base, mobilisation_hazard):  # pragma: no cover - compiled
    """One world's fall hazard: ``clip(((0 + h_0) + h_m over) + h_out, 0, 1)`` (7.15).

    ``over = clip((m - m*) / maximum(1e-9, 1 - m*), 0, 1)``; the one expression of the
    hazard, read by the survival draw (:func:`government_falls`) and by
    :func:`fall_hazard`.
    """
    over = _clip((m - thr) / _maximum(1e-9, 1.0 - thr), 0.0, 1.0)
    return _clip(((0.0 + base) + mobilisation_hazard * over) + outside, 0.0, 1.0)


@njit(cache=True, nogil=True)
def government_falls(u, active, mobilisation, outside, threshold, base,
                     mobilisation_hazard, fell):  # pragma: no cover - compiled
    """The weekly survival draw (7.15): ``fell |= active & (u < h)``, in place.

    ``h = clip(((0 + h_0) + h_m over) + h_out, 0, 1)`` (the sum of the hazard's terms,
    from Python's ``sum``), ``over = clip((m - m*) / maximum(1e-9, 1 - m*), 0, 1)``;
    ``h_out`` is the outside powers' lever (7.9).
    """
    for i in range(u.shape[0]):  # no branch on the world: the loop vectorises
        h = _hazard(mobilisation[i], outside[i], threshold[i], base[i],
                    mobilisation_hazard[i])
        fell[i] = fell[i] | (active[i] & (u[i] < h))


@njit(cache=True, nogil=True)
def fall_hazard(mobilisation, outside, threshold, base,
                mobilisation_hazard):  # pragma: no cover - compiled
    """The weekly fall hazard ``h`` of :func:`government_falls`, ``(W,)`` (7.15)."""
    W = mobilisation.shape[0]
    h = np.empty(W)
    for i in range(W):
        h[i] = _hazard(mobilisation[i], outside[i], threshold[i], base[i],
                       mobilisation_hazard[i])
    return h


@njit(cache=True, nogil=True)
def election(idx, week, N, elections_held, z_election, support, support0,
             election_vote_share, election_support_slope, election_noise,
             seats_per_vote_share, seat_cap, last_vote_share, party_seats, defectors,
             faction_seats, vacant, early_election, mandate_week, seats, in_office, event,
             held, lost_event, lost):  # pragma: no cover - compiled
    """A parliamentary election in worlds ``idx`` (7.14), in place.

    ``lost[i]`` is set where the government in office lost it. Per world ``i`` of
    ``idx``: its ``k = minimum(elections_held, R - 1)``-th shock ``z_election[i, k]`` is
    read, then ``elections_held += 1``. The party of the start's vote share ``v =
    clip((v_0 + beta (S - S_0)) + sigma z, 0, 1)`` and seats ``G_P =``
    :func:`_party_seats` ``(v)``; no defectors; the factions share ``N - G_P`` in
    proportion to their seats: ``floor((n_f / sum_g n_g) (N - G_P))`` (``1 / max(1,
    F)`` where they hold none), the remainder ``(N - G_P) - sum_f`` added to the first
    (sums left to right: whole seats); no vacant seats, no early election pending, the
    mandate dated ``week``. The government holds ``G_P`` seats if the party of the start
    is in office, else ``N - G_P``; the week's event is ``held``, or ``lost_event`` where
    the party of the start's majority (``2 G_P > N``) is not the side in office.
    """
    R = z_election.shape[1]
    F = faction_seats.shape[1]
    even = 1.0 / max(1, F)
    for j in range(idx.shape[0]):
        i = idx[j]
        k = min(elections_held[i], R - 1)
        elections_held[i] += 1
        share = _clip(election_vote_share[i] + election_support_slope[i]
                      * (support[i] - support0[i]) + election_noise[i] * z_election[i, k],
                      0.0, 1.0)
        party = _party_seats(share, seats_per_vote_share[i], seat_cap[i], N)
        last_vote_share[i] = share
        party_seats[i] = party
        defectors[i] = 0.0
        tot = 0.0
        for f in range(F):
            tot += faction_seats[i, f]
        rest = N - party
        given = 0.0
        for f in range(F):
            w = faction_seats[i, f] / tot if tot > 0.0 else even
            nf = np.floor(w * rest)
            faction_seats[i, f] = nf
            given += nf
            vacant[i, f] = 0.0
        if F:
            faction_seats[i, 0] += rest - given
        early_election[i] = -1
        mandate_week[i] = week
        office = in_office[i]
        seats[i] = party if office else N - party
        lost[i] = (party * 2.0 > N) != office
        event[i] = lost_event if lost[i] else held


@njit(cache=True, nogil=True)
def change_government(fell, by_election, week, N, faction_seats, vacant, party_seats,
                      u_successor, successor_pursues, vote_retry_weeks, fell_week, changes,
                      defectors, seats, in_office, early_election, pursuing, stage,
                      next_event, waiting, event, passed, abandoned, cooldown,
                      election_lost, government_fell):  # pragma: no cover - compiled
    """The government in office falls in the ``fell`` worlds; the other side takes over.

    In place, per world that fell (the rest are untouched). Where the party of the start
    governed (``out``): ``fell_week`` is set the first time; after a lost election
    (``by_election``) the successor holds ``N - G_P`` seats, otherwise it is a coalition
    of every seated opposition deputy ``O = sum_f (n_f - v_f)`` (left to right) and
    ``D = clip((floor(N / 2) + 1) - O, 0, G_P)`` defectors, ``O + D`` seats; it pursues
    the constitution where ``u_successor < successor_pursues``. Where a successor
    governed, the party of the start returns with its ``G_P`` seats, no defectors, and
    pursues. Either way: ``changes += 1``, ``in_office`` flips, no early election
    pending, no referendum waiting; an open track (not ``passed``) restarts in
    ``cooldown`` with the next vote at ``week + vote_retry_weeks``, or is ``abandoned``
    by a successor that does not pursue; the week's event is ``government_fell`` unless
    it is ``election_lost``.
    """
    F = faction_seats.shape[1]
    majority = np.floor(N / 2.0) + 1.0
    for i in range(fell.shape[0]):
        if not fell[i]:
            continue
        out = in_office[i]
        changes[i] += 1
        if out:
            if fell_week[i] < 0:
                fell_week[i] = week
            if by_election[i]:
                defectors[i] = 0.0
                seats[i] = N - party_seats[i]
            else:
                seated_opp = 0.0
                for f in range(F):
                    seated_opp += faction_seats[i, f] - vacant[i, f]
                d = _clip_to(majority - seated_opp, 0.0, party_seats[i])
                defectors[i] = d
                seats[i] = seated_opp + d
            pursue = u_successor[i] < successor_pursues[i]
        else:
            defectors[i] = 0.0
            seats[i] = party_seats[i]
            pursue = True
        in_office[i] = not out
        early_election[i] = -1
        pursuing[i] = pursue
        if stage[i] != passed:
            if pursue:
                stage[i] = cooldown
                next_event[i] = week + vote_retry_weeks[i]
            else:
                stage[i] = abandoned
        waiting[i] = False
        if event[i] != election_lost:
            event[i] = government_fell


# --------------------------------------------------------------------- the vote


@njit(cache=True, nogil=True)
def vote_logits(idx, k, willingness_logit, z_faction, faction_noise, package_effect,
                utility, utility0, incentive_effect, incentive, incentive0, opinion_effect,
                support, support0, tension_effect, tension, tension0, mobilisation_effect,
                mobilisation, mobilisation0):  # pragma: no cover - compiled
    """Logits of each faction's deputies' willingness in worlds ``idx``, ``(n, F)`` (7.13).

    ``shift = ((((b_U (U - U_0) + b_I (I - I_0)) + b_S (S - S_0)) - b_T (T - T_0)) - b_m
    (m - m_0))``; the logit is ``logit(w_f) + shift``, plus the faction's shock ``sigma
    z_f`` at the world's vote ``k[j]`` (``(logit + shift) + sigma z``) where ``k`` has one
    entry per world (an empty ``k``: what the government expects, no shock). The
    logistic stays NumPy's (:func:`sim.model.rules.logistic`).
    """
    n = idx.shape[0]
    F = willingness_logit.shape[1]
    shocked = k.shape[0] > 0
    out = np.empty((n, F))
    for j in range(n):
        i = idx[j]
        shift = (package_effect[i] * (utility[i] - utility0[i])
                 + incentive_effect[i] * (incentive[i] - incentive0[i]))
        shift = shift + opinion_effect[i] * (support[i] - support0[i])
        shift = shift - tension_effect[i] * (tension[i] - tension0[i])
        shift = shift - mobilisation_effect[i] * (mobilisation[i] - mobilisation0[i])
        if shocked:
            sigma = faction_noise[i]
            for f in range(F):
                out[j, f] = (willingness_logit[i, f] + shift) + sigma * z_faction[i, k[j], f]
        else:
            for f in range(F):
                out[j, f] = willingness_logit[i, f] + shift
    return out


@njit(cache=True, nogil=True)
def expected_yes(idx, q, faction_seats, vacant, party_seats, defectors,
                 former_willingness, seats, in_office):  # pragma: no cover - compiled
    """Yes votes the government expects on its draft in worlds ``idx``, ``(n,)`` (7.13).

    ``seats + sum_f (n_f - v_f) q_f`` (the row sum in NumPy's order, :func:`_row_sum`)
    when the party of the start governs, ``seats + (G_P - D) w_P`` under a successor;
    ``q`` is ``(n, F)``, row ``j`` for world ``idx[j]``.
    """
    n = idx.shape[0]
    F = faction_seats.shape[1]
    out = np.empty(n)
    t = np.empty(F)
    for j in range(n):
        i = idx[j]
        if in_office[i]:
            for f in range(F):
                t[f] = (faction_seats[i, f] - vacant[i, f]) * q[j, f]
            outside = _row_sum(t, F)
        else:
            outside = (party_seats[i] - defectors[i]) * former_willingness[i]
        out[j] = seats[i] + outside
    return out


@njit(cache=True, nogil=True)
def vote_yes(vote, k, q, q_former, u_deputies, u_former, faction_seats, vacant, party_seats,
             defectors, seats, in_office,
             max_opposition_yes):  # pragma: no cover - compiled
    """Seated deputies' yes votes at the two-thirds vote in worlds ``vote``, ``(n,)``.

    World ``i = vote[j]`` at its vote ``k[j]``: each faction's yes votes are the binomial
    quantile (:func:`sim.model.kernels.binomial_counts`' rule) of ``Bin(n_f - v_f,
    q[j, f])`` at ``u_deputies[i, k, f]``, ``maximum``-ed with 0 and summed over factions
    in NumPy's row order (:func:`_row_sum`); the former governing party's those of
    ``Bin(G_P - D, q_former[j])`` at ``u_former[i, k]``, ``maximum``-ed with 0. The
    government's own seated deputies vote yes: ``seats`` plus the factions' votes where
    the party of the start governs (then ``max_opposition_yes`` becomes the larger of
    itself and them, in place), the former party's under a successor.
    """
    n = vote.shape[0]
    F = faction_seats.shape[1]
    out = np.empty(n)
    t = np.empty(F)
    for j in range(n):
        i = vote[j]
        kj = k[j]
        for f in range(F):
            c = _binomial_one(u_deputies[i, kj, f], faction_seats[i, f] - vacant[i, f],
                              q[j, f])
            t[f] = _maximum(c, 0.0)
        opp = _row_sum(t, F)
        party = _maximum(_binomial_one(u_former[i, kj], party_seats[i] - defectors[i],
                                       q_former[j]), 0.0)
        if in_office[i]:
            max_opposition_yes[i] = np.int64(_maximum(np.float64(max_opposition_yes[i]),
                                                      opp))
            out[j] = seats[i] + opp
        else:
            max_opposition_yes[i] = np.int64(_maximum(np.float64(max_opposition_yes[i]),
                                                      -1.0))
            out[j] = seats[i] + party
    return out


@njit(cache=True, nogil=True)
def seats_needed(idx, N, vacant, vacant_reduce_total,
                 supermajority):  # pragma: no cover - compiled
    """Votes needed to send the draft to referendum in worlds ``idx``, ``(n,)``.

    ``ceil(round_2(share N'))``, ``round_2(x) = rint(x 100) / 100`` (``np.round(x, 2)``),
    ``N'`` all deputies, less the vacant mandates (summed left to right: whole seats)
    where ``vacant_reduce_total``.
    """
    n = idx.shape[0]
    F = vacant.shape[1]
    out = np.empty(n)
    for j in range(n):
        i = idx[j]
        total = N
        if vacant_reduce_total:
            v = 0.0
            for f in range(F):
                v += vacant[i, f]
            total = N - v
        out[j] = np.ceil(np.rint((supermajority[i] * total) * 100.0) / 100.0)
    return out


# --------------------------------------------------------------------- the referendum

#: The opposition's strategy codes of :func:`referendum_plan` (``referendum.
#: opposition_strategy``: ``best``, ``campaign``, ``boycott``).
BEST, CAMPAIGN, BOYCOTT = 0, 1, 2


@njit(cache=True, nogil=True, inline="always")
def _yes_share(i, support, support0, yes_share, support_link):  # pragma: no cover - compiled
    """Expected yes share of votes cast in world ``i`` (7.13, before the day's noise).

    ``clip(ybar (1 + lambda rel), 0, 1)``, ``rel = S / S_0 - 1`` (``rel = 1 - 1 = 0``
    where ``S_0`` is not positive).
    """
    s0 = support0[i]
    rel = (support[i] / s0 if s0 > 0.0 else 1.0) - 1.0
    return _clip(yes_share[i] * (1.0 + support_link[i] * rel), 0.0, 1.0)


@njit(cache=True, nogil=True, inline="always")
def _threshold(t_yes, t_no, theta, quorum):  # pragma: no cover - compiled
    """Smallest yes share at which :func:`sim.model.rules.referendum` passes.

    At the boundary itself the share condition fails (it is strict). Share condition:
    ``y t_y (1 - theta) > theta (1 - y) t_n``, i.e. ``y > theta t_n / ((1 - theta) t_y
    + theta t_n)`` (1.0 where that denominator is not positive); quorum: ``y >= Q /
    t_y`` (``inf`` where ``t_y`` is not positive); the threshold is the ``maximum`` of
    the two. The opposition compares it across its strategies: the higher it is, the
    likelier the defeat.
    """
    den = (1.0 - theta) * t_yes + theta * t_no
    num = theta * t_no
    share = num / den if den > 0.0 else 1.0
    quo = quorum / t_yes if t_yes > 0.0 else np.inf
    return _maximum(share, quo)


@njit(cache=True, nogil=True)
def referendum_threshold(turnout_yes, turnout_no, yes_threshold,
                         quorum):  # pragma: no cover - compiled
    """:func:`_threshold` element by element of four ``(n,)`` arrays, a new ``(n,)``."""
    out = np.empty(turnout_yes.shape[0])
    for j in range(turnout_yes.shape[0]):
        out[j] = _threshold(turnout_yes[j], turnout_no[j], yes_threshold[j], quorum[j])
    return out


@njit(cache=True, nogil=True)
def referendum_yes(idx, support, support0, yes_share,
                   support_link):  # pragma: no cover - compiled
    """Expected yes share of votes cast in worlds ``idx`` (:func:`_yes_share`), ``(n,)``."""
    out = np.empty(idx.shape[0])
    for j in range(idx.shape[0]):
        out[j] = _yes_share(idx[j], support, support0, yes_share, support_link)
    return out


@njit(cache=True, nogil=True)
def referendum_plan(idx, support, support0, mobilisation, yes_share, support_link, turnout,
                    campaign_mobilisation, boycott_yes_abstention, boycott_no_abstention,
                    yes_threshold, quorum, strategy):  # pragma: no cover - compiled
    """The government's and the opposition's view of a referendum in worlds ``idx``.

    Per world: the expected yes share ``y`` (:func:`_yes_share`); the turnouts of yes and
    no voters under a no campaign, ``(tau, clip(tau (1 + c m), 0, 1))``, and under a
    boycott, ``(tau (1 - a_y), tau (1 - a_n))``; each strategy's pass threshold
    (:func:`_threshold`). The opposition boycotts where ``strategy`` is ``BOYCOTT``, or
    where it is ``BEST`` and the boycott's threshold is the higher (same day noise
    either way); the government's expected lead is ``y`` less the chosen threshold.

    Returns:
        ``(y, lead, boycott, t_yes, t_no)``, each ``(n,)``; the turnouts under the
        strategy chosen.
    """
    n = idx.shape[0]
    y = np.empty(n)
    lead = np.empty(n)
    boycott = np.empty(n, dtype=np.bool_)
    t_yes = np.empty(n)
    t_no = np.empty(n)
    for j in range(n):
        i = idx[j]
        yj = _yes_share(i, support, support0, yes_share, support_link)
        tau = turnout[i]
        c_no = _clip(tau * (1.0 + campaign_mobilisation[i] * mobilisation[i]), 0.0, 1.0)
        b_yes = tau * (1.0 - boycott_yes_abstention[i])
        b_no = tau * (1.0 - boycott_no_abstention[i])
        thr_c = _threshold(tau, c_no, yes_threshold[i], quorum[i])
        thr_b = _threshold(b_yes, b_no, yes_threshold[i], quorum[i])
        b = thr_b > thr_c if strategy == BEST else strategy == BOYCOTT
        y[j] = yj
        boycott[j] = b
        lead[j] = yj - (thr_b if b else thr_c)
        t_yes[j] = b_yes if b else tau
        t_no[j] = b_no if b else c_no
    return y, lead, boycott, t_yes, t_no


# --------------------------------------------------------------------- the track


@njit(cache=True, nogil=True)
def due_worlds(active, pursuing, stage, next_event, week, at):  # pragma: no cover - compiled
    """Worlds due for the track's next step at stage ``at``, ascending ``int64`` indices.

    ``flatnonzero(active & pursuing & (stage == at) & (week >= next_event))``.
    """
    W = active.shape[0]
    n = 0
    for i in range(W):  # counted without a branch (the loop vectorises)
        n += active[i] & pursuing[i] & (stage[i] == at) & (week >= next_event[i])
    out = np.empty(n + 1, dtype=np.int64)
    j = 0
    for i in range(W):  # written without a branch: slot j is overwritten until taken
        out[j] = i
        j += active[i] & pursuing[i] & (stage[i] == at) & (week >= next_event[i])
    return out[:n]


@njit(cache=True, nogil=True)
def end_cooldown(active, stage, next_event, week, cooldown,
                 drafting):  # pragma: no cover - compiled
    """A cool-down ends: ``stage = drafting`` where active, in ``cooldown`` and due.

    In place: ``stage[active & (stage == cooldown) & (week >= next_event)] = drafting``.
    """
    for i in range(active.shape[0]):  # no branch: the loop vectorises
        s = stage[i]
        stage[i] = drafting if (active[i] & (s == cooldown) & (week >= next_event[i])) else s


@njit(cache=True, nogil=True)
def deadlock(idx, week, N, deadlocks, mandate_week, seats, early_election, next_event,
             in_office, support, support0, u_early, snap_min_weeks, snap_seat_gain,
             early_election_probability, early_election_weeks, election_vote_share,
             election_support_slope, seats_per_vote_share,
             seat_cap):  # pragma: no cover - compiled
    """At a deadlock in worlds ``idx``, perhaps a snap election; where one is called.

    Per world ``i`` of ``idx``, in place: its ``k = minimum(deadlocks, R - 1)``-th
    uniform ``u_early[i, k]`` (``R`` rows) is read, then ``deadlocks += 1``. The
    government expects ``E`` seats from an election now: the party of the start's
    :func:`_party_seats` at ``clip(v_0 + beta (S - S_0), 0, 1)``, or ``N`` less them
    under a successor. It calls one where ``week - mandate_week >= snap_min_weeks``,
    ``E - seats >= snap_seat_gain``, no election is pending (``early_election < 0``) and
    ``u_early < early_election_probability``: then ``early_election = rint(week +
    early_election_weeks)`` and ``next_event`` one week later.

    Returns:
        Boolean ``(len(idx),)``: where the government called a snap election.
    """
    R = u_early.shape[1]
    call = np.zeros(idx.shape[0], dtype=np.bool_)
    for j in range(idx.shape[0]):
        i = idx[j]
        k = min(deadlocks[i], R - 1)
        deadlocks[i] += 1
        share = _clip(election_vote_share[i] + election_support_slope[i]
                      * (support[i] - support0[i]), 0.0, 1.0)
        party = _party_seats(share, seats_per_vote_share[i], seat_cap[i], N)
        expected = party if in_office[i] else N - party
        if (week - mandate_week[i] >= snap_min_weeks[i]
                and expected - seats[i] >= snap_seat_gain[i]
                and early_election[i] < 0
                and u_early[i, k] < early_election_probability[i]):
            call[j] = True
            when = np.rint(week + early_election_weeks[i])
            early_election[i] = np.int64(when)
            next_event[i] = when + 1.0
    return call
