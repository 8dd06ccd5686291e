"""Parameter distributions drawn once per world.

Any scalar model parameter may be given in YAML as a distribution instead of a number::

    base_rate: {dist: uniform, low: 0.3, high: 0.8}
    fall_base_hazard: {dist: loguniform, low: 0.0001, high: 0.001}
    reservation: {dist: normal, mean: 0.55, sd: 0.05}
    support: {dist: beta, a: 9, b: 11}
    decay_weeks: {dist: triangular, low: 2, mode: 3, high: 6}
    base_rate: {dist: posterior, file: posterior.csv, column: incidents.base_rate}

Each world draws its own value at the start of a run, so one run integrates over the
uncertainty, and the drawn values are kept with the outcomes. Draws are clipped to the
key's allowed range (only a normal can leave it; its mean must lie inside).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.errors import ConfigError

#: Parameters each distribution takes.
DIST_ARGS: dict[str, tuple[str, ...]] = {
    "uniform": ("low", "high"),
    "loguniform": ("low", "high"),  # log x uniform on [log low, log high]; low > 0
    "normal": ("mean", "sd"),
    "beta": ("a", "b"),
    "triangular": ("low", "mode", "high"),
    "posterior": ("file", "column"),  # a calibration's sample: sim.model.posterior
}


@dataclass(frozen=True)
class Dist:
    """A distribution of one scalar parameter across worlds.

    Attributes:
        kind: One of ``uniform``, ``loguniform``, ``normal``, ``beta``, ``triangular``.
        args: The distribution's parameters (see :data:`DIST_ARGS`).
        lo: Lower bound of the key's allowed range (draws are clipped to it).
        hi: Upper bound of the key's allowed range.
    """

    kind: str
    args: tuple[tuple[str, float], ...]
    lo: float = -math.inf
    hi: float = math.inf

    def arg(self, name: str) -> float:
        """Return the named parameter."""
        return dict(self.args)[name]

    def known_from(self) -> str:
        """ISO date from which a scenario may draw from this law; ``""``: any date.

        A law learnt from the dated record (:class:`sim.model.posterior.PosteriorDist`)
        is known only from its calibration's cut-off on.
        """
        return ""

    def shared_stream(self) -> str:
        """The stream of a draw this law shares with other keys; ``""``: it draws alone.

        Keys drawn from one posterior sample file share its rows
        (:class:`sim.model.posterior.PosteriorDist`): :func:`sim.model.state.
        draw_parameters` draws them once per run from this stream (:meth:`shared_draw`)
        and gives each key its column at them (:meth:`from_shared`).
        """
        return ""

    def shared_draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """The shared draw for ``n`` worlds (a law with a :meth:`shared_stream`)."""
        raise NotImplementedError(f"a {self.kind} law draws alone")

    def from_shared(self, draw: np.ndarray) -> np.ndarray:
        """This key's values at a shared draw (a law with a :meth:`shared_stream`)."""
        raise NotImplementedError(f"a {self.kind} law draws alone")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values (one per world) from ``rng``, clipped to the allowed range."""
        a = dict(self.args)
        if self.kind == "uniform":
            x = rng.uniform(a["low"], a["high"], n)
        elif self.kind == "loguniform":
            x = np.exp(rng.uniform(math.log(a["low"]), math.log(a["high"]), n))
        elif self.kind == "normal":
            x = rng.normal(a["mean"], a["sd"], n)
        elif self.kind == "beta":
            x = rng.beta(a["a"], a["b"], n)
        else:
            x = rng.triangular(a["low"], a["mode"], a["high"], n)
        return np.clip(x, self.lo, self.hi)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Values at quantiles ``u`` in [0, 1] (inverse CDF), clipped to the allowed range.

        Maps a unit-hypercube design (:mod:`sim.analysis.explore`) onto this distribution, so a
        designed value at quantile ``u`` follows the same law as :meth:`sample`. A
        normal's quantiles are taken in [0.001, 0.999] so its ends stay finite.
        """
        from scipy import stats

        a = dict(self.args)
        u = np.asarray(u, dtype=float)
        if self.kind == "uniform":
            x = a["low"] + u * (a["high"] - a["low"])
        elif self.kind == "loguniform":
            x = a["low"] * (a["high"] / a["low"]) ** u
        elif self.kind == "normal":
            x = stats.norm.ppf(np.clip(u, 0.001, 0.999), a["mean"], a["sd"])
        elif self.kind == "beta":
            x = stats.beta.ppf(u, a["a"], a["b"])
        else:
            width = a["high"] - a["low"]
            x = stats.triang.ppf(u, (a["mode"] - a["low"]) / width, a["low"], width)
        return np.clip(x, self.lo, self.hi)

    def support(self) -> tuple[float, float]:
        """Smallest interval holding every draw (before clipping to the key's range)."""
        a = dict(self.args)
        if self.kind in ("uniform", "loguniform", "triangular"):
            return a["low"], a["high"]
        if self.kind == "beta":
            return 0.0, 1.0
        return -math.inf, math.inf  # normal

    def mean(self) -> float:
        """Mean of the distribution before clipping (used for summaries only)."""
        a = dict(self.args)
        if self.kind == "uniform":
            return (a["low"] + a["high"]) / 2
        if self.kind == "loguniform":
            return (a["high"] - a["low"]) / math.log(a["high"] / a["low"])
        if self.kind == "normal":
            return a["mean"]
        if self.kind == "beta":
            return a["a"] / (a["a"] + a["b"])
        return (a["low"] + a["mode"] + a["high"]) / 3


def parse_dist(value: dict, key: str, lo: float, hi: float) -> Dist:
    """Validate a YAML mapping such as ``{dist: uniform, low: 0, high: 1}``.

    Args:
        value: The mapping from the config.
        key: Dotted key, for error messages.
        lo: Lowest value the key allows.
        hi: Highest value the key allows.

    Raises:
        ConfigError: Unknown distribution, missing or extra parameters, or parameters
            that are impossible or put the distribution outside the allowed range.
    """
    kind = value.get("dist")
    if kind not in DIST_ARGS:
        raise ConfigError(key, f"unknown distribution {kind!r}; allowed: {', '.join(DIST_ARGS)}")
    if kind == "posterior":
        from sim.model.posterior import parse_posterior
        return parse_posterior(value, key, lo, hi)
    names = DIST_ARGS[kind]
    extra = sorted(set(value) - {"dist", *names})
    missing = [n for n in names if n not in value]
    if extra or missing:
        raise ConfigError(
            key, f"a {kind} distribution takes exactly {', '.join(names)}"
            + (f"; missing {', '.join(missing)}" if missing else "")
            + (f"; unknown {', '.join(extra)}" if extra else "")
        )
    args = {}
    for n in names:
        v = value[n]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise ConfigError(f"{key}.{n}", f"must be a finite number, got {v!r}")
        args[n] = float(v)
    rng_txt = f"[{lo:g}, {hi:g}]"
    if kind in ("uniform", "loguniform"):
        if not args["low"] < args["high"]:
            raise ConfigError(key, f"{kind} needs low < high, got {args['low']:g}, "
                              f"{args['high']:g}")
        if kind == "loguniform" and args["low"] <= 0:
            raise ConfigError(key, f"loguniform needs low > 0, got {args['low']:g}")
        if args["low"] < lo or args["high"] > hi:
            raise ConfigError(key, f"{kind} support must lie in {rng_txt}")
    elif kind == "normal":
        if args["sd"] <= 0:
            raise ConfigError(key, f"normal needs sd > 0, got {args['sd']:g}")
        if not lo <= args["mean"] <= hi:
            raise ConfigError(key, f"normal mean must lie in {rng_txt}, got {args['mean']:g}")
    elif kind == "beta":
        if args["a"] <= 0 or args["b"] <= 0:
            raise ConfigError(key, "beta needs a > 0 and b > 0")
        if lo > 0 or hi < 1:
            raise ConfigError(key, f"a beta distribution lies in [0, 1], the key allows {rng_txt}")
    else:
        if not (args["low"] <= args["mode"] <= args["high"] and args["low"] < args["high"]):
            raise ConfigError(key, "triangular needs low <= mode <= high and low < high")
        if args["low"] < lo or args["high"] > hi:
            raise ConfigError(key, f"triangular support must lie in {rng_txt}")
    return Dist(kind, tuple(args.items()), lo, hi)
