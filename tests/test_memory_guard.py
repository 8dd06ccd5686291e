"""The memory guard (sim/experiment/memory.py) against measured peaks of streamed runs.

The guard's costs are measured on a probe block (:func:`measure_block_cost`), not kept
by hand; these tests check that its estimate bounds a real run's peak within a stated
factor, and that a streamed run's peak does not grow with the number of worlds.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tracemalloc

import pytest

from sim import load_params
from sim.experiment.memory import (
    BASE,
    SAFETY,
    baseline_cost,
    estimate_bytes,
    measure_block_cost,
)
from sim.experiment.runs import simulate_blocks

P = load_params("baseline")
#: The estimate may overstate a measured peak by at most this factor.
FACTOR = 4


def _peak(**kw) -> int:
    tracemalloc.start()
    try:
        simulate_blocks(P, seed=0, progress=False, **kw)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("worlds, block, weeks, trace", [(6000, 2000, 60, False),
                                                        (3000, 3000, 156, False),
                                                        (300, 100, 30, True)])
def test_the_estimate_bounds_a_streamed_runs_measured_peak(tmp_path, worlds, block, weeks,
                                                           trace):
    baseline_cost(trace)   # the probe, measured before the run's own measurement
    peak = _peak(worlds=worlds, horizon_weeks=weeks, block_worlds=block, trace=trace,
                 worlds_file=tmp_path / "w.parquet")
    est = estimate_bytes(worlds, block, weeks, trace) - BASE
    assert peak <= est <= FACTOR * peak, (peak, est)


def test_a_streamed_runs_peak_does_not_grow_with_its_worlds(tmp_path):
    kw = dict(block_worlds=1000, horizon_weeks=40)
    small = _peak(worlds=3000, worlds_file=tmp_path / "a.parquet", **kw)
    large = _peak(worlds=12000, worlds_file=tmp_path / "b.parquet", **kw)
    held = _peak(worlds=12000, **kw)      # the same run with every row kept
    assert large < 1.25 * small < held
    # the guard says the same: the estimate depends on the block, not on the run
    assert estimate_bytes(3000, 1000, 40) == estimate_bytes(12_000_000, 1000, 40)
    assert estimate_bytes(12000, 1000, 40, streamed=False) > estimate_bytes(12000, 1000, 40)


def test_the_measured_cost_follows_what_a_block_produces():
    cost = measure_block_cost(P)
    traced = measure_block_cost(P, trace=True)
    assert cost.trace_per_world_week == 0 < traced.trace_per_world_week
    assert traced.per_world_week > cost.per_world_week > 0
    # one outcome row's bytes, as pandas holds it (95 columns today; no constant kept)
    from sim.experiment.api import simulate

    rows = simulate(P, worlds=500, seed=1, horizon_weeks=24).outcomes
    per_row = rows.memory_usage(deep=True).sum() / len(rows)
    assert 0.8 * per_row < cost.rows_per_world < 1.25 * per_row


@pytest.mark.xfail(strict=False, reason=(
    "issue 20, open: run alone the pooled parent peaks at 0.48 GB (estimate 0.56 GB), but "
    "late in the full suite it reached 2.8 GB (2 Dec 2026): the guard is not yet an upper "
    "bound there; cause not found"))
def test_a_pooled_runs_parent_stays_within_the_estimate(tmp_path):
    """ru_maxrss of a process running a streamed pooled run, against the estimate."""
    script = textwrap.dedent(f"""
        import resource
        from sim import load_params
        from sim.experiment.executors import ProcessPool
        from sim.experiment.runs import simulate_blocks
        simulate_blocks(load_params("baseline"), 16000, 0, 52, 2000, progress=False,
                        executor=ProcessPool(2), worlds_file={str(tmp_path / 'w.parquet')!r})
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, check=True)
    rss = int(out.stdout.split()[-1])
    # the parent's share: the interpreter and the rows of the blocks in flight
    parent = estimate_bytes(16000, 2000, 52, pool_workers=2) - 2 * (
        BASE + SAFETY * baseline_cost(False).block_peak(2000, 52))
    assert rss <= parent <= FACTOR * rss, (rss, parent)
