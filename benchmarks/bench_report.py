"""Wall time of ``sim-report`` (:func:`sim.viz.report.build_report`) on a sweep folder.

Each timing is a fresh Python process (imports not counted), so caches do not carry over.
With ``--against SRC`` the same folder is also reported by another copy of the package
(``SRC/sim``, e.g. an earlier commit exported with ``git archive <rev> sim configs | tar -x
-C SRC``), alternating the two so that both see the same machine load, and the ratio of
the medians is printed::

    .venv/bin/sim-run -m scenario=$(ls configs/scenario | sed 's/.yaml//' | paste -sd,) \\
        worlds=5000 hydra.sweep.dir=/tmp/figsweep quiet=true
    .venv/bin/python benchmarks/bench_report.py /tmp/figsweep
    .venv/bin/python benchmarks/bench_report.py /tmp/figsweep --against /tmp/base --repeats 5

The report is written into ``FOLDER/report/`` as ``sim-report`` would.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_CHILD = """
import sys, time
import matplotlib
matplotlib.use("Agg")
from sim.viz import report
t = time.perf_counter()
report.build_report(sys.argv[1])
print(time.perf_counter() - t)
"""


def time_once(folder: Path, src: Path) -> float:
    """Seconds ``build_report(folder)`` takes with the package found in ``src``."""
    env = dict(os.environ, PYTHONPATH=str(src), MPLBACKEND="Agg")
    out = subprocess.run([sys.executable, "-c", _CHILD, str(folder)], env=env, check=True,
                         capture_output=True, text=True, cwd=src)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="a sweep (or run) folder")
    ap.add_argument("--against", type=Path, help="another source tree to compare with")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    trees = {"this": ROOT}
    if args.against:
        trees["against"] = args.against.resolve()
    times: dict[str, list[float]] = {k: [] for k in trees}
    for _ in range(args.repeats):
        for name, src in trees.items():
            times[name].append(time_once(args.folder, src))
    for name, ts in times.items():
        print(f"{name:8s} {trees[name]}: median {statistics.median(ts):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in ts)})")
    if args.against:
        ratio = statistics.median(times["against"]) / statistics.median(times["this"])
        print(f"against / this: {ratio:.2f}x")


if __name__ == "__main__":
    main()
