"""The shared state of every world: what the mechanisms of the schedule read and write.

:class:`World` is the Mesa model without its schedule: the drawn parameters, the random
streams, the agents (one per actor) and the typed per-world arrays that more than one
mechanism uses (the table, tension, trust, status...). Each array has a leading world
axis ``W``. :class:`~sim.model.model.PeaceModel` adds the schedule
(:mod:`sim.model.schedule`) and the recording.

Layering (imports go one way): rules, params, dists, rng, codes, calendar, incidents,
domestic, agents <- state <- mechanism modules (schedule) <- model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, cast

import mesa
import numpy as np

from sim.model.agents import ROLE_AGENTS, Mediator, Opposition, Signatory, Spoiler, issue_matrix
from sim.model.calendar import Calendar
from sim.model.codes import EscalationKind, Status
from sim.model.dists import Dist
from sim.model.domestic import DomesticArena
from sim.model.incidents import BorderProcess
from sim.model.params import ANY_OF, SETTABLE_FLAGS, DrawnParams, ModelSpec, Scalar
from sim.model.rng import stream


class Streams(dict[str, np.random.Generator]):
    """Lazily created per-mechanism generators for one (seed, block)."""

    def __init__(self, seed: int, block: int):
        super().__init__()
        self.seed, self.block = seed, block

    def __missing__(self, name: str) -> np.random.Generator:
        g = stream(self.seed, name, self.block)
        self[name] = g
        return g


#: Schema kinds whose values are maps of numeric leaves (issue -> x, signatory -> x...).
_LEAF_MAPS = ("issue_map", "name_map", "actor_map")


def draw_parameters(spec: ModelSpec, W: int, streams: Streams, draws: dict[str, np.ndarray],
                    fixed: dict[str, np.ndarray] | None = None) -> DrawnParams:
    """The parameters of ``W`` worlds: every numeric leaf of ``spec`` as a ``(W,)`` array.

    A :class:`~sim.model.dists.Dist` becomes ``W`` per-world draws, a number a read-only
    ``(W,)`` view of itself (one value in memory; state built from a parameter copies
    it). Each distribution draws from its own stream (``param:<dotted key>``), so
    changing one parameter's distribution leaves every other parameter's draws
    unchanged; keys whose law shares a draw (:meth:`~sim.model.dists.Dist.shared_stream`:
    the rows of one posterior file) take it from that stream, drawn once. Drawn arrays
    are also stored in ``draws`` under their dotted key. A key
    found in ``fixed`` (dotted key -> ``W`` values, e.g. a sensitivity design from
    :mod:`sim.analysis.explore`) takes those values instead of drawing.
    """
    shared: dict[str, np.ndarray] = {}   # a shared stream's draw (a posterior file's rows)

    def leaf(v: Scalar, key: str) -> np.ndarray:
        if isinstance(v, Dist):
            name = v.shared_stream()
            if fixed is not None and key in fixed:
                arr = np.asarray(fixed[key], dtype=float)
            elif name:
                if name not in shared:
                    shared[name] = v.shared_draw(streams[name], W)
                arr = v.from_shared(shared[name])
            else:
                arr = v.sample(streams["param:" + key], W)
            draws[key] = arr
            return arr
        # a constant is a read-only (W,) view of one number: no memory per world, and
        # a rule that wrote into a parameter would fail loudly
        return np.broadcast_to(np.float64(v), (W,))

    def walk(obj: Any, prefix: str) -> Any:
        if isinstance(obj, dict):
            return {k: walk(v, f"{prefix}.{k}") for k, v in obj.items()}
        if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
            return obj
        changes: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            if f.name in ("issues", "issue_labels"):
                continue
            v = getattr(obj, f.name)
            key = f"{prefix}.{f.name}" if prefix else f.name
            kind = f.metadata.get("kind")
            if kind == "num" and f.metadata.get("dist", True):
                changes[f.name] = leaf(v, key)
            elif kind in _LEAF_MAPS:
                changes[f.name] = {k: leaf(x, f"{key}.{k}") for k, x in v.items()}
            else:
                changes[f.name] = walk(v, key)
        return dataclasses.replace(obj, **changes)

    return cast(DrawnParams, walk(spec, ""))


class World(mesa.Model):
    """Every world's shared state (see the module docstring).

    Args:
        params: Validated parameters (:func:`sim.model.params.parse_params`).
        worlds: Number of independent worlds ``W`` >= 1.
        seed: The run's seed, an integer >= 0.
        horizon_weeks: Weeks to simulate (one step is one week).
        block: Index of this block of worlds within a larger run (separates streams).
        fixed_draws: Per-world values of distributed parameters (dotted key -> ``W``
            values) used instead of drawing them; every key must be a distribution of
            ``params`` (see :func:`draw_parameters`).

    Attributes:
        p: The parameters drawn per world (the one parameter object of a model).
        draws: The per-world draws of every distributed parameter, by dotted key.
        table: The package on the table, ``(W, K)``.
        tension_side: Each side's tension (0 the domestic-politics side), ``(2, W)``;
            ``tension`` (their mean) is what outsiders see, ``(W,)``.
        trust, spoiling, westernness, commitment: Shared climate, ``(W,)``.
        mobilisation: The opposition's mobilisation this week (0 without one), ``(W,)``.
        incentive: Attention-weighted incentives offered to the domestic side, ``(W,)``.
        outside_fall_hazard: Weekly hazard of the government's fall that outside powers
            add (Russia's lever on its survival, docs/model.md 7.9), ``(W,)``.
        status: :class:`~sim.model.codes.Status` of each world, ``(W,)`` int8.
        active: Worlds running at the start of this week, ``(W,)``.
        constitution_at_start: The constitution as it stood at the start of this week
            (the table, decisions and preconditions use it), ``(W,)``.
        text_fixed_now: Worlds whose treaty text is fixed this week, ``(W,)``.
        signing_now: Worlds that sign this week, ``(W,)``.
        flags / flag_week: State flags and the first week each held, ``name -> (W,)``.
    """

    def __init__(self, params: ModelSpec, worlds: int = 1, seed: int = 0,
                 horizon_weeks: int = 156, block: int = 0,
                 fixed_draws: dict[str, np.ndarray] | None = None):
        if isinstance(worlds, bool) or not isinstance(worlds, int) or worlds < 1:
            raise ValueError(f"worlds must be a positive integer, got {worlds!r}")
        if isinstance(horizon_weeks, bool) or not isinstance(horizon_weeks, int) \
                or horizon_weeks < 1:
            raise ValueError(f"horizon_weeks must be a positive integer, got {horizon_weeks!r}")
        self.streams = Streams(seed, block)
        super().__init__(rng=self.streams["mesa"])
        self.W = W = worlds
        self.seed, self.block = seed, block
        self.horizon = horizon_weeks
        self.issues: tuple[str, ...] = params.issues
        self.K = len(params.issues)
        self.draws: dict[str, np.ndarray] = {}
        if fixed_draws:
            bad = [k for k, v in fixed_draws.items() if np.shape(v) != (W,)]
            if bad:
                raise ValueError(f"fixed_draws[{bad[0]!r}] must hold {W} values")
        self.p: DrawnParams = draw_parameters(params, W, self.streams, self.draws,
                                              fixed=fixed_draws)
        p = self.p
        unknown = sorted(set(fixed_draws or ()) - set(self.draws))
        if unknown:
            raise ValueError(f"fixed_draws: {', '.join(unknown)} is not a distributed "
                             f"parameter; these are: {', '.join(self.draws) or 'none'}")
        self.start_date: dt.date = params.state.start_date
        self.week = 0

        # shared world state --------------------------------------------------
        self.table = issue_matrix(p.negotiation.initial_table, self.issues, W)
        t0 = p.state.tension.copy()
        self.tension_side = np.stack([t0, t0.copy()])
        self.tension = t0.copy()
        self.trust = p.state.trust.copy()
        self.spoiling = np.zeros(W)
        self.westernness = np.zeros(W)
        self.mobilisation = np.zeros(W)
        self.incentive = np.zeros(W)
        #: weekly fall hazard the spoilers add to the Armenian government's, ``(W,)``
        self.outside_fall_hazard = np.zeros(W)
        self.status = np.full(W, Status.ACTIVE, dtype=np.int8)
        self.active = np.ones(W, dtype=bool)
        self.sign_week = np.full(W, -1, dtype=np.int64)
        self.escalation_week = np.full(W, -1, dtype=np.int64)
        self.escalation_kind = np.full(W, EscalationKind.NONE, dtype=np.int8)
        self.signed_terms = np.full((W, self.K), np.nan)
        self.flags = {f: np.full(W, f in p.state.flags) for f in SETTABLE_FLAGS}
        #: first week each flag held in each world (-1: not yet), ``name -> (W,)``
        self.flag_week = {f: np.full(W, -1, dtype=np.int64) for f in SETTABLE_FLAGS}
        #: issues of the treaty text (fixed while initialled and not reopened), ``(K,)``
        self.text_mask = np.array([k in p.negotiation.text_issues for k in self.issues])
        self.reopened = np.zeros(W, dtype=bool)
        self.reopen_week = np.full(W, -1, dtype=np.int64)
        self.reopened_by = np.full(W, -1, dtype=np.int8)  # index into self.signatories
        self.commitment = np.zeros(W)
        self.constitution_at_start = np.zeros(W, dtype=bool)
        self.text_fixed_now = np.zeros(W, dtype=bool)
        self.signing_now = np.zeros(W, dtype=bool)
        #: weekly per-world counts kept whatever a world's status (``PeaceModel(weekly=)``)
        self.weekly: dict[str, np.ndarray] = {}
        self.calendar = Calendar(p.state.events, self.start_date, p.state.pending_kinds,
                                 self.streams, W)
        self.fired: list[tuple[int, str]] = []
        esc = p.incidents.escalation
        balance = np.clip(esc.military_balance + esc.arms_supply, 0.0, 1.0)
        self.military_advantage = balance - 0.5  # in the counterpart's favour
        self.imbalance = np.abs(balance - 0.5) * 2.0

        # agents: one per actor -------------------------------------------------
        for name, ap in p.actors.items():
            ROLE_AGENTS[ap.role](self, name, ap)
        actors = list(self.agents)
        self.signatories: list[Signatory] = sorted(
            [a for a in actors if isinstance(a, Signatory)], key=lambda a: not a.domestic)
        self.home, self.counterpart = self.signatories
        self.mediators: list[Mediator] = [a for a in actors if isinstance(a, Mediator)]
        self.spoilers: list[Spoiler] = [a for a in actors if isinstance(a, Spoiler)]
        opp = [a for a in actors if isinstance(a, Opposition)]
        self.opposition: Opposition | None = opp[0] if opp else None
        #: the climate at the start, before the first week's incidents: the baselines
        #: of the deputies' tension and mobilisation terms (7.13), ``(W,)`` each
        self.tension_at_start = self.tension.copy()
        self.mobilisation_at_start = (self.opposition.m.copy() if self.opposition is not None
                                      else np.zeros(W))
        self.border = BorderProcess(p.incidents, W, self.streams["incidents"],
                                    self.streams["severity"],
                                    (self.home.name, self.counterpart.name))
        self.border.h = p.state.excitation.copy()
        self.domestic = DomesticArena(p.domestic, self.start_date, W, self.streams)
        lock = p.domestic.constitution.locks_issue
        self.lock_index = self.issues.index(lock) if lock else None
        self.linked = sorted({f for s in self.signatories for f in s.p.linkages})
        self.opposition_table_utility: np.ndarray | None = None
        self.cache_opposition_utility()

    # ------------------------------------------------------------------ queries
    def cache_opposition_utility(self) -> None:
        """The opposition's utility of the current table (used by several rules)."""
        if self.opposition is not None:
            self.opposition_table_utility = self.opposition.utility(self.table)

    def text_fixed(self) -> np.ndarray:
        """Worlds whose treaty text is initialled and not reopened, ``(W,)``."""
        return self.flags["initialled"] & ~self.reopened

    def commitment_cost(self) -> np.ndarray:
        """This week's commitment cost ``kappa (1 - trust) prod_j (1 - g_j a_j)``.

        Fearon's (1995) commitment problem, discounted by distrust; each mediator's
        guarantee ``g_j`` at attention ``a_j`` removes a share of it (third-party
        guarantees, Walter 1997).
        """
        c = self.p.negotiation.commitment_cost * (1.0 - self.trust)
        for med in self.mediators:
            c = c * (1.0 - med.p.guarantee * med.attention)
        return c

    def flag(self, name: str, constitution_changed: np.ndarray | None = None) -> np.ndarray:
        """Value of a state flag in every world.

        Args:
            name: The flag.
            constitution_changed: The constitutional flag to use (by default, now).
        """
        if ANY_OF in name:  # a precondition with alternatives: either flag
            out = np.zeros(self.W, dtype=bool)
            for alt in name.split(ANY_OF):
                out |= self.flag(alt, constitution_changed)
            return out
        if name == "constitution_changed":
            if constitution_changed is not None:
                return constitution_changed
            return self.domestic.constitution_changed
        return self.flags[name]
