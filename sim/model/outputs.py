"""The registry of the model's declared outputs: every series and worlds-table column.

Each mechanism of the schedule declares what it produces
(:class:`~sim.model.mechanism.Series`, :class:`~sim.model.mechanism.Column`, with dtype,
meaning, unit or range and display label); this module lists those declarations for
the default schedule (or any other), with the few columns every run has whatever its
mechanisms (``world``, the drawn parameters ``param.<key>``, the ``outcome`` class).
Figures, the dashboard and the memory estimate read names, labels and sizes here
instead of keeping lists of their own; :func:`sim.experiment.api.collect` builds the
tables from the same declarations.

>>> from sim.model import outputs
>>> outputs.series_names()[:2]
('incidents', 'reports_home')
>>> outputs.series_named("tension").label
'Tension'
>>> outputs.column_named("terms.border_delimitation").dtype
'float64'
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.model.codes import OUTCOME_NAMES
from sim.model.mechanism import Column, Mechanism, Series, declared
from sim.model.schedule import default_schedule

#: Columns of every worlds table, before the mechanisms' own.
BASE_COLUMNS: tuple[Column, ...] = (
    Column("world", "int64", "world id (offset by block x worlds in a run of blocks)",
           "id", "World"),
    Column("param.{key}", "float64", "the world's draw of a distributed parameter",
           "the key's range", "Drawn parameter"),
    Column("outcome", "str", "the outcome class: " + ", ".join(OUTCOME_NAMES), "",
           "Outcome"),
)


def _schedule(schedule: Sequence[Mechanism] | None) -> Sequence[Mechanism]:
    return default_schedule() if schedule is None else schedule


def series(schedule: Sequence[Mechanism] | None = None) -> tuple[Series, ...]:
    """Declared weekly series, in schedule order."""
    return tuple(s for m in _schedule(schedule) for s in m.series)


def series_names(schedule: Sequence[Mechanism] | None = None) -> tuple[str, ...]:
    """Names of :func:`series`."""
    return tuple(s.name for s in series(schedule))


def columns(schedule: Sequence[Mechanism] | None = None) -> tuple[Column, ...]:
    """Declared columns of the worlds table: :data:`BASE_COLUMNS`, then each mechanism's."""
    return BASE_COLUMNS + tuple(c for m in _schedule(schedule) for c in m.outputs)


def series_named(name: str, schedule: Sequence[Mechanism] | None = None) -> Series:
    """The declaration of series ``name``.

    Raises:
        KeyError: No mechanism declares it.
    """
    for s in series(schedule):
        if s.name == name:
            return s
    raise KeyError(f"no mechanism declares a series {name!r}")


def column_named(name: str, schedule: Sequence[Mechanism] | None = None) -> Column:
    """The declaration ``name`` is (a column, or a member of a family like ``terms.*``).

    Raises:
        KeyError: No mechanism declares it.
    """
    found = declared(name, columns(schedule))
    if not isinstance(found, Column):
        raise KeyError(f"no mechanism declares a column {name!r}")
    return found


def bytes_per_world(horizon_weeks: int, schedule: Sequence[Mechanism] | None = None,
                    ) -> dict[str, int]:
    """Memory each declared output takes per world (a family: per member).

    Series take ``horizon_weeks`` values per world; a column one.
    """
    out: dict[str, int] = {s.name: s.bytes_per_world(horizon_weeks)
                           for s in series(schedule)}
    out.update({c.name: c.bytes_per_world() for c in columns(schedule)})
    return out
