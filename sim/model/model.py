"""The peace-process model: a Mesa model that steps many independent worlds at once.

One :class:`PeaceModel` holds ``W`` worlds. Every state array has a leading world axis and
worlds never read each other's state, so ``W = 1`` is the ordinary single-run model and
``W = 100_000`` an ensemble, with one set of rules. The world's shared state is
:class:`~sim.model.state.World`; the model adds its *schedule*, an ordered list of
:class:`~sim.model.mechanism.Mechanism` s (:func:`sim.model.schedule.default_schedule`:
calendar, incidents, perceptions, outside powers, reservation values, the table,
decisions, the domestic track, signing, escalation), and each week runs them in order,
then records the series they declare.

See ``docs/model.md`` for the equations and the sources of every default.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from sim.model import kernels, kernels_tables, rules
from sim.model.codes import Status
from sim.model.mechanism import Mechanism, Series
from sim.model.params import ModelSpec
from sim.model.schedule import WINDOW_WEEKS, default_schedule
from sim.model.state import Streams, World, draw_parameters

__all__ = ["WINDOW_WEEKS", "PeaceModel", "Streams", "draw_parameters", "rules"]

#: Backward-compatible name of :class:`~sim.model.state.Streams`.
_Streams = Streams

M = TypeVar("M", bound=Mechanism)


class PeaceModel(World):
    """Armenia–Azerbaijan peace process over ``worlds`` independent worlds.

    Args:
        params: Validated parameters (:func:`sim.model.params.parse_params`).
        worlds: Number of independent worlds ``W`` >= 1.
        seed: The run's seed, an integer >= 0.
        horizon_weeks: Weeks to simulate (one step is one week).
        block: Index of this block of worlds within a larger run (separates streams).
        trace: Record the table, positions and decisions every week (for small ``W``).
        fixed_draws: Per-world values of distributed parameters (dotted key -> ``W``
            values) used instead of drawing them; every key must be a distribution of
            ``params`` (see :func:`~sim.model.state.draw_parameters`).
        weekly: Also keep every world's weekly reports (per side) and fatalities, whatever
            its status (:attr:`weekly`; the backtest counts them over dated windows).
        schedule: The mechanisms to run each week, in order (default:
            :func:`~sim.model.schedule.default_schedule`). A mechanism added here
            appears in :func:`sim.experiment.api.collect`'s tables through its
            declarations alone.

    Attributes:
        schedule: The mechanisms, in the order they run.
        series: Each declared series, ``name -> (H, W)`` float32 (NaN once a world is
            absorbed).
        counts: Worlds signed / escalated / government fallen / active, ``name -> (H,)``.
    """

    def __init__(self, params: ModelSpec, worlds: int = 1, seed: int = 0,
                 horizon_weeks: int = 156, block: int = 0, trace: bool = False,
                 fixed_draws: dict[str, np.ndarray] | None = None, weekly: bool = False,
                 schedule: Sequence[Mechanism] | None = None):
        super().__init__(params, worlds, seed, horizon_weeks, block, fixed_draws)
        W, H = self.W, self.horizon
        #: with ``weekly=True``: ``reports.<side>`` and ``fatalities``, ``(H, W)`` each,
        #: counted in every world whatever its status (the border does not stop)
        if weekly:
            self.weekly = {"fatalities": np.zeros((H, W), dtype=np.int32)}
        self.schedule: list[Mechanism] = (default_schedule() if schedule is None
                                          else list(schedule))
        names = [m.name for m in self.schedule]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup or "" in names:
            raise ValueError(f"schedule: every mechanism needs its own name, got {names}")
        for mech in self.schedule:
            mech.setup(self)
        self.declared_series: tuple[Series, ...] = tuple(
            s for mech in self.schedule for s in mech.series)
        self.series = {s.name: np.zeros((H, W), dtype=np.float32)
                       for s in self.declared_series}
        self.counts = {k: np.zeros(H, dtype=np.int64)
                       for k in ("signed", "escalated", "government_fell", "active")}
        self.trace_on = trace
        self.trace: dict[str, list] = defaultdict(list)

    def mechanism(self, kind: type[M]) -> M:
        """The scheduled mechanism of class ``kind``."""
        for mech in self.schedule:
            if isinstance(mech, kind):
                return mech
        raise KeyError(f"no {kind.__name__} in the schedule")

    # ------------------------------------------------------------------ the week
    def step(self) -> None:
        """Advance every world by one week: run the schedule, then record."""
        t = self.week
        act = self.status == Status.ACTIVE
        self.active = act
        held = [mech.hold(self) for mech in self.schedule]
        for mech in self.schedule:
            mech.step(self, t)
        # absorbed worlds keep their state from the moment they were absorbed
        if not act.all():
            done = ~act
            for mech, h in zip(self.schedule, held, strict=True):
                mech.restore(self, h, done)
        self._record(t, act)
        self.week += 1

    def _record(self, t: int, act: np.ndarray) -> None:
        """Store this week's series.

        Worlds absorbed before the week are recorded as NaN, so that trajectory
        quantiles describe the worlds still in play.
        """
        sr, W = self.series, self.W
        for mech in self.schedule:
            values = mech.record(self, t)
            for s in mech.series:
                v = values[s.name]
                if not (isinstance(v, np.ndarray) and v.shape == (W,)
                        and v.flags.c_contiguous):
                    v = np.ascontiguousarray(np.broadcast_to(v, (W,)))
                # the value (cast to float32) where active, NaN where absorbed: one pass
                kernels.record_row(sr[s.name][t], v, act)
        c = self.counts
        (c["active"][t], c["signed"][t], c["escalated"][t],
         c["government_fell"][t]) = kernels_tables.week_counts(
            act, self.status, int(Status.SIGNED), int(Status.ESCALATION),
            self.domestic.government_fell)
        if self.trace_on:
            self._trace_week()

    def _trace_week(self) -> None:
        """Append this week's detail of every world to :attr:`trace`."""
        tr = self.trace
        tr["table"].append(self.table.copy())
        for s in self.signatories:
            tr[f"position.{s.name}"].append(s.y.copy())
            tr[f"margin.{s.name}"].append(s.margin.copy())
            tr[f"reservation.{s.name}"].append(s.r.copy())
            tr[f"accept.{s.name}"].append(s.accept.copy())
        tr["fatalities"].append(self.border.fatalities.copy())
        tr["contested"].append(self.border.contested & (self.border.count > 0))
        tr["stage"].append(self.domestic.stage.copy())
        tr["event"].append(self.domestic.event.copy())
        tr["status"].append(self.status.copy())
        for med in self.mediators:
            tr[f"attention.{med.name}"].append(med.attention.copy())
            tr[f"monitors.{med.name}"].append(med.monitors_active.copy())

    def run(self) -> PeaceModel:
        """Run to the horizon and return ``self``."""
        for _ in range(self.horizon):
            self.step()
        return self

    def release(self) -> None:
        """Drop this model's state now; the model cannot be used afterwards.

        Mesa's agents and event list refer back to the model, so a finished model is
        freed only by Python's cyclic collector, at a time of its choosing: a streamed
        run held one to three finished blocks' arrays at once, so its peak grew with
        the number of blocks it ran (issue 20), and a full collection costs about 0.3 s
        in a process with the model's libraries loaded. Clearing the attributes frees
        the arrays by reference counting at once; only the small cycle is left to the
        collector. :func:`sim.experiment.api.simulate` calls this once the tables are
        built.
        """
        self.__dict__.clear()
