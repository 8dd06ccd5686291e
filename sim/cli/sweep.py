"""Hydra callback writing the sweep summary when a multirun ends.

The table itself (one row per job, paired differences from the baseline job at the
same values of the other swept keys) is :func:`sim.experiment.runs.sweep_table`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from sim.errors import environment_problem
from sim.experiment.runs import format_sweep, write_sweep_summary


class SweepSummaryCallback(Callback):
    """Hydra callback: write ``sweep_summary.csv`` when a multirun ends."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Summarise the jobs of the sweep that just ended (finished or resumed)."""
        from sim.cli.run import folders_of_job, group_options, job_overrides

        sweep_dir = Path(str(config.hydra.sweep.dir))
        params = OmegaConf.select(config, "hydra.sweeper.params")
        params = OmegaConf.to_container(params) if isinstance(params, DictConfig) else {}
        assert isinstance(params, dict)  # a DictConfig becomes a dict
        sources = OmegaConf.select(config, "hydra.runtime.config_sources")
        options_of = group_options(*folders_of_job(sources)) if sources else None
        jobs = job_overrides(list(config.hydra.overrides.task), True, params, options_of)
        try:
            table = write_sweep_summary(sweep_dir, jobs)
        except OSError as e:
            # Hydra turns a callback's exception into a warning and exit code 0
            print(f"sim-run: error: {environment_problem(e, sweep_dir)}", file=sys.stderr)
            raise SystemExit(1) from None
        if not config.get("quiet", False):
            print(format_sweep(table))
            print(f"sweep summary: {sweep_dir / 'sweep_summary.csv'}")
        missing = table.loc[table["status"] != "done", "job"].tolist()
        if missing:
            print(f"sim-run: error: {sweep_dir}: job(s) {', '.join(map(str, missing))} did "
                  "not finish intact; run the same command again", file=sys.stderr)
            raise SystemExit(1)
