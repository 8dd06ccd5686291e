"""Armenian domestic politics: public support, the constitutional track, the government.

The constitutional track is a per-world state machine:

``DRAFTING --(draft ready)--> parliament vote --(supermajority, or the alternative
route)--> CAMPAIGN --(referendum week)--> PASSED`` or, on failure, ``COOLDOWN`` and a new
attempt while attempts remain; ``ABANDONED`` when attempts run out or a successor
government takes over before the constitution has changed.
"""

from __future__ import annotations

import numpy as np

from sim import rules

DRAFTING, CAMPAIGN, PASSED, COOLDOWN, ABANDONED = 0, 1, 2, 3, 4

STAGE_NAMES = {"drafting": DRAFTING, "passed": PASSED, "abandoned": ABANDONED}


class DomesticArena:
    """Public support, parliament, referendum and government survival in every world.

    Attributes:
        support: Share of registered voters backing the peace agenda, ``(W,)``.
        stage: Constitutional-track stage, ``(W,)`` int.
        next_event: Week of the next step on the track, ``(W,)``.
        attempts: Failed attempts so far, ``(W,)``.
        seats: Seats held by the government, ``(W,)``.
        fell_week: Week the incumbent government fell (-1 if it did not), ``(W,)``.
        referendums / referendum_passed: Counts and result, ``(W,)``.
    """

    def __init__(self, params, start_date, W: int, streams):
        self.p = params
        self.W = W
        self.rng = streams["domestic.government"]
        c = params.constitution
        self.support = rules.per_world(params.support.initial, W)
        self.stage = np.full(W, STAGE_NAMES[c.stage], dtype=np.int64)
        self.next_event = rules.per_world(c.draft_weeks, W)
        self.attempts = np.zeros(W, dtype=np.int64)
        self.seats = np.full(W, float(params.government.seats))
        self.fell_week = np.full(W, -1, dtype=np.int64)
        self.referendums = np.zeros(W, dtype=np.int64)
        self.referendum_passed = self.stage == PASSED
        self.last_vote_share = np.full(W, np.nan)
        self.election_weeks = sorted(
            {round((d - start_date).days / 7) for d in params.government.elections
             if d >= start_date})
        self.event = np.zeros(W, dtype=np.int64)  # per-week event code for traces
        # Randomness of the rare events is drawn once per world and indexed by attempt
        # or election, so the k-th referendum of world i uses the same numbers in every
        # scenario (common random numbers) and weeks without events cost no draws. Each
        # kind has its own stream and is drawn as (events, worlds): row k is the same
        # whatever the number of attempts or elections allowed.
        A = c.max_attempts
        E = max(1, len(self.election_weeks))
        self.z_defection = streams["domestic.defection"].standard_normal((A, W)).T
        self.u_alternative = streams["domestic.alternative"].random((A, W)).T
        self.z_referendum = streams["domestic.referendum"].standard_normal((A, W)).T
        self.u_failure = streams["domestic.failure"].random((A, W)).T
        self.z_election = streams["domestic.election"].standard_normal((E, W)).T

    @property
    def constitution_changed(self) -> np.ndarray:
        """Whether the new constitution has been adopted, ``(W,)``."""
        return self.stage == PASSED

    @property
    def government_fell(self) -> np.ndarray:
        """Whether the incumbent government has fallen, ``(W,)``."""
        return self.fell_week >= 0

    def update_support(self, mobilisation, tension, spoiling, mediator_effect) -> None:
        """Move public support toward its target.

        ``S' = S + a (S* - S)`` with ``S* = baseline - e_m m - e_T T - e_s sigma +
        mediator_effect`` (mediators' support effects and incentives, see the model).
        """
        sp = self.p.support
        target = (sp.baseline - sp.mobilisation_effect * mobilisation
                  - sp.tension_effect * tension - sp.spoiler_effect * spoiling
                  + mediator_effect)
        self.support = np.clip(self.support + sp.adjust_rate * (np.clip(target, 0, 1)
                                                                - self.support), 0.0, 1.0)

    def step(self, week: int, mobilisation, active) -> np.ndarray:
        """Advance the track, hold elections, and test government survival.

        Args:
            week: Current week index.
            mobilisation: Opposition mobilisation, ``(W,)``.
            active: Worlds still running (not signed, not escalated), ``(W,)``.

        Returns:
            Boolean ``(W,)``: the incumbent government fell this week.
        """
        c, g = self.p.constitution, self.p.government
        u_gov = self.rng.random(self.W)
        last = self.z_defection.shape[1] - 1
        self.event[:] = 0
        due = active & (week >= self.next_event)
        incumbent = ~self.government_fell

        # parliament vote on a finished draft (computed only where one is held)
        vote = np.flatnonzero(due & (self.stage == DRAFTING) & incumbent)
        if vote.size:
            k = np.minimum(self.attempts[vote], last)
            seats = self.seats[vote]
            opp_seats = g.total_seats - seats
            q = np.clip(rules.take(c.defection_rate, vote) * (1.0 - rules.take(mobilisation, vote)),
                        0.0, 1.0)
            defectors = (opp_seats * q
                         + np.sqrt(opp_seats * q * (1 - q)) * self.z_defection[vote, k])
            needed = np.ceil(np.round(rules.take(c.supermajority, vote) * g.total_seats, 2))
            passed = seats + np.round(defectors) >= needed
            alt = (~passed & c.alternative_route
                   & (self.u_alternative[vote, k]
                      < rules.take(c.alternative_route_probability, vote)))
            go = passed | alt
            delay = (np.where(alt, rules.take(c.alternative_route_weeks, vote), 0.0)
                     + rules.take(c.campaign_weeks, vote))
            self.next_event[vote[go]] = week + delay[go]
            self.stage[vote[go]] = CAMPAIGN
            self._fail(vote[~go], week)
            self.event[vote] = np.where(go, 1, 2)

        # referendum day (a draft sent this week waits for its campaign)
        fell = np.zeros(self.W, dtype=bool)
        ref = np.flatnonzero(active & incumbent & (self.stage == CAMPAIGN)
                             & (week >= self.next_event))
        if ref.size:
            k = np.minimum(self.attempts[ref], last)
            noise = rules.take(c.support_noise, ref) * self.z_referendum[ref, k]
            s_day = np.clip(self.support[ref] + noise, 0.0, 1.0)
            ok, _, _, _ = rules.referendum(
                s_day, rules.take(c.turnout, ref),
                rules.take(c.opposition_turnout_effect, ref), rules.take(mobilisation, ref),
                rules.take(c.yes_threshold, ref), rules.take(c.quorum, ref))
            self.referendums[ref] += 1
            self.stage[ref[ok]] = PASSED
            self.referendum_passed[ref[ok]] = True
            failed = ref[~ok]
            topple = self.u_failure[failed, k[~ok]] < rules.take(c.failure_hazard, failed)
            self._fail(failed, week)
            fell[failed[topple]] = True
            self.event[ref] = np.where(ok, 3, 4)

        # cool-down ends: a new draft goes to parliament next
        again = active & (self.stage == COOLDOWN) & (week >= self.next_event)
        self.stage = np.where(again, DRAFTING, self.stage)

        # scheduled elections
        if week in self.election_weeks:
            z = self.z_election[:, self.election_weeks.index(week)]
            share = np.clip(g.election_vote_share + g.election_support_slope
                            * (self.support - self.p.support.baseline)
                            + g.election_noise * z, 0.0, 1.0)
            seats = np.round(np.clip(share * g.seats_per_vote_share, 0, 1) * g.total_seats)
            self.last_vote_share = np.where(active, share, self.last_vote_share)
            lost = active & incumbent & (seats < g.total_seats / 2.0)
            self.seats = np.where(active & incumbent, seats, self.seats)
            fell |= lost
            self.event[active] = np.where(lost[active], 6, 5)

        # government survival under protest
        thr = g.mobilisation_threshold
        over = np.clip((mobilisation - thr) / np.maximum(1e-9, 1.0 - thr), 0.0, 1.0)
        hazard = g.fall_base_hazard + g.fall_mobilisation_hazard * over
        fell |= active & (u_gov < hazard)
        fell &= incumbent
        if fell.any():
            self.fell_week = np.where(fell, week, self.fell_week)
            self.stage = np.where(fell & (self.stage != PASSED), ABANDONED, self.stage)
            # a successor government holds a working majority of its own
            self.seats = np.where(fell, np.ceil(g.total_seats / 2.0 + 1), self.seats)
            self.event[fell] = 7
        return fell

    def _fail(self, failed: np.ndarray, week: int) -> None:
        """Record failed attempts in the worlds indexed by ``failed``."""
        c = self.p.constitution
        self.attempts[failed] += 1
        exhausted = self.attempts[failed] >= c.max_attempts
        self.stage[failed] = np.where(exhausted, ABANDONED, COOLDOWN)
        self.next_event[failed] = week + rules.take(c.cooldown_weeks, failed)


#: Codes in :attr:`DomesticArena.event` for traces.
EVENT_NAMES = {1: "draft sent to referendum", 2: "supermajority vote failed",
               3: "referendum passed", 4: "referendum failed", 5: "election held",
               6: "government lost election", 7: "government fell"}
