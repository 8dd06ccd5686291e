"""Scale: world-runs per second per core as runs grow, and the parent's memory slope.

Runs ``sim-run`` (baseline, seed 0, blocks of 10,000, ``quiet=true``; this checkout's
``sim``) as a user would, in a temporary folder:

- in process at each of ``--sizes`` worlds (default 10k, 100k): world-runs per second
  (the run's own ``elapsed_seconds``, start-up excluded) should stay flat as the run
  grows, since blocks are streamed to disk;
- with ``executor=process`` on ``--workers`` cores at each of ``--process-sizes``
  worlds (default 100k, 400k, 1M): world-runs per second per core, and the peak
  resident memory (``VmHWM``) of the parent and of the largest worker, polled from
  /proc while the run lasts. The parent's slope in bytes per world is the
  least-squares fit of its peak against the worlds (it holds the blocks in flight and
  one row group being gathered, not the run; what is left is the Parquet footer's
  metadata, one entry per row group).

    .venv/bin/python benchmarks/bench_scale.py                          # ~8 min on 2 cores
    .venv/bin/python benchmarks/bench_scale.py --sizes --horizon 26     # ~3 min
    .venv/bin/python benchmarks/bench_scale.py --sizes --process-sizes 10000000  # 23 min

Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _hwm(pid: int) -> int:
    """Peak resident memory of ``pid`` so far (bytes), 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    parent: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def run(worlds: int, executor: str, workers: int, horizon: int, folder: Path) -> dict:
    """One ``sim-run`` of this checkout; its elapsed time and its processes' peak memory."""
    out = folder / f"{executor}-{worlds}"
    cmd = [sys.executable, "-m", "sim.cli.run", f"worlds={worlds}", "quiet=true",
           f"executor={executor}", f"workers={workers}", f"horizon_weeks={horizon}",
           f"hydra.run.dir={out}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen(cmd, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, env=env)
    parent = worker = 0
    tic = time.perf_counter()
    while p.poll() is None:
        parent = max(parent, _hwm(p.pid))
        for c in _descendants(p.pid):
            worker = max(worker, _hwm(c))
        time.sleep(0.2)
    wall = time.perf_counter() - tic
    if p.returncode != 0:
        raise SystemExit(f"sim-run failed: {p.stderr.read() if p.stderr else ''}")
    summary = json.loads((out / "summary.json").read_text())
    disk = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return {"worlds": worlds, "executor": executor, "wall": wall,
            "elapsed": summary["elapsed_seconds"], "parent": parent, "worker": worker,
            "p_sign": summary["p_sign"], "disk": disk,
            "worlds_file": (out / "worlds.parquet").stat().st_size}


def slope(rows: list[dict], key: str) -> float:
    """Least-squares slope of ``key`` against the worlds (bytes per world)."""
    x = np.array([r["worlds"] for r in rows], dtype=float)
    y = np.array([r[key] for r in rows], dtype=float)
    return float(np.polyfit(x, y, 1)[0]) if len(rows) > 1 else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--process-sizes", type=int, nargs="*",
                    default=[100_000, 400_000, 1_000_000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--horizon", type=int, default=156)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}; horizon {args.horizon} weeks", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # first a small run: after a code change the memory guard's probe block runs
        # (under tracemalloc, in the parent) and would inflate the first size's peak
        run(1000, "in_process", 1, args.horizon, folder)
        rows = [run(n, "in_process", 1, args.horizon, folder) for n in args.sizes]
        pooled = [run(n, "process", args.workers, args.horizon, folder)
                  for n in args.process_sizes]
        rows += pooled
        print(f"{'worlds':>10} {'executor':>10} {'wall s':>8} {'run s':>8} "
              f"{'runs/s/core':>11} {'parent MB':>9} {'worker MB':>9} {'disk B/world':>12}")
        for r in rows:
            cores = 1 if r["executor"] == "in_process" else args.workers
            print(f"{r['worlds']:10,d} {r['executor']:>10} {r['wall']:8.1f} "
                  f"{r['elapsed']:8.1f} {r['worlds'] / r['elapsed'] / cores:11.0f} "
                  f"{r['parent'] / 1e6:9.1f} {r['worker'] / 1e6:9.1f} "
                  f"{r['disk'] / r['worlds']:12.1f}")
        if len(pooled) > 1:
            grow = slope(pooled, "parent")
            sizes = ", ".join(f"{r['worlds']:,}" for r in pooled)
            print(f"parent slope (least squares over {sizes} worlds): {grow:.1f} B per world")
            print(f"disk slope: {slope(pooled, 'disk'):.1f} B per world, worlds.parquet "
                  f"{slope(pooled, 'worlds_file'):.1f} B")
            big = pooled[-1]
            n = 10_000_000
            if n > big["worlds"]:
                rate = big["worlds"] / big["elapsed"]
                print(f"extrapolated to {n:,} worlds at {rate:,.0f} world-runs/s: "
                      f"{n / rate / 60:.0f} min, parent "
                      f"{(big['parent'] + grow * (n - big['worlds'])) / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
