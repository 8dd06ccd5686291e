"""Benchmark: composing a sweep's jobs and a one-world run, now and at another commit.

Three measurements, each against this checkout and against ``--before`` (default: the
commit before the one composer, 1503a1c), each in its own subprocess, alternating, so
that the ratios come from one run on the same machine state:

* ``preflight`` of ``sim-run -m scenario=<14 scenarios>`` (every job composed and
  checked before anything runs), per job;
* one job's composition, by ``compose_config`` (the configuration ``sim-run`` runs:
  Hydra's compose API before, the library's composer now), by Hydra's compose API
  (``hydra_compose``, what the front end still does once per run) and by the library's
  ``load_params``;
* ``sim-run worlds=1 quiet=true`` end to end (a fresh process: imports included).

::

    .venv/bin/python benchmarks/bench_compose.py            # 14 scenarios x 5 rounds
    .venv/bin/python benchmarks/bench_compose.py --before main --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revision import checkout

ROOT = Path(__file__).resolve().parent.parent
#: The last commit before one composer ran every job (issue 17).
BEFORE = "1503a1c"

# Runs in a subprocess with the package to time first on sys.path. Prints JSON.
TIMER = r"""
import json, sys, tempfile, time
from pathlib import Path
import sim
from sim.cli.compose import compose_config, hydra_compose
from sim.cli.run import preflight
from sim.experiment.config import CONFIG_DIR, load_params, scenarios

names = [s for s in scenarios(CONFIG_DIR) if not s.startswith("origin_")][:int(sys.argv[1])]
out = {"preflight": [], "compose_config": [], "hydra_compose": [], "load_params": [],
       "package": str(Path(sim.__file__).parent)}
with tempfile.TemporaryDirectory() as tmp:
    argv = ["-m", "scenario=" + ",".join(names), "worlds=50000", f"hydra.sweep.dir={tmp}/s"]
    preflight(argv)                            # imports and Hydra's own start-up, untimed
    t0 = time.perf_counter()
    preflight(argv)
    out["preflight"].append((time.perf_counter() - t0) / len(names))
for name in names:
    for step, fn in (("compose_config", lambda: compose_config([f"scenario={name}"])),
                     ("hydra_compose", lambda: hydra_compose([f"scenario={name}"])),
                     ("load_params", lambda: load_params(name))):
        t0 = time.perf_counter()
        fn()
        out[step].append(time.perf_counter() - t0)
print(json.dumps(out))
"""

STEPS = (("preflight", "sweep preflight, per job"),
         ("compose_config", "one job's compose_config"),
         ("hydra_compose", "Hydra's compose API"),
         ("load_params", "library load_params"),
         ("sim_run", "sim-run worlds=1 quiet=true"))


def measure(package_root: Path, scenarios: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(package_root), HYDRA_FULL_ERROR="1")
    res = subprocess.run([sys.executable, "-c", TIMER, str(scenarios)], env=env,
                         cwd=package_root, check=True, capture_output=True, text=True)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "sim.cli.run", "worlds=1", "quiet=true",
                        f"hydra.run.dir={tmp}/run"], env=env, cwd=package_root, check=True,
                       capture_output=True)
        out["sim_run"] = [time.perf_counter() - t0]
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default=BEFORE, help="git revision to compare with")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scenarios", type=int, default=14, help="jobs per round")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        old = checkout(args.before, Path(tmp))
        runs: dict[str, list[dict]] = {"before": [], "after": []}
        for _ in range(args.rounds):
            runs["before"].append(measure(old, args.scenarios))
            runs["after"].append(measure(ROOT, args.scenarios))
    assert all(r["package"].startswith(tmp) for r in runs["before"])
    print(f"composition, median over {args.rounds} rounds x {args.scenarios} scenarios "
          f"(ms); before = {args.before}")
    print(f"{'step':<32}{'before':>9}{'after':>9}{'after/before':>14}")
    for step, label in STEPS:
        b = statistics.median(x for r in runs["before"] for x in r[step]) * 1e3
        a = statistics.median(x for r in runs["after"] for x in r[step]) * 1e3
        print(f"{label:<32}{b:9.1f}{a:9.1f}{a / b:14.2f}")


if __name__ == "__main__":
    main()
