"""``sim-explore``: which assumptions drive the headline, and where a deal is likely.

Examples::

    sim-explore                                        # Sobol, baseline, N=256, seed 0
    sim-explore explore=morris scenario=russia_spoiler
    sim-explore explore=sobol explore.n=512 explore.precision=0.03
    sim-explore '+explore.inputs.incidents.tension_gain=[0,2]'   # name a key with a range
    sim-explore explore=prim worlds=20000                         # PRIM on a fresh run
    sim-explore explore=prim explore.source=results/runs/2026-01-01/12-00-00

The root configuration is ``configs/sim_explore.yaml``: everything ``sim-run`` composes
plus the ``explore`` group (``configs/explore/``). Composition, provenance and error
messages are ``sim-run``'s (:mod:`sim.cli.compose`): a mistake is one line on stderr and
exit code 2. Results go to ``results/explore/<date>/<time>/`` (``hydra.run.dir``);
``sim-report`` on that folder draws the figures. The plain function is :func:`explore`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sim.analysis import explore as ex
from sim.analysis import prim as prim_mod
from sim.cli.compose import (
    COMMAND_LINE,
    Job,
    check_callbacks,
    check_config_folders,
    check_hydra_settings,
    check_recorded_values,
    check_sweep_size,
    hydra_compose,
    layers,
    parse_overrides,
    prepare_job,
    register_resolvers,
    rel,
    resolve,
    to_plain,
    yaml_files,
)
from sim.cli.run import (
    INFO_FLAGS,
    REFUSED_FLAGS,
    check_output_folder,
    output_paths,
    quiet_broken_pipe,
    run,
)
from sim.errors import ConfigError, EnvironmentProblem
from sim.experiment.config import CONFIG_DIR, check_config_file
from sim.experiment.runfolder import atomic_write
from sim.experiment.runs import provenance, write_json

register_resolvers()

#: Root configuration of the app (``configs/sim_explore.yaml``).
CONFIG_NAME = "sim_explore"
#: The file that marks a finished exploration folder.
MARKER = "exploration.json"


@dataclass
class ExploreJob:
    """A checked exploration: its settings, the model job and the named ranges.

    ``from_prior`` lists the assumptions the defaults fix at a point that the
    exploration draws from their priors (``configs/priors.yaml``).
    """

    settings: ex.ExploreSettings
    job: Job
    config: dict
    overrides: list[str]
    from_prior: tuple[str, ...] = ()


def _explore_source(key: str, overrides: Sequence[str], choice: str, config_dir: Path) -> str:
    for o in overrides:
        k = o.split("=", 1)[0].lstrip("+~")
        if k == "explore" or key == k or key.startswith(k + ".") or k.startswith(key + "."):
            if k != "explore":
                return COMMAND_LINE
    return rel(Path(config_dir) / "explore" / f"{choice}.yaml", config_dir)


def _is_explore(override: str) -> bool:
    k = override.split("=", 1)[0].lstrip("+~")
    return k == "explore" or k.startswith("explore.")


#: The run setting sim-explore composes with unless the command line gives another: its
#: Sobol and Morris designs vary each assumption alone over its declared prior
#: (``explore.priors``) from the YAML's point values, not over the record's posterior
#: (``sim-run``'s default), whose rows are joint and cannot be split by a design.
POINT = "assumptions=point"


def _run_overrides(overrides: Sequence[str]) -> list[str]:
    """The overrides of the run ``sim-explore`` composes (:data:`POINT` unless given)."""
    run_ov = [o for o in overrides
              if not _is_explore(o) and not o.lstrip("+~").startswith("hydra")]
    if not any(o.split("=", 1)[0].lstrip("+~") == "assumptions" for o in run_ov):
        run_ov.insert(0, POINT)
    return run_ov


def prepare(cfg: dict, overrides: Sequence[str] = (), config_dir: Path | None = None
            ) -> ExploreJob:
    """Check a composed ``sim-explore`` configuration; nothing runs.

    The ``explore`` section is checked by :func:`sim.analysis.explore.parse_explore`; keys named
    with a range become uniform distributions; the rest is ``sim-run``'s
    :func:`~sim.cli.compose.prepare_job`.

    Raises:
        ConfigError: The first problem, naming the file (or ``command line``) and key.
    """
    config_dir = Path(config_dir) if config_dir is not None else CONFIG_DIR
    overrides = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
    run_ov = _run_overrides(overrides)
    cfg = dict(cfg)
    section = cfg.pop("explore", None)
    choice = next((o.split("=", 1)[1] for o in overrides
                   if o.split("=", 1)[0].lstrip("+~") == "explore" and "=" in o), "sobol")
    try:
        settings = ex.parse_explore(section)
        model_cfg = ex.apply_ranges(cfg, settings.inputs)
    except ConfigError as e:
        raise e.with_source(e.source or _explore_source(e.key, overrides, choice, config_dir)
                            ) from None
    if settings.method == "prim" and settings.source is not None \
            and not (Path(settings.source) / "worlds.parquet").is_file():
        raise ConfigError("explore.source", f"{settings.source}: not a sim-run output "
                          "folder (no worlds.parquet)",
                          _explore_source("explore.source", overrides, choice, config_dir))
    drawn: dict = {}
    try:
        lay = layers(config_dir, run_ov)
        for k in settings.inputs:  # a named range is the user's, not a default
            lay.prov[k] = _explore_source(f"explore.inputs.{k}", overrides, choice, config_dir)
        job = prepare_job(model_cfg, run_ov, config_dir, lay)
        if settings.priors:
            from sim.experiment.priors import apply_overrides, load_declarations, prior_overrides

            drawn = prior_overrides(job.params, load_declarations(config_dir), lay.prov,
                                    keep=set(settings.inputs))
            if drawn:
                model_cfg = apply_overrides(model_cfg, drawn)
                job = prepare_job(model_cfg, run_ov, config_dir, lay)
    except ConfigError as e:
        named = next((k for k in settings.inputs if e.key == k or e.key.startswith(k + ".")),
                     None)
        if named is None:
            raise
        key = f"explore.inputs.{named}"
        raise ConfigError(key, e.problem, _explore_source(key, overrides, choice, config_dir)
                          ) from None
    if settings.method != "prim" and job.settings.assumptions != "point":
        # a design draws each input alone from its law; a posterior's rows are joint
        raise ConfigError("assumptions", "sim-explore's Sobol and Morris designs vary "
                          "each assumption independently over its declared prior (the "
                          "posterior's joint rows cannot be split so), so they need "
                          f"assumptions=point, got {job.settings.assumptions}",
                          lay.prov.get("assumptions") or COMMAND_LINE)
    if settings.method != "prim" and not ex.discover_inputs(job.params):
        raise ConfigError("explore.inputs", "nothing to explore: the scenario draws no "
                          "distribution; name keys with ranges, e.g. "
                          "'+explore.inputs.incidents.base_rate=[0.05,0.5]'", COMMAND_LINE)
    return ExploreJob(settings, job, model_cfg, list(overrides), tuple(drawn))


# ----------------------------------------------------------------------- the work


def _meta(xj: ExploreJob, extra: dict) -> dict:
    s = xj.job.settings
    return {
        "kind": "exploration",
        "method": xj.settings.method,
        "scenario": s.scenario,
        "seed": s.seed,
        "horizon_weeks": s.horizon_weeks,
        "start_date": xj.job.params.state.start_date.isoformat(),
        **extra,
        **provenance(),
        "overrides": xj.overrides,
        "explore": {k: v for k, v in xj.settings.__dict__.items()},
        "config": xj.config,
    }


def _write_table(out_dir: Path, name: str, df: pd.DataFrame) -> None:
    atomic_write(out_dir / f"{name}.parquet", lambda p: df.to_parquet(p, index=False))
    atomic_write(out_dir / f"{name}.csv", lambda p: df.to_csv(p, index=False))


def run_sensitivity(xj: ExploreJob, out_dir: Path, progress: bool = True) -> dict:
    """Morris or Sobol on the model; writes the exploration folder, returns its summary."""
    s, st = xj.job.settings, xj.settings
    inputs = ex.discover_inputs(xj.job.params, named=list(st.inputs))
    evaluate = ex.model_evaluator(xj.job.params, s.seed, s.horizon_weeks)
    tic = time.perf_counter()
    say = print if progress and not s.quiet else None
    res = ex.explore(inputs, evaluate, st, s.seed, progress=say)
    elapsed = time.perf_counter() - tic
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).unlink(missing_ok=True)
    _write_table(out_dir, "indices", res.indices)
    if st.method == "sobol" and st.second_order:
        _write_table(out_dir, "second_order", res.second_order)
    design = ex.design_table(res)
    atomic_write(out_dir / "design.parquet", lambda p: design.to_parquet(p, index=False))
    table = ex.ranking_markdown(res)
    atomic_write(out_dir / "ranking.md", lambda p: p.write_text(table, encoding="utf-8"))
    summary = _meta(xj, {
        "n": res.n,
        "worlds": int(res.worlds),
        "replicates": res.replicates,
        "inputs": [{"key": i.key, "distribution": i.describe(),
                    "source": "named range" if i.named else "prior" if i.key in
                    xj.from_prior else "scenario"} for i in res.inputs],
        "luck": bool(st.method == "sobol" and st.luck),
        "headline": res.headline(),
        "top": [{"input": r.input, "value": float(r.value), "conf": float(r.conf)}
                for r in res.top().itertuples()],
        "precision": st.precision,
        "precision_reached": res.precision_reached,
        "history": [{"n": n, "widest_half_width": w} for n, w in res.history],
        "variance_shares": res.variance_shares(),
        "warnings": list(res.warnings),
        "elapsed_seconds": round(elapsed, 3),
    })
    atomic_write(out_dir / MARKER, write_json(summary))
    return summary


def _load_worlds(source: str) -> tuple[pd.DataFrame, int]:
    from sim.experiment.runs import RunFolderError, load_run

    path = Path(source)
    if not (path / "worlds.parquet").exists():
        raise ConfigError("explore.source", f"{source}: not a sim-run output folder "
                          "(no worlds.parquet)", COMMAND_LINE)
    try:   # the one reader of run folders: manifest, regular files, checked tables
        run = load_run(path)
        # only what PRIM reads: the drawn parameters and the outputs (world_outputs)
        cols = [c for c in run.world_columns() if c.startswith("param.")]
        worlds = run.read_worlds([*cols, "signed", "sign_week", "escalated"])
    except RunFolderError as e:
        raise ConfigError("explore.source", str(e), COMMAND_LINE) from None
    return worlds, run.horizon_weeks


def run_prim(xj: ExploreJob, out_dir: Path, progress: bool = True) -> dict:
    """PRIM on a run's worlds (``explore.source``) or on a fresh run in ``out_dir/run``."""
    st = xj.settings
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MARKER).unlink(missing_ok=True)
    if st.source is not None:
        source = st.source
    else:
        run(xj.config, out_dir / "run", _run_overrides(xj.overrides), progress=progress)
        source = str(out_dir / "run")
    worlds, horizon = _load_worlds(source)
    params = [c for c in worlds.columns if c.startswith("param.")
              and worlds[c].nunique() > 1]
    if not params:
        raise ConfigError("explore.source", f"{source}: the run drew no parameters per "
                          "world (give the scenario distributions, or name keys with "
                          "ranges under explore.inputs)", COMMAND_LINE)
    X = worlds[params].rename(columns=lambda c: c[len("param."):])
    y = ex.world_outputs(worlds, horizon)[st.target] > 0.5
    tic = time.perf_counter()
    try:
        res = prim_mod.prim(X, y, peel_alpha=st.peel_alpha, paste_alpha=st.paste_alpha,
                            mass_min=st.mass_min, threshold=st.threshold, step=st.step)
    except IndexError as e:
        raise ConfigError("explore.step", str(e), COMMAND_LINE) from None
    words = prim_mod.describe(res.box, st.target, res.base_density)
    _write_table(out_dir, "prim_trajectory", res.trajectory)
    box = {"limits": res.box.limits, "restricted": res.box.restricted,
           "data_range": res.box.data_range, "coverage": res.box.coverage,
           "density": res.box.density, "mass": res.box.mass, "n": res.box.n, "k": res.box.k,
           "qp": res.box.qp, "chosen_step": res.chosen,
           "threshold_reached": res.threshold_reached, "words": words}
    summary = _meta(xj, {
        "source": source, "worlds": int(len(worlds)), "target": st.target,
        "base_density": res.base_density, "threshold": st.threshold, "box": box,
        "parameters": list(X.columns),
        "elapsed_seconds": round(time.perf_counter() - tic, 3)})
    atomic_write(out_dir / MARKER, write_json(summary))
    return summary


def format_summary(summary: dict, out_dir: Path | None = None) -> str:
    """A short, human-readable account of an exploration."""
    lines = [f"{summary['method']}  scenario {summary['scenario']}, seed {summary['seed']}, "
             f"{summary['worlds']:,} worlds"]
    if summary["method"] == "prim":
        lines.append(summary["box"]["words"])
        if not summary["box"]["threshold_reached"] and summary["explore"]["step"] is None:
            lines.append(f"(no box reaches density {summary['threshold']:g}: the densest "
                         "box is shown)")
    else:
        idx = "total index ST" if summary["method"] == "sobol" else "mu*"
        lines.append(f"P(sign) over the design: {summary['headline']['mean_signed']:.3f}; "
                     f"inputs by {idx} on P(sign):")
        for t in summary["top"][:8]:
            lines.append(f"  {t['input']:55s} {t['value']:7.3f} +- {t['conf']:.3f}")
        if summary.get("precision") is not None:
            lines.append(f"precision +-{summary['precision']:g} "
                         + ("reached" if summary["precision_reached"] else "NOT reached (max_n)")
                         + f" at N={summary['n']}")
        sh = summary.get("variance_shares") or {}
        if sh:
            luck = (f", luck {sh['first_order_luck']:.2f}" if "first_order_luck" in sh
                    else "")
            lines.append(f"first-order shares of Var(P(sign)'s per-point outcome): inputs "
                         f"{sh['first_order_inputs']:.2f} (sum of S1){luck}, interactions "
                         f"{sh['interactions']:.2f}")
        for w in summary.get("warnings") or []:
            lines.append(f"WARNING: {w}")
    if out_dir is not None:
        lines.append(f"written to {out_dir}")
    return "\n".join(lines)


def explore(cfg: dict, out_dir: Path | str, overrides: Sequence[str] = (),
            config_dir: Path | None = None, progress: bool = True) -> dict:
    """Run one exploration and write its folder; return its summary.

    Args:
        cfg: Plain composed configuration (``compose_config`` with ``sim_explore``).
        out_dir: The exploration's output folder.
        overrides: The command-line overrides (recorded; they name a bad value's source).
        config_dir: The configuration folder.
        progress: Print a line per batch (unless ``quiet``).

    Raises:
        ConfigError: A bad configuration.
    """
    xj = prepare(cfg, overrides, config_dir)
    out_dir = Path(out_dir)
    if xj.settings.method == "prim":
        summary = run_prim(xj, out_dir, progress)
    else:
        summary = run_sensitivity(xj, out_dir, progress)
    if not xj.job.settings.quiet:
        print(format_summary(summary, out_dir))
    return summary


def compose(overrides: Sequence[str] = (), config_dir: Path | None = None) -> dict:
    """The plain configuration ``sim-explore`` would run with these overrides."""
    hydra_cfg = hydra_compose(overrides, config_dir, config_name=CONFIG_NAME)
    return _one_composition(to_plain(hydra_cfg), overrides, config_dir)


def _one_composition(cfg: dict, overrides: Sequence[str], config_dir: Path | None) -> dict:
    """``sim-run``'s composition (the one composer) plus Hydra's ``explore`` section.

    The model and run keys are composed as every run composes them
    (:func:`sim.cli.compose.layers`); only the ``explore`` group, which is this app's
    own, is read from Hydra's composition of ``sim_explore.yaml``.
    """
    config_dir = Path(config_dir) if config_dir is not None else CONFIG_DIR
    task = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
    out = resolve(layers(config_dir, _run_overrides(task)))
    return {**out, "explore": cfg.get("explore")}


# ----------------------------------------------------------------------- Hydra app


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name=CONFIG_NAME)
def _app(cfg: DictConfig) -> Any:
    hc = HydraConfig.get()
    try:
        overrides = list(hc.overrides.task)
        return explore(_one_composition(to_plain(cfg), overrides, _config_dir_of(hc)),
                       Path(hc.runtime.output_dir), overrides)
    except ConfigError as e:  # e.g. a damaged source folder found while running
        print(f"sim-explore: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def preflight(argv: Sequence[str]) -> ExploreJob | None:
    """Check the command line before Hydra runs anything (None for ``--help`` etc.).

    Raises:
        ConfigError: The first mistake found.
    """
    from hydra._internal.utils import get_args_parser

    for flag in (*REFUSED_FLAGS, "--config-name", "-cn"):
        if any(a == flag or a.startswith(flag + "=") for a in argv):
            raise ConfigError(flag, "not supported by sim-explore", COMMAND_LINE)
    args = get_args_parser().parse_args(list(argv))
    config_dir = Path(args.config_path).resolve() if args.config_path else CONFIG_DIR
    overrides = list(args.overrides)
    # the same file checks as sim-run's (a shared file cannot reach Hydra's settings),
    # plus this app's own root and explore/ group
    extra = [f"hydra.searchpath=[file://{Path(args.config_dir).absolute()}]"
             ] if args.config_dir else []
    check_sweep_size(overrides)   # before anything lists a sweep's values
    check_config_folders(config_dir, [*overrides, *extra])
    root = config_dir / f"{CONFIG_NAME}.yaml"
    if root.is_file():
        check_config_file(root, "hydra", rel(root, config_dir))  # may set hydra.run.dir
    if (config_dir / "explore").is_dir():
        for path in yaml_files(config_dir / "explore"):
            check_config_file(path, "group", rel(path, config_dir))
    if any(a in INFO_FLAGS or a.startswith("--cfg") or a in ("-c",) for a in argv):
        return None
    if args.multirun:
        raise ConfigError("--multirun", "sim-explore runs one exploration; explore several "
                          "scenarios one command at a time", COMMAND_LINE)
    for ov in parse_overrides(overrides):
        if ov.is_sweep_override():
            key = ov.get_key_element()
            raise ConfigError(key, f"{ov.input_line!r} is a sweep; sim-explore runs one "
                              "exploration (quote the value if it is a list)", COMMAND_LINE)
        key = ov.get_key_element().lstrip("+~")
        if key.startswith("explore.inputs.") and not ov.get_key_element().startswith("+"):
            raise ConfigError(key, f"a new key: write '+{key}=[low,high]' (with +)",
                              COMMAND_LINE)
        top = key.split(".")[1] if key.startswith("explore.") else None
        if top is not None and top not in ex.ExploreSettings.__dataclass_fields__:
            raise ConfigError(key, "unknown key; allowed: "
                              + ", ".join(ex.ExploreSettings.__dataclass_fields__),
                              COMMAND_LINE)
    task = [o for o in overrides if not o.lstrip("+~").startswith("hydra")]
    layers(config_dir, _run_overrides(task))
    cfg = hydra_compose(overrides, config_dir, config_name=CONFIG_NAME)
    check_callbacks(cfg)
    check_hydra_settings(cfg)
    check_recorded_values(cfg)
    job = prepare(_one_composition(to_plain(cfg), task, config_dir), task, config_dir)
    folder, _ = output_paths(cfg, multirun=False)
    check_output_folder(folder, "hydra.run.dir")
    return job


def _config_dir_of(hc: Any) -> Path:
    """The configuration folder of the running job (``--config-path``, else configs/)."""
    for src in hc.runtime.config_sources:
        if src.schema == "file" and src.provider == "main":
            return Path(src.path)
    return CONFIG_DIR


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point ``sim-explore``: check the command line, then run the app.

    A configuration mistake prints one line to stderr and exits with code 2.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        preflight(argv)
    except ConfigError as e:
        print(f"sim-explore: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except EnvironmentProblem as e:
        print(f"sim-explore: error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    sys.argv = [sys.argv[0] if sys.argv and sys.argv[0] else "sim-explore", *argv]
    try:
        _app()
    except BrokenPipeError:
        quiet_broken_pipe()


if __name__ == "__main__":
    main()

