"""The mechanism interface: a new mechanism plugs into the schedule and its outputs show.

``DiasporaLobby`` below is a whole new mechanism, written here and nowhere else: it
declares one series and one outcome column, reads the shared state through the world's
typed attributes and shifts US mediation. Plugged into the schedule, its outputs appear
in :func:`sim.experiment.api.collect`'s tables and in :mod:`sim.model.outputs` with no
other file edited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from sim import load_params
from sim.experiment.api import collect
from sim.model import outputs
from sim.model.codes import OUTCOME_NAMES, OUTCOMES, Status, classify
from sim.model.mechanism import Column, Mechanism, Series
from sim.model.model import PeaceModel
from sim.model.schedule import OutsidePowers, default_schedule
from sim.model.state import World

WORLDS, WEEKS, SEED = 300, 40, 2


class DiasporaLobby(Mechanism):
    """The Armenian diaspora lobbies Washington: pressure builds with mobilisation.

    ``P' = P + rate (m - P)``; the US mediator's attention rises by ``pull * P`` a week.
    """

    name = "diaspora_lobby"
    section = "actors.us"
    series = (Series("lobby_pressure", meaning="the diaspora lobby's pressure on the US",
                     unit="[0, 1]", label="Diaspora lobby pressure",
                     axis="pressure index (0–1)"),)
    outputs = (Column("lobby_peak", "float64", "highest lobby pressure over the run",
                      "[0, 1]", "Peak lobby pressure"),)

    def __init__(self, rate: float = 0.2, pull: float = 0.05):
        self.rate, self.pull = rate, pull

    def setup(self, model: World) -> None:
        self.pressure = np.zeros(model.W)
        self.peak = np.zeros(model.W)

    def step(self, model: World, t: int) -> None:
        self.pressure += self.rate * (model.mobilisation - self.pressure)
        np.maximum(self.peak, self.pressure, out=self.peak)
        for med in model.mediators:
            if med.name == "us":
                med.attention = np.clip(med.attention + self.pull * self.pressure, 0, 1)

    def record(self, model: World, t: int) -> Mapping[str, Any]:
        return {"lobby_pressure": self.pressure}

    def columns(self, model: World) -> Mapping[str, Any]:
        return {"lobby_peak": self.peak}


def with_lobby(**kw) -> list[Mechanism]:
    """The default schedule with the lobby acting just before the outside powers."""
    sched = default_schedule()
    at = next(i for i, m in enumerate(sched) if isinstance(m, OutsidePowers))
    return [*sched[:at], DiasporaLobby(**kw), *sched[at:]]


@pytest.fixture(scope="module")
def params():
    return load_params("baseline")


def test_a_new_mechanism_appears_in_both_tables(params):
    res = collect(PeaceModel(params, worlds=WORLDS, seed=SEED, horizon_weeks=WEEKS,
                             schedule=with_lobby()).run())
    peak = res.outcomes["lobby_peak"]
    assert peak.dtype == np.float64 and (peak > 0).all() and (peak <= 1).all()
    for col in ("lobby_pressure_q10", "lobby_pressure_q50", "lobby_pressure_q90",
                "lobby_pressure_mean"):
        assert col in res.steps
    # the weekly mean is over the worlds still active, as for every declared series
    assert res.steps["lobby_pressure_mean"].iloc[-1] > 0


def test_the_new_mechanism_changes_the_model_and_the_default_is_untouched(params):
    base = collect(PeaceModel(params, worlds=WORLDS, seed=SEED, horizon_weeks=WEEKS).run())
    lobby = PeaceModel(params, worlds=WORLDS, seed=SEED, horizon_weeks=WEEKS,
                       schedule=with_lobby(pull=0.2)).run()
    quiet = PeaceModel(params, worlds=WORLDS, seed=SEED, horizon_weeks=WEEKS).run()
    assert "lobby_peak" not in base.outcomes
    # the lobby raises US attention, and with it the US position's weight at the table
    us, us0 = (next(m for m in model.mediators if m.name == "us") for model in (lobby, quiet))
    assert (us.attention >= us0.attention).all() and us.attention.mean() > us0.attention.mean()
    gap = np.abs(lobby.table - us.x).mean(), np.abs(quiet.table - us0.x).mean()
    assert gap[0] < gap[1]


def test_the_registry_lists_a_scheduled_mechanisms_declarations():
    sched = with_lobby()
    assert "lobby_pressure" in outputs.series_names(sched)
    assert "lobby_pressure" not in outputs.series_names()
    s = outputs.series_named("lobby_pressure", sched)
    assert (s.label, s.unit, s.bytes_per_world(156)) == ("Diaspora lobby pressure",
                                                         "[0, 1]", 4 * 156)
    assert outputs.column_named("lobby_peak", sched).bytes_per_world() == 8
    assert outputs.bytes_per_world(10, sched)["lobby_pressure"] == 40


def test_collect_refuses_a_column_the_mechanism_does_not_declare(params):
    class Leaky(DiasporaLobby):
        name = "leaky"

        def columns(self, model: World) -> Mapping[str, Any]:
            return {"lobby_peak": self.peak, "undeclared": self.peak}

    m = PeaceModel(params, worlds=5, seed=SEED, horizon_weeks=2,
                   schedule=[*default_schedule(), Leaky()]).run()
    with pytest.raises(ValueError, match="'leaky' returns column 'undeclared'"):
        collect(m)


def test_two_mechanisms_may_not_share_a_name(params):
    with pytest.raises(ValueError, match="its own name"):
        PeaceModel(params, worlds=2, schedule=[*default_schedule(), DiasporaLobby(),
                                               DiasporaLobby()])


def test_every_column_and_series_of_a_run_is_declared_with_its_dtype(params):
    res = collect(PeaceModel(params, worlds=50, seed=SEED, horizon_weeks=60).run())
    for c in res.outcomes.columns:
        decl = outputs.column_named(c)
        kind = res.outcomes[c].dtype.kind
        assert kind == ("O" if decl.dtype == "str" else np.dtype(decl.dtype).kind) \
            or (decl.dtype == "str" and kind == "U"), c
    for s in outputs.series():
        assert f"{s.name}_q50" in res.steps and s.label and s.axis
    # every declared name that is not a family turns up
    fixed = [c.name for c in outputs.columns() if not c.is_family]
    assert set(fixed) <= set(res.outcomes.columns)


def test_the_outcome_table_classifies_in_reporting_order():
    assert OUTCOME_NAMES == ("signed", "escalation", "government_fell", "stalemate")
    assert [o.label for o in OUTCOMES][0] == "Signed"
    status = np.array([Status.SIGNED, Status.ESCALATION, Status.ACTIVE, Status.ACTIVE])
    fell = np.array([True, True, True, False])
    assert classify(status, fell).tolist() == list(OUTCOME_NAMES)
