"""The calendar: dated exogenous events, and announced events still pending.

An event (``state.events.<name>`` in YAML, :class:`~sim.model.params.EventParams`) sets flags,
ends or renews a monitoring mission's mandate or adds to a spoiler's drive. A run knows
an event in one of two ways (no hindsight in inputs):

* **dated**: its date was announced by the start (``announced <= start_date``). It fires
  in every world at the start of week

      ``week = max(0, ceil((date - start_date).days / 7))``,

  the first week that begins on or after its date; an event dated before the start has
  already happened and holds from week 0.
* **pending**: it was known to be coming (``pending_since <= start_date``: a joint
  request, a mandate decision, a scheduled act) but its date was not (``announced`` later
  or not yet). Its completion is drawn per world from the prior of its kind
  (``state.pending_kinds.<kind>``): it completes at all with ``probability`` and then in
  week ``w0 + D``, ``D ~ Geometric(hazard)`` (``P(D = d) = hazard (1 - hazard)^d``), where
  ``w0`` is the week of the earliest date it can fall on: the start for a request whose
  date was later announced (``announced`` given), ``date`` (a stated due date) for an
  event never announced. A kind with ``needs_majority`` completes only in a week the
  government holds a majority of the seats (from its drawn week on).

An event neither dated nor pending at the start is not in the run: it never fires.
Signatories may also **request** a precondition flag while the run is going
(``actors.<side>.requests``, :meth:`Calendar.request`): the request becomes a pending
event of the named kind from the week after it is made.

Dated events are shared by every world; pending completions are per world, from one
stream per event (``calendar:<name>``), so common random numbers hold across scenarios.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sim.model.params import EventParams, PendingKindParams

#: Completion week of a pending event that does not complete (beyond any horizon).
NEVER = np.iinfo(np.int64).max // 2


def event_week(date: dt.date, start: dt.date) -> int:
    """Index of the week whose start is the first on or after ``date`` (0 if earlier)."""
    return max(0, math.ceil((date - start).days / 7))


def geometric_delay(u: np.ndarray, hazard: np.ndarray) -> np.ndarray:
    """Weeks before completion for uniforms ``u`` in [0, 1) at a weekly ``hazard``.

    ``D = floor(log(1 - u) / log(1 - hazard))``, so ``P(D = d) = h (1 - h)^d``; a hazard
    of 1 gives ``D = 0`` (the event falls on its earliest week).
    """
    h = np.clip(np.asarray(hazard, dtype=float), 1e-12, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.floor(np.log1p(-u) / np.log1p(-h))
    d = np.where(h >= 1.0, 0.0, d)
    return np.minimum(np.nan_to_num(d, nan=0.0, posinf=NEVER), NEVER).astype(np.int64)


@dataclass(frozen=True)
class ScheduledEvent:
    """A dated event of this run's calendar and the week it fires."""

    name: str
    week: int
    event: EventParams


@dataclass
class PendingEvent:
    """A pending event of this run and, per world, the week it completes.

    Attributes:
        name: The event (``request:<flag>`` for a request made during the run).
        kind: Its kind (``state.pending_kinds``).
        sets_flags, spoiler_pressure, renews_mandate, renewal_weeks: Its effects.
        needs_majority: Completes only in a week the government holds a majority.
        week: Drawn completion week per world (:data:`NEVER` if it does not complete).
        done: Worlds where it has completed.
    """

    name: str
    kind: str
    sets_flags: tuple
    spoiler_pressure: Mapping
    renews_mandate: str
    renewal_weeks: int
    needs_majority: bool
    week: np.ndarray
    done: np.ndarray
    #: for a request: worlds that have made it, and each world's drawn delay (weeks)
    requested: np.ndarray | None = None
    delay: np.ndarray | None = None


class Calendar:
    """The dated and pending events of one run.

    Args:
        events: ``state.events`` (name -> :class:`EventParams`, already drawn per world).
        start: The run's start date.
        kinds: ``state.pending_kinds`` (drawn per world); needed for pending events.
        streams: The run's random streams (``calendar:<name>``); needed for pending events.
        W: Number of worlds.
    """

    def __init__(self, events: Mapping[str, EventParams[np.ndarray]], start: dt.date,
                 kinds: Mapping[str, PendingKindParams[np.ndarray]] | None = None,
                 streams=None, W: int = 1):
        self.start = start
        self.W = W
        self.kinds = dict(kinds or {})
        self.streams = streams
        known = [ScheduledEvent(n, event_week(e.date, start), e)
                 for n, e in events.items() if e.announced is not None
                 and e.announced <= start]
        self.events: tuple[ScheduledEvent, ...] = tuple(
            sorted(known, key=lambda s: (s.week, s.event.date, s.name)))
        self.pending: list[PendingEvent] = []
        for n, e in events.items():
            if (e.announced is None or e.announced > start) and \
                    e.pending_since is not None and e.pending_since <= start:
                earliest = e.date if e.announced is None else e.pending_since
                self.pending.append(self._draw(n, e.kind or "", event_week(earliest, start), e))
        names = {s.name for s in self.events} | {p.name for p in self.pending}
        self.excluded: tuple[str, ...] = tuple(n for n in events if n not in names)
        self._by_week: dict[int, list[ScheduledEvent]] = {}
        for s in self.events:
            self._by_week.setdefault(s.week, []).append(s)
        #: flags some known (dated or pending) event or request sets: no new request
        self.announced_flags = {f for s in self.events for f in s.event.sets_flags} | {
            f for p in self.pending for f in p.sets_flags}
        self._requests: dict[str, PendingEvent] = {}

    def _draw(self, name: str, kind: str, w0: int, e: EventParams | None = None,
              flags: tuple = ()) -> PendingEvent:
        """Draw each world's completion week from ``w0`` under the kind's prior."""
        k = self.kinds[kind]
        u = self.streams["calendar:" + name].random((2, self.W))
        week = w0 + geometric_delay(u[1], k.hazard)
        week = np.where(u[0] < k.probability, week, NEVER)
        return PendingEvent(
            name=name, kind=kind,
            sets_flags=tuple(e.sets_flags) if e is not None else tuple(flags),
            spoiler_pressure=dict(e.spoiler_pressure) if e is not None else {},
            renews_mandate=(e.renews_mandate or "") if e is not None else "",
            renewal_weeks=int(e.renewal_weeks or 0) if e is not None else 0,
            needs_majority=bool(k.needs_majority), week=week,
            done=np.zeros(self.W, dtype=bool))

    def due(self, week: int) -> list[ScheduledEvent]:
        """Dated events that fire at the start of ``week``."""
        return self._by_week.get(week, [])

    def completing(self, week: int, majority: np.ndarray) -> list[tuple[PendingEvent,
                                                                       np.ndarray]]:
        """Pending events completing at the start of ``week`` and the worlds where they do.

        Args:
            week: This week.
            majority: Worlds whose government holds a majority of the seats, ``(W,)``.
        """
        out = []
        for p in [*self.pending, *self._requests.values()]:
            now = ~p.done & (p.week <= week)
            if p.needs_majority:
                now &= majority
            if now.any():
                p.done |= now
                out.append((p, now))
        return out

    def request(self, flag: str, kind: str, worlds: np.ndarray, week: int) -> None:
        """The parties request ``flag`` in ``worlds`` this week; it completes by ``kind``.

        One request per flag and world; none where a known event already sets the flag.
        The completion is drawn once per world for the whole run (common random numbers):
        a world requesting in week ``t`` completes in week ``t + 1 + D``.
        """
        if flag in self.announced_flags:
            return
        r = self._requests.get(flag)
        if r is None:
            r = self._draw("request:" + flag, kind, 0, flags=(flag,))
            r.requested = np.zeros(self.W, dtype=bool)
            r.delay = r.week.copy()
            r.week = np.full(self.W, NEVER, dtype=np.int64)
            self._requests[flag] = r
        assert r.requested is not None and r.delay is not None
        new = worlds & ~r.requested
        if new.any():
            r.requested |= new
            d = r.delay[new]
            r.week[new] = np.where(d >= NEVER, NEVER, week + 1 + d)

    def requested(self, flag: str) -> np.ndarray:
        """Worlds where the parties have requested ``flag`` during the run, ``(W,)``."""
        r = self._requests.get(flag)
        if r is None or r.requested is None:
            return np.zeros(self.W, dtype=bool)
        return r.requested.copy()

    def mandate_end_week(self, mediator: str) -> float:
        """Week the mediator's monitors' mandate ends (``inf`` if no known event ends it)."""
        for s in self.events:
            if s.event.ends_mandate == mediator:
                return float(s.week)
        return math.inf

    def mandate_end_weeks(self, mediator: str) -> np.ndarray:
        """Per world, the week the monitors leave: the dated end plus every renewal.

        A renewal (an event with ``renews_mandate``: dated, or pending and drawn) extends
        the mandate by its ``renewal_weeks`` when it falls on or before the end then in
        force. Renewals that need a majority are not allowed here (monitors are decided
        by the mediator, not by the National Assembly).
        """
        end = np.full(self.W, self.mandate_end_week(mediator))
        renewals: list[tuple[np.ndarray, int]] = [
            (np.full(self.W, s.week), int(s.event.renewal_weeks or 0)) for s in self.events
            if s.event.renews_mandate == mediator]
        renewals += [(p.week, p.renewal_weeks) for p in self.pending
                     if p.renews_mandate == mediator]
        for week, extra in sorted(renewals, key=lambda r: float(np.min(r[0]))):
            end = np.where(week <= end, end + extra, end)
        return end
