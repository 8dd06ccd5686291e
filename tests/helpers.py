"""Helpers shared by the test modules."""

from __future__ import annotations

import copy


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
