"""Run folders: what makes one finished, and how to tell a damaged one.

A run folder is finished when its ``manifest.json`` verifies: the manifest lists the
size and SHA-256 of every file the run wrote and is itself written last, atomically
(write to a temporary name, then rename). A kill at any moment therefore leaves either
no manifest (the job is redone on resume) or a complete one; a file truncated, emptied,
replaced or deleted afterwards no longer matches it. ``sim-run`` checks the manifest
before it skips a finished job and ``sim-report`` checks it before it reads a folder.

The manifest lists files, not columns: models that add outputs need no change here.
No Hydra here (used by :mod:`sim.viz.report` too).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sim.experiment.settings import (
    MAX_HORIZON_WEEKS,
    MAX_RUN_WORLDS,
    MAX_SEED,
    MAX_SPREAD_DRAWS,
)
from sim.safeio import UnsafeFile, open_regular, read_regular_bytes

#: The manifest's file name.
MANIFEST = "manifest.json"
#: Format version written into manifests.
MANIFEST_VERSION = 1
#: Temporary files of an atomic write: ``.<name>.tmp-<pid>``.
TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)$")
#: Largest JSON file of a run folder read (summary.json, metadata.json, manifest).
MAX_JSON_BYTES = 50_000_000
#: Largest file of a run folder opened at all (tables included): 4 TiB, above the
#: ``worlds.parquet`` of a run of the most worlds allowed (1,000,000,000 at about 0.65 kB
#: a world). Streamed, a table's size is no longer bounded by memory: the former 2 GB
#: refused the 6.5 GB table of a 10,000,000-world run, at the manifest's checksum.
MAX_FILE_BYTES = 4 * 2**40
#: Bytes of rows (Arrow's in-memory size) gathered into one row group of a streamed
#: ``worlds.parquet`` before it is written. A Parquet file's footer lists every row
#: group, and the writer holds that metadata until the file is closed: about 100 kB a
#: row group at 123 columns, whatever its rows. One row group per block therefore grew
#: the writing process by 100 kB a block: 10 B a world in blocks of 10,000, 1 kB a world
#: in blocks of 100. Row groups of at least 16 MiB (about 18,000 worlds at 0.9 kB a
#: world) hold it to about 5 B a world whatever the block size, for at most 16 MiB and
#: one block of rows waiting to be written (:mod:`sim.experiment.memory` counts them).
#: Larger row groups cut the slope further but hold more rows: with 32 MiB a pooled
#: 1,000,000-world run's parent peaked at 393 MB against 341 MB with one row group per
#: block (``benchmarks/bench_scale.py --horizon 26``, 4 Dec 2026).
ROW_GROUP_BYTES = 16 * 2**20


class DamagedRunError(ValueError):
    """A run folder that is not a finished, intact run; ``str()`` is one line."""


def temp_name(path: Path) -> Path:
    """The temporary name an atomic write of ``path`` uses (this process's)."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through a temporary file and a rename (never half a file)."""
    tmp = temp_name(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_temp_files(folder: Path) -> list[Path]:
    """Delete temporary files left in ``folder`` by writers that are no longer running.

    A kill during an atomic write leaves ``.<name>.tmp-<pid>``; its process is gone, so
    nobody will finish or remove it. Files of live processes are left alone.

    Returns:
        The files removed.
    """
    removed: list[Path] = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for p in folder.iterdir():
        m = TEMP_PATTERN.match(p.name)
        if m and p.is_file() and not _pid_alive(int(m.group("pid"))):
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def file_digest(path: Path) -> tuple[int, str]:
    """Size in bytes and SHA-256 (hex) of a regular file of at most :data:`MAX_FILE_BYTES`.

    Raises:
        sim.safeio.UnsafeFile: Not a regular file (FIFO, socket, device), or too large.
    """
    h = hashlib.sha256()
    size = 0
    with open_regular(path, MAX_FILE_BYTES) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def write_manifest(folder: Path, names: Iterable[str], extra: dict | None = None) -> dict:
    """Write ``manifest.json`` for the files ``names`` of ``folder``, atomically, last.

    Returns:
        The manifest.
    """
    folder = Path(folder)
    files = {}
    for name in sorted(names):
        size, digest = file_digest(folder / name)
        files[name] = {"bytes": size, "sha256": digest}
    manifest = {"manifest_version": MANIFEST_VERSION, "files": files, **(extra or {})}
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    atomic_write(folder / MANIFEST, lambda p: p.write_text(text, encoding="utf-8"))
    return manifest


def read_json(path: Path, what: str | None = None) -> Any:
    """Read a JSON file of a run folder (bounded in size).

    Raises:
        DamagedRunError: Missing, unreadable, too large or not valid JSON.
    """
    what = what or path.name
    try:
        return json.loads(read_regular_bytes(path, MAX_JSON_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise DamagedRunError(f"{path}: missing") from None
    except IsADirectoryError:
        raise DamagedRunError(f"{path}: is a folder, expected {what}") from None
    except UnsafeFile as e:
        raise DamagedRunError(f"{path}: {e}, expected {what}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise DamagedRunError(f"{path}: {what} is not valid JSON") from None


def verify_run_folder(folder: Path) -> dict:
    """Check that ``folder`` holds a finished, intact run; return its manifest.

    Raises:
        DamagedRunError: No manifest (unfinished or written by an older sim-run), a
            malformed one, or a listed file missing, of another size or other content.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.exists():
        raise DamagedRunError(f"{folder}: no {MANIFEST}, so the run did not finish (or an "
                              "older sim-run wrote it); run the same sim-run command again")
    manifest = read_json(path)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not files:
        raise DamagedRunError(f"{path}: not a sim-run manifest")
    for name, entry in files.items():
        if (not isinstance(name, str) or "/" in name or name.startswith(".")
                or not isinstance(entry, dict)):
            raise DamagedRunError(f"{path}: not a sim-run manifest (entry {name!r})")
        p = folder / name
        if not p.exists():
            raise DamagedRunError(f"{p}: listed in {MANIFEST} but missing; the folder is "
                                  "damaged: run the same sim-run command again")
        try:
            size, digest = file_digest(p)
        except UnsafeFile as e:
            raise DamagedRunError(f"{p}: {e}; the folder is damaged: run the same sim-run "
                                  "command again") from None
        if size != entry.get("bytes") or digest != entry.get("sha256"):
            raise DamagedRunError(f"{p}: changed since the run wrote it ({size:,} bytes, "
                                  f"{entry.get('bytes')!r} recorded); the folder is "
                                  "damaged: run the same sim-run command again")
    return manifest


def _number(v: Any, lo: float = -math.inf, hi: float = math.inf) -> bool:
    return (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            and lo <= v <= hi)


def _whole(v: Any, lo: int = 0, hi: int | None = None) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool) and v >= lo
            and (hi is None or v <= hi))


#: Field sizes of summary.json a reader accepts (a command line of sim-run stays far
#: below them; a crafted summary beyond them would stall the report's layout).
MAX_OVERRIDES = 1000
MAX_OVERRIDE_CHARS = 10_000
MAX_NAME_CHARS = 200


def _overrides_ok(v: Any) -> bool:
    return (isinstance(v, list) and len(v) <= MAX_OVERRIDES
            and all(isinstance(o, str) and len(o) <= MAX_OVERRIDE_CHARS for o in v))


def spread_ok(v: Any) -> bool:
    """Whether ``v`` is a ``spread`` block (:mod:`sim.experiment.spread`) a reader may show.

    Draws and worlds whole numbers >= 2, the quantiles and mean of P(sign) shares in
    order, the variance shares and their intervals finite numbers.
    """
    if not isinstance(v, dict):
        return False
    shares = ("p_sign_q10", "p_sign_q50", "p_sign_q90", "p_sign_mean")
    intervals = ("share_between_ci", "p_sign_q10_ci", "p_sign_q90_ci")
    return (_whole(v.get("draws"), 2, MAX_SPREAD_DRAWS) and _whole(v.get("worlds"), 2,
                                                                   MAX_RUN_WORLDS)
            and all(_number(v.get(k), 0, 1) for k in shares)
            and v["p_sign_q10"] <= v["p_sign_q50"] <= v["p_sign_q90"]
            and all(_number(v.get(k)) for k in ("share_between", "noise_share"))
            and all(isinstance(v.get(k), list) and len(v[k]) == 2
                    and all(_number(x) for x in v[k]) for k in intervals))


#: Keys of summary.json every reader relies on, with their checks.
SUMMARY_CHECKS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "scenario": (lambda v: isinstance(v, str) and 0 < len(v) <= MAX_NAME_CHARS,
                 f"a scenario name of at most {MAX_NAME_CHARS} characters"),
    "worlds": (lambda v: _whole(v, 1, MAX_RUN_WORLDS),
               f"a whole number in [1, {MAX_RUN_WORLDS:,}]"),
    "seed": (lambda v: _whole(v, 0, MAX_SEED), "a whole number in [0, 2**63 - 1]"),
    "horizon_weeks": (lambda v: _whole(v, 1, MAX_HORIZON_WEEKS),
                      f"a whole number in [1, {MAX_HORIZON_WEEKS}]"),
    "start_date": (lambda v: isinstance(v, str) and bool(
        re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)), "a date YYYY-MM-DD"),
    "p_sign": (lambda v: _number(v, 0, 1), "a share in [0, 1]"),
    "ci_low": (lambda v: _number(v, 0, 1), "a share in [0, 1]"),
    "ci_high": (lambda v: _number(v, 0, 1), "a share in [0, 1]"),
    "outcome_shares": (lambda v: isinstance(v, dict) and all(
        isinstance(k, str) and _number(x, 0, 1) for k, x in v.items()),
        "a mapping of outcome to share"),
    "overrides": (_overrides_ok, f"a list of at most {MAX_OVERRIDES} key=value strings of "
                  f"at most {MAX_OVERRIDE_CHARS:,} characters each"),
    "median_weeks_to_sign": (lambda v: v is None or _number(v, 0, MAX_HORIZON_WEEKS),
                             f"null or weeks in [0, {MAX_HORIZON_WEEKS}]"),
}
#: Optional summary keys: checked when present.
SUMMARY_OPTIONAL: dict[str, tuple[Callable[[Any], bool], str]] = {
    "p_sign_12m": (lambda v: v is None or _number(v, 0, 1), "null or a share"),
    "p_sign_24m": (lambda v: v is None or _number(v, 0, 1), "null or a share"),
    "p_sign_36m": (lambda v: v is None or _number(v, 0, 1), "null or a share"),
    "config_hash": (lambda v: isinstance(v, str) and len(v) <= MAX_NAME_CHARS,
                    f"a string of at most {MAX_NAME_CHARS} characters"),
    "spread": (spread_ok, "a spread block (draws and worlds >= 2, the quantiles of P(sign) "
               "shares in order, finite variance shares and intervals)"),
}


def check_summary(summary: Any, path: Path) -> dict:
    """Check the types of a ``summary.json``; return it.

    Raises:
        DamagedRunError: Not a mapping, or a key missing or of the wrong type.
    """
    if not isinstance(summary, dict):
        raise DamagedRunError(f"{path}: expected a JSON object (a sim-run summary), got "
                              f"{type(summary).__name__ if summary is not None else 'null'}")
    for key, (ok, what) in SUMMARY_CHECKS.items():
        if key not in summary:
            raise DamagedRunError(f"{path}: key {key!r} missing")
        if not ok(summary[key]):
            raise DamagedRunError(f"{path}: {key} must be {what}, got "
                                  f"{_short(summary[key])}")
    for key, (ok, what) in SUMMARY_OPTIONAL.items():
        if key in summary and not ok(summary[key]):
            raise DamagedRunError(f"{path}: {key} must be {what}, got "
                                  f"{_short(summary[key])}")
    if summary["ci_low"] > summary["ci_high"]:
        raise DamagedRunError(f"{path}: ci_low is above ci_high")
    return summary


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def finished_run(folder: Path) -> dict:
    """The checked ``summary.json`` of a verified run folder.

    Raises:
        DamagedRunError: The folder is unfinished or damaged, or its summary malformed.
    """
    folder = Path(folder)
    manifest = verify_run_folder(folder)
    for name in ("summary.json", "worlds.parquet", "steps.parquet"):
        if name not in manifest["files"]:
            raise DamagedRunError(f"{folder}: {MANIFEST} does not list {name}")
    return check_summary(read_json(folder / "summary.json"), folder / "summary.json")
