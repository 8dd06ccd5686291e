"""The command line's composition: the library's composer, with Hydra as the front end.

**One composition, chosen once.** Every run's configuration, on the command line as in
the library, is composed by :func:`sim.experiment.config.compose_layers` (root
``config.yaml``, one file per group, the scenario with its own defaults list, then the
overrides) and nothing else: :func:`layers` hands it the command line's group choices,
overrides (``key=value``, ``+key=value``, ``~key``) and search-path folders, and
:func:`compose_config` resolves its interpolations. Hydra is the front end: it parses
the command line, expands sweeps, launches the jobs (basic, joblib, Ray, SLURM), owns
the output folders and its ``hydra.*`` settings, and records ``.hydra/``; the task
configuration Hydra composes for a job is never read. Why this one and not Hydra's
compose API throughout: the library (``sim/`` outside ``sim/cli``) may not import Hydra,
so it needs its own composer anyway, and a second, reconciled one was the problem; ours
also knows which file set each key (an error names the scenario file, the group default
or ``command line``), keeps the model's rule that a distribution written in a later
layer replaces an earlier one whole, and composes a job in about 10 ms where Hydra's
compose API takes 100-200 ms (``benchmarks/bench_compose.py``).

What Hydra still composes is front-end work, and two measures for it stay because
measured: :mod:`sim.cli.fastyaml` (OmegaConf's loader on libyaml; without it one
``sim-run worlds=1`` spends about 0.09 s more CPU) and ``sim.cli.run._batch_checked``
(Hydra's sweeper does not compose a batch once more that preflight has composed and
checked: about 0.15 s CPU per sweep job). Neither changes what a job runs.

Nothing here runs the model; :func:`prepare_job` returns typed objects.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from hydra import compose as hydra_compose_api
from hydra import initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from omegaconf import DictConfig, ListConfig, OmegaConf

from sim.errors import ConfigError
from sim.experiment.assumptions import posterior_path, with_assumptions
from sim.experiment.config import (
    CLAIM_KEY,
    COMMAND_LINE,
    CONFIG_DIR,
    DELETE,
    Composition,
    check_config_file,
    check_override_key,
    compose_layers,
    config_groups,
    file_defaults,
    leaf_keys,
    output_root,
    params_from_config,
    root_defaults,
    safe_load_yaml,
    scenarios,
    source_of,
    yaml_files,
)
from sim.experiment.runs import Job
from sim.experiment.settings import parse_settings

#: Groups whose files are placed at the top level of the configuration.
GLOBAL_HEADER = "# @package _global_"
#: Hydra callbacks a configuration may name (configs may not instantiate anything else).
ALLOWED_TARGETS = ("sim.cli.sweep.SweepSummaryCallback",)


def register_resolvers() -> None:
    """Register ``${sim_root:}`` with OmegaConf, once.

    It is :func:`sim.experiment.config.output_root`: the checkout, or the current working directory
    for an installed package (never site-packages).
    """
    if not OmegaConf.has_resolver("sim_root"):
        OmegaConf.register_new_resolver("sim_root", lambda: str(output_root()))


def rel(path: Path, config_dir: Path) -> str:
    """A config file's name as users see it: ``configs/<group>/<file>.yaml``.

    Files of another configuration folder (``--config-path``) keep their full path.
    """
    if Path(config_dir).resolve() != CONFIG_DIR.resolve():
        return str(path)
    try:
        return str(Path("configs") / Path(path).relative_to(config_dir))
    except ValueError:
        return str(path)


def parse_overrides(overrides: Sequence[str]) -> list[Override]:
    """Parse command-line overrides with Hydra's grammar, as one-line errors."""
    parser = OverridesParser.create()
    out = []
    for text in overrides:
        try:
            out.extend(parser.parse_overrides([text]))
        except Exception as e:  # noqa: BLE001 - Hydra raises several kinds
            raise ConfigError(shown(text.split("=", 1)[0].lstrip("+~")),
                              f"cannot parse {text!r}: {shown(one_line(e))}",
                              COMMAND_LINE) from None
    return out


def searchpath_override(overrides: Sequence[str]) -> str:
    """One ``hydra.searchpath=[...]`` override holding the folders of several, in order."""
    entries: list[str] = []
    for ov in parse_overrides(overrides):
        val = ov.value()
        entries += [str(v) for v in (val if isinstance(val, list) else [val])]
    return "hydra.searchpath=[" + ",".join(entries) + "]"


def one_line(e: BaseException) -> str:
    """First meaningful line of an exception's message."""
    for line in str(e).splitlines():
        line = line.strip()
        if line:
            return line
    return type(e).__name__


# ----------------------------------------------------------------------- provenance


#: Which file set each key, the layers in order and the chosen group options: the one
#: composition with provenance, shared with the library
#: (:func:`sim.experiment.config.compose_layers`).
Layers = Composition


def layers(config_dir: Path, overrides: Sequence[str] = (),
           search: Sequence[Path] = ()) -> Layers:
    """Compose a job's configuration from its command line, with provenance.

    The files are composed by :func:`sim.experiment.config.compose_layers`, as the
    library composes them; this hands it the command line's group choices
    (``scenario=...``), then every other override in order, as Hydra applies them
    (``~key`` deletes, ``+key=...`` adds). Each override ``key=value`` must name a key
    the configuration has (:func:`sim.experiment.config.check_override_key`, the
    library's check and wording; ``+key=...`` adds a key and is checked by the schema).
    A group is chosen only as ``group=option``: placing one elsewhere
    (``+scenario@_global_=x``) would run a configuration other than the one recorded.

    Args:
        config_dir: The configuration folder.
        overrides: The job's overrides (``hydra.*`` ones are ignored).
        search: Search-path folders (:func:`searchpath_folders`).

    Raises:
        ConfigError: Unknown scenario, group option or key, malformed YAML, or a file
            that breaks the rules of :func:`sim.experiment.config.check_config_file`.
    """
    config_dir = Path(config_dir)

    def name(path: Path) -> str:
        return rel(path, config_dir)

    parsed = parse_overrides(overrides)
    defaults = config_groups(config_dir, name)
    choices: dict = {}
    pairs: list[tuple[str, Any]] = []
    check: list[str] = []
    for ov in parsed:
        key = ov.get_key_element().lstrip("+~")
        if key.startswith("hydra"):
            continue
        group, at, _ = key.partition("@")
        if at or "/" in key or group in defaults and (ov.is_add() or ov.is_force_add()
                                                      or ov.is_delete()):
            known = group.split("/")[0] in defaults or (config_dir / group).is_dir()
            raise ConfigError(shown(key), ("a config group is chosen as group=option, e.g. "
                              "scenario=russia_spoiler; it cannot be added, removed or "
                              "placed elsewhere") if known else "unknown config group; "
                              f"groups: {', '.join(g for g in defaults if g != 'hydra')}",
                              COMMAND_LINE)
        if key in defaults:
            if not ov.is_sweep_override():
                choices[key] = str(ov.value())
            continue
        value = DELETE if ov.is_delete() else None if ov.is_sweep_override() else ov.value()
        pairs.append((key, value))
        if not (ov.is_add() or ov.is_force_add()):
            check.extend(leaf_keys(key, value))
    return compose_layers(config_dir, choices, pairs, source=COMMAND_LINE, check=check,
                          library=False, name=name, search=search)


def shown(text: str) -> str:
    """Command-line text as messages show it: control characters escaped, never raw."""
    return text if text.isprintable() else repr(text)[1:-1]


def searchpath_folders(overrides: Sequence[str], config_dir: Path) -> list[Path]:
    """The folders ``hydra.searchpath`` adds (command line and ``configs/hydra/``).

    Raises:
        ConfigError: An entry that is not a folder on disk (``pkg://`` included).
    """
    entries: list[tuple[str, str]] = []
    for ov in parse_overrides([o for o in overrides if o.lstrip("+~").startswith(
            "hydra.searchpath")]):
        val = ov.value()
        vals = val if isinstance(val, list) else [val]
        entries += [(str(v), COMMAND_LINE) for v in vals]
    hydra_dir = config_dir / "hydra"
    if hydra_dir.is_dir():
        for path in yaml_files(hydra_dir):
            sp = safe_load_yaml(path, rel(path, config_dir)).get("searchpath")
            if sp is not None:
                vals = sp if isinstance(sp, list) else [sp]
                entries += [(str(v), rel(path, config_dir)) for v in vals]
    out = []
    for entry, src in entries:
        if entry.startswith("pkg://") or ("://" in entry and not entry.startswith("file://")):
            raise ConfigError("hydra.searchpath", f"{entry!r}: only folders on disk "
                              "(file://...) may be added", src)
        folder = Path(entry.removeprefix("file://"))
        if not folder.is_dir():
            raise ConfigError("hydra.searchpath", f"{entry!r} is not a folder", src)
        out.append(folder.resolve())
    return out


def _chosen_options(root: dict, root_src: str, overrides: Sequence[str]) -> dict:
    """Group -> options a command line may select (sweeps included; None: any option)."""
    chosen: dict[str, set | None] = {g: {c} for g, c in root_defaults(root, root_src)}
    for ov in parse_overrides(overrides):
        key, _, package = ov.get_key_element().lstrip("+~").partition("@")
        if package.startswith(("hydra", "_global_.hydra")):
            raise ConfigError(ov.input_line or key, "a config file may not be placed in "
                              "Hydra's settings", COMMAND_LINE)
        if key.startswith("hydra") or ov.is_delete():
            continue
        if ov.is_sweep_override():
            try:
                values = set(ov.sweep_string_iterator())
            except Exception:  # noqa: BLE001 - range/glob sweeps: any option
                values = None
        else:
            val = ov.value()
            values = {str(val)} if isinstance(val, str | int | float) else set()
        if values is None or chosen.get(key, set()) is None:
            chosen[key] = None
        else:
            chosen[key] = (chosen.get(key) or set()) | values
    return chosen


def check_config_folders(config_dir: Path, overrides: Sequence[str] = ()) -> None:
    """Check every YAML file Hydra may compose for a command line, before Hydra reads it.

    That is the root ``config.yaml``, the file of each group option the defaults list
    or the overrides (sweeps included) select, in the configuration folder and in each
    ``hydra.searchpath`` folder, and every file of the configuration folder's
    ``hydra/`` group (:func:`sim.experiment.config.check_config_file`). A shared scenario or
    search-path file can set the model's sections and run keys, nothing of Hydra's; a
    search-path folder may not hold a ``hydra/`` group of its own. Files no option
    selects are not read, so one broken draft does not block other scenarios.

    Raises:
        ConfigError: The first file that breaks a rule.
    """
    config_dir = Path(config_dir)
    root_path = config_dir / "config.yaml"
    if not root_path.is_file():
        raise ConfigError("config.yaml", "not found: expected a configuration folder",
                          str(config_dir))
    root_src = rel(root_path, config_dir)
    root = check_config_file(root_path, "root", root_src)
    if (config_dir / "hydra").is_dir():
        for path in yaml_files(config_dir / "hydra"):
            check_config_file(path, "hydra", rel(path, config_dir))
    chosen = _chosen_options(root, root_src, overrides)
    folders = [(config_dir, True)] + [(f, False) for f in
                                      searchpath_folders(overrides, config_dir)]
    for folder, _ in folders[1:]:
        if (folder / "hydra").exists():
            raise ConfigError("hydra", "a search-path folder may not change Hydra's "
                              "settings (hydra/ group)", str(folder / "hydra"))
    done: set[Path] = set()
    todo = [(g, o) for g, o in chosen.items()
            if g != "hydra" and not ("/" in g and g.startswith("hydra"))]
    while todo:  # options named in the defaults lists of checked files are checked too
        group, opts = todo.pop(0)
        kind = "scenario" if group == "scenario" else "group"
        for folder, primary in folders:
            gdir = folder / group
            if not gdir.is_dir():
                continue
            paths = (yaml_files(gdir) if opts is None
                     else [gdir / f"{o}.yaml" for o in sorted(opts)])
            for path in paths:
                if path in done or not path.exists():
                    continue
                done.add(path)
                src = rel(path, config_dir) if primary else str(path)
                data = check_config_file(path, kind, src)
                if "defaults" in data:
                    todo += [(g or group, {o}) for g, o in
                             file_defaults(data, kind, src)]


# ----------------------------------------------------------------------- Hydra compose


def hydra_compose(overrides: Sequence[str] = (), config_dir: Path | None = None,
                  config_name: str = "config", multirun: bool = False) -> DictConfig:
    """Compose with Hydra's compose API, Hydra's own settings included.

    Sets :class:`HydraConfig` so that ``${hydra:...}`` interpolations resolve.

    Raises:
        ConfigError: Any composition error (unknown key, unknown group option ...).
    """
    register_resolvers()
    config_dir = Path(config_dir) if config_dir is not None else CONFIG_DIR
    try:
        with initialize_config_dir(
                str(config_dir), version_base="1.3", job_name="run"):
            cfg = hydra_compose_api(config_name, overrides=list(overrides),
                                    return_hydra_config=True)
    except ConfigError:
        raise
    except Exception as e:  # noqa: BLE001 - translate Hydra's errors into one line
        raise _translate(e, overrides, config_dir, multirun) from None
    HydraConfig.instance().set_config(cfg)
    return cfg


def _translate(e: Exception, overrides: Sequence[str], config_dir: Path,
               multirun: bool = False) -> ConfigError:
    msg = str(e)
    first = one_line(e)
    if first.startswith("Could not override '"):
        key = first.split("'")[1]
        if key.startswith("hydra."):
            return ConfigError(key, f"cannot set this Hydra setting: {first}", COMMAND_LINE)
        try:  # an unknown key, in the words layers() and the library use
            base = compose_layers(config_dir, name=lambda p: rel(p, config_dir)).config
            check_override_key(base, key, COMMAND_LINE, library=False)
        except ConfigError as err:
            return err
        return ConfigError(key, "cannot merge this value into the existing one (to "
                           f"replace a distribution by another kind write ~{key} "
                           f"'+{key}=...')", COMMAND_LINE)
    if "Could not find '" in first:
        missing = first.split("Could not find '")[1].split("'")[0]
        options = []
        if "Available options" in msg:
            tail = msg.split("Available options", 1)[1].splitlines()[1:]
            for line in tail:
                if not line.startswith("\t") or ":" in line:
                    break
                options.append(line.strip())
        group = missing.rsplit("/", 1)[0]
        return ConfigError(group, f"unknown option {missing!r}"
                           + (f"; available: {', '.join(options)}" if options else ""),
                           COMMAND_LINE)
    if first.startswith("Ambiguous value for argument"):
        arg = first.split("'")[1] if "'" in first else first
        key = arg.split("=", 1)[0]
        if multirun or key.lstrip("+~").startswith("hydra"):
            return ConfigError(key, f"{arg!r}: the comma makes it a list of values, which "
                               "cannot be swept here; quote the value, e.g. "
                               f"'{key}=\"{arg.split('=', 1)[-1]}\"'", COMMAND_LINE)
        return ConfigError(key, f"{arg!r} is a sweep: add -m (--multirun)"
                           " to sweep over it, or quote the value", COMMAND_LINE)
    return ConfigError("config", first, COMMAND_LINE)


def to_plain(cfg: DictConfig) -> dict:
    """Resolve a composed configuration into plain Python, without ``hydra``.

    A scenario's claim (``expect:``) is left out too: it is for the tests, not the
    model, and the job's own composition drops it the same way. Each top-level node is
    resolved in place (interpolations such as ``${paths.results_dir}`` still see the
    whole configuration); copying the whole configuration first, Hydra's settings
    included, took most of a job's checking time.
    """
    out: dict = {}
    try:
        for key in cfg:
            if key in ("hydra", CLAIM_KEY):
                continue
            value = cfg[key]
            if isinstance(value, DictConfig | ListConfig):
                value = OmegaConf.to_container(value, resolve=True)
            out[str(key)] = value
    except Exception as e:  # noqa: BLE001 - interpolation errors from user YAML
        raise ConfigError(getattr(e, "full_key", None) or "config",
                          f"cannot resolve: {one_line(e)}") from None
    return out


def compose_config(overrides: Sequence[str] = (), config_dir: Path | None = None) -> dict:
    """Compose, resolve and return the plain configuration ``sim-run`` would run.

    ``run(compose_config(["scenario=russia_spoiler"]), out_dir, overrides=...)`` is
    what the command line does for one job.
    """
    return resolve(layers(Path(config_dir or CONFIG_DIR), overrides))


def resolve(lay: Layers) -> dict:
    """The plain configuration a job runs: a composition with its interpolations resolved.

    ``scenario`` is the scenario chosen (the root file's
    ``${hydra:runtime.choices.scenario}``), ``${paths...}`` references and
    ``${sim_root:}`` are resolved by OmegaConf, and dates are written as Hydra reads
    them (``2026-06-07``, a string). Only top-level nodes that hold an interpolation go
    through OmegaConf; the model's sections are copied as composed.

    Raises:
        ConfigError: An interpolation that cannot be resolved.
    """
    cfg = {k: _hydra_scalars(v) for k, v in lay.config.items()}
    if "scenario" in lay.groups:
        cfg["scenario"] = lay.groups["scenario"]
    todo = [k for k, v in cfg.items() if _interpolates(v)]
    if not todo:
        return cfg
    needed = set(todo)  # and the top-level nodes they refer to (OmegaConf is slow on all)
    while True:
        more = {m for k in needed for m in _REF.findall(str(cfg[k]))
                if m in cfg and m not in needed}
        if not more:
            break
        needed |= more
    register_resolvers()
    try:
        node = OmegaConf.create({k: v for k, v in cfg.items() if k in needed})
        for key in todo:
            value = node[key]
            cfg[key] = (OmegaConf.to_container(value, resolve=True)
                        if isinstance(value, DictConfig | ListConfig) else value)
    except Exception as e:  # noqa: BLE001 - interpolation errors from user YAML
        key = getattr(e, "full_key", None) or todo[0]
        raise ConfigError(key, f"cannot resolve: {one_line(e)}",
                          source_of(key, lay.prov)) from None
    return cfg


#: The top-level key an absolute ``${key...}`` reference starts with.
_REF = re.compile(r"\$\{\s*([A-Za-z_][\w-]*)(?=[.}\s\[])")


def _interpolates(x: Any) -> bool:
    if isinstance(x, str):
        return "${" in x
    if isinstance(x, dict):
        return any(_interpolates(v) for v in x.values())
    if isinstance(x, list):
        return any(_interpolates(v) for v in x)
    return False


def _hydra_scalars(x: Any) -> Any:
    """Dates as the ISO strings OmegaConf's loader keeps them as (it reads no dates)."""
    if isinstance(x, dict):
        return {k: _hydra_scalars(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_hydra_scalars(v) for v in x]
    if isinstance(x, dt.date):
        return x.isoformat()
    return x


def check_hydra_settings(cfg: DictConfig) -> None:
    """Refuse Hydra settings through which a configuration could run code or leak.

    Checked on the composed, unresolved ``hydra`` node, whichever file or override set
    it: callbacks only :data:`ALLOWED_TARGETS` and without arguments (Hydra instantiates
    nested ``_target_`` keys of their arguments too); no other ``_target_`` below the
    launcher and sweeper; no ``job.env_set``/``env_copy`` (environment variables reach
    every subprocess); logging without factories (``()``), with ``logging.*`` classes
    and log files inside the run folder; job sub-folders and ``output_subdir`` inside
    the sweep or run folder (as written here; :func:`sim.cli.run.output_paths` checks
    them again once resolved); launcher settings the joblib and Ray launchers accept
    without crashing or running code (:func:`_check_launcher`: ``n_jobs`` -1 or
    1-:data:`MAX_N_JOBS`, ``pre_dispatch`` a number or ``K*n_jobs``, Ray options from
    :data:`RAY_INIT_KEYS`/:data:`RAY_REMOTE_KEYS`, none of :data:`RAY_LOCAL_ONLY` when
    joining a cluster); the basic sweeper's ``max_batch_size`` null or >= 1 and its
    ``params`` at most :data:`MAX_SWEEP_JOBS` jobs.

    Raises:
        ConfigError: The first offending key.
    """
    node = OmegaConf.select(cfg, "hydra")
    if node is None:
        return
    h = OmegaConf.to_container(node, resolve=False)
    assert isinstance(h, dict)
    h = cast(dict[str, Any], h)  # a config node's keys are strings
    for name, spec in (h.get("callbacks") or {}).items():
        key = f"hydra.callbacks.{name}"
        target = spec.get("_target_") if isinstance(spec, dict) else None
        if target not in ALLOWED_TARGETS:
            raise ConfigError(f"{key}._target_", "configs may not instantiate Python "
                              f"objects; allowed: {', '.join(ALLOWED_TARGETS)}")
        extra = [k for k in spec if k != "_target_"]
        if extra:
            raise ConfigError(f"{key}.{extra[0]}", "callbacks take no arguments")
    for name in ("launcher", "sweeper"):
        for path, _ in _targets(h.get(name) or {}, f"hydra.{name}"):
            if path != f"hydra.{name}._target_":
                raise ConfigError(path, "configs may not instantiate Python objects")
    for k, v in h.items():
        if k not in ("launcher", "sweeper", "callbacks"):
            for path, _ in _targets(v, f"hydra.{k}"):
                raise ConfigError(path, "configs may not instantiate Python objects")
    job = h.get("job") or {}
    for k in ("env_set", "env_copy"):
        if job.get(k):
            raise ConfigError(f"hydra.job.{k}", "sim-run does not pass environment "
                              "variables to jobs; set them in your shell instead")
    for log in ("job_logging", "hydra_logging"):
        _check_logging(h.get(log), f"hydra.{log}")
    for key, val in (("hydra.sweep.subdir", (h.get("sweep") or {}).get("subdir")),
                     ("hydra.output_subdir", h.get("output_subdir"))):
        if val is not None and (".." in str(val) or str(val).startswith("/")):
            raise ConfigError(key, f"must stay inside the output folder, got {val!r}")
    _check_launcher(h.get("launcher") or {})
    _check_sweeper(h.get("sweeper") or {})


def _targets(node: Any, path: str):
    if isinstance(node, dict):
        for k, v in node.items():
            sub = f"{path}.{k}"
            if k == "_target_":
                yield sub, v
            yield from _targets(v, sub)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _targets(v, f"{path}[{i}]")


#: Keys a logging handler may set (``logging.config.dictConfig`` passes others on).
HANDLER_KEYS = ("class", "formatter", "level", "filename", "stream", "filters", "mode",
                "encoding", "delay")


def _check_logging(node: Any, path: str) -> None:
    if isinstance(node, dict) and isinstance(node.get("handlers"), dict):
        for name, handler in node["handlers"].items():
            if not isinstance(handler, dict):
                continue
            for k, v in handler.items():
                if k not in HANDLER_KEYS:
                    raise ConfigError(f"{path}.handlers.{name}.{k}", "unknown handler "
                                      f"key; allowed: {', '.join(HANDLER_KEYS)}")
                if k == "stream" and v not in ("ext://sys.stdout", "ext://sys.stderr"):
                    raise ConfigError(f"{path}.handlers.{name}.stream", "must be "
                                      "ext://sys.stdout or ext://sys.stderr")
    _check_logging_node(node, path)


def _check_logging_node(node: Any, path: str) -> None:
    if isinstance(node, list):
        for i, v in enumerate(node):
            _check_logging_node(v, f"{path}[{i}]")
    if not isinstance(node, dict):
        return
    for k, v in node.items():
        sub = f"{path}.{k}"
        if k == "()":
            raise ConfigError(sub, "logging factories may not be configured")
        if k == "class" and not (isinstance(v, str) and v.startswith("logging.")):
            raise ConfigError(sub, f"only logging.* handler classes are allowed, got {v!r}")
        if k == "filename" and not (isinstance(v, str) and v.startswith(
                "${hydra.runtime.output_dir}/") and ".." not in v):
            raise ConfigError(sub, "log files must be written inside the run folder "
                              "(${hydra.runtime.output_dir}/...)")
        _check_logging_node(v, sub)


#: Most jobs one sweep may launch (every job is composed and checked before any runs).
MAX_SWEEP_JOBS = 1000
#: Joblib launcher settings and what each allows (Hydra passes them to ``joblib.Parallel``).
JOBLIB_KEYS = ("n_jobs", "backend", "prefer", "require", "verbose", "timeout",
               "pre_dispatch", "batch_size", "temp_folder", "max_nbytes", "mmap_mode")
#: Most parallel jobs ``hydra.launcher.n_jobs`` may ask for.
MAX_N_JOBS = 1024
#: Keys of ``ray.init`` a sweep may set, and those only a new, private Ray accepts (Ray
#: refuses them when joining a running cluster at ``address``).
RAY_INIT_KEYS = ("address", "include_dashboard", "num_cpus", "num_gpus", "log_to_driver",
                 "namespace", "object_store_memory", "resources")
RAY_LOCAL_ONLY = ("num_cpus", "num_gpus", "object_store_memory", "resources")
#: Keys of the Ray launcher's ``ray.remote`` options a sweep may set.
RAY_REMOTE_KEYS = ("num_cpus", "num_gpus", "memory", "max_retries", "resources")


def _whole_in(v: Any, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _check_launcher(launcher: dict) -> None:
    """Refuse launcher settings the launcher would crash on, or that reach code."""
    target = str(launcher.get("_target_", ""))
    if "joblib" in target:
        _check_joblib(launcher)
    elif "ray" in target.lower() and isinstance(launcher.get("ray"), dict):
        _check_ray(launcher["ray"])


def _check_joblib(launcher: dict) -> None:
    def bad(key: str, allowed: str) -> ConfigError:
        return ConfigError(f"hydra.launcher.{key}", f"{allowed}, got {launcher[key]!r}",
                           COMMAND_LINE)

    for key in launcher:
        if key != "_target_" and key not in JOBLIB_KEYS:
            raise ConfigError(f"hydra.launcher.{key}", "not a joblib launcher setting; "
                              "allowed: " + ", ".join(JOBLIB_KEYS), COMMAND_LINE)
    v = launcher.get("n_jobs")
    if v is not None and v != -1 and not _whole_in(v, 1, MAX_N_JOBS):
        raise bad("n_jobs", f"must be a whole number in [1, {MAX_N_JOBS}], or -1 (one per "
                  "core)")
    v = launcher.get("pre_dispatch")
    if v is not None and not _whole_in(v, 1, 10**6) and not (
            isinstance(v, str) and re.fullmatch(r"\s*(all|n_jobs|\d{1,4}\s*\*\s*n_jobs|"
                                                r"\d{1,6})\s*", v)):
        raise bad("pre_dispatch", "must be a whole number, 'all', 'n_jobs' or 'K*n_jobs'")
    v = launcher.get("batch_size")
    if v is not None and v != "auto" and not _whole_in(v, 1, 10**6):
        raise bad("batch_size", "must be 'auto' or a whole number >= 1")
    choices = {"backend": (None, "loky", "multiprocessing", "threading"),
               "prefer": (None, "processes", "threads"), "require": (None, "sharedmem"),
               "mmap_mode": (None, "r", "r+", "w+", "c")}
    for key, allowed in choices.items():
        if key in launcher and launcher[key] not in allowed:
            raise bad(key, "must be one of " + ", ".join(str(a) for a in allowed))
    v = launcher.get("verbose")
    if v is not None and not _whole_in(v, 0, 100):
        raise bad("verbose", "must be a whole number in [0, 100]")
    v = launcher.get("timeout")
    if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                          or not 0 < v < 1e9):
        raise bad("timeout", "must be null or a number of seconds > 0")
    v = launcher.get("max_nbytes")
    if v is not None and not _whole_in(v, 0, 2**62) and not (
            isinstance(v, str) and re.fullmatch(r"\d{1,12}[KMG]?", v)):
        raise bad("max_nbytes", "must be null, a number of bytes or e.g. '1M'")
    if launcher.get("temp_folder") is not None:
        raise bad("temp_folder", "must be null (joblib would write outside the run folder)")


def _check_ray(ray: dict) -> None:
    init = ray.get("init") or {}
    remote = ray.get("remote") or {}
    for name, node, allowed in (("init", init, RAY_INIT_KEYS),
                                ("remote", remote, RAY_REMOTE_KEYS)):
        if not isinstance(node, dict):
            raise ConfigError(f"hydra.launcher.ray.{name}", "must be a mapping of settings",
                              COMMAND_LINE)
        for key in node:
            if key not in allowed:
                raise ConfigError(f"hydra.launcher.ray.{name}.{key}", "not allowed; allowed: "
                                  + ", ".join(allowed), COMMAND_LINE)
    for key in ray:
        if key not in ("init", "remote"):
            raise ConfigError(f"hydra.launcher.ray.{key}", "not allowed; allowed: init, "
                              "remote", COMMAND_LINE)
    address = init.get("address")
    if address is not None and address != "local":
        if not isinstance(address, str) or not re.fullmatch(
                r"auto|(ray://)?[\w.\-\[\]:]{1,253}:\d{1,5}", address):
            raise ConfigError("hydra.launcher.ray.init.address", "must be null (a private "
                              "Ray on this machine), 'auto' or host:port / ray://host:port, "
                              f"got {address!r}", COMMAND_LINE)
        for key in RAY_LOCAL_ONLY:
            if init.get(key) is not None:
                raise ConfigError(f"hydra.launcher.ray.init.{key}", "must be null when "
                                  "hydra.launcher.ray.init.address joins a running cluster "
                                  "(Ray sets it where the cluster was started)", COMMAND_LINE)
    v = init.get("object_store_memory")
    if v is not None and not _whole_in(v, 78_643_200, 2**50):
        raise ConfigError("hydra.launcher.ray.init.object_store_memory", "must be null or "
                          f"a number of bytes >= 78643200 (75 MiB), got {v!r}", COMMAND_LINE)
    for key in ("num_cpus", "num_gpus"):
        for name, node in (("init", init), ("remote", remote)):
            v = node.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                                  or not 0 <= v <= MAX_N_JOBS):
                raise ConfigError(f"hydra.launcher.ray.{name}.{key}", "must be null or a "
                                  f"number in [0, {MAX_N_JOBS}], got {v!r}", COMMAND_LINE)


def _check_sweeper(sweeper: dict) -> None:
    v = sweeper.get("max_batch_size")
    if v is not None and not _whole_in(v, 1, 10**9):
        raise ConfigError("hydra.sweeper.max_batch_size", "must be null (all jobs at once) "
                          f"or a whole number >= 1, got {v!r}", COMMAND_LINE)
    params = sweeper.get("params")
    if params is not None:
        if not isinstance(params, dict):
            raise ConfigError("hydra.sweeper.params", "must be a mapping of key to values",
                              COMMAND_LINE)
        check_sweep_size([f"{k}={v}" for k, v in params.items()], "hydra.sweeper.params")


def sweep_size(overrides: Sequence[Override]) -> float:
    """How many jobs the sweep overrides of a command line make, without listing them.

    A ``range(...)`` is counted from its bounds; other sweeps (choices, globs) by their
    values. Non-sweep overrides count once.
    """
    total: float = 1
    for ov in overrides:
        if not ov.is_sweep_override():
            continue
        n: float
        value = ov.value()
        start = getattr(value, "start", None)
        stop = getattr(value, "stop", None)
        step = getattr(value, "step", None)
        if start is not None and stop is not None and type(value).__name__ == "RangeSweep":
            step = float(step or 1)
            n = max(0, math.ceil((float(stop) - float(start)) / step)) \
                if math.isfinite(step) else math.inf
        else:
            try:
                n = sum(1 for _ in ov.sweep_string_iterator())
            except Exception:  # noqa: BLE001 - sweeps the basic sweeper cannot list
                n = 1
        total *= max(n, 1)
    return total


def check_sweep_size(overrides: Sequence[str], key: str = "sweep") -> int:
    """Refuse a sweep of more than :data:`MAX_SWEEP_JOBS` jobs; return its size.

    Raises:
        ConfigError: Naming the count and the limit.
    """
    n = sweep_size(parse_overrides(overrides))
    if n > MAX_SWEEP_JOBS:
        raise ConfigError(key, f"the sweep has {n:,.0f} jobs; at most {MAX_SWEEP_JOBS:,} "
                          "(split it into several sweeps)", COMMAND_LINE)
    return int(n)


#: Resolvers a value written to the outputs may use, by the section it is in: the
#: chosen group options (``scenario: ${hydra:runtime.choices.scenario}``) and, in
#: ``paths``, the output root.
_RESOLVER = re.compile(r"\$\{\s*([A-Za-z_][\w.]*)\s*(:?)\s*([^${}]*)")


def check_recorded_values(cfg: DictConfig | dict, lay: Layers | None = None) -> None:
    """Refuse values that would copy the environment or the machine into the outputs.

    Every key outside ``hydra`` is resolved into ``summary.json``, ``metadata.json`` and
    the report. A resolver that reads the environment or the run's machine
    (``${oc.env:SECRET}``, ``${hydra:runtime.cwd}``, ``${now:...}``, ``${oc.decode:...}``)
    or an interpolation of Hydra's or the output paths' keys would put secrets or
    absolute paths there. Allowed: ``${hydra:runtime.choices.<group>}`` (a group option's
    name), ``${sim_root:}`` in ``paths``, and interpolations of other model keys.

    Raises:
        ConfigError: The first such value, naming its file (from ``lay``) and key.
    """
    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
        elif isinstance(node, str) and "${" in node:
            in_paths = path.split(".")[0] == "paths"
            for name, colon, arg in _RESOLVER.findall(node):
                ok = (name == "hydra" and colon and arg.strip().startswith("runtime.choices.")
                      or name == "sim_root" and colon and in_paths
                      or not colon and (name.startswith(".") or in_paths
                                        or name.split(".")[0] not in ("hydra", "paths")))
                if not ok:
                    src = source_of(path, lay.prov) if lay is not None else COMMAND_LINE
                    raise ConfigError(path, f"{_shorten(node)}: values written to the "
                                      "outputs may not read the environment or the machine "
                                      "(oc.env, hydra:runtime, now, ... or Hydra's and the "
                                      "output paths' keys); write the value itself", src)

    for key in cfg:   # node by node: copying Hydra's settings too would cost most of it
        if key != "hydra":
            value = cfg[key]
            walk(OmegaConf.to_container(value, resolve=False)
                 if isinstance(value, DictConfig | ListConfig) else value, str(key))


def _shorten(text: str, n: int = 60) -> str:
    return repr(text) if len(text) <= n else repr(text[:n - 3] + "...")


#: The earlier name of :func:`check_hydra_settings`.
check_callbacks = check_hydra_settings


# ----------------------------------------------------------------------- one job


def prepare_job(cfg: dict | None, overrides: Sequence[str] = (),
                config_dir: Path | None = None, lay: Layers | None = None,
                search: Sequence[Path] = ()) -> Job:
    """Check a plain composed configuration and return typed objects.

    Args:
        cfg: The configuration to run, from :func:`compose_config` (a caller may have
            changed it); None: the one :func:`layers` composes for ``overrides``.
        overrides: The job's command-line overrides (``key=value``), recorded and used
            to name the file behind a bad key.
        config_dir: The configuration folder the job was composed from.
        lay: :func:`layers` of these overrides, if the caller has it already.
        search: Search-path folders of the command line.

    Raises:
        ConfigError: The first problem, naming the file (or ``command line``), the key
            and what is allowed.
    """
    config_dir = Path(config_dir) if config_dir is not None else CONFIG_DIR
    overrides = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
    if lay is None:
        lay = layers(config_dir, overrides, search)
    if cfg is None:
        cfg = resolve(lay)
    try:
        settings = parse_settings(cfg)
        if settings.scenario not in scenarios(config_dir, search):
            raise ConfigError("scenario", f"unknown scenario {settings.scenario!r}")
        model_cfg, prov = with_assumptions(
            settings.assumptions, cfg, lay.prov,
            posterior_path(settings.posterior_file, config_dir), config_dir,
            settings.posterior_file)
        params = params_from_config(model_cfg, prov, config_dir)
    except ConfigError as e:
        raise e.with_source(e.source or source_of(e.key, lay.prov)) from None
    return Job(settings, params, cfg, list(overrides))
