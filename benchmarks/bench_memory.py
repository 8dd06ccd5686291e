"""Measured peak memory of a run, against the estimate ``sim-run`` plans with.

For a few block sizes and horizons (baseline scenario, seed 0) runs
:func:`sim.experiment.runs.simulate_blocks` under ``tracemalloc`` and prints the peak per world,
per world-week (and per traced world-week), the outcome row size, and the estimate of
:func:`sim.experiment.memory.estimate_bytes` (rows held, as here) without its base
(``base=0``: what the run adds). The estimate's costs are measured on a probe block
(:func:`sim.experiment.memory.measure_block_cost`), printed first::

    .venv/bin/python benchmarks/bench_memory.py
"""

from __future__ import annotations

import tracemalloc

from sim import load_params
from sim.experiment.memory import baseline_cost, estimate_bytes
from sim.experiment.runs import simulate_blocks

CASES = [(2000, 52, False), (8000, 52, False), (2000, 156, False), (8000, 156, False),
         (200, 52, True), (800, 52, True), (200, 156, True)]


def main() -> None:
    p = load_params("baseline")
    print("probe:", baseline_cost(False), baseline_cost(True))
    print(f"{'worlds':>7} {'weeks':>5} {'trace':>5} {'peak MB':>8} {'B/world':>8} "
          f"{'B/cell':>7} {'row B':>6} {'est MB':>7} {'est/peak':>8}")
    for worlds, weeks, trace in CASES:
        tracemalloc.start()
        out = simulate_blocks(p, worlds, 0, weeks, worlds, trace=trace, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        row = out.outcomes.memory_usage(deep=True).sum() / worlds
        est = estimate_bytes(worlds, worlds, weeks, trace, streamed=False, base=0)
        print(f"{worlds:7d} {weeks:5d} {trace!s:>5} {peak / 1e6:8.1f} {peak / worlds:8.0f} "
              f"{peak / (worlds * weeks):7.0f} {row:6.0f} {est / 1e6:7.1f} "
              f"{est / peak:8.2f}")


if __name__ == "__main__":
    main()
