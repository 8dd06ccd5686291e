"""Scale: world-runs per second per core as runs grow, and the parent's peak memory.

Runs ``sim-run`` (baseline, seed 0, 156 weeks, blocks of 10,000, ``quiet=true``) as a
user would, in a temporary folder:

- in process at each of ``--sizes`` worlds (default 10k, 100k): world-runs per second
  (the run's own ``elapsed_seconds``, start-up excluded) should stay flat as the run
  grows, since blocks are streamed to disk;
- with ``executor=process`` on ``--workers`` cores at ``--large`` worlds (default
  1,000,000) and at a tenth of it: world-runs per second per core, and the peak
  resident memory (``VmHWM``) of the parent and of the largest worker, polled from
  /proc while the run lasts. The parent's growth per world between the two runs should
  be about zero (it holds the blocks in flight, not the run).

    .venv/bin/python benchmarks/bench_scale.py                      # ~4 min on 2 cores
    .venv/bin/python benchmarks/bench_scale.py --sizes 10000 --large 10000000  # ~15 min

Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIM_RUN = str(Path(sys.executable).with_name("sim-run"))


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


def run(worlds: int, executor: str, workers: int, folder: Path) -> dict:
    """One ``sim-run``; its elapsed time and the peak memory of its processes."""
    out = folder / f"{executor}-{worlds}"
    cmd = [SIM_RUN, f"worlds={worlds}", "quiet=true", f"executor={executor}",
           f"workers={workers}", f"hydra.run.dir={out}"]
    p = subprocess.Popen(cmd, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--large", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = [run(n, "in_process", 1, folder) for n in args.sizes]
        small = run(max(args.large // 10, 10_000), "process", args.workers, folder)
        large = run(args.large, "process", args.workers, folder)
        rows += [small, large]
        print(f"{'worlds':>10} {'executor':>10} {'wall s':>8} {'run s':>8} "
              f"{'runs/s/core':>11} {'parent MB':>9} {'worker MB':>9} {'disk B/world':>12}")
        for r in rows:
            cores = 1 if r["executor"] == "in_process" else args.workers
            print(f"{r['worlds']:10,d} {r['executor']:>10} {r['wall']:8.1f} "
                  f"{r['elapsed']:8.1f} {r['worlds'] / r['elapsed'] / cores:11.0f} "
                  f"{r['parent'] / 1e6:9.0f} {r['worker'] / 1e6:9.0f} "
                  f"{r['disk'] / r['worlds']:12.1f}")
        dw = large["worlds"] - small["worlds"]
        grow = (large["parent"] - small["parent"]) / dw
        disk = (large["disk"] - small["disk"]) / dw
        wdisk = (large["worlds_file"] - small["worlds_file"]) / dw
        print(f"parent growth per world between {small['worlds']:,} and "
              f"{large['worlds']:,} worlds: {grow:.1f} B")
        print(f"disk per world between them (the run folder's slope): {disk:.1f} B, "
              f"worlds.parquet {wdisk:.1f} B")
        rate = large["worlds"] / large["elapsed"]
        for n in (10_000_000,):
            if n > large["worlds"]:
                print(f"extrapolated to {n:,} worlds at {rate:,.0f} world-runs/s: "
                      f"{n / rate / 60:.0f} min, parent "
                      f"{(large['parent'] + grow * (n - large['worlds'])) / 1e6:.0f} MB, "
                      f"disk {(large['disk'] + disk * (n - large['worlds'])) / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
