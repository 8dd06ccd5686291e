"""Speed of the numba kernels (this checkout) against the NumPy code of another revision.

The other revision (``--base``, default ``main``) is taken with ``git archive`` into a
temporary folder. Every measurement is a fresh process with one tree first on
``PYTHONPATH``, the two trees alternating (base, kernels, base, kernels...) so that the
load of the shared machine falls on both alike; the same interpreter and libraries run
both, and their ratio is what to read. Reported:

* world-runs per second per core (one process, every thread pool pinned to one) of a
  whole run (``simulate``: build, the weekly steps, the result tables) at each
  ``--worlds``, best of ``--repeats``, and the time spent in two phases of the weekly
  step: the table (``schedule.Table.step``, the mediator's proposal) and the decisions
  (``schedule.Decisions.step``: decide, concede, reopen);
* that the two trees give the same outcomes (a hash of the worlds table);
* the same whole-run ratio in CPU time of the process (``cpu``), less sensitive to
  other load on a shared machine than the wall-clock figures;
* the kernels' compilation: the extra cost of the first small run in a fresh process with
  an empty ``NUMBA_CACHE_DIR`` (cold) and with the cache it left (warm);
* ``import sim`` and ``import sim.model.model`` (the latter imports numba).

Run with ``make bench`` or::

    .venv/bin/python benchmarks/bench_kernels.py --worlds 20000 200000 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revision import checkout

ROOT = Path(__file__).resolve().parents[1]
PINNED = {v: "1" for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                           "NUMBA_NUM_THREADS")}


# ------------------------------------------------------------------- in the worker


def worker(args: argparse.Namespace) -> None:
    """One measurement in this process; prints one JSON line."""
    if args.what == "import":
        tic = time.perf_counter()
        import sim  # noqa: F401

        t_sim = time.perf_counter() - tic
        try:
            import sim.model.model  # noqa: F401
        except ImportError:  # a revision from before sim.model was a package
            import sim.model  # noqa: F401

        print(json.dumps({"import_sim": t_sim, "import_model": time.perf_counter() - tic}))
        return
    import hashlib
    import inspect

    import numpy as np

    from sim import load_params, simulate

    # a revision from before the assumptions modes has only its point values
    mode = ({"assumptions": args.assumptions} if args.assumptions
            and "assumptions" in inspect.signature(load_params).parameters else {})
    params = load_params(args.scenario, **mode)
    if args.what == "compile":
        tic = time.perf_counter()
        simulate(params, worlds=200, seed=0, horizon_weeks=args.horizon)
        first = time.perf_counter() - tic
        tic = time.perf_counter()
        simulate(params, worlds=200, seed=0, horizon_weeks=args.horizon)
        second = time.perf_counter() - tic
        print(json.dumps({"first": first, "second": second}))
        return
    try:
        from sim.model import schedule
        phases = {"table": schedule.Table, "decisions": schedule.Decisions}
    except ImportError:  # a revision from before the mechanisms' modules: no phases
        phases = {}
    spent = dict.fromkeys(phases, 0.0)

    def timed(name: str, step):
        def run(self, model, t):
            tic = time.perf_counter()
            step(self, model, t)
            spent[name] += time.perf_counter() - tic
        return run

    for name, cls in phases.items():
        cls.step = timed(name, cls.step)
    simulate(params, worlds=200, seed=1, horizon_weeks=args.horizon)  # compile / warm-up
    spent = dict.fromkeys(phases, 0.0)
    tic, cpu = time.perf_counter(), time.process_time()
    res = simulate(params, worlds=args.worlds[0], seed=args.seed, horizon_weeks=args.horizon)
    total, cpu = time.perf_counter() - tic, time.process_time() - cpu
    h = hashlib.sha256()
    for c in sorted(res.outcomes.columns):
        v = res.outcomes[c]
        h.update(np.ascontiguousarray(v.to_numpy()).tobytes() if v.dtype.kind in "biuf"
                 else "\0".join(map(str, v.tolist())).encode())
    print(json.dumps({"total": total, "cpu": cpu, "table": float("nan"),
                      "decisions": float("nan"), **spent, "hash": h.hexdigest()[:16]}))


# ------------------------------------------------------------------- in the parent


def measure(tree: Path, extra: list[str], env: dict[str, str] | None = None) -> dict:
    """Run the worker with ``tree`` first on the path; its JSON line."""
    e = {**os.environ, **PINNED, "PYTHONPATH": str(tree), **(env or {})}
    p = subprocess.run([sys.executable, __file__, "--worker", *extra], cwd=tree, env=e,
                       capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"bench_kernels: the worker failed in {tree}:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> int:
    """Run the comparison and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="main", help="revision with the NumPy code")
    ap.add_argument("--worlds", type=int, nargs="+", default=[20_000, 200_000])
    ap.add_argument("--repeats", type=int, default=2, help="runs per tree and size")
    ap.add_argument("--horizon", type=int, default=156, help="weeks")
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--assumptions", choices=["point", "prior", "posterior"],
                    help="the runs' assumptions mode (default: the scenario's); a base "
                    "revision from before the modes runs its point values")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--what", default="run", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return 0

    common = ["--scenario", args.scenario, "--horizon", str(args.horizon),
              *(["--assumptions", args.assumptions] if args.assumptions else [])]
    report: dict = {"base": args.base, "scenario": args.scenario, "horizon": args.horizon,
                    "assumptions": args.assumptions}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"numpy": checkout(args.base, Path(tmp) / "base"), "kernels": ROOT}
        cache = Path(tmp) / "numba_cache"
        env = {"NUMBA_CACHE_DIR": str(cache)}

        # compilation: cold (empty cache), then warm (the cache it wrote)
        comp = {}
        for label in ("cold", "warm"):
            r = measure(trees["kernels"], ["--what", "compile", *common], env)
            comp[label] = r["first"] - r["second"]
        r = measure(trees["numpy"], ["--what", "compile", *common], env)
        comp["numpy_first_run_extra"] = r["first"] - r["second"]
        report["compile_s"] = comp

        imports: dict[str, dict[str, float]] = {t: {} for t in trees}
        for _ in range(5):
            for t, tree in trees.items():
                r = measure(tree, ["--what", "import"], env)
                for k, v in r.items():
                    imports[t][k] = min(imports[t].get(k, float("inf")), v)
        report["import_s"] = imports

        runs: dict = {}
        for W in args.worlds:
            best: dict[str, dict[str, float]] = {}
            hashes: dict[str, set[str]] = {t: set() for t in trees}
            pair_ratios = []
            for rep in range(args.repeats):
                got = {}
                for t, tree in trees.items():
                    r = measure(tree, ["--what", "run", "--worlds", str(W),
                                       "--seed", str(rep), *common], env)
                    got[t] = r
                    hashes[t].add(f"{rep}:{r.pop('hash')}")
                    b = best.setdefault(t, {})
                    for k, v in r.items():
                        b[k] = min(b.get(k, float("inf")), v)
                pair_ratios.append(got["numpy"]["total"] / got["kernels"]["total"])
                print(f"  {W:>7} worlds, repeat {rep}: numpy {got['numpy']['total']:.1f} s, "
                      f"kernels {got['kernels']['total']:.1f} s", flush=True)
            runs[W] = {
                "identical_outcomes": hashes["numpy"] == hashes["kernels"],
                "world_runs_per_s_per_core": {t: W / best[t]["total"] for t in trees},
                "world_runs_per_cpu_s": {t: W / best[t]["cpu"] for t in trees},
                "seconds": best,
                "speedup": {k: best["numpy"][k] / best["kernels"][k] for k in best["numpy"]},
                "speedup_pairs_min_max": [min(pair_ratios), max(pair_ratios)],
            }
        report["runs"] = runs

    print(f"\nkernels (this checkout) against the NumPy code of {args.base}; scenario "
          f"{args.scenario}, {args.horizon} weeks, assumptions "
          f"{args.assumptions or 'default'}, one core, best of {args.repeats}")
    print(f"{'worlds':>8} {'numpy /s':>10} {'kernels /s':>11} {'whole run':>10} "
          f"{'(pairs)':>13} {'table':>7} {'decisions':>10} {'cpu':>6} {'same':>5}")
    for W, r in runs.items():
        rate, sp = r["world_runs_per_s_per_core"], r["speedup"]
        lo, hi = r["speedup_pairs_min_max"]
        # a base from before the mechanisms' modules has no phases to time: "-"
        ph = {k: f"{sp[k]:.2f}x" if 0 < sp[k] < float("inf") else "-"
              for k in ("table", "decisions")}
        print(f"{W:>8} {rate['numpy']:>10.0f} {rate['kernels']:>11.0f} {sp['total']:>9.2f}x "
              f"{lo:>6.2f}-{hi:.2f}x {ph['table']:>7} {ph['decisions']:>10} "
              f"{sp['cpu']:>5.2f}x "
              f"{str(r['identical_outcomes']):>5}")
    print(f"compilation: cold {comp['cold']:.2f} s, warm (cached) {comp['warm']:.2f} s "
          f"(NumPy tree's first-run extra {comp['numpy_first_run_extra']:.2f} s)")
    for t, v in imports.items():
        print(f"{t:>8}: import sim {v['import_sim']:.3f} s, import sim.model.model "
              f"{v['import_model']:.3f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0 if all(r["identical_outcomes"] for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
