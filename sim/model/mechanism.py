"""The mechanism interface: what one submodel of the weekly schedule declares and does.

A :class:`Mechanism` is one process of the model (ODD's "submodels"): the calendar,
border incidents, perceptions, outside powers, the negotiation table, decisions,
the domestic track, signing, escalation. :class:`~sim.model.model.PeaceModel` keeps an
ordered list of them, its *schedule*, and each week calls every mechanism's
:meth:`~Mechanism.step` in that order (as a Mesa user would step a model's agents, and
as EMA Workbench names a model's outcomes before running it). A mechanism

* names the parameter section it reads (:attr:`~Mechanism.section`, a dotted key of the
  YAML configuration),
* creates its state in :meth:`~Mechanism.setup` (typed attributes of the model or of
  itself; mechanisms read each other's state through those attributes),
* advances every world by one week in :meth:`~Mechanism.step`,
* declares the per-world outputs it produces: weekly :class:`Series` (recorded through
  :meth:`~Mechanism.record`) and final :class:`Column` s of the worlds table (values
  from :meth:`~Mechanism.columns`).

:func:`sim.experiment.api.collect` builds the worlds and weekly tables from these
declarations alone, and :mod:`sim.model.outputs` lists them with their metadata for the
figures, the dashboard and the memory estimate: a new mechanism with its outputs is one
module plugged into the schedule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from sim.model.state import World


@dataclass(frozen=True)
class Output:
    """A declared per-world output.

    Attributes:
        name: Column or series name. A name with a ``{placeholder}`` (``terms.{issue}``,
            ``reports.{side}``) is a family: one column per issue, signatory, flag...
        dtype: NumPy dtype of the values (``"float32"``, ``"int64"``, ``"bool"``; ``"str"``
            for text, stored as Python objects).
        meaning: What the value is.
        unit: Unit or range (``"weeks"``, ``"[0, 1]"``, ``"-1 if never"``).
        label: Display name (plot titles, tables).
        axis: Axis label with units (figures).
    """

    name: str
    dtype: str
    meaning: str
    unit: str = ""
    label: str = ""
    axis: str = ""

    @property
    def itemsize(self) -> int:
        """Bytes of one value (a text value counts as one object reference)."""
        return 8 if self.dtype == "str" else np.dtype(self.dtype).itemsize

    @property
    def is_family(self) -> bool:
        """The name holds a placeholder: one output per issue, side, flag..."""
        return "{" in self.name

    def matches(self, name: str) -> bool:
        """Whether ``name`` is this output (or a member of this family)."""
        if not self.is_family:
            return name == self.name
        return _pattern(self.name).fullmatch(name) is not None


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile(".+".join(re.escape(p) for p in parts))


@dataclass(frozen=True, kw_only=True)
class Series(Output):
    """A per-world quantity recorded every week (``(H, W)`` ``float32``).

    The weekly table holds its 10/50/90 % quantiles and its mean over the worlds still
    active each week (``<name>_q10`` ... ``<name>_mean``); traces hold every value.

    Attributes:
        rate: A count per week: the weekly table also holds ``<name>_sq_mean`` (mean
            squared count over active worlds), for the interval of the mean rate.
    """

    dtype: str = "float32"
    rate: bool = False

    def bytes_per_world(self, horizon_weeks: int) -> int:
        """Memory one world's series takes over a run of ``horizon_weeks`` weeks."""
        return self.itemsize * horizon_weeks


@dataclass(frozen=True)
class Column(Output):
    """A per-world value of the worlds table (one row per world)."""

    def bytes_per_world(self, horizon_weeks: int = 0) -> int:
        """Memory one world's value takes (a family counts each member separately)."""
        return self.itemsize


class Mechanism:
    """One submodel of the weekly schedule (see the module docstring).

    Subclasses set :attr:`name`, :attr:`section` and their declarations, and override
    :meth:`step`; :meth:`setup`, :meth:`record`, :meth:`columns`, :meth:`hold` and
    :meth:`restore` default to doing nothing.

    Attributes:
        name: Stable name of the mechanism (also its place in traces and docs).
        section: Dotted parameter section it reads (``"incidents"``, ``"domestic"``;
            ``""`` for none).
        series: Weekly per-world series it records.
        outputs: Columns of the worlds table it produces.
    """

    name: ClassVar[str] = ""
    section: ClassVar[str] = ""
    series: ClassVar[tuple[Series, ...]] = ()
    outputs: ClassVar[tuple[Column, ...]] = ()

    def setup(self, model: World) -> None:
        """Create this mechanism's state for every world (called once, in schedule order)."""

    def step(self, model: World, t: int) -> None:
        """Advance every world by one week (week index ``t``)."""
        raise NotImplementedError

    def record(self, model: World, t: int) -> Mapping[str, Any]:
        """This week's value of each declared series, by name (after every step)."""
        return {}

    def columns(self, model: World) -> Mapping[str, Any]:
        """The worlds table's columns this mechanism declares, by name (after the run)."""
        return {}

    def hold(self, model: World) -> Any:
        """State to keep for worlds absorbed before this week (taken before any step)."""
        return None

    def restore(self, model: World, held: Any, done: np.ndarray) -> None:
        """Put back the state of absorbed worlds ``done`` from :meth:`hold` (after the week)."""


def declared(name: str, outputs: tuple[Output, ...]) -> Output | None:
    """The declaration among ``outputs`` that ``name`` is, or ``None``."""
    for o in outputs:
        if o.matches(name):
            return o
    return None
