#!/usr/bin/env bash
# Study: how likely is signing under each bundled scenario, and how does each differ
# from the baseline? Behind the README's scenario-comparison figure
# (docs/figures/scenario_comparison.png).
#
# Regenerate (from the repository root, after `make run` or `pip install -e .`):
#     bash experiments/scenario_comparison/run.sh
#
# Config: every scenario in configs/scenario/, 50,000 worlds each, one seed for all jobs
# (common random numbers, so each scenario is compared with the baseline world by
# world), the configured horizon (156 weeks), two jobs at a time. Change WORLDS or SEED
# in the environment to vary it. The sweep resumes: finished jobs are not run again.
set -euo pipefail
cd "$(dirname "$0")/../.."

WORLDS="${WORLDS:-50000}"
SEED="${SEED:-0}"
OUT="results/experiments/scenario_comparison"
SCENARIOS="$(ls configs/scenario/*.yaml | xargs -n1 basename | sed 's/\.yaml$//' | paste -sd, -)"

.venv/bin/sim-run -m "scenario=${SCENARIOS}" "worlds=${WORLDS}" "seed=${SEED}" quiet=true \
    hydra/launcher=joblib hydra.launcher.n_jobs=2 "hydra.sweep.dir=${OUT}"
.venv/bin/sim-report "${OUT}"
mkdir -p docs/figures
cp "${OUT}/report/p_sign.png" docs/figures/scenario_comparison.png
cp "${OUT}/report/differences.png" docs/figures/scenario_differences.png
echo "figures: docs/figures/scenario_comparison.png docs/figures/scenario_differences.png"
