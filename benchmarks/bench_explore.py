"""Time a Sobol exploration of the model on one core, sampling to indices.

The issue's yardstick: Sobol over 20 inputs, N = 1024, second-order indices:
N * (2D + 2) = 43,008 worlds, analysis (bootstrap intervals for five outputs) included.
The baseline's own distributions are the first inputs; the rest are numeric keys of the
composed configuration given a +-10 % range (found by walking the configuration, so the
script does not depend on today's parameter names).

With ``luck`` (the default of ``sim-explore``) the worlds' randomness is a 21st input:
N * (2 * 21 + 2) = 45,056 worlds in 44 runs of 1,024 worlds. ``--no-luck`` runs the
issue's 43,008 worlds as one model run (every world its own luck). Run::

    .venv/bin/python benchmarks/bench_explore.py            # luck on
    .venv/bin/python benchmarks/bench_explore.py --no-luck  # one run of 43,008 worlds
"""

from __future__ import annotations

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402

import yaml  # noqa: E402

from sim import compose  # noqa: E402
from sim.analysis.explore import (  # noqa: E402
    apply_ranges,
    discover_inputs,
    explore,
    model_evaluator,
    parse_explore,
)
from sim.errors import ConfigError  # noqa: E402
from sim.experiment.config import CONFIG_DIR  # noqa: E402
from sim.model.params import parse_params  # noqa: E402


def numeric_leaves(node, prefix=""):
    if isinstance(node, dict):
        if "dist" in node:
            return
        for k, v in node.items():
            yield from numeric_leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(node, float) and not isinstance(node, bool):
        yield prefix, node


def pick_ranges(cfg: dict, need: int) -> dict:
    ranges: dict = {}
    for key, v in numeric_leaves(cfg):
        if len(ranges) == need:
            break
        if key.startswith(("issues", "negotiation.initial_table")) or ".position." in key \
                or ".salience." in key or v == 0:
            continue
        trial = {**ranges, key: (v * 0.9, v * 1.1) if v > 0 else (v * 1.1, v * 0.9)}
        try:
            parse_params(apply_ranges(cfg, trial))
        except ConfigError:
            continue
        ranges = trial
    return ranges


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=20)
    ap.add_argument("--n", type=int, default=1024)
    ap.add_argument("--no-luck", action="store_true")
    ap.add_argument("--first-order", action="store_true", help="no second-order indices")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    cfg, _ = compose("baseline")
    own = len(discover_inputs(parse_params(cfg)))
    ranges = pick_ranges(cfg, args.inputs - own)
    params = parse_params(apply_ranges(cfg, ranges))
    inputs = discover_inputs(params, named=list(ranges))
    scfg = yaml.safe_load((CONFIG_DIR / "explore" / "sobol.yaml").read_text())
    scfg.update(n=args.n, luck=not args.no_luck, second_order=not args.first_order)
    settings = parse_explore(scfg)

    model = model_evaluator(params, args.seed, 156)
    spent = [0.0]

    def timed(arrays, block):
        t0 = time.perf_counter()
        out = model(arrays, block)
        spent[0] += time.perf_counter() - t0
        return out

    tic = time.perf_counter()
    ex = explore(inputs, timed, settings, args.seed)
    sim_and_analysis = time.perf_counter() - tic
    top = ex.top().head(3)
    print(json.dumps({
        "inputs": len(inputs), "luck": not args.no_luck, "n": args.n,
        "second_order": not args.first_order, "worlds": int(len(ex.u)),
        "seconds_total": round(sim_and_analysis, 2),
        "seconds_model_runs": round(spent[0], 2),
        "worlds_per_second": round(len(ex.u) / sim_and_analysis),
        "top_ST_p_sign": {r.input: [round(r.value, 3), round(r.conf, 3)]
                          for r in top.itertuples()},
        "python": platform.python_version(), "machine": platform.machine(),
    }, indent=2))


if __name__ == "__main__":
    main()
