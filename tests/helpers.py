"""Helpers shared by the test modules."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from types import ModuleType

from sim.experiment.config import merged  # noqa: F401  (re-exported for the tests)

ROOT = Path(__file__).resolve().parent.parent


def load_script(relpath: str) -> ModuleType:
    """The experiment script at ``relpath`` (from the checkout's root) as a module."""
    path = ROOT / relpath
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def two_party_cfg(base: dict, *, armenia_pos: float, azerbaijan_pos: float,
                  reservation: float) -> dict:
    """Only the two signatories: no incidents, no outsiders, no preconditions, open text.

    Every random element that could stop a deal is switched off, so the outcome is
    decided by positions and reservation values alone.
    """
    c = copy.deepcopy(base)
    keep = {k: v for k, v in c["actors"].items() if k in ("armenia", "azerbaijan")}
    for name, pos in (("armenia", armenia_pos), ("azerbaijan", azerbaijan_pos)):
        a = keep[name]
        a["position"] = {k: pos for k in a["position"]}
        a["reservation"] = reservation
        a["preconditions"] = []
        a["red_lines"] = {}
        a["linkages"] = []
        a["initial_concession"] = 0.0
        a["acceptance_noise"] = 0.0
        a["military_weight"] = 0.0
        a["patience"] = 0.0  # no holdout: a side takes any package above its reservation
        a["reopen_hazard"] = 0.0
    c["actors"] = keep
    c["state"]["events"] = {}  # the calendar names actors that are gone (eu, russia)
    c["incidents"]["base_rate"] = 0.0
    c["incidents"]["escalation"]["coercion_rate"] = 0.0
    c["state"]["excitation"] = 0.0
    c["state"]["trust"] = 1.0
    c["state"]["tension"] = 0.0
    c["negotiation"]["initial_table"] = {k: 0.5 for k in c["negotiation"]["initial_table"]}
    c["domestic"]["government"]["fall_base_hazard"] = 0.0
    c["domestic"]["constitution"]["stage"] = "abandoned"  # no track without preconditions
    c["state"]["flags"] = []  # an open text: the whole package is bargained over
    return c


#: A referendum the draft wins: opens the constitutional gate so that a test of another
#: mechanism (an outside power, escalation, the table) has enough signed worlds to see its
#: effect whatever the sourced referendum prior leaves P(sign) at. Overrides for
#: ``load_params(..., overrides=OPEN_GATE)``; the scenario and the baseline it is paired
#: with must both get it.
OPEN_GATE = {"domestic": {"referendum": {"yes_share": {"dist": "uniform", "low": 0.60,
                                                       "high": 0.70}}}}

#: The constitution already changed: no referendum at all, the gate is only the treaty's
#: own ratification (Court and a majority of parliament).
PASSED_GATE = {"domestic": {"constitution": {"stage": "passed"}}}

#: Public support held at its initial draw: an outside power's effect through its own
#: channel (reservation values, monitors, costs, survival) with the support channel off.
FROZEN_SUPPORT = {"domestic": {"support": {"frozen": True}}}



#: The government's agenda held fixed (7.13): it holds every two-thirds vote and every
#: referendum when due, whatever it expects, and may call a snap election at any deadlock
#: (no wait after a mandate, no seat gain needed). For a test of a mechanism on the
#: parliament's or the referendum day's own channel with the government's choices off.
FIXED_AGENDA = {"domestic": {"parliament": {"vote_margin": 1000},
                             "constitution": {"referendum_margin": -1.0},
                             "government": {"snap_min_weeks": 0, "snap_seat_gain": 0}}}


def sim_run_refuses(argv: list[str], capsys) -> str:
    """``sim-run argv`` exits with status 2 and one line on stderr, no traceback: the line."""
    import pytest

    from sim.cli.run import main

    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0]
    return lines[0]
