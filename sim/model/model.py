"""The peace-process model: a Mesa model that steps many independent worlds at once.

One :class:`PeaceModel` holds ``W`` worlds. Every state array has a leading world axis and
worlds never read each other's state, so ``W = 1`` is the ordinary single-run model and
``W = 100_000`` an ensemble, with one set of rules. Each week runs, in order:

0. the calendar: dated events due this week change the state (flags, mandates, spoilers);
1. border incidents (a latent Hawkes process, seen through each side's reports);
2. perception updates: each side's tension, trust, opposition mobilisation, public support;
3. external powers act: mediators' attention and monitors, spoilers' intensity;
4. signatories' reservation values;
5. the mediator tables a package (compromise or Nash rule, with inertia) on the open
   issues: the side issues, and the treaty text unless it is initialled and not reopened;
6. each signatory accepts or holds, those holding concede toward the table, and a side
   that holds may reopen the initialled text;
7. the domestic track: parliament, referendum, elections, government survival;
8. preconditions and linkages are checked and the treaty is signed where all hold;
9. escalation (absorbing) may occur: from incidents (each side's tension) or coercion
   (the corridor gap and the military balance).

See ``docs/model.md`` for the equations and the sources of every default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict

import mesa
import numpy as np

from sim.model import rules
from sim.model.agents import ROLE_AGENTS, Mediator, Opposition, Signatory, Spoiler, issue_matrix
from sim.model.calendar import Calendar
from sim.model.dists import Dist
from sim.model.domestic import DomesticArena
from sim.model.incidents import BorderProcess
from sim.model.params import SETTABLE_FLAGS, ModelParams
from sim.model.rng import stream

ACTIVE, SIGNED, ESCALATION = 0, 1, 2
#: How an escalation came about (``escalation_kind``): none, from incident-driven
#: tension, or a coercive attack over the corridor dispute.
NO_ESCALATION, ESC_INCIDENTS, ESC_COERCION = 0, 1, 2
ESCALATION_KINDS = {NO_ESCALATION: "", ESC_INCIDENTS: "incidents", ESC_COERCION: "coercion"}
#: Per-world series recorded every week (for trajectory bands and traces). ``incidents``
#: is the latent count; ``reports_home`` / ``reports_counterpart`` what each side reports.
SERIES = ("tension", "trust", "mobilisation", "support", "incidents", "spoiling",
          "reports_home", "reports_counterpart")
#: Length of the fixed windows over which incidents are also counted (weeks).
WINDOW_WEEKS = 52


class _Streams(dict):
    """Lazily created per-mechanism generators for one (seed, block)."""

    def __init__(self, seed: int, block: int):
        super().__init__()
        self.seed, self.block = seed, block

    def __missing__(self, name: str) -> np.random.Generator:
        g = stream(self.seed, name, self.block)
        self[name] = g
        return g


def draw_parameters(obj, W: int, streams: _Streams, draws: dict, prefix: str = "",
                    fixed: dict | None = None):
    """Replace every :class:`~sim.model.dists.Dist` in ``obj`` by ``W`` per-world draws.

    Each parameter draws from its own stream (``param:<dotted key>``), so changing one
    parameter's distribution leaves every other parameter's draws unchanged. Drawn
    arrays are also stored in ``draws`` under their dotted key. A key found in
    ``fixed`` (dotted key -> ``W`` values, e.g. a sensitivity design from
    :mod:`sim.analysis.explore`) takes those values instead of drawing.
    """
    if isinstance(obj, Dist):
        if fixed is not None and prefix in fixed:
            arr = np.asarray(fixed[prefix], dtype=float)
        else:
            arr = obj.sample(streams["param:" + prefix], W)
        draws[prefix] = arr
        return arr
    if isinstance(obj, dict):
        return {k: draw_parameters(v, W, streams, draws, f"{prefix}.{k}", fixed)
                for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for f in dataclasses.fields(obj):
            v = getattr(obj, f.name)
            key = f"{prefix}.{f.name}" if prefix else f.name
            if f.name == "issues" or f.name == "issue_labels":
                continue
            nv = draw_parameters(v, W, streams, draws, key, fixed)
            if nv is not v:
                changes[f.name] = nv
        return dataclasses.replace(obj, **changes) if changes else obj
    return obj


class PeaceModel(mesa.Model):
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
            ``params`` (see :func:`draw_parameters`).
        weekly: Also keep every world's weekly reports (per side) and fatalities, whatever
            its status (:attr:`weekly`; the backtest counts them over dated windows).
    """

    def __init__(self, params: ModelParams, worlds: int = 1, seed: int = 0,
                 horizon_weeks: int = 156, block: int = 0, trace: bool = False,
                 fixed_draws: dict[str, np.ndarray] | None = None, weekly: bool = False):
        if isinstance(worlds, bool) or not isinstance(worlds, int) or worlds < 1:
            raise ValueError(f"worlds must be a positive integer, got {worlds!r}")
        if isinstance(horizon_weeks, bool) or not isinstance(horizon_weeks, int) \
                or horizon_weeks < 1:
            raise ValueError(f"horizon_weeks must be a positive integer, got {horizon_weeks!r}")
        self.streams = _Streams(seed, block)
        super().__init__(rng=self.streams["mesa"])
        self.W = W = worlds
        self.seed, self.block = seed, block
        self.horizon = horizon_weeks
        self.issues = params.issues
        self.K = len(params.issues)
        self.params = params
        self.draws: dict[str, np.ndarray] = {}
        if fixed_draws:
            bad = [k for k, v in fixed_draws.items() if np.shape(v) != (W,)]
            if bad:
                raise ValueError(f"fixed_draws[{bad[0]!r}] must hold {W} values")
        self.p = p = draw_parameters(params, W, self.streams, self.draws, fixed=fixed_draws)
        unknown = sorted(set(fixed_draws or ()) - set(self.draws))
        if unknown:
            raise ValueError(f"fixed_draws: {', '.join(unknown)} is not a distributed "
                             f"parameter; these are: {', '.join(self.draws) or 'none'}")
        self.start_date: dt.date = params.state.start_date
        self.week = 0

        # shared world state --------------------------------------------------
        self.table = issue_matrix(p.negotiation.initial_table, self.issues, W)
        # each side's tension (0 the domestic-politics side, 1 the counterpart); the
        # shared ``tension`` that outsiders see is their mean
        t0 = rules.per_world(p.state.tension, W)
        self.tension_side = np.stack([t0, t0.copy()])
        self.tension = t0.copy()
        self.trust = rules.per_world(p.state.trust, W)
        self.spoiling = np.zeros(W)
        self.westernness = np.zeros(W)
        self.status = np.zeros(W, dtype=np.int8)
        self.active = np.ones(W, dtype=bool)
        self.sign_week = np.full(W, -1, dtype=np.int64)
        self.escalation_week = np.full(W, -1, dtype=np.int64)
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
        self.calendar = Calendar(p.state.events, self.start_date)
        self.fired: list[tuple[int, str]] = []
        self.incidents_total = np.zeros(W, dtype=np.int64)
        self.reports_total = np.zeros((2, W), dtype=np.int64)
        self.active_weeks = np.zeros(W, dtype=np.int64)
        n_win = -(-horizon_weeks // WINDOW_WEEKS)
        self.incidents_window = np.zeros((n_win, W), dtype=np.int64)
        self.reports_window = np.zeros((2, n_win, W), dtype=np.int64)
        self.escalation_kind = np.zeros(W, dtype=np.int8)
        self.fatalities_total = np.zeros(W, dtype=np.int64)
        #: with ``weekly=True``: ``reports.<side>`` and ``fatalities``, ``(H, W)`` each,
        #: counted in every world whatever its status (the border does not stop)
        self.weekly: dict[str, np.ndarray] = {}
        if weekly:
            self.weekly = {"fatalities": np.zeros((horizon_weeks, W), dtype=np.int32)}
        esc = p.incidents.escalation
        balance = np.clip(esc.military_balance + esc.arms_supply, 0.0, 1.0)
        self.military_advantage = balance - 0.5  # in the counterpart's favour
        self.imbalance = np.abs(balance - 0.5) * 2.0

        # agents ---------------------------------------------------------------
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
        self.border = BorderProcess(p.incidents, W, self.streams["incidents"],
                                    self.streams["severity"],
                                    (self.home.name, self.counterpart.name))
        self.border.h = rules.per_world(p.state.excitation, W)
        self.domestic = DomesticArena(p.domestic, self.start_date, W, self.streams)
        lock = p.domestic.constitution.locks_issue
        self.lock_index = self.issues.index(lock) if lock else None
        ci = p.incidents.escalation.coercion_issue
        self.coercion_index = self.issues.index(ci) if ci else None
        self.linked = sorted({f for s in self.signatories for f in s.p.linkages})
        self._reopen_threshold = self.streams["reopening"].standard_exponential(
            (len(self.signatories), W))
        self._prepare_table()
        self.opposition_table_utility: np.ndarray | None = None
        self._cache_opposition_utility()

        # recording ------------------------------------------------------------
        H = horizon_weeks
        self.series = {k: np.zeros((H, W), dtype=np.float32) for k in SERIES}
        self.counts = {k: np.zeros(H, dtype=np.int64)
                       for k in ("signed", "escalated", "government_fell", "active")}
        self.trace_on = trace
        self.trace: dict[str, list] = defaultdict(list)

    # ------------------------------------------------------------------ helpers
    def _prepare_table(self) -> None:
        """Precompute the constant parts of the compromise rule's weighted sums.

        Actors whose weight and position never change (spoilers, the opposition) enter
        :func:`rules.compromise` as one pooled actor at their weighted mean position with
        their summed weight, which gives the same package as listing them one by one.
        """
        W, K = self.W, self.K
        num = np.zeros((W, K))
        den = np.zeros((W, K))
        self._med_parts = []
        for a in self.agents:
            if isinstance(a, Signatory):
                continue
            if isinstance(a, Mediator):
                base = (a.capability * a.p.table_weight)[:, None] * a.s
                self._med_parts.append((a, base))
            else:
                wts = a.table_weights()
                num += wts * a.x
                den += wts
        self._static = None
        if (den > 0).any():
            pos = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
            self._static = (pos, den)
        self._sig_w = [s.table_weights() for s in self.signatories]
        # the same parts restricted to the open side issues, for weeks in which every
        # world's text is fixed (then only those columns of the table can move)
        open_idx = np.flatnonzero(~self.text_mask)
        oc: np.ndarray | slice = open_idx
        if open_idx.size and (np.diff(open_idx) == 1).all():
            oc = slice(int(open_idx[0]), int(open_idx[-1]) + 1)  # a view, not a copy, each week
        self._open_cols = oc
        c = np.ascontiguousarray
        self._open_parts = (
            None if self._static is None else (c(self._static[0][:, oc]),
                                               c(self._static[1][:, oc])),
            [(med, c(med.x[:, oc]), c(base[:, oc])) for med, base in self._med_parts],
            [c(w[:, oc]) for w in self._sig_w],
        )

    def _cache_opposition_utility(self) -> None:
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

    def _propose(self, fixed: np.ndarray | None = None,
                 open_only: bool = False) -> np.ndarray:
        """The mediator's target package under the configured rule.

        Args:
            fixed: Worlds whose treaty text is fixed (initialled, not reopened); the Nash
                rule then bargains over the open issues only, the fixed text's loss to
                each side entering its disagreement gap. The compromise rule's target is
                computed on every issue; the caller keeps fixed issues where they are.
            open_only: Compromise rule only: return the target on the open side issues
                alone, ``(W, len(open))`` (used when every world's text is fixed; the
                rule is per issue, so those columns are the same as in the full target).
        """
        if self.p.negotiation.rule == "nash":
            a, b = self.home, self.counterpart
            ya, yb, ra, rb = a.y, b.y, a.r, b.r
            if fixed is not None and fixed.any():
                fm = fixed[:, None] & self.text_mask[None, :]
                T = self.table
                # loss each side's stated position takes on the fixed terms
                ra = ra + (1.0 - rules.utility(T, a.y, a.w * fm, a.rho))
                rb = rb + (1.0 - rules.utility(T, b.y, b.w * fm, b.rho))
                ya = np.where(fm, T, ya)
                yb = np.where(fm, T, yb)
            if a.rho == 1.0 and b.rho == 1.0:
                pkg, _ = rules.nash_linear(ya, yb, a.w, b.w, ra, rb)
            else:
                pkg, _ = rules.nash_curved(ya, yb, a.w, b.w, ra, rb,
                                           max(a.rho, b.rho, 1.0 + 1e-6),
                                           rho_a=a.rho, rho_b=b.rho)
            return pkg
        if open_only:
            static, meds, sig_w = self._open_parts
            cols = self._open_cols
        else:
            static = self._static
            meds = [(med, med.x, base) for med, base in self._med_parts]
            sig_w, cols = self._sig_w, None
        xs: list[np.ndarray] = []
        ws: list[np.ndarray] = []
        if static is not None:
            xs.append(static[0])
            ws.append(static[1])
        for med, mx, base in meds:
            xs.append(mx)
            ws.append(base * med.attention[:, None])
        opp = self.opposition
        for s, w in zip(self.signatories, sig_w, strict=True):
            if s.domestic and opp is not None:
                # tied hands: a mobilised opposition gives the government more weight
                w = w * (1.0 + opp.p.leverage * opp.m)[:, None]
            xs.append(s.y if cols is None else s.y[:, cols])
            ws.append(w)
        return rules.compromise(xs, ws)

    def _reopen(self, t: int, fixed: np.ndarray) -> None:
        """A side that holds may reopen the initialled text (weekly hazard).

        Each side's hazard accumulates over the weeks it holds while the text is fixed;
        the text is reopened when that sum passes the side's pre-drawn exponential
        threshold (one attempt per world, common random numbers). Consequences: trust
        falls by ``reopening_trust_loss`` (a share), the reopening side restates its own
        ideal on the text's issues, and from next week the text moves under the rule.
        """
        if not fixed.any():
            return
        neg = self.p.negotiation
        for i, s in enumerate(self.signatories):
            holding = fixed & ~s.accept & ~self.reopened
            s.reopen_load += s.reopen_rate * holding
            hit = holding & (s.reopen_load >= self._reopen_threshold[i])
            if not hit.any():
                continue
            idx = np.flatnonzero(hit)
            self.reopened[idx] = True
            self.reopen_week[idx] = t
            self.reopened_by[idx] = i
            self.trust[idx] *= 1.0 - rules.take(np.asarray(neg.reopening_trust_loss,
                                                           dtype=float), idx)
            cols = np.flatnonzero(self.text_mask)
            s.y[np.ix_(idx, cols)] = s.x[np.ix_(idx, cols)]

    def flag(self, name: str, constitution_changed: np.ndarray | None = None) -> np.ndarray:
        """Value of a state flag in every world.

        Args:
            name: The flag.
            constitution_changed: The constitutional flag to use (by default, now).
        """
        if name == "constitution_changed":
            if constitution_changed is not None:
                return constitution_changed
            return self.domestic.constitution_changed
        return self.flags[name]

    def _apply_calendar(self, t: int) -> None:
        """Events due at the start of week ``t`` change the state in every world.

        Flags are set (absorbed worlds included: nothing reported depends on them after
        absorption), spoilers take up the events' pressure. Monitor mandates are read from
        the calendar when the mediators are built.
        """
        spoilers = {sp.name: sp for sp in self.spoilers}
        for s in self.calendar.due(t):
            for f in s.event.sets_flags:
                self.flags[f][:] = True
            for name, x in s.event.spoiler_pressure.items():
                if name in spoilers:
                    spoilers[name].react(x)
            self.fired.append((t, s.name))

    # ------------------------------------------------------------------ the week
    def step(self) -> None:
        """Advance every world by one week."""
        t = self.week
        act = self.status == ACTIVE
        self.active = act
        prev = (self.tension, self.trust, self.domestic.support,
                self.opposition.m if self.opposition is not None else None,
                self.tension_side)
        inc = self.p.incidents

        # 0. the calendar
        self._apply_calendar(t)

        # 1. incidents
        damping = np.zeros(self.W)
        for med in self.mediators:
            med.update_monitors()
            if med.p.monitors is not None:
                damping = 1.0 - (1.0 - damping) * (1.0 - med.p.monitors.damping
                                                   * med.monitors_active)
        border = self.border
        border.step(border.base_rate(damping, self.tension, self.spoiling, t))
        dmg = border.damage  # (2, W): what each side perceives
        self.incidents_total += border.count * act
        self.reports_total += border.reports * act
        self.active_weeks += act
        self.fatalities_total += border.fatalities * act
        # fixed windows count every world: the border does not stop at signing
        win = t // WINDOW_WEEKS
        self.incidents_window[win] += border.count
        self.reports_window[:, win] += border.reports

        # 2. perceptions: each side's tension moves with the damage it perceives
        ts = self.tension_side
        self.tension_side = np.clip(ts * (1.0 - inc.tension_decay)
                                    + np.minimum(1.0, inc.tension_per_damage * dmg)
                                    * (1.0 - ts), 0.0, 1.0)
        self.tension = self.tension_side.mean(axis=0)
        calm = (border.reports == 0).all(axis=0)
        trust = self.trust * (1.0 - np.minimum(1.0, inc.trust_per_damage * dmg.mean(axis=0)))
        self.trust = np.where(calm, trust + inc.trust_recovery * (1.0 - trust), trust)
        if self.opposition is not None:
            self.opposition.update(dmg[0])
        mob = self.opposition.m if self.opposition is not None else 0.0
        med_effect = 0.0
        incentive = 0.0
        for med in self.mediators:
            med_effect = med_effect + med.p.support_effect * med.attention
            incentive = incentive + med.p.incentives[self.home.name] * med.attention
        med_effect = med_effect + self.p.domestic.support.incentive_effect * incentive
        if not self.p.domestic.support.frozen:
            self.domestic.update_support(mob, self.tension_side[0], self.spoiling, med_effect)

        # 3. external powers
        for med in self.mediators:
            med.act()
        west = np.zeros(self.W)
        tot = np.zeros(self.W)
        for med in self.mediators:
            wgt = med.attention * med.capability
            west += wgt * med.p.western
            tot += wgt
        for sp in self.spoilers:
            tot += sp.capability * sp.p.inclusion
        self.westernness = np.divide(west, tot, out=np.zeros(self.W), where=tot > 0)
        spoil = np.zeros(self.W)
        for sp in self.spoilers:
            sp.act()
            spoil += sp.sigma
        self.spoiling = np.minimum(spoil, 1.0)

        # 4. reservation values and the commitment cost
        for s in self.signatories:
            s.update_reservation()
        self.commitment = self.commitment_cost()

        # 5. the table: it moves on the open issues only; an initialled text stays put
        inertia = self.p.negotiation.table_inertia
        fixed = self.text_fixed()
        keep = 1.0 - np.asarray(inertia, dtype=float).reshape(-1, 1)
        if fixed.all() and self.p.negotiation.rule == "compromise":
            # only the open side issues can move: compute the rule on those columns
            cols = self._open_cols
            cur = self.table[:, cols]
            target = self._propose(open_only=True)
            target -= cur
            target *= keep
            self.table[:, cols] = cur + target
        else:
            target = self._propose(fixed)
            target -= self.table
            target *= keep
            if fixed.all():
                target[:, self.text_mask] = 0.0
            elif fixed.any():
                target *= ~(fixed[:, None] & self.text_mask[None, :])
            self.table += target  # open: table <- inertia * table + (1 - inertia) * target
        # the constitution as it stood at the start of the week: the table, the decisions
        # and the precondition check all use it, so a referendum passed this week allows
        # signing (on the locked text) from next week
        changed = self.domestic.constitution_changed.copy()
        if self.lock_index is not None:
            self.table[:, self.lock_index] = np.where(changed, 1.0,
                                                      self.table[:, self.lock_index])
        self._cache_opposition_utility()

        # 6. decisions and concessions
        z = self.streams["acceptance"].standard_normal((2, self.W))
        for i, s in enumerate(self.signatories):
            s.decide(self.table, z[i])
        for s in self.signatories:
            s.concede(self.table)
        self._reopen(t, act & fixed)

        # 7. domestic track
        opp_u = (self.opposition_table_utility if self.opposition_table_utility is not None
                 else 0.0)
        ctx = {"mobilisation": mob, "tension": self.tension, "incentive": incentive,
               "opposition_utility": opp_u}
        fell = self.domestic.step(t, ctx, act)
        if fell.any():
            self.home.become_successor(fell)

        # 8. preconditions, linkages and signing
        ok = act & self.home.accept & self.counterpart.accept
        for s in self.signatories:
            for f in s.p.preconditions:
                if f not in self.linked:
                    ok &= self.flag(f, changed)
        g = self.p.domestic.government
        ok &= self.domestic.seats > g.total_seats / 2.0
        if ok.any():
            self.status[ok] = SIGNED
            self.sign_week[ok] = t
            self.signed_terms[ok] = self.table[ok]
            self.domestic.ratify(ok, t)  # Constitutional Court, then both parliaments
            for f in self.linked:
                if f in self.flags:
                    self.flags[f] |= ok

        # 9. escalation: incident-driven (either side's tension) or coercive
        p_coerce, p_inc = self.escalation_hazards()
        p_esc = 1.0 - (1.0 - p_coerce) * (1.0 - p_inc)
        u = self.streams["escalation"].random(self.W)
        escalated = act & ~ok & (u < p_esc)
        if escalated.any():
            self.status[escalated] = ESCALATION
            self.escalation_week[escalated] = t
            # one uniform decides both whether and which: u < p_coerce is coercion
            self.escalation_kind[escalated] = np.where(u[escalated] < p_coerce[escalated],
                                                       ESC_COERCION, ESC_INCIDENTS)

        # absorbed worlds keep their state from the moment they were absorbed
        if not act.all():
            done = ~act
            self.tension_side = np.where(done, prev[4], self.tension_side)
            self.tension = np.where(done, prev[0], self.tension)
            self.trust = np.where(done, prev[1], self.trust)
            self.domestic.support = np.where(done, prev[2], self.domestic.support)
            if self.opposition is not None:
                assert prev[3] is not None  # taken from this opposition at the week's start
                self.opposition.m = np.where(done, prev[3], self.opposition.m)
        self._record(t, act)
        self.week += 1

    def escalation_hazards(self) -> tuple[np.ndarray, np.ndarray]:
        """This week's coercion and incident-driven escalation probabilities, ``(W,)``.

        Incidents: each side tips with ``p_max logistic((T_i - T*) / s_T) (1 + g_I I)``
        and the two combine as independent hazards. Coercion: ``coercion_rate * gap * A``
        with ``gap = max(0, y_counterpart - table)`` on ``coercion_issue`` (the
        counterpart's stated demand against the table's term) and ``A = 2 max(0, balance
        - 0.5)`` the counterpart's military advantage.
        """
        esc = self.p.incidents.escalation
        gain = 1.0 + esc.imbalance_gain * self.imbalance
        side = np.clip(esc.max_weekly_probability
                       * rules.logistic((self.tension_side - esc.tension_threshold)
                                        / esc.tension_scale) * gain, 0.0, 1.0)
        p_inc = 1.0 - (1.0 - side[0]) * (1.0 - side[1])
        if self.coercion_index is None:
            return np.zeros(self.W), p_inc
        k = self.coercion_index
        gap = np.maximum(0.0, self.counterpart.y[:, k] - self.table[:, k])
        adv = 2.0 * np.maximum(0.0, self.military_advantage)
        p_coerce = np.clip(esc.coercion_rate * gap * adv, 0.0, 1.0)
        return p_coerce, p_inc

    def _record(self, t: int, act: np.ndarray) -> None:
        """Store this week's series.

        Worlds absorbed before the week are recorded as NaN, so that trajectory
        quantiles describe the worlds still in play.
        """
        sr = self.series
        sr["tension"][t] = self.tension
        sr["trust"][t] = self.trust
        sr["mobilisation"][t] = self.opposition.m if self.opposition is not None else 0.0
        sr["support"][t] = self.domestic.support
        sr["incidents"][t] = self.border.count
        sr["spoiling"][t] = self.spoiling
        sr["reports_home"][t] = self.border.reports[0]
        sr["reports_counterpart"][t] = self.border.reports[1]
        for f, held in self.flags.items():
            fw = self.flag_week[f]
            fw[(fw < 0) & held] = t
        if self.weekly:
            self.weekly["fatalities"][t] = self.border.fatalities
            for i, s in enumerate(self.signatories):
                self.weekly.setdefault(
                    f"reports.{s.name}", np.zeros((self.horizon, self.W), dtype=np.int32))
                self.weekly[f"reports.{s.name}"][t] = self.border.reports[i]
        self.counts["active"][t] = np.count_nonzero(act)
        if not act.all():
            done = ~act
            for name in SERIES:
                sr[name][t][done] = np.nan
        self.counts["signed"][t] = np.count_nonzero(self.status == SIGNED)
        self.counts["escalated"][t] = np.count_nonzero(self.status == ESCALATION)
        self.counts["government_fell"][t] = np.count_nonzero(self.domestic.government_fell)
        if self.trace_on:
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
