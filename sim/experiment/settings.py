"""Typed schema of the run keys (the top level of ``configs/config.yaml``).

The model sections (issues, actors, incidents, negotiation, domestic, state) are typed
by :mod:`sim.model.params`; this module types everything else a run configuration holds.
YAML stays the single home of the defaults: the dataclass below has no defaults.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass, fields
from typing import Any

from sim.errors import ConfigError, check_keys
from sim.experiment.executors import EXECUTORS
from sim.model.params import MODEL_SECTIONS

#: Largest seed accepted (NumPy's SeedSequence takes any non-negative integer; this
#: keeps seeds printable and storable as int64).
MAX_SEED = 2**63 - 1
#: Longest horizon a run may simulate (100 years of weeks); readers of run folders refuse
#: a summary beyond it.
MAX_HORIZON_WEEKS = 5200
#: Most worlds one run may hold (a precision run's ``max_worlds`` cap).
MAX_RUN_WORLDS = 1_000_000_000
#: Keys of the ``paths`` group.
PATH_KEYS = ("root_dir", "results_dir", "runs_dir", "sweeps_dir")
#: Most assumption draws of a spread (:mod:`sim.experiment.spread`).
MAX_SPREAD_DRAWS = 100_000


@dataclass(frozen=True)
class SpreadSettings:
    """The ``spread`` section: P(sign)'s spread across draws of the assumptions.

    Attributes:
        draws: K, the draws of the assumptions, each run with :attr:`worlds` worlds; 0
            (the default) computes no spread, else at least 2.
        worlds: M, the worlds of each draw (the same worlds, common random numbers).
        resamples: Bootstrap resamples of the spread's intervals.
    """

    draws: int
    worlds: int
    resamples: int

    @property
    def on(self) -> bool:
        """Whether a spread is computed."""
        return self.draws > 0


#: Keys of the ``spread`` section.
SPREAD_KEYS = tuple(f.name for f in fields(SpreadSettings))


def parse_spread(node: Any) -> SpreadSettings:
    """Check the ``spread`` section (``spread.draws``, ``spread.worlds``, ``spread.resamples``).

    Raises:
        ConfigError: Not a mapping, an unknown or missing key, or a value out of range
            (``draws`` is 0 or in [2, 100,000]; ``worlds`` in [2, 100,000,000];
            ``resamples`` in [10, 100,000]).
    """
    if not isinstance(node, dict):
        raise ConfigError("spread", f"must be a mapping of {', '.join(SPREAD_KEYS)}, got "
                          f"{show(node)}")
    check_keys(node, SPREAD_KEYS, "spread")
    draws = _whole(node["draws"], "spread.draws", 0, MAX_SPREAD_DRAWS)
    if draws == 1:
        raise ConfigError("spread.draws", "must be 0 (no spread) or a whole number in "
                          f"[2, {MAX_SPREAD_DRAWS:,}] (a spread needs two draws), got 1")
    return SpreadSettings(draws, _whole(node["worlds"], "spread.worlds", 2, 100_000_000),
                          _whole(node["resamples"], "spread.resamples", 10, 100_000))


@dataclass(frozen=True)
class RunSettings:
    """What to run, apart from the model's parameters.

    Attributes:
        scenario: Name of the scenario file in ``configs/scenario/``.
        worlds: Number of worlds of a fixed run, >= 1.
        seed: Seed, an integer >= 0 (0 is a seed). Jobs of one sweep share it.
        horizon_weeks: Weeks simulated, >= 1.
        precision: Target half-width of the 95 % Wilson interval of P(sign), in
            (0, 0.5), or None for a fixed number of worlds.
        block_worlds: Worlds per block, >= 1 (runs are assembled from blocks).
        max_worlds: Cap on the worlds of a precision run, >= block_worlds.
        quiet: No progress bar and no summary table.
        trace: Also write week-by-week detail of every world (``trace.parquet``).
        paths: Output folders (``paths`` group).
        executor: Where a run's blocks are computed: ``in_process``, ``process`` (a
            pool of worker processes) or ``ray`` (:mod:`sim.experiment.executors`). Never changes
            the numbers.
        workers: Processes (or Ray CPUs) of the ``process``/``ray`` executor, >= 1, or
            None for every core this process may use.
        spread: P(sign)'s spread across draws of the assumptions (``spread`` section,
            :class:`SpreadSettings`; off with ``draws`` 0).
        assumptions: ``point`` (the defaults' values), ``prior`` (every declared
            assumption drawn from its prior) or ``posterior`` (and the calibrated ones
            from :attr:`posterior_file`): :mod:`sim.experiment.assumptions`.
        posterior_file: The posterior sample file of ``assumptions=posterior`` (a
            relative path is inside the configuration folder).
    """

    scenario: str
    worlds: int
    seed: int
    horizon_weeks: int
    precision: float | None
    block_worlds: int
    max_worlds: int
    quiet: bool
    trace: bool
    paths: dict
    executor: str
    workers: int | None
    spread: SpreadSettings
    assumptions: str
    posterior_file: str


#: Top-level keys a run configuration may hold.
TOP_KEYS = tuple(f.name for f in fields(RunSettings)) + MODEL_SECTIONS


def _whole(v: Any, key: str, lo: int, hi: int) -> int:
    ok = isinstance(v, int) and not isinstance(v, bool)
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        ok = True   # worlds=1e4 on the command line is a float
    if not ok or not lo <= v <= hi:
        raise ConfigError(key, f"must be a whole number in [{lo}, {hi}], got {show(v)}")
    return int(v)


def show(v: Any) -> str:
    """A value as an error message shows it: huge numbers compactly (``1e+308``)."""
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10**15:
        return f"{float(v):.6g}" if abs(v) < 10**308 else f"a {len(str(abs(v)))}-digit number"
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def _flag(v: Any, key: str) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(key, f"must be true or false, got {v!r}")
    return v


def parse_settings(cfg: dict) -> RunSettings:
    """Check the run keys of a composed, resolved configuration.

    Args:
        cfg: The whole configuration as a plain mapping (model sections included; they
            are checked by :func:`sim.model.params.parse_params`).

    Raises:
        ConfigError: Unknown top-level key, missing key, wrong type or value out of range.
    """
    unknown = [k for k in cfg if k not in TOP_KEYS]
    if unknown:
        raise ConfigError(str(unknown[0]), f"unknown key; allowed: {', '.join(TOP_KEYS)}")
    for f in fields(RunSettings):
        if f.name not in cfg:
            raise ConfigError(f.name, "missing; this key is required")
    scenario = cfg["scenario"]
    if not isinstance(scenario, str) or not scenario:
        raise ConfigError("scenario", f"must be a scenario name, got {scenario!r}")
    worlds = _whole(cfg["worlds"], "worlds", 1, 100_000_000)
    seed = _whole(cfg["seed"], "seed", 0, MAX_SEED)
    horizon = _whole(cfg["horizon_weeks"], "horizon_weeks", 1, MAX_HORIZON_WEEKS)
    block = _whole(cfg["block_worlds"], "block_worlds", 1, 10_000_000)
    max_worlds = _whole(cfg["max_worlds"], "max_worlds", block, MAX_RUN_WORLDS)
    precision = cfg["precision"]
    if precision is not None:
        ok = isinstance(precision, int | float) and not isinstance(precision, bool)
        if not ok or not math.isfinite(precision) or not 0 < precision < 0.5:
            raise ConfigError("precision", "must be null or a half-width in (0, 0.5), "
                              f"e.g. 0.01, got {precision!r}")
        precision = float(precision)
    paths = cfg["paths"]
    if not isinstance(paths, dict):
        raise ConfigError("paths", f"must be a mapping of {', '.join(PATH_KEYS)}")
    for k, v in paths.items():
        if k not in PATH_KEYS:
            raise ConfigError(f"paths.{k}", f"unknown key; allowed: {', '.join(PATH_KEYS)}")
        if not isinstance(v, str) or not v:
            raise ConfigError(f"paths.{k}", f"must be a folder path, got {v!r}")
    executor = cfg["executor"]
    if executor not in EXECUTORS:
        raise ConfigError("executor", f"must be one of {', '.join(EXECUTORS)}, got "
                          f"{show(executor)}")
    if executor == "ray" and importlib.util.find_spec("ray") is None:
        raise ConfigError("executor", "ray needs the `ray` extra (pip install -e "
                          "\".[ray]\"); or use in_process or process")
    workers = cfg["workers"]
    if workers is not None:
        workers = _whole(workers, "workers", 1, 4096)
    from sim.experiment.assumptions import check_mode, check_posterior_file

    post = check_posterior_file(cfg["posterior_file"])
    return RunSettings(scenario, worlds, seed, horizon, precision, block, max_worlds,
                       _flag(cfg["quiet"], "quiet"), _flag(cfg["trace"], "trace"), dict(paths),
                       executor, workers, parse_spread(cfg["spread"]),
                       check_mode(cfg["assumptions"]), post)
