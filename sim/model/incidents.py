"""Border incidents: a latent self-exciting (Hawkes) process seen through two reporters.

Weekly latent counts ``n_t ~ Poisson(lambda_t)`` with ``lambda_t = mu_t + b_t + h_t``;
the excitation ``h`` decays geometrically and jumps with each incident, ``b_t`` is an
exogenous burst of stated length. The background rate ``mu_t`` is damped by monitors and
raised by tension and spoiling. Each latent incident is initiated by one side (binomial
split); each side reports mostly the other's violations, at its own rate, so reported
counts differ between sources. Each week's incidents have a severity (beta) and an
attribution that is contested (with probability ``ambiguity``) or clear; contested
incidents do full damage. Each side's damage is what it perceives: its own reports.
"""

from __future__ import annotations

import numpy as np

from sim.model import kernels, rules
from sim.model.agents import per_world
from sim.model.params import IncidentParams


class BorderProcess:
    """Latent Hawkes incident process and the two sides' reports, for every world.

    Args:
        params: Incident parameters (drawn per world).
        W: Worlds.
        rng: Stream of the weekly draws (six uniforms per world and week).
        severity_rng: Stream of the severities (one uniform per world and week).
        sides: Names of the two signatories, the domestic-politics side first.

    Attributes:
        h: Excitation, ``(W,)`` incidents/week.
        count: This week's latent incidents, ``(W,)``.
        initiated: This week's latent incidents initiated by each side, ``(2, W)``.
        reports: This week's reports by each side, ``(2, W)`` (side 0 the domestic one).
        damage: This week's damage perceived by each side, ``(2, W)``.
        fatalities: This week's fatalities, ``(W,)``.
    """

    def __init__(self, params: IncidentParams[np.ndarray], W: int, rng: np.random.Generator,
                 severity_rng: np.random.Generator, sides: tuple[str, str]):
        self.p = params
        self.W = W
        self.rng = rng
        # severity has a stream of its own (one uniform per world and week)
        self.severity_rng = severity_rng
        alpha, delta = rules.hawkes_kernel(params.branching_ratio, params.decay_weeks)
        self.alpha, self.delta = per_world(alpha, W), per_world(delta, W)
        mean, conc = params.severity_mean, params.severity_concentration
        self.sev_a = mean * conc
        self.sev_b = (1.0 - mean) * conc
        amb = params.investigation_ambiguity if params.investigation_mechanism \
            else params.ambiguity
        self.ambiguity = per_world(amb, W)
        # per-world contiguous copies for the kernels (:meth:`step`)
        self._fatality_rate = per_world(params.fatality_rate, W)
        self._admission = per_world(params.admission, W)
        self._clear_damage = per_world(params.clear_damage, W)
        s0 = params.initiator_share[sides[0]]
        s1 = params.initiator_share[sides[1]]
        tot = s0 + s1
        self.share0 = per_world(np.divide(s0, tot, out=np.full_like(tot, 0.5),
                                          where=tot > 0), W)
        self.report_rate = np.ascontiguousarray(
            np.stack([per_world(params.report_rate[n], W) for n in sides]))
        self.h = np.zeros(W)
        self.count = np.zeros(W, dtype=np.int64)
        self.initiated = np.zeros((2, W), dtype=np.int64)
        self.reports = np.zeros((2, W), dtype=np.int64)
        self.contested = np.zeros(W, dtype=bool)
        self.damage = np.zeros((2, W))
        self.fatalities = np.zeros(W, dtype=np.int64)
        self.severity = np.zeros(W)

    def base_rate(self, monitor_damping, tension, spoiling, week: int = 0):
        """``mu_t = mu (1 - damping) (1 + g_T T) (1 + g_S sigma) + burst_t``.

        ``burst_t = burst_rate`` in the weeks ``[burst_start_week, burst_start_week +
        burst_weeks)`` and 0 otherwise (a transient shock; the excitation it leaves decays
        with the kernel).
        """
        p = self.p
        mu = (p.base_rate * (1.0 - monitor_damping) * (1.0 + p.tension_gain * tension)
              * (1.0 + p.spoiler_gain * spoiling))
        if p.burst_start_week <= week < p.burst_start_week + p.burst_weeks:
            mu = mu + p.burst_rate
        return mu

    def step(self, mu: np.ndarray, spiral_damping: np.ndarray | float = 0.0,
             settled: np.ndarray | float = 0.0) -> None:
        """Draw this week's latent incidents and reports given the background rate ``mu``.

        Monitors present this week remove a share ``spiral_damping`` of each incident's
        excitation jump (an observed incident is answered less) and settle a share
        ``settled`` of the contested attributions (see ``docs/model.md``, 7.8).

        Every random number is drawn for every world (fixed shapes: common random
        numbers); the split by initiator, reports, severity and fatalities, which matter
        only in worlds with incidents, are computed there only. Severity is the beta
        quantile of a uniform (inversion), so it too stays paired when the severity
        parameters change.
        """
        W = self.W
        u = self.rng.random((6, W))
        u_sev = self.severity_rng.random(W)
        n = rules.poisson_inverse(u[0], mu + self.h)
        self.count = n
        sev = np.zeros(W)
        hit = np.flatnonzero(n)
        if hit.size:
            from scipy import special  # loaded on first use (start-up time)

            sev[hit] = special.betaincinv(self.sev_a[hit], self.sev_b[hit], u_sev[hit])
        # the split by initiator and the rates in one pass over the worlds with incidents
        # (kernels.incident_rates), exp in NumPy (its SIMD exp: the record's last bits),
        # then the counts, contests, damage and excitation in one pass over every world
        rates, i0 = kernels.incident_rates(hit, n, sev, self._fatality_rate, u[3],
                                           self.share0, self._admission, self.report_rate)
        (self.fatalities, self.initiated, self.reports, self.contested, self.damage,
         self.h) = kernels.incident_outcomes(
            hit, n, u, rates, np.exp(-rates), i0, sev, self.ambiguity, per_world(settled, W),
            self._clear_damage, self.h, self.delta, self.alpha, per_world(spiral_damping, W),
            rules.POISSON_MAX_COUNT)
        self.severity = sev
