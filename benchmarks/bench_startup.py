"""Start-up time: ``import sim``, ``import sim.cli.run`` and ``sim-run worlds=1 quiet=true``.

Times each command for this checkout and for the code of another revision
(``--before``, default ``main``), taken with ``git archive`` into a temporary folder and
put first on ``PYTHONPATH``. Every measurement is a fresh process, the two trees
alternating (before, this, before, this ...) so that the load of the shared machine
falls on both alike; the same interpreter and libraries run both, so their ratio is
what to read (absolute times depend on the machine's load). Reported per command: the
median wall time and the median CPU time (user + system of the child, less sensitive
to other processes on the machine) of ``--repeat`` runs, and the ratios.

The floor under these times is timed too: importing, alone, every third-party module
that ``sim-run worlds=1`` of this checkout has imported when it ends (Mesa, Hydra,
numba, pandas, pyarrow, scipy and what they import), the same list in both columns.

``sim-run`` is also timed inside the child once its modules are imported (the
command's own work: checks, composition, estimates, the run, the files). Both are
timed twice for this checkout: with the memory guard's measured block cost kept on
disk (``warm``, every run after the first of a code version) and with an empty cost
folder (``cold``: the probe runs, as on the first run). ``$SIM_COST_CACHE`` points at a
temporary folder for both trees, numba's kernels are compiled and cached once before
timing (a fresh ``NUMBA_CACHE_DIR`` per tree), and every run writes a fresh folder (a
finished one would be resumed, not run)::

    .venv/bin/python benchmarks/bench_startup.py --before 7c5f25f
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revision import checkout

ROOT = Path(__file__).resolve().parents[1]
#: Stands for a fresh output folder in a command (:func:`timed`).
OUT = "@OUT@"
_RUNS = 0


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one run of ``cmd``.

    A command that prints ``[wall, cpu]`` as its last line (:data:`AFTER_IMPORTS`) is
    timed by itself.
    """
    global _RUNS
    _RUNS += 1   # a fresh output folder each time: a finished one would be resumed
    cmd = [c.replace(OUT, str(cwd / f"out{_RUNS}")) for c in cmd]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    tic = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    wall = time.perf_counter() - tic
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    last = out.strip().splitlines()[-1] if out.strip() else ""
    if last.startswith("["):
        wall, cpu = json.loads(last)
    return wall, cpu


#: ``sim-run worlds=1``'s own work once its modules are imported: what the command
#: does beyond importing (checks, composition, the memory and disk estimates, the run,
#: the files), timed inside the child, whose imports vary most with the machine's load.
AFTER_IMPORTS = """
import json, sys, time
import pyarrow.parquet, scipy.stats, sim.cli.run, sim.experiment.api, sim.model.model
wall, cpu = time.perf_counter(), time.process_time()
sim.cli.run.main(["worlds=1", "quiet=true", "hydra.run.dir=" + sys.argv[1]])
print(json.dumps([time.perf_counter() - wall, time.process_time() - cpu]))
"""

#: The third-party modules ``sim-run worlds=1`` has imported when it ends, one dotted
#: name a line (packages and their submodules, in the order first imported): what
#: :data:`LIBRARIES` imports, the floor under the command's start-up that this project's
#: code cannot cut (Mesa alone imports pandas, networkx and scipy.spatial).
IMPORTED = """
import sys
import sim.cli.run
try:
    sim.cli.run.main(["worlds=1", "quiet=true", "hydra.run.dir=" + sys.argv[1]])
except SystemExit:
    pass
for name, mod in list(sys.modules.items()):
    top = name.split(".")[0]
    if (getattr(mod, "__file__", None) and top not in sys.stdlib_module_names
            and not top.startswith("_") and top != "sim"):
        print(name)
"""

#: Imports the modules of the file ``sys.argv[1]`` (:data:`IMPORTED`'s output), each one
#: that imports on its own (a few are only importable from their package).
LIBRARIES = """
import importlib, sys
for name in open(sys.argv[1]).read().split():
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""


def libraries(env: dict[str, str], cwd: Path) -> Path:
    """A file naming the third-party modules a ``sim-run worlds=1`` of this tree imports."""
    out = subprocess.run([sys.executable, "-c", IMPORTED, str(cwd / "libraries")],
                         cwd=cwd, env=env, check=True, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    path = cwd / "libraries.txt"
    path.write_text(out)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="main", help="revision to compare with")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        old = checkout(args.before, tmp / "before")
        cost = tmp / "cost"
        trees = {"before": old, "this": ROOT}
        envs = {name: {**os.environ, "PYTHONPATH": str(tree), "SIM_COST_CACHE": str(cost),
                       "NUMBA_CACHE_DIR": str(tmp / f"numba-{name}")}
                for name, tree in trees.items()}
        run = [sys.executable, "-m", "sim.cli.run", "worlds=1", "quiet=true",
               f"hydra.run.dir={OUT}"]
        commands = {
            "import sim": [sys.executable, "-c", "import sim"],
            "import sim.cli.run": [sys.executable, "-c", "import sim.cli.run"],
            "sim-run worlds=1 quiet=true": run,
            "  the same, after its imports": [sys.executable, "-c", AFTER_IMPORTS, OUT],
        }
        for env in envs.values():      # numba compiles and caches; the cost is kept
            timed(run, env, tmp)
        imported = libraries(envs["this"], tmp)
        tops = sorted({m.split(".")[0] for m in imported.read_text().split()})
        # the libraries alone, in both columns: the floor the code above them stands on
        commands["  its libraries alone"] = [sys.executable, "-c", LIBRARIES, str(imported)]
        print(f"{'command':30s} {'tree':>11} {'wall s':>7} {'cpu s':>6} "
              f"{'wall ratio':>10} {'cpu ratio':>9}")
        for name, cmd in commands.items():
            variants = [("before", envs["before"], False), ("this", envs["this"], False)]
            if OUT in cmd[-1]:
                variants.append(("this, cold", envs["this"], True))
            times: dict[str, list[tuple[float, float]]] = {v[0]: [] for v in variants}
            for _ in range(args.repeat):
                for label, env, cold in variants:
                    if cold:
                        shutil.rmtree(cost, ignore_errors=True)
                    times[label].append(timed(cmd, env, tmp))
            base_wall = statistics.median(t[0] for t in times["before"])
            base_cpu = statistics.median(t[1] for t in times["before"])
            for label, _, _ in variants:
                wall = statistics.median(t[0] for t in times[label])
                cpu = statistics.median(t[1] for t in times[label])
                print(f"{name:30s} {label:>11} {wall:7.2f} {cpu:6.2f} "
                      f"{base_wall / wall:9.2f}x {base_cpu / cpu:8.2f}x")
        print(f"before = {args.before} (git archive), this = {ROOT}; medians of "
              f"{args.repeat} fresh processes each, interleaved; load "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs at the end")
        print(f"its libraries alone: the third-party modules sim-run worlds=1 imports, of "
              f"{len(tops)} packages ({', '.join(tops)})")


if __name__ == "__main__":
    main()
