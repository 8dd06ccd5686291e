#!/usr/bin/env bash
# Study: which assumptions does the headline P(sign) hinge on, and what must be true for
# a deal? Behind the README's sensitivity section (docs/sensitivity.md and
# docs/figures/sensitivity_*.png).
#
# Regenerate (from the repository root, after `make test` or `pip install -e .`):
#     bash experiments/sensitivity/run.sh
#
# Config: the baseline scenario; inputs are its per-world distributions (whatever the
# scenario draws today, found by sim-explore) plus the worlds' own luck.
#   1. Sobol indices, N = 1024 base samples, second order, seed 0 (N * (2D + 2) worlds);
#   2. PRIM on a fresh run of 20,000 worlds, seed 0: where are signed worlds concentrated?
# Change N, WORLDS or SEED in the environment to vary it. About a minute on one core.
set -euo pipefail
cd "$(dirname "$0")/../.."

N="${N:-1024}"
WORLDS="${WORLDS:-20000}"
SEED="${SEED:-0}"
OUT="results/experiments/sensitivity"
rm -rf "${OUT}"

.venv/bin/sim-explore explore=sobol "explore.n=${N}" explore.precision=null "seed=${SEED}" quiet=true \
    "hydra.run.dir=${OUT}/sobol"
.venv/bin/sim-explore explore=prim "worlds=${WORLDS}" "seed=${SEED}" quiet=true \
    "hydra.run.dir=${OUT}/prim"
.venv/bin/sim-report "${OUT}/sobol" >/dev/null
.venv/bin/sim-report "${OUT}/prim" >/dev/null

mkdir -p docs/figures
cp "${OUT}/sobol/report/sensitivity_signed.png" docs/figures/sensitivity_sobol.png
cp "${OUT}/prim/report/prim_trajectory.png" docs/figures/sensitivity_prim.png
.venv/bin/python - "${OUT}" <<'PY'
import json
import sys
from pathlib import Path

out = Path(sys.argv[1])
sobol = json.loads((out / "sobol" / "exploration.json").read_text())
prim = json.loads((out / "prim" / "exploration.json").read_text())
h = sobol["headline"]
lines = [
    "<!-- written by experiments/sensitivity/run.sh; do not edit by hand -->",
    f"Baseline, seed {sobol['seed']}, Sobol N = {sobol['n']} ({sobol['worlds']:,} worlds), "
    f"git `{(sobol['git_revision'] or '?')[:7]}`. Over the design's worlds: "
    f"P(sign) {h['mean_signed']:.3f}, by 12 months {h['mean_signed_12m']:.3f}, "
    f"by 24 months {h['mean_signed_24m']:.3f}, P(escalation) {h['mean_escalated']:.3f}, "
    f"median weeks to signing (censored at {sobol['horizon_weeks']}) "
    f"{h['median_weeks_to_sign_censored']:g}.",
    "",
    (out / "sobol" / "ranking.md").read_text().strip(),
    "",
    f"**What must be true for a deal** (PRIM on {prim['worlds']:,} worlds of a fresh run, "
    f"seed {prim['seed']}): {prim['box']['words']}.",
    "",
]
Path("docs/sensitivity.md").write_text("\n".join(lines), encoding="utf-8")
PY
echo "written: docs/sensitivity.md docs/figures/sensitivity_sobol.png docs/figures/sensitivity_prim.png"
