"""The model's weekly schedule: its mechanisms, in the order they run each week.

Each class is one :class:`~sim.model.mechanism.Mechanism` (one ODD submodel, see
``docs/model.md``); :func:`default_schedule` lists them in the order of the weekly
phases:

0. :class:`CalendarEvents`: dated events due this week change the state;
1. :class:`Incidents`: border incidents (a latent Hawkes process, seen through each
   side's reports);
2. :class:`Perceptions`: each side's tension, trust, opposition mobilisation, support;
3. :class:`OutsidePowers`: mediators' attention and monitors, spoilers' intensity;
4. :class:`Reservation`: signatories' reservation values and the commitment cost;
5. :class:`Table`: the mediator tables a package (compromise or Nash rule, with
   inertia) on the open issues;
6. :class:`Decisions`: each signatory accepts or holds, those holding concede, and a
   side that holds may reopen the initialled text;
7. :class:`DomesticTrack`: parliament, referendum, elections, government survival;
8. :class:`Signing`: preconditions and linkages are checked, the treaty is signed where
   all hold;
9. :class:`Escalation`: escalation (absorbing), from incidents or coercion.

Mechanisms read and write the world's shared state through the typed attributes of
:class:`~sim.model.state.World`; what only one mechanism uses lives on the mechanism.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sim.model import kernels, kernels_tables, rules
from sim.model.agents import Mediator, Signatory, per_world
from sim.model.codes import EscalationKind, Status, Strategy
from sim.model.domestic import DomesticInputs
from sim.model.mechanism import Column, Mechanism, Series
from sim.model.state import World

#: Length of the fixed windows over which incidents are also counted (weeks).
WINDOW_WEEKS = 52


class CalendarEvents(Mechanism):
    """Dated events due at the start of the week set flags and raise spoilers' drive.

    Flags are set in every world (absorbed worlds included: nothing reported depends on
    them after absorption). Monitor mandates are read from the calendar when the
    mediators are built.
    """

    name = "calendar"
    section = "state.events"
    outputs = (Column("flag_week.{flag}", "int64", "first week the state flag held",
                      "week, -1 if never", "Week flag first held"),)

    def step(self, model: World, t: int) -> None:
        """Fire the dated events due in week ``t`` and the pending ones completing in it."""
        spoilers = {sp.name: sp for sp in model.spoilers}
        for s in model.calendar.due(t):
            for f in s.event.sets_flags:
                model.flags[f][:] = True
            for name, x in s.event.spoiler_pressure.items():
                if name in spoilers:
                    spoilers[name].react(x)
            model.fired.append((t, s.name))
        majority = model.domestic.seats > model.p.domestic.government.total_seats / 2.0
        for p, now in model.calendar.completing(t, majority):
            for f in p.sets_flags:
                model.flags[f] |= now
            for name, x in p.spoiler_pressure.items():
                if name in spoilers:
                    spoilers[name].react(x * now)
            model.fired.append((t, p.name))  # in some worlds (``calendar.pending``)

    def record(self, model: World, t: int) -> Mapping[str, Any]:
        """Note the first week each flag holds (flags also change at signing)."""
        for f, held in model.flags.items():
            kernels_tables.mark_first_week(model.flag_week[f], held, t)
        return {}

    def columns(self, model: World) -> Mapping[str, Any]:
        """``flag_week.<flag>``."""
        return {f"flag_week.{f}": week for f, week in model.flag_week.items()}


class Incidents(Mechanism):
    """Border incidents: monitors damp the base rate, the Hawkes process draws the week.

    State: the pooled counts over each world's active weeks and over fixed windows of
    :data:`WINDOW_WEEKS` weeks (counted in every world whatever its status: the border
    does not stop at signing).
    """

    name = "incidents"
    section = "incidents"
    series = (
        Series("incidents", meaning="latent border incidents this week",
               unit="incidents/week", label="Border incidents",
               axis="incidents per active world-week", rate=True),
        Series("reports_home", meaning="incidents the domestic-politics side reports",
               unit="reports/week", label="Reports by the domestic side",
               axis="reports per world-week"),
        Series("reports_counterpart", meaning="incidents the counterpart reports",
               unit="reports/week", label="Reports by the counterpart",
               axis="reports per world-week"),
    )
    outputs = (
        Column("incidents", "int64", "latent incidents over the world's active weeks",
               "count", "Incidents"),
        Column("active_weeks", "int64", "weeks the world was active", "weeks",
               "Active weeks"),
        Column("fatalities", "int64", "fatalities over the world's active weeks",
               "deaths", "Fatalities"),
        Column("reports.{side}", "int64", "incidents a signatory reported over the "
               "world's active weeks", "count", "Reports"),
        Column("incidents_window_{a}_{b}", "int64", "latent incidents in weeks a..b, "
               "whatever the world's status", "count", "Incidents in window"),
        Column("reports_window_{a}_{b}.{side}", "int64", "reports by a signatory in weeks "
               "a..b, whatever the world's status", "count", "Reports in window"),
    )

    def setup(self, model: World) -> None:
        """Zero the counters."""
        W = model.W
        self.incidents_total = np.zeros(W, dtype=np.int64)
        self.reports_total = np.zeros((2, W), dtype=np.int64)
        self.active_weeks = np.zeros(W, dtype=np.int64)
        self.fatalities_total = np.zeros(W, dtype=np.int64)
        n_win = -(-model.horizon // WINDOW_WEEKS)
        self.incidents_window = np.zeros((n_win, W), dtype=np.int64)
        self.reports_window = np.zeros((2, n_win, W), dtype=np.int64)

    @staticmethod
    def monitor_effects(model: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Shares the monitors present this week remove: base rate, spiral, contests.

        Each is ``(W,)``: of the incident base rate, of each incident's excitation jump,
        of the contested attributions.

        Each mission present removes its share of each; several missions combine as
        independent shares ``1 - prod_j (1 - d_j present_j)`` (docs/model.md, 7.8).
        """
        W = model.W
        out = [np.zeros(W), np.zeros(W), np.zeros(W)]
        for med in model.mediators:
            med.update_monitors()
            mp = med.p.monitors
            if mp is None:
                continue
            on = med.monitors_active
            for k, share in enumerate((mp.damping, mp.spiral_damping, mp.attribution)):
                out[k] = 1.0 - (1.0 - out[k]) * (1.0 - share * on)
        return out[0], out[1], out[2]

    def step(self, model: World, t: int) -> None:
        """Monitors, then this week's latent incidents, reports and damage."""
        act = model.active
        damping, spiral, settled = self.monitor_effects(model)
        border = model.border
        border.step(border.base_rate(damping, model.tension, model.spoiling, t),
                    spiral_damping=spiral, settled=settled)
        kernels.tally_incidents(border.count, border.reports, border.fatalities, act,
                                self.incidents_total, self.reports_total,
                                self.active_weeks, self.fatalities_total,
                                self.incidents_window, self.reports_window,
                                t // WINDOW_WEEKS)

    def record(self, model: World, t: int) -> Mapping[str, Any]:
        """The week's counts (and, with ``weekly``, every world's reports and deaths)."""
        border = model.border
        if model.weekly:
            model.weekly["fatalities"][t] = border.fatalities
            for i, s in enumerate(model.signatories):
                model.weekly.setdefault(
                    f"reports.{s.name}", np.zeros((model.horizon, model.W), dtype=np.int32))
                model.weekly[f"reports.{s.name}"][t] = border.reports[i]
        return {"incidents": border.count, "reports_home": border.reports[0],
                "reports_counterpart": border.reports[1]}

    def columns(self, model: World) -> Mapping[str, Any]:
        """Totals over active weeks, then the fixed windows."""
        H = model.horizon
        cols: dict[str, Any] = {"incidents": self.incidents_total,
                                "active_weeks": self.active_weeks,
                                "fatalities": self.fatalities_total}
        for i, s in enumerate(model.signatories):
            cols[f"reports.{s.name}"] = self.reports_total[i]
        for w in range(self.incidents_window.shape[0]):
            a, b = w * WINDOW_WEEKS, min((w + 1) * WINDOW_WEEKS, H) - 1
            cols[f"incidents_window_{a}_{b}"] = self.incidents_window[w]
            for i, s in enumerate(model.signatories):
                cols[f"reports_window_{a}_{b}.{s.name}"] = self.reports_window[i, w]
        return cols


class Perceptions(Mechanism):
    """Each side's tension, trust, the opposition's mobilisation and public support.

    Each side's tension moves with the damage it perceives; trust erodes with damage and
    recovers in calm weeks; the opposition mobilises; support reverts toward its one
    latent draw, pulled below it by a climate worse than at the start.
    Worlds absorbed before the week keep these from the moment they were absorbed.
    """

    name = "perceptions"
    section = "incidents"
    series = (
        Series("tension", meaning="mean of the two sides' tension", unit="[0, 1]",
               label="Tension", axis="tension index (0 calm – 1 crisis)"),
        Series("trust", meaning="trust between the signatories", unit="[0, 1]",
               label="Trust between the parties", axis="trust index (0–1)"),
        Series("mobilisation", meaning="the opposition's mobilisation", unit="[0, 1]",
               label="Opposition mobilisation", axis="share mobilised (0–1)"),
        Series("support", meaning="Armenian public support for the peace agenda",
               unit="[0, 1]", label="Public support for the peace agenda",
               axis="share of registered voters (0–1)"),
    )
    outputs = (
        Column("final_mobilisation", "float64", "mobilisation at the end (or absorption)",
               "[0, 1]", "Final mobilisation"),
        Column("final_trust", "float64", "trust at the end (or absorption)", "[0, 1]",
               "Final trust"),
        Column("final_tension", "float64", "tension at the end (or absorption)", "[0, 1]",
               "Final tension"),
        Column("final_support", "float64", "public support at the end (or absorption)",
               "[0, 1]", "Final support"),
    )

    def step(self, model: World, t: int) -> None:
        """Update the climate from this week's damage."""
        inc = model.p.incidents
        border = model.border
        dmg = border.damage  # (2, W): what each side perceives
        W = model.W
        # tension moves with the damage each side perceives, trust erodes with the mean
        # damage and recovers in a calm week (:func:`kernels.climate`)
        model.tension_side, model.tension, model.trust = kernels.climate(
            np.ascontiguousarray(model.tension_side, dtype=float),
            np.ascontiguousarray(dmg, dtype=float), np.ascontiguousarray(border.reports),
            per_world(model.trust, W), per_world(inc.tension_decay, W),
            per_world(inc.tension_per_damage, W), per_world(inc.trust_per_damage, W),
            per_world(inc.trust_recovery, W))
        if model.opposition is not None:
            model.opposition.update(dmg[0])
        mob = model.opposition.m if model.opposition is not None else np.zeros(model.W)
        incentive = np.zeros(model.W)
        for med in model.mediators:
            incentive = incentive + med.p.incentives[model.home.name] * med.attention
        model.mobilisation, model.incentive = mob, incentive
        # support: one latent state per world, moved only by the climate (7.7); no
        # outside power enters it (no dated Western deliverable after the start)
        if not model.p.domestic.support.frozen:
            model.domestic.update_support(mob, model.tension_side[0], model.spoiling)

    def record(self, model: World, t: int) -> Mapping[str, Any]:
        """The climate after the week."""
        return {"tension": model.tension, "trust": model.trust,
                "mobilisation": (model.opposition.m if model.opposition is not None
                                 else 0.0),
                "support": model.domestic.support}

    def columns(self, model: World) -> Mapping[str, Any]:
        """The climate at the end."""
        return {"final_mobilisation": (model.opposition.m if model.opposition is not None
                                       else np.zeros(model.W)),
                "final_trust": model.trust, "final_tension": model.tension,
                "final_support": model.domestic.support}

    def hold(self, model: World) -> Any:
        """The climate at the start of the week."""
        return (model.tension, model.trust, model.domestic.support,
                model.opposition.m if model.opposition is not None else None,
                model.tension_side)

    def restore(self, model: World, held: Any, done: np.ndarray) -> None:
        """Absorbed worlds keep the climate they had."""
        tension, trust, support, m, tension_side = held
        model.tension_side = np.where(done, tension_side, model.tension_side)
        model.tension = np.where(done, tension, model.tension)
        model.trust = np.where(done, trust, model.trust)
        model.domestic.support = np.where(done, support, model.domestic.support)
        if model.opposition is not None:
            assert m is not None  # taken from this opposition at the week's start
            model.opposition.m = np.where(done, m, model.opposition.m)


class OutsidePowers(Mechanism):
    """Mediators' attention moves; the brokering's Westernness; spoilers act.

    A spoiler's pending decision (``suspension``: Russia's EAEU report) is drawn in the
    week its calendar event fires; each spoiler's lever on the Armenian government's
    survival is summed into ``World.outside_fall_hazard``, which the domestic track adds
    to the government's fall hazard (docs/model.md, 7.9).
    """

    name = "outside_powers"
    section = "actors"
    series = (Series("spoiling", meaning="outside spoiling intensity (capped at 1)",
                     unit="[0, 1]", label="Spoiling intensity",
                     axis="spoiling index (0–1)"),)

    def step(self, model: World, t: int) -> None:
        """Mediators act, then spoilers react to how Western the brokering is."""
        W = model.W
        for med in model.mediators:
            med.act()
        west = np.zeros(W)
        tot = np.zeros(W)
        for med in model.mediators:
            wgt = med.attention * med.capability
            west += wgt * med.p.western
            tot += wgt
        for sp in model.spoilers:
            tot += sp.capability * sp.p.inclusion
        model.westernness = np.divide(west, tot, out=np.zeros(W), where=tot > 0)
        fired = {name for week, name in model.fired if week == t}
        spoil = np.zeros(W)
        fall = np.zeros(W)
        for sp in model.spoilers:
            if sp.p.suspension is not None and sp.p.suspension.event in fired:
                sp.decide_suspension()
            sp.act()
            spoil += sp.sigma
            fall += sp.fall_hazard()
        model.spoiling = np.minimum(spoil, 1.0)
        model.outside_fall_hazard = fall

    def record(self, model: World, t: int) -> Mapping[str, Any]:
        """This week's spoiling."""
        return {"spoiling": model.spoiling}


class Reservation(Mechanism):
    """Signatories' reservation values and this week's commitment cost."""

    name = "reservation"
    section = "negotiation"

    def step(self, model: World, t: int) -> None:
        """Update ``r`` of each signatory and the commitment cost."""
        for s in model.signatories:
            s.update_reservation()
        model.commitment = model.commitment_cost()


class Table(Mechanism):
    """The mediator's package: it moves on the open issues; an initialled text stays put.

    ``table <- inertia * table + (1 - inertia) * target`` with the target from the
    compromise (weighted-mean) rule or the Nash bargaining solution. Once the
    constitution has changed, ``constitution.locks_issue`` is fixed at 1.
    """

    name = "table"
    section = "negotiation"

    def setup(self, model: World) -> None:
        """Precompute the constant parts of the compromise rule's weighted sums.

        Actors whose weight and position never change (spoilers, the opposition) enter
        :func:`rules.compromise` as one pooled actor at their weighted mean position with
        their summed weight, which gives the same package as listing them one by one.
        """
        W, K = model.W, model.K
        num = np.zeros((W, K))
        den = np.zeros((W, K))
        self._med_parts: list[tuple[Mediator, np.ndarray]] = []
        for a in model.agents:
            if isinstance(a, Signatory):
                continue
            if isinstance(a, Mediator):
                base = (a.capability * a.p.table_weight)[:, None] * a.s
                self._med_parts.append((a, base))
            else:
                wts = a.table_weights()
                num += wts * a.x
                den += wts
        self._static: tuple[np.ndarray, np.ndarray] | None = None
        if (den > 0).any():
            pos = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
            self._static = (pos, den)
        self._sig_w = [s.table_weights() for s in model.signatories]
        # the open side issues, for weeks in which every world's text is fixed (then only
        # those columns of the table can move, and the rule is computed on them alone)
        open_idx = np.flatnonzero(~model.text_mask)
        self._open_idx = open_idx.astype(np.int64)
        self._all_idx = np.arange(K, dtype=np.int64)

    def propose(self, model: World, fixed: np.ndarray | None = None,
                open_only: bool = False) -> np.ndarray:
        """The mediator's target package under the configured rule.

        Args:
            model: The world.
            fixed: Worlds whose treaty text is fixed (initialled, not reopened); the Nash
                rule then bargains over the open issues only, the fixed text's loss to
                each side entering its disagreement gap. The compromise rule's target is
                computed on every issue; the caller keeps fixed issues where they are.
            open_only: Compromise rule only: return the target on the open side issues
                alone, ``(W, len(open))`` (used when every world's text is fixed; the
                rule is per issue, so those columns are the same as in the full target).
        """
        if model.p.negotiation.rule == "nash":
            a, b = model.home, model.counterpart
            ya, yb, ra, rb = a.y, b.y, a.r, b.r
            if fixed is not None and fixed.any():
                fm = fixed[:, None] & model.text_mask[None, :]
                T = model.table
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
        # each actor's weight is a fixed base times a per-world factor (the mediators'
        # attention, the government's tied-hands leverage), multiplied in the kernel
        xs: list[np.ndarray] = []
        ws: list[np.ndarray] = []
        fs: list[np.ndarray | None] = []
        if self._static is not None:
            xs.append(self._static[0])
            ws.append(self._static[1])
            fs.append(None)
        for med, base in self._med_parts:
            xs.append(med.x)
            ws.append(base)
            fs.append(med.attention)
        opp = model.opposition
        for s, w in zip(model.signatories, self._sig_w, strict=True):
            xs.append(s.y)
            ws.append(w)
            # tied hands: a mobilised opposition gives the government more weight
            fs.append(1.0 + opp.p.leverage * opp.m if s.domestic and opp is not None
                      else None)
        return rules.compromise(xs, ws, fs, self._open_idx if open_only else None)

    def step(self, model: World, t: int) -> None:
        """Move the table toward the target; lock the constitutional issue.

        ``table <- inertia * table + (1 - inertia) * target`` on the open issues (every
        issue where the text is not fixed), in one pass (:func:`kernels.move_table`).
        """
        inertia = np.asarray(model.p.negotiation.table_inertia, dtype=float).reshape(-1)
        fixed = model.text_fixed()
        model.text_fixed_now = fixed
        if fixed.all() and model.p.negotiation.rule == "compromise":
            # only the open side issues can move: compute the rule on those columns
            target = self.propose(model, open_only=True)
            cols = self._open_idx
        else:
            target = self.propose(model, fixed)
            cols = self._all_idx
        # the constitution as it stood at the start of the week: the table, the decisions
        # and the precondition check all use it, so a referendum passed this week allows
        # signing (on the locked text) from next week
        changed = model.domestic.constitution_changed.copy()
        model.constitution_at_start = changed
        lock = -1 if model.lock_index is None else model.lock_index
        kernels.move_table(model.table, np.ascontiguousarray(target, dtype=float), cols,
                           inertia, fixed, model.text_mask, lock, changed)
        model.cache_opposition_utility()


class Decisions(Mechanism):
    """Each signatory accepts or holds; holders concede; a holder may reopen the text.

    Reopening is an event with a trigger (``reopen_trigger``): ``unmet_demand``, the
    fixed text fails one of the side's ``stated_demands``; ``successor``, a successor
    government holds office (not the party of the start, which initialled the text, even
    when it returns). Each side's hazard accumulates over the weeks it holds while the
    text is fixed and its trigger holds; the text is reopened when that sum passes the
    side's pre-drawn exponential threshold (one attempt per world, common random
    numbers). Consequences: trust falls by ``reopening_trust_loss`` (a share), the
    reopening side restates its stated demands on the issues it has them (nothing else
    changes in its stated position), and from next week the text moves under the rule.
    """

    name = "decisions"
    section = "negotiation"
    outputs = (
        Column("reopened", "bool", "the initialled text was reopened", "", "Reopened"),
        Column("reopen_week", "int64", "week the text was reopened", "week, -1 if never",
               "Week reopened"),
        Column("reopened_by", "str", "the signatory that reopened the text", "'' if none",
               "Reopened by"),
    )

    def setup(self, model: World) -> None:
        """Draw each side's reopening threshold."""
        self._reopen_threshold = model.streams["reopening"].standard_exponential(
            (len(model.signatories), model.W))

    def step(self, model: World, t: int) -> None:
        """Decide, concede, and perhaps reopen."""
        z = model.streams["acceptance"].standard_normal((2, model.W))
        for i, s in enumerate(model.signatories):
            s.decide(model.table, z[i])
        for s in model.signatories:
            s.concede(model.table)
        self._reopen(model, t, model.active & model.text_fixed_now)

    def _reopen(self, model: World, t: int, fixed: np.ndarray) -> None:
        if not fixed.any():
            return
        neg = model.p.negotiation
        for i, s in enumerate(model.signatories):
            holding = fixed & ~s.accept & ~model.reopened & self.triggered(model, s)
            s.reopen_load += s.reopen_rate * holding
            hit = holding & (s.reopen_load >= self._reopen_threshold[i])
            if not hit.any():
                continue
            idx = np.flatnonzero(hit)
            model.reopened[idx] = True
            model.reopen_week[idx] = t
            model.reopened_by[idx] = i
            model.trust[idx] *= 1.0 - neg.reopening_trust_loss[idx]
            s.restate_demands(idx)

    @staticmethod
    def triggered(model: World, s: Signatory) -> np.ndarray:
        """Worlds in which ``s``'s reopening trigger holds this week, ``(W,)``."""
        trigger = s.p.reopen_trigger
        if trigger == "successor":
            # a successor holds office: not the party of the start, which initialled the
            # text, even after it has returned to office
            return ~model.domestic.in_office
        if trigger == "unmet_demand" and s.demands:
            return (s.term_shortfalls(model.table) > 0.0).any(axis=0)
        return np.zeros(model.W, dtype=bool)

    def columns(self, model: World) -> Mapping[str, Any]:
        """Whether, when and by whom the text was reopened."""
        names = np.array([""] + [s.name for s in model.signatories], dtype=object)
        return {"reopened": model.reopened, "reopen_week": model.reopen_week,
                "reopened_by": names[model.reopened_by + 1]}


class DomesticTrack(Mechanism):
    """Parliament, referendum, elections and government survival (:mod:`sim.model.domestic`)."""

    name = "domestic"
    section = "domestic"
    outputs = (
        Column("government_fell", "bool", "the incumbent government fell", "",
               "Government fell"),
        Column("government_fell_week", "int64", "week the government fell",
               "week, -1 if never", "Week the government fell"),
        Column("referendums", "int64", "referendums held", "count", "Referendums"),
        Column("referendum_held", "bool", "at least one referendum was held", "",
               "Referendum held"),
        Column("referendum_passed", "bool", "a referendum passed (Baku may still have "
               "rejected the text)", "", "Referendum passed"),
        Column("boycott", "bool", "the opposition boycotted the last referendum", "",
               "Boycott"),
        Column("constitution_changed", "bool", "a new constitution Baku accepts was "
               "adopted", "", "Constitution changed"),
        Column("parliament_votes", "int64", "two-thirds votes held", "count",
               "Parliament votes"),
        Column("opposition_votes_expected", "float64", "expected opposition yes votes at "
               "the start's conditions (seats x willingness)", "deputies",
               "Opposition yes votes expected at the start"),
        Column("max_opposition_yes", "int64", "most opposition deputies voting yes at a "
               "vote", "deputies, -1 if no vote", "Most opposition yes votes"),
        Column("draft_votes", "int64", "seated deputies' yes votes at the vote that last "
               "sent the draft to referendum (below the bar only on the bypass)",
               "deputies, -1 if none", "Votes for the draft"),
        Column("bypassed", "bool", "a draft went by the alternative route", "",
               "Alternative route"),
        Column("referendum_yes_cast", "float64", "last referendum: yes share of votes "
               "cast", "[0, 1], NaN if none", "Referendum yes share (votes cast)"),
        Column("referendum_yes_registered", "float64", "last referendum: yes votes as a "
               "share of registered voters", "[0, 1], NaN if none",
               "Referendum yes votes (share of the register)"),
        Column("elections_held", "int64", "parliamentary elections held", "count",
               "Elections held"),
        Column("referendum_week", "int64", "week of the first referendum",
               "week, -1 if none", "Week of the first referendum"),
        Column("total_seats", "float64", "seats in parliament", "seats", "Total seats"),
        Column("government_changes", "int64", "changes of government (falls, lost "
               "elections, returns of the party of the start)", "count",
               "Changes of government"),
        Column("in_office", "bool", "the party that governed at the start is in office at "
               "the end", "", "Party of the start in office"),
        Column("government_seats", "float64", "seated deputies of the government in office "
               "at the end", "seats", "Government seats"),
        Column("votes_postponed", "int64", "two-thirds votes the government postponed "
               "(expected to fall short by more than vote_margin)", "count",
               "Votes postponed"),
        Column("referendum_expected_lead", "float64", "last referendum held: the "
               "government's expected yes share less the pass threshold", "share, NaN if "
               "none", "Expected lead at the referendum"),
        Column("seats_after.{date}", "float64", "seats the government party won at the "
               "scheduled election of that date", "seats, NaN if not held",
               "Seats after the election"),
    )

    def step(self, model: World, t: int) -> None:
        """Advance the track; a successor government takes over where one fell."""
        opp_u = (model.opposition_table_utility if model.opposition_table_utility is not None
                 else np.zeros(model.W))
        inputs = DomesticInputs(mobilisation=model.mobilisation, tension=model.tension,
                                incentive=model.incentive, opposition_utility=opp_u,
                                outside_fall_hazard=model.outside_fall_hazard)
        dom = model.domestic
        if t == 0:
            # the vote model's baselines: tension and mobilisation as they stood at the
            # start, before the first week's incidents (a burst in week 0 is a change,
            # not the reference); the table's utility and the incentives as in week 0
            dom.record_start(DomesticInputs(
                mobilisation=model.mobilisation_at_start, tension=model.tension_at_start,
                incentive=model.incentive, opposition_utility=opp_u))
        changed = dom.step(t, inputs, model.active)
        if changed.any():
            # the party of the start left office: a successor's positions (7.15); its
            # own are kept and restored if it returns to office
            out = changed & ~dom.in_office
            back = changed & dom.in_office
            if dom.home_positions is None:
                dom.home_positions = (model.home.x.copy(), model.home.y.copy())
            hx, hy = dom.home_positions
            hx[out], hy[out] = model.home.x[out], model.home.y[out]
            model.home.become_successor(out)
            model.home.x[back], model.home.y[back] = hx[back], hy[back]

    def columns(self, model: World) -> Mapping[str, Any]:
        """The domestic track's record."""
        dom = model.domestic
        cols: dict[str, Any] = {
            "government_fell": dom.government_fell,
            "government_fell_week": dom.fell_week,
            "referendums": dom.referendums,
            "referendum_held": dom.referendums > 0,
            "referendum_passed": dom.referendum_passed,
            "boycott": dom.strategy == Strategy.BOYCOTT,
            "constitution_changed": dom.constitution_changed,
            "parliament_votes": dom.votes,
            "opposition_votes_expected": dom.opposition_votes_expected,
            "max_opposition_yes": dom.max_opposition_yes,
            "draft_votes": dom.draft_votes,
            "bypassed": dom.bypassed,
            "referendum_yes_cast": dom.yes_cast,
            "referendum_yes_registered": dom.yes_registered,
            "elections_held": dom.elections_held,
            "referendum_week": dom.referendum_week,
            "total_seats": np.full(model.W, float(model.p.domestic.government.total_seats)),
            "government_changes": dom.changes,
            "in_office": dom.in_office,
            "government_seats": dom.seats,
            "votes_postponed": dom.postponed,
            "referendum_expected_lead": dom.referendum_lead,
        }
        for d, seats in dom.election_seats.items():
            cols[f"seats_after.{d.isoformat()}"] = seats
        return cols


class Signing(Mechanism):
    """Preconditions, linkages and signing; then the Court and both parliaments ratify."""

    name = "signing"
    section = "actors"
    outputs = (
        Column("signed", "bool", "the treaty was signed", "", "Signed"),
        Column("sign_week", "int64", "week of signing", "week, -1 if not signed",
               "Week signed"),
        Column("terms.{issue}", "float64", "the signed term on the issue",
               "[0, 1], NaN if not signed", "Signed term"),
        Column("ratified", "bool", "ratified by both parliaments within the horizon", "",
               "Ratified"),
        Column("ratify_week", "int64", "week of ratification", "week, -1 if not within "
               "the horizon", "Week ratified"),
    )

    def step(self, model: World, t: int) -> None:
        """Sign where both accept, every precondition holds and the government has seats.

        Where both accept but a precondition a side ``requests`` is unmet (and no known
        event sets it), the parties request it now: it completes by its pending kind's
        prior from next week (Baku's "before signing": signing waits for it).
        """
        agree = model.active & model.home.accept & model.counterpart.accept
        ok = agree.copy()
        for s in model.signatories:
            for f in s.p.preconditions:
                if f not in model.linked:
                    held = model.flag(f, model.constitution_at_start)
                    ok &= held
                    if f in s.p.requests:
                        model.calendar.request(f, s.p.requests[f], agree & ~held, t)
        g = model.p.domestic.government
        ok &= model.domestic.seats > g.total_seats / 2.0
        model.signing_now = ok
        if ok.any():
            model.status[ok] = Status.SIGNED
            model.sign_week[ok] = t
            model.signed_terms[ok] = model.table[ok]
            model.domestic.ratify(ok, t)  # Constitutional Court, then both parliaments
            for f in model.linked:
                if f in model.flags:
                    model.flags[f] |= ok

    def columns(self, model: World) -> Mapping[str, Any]:
        """Whether, when and on what terms, and ratification."""
        H = model.horizon
        rw = model.domestic.ratify_week
        cols: dict[str, Any] = {"signed": model.status == Status.SIGNED,
                                "sign_week": model.sign_week}
        for k, name in enumerate(model.issues):
            cols[f"terms.{name}"] = model.signed_terms[:, k]
        cols["ratified"] = (rw >= 0) & (rw < H)
        cols["ratify_week"] = np.where(rw < H, rw, -1)
        return cols


class Escalation(Mechanism):
    """Escalation (absorbing): incident-driven (either side's tension) or coercive."""

    name = "escalation"
    section = "incidents.escalation"
    outputs = (
        Column("escalated", "bool", "an armed escalation occurred", "", "Escalated"),
        Column("escalation_week", "int64", "week of the escalation",
               "week, -1 if none", "Week of escalation"),
        Column("escalation_kind", "str", "how it came about: "
               + ", ".join(k.label for k in EscalationKind if k.label),
               "'' if none", "Kind of escalation"),
    )

    def setup(self, model: World) -> None:
        """The counterpart's stated demands: its flags, read each week."""
        self._flags = tuple(model.counterpart.p.stated_flags)

    def unmet_share(self, model: World) -> np.ndarray:
        """Share of the counterpart's stated demands unmet this week, ``(W,)`` in [0, 1].

        The mean over its demands of how far each is unmet: a stated flag (a
        precondition) 1 while it does not hold; a stated term demand its shortfall
        against the table (:meth:`Signatory.term_shortfalls`). 0 without demands.
        """
        b = model.counterpart
        n = len(self._flags) + len(b.demands)
        if n == 0:
            return np.zeros(model.W)
        unmet = b.term_shortfalls(model.table).sum(axis=0)
        for f in self._flags:
            unmet += ~model.flag(f)
        return unmet / n

    def hazards(self, model: World) -> tuple[np.ndarray, np.ndarray]:
        """This week's coercion and incident-driven escalation probabilities, ``(W,)``.

        Incidents: each side tips with ``p_max logistic((T_i - T*) / s_T) (1 + g_I I)``
        and the two combine as independent hazards. Coercion: ``coercion_rate * G * A``
        with ``G`` the share of the counterpart's stated demands still unmet
        (:meth:`unmet_share`) and ``A = 2 max(0, balance - 0.5)`` its military advantage.
        """
        esc = model.p.incidents.escalation
        W = model.W
        # exp in NumPy (its SIMD exp: the record's last bits), the rest in one pass
        # over the worlds (:func:`kernels.escalation_hazards`)
        e = np.exp(-((model.tension_side - esc.tension_threshold) / esc.tension_scale))
        return kernels.escalation_hazards(
            np.ascontiguousarray(e), per_world(esc.max_weekly_probability, W),
            per_world(esc.imbalance_gain, W), per_world(model.imbalance, W),
            per_world(model.military_advantage, W), per_world(esc.coercion_rate, W),
            per_world(self.unmet_share(model), W))

    def step(self, model: World, t: int) -> None:
        """One uniform per world decides whether and which (:func:`kernels.escalate`)."""
        p_coerce, p_inc = self.hazards(model)
        u = model.streams["escalation"].random(model.W)
        kernels.escalate(u, p_coerce, p_inc, model.active, model.signing_now, model.status,
                         model.escalation_week, model.escalation_kind, t,
                         int(Status.ESCALATION), int(EscalationKind.COERCION),
                         int(EscalationKind.INCIDENTS))

    def columns(self, model: World) -> Mapping[str, Any]:
        """Whether, when and how."""
        labels = np.array([k.label for k in EscalationKind])
        return {"escalated": model.status == Status.ESCALATION,
                "escalation_week": model.escalation_week,
                "escalation_kind": labels[model.escalation_kind]}


def default_schedule() -> list[Mechanism]:
    """Fresh instances of the model's mechanisms, in the order they run each week."""
    return [CalendarEvents(), Incidents(), Perceptions(), OutsidePowers(), Reservation(),
            Table(), Decisions(), DomesticTrack(), Signing(), Escalation()]
