"""The run core: blocks of worlds become a run, a run becomes a folder, folders a sweep.

Everything a run does apart from composing its configuration lives here, without
Hydra, so that the command line (:mod:`sim.cli.run`, a thin Hydra app), the report
(:mod:`sim.viz.report`), the explorer, the notebooks and library users share one
implementation:

- :func:`simulate_blocks`: a fixed run of ``worlds`` worlds, or blocks until P(sign)'s
  interval is narrow enough, computed by an executor (:mod:`sim.experiment.executors`) that never
  changes the numbers;
- :class:`Summary`: a run's estimates, one list of fields (``summary.json``, the sweep
  table, the console and the report read it);
- :func:`run_job`: one checked job (:class:`Job`) into its folder, skipped when the
  folder already holds a finished run of the same numbers (:func:`config_hash`);
- :func:`load_run`, :func:`load_sweep`: run and sweep folders read back, bounded: a
  folder's checks and its summary statistics stream ``worlds.parquet`` batch by batch
  (:func:`iter_table`, :func:`stream_summary`), and its rows are read when first used,
  only the columns a reader asks for (``load_run(path, columns=...)``,
  :meth:`RunData.read_worlds`);
- :func:`sweep_table`: one row per job of a sweep, with paired differences from the
  baseline job at the same values of the other swept keys.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim import __version__
from sim.experiment.api import (
    MONTHS,
    OUTCOMES,
    Result,
    SummaryStats,
    model_fingerprint,
    simulate,
)
from sim.experiment.display import INTERVAL_NOTE, interval, percent, points
from sim.experiment.executors import AHEAD_PER_WORKER, Executor, InProcess, make_executor
from sim.experiment.runfolder import (
    MANIFEST,
    MAX_FILE_BYTES,
    ROW_GROUP_BYTES,
    DamagedRunError,
    atomic_write,
    check_summary,
    clean_temp_files,
    finished_run,
    read_json,
    spread_ok,
    temp_name,
    write_manifest,
)
from sim.experiment.settings import RunSettings
from sim.model.params import ModelParams
from sim.safeio import UnsafeFile, open_regular

#: Name of the scenario other jobs of a sweep are compared with.
BASELINE = "baseline"
#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054
#: Run keys that never change the numbers: left out of :func:`config_hash`, so a sweep
#: resumed with any of them changed keeps its finished jobs.
RUN_ONLY_KEYS = ("quiet", "paths", "trace", "executor", "workers")
#: Run-control keys (:class:`sim.experiment.settings.RunSettings`): how a run was made, not what
#: was assumed.
RUN_KEYS = tuple(f.name for f in fields(RunSettings))


# ----------------------------------------------------------------------- one job


@dataclass
class Job:
    """A checked job: typed settings and parameters, the config it came from."""

    settings: RunSettings
    params: ModelParams
    config: dict
    overrides: list[str]


# ----------------------------------------------------------------------- simulation


@dataclass
class RunOutput:
    """A run assembled from one or more blocks of worlds.

    Attributes:
        outcomes: One row per world, or None when the rows were streamed to a file
            (:attr:`worlds_file`) block by block instead of being held.
        steps: One row per week, the blocks combined (:class:`StepsCombiner`).
        trace: Week-by-week detail (trace runs only; capped in size).
        ideal_points: Actors' mean ideal points, world-weighted over the blocks.
        start_date, issues: What was run.
        block_sizes: Worlds of each block, in order.
        precision_reached: For a precision run, whether the target was met.
        estimates: The library's summary (:func:`sim.experiment.api.summarise`) of
            every world, accumulated block by block.
        worlds_file: Where the rows were written (streamed runs), else None.
    """

    outcomes: pd.DataFrame | None
    steps: pd.DataFrame
    trace: pd.DataFrame | None
    ideal_points: dict
    start_date: dt.date
    issues: tuple[str, ...]
    block_sizes: list[int] = field(default_factory=list)
    precision_reached: bool | None = None
    estimates: dict = field(default_factory=dict)
    worlds_file: Path | None = None

    @property
    def worlds(self) -> int:
        """Worlds of the run."""
        return int(sum(self.block_sizes))


def block_plan(worlds: int, block_worlds: int) -> list[int]:
    """Sizes of the blocks of a fixed run of ``worlds`` worlds.

    A run of at most ``block_worlds`` worlds is one block, identical to
    ``sim.experiment.api.simulate(params, worlds, seed)``. A larger run is blocks 0, 1, ... of
    ``block_worlds`` worlds, the last one smaller if need be; a precision run that
    stops after k blocks therefore equals a fixed run of k * block_worlds worlds.
    """
    full, rest = divmod(worlds, block_worlds)
    return [block_worlds] * full + ([rest] if rest else [])


def run_block(params: ModelParams, size: int, seed: int, horizon_weeks: int, block: int,
              block_worlds: int, trace: bool) -> Result:
    """Block ``block`` of a run: ``size`` worlds with ids from ``block * block_worlds``.

    A plain module-level function so that any executor can ship it to a worker.
    """
    res = simulate(params, worlds=size, seed=seed, horizon_weeks=horizon_weeks,
                   block=block, trace=trace)
    offset = block * block_worlds
    res.outcomes["world"] = np.arange(size) + offset
    if res.trace is not None:
        res.trace["world"] = res.trace["world"].to_numpy() % size + offset
    return res


class StepsCombiner:
    """The weekly table of a run, combined block by block (O(one block) memory).

    Shares (``p_*``) are the blocks' world counts summed and divided by the run's
    worlds, exactly; means combine exactly and quantiles approximately (the
    active-world-weighted mean of the blocks' quantiles; recorded in metadata), over
    the worlds still active each week only. One block is returned unchanged.
    """

    def __init__(self) -> None:
        self.first: pd.DataFrame | None = None
        self.blocks = 0
        self.n = 0
        self.counts: dict[str, np.ndarray] = {}   # p_* columns times worlds
        self.weighted: dict[str, np.ndarray] = {}  # sum of value * active worlds
        self.weight: dict[str, np.ndarray] = {}    # sum of active worlds with a value

    def add(self, steps: pd.DataFrame, size: int) -> None:
        """Add one block's weekly table (``size`` worlds)."""
        if self.first is None:
            self.first = steps
        self.blocks += 1
        self.n += size
        active = steps["p_active"].to_numpy(dtype=float) * size
        for col in steps.columns:
            if col in ("week", "date"):
                continue
            vals = steps[col].to_numpy(dtype=float)
            if col.startswith("p_"):
                self.counts[col] = self.counts.get(col, 0.0) + np.rint(vals * size)
                continue
            wt = np.where(np.isnan(vals), 0.0, active)
            self.weight[col] = self.weight.get(col, 0.0) + wt
            self.weighted[col] = (self.weighted.get(col, 0.0)
                                  + np.where(wt > 0, vals, 0.0) * wt)

    def result(self) -> pd.DataFrame:
        """The run's weekly table."""
        if self.first is None:
            raise ValueError("no block was added")
        if self.blocks == 1:
            return self.first
        steps = self.first.copy()
        for col in steps.columns:
            if col in self.counts:
                steps[col] = self.counts[col] / self.n
            elif col in self.weight:
                tot = self.weight[col]
                steps[col] = np.where(tot > 0, self.weighted[col] / np.where(tot > 0, tot, 1.0),
                                      np.nan)
        return steps


class WorldsSink:
    """Where a run's outcome rows go: held in memory, or written to Parquet as they come.

    With ``path`` the blocks' rows are gathered, in block order, until they take
    ``row_group_bytes`` (default :data:`ROW_GROUP_BYTES`), then written as one row
    group of ``path`` (under a temporary name, renamed by :meth:`close`); so the rows
    of a run of any size never sit in memory together, and the file's footer has one
    entry per row group, not per block. Without ``path`` the blocks are kept and
    concatenated (:meth:`frame`).
    """

    def __init__(self, path: Path | None = None, row_group_bytes: int | None = None) -> None:
        self.path = path
        self.frames: list[pd.DataFrame] = []
        self.row_group_bytes = ROW_GROUP_BYTES if row_group_bytes is None else row_group_bytes
        self.row_groups = 0
        self._pending: list[Any] = []   # Arrow tables not yet written
        self._pending_bytes = 0
        self._writer: Any = None
        self._schema: Any = None
        self._tmp = temp_name(path) if path is not None else None

    def add(self, outcomes: pd.DataFrame) -> None:
        """Take one block's rows (in block order)."""
        if self.path is None:
            self.frames.append(outcomes)
            return
        import pyarrow as pa  # type: ignore[import-untyped]

        if self._schema is None:
            table = pa.Table.from_pandas(outcomes, preserve_index=False)
            self._schema = table.schema
        else:
            table = pa.Table.from_pandas(outcomes, schema=self._schema, preserve_index=False)
        self._pending.append(table)
        self._pending_bytes += table.nbytes
        if self._pending_bytes >= self.row_group_bytes:
            self._flush()

    def _flush(self) -> None:
        """Write the gathered rows as one row group."""
        if not self._pending:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq  # type: ignore[import-untyped]

        if self._writer is None:
            self._writer = pq.ParquetWriter(self._tmp, self._schema)
        table = pa.concat_tables(self._pending)
        self._pending, self._pending_bytes = [], 0
        self._writer.write_table(table, row_group_size=max(1, table.num_rows))
        self.row_groups += 1

    def frame(self) -> pd.DataFrame | None:
        """The rows held in memory (None for a streamed sink)."""
        if self.path is not None:
            return None
        if len(self.frames) == 1:
            return self.frames[0]
        return pd.concat(self.frames, ignore_index=True)

    def close(self) -> None:
        """Write what is gathered, finish the file and give it its name (streamed sinks)."""
        if self.path is None or self._tmp is None:
            return
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Drop a half-written file."""
        self._pending, self._pending_bytes = [], 0
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)


def simulate_blocks(params: ModelParams, worlds: int, seed: int, horizon_weeks: int,
                    block_worlds: int, precision: float | None = None,
                    max_worlds: int | None = None, trace: bool = False,
                    progress: bool = True, executor: Executor | None = None,
                    worlds_file: Path | str | None = None,
                    row_group_bytes: int | None = None) -> RunOutput:
    """Run a fixed number of worlds, or blocks until P(sign)'s interval is narrow enough.

    Args:
        params: Validated parameters.
        worlds: Worlds of a fixed run (ignored when ``precision`` is set).
        seed: The run's seed (>= 0).
        horizon_weeks: Weeks simulated.
        block_worlds: Worlds per block.
        precision: Target half-width of the 95 % Wilson interval, or None.
        max_worlds: Cap for a precision run.
        trace: Keep week-by-week detail.
        progress: Show a progress bar if the run lasts more than two seconds.
        executor: Where blocks are computed (:mod:`sim.experiment.executors`; default this
            process). Every executor gives the same run: blocks are seeded by their
            index, read in index order, and a precision run's stopping rule is
            applied block by block in that order (blocks computed beyond the stopping
            point are discarded). The executor is given at most
            :data:`~sim.experiment.executors.AHEAD_PER_WORKER` blocks per worker
            beyond the one being read.
        worlds_file: Write the outcome rows there (Parquet) as the blocks arrive
            instead of holding them: the memory this process needs is then that of a
            few blocks and one row group being gathered, whatever the run's size, and
            :attr:`RunOutput.outcomes` is None.
        row_group_bytes: Rows gathered into one row group of ``worlds_file``
            (:class:`WorldsSink`; default :data:`ROW_GROUP_BYTES`).
    """
    from sim.model.rules import wilson_interval

    executor = executor or InProcess()
    cap = max_worlds if max_worlds is not None else block_worlds * 100
    if precision is None:
        plan = block_plan(worlds, block_worlds)
    else:  # full blocks while they fit under the cap (at least one)
        plan = [block_worlds] * max(1, cap // block_worlds)
    tasks = ((params, size, seed, horizon_weeks, b, block_worlds, trace)
             for b, size in enumerate(plan))
    sink = WorldsSink(Path(worlds_file) if worlds_file is not None else None,
                      row_group_bytes)
    stats, steps = SummaryStats(), StepsCombiner()
    sizes: list[int] = []
    traces: list[pd.DataFrame] = []
    ideal: dict[str, dict[str, float]] = {}
    first: tuple[dt.date, tuple[str, ...], dict] | None = None
    reached = None
    total = worlds if precision is None else block_worlds
    results = executor.map(run_block, tasks, ahead=AHEAD_PER_WORKER * executor.workers)
    try:
        with tqdm(total=total, unit="world", unit_scale=True, delay=2.0, leave=False,
                  disable=not progress, file=sys.stderr, desc="worlds") as bar:
            for res in results:
                size = len(res.outcomes)
                if first is None:
                    first = (res.start_date, tuple(res.issues), res.ideal_points)
                sizes.append(size)
                stats.add(res.outcomes)
                steps.add(res.steps, size)
                sink.add(res.outcomes)
                if res.trace is not None:
                    traces.append(res.trace)
                for a, pts in res.ideal_points.items():
                    acc = ideal.setdefault(a, dict.fromkeys(pts, 0.0))
                    for i, x in pts.items():
                        acc[i] += size * float(x)
                del res
                bar.update(size)
                if precision is None:
                    continue
                n = sum(sizes)
                lo, hi = wilson_interval(stats.signed, n)
                half = (hi - lo) / 2
                if half <= precision:
                    reached = True
                    break
                if n + block_worlds > cap:
                    reached = False
                    break
                # the half-width shrinks like 1/sqrt(n)
                need = min(cap, int(math.ceil(n * (half / precision) ** 2)))
                bar.total = max(need, n + block_worlds)
                bar.refresh()
        sink.close()
    except BaseException:
        sink.abort()
        raise
    finally:
        close = getattr(results, "close", None)
        if close is not None:   # blocks beyond the stopping point are dropped
            close()
    if first is None:
        raise ValueError("a run needs at least one world")
    start_date, issues, ideal_first = first
    n = sum(sizes)
    ideal_points = (ideal_first if len(sizes) == 1 else
                    {a: {i: s / n for i, s in pts.items()} for a, pts in ideal.items()})
    trace_df = (None if not traces else traces[0] if len(traces) == 1
                else pd.concat(traces, ignore_index=True))
    return RunOutput(sink.frame(), steps.result(), trace_df, ideal_points, start_date,
                     issues, sizes, reached, stats.result(horizon_weeks), sink.path)


def simulate_job(job: Job, progress: bool = True, executor: Executor | None = None,
                 worlds_file: Path | None = None) -> RunOutput:
    """Run a checked job's worlds (its settings choose the executor unless given)."""
    s = job.settings
    if executor is None:
        executor = make_executor(s.executor, s.workers)
    return simulate_blocks(job.params, s.worlds, s.seed, s.horizon_weeks, s.block_worlds,
                           s.precision, s.max_worlds, s.trace, progress=progress,
                           executor=executor, worlds_file=worlds_file)


# ----------------------------------------------------------------------- summaries


def config_hash(cfg: dict) -> str:
    """Hash of everything that determines the numbers.

    That is the resolved configuration without :data:`RUN_ONLY_KEYS`, and the model's
    code, so that a sweep resumed after a model change re-runs its jobs while one
    resumed with ``quiet``, ``trace`` or the executor changed keeps them.
    """
    keep = {k: v for k, v in cfg.items() if k not in RUN_ONLY_KEYS}
    keep["_model_code"] = model_fingerprint()
    text = json.dumps(keep, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


#: Columns a sweep table (and the report's table) takes from each summary, in order.
ROW_COLUMNS = ("worlds", "seed", "p_sign", "ci_low", "ci_high",
               *(f"p_sign_{m}m" for m in MONTHS), *(f"share_{c}" for c in OUTCOMES),
               "median_weeks_to_sign")


@dataclass(frozen=True)
class Summary:
    """A run's estimates and how it was made: the typed form of ``summary.json``.

    The headline fields are typed here; every other estimate of
    :func:`sim.experiment.api.summarise` (ratification, referendums, incident rates, escalation by
    kind...) is kept, as it computes it, in :attr:`estimates`. :meth:`to_dict` gives the
    flat JSON mapping and :meth:`from_dict` reads it back.
    """

    scenario: str
    worlds: int
    seed: int
    horizon_weeks: int
    start_date: str
    p_sign: float
    ci_low: float
    ci_high: float
    ci_half_width: float
    signed: int
    by_month: dict[int, float | None]
    by_month_ci: dict[int, list[float] | None]
    outcome_shares: dict[str, float]
    median_weeks_to_sign: float | None
    estimates: dict[str, Any]
    precision: float | None = None
    precision_reached: bool | None = None
    blocks: int = 1
    block_worlds: int | None = None
    overrides: list[str] = field(default_factory=list)
    config_hash: str | None = None
    elapsed_seconds: float | None = None
    #: Where the assumptions came from (``point``, ``prior`` or ``posterior``, the
    #: posterior's file beside it): the headline means something else in each mode.
    assumptions: str = "point"
    posterior_file: str | None = None

    #: Fields written first in the JSON form, then the monthly ones, then these two,
    #: then :attr:`estimates`, then :data:`_RUN`.
    _HEAD = ("scenario", "worlds", "seed", "horizon_weeks", "start_date", "p_sign",
             "ci_low", "ci_high", "ci_half_width", "signed")
    _MID = ("outcome_shares", "median_weeks_to_sign")
    _RUN = ("precision", "precision_reached", "blocks", "block_worlds", "overrides",
            "config_hash", "elapsed_seconds", "assumptions", "posterior_file")
    _SCALARS = (*_HEAD, *_MID, *_RUN)

    def to_dict(self) -> dict[str, Any]:
        """The flat mapping written to ``summary.json``."""
        out: dict[str, Any] = {k: getattr(self, k) for k in self._HEAD}
        for m in MONTHS:
            out[f"p_sign_{m}m"] = self.by_month.get(m)
            out[f"p_sign_{m}m_ci"] = self.by_month_ci.get(m)
        out["outcome_shares"] = dict(self.outcome_shares)
        out["median_weeks_to_sign"] = self.median_weeks_to_sign
        for k, v in self.estimates.items():
            out.setdefault(k, v)
        for k in self._RUN:
            out[k] = getattr(self, k)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Summary:
        """Read a ``summary.json`` mapping (checked by :func:`runfolder.check_summary`)."""
        monthly = {f"p_sign_{m}m{ci}" for m in MONTHS for ci in ("", "_ci")}
        ci_low, ci_high = float(d["ci_low"]), float(d["ci_high"])
        ov = d.get("overrides") or []
        return cls(
            scenario=str(d["scenario"]), worlds=int(d["worlds"]), seed=int(d["seed"]),
            horizon_weeks=int(d["horizon_weeks"]), start_date=str(d.get("start_date")),
            p_sign=float(d["p_sign"]), ci_low=ci_low, ci_high=ci_high,
            ci_half_width=float(d.get("ci_half_width", (ci_high - ci_low) / 2)),
            signed=int(d.get("signed", round(d["p_sign"] * d["worlds"]))),
            by_month={m: d.get(f"p_sign_{m}m") for m in MONTHS},
            by_month_ci={m: d.get(f"p_sign_{m}m_ci") for m in MONTHS},
            outcome_shares=dict(d.get("outcome_shares") or {}),
            median_weeks_to_sign=d.get("median_weeks_to_sign"),
            estimates={k: v for k, v in d.items()
                       if k not in cls._SCALARS and k not in monthly},
            precision=d.get("precision"), precision_reached=d.get("precision_reached"),
            blocks=int(d.get("blocks", 1)), block_worlds=d.get("block_worlds"),
            overrides=[ov] if isinstance(ov, str) else list(ov),
            config_hash=d.get("config_hash"), elapsed_seconds=d.get("elapsed_seconds"),
            assumptions=str(d.get("assumptions", "point")),
            posterior_file=d.get("posterior_file"))

    def row(self) -> dict[str, Any]:
        """The :data:`ROW_COLUMNS` of this run (for sweep and report tables)."""
        out: dict[str, Any] = {"worlds": self.worlds, "seed": self.seed,
                               "p_sign": self.p_sign, "ci_low": self.ci_low,
                               "ci_high": self.ci_high,
                               "median_weeks_to_sign": self.median_weeks_to_sign}
        for m in MONTHS:
            out[f"p_sign_{m}m"] = self.by_month.get(m)
        for c in OUTCOMES:
            out[f"share_{c}"] = self.outcome_shares.get(c)
        return {k: out[k] for k in ROW_COLUMNS}


def summarise_run(out: RunOutput, job: Job, chash: str, elapsed: float,
                  spread: dict | None = None) -> Summary:
    """The :class:`Summary` of a run of ``job``: the library's summary, and how it was run.

    ``spread``: the ``spread`` block of :func:`sim.experiment.spread.spread`, kept among
    the summary's :attr:`Summary.estimates` (written to ``summary.json`` as ``spread``).
    """
    s = job.settings
    extra = {"spread": spread} if spread is not None else {}
    return Summary.from_dict({
        **out.estimates, **extra,
        "scenario": s.scenario, "seed": s.seed, "horizon_weeks": s.horizon_weeks,
        "start_date": out.start_date.isoformat(), "precision": s.precision,
        "precision_reached": out.precision_reached, "blocks": len(out.block_sizes),
        "block_worlds": s.block_worlds, "overrides": list(job.overrides),
        "config_hash": chash, "elapsed_seconds": round(elapsed, 3),
        "assumptions": s.assumptions,
        "posterior_file": (str(s.posterior_file) if s.assumptions == "posterior" else None)})


#: Folders searched for ``git`` (never the job's PATH, which a config must not steer).
GIT_PATH = "/usr/bin:/bin:/usr/local/bin"
#: The checkout the package runs from (its git revision is recorded when there is one).
SOURCE_DIR = Path(__file__).resolve().parents[2]


def git_environment() -> dict[str, str]:
    """A fixed environment for ``git``: nothing a configuration or the caller set.

    No ``GIT_*`` variables (``GIT_CONFIG_COUNT/KEY/VALUE`` can set ``core.fsmonitor``,
    a command git runs), no global or system git configuration, no pager or editor.
    """
    return {"PATH": GIT_PATH, "LC_ALL": "C", "HOME": "/nonexistent",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}


def git_revision() -> str | None:
    """The checkout's commit (``-dirty`` if tracked files changed), or None."""
    git = shutil.which("git", path=GIT_PATH)
    if git is None or not (SOURCE_DIR / ".git").exists():
        return None
    base = [git, "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
            "-C", str(SOURCE_DIR)]
    try:
        rev = subprocess.run([*base, "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=True, env=git_environment(),
                             stdin=subprocess.DEVNULL)
        dirty = subprocess.run([*base, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True,
                               env=git_environment(), stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def package_version() -> str:
    """The installed ``peace-sim`` version."""
    try:
        return metadata.version("peace-sim")
    except metadata.PackageNotFoundError:
        return __version__


def provenance() -> dict[str, Any]:
    """Package, version, git revision, model code and Python of this process."""
    return {"package": "peace-sim", "version": package_version(),
            "git_revision": git_revision(), "model_code": model_fingerprint(),
            "python": platform.python_version(),
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def build_metadata(out: RunOutput, job: Job, chash: str) -> dict:
    """The contents of ``metadata.json``."""
    s = job.settings
    return {
        **provenance(),
        "scenario": s.scenario,
        "seed": s.seed,
        "worlds": out.worlds,
        "horizon_weeks": s.horizon_weeks,
        "start_date": out.start_date.isoformat(),
        "issues": list(out.issues),
        "ideal_points": out.ideal_points,
        "overrides": job.overrides,
        "block_sizes": out.block_sizes,
        "steps_note": ("quantile columns of a multi-block run are world-weighted means "
                       "of the blocks' quantiles" if len(out.block_sizes) > 1 else ""),
        "config_hash": chash,
        "config": job.config,
    }


# ----------------------------------------------------------------------- run folders


def write_json(obj: Any) -> Callable[[Path], None]:
    """A writer of ``obj`` as indented JSON, for :func:`sim.experiment.runfolder.atomic_write`."""
    def write(p: Path) -> None:
        p.write_text(json.dumps(obj, indent=2, default=str) + "\n", encoding="utf-8")
    return write


#: A figure drawn into a run folder once its tables are written (``sim-run`` passes
#: :func:`sim.viz.report.write_trace_figure`): takes the folder, returns the file.
FigureWriter = Callable[[Path], Path]


def write_run_folder(out_dir: Path, out: RunOutput, summary: Summary, meta: dict,
                     trace_figure: FigureWriter | None = None) -> None:
    """Write a run's files into ``out_dir``, each atomically, ``manifest.json`` last.

    Files: ``worlds.parquet`` (one row per world; already there when the run streamed
    it, :attr:`RunOutput.worlds_file`), ``steps.parquet`` (one row per week),
    ``trace.parquet`` (only for trace runs), ``metadata.json``, ``summary.json``, the
    file ``trace_figure`` draws (trace runs, when given) and ``manifest.json`` (size
    and SHA-256 of each of them). A folder whose manifest verifies holds a finished
    run (:mod:`sim.experiment.runfolder`).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST).unlink(missing_ok=True)  # not finished until written again
    names = ["worlds.parquet", "steps.parquet", "metadata.json", "summary.json"]
    worlds = out_dir / "worlds.parquet"
    if out.outcomes is not None:
        rows = out.outcomes
        atomic_write(worlds, lambda p: rows.to_parquet(p, index=False))
    elif out.worlds_file is None or out.worlds_file.resolve() != worlds.resolve():
        raise ValueError(f"{out_dir}: the run's rows were streamed to {out.worlds_file}, "
                         "not to this folder")
    atomic_write(out_dir / "steps.parquet", lambda p: out.steps.to_parquet(p, index=False))
    if out.trace is not None:
        trace = out.trace
        atomic_write(out_dir / "trace.parquet", lambda p: trace.to_parquet(p, index=False))
        names.append("trace.parquet")
    atomic_write(out_dir / "metadata.json", write_json(meta))
    atomic_write(out_dir / "summary.json", write_json(summary.to_dict()))
    if out.trace is not None and trace_figure is not None:
        names.append(trace_figure(out_dir).name)   # reads the tables just written
    write_manifest(out_dir, names, {"config_hash": summary.config_hash})


def finished_summary(out_dir: Path, chash: str, need_trace: bool = False) -> Summary | None:
    """The summary of a finished, intact run of the same numbers in ``out_dir``.

    None if the folder holds no such run: no manifest, a file that does not match it,
    a malformed summary, another configuration (``config_hash``), or no
    ``trace.parquet`` when ``need_trace``.
    """
    try:
        summary = finished_run(out_dir)
    except DamagedRunError:
        return None
    if summary.get("config_hash") != chash:
        return None
    if need_trace and not (out_dir / "trace.parquet").is_file():
        return None
    return Summary.from_dict(summary)


def format_table(summary: Summary, out_dir: Path | None = None) -> str:
    """A short, human-readable summary of one run (percentages as :func:`percent` prints)."""
    s = summary
    lines = [
        f"scenario   {s.scenario}  ({s.worlds:,} worlds, seed {s.seed}, "
        f"{s.horizon_weeks} weeks from {s.start_date})",
    ]
    from sim.experiment.spread import SPREAD_NOTE, spread_text  # the model: on first use

    sp = s.estimates.get("spread")
    sp = sp if isinstance(sp, dict) and spread_ok(sp) else None
    if sp is not None:
        lines.append(f"P(sign)    {percent(s.p_sign)} [MC {percent(s.ci_low)}, "
                     f"{percent(s.ci_high)}]; {spread_text(sp)}")
        lines.append(f"  spread   median {percent(sp['p_sign_q50'])} over {sp['draws']:,} "
                     f"draws x {sp['worlds']:,} worlds; assumptions explain "
                     f"{sp['share_between']:.1%} of Var(signed) "
                     f"[{sp['share_between_ci'][0]:.1%}, {sp['share_between_ci'][1]:.1%}]; "
                     f"Monte Carlo share of the draws' variance {sp['noise_share']:.0%}")
    else:
        lines.append(f"P(sign)    {percent(s.p_sign)}  95% CI {interval(s.ci_low, s.ci_high)}")
    by = [f"{m}m {percent(p)}" for m, p in s.by_month.items() if p is not None]
    if by:
        lines.append("  by       " + "   ".join(by))
    lines.append("outcomes   " + "   ".join(f"{k} {percent(s.outcome_shares.get(k, 0.0))}"
                                             for k in OUTCOMES))
    if s.precision is not None:
        lines.append(f"precision  +-{s.precision:g} "
                     + ("reached" if s.precision_reached else "NOT reached (max_worlds)")
                     + f" with {s.blocks} block(s)")
    med = s.median_weeks_to_sign
    lines.append(f"median weeks to signing  {med:g}" if med is not None
                 else "median weeks to signing  - (none signed)")
    lines.append(f"95% CI: {INTERVAL_NOTE}")
    if sp is not None:
        lines.append(f"spread: {SPREAD_NOTE}")
    if out_dir is not None:
        lines.append(f"written to {out_dir}")
    return "\n".join(lines)


def run_job(job: Job, out_dir: Path | str, progress: bool = True,
            executor: Executor | None = None, trace_figure: FigureWriter | None = None
            ) -> Summary:
    """Run one checked job into ``out_dir``; return its summary.

    The worlds are streamed into ``worlds.parquet`` block by block
    (:func:`simulate_blocks` with ``worlds_file``), so a run of any size needs the
    memory of a few blocks. ``trace_figure`` draws a trace run's figure into the
    folder before its manifest (the command line passes
    :func:`sim.viz.report.write_trace_figure`; this layer draws nothing itself).

    If ``out_dir`` already holds a finished run of the same numbers (same
    :func:`config_hash`; with ``trace.parquet`` if the job traces), nothing is run and
    that run's summary is returned: this is how an interrupted sweep resumes, whatever
    run-only keys (:data:`RUN_ONLY_KEYS`) changed since.
    """
    s = job.settings
    out_dir = Path(out_dir)
    chash = config_hash(job.config)
    done = finished_summary(out_dir, chash, need_trace=s.trace)
    if done is not None:
        if not s.quiet:
            print(f"{s.scenario}: already done in {out_dir}, skipped")
        return done
    out_dir.mkdir(parents=True, exist_ok=True)
    clean_temp_files(out_dir)
    (out_dir / MANIFEST).unlink(missing_ok=True)
    (out_dir / "summary.json").unlink(missing_ok=True)
    tic = time.perf_counter()
    if executor is None:
        executor = make_executor(s.executor, s.workers)
    out = simulate_job(job, progress=progress and not s.quiet, executor=executor,
                       worlds_file=out_dir / "worlds.parquet")
    block = None
    if s.spread.on:
        from sim.experiment.spread import spread

        block = spread(job.params, s.spread, s.seed, s.horizon_weeks, s.block_worlds,
                       executor, progress=progress and not s.quiet).block
    summary = summarise_run(out, job, chash, time.perf_counter() - tic, block)
    write_run_folder(out_dir, out, summary, build_metadata(out, job, chash), trace_figure)
    if not s.quiet:
        print(format_table(summary, out_dir))
    return summary


# ----------------------------------------------------------------------- reading folders


class RunFolderError(ValueError):
    """A path that is not a (finished, intact) run or sweep folder; ``str()`` is one line."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        super().__init__(f"{path}: {problem}")


#: Files every run folder has.
RUN_FILES = ("summary.json", "worlds.parquet", "steps.parquet")
#: Columns of worlds.parquet and steps.parquet a reader needs (others are optional).
WORLDS_NEEDED = ("world", "signed", "outcome", "sign_week")
STEPS_NEEDED = ("week", "p_signed")


@dataclass
class RunData:
    """One run folder's contents.

    Attributes:
        path: The run folder.
        label: Display name (the scenario, or the swept values that set it apart).
        summary: ``summary.json``.
        metadata: ``metadata.json`` (empty if missing).
        worlds: ``worlds.parquet``: one row per world. Given (an in-memory run) or read
            from the folder when first used, only :attr:`columns` when set; a reader
            that needs a few columns of a large run uses :meth:`read_worlds` or
            :meth:`iter_worlds` instead, which never hold every column.
        steps: ``steps.parquet``: one row per week.
        job: Job number within a sweep (``None`` for a single run).
        columns: The columns :attr:`worlds` reads (those of them the table has), or
            None for every column.
    """

    path: Path
    label: str
    summary: dict
    metadata: dict
    worlds: pd.DataFrame = field(repr=False)   # a property below: read when first used
    steps: pd.DataFrame
    job: int | None = None
    _trace: pd.DataFrame | None = field(default=None, repr=False)
    columns: tuple[str, ...] | None = field(default=None, repr=False)

    @property
    def worlds_file(self) -> Path:
        """``worlds.parquet`` of the folder."""
        return self.path / "worlds.parquet"

    def _given(self) -> pd.DataFrame | None:
        """The rows given to the constructor (an in-memory run), else None."""
        return self.__dict__.get("_worlds_given")

    def world_columns(self) -> list[str]:
        """Columns of the worlds table (the file's schema; nothing else is read)."""
        given = self._given()
        return list(given.columns) if given is not None else table_columns(self.worlds_file)

    def _wanted(self, columns: Sequence[str] | None) -> list[str] | None:
        if columns is None:
            return None
        have = set(self.world_columns())
        return [c for c in dict.fromkeys(columns) if c in have]

    def read_worlds(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The worlds table's ``columns`` (those the table has; all if None).

        From the rows held when they hold those columns (:attr:`worlds` given, or
        already read), else read from ``worlds.parquet`` (``columns=``: nothing else is
        read). Not kept.
        """
        cols = self._wanted(columns)
        given = self._given()
        held = given if given is not None else self.__dict__.get("_worlds_read")
        if held is not None and (cols is None and given is not None
                                 or cols is not None and set(cols) <= set(held.columns)):
            return held if cols is None else held[cols]
        return read_table_file(self.worlds_file, cols, all_if_empty=False)

    def iter_worlds(self, columns: Sequence[str] | None = None,
                    batch_rows: int | None = None) -> Iterator[pd.DataFrame]:
        """The worlds table's ``columns`` in batches of rows, in order (:func:`iter_table`)."""
        given = self._given()
        cols = self._wanted(columns)
        if given is None:
            yield from iter_table(self.worlds_file, cols, batch_rows)
            return
        frame = given if cols is None else given[cols]
        step = batch_rows or BATCH_ROWS
        for i in range(0, len(frame), step):
            yield frame.iloc[i:i + step]

    def world_row(self, world: int) -> pd.DataFrame:
        """World ``world``'s row (every column; empty if there is none), streamed."""
        for batch in self.iter_worlds():
            hit = batch[batch["world"] == world]
            if len(hit):
                return hit.reset_index(drop=True)
        return self.read_worlds(["world"]).iloc[:0]

    def stats(self, batch_rows: int | None = None) -> dict:
        """Summary statistics of the worlds, streamed (:func:`stream_summary`).

        Equal to :func:`sim.experiment.api.summarise` of the whole table, holding one
        batch of the columns it needs at a time.
        """
        given = self._given()
        if given is not None:
            return SummaryStats().add(given).result(self.horizon_weeks)
        return stream_summary(self.worlds_file, self.horizon_weeks, batch_rows)

    @property
    def scenario(self) -> str:
        """Scenario name."""
        return str(self.summary.get("scenario") or self.metadata.get("scenario") or "run")

    @property
    def horizon_weeks(self) -> int:
        """Weeks simulated."""
        h = self.summary.get("horizon_weeks") or self.metadata.get("horizon_weeks")
        return int(h) if h else len(self.steps)

    @property
    def n_worlds(self) -> int:
        """Worlds simulated."""
        return int(self.summary.get("worlds") or len(self.worlds))

    @property
    def seed(self) -> int | None:
        """The run's seed."""
        s = self.summary.get("seed", self.metadata.get("seed"))
        return None if s is None else int(s)

    @property
    def start_date(self) -> str:
        """Scenario start date (ISO)."""
        s = self.summary.get("start_date") or self.metadata.get("start_date")
        if s is None and "date" in self.steps and len(self.steps):
            s = self.steps["date"].iloc[0]
        return str(s)[:10] if s is not None else "?"

    @property
    def issues(self) -> list[str]:
        """Issue names in order."""
        if self.metadata.get("issues"):
            return list(self.metadata["issues"])
        return [c[6:] for c in self.world_columns() if c.startswith("terms.")]

    @property
    def overrides(self) -> list[str]:
        """Command-line overrides of the run (``key=value``)."""
        o = self.summary.get("overrides", self.metadata.get("overrides")) or []
        return [o] if isinstance(o, str) else list(o)

    @property
    def estimates(self) -> Summary:
        """The summary as a typed :class:`Summary`."""
        return Summary.from_dict(self.summary)

    @property
    def has_trace(self) -> bool:
        """Whether the run recorded a week-by-week trace."""
        return self._trace is not None or (self.path / "trace.parquet").exists()

    @property
    def trace(self) -> pd.DataFrame | None:
        """``trace.parquet`` (loaded on first use and checked), or ``None``.

        Raises:
            RunFolderError: Not a regular file of sane size, unreadable, or not a trace.
        """
        if self._trace is None and (self.path / "trace.parquet").exists():
            tr = _read_table(self.path / "trace.parquet", ("world", "week"))
            _check_column(tr, "world", self.path / "trace.parquet", 0, None)
            _check_column(tr, "week", self.path / "trace.parquet", 0, self.horizon_weeks)
            self._trace = tr
        return self._trace



def _get_worlds(self: RunData) -> pd.DataFrame:
    frame = self._given()
    if frame is None:
        frame = self.__dict__.get("_worlds_read")
        if frame is None:
            frame = self.read_worlds(self.columns)
            self.__dict__["_worlds_read"] = frame
    return frame


def _set_worlds(self: RunData, frame: pd.DataFrame | None) -> None:
    self.__dict__["_worlds_given"] = frame


RunData.worlds = property(_get_worlds, _set_worlds,
                          doc="``worlds.parquet`` (read on first use; see the class)")

def read_json_object(path: Path) -> dict:
    """A run folder's JSON object (``{}`` if the file is missing).

    Raises:
        RunFolderError: Unreadable, damaged, or not an object.
    """
    if not path.exists():
        return {}
    try:
        data = read_json(path)
    except DamagedRunError as e:
        raise RunFolderError(path, str(e).removeprefix(f"{path}: ")) from None
    if not isinstance(data, dict):
        raise RunFolderError(path, "expected a JSON object")
    return data


def is_run_dir(path: Path) -> bool:
    """Whether ``path`` looks like a run folder (any of its files is there).

    Whether it is a finished, intact one is :func:`load_run`'s check.
    """
    return path.is_dir() and any((path / f).is_file() for f in (*RUN_FILES, MANIFEST))


def numbered_dirs(path: Path) -> list[Path]:
    """The numbered subfolders (job folders ``0/``, ``1/``...) of ``path``, in order."""
    try:
        dirs = [p for p in path.iterdir() if p.name.isdigit() and p.is_dir()]
    except OSError as e:
        raise RunFolderError(path, f"cannot list the folder ({e.strerror or e})") from None
    return sorted(dirs, key=lambda p: int(p.name))


def is_sweep_dir(path: Path) -> bool:
    """Whether ``path`` is a sweep folder (numbered job folders)."""
    return path.is_dir() and bool(numbered_dirs(path))


#: Rows per batch when a reader streams a table (:func:`iter_table`). The summary of a
#: 100,000- or 300,000-world table peaked 10-15 MB above its start with 4,096 rows, 30-47
#: MB with 16,384 and 54-81 MB with 65,536 (benchmarks/bench_summary_read.py, 2 Dec 2026).
BATCH_ROWS = 8_192


@contextlib.contextmanager
def _table_errors(path: Path) -> Iterator[None]:
    """Turn a table's open and read failures into one-line :class:`RunFolderError` s."""
    try:
        yield
    except RunFolderError:
        raise
    except FileNotFoundError:
        raise RunFolderError(path, "missing") from None
    except IsADirectoryError:
        raise RunFolderError(path, "is a folder, expected a table") from None
    except UnsafeFile as e:
        raise RunFolderError(path, f"{e}, expected a table") from None
    except OSError:
        raise
    except Exception as e:  # noqa: BLE001 - pyarrow raises several types for bad files
        raise RunFolderError(path, f"cannot read the table ({e.__class__.__name__})"
                             ) from None


def read_table_file(path: Path, columns: Sequence[str] | None = None,
                    all_if_empty: bool = True) -> pd.DataFrame:
    """A run folder's parquet table, opened only as a regular file of sane size.

    Args:
        path: The ``.parquet`` file.
        columns: Read only these columns (all if None; pyarrow reads nothing else).
        all_if_empty: An empty ``columns`` reads every column (else none).

    Raises:
        RunFolderError: Not a regular file (FIFO, socket, device, folder), larger than
            :data:`sim.experiment.runfolder.MAX_FILE_BYTES`, or not a readable table.
    """
    cols = None if columns is None or (all_if_empty and not columns) else list(columns)
    with _table_errors(path), open_regular(path, MAX_FILE_BYTES) as fh:
        return pd.read_parquet(fh, columns=cols)


def _parquet(fh: Any) -> Any:
    import pyarrow.parquet as pq

    return pq.ParquetFile(fh)


def table_columns(path: Path) -> list[str]:
    """Column names of a run folder's parquet table (its footer only is read).

    Raises:
        RunFolderError: As :func:`read_table_file`.
    """
    with _table_errors(path), open_regular(path, MAX_FILE_BYTES) as fh:
        return list(_parquet(fh).schema_arrow.names)


def table_rows(path: Path) -> int:
    """Rows of a run folder's parquet table (from its footer).

    Raises:
        RunFolderError: As :func:`read_table_file`.
    """
    with _table_errors(path), open_regular(path, MAX_FILE_BYTES) as fh:
        return int(_parquet(fh).metadata.num_rows)


def iter_table(path: Path, columns: Sequence[str] | None = None,
               batch_rows: int | None = None) -> Iterator[pd.DataFrame]:
    """A run folder's parquet table in batches of at most ``batch_rows`` rows, in order.

    Reads ``columns`` only (all if None) and holds about one row group and one batch at
    a time (:meth:`pyarrow.parquet.ParquetFile.iter_batches`), whatever the table's size;
    each batch is a frame with the dtypes :func:`read_table_file` gives.

    Raises:
        RunFolderError: As :func:`read_table_file` (also when a batch cannot be read).
    """
    with _table_errors(path), open_regular(path, MAX_FILE_BYTES) as fh:
        pf = _parquet(fh)
        if columns is not None:
            have = set(pf.schema_arrow.names)
            missing = [c for c in columns if c not in have]
            if missing:
                raise RunFolderError(path, f"column {missing[0]!r} missing")
        for batch in pf.iter_batches(batch_size=batch_rows or BATCH_ROWS,
                                     columns=None if columns is None else list(columns),
                                     use_pandas_metadata=True):
            yield batch.to_pandas()


def summary_columns(names: Sequence[str]) -> list[str]:
    """The columns among ``names`` that the summary statistics read.

    Those :class:`sim.experiment.api.SummaryStats` adds up: outcome, signing, terms,
    ratification, referendums, escalation kind, incident and report totals.
    """
    fixed = {"signed", "sign_week", "outcome", "escalation_kind", "active_weeks",
             "incidents", "referendum_passed", "referendum_held", "ratified"}
    return [c for c in names if c in fixed or c.startswith(("terms.", "incidents_window_"))
            or (c.startswith("reports.") and not c.startswith("reports_window"))]


def stream_summary(path: Path, horizon_weeks: int, batch_rows: int | None = None) -> dict:
    """Summary statistics of a ``worlds.parquet``, batch by batch.

    :class:`sim.experiment.api.SummaryStats` keeps counts, sums and a histogram only, so
    the summary of a run of any size is computed holding one batch of the columns it
    reads (:func:`summary_columns`); equal to ``summarise(read_table_file(path), h)``.

    Raises:
        RunFolderError: As :func:`iter_table`.
    """
    stats = SummaryStats()
    for batch in iter_table(path, summary_columns(table_columns(path)), batch_rows):
        stats.add(batch)
    if not stats.n:
        raise RunFolderError(path, "holds no worlds")
    return stats.result(horizon_weeks)


def _read_table(path: Path, needed: Sequence[str]) -> pd.DataFrame:
    df = read_table_file(path)
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise RunFolderError(path, f"column {missing[0]!r} missing; not a sim-run table")
    return df


def _need_columns(path: Path, needed: Sequence[str]) -> list[str]:
    """The table's columns, refused when one of ``needed`` is missing (footer only)."""
    names = table_columns(path)
    missing = [c for c in needed if c not in names]
    if missing:
        raise RunFolderError(path, f"column {missing[0]!r} missing; not a sim-run table")
    return names


def _check_column(df: pd.DataFrame, col: str, path: Path, lo: float | None,
                  hi: float | None, whole: bool = True) -> None:
    """Refuse a column that is not of whole numbers (or finite numbers) in [lo, hi]."""
    v = df[col]
    kind = "whole numbers" if whole else "finite numbers"
    ok_type = (pd.api.types.is_integer_dtype(v) or pd.api.types.is_bool_dtype(v)) if whole \
        else (pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v))
    if not ok_type:
        raise RunFolderError(path, f"column {col!r} must hold {kind}, holds {v.dtype}; "
                             "not what sim-run writes")
    a = v.to_numpy(dtype=float)
    bad = ~np.isfinite(a)
    if lo is not None:
        bad |= a < lo
    if hi is not None:
        bad |= a > hi
    if bad.any():
        rng = f"[{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"
        raise RunFolderError(path, f"column {col!r} holds {a[bad][0]!r}; allowed {kind} in "
                             f"{rng}; not what sim-run writes")


#: Largest difference between summary.json's P(sign) and the worlds table's share signed.
P_SIGN_TOLERANCE = 1e-9


def check_tables(path: Path, summary: dict, worlds: pd.DataFrame, steps: pd.DataFrame
                 ) -> None:
    """Refuse tables whose values ``sim-run`` could not have written (by type and range).

    The report and the dashboard draw whatever a folder holds, so a table that passes
    its manifest but holds NaN, infinite or out-of-range values (a world signed "NaN",
    week ``inf``, a share above 1) would render as numbers that look right. Checked:
    ``worlds.parquet``'s ``world`` (>= 0), ``signed`` (true/false), ``outcome`` (one of
    the outcome classes) and ``sign_week`` (-1 or a week of the horizon), its share signed
    against summary.json's ``p_sign``; ``steps.parquet``'s ``week`` (a week of the
    horizon) and its cumulative shares ``p_*`` (in [0, 1]). :func:`load_run` makes the
    same checks streaming ``worlds.parquet`` batch by batch (:func:`check_worlds_file`).

    Raises:
        RunFolderError: The first bad column, naming the file, the column and what is
            allowed.
    """
    signed = _check_worlds(worlds, path / "worlds.parquet", summary["horizon_weeks"])
    _check_share_signed(path / "worlds.parquet", signed, len(worlds), summary)
    check_steps(path, summary, steps)


def _check_worlds(worlds: pd.DataFrame, wp: Path, horizon: int) -> int:
    """Check a batch of worlds' rows (see :func:`check_tables`); its signed worlds."""
    _check_column(worlds, "world", wp, 0, None)
    if not pd.api.types.is_bool_dtype(worlds["signed"]):
        _check_column(worlds, "signed", wp, 0, 1)
    _check_column(worlds, "sign_week", wp, -1, horizon)
    bad = ~worlds["outcome"].isin(OUTCOMES)
    if bad.any():
        first = _short_text(worlds["outcome"][bad].iloc[0])
        raise RunFolderError(wp, f"column 'outcome' holds {first}; allowed: "
                             f"{', '.join(OUTCOMES)}")
    return int(worlds["signed"].astype(float).sum())


def _check_share_signed(wp: Path, signed: int, n: int, summary: dict) -> None:
    if n and abs(signed / n - summary["p_sign"]) > P_SIGN_TOLERANCE:
        raise RunFolderError(wp, "its share of signed worlds differs from summary.json's "
                             "p_sign: the folder was edited after sim-run wrote it")


def check_worlds_file(path: Path, summary: dict, batch_rows: int | None = None) -> None:
    """:func:`check_tables`' checks of ``path/worlds.parquet``, streamed batch by batch.

    Reads the checked columns only (:data:`WORLDS_NEEDED`), one batch at a time.

    Raises:
        RunFolderError: As :func:`check_tables`.
    """
    wp = path / "worlds.parquet"
    signed = n = 0
    for batch in iter_table(wp, WORLDS_NEEDED, batch_rows):
        signed += _check_worlds(batch, wp, summary["horizon_weeks"])
        n += len(batch)
    _check_share_signed(wp, signed, n, summary)


def check_steps(path: Path, summary: dict, steps: pd.DataFrame) -> None:
    """:func:`check_tables`' checks of ``steps.parquet``."""
    sp = path / "steps.parquet"
    _check_column(steps, "week", sp, 0, summary["horizon_weeks"])
    for col in [c for c in steps.columns if c.startswith("p_")]:
        _check_column(steps, col, sp, 0, 1, whole=False)


def _short_text(v: Any, n: int = 40) -> str:
    text = repr(v)
    return text if len(text) <= n else text[:n - 3] + "..."


def load_run(path: Path | str, label: str | None = None, job: int | None = None,
             verify: bool = True, columns: Sequence[str] | None = None) -> RunData:
    """Load a run folder, holding one batch of its worlds at a time.

    The folder is checked (manifest, summary, the tables' types and ranges) streaming
    ``worlds.parquet`` batch by batch (:func:`check_worlds_file`); its rows are read when
    :attr:`RunData.worlds` is first used, only ``columns`` when given. The weekly table
    is read whole (one row per week).

    Args:
        path: The folder.
        label: Display name (default: the scenario).
        job: Job number within a sweep.
        verify: Check the folder's manifest first (:func:`sim.experiment.runfolder.finished_run`);
            only ``sim-run`` itself skips this, while it writes the folder.
        columns: The worlds columns :attr:`RunData.worlds` reads (those of them the table
            has); None: every column.

    Raises:
        RunFolderError: ``path`` is not a finished, intact run folder.
    """
    path = Path(path)
    if verify:
        try:
            summary = finished_run(path)
        except DamagedRunError as e:
            raise RunFolderError(path, str(e).removeprefix(f"{path}: ")) from None
    else:
        if not all((path / f).is_file() for f in RUN_FILES):
            missing = [f for f in RUN_FILES if not (path / f).is_file()]
            raise RunFolderError(path, "expected a sim-run output folder (missing "
                                 + ", ".join(missing) + ")")
        try:
            summary = check_summary(read_json(path / "summary.json"), path / "summary.json")
        except DamagedRunError as e:
            raise RunFolderError(path, str(e).removeprefix(f"{path}: ")) from None
    metadata = read_json_object(path / "metadata.json")
    wp = path / "worlds.parquet"
    _need_columns(wp, WORLDS_NEEDED)
    steps = _read_table(path / "steps.parquet", STEPS_NEEDED)
    rows = table_rows(wp)
    if rows != summary["worlds"]:
        raise RunFolderError(wp, f"{rows:,} rows but summary.json says "
                             f"{summary['worlds']:,} worlds")
    check_worlds_file(path, summary)
    check_steps(path, summary, steps)
    run = RunData(path, label or "", summary, metadata, None, steps, job,
                  columns=None if columns is None else tuple(columns))
    if not label:
        run.label = run.scenario
    return run


# ----------------------------------------------------------------------- sweeps


def paired_difference(a: pd.DataFrame, b: pd.DataFrame) -> tuple[float, float, float]:
    """Mean per-world difference of ``signed`` (a - b) and its 95 % interval.

    Jobs of one sweep share their seed, so world i of job A and world i of job B draw
    the same random numbers (common random numbers, :mod:`sim.model.rng`): the interval of the
    mean of the per-world differences is much narrower than that of the difference of
    two independent estimates. Worlds are matched on ``world`` (jobs of different sizes,
    e.g. precision runs, are compared on the worlds they share).
    """
    m = a[["world", "signed"]].merge(b[["world", "signed"]], on="world", suffixes=("_a", "_b"))
    d = m["signed_a"].to_numpy(dtype=float) - m["signed_b"].to_numpy(dtype=float)
    n = len(d)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    return mean, mean - Z95 * se, mean + Z95 * se


def split_override(override: str) -> tuple[str, str]:
    """``key=value`` into its key (without ``+``/``~``) and value."""
    key, _, value = override.partition("=")
    return key.lstrip("+~"), value


def _is_run_only(key: str) -> bool:
    return key.startswith("hydra") or key.split(".")[0] in RUN_ONLY_KEYS


def numbers_overrides(overrides: Sequence[str]) -> list[str]:
    """The overrides that can change the numbers (no Hydra or run-only keys), sorted."""
    return sorted(o for o in overrides if not _is_run_only(split_override(o)[0]))


def maybe_number(v: str) -> object:
    """A command-line value as a number when it is one (``0.5`` -> 0.5, ``3`` -> 3)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return int(f) if f.is_integer() and "." not in str(v) and "e" not in str(v).lower() \
        else f


#: Estimate columns of ``sweep_summary.csv``, in order.
ESTIMATES = (*ROW_COLUMNS, "diff_vs_baseline", "diff_ci_low", "diff_ci_high")
#: Columns of ``sweep_summary.csv`` before the swept keys, and after them.
SWEEP_HEAD = ("job", "overrides", "scenario")
SWEEP_TAIL = (*ESTIMATES, "horizon_weeks", "start_date", "status")


def sweep_table(sweep_dir: Path | str, jobs: Sequence[Sequence[str]] | None = None
                ) -> pd.DataFrame:
    """One row per job of the sweep in ``sweep_dir``, from the job folders' own records.

    Args:
        sweep_dir: The sweep folder (job subfolders ``0/``, ``1/`` ...).
        jobs: The override list of each job, in job order (from the sweep's command
            line). If None, every numbered subfolder with a finished run is a job.
            Job i is the finished run in folder ``i`` whose recorded overrides equal
            job i's, apart from run-only keys (:func:`numbers_overrides`: ``quiet``,
            ``trace``... never change the numbers); otherwise it gets empty estimates
            and ``status`` ``missing``.

    The paired difference of a job is taken from the job of scenario ``baseline`` with
    the same seed and the same values of every other swept key; when the scenario is
    not swept there is none and the difference columns are empty.
    """
    sweep_dir = Path(sweep_dir)
    summaries: list[Summary | None] = []
    if jobs is None:
        names = []
        for d in numbered_dirs(sweep_dir):
            s = _finished(d)
            if s is not None:
                names.append(d.name)
                summaries.append(s)
        jobs = [s.overrides for s in summaries if s is not None]
    else:
        names = [str(i) for i in range(len(jobs))]
        for name, ov in zip(names, jobs, strict=True):
            s = _finished(sweep_dir / name)
            ok = s is not None and numbers_overrides(s.overrides) == numbers_overrides(ov)
            summaries.append(s if ok else None)
    parsed = [dict(split_override(o) for o in ov if not _is_run_only(split_override(o)[0]))
              for ov in jobs]
    keys: list[str] = []
    for p in parsed:
        keys += [k for k in p if k not in keys]
    varying = [k for k in keys if len({p.get(k) for p in parsed}) > 1]
    rows = []
    for name, ov, p, s in zip(names, jobs, parsed, summaries, strict=True):
        row: dict[str, Any] = {"job": int(name), "overrides": " ".join(ov),
                               "scenario": s.scenario if s is not None
                               else p.get("scenario", BASELINE)}
        for k in keys:
            if k not in ("scenario", *ESTIMATES):
                row[k] = maybe_number(p[k]) if k in p else None
        if s is not None:
            row.update(s.row())
            row["horizon_weeks"] = s.horizon_weeks
            row["start_date"] = s.start_date
        row["status"] = "done" if s is not None else "missing"
        rows.append(row)
    _add_differences(rows, parsed, summaries, varying, sweep_dir)
    cols = [*SWEEP_HEAD]
    cols += [k for k in keys if k not in ("scenario", *ESTIMATES)]
    cols += [*SWEEP_TAIL]
    return pd.DataFrame(rows, columns=cols)


def baseline_job(i: int, scenarios: Sequence[str], seeds: Sequence[Any],
                 values: Sequence[dict], swept: Sequence[str]) -> int | None:
    """The index of job ``i``'s baseline: scenario ``baseline``, same seed, same values.

    ``values[j]`` maps swept keys to job j's values; ``swept`` are the keys that vary
    across the sweep (the scenario among them). None when the scenario is not swept, or
    no job matches.
    """
    if "scenario" not in swept:
        return None
    others = [k for k in swept if k != "scenario"]
    for j, (sc, seed, v) in enumerate(zip(scenarios, seeds, values, strict=True)):
        if sc == BASELINE and seed == seeds[i] \
                and all(v.get(k) == values[i].get(k) for k in others):
            return j
    return None


def _add_differences(rows: list[dict], parsed: list[dict], summaries: list,
                     varying: list[str], sweep_dir: Path) -> None:
    cache: dict[int, pd.DataFrame] = {}

    def worlds(job: int) -> pd.DataFrame:
        if job not in cache:
            cache[job] = read_table_file(sweep_dir / str(job) / "worlds.parquet",
                                         ["world", "signed"])
        return cache[job]

    done = [i for i, s in enumerate(summaries) if s is not None]
    scen = [summaries[i].scenario for i in done]
    seeds = [summaries[i].seed for i in done]
    vals = [parsed[i] for i in done]
    for k, i in enumerate(done):
        j = baseline_job(k, scen, seeds, vals, varying)
        if j is None:
            continue
        a, b = rows[i]["job"], rows[done[j]]["job"]
        d, lo, hi = paired_difference(worlds(a), worlds(b))
        rows[i]["diff_vs_baseline"], rows[i]["diff_ci_low"], rows[i]["diff_ci_high"] = d, lo, hi


def _finished(folder: Path) -> Summary | None:
    """The summary of the finished, intact run in ``folder``, or None."""
    try:
        return Summary.from_dict(finished_run(folder))
    except DamagedRunError:
        return None


def write_sweep_summary(sweep_dir: Path | str, jobs: Sequence[Sequence[str]] | None = None
                        ) -> pd.DataFrame:
    """Write ``sweep_summary.csv`` into ``sweep_dir`` (atomically) and return it."""
    sweep_dir = Path(sweep_dir)
    table = sweep_table(sweep_dir, jobs)
    clean_temp_files(sweep_dir)
    atomic_write(sweep_dir / "sweep_summary.csv", lambda p: table.to_csv(p, index=False))
    return table


#: Width of the overrides column of :func:`format_sweep` (longer ones wrap).
OVERRIDES_WIDTH = 40


def format_sweep(table: pd.DataFrame, width: int = OVERRIDES_WIDTH) -> str:
    """A short table of a sweep's estimates; long overrides wrap onto more lines.

    P(sign) is in per cent (:func:`percent`), the difference from the baseline in
    percentage points (:func:`points`); the last line says what the brackets are.
    """
    lines = [f"{'job':>4}  {'overrides':{width}s} {'P(sign)':>7} {'95% CI':>14} "
             f"{'vs baseline (pp)':>27}"]
    for r in table.itertuples(index=False):
        wrapped = textwrap.wrap(str(r.overrides), width, break_on_hyphens=False) or [""]
        if r.status != "done":
            cells = f"{'missing':>7}"
        else:
            diff = ""
            d = r.diff_vs_baseline
            if d is not None and np.isfinite(d):
                diff = (f"{points(d, unit='')} [{points(r.diff_ci_low, unit='')}, "
                        f"{points(r.diff_ci_high, unit='')}]")
            cells = (f"{percent(r.p_sign):>7} {interval(r.ci_low, r.ci_high):>14} "
                     f"{diff:>27}")
        lines.append(f"{r.job:>4}  {wrapped[0]:{width}s} {cells}".rstrip())
        lines += [f"{'':4}  {w}" for w in wrapped[1:]]
    lines.append(f"[ ]: {INTERVAL_NOTE}")
    lines.append("vs baseline: paired difference from the baseline job, percentage points")
    return "\n".join(lines)


def latest_sweep(root: Path | str | None = None) -> Path:
    """The most recently finished sweep folder under ``<root>/results/sweeps``.

    A finished sweep is a folder holding ``sweep_summary.csv``; the latest is the one whose
    summary was written last. ``root`` defaults to :func:`sim.experiment.config.output_root` (the
    checkout, or the working directory for an installed package), where ``make run`` and
    ``sim-run -m`` write.

    Raises:
        FileNotFoundError: No finished sweep there (one line, saying to run ``make run``).
    """
    from sim.experiment.config import output_root

    sweeps = Path(root if root is not None else output_root()) / "results" / "sweeps"
    found = [p.parent for p in sweeps.rglob("sweep_summary.csv")] if sweeps.is_dir() else []
    if not found:
        raise FileNotFoundError(f"no finished sweep under {sweeps}: run `make run` (or "
                                "`sim-run -m scenario=...`) first")
    return max(found, key=lambda p: ((p / "sweep_summary.csv").stat().st_mtime_ns, str(p)))


#: Environment variable naming the sweep folder the notebooks analyse.
SWEEP_ENV = "PEACE_SIM_SWEEP"


def chosen_sweep(path: Path | str | None = None) -> Path:
    """The sweep folder to analyse: ``path``, else ``$PEACE_SIM_SWEEP``, else the latest.

    A relative path is taken from the working directory; when it is not there it is
    taken from :func:`sim.experiment.config.output_root` (the checkout), where
    ``results/`` lives, so ``PEACE_SIM_SWEEP=results/sweeps/mine`` works from the
    checkout and from a notebook whose kernel runs in ``notebooks/``. The result is
    absolute.

    Raises:
        FileNotFoundError: The folder named does not exist (one line naming every place
            looked in), or nothing is named and no sweep has finished.
    """
    from sim.experiment.config import output_root

    named = path if path is not None else os.environ.get(SWEEP_ENV) or None
    if named is None:
        return latest_sweep().resolve()
    p = Path(named).expanduser()
    tried = [p] if p.is_absolute() else [Path.cwd() / p, Path(output_root()) / p]
    for cand in tried:
        if cand.is_dir():
            return cand.resolve()
    where = " or ".join(str(c) for c in dict.fromkeys(tried))
    raise FileNotFoundError(f"sweep folder {named!s} not found (looked in {where})")
