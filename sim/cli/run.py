"""``sim-run``: run a scenario (or a sweep of them) from the command line.

Examples::

    sim-run                                             # baseline, 20,000 worlds, seed 0
    sim-run scenario=russia_spoiler worlds=20000 seed=3
    sim-run precision=0.01                              # add worlds until +-0.01
    sim-run incidents.base_rate=0.5 actors.eu.monitors=null
    sim-run -m scenario=baseline,russia_spoiler         # a sweep (paired: one seed)
    sim-run -m incidents.base_rate=0.5,1,2 hydra/launcher=joblib

The Hydra app (:func:`main`) is thin: it checks the whole command line first (every
job of a sweep is composed and validated before anything runs, so a mistake is one
line on stderr and exit code 2), then lets Hydra launch the jobs, each of which calls
the plain :func:`run`. Tests call :func:`run` directly on
:func:`sim.cli.compose.compose_config`'s output.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

import hydra
import numpy as np
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from sim import __version__
from sim.api import MONTHS, OUTCOMES, model_fingerprint, simulate, summarise
from sim.cli import workers
from sim.cli.compose import (
    COMMAND_LINE,
    ROOT_DIR,
    Job,
    check_config_folders,
    check_hydra_settings,
    hydra_compose,
    layers,
    one_line,
    parse_overrides,
    prepare_job,
    register_resolvers,
    to_plain,
)
from sim.config import CONFIG_DIR
from sim.errors import ConfigError, EnvironmentProblem, environment_problem
from sim.memory import (
    DISK_PER_TRACE_CELL,
    DISK_PER_WORLD,
    check_run_memory,
    compact_bytes,
    parallel_jobs,
)
from sim.params import ModelParams
from sim.rules import wilson_interval
from sim.runfolder import (
    MANIFEST,
    DamagedRunError,
    atomic_write,
    clean_temp_files,
    finished_run,
    write_manifest,
)

register_resolvers()

#: Run keys that do not change the numbers (left out of the config hash).
COSMETIC_KEYS = ("quiet", "paths")
#: Hydra flags after which nothing runs (no need to check the configuration).
INFO_FLAGS = ("--help", "-h", "--hydra-help", "--info", "-i", "--version",
              "--shell-completion", "-sc")


# ----------------------------------------------------------------------- simulation


@dataclass
class RunOutput:
    """A run assembled from one or more blocks of worlds."""

    outcomes: pd.DataFrame
    steps: pd.DataFrame
    trace: pd.DataFrame | None
    ideal_points: dict
    start_date: dt.date
    issues: tuple[str, ...]
    block_sizes: list[int] = field(default_factory=list)
    precision_reached: bool | None = None


def block_plan(worlds: int, block_worlds: int) -> list[int]:
    """Sizes of the blocks of a fixed run of ``worlds`` worlds.

    A run of at most ``block_worlds`` worlds is one block, identical to
    ``sim.api.simulate(params, worlds, seed)``. A larger run is blocks 0, 1, ... of
    ``block_worlds`` worlds, the last one smaller if need be; a precision run that
    stops after k blocks therefore equals a fixed run of k * block_worlds worlds.
    """
    full, rest = divmod(worlds, block_worlds)
    return [block_worlds] * full + ([rest] if rest else [])


def simulate_blocks(params: ModelParams, worlds: int, seed: int, horizon_weeks: int,
                    block_worlds: int, precision: float | None = None,
                    max_worlds: int | None = None, trace: bool = False,
                    progress: bool = True) -> RunOutput:
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
    """
    results = []
    sizes: list[int] = []
    plan = block_plan(worlds, block_worlds) if precision is None else None
    total = worlds if plan is not None else block_worlds
    cap = max_worlds if max_worlds is not None else block_worlds * 100
    reached = None
    signed = 0
    with tqdm(total=total, unit="world", unit_scale=True, delay=2.0, leave=False,
              disable=not progress, file=sys.stderr, desc="worlds") as bar:
        b = 0
        while True:
            size = plan[b] if plan is not None else block_worlds
            res = simulate(params, worlds=size, seed=seed, horizon_weeks=horizon_weeks,
                           block=b, trace=trace)
            offset = b * block_worlds
            res.outcomes["world"] = np.arange(size) + offset
            if res.trace is not None:
                res.trace["world"] = res.trace["world"].to_numpy() % size + offset
            results.append(res)
            sizes.append(size)
            signed += int(res.outcomes["signed"].sum())
            bar.update(size)
            b += 1
            n = sum(sizes)
            if plan is not None:
                if b == len(plan):
                    break
                continue
            lo, hi = wilson_interval(signed, n)
            half = (hi - lo) / 2
            if half <= precision:
                reached = True
                break
            if n + block_worlds > cap:
                reached = False
                break
            # expected worlds needed: the half-width shrinks like 1/sqrt(n)
            need = min(cap, int(math.ceil(n * (half / precision) ** 2)))
            bar.total = max(need, n + block_worlds)
            bar.refresh()
    return _combine(results, sizes, reached)


def _combine(results: list, sizes: list[int], reached: bool | None) -> RunOutput:
    first = results[0]
    if len(results) == 1:
        return RunOutput(first.outcomes, first.steps, first.trace, first.ideal_points,
                         first.start_date, tuple(first.issues), sizes, reached)
    outcomes = pd.concat([r.outcomes for r in results], ignore_index=True)
    w = np.asarray(sizes, dtype=float) / sum(sizes)
    steps = first.steps.copy()
    # worlds still active in each block and week: the series describe those worlds
    active = np.stack([r.steps["p_active"].to_numpy() * n for r, n in
                       zip(results, sizes, strict=True)])
    for col in steps.columns:
        if col in ("week", "date"):
            continue
        vals = np.stack([r.steps[col].to_numpy(dtype=float) for r in results])
        if col.startswith("p_"):
            # shares combine exactly, weighted by the blocks' sizes
            steps[col] = (w[:, None] * vals).sum(axis=0)
            continue
        # means combine exactly and quantiles approximately (the active-world-weighted
        # mean of the blocks' quantiles; recorded in metadata), over active worlds only
        wt = np.where(np.isnan(vals), 0.0, active)
        tot = wt.sum(axis=0)
        comb = np.nansum(np.where(wt > 0, vals, 0.0) * wt, axis=0)
        steps[col] = np.where(tot > 0, comb / np.where(tot > 0, tot, 1.0), np.nan)
    trace = (pd.concat([r.trace for r in results], ignore_index=True)
             if first.trace is not None else None)
    ideal = {a: {i: float(sum(wi * r.ideal_points[a][i] for wi, r in
                              zip(w, results, strict=True)))
                 for i in pts} for a, pts in first.ideal_points.items()}
    return RunOutput(outcomes, steps, trace, ideal, first.start_date, tuple(first.issues),
                     sizes, reached)


# ----------------------------------------------------------------------- summaries


def config_hash(cfg: dict) -> str:
    """Hash of everything that changes the numbers.

    That is the resolved configuration and the model's code, so that a sweep resumed
    after a model change re-runs its jobs.
    """
    keep = {k: v for k, v in cfg.items() if k not in COSMETIC_KEYS}
    keep["_model_code"] = model_fingerprint()
    text = json.dumps(keep, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_summary(out: RunOutput, job: Job, chash: str, elapsed: float) -> dict:
    """The contents of ``summary.json``."""
    s = job.settings
    base = summarise(out.outcomes, s.horizon_weeks)
    summary: dict[str, Any] = {
        "scenario": s.scenario,
        "worlds": int(base["worlds"]),
        "seed": s.seed,
        "horizon_weeks": s.horizon_weeks,
        "start_date": out.start_date.isoformat(),
        "p_sign": base["p_sign"],
        "ci_low": base["ci_low"],
        "ci_high": base["ci_high"],
        "ci_half_width": (base["ci_high"] - base["ci_low"]) / 2,
        "signed": base["signed"],
    }
    for m in MONTHS:
        summary[f"p_sign_{m}m"] = base.get(f"p_sign_{m}m")
        summary[f"p_sign_{m}m_ci"] = base.get(f"p_sign_{m}m_ci")
    summary["outcome_shares"] = base["outcome_shares"]
    summary["median_weeks_to_sign"] = base["median_weeks_to_sign"]
    # every other estimate of the library's summary (ratification, referendum held,
    # incident metrics, escalation by kind...) as it computes it: one list, not a copy
    for k, v in base.items():
        summary.setdefault(k, v)
    summary.update({
        "precision": s.precision,
        "precision_reached": out.precision_reached,
        "blocks": len(out.block_sizes),
        "block_worlds": s.block_worlds,
        "overrides": job.overrides,
        "config_hash": chash,
        "elapsed_seconds": round(elapsed, 3),
    })
    return summary


#: Folders searched for ``git`` (never the job's PATH, which a config must not steer).
GIT_PATH = "/usr/bin:/bin:/usr/local/bin"


def git_environment() -> dict[str, str]:
    """A fixed environment for ``git``: nothing a configuration or the caller set.

    No ``GIT_*`` variables (``GIT_CONFIG_COUNT/KEY/VALUE`` can set ``core.fsmonitor``,
    a command git runs), no global or system git configuration, no pager or editor.
    """
    return {"PATH": GIT_PATH, "LC_ALL": "C", "HOME": "/nonexistent",
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}


def _git_revision() -> str | None:
    git = shutil.which("git", path=GIT_PATH)
    if git is None:
        return None
    base = [git, "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
            "-C", str(ROOT_DIR)]
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


def _package_version() -> str:
    try:
        return metadata.version("peace-sim")
    except metadata.PackageNotFoundError:
        return __version__


def build_metadata(out: RunOutput, job: Job, chash: str) -> dict:
    """The contents of ``metadata.json``."""
    s = job.settings
    return {
        "package": "peace-sim",
        "version": _package_version(),
        "git_revision": _git_revision(),
        "model_code": model_fingerprint(),
        "python": platform.python_version(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scenario": s.scenario,
        "seed": s.seed,
        "worlds": int(len(out.outcomes)),
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


# ----------------------------------------------------------------------- output folder


def _write_json(obj: Any) -> Callable[[Path], None]:
    def write(p: Path) -> None:
        p.write_text(json.dumps(obj, indent=2, default=str) + "\n", encoding="utf-8")
    return write


def write_run_folder(out_dir: Path, out: RunOutput, summary: dict, meta: dict) -> None:
    """Write a run's files into ``out_dir``, each atomically, ``manifest.json`` last.

    Files: ``worlds.parquet`` (one row per world), ``steps.parquet`` (one row per
    week), ``trace.parquet`` and ``trace.png`` (only for trace runs),
    ``metadata.json``, ``summary.json`` and ``manifest.json`` (size and SHA-256 of
    each of them). A folder whose manifest verifies holds a finished run
    (:mod:`sim.runfolder`).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST).unlink(missing_ok=True)  # not finished until written again
    names = ["worlds.parquet", "steps.parquet", "metadata.json", "summary.json"]
    atomic_write(out_dir / "worlds.parquet", lambda p: out.outcomes.to_parquet(p, index=False))
    atomic_write(out_dir / "steps.parquet", lambda p: out.steps.to_parquet(p, index=False))
    if out.trace is not None:
        trace = out.trace
        atomic_write(out_dir / "trace.parquet", lambda p: trace.to_parquet(p, index=False))
        names.append("trace.parquet")
    atomic_write(out_dir / "metadata.json", _write_json(meta))
    atomic_write(out_dir / "summary.json", _write_json(summary))
    if out.trace is not None:  # one world's story as a figure, beside trace.parquet
        from sim.report import write_trace_figure  # matplotlib only when tracing

        names.append(write_trace_figure(out_dir, verify=False).name)
    write_manifest(out_dir, names, {"config_hash": summary.get("config_hash")})


def finished_summary(out_dir: Path, chash: str) -> dict | None:
    """The summary of a finished, intact run of the same configuration in ``out_dir``.

    None if the folder holds no such run: no manifest, a file that does not match it,
    a malformed summary, or another configuration (``config_hash``).
    """
    try:
        summary = finished_run(out_dir)
    except DamagedRunError:
        return None
    if summary.get("config_hash") != chash:
        return None
    return summary


def format_table(summary: dict, out_dir: Path | None = None) -> str:
    """A short, human-readable summary of one run."""
    s = summary
    lines = [
        f"scenario   {s['scenario']}  ({s['worlds']:,} worlds, seed {s['seed']}, "
        f"{s['horizon_weeks']} weeks from {s['start_date']})",
        f"P(sign)    {s['p_sign']:.3f}  95% CI [{s['ci_low']:.3f}, {s['ci_high']:.3f}]",
    ]
    by = [f"{m}m {s[f'p_sign_{m}m']:.3f}" for m in MONTHS if s.get(f"p_sign_{m}m") is not None]
    if by:
        lines.append("  by       " + "   ".join(by))
    lines.append("outcomes   " + "   ".join(f"{k} {s['outcome_shares'][k]:.3f}"
                                             for k in OUTCOMES))
    if s.get("precision") is not None:
        lines.append(f"precision  +-{s['precision']:g} "
                     + ("reached" if s.get("precision_reached") else "NOT reached (max_worlds)")
                     + f" with {s['blocks']} block(s)")
    med = s["median_weeks_to_sign"]
    lines.append(f"median weeks to signing  {med:g}" if med is not None
                 else "median weeks to signing  - (none signed)")
    if out_dir is not None:
        lines.append(f"written to {out_dir}")
    return "\n".join(lines)


# ----------------------------------------------------------------------- one job


def run(cfg: dict, out_dir: Path | str, overrides: Sequence[str] = (),
        config_dir: Path | None = None, progress: bool = True) -> dict:
    """Run one job and write its output folder; return its summary.

    Args:
        cfg: Plain resolved configuration (:func:`sim.cli.compose.compose_config`).
        out_dir: The run's output folder.
        overrides: The job's command-line overrides (recorded, and used to name the
            source of a bad value).
        config_dir: The configuration folder (for error messages).
        progress: Allow a progress bar (shown unless ``quiet``, for runs longer than
            two seconds).

    If ``out_dir`` already holds a finished run of the same configuration (same
    ``config_hash``), nothing is run and that run's summary is returned: this is how an
    interrupted sweep resumes.

    Raises:
        ConfigError: A bad configuration.
    """
    job = prepare_job(cfg, overrides, config_dir)
    s = job.settings
    check_memory(s)
    out_dir = Path(out_dir)
    chash = config_hash(job.config)
    done = finished_summary(out_dir, chash)
    if done is not None:
        if not s.quiet:
            print(f"{s.scenario}: already done in {out_dir}, skipped")
        return done
    out_dir.mkdir(parents=True, exist_ok=True)
    clean_temp_files(out_dir)
    (out_dir / MANIFEST).unlink(missing_ok=True)
    (out_dir / "summary.json").unlink(missing_ok=True)
    tic = time.perf_counter()
    out = simulate_blocks(job.params, s.worlds, s.seed, s.horizon_weeks, s.block_worlds,
                          s.precision, s.max_worlds, s.trace,
                          progress=progress and not s.quiet)
    summary = build_summary(out, job, chash, time.perf_counter() - tic)
    write_run_folder(out_dir, out, summary, build_metadata(out, job, chash))
    if not s.quiet:
        print(format_table(summary, out_dir))
    return summary


# ----------------------------------------------------------------------- Hydra app


def _config_dir_of_job() -> Path:
    for src in HydraConfig.get().runtime.config_sources:
        if src.provider == "main" and src.schema == "file":
            return Path(src.path)
    return CONFIG_DIR


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def _app(cfg: DictConfig) -> dict:
    hc = HydraConfig.get()
    # jobs running in parallel would draw their progress bars over each other
    parallel = hc.runtime.choices.get("hydra/launcher", "basic") != "basic"
    out_dir = Path(hc.runtime.output_dir)
    try:
        return run(to_plain(cfg), out_dir, list(hc.overrides.task), _config_dir_of_job(),
                   progress=not parallel)
    except ConfigError as e:
        _job_failed(str(e), 2)
    except OSError as e:
        _job_failed(environment_problem(e, out_dir), 1)
    except MemoryError:
        _job_failed(f"{out_dir}: out of memory; use fewer worlds or a smaller "
                    "block_worlds", 1)
    raise AssertionError("unreachable")


class JobFailed(BaseException):  # noqa: N818 - not an Exception on purpose
    """A job that ended on the user's input (code 2) or the machine (code 1).

    Raised in the job (also in a joblib worker, which hands it back to the parent) and
    printed by :func:`main` as one line. A ``BaseException`` like ``SystemExit``, so
    that Hydra passes it on instead of logging the failed job with a stack trace.
    """

    def __init__(self, message: str, code: int):
        super().__init__(message, code)
        self.message = message
        self.code = code


def _job_failed(message: str, code: int) -> None:
    raise JobFailed(message, code)


def job_overrides(argv_overrides: Sequence[str], multirun: bool,
                  sweeper_params: dict | None = None) -> list[list[str]]:
    """The override lists of the jobs a command line launches, in job order.

    Mirrors Hydra's basic sweeper (the joblib launcher numbers jobs the same way).
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    args = [f"{k}={v}" for k, v in (sweeper_params or {}).items()] + list(argv_overrides)
    parsed = parse_overrides(args)
    if not multirun:
        for ov in parsed:
            if ov.is_sweep_override():
                key = ov.get_key_element()
                raise ConfigError(key, f"{ov.input_line!r} is a sweep: add -m (--multirun) "
                                  "to sweep over it, or quote the value", "command line")
        return [list(args)]
    try:
        (batch,) = BasicSweeper.split_arguments(parsed, None)
    except Exception as e:  # noqa: BLE001 - e.g. range sweeps the basic sweeper lacks
        raise ConfigError("sweep", str(e).splitlines()[0], "command line") from None
    return batch


#: Hydra flags ``sim-run`` refuses: a pickled configuration can run any code.
REFUSED_FLAGS = ("--experimental-rerun",)


def _parse_args(argv: Sequence[str]) -> Any:
    from hydra._internal.utils import get_args_parser

    parser = get_args_parser()

    def error(message: str) -> NoReturn:
        raise ConfigError("arguments", message, COMMAND_LINE)

    parser.error = error  # type: ignore[method-assign]  # replaces argparse's exit(2)
    return parser.parse_args(list(argv))


def check_memory(settings: Any, parallel: int = 1) -> None:
    """Refuse a run whose memory estimate exceeds what the machine has (one line).

    Raises:
        ConfigError: Naming the key to lower and the largest value that fits.
    """
    verdict = check_run_memory(settings.worlds, settings.block_worlds,
                               settings.horizon_weeks, settings.trace, settings.precision,
                               settings.max_worlds, parallel)
    if verdict is not None:
        raise ConfigError(verdict.key, verdict.message, COMMAND_LINE)


def _output_folder(cfg: DictConfig, multirun: bool) -> Path:
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    try:
        return Path(str(OmegaConf.select(cfg, key))).expanduser().absolute()
    except Exception as e:  # noqa: BLE001 - interpolation errors
        raise ConfigError(key, f"cannot resolve: {one_line(e)}", COMMAND_LINE) from None


def check_output_folder(folder: Path, key: str, need_bytes: int = 0) -> None:
    """Refuse an output folder that cannot be written, before anything runs.

    Raises:
        ConfigError: The folder (or a parent) is a file.
        EnvironmentProblem: Read-only file system, no permission, or not enough space.
    """
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ConfigError(key, f"{probe} is a file, not a folder; choose another output "
                          "folder", COMMAND_LINE)
    try:
        st = os.statvfs(probe)
    except OSError as e:
        raise EnvironmentProblem(environment_problem(e, probe)) from None
    if st.f_flag & os.ST_RDONLY:
        raise EnvironmentProblem(f"{probe}: the file system is read-only; write elsewhere "
                                 "(e.g. paths.results_dir=/writable/folder)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise EnvironmentProblem(f"{probe}: permission denied; write elsewhere or fix the "
                                 "folder's permissions")
    free = st.f_bavail * st.f_frsize
    if need_bytes > free:
        raise EnvironmentProblem(f"{probe}: the run needs about {compact_bytes(need_bytes)}"
                                 f" of disk, {compact_bytes(free)} free; free space or "
                                 "write elsewhere (e.g. paths.results_dir=/other/disk)")


def output_bytes(settings: Any) -> int:
    """Upper estimate of the bytes a run writes (outcome rows, weekly rows, trace).

    A precision run is counted at ``max_worlds``, the most it may write.
    """
    worlds = settings.max_worlds if settings.precision is not None else settings.worlds
    out = worlds * DISK_PER_WORLD + settings.horizon_weeks * 4_000 + 1_000_000
    if settings.trace:
        out += worlds * settings.horizon_weeks * DISK_PER_TRACE_CELL
    return out


def preflight(argv: Sequence[str]) -> list[list[str]] | None:
    """Check a whole command line before Hydra runs anything.

    Checks every YAML file Hydra may read (:func:`check_config_folders`), then
    composes and validates every job of the sweep (or the single run), its Hydra
    settings, its memory needs and its output folder, so that a mistake is reported
    once, in one line, before any job starts.

    Returns:
        The jobs' override lists, or None for informational flags (``--help`` ...).

    Raises:
        ConfigError: The first mistake found.
        EnvironmentProblem: The output folder cannot be written.
    """
    for flag in REFUSED_FLAGS:
        if any(a == flag or a.startswith(flag + "=") for a in argv):
            raise ConfigError(flag, "not supported: it loads a pickled configuration, "
                              "which can run any code", COMMAND_LINE)
    if any(a == "--version" for a in argv):
        return None
    args = _parse_args(argv)
    config_dir = Path(args.config_path).resolve() if args.config_path else CONFIG_DIR
    if args.config_name not in (None, "config"):
        raise ConfigError("--config-name", "sim-run composes config.yaml; use "
                          "--config-path to choose another configuration folder",
                          COMMAND_LINE)
    overrides = list(args.overrides)
    hydra_ov = [o for o in overrides if o.lstrip("+~").startswith("hydra")]
    task_ov = [o for o in overrides if o not in hydra_ov]
    extra = [f"hydra.searchpath=[file://{Path(args.config_dir).absolute()}]"
             ] if args.config_dir else []
    check_config_folders(config_dir, [*overrides, *extra])
    if any(a in INFO_FLAGS or a.startswith("--cfg") or a in ("-c",) for a in argv):
        return None  # Hydra prints and exits: the files it composes are checked above
    jobs = job_overrides(task_ov, bool(args.multirun))
    first = None
    for ov in jobs:
        layers(config_dir, ov)  # scenario names and YAML first: their errors name the file
        cfg = hydra_compose([*ov, *hydra_ov], config_dir, multirun=bool(args.multirun))
        check_hydra_settings(cfg)
        job = prepare_job(to_plain(cfg), ov, config_dir)
        launcher = OmegaConf.select(cfg, "hydra.launcher.n_jobs")
        parallel = parallel_jobs(launcher if isinstance(launcher, int) else None, len(jobs)
                                 ) if args.multirun else 1
        check_memory(job.settings, parallel)
        first = first or (cfg, job)
    if first is not None:
        cfg, job = first
        check_output_folder(_output_folder(cfg, bool(args.multirun)),
                            "hydra.sweep.dir" if args.multirun else "hydra.run.dir",
                            output_bytes(job.settings) * len(jobs))
    return jobs


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``sim-run``: check the command line, then run the Hydra app.

    A configuration mistake prints one line to stderr and exits with code 2; a
    failure of the machine (disk full, read-only folder, out of memory) one line and
    code 1. Parallel workers die with this process (:mod:`sim.cli.workers`).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        preflight(argv)
    except ConfigError as e:
        print(f"sim-run: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except EnvironmentProblem as e:
        print(f"sim-run: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    except RecursionError:
        print("sim-run: error: command line: nested too deeply", file=sys.stderr)
        raise SystemExit(2) from None
    workers.install()
    sys.argv = [sys.argv[0] if sys.argv and sys.argv[0] else "sim-run", *argv]
    # Hydra prints a stack trace for any exception (a full disk while it writes .hydra/,
    # a log file it cannot open); with HYDRA_FULL_ERROR it re-raises, so that the
    # machine's failures end here in one line and only real bugs show a trace.
    old = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        _app()
    except KeyboardInterrupt:
        print("sim-run: interrupted; run the same command again to resume (finished jobs "
              "are kept)", file=sys.stderr)
        raise SystemExit(130) from None
    except JobFailed as e:
        workers.shutdown()
        print(f"sim-run: error: {e.message}", file=sys.stderr)
        raise SystemExit(e.code) from None
    except (OSError, MemoryError, ValueError) as e:
        cause = e if isinstance(e, OSError | MemoryError) else e.__cause__
        if isinstance(cause, OSError):
            print(f"sim-run: error: {environment_problem(cause)}", file=sys.stderr)
            raise SystemExit(1) from None
        if isinstance(cause, MemoryError):
            print("sim-run: error: out of memory; use fewer worlds or a smaller "
                  "block_worlds", file=sys.stderr)
            raise SystemExit(1) from None
        raise
    finally:
        if old is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = old


if __name__ == "__main__":
    main()
