"""Armenian domestic politics: public support, the constitutional track, the government.

The constitutional track follows Art. 202(1) of the 2015 Constitution: a new
constitution is adopted only by referendum, and the National Assembly puts a draft to
the referendum by at least two thirds of *all* deputies. It is a per-world state
machine::

    DRAFTING --(vote: seated yes votes >= 70)--> CAMPAIGN
    CAMPAIGN --(referendum: > 50 % of votes cast and yes >= 25 % of the register)
             --> Baku reads the text --(accepts)--> PASSED
    any failure --> COOLDOWN (a stated delay, or a snap election) --> DRAFTING again

The government in office chooses its agenda: it holds the vote only when it expects to
come within ``vote_margin`` of the votes needed, the referendum only when it expects to
win it, and a snap election only at a deadlock, with a mandate at least
``snap_min_weeks`` old and seats to gain. Either side may govern: the party of the start
(Civil Contract) or a successor with the seats it holds, under the same elections and
hazards. A world stops trying (``ABANDONED``) only while a successor government that
does not pursue the new constitution is in office. Parliament is a set of factions whose deputies
vote yes with a willingness that responds to the package on the table, incentives,
public opinion, tension and mobilisation. The referendum's yes share is its own
per-world quantity (anchored to the polls, ``domestic.referendum.yes_share``), distinct
from general support for the peace agenda. After signing, :meth:`DomesticArena.ratify`
schedules the Constitutional Court's check and ratification by both parliaments.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sim.model import kernels_domestic as kd
from sim.model import rules
from sim.model.agents import per_world
from sim.model.codes import INITIAL_STAGES, DomesticEvent, Stage, Strategy
from sim.model.params import DomesticParams

#: Rows of pre-drawn random numbers per kind of rare event (votes, referendums,
#: elections). The k-th event of a world reads row ``min(k, ROWS - 1)``: with at least a
#: few weeks between events no world of a 156-week run gets near it.
ROWS = 16



@dataclass(frozen=True)
class DomesticInputs:
    """What the rest of the model feeds the domestic track each week.

    Attributes:
        mobilisation: The opposition's mobilisation (0 without an opposition).
        tension: Shared tension.
        incentive: Attention-weighted incentives offered to Armenia.
        opposition_utility: The opposition's utility of the table (0 without one).

    Each is ``(W,)``.
    """

    mobilisation: np.ndarray
    tension: np.ndarray
    incentive: np.ndarray
    opposition_utility: np.ndarray
    #: weekly fall hazard added by outside powers (Russia's lever on the government's
    #: survival; OutsidePowers, docs/model.md 7.9), ``(W,)`` or 0
    outside_fall_hazard: np.ndarray | float = 0.0

    def copy(self) -> DomesticInputs:
        """Independent float copies (the baselines of the vote model)."""
        return DomesticInputs(*(np.array(v, dtype=float, copy=True) for v in (
            self.mobilisation, self.tension, self.incentive, self.opposition_utility)))


def _logit(p):
    return np.log(p) - np.log1p(-p)


def _param(v, W: int) -> np.ndarray:
    """A parameter for the kernels: a read-only contiguous float ``(W,)``, drawn or not.

    Read-only either way, so a drawn and a point value compile to the same signature.
    """
    a = per_world(v, W)   # a new array, or a view of the drawn one
    a.flags.writeable = False
    return a


def _world(v, W: int) -> np.ndarray:
    """This week's input for the kernels: a writable contiguous float ``(W,)``.

    Not copied when it is one already, as the model's arrays are.
    """
    if (isinstance(v, np.ndarray) and v.dtype == np.float64 and v.shape == (W,)
            and v.flags.c_contiguous and v.flags.writeable):
        return v
    return np.array(np.broadcast_to(np.asarray(v, dtype=float), (W,)))


class DomesticArena:
    """Public support, parliament, referendum, elections and government in every world.

    Attributes:
        support: Share of registered voters backing the peace agenda, ``(W,)``.
        stage: Constitutional-track :class:`~sim.model.codes.Stage`, ``(W,)`` int.
        next_event: Week of the next step on the track, ``(W,)``.
        votes / referendums / elections_held: Events so far, ``(W,)`` int.
        seats: Seats held by the government, ``(W,)``.
        faction_seats / vacant: Opposition factions' seats and vacant mandates, ``(W, F)``.
        fell_week: Week the incumbent government fell (-1 if it did not), ``(W,)``.
        pursuing: The government in office pursues the new constitution, ``(W,)``.
        referendum_passed: A referendum has passed, ``(W,)`` (the text may still have been
            rejected by Baku; ``constitution_changed`` is the accepted change).
        strategy: The opposition's :class:`~sim.model.codes.Strategy` at the last
            referendum, ``(W,)`` int.
        max_opposition_yes: Most opposition deputies voting yes at any vote (-1: none).
        opposition_votes_expected: Expected opposition yes votes at the start's
            conditions (sum over factions of seats times willingness), ``(W,)``.
        ratify_week: Week both parliaments ratify a signed treaty (-1 if not), ``(W,)``.
    """

    def __init__(self, params: DomesticParams[np.ndarray], start_date: dt.date, W: int,
                 streams: Mapping[str, np.random.Generator]):
        self.p = params
        self.W = W
        self.rng = streams["domestic.government"]
        c, g, par = params.constitution, params.government, params.parliament
        self.support = params.support.initial.copy()
        self.support0 = self.support.copy()  # the latent level support reverts to
        self.stage = np.full(W, INITIAL_STAGES[c.stage], dtype=np.int64)
        self.next_event = c.draft_weeks.copy()
        self.votes = np.zeros(W, dtype=np.int64)
        self.referendums = np.zeros(W, dtype=np.int64)
        self.elections_held = np.zeros(W, dtype=np.int64)
        #: seated deputies of the government in office (all vote for its own draft)
        self.seats = np.full(W, float(g.seats))
        #: the party that governs at the start (Civil Contract): its seats, whether it is
        #: in office, and how many of its deputies sit in a successor's coalition
        self.party_seats = np.full(W, float(g.seats))
        self.in_office = np.ones(W, dtype=bool)
        self.defectors = np.zeros(W)
        #: week of the election that gave the parliament its mandate (negative: before
        #: the start; a mandate dated after the start, as when a run moves the start
        #: back, counts from the start); no snap election within ``snap_min_weeks`` of it
        self.mandate_week = np.full(W, min(0.0, -(start_date - g.mandate_date).days / 7.0))
        self.changes = np.zeros(W, dtype=np.int64)   # changes of government so far
        self.deadlocks = np.zeros(W, dtype=np.int64)  # failed or postponed votes so far
        self.postponed = np.zeros(W, dtype=np.int64)  # votes the government postponed
        self.referendum_lead = np.full(W, np.nan)  # last referendum held: expected lead
        self._waiting = np.zeros(W, dtype=bool)     # a referendum is due and postponed
        #: the home signatory's own positions, kept while a successor governs
        self.home_positions: tuple[np.ndarray, np.ndarray] | None = None
        self.factions = list(par.factions)
        F = len(self.factions)
        facs = [par.factions[f] for f in self.factions]
        self.faction_seats = np.tile(np.array([f.seats for f in facs], dtype=float), (W, 1))
        self.vacant = np.tile(np.array([f.vacant for f in facs], dtype=float), (W, 1))
        self.willingness_logit = np.stack(
            [_logit(f.willingness) for f in facs], axis=1) if F else np.zeros((W, 0))
        self.opposition_votes_expected = (
            (self.faction_seats - self.vacant) * rules.logistic(self.willingness_logit)
        ).sum(axis=1)
        self.max_opposition_yes = np.full(W, -1, dtype=np.int64)
        self.draft_votes = np.full(W, -1, dtype=np.int64)  # yes votes that sent the draft
        self.bypassed = np.zeros(W, dtype=bool)  # a draft went by the alternative route
        self.yes_cast = np.full(W, np.nan)        # last referendum: yes share of votes cast
        self.yes_registered = np.full(W, np.nan)  # ...and yes votes / registered voters
        self.fell_week = np.full(W, -1, dtype=np.int64)
        self.pursuing = np.ones(W, dtype=bool)
        self.referendum_passed = self.stage == Stage.PASSED
        self.strategy = np.full(W, Strategy.NONE, dtype=np.int64)
        self.early_election = np.full(W, -1, dtype=np.int64)
        self.last_vote_share = np.full(W, np.nan)
        self.ratify_week = np.full(W, -1, dtype=np.int64)
        self.referendum_week = np.full(W, -1, dtype=np.int64)  # first referendum held
        self.election_weeks = sorted(
            {round((d - start_date).days / 7) for d in g.elections if d >= start_date})
        #: seats the government party won at each scheduled election, by date (NaN where
        #: it was not held: the world had signed, escalated or changed government)
        self.election_seats = {d: np.full(W, np.nan) for d in g.elections if d >= start_date}
        self._election_dates = {round((d - start_date).days / 7): d
                                for d in g.elections if d >= start_date}
        #: this week's :class:`~sim.model.codes.DomesticEvent` in each world (traces)
        self.event = np.full(W, DomesticEvent.NONE, dtype=np.int64)
        # conditions at the first step (baselines of the vote model) and this week's
        self._start: DomesticInputs | None = None
        self._inputs: DomesticInputs | None = None
        # Randomness of the rare events is drawn once per world and indexed by the event's
        # number, so the k-th vote of world i uses the same numbers in every scenario
        # (common random numbers) and weeks without events cost no draws. Each kind has
        # its own stream, drawn as (events, ..., worlds).
        R = ROWS
        self.z_faction = streams["domestic.faction"].standard_normal((R, F, W)).transpose(2, 0, 1)
        self.u_deputies = streams["domestic.deputies"].random((R, F, W)).transpose(2, 0, 1)
        self.u_alternative = streams["domestic.alternative"].random((R, W)).T
        self.u_early = streams["domestic.early_election"].random((R, W)).T
        self.z_referendum = streams["domestic.referendum"].standard_normal((R, W)).T
        self.u_failure = streams["domestic.failure"].random((R, W)).T
        self.u_baku = streams["domestic.baku"].random((R, W)).T
        self.z_election = streams["domestic.election"].standard_normal((R, W)).T
        self.u_successor = streams["domestic.successor"].random(W)
        # the former governing party's deputies voting on a successor's draft
        self.z_former = streams["domestic.former"].standard_normal((R, W)).T
        self.u_former = streams["domestic.former_deputies"].random((R, W)).T
        self.u_court = streams["domestic.court"].random(W)
        # the kernels' parameters, one contiguous float per world (a point value too)
        def pw(v) -> np.ndarray:
            return _param(v, W)
        sp = params.support
        self._support_args = (pw(sp.adjust_rate), pw(sp.mobilisation_effect),
                              pw(sp.tension_effect), pw(sp.spoiler_effect),
                              pw(sp.reference_mobilisation), pw(sp.reference_tension),
                              pw(sp.reference_spoiling))
        self._fall_args = (pw(g.mobilisation_threshold), pw(g.fall_base_hazard),
                           pw(g.fall_mobilisation_hazard))
        self._successor_args = (pw(g.successor_pursues), pw(c.vote_retry_weeks))
        self._deadlock_args = (pw(g.snap_min_weeks), pw(g.snap_seat_gain),
                               pw(g.early_election_probability), pw(g.early_election_weeks),
                               pw(g.election_vote_share), pw(g.election_support_slope),
                               pw(g.seats_per_vote_share), pw(g.seat_cap))
        self._vote_args = (pw(par.package_effect), pw(par.incentive_effect),
                           pw(par.opinion_effect), pw(par.tension_effect),
                           pw(par.mobilisation_effect), pw(par.faction_noise))
        self._former_willingness = pw(par.former_government_willingness)
        self._election_args = (pw(g.election_vote_share), pw(g.election_support_slope),
                               pw(g.election_noise), pw(g.seats_per_vote_share),
                               pw(g.seat_cap))
        self._supermajority = pw(c.supermajority)
        r = params.referendum
        self._referendum_args = (pw(r.yes_share), pw(r.support_link), pw(r.turnout),
                                 pw(r.campaign_mobilisation), pw(r.boycott_yes_abstention),
                                 pw(r.boycott_no_abstention), pw(r.yes_threshold),
                                 pw(r.quorum))

    @property
    def constitution_changed(self) -> np.ndarray:
        """Whether a new constitution Baku accepts has been adopted, ``(W,)``."""
        return self.stage == Stage.PASSED

    @property
    def government_fell(self) -> np.ndarray:
        """Whether the incumbent government has fallen, ``(W,)``."""
        return self.fell_week >= 0

    def update_support(self, mobilisation, tension, spoiling) -> None:
        """Move public support toward its target: one latent state per world.

        ``S' = S + a (S* - S)`` with ``S* = S_0 - e_m [m - m_r]+ - e_T [T - T_r]+ -
        e_s [sigma - sigma_r]+``: ``S_0`` is the world's one draw (``support.initial``),
        both the start and the level support reverts to, and ``x_r`` the climate the
        polls behind ``S_0`` describe (``support.reference_*``, the baseline's start).
        Only a climate worse than that lowers the target; a calmer one does not lift it
        above ``S_0`` (no sourced peace dividend). Outside powers do not enter.
        """
        W = self.W
        self.support = kd.support_step(  # a new array: the climate holds the old one
            self.support, self.support0, _world(mobilisation, W), _world(tension, W),
            _world(spoiling, W), *self._support_args)

    def referendum_yes(self, idx: np.ndarray) -> np.ndarray:
        """Expected yes share of votes cast in worlds ``idx`` (before the day's noise).

        ``y = ybar (1 + lambda (S / S_0 - 1))``: with elasticity ``lambda = 1`` the yes
        voters are a fixed share ``ybar / S_0`` of the agenda's supporters, so the yes
        share moves in proportion to support; ``y = ybar`` while support is at its draw.
        Computed by :func:`sim.model.kernels_domestic.referendum_yes`.
        """
        return kd.referendum_yes(idx, self.support, self.support0, *self._referendum_args[:2])

    # ------------------------------------------------------------------ rules
    def seats_needed(self, idx: np.ndarray) -> np.ndarray:
        """Votes needed to put a draft to referendum in worlds ``idx``.

        ``ceil(round_2(supermajority * N'))`` with ``N'`` all deputies, less the vacant
        mandates if ``parliament.vacant_reduce_total`` (a legal assumption). Computed by
        :func:`sim.model.kernels_domestic.seats_needed`.
        """
        return kd.seats_needed(idx, float(self.p.government.total_seats), self.vacant,
                               self.p.parliament.vacant_reduce_total, self._supermajority)

    def deputy_willingness(self, idx: np.ndarray, k: np.ndarray | None,
                           inputs: DomesticInputs) -> np.ndarray:
        """Chance each deputy of each faction votes yes, ``(len(idx), F)``.

        ``q_f = logistic(logit(w_f) + b_U dU + b_I dI + b_S dS - b_T dT - b_m dm +
        sigma z_f)``, each ``d`` the change since the first week: dU of the opposition's
        utility of the table, dI of the incentives offered to Armenia, dS of public
        support, dT of tension, dm of mobilisation; z_f the faction's shock at vote ``k``
        (``k=None``: without the shock, what the government expects). The logits come
        from :func:`sim.model.kernels_domestic.vote_logits`, the logistic is NumPy's.
        """
        s0 = self._start
        assert s0 is not None, "the first step() records the baselines"
        W = self.W
        def pair(now: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return _world(now, W), _world(start, W)
        b_u, b_i, b_s, b_t, b_m, sigma = self._vote_args
        z = kd.vote_logits(
            idx, np.empty(0, np.int64) if k is None else k, self.willingness_logit,
            self.z_faction, sigma, b_u, *pair(inputs.opposition_utility,
                                              s0.opposition_utility),
            b_i, *pair(inputs.incentive, s0.incentive), b_s, self.support, self.support0,
            b_t, *pair(inputs.tension, s0.tension), b_m,
            *pair(inputs.mobilisation, s0.mobilisation))
        return rules.logistic(z)

    # ------------------------------------------------------------------ the agenda
    def expected_yes(self, idx: np.ndarray, inputs: DomesticInputs) -> np.ndarray:
        """Yes votes the government in office expects on its draft in worlds ``idx``.

        Its own seated deputies, plus the expected yes votes of the deputies outside it
        at this week's conditions without the shock of the day: the opposition factions'
        ``sum_f (n_f - v_f) q_f`` when the party of the start governs, the former
        governing party's ``(G_P - D) w_P`` under a successor. Computed by
        :func:`sim.model.kernels_domestic.expected_yes`.
        """
        q = self.deputy_willingness(idx, None, inputs)
        return kd.expected_yes(idx, q, self.faction_seats, self.vacant, self.party_seats,
                               self.defectors, self._former_willingness, self.seats,
                               self.in_office)

    def _deadlock(self, idx: np.ndarray, week: int) -> np.ndarray:
        """At a deadlock (a failed or postponed vote) in ``idx``, perhaps a snap election.

        Returns where, of ``idx``, the government calls one, ``(len(idx),)`` bool. It
        calls one only if its mandate is at least ``snap_min_weeks`` old, it expects to
        gain at least ``snap_seat_gain`` seats from an election now (7.14 without the
        noise), no election is pending, and then with chance
        ``early_election_probability`` (uniform of the world's deadlock count).
        Computed by :func:`sim.model.kernels_domestic.deadlock`.
        """
        return kd.deadlock(idx, week, float(self.p.government.total_seats), self.deadlocks,
                           self.mandate_week, self.seats, self.early_election,
                           self.next_event, self.in_office, self.support, self.support0,
                           self.u_early, *self._deadlock_args)

    def referendum_plan(self, idx: np.ndarray) -> tuple[np.ndarray, ...]:
        """The referendum as the government and the opposition see it in worlds ``idx``.

        The expected yes share, the turnouts of yes and no voters under a no campaign
        and under a boycott (shares of registered voters), each strategy's pass
        threshold (the smallest yes share at which the draft passes: the share
        condition is strict), the opposition's choice (``opposition_strategy``;
        ``best``: the strategy that needs the higher yes share) and the government's
        expected lead over the chosen threshold. Computed by
        :func:`sim.model.kernels_domestic.referendum_plan`.

        Returns:
            ``(y_expected, lead, boycott, t_yes, t_no)``, each ``(len(idx),)``, the
            turnouts under the strategy chosen.
        """
        assert self._inputs is not None, "called from step()"
        strategy = {"best": kd.BEST, "campaign": kd.CAMPAIGN,
                    "boycott": kd.BOYCOTT}[self.p.referendum.opposition_strategy]
        return kd.referendum_plan(idx, self.support, self.support0,
                                  _world(self._inputs.mobilisation, self.W),
                                  *self._referendum_args, strategy)

    def record_start(self, start: DomesticInputs) -> None:
        """The baselines of the vote model (7.13): each ``Delta`` is the change since these.

        Called before the first :meth:`step`; without it the first step's inputs are used.
        """
        self._start = start.copy()

    # ------------------------------------------------------------------ the week
    def step(self, week: int, inputs: DomesticInputs, active) -> np.ndarray:
        """Advance the track, hold elections, and test the government's survival.

        The government in office chooses its agenda from what it can see (7.13): it
        holds the two-thirds vote only if it expects to be within ``vote_margin`` of the
        votes needed, a referendum only if it expects to win it by ``referendum_margin``,
        and a snap election only at a deadlock, once its mandate is ``snap_min_weeks``
        old and if it expects to gain seats. Every government, the start's or a
        successor, faces the same elections and hazards (7.14, 7.15).

        Args:
            week: Current week index.
            inputs: This week's mobilisation, tension, incentives and the opposition's
                utility of the table.
            active: Worlds still running (not signed, not escalated), ``(W,)``.

        Returns:
            Boolean ``(W,)``: the government in office changed this week (it fell or
            lost an election); ``in_office`` tells which side governs now.
        """
        c, g, par = self.p.constitution, self.p.government, self.p.parliament
        self._inputs = inputs
        if self._start is None:
            self._start = inputs.copy()
        u_gov = self.rng.random(self.W)
        last = ROWS - 1
        self.event[:] = DomesticEvent.NONE
        active = np.ascontiguousarray(active, dtype=bool)
        fell = np.zeros(self.W, dtype=bool)
        by_election = np.zeros(self.W, dtype=bool)
        N = float(g.total_seats)

        # parliament's vote on putting the draft to referendum (Art. 202(1)), when the
        # government expects to carry it (or to come within vote_margin of it)
        ready = kd.due_worlds(active, self.pursuing, self.stage, self.next_event, week,
                              int(Stage.DRAFTING))
        hold = (self.expected_yes(ready, inputs)
                >= self.seats_needed(ready) - par.vote_margin[ready])
        wait = ready[~hold]
        if wait.size:
            self.postponed[wait] += 1
            self.stage[wait] = Stage.COOLDOWN
            self.next_event[wait] = week + c.vote_retry_weeks[wait]
            self.event[wait] = DomesticEvent.VOTE_POSTPONED
            self.event[wait[self._deadlock(wait, week)]] = DomesticEvent.EARLY_ELECTION
        vote = ready[hold]
        if vote.size:
            k = np.minimum(self.votes[vote], last)
            self.votes[vote] += 1
            q = self.deputy_willingness(vote, k, inputs)
            # under a successor the deputies outside it are the former governing party's
            w = self.p.parliament.former_government_willingness[vote]
            q_p = rules.logistic(_logit(w) + par.faction_noise[vote] * self.z_former[vote, k])
            # only deputies who hold seats vote: the government's own and the others' yes
            yes = kd.vote_yes(vote, k, q, q_p, self.u_deputies, self.u_former,
                              self.faction_seats, self.vacant, self.party_seats,
                              self.defectors, self.seats, self.in_office,
                              self.max_opposition_yes)
            assert (yes <= N - self.vacant[vote].sum(axis=1) + 1e-9).all(), \
                "more yes votes than seated deputies"
            passed = yes >= self.seats_needed(vote)
            alt = (~passed & c.alternative_route
                   & (self.u_alternative[vote, k]
                      < c.alternative_route_probability[vote]))
            go = passed | alt
            delay = (np.where(alt, c.alternative_route_weeks[vote], 0.0)
                     + c.campaign_weeks[vote])
            self.next_event[vote[go]] = week + delay[go]
            self.draft_votes[vote[go]] = yes[go]  # below the bar only on the bypass
            self.bypassed[vote[alt]] = True
            self.stage[vote[go]] = Stage.CAMPAIGN
            # a failed vote: the government retries later or calls a snap election
            failed = vote[~go]
            self.next_event[failed] = week + c.vote_retry_weeks[failed]
            self.stage[failed] = Stage.COOLDOWN
            snap = np.zeros(vote.size, dtype=bool)
            snap[~go] = self._deadlock(failed, week)
            self.event[vote] = np.where(go, DomesticEvent.DRAFT_SENT,
                                        np.where(snap,
                                                 DomesticEvent.EARLY_ELECTION,
                                                 DomesticEvent.VOTE_FAILED))

        # referendum day (a draft sent this week waits for its campaign), held only when
        # the government expects to win it: y_expected - threshold >= referendum_margin
        ripe = kd.due_worlds(active, self.pursuing, self.stage, self.next_event, week,
                             int(Stage.CAMPAIGN))
        r = self.p.referendum
        # the opposition picks what defeats the draft more likely (referendum_plan)
        y_exp, lead_all, boycott_all, t_yes_all, t_no_all = self.referendum_plan(ripe)
        go_ref = lead_all >= c.referendum_margin[ripe]
        waiting = ripe[~go_ref]
        self.event[waiting[~self._waiting[waiting]]] = DomesticEvent.REFERENDUM_POSTPONED
        self._waiting[:] = False
        self._waiting[waiting] = True
        ref = ripe[go_ref]
        if ref.size:
            k = np.minimum(self.referendums[ref], last)
            self.referendums[ref] += 1
            self.referendum_week[ref] = np.where(self.referendum_week[ref] < 0, week,
                                                 self.referendum_week[ref])
            y_exp, boycott = y_exp[go_ref], boycott_all[go_ref]
            self.referendum_lead[ref] = lead_all[go_ref]
            t_yes, t_no = t_yes_all[go_ref], t_no_all[go_ref]
            y_day = np.clip(y_exp + r.day_noise[ref] * self.z_referendum[ref, k],
                            0.0, 1.0)
            ok, share, yes_reg, _ = rules.referendum(y_day, t_yes, t_no,
                                                     r.yes_threshold[ref], r.quorum[ref])
            self.yes_cast[ref] = share
            self.yes_registered[ref] = yes_reg
            self.strategy[ref] = np.where(boycott, Strategy.BOYCOTT, Strategy.CAMPAIGN_NO)
            self.referendum_passed[ref[ok]] = True
            # Baku reads the adopted text: accepted, or a revision goes round again
            accepted = ok & (self.u_baku[ref, k] < c.baku_accepts_text[ref])
            self.stage[ref[accepted]] = Stage.PASSED
            again = ref[~accepted]
            self.stage[again] = Stage.COOLDOWN
            self.next_event[again] = week + c.cooldown_weeks[again]
            # a referendum lost: the public rejected the government's concession (1998)
            topple = ~ok & (self.u_failure[ref, k] < c.failure_hazard[ref])
            fell[ref[topple]] = True
            self.event[ref] = np.where(accepted, DomesticEvent.REFERENDUM_PASSED,
                                       np.where(ok, DomesticEvent.TEXT_REJECTED,
                                                DomesticEvent.REFERENDUM_FAILED))

        # cool-down ends: the draft goes to parliament next
        kd.end_cooldown(active, self.stage, self.next_event, week, int(Stage.COOLDOWN),
                        int(Stage.DRAFTING))

        # elections: scheduled ones, and snap elections a government called
        held = active & (self.early_election == week)
        scheduled = week in self.election_weeks
        if scheduled:
            held |= active
        if held.any():
            lost = self._election(np.flatnonzero(held), week)
            by_election |= lost & ~fell
            fell |= lost
            if scheduled:
                self.election_seats[self._election_dates[week]][active] = \
                    self.party_seats[active]

        # survival: the same weekly hazard for every government in office (7.15), the
        # sum of its terms h = h_0 + h_m clip((m - m*) / (1 - m*)) + h_out: any cause,
        # mass protest (2018), outside powers' lever (7.9); a further term is one more
        # addend in kernels_domestic.government_falls
        kd.government_falls(u_gov, active, _world(inputs.mobilisation, self.W),
                            _world(inputs.outside_fall_hazard, self.W),
                            *self._fall_args, fell)
        if fell.any():
            self._change_government(fell, by_election & fell, week)
        return fell

    def fall_hazard(self, inputs: DomesticInputs) -> np.ndarray:
        """Weekly chance the government in office falls, ``(W,)``: the sum of its terms.

        ``h = h_0 + h_m clip((m - m*) / (1 - m*)) + h_out`` (7.15), the hazard of the
        survival draw in :meth:`step` (:func:`sim.model.kernels_domestic.fall_hazard`, the
        same expression); for reading its terms (``experiments/remeasure/hazards.py``).
        """
        return kd.fall_hazard(_world(inputs.mobilisation, self.W),
                              _world(inputs.outside_fall_hazard, self.W), *self._fall_args)

    def _election(self, idx: np.ndarray, week: int) -> np.ndarray:
        """Hold a parliamentary election in worlds ``idx``; where the government lost, ``(W,)``.

        ``v = clip(v0 + beta (S - S0) + sigma z)`` is the vote share of the party that
        governs at the start; its seats ``min(round(clip(v varsigma) N), floor(cap N))``
        (the Electoral Code leaves at least a third of the seats to the other forces);
        the factions share the rest in proportion to their seats. That party governs
        after the election iff it holds more than half the seats; otherwise the
        factions do (a successor with their seats).
        Computed in place by :func:`sim.model.kernels_domestic.election`.
        """
        lost = np.zeros(self.W, dtype=bool)
        kd.election(idx, week, float(self.p.government.total_seats), self.elections_held,
                    self.z_election, self.support, self.support0, *self._election_args,
                    self.last_vote_share, self.party_seats, self.defectors,
                    self.faction_seats, self.vacant, self.early_election, self.mandate_week,
                    self.seats, self.in_office, self.event, int(DomesticEvent.ELECTION_HELD),
                    int(DomesticEvent.ELECTION_LOST), lost)
        return lost

    def _change_government(self, fell: np.ndarray, by_election: np.ndarray,
                           week: int) -> None:
        """The government in office falls in ``fell`` worlds; the other side takes over.

        Where the party of the start governed, a successor takes office: after a lost
        election with the seats the factions won; otherwise a coalition that elects a
        prime minister with a majority of all deputies (Art. 149): every seated
        opposition deputy plus as many of the party's deputies as it needs
        (``defectors``, as Ter-Petrosyan's majority defected in 1998). It pursues the new
        constitution with probability ``successor_pursues`` (then a new vote comes after
        ``vote_retry_weeks``); otherwise the track is abandoned unless the constitution
        has already changed. Where a successor governed, the party of the start returns:
        with the seats it won, or its whole group (the defectors rejoin); it pursues the
        constitution again. Either way the new government faces the same elections and
        hazards as the old one.
        Computed in place by :func:`sim.model.kernels_domestic.change_government`.
        """
        kd.change_government(
            fell, by_election, week, float(self.p.government.total_seats),
            self.faction_seats, self.vacant, self.party_seats, self.u_successor,
            *self._successor_args, self.fell_week, self.changes, self.defectors, self.seats,
            self.in_office, self.early_election, self.pursuing, self.stage, self.next_event,
            self._waiting, self.event, int(Stage.PASSED), int(Stage.ABANDONED),
            int(Stage.COOLDOWN), int(DomesticEvent.ELECTION_LOST),
            int(DomesticEvent.GOVERNMENT_FELL))

    def ratify(self, signed: np.ndarray, week: int) -> None:
        """Schedule the Constitutional Court's check and ratification for ``signed`` worlds.

        The Court finds the treaty compatible with probability ``court_approval`` after
        ``court_weeks``; both parliaments then ratify after ``parliament_weeks`` (the
        government that signed holds a majority; Azerbaijan's parliament follows its
        president). An incompatible finding leaves the treaty unratified: amending the
        constitution again would need a new vote and referendum, which the model does not
        run after signing.
        """
        rt = self.p.ratification
        idx = np.flatnonzero(signed)
        ok = self.u_court[idx] < rt.court_approval[idx]
        when = np.round(week + rt.court_weeks[idx]
                        + rt.parliament_weeks[idx]).astype(np.int64)
        self.ratify_week[idx] = np.where(ok, when, -1)

