"""Announced, pending events (7.19), the Minsk rule (7.16) and Baku's pledge path.

Paired runs share seed and worlds (common random numbers); intervals are the 95 % interval
of the world-by-world difference. Every comparison holds the constitutional gate fixed
(PASSED_GATE) so that the precondition under test is the only channel.
"""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import pytest

from sim import compose, load_params
from sim.experiment.api import simulate
from sim.model.calendar import NEVER, Calendar, event_week, geometric_delay
from sim.model.model import PeaceModel
from sim.model.params import parse_params
from tests.helpers import FROZEN_SUPPORT, PASSED_GATE, merged

SEED = 0


def _paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    se = d.std(ddof=1) / np.sqrt(d.size)
    return d.mean(), d.mean() - 1.96 * se, d.mean() + 1.96 * se


def _event(start: dt.date, **kw) -> dict:
    ev = {"label": "test", "date": start, "sets_flags": ["tripp_construction"],
          "ends_mandate": "", "spoiler_pressure": {}, "source": "test"}
    ev.update(kw)
    return ev


def _cfg_with(event: dict, kind: dict | None = None) -> dict:
    cfg, _ = compose("baseline")
    cfg = copy.deepcopy(cfg)
    for e in cfg["state"]["events"].values():  # the test event is the flag's only route
        if "tripp_construction" in e["sets_flags"]:
            e["sets_flags"] = []
    cfg["state"]["events"]["probe"] = event
    if kind is not None:
        cfg["state"]["pending_kinds"]["probe_kind"] = kind
    return cfg


# ------------------------------------------------------------------ the hazard's known answer


def test_geometric_delay_has_the_hazards_distribution():
    u = np.random.default_rng(1).random(200_000)
    d = geometric_delay(u, np.full(u.size, 0.2))
    for k in range(5):
        assert (d == k).mean() == pytest.approx(0.2 * 0.8 ** k, abs=0.004)
    assert (geometric_delay(u, np.ones(u.size)) == 0).all()  # hazard 1: on its date


@pytest.mark.parametrize("hazard, probability", [(0.1, 0.7), (0.25, 1.0)])
def test_a_pending_event_completes_at_its_priors_rate(hazard, probability):
    """P(done by week k) = probability * (1 - (1 - hazard)^(k + 1)) from its earliest week."""
    start = dt.date(2026, 12, 7)
    cfg = _cfg_with(_event(start, pending_since=start, kind="probe_kind"),
                    {"probability": probability, "hazard": hazard,
                     "needs_majority": False, "source": "test"})
    W, H = 20_000, 12
    m = PeaceModel(parse_params(cfg), worlds=W, seed=SEED, horizon_weeks=H).run()
    fw = m.flag_week["tripp_construction"]
    for k in (0, 3, 7, 11):
        p = probability * (1.0 - (1.0 - hazard) ** (k + 1))
        got = ((fw >= 0) & (fw <= k)).mean()
        assert got == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / W) + 1e-9), k


def test_a_due_date_with_hazard_one_completes_on_its_date_with_its_probability():
    start = dt.date(2026, 12, 7)
    due = start + dt.timedelta(weeks=6)
    cfg = _cfg_with(_event(due, pending_since=start, kind="probe_kind"),
                    {"probability": 0.4, "hazard": 1.0, "needs_majority": False,
                     "source": "test"})
    m = PeaceModel(parse_params(cfg), worlds=10_000, seed=SEED, horizon_weeks=10).run()
    fw = m.flag_week["tripp_construction"]
    assert set(np.unique(fw)) == {-1, 6}
    assert (fw == 6).mean() == pytest.approx(0.4, abs=0.02)


def test_a_kind_that_needs_a_majority_waits_for_one():
    """An act of the National Assembly completes only in a week the government holds
    more than half the seats (Calendar.completing)."""
    start = dt.date(2026, 12, 7)
    p = parse_params(_cfg_with(_event(start, pending_since=start, kind="probe_kind"),
                               {"probability": 1.0, "hazard": 1.0, "needs_majority": True,
                                "source": "test"}))
    m = PeaceModel(p, worlds=10, seed=SEED, horizon_weeks=1)
    cal = m.calendar
    assert [x.name for x in cal.pending if x.needs_majority] == ["probe"]
    none = np.zeros(10, dtype=bool)
    assert all(x.name != "probe" for x, _ in cal.completing(3, none))
    half = np.arange(10) < 5
    done = {x.name: w for x, w in cal.completing(4, half)}
    np.testing.assert_array_equal(done["probe"], half)


# ------------------------------------------------------------------ what the origin knew


def test_an_event_not_yet_known_at_the_origin_never_fires():
    start = dt.date(2026, 12, 7)
    later = start + dt.timedelta(days=1)
    cfg = _cfg_with(_event(start + dt.timedelta(weeks=2), pending_since=later,
                           kind="probe_kind"),
                    {"probability": 1.0, "hazard": 1.0, "needs_majority": False,
                     "source": "test"})
    m = PeaceModel(parse_params(cfg), worlds=2000, seed=SEED, horizon_weeks=30).run()
    assert "probe" in m.calendar.excluded
    assert not m.flags["tripp_construction"].any()
    # the same with a date announced after the start
    cfg["state"]["events"]["probe"] = _event(start + dt.timedelta(weeks=2), announced=later)
    m = PeaceModel(parse_params(cfg), worlds=200, seed=SEED, horizon_weeks=30).run()
    assert "probe" in m.calendar.excluded and not m.flags["tripp_construction"].any()


def test_from_march_2025_the_minsk_closure_is_not_known_and_fires_only_on_request():
    """13 Mar 2025: nothing requested yet. Without the parties' request (Azerbaijan's
    `requests`) the closure never comes, even with its event left in the calendar."""
    ov = merged(PASSED_GATE, {"actors": {"azerbaijan": {"requests": {"minsk_closed": None}}},
                              "state": {"events": {"minsk_closure_complete": {
                                  "label": "Minsk closure", "date": "2025-11-30",
                                  "announced": "2025-09-01", "pending_since": "2025-08-08",
                                  "kind": "osce_closure", "sets_flags": ["minsk_closed"],
                                  "ends_mandate": "", "spoiler_pressure": {},
                                  "source": "test"}}}})
    p = load_params("march_2025", overrides=ov)
    m = PeaceModel(p, worlds=2000, seed=SEED, horizon_weeks=80).run()
    assert "minsk_closure_complete" in m.calendar.excluded
    assert not m.flags["minsk_closed"].any()
    assert not (m.sign_week >= 0).any()  # Baku's precondition never met: no signing


def test_from_8_august_2025_the_minsk_closure_is_forecast_with_its_stated_prior():
    """The joint letter is known, the date is not: P(closed by 1 Dec 2025) is no longer 0
    (it was 0.000 when only signing could close it) and matches the stated prior."""
    p = load_params("origin_2025_08_08")
    ev = p.state.events["minsk_closure_complete"]
    kind = p.state.pending_kinds[ev.kind]
    assert ev.pending_since == dt.date(2025, 8, 8) and ev.announced > p.state.start_date
    assert ev.kind == "osce_closure" and kind.source  # the prior is stated
    W = 20_000
    o = simulate(p, worlds=W, seed=SEED, horizon_weeks=30).outcomes
    k = event_week(dt.date(2025, 12, 1), p.state.start_date)
    fw = o["flag_week.minsk_closed"].to_numpy()
    got = ((fw >= 0) & (fw <= k)).mean()
    # the known answer under the prior: E[q] E[1 - (1 - h)^(k + 1)], h ~ U(lo, hi)
    q, h = kind.probability, kind.hazard
    lo, hi = h.arg("low"), h.arg("high")
    e_surv = ((1 - lo) ** (k + 2) - (1 - hi) ** (k + 2)) / ((k + 2) * (hi - lo))
    want = (q.arg("low") + q.arg("high")) / 2 * (1 - e_surv)
    assert got == pytest.approx(want, abs=4 * np.sqrt(want * (1 - want) / W))
    assert 0.3 < got < 0.95


# ------------------------------------------------------------------ the Minsk rule (7.16)


@pytest.mark.parametrize("origin", ["march_2025", "origin_2025_08_08"])
def test_before_the_closure_signing_waits_for_it(origin):
    """Baku's "before signing" prevailed (closure complete 30 Nov 2025, nothing signed):
    from an origin before the closure, the precondition delays or prevents signing
    (paired, gate passed), and no world signs before the flag holds."""
    W = 5000
    with_pre = load_params(origin, overrides=PASSED_GATE)
    without = load_params(origin, overrides=merged(PASSED_GATE, {"actors": {"azerbaijan": {
        "preconditions": ["constitution_changed"]}}}))
    a = simulate(with_pre, worlds=W, seed=SEED, horizon_weeks=104).outcomes
    b = simulate(without, worlds=W, seed=SEED, horizon_weeks=104).outcomes
    by = 26
    sa = (a["sign_week"] >= 0) & (a["sign_week"] < by)
    sb = (b["sign_week"] >= 0) & (b["sign_week"] < by)
    d, lo, hi = _paired(sa, sb)
    assert hi < 0, (d, lo, hi)
    s = a[a["signed"]]
    fw = s["flag_week.minsk_closed"]
    assert ((fw >= 0) & (fw <= s["sign_week"])).all()
    assert not a["signed"].all()  # the flag matters: signing depends on the closure


def test_after_the_closure_the_minsk_precondition_is_inert_by_construction():
    """In the baseline the closure (30 Nov 2025) is a dated event before the start: the
    flag holds in every world from week 0, so dropping the precondition changes nothing."""
    W = 3000
    a = simulate(load_params("baseline", overrides=PASSED_GATE), worlds=W, seed=SEED,
                 horizon_weeks=60).outcomes
    b = simulate(load_params("baseline", overrides=merged(PASSED_GATE, {"actors": {
        "azerbaijan": {"preconditions": ["constitution_changed"]}}})), worlds=W, seed=SEED,
        horizon_weeks=60).outcomes
    assert (a["flag_week.minsk_closed"] == 0).all()
    for col in ("outcome", "sign_week", "escalation_week"):
        np.testing.assert_array_equal(a[col].to_numpy(), b[col].to_numpy())


def test_armenias_same_day_linkage_is_not_the_default():
    p = load_params("baseline")
    assert p.actors["armenia"].linkages == ()
    assert "minsk_closed" in p.actors["azerbaijan"].preconditions
    assert p.actors["azerbaijan"].requests == {"minsk_closed": "osce_closure"}


# ------------------------------------------------------------------ the EUMA decision


def test_the_euma_renewal_is_a_pending_decision_at_the_mandates_end():
    p = load_params("baseline", assumptions="point")   # the YAML's prior U(0.2, 0.8)
    m = PeaceModel(p, worlds=20_000, seed=SEED, horizon_weeks=1)
    end = event_week(dt.date(2027, 2, 19), p.state.start_date)
    eu = next(x for x in m.mediators if x.name == "eu")
    weeks = np.unique(eu.mandate_end_week)
    assert set(weeks) == {end, end + 104}
    renewed = (eu.mandate_end_week > end).mean()
    assert renewed == pytest.approx(0.5, abs=0.02)  # E[U(0.2, 0.8)]
    gone = load_params("eu_monitors_leave")
    m2 = PeaceModel(gone, worlds=200, seed=SEED, horizon_weeks=1)
    eu2 = next(x for x in m2.mediators if x.name == "eu")
    assert (eu2.mandate_end_week == end).all()


# ------------------------------------------------------------------ Baku's pledge path


def test_the_pledge_path_is_a_gate_not_a_free_signature():
    """The pledge must pass the Court (its probability) and the National Assembly (a
    majority, needs_majority) before Baku signs; with the Court saying no, the path adds
    nothing to the baseline's constitutional route."""
    W = 4000
    p = load_params("baku_pledge_path", overrides=FROZEN_SUPPORT)
    kind = p.state.pending_kinds["binding_pledge"]
    assert kind.needs_majority
    o = simulate(p, worlds=W, seed=SEED, horizon_weeks=104).outcomes
    s = o[o["signed"] & ~o["constitution_changed"]]
    assert len(s) > 0.1 * W  # the path opens a gate the referendum keeps mostly shut
    fw = s["flag_week.pledge_binding"]
    assert ((fw >= 0) & (fw <= s["sign_week"])).all()  # no signature before the pledge
    earliest = event_week(dt.date(2027, 2, 1), p.state.start_date)
    assert (fw >= earliest).all()
    # the Court rejects it: signing only through the constitution, as in the baseline
    no = load_params("baku_pledge_path", overrides=merged(FROZEN_SUPPORT, {"state": {
        "pending_kinds": {"binding_pledge": {"probability": 0.0}}}}))
    base = load_params("baseline", overrides=FROZEN_SUPPORT)
    a = simulate(no, worlds=W, seed=SEED, horizon_weeks=104).outcomes
    b = simulate(base, worlds=W, seed=SEED, horizon_weeks=104).outcomes
    assert not (a["flag_week.pledge_binding"] >= 0).any()
    np.testing.assert_array_equal(a["signed"].to_numpy(), b["signed"].to_numpy())
    assert (a.loc[a["signed"], "constitution_changed"]).all()


def test_the_pledge_path_is_never_a_default():
    p = load_params("baseline")
    assert "pledge_binding" not in " ".join(p.actors["azerbaijan"].preconditions)
    assert "binding_pledge" not in p.state.pending_kinds
    assert "armenia_binding_pledge" not in p.state.events


def test_bad_pending_events_are_one_line_errors():
    from sim.errors import ConfigError
    start = dt.date(2026, 12, 7)
    for ev, msg in [
        (_event(start, pending_since=start, kind="nope"), "names a kind"),
        (_event(start), "needs `announced`"),
        (_event(start, announced=start, pending_since=start + dt.timedelta(days=3),
                kind="osce_closure"), "must not be after `announced`"),
        (_event(start, announced=start, renews_mandate="russia", renewal_weeks=10),
         "not a mediator"),
    ]:
        with pytest.raises(ConfigError, match=msg) as e:
            parse_params(_cfg_with(ev))
        assert "\n" not in str(e.value)
    cfg = _cfg_with(_event(start, announced=start))
    cfg["actors"]["azerbaijan"]["requests"] = {"minsk_closed": "no_such_kind"}
    with pytest.raises(ConfigError, match="unknown pending kind"):
        parse_params(cfg)


def test_never_is_beyond_any_horizon():
    assert NEVER > 10**9
    cal = Calendar({}, dt.date(2026, 12, 7))
    assert cal.pending == [] and np.isinf(cal.mandate_end_week("eu"))


def test_the_rolling_backtest_keeps_events_known_as_pending_at_an_origin():
    """A rolling origin between the joint letter (8 Aug 2025) and MC/1/25 (1 Sep) keeps
    the closure as pending (its date unknown); a hindcast told of it from its first week
    has it pending from then, never dated."""
    from sim.analysis import backtest as bt
    before = bt._calendar_overrides(dt.date(2025, 7, 1))
    assert before["minsk_closure_complete"] is None
    mid = bt._calendar_overrides(dt.date(2025, 8, 15))
    ev = mid["minsk_closure_complete"]
    assert str(ev["pending_since"]) == "2025-08-08" and str(ev["announced"]) == "2025-09-01"
    first = dt.date(2025, 3, 13)
    told = bt._calendar_overrides(dt.date(2025, 8, 15), first)["minsk_closure_complete"]
    assert told["pending_since"] == first.isoformat()
    p = load_params("march_2025", overrides={"state.events": bt._calendar_overrides(
        dt.date(2025, 8, 15), first)})
    m = PeaceModel(p, worlds=10, seed=SEED, horizon_weeks=1)
    assert "minsk_closure_complete" in {x.name for x in m.calendar.pending}
    assert "minsk_closure_complete" not in {x.name for x in m.calendar.events}
