"""Border incidents: a discrete-time self-exciting (Hawkes) process.

Weekly counts ``n_t ~ Poisson(lambda_t)`` with ``lambda_t = mu_t + h_t``; the
excitation ``h`` decays geometrically and jumps with each incident. The background rate
``mu_t`` is damped by monitors and raised by tension and spoiling. Each week's incidents
have a severity (beta) and an attribution that is contested (with probability
``ambiguity``) or clear; contested incidents do full damage to tension and trust.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from sim import rules


class BorderProcess:
    """Hawkes incident process for every world.

    Attributes:
        h: Excitation, ``(W,)`` incidents/week.
        count: This week's incidents, ``(W,)``.
        damage: This week's damage (severity-weighted, attribution-adjusted), ``(W,)``.
        fatalities: This week's fatalities, ``(W,)``.
    """

    def __init__(self, params, W: int, rng: np.random.Generator,
                 severity_rng: np.random.Generator):
        self.p = params
        self.W = W
        self.rng = rng
        # severity has a stream of its own (one uniform per world and week)
        self.severity_rng = severity_rng
        self.alpha, self.delta = rules.hawkes_kernel(params.branching_ratio,
                                                     params.decay_weeks)
        mean, conc = params.severity_mean, params.severity_concentration
        self.sev_a = np.broadcast_to(np.asarray(mean * conc, float), (W,))
        self.sev_b = np.broadcast_to(np.asarray((1.0 - mean) * conc, float), (W,))
        amb = params.investigation_ambiguity if params.investigation_mechanism \
            else params.ambiguity
        self.ambiguity = amb
        self.h = np.zeros(W)
        self.count = np.zeros(W, dtype=np.int64)
        self.contested = np.zeros(W, dtype=bool)
        self.damage = np.zeros(W)
        self.fatalities = np.zeros(W, dtype=np.int64)
        self.severity = np.zeros(W)

    def base_rate(self, monitor_damping, tension, spoiling):
        """``mu_t = mu (1 - damping) (1 + g_T T) (1 + g_S sigma)``."""
        p = self.p
        return (p.base_rate * (1.0 - monitor_damping) * (1.0 + p.tension_gain * tension)
                * (1.0 + p.spoiler_gain * spoiling))

    def step(self, mu: np.ndarray) -> None:
        """Draw this week's incidents given the background rate ``mu`` (``(W,)``).

        Every random number is drawn for every world (fixed shapes: common random
        numbers); severity and fatalities, which matter only in worlds with incidents,
        are computed there only. Severity is the beta quantile of a uniform (inversion),
        so it too stays paired when the severity parameters change.
        """
        u = self.rng.random((3, self.W))
        u_sev = self.severity_rng.random(self.W)
        lam = mu + self.h
        n = rules.poisson_inverse(u[0], lam)
        self.count = n
        self.contested = u[1] < self.ambiguity
        sev = np.zeros(self.W)
        fatalities = np.zeros(self.W, dtype=np.int64)
        hit = np.flatnonzero(n)
        if hit.size:
            sev[hit] = special.betaincinv(self.sev_a[hit], self.sev_b[hit], u_sev[hit])
            rate = rules.take(self.p.fatality_rate, hit) * n[hit] * sev[hit]
            fatalities[hit] = rules.poisson_inverse(u[2, hit], rate)
        self.severity = sev
        weight = np.where(self.contested, 1.0, self.p.clear_damage)
        self.damage = n * sev * weight
        self.fatalities = fatalities
        self.h = self.delta * self.h + self.alpha * n
