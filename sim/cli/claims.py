"""``sim-claims``: check the claim each scenario file states (its ``expect:`` block).

Examples::

    sim-claims                          # every scenario with a claim
    sim-claims nash_rule opposition_surge
    sim-claims worlds=5000 seed=3 eu_monitors_leave
    sim-claims assumptions=posterior    # averaged over the posterior of the assumptions

Each claimed measure is printed with its paired difference against the baseline, its
95 % interval and whether it holds (:mod:`sim.analysis.claims`). A bare word is a
scenario; ``worlds=`` and ``seed=`` set the runs (default: each claim's ``worlds``, else
20,000; seed 0); ``assumptions=point|prior|posterior`` where both runs' assumptions
come from (default: the claim's own ``assumptions``, else the scenario's mode, its file's
or ``config.yaml``'s ``posterior``; the baseline runs in the same mode). A mistake (an
unknown scenario or key) is one line on stderr and exit status 2; a scenario that cannot
run with the given settings (``assumptions=posterior`` for one that starts before the
posterior's cut-off) is one line on stderr, the others are still checked, and the exit
status is 2; exit status 1 when a claim does not hold.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sim.analysis import claims as cl
from sim.errors import ConfigError
from sim.experiment.config import CONFIG_DIR, scenario_claims

USAGE = ("usage: sim-claims [worlds=N] [seed=N] [assumptions=point|prior|posterior] "
         "[scenario ...]")


def scenario_names() -> list[str]:
    """Every scenario file's name, sorted."""
    return sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml"))


def parse(argv: Sequence[str]) -> tuple[list[str], int | None, int, str | None]:
    """Scenarios, worlds, seed and assumptions mode from the arguments.

    Raises:
        ConfigError: A bad argument (one line naming it and what is allowed).
    """
    from sim.experiment.assumptions import check_mode

    known = scenario_names()
    scenarios: list[str] = []
    worlds, seed = None, cl.DEFAULT_SEED
    mode: str | None = None
    for arg in argv:
        key, sep, value = arg.partition("=")
        if sep and key == "assumptions":
            mode = check_mode(value, "command line")
        elif sep:
            if key not in ("worlds", "seed"):
                raise ConfigError(key, f"not a sim-claims key; {USAGE}", "command line")
            lo = 100 if key == "worlds" else 0
            if not value.isdigit() or not lo <= int(value) <= 1_000_000:
                raise ConfigError(key, f"must be a whole number in [{lo}, 1000000], got "
                                  f"{value!r}", "command line")
            if key == "worlds":
                worlds = int(value)
            else:
                seed = int(value)
        elif arg not in known:
            raise ConfigError("scenario", f"unknown scenario {arg!r}; known: "
                              f"{', '.join(known)}", "command line")
        else:
            scenarios.append(arg)
    return scenarios or known, worlds, seed, mode


def main(argv: Sequence[str] | None = None) -> int:
    """Print each claim's estimate and interval; 0 if all hold, 1 if not, 2 on a mistake."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a in ("-h", "--help") for a in argv):
        print(__doc__.strip().splitlines()[0])
        print(USAGE)
        return 0
    try:
        scenarios, worlds, seed, mode = parse(argv)
        for s in scenarios:
            scenario_claims(s)  # a bad file or expect: block stops before any run
    except ConfigError as e:
        print(f"sim-claims: {e}", file=sys.stderr)
        return 2
    cache: dict = {}
    ok, refused = True, False
    for s in scenarios:
        if scenario_claims(s) is None:
            print(f"{s}: states no claim")
            continue
        try:
            results = cl.check_scenario(s, worlds=worlds, seed=seed, baseline_cache=cache,
                                        assumptions=mode)
        except ConfigError as e:  # this scenario cannot run so (e.g. a later posterior)
            print(f"sim-claims: {s}: {e}", file=sys.stderr, flush=True)
            refused = True
            continue
        for r in results:
            print(r.describe(), flush=True)
            ok &= r.holds
    return 2 if refused else 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
