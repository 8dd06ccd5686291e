"""The actors as Mesa agents, each holding the state of every world.

Every array attribute has a leading world axis: ``(W,)`` for a scalar state and
``(W, K)`` for a point over the K issues. Parameters are already drawn per world (a float
when constant across worlds, an array of shape ``(W,)`` when drawn from a
distribution), so the same code serves one world and a hundred thousand.

Roles (``role:`` in YAML) map to classes here: ``signatory``, ``mediator``, ``spoiler``,
``opposition``. Adding an actor with an existing role is a YAML change only.
"""

from __future__ import annotations

from typing import Protocol

import mesa
import numpy as np

from sim.model import kernels, rules
from sim.model.calendar import Calendar
from sim.model.params import (
    ActorBase,
    DrawnParams,
    MediatorParams,
    OppositionParams,
    SignatoryParams,
    SpoilerParams,
)

#: Drawn parameters: every numeric leaf is a per-world array ``(W,)``.
A = np.ndarray


class ActorWorld(Protocol):
    """What the actors read of the world they live in (:class:`sim.model.state.World`).

    Declared here so that this module imports nothing above it (the world imports the
    actors, never the other way round).
    """

    W: int
    week: int
    issues: tuple[str, ...]
    p: DrawnParams
    table: np.ndarray
    text_mask: np.ndarray
    tension: np.ndarray
    spoiling: np.ndarray
    westernness: np.ndarray
    military_advantage: np.ndarray
    commitment: np.ndarray
    active: np.ndarray
    calendar: Calendar
    streams: dict[str, np.random.Generator]
    opposition: Opposition | None
    opposition_table_utility: np.ndarray | None
    mediators: list[Mediator]
    spoilers: list[Spoiler]


def per_world(v, W: int) -> np.ndarray:
    """A parameter (a float, or a ``(W,)`` draw) as a contiguous float ``(W,)`` array.

    A float becomes a new array; a contiguous float ``(W,)`` array a read-only view of
    itself (what ``broadcast_to`` gives, without its 2 us a call: this is called some
    forty times a week).
    """
    if (type(v) is np.ndarray and v.dtype == np.float64 and v.shape == (W,)
            and v.flags.c_contiguous):
        a = v.view()
        a.flags.writeable = False
        return a
    a = np.asarray(v, dtype=float)
    return np.ascontiguousarray(np.broadcast_to(a, (W,)))


def term_arrays(terms: list[tuple[int, float, float]]) -> tuple[np.ndarray, np.ndarray,
                                                                np.ndarray]:
    """Terms ``[(k, lo, hi)]`` as three arrays: issue indices, lower and upper bounds."""
    return (np.array([t[0] for t in terms], dtype=np.int64),
            np.array([t[1] for t in terms], dtype=float),
            np.array([t[2] for t in terms], dtype=float))


def issue_matrix(values: dict, issues: tuple[str, ...], W: int) -> np.ndarray:
    """Stack per-issue parameters (floats or ``(W,)`` draws) into a ``(W, K)`` array."""
    out = np.empty((W, len(issues)))
    for k, name in enumerate(issues):
        out[:, k] = values[name]
    return out


class Actor(mesa.Agent):
    """Any actor: ideal points, saliences, capability and a utility over packages.

    Attributes:
        name: Config key of the actor (``armenia``, ``russia``...).
        p: The actor's parameters, drawn per world.
        x: Ideal points, ``(W, K)``.
        s: Raw saliences, ``(W, K)``.
        w: Saliences normalised to sum to one over issues, ``(W, K)``.
        rho: Loss exponent of the utility (1 linear, 2 quadratic).
    """

    model: ActorWorld
    p: ActorBase[A]

    def __init__(self, model: ActorWorld, name: str, p: ActorBase[A]):
        super().__init__(model)
        W, issues = model.W, model.issues
        self.name = name
        self.p = p
        self.x = issue_matrix(p.position, issues, W)
        self.s = issue_matrix(p.salience, issues, W)
        self.w = rules.normalise_salience(self.s)
        self.rho = float(p.loss_exponent)
        self.capability = p.capability.copy()

    def utility(self, package: np.ndarray) -> np.ndarray:
        """Utility of ``package`` (``(W, K)``) to this actor in every world."""
        return rules.utility(package, self.x, self.w, self.rho)

    def table_weights(self) -> np.ndarray:
        """Weight ``c_i * s_ik * table_weight_i`` of this actor in the compromise rule."""
        return (self.capability * self.p.table_weight)[:, None] * self.s


class Signatory(Actor):
    """Armenia or Azerbaijan: concedes toward the table, accepts or holds, signs.

    State per world: the stated position ``y`` (on the treaty-text issues it starts
    between the ideal and the initial text; on the open side issues at the ideal, since
    nothing there has been conceded yet), the reservation value ``r`` (utility of no
    deal), the last acceptance margin and decision, and the side's reopening clock.
    """

    p: SignatoryParams[A]

    def __init__(self, model: ActorWorld, name: str, p: SignatoryParams[A]):
        super().__init__(model, name, p)
        W = model.W
        c0 = p.initial_concession[:, None] * model.text_mask[None, :]
        self.y = self.x + c0 * (model.table - self.x)
        # reopening the initialled text: a weekly hazard h while this side holds, drawn
        # as one pre-drawn exponential threshold per world (the first and only attempt)
        self.reopen_rate = -np.log1p(-np.minimum(p.reopen_hazard, 1.0 - 1e-12))
        self.reopen_load = np.zeros(W)
        self.r = np.zeros(W)
        self.margin = np.zeros(W)
        self.accept = np.zeros(W, dtype=bool)
        self.concedes = np.zeros(W, dtype=bool)  # holds on its own terms (decide)
        self.domestic = bool(p.domestic_politics)
        self.red_lines = [(model.issues.index(k), lo, hi) for k, (lo, hi) in p.red_lines.items()]
        #: terms this side has demanded in the record, ``[(k, lo, hi)]`` (7.2, 7.12)
        self.demands = [(model.issues.index(k), lo, hi)
                        for k, (lo, hi) in p.stated_demands.items()]
        self.rate = per_world(p.concession_rate * (1.0 - p.patience), W)
        # the same terms as arrays, for the kernels
        self._lines = term_arrays(self.red_lines)
        self._terms = term_arrays(self.demands)
        #: scratch utilities of :meth:`decide`'s kernels, ``(3, W)`` (kept, not re-made)
        self._u = np.empty((3, W))
        self._cand = np.empty_like(self.x)  # :meth:`concede`'s candidate positions

    # -- stated demands ---------------------------------------------------------
    def term_shortfalls(self, package: np.ndarray) -> np.ndarray:
        """How far ``package`` falls short of each stated term demand, ``(n, W)`` in [0, 1].

        A demand ``{min: d}`` falls short by ``(d - P_k) / d`` when ``P_k < d``, a demand
        ``{max: d}`` by ``(P_k - d) / (1 - d)`` when ``P_k > d``: 0 when met, 1 when the
        package sits at the far end of the scale (:func:`kernels.term_shortfalls`).
        """
        dk, dlo, dhi = self._terms
        return kernels.term_shortfalls(np.ascontiguousarray(package, dtype=float), dk, dlo, dhi)

    def restate_demands(self, idx: np.ndarray) -> None:
        """On reopening, the stated position moves to meet this side's stated demands.

        ``y_k <- clip(y_k, min_k, max_k)`` on each issue with a stated demand, in worlds
        ``idx``; issues without one keep their stated position (nothing new is asked).
        """
        for k, lo, hi in self.demands:
            self.y[idx, k] = np.clip(self.y[idx, k], lo, hi)

    # -- reservation value ------------------------------------------------------
    def update_reservation(self) -> None:
        """``r = r0 + m_i * advantage + tp * years + sum spoil costs - sum incentives``."""
        m = self.model
        adv = m.military_advantage if not self.domestic else -m.military_advantage
        r = (self.p.reservation + self.p.military_weight * adv
             + self.p.time_pressure * (m.week / 52.0))
        for sp in m.spoilers:
            r = r + sp.p.signing_cost[self.name] * sp.sigma
        for med in m.mediators:
            inc = med.p.incentives[self.name] * med.attention
            if not self.domestic:
                inc = inc * (1.0 - med.p.gas_dependence)
            r = r - inc
        self.r = np.clip(r, 0.0, 1.0)

    # -- evaluation -------------------------------------------------------------
    def _two_level(self) -> tuple[bool, np.ndarray, np.ndarray, float, np.ndarray,
                                  np.ndarray]:
        """``(dom, ox, ow, orho, dw, m)``: the opposition's terms of :meth:`value`.

        Without domestic politics (or an opposition) ``dom`` is false and the arrays are
        placeholders of the right types, never read.
        """
        opp = self.model.opposition
        if self.domestic and opp is not None:
            W = self.model.W
            return (True, opp.x, opp.w, opp.rho, per_world(opp.p.domestic_weight, W),
                    per_world(opp.m, W))
        return False, self.x, self.w, self.rho, self.r, self.r

    def value(self, package: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """Utility the side weighs a package by (:func:`kernels.value`).

        For the domestic-politics side this is the two-level game's effective utility:
        its own utility minus ``domestic_weight * mobilisation`` times the opposition's
        loss from the package.

        Args:
            package: Packages, ``(W, K)`` (or ``(len(idx), K)`` with ``idx``).
            idx: Evaluate only these worlds.
        """
        rows = (np.arange(self.model.W) if idx is None
                else np.asarray(idx, dtype=np.int64))
        return kernels.value(np.ascontiguousarray(package, dtype=float), self.x, self.w,
                             self.rho, *self._two_level(), rows)

    def decide(self, package: np.ndarray, noise: np.ndarray) -> None:
        """Accept or hold (:func:`kernels.decide_own`, :func:`kernels.decide_two_level`).

        Accept when ``value - r - commitment - patience * demand + noise >= 0`` (the
        demand: how far the side's stated position is worth more than that floor) and the
        package respects every red line (an indivisible issue is not traded off).
        ``commitment`` is the model's commitment cost this week: ``commitment_cost * (1 -
        trust)`` reduced by the mediators' guarantees
        (:meth:`sim.model.state.World.commitment_cost`).

        Two-level game (Putnam 1988): the domestic-politics side concedes only where it
        holds on its own terms (its own utility, no domestic cost). Where it holds only
        because the package costs it too much at home, conceding would move it further
        from what it can sell at home: it stands firm instead (tied hands, Schelling 1960).
        """
        m = self.model
        W = m.W
        self.margin = np.empty(W)
        self.accept = np.empty(W, dtype=bool)
        self.concedes = np.empty(W, dtype=bool)
        pkg = np.ascontiguousarray(package, dtype=float)
        r, c = per_world(self.r, W), per_world(m.commitment, W)
        pat, sd = per_world(self.p.patience, W), per_world(self.p.acceptance_noise, W)
        z = per_world(noise, W)
        rk, rlo, rhi = self._lines
        dom, ox, ow, orho, dw, mob = self._two_level()
        if dom:
            assert m.opposition_table_utility is not None  # the world caches it
            kernels.decide_two_level(pkg, self.x, self.w, self.rho, self.y, r, c, pat, sd,
                                     z, rk, rlo, rhi, ox, ow, orho, dw, mob,
                                     per_world(m.opposition_table_utility, W),
                                     self.margin, self.accept, self.concedes, self._u)
        else:
            kernels.decide_own(pkg, self.x, self.w, self.rho, self.y, r, c, pat, sd, z,
                               rk, rlo, rhi, self.margin, self.accept, self.concedes,
                               self._u)

    def concede(self, package: np.ndarray) -> None:
        """Move the stated position toward the table unless that is worth less than r.

        Only worlds where this side holds on its own terms (``concedes``, set by
        :meth:`decide`) and that are still running concede: for the counterpart, where it
        did not accept; for the domestic-politics side, where it would not have accepted
        even without the domestic cost (a refusal for the domestic cost alone leads to no
        concession: docs/model.md 7.5). The domestic-politics side's position is first
        pulled back toward its own ideal in proportion to mobilisation: concessions are
        retracted under domestic pressure (Putnam's two-level game). The step is
        ``y + rate * (package - y)`` (:func:`kernels.concede`).
        """
        m = self.model
        W = m.W
        dom, ox, ow, orho, dw, mob = self._two_level()
        pull = (per_world(m.opposition.p.position_pull * mob, W)
                if dom and m.opposition is not None else self.r)
        hold = self.concedes & m.active
        if not dom and not hold.any():
            return
        kernels.concede(self.y, self.x, self.w, self.rho,
                        np.ascontiguousarray(package, dtype=float), self.rate, hold,
                        per_world(self.r, W), dom, ox, ow, orho, dw, mob, pull, self._cand,
                        self._u)

    def become_successor(self, mask: np.ndarray) -> None:
        """A successor government takes over in ``mask`` worlds.

        Its ideal and stated positions move toward the opposition's ideal by
        ``successor_similarity``.
        """
        opp = self.model.opposition
        if opp is None or not mask.any():
            return
        idx = np.flatnonzero(mask)
        phi = self.model.p.domestic.government.successor_similarity[idx][:, None]
        self.x[idx] += phi * (opp.x[idx] - self.x[idx])
        self.y[idx] += phi * (opp.x[idx] - self.y[idx])


class Mediator(Actor):
    """An outside broker: attention, incentives, a guarantee, optional border monitors.

    Incentives lower the signatories' reservation values; the guarantee lowers the
    commitment cost (:meth:`sim.model.state.World.commitment_cost`).
    """

    p: MediatorParams[A]

    def __init__(self, model: ActorWorld, name: str, p: MediatorParams[A]):
        super().__init__(model, name, p)
        W = model.W
        self.attention = p.attention.copy()
        self.monitors_active = np.zeros(W, dtype=bool)
        self.mandate_end_week = np.full(W, -1.0)
        if p.monitors is not None:
            # the mandate's end is a dated event of the calendar (state.events); its
            # renewal a dated or pending event with renews_mandate (drawn per world)
            self.mandate_end_week = model.calendar.mandate_end_weeks(name)
            self.monitors_active = model.week < self.mandate_end_week

    def act(self) -> None:
        """Attention moves toward ``floor + (1 - floor) * crisis * tension``."""
        target = self.p.attention_floor + (1.0 - self.p.attention_floor) * np.minimum(
            1.0, self.p.crisis_attention * self.model.tension)
        self.attention = self.attention + self.p.attention_fade * (target - self.attention)

    def update_monitors(self) -> None:
        """Monitors are present while their (possibly renewed) mandate lasts."""
        if self.p.monitors is not None:
            self.monitors_active = self.model.week < self.mandate_end_week

    def table_weights(self) -> np.ndarray:
        """Mediators weigh in with their current attention."""
        return (self.capability * self.p.table_weight * self.attention)[:, None] * self.s


class Spoiler(Actor):
    """An outside power that loses from a deal brokered without it.

    ``sigma = strength (1 - inclusion) clip(e * westernness + a * alignment
    + t * (1 - U(table)) + pressure, 0, 1)``, where ``pressure`` is the sum of the
    ``spoiler_pressure`` of the calendar's events that have fired and, where its pending
    decision (``suspension``: the EAEU report on suspending Armenia) went against
    Armenia, ``suspension.pressure``. Its levers (docs/model.md, 7.9): the signatories'
    reservation values (``signing_cost * sigma``), incidents and mobilisation (through
    ``World.spoiling``), and the government's survival (:meth:`fall_hazard`).
    """

    p: SpoilerParams[A]

    def __init__(self, model: ActorWorld, name: str, p: SpoilerParams[A]):
        super().__init__(model, name, p)
        W = model.W
        self.sigma = np.zeros(W)
        self.pressure = np.zeros(W)
        #: the pending decision went against Armenia (drawn when its event fires), (W,)
        self.suspended = np.zeros(W, dtype=bool)
        self.decided = False
        # one uniform per world, drawn up front (common random numbers)
        self._u_suspension = (model.streams["suspension:" + name].random(W)
                              if p.suspension is not None else None)

    def react(self, pressure) -> None:
        """A calendar event raises this spoiler's drive from now on."""
        self.pressure = self.pressure + pressure

    def decide_suspension(self) -> None:
        """The pending decision is known; where it goes against Armenia, more drive.

        The decision goes against Armenia with prior ``suspension.probability``; there
        the drive rises by ``suspension.pressure``.
        """
        sus = self.p.suspension
        if sus is None or self.decided or self._u_suspension is None:
            return
        self.decided = True
        self.suspended = self._u_suspension < sus.probability
        self.pressure = self.pressure + sus.pressure * self.suspended

    def fall_hazard(self) -> np.ndarray:
        """Weekly hazard this spoiler adds to the Armenian government's fall, ``(W,)``.

        ``survival_hazard * sigma + suspension.fall_hazard * suspended``.
        """
        h = self.p.survival_hazard * self.sigma
        if self.p.suspension is not None:
            h = h + self.p.suspension.fall_hazard * self.suspended
        return h

    def act(self) -> None:
        """Set this week's spoiling intensity."""
        m = self.model
        drive = (self.p.exclusion_weight * m.westernness
                 + self.p.alignment_sensitivity * m.p.state.western_alignment
                 + self.p.terms_weight * (1.0 - self.utility(m.table))
                 + self.pressure)
        self.sigma = self.p.strength * (1.0 - self.p.inclusion) * np.clip(drive, 0.0, 1.0)

    def table_weights(self) -> np.ndarray:
        """A spoiler counts at the table only as far as it is included."""
        return (self.capability * self.p.table_weight * self.p.inclusion)[:, None] * self.s


class Opposition(Actor):
    """Armenia's domestic opposition and diaspora: mobilisation.

    ``m' = m + (1 - m) * strength * (cs * max(0, L(table) - tol) + is * damage
    + ss * spoiling) - decay * m`` where ``L = 1 - U_opposition``.
    """

    p: OppositionParams[A]

    def __init__(self, model: ActorWorld, name: str, p: OppositionParams[A]):
        super().__init__(model, name, p)
        self.m = p.mobilisation.copy()

    def update(self, damage: np.ndarray) -> None:
        """Mobilise on concessions on the table, incidents and outside spoiling.

        As the class states (:func:`kernels.mobilise`), in one pass over the worlds.
        """
        m = self.model
        assert m.opposition_table_utility is not None  # the world caches it for us
        W, p = m.W, self.p
        self.m = kernels.mobilise(
            per_world(self.m, W), per_world(m.opposition_table_utility, W),
            per_world(damage, W), per_world(m.spoiling, W), per_world(p.strength, W),
            per_world(p.concession_sensitivity, W), per_world(p.tolerance, W),
            per_world(p.incident_sensitivity, W), per_world(p.spoiler_sensitivity, W),
            per_world(p.decay, W))

    def table_weights(self) -> np.ndarray:
        """The opposition weighs in at the table through the government, not directly."""
        return (self.capability * self.p.table_weight)[:, None] * self.s


ROLE_AGENTS = {"signatory": Signatory, "mediator": Mediator, "spoiler": Spoiler,
               "opposition": Opposition}
