"""Posterior samples as a distribution: ``{dist: posterior, file: <path>, column: <key>}``.

A calibration (:mod:`sim.analysis.calibrate`) writes a *posterior sample file*: a CSV
whose first line is ``# peace-sim posterior `` followed by a JSON header (origin, cut-off
date, facts used, method, tolerance, prior worlds, accepted count, effective sample
size), then one row per posterior draw with one column per calibrated assumption
(dotted key) and a ``weight`` column (importance weights; all equal after rejection).

A scenario draws an assumption from such a file with::

    incidents:
      base_rate: {dist: posterior, file: results/calibration/<date>/<time>/posterior.csv,
                  column: incidents.base_rate}

Each world resamples one row of the file, with probability proportional to its weight,
and takes that row's value. **Keys naming the same file take the same row in each
world**, so the sample's joint structure (correlations between assumptions) is kept:
the row is drawn once per run from a stream named after the file's content (its
SHA-256), ``posterior:<digest>`` of the run's streams (:func:`sim.model.state.
draw_parameters`), derived from the run's seed and block like every other stream
(:func:`sim.model.rng.stream`), not from the key's own stream; the spread's draws
(:mod:`sim.experiment.spread`) take it from their own streams, so they are not the
run's first worlds. A relative ``file`` is read from the current directory.
The file is read once, when the scenario is validated, through
:func:`sim.safeio.read_regular_bytes` (regular files only, at most
:data:`MAX_POSTERIOR_BYTES`); a missing file, a missing column, an empty sample, a
value that is not finite or lies outside the key's allowed range is one
:class:`~sim.errors.ConfigError` naming the key and the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import ConfigError
from sim.model.dists import Dist
from sim.safeio import UnsafeFile, read_regular_bytes

#: First characters of a posterior sample file (the JSON header follows on that line).
HEADER_PREFIX = "# peace-sim posterior "
#: Name of the column of importance weights.
WEIGHT = "weight"
#: Largest posterior sample file read (bytes).
MAX_POSTERIOR_BYTES = 100_000_000


class PosteriorFileError(ValueError):
    """A posterior sample file that cannot be used; ``str()`` says why in one line."""


def write_posterior(path: Path, samples: pd.DataFrame, header: dict[str, Any]) -> None:
    """Write a posterior sample file: the JSON header line, then the CSV.

    Args:
        path: Where to write (the caller makes it atomic if needed).
        samples: One row per draw, one column per dotted key, and ``weight``.
        header: JSON-serialisable description of the calibration.
    """
    if WEIGHT not in samples.columns:
        raise ValueError(f"a posterior sample needs a {WEIGHT!r} column")
    text = HEADER_PREFIX + json.dumps(header, default=str, sort_keys=True) + "\n"
    text += samples.to_csv(index=False, float_format="%.17g", lineterminator="\n")
    Path(path).write_text(text, encoding="utf-8")


def thin(samples: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    """At most ``rows`` rows of a posterior sample, chosen by a seeded rule.

    Equal weights (rejection): ``rows`` distinct rows drawn uniformly without
    replacement (:func:`numpy.random.default_rng` of ``seed``), kept in their order;
    unequal weights (ABC-SMC): ``rows`` rows resampled with replacement by weight, then
    weighed equally. A sample no larger than ``rows`` is returned whole. Either way the
    rows are draws from the same posterior (a smaller sample of it, for a file of
    reasonable size).
    """
    if rows < 1:
        raise ValueError(f"rows must be >= 1, got {rows}")
    n = len(samples)
    if n <= rows:
        return samples.reset_index(drop=True)
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(0x7417,)))
    w = samples[WEIGHT].to_numpy(dtype=float)
    if np.allclose(w, w[0]):
        idx = np.sort(rng.choice(n, size=rows, replace=False))
    else:
        idx = np.sort(rng.choice(n, size=rows, replace=True, p=w / w.sum()))
    out = samples.iloc[idx].reset_index(drop=True)
    out[WEIGHT] = 1.0 / rows
    return out


def read_posterior(path: str | os.PathLike[str]) -> tuple[dict[str, Any], pd.DataFrame, str]:
    """Read a posterior sample file.

    Returns:
        ``(header, samples, digest)``: the JSON header, the table (weights checked:
        finite, >= 0, positive sum) and the SHA-256 of the file's bytes. A file read
        before, unchanged since (same inode, size and modification time), is not read
        again.

    Raises:
        PosteriorFileError: Missing, not a regular file, too large, not a posterior
            sample file, no rows, or bad weights (the message says which).
    """
    header, samples, digest = _read_shared(path)
    return dict(header), samples.copy(), digest


def _read_shared(path: str | os.PathLike[str]) -> tuple[dict[str, Any], pd.DataFrame, str]:
    """:func:`read_posterior` without the copies: the cached objects, to be read only.

    :func:`parse_posterior` takes one column from it per key (a scenario drawing 200 keys
    from one file copied the whole table 200 times, 0.4 s of a 0.6 s composition).
    """
    key = _cache_key(path)
    hit = _READ_CACHE.get(key) if key is not None else None
    if hit is not None:
        return hit
    try:
        data = read_regular_bytes(path, MAX_POSTERIOR_BYTES)
    except FileNotFoundError:
        raise PosteriorFileError("no such file") from None
    except UnsafeFile as e:
        raise PosteriorFileError(str(e)) from None
    except OSError as e:
        raise PosteriorFileError(f"cannot be read ({e.strerror or e})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PosteriorFileError("is not UTF-8 text (a posterior sample CSV)") from None
    first, _, body = text.partition("\n")
    if not first.startswith(HEADER_PREFIX):
        raise PosteriorFileError(f"is not a posterior sample file (its first line must "
                                 f"start with {HEADER_PREFIX.strip()!r})")
    try:
        header = json.loads(first[len(HEADER_PREFIX):])
    except json.JSONDecodeError as e:
        raise PosteriorFileError(f"has a malformed JSON header ({e.msg})") from None
    if not isinstance(header, dict):
        raise PosteriorFileError("has a JSON header that is not a mapping")
    try:
        samples = pd.read_csv(io.StringIO(body))
    except (pd.errors.EmptyDataError, pd.errors.ParserError, ValueError) as e:
        raise PosteriorFileError(f"has no readable sample table ({str(e).splitlines()[0]})"
                                 ) from None
    if samples.empty:
        raise PosteriorFileError("holds an empty sample (no rows)")
    if WEIGHT not in samples.columns:
        raise PosteriorFileError(f"has no {WEIGHT!r} column")
    w = pd.to_numeric(samples[WEIGHT], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise PosteriorFileError(f"has weights that are not finite and >= 0 with a positive "
                                 f"sum (column {WEIGHT!r})")
    digest = hashlib.sha256(data).hexdigest()
    if key is not None:
        if len(_READ_CACHE) >= _READ_CACHE_SIZE:
            _READ_CACHE.pop(next(iter(_READ_CACHE)))
        _READ_CACHE[key] = (header, samples, digest)
    return header, samples, digest


#: Files read, by :func:`_cache_key`: a scenario drawing 200 keys from one file reads it
#: once, not 200 times.
_READ_CACHE: dict[tuple, tuple[dict[str, Any], pd.DataFrame, str]] = {}
_READ_CACHE_SIZE = 8


def _cache_key(path: str | os.PathLike[str]) -> tuple | None:
    """The file's identity and version (path, device, inode, size, modification time)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class PosteriorDist(Dist):
    """One column of a posterior sample file, resampled per world (see the module doc).

    Attributes:
        file: The file as written in the scenario.
        column: The column drawn (usually the key's own dotted name).
        cutoff: The header's ``cutoff`` (ISO date of the last fact the calibration used),
            or ``""`` when the header gives none (a toy calibration): a scenario may draw
            from the file only from that date on (:func:`check_known_by`).
        digest: SHA-256 of the file's bytes: names the stream of row indices shared by
            every key that draws from this file.
        values: The column's values (one per row).
        weights: The rows' probabilities (summing to 1).
    """

    file: str = ""
    column: str = ""
    digest: str = ""
    cutoff: str = ""
    values: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False, repr=False)
    weights: np.ndarray = field(default_factory=lambda: np.zeros(0), compare=False, repr=False)

    def known_from(self) -> str:
        """The calibration's cut-off: a scenario starting before it may not draw from it."""
        return self.cutoff

    def shared_stream(self) -> str:
        """``posterior:<digest>``: every key of this file takes the same rows in a run."""
        return "posterior:" + self.digest

    def shared_draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Row indices for ``n`` worlds, drawn by weight from ``rng``.

        In a run ``rng`` is the stream :meth:`shared_stream` of the run's (or the
        spread's) streams, drawn once for every key of the file
        (:func:`sim.model.state.draw_parameters`).
        """
        return rng.choice(len(self.values), size=n, replace=True, p=self.weights)

    def from_shared(self, draw: np.ndarray) -> np.ndarray:
        """The column at the rows ``draw``, clipped to the key's range."""
        return np.clip(self.values[draw], self.lo, self.hi)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` values of this column alone: rows drawn from ``rng`` (no row shared)."""
        return self.from_shared(self.shared_draw(rng, n))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The weighted sample's quantiles at ``u`` (the marginal, for designs)."""
        order = np.argsort(self.values, kind="stable")
        cum = np.cumsum(self.weights[order])
        idx = np.searchsorted(cum, np.clip(np.asarray(u, dtype=float), 0.0, 1.0) * cum[-1],
                              side="left")
        return np.clip(self.values[order][np.minimum(idx, len(order) - 1)], self.lo, self.hi)

    def support(self) -> tuple[float, float]:
        """The sample's smallest and largest value."""
        return float(self.values.min()), float(self.values.max())

    def mean(self) -> float:
        """The weighted sample mean."""
        return float(np.dot(self.weights, self.values))


def parse_posterior(value: dict, key: str, lo: float, hi: float) -> PosteriorDist:
    """Validate ``{dist: posterior, file: <path>, column: <key>}`` and read the file.

    Raises:
        ConfigError: Missing or extra arguments, or a file that cannot be used; the
            message names the key and the file.
    """
    extra = sorted(set(value) - {"dist", "file", "column"})
    missing = [n for n in ("file", "column") if n not in value]
    if extra or missing:
        raise ConfigError(key, "a posterior distribution takes exactly file, column"
                          + (f"; missing {', '.join(missing)}" if missing else "")
                          + (f"; unknown {', '.join(extra)}" if extra else ""))
    file, column = value["file"], value["column"]
    if not isinstance(file, str) or not file:
        raise ConfigError(f"{key}.file", f"must be the path of a posterior sample file, "
                          f"got {file!r}")
    if not isinstance(column, str) or not column:
        raise ConfigError(f"{key}.column", f"must name a column of {file}, got {column!r}")
    try:
        header, samples, digest = _read_shared(file)
    except PosteriorFileError as e:
        raise ConfigError(key, f"posterior file {file}: {e}") from None
    cutoff = header.get("cutoff") or ""
    try:
        cutoff = dt.date.fromisoformat(str(cutoff)).isoformat() if cutoff else ""
    except ValueError:
        raise ConfigError(key, f"posterior file {file}: its header's cutoff {cutoff!r} is "
                          "not a date (YYYY-MM-DD)") from None
    if column not in samples.columns or column == WEIGHT:
        cols = [c for c in samples.columns if c != WEIGHT]
        raise ConfigError(f"{key}.column", f"posterior file {file} has no column {column!r}; "
                          f"its columns: {', '.join(cols) or 'none'}")
    x = np.array(pd.to_numeric(samples[column], errors="coerce"), dtype=float)  # its own
    if not np.all(np.isfinite(x)):
        raise ConfigError(key, f"posterior file {file}: column {column!r} holds values "
                          "that are not finite numbers")
    if (x < lo).any() or (x > hi).any():
        raise ConfigError(key, f"posterior file {file}: column {column!r} has values in "
                          f"[{x.min():g}, {x.max():g}], outside the key's allowed range "
                          f"[{lo:g}, {hi:g}]")
    w = samples[WEIGHT].to_numpy(dtype=float)
    w = w / w.sum()   # a new array
    x.setflags(write=False)
    w.setflags(write=False)
    return PosteriorDist("posterior", (("rows", float(len(x))),), lo, hi,
                         file=file, column=column, digest=digest, cutoff=cutoff, values=x,
                         weights=w)

