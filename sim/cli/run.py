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

import contextlib
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from sim.cli import workers
from sim.cli.compose import (
    COMMAND_LINE,
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
from sim.errors import ConfigError, EnvironmentProblem, environment_problem
from sim.experiment import runs
from sim.experiment.config import CONFIG_DIR
from sim.experiment.executors import make_executor
from sim.experiment.memory import (
    DISK_PER_TRACE_CELL,
    DISK_PER_WORLD,
    check_run_memory,
    compact_bytes,
    parallel_jobs,
)
from sim.experiment.runfolder import MANIFEST

register_resolvers()

#: Hydra flags after which nothing runs (no need to check the configuration).
INFO_FLAGS = ("--help", "-h", "--hydra-help", "--info", "-i", "--version",
              "--shell-completion", "-sc")


# ----------------------------------------------------------------------- one job


def run(cfg: dict, out_dir: Path | str, overrides: Sequence[str] = (),
        config_dir: Path | None = None, progress: bool = True) -> dict:
    """Check one composed job and run it into its folder; return its ``summary.json``.

    Args:
        cfg: Plain resolved configuration (:func:`sim.cli.compose.compose_config`).
        out_dir: The run's output folder.
        overrides: The job's command-line overrides (recorded, and used to name the
            source of a bad value).
        config_dir: The configuration folder (for error messages).
        progress: Allow a progress bar (shown unless ``quiet``, for runs longer than
            two seconds).

    The run itself, and resuming a finished one, is :func:`sim.experiment.runs.run_job`.

    Raises:
        ConfigError: A bad configuration.
    """
    job = prepare_job(cfg, overrides, config_dir)
    check_memory(job.settings)
    return runs.run_job(job, out_dir, progress=progress,
                        trace_figure=trace_figure).to_dict()


def trace_figure(run_dir: Path) -> Path:
    """Draw a trace run's ``trace.png`` into its folder (matplotlib only when tracing)."""
    from sim.viz.report import write_trace_figure

    return write_trace_figure(run_dir, verify=False)


# ----------------------------------------------------------------------- Hydra app


def _config_dir_of_job() -> Path:
    for src in HydraConfig.get().runtime.config_sources:
        if src.provider == "main" and src.schema == "file":
            return Path(src.path)
    return CONFIG_DIR


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def _app(cfg: DictConfig) -> dict:
    hc = HydraConfig.get()
    # a sweep shows one bar for all its jobs (:class:`SweepProgress`), not one per job
    multirun = hc.mode == RunMode.MULTIRUN
    out_dir = Path(hc.runtime.output_dir)
    try:
        return run(to_plain(cfg), out_dir, list(hc.overrides.task), _config_dir_of_job(),
                   progress=not multirun)
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
    executor = make_executor(settings.executor, settings.workers)  # starts nothing yet
    pool = executor.workers if executor.name == "process" else 0
    verdict = check_run_memory(settings.worlds, settings.block_worlds,
                               settings.horizon_weeks, settings.trace, settings.precision,
                               settings.max_worlds, parallel, pool_workers=pool)
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


@dataclass
class Plan:
    """What :func:`preflight` checked: the jobs, where they write, whether to show it."""

    jobs: list[list[str]]
    folder: Path
    multirun: bool
    quiet: bool


def preflight(argv: Sequence[str]) -> Plan | None:
    """Check a whole command line before Hydra runs anything.

    Checks every YAML file Hydra may read (:func:`check_config_folders`), then
    composes and validates every job of the sweep (or the single run), its Hydra
    settings, its memory needs and its output folder, so that a mistake is reported
    once, in one line, before any job starts.

    Returns:
        The checked :class:`Plan`, or None for informational flags (``--help`` ...).

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
        lay = layers(config_dir, ov)  # scenario names and YAML first: errors name the file
        cfg = hydra_compose([*ov, *hydra_ov], config_dir, multirun=bool(args.multirun))
        check_hydra_settings(cfg)
        job = prepare_job(to_plain(cfg), ov, config_dir, lay)
        launcher = OmegaConf.select(cfg, "hydra.launcher.n_jobs")
        parallel = parallel_jobs(launcher if isinstance(launcher, int) else None, len(jobs)
                                 ) if args.multirun else 1
        check_memory(job.settings, parallel)
        first = first or (cfg, job)
    assert first is not None
    cfg, job = first
    folder = _output_folder(cfg, bool(args.multirun))
    check_output_folder(folder, "hydra.sweep.dir" if args.multirun else "hydra.run.dir",
                        output_bytes(job.settings) * len(jobs))
    return Plan(jobs, folder, bool(args.multirun), job.settings.quiet)


class SweepProgress:
    """A progress bar for a sweep as a whole, whatever launcher runs its jobs.

    A thread counts the job folders of the sweep that hold a finished run
    (``<sweep>/<job>/manifest.json``, written last by every job, in any process), so
    jobs running in parallel workers, on Ray or under SLURM on a shared disk are
    counted as well as jobs run one after another. Finished jobs a resumed sweep skips
    count at once.
    """

    def __init__(self, plan: Plan, interval: float = 0.5):
        self.plan = plan
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def done(self) -> int:
        """Jobs whose folder holds a finished run now."""
        return sum((self.plan.folder / str(i) / MANIFEST).is_file()
                   for i in range(len(self.plan.jobs)))

    def _watch(self) -> None:
        with tqdm(total=len(self.plan.jobs), unit="job", desc="sweep", file=sys.stderr,
                  delay=1.0, leave=False, dynamic_ncols=True) as bar:
            while not self._stop.wait(self.interval):
                n = self.done()
                if n != bar.n:
                    bar.update(n - bar.n)

    def __enter__(self) -> SweepProgress:
        if self.plan.multirun and not self.plan.quiet and len(self.plan.jobs) > 1:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


@contextlib.contextmanager
def _batch_checked(jobs: list[list[str]] | None) -> Iterator[None]:
    """Let Hydra's sweeper skip composing a batch that :func:`preflight` has checked.

    Before launching, Hydra's sweepers compose every job of a batch once more only "to
    detect failures early" (``Sweeper.validate_batch_is_legal``); :func:`preflight`
    has composed and checked the very same jobs, with one-line errors. A batch other
    than those jobs is still validated by Hydra.
    """
    from hydra.plugins.sweeper import Sweeper

    original = Sweeper.validate_batch_is_legal
    known = {tuple(sorted(j)) for j in jobs or ()}

    def validate(self: Sweeper, batch: Sequence[Sequence[str]]) -> None:
        if not all(tuple(sorted(ov)) in known for ov in batch):
            original(self, batch)

    Sweeper.validate_batch_is_legal = validate  # type: ignore[method-assign]
    try:
        yield
    finally:
        Sweeper.validate_batch_is_legal = original  # type: ignore[method-assign]


def quiet_broken_pipe() -> NoReturn:
    """End quietly when the reader of stdout went away (``sim-run --help | head``)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python would complain flushing stdout at exit
    raise SystemExit(1)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``sim-run``: check the command line, then run the Hydra app.

    A configuration mistake prints one line to stderr and exits with code 2; a
    failure of the machine (disk full, read-only folder, out of memory) one line and
    code 1. Parallel workers die with this process (:mod:`sim.cli.workers`).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        plan = preflight(argv)
    except ConfigError as e:
        print(f"sim-run: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except EnvironmentProblem as e:
        print(f"sim-run: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    except RecursionError:
        print("sim-run: error: command line: nested too deeply", file=sys.stderr)
        raise SystemExit(2) from None
    if plan is None or plan.multirun:   # only a sweep's launchers start joblib workers
        workers.install()
    sys.argv = [sys.argv[0] if sys.argv and sys.argv[0] else "sim-run", *argv]
    # Hydra prints a stack trace for any exception (a full disk while it writes .hydra/,
    # a log file it cannot open); with HYDRA_FULL_ERROR it re-raises, so that the
    # machine's failures end here in one line and only real bugs show a trace.
    old = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        with _batch_checked(plan.jobs if plan else None), SweepProgress(plan) if plan \
                else contextlib.nullcontext():
            _app()
    except KeyboardInterrupt:
        print("sim-run: interrupted; run the same command again to resume (finished jobs "
              "are kept)", file=sys.stderr)
        raise SystemExit(130) from None
    except BrokenPipeError:
        quiet_broken_pipe()
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
