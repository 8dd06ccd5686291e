"""``sim-calibrate``: calibrate an origin's assumptions to the dated record (ABC).

Examples::

    sim-calibrate cutoff=2026-06-30 range.incidents.base_rate=0.01,0.3
    sim-calibrate method=smc worlds=2000 keys=domestic.referendum.yes_share
    sim-calibrate origin=origin_2025_08_08 exclude=minsk_process_closed_by_2025_12_01

Arguments are ``key=value`` pairs (below); ``range.<model key>=low,high`` gives a key a
uniform prior on that range (checked against the key's allowed range), ``keys=`` names
distributed keys of the origin whose own distributions are the priors (with neither,
every distribution the origin draws and every assumption of ``configs/priors.yaml`` the
defaults fix at a point, drawn from its declared prior, are calibrated; ``priors=false``
for the distributions only). The origin is composed by the
library loader (safe YAML, every key checked), like ``sim-backtest``'s. Output:
``results/calibration/<date>/<time>/`` (:func:`sim.analysis.calibrate.write_calibration`),
and with ``thin=N`` also ``posterior_thin.csv``: at most N rows of the posterior, chosen by
a rule seeded by ``seed`` (:func:`sim.model.posterior.thin`), for a file of a size worth
committing (``configs/posteriors/``).
A mistake is one line on stderr and exit status 2; a failure of the machine (disk full,
read-only folder) one line and exit status 1.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from sim.analysis import backtest as bt
from sim.analysis import calibrate as cb
from sim.errors import ConfigError, environment_problem
from sim.experiment.config import CONFIG_DIR, output_root
from sim.viz.calibration_plots import prior_posterior

#: Keys, their defaults and what they take (besides ``range.<key>=low,high``).
DEFAULTS = {
    "origin": "origin_2025_08_08",
    "cutoff": "",             # YYYY-MM-DD; empty: today (every fact settled so far)
    "keys": "",               # comma-separated distributed keys
    "priors": "true",         # with no keys/ranges: also every point-valued assumption
                              # of configs/priors.yaml, drawn from its prior
    "method": "rejection",    # rejection or smc
    "worlds": "20000",        # rejection: prior worlds; smc: particles per generation
    "seed": "0",
    "exclude": "",            # comma-separated fact ids
    "facts": str(CONFIG_DIR / "backtest" / "facts.yaml"),
    "quantile": "0.1",        # rejection: the closest share of the worlds kept
    "tolerance": "",          # an absolute tolerance instead (smc: the one to stop at)
    "generations": "4",       # smc
    "alpha": "0.5",           # smc: each tolerance is this quantile of the last distances
    "batch_worlds": "20000",
    "thin": "0",              # > 0: also write posterior_thin.csv, at most this many
                              # rows of the posterior chosen by a rule seeded by seed
    "out": "",
}
USAGE = ("usage: sim-calibrate [key=value ...] [range.<model key>=low,high ...]; keys: "
         + ", ".join(DEFAULTS) + " (e.g. sim-calibrate cutoff=2026-06-30 "
         "range.incidents.base_rate=0.01,0.3 method=smc worlds=2000)")
CMD = "command line"


def _whole(raw: str, key: str, lo: int, hi: int) -> int:
    try:
        v = int(raw)
    except ValueError:
        v = lo - 1
    if not lo <= v <= hi:
        raise ConfigError(key, f"must be a whole number in [{lo}, {hi}], got {raw!r}", CMD)
    return v


def _real(raw: str, key: str, lo: float, hi: float) -> float:
    try:
        v = float(raw)
    except ValueError:
        v = math.nan
    if not lo < v < hi:
        raise ConfigError(key, f"must be a number in ({lo:g}, {hi:g}), got {raw!r}", CMD)
    return v


def _range(key: str, raw: str) -> tuple[float, float]:
    lo, comma, hi = raw.partition(",")
    try:
        pair = (float(lo), float(hi)) if comma else (math.nan, math.nan)
    except ValueError:
        pair = (math.nan, math.nan)
    if not (math.isfinite(pair[0]) and math.isfinite(pair[1]) and pair[0] < pair[1]):
        raise ConfigError(key, f"must be low,high with finite low < high, got {raw!r}", CMD)
    return pair


def _list(raw: str) -> list[str]:
    return [x for x in raw.split(",") if x]


def parse(argv: Sequence[str]) -> dict:
    """Check the ``key=value`` arguments; raise :class:`ConfigError` on the first bad one."""
    raw = dict(DEFAULTS)
    ranges: dict[str, tuple[float, float]] = {}
    for arg in argv:
        key, sep, value = arg.partition("=")
        if sep and key.startswith("range.") and len(key) > len("range."):
            ranges[key[len("range."):]] = _range(key, value)
            continue
        if not sep or key not in DEFAULTS:
            raise ConfigError(key or arg, f"not a sim-calibrate key; {USAGE}", CMD)
        raw[key] = value
    if raw["method"] not in cb.METHODS:
        raise ConfigError("method", f"must be one of {', '.join(cb.METHODS)}, got "
                          f"{raw['method']!r}", CMD)
    try:
        cutoff = dt.date.fromisoformat(raw["cutoff"]) if raw["cutoff"] else dt.date.today()
    except ValueError:
        raise ConfigError("cutoff", f"must be a date YYYY-MM-DD, got {raw['cutoff']!r}",
                          CMD) from None
    s: dict = {"origin": raw["origin"], "cutoff": cutoff, "keys": _list(raw["keys"]),
               "ranges": ranges, "method": raw["method"], "exclude": _list(raw["exclude"]),
               "facts": Path(raw["facts"]),
               "worlds": _whole(raw["worlds"], "worlds", 2, 10_000_000),
               "seed": _whole(raw["seed"], "seed", 0, 2**32 - 1),
               "thin": _whole(raw["thin"], "thin", 0, 10_000_000)}
    if raw["priors"] not in ("true", "false"):
        raise ConfigError("priors", f"must be true or false, got {raw['priors']!r}", CMD)
    s["priors"] = raw["priors"] == "true"
    opts: dict = {"batch_worlds": _whole(raw["batch_worlds"], "batch_worlds", 1, 10_000_000)}
    if raw["tolerance"]:
        opts["tolerance"] = _real(raw["tolerance"], "tolerance", -1e-300, math.inf)
    if s["method"] == "rejection":
        opts["quantile"] = _real(raw["quantile"], "quantile", 0.0, 1.0 + 1e-12)
    else:
        opts["generations"] = _whole(raw["generations"], "generations", 0, 100)
        opts["alpha"] = _real(raw["alpha"], "alpha", 0.0, 1.0)
    s["options"] = opts
    now = dt.datetime.now()
    s["out"] = (Path(raw["out"]) if raw["out"] else output_root() / "results" / "calibration"
                / now.strftime("%Y-%m-%d") / now.strftime("%H-%M-%S"))
    return s


#: The thinned posterior sample file (``thin=``).
THINNED = "posterior_thin.csv"


def write_thinned(path: Path, cal: cb.Calibration, rows: int, seed: int) -> None:
    """The posterior sample thinned to ``rows`` rows (:func:`sim.model.posterior.thin`).

    Its header is the calibration's, with ``thinned``: the rows of the full sample, the
    rows kept and the seed of the rule.
    """
    from sim.experiment.runfolder import atomic_write
    from sim.model.posterior import thin, write_posterior

    small = thin(cal.samples, rows, seed)
    header = {**cal.header(), "thinned": {"from_rows": len(cal.samples), "rows": len(small),
                                          "seed": seed, "rule": "sim.model.posterior.thin"}}
    atomic_write(path, lambda p: write_posterior(p, small, header))


def main(argv: Sequence[str] | None = None) -> int:
    """Calibrate, write the folder, print the summary and where it is."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("-h", "--help"):
        print((__doc__ or "").replace("::", ":").replace("``", "").strip() + "\n\n" + USAGE)
        return 0
    s: dict = {}
    try:
        s = parse(argv)
        facts = bt.load_facts(s["facts"])
        cal = cb.calibrate_origin(s["origin"], s["cutoff"], facts, s["keys"], s["ranges"],
                                  s["method"], s["worlds"], s["seed"], s["exclude"],
                                  priors=s["priors"], **s["options"])
        moved = cb.moved_table(cal)
        fig = prior_posterior(cal.prior, cal.samples, moved, cb.caption(cal))
        cb.write_calibration(s["out"], cal, fig)
        if s["thin"]:
            write_thinned(s["out"] / THINNED, cal, s["thin"], s["seed"])
    except (ConfigError, cb.CalibrationError, bt.BacktestError) as e:
        print(f"sim-calibrate: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"sim-calibrate: {environment_problem(e, s.get('out'))}", file=sys.stderr)
        return 1
    print(cb.markdown(cal, moved, str((s["out"] / "posterior.csv").resolve())))
    print(f"Calibration: {s['out'] / 'calibration.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
