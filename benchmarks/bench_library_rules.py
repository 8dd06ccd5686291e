"""The model's own rules against their library twins: same answers, time per call.

Run: ``python benchmarks/bench_library_rules.py [--worlds 10000] [--repeat 50]``.
Prints, for ``rules.poisson_inverse`` against ``scipy.stats.poisson.ppf`` and
``rules.logistic`` against ``scipy.special.expit``, whether the outputs are identical and
the time ratio (library / ours) measured in this one run, at the incident rates the
model meets (mostly under one per week) and at larger ones.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import special, stats

from sim.model import rules


def _time(fn, repeat: int) -> float:
    t = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t) / repeat


def main() -> None:
    """Measure and print."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--worlds", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=50)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    u = rng.random(a.worlds)
    for label, lam in (("rates ~0.15/week", rng.gamma(0.3, 0.5, a.worlds)),
                       ("rates 0-60/week", rng.uniform(0.0, 60.0, a.worlds))):
        same = np.array_equal(rules.poisson_inverse(u, lam), stats.poisson.ppf(u, lam))
        ours = _time(lambda lam=lam: rules.poisson_inverse(u, lam), a.repeat)
        lib = _time(lambda lam=lam: stats.poisson.ppf(u, lam), a.repeat)
        print(f"poisson {label}: identical={same}  ours {ours * 1e3:.2f} ms  "
              f"scipy {lib * 1e3:.2f} ms  scipy/ours {lib / ours:.1f}x")
    z = rng.normal(0.0, 5.0, a.worlds)
    diff = int(np.count_nonzero(rules.logistic(z) != special.expit(z)))
    ours = _time(lambda: rules.logistic(z), a.repeat)
    lib = _time(lambda: special.expit(z), a.repeat)
    print(f"logistic: {diff} of {a.worlds} differ in the last place  ours "
          f"{ours * 1e3:.3f} ms  expit {lib * 1e3:.3f} ms  expit/ours {lib / ours:.2f}x")


if __name__ == "__main__":
    main()
