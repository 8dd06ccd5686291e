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
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
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
    check_recorded_values,
    check_sweep_size,
    hydra_compose,
    layers,
    one_line,
    parse_overrides,
    prepare_job,
    register_resolvers,
    rel,
    searchpath_folders,
    searchpath_override,
    shown,
)
from sim.errors import ConfigError, EnvironmentProblem, environment_problem
from sim.experiment import runs
from sim.experiment.config import CONFIG_DIR, config_groups, options, output_root
from sim.experiment.executors import make_executor
from sim.experiment.memory import (
    check_run_memory,
    compact_bytes,
    estimate_disk,
    parallel_jobs,
)
from sim.experiment.runfolder import MANIFEST
from sim.model.params import MODEL_SECTIONS

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


#: Jobs :func:`preflight` composed and checked in this process, by their composition's
#: inputs: a job Hydra then launches here (a single run, a sweep's basic launcher)
#: runs them as they are instead of composing again.
_PREFLIGHTED: dict[tuple, runs.Job] = {}


def _job_key(config_dir: Path, search: Sequence[Path], overrides: Sequence[str]) -> tuple:
    task = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
    return (Path(config_dir).resolve(), tuple(Path(f).resolve() for f in search),
            tuple(sorted(task)))


# ----------------------------------------------------------------------- Hydra app


def folders_of_job(sources: Any = None) -> tuple[Path, list[Path]]:
    """A job's configuration folder and search-path folders, in Hydra's order.

    Args:
        sources: ``hydra.runtime.config_sources`` (default: the running job's).
    """
    main, search = CONFIG_DIR, []
    for src in sources if sources is not None else HydraConfig.get().runtime.config_sources:
        if src.schema == "file" and src.provider == "main":
            main = Path(src.path)
        elif src.schema == "file":
            search.append(Path(src.path))
    return main, search


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def _app(cfg: DictConfig) -> dict:
    hc = HydraConfig.get()
    # a sweep shows one bar for all its jobs (:class:`SweepProgress`), not one per job
    multirun = hc.mode == RunMode.MULTIRUN
    out_dir = Path(hc.runtime.output_dir)
    overrides = list(hc.overrides.task)
    try:  # the job runs our composition of its overrides; Hydra's ``cfg`` is not read
        config_dir, search = folders_of_job()
        job = _PREFLIGHTED.get(_job_key(config_dir, search, overrides))
        if job is None:
            job = prepare_job(None, overrides, config_dir, search=search)
            check_memory(job.settings)
        return runs.run_job(job, out_dir, progress=not multirun).to_dict()
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
                  sweeper_params: dict | None = None,
                  options_of: Callable[[str], list[str] | None] | None = None
                  ) -> list[list[str]]:
    """The override lists of the jobs a command line launches, in job order.

    Mirrors Hydra's basic sweeper (the joblib launcher numbers jobs the same way).
    ``options_of(group)`` lists a config group's options (None: not a group), for
    ``scenario=glob(*)`` sweeps, which Hydra expands from the same folders.

    Raises:
        ConfigError: A sweep outside ``-m``, a glob over something not a group, or a
            sweep the basic sweeper cannot expand.
    """
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.types import ValueType

    args = [f"{k}={v}" for k, v in (sweeper_params or {}).items()] + list(argv_overrides)
    parsed = parse_overrides(args)
    if multirun and any(ov.value_type == ValueType.GLOB_CHOICE_SWEEP for ov in parsed):
        args = [_expand_glob(ov, options_of) if ov.value_type == ValueType.GLOB_CHOICE_SWEEP
                else text for ov, text in zip(parsed, args, strict=True)]
        parsed = parse_overrides(args)
    if not multirun:
        for ov in parsed:
            if ov.is_sweep_override():
                key = ov.get_key_element()
                raise ConfigError(key, f"{ov.input_line!r} is a sweep: add -m (--multirun) "
                                  "to sweep over it, or quote the value", "command line")
        return [list(args)]
    check_sweep_size(args)   # before listing them: range(1, 10**8) would never finish
    try:
        (batch,) = BasicSweeper.split_arguments(parsed, None)
    except Exception as e:  # noqa: BLE001 - e.g. range sweeps the basic sweeper lacks
        raise ConfigError("sweep", str(e).splitlines()[0], "command line") from None
    return batch


def group_options(config_dir: Path, search: Sequence[Path] = ()
                  ) -> Callable[[str], list[str] | None]:
    """``options_of`` for :func:`job_overrides`: a group's options, None for other keys."""
    groups = config_groups(config_dir, lambda p: rel(p, config_dir))

    def options_of(group: str) -> list[str] | None:
        if group not in groups or group == "hydra" or group.startswith("hydra/"):
            return None
        return options(group, config_dir, search)

    return options_of


def _expand_glob(ov: Any, options_of: Callable[[str], list[str] | None] | None) -> str:
    """``group=glob(...)`` as the explicit sweep ``group=a,b,...`` over its options."""
    key = ov.get_key_element()
    names = options_of(key.lstrip("+~")) if options_of is not None else None
    if names is None:
        raise ConfigError(key, f"{ov.input_line!r}: glob(...) sweeps over the options of "
                          "a config group (e.g. scenario=glob(*)); list values as a,b,c",
                          COMMAND_LINE)
    chosen = ov.value().filter(names)
    if not chosen:
        raise ConfigError(key, f"{ov.input_line!r} matches no option; available: "
                          f"{', '.join(names) or 'none'}", COMMAND_LINE)
    return f"{key}={','.join(chosen)}"


#: Hydra flags ``sim-run`` refuses: a pickled configuration can run any code.
REFUSED_FLAGS = ("--experimental-rerun",)


def _parse_args(argv: Sequence[str]) -> Any:
    from hydra._internal.utils import get_args_parser

    parser = get_args_parser()

    def error(message: str) -> NoReturn:
        raise ConfigError("arguments", shown(message), COMMAND_LINE)

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


def _resolved(cfg: DictConfig, key: str) -> Any:
    try:
        return OmegaConf.select(cfg, key, throw_on_missing=True)
    except Exception as e:  # noqa: BLE001 - interpolation errors
        raise ConfigError(key, f"cannot resolve: {one_line(e)}", COMMAND_LINE) from None


@contextlib.contextmanager
def _as_job(cfg: DictConfig, num: int, output_dir: Path) -> Iterator[None]:
    """Set ``hydra.job.num`` and ``hydra.runtime.output_dir`` as the launcher will."""
    from omegaconf import open_dict, read_write

    hydra_node = cfg.hydra
    old = (OmegaConf.select(cfg, "hydra.job.num", throw_on_missing=False, default="???"),
           OmegaConf.select(cfg, "hydra.runtime.output_dir", throw_on_missing=False,
                            default="???"))
    with read_write(hydra_node), open_dict(hydra_node):
        hydra_node.job.num = num
        hydra_node.runtime.output_dir = str(output_dir)
    try:
        yield
    finally:
        with read_write(hydra_node), open_dict(hydra_node):
            hydra_node.job.num, hydra_node.runtime.output_dir = old


def _inside(path: Path, folder: Path, strictly: bool = True) -> bool:
    p, f = Path(os.path.normpath(path)), Path(os.path.normpath(folder))
    return p.is_relative_to(f) and (p != f or not strictly)


def _folder_text(cfg: DictConfig, key: str) -> Path:
    text = _resolved(cfg, key)
    if text is None or not str(text).strip():
        raise ConfigError(key, "must name a folder, got an empty path (an empty path would "
                          "write into the current folder)", COMMAND_LINE)
    if str(text).startswith("~"):
        raise ConfigError(key, f"{text!r}: ~ is not expanded here; write the full path",
                          COMMAND_LINE)
    folder = Path(os.path.abspath(str(text)))
    why = _never_output(folder)
    if why is not None:
        raise ConfigError(key, f"{folder} {why}; choose a folder of its own", COMMAND_LINE)
    return folder


def output_paths(cfg: DictConfig, multirun: bool, jobs: int = 1) -> tuple[Path, list[Path]]:
    """The run (or sweep) folder and each job's folder, after interpolation, checked.

    Every path Hydra will write is resolved as the launcher resolves it (with each job's
    ``hydra.job.num`` and ``hydra.runtime.output_dir``), so that ``${...}`` cannot carry
    it elsewhere: job folders (``hydra.sweep.subdir``) lie inside the sweep folder,
    ``.hydra`` (``hydra.output_subdir``) and log files inside their job's folder.

    Returns:
        The absolute output folder and the job folders (one, the same, for a run).

    Raises:
        ConfigError: A path that cannot be resolved, is empty, or lands outside.
    """
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    base = _folder_text(cfg, key)
    name = _resolved(cfg, "hydra.job.name")
    if name is not None and (not re.fullmatch(r"[\w.-]{1,100}", str(name))
                             or str(name) in (".", "..")):
        raise ConfigError("hydra.job.name", f"{str(name)[:60]!r}: must be a plain name "
                          "(letters, digits, '.', '_', '-'; no '/'): it names the job's "
                          "log file inside its folder", COMMAND_LINE)
    folders = []
    for num in range(jobs if multirun else 1):
        job_dir = base
        if multirun:
            with _as_job(cfg, num, base):
                sub = _resolved(cfg, "hydra.sweep.subdir")
            if sub is None or not str(sub).strip() or not _inside(base / str(sub), base):
                raise ConfigError("hydra.sweep.subdir", f"job {num}'s folder {sub!r} must be "
                                  f"a folder inside the sweep folder {base}", COMMAND_LINE)
            job_dir = Path(os.path.normpath(base / str(sub)))
        with _as_job(cfg, num, job_dir):
            sub = _resolved(cfg, "hydra.output_subdir")
            if sub is not None and not _inside(job_dir / str(sub), job_dir):
                raise ConfigError("hydra.output_subdir", f"{sub!r} must be a folder inside "
                                  f"the job's folder {job_dir}", COMMAND_LINE)
            for log in ("job_logging", "hydra_logging"):
                handlers = OmegaConf.select(cfg, f"hydra.{log}.handlers")
                for name in handlers or {}:
                    hkey = f"hydra.{log}.handlers.{name}.filename"
                    if OmegaConf.select(cfg, hkey, throw_on_missing=False) is None:
                        continue
                    target = _resolved(cfg, hkey)
                    where = job_dir if log == "job_logging" else base
                    if not _inside(Path(os.path.abspath(str(target))), where):
                        raise ConfigError(hkey, f"the log file {str(target)!r} must be "
                                          f"inside the folder {where}", COMMAND_LINE)
        folders.append(job_dir)
    return base, folders


def _output_folder(cfg: DictConfig, multirun: bool) -> Path:
    return output_paths(cfg, multirun)[0]


#: What sim-run itself leaves in a run folder (beside its manifest) and in a sweep
#: folder: a folder holding one of these was written by sim-run (or Hydra for it).
RUN_MARKS = (MANIFEST, ".hydra")
SWEEP_MARKS = ("multirun.yaml", "sweep_summary.csv")


def _never_output(folder: Path) -> str | None:
    """Why ``folder`` may never be an output folder (``/``, home, the checkout), or None."""
    real = folder.resolve()
    if real == Path(real.anchor):
        return "is the root of the file system"
    if real == Path.home().resolve():
        return "is your home folder"
    checkout = CONFIG_DIR.parent.resolve()
    if real == checkout or real == output_root().resolve():
        return "is the checkout (or output) root, which holds the project itself"
    return None


def _only_our_jobs(folder: Path, names: Sequence[str]) -> bool:
    """Whether ``folder`` holds only job folders sim-run wrote (a sweep killed early)."""
    return all(n.isdigit() and (folder / n).is_dir()
               and any((folder / n / m).exists() for m in RUN_MARKS) for n in names)


def check_output_folder(folder: Path, key: str, need_bytes: int = 0, multirun: bool = False,
                        jobs: Sequence[Path] = ()) -> None:
    """Refuse an output folder that cannot or may not be written, before anything runs.

    Never ``/``, the home folder or the checkout root; an existing folder that holds
    anything must be one sim-run wrote (a run's ``manifest.json`` or ``.hydra/``, a
    sweep's ``multirun.yaml`` or ``sweep_summary.csv``), so that a user's own files are
    never overwritten while resuming a run or sweep keeps working; likewise each job's
    folder of a sweep.

    Raises:
        ConfigError: The folder (or a parent) is a file, is one of the folders above, or
            holds files sim-run did not write.
        EnvironmentProblem: Read-only file system, no permission, or not enough space.
    """
    why = _never_output(folder)
    if why is not None:
        raise ConfigError(key, f"{folder} {why}; choose a folder of its own", COMMAND_LINE)
    marks = SWEEP_MARKS if multirun else RUN_MARKS
    for f, mine in ((folder, marks), *((j, RUN_MARKS) for j in jobs if j != folder)):
        if f.is_dir():
            try:
                names = sorted(p.name for p in f.iterdir())
            except OSError as e:
                raise EnvironmentProblem(environment_problem(e, f)) from None
            if names and not set(names) & set(mine) and not (
                    mine is SWEEP_MARKS and _only_our_jobs(f, names)):
                shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
                raise ConfigError(key, f"{f} holds files sim-run did not write ({shown}); "
                                  "choose an empty or new folder", COMMAND_LINE)
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

    Measured on the probe block the memory check runs (:func:`estimate_disk`: what its
    tables took once written, bounded by the declared outputs' plain size), not kept
    by hand. A precision run is counted at ``max_worlds``, the most it may write.
    """
    worlds = settings.max_worlds if settings.precision is not None else settings.worlds
    return estimate_disk(worlds, settings.block_worlds, settings.horizon_weeks,
                         settings.trace)


@dataclass
class Plan:
    """What :func:`preflight` checked: the jobs, where they write, whether to show it."""

    jobs: list[list[str]]
    folder: Path
    multirun: bool
    quiet: bool
    #: ``hydra.mode`` as preflight composed it (None: not set, Hydra's default)
    mode: Any = None


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
    check_sweep_size(overrides)   # before anything lists a sweep's values
    check_config_folders(config_dir, [*overrides, *extra])
    if any(a in INFO_FLAGS or a.startswith("--cfg") or a in ("-c",) for a in argv):
        return None  # Hydra prints and exits: the files it composes are checked above
    search = searchpath_folders([*extra, *overrides], config_dir)
    jobs = job_overrides(task_ov, bool(args.multirun),
                         options_of=group_options(config_dir, search))
    # every job composed by the one composer (errors name the file), then by Hydra, the
    # front end, once for its own settings (no task override or scenario changes them)
    # and again for each job whose override Hydra's merge might refuse
    checked = []
    for ov in jobs:
        lay = layers(config_dir, [o for o in ov if not o.lstrip("+~").startswith("hydra")],
                     search)
        check_recorded_values(lay.config, lay)  # before anything is written
        checked.append(prepare_job(None, ov, config_dir, lay, search=search))
    if extra:  # --config-dir, as Hydra adds it: before hydra.searchpath's folders
        given = [o for o in hydra_ov if o.lstrip("+~").startswith("hydra.searchpath")]
        hydra_ov = [o for o in hydra_ov if o not in given] + [searchpath_override(
            [*extra, *given])]
    cfg = hydra_settings(jobs[0], hydra_ov, config_dir, bool(args.multirun))
    check_hydra_settings(cfg)
    for ov in jobs:  # Hydra merges a mapping or list value key by key, and may fail
        if any(isinstance(o.value(), dict | list) for o in parse_overrides(ov)):
            hydra_compose([*ov, *hydra_ov], config_dir, multirun=bool(args.multirun))
    launcher = OmegaConf.select(cfg, "hydra.launcher.n_jobs")
    parallel = parallel_jobs(launcher if isinstance(launcher, int) else None, len(jobs)
                             ) if args.multirun else 1
    for job in checked:
        check_memory(job.settings, parallel)
    _PREFLIGHTED.clear()  # only this command line's jobs
    _PREFLIGHTED.update((_job_key(config_dir, search, ov), job)
                        for ov, job in zip(jobs, checked, strict=True))
    job = checked[0]
    folder, job_dirs = output_paths(cfg, bool(args.multirun), len(jobs))
    if any("override_dirname" in o for o in hydra_ov):
        # a job's own overrides name its paths: each is checked as Hydra will write it
        # (the settings above were composed without the model's overrides)
        for ov in jobs:
            output_paths(hydra_compose([*ov, *hydra_ov], config_dir,
                                       multirun=bool(args.multirun)),
                         bool(args.multirun), len(jobs))
    check_output_folder(folder, "hydra.sweep.dir" if args.multirun else "hydra.run.dir",
                        output_bytes(job.settings) * len(jobs), bool(args.multirun), job_dirs)
    return Plan(jobs, folder, bool(args.multirun), job.settings.quiet,
                OmegaConf.select(cfg, "hydra.mode"))


def hydra_settings(job: Sequence[str], hydra_ov: Sequence[str], config_dir: Path,
                   multirun: bool) -> DictConfig:
    """Hydra's composition of a job without the model: its ``hydra`` node for the checks.

    The model's groups and the scenario cannot set Hydra's settings (their files may
    not hold a ``hydra`` key), so they are left out (``~group``) with the overrides of
    their keys: Hydra composes the root, ``paths`` and ``hydra`` only, a fraction of the
    whole. The job's own configuration is the one composer's (:func:`prepare_job`).
    """
    model = {g for g in config_groups(config_dir, lambda p: rel(p, config_dir))
             if g in MODEL_SECTIONS or g == "scenario"}
    kept = [o for o in job if o.lstrip("+~").split("=", 1)[0].split(".", 1)[0]
            .split("@", 1)[0] not in model]
    return hydra_compose([*kept, *(f"~{g}" for g in sorted(model)), *hydra_ov], config_dir,
                         multirun=multirun)


class SweepProgress:
    """Progress of a sweep as a whole, whatever launcher runs its jobs.

    A thread counts the job folders of the sweep that hold a finished run
    (``<sweep>/<job>/manifest.json``, written last by every job, in any process), so
    jobs running in parallel workers, on Ray or under SLURM on a shared disk are
    counted as well as jobs run one after another. Finished jobs a resumed sweep skips
    count at once.

    Each change is one whole line on stderr (``sweep: 3/19 jobs finished, 1:02 elapsed,
    about 5:30 left``), never a bar redrawn in place with a carriage return: the jobs
    print their own tables to the same terminal, from other processes, and a bar left
    on the line ran into their first line (``36.72s/job]scenario ...``).
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

    def line(self, n: int, elapsed: float, first: int = 0) -> str:
        """The progress line for ``n`` finished jobs after ``elapsed`` seconds.

        ``first`` jobs were finished already when the sweep started (a resumed sweep):
        the time left is estimated from the jobs finished since.
        """
        total = len(self.plan.jobs)
        text = (f"sweep: {n}/{total} jobs finished, "
                f"{tqdm.format_interval(elapsed)} elapsed")
        if total > n > first:
            left = elapsed / (n - first) * (total - n)
            text += f", about {tqdm.format_interval(left)} left"
        return text

    def _watch(self) -> None:
        start = time.monotonic()
        first = shown = self.done()
        while not self._stop.wait(self.interval):
            n = self.done()
            if n != shown:
                shown = n
                sys.stderr.write(self.line(n, time.monotonic() - start, first) + "\n")
                sys.stderr.flush()

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


@contextlib.contextmanager
def _mode_known(plan: Plan | None) -> Iterator[None]:
    """Let Hydra's main skip composing the whole configuration only to read ``hydra.mode``.

    Before it runs an app, Hydra composes the configuration once to read ``hydra.mode``
    (``Hydra.get_mode``) and once more to run it; :func:`preflight` has composed the
    same ``hydra`` node (the model's groups cannot set it), so its value is handed over
    and Hydra composes once (about 0.2 s less for ``sim-run worlds=1``,
    ``benchmarks/bench_startup.py``). Without a plan (``--help`` ...) Hydra composes
    as usual.
    """
    if plan is None:
        yield
        return
    from hydra._internal.hydra import Hydra

    original = Hydra.get_mode

    def get_mode(self: Hydra, config_name: str | None, overrides: list[str]) -> Any:
        return plan.mode

    Hydra.get_mode = get_mode  # type: ignore[method-assign]
    try:
        yield
    finally:
        Hydra.get_mode = original  # type: ignore[method-assign]


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
        with _batch_checked(plan.jobs if plan else None), _mode_known(plan), \
                SweepProgress(plan) if plan else contextlib.nullcontext():
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
