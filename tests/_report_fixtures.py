"""Run and sweep folders for the report tests, written by sim-run's own code.

``write_run`` and ``write_sweep`` call what ``sim-run`` calls for each job
(:func:`sim.cli.compose.compose_config`, :func:`sim.cli.run.run`) and, for a sweep,
:func:`sim.cli.sweep.write_sweep_summary`, so the report is tested against the real
folder format without launching Hydra's command line.
"""

from __future__ import annotations

from pathlib import Path

from sim.cli.compose import compose_config
from sim.cli.run import run
from sim.experiment.runs import write_sweep_summary


def _overrides(scenario: str, worlds: int, seed: int, horizon_weeks: int,
               extra: dict[str, object] | None, trace: bool = False) -> list[str]:
    ov = [f"scenario={scenario}", f"worlds={worlds}", f"seed={seed}",
          f"horizon_weeks={horizon_weeks}", "quiet=true"]
    if trace:
        ov.append("trace=true")
    ov += [f"{k}={v}" for k, v in (extra or {}).items()]
    return ov


def write_run(path: Path, scenario: str = "baseline", worlds: int = 300, seed: int = 0,
              horizon_weeks: int = 156, overrides: dict[str, object] | None = None,
              trace: bool = False) -> Path:
    """One ``sim-run`` job's output folder at ``path``."""
    ov = _overrides(scenario, worlds, seed, horizon_weeks, overrides, trace)
    run(compose_config(ov), path, ov)
    return path


def write_sweep(path: Path, jobs: list[tuple[str, dict]], worlds: int = 300, seed: int = 0,
                horizon_weeks: int = 156) -> Path:
    """A sweep folder: job ``i`` in ``path/i`` for each (scenario, overrides)."""
    ovs = [_overrides(s, worlds, seed, horizon_weeks, o) for s, o in jobs]
    for i, ov in enumerate(ovs):
        run(compose_config(ov), path / str(i), ov)
    write_sweep_summary(path, ovs)
    return path
