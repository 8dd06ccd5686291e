"""Border incidents: a discrete-time self-exciting (Hawkes) process.

Weekly counts ``n_t ~ Poisson(lambda_t)`` with ``lambda_t = mu_t + h_t``; the
excitation ``h`` decays geometrically and jumps with each incident. The background rate
``mu_t`` is damped by monitors and raised by tension and spoiling. Each week's incidents
have a severity (beta) and an attribution that is contested (with probability
``ambiguity``) or clear; contested incidents do full damage to tension and trust.
"""

from __future__ import annotations

import numpy as np

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
        # the beta sampler uses a varying number of raw draws per value: on a stream of
        # its own it cannot shift the counts' uniforms when severity parameters change
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
        """Draw this week's incidents given the background rate ``mu`` (``(W,)``)."""
        u = self.rng.random((3, self.W))
        sev = self.severity_rng.beta(self.sev_a, self.sev_b)
        lam = mu + self.h
        n = rules.poisson_inverse(u[0], lam)
        self.count = n
        self.severity = sev
        self.contested = u[1] < self.ambiguity
        weight = np.where(self.contested, 1.0, self.p.clear_damage)
        self.damage = n * sev * weight
        self.fatalities = rules.poisson_inverse(u[2], self.p.fatality_rate * n * sev)
        self.h = self.delta * self.h + self.alpha * n
