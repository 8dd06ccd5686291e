"""The golden record: every bundled scenario's outcomes at a fixed seed, hashed per column.

A refactor (the house plan, fast kernels) must leave every number of every scenario as it
was; a commit of the model issue that changes them on purpose regenerates the record
(``python tests/golden_outcomes.py``) and says so in its message. Each column of the worlds
table and of the weekly table is hashed separately, so the test names the columns that
moved; columns added later are not in the record and are not compared.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

RECORD = Path(__file__).with_name("golden") / "outcomes.json"
#: Worlds per scenario and the seed of the record.
WORLDS, SEED = 2_000, 0


def column_hash(values: pd.Series) -> str:
    """SHA-256 (16 hex digits) of a column's values: numbers by their bytes, else as text."""
    if values.dtype.kind in "biuf":
        data = np.ascontiguousarray(values.to_numpy()).tobytes()
    else:
        data = "\0".join(map(str, values.tolist())).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def scenario_hashes(scenario: str) -> dict[str, dict[str, str]]:
    """Column hashes of one scenario's worlds and steps tables (``WORLDS`` worlds, ``SEED``)."""
    from sim import load_params, simulate

    res = simulate(load_params(scenario), worlds=WORLDS, seed=SEED)
    return {"worlds": {c: column_hash(res.outcomes[c]) for c in res.outcomes.columns},
            "steps": {c: column_hash(res.steps[c]) for c in res.steps.columns}}


def write_record() -> None:
    """Recompute the record for every bundled scenario."""
    from sim import scenarios

    record = {s: scenario_hashes(s) for s in scenarios()}
    RECORD.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    write_record()
    sys.exit(0)
