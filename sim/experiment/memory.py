"""Memory a run needs, estimated before anything is allocated, and what the machine has.

A run is built block by block (:func:`sim.experiment.runs.simulate_blocks`): while a block of
``b`` worlds runs, the model holds per-world state and a week-by-week series for each
world; the per-world outcome rows of every block are kept until the run is written.
So the peak is about

    BASE + b * (PER_WORLD + PER_WORLD_WEEK * H) [+ b * H * PER_TRACE_CELL with trace]
         + 2 * worlds * PER_OUTCOME_ROW       (the rows, and their concatenation)

The coefficients are measured peaks (``tracemalloc``, baseline scenario, seed 0, see
``benchmarks/bench_memory.py``) times a safety factor of about two, so they stay
upper bounds when models add state or columns. ``tests/test_hostile.py`` checks that a
measured peak stays below the estimate.

No Hydra here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: Interpreter, NumPy, pandas, pyarrow and Hydra, before any world (bytes).
BASE = 400 * 2**20
#: Per world of a block, independent of the horizon (measured ~3.0 kB).
PER_WORLD = 6_000
#: Per world and week of a block: the weekly series (measured ~28 B).
PER_WORLD_WEEK = 60
#: Per world and week of a traced block (measured ~1.0 kB: long table, dates, labels).
PER_TRACE_CELL = 2_000
#: Per world of the whole run: one outcome row (measured ~230 B for 32 columns).
PER_OUTCOME_ROW = 600
#: Disk per world of worlds.parquet (measured ~150 B compressed, 32 columns).
DISK_PER_WORLD = 300
#: Disk per traced world-week of trace.parquet (measured ~75 B).
DISK_PER_TRACE_CELL = 400
#: Largest trace (worlds x weeks): trace.parquet is meant for reading a few worlds.
TRACE_MAX_CELLS = 2_000_000
#: Share of the available memory a run may plan to use.
USABLE_SHARE = 0.8


def estimate_bytes(worlds: int, block_worlds: int, horizon_weeks: int,
                   trace: bool = False, pool_workers: int = 0) -> int:
    """Upper estimate of a run's peak memory, in bytes (see the module docstring).

    With ``pool_workers`` worker processes (the ``process`` executor) each worker is an
    interpreter running one block at a time, on top of this process's outcome rows.
    """
    b = min(worlds, block_worlds)
    per_block = b * (PER_WORLD + PER_WORLD_WEEK * horizon_weeks)
    if trace:
        per_block += b * horizon_weeks * PER_TRACE_CELL
    if pool_workers:
        return int(BASE + pool_workers * (BASE + per_block) + 2 * worlds * PER_OUTCOME_ROW)
    return int(BASE + per_block + 2 * worlds * PER_OUTCOME_ROW)


def _cgroup_limit() -> int | None:
    for limit, usage in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                         ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                          "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            text = Path(limit).read_text().strip()
            if text == "max":
                return None
            lim = int(text)
            if lim >= 2**60:
                return None
            return max(0, lim - int(Path(usage).read_text().strip()))
        except (OSError, ValueError):
            continue
    return None


def available_bytes() -> int | None:
    """Memory this process may still use: MemAvailable, capped by a cgroup limit.

    None when it cannot be told (not Linux): then no run is refused.
    """
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
                break
    except (OSError, ValueError, IndexError):
        avail = None
    limit = _cgroup_limit()
    if avail is None:
        return limit
    return avail if limit is None else min(avail, limit)


def compact_bytes(n: float) -> str:
    """``12.3 GB``-style size."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


@dataclass(frozen=True)
class MemoryVerdict:
    """Why a run does not fit: the key to change and the largest value that fits."""

    key: str
    largest: int
    message: str


def _largest(fits: Callable[[int], bool], hi: int) -> int:
    lo = 0
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def check_run_memory(worlds: int, block_worlds: int, horizon_weeks: int, trace: bool,
                     precision: float | None, max_worlds: int, parallel: int = 1,
                     available: int | None = None, pool_workers: int = 0
                     ) -> MemoryVerdict | None:
    """Whether a run fits in memory; if not, the key to lower and its largest value.

    Args:
        worlds: Worlds of a fixed run.
        block_worlds: Worlds per block.
        horizon_weeks: Weeks simulated.
        trace: Whether every world's every week is kept.
        precision: Target half-width of a precision run, or None.
        max_worlds: Cap of a precision run.
        parallel: Jobs running at the same time (they share the memory).
        available: Bytes available (default: :func:`available_bytes`).
        pool_workers: Worker processes of the ``process`` executor (0: none).

    Returns:
        None if the run fits (or the memory cannot be told), else a verdict.
    """
    total = max_worlds if precision is not None else worlds
    wkey = "max_worlds" if precision is not None else "worlds"
    if trace and total * horizon_weeks > TRACE_MAX_CELLS:
        largest = TRACE_MAX_CELLS // horizon_weeks
        return MemoryVerdict(wkey, largest, (
            f"with trace=true at most {largest:,} worlds over {horizon_weeks} weeks "
            f"({TRACE_MAX_CELLS:,} world-weeks, the trace cap), got {total:,}; lower "
            f"{wkey} or set trace=false"))
    avail = available_bytes() if available is None else available
    if avail is None:
        return None
    budget = avail * USABLE_SHARE / max(1, parallel)
    need = estimate_bytes(total, block_worlds, horizon_weeks, trace, pool_workers)
    if need <= budget:
        return None
    share = f" ({parallel} jobs at a time)" if parallel > 1 else ""
    head = (f"needs about {compact_bytes(need)} of memory, {compact_bytes(budget)} usable"
            f"{share}")
    fits_total = _largest(lambda w: estimate_bytes(w, block_worlds, horizon_weeks, trace,
                                                   pool_workers) <= budget, total)
    if fits_total >= min(block_worlds, total) and fits_total >= 1:
        return MemoryVerdict(wkey, fits_total, f"{head}; the largest that fits is "
                             f"{wkey}={fits_total:,}")
    # even one block does not fit: smaller blocks (a different but equally valid run)
    fits_block = _largest(lambda b: estimate_bytes(total, b, horizon_weeks, trace, pool_workers)
                          <= budget, min(block_worlds, total))
    if fits_block >= 1:
        return MemoryVerdict("block_worlds", fits_block, f"{head}; the largest that fits "
                             f"is block_worlds={fits_block:,} (or fewer {wkey})")
    return MemoryVerdict(wkey, max(fits_total, 0), f"{head}; the largest that fits is "
                         f"{wkey}={max(fits_total, 0):,}")


def cpu_count() -> int:
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def parallel_jobs(n_jobs: int | None, jobs: int) -> int:
    """Jobs joblib runs at once for ``n_jobs`` (its convention: -1 is every CPU)."""
    if n_jobs is None or n_jobs == 0:
        return 1
    n = n_jobs if n_jobs > 0 else max(1, cpu_count() + 1 + n_jobs)
    return max(1, min(n, jobs))
