"""Benchmark: a run's summary read whole against streamed, in time and peak memory (issue 20).

Builds synthetic run tables of 100,000 and 1,000,000 worlds (the ``worlds.parquet`` of a
real 10,000-world run in blocks of 10,000, repeated with new world ids: one row group per
block, as ``sim-run`` writes), then computes the summary statistics of each in a fresh
process two ways: the whole table read (``pd.read_parquet`` + ``summarise``, what every
reader did before) and streamed (:func:`sim.experiment.runs.stream_summary`: the columns
the summary reads, one batch at a time). Peak memory is the process's ``VmHWM`` above its
resident memory just before the read; each case is timed once per round, alternating, and
the medians are compared as ratios in the same run::

    .venv/bin/python benchmarks/bench_summary_read.py              # 1e5 and 1e6 worlds
    .venv/bin/python benchmarks/bench_summary_read.py --sizes 100000 --rounds 3

Do not go above 1e6 worlds on a shared machine (the full read of 1e6 worlds holds
gigabytes).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.cli.compose import compose_config
from sim.cli.run import run

BLOCK = 10_000

_CASE = """
import sys, time
from pathlib import Path
import pandas as pd
from sim.experiment.api import summarise
from sim.experiment.memory import current_rss, peak_rss
from sim.experiment.runs import stream_summary
path, how = Path(sys.argv[1]), sys.argv[2]
stream_summary(path, 156, 1000)        # warm-up: imports and first allocations
Path("/proc/self/clear_refs").write_text("5")
base, t = current_rss(), time.perf_counter()
if how == "streamed":
    out = stream_summary(path, 156)
else:
    out = summarise(pd.read_parquet(path), 156)
print(time.perf_counter() - t, peak_rss() - base, out["p_sign"])
"""


def synthetic(src: Path, dst: Path, worlds: int) -> int:
    """``dst``: ``src``'s rows repeated to ``worlds`` rows; returns their bytes in memory."""
    rows = pd.read_parquet(src)
    schema = pa.Table.from_pandas(rows, preserve_index=False).schema
    with pq.ParquetWriter(dst, schema) as w:
        for i in range(worlds // len(rows)):
            rows["world"] = np.arange(i * len(rows), (i + 1) * len(rows))
            w.write_table(pa.Table.from_pandas(rows, schema=schema, preserve_index=False))
    return int(rows.memory_usage(deep=True).sum()) * (worlds // len(rows))


def main() -> None:
    """Write the tables, then time and measure both reads of each, alternating."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if max(a.sizes) > 1_000_000:
        ap.error("at most 1,000,000 worlds (the machine is shared)")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "run"
        ov = [f"worlds={BLOCK}", f"block_worlds={BLOCK}", "quiet=true"]
        run(compose_config(ov), src, ov)
        print(f"{'worlds':>9} {'table MB':>8} {'full s':>7} {'stream s':>8} {'time x':>6} "
              f"{'full MB':>8} {'stream MB':>9} {'memory x':>8}")
        for n in a.sizes:
            path = Path(tmp) / f"w{n}.parquet"
            table = synthetic(src / "worlds.parquet", path, n)
            got: dict[str, list[tuple[float, float]]] = {"full": [], "streamed": []}
            for _ in range(a.rounds):
                for how in got:
                    out = subprocess.run([sys.executable, "-c", _CASE, str(path), how],
                                         capture_output=True, text=True, check=True)
                    secs, peak, _ = (float(v) for v in out.stdout.split()[-3:])
                    got[how].append((secs, peak))
            med = {h: (statistics.median(s for s, _ in v), statistics.median(p for _, p in v))
                   for h, v in got.items()}
            (ft, fm), (st, sm) = med["full"], med["streamed"]
            print(f"{n:9,d} {table / 1e6:8.0f} {ft:7.2f} {st:8.2f} {ft / st:6.1f} "
                  f"{fm / 1e6:8.0f} {sm / 1e6:9.0f} {fm / max(sm, 1):8.1f}")
            path.unlink()


if __name__ == "__main__":
    main()
