"""Check the claim a scenario file states in data (its ``expect:`` block).

A scenario may declare the direction it expects on named outcome measures against the
baseline (:class:`sim.experiment.config.Claims`, parsed by
:func:`sim.experiment.config.parse_claims`). :func:`check_scenario` runs the scenario and
the baseline with the same seed and the same number of worlds (common random numbers:
world ``i`` of one run is paired with world ``i`` of the other), both with the claim's
``under`` overrides applied, and for each claimed measure computes the paired difference
world by world.

Each measure is a share of worlds, read off the worlds table of
:func:`sim.experiment.api.simulate` (:func:`indicator`, :data:`MEASURE_COLUMNS`):

=====================  ====================================================================
``p_sign``             column ``signed`` (signed within the horizon)
``p_ratified``         column ``ratified`` (ratified by both parliaments within the horizon)
``p_escalation``       ``outcome == "escalation"`` (the outcome class, as the summary's
                       ``p_escalation``; equal to the ``escalated`` column, since an
                       escalation absorbs the world)
``p_government_fell``  column ``government_fell``: the government fell *at any time*,
                       also in worlds that then signed or escalated (the outcome class
                       ``government_fell`` counts only falls with nothing signed or
                       escalated)
``p_referendum_held``  column ``referendum_held`` (at least one referendum held)
``p_referendum_passed`` column ``referendum_passed``
``p_stalemate``        ``outcome == "stalemate"`` (none of the other classes at the horizon)
=====================  ====================================================================

**The interval.** With x_i, y_i in {0, 1} the scenario's and the baseline's indicators
in world i and d_i = x_i - y_i, the estimate is mean(d) and the 95 % interval the paired
normal interval mean(d) +- 1.96 sd(d) / sqrt(n), sd the sample standard deviation of the
d_i: the usual large-sample interval for a difference of paired proportions. At the
tests' 20,000 worlds its coverage is close to nominal unless the discordant worlds are
very few; with none the interval is the point 0, which never holds. A claim holds when the
whole interval lies strictly on the claimed side of zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiment.config import CLAIM_MEASURES, Claims, scenario_claims

#: Worlds a claim is checked on when it does not say (``expect.worlds``).
DEFAULT_WORLDS = 20_000
#: Seed of the paired runs.
DEFAULT_SEED = 0
#: The scenario every claim is measured against.
BASELINE = "baseline"
#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054

#: How each claimed measure is read off the worlds table: ``("column", name)`` is a
#: boolean column, ``("outcome", cls)`` the outcome class.
MEASURE_COLUMNS: dict[str, tuple[str, str]] = {
    "p_sign": ("column", "signed"),
    "p_ratified": ("column", "ratified"),
    "p_escalation": ("outcome", "escalation"),
    "p_government_fell": ("column", "government_fell"),
    "p_referendum_held": ("column", "referendum_held"),
    "p_referendum_passed": ("column", "referendum_passed"),
    "p_stalemate": ("outcome", "stalemate"),
}
assert set(MEASURE_COLUMNS) == set(CLAIM_MEASURES), "every claimable measure is mapped"


@dataclass(frozen=True)
class ClaimResult:
    """One claimed measure, paired world by world with the baseline.

    Attributes:
        scenario: The scenario that makes the claim.
        measure: A name of :data:`sim.experiment.config.CLAIM_MEASURES`.
        direction: The claimed direction, ``"up"`` or ``"down"``.
        estimate: Mean of the per-world differences (scenario minus baseline).
        low, high: The 95 % paired normal interval of the difference.
        scenario_share, baseline_share: The measure in each run.
        worlds: Paired worlds.
        under: The overrides both runs had.
    """

    scenario: str
    measure: str
    direction: str
    estimate: float
    low: float
    high: float
    scenario_share: float
    baseline_share: float
    worlds: int
    under: Mapping[str, Any]

    @property
    def holds(self) -> bool:
        """The whole interval lies strictly on the claimed side of zero."""
        return self.low > 0 if self.direction == "up" else self.high < 0

    def describe(self) -> str:
        """One line: scenario, measure, claim, estimate, interval and the verdict."""
        under = (" under " + ", ".join(f"{k}={v}" for k, v in self.under.items())
                 if self.under else "")
        return (f"{self.scenario}: {self.measure} claimed {self.direction}{under}: "
                f"{self.estimate:+.4f} [{self.low:+.4f}, {self.high:+.4f}] "
                f"({self.baseline_share:.4f} -> {self.scenario_share:.4f}, "
                f"{self.worlds} paired worlds) "
                f"{'holds' if self.holds else 'DOES NOT HOLD'}")


def indicator(outcomes: pd.DataFrame, measure: str) -> np.ndarray:
    """Each world's 0/1 value of ``measure`` (:data:`MEASURE_COLUMNS`), ``(W,)`` bool.

    Raises:
        KeyError: An unknown measure, or a table without the measure's column.
    """
    if measure not in MEASURE_COLUMNS:
        raise KeyError(f"unknown measure {measure!r}; allowed: {', '.join(CLAIM_MEASURES)}")
    kind, name = MEASURE_COLUMNS[measure]
    if kind == "outcome":
        return (outcomes["outcome"].to_numpy() == name)
    return outcomes[name].to_numpy(dtype=bool)


def paired_interval(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Mean of ``x - y`` and its 95 % paired normal interval (see the module's docstring).

    Raises:
        ValueError: Different lengths, or fewer than two pairs.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or len(x) < 2:
        raise ValueError(f"need two equal-length series of at least 2 pairs, got "
                         f"{x.shape} and {y.shape}")
    d = x - y
    est = float(d.mean())
    half = Z95 * float(d.std(ddof=1)) / math.sqrt(len(d))
    return est, est - half, est + half


def compare(scenario_outcomes: pd.DataFrame, baseline_outcomes: pd.DataFrame,
            claims: Claims, scenario: str = "scenario") -> list[ClaimResult]:
    """Each claimed measure's paired difference between two worlds tables.

    The tables are paired by their ``world`` column (the same world ids in both).

    Raises:
        ValueError: The tables do not hold the same worlds.
    """
    s = scenario_outcomes.sort_values("world")
    b = baseline_outcomes.sort_values("world")
    if not np.array_equal(s["world"].to_numpy(), b["world"].to_numpy()):
        raise ValueError("the scenario and the baseline must hold the same worlds")
    out = []
    for measure, direction in claims.directions.items():
        x, y = indicator(s, measure), indicator(b, measure)
        est, lo, hi = paired_interval(x, y)
        out.append(ClaimResult(scenario, measure, direction, est, lo, hi,
                               float(x.mean()), float(y.mean()), len(x),
                               dict(claims.under)))
    return out


def run(scenario: str, under: Mapping[str, Any], worlds: int, seed: int = DEFAULT_SEED,
        horizon_weeks: int = 156, assumptions: str | None = None) -> pd.DataFrame:
    """The worlds table of ``scenario`` with the overrides ``under`` applied.

    ``assumptions``: ``point``, ``prior`` or ``posterior`` (:mod:`sim.experiment.assumptions`);
    None: ``config.yaml``'s.
    """
    from sim.experiment.api import simulate
    from sim.experiment.config import load_params
    params = load_params(scenario, overrides=dict(under) or None, assumptions=assumptions)
    return simulate(params, worlds=worlds, seed=seed, horizon_weeks=horizon_weeks).outcomes


def _key(under: Mapping[str, Any], worlds: int, seed: int,
         assumptions: str | None = None) -> tuple:
    return (tuple(sorted((k, repr(v)) for k, v in under.items())), worlds, seed, assumptions)


def check_scenario(scenario: str, claims: Claims | None = None, *,
                   worlds: int | None = None, seed: int = DEFAULT_SEED,
                   baseline_cache: dict | None = None,
                   assumptions: str | None = None) -> list[ClaimResult]:
    """Run ``scenario`` and the baseline paired and check its claim.

    Args:
        scenario: A scenario name (``configs/scenario/<name>.yaml``).
        claims: The claim to check; default the scenario file's ``expect:`` block.
        worlds: Paired worlds; default the claim's ``worlds``, else :data:`DEFAULT_WORLDS`.
        seed: The seed of both runs.
        baseline_cache: A dict the baseline's worlds tables are kept in, keyed by the
            overrides, worlds and seed, so that scenarios with the same ``under`` share
            one baseline run.
        assumptions: Where both runs' assumptions come from (``point``, ``prior``,
            ``posterior``); None: the claim's own ``assumptions``, else the scenario's
            mode (its file's ``assumptions``, else ``config.yaml``'s), and the baseline
            is run in that mode too, so the pair differs only in the scenario. Under
            ``prior`` or ``posterior`` each world draws its assumptions, the same draws
            in both runs (the streams are the key's), so the claim is tested averaged
            over what is known of them.

    Raises:
        ConfigError: Unknown scenario, or a bad file or ``expect:`` block.
    """
    if claims is None:
        claims = scenario_claims(scenario)
        if claims is None:
            return []
    n = worlds or claims.worlds or DEFAULT_WORLDS
    mode = assumptions or claims.assumptions or scenario_mode(scenario)
    cache = baseline_cache if baseline_cache is not None else {}
    key = _key(claims.under, n, seed, mode)
    if key not in cache:
        cache[key] = run(BASELINE, claims.under, n, seed, assumptions=mode)
    return compare(run(scenario, claims.under, n, seed, assumptions=mode),
                   cache[key], claims, scenario)


def scenario_mode(scenario: str) -> str:
    """The ``assumptions`` mode a scenario runs in: its file's, else ``config.yaml``'s.

    Raises:
        ConfigError: Unknown scenario, or a bad mode (one line naming the file).
    """
    from sim.experiment.assumptions import composed_mode
    from sim.experiment.config import compose_model

    comp = compose_model(scenario)
    return composed_mode(comp.config, comp.prov)


def check_all(scenarios: Iterable[str], *, seed: int = DEFAULT_SEED,
              worlds: int | None = None) -> list[ClaimResult]:
    """:func:`check_scenario` for each scenario, sharing baseline runs."""
    cache: dict = {}
    out: list[ClaimResult] = []
    for s in scenarios:
        out.extend(check_scenario(s, seed=seed, worlds=worlds, baseline_cache=cache))
    return out
