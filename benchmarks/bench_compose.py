"""Benchmark: composing the configuration of one sweep job, now and at another commit.

What ``sim-run -m scenario=...`` does per job before anything runs, in one process:
``preflight`` lays out the files (``layers``), composes with Hydra, checks Hydra's
settings and the job (``prepare_job``); the job itself checks its configuration again
(``prepare_job`` in ``run``). The library's ``load_params`` is timed on its own.

The same timing code runs against this checkout and against ``--before`` (default: the
commit before composition was unified), each in its own subprocess, alternating, so
that the ratios come from one run on the same machine state::

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
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The last commit before composition was unified (issue 12, "compose once").
BEFORE = "2971622"

# Runs in a subprocess with the package to time first on sys.path. Prints JSON.
TIMER = r"""
import json, sys, time
from pathlib import Path
import sim
from sim.cli.compose import (check_hydra_settings, hydra_compose, layers, prepare_job,
                             to_plain)
from sim.experiment.config import CONFIG_DIR, load_params, scenarios

names = [s for s in scenarios(CONFIG_DIR) if not s.startswith("origin_")][:int(sys.argv[1])]
hydra_compose([f"scenario={names[0]}"])       # imports and Hydra's own start-up, untimed

def job(name):
    ov = [f"scenario={name}", "worlds=50000", "seed=0"]
    t0 = time.perf_counter()
    layers(CONFIG_DIR, ov)                     # preflight, per job
    cfg = hydra_compose(ov, CONFIG_DIR, multirun=True)
    check_hydra_settings(cfg)
    prepare_job(to_plain(cfg), ov, CONFIG_DIR)
    t1 = time.perf_counter()
    prepare_job(to_plain(cfg), ov, CONFIG_DIR)  # the job checks its configuration again
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1

out = {"preflight": [], "job": [], "load_params": [], "package": str(Path(sim.__file__).parent)}
for name in names:
    a, b = job(name)
    out["preflight"].append(a)
    out["job"].append(b)
    t0 = time.perf_counter()
    load_params(name)
    out["load_params"].append(time.perf_counter() - t0)
print(json.dumps(out))
"""


def checkout(rev: str, into: Path) -> Path:
    """``sim/`` and ``configs/`` of ``rev`` extracted under ``into``."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "sim", "configs"],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def measure(package_root: Path, scenarios: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(package_root), HYDRA_FULL_ERROR="1")
    res = subprocess.run([sys.executable, "-c", TIMER, str(scenarios)], env=env,
                         cwd=package_root, check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


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
    print(f"one sweep job's composition, median over {args.rounds} rounds x "
          f"{args.scenarios} scenarios (ms); before = {args.before}")
    print(f"{'step':<34}{'before':>9}{'after':>9}{'after/before':>14}")
    for step, label in (("preflight", "preflight (layers+Hydra+check)"),
                        ("job", "job's own prepare_job"),
                        ("load_params", "library load_params")):
        b = statistics.median(x for r in runs["before"] for x in r[step]) * 1e3
        a = statistics.median(x for r in runs["after"] for x in r[step]) * 1e3
        print(f"{label:<34}{b:9.1f}{a:9.1f}{a / b:14.2f}")
    tb = statistics.median(x + y for r in runs["before"]
                           for x, y in zip(r["preflight"], r["job"], strict=True)) * 1e3
    ta = statistics.median(x + y for r in runs["after"]
                           for x, y in zip(r["preflight"], r["job"], strict=True)) * 1e3
    print(f"{'total per job':<34}{tb:9.1f}{ta:9.1f}{ta / tb:14.2f}")


if __name__ == "__main__":
    main()
