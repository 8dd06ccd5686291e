"""Start-up time: ``python -c "import sim"`` and ``sim-run worlds=1 quiet=true``.

Times both commands (the median of ``--repeat`` runs, each a fresh process) for this
checkout and for the code of another revision (``--before``, default ``main``), taken
with ``git archive`` into a temporary folder and put first on ``PYTHONPATH``; the same
interpreter and libraries run both, one after the other, so their ratio is what to
read (absolute times depend on the machine's load)::

    .venv/bin/python benchmarks/bench_startup.py --before 7c5f25f
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIM_RUN = str(Path(sys.executable).with_name("sim-run"))


def checkout(rev: str, into: Path) -> Path:
    """The ``sim/`` and ``configs/`` of ``rev`` under ``into``."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "sim", "configs"],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def timed(cmd: list[str], code_dir: Path, cwd: Path, repeat: int) -> float:
    """Median wall time of ``cmd`` with ``code_dir`` first on the path (seconds)."""
    env = {**os.environ, "PYTHONPATH": str(code_dir)}
    times = []
    for _ in range(repeat):
        tic = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - tic)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="main", help="revision to compare with")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = checkout(args.before, Path(tmp) / "before")
        commands = {
            "import sim": [sys.executable, "-c", "import sim"],
            "sim-run worlds=1 quiet=true": [SIM_RUN, "worlds=1", "quiet=true",
                                            f"hydra.run.dir={tmp}/run"],
        }
        print(f"{'command':30s} {args.before + ' s':>12} {'this s':>9} {'ratio':>7}")
        for name, cmd in commands.items():
            # interleaved, so that a change of the machine's load hits both
            before = after = 0.0
            for _ in range(2):
                before += timed(cmd, old, Path(tmp), args.repeat)
                after += timed(cmd, ROOT, Path(tmp), args.repeat)
            print(f"{name:30s} {before / 2:12.2f} {after / 2:9.2f} {before / after:6.2f}x")


if __name__ == "__main__":
    main()
