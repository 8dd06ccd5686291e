"""Memory and disk a run needs, estimated before anything is allocated, and what the machine has.

A run is built block by block (:func:`sim.experiment.runs.simulate_blocks`). While a
block of ``b`` worlds runs, the model holds per-world state and a week-by-week series
for each world; ``sim-run`` streams each finished block's rows to disk, so the process
that writes the run holds the rows of the blocks in flight (with a pool, at most
:data:`sim.experiment.executors.AHEAD_PER_WORKER` per worker and the one being written; in
process, one) and those gathered into one row group, whatever the run's size. So the
peak is about

    base + SAFETY * block_peak(b, weeks)              (the block being computed)
         + SAFETY * 2 * in_flight * b * rows_per_world (rows received, and written)
         + min(worlds, g + b) * rows_per_world         (rows gathered into a row group)

where ``g`` is the worlds of :data:`sim.experiment.runfolder.ROW_GROUP_BYTES` of rows
(the rows wait until they fill a row group of ``worlds.parquet``), and ``base`` is what
the process already holds: its resident memory when the estimate is made
(:func:`process_base`: ``/proc/self/statm``), never less than :data:`BASE`, what a
fresh ``sim-run`` needs before any world. A long-lived process (a notebook, a test
session) that already holds gigabytes is thus bounded too; a fresh one is not charged
for memory it does not hold. A pool worker is a fresh interpreter: :data:`BASE` each.
What the machine must still provide is the estimate minus what the process holds
already (:func:`check_run_memory`; ``MemAvailable`` does not count it).

``block_peak`` and ``rows_per_world`` are measured, not kept by hand: probe blocks of
:data:`PROBE_WORLDS` worlds and twice as many are run under ``tracemalloc`` at two short
horizons each (:func:`measure_block_cost`); a block's peak is ``(c_0 + c_1 weeks) +
worlds (a + b weeks)``, its four terms solved from the four probes and extrapolated to
the run's block and horizon (the block's own part, ``c_0 + c_1 weeks``, is the weekly
table and the model's fixed overhead, which a per-world cost from one probe size spread
over its few worlds and so overstated: 4x a 3,000-world block's measured peak), and the
rows' size is the ``memory_usage`` of what the block returned. The baseline's
measurement is kept on disk for the next process of the same code, configuration and
libraries (:func:`baseline_cost`), as numba keeps its compiled kernels: a later
``sim-run`` starts without probing. :data:`SAFETY` covers what the probe does not see
(another scenario's extra actors or events). A run held in memory (the library's
:func:`simulate_blocks` without a file) also keeps every row: ``2 * worlds *
rows_per_world``. ``tests/test_memory_guard.py`` compares the estimate
with measured peaks (``VmHWM``, the process's own peak resident memory).

Disk (:func:`estimate_disk`) comes from the same probe: what the probe's tables take
once written as ``sim-run`` writes them (Parquet, at most one row group per block), bounded
per world by the plain encoding of the declared outputs (:mod:`sim.model.outputs`:
each column's dtype; a text column by the longest value the probe wrote), since a
64-world probe over a short horizon compresses differently from a run's blocks; the
fixed bytes of a file and of a row group are measured on the probe.

No Hydra here.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import os
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.experiment.executors import AHEAD_PER_WORKER
from sim.experiment.runfolder import ROW_GROUP_BYTES

#: Least base of a process (bytes): a fresh interpreter with NumPy, pandas, pyarrow,
#: Hydra and the model imported, before any world. A pool worker is charged this; the
#: process making the estimate is charged its current resident memory when that is more
#: (:func:`process_base`). A fresh pooled parent measured 0.24 GB peak (VmHWM) on 16,000
#: worlds (2 Dec 2026); the 0.48 GB and 2.8 GB once recorded were ``ru_maxrss`` of a
#: child started by ``subprocess`` (vfork + exec), which Linux carries over from the
#: parent (the pytest process), not the child's own peak.
BASE = 512 * 2**20
#: Worlds of the smaller probe block that measures a block's cost (the other has twice).
PROBE_WORLDS = 64
#: Horizons (weeks) of the probe blocks: the cost per world is linear in the weeks.
PROBE_WEEKS = (8, 24)
#: Factor on the measured costs (what a probe of the baseline does not see).
SAFETY = 2.0
#: Disk of a run folder's JSON files (metadata, summary, manifest; measured 28 kB, 2 Dec
#: 2026) and of a trace run's figure (trace.png, measured 0.31 MB): upper bounds of small
#: files; the tables, which grow with the run, are measured (:func:`estimate_disk`).
DISK_JSON_FILES = 200_000
DISK_TRACE_FIGURE = 1_000_000
#: Largest trace (worlds x weeks): trace.parquet is meant for reading a few worlds.
TRACE_MAX_CELLS = 2_000_000
#: Share of the available memory a run may plan to use.
USABLE_SHARE = 0.8


@dataclass(frozen=True)
class DiskCost:
    """Bytes a run's tables take on disk, measured on the probe block's tables.

    Attributes:
        per_world: Bytes per world of ``worlds.parquet``: the larger of what the probe
            wrote per world (two sizes: the difference, without the fixed part) and the
            plain encoding of its columns' declared dtypes (:func:`plain_row_bytes`).
        per_file: Fixed bytes of ``worlds.parquet`` (footer, schema, pandas metadata).
        per_block: Fixed bytes of each further row group (at most one per block).
        steps_per_week, steps_file: ``steps.parquet``: bytes per week and fixed.
        trace_per_world_week: Bytes per traced world-week of ``trace.parquet`` (0
            without trace), and ``trace_file`` its fixed bytes.
    """

    per_world: float
    per_file: float
    per_block: float
    steps_per_week: float
    steps_file: float
    trace_per_world_week: float = 0.0
    trace_file: float = 0.0

    def bytes(self, worlds: int, block_worlds: int, horizon_weeks: int,
              trace: bool = False) -> int:
        """Disk of a run folder of ``worlds`` worlds in blocks of ``block_worlds``."""
        blocks = max(1, -(-worlds // max(1, block_worlds)))
        out = (self.per_file + (blocks - 1) * self.per_block + worlds * self.per_world
               + self.steps_file + horizon_weeks * self.steps_per_week + DISK_JSON_FILES)
        if trace:
            out += (self.trace_file + worlds * horizon_weeks * self.trace_per_world_week
                    + DISK_TRACE_FIGURE)
        return int(math.ceil(out))


def parquet_bytes(df: Any, groups: int = 1) -> int:
    """Bytes of ``df`` written as ``sim-run`` writes a table, in ``groups`` row groups."""
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    buf = io.BytesIO()
    schema = pa.Table.from_pandas(df, preserve_index=False).schema
    step = max(1, -(-len(df) // groups))
    with pq.ParquetWriter(buf, schema) as w:
        for i in range(0, max(1, len(df)), step):
            w.write_table(pa.Table.from_pandas(df.iloc[i:i + step], schema=schema,
                                               preserve_index=False))
    return buf.tell()


def plain_row_bytes(df: Any) -> float:
    """Bytes of one row of ``df`` in Parquet's plain encoding, from the declared dtypes.

    A column the model declares (:func:`sim.model.outputs.columns`) counts its declared
    dtype's size, any other its dtype's; a text column counts 4 bytes of length plus its
    longest value in ``df``; each column one more byte (definition levels, page headers).
    """
    import numpy as np

    from sim.model import outputs
    from sim.model.mechanism import declared

    decl = outputs.columns()
    total = 0.0
    for name in df.columns:
        col = df[name]
        d = declared(name, decl)
        numeric = isinstance(col.dtype, np.dtype) and col.dtype.kind in "biuf"
        if (d is not None and d.dtype == "str") or not numeric:
            lengths = col.astype(str).str.len()
            total += 4 + float(lengths.max() if len(lengths) else 0)
        else:
            total += d.itemsize if d is not None else col.dtype.itemsize
        total += 1
    return total


def _disk_per_row(df: Any) -> tuple[float, float, float]:
    """(per row, per file, per row group) of ``df`` on disk (see :class:`DiskCost`)."""
    n = len(df)
    half = max(1, n // 2)
    full, part = parquet_bytes(df), parquet_bytes(df.iloc[:half])
    per_row = max(0.0, (full - part) / max(1, n - half))
    fixed = max(0.0, part - half * per_row)
    per_group = max(0.0, parquet_bytes(df, 2) - full) if n > 1 else fixed
    return max(per_row, plain_row_bytes(df)), fixed, per_group


@dataclass(frozen=True)
class BlockCost:
    """What one world of a block costs, measured on a probe block.

    Attributes:
        per_world: Peak bytes per world while a block runs, apart from the weeks.
        per_world_week: Peak bytes per world and week (the weekly series; the trace).
        per_block: Peak bytes of a block whatever its worlds, apart from the weeks
            (the model's fixed overhead).
        per_block_week: Peak bytes per week of a block whatever its worlds (the weekly
            table, a row a week).
        rows_per_world: Bytes per world of the outcome rows a block returns.
        trace_per_world_week: Bytes per world and week of a block's trace rows (0
            without trace).
        disk: What the probe's tables take on disk (:class:`DiskCost`).
    """

    per_world: float
    per_world_week: float
    rows_per_world: float
    trace_per_world_week: float = 0.0
    disk: DiskCost | None = None
    per_block: float = 0.0
    per_block_week: float = 0.0

    def rows(self, worlds: int, horizon_weeks: int) -> float:
        """Bytes of the tables a block of ``worlds`` worlds returns."""
        return worlds * (self.rows_per_world + self.trace_per_world_week * horizon_weeks)

    def block_peak(self, worlds: int, horizon_weeks: int) -> float:
        """Peak bytes of a block of ``worlds`` worlds over ``horizon_weeks`` weeks."""
        return (self.per_block + self.per_block_week * horizon_weeks
                + worlds * (self.per_world + self.per_world_week * horizon_weeks))


def _traced_peak(run: Callable[[], Any]) -> tuple[int, Any]:
    """Peak bytes allocated while ``run()`` runs (``tracemalloc``), and its result."""
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    else:   # inside another measurement: measure from here (its peak is reset)
        tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    try:
        value = run()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        if started:
            tracemalloc.stop()
    return peak, value


def measure_block_cost(params: Any, trace: bool = False) -> BlockCost:
    """Measure a block's cost on probe blocks of ``params``.

    The probes are :data:`PROBE_WORLDS` worlds and twice as many over each of
    :data:`PROBE_WEEKS` weeks (a fraction of a second, and a warm-up run). Their four
    peaks give the four terms of :meth:`BlockCost.block_peak`: per world and per block,
    each apart from the weeks and per week; a term the probes put below zero (noise) is
    0.

    Args:
        params: Validated parameters (:class:`sim.model.params.ModelParams`).
        trace: Whether the run keeps its trace (which costs per world-week).
    """
    from sim.experiment.api import simulate

    # one-off costs (a module imported on first use, caches) are paid before measuring:
    # the longest probe, untraced, takes every code path the probes will take
    simulate(params, worlds=2 * PROBE_WORLDS, seed=0, horizon_weeks=max(PROBE_WEEKS),
             trace=trace)
    peak: dict[tuple[int, int], float] = {}
    rows, trace_rows, results = 0.0, 0.0, []
    for worlds in (PROBE_WORLDS, 2 * PROBE_WORLDS):
        for weeks in PROBE_WEEKS:
            p, res = _traced_peak(functools.partial(
                simulate, params, worlds=worlds, seed=0, horizon_weeks=weeks, trace=trace))
            peak[worlds, weeks] = float(p)
            rows = max(rows, float(res.outcomes.memory_usage(deep=True).sum()) / worlds)
            if res.trace is not None:
                trace_rows = max(trace_rows, float(res.trace.memory_usage(deep=True).sum())
                                 / (worlds * weeks))
            if worlds == PROBE_WORLDS:
                results.append(res)
    (w0, w1), (h0, h1) = (PROBE_WORLDS, 2 * PROBE_WORLDS), PROBE_WEEKS
    # per week of a block of w worlds: c_1 + w b; apart from the weeks: c_0 + w a
    slope = {w: (peak[w, h1] - peak[w, h0]) / (h1 - h0) for w in (w0, w1)}
    fixed = {w: peak[w, h0] - slope[w] * h0 for w in (w0, w1)}
    per_world_week = max(0.0, (slope[w1] - slope[w0]) / (w1 - w0))
    per_world = max(0.0, (fixed[w1] - fixed[w0]) / (w1 - w0))
    return BlockCost(per_world=per_world, per_world_week=per_world_week,
                     rows_per_world=rows, trace_per_world_week=trace_rows,
                     disk=_disk_cost(results),
                     per_block=max(0.0, fixed[w0] - w0 * per_world),
                     per_block_week=max(0.0, slope[w0] - w0 * per_world_week))


def _disk_cost(results: list[Any]) -> DiskCost:
    """:class:`DiskCost` of the probe's results (one per horizon of :data:`PROBE_WEEKS`)."""
    # the longest probe's rows: a world's values (counts, weeks) grow with the horizon
    per_world, per_file, per_block = _disk_per_row(results[-1].outcomes)
    (h0, h1), (s0, s1) = PROBE_WEEKS, (parquet_bytes(r.steps) for r in results)
    steps_week = max((s1 - s0) / (h1 - h0), plain_row_bytes(results[-1].steps))
    steps_file = max(0.0, s1 - h1 * steps_week) + steps_week
    trace_cell = trace_file = 0.0
    tr = results[-1].trace
    if tr is not None:
        trace_cell, trace_file, _ = _disk_per_row(tr)
    return DiskCost(per_world, per_file, per_block, steps_week, steps_file, trace_cell,
                    trace_file)


@functools.lru_cache(maxsize=4)
def baseline_cost(trace: bool) -> BlockCost:
    """:func:`measure_block_cost` of the baseline scenario, once per code version.

    The measurement (about 0.6 s, a fifth of ``sim-run worlds=1``) is kept in
    :func:`cost_cache_file` and read back by later processes of the same code, the same
    configuration files and the same libraries (the key covers them all); once per
    process otherwise. A file that cannot be read or written is measured again.
    """
    from sim.experiment.config import load_params

    path = cost_cache_file(trace)
    cost = _read_cost(path) if path is not None else None
    if cost is None:
        cost = measure_block_cost(load_params("baseline"), trace)
        if path is not None:
            _write_cost(path, cost)
    return cost


#: Environment variable naming the folder of measured block costs ("" keeps none).
COST_CACHE_ENV = "SIM_COST_CACHE"


def cost_cache_file(trace: bool) -> Path | None:
    """Where :func:`baseline_cost` keeps its measurement (None: kept by no file).

    ``$SIM_COST_CACHE`` if set (empty: no file), else ``peace-sim`` under
    ``$XDG_CACHE_HOME`` (default ``~/.cache``). The name holds a hash of every ``.py``
    file of :mod:`sim`, every YAML file of the configuration folder, the versions of
    Python, NumPy, pandas, pyarrow and numba, and ``trace``: a change to any of them is
    measured afresh.
    """
    import hashlib
    import sys
    from importlib import metadata

    from sim.experiment.config import CONFIG_DIR

    root = os.environ.get(COST_CACHE_ENV)
    if root == "":
        return None
    folder = (Path(root) if root is not None else
              Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "peace-sim")
    h = hashlib.sha256(f"trace={trace} python={sys.version}".encode())
    for lib in ("numpy", "pandas", "pyarrow", "numba"):
        try:
            h.update(f" {lib}={metadata.version(lib)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f" {lib}=none".encode())
    for top in (Path(__file__).resolve().parents[1], Path(CONFIG_DIR)):
        for path in sorted([*top.rglob("*.py"), *top.rglob("*.yaml")]):
            h.update(path.relative_to(top).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    return folder / f"block-cost-{h.hexdigest()[:20]}.json"


def _read_cost(path: Path) -> BlockCost | None:
    """The :class:`BlockCost` kept in ``path``, or None (missing, unreadable, malformed)."""
    import json

    try:
        data = json.loads(path.read_text())
        disk = DiskCost(**{k: float(v) for k, v in data.pop("disk").items()})
        cost = BlockCost(**{k: float(v) for k, v in data.items()}, disk=disk)
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return None
    values = [*vars(disk).values(), *(v for k, v in vars(cost).items() if k != "disk")]
    return cost if all(math.isfinite(v) and v >= 0 for v in values) else None


def _write_cost(path: Path, cost: BlockCost) -> None:
    """Keep ``cost`` in ``path`` (written whole, then renamed); a failure is ignored."""
    import dataclasses
    import json

    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(dataclasses.asdict(cost)))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def current_rss() -> int | None:
    """Resident memory of this process now, in bytes (None if it cannot be told)."""
    try:
        resident = int(Path("/proc/self/statm").read_text().split()[1])
        return resident * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def peak_rss() -> int | None:
    """Peak resident memory of this process (``VmHWM``), in bytes, or None.

    Unlike ``getrusage``'s ``ru_maxrss`` it is this process's own: a child started by
    ``subprocess`` (vfork + exec) inherits its parent's ``ru_maxrss``.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def process_base() -> int:
    """The base of this process's estimate: its resident memory now, at least :data:`BASE`."""
    return max(BASE, current_rss() or 0)


def estimate_bytes(worlds: int, block_worlds: int, horizon_weeks: int,
                   trace: bool = False, pool_workers: int = 0,
                   cost: BlockCost | None = None, streamed: bool = True,
                   base: int | None = None) -> int:
    """Upper estimate of a run's peak memory, in bytes (see the module docstring).

    Args:
        worlds: Worlds of the run.
        block_worlds: Worlds per block.
        horizon_weeks: Weeks simulated.
        trace: Whether the trace is kept.
        pool_workers: Worker processes of the ``process`` executor (0: blocks run in
            this process). Each worker is an interpreter running one block at a time.
        cost: A block's measured cost (default: :func:`baseline_cost`).
        streamed: Rows written to disk block by block (``sim-run``), else all held.
        base: What this process holds before the run (default :func:`process_base`,
            measured now; 0 gives what the run adds).
    """
    cost = cost or baseline_cost(trace)
    base = process_base() if base is None else base
    b = min(worlds, block_worlds)
    block = SAFETY * cost.block_peak(b, horizon_weeks)
    # in process, blocks are computed when read: one at a time
    in_flight = AHEAD_PER_WORKER * pool_workers + 1 if pool_workers else 1
    rows = SAFETY * 2 * cost.rows(in_flight * b if streamed else worlds, horizon_weeks)
    if streamed:   # rows gathered until they fill a row group, then written
        rows += min(worlds * cost.rows_per_world,
                    ROW_GROUP_BYTES + b * cost.rows_per_world)
    if pool_workers:
        return int(base + rows + pool_workers * (BASE + block))
    return int(base + block + rows)


def needed_bytes(worlds: int, block_worlds: int, horizon_weeks: int, trace: bool = False,
                 pool_workers: int = 0, cost: BlockCost | None = None,
                 streamed: bool = True) -> int:
    """Memory the machine must still provide for a run.

    :func:`estimate_bytes` less what this process holds already (its resident memory,
    which ``MemAvailable`` does not count): what :func:`check_run_memory` compares with
    the usable memory.
    """
    base = process_base()
    held = min(base, current_rss() or 0)
    return estimate_bytes(worlds, block_worlds, horizon_weeks, trace, pool_workers, cost,
                          streamed, base=base) - held


def estimate_disk(worlds: int, block_worlds: int, horizon_weeks: int, trace: bool = False,
                  cost: BlockCost | None = None) -> int:
    """Upper estimate of the bytes a run folder takes (see the module docstring).

    Args:
        worlds: Worlds written (a precision run: its ``max_worlds``).
        block_worlds: Worlds per block (at most one row group of ``worlds.parquet`` each).
        horizon_weeks: Weeks simulated.
        trace: Whether ``trace.parquet`` is written.
        cost: A block's measured cost (default: :func:`baseline_cost`).
    """
    cost = cost or baseline_cost(trace)
    if cost.disk is None:
        raise ValueError("the block cost was not measured on disk (measure_block_cost)")
    return cost.disk.bytes(worlds, block_worlds, horizon_weeks, trace)


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
                     available: int | None = None, pool_workers: int = 0,
                     cost: BlockCost | None = None) -> MemoryVerdict | None:
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
        cost: A block's measured cost (default: the baseline's, measured once; a run
            of at most :data:`PROBE_WORLDS` worlds is not measured: it needs no more
            than the probe would).

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
    if total <= PROBE_WORLDS and cost is None:
        return None
    budget = avail * USABLE_SHARE / max(1, parallel)
    cost = cost or baseline_cost(trace)
    # what this process holds is in use already (MemAvailable does not count it): the
    # machine must provide the rest of the estimate (needed_bytes)
    base = process_base()
    held = min(base, current_rss() or 0)

    def needed(w: int, b: int) -> int:
        return estimate_bytes(w, b, horizon_weeks, trace, pool_workers, cost, base=base) - held

    need = needed(total, block_worlds)
    if need <= budget:
        return None
    share = f" ({parallel} jobs at a time)" if parallel > 1 else ""
    head = (f"needs about {compact_bytes(need)} of memory, {compact_bytes(budget)} usable"
            f"{share}")
    fits_total = _largest(lambda w: needed(w, block_worlds) <= budget, total)
    if fits_total >= min(block_worlds, total) and fits_total >= 1:
        return MemoryVerdict(wkey, fits_total, f"{head}; the largest that fits is "
                             f"{wkey}={fits_total:,}")
    # even one block does not fit: smaller blocks (a different but equally valid run)
    fits_block = _largest(lambda b: needed(total, b) <= budget,
                          min(block_worlds, total))
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
