"""Random streams: one NumPy Generator per mechanism, all derived from the run's seed.

Each mechanism (incidents, escalation, referendum, ...) and each per-world parameter
draw has its own stream, keyed by a stable name. A mechanism draws arrays of the same
shape every week whatever the state of the worlds, so two scenarios run with one seed
share their random numbers mechanism by mechanism (common random numbers) and their
difference is measured paired. ``block`` separates successive blocks of worlds of one
run (used when a run adds worlds until a precision is reached).
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str, block: int = 0) -> np.random.Generator:
    """Return the generator for mechanism ``name`` of block ``block`` of run ``seed``.

    Args:
        seed: The run's seed, a non-negative integer (0 is a seed like any other).
        name: Stable mechanism name, e.g. ``"incidents"`` or ``"param:incidents.base_rate"``.
        block: Index of the block of worlds.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    key = zlib.crc32(name.encode("utf-8"))
    ss = np.random.SeedSequence(int(seed), spawn_key=(int(block), key))
    return np.random.Generator(np.random.PCG64(ss))
