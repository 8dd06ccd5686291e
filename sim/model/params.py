"""Typed model parameters and their validation.

The YAML files under ``configs/`` are the single home of every default; this module
holds only the schema: which keys exist, their types, units and allowed ranges. A plain
nested ``dict`` (from the YAML loader in :mod:`sim.experiment.config` or from Hydra) becomes a
:class:`ModelParams` through :func:`parse_params`, which rejects unknown keys, missing
keys, wrong types, values out of range and references to issues, actors or flags that do
not exist, each with a one-line :class:`~sim.errors.ConfigError`.

Two types, one schema. Every parameter class is a frozen dataclass generic over the type
``N`` of its numeric (distributable) leaves:

* :data:`ModelSpec` ``= ModelParams[float | Dist]`` is the parsed YAML: each such leaf a
  number or a distribution (:mod:`sim.model.dists`);
* :data:`DrawnParams` ``= ModelParams[numpy.ndarray]`` is what a model of ``W`` worlds
  holds after :func:`sim.model.state.draw_parameters`: every such leaf an array of shape
  ``(W,)`` (a constant repeated, or the per-world draws).

Generic dataclasses keep one list of keys, ranges and docs for both (the parser and the
drawing walk the same fields), and let mypy check that the model only ever meets arrays
(no "scalar or array" branches). Whole numbers, switches, choices, dates and the
fixed-only numbers (``loss_exponent``, red-line bounds) are the same in both.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, cast

import numpy as np

from sim.errors import ConfigError
from sim.model.dists import Dist, parse_dist

#: A numeric leaf of the parsed YAML: a number or a distribution drawn per world.
Scalar = float | Dist

#: State flags that preconditions may name.
FLAGS = ("constitution_changed", "minsk_closed", "initialled", "tripp_framework",
         "tripp_construction", "pledge_binding")
#: Flags that can be true at the start (``state.flags``), be set by a dated event
#: (``state.events``) or be made true by a signatory at the moment of signing
#: (``linkages``). ``constitution_changed`` only comes from the constitutional track
#: (``domestic.constitution.stage``). ``pledge_binding`` (Armenia's binding pledge of no
#: territorial claims) only from an event that needs the Court and a majority of the
#: National Assembly (``state.pending_kinds.<kind>.needs_majority``; ``baku_pledge_path``).
SETTABLE_FLAGS = ("minsk_closed", "initialled", "tripp_framework", "tripp_construction",
                  "pledge_binding")
#: Separator of alternatives in a precondition: ``"constitution_changed|pledge_binding"``
#: holds when either flag holds.
ANY_OF = "|"
#: Roles an actor may take. Adding an actor with one of these roles is YAML only.
ROLES = ("signatory", "mediator", "spoiler", "opposition")
#: What can make a signatory reopen the initialled text (docs/model.md 7.2).
REOPEN_TRIGGERS = ("none", "unmet_demand", "successor")
#: Mediator proposal rules.
RULES = ("compromise", "nash")
#: Constitutional-track stages an initial state may name.
STAGES = ("drafting", "passed", "abandoned")

INF = math.inf


def lookup(obj: Any, key: str) -> Any:
    """The value at dotted ``key`` of parameters ``obj``.

    Parts are attributes or mapping entries (``actors.<name>``), e.g.
    ``lookup(params, "incidents.base_rate")``.
    """
    for part in key.split("."):
        obj = obj[part] if isinstance(obj, Mapping) else getattr(obj, part)
    return obj


def _num(lo: float = -INF, hi: float = INF, *, unit: str = "", doc: str = "",
         dist: bool = True, lo_open: bool = False, hi_open: bool = False) -> Any:
    return field(metadata=dict(kind="num", lo=lo, hi=hi, unit=unit, doc=doc, dist=dist,
                               lo_open=lo_open, hi_open=hi_open))


def _int(lo: int, hi: int | float = INF, *, doc: str = "") -> Any:
    return field(metadata=dict(kind="int", lo=lo, hi=hi, doc=doc))


def _bool(doc: str = "") -> Any:
    return field(metadata=dict(kind="bool", doc=doc))


def _str(doc: str = "") -> Any:
    return field(metadata=dict(kind="str", doc=doc))


def _choice(choices: tuple[str, ...], doc: str = "") -> Any:
    return field(metadata=dict(kind="choice", choices=choices, doc=doc))


def _date(doc: str = "") -> Any:
    return field(metadata=dict(kind="date", doc=doc))


def _dates(doc: str = "") -> Any:
    return field(metadata=dict(kind="dates", doc=doc))


def _flags(doc: str = "") -> Any:
    return field(metadata=dict(kind="flags", doc=doc))


def _issue_list(doc: str = "") -> Any:
    return field(metadata=dict(kind="issue_list", doc=doc))


def _issue_map(lo: float = 0.0, hi: float = 1.0, doc: str = "") -> Any:
    return field(metadata=dict(kind="issue_map", lo=lo, hi=hi, doc=doc))


def _bounds_map(doc: str = "") -> Any:
    return field(metadata=dict(kind="bounds_map", doc=doc))


def _name_map(lo: float = -INF, hi: float = INF, doc: str = "") -> Any:
    return field(metadata=dict(kind="name_map", lo=lo, hi=hi, doc=doc))


def _faction_map(doc: str = "") -> Any:
    return field(metadata=dict(kind="faction_map", doc=doc))


def _events(doc: str = "") -> Any:
    return field(metadata=dict(kind="events", doc=doc))


def _kinds(doc: str = "") -> Any:
    return field(metadata=dict(kind="kinds", doc=doc))


def _conditions(doc: str = "") -> Any:
    return field(metadata=dict(kind="conditions", doc=doc))


def _requests(doc: str = "") -> Any:
    return field(metadata=dict(kind="requests", doc=doc))


def _opt_date(doc: str = "") -> Any:
    return field(metadata=dict(kind="date", optional=True, doc=doc))


def _optional(kind: str, doc: str = "", **bounds: float) -> Any:
    """A field that may be missing (None), with a default, so it may follow defaults."""
    return field(default=None, metadata=dict(kind=kind, optional=True, doc=doc, **bounds))


def _actor_map(role: str, lo: float = -INF, hi: float = INF, doc: str = "") -> Any:
    return field(metadata=dict(kind="actor_map", role=role, lo=lo, hi=hi, doc=doc))


def _nested(optional: bool = False, doc: str = "") -> Any:
    return field(metadata=dict(kind="nested", optional=optional, doc=doc))


# ---------------------------------------------------------------------------- actors


@dataclass(frozen=True)
class ActorBase[N]:
    """What every actor has: positions, saliences, capability and utility shape."""

    role: str = _choice(ROLES, "role that decides which rules the actor follows")
    label: str = _str("display name")
    capability: N = _num(0, 1, lo_open=True, doc="influence (Achen's c), relative")
    position: dict[str, N] = _issue_map(doc="ideal point on each issue, in [0, 1]")
    salience: dict[str, N] = _issue_map(doc="how much each issue matters, in [0, 1]")
    loss_exponent: float = _num(1, 3, dist=False,
                                doc="utility shape: 1 linear loss, 2 quadratic loss")
    table_weight: N = _num(0, 10, doc="weight of the actor's position in the "
                                "mediator's package (multiplies capability)")


@dataclass(frozen=True)
class SignatoryParams[N](ActorBase[N]):
    """A party that signs: Armenia or Azerbaijan."""

    domestic_politics: bool = _bool("true for the side whose constitution, parliament, "
                                    "public and opposition are modelled (Armenia)")
    reservation: N = _num(0, 1, doc="utility of no deal at the start (utility units)")
    military_weight: N = _num(-1, 1, doc="reservation change per unit of military "
                                   "advantage (balance - 0.5) on this side's favour")
    time_pressure: N = _num(-1, 1, unit="utility/year",
                                 doc="reservation change per year of talks (negative: "
                                 "no deal grows costlier)")
    patience: N = _num(0, 1, doc="0 concedes at the full rate, 1 never concedes")
    concession_rate: N = _num(0, 1, unit="1/week",
                                   doc="share of the distance to the table moved per week")
    acceptance_noise: N = _num(0, 1, doc="sd of the weekly decision noise on the "
                                    "acceptance margin (utility units)")
    initial_concession: N = _num(0, 1, doc="how far the stated position starts from "
                                      "the ideal toward the initial text (0 ideal, 1 text)")
    red_lines: dict[str, tuple[float, float]] = _bounds_map(
        "terms this side never signs beyond: issue -> {min: x, max: y} (an indivisible "
        "commitment)")
    preconditions: tuple = _conditions("state flags that must hold before this side "
                                       "signs ('a|b': either)")
    linkages: tuple = _flags("flags this side makes true at the moment of signing")
    stated_demands: dict[str, tuple[float, float]] = _bounds_map(
        "terms this side has demanded in the record: issue -> {min: x, max: y} ({} for "
        "none); coercion presses for them and a reopening side restates them")
    stated_flags: tuple = _flags("state flags this side has demanded in the record (its "
                                 "stated preconditions); each unmet one is an unmet "
                                 "demand for coercion")
    reopen_trigger: str = _choice(REOPEN_TRIGGERS, "what makes this side reopen the "
                                  "initialled text: none; unmet_demand (the text fails one "
                                  "of its stated_demands); successor (its government has "
                                  "fallen; the domestic-politics side only)")
    requests: dict[str, str] = _requests(
        "precondition flag -> pending kind: when both sides first accept a package while "
        "the flag is unmet and no event is known to set it, the parties request it and "
        "it completes by the kind's prior (signing waits for it); inert for a flag that "
        "is not one of this side's preconditions")
    reopen_hazard: N = _num(0, 1, unit="1/week", doc="weekly chance of reopening "
                                 "the initialled text while the trigger holds and this "
                                 "side holds")


@dataclass(frozen=True)
class MediatorParams[N](ActorBase[N]):
    """An outside broker (EU, US; Turkey in the YAML extension)."""

    attention: N = _num(0, 1, doc="initial engagement")
    attention_floor: N = _num(0, 1, doc="level attention fades toward")
    attention_fade: N = _num(0, 1, unit="1/week", doc="weekly share of the gap "
                                  "between attention and its floor that closes")
    crisis_attention: N = _num(0, 1, doc="attention regained per unit of tension")
    western: N = _num(0, 1, doc="how Western the broker is (drives Russian spoiling)")
    incentives: dict[str, N] = _name_map(-1, 1, doc="reservation reduction offered to each "
                                 "signatory at full attention (utility units)")
    gas_dependence: N = _num(0, 1, doc="share of the incentive/pressure on Azerbaijan "
                                  "withheld because of energy needs")
    guarantee: N = _num(0, 1, doc="share of the commitment cost removed at full "
                             "attention (third-party guarantee)")
    monitors: MonitorParams[N] | None = _nested(optional=True,
                                             doc="border monitors, or null for none")


@dataclass(frozen=True)
class MonitorParams[N]:
    """A civilian monitoring mission on the border (EUMA)."""

    damping: N = _num(0, 1, doc="share of the incident base rate removed while active")
    spiral_damping: N = _num(0, 1, doc="share of each incident's excitation (the Hawkes "
                                  "jump that makes incidents breed incidents) removed "
                                  "while active")
    attribution: N = _num(0, 1, doc="share of contested attributions the mission settles "
                               "while active (an observed incident does the damage of a "
                               "clearly attributed one)")


@dataclass(frozen=True)
class SpoilerParams[N](ActorBase[N]):
    """An outside power that loses from a deal brokered without it (Russia; Iran)."""

    strength: N = _num(0, 1, doc="maximum spoiling intensity")
    exclusion_weight: N = _num(0, 1, doc="weight of being excluded from the brokering")
    terms_weight: N = _num(0, 1, doc="weight of the table package's loss to it")
    alignment_sensitivity: N = _num(0, 1, doc="weight of Armenia's Western alignment")
    inclusion: N = _num(0, 1, doc="share of the brokering it takes part in")
    signing_cost: dict[str, N] = _name_map(-1, 1, doc="reservation increase of each signatory "
                                   "per unit of this actor's spoiling (utility units)")
    survival_hazard: N = _num(0, 1, unit="1/week", doc="weekly hazard of the Armenian "
                                    "government's fall added per unit of this actor's "
                                    "spoiling (economic and political pressure on it)")
    suspension: SuspensionParams[N] | None = _nested(
        optional=True, doc="an announced decision of this actor with a drawn outcome "
        "(Russia: the EAEU report on suspending Armenia), or null for none")


@dataclass(frozen=True)
class SuspensionParams[N]:
    """A pending decision of a spoiler, scheduled in the calendar, with a drawn outcome."""

    event: str = _str("calendar event (state.events) on whose week the outcome is known")
    probability: N = _num(0, 1, doc="prior chance the decision goes against Armenia "
                               "(membership suspended or suspension recommended)")
    pressure: N = _num(0, 1, doc="spoiling drive added from then on where it does")
    fall_hazard: N = _num(0, 1, unit="1/week", doc="weekly hazard of the government's "
                                "fall added from then on where it does (the economic "
                                "shock: market access, gas)")


@dataclass(frozen=True)
class OppositionParams[N](ActorBase[N]):
    """Armenia's domestic opposition and diaspora."""

    strength: N = _num(0, 2, doc="organisational strength: scales mobilisation gains")
    mobilisation: N = _num(0, 1, doc="initial mobilisation")
    concession_sensitivity: N = _num(0, 1, unit="1/week",
                                          doc="mobilisation gain per unit of the "
                                          "table's loss to the opposition above tolerance")
    tolerance: N = _num(0, 1, doc="loss the opposition tolerates without mobilising")
    incident_sensitivity: N = _num(0, 1, doc="mobilisation gain per unit incident damage")
    spoiler_sensitivity: N = _num(0, 1, unit="1/week",
                                       doc="mobilisation gain per unit of outside spoiling")
    decay: N = _num(0, 1, unit="1/week", doc="weekly demobilisation share")
    domestic_weight: N = _num(0, 2, doc="weight the government puts on the "
                                   "opposition's loss per unit mobilisation (two-level game)")
    position_pull: N = _num(0, 1, unit="1/week", doc="weekly pull of the government's "
                                 "stated position back toward its own ideal per unit "
                                 "mobilisation (concessions retracted under pressure)")
    leverage: N = _num(0, 10, doc="relative increase of the government's weight at the "
                            "table per unit mobilisation (Schelling's tied hands)")


ROLE_CLASSES: dict[str, type[ActorBase[Any]]] = {
    "signatory": SignatoryParams,
    "mediator": MediatorParams,
    "spoiler": SpoilerParams,
    "opposition": OppositionParams,
}

# ---------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class EscalationParams[N]:
    """Tipping from tension into an armed escalation (absorbing)."""

    max_weekly_probability: N = _num(0, 1, doc="weekly escalation probability at "
                                          "full tension and military parity (imbalance "
                                          "multiplies it)")
    tension_threshold: N = _num(0, 1, doc="tension at which the probability is half "
                                     "its maximum")
    tension_scale: N = _num(0.001, 1, doc="width of the logistic tipping curve")
    military_balance: N = _num(0, 1, doc="0.5 parity, 1 Azerbaijan fully dominant")
    arms_supply: N = _num(-0.5, 0.5, doc="shift of the balance from outside arms "
                               "supplies (Israel, Turkey)")
    imbalance_gain: N = _num(0, 10, doc="relative increase in escalation risk per "
                                  "unit imbalance |balance - 0.5| * 2")
    coercion_rate: N = _num(0, 1, unit="1/week", doc="weekly probability of a "
                                 "coercive attack when all of the counterpart's stated "
                                 "demands are unmet, per unit of its military advantage "
                                 "2 max(0, balance - 0.5); scaled by the unmet share")


@dataclass(frozen=True)
class IncidentParams[N]:
    """Border incidents: a discrete-time Hawkes process with contested attribution."""

    base_rate: N = _num(0, 50, unit="incidents/week", doc="background rate mu of the "
                             "latent (true) process")
    branching_ratio: N = _num(0, 0.95, doc="expected incidents triggered by one "
                                   "incident (eta < 1)")
    decay_weeks: N = _num(0.1, 52, unit="weeks", doc="e-folding time of excitation")
    tension_gain: N = _num(0, 10, doc="relative increase of the base rate per unit "
                                "tension")
    spoiler_gain: N = _num(0, 10, doc="relative increase of the base rate per unit "
                                "spoiling")
    severity_mean: N = _num(0.01, 0.99, doc="mean severity of an incident in (0, 1)")
    severity_concentration: N = _num(0.1, 100, doc="beta concentration of severity")
    fatality_rate: N = _num(0, 10, unit="deaths per unit severity",
                                 doc="expected fatalities per unit of severity")
    initiator_share: dict[str, N] = _name_map(0, 1, doc="relative share of latent incidents "
                                      "each signatory initiates (normalised to sum 1)")
    report_rate: dict[str, N] = _name_map(0, 20, doc="reports each signatory issues per latent "
                                  "violation by the other side (its perception)")
    admission: N = _num(0, 1, doc="reports a side issues per violation of its own, "
                             "relative to report_rate (each side mostly reports the "
                             "other's)")
    burst_rate: N = _num(0, 50, unit="incidents/week", doc="latent incidents/week "
                              "added to the background rate during a burst")
    burst_start_week: int = _int(0, 10_000, doc="first week of the burst")
    burst_weeks: int = _int(0, 10_000, doc="length of the burst in weeks (0: none)")
    ambiguity: N = _num(0, 1, doc="share of incidents whose attribution stays contested")
    investigation_mechanism: bool = _bool("a joint investigation mechanism is agreed")
    investigation_ambiguity: N = _num(0, 1, doc="contested share with the mechanism")
    clear_damage: N = _num(0, 1, doc="damage of a clearly attributed incident "
                                "relative to a contested one")
    tension_per_damage: N = _num(0, 5, doc="tension added per unit damage")
    tension_decay: N = _num(0, 1, unit="1/week", doc="weekly relaxation of tension")
    trust_per_damage: N = _num(0, 5, doc="share of trust lost per unit damage")
    trust_recovery: N = _num(0, 1, unit="1/week", doc="weekly trust regained in a "
                                  "calm week while talks go on")
    escalation: EscalationParams[N] = _nested()


@dataclass(frozen=True)
class NegotiationParams[N]:
    """The mediator's table and the signatories' decisions."""

    rule: str = _choice(RULES, "how the mediator builds the package")
    table_inertia: N = _num(0, 0.99, doc="weekly share of the old package kept on "
                                 "the open issues")
    commitment_cost: N = _num(0, 1, doc="utility lost by a deal per unit of distrust "
                                   "(commitment problem)")
    initial_table: dict[str, N] = _issue_map(doc="the package on the table at the start (the text "
                                     "and the side issues)")
    text_issues: tuple = _issue_list("issues of the treaty text, fixed while the text is "
                                     "initialled and not reopened; the others are open "
                                     "side issues")
    reopening_trust_loss: N = _num(0, 1, doc="share of trust lost when a side "
                                        "reopens the initialled text")


@dataclass(frozen=True)
class SupportParams[N]:
    """Armenian public support for the government's peace agenda: one latent state.

    One draw per world, ``initial``, is both where support starts and the level it
    reverts to; shocks (a worse climate than at the start) pull it below that level.
    """

    initial: N = _num(0, 1, doc="share backing the peace agenda at the start, and the "
                           "level support reverts to (one latent draw per world)")
    adjust_rate: N = _num(0, 1, unit="1/week", doc="weekly share of the gap to the "
                               "target closed (mean reversion)")
    mobilisation_effect: N = _num(0, 1, doc="support lost per unit of mobilisation above "
                                       "the reference")
    tension_effect: N = _num(0, 1, doc="support lost per unit of tension above the "
                                  "reference")
    spoiler_effect: N = _num(0, 1, doc="support lost per unit of spoiling above the "
                                  "reference")
    reference_mobilisation: N = _num(0, 1, doc="mobilisation of the climate the polls "
                                          "behind `initial` describe (the baseline's start)")
    reference_tension: N = _num(0, 1, doc="Armenia's tension in that climate")
    reference_spoiling: N = _num(0, 1, doc="spoiling in that climate")
    frozen: bool = _bool("support stays at its initial draw (switches the public-support "
                         "channel off)")


@dataclass(frozen=True)
class GovernmentParams[N]:
    """The Armenian government's seats and survival."""

    seats: int = _int(0, 1000, doc="seats held by the governing party")
    total_seats: int = _int(1, 1000, doc="seats in parliament")
    fall_base_hazard: N = _num(0, 1, unit="1/week", doc="weekly chance of falling")
    fall_mobilisation_hazard: N = _num(0, 1, unit="1/week",
                                            doc="added weekly chance at full mobilisation "
                                            "above the threshold")
    mobilisation_threshold: N = _num(0, 1, doc="mobilisation above which it is at risk")
    successor_similarity: N = _num(0, 1, doc="how close a successor's positions are "
                                        "to the opposition's (0 same as before, 1 the "
                                        "opposition's)")
    elections: tuple = _dates("dates of scheduled parliamentary elections")
    election_vote_share: N = _num(0, 1, doc="governing party's expected vote share "
                                       "when support is at its baseline")
    election_support_slope: N = _num(0, 5, doc="vote share gained per unit support "
                                          "above baseline")
    election_noise: N = _num(0, 0.5, doc="sd of the vote share")
    seats_per_vote_share: N = _num(0.5, 3, doc="seat share won per unit vote share "
                                        "(wasted votes below the threshold)")
    seat_cap: N = _num(0.5, 1, doc="largest seat share one party may hold (the "
                            "Electoral Code gives the other forces at least 1/3)")
    early_election_probability: N = _num(0, 1, doc="chance the government calls a snap "
                                              "election at a deadlock (a failed or "
                                              "postponed vote) when its rule allows one")
    early_election_weeks: N = _num(1, 104, unit="weeks", doc="weeks from the call to "
                                        "the snap election")
    mandate_date: dt.date = _date("date of the election that gave the parliament in "
                                  "office at the start its mandate")
    snap_min_weeks: N = _num(0, 520, unit="weeks", doc="no snap election within this "
                                  "many weeks of a mandate")
    snap_seat_gain: N = _num(0, 1000, unit="seats", doc="seats the government must "
                                  "expect to gain to call a snap election")
    successor_pursues: N = _num(0, 1, doc="chance a successor government keeps "
                                     "pursuing the new constitution")


@dataclass(frozen=True)
class ConstitutionParams[N]:
    """The constitutional track: draft, parliament's decision, Baku's reading."""

    stage: str = _choice(STAGES, "where the track stands at the start")
    draft_weeks: N = _num(0, 520, unit="weeks", doc="weeks until a draft is ready")
    supermajority: N = _num(0.5, 1, doc="share of all deputies needed to send the "
                                 "draft to referendum")
    alternative_route: bool = _bool("a route to referendum that bypasses the supermajority "
                                    "(no legal source; scenario constitution_bypass_route)")
    alternative_route_probability: N = _num(0, 1, doc="chance the alternative route "
                                                 "succeeds once tried")
    alternative_route_weeks: N = _num(0, 520, unit="weeks",
                                           doc="delay of the alternative route")
    campaign_weeks: N = _num(0, 104, unit="weeks", doc="weeks from the vote to the "
                                  "referendum")
    vote_retry_weeks: N = _num(0, 520, unit="weeks", doc="weeks from a failed "
                                    "parliamentary vote to the next one")
    cooldown_weeks: N = _num(0, 520, unit="weeks", doc="weeks from a failed "
                                  "referendum (or a text Baku rejects) to the next vote")
    failure_hazard: N = _num(0, 1, doc="chance the government falls in the week a "
                                  "referendum fails")
    referendum_margin: N = _num(-1, 1, doc="expected yes share above the pass "
                                     "threshold the government needs to hold the "
                                     "referendum (-1: it holds it whatever it expects)")
    baku_accepts_text: N = _num(0, 1, doc="chance Baku accepts an adopted text as "
                                     "meeting its precondition")
    locks_issue: str = _str("issue fixed at 1 once the constitution has changed ('' none)")


@dataclass(frozen=True)
class FactionParams[N]:
    """One opposition faction of the National Assembly."""

    seats: int = _int(0, 1000, doc="seats won by the faction")
    vacant: int = _int(0, 1000, doc="of them, mandates refused and left vacant")
    willingness: N = _num(0, 1, lo_open=True, hi_open=True,
                               doc="chance one of its deputies votes to send the draft "
                               "to referendum at the start's conditions")


@dataclass(frozen=True)
class ParliamentParams[N]:
    """The opposition factions and what moves their deputies' votes on the draft."""

    factions: dict[str, FactionParams[N]] = _faction_map(
        "opposition factions: name -> {seats, vacant, willingness}")
    vacant_reduce_total: bool = _bool("legal assumption: vacant seats do not count in "
                                      "'the total number of parliamentarians'")
    vote_margin: N = _num(0, 1000, unit="deputies", doc="shortfall of expected yes "
                               "votes below those needed with which the government still "
                               "holds the two-thirds vote")
    former_government_willingness: N = _num(0, 1, lo_open=True, hi_open=True,
                                            doc="chance a deputy of the former governing "
                                            "party votes for a successor's draft")
    package_effect: N = _num(0, 50, doc="logit change of willingness per unit of the "
                                  "opposition's utility gain from the table since the start")
    incentive_effect: N = _num(0, 50, doc="logit change per unit of attention-weighted "
                                    "incentives offered to the domestic signatory")
    opinion_effect: N = _num(0, 50, doc="logit change per unit change of public "
                                  "support since the start")
    tension_effect: N = _num(0, 50, doc="logit change (down) per unit tension")
    mobilisation_effect: N = _num(0, 50, doc="logit change (down) per unit mobilisation "
                                       "above its starting level")
    faction_noise: N = _num(0, 10, doc="sd of a faction's shared logit shock at each "
                                 "vote (bloc discipline)")


#: How the opposition fights a referendum.
STRATEGIES = ("best", "campaign", "boycott")


@dataclass(frozen=True)
class ReferendumParams[N]:
    """The constitutional referendum."""

    yes_share: N = _num(0, 1, doc="share of votes cast for yes on a neutral day, "
                             "from the polls after the poll-to-vote correction")
    support_link: N = _num(0, 5, doc="elasticity of the yes share to general support: "
                                "relative change of the yes share per relative change "
                                "of support since the start (1: yes voters a fixed "
                                "share of the agenda's supporters)")
    day_noise: N = _num(0, 0.5, doc="sd of the yes share on the day (the campaign's "
                             "residual swing)")
    turnout: N = _num(0, 1, lo_open=True, doc="turnout of registered voters with a "
                           "contest and no mobilisation")
    campaign_mobilisation: N = _num(0, 5, doc="relative increase of no voters' turnout "
                                         "per unit mobilisation when the opposition "
                                         "campaigns no")
    boycott_no_abstention: N = _num(0, 1, doc="share of no voters who stay home under "
                                         "a boycott")
    boycott_yes_abstention: N = _num(0, 1, doc="share of yes voters who stay home "
                                          "under a boycott (no contest to win)")
    opposition_strategy: str = _choice(STRATEGIES, "best: campaign no or boycott, whichever "
                                       "defeats the draft more likely")
    yes_threshold: N = _num(0, 1, doc="share of votes cast needed (more than)")
    quorum: N = _num(0, 1, doc="yes votes needed as a share of registered voters")


@dataclass(frozen=True)
class RatificationParams[N]:
    """After signing: the Constitutional Court and the two parliaments."""

    court_weeks: N = _num(0, 104, unit="weeks", doc="weeks from signing to the "
                               "Constitutional Court's decision")
    court_approval: N = _num(0, 1, doc="chance the Court finds the treaty compatible "
                                  "with the constitution")
    parliament_weeks: N = _num(0, 104, unit="weeks", doc="weeks from the Court's "
                                    "decision to ratification by both parliaments")


@dataclass(frozen=True)
class DomesticParams[N]:
    """Armenian domestic politics."""

    support: SupportParams[N] = _nested()
    government: GovernmentParams[N] = _nested()
    parliament: ParliamentParams[N] = _nested()
    constitution: ConstitutionParams[N] = _nested()
    referendum: ReferendumParams[N] = _nested()
    ratification: RatificationParams[N] = _nested()


@dataclass(frozen=True)
class EventParams[N]:
    """A dated exogenous event (the calendar): it changes named state on its date."""

    label: str = _str("what happened or is scheduled")
    date: dt.date = _date("date the event changes the state")
    announced: dt.date | None = _opt_date(
        "date its date became public knowledge; a run includes the event on its date iff "
        "announced <= state.start_date (missing or null: not known by the record's end; "
        "then `date` is the earliest date a pending completion can fall on)")
    sets_flags: tuple = _flags("flags made true on the date")
    ends_mandate: str = _str("mediator whose monitors' mandate ends on the date ('' none)")
    spoiler_pressure: dict[str, N] = _actor_map("spoiler", 0, 1, doc="added spoiling drive of "
                                        "each named spoiler from the date on")
    source: str = _str("where the date comes from (or 'assumption')")
    pending_since: dt.date | None = _opt_date(
        "date the event became known as pending (a request, an order, a scheduled "
        "decision) before its date was known; a run starting from then until `announced` "
        "draws its completion from state.pending_kinds.<kind> (missing: never pending)")
    kind: str | None = _optional(
        "str", "the pending kind whose prior times the completion (state.pending_kinds)")
    renews_mandate: str | None = _optional(
        "str", "mediator whose monitors' mandate the event extends when it completes "
        "before the mandate's end ('' or missing: none)")
    renewal_weeks: int | None = _optional("int", "length of the extension (weeks)",
                                          lo=0, hi=10_000)


@dataclass(frozen=True)
class PendingKindParams[N]:
    """The prior of a kind of pending event: when and whether it completes."""

    probability: N = _num(0, 1, doc="chance the pending event completes at all (drawn "
                               "once per world)")
    hazard: N = _num(0, 1, lo_open=True, unit="1/week", doc="weekly chance of completion "
                          "from the later of the start and the earliest date (1: on "
                          "that date)")
    needs_majority: bool = _bool("completes only in a week the government holds a "
                                 "majority of the seats (an act of the National Assembly)")
    source: str = _str("where the prior comes from (or 'assumption')")


@dataclass(frozen=True)
class StateParams[N]:
    """The state of play at the start."""

    start_date: dt.date = _date("first week of the run")
    tension: N = _num(0, 1, doc="initial tension")
    trust: N = _num(0, 1, doc="initial trust between the signatories")
    flags: tuple = _flags("state flags true at the start besides those set by past events")
    events: dict[str, EventParams[N]] = _events(
        "the calendar: event name -> EventParams (null cancels an event a scenario "
        "inherits)")
    pending_kinds: dict[str, PendingKindParams[N]] = _kinds(
        "kind of pending event -> its completion prior (PendingKindParams)")
    excitation: N = _num(0, 50, unit="incidents/week", doc="Hawkes excitation at "
                              "the start (a burst of recent incidents)")
    western_alignment: N = _num(0, 1, doc="Western alignment of the domestic-politics "
                                     "signatory (0 Russian bloc, 1 EU/US)")


@dataclass(frozen=True)
class ModelParams[N]:
    """Everything the model needs, as typed objects."""

    issues: tuple[str, ...]
    issue_labels: dict
    actors: dict[str, ActorBase[N]]  # name -> the ActorBase subclass of its role
    incidents: IncidentParams[N]
    negotiation: NegotiationParams[N]
    domestic: DomesticParams[N]
    state: StateParams[N]

    # convenient views ------------------------------------------------------
    def by_role(self, role: str) -> dict[str, ActorBase[N]]:
        """Actors with the given role, in config order."""
        return {n: a for n, a in self.actors.items() if a.role == role}

    @property
    def signatories(self) -> dict[str, SignatoryParams[N]]:
        """The two signatories, the domestic-politics side first."""
        # The parser builds every role-"signatory" actor as SignatoryParams (ROLE_CLASSES).
        sig = cast(dict[str, SignatoryParams[N]], self.by_role("signatory"))
        return dict(sorted(sig.items(), key=lambda kv: not kv[1].domestic_politics))


#: The parsed YAML: numeric leaves are numbers or distributions.
ModelSpec = ModelParams[Scalar]
#: A model's parameters after drawing: every numeric leaf an array ``(W,)``.
DrawnParams = ModelParams[np.ndarray]

#: The top-level sections a model configuration holds.
MODEL_SECTIONS = ("issues", "actors", "incidents", "negotiation", "domestic", "state")


# ---------------------------------------------------------------------------- parsing


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _range_txt(md: dict) -> str:
    lo, hi = md["lo"], md["hi"]
    left = "(" if md.get("lo_open") else "["
    right = ")" if md.get("hi_open") else "]"
    return f"{left}{lo:g}, {hi:g}{right}"


def _parse_num(v: Any, key: str, md: dict) -> Scalar:
    if isinstance(v, dict):
        if not md.get("dist", True):
            raise ConfigError(key, "must be a number here (distributions not allowed)")
        if "dist" not in v:
            raise ConfigError(key, "must be a number or a distribution {dist: ..., ...}")
        return parse_dist(v, key, md["lo"], md["hi"])
    if not _is_number(v):
        raise ConfigError(key, f"must be a number in {_range_txt(md)}, got {v!r}")
    x = float(v)
    if math.isnan(x):
        raise ConfigError(key, f"must be a number in {_range_txt(md)}, got NaN")
    lo, hi = md["lo"], md["hi"]
    bad = x < lo or x > hi or (md.get("lo_open") and x == lo) or (md.get("hi_open") and x == hi)
    if bad:
        raise ConfigError(key, f"must be in {_range_txt(md)}, got {x:g}")
    return x


def _parse_date(v: Any, key: str) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v))
    except ValueError:
        raise ConfigError(key, f"must be a date YYYY-MM-DD, got {v!r}") from None


# One small parser per schema kind (``kind`` of a field's metadata). Each takes the YAML
# value, its dotted key, the field and the parse context (issues, signatories, roles) and
# returns the typed value or raises a one-line ConfigError naming the key.
Parser = Callable[[Any, str, Any, dict], Any]


def _p_num(v: Any, key: str, f: Any, ctx: dict) -> Scalar:
    return _parse_num(v, key, f.metadata)


def _p_int(v: Any, key: str, f: Any, ctx: dict) -> int:
    md = f.metadata
    if not (isinstance(v, int) and not isinstance(v, bool)) or not md["lo"] <= v <= md["hi"]:
        raise ConfigError(key, f"must be a whole number in [{md['lo']}, {md['hi']:g}], "
                          f"got {v!r}")
    return int(v)


def _p_bool(v: Any, key: str, f: Any, ctx: dict) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(key, f"must be true or false, got {v!r}")
    return v


def _p_str(v: Any, key: str, f: Any, ctx: dict) -> str:
    if not isinstance(v, str):
        raise ConfigError(key, f"must be a string, got {v!r}")
    return v


def _p_choice(v: Any, key: str, f: Any, ctx: dict) -> str:
    choices = f.metadata["choices"]
    if v not in choices:
        raise ConfigError(key, f"must be one of {', '.join(choices)}, got {v!r}")
    return v


def _p_date(v: Any, key: str, f: Any, ctx: dict) -> dt.date:
    return _parse_date(v, key)


def _p_dates(v: Any, key: str, f: Any, ctx: dict) -> tuple[dt.date, ...]:
    if not isinstance(v, list | tuple):
        raise ConfigError(key, f"must be a list of dates, got {v!r}")
    return tuple(_parse_date(x, f"{key}[{i}]") for i, x in enumerate(v))


def _p_flags(v: Any, key: str, f: Any, ctx: dict) -> tuple[str, ...]:
    if not isinstance(v, list | tuple):
        raise ConfigError(key, f"must be a list of flags ({', '.join(FLAGS)}), got {v!r}")
    for x in v:
        if x not in FLAGS:
            raise ConfigError(key, f"unknown flag {x!r}; allowed: {', '.join(FLAGS)}")
    return tuple(v)


def _p_conditions(v: Any, key: str, f: Any, ctx: dict) -> tuple[str, ...]:
    if not isinstance(v, list | tuple):
        raise ConfigError(key, f"must be a list of flags ({', '.join(FLAGS)}; 'a|b' for "
                          f"either), got {v!r}")
    out = []
    for x in v:
        alts = [a.strip() for a in str(x).split(ANY_OF)]
        for a in alts:
            if a not in FLAGS:
                raise ConfigError(key, f"unknown flag {a!r}; allowed: {', '.join(FLAGS)} "
                                  f"('a|b' for either)")
        out.append(ANY_OF.join(alts))
    return tuple(out)


def _p_requests(v: Any, key: str, f: Any, ctx: dict) -> dict[str, str]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise ConfigError(key, f"must map settable flags ({', '.join(SETTABLE_FLAGS)}) to "
                          f"pending kinds (state.pending_kinds), got {v!r}")
    v = {flag: kind for flag, kind in v.items() if kind is not None}  # null: no request
    for flag, kind in v.items():
        if flag not in SETTABLE_FLAGS:
            raise ConfigError(f"{key}.{flag}", f"cannot be requested; allowed: "
                              f"{', '.join(SETTABLE_FLAGS)}")
        if not isinstance(kind, str) or not kind:
            raise ConfigError(f"{key}.{flag}", f"must name a pending kind, got {kind!r}")
    return dict(v)


def _p_kinds(v: Any, key: str, f: Any, ctx: dict) -> dict[str, Any]:
    if v is None:
        v = {}
    if not isinstance(v, dict):
        raise ConfigError(key, "must map kinds of pending event to {probability, hazard, "
                          "needs_majority, source}")
    out = {}
    for name, k in v.items():
        if k is None:
            continue
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(f"{key}.{name}", "kind names must be identifiers")
        out[name] = _parse_dataclass(PendingKindParams, k, f"{key}.{name}", ctx)
    return out


def _p_issue_list(v: Any, key: str, f: Any, ctx: dict) -> tuple[str, ...]:
    issues = ctx["issues"]
    if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
        raise ConfigError(key, f"must be a list of issues ({', '.join(issues)}), got {v!r}")
    for x in v:
        if x not in issues:
            raise ConfigError(key, f"unknown issue {x!r}; issues are {', '.join(issues)}")
    if len(set(v)) != len(v):
        raise ConfigError(key, "lists an issue twice")
    return tuple(v)


def _leaf_md(f: Any) -> dict:
    """Metadata of the numeric leaves of a map field (distributions allowed)."""
    return dict(kind="num", lo=f.metadata["lo"], hi=f.metadata["hi"], dist=True)


def _p_issue_map(v: Any, key: str, f: Any, ctx: dict) -> dict[str, Scalar]:
    issues = ctx["issues"]
    if not isinstance(v, dict):
        raise ConfigError(key, f"must map each issue ({', '.join(issues)}) to a number")
    unknown = [k for k in v if k not in issues]
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", f"unknown issue; issues are "
                          f"{', '.join(issues)}")
    missing = [k for k in issues if k not in v]
    if missing:
        raise ConfigError(f"{key}.{missing[0]}", "missing; every issue needs a value")
    return {k: _parse_num(v[k], f"{key}.{k}", _leaf_md(f)) for k in issues}


def _p_bounds_map(v: Any, key: str, f: Any, ctx: dict) -> dict[str, tuple[float, float]]:
    issues = ctx["issues"]
    if not isinstance(v, dict):
        raise ConfigError(key, "must map issues to {min: x, max: y} bounds ({} for none)")
    out = {}
    for k, b in v.items():
        if k not in issues:
            raise ConfigError(f"{key}.{k}", f"unknown issue; issues are {', '.join(issues)}")
        if not isinstance(b, dict) or not b or set(b) - {"min", "max"}:
            raise ConfigError(f"{key}.{k}", "must be {min: x}, {max: y} or both, in [0, 1]")
        sub_md = dict(kind="num", lo=0.0, hi=1.0, dist=False)
        lo = _parse_num(b.get("min", 0.0), f"{key}.{k}.min", sub_md)
        hi = _parse_num(b.get("max", 1.0), f"{key}.{k}.max", sub_md)
        assert isinstance(lo, float) and isinstance(hi, float)  # dist=False: numbers
        if lo > hi:
            raise ConfigError(f"{key}.{k}", f"min must not exceed max, got {lo:g} > {hi:g}")
        out[k] = (lo, hi)
    return out


def _p_name_map(v: Any, key: str, f: Any, ctx: dict) -> dict[str, Scalar]:
    names = ctx["signatories"]
    if not isinstance(v, dict):
        raise ConfigError(key, f"must map signatories ({', '.join(names)}) to numbers")
    unknown = [k for k in v if k not in names]
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", f"not a signatory; signatories are "
                          f"{', '.join(names)}")
    return {k: _parse_num(v.get(k, 0.0), f"{key}.{k}", _leaf_md(f)) for k in names}


def _p_faction_map(v: Any, key: str, f: Any, ctx: dict) -> dict[str, Any]:
    if not isinstance(v, dict) or not v:
        raise ConfigError(key, "must map faction names to {seats, vacant, willingness}")
    out = {}
    for name, spec in v.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(f"{key}.{name}", "faction names must be identifiers")
        out[name] = _parse_dataclass(FactionParams, spec, f"{key}.{name}", ctx)
    return out


def _p_actor_map(v: Any, key: str, f: Any, ctx: dict) -> dict[str, Scalar]:
    role = f.metadata["role"]
    names = ctx["roles"].get(role, ())
    if not isinstance(v, dict):
        raise ConfigError(key, f"must map {role} actors ({', '.join(names)}) to numbers")
    for k in v:
        if k not in names:
            raise ConfigError(f"{key}.{k}", f"not a {role}; {role}s are "
                              f"{', '.join(names) or 'none'}")
    return {k: _parse_num(x, f"{key}.{k}", _leaf_md(f)) for k, x in v.items()}


def _p_events(v: Any, key: str, f: Any, ctx: dict) -> dict[str, Any]:
    if v is None:
        v = {}
    if not isinstance(v, dict):
        raise ConfigError(key, "must map event names to {label, date, announced, "
                          "sets_flags, ends_mandate, spoiler_pressure, source}")
    out = {}
    for name, ev in v.items():
        if ev is None:  # cancelled by a scenario or an override
            continue
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(f"{key}.{name}", "event names must be identifiers")
        out[name] = _parse_dataclass(EventParams, ev, f"{key}.{name}", ctx)
    return out


def _p_nested(v: Any, key: str, f: Any, ctx: dict) -> Any:
    if v is None and f.metadata.get("optional"):
        return None
    return _parse_dataclass(nested_type(f), v, key, ctx)


#: The parser of each schema kind.
PARSERS: dict[str, Parser] = {
    "num": _p_num, "int": _p_int, "bool": _p_bool, "str": _p_str, "choice": _p_choice,
    "date": _p_date, "dates": _p_dates, "flags": _p_flags, "issue_list": _p_issue_list,
    "issue_map": _p_issue_map, "bounds_map": _p_bounds_map, "name_map": _p_name_map,
    "faction_map": _p_faction_map, "actor_map": _p_actor_map, "events": _p_events,
    "nested": _p_nested, "kinds": _p_kinds, "conditions": _p_conditions,
    "requests": _p_requests,
}


def _parse_value(v: Any, key: str, f: Any, ctx: dict) -> Any:
    """Parse one field's YAML value with the parser of its schema kind."""
    if v is None and f.metadata.get("optional") and f.metadata["kind"] != "nested":
        return None
    return PARSERS[f.metadata["kind"]](v, key, f, ctx)


def nested_type(f: Any) -> type:
    """The parameter class a ``nested`` field holds (``MonitorParams[N] | None`` -> it)."""
    name = f.type if isinstance(f.type, str) else f.type.__name__
    name = name.replace(" | None", "").split("[")[0]
    return globals()[name]


def _parse_dataclass(cls: type, d: Any, path: str, ctx: dict) -> Any:
    if not isinstance(d, dict):
        raise ConfigError(path, f"must be a mapping of {cls.__name__} keys, got {d!r}")
    flds = {f.name: f for f in fields(cls)}
    unknown = [k for k in d if k not in flds]
    if unknown:
        raise ConfigError(f"{path}.{unknown[0]}" if path else unknown[0],
                          f"unknown key; allowed: {', '.join(flds)}")
    values: dict[str, Any] = {}
    for name, f in flds.items():
        key = f"{path}.{name}" if path else name
        if name not in d:
            if f.metadata.get("optional"):
                values[name] = None
                continue
            raise ConfigError(key, "missing; this key is required")
        values[name] = _parse_value(d[name], key, f, ctx)
    return cls(**values)


def _require_mapping(d: Any, key: str) -> dict:
    if not isinstance(d, dict):
        raise ConfigError(key, f"must be a mapping, got {d!r}")
    return d


def _check_events(state: StateParams, actors: dict) -> None:
    """Cross-checks of the calendar: dates in order, mandates that exist, one end each."""
    ended: dict[str, str] = {}
    for name, ev in state.events.items():
        key = f"state.events.{name}"
        if ev.announced is None and ev.pending_since is None:
            raise ConfigError(f"{key}.announced", "missing; an event needs `announced` "
                              "(its date known) or `pending_since` (known as pending)")
        if ev.pending_since is not None:
            if not ev.kind or ev.kind not in state.pending_kinds:
                raise ConfigError(f"{key}.kind", f"a pending event names a kind of "
                                  f"state.pending_kinds ({', '.join(state.pending_kinds)}"
                                  f"), got {ev.kind!r}")
            if ev.announced is not None and ev.pending_since > ev.announced:
                raise ConfigError(f"{key}.pending_since", f"must not be after `announced` "
                                  f"({ev.announced}), got {ev.pending_since}")
        r = ev.renews_mandate
        if r:
            a = actors.get(r)
            if a is None or a.role != "mediator":
                ok = [n for n, x in actors.items() if x.role == "mediator"]
                raise ConfigError(f"{key}.renews_mandate", f"{r!r} is not a mediator; "
                                  f"allowed: {', '.join(ok) or 'none'} (or '')")
            if not ev.renewal_weeks:
                raise ConfigError(f"{key}.renewal_weeks", "must be a positive number of "
                                  "weeks when renews_mandate names a mediator")
        if ev.announced is not None and ev.announced > ev.date:
            raise ConfigError(f"{key}.announced", f"must not be after the event's date "
                              f"({ev.date}), got {ev.announced}")
        for f in ev.sets_flags:
            if f not in SETTABLE_FLAGS:
                raise ConfigError(f"{key}.sets_flags", f"flag {f!r} cannot be set by an "
                                  f"event; allowed: {', '.join(SETTABLE_FLAGS)}")
        m = ev.ends_mandate
        if m:
            a = actors.get(m)
            if a is None or a.role != "mediator":
                ok = [n for n, x in actors.items() if x.role == "mediator"]
                raise ConfigError(f"{key}.ends_mandate", f"{m!r} is not a mediator; "
                                  f"allowed: {', '.join(ok) or 'none'} (or '')")
            if m in ended:
                raise ConfigError(f"{key}.ends_mandate", f"{m}'s mandate already ends in "
                                  f"event {ended[m]!r}; one event per mandate end")
            ended[m] = name


def parse_params(cfg: dict) -> ModelSpec:
    """Turn a plain nested mapping into validated :class:`ModelParams`.

    Args:
        cfg: A mapping with the sections in :data:`MODEL_SECTIONS` (extra top-level keys
            are not looked at, so a full run configuration can be passed).

    Raises:
        ConfigError: For the first problem found, naming the dotted key.
    """
    cfg = _require_mapping(cfg, "config")
    for s in MODEL_SECTIONS:
        if s not in cfg:
            raise ConfigError(s, "missing; this section is required")
    issues_cfg = _require_mapping(cfg["issues"], "issues")
    if not issues_cfg:
        raise ConfigError("issues", "needs at least one issue")
    labels = {}
    for name, spec in issues_cfg.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ConfigError(f"issues.{name}", "issue names must be identifiers")
        spec = _require_mapping(spec, f"issues.{name}")
        unknown = [k for k in spec if k not in ("label", "zero", "one")]
        if unknown:
            raise ConfigError(f"issues.{name}.{unknown[0]}", "unknown key; allowed: "
                              "label, zero, one")
        labels[name] = {k: str(spec.get(k, "")) for k in ("label", "zero", "one")}
    issues = tuple(labels)

    actors_cfg = _require_mapping(cfg["actors"], "actors")
    sig_names = [n for n, a in actors_cfg.items()
                 if isinstance(a, dict) and a.get("role") == "signatory"]
    roles: dict = {}
    for n, a in actors_cfg.items():
        if isinstance(a, dict):
            roles.setdefault(a.get("role"), []).append(n)
    ctx = {"issues": issues, "signatories": tuple(sig_names),
           "roles": {r: tuple(ns) for r, ns in roles.items()}}
    actors = {}
    for name, spec in actors_cfg.items():
        key = f"actors.{name}"
        spec = _require_mapping(spec, key)
        role = spec.get("role")
        if role not in ROLE_CLASSES:
            raise ConfigError(f"{key}.role", f"must be one of {', '.join(ROLES)}, got {role!r}")
        actors[name] = _parse_dataclass(ROLE_CLASSES[role], spec, key, ctx)

    sigs = {n: a for n, a in actors.items() if a.role == "signatory"}
    if len(sigs) != 2:
        raise ConfigError("actors", f"needs exactly two actors with role signatory, got "
                          f"{len(sigs)} ({', '.join(sigs) or 'none'})")
    if sum(a.domestic_politics for a in sigs.values()) != 1:
        raise ConfigError("actors", "exactly one signatory must have domestic_politics: true")
    opp = [n for n, a in actors.items() if a.role == "opposition"]
    if len(opp) > 1:
        raise ConfigError("actors", f"at most one actor may have role opposition, got "
                          f"{', '.join(opp)}")

    incidents = _parse_dataclass(IncidentParams, cfg["incidents"], "incidents", ctx)
    negotiation = _parse_dataclass(NegotiationParams, cfg["negotiation"], "negotiation", ctx)
    domestic = _parse_dataclass(DomesticParams, cfg["domestic"], "domestic", ctx)
    state = _parse_dataclass(StateParams, cfg["state"], "state", ctx)

    for name, a in actors.items():
        if a.role == "signatory":
            for flag, kind in a.requests.items():
                if kind not in state.pending_kinds:
                    raise ConfigError(f"actors.{name}.requests.{flag}",
                                      f"unknown pending kind {kind!r}; kinds: "
                                      f"{', '.join(state.pending_kinds) or 'none'}")
            for f in a.linkages:
                if f not in SETTABLE_FLAGS:
                    raise ConfigError(f"actors.{name}.linkages",
                                      f"flag {f!r} cannot be made true at signing; allowed: "
                                      f"{', '.join(SETTABLE_FLAGS)}")
    for f in state.flags:
        if f not in SETTABLE_FLAGS:
            raise ConfigError("state.flags", f"flag {f!r} cannot be set directly; allowed: "
                              f"{', '.join(SETTABLE_FLAGS)} (set domestic.constitution.stage: "
                              "passed for a changed constitution)")
    _check_events(state, actors)
    for name, a in sigs.items():
        if a.reopen_trigger == "successor" and not a.domestic_politics:
            raise ConfigError(f"actors.{name}.reopen_trigger",
                              "successor needs the domestic-politics side (a government "
                              "that can fall); allowed here: none, unmet_demand")
    for name, a in actors.items():
        sus = getattr(a, "suspension", None)
        named = tuple(cfg["state"].get("events") or {})  # a cancelled one (null) too
        if sus is not None and sus.event not in named:
            raise ConfigError(f"actors.{name}.suspension.event",
                              f"{sus.event!r} is not an event of state.events; allowed: "
                              f"{', '.join(named) or 'none'}")
    c = domestic.constitution
    if c.locks_issue and c.locks_issue not in issues:
        raise ConfigError("domestic.constitution.locks_issue",
                          f"unknown issue {c.locks_issue!r}; issues are {', '.join(issues)} "
                          "(or '' for none)")
    g = domestic.government
    if g.seats > g.total_seats:
        raise ConfigError("domestic.government.seats",
                          f"must not exceed total_seats ({g.total_seats}), got {g.seats}")
    facs = domestic.parliament.factions
    for name, f in facs.items():
        if f.vacant > f.seats:
            raise ConfigError(f"domestic.parliament.factions.{name}.vacant",
                              f"must not exceed the faction's seats ({f.seats}), got {f.vacant}")
    held = g.seats + sum(f.seats for f in facs.values())
    if held != g.total_seats:
        raise ConfigError("domestic.parliament.factions",
                          f"government seats plus faction seats must equal "
                          f"domestic.government.total_seats ({g.total_seats}), got {held}")
    for sec, obj in (("actors", actors), ("incidents", incidents),
                     ("negotiation", negotiation), ("domestic", domestic), ("state", state)):
        _check_known_by(obj, state.start_date, sec)
    return ModelParams(issues, labels, actors, incidents, negotiation, domestic, state)


def _check_known_by(spec: Any, start: dt.date, key: str) -> None:
    """Refuse a law learnt on facts dated after the scenario's start.

    A scenario starting on ``start`` knows the record up to that date only: drawing an
    assumption from a calibration whose cut-off (the last fact it used) is later would
    let the run use what happened after its start. Walks a parsed section (its
    dataclasses and maps) and checks every distribution's :meth:`Dist.known_from`.

    Raises:
        ConfigError: The first such key, naming the file, its cut-off and the start.
    """
    if isinstance(spec, Dist):
        known = spec.known_from()
        if known and dt.date.fromisoformat(known) > start:
            raise ConfigError(key, f"posterior file {getattr(spec, 'file', '?')} was learnt "
                              f"on the record to {known}, after state.start_date "
                              f"{start.isoformat()}: a run may use only what was known at its "
                              "start (use assumptions=prior, or a posterior calibrated by "
                              "that date)")
    elif isinstance(spec, dict):
        for k, v in spec.items():
            _check_known_by(v, start, f"{key}.{k}")
    elif is_dataclass(spec) and not isinstance(spec, type):
        for f in fields(spec):
            _check_known_by(getattr(spec, f.name), start, f"{key}.{f.name}")


#: Keys of an entry of ``issues``.
ISSUE_KEYS = ("label", "zero", "one")
#: Dataclass of each model section that has one (``issues`` and ``actors`` are maps).
SECTION_CLASSES: dict[str, type] = {"incidents": IncidentParams,
                                    "negotiation": NegotiationParams,
                                    "domestic": DomesticParams, "state": StateParams}


def schema_keys(path: tuple[str, ...] | list[str], cfg: dict) -> tuple[str, ...] | None:
    """Keys the schema allows in the mapping at a dotted ``path`` of a model section.

    ``None`` when the mapping is a map of names the user chooses (issues, actors,
    events, factions, per-issue and per-actor values, a distribution's arguments):
    :func:`parse_params` checks those names. ``()`` when nothing can be nested there.
    Used to tell a misspelt key from a new entry in a library override.

    Args:
        path: Dotted path split into parts, the section first (``("incidents",)``).
        cfg: The configuration the path is looked up in (to find an actor's role).
    """
    if not path or path[0] not in MODEL_SECTIONS:
        return ()
    section, rest = path[0], list(path[1:])
    if section == "issues":
        return None if not rest else ISSUE_KEYS if len(rest) == 1 else ()
    if section == "actors":
        if not rest:
            return None
        actor = (cfg.get("actors") or {}).get(rest[0])
        role = actor.get("role") if isinstance(actor, dict) else None
        cls: type | None = ROLE_CLASSES.get(role) if isinstance(role, str) else None
        if cls is None:
            return None
        rest = rest[1:]
    else:
        cls = SECTION_CLASSES[section]
    while True:
        assert cls is not None
        flds = {f.name: f for f in fields(cls)}
        if not rest:
            return tuple(flds)
        f = flds.get(rest[0])
        if f is None:
            return ()
        kind = f.metadata["kind"]
        if kind == "nested":
            cls, rest = nested_type(f), rest[1:]
            continue
        if kind in ("events", "faction_map", "kinds"):
            if len(rest) == 1:
                return None
            cls, rest = ({"events": EventParams, "faction_map": FactionParams,
                          "kinds": PendingKindParams}[kind], rest[2:])
            continue
        if kind == "requests":
            return None if len(rest) == 1 else ()
        if kind == "bounds_map":
            return None if len(rest) == 1 else ("min", "max") if len(rest) == 2 else ()
        if kind in ("issue_map", "name_map", "actor_map"):
            return None if len(rest) <= 2 else ()   # names, then a distribution's args
        return None if kind == "num" and len(rest) == 1 else ()
