"""The domestic track's kernels are the NumPy code they replaced, bit for bit.

:class:`sim.model.domestic.DomesticArena` runs the kernels of
:mod:`sim.model.kernels_domestic`; each ``_numpy_...`` function below is the NumPy code a
kernel replaced, as of 1ba4325: ``DomesticArena.update_support``, ``fall_hazard`` and
the survival draw of ``step``, ``_change_government``, ``_election``, the due worlds of
``step``, ``_deadlock`` with ``expected_election_seats``, ``deputy_willingness``'s logits,
``expected_yes``, ``seats_needed``, the vote count of ``step``, ``referendum_yes``,
``referendum_plan`` with ``rules.referendum_threshold`` and the opposition's choice.
Kernel and reference run on the same random inputs, with parameters drawn per world,
inactive worlds, no world and every world due, ties at each threshold and signed zeros,
and must agree in every array: values, NaN positions, signs of zeros and dtypes.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import kernels_domestic as kd
from sim.model.codes import DomesticEvent, Stage
from sim.model.domestic import ROWS

W = 20_001


def _same(got, want, name="") -> None:
    """Equal arrays: values (NaN where NaN), signs of zeros, dtype and shape."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, name
    np.testing.assert_array_equal(got, want, err_msg=name)
    if got.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want), err_msg=name)


def _pick(rng, values, n=W) -> np.ndarray:
    """Values chosen from ``values`` (the edge cases), as floats."""
    return rng.choice(np.asarray(values, dtype=float), n)


def _mix(rng, edges, lo=0.0, hi=1.0, n=W) -> np.ndarray:
    """Uniforms in ``[lo, hi)``, a third of them replaced by the edge values."""
    x = rng.uniform(lo, hi, n)
    e = rng.random(n) < 1 / 3
    x[e] = _pick(rng, edges, int(e.sum()))
    return x


# --------------------------------------------------------------------- support


def _numpy_support_step(support, support0, mobilisation, tension, spoiling, adjust_rate,
                        mobilisation_effect, tension_effect, spoiler_effect,
                        reference_mobilisation, reference_tension, reference_spoiling):
    """``DomesticArena.update_support`` before the kernel."""
    target = (support0
              - mobilisation_effect * np.maximum(0.0, mobilisation - reference_mobilisation)
              - tension_effect * np.maximum(0.0, tension - reference_tension)
              - spoiler_effect * np.maximum(0.0, spoiling - reference_spoiling))
    return np.clip(support + adjust_rate * (np.clip(target, 0, 1) - support), 0.0, 1.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_support_step_is_the_numpy_update(seed):
    rng = np.random.default_rng(seed)
    ref = [_mix(rng, [0.0, 0.2, 0.5]) for _ in range(3)]
    # the climate at, just off and far from its reference; signed zeros
    climate = [np.where(rng.random(W) < 0.3, r, _mix(rng, [-0.0, 0.0, 1.0], -0.5, 1.5))
               for r in ref]
    near = rng.random(W) < 0.1
    climate[0][near] = np.nextafter(ref[0][near], 2.0)
    support = _mix(rng, [0.0, -0.0, 1.0])
    support0 = _mix(rng, [0.0, 1.0, 0.5])
    # effects large enough to push the target below 0 and rates of 0 and 1
    effects = [_mix(rng, [0.0, 1.0], 0.0, 3.0) for _ in range(3)]
    rate = _mix(rng, [0.0, 1.0])
    args = (support, support0, *climate, rate, *effects, *ref)
    got = kd.support_step(*args)
    want = _numpy_support_step(*args)
    _same(got, want, "support")
    assert got is not support  # a new array: the climate holds the old one
    assert (want == 0.0).any() and (want == 1.0).any() and ((want > 0) & (want < 1)).any()


# --------------------------------------------------------------------- survival


def _numpy_falls(u, active, mobilisation, outside, threshold, base, mobilisation_hazard,
                 fell):
    """``fall_hazard`` and the survival draw of ``DomesticArena.step`` before the kernel."""
    over = np.clip((mobilisation - threshold) / np.maximum(1e-9, 1.0 - threshold), 0.0, 1.0)
    terms = (base, mobilisation_hazard * over, outside)
    return fell | (active & (u < np.clip(sum(terms), 0.0, 1.0)))


@pytest.mark.parametrize("outside_kind", ["zero", "drawn"])
def test_government_falls_is_the_numpy_hazard_and_draw(outside_kind):
    rng = np.random.default_rng(7)
    thr = _mix(rng, [0.0, 0.5, 1.0, 1.0 - 1e-12])
    mob = np.where(rng.random(W) < 0.2, thr, _mix(rng, [0.0, 1.0]))
    base = _mix(rng, [0.0, 1.0], 0.0, 0.05)
    mh = _mix(rng, [0.0, 1.0, 2.0], 0.0, 1.0)
    outside = (np.zeros(W) if outside_kind == "zero" else _mix(rng, [0.0, 0.5], 0.0, 0.1))
    h = np.clip(sum((base, mh * np.clip((mob - thr) / np.maximum(1e-9, 1.0 - thr),
                                        0.0, 1.0), outside)), 0.0, 1.0)
    # uniforms at the hazard itself (a tie does not fall), just below it, and anywhere
    u = np.where(rng.random(W) < 0.2, h, rng.random(W))
    below = rng.random(W) < 0.1
    u[below] = np.nextafter(h[below], -1.0)
    for active in (rng.random(W) < 0.7, np.zeros(W, bool), np.ones(W, bool)):
        fell = rng.random(W) < 0.05
        want = _numpy_falls(u, active, mob, 0.0 if outside_kind == "zero" else outside,
                            thr, base, mh, fell)
        got = fell.copy()
        kd.government_falls(u, active, mob, outside, thr, base, mh, got)
        _same(got, want, "fell")
    # the hazard alone (DomesticArena.fall_hazard, read by experiments/remeasure/hazards.py)
    _same(kd.fall_hazard(mob, outside, thr, base, mh), h, "fall_hazard")
    assert (h == 1.0).any() and (u == h).any()


# --------------------------------------------------------------------- change of government


STATE = ("fell_week", "changes", "defectors", "seats", "in_office", "early_election",
         "pursuing", "stage", "next_event", "waiting", "event")


def _numpy_change_government(s, fell, by_election, week, N, successor_pursues,
                             vote_retry_weeks) -> None:
    """``DomesticArena._change_government`` before the kernel, on the state dict ``s``."""
    out = fell & s["in_office"]
    back = fell & ~s["in_office"]
    s["fell_week"] = np.where(out & (s["fell_week"] < 0), week, s["fell_week"])
    s["changes"] += fell
    seated_opp = (s["faction_seats"] - s["vacant"]).sum(axis=1)
    majority = np.floor(N / 2.0) + 1.0
    coalition = out & ~by_election
    s["defectors"] = np.where(coalition, np.clip(majority - seated_opp, 0.0,
                                                 s["party_seats"]),
                              np.where(fell, 0.0, s["defectors"]))
    s["seats"] = np.where(out, np.where(by_election, N - s["party_seats"],
                                        seated_opp + s["defectors"]), s["seats"])
    s["seats"] = np.where(back, s["party_seats"], s["seats"])
    s["in_office"] = np.where(fell, ~s["in_office"], s["in_office"])
    s["early_election"] = np.where(fell, -1, s["early_election"])
    pursue = np.where(out, s["u_successor"] < successor_pursues, True)
    open_ = fell & (s["stage"] != Stage.PASSED)
    s["pursuing"] = np.where(fell, pursue, s["pursuing"])
    s["stage"] = np.where(open_ & ~pursue, Stage.ABANDONED, s["stage"])
    restart = open_ & pursue
    s["stage"] = np.where(restart, Stage.COOLDOWN, s["stage"])
    s["next_event"] = np.where(restart, week + vote_retry_weeks, s["next_event"])
    s["waiting"] &= ~fell
    s["event"][fell & (s["event"] != DomesticEvent.ELECTION_LOST)] = \
        DomesticEvent.GOVERNMENT_FELL


def _domestic_state(rng, F: int, N: float) -> dict:
    """A random state of the track: seats in whole numbers, every stage and event."""
    seats = rng.integers(0, 40, (W, F)).astype(float)
    party = _pick(rng, [0.0, 30.0, 53.0, 71.0, N]) * (rng.random(W) < 0.9)
    return {
        "faction_seats": seats,
        "vacant": np.floor(seats * rng.random((W, F)) * (rng.random((W, F)) < 0.3)),
        "party_seats": party,
        "u_successor": rng.random(W),
        "fell_week": np.where(rng.random(W) < 0.8, -1, rng.integers(0, 100, W)),
        "changes": rng.integers(0, 3, W),
        "defectors": rng.integers(0, 10, W).astype(float),
        "seats": rng.integers(0, 106, W).astype(float),
        "in_office": rng.random(W) < 0.6,
        "early_election": np.where(rng.random(W) < 0.7, -1, rng.integers(0, 200, W)),
        "pursuing": rng.random(W) < 0.8,
        "stage": rng.integers(0, len(Stage), W).astype(np.int64),
        "next_event": rng.uniform(0.0, 100.0, W),
        "waiting": rng.random(W) < 0.2,
        "event": rng.integers(0, len(DomesticEvent), W).astype(np.int64),
        "mandate_week": _pick(rng, [-120.0, -40.0, 0.0, 10.0, 30.0]),
        "deadlocks": rng.integers(0, ROWS + 3, W).astype(np.int64),
        "support": _mix(rng, [0.0, 1.0]),
        "support0": _mix(rng, [0.0, 1.0]),
    }


def _copy(s: dict) -> dict:
    return {k: v.copy() for k, v in s.items()}


@pytest.mark.parametrize("F", [0, 2, 3])
def test_change_government_is_the_numpy_change(F):
    rng = np.random.default_rng(11 + F)
    N = 105.0
    s = _domestic_state(rng, F, N)
    pursues = _mix(rng, [0.0, 1.0])
    tie = rng.random(W) < 0.1  # the uniform at the chance itself: does not pursue
    pursues[tie] = s["u_successor"][tie]
    retry = _mix(rng, [0.0, 26.0], 0.0, 60.0)
    for fell in (rng.random(W) < 0.5, np.zeros(W, bool), np.ones(W, bool)):
        by_election = fell & (rng.random(W) < 0.3)
        want, got = _copy(s), _copy(s)
        _numpy_change_government(want, fell, by_election, 37, N, pursues, retry)
        kd.change_government(
            fell, by_election, 37, N, got["faction_seats"], got["vacant"],
            got["party_seats"], got["u_successor"], pursues, retry, got["fell_week"],
            got["changes"], got["defectors"], got["seats"], got["in_office"],
            got["early_election"], got["pursuing"], got["stage"], got["next_event"],
            got["waiting"], got["event"], int(Stage.PASSED), int(Stage.ABANDONED),
            int(Stage.COOLDOWN), int(DomesticEvent.ELECTION_LOST),
            int(DomesticEvent.GOVERNMENT_FELL))
        for k in want:
            _same(got[k], want[k], k)
    # the coalition's defectors reached both bounds of their clip
    coalition = s["in_office"] & ~by_election
    d = np.clip(np.floor(N / 2) + 1 - (s["faction_seats"] - s["vacant"]).sum(axis=1), 0.0,
                s["party_seats"])[coalition]
    assert (d == 0.0).any() and (d == s["party_seats"][coalition]).any()


# --------------------------------------------------------------------- due worlds


def _numpy_due(active, pursuing, stage, next_event, week, at):
    """The due worlds of ``DomesticArena.step`` before the kernel (vote and referendum)."""
    return np.flatnonzero(active & (week >= next_event) & (stage == at) & pursuing)


def _numpy_end_cooldown(active, stage, next_event, week):
    """The end of a cool-down in ``DomesticArena.step`` before the kernel."""
    again = active & (stage == Stage.COOLDOWN) & (week >= next_event)
    return np.where(again, Stage.DRAFTING, stage)


def test_due_worlds_and_the_end_of_a_cooldown_are_the_numpy_masks():
    rng = np.random.default_rng(3)
    s = _domestic_state(rng, 2, 105.0)
    week = 40
    # next events on the week itself, just after it, before it, and NaN
    nxt = _pick(rng, [39.0, 40.0, np.nextafter(40.0, 41.0), 41.0, 12.5, np.nan])
    for active in (rng.random(W) < 0.7, np.zeros(W, bool), np.ones(W, bool)):
        for pursuing in (s["pursuing"], np.ones(W, bool)):
            for at in (Stage.DRAFTING, Stage.CAMPAIGN):
                got = kd.due_worlds(active, pursuing, s["stage"], nxt, week, int(at))
                _same(got, _numpy_due(active, pursuing, s["stage"], nxt, week, at), "due")
        stage = s["stage"].copy()
        kd.end_cooldown(active, stage, nxt, week, int(Stage.COOLDOWN), int(Stage.DRAFTING))
        _same(stage, _numpy_end_cooldown(active, s["stage"], nxt, week), "stage")
    everyone = kd.due_worlds(np.ones(W, bool), np.ones(W, bool), np.zeros(W, np.int64),
                             np.zeros(W), week, int(Stage.DRAFTING))
    _same(everyone, np.arange(W))


# --------------------------------------------------------------------- deadlock


def _numpy_deadlock(s, idx, week, N, u_early, snap_min_weeks, snap_seat_gain,
                    early_election_probability, early_election_weeks, election_vote_share,
                    election_support_slope, seats_per_vote_share, seat_cap):
    """``DomesticArena._deadlock`` and ``expected_election_seats`` before the kernel."""
    k = np.minimum(s["deadlocks"][idx], ROWS - 1)
    s["deadlocks"][idx] += 1
    share = np.clip(election_vote_share[idx] + election_support_slope[idx]
                    * (s["support"][idx] - s["support0"][idx]), 0.0, 1.0)
    party = np.minimum(np.round(np.clip(share * seats_per_vote_share[idx], 0, 1) * N),
                       np.floor(seat_cap[idx] * N + 1e-9))
    expected = np.where(s["in_office"][idx], party, N - party)
    allowed = ((week - s["mandate_week"][idx] >= snap_min_weeks[idx])
               & (expected - s["seats"][idx] >= snap_seat_gain[idx])
               & (s["early_election"][idx] < 0))
    call = allowed & (u_early[idx, k] < early_election_probability[idx])
    snap = idx[call]
    when = np.round(week + early_election_weeks[snap])
    s["early_election"][snap] = when
    s["next_event"][snap] = when + 1
    return snap


@pytest.mark.parametrize("seed", [0, 1])
def test_deadlock_is_the_numpy_snap_election_rule(seed):
    rng = np.random.default_rng(20 + seed)
    N = 105.0
    s = _domestic_state(rng, 2, N)
    s["early_election"][rng.random(W) < 0.5] = -1
    u_early = rng.random((ROWS, W)).T  # the arena's layout: drawn (rows, worlds)
    prob = _mix(rng, [0.0, 1.0, 0.5])
    tie = rng.random(W) < 0.2  # the uniforms at the chance itself
    u_early[tie, :] = prob[tie][:, None]
    pars = (_pick(rng, [0.0, 40.0, 52.0, 200.0]),          # snap_min_weeks
            _pick(rng, [0.0, 1.0, 5.0, -3.0]),              # snap_seat_gain
            prob,                                           # early_election_probability
            _pick(rng, [1.0, 8.5, 9.5, 12.0, 104.0]),       # weeks: rint half to even
            _mix(rng, [0.0, 0.5, 1.0]),                     # election_vote_share
            _mix(rng, [0.0, 5.0], 0.0, 5.0),                # election_support_slope
            _mix(rng, [0.5, 1.0, 3.0], 0.5, 3.0),           # seats_per_vote_share
            _mix(rng, [0.5, 2 / 3, 1.0], 0.5, 1.0))         # seat_cap
    week = 52
    for idx in (np.flatnonzero(rng.random(W) < 0.5), np.arange(0), np.arange(W)):
        want, got = _copy(s), _copy(s)
        snap = _numpy_deadlock(want, idx, week, N, u_early, *pars)
        call = kd.deadlock(idx, week, N, got["deadlocks"], got["mandate_week"],
                           got["seats"], got["early_election"], got["next_event"],
                           got["in_office"], got["support"], got["support0"], u_early,
                           *pars)
        assert call.dtype == np.bool_ and call.shape == idx.shape
        _same(idx[call], snap, "snap")
        for k in want:
            _same(got[k], want[k], k)
    assert snap.size and snap.size < W  # some worlds call one, others do not


# --------------------------------------------------------------------- the vote


def _numpy_logits(idx, k, willingness_logit, z_faction, faction_noise, package_effect, u,
                  u0, incentive_effect, inc, inc0, opinion_effect, support, support0,
                  tension_effect, t, t0, mobilisation_effect, m, m0):
    """The logits of ``DomesticArena.deputy_willingness`` before the kernel."""
    def change(now, start):
        return now[idx] - start[idx]
    shift = (package_effect[idx] * change(u, u0)
             + incentive_effect[idx] * change(inc, inc0)
             + opinion_effect[idx] * (support[idx] - support0[idx])
             - tension_effect[idx] * change(t, t0)
             - mobilisation_effect[idx] * change(m, m0))
    if k is None:
        return willingness_logit[idx] + shift[:, None]
    z = z_faction[idx, k]
    sigma = faction_noise[idx][:, None]
    return willingness_logit[idx] + shift[:, None] + sigma * z


def _numpy_expected_yes(idx, q, faction_seats, vacant, party_seats, defectors,
                        former_willingness, seats, in_office):
    """``DomesticArena.expected_yes`` (after the willingness) before the kernel."""
    factions = ((faction_seats[idx] - vacant[idx]) * q).sum(axis=1)
    former = (party_seats[idx] - defectors[idx]) * former_willingness[idx]
    return seats[idx] + np.where(in_office[idx], factions, former)


def _numpy_seats_needed(idx, N, vacant, vacant_reduce_total, supermajority):
    """``DomesticArena.seats_needed`` before the kernel."""
    total = np.full(idx.size, N)
    if vacant_reduce_total:
        total -= vacant[idx].sum(axis=1)
    return np.ceil(np.round(supermajority[idx] * total, 2))


@pytest.mark.parametrize("F", [0, 1, 2, 3, 7, 8, 9, 13])
def test_vote_kernels_are_the_numpy_willingness_expected_votes_and_bar(F):
    from sim.model import rules

    rng = np.random.default_rng(40 + F)
    N = 105.0
    s = _domestic_state(rng, F, N)
    wl = rng.normal(0.0, 2.0, (W, F))
    z_faction = rng.standard_normal((ROWS, F, W)).transpose(2, 0, 1)  # the arena's layout
    effects = [_mix(rng, [0.0, 50.0], 0.0, 50.0) for _ in range(5)]
    sigma = _mix(rng, [0.0, 10.0], 0.0, 3.0)
    # this week's conditions and the start's: some unchanged, some far
    pairs = []
    for _ in range(4):
        start = _mix(rng, [0.0, 1.0])
        now = np.where(rng.random(W) < 0.3, start, _mix(rng, [0.0, 1.0], -1.0, 2.0))
        pairs.append((now, start))
    (u, u0), (inc, inc0), (t, t0), (m, m0) = pairs
    former = _mix(rng, [0.5], 0.01, 0.99)
    # shares whose N' lands on and beside whole and half seats: round_2 and ceil
    share = _pick(rng, [0.5, 2 / 3, 0.7, 1.0, 69.995 / 105, 70.005 / 105, 70.5 / 105])
    for idx in (np.flatnonzero(rng.random(W) < 0.6), np.arange(0), np.arange(W)):
        k = np.minimum(s["deadlocks"][idx], ROWS - 1)
        for kk in (None, k):
            args = (idx, kk, wl, z_faction, sigma, effects[0], u, u0, effects[1], inc, inc0,
                    effects[2], s["support"], s["support0"], effects[3], t, t0,
                    effects[4], m, m0)
            want = _numpy_logits(*args)
            got = kd.vote_logits(idx, np.empty(0, np.int64) if kk is None else kk,
                                 *args[2:])
            _same(got, want, "logits")
        q = rules.logistic(want)
        eargs = (idx, q, s["faction_seats"], s["vacant"], s["party_seats"], s["defectors"],
                 former, s["seats"], s["in_office"])
        _same(kd.expected_yes(*eargs), _numpy_expected_yes(*eargs), "expected yes")
        for reduce_total in (False, True):
            sargs = (idx, N, s["vacant"], reduce_total, share)
            _same(kd.seats_needed(*sargs), _numpy_seats_needed(*sargs), "seats needed")


def test_row_sum_is_numpy_order_on_either_side_of_eight_terms():
    """Rows whose sum depends on the order: NumPy's left to right below eight terms and
    pairwise blocks from eight on; ``expected_yes`` through a row of ``q``."""
    rng = np.random.default_rng(50)
    n = 2001
    for F in range(0, 30):
        fs = np.ones((n, F))
        q = rng.choice([1e16, -1e16, 1.0, 0.5, -0.0, 3.0], (n, F)) * rng.random((n, F)) ** 4
        idx = np.arange(n)
        args = (idx, q, fs, np.zeros((n, F)), np.zeros(n), np.zeros(n), np.zeros(n),
                np.zeros(n), np.ones(n, bool))
        _same(kd.expected_yes(*args), _numpy_expected_yes(*args), f"F={F}")


# --------------------------------------------------------------------- the referendum


def _numpy_referendum_yes(idx, support, support0, yes_share, support_link):
    """``DomesticArena.referendum_yes`` before the kernel."""
    s0 = support0[idx]
    rel = np.divide(support[idx], s0, out=np.ones(idx.size), where=s0 > 0) - 1.0
    return np.clip(yes_share[idx] * (1.0 + support_link[idx] * rel), 0.0, 1.0)


def _numpy_threshold(turnout_yes, turnout_no, yes_threshold, quorum):
    """``rules.referendum_threshold`` before the kernel (now its array form)."""
    t_y = np.asarray(turnout_yes, dtype=float)
    t_n = np.asarray(turnout_no, dtype=float)
    den = (1.0 - yes_threshold) * t_y + yes_threshold * t_n
    share = np.divide(yes_threshold * t_n, den, out=np.ones_like(den), where=den > 0)
    quo = np.divide(quorum, t_y, out=np.full_like(t_y, np.inf), where=t_y > 0)
    return np.maximum(share, quo)


def _numpy_referendum_plan(idx, support, support0, mobilisation, yes_share, support_link,
                           turnout, campaign_mobilisation, boycott_yes_abstention,
                           boycott_no_abstention, yes_threshold, quorum, strategy):
    """``DomesticArena.referendum_plan`` and the opposition's choice in ``step`` before
    the kernel: ``(y, lead, boycott, t_yes, t_no)``."""
    y = _numpy_referendum_yes(idx, support, support0, yes_share, support_link)
    tau = turnout[idx]
    m = mobilisation[idx]
    camp = (tau, np.clip(tau * (1.0 + campaign_mobilisation[idx] * m), 0.0, 1.0))
    boy = (tau * (1.0 - boycott_yes_abstention[idx]),
           tau * (1.0 - boycott_no_abstention[idx]))
    yt, qr = yes_threshold[idx], quorum[idx]
    thr_c = _numpy_threshold(camp[0], camp[1], yt, qr)
    thr_b = _numpy_threshold(boy[0], boy[1], yt, qr)
    if strategy == "best":
        boycott = thr_b > thr_c
    else:
        boycott = np.full(idx.size, strategy == "boycott")
    lead = y - np.where(boycott, thr_b, thr_c)
    return (y, lead, boycott, np.where(boycott, boy[0], camp[0]),
            np.where(boycott, boy[1], camp[1]))


@pytest.mark.parametrize("strategy", ["best", "campaign", "boycott"])
def test_referendum_kernels_are_the_numpy_plan(strategy):
    from sim.model import rules

    rng = np.random.default_rng(60)
    support0 = _mix(rng, [0.0, 1.0, 0.44])
    support = np.where(rng.random(W) < 0.3, support0, _mix(rng, [0.0, 1.0]))
    mob = _mix(rng, [0.0, 1.0])
    pars = (_mix(rng, [0.0, 0.5, 1.0]),              # yes_share
            _mix(rng, [0.0, 1.0, 5.0], 0.0, 5.0),    # support_link: clips at 0 and 1
            _mix(rng, [1.0, 0.5, 1e-300, 0.0]),  # turnout: tiny, none (inf)
            _mix(rng, [0.0, 5.0], 0.0, 5.0),         # campaign_mobilisation
            _mix(rng, [0.0, 1.0]),                   # boycott_yes_abstention: all stay home
            _mix(rng, [0.0, 1.0]),                   # boycott_no_abstention
            _mix(rng, [0.0, 0.5, 1.0]),              # yes_threshold: no share condition
            _mix(rng, [0.0, 0.25, 1.0]))             # quorum
    code = {"best": kd.BEST, "campaign": kd.CAMPAIGN, "boycott": kd.BOYCOTT}[strategy]
    for idx in (np.flatnonzero(rng.random(W) < 0.5), np.arange(0), np.arange(W)):
        _same(kd.referendum_yes(idx, support, support0, *pars[:2]),
              _numpy_referendum_yes(idx, support, support0, *pars[:2]), "yes")
        got = kd.referendum_plan(idx, support, support0, mob, *pars, code)
        want = _numpy_referendum_plan(idx, support, support0, mob, *pars, strategy)
        for name, g, w in zip(("y", "lead", "boycott", "t_yes", "t_no"), got, want,
                              strict=True):
            _same(g, w, name)
        # the array form the known-answer tests call (tests/test_rules.py), broadcast
        t_y, t_n = pars[2][idx], pars[3][idx]
        for theta, q in ((pars[6][idx], pars[7][idx]), (0.5, 0.25)):
            _same(rules.referendum_threshold(t_y, t_n, theta, q),
                  _numpy_threshold(t_y, t_n, theta, q), "threshold")
    y, lead, boycott = want[:3]
    assert np.isinf(lead).any() and (y == 0.0).any() and (y == 1.0).any()
    if strategy == "best":
        assert boycott.any() and not boycott.all()


def _numpy_vote_yes(vote, k, q, q_p, u_deputies, u_former, faction_seats, vacant,
                    party_seats, defectors, seats, in_office, max_opposition_yes):
    """The vote count of ``DomesticArena.step`` before the kernel (``max_opposition_yes``
    in place)."""
    from sim.model import rules

    inc = in_office[vote]
    n = faction_seats[vote] - vacant[vote]
    yes_opp = np.maximum(rules.binomial_inverse(u_deputies[vote, k], n, q), 0.0).sum(axis=1)
    yes_party = np.maximum(rules.binomial_inverse(
        u_former[vote, k], party_seats[vote] - defectors[vote], q_p), 0.0)
    max_opposition_yes[vote] = np.maximum(max_opposition_yes[vote],
                                          np.where(inc, yes_opp, -1))
    return seats[vote] + np.where(inc, yes_opp, yes_party)


@pytest.mark.parametrize("F", [0, 2, 3, 9])
def test_vote_yes_is_the_numpy_count(F):
    rng = np.random.default_rng(70 + F)
    s = _domestic_state(rng, F, 105.0)
    # uniforms at 0 (a count of -1, then 0) and 1, willingness at 0, 1/2 and 1
    u_deputies = _pick(rng, [0.0, 1.0, 0.3, 0.5], ROWS * F * W).reshape(ROWS, F, W)
    u_deputies = np.where(rng.random((ROWS, F, W)) < 0.7, rng.random((ROWS, F, W)),
                          u_deputies).transpose(2, 0, 1)  # the arena's layout
    u_former = np.where(rng.random((ROWS, W)) < 0.8, rng.random((ROWS, W)),
                        _pick(rng, [0.0, 1.0], ROWS * W).reshape(ROWS, W)).T
    most = np.where(rng.random(W) < 0.5, -1, rng.integers(0, 40, W)).astype(np.int64)
    for vote in (np.flatnonzero(rng.random(W) < 0.5), np.arange(0), np.arange(W)):
        n = vote.size
        k = np.minimum(s["deadlocks"][vote], ROWS - 1)
        q = np.where(rng.random((n, F)) < 0.8, rng.random((n, F)),
                     _pick(rng, [0.0, 0.5, 1.0], n * F).reshape(n, F))
        q_p = _mix(rng, [0.0, 0.5, 1.0], n=n)
        got_most, want_most = most.copy(), most.copy()
        args = (u_deputies, u_former, s["faction_seats"], s["vacant"], s["party_seats"],
                s["defectors"], s["seats"], s["in_office"])
        got = kd.vote_yes(vote, k, q, q_p, *args, got_most)
        want = _numpy_vote_yes(vote, k, q, q_p, *args, want_most)
        _same(got, want, "yes")
        _same(got_most, want_most, "max_opposition_yes")
    assert (want_most > most).any() and (want_most == most).any()


# --------------------------------------------------------------------- elections


def _numpy_election(s, idx, week, N, z_election, election_vote_share,
                    election_support_slope, election_noise, seats_per_vote_share, seat_cap):
    """``DomesticArena._election`` before the kernel, on the state dict ``s``."""
    k = np.minimum(s["elections_held"][idx], ROWS - 1)
    s["elections_held"][idx] += 1
    share = np.clip(election_vote_share[idx] + election_support_slope[idx]
                    * (s["support"][idx] - s["support0"][idx])
                    + election_noise[idx] * z_election[idx, k], 0.0, 1.0)
    party = np.minimum(np.round(np.clip(share * seats_per_vote_share[idx], 0, 1) * N),
                       np.floor(seat_cap[idx] * N + 1e-9))
    s["last_vote_share"][idx] = share
    s["party_seats"][idx] = party
    s["defectors"][idx] = 0.0
    fs = s["faction_seats"][idx]
    tot = fs.sum(axis=1, keepdims=True)
    weights = np.divide(fs, tot, out=np.full_like(fs, 1.0 / max(1, fs.shape[1])),
                        where=tot > 0)
    new = np.floor(weights * (N - party)[:, None])
    if new.shape[1]:
        new[:, 0] += (N - party) - new.sum(axis=1)
    s["faction_seats"][idx] = new
    s["vacant"][idx] = 0.0
    s["early_election"][idx] = -1
    s["mandate_week"][idx] = week
    wins = party * 2 > N
    s["seats"][idx] = np.where(s["in_office"][idx], party, N - party)
    s["event"][idx] = DomesticEvent.ELECTION_HELD
    lost = np.zeros(W, dtype=bool)
    lost[idx] = wins != s["in_office"][idx]
    s["event"][lost] = DomesticEvent.ELECTION_LOST
    return lost


@pytest.mark.parametrize("F", [0, 1, 2, 3, 9])
def test_election_is_the_numpy_election(F):
    rng = np.random.default_rng(80 + F)
    N = 105.0
    s = _domestic_state(rng, F, N)
    s["faction_seats"][rng.random(W) < 0.1] = 0.0  # factions without seats: equal shares
    s["elections_held"] = rng.integers(0, ROWS + 3, W).astype(np.int64)
    s["last_vote_share"] = np.full(W, np.nan)
    z = rng.standard_normal((ROWS, W)).T  # the arena's layout
    z[rng.random(W) < 0.1] = 0.0
    pars = (_mix(rng, [0.0, 0.5, 1.0]),                 # election_vote_share
            _mix(rng, [0.0, 5.0], 0.0, 5.0),            # election_support_slope
            _mix(rng, [0.0, 0.5], 0.0, 0.5),            # election_noise
            _mix(rng, [0.5, 1.0, 3.0], 0.5, 3.0),       # seats_per_vote_share
            _mix(rng, [0.5, 2 / 3, 1.0], 0.5, 1.0))     # seat_cap
    week = 90
    for idx in (np.flatnonzero(rng.random(W) < 0.5), np.arange(0), np.arange(W)):
        want, got = _copy(s), _copy(s)
        want_lost = _numpy_election(want, idx, week, N, z, *pars)
        got_lost = np.zeros(W, dtype=bool)
        kd.election(idx, week, N, got["elections_held"], z, got["support"], got["support0"],
                    *pars, got["last_vote_share"], got["party_seats"], got["defectors"],
                    got["faction_seats"], got["vacant"], got["early_election"],
                    got["mandate_week"], got["seats"], got["in_office"], got["event"],
                    int(DomesticEvent.ELECTION_HELD), int(DomesticEvent.ELECTION_LOST),
                    got_lost)
        _same(got_lost, want_lost, "lost")
        for k in want:
            _same(got[k], want[k], k)
    assert want_lost.any() and not want_lost.all()
