"""``make run`` until the scenario CLI exists: the baseline's P(sign) with its interval."""

from __future__ import annotations

import sys

from sim import ConfigError, load_params, simulate


def main() -> int:
    """Run the baseline scenario and print P(sign) with its 95 % Wilson interval."""
    try:
        params = load_params("baseline")
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    res = simulate(params, worlds=20000, seed=0, horizon_weeks=156)
    s = res.summary()
    print(f"baseline: P(sign within 156 weeks) = {s['p_sign']:.3f} "
          f"(95% CI {s['ci_low']:.3f}-{s['ci_high']:.3f}, {s['worlds']} worlds, seed 0)")
    for k, v in s["outcome_shares"].items():
        print(f"  {k:16s} {v:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
