"""The model's named codes: one enum per kind of state that is stored as a small integer.

Per-world state arrays hold these codes as integers (``np.int8`` / ``np.int64``), so the
vectorised rules stay plain NumPy; every comparison and assignment names the member
(``status == Status.SIGNED``), never a bare number. ``IntEnum`` members compare and
broadcast as the integers they stand for, so the stored values (and every outcome) are
those of the bare codes they replace.

The outcome classes a world ends in, in reporting order and with their display labels,
are :data:`OUTCOMES` (one table, read by :func:`sim.experiment.api.collect`, the summary,
the report and the figures).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np


class Status(IntEnum):
    """A world's status (``PeaceModel.status``): running, or absorbed by one outcome."""

    ACTIVE = 0
    SIGNED = 1
    ESCALATION = 2


class EscalationKind(IntEnum):
    """How an escalation came about (``PeaceModel.escalation_kind``)."""

    NONE = 0
    INCIDENTS = 1   # incident-driven tension tipped over
    COERCION = 2    # a coercive attack pressing unmet stated demands (7.12)

    @property
    def label(self) -> str:
        """The name written in the worlds table (``''`` for no escalation)."""
        return "" if self is EscalationKind.NONE else self.name.lower()


class Stage(IntEnum):
    """Stage of the constitutional track (``DomesticArena.stage``)."""

    DRAFTING = 0
    CAMPAIGN = 1
    PASSED = 2
    COOLDOWN = 3
    ABANDONED = 4

    @property
    def label(self) -> str:
        """Display name of the stage (one world's timeline)."""
        return _STAGE_LABELS[self]


_STAGE_LABELS = {Stage.DRAFTING: "drafting", Stage.CAMPAIGN: "referendum campaign",
                 Stage.PASSED: "constitution changed",
                 Stage.COOLDOWN: "cool-down after a failure",
                 Stage.ABANDONED: "track abandoned"}

#: Stages an initial state may name (``domestic.constitution.stage`` in YAML).
INITIAL_STAGES = {"drafting": Stage.DRAFTING, "passed": Stage.PASSED,
                  "abandoned": Stage.ABANDONED}


class DomesticEvent(IntEnum):
    """What happened on the domestic track in a world this week (``DomesticArena.event``)."""

    NONE = 0
    DRAFT_SENT = 1
    VOTE_FAILED = 2
    REFERENDUM_PASSED = 3
    REFERENDUM_FAILED = 4
    ELECTION_HELD = 5
    ELECTION_LOST = 6
    GOVERNMENT_FELL = 7
    TEXT_REJECTED = 8
    EARLY_ELECTION = 9
    VOTE_POSTPONED = 10
    REFERENDUM_POSTPONED = 11

    @property
    def label(self) -> str:
        """The event as a trace names it (``''`` for none)."""
        return _EVENT_LABELS[self]


_EVENT_LABELS = {
    DomesticEvent.NONE: "",
    DomesticEvent.DRAFT_SENT: "draft sent to referendum",
    DomesticEvent.VOTE_FAILED: "two-thirds vote failed",
    DomesticEvent.REFERENDUM_PASSED: "referendum passed",
    DomesticEvent.REFERENDUM_FAILED: "referendum failed",
    DomesticEvent.ELECTION_HELD: "election held",
    DomesticEvent.ELECTION_LOST: "government lost election",
    DomesticEvent.GOVERNMENT_FELL: "government fell",
    DomesticEvent.TEXT_REJECTED: "referendum passed; Baku rejects the text",
    DomesticEvent.EARLY_ELECTION: "deadlock; snap election called",
    DomesticEvent.VOTE_POSTPONED: "two-thirds vote postponed (votes short)",
    DomesticEvent.REFERENDUM_POSTPONED: "referendum postponed (expected to fail)",
}


class Strategy(IntEnum):
    """The opposition's strategy at a world's last referendum (``DomesticArena.strategy``)."""

    NONE = 0          # no referendum held yet
    CAMPAIGN_NO = 1
    BOYCOTT = 2


@dataclass(frozen=True)
class OutcomeClass:
    """One class a world's story ends in.

    Attributes:
        name: The value of the ``outcome`` column (``signed``, ``escalation``...).
        label: Display name (tables, figure legends).
        meaning: What puts a world in this class.
    """

    name: str
    label: str
    meaning: str


#: The outcome classes in reporting order. The first that applies wins: a world that
#: signed or escalated is absorbed; one whose government fell and that neither signed nor
#: escalated is ``government_fell``; the rest are ``stalemate`` at the horizon.
OUTCOMES: tuple[OutcomeClass, ...] = (
    OutcomeClass("signed", "Signed", "the treaty was signed within the horizon"),
    OutcomeClass("escalation", "Escalation", "an armed escalation within the horizon"),
    OutcomeClass("government_fell", "Government fell",
                 "the Armenian government fell and nothing was signed"),
    OutcomeClass("stalemate", "Stalemate at horizon", "none of the above"),
)
#: Names of :data:`OUTCOMES`, in reporting order.
OUTCOME_NAMES: tuple[str, ...] = tuple(o.name for o in OUTCOMES)


def classify(status: np.ndarray, government_fell: np.ndarray) -> np.ndarray:
    """Each world's outcome class (a name of :data:`OUTCOMES`), ``(W,)`` text."""
    signed, escalation, fell, stalemate = OUTCOME_NAMES
    return np.where(status == Status.SIGNED, signed,
                    np.where(status == Status.ESCALATION, escalation,
                             np.where(government_fell, fell, stalemate)))
