"""The calendar: dated exogenous events that change named state on their dates.

An event (``state.events.<name>`` in YAML, :class:`~sim.model.params.EventParams`) sets flags,
ends a monitoring mission's mandate or adds to a spoiler's drive. A run's calendar holds
only the events known at its start: an event is included iff ``announced <=
start_date`` (no hindsight in inputs). An included event fires at the start of week

    ``week = max(0, ceil((date - start_date).days / 7))``,

the first week that begins on or after its date; an event dated before the start has
already happened and holds from week 0. Every world shares the calendar (dates are not
drawn); the sizes of its effects (``spoiler_pressure``) may be drawn per world.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sim.model.params import EventParams


def event_week(date: dt.date, start: dt.date) -> int:
    """Index of the week whose start is the first on or after ``date`` (0 if earlier)."""
    return max(0, math.ceil((date - start).days / 7))


@dataclass(frozen=True)
class ScheduledEvent:
    """An event of this run's calendar and the week it fires."""

    name: str
    week: int
    event: EventParams


class Calendar:
    """The events of one run, by week.

    Args:
        events: ``state.events`` (name -> :class:`EventParams`, already drawn per world).
        start: The run's start date.
    """

    def __init__(self, events: Mapping[str, EventParams[np.ndarray]], start: dt.date):
        self.start = start
        known = [ScheduledEvent(n, event_week(e.date, start), e)
                 for n, e in events.items() if e.announced <= start]
        self.events: tuple[ScheduledEvent, ...] = tuple(
            sorted(known, key=lambda s: (s.week, s.event.date, s.name)))
        self.excluded: tuple[str, ...] = tuple(n for n, e in events.items()
                                               if e.announced > start)
        self._by_week: dict[int, list[ScheduledEvent]] = {}
        for s in self.events:
            self._by_week.setdefault(s.week, []).append(s)

    def due(self, week: int) -> list[ScheduledEvent]:
        """Events that fire at the start of ``week``."""
        return self._by_week.get(week, [])

    def mandate_end_week(self, mediator: str) -> float:
        """Week the mediator's monitors leave (``inf`` if no known event ends them)."""
        for s in self.events:
            if s.event.ends_mandate == mediator:
                return float(s.week)
        return math.inf
