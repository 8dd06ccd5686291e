"""The code of another revision, for the benchmarks that compare two trees.

Run a benchmark as a script (``python benchmarks/bench_x.py``): this folder is then first
on the path and ``from revision import checkout`` finds this module.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def checkout(rev: str, into: Path) -> Path:
    """The ``sim/`` and ``configs/`` of ``rev`` extracted under ``into`` (``git archive``)."""
    data = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "sim", "configs"],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into
