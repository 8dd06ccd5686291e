# Two commands on a fresh machine: `make run` and `make test`.
# The virtual environment is created on first use with Python 3.12 (see .python-version).
PYTHON ?= $(shell command -v python3.12 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench backtest dashboard notebooks lock clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "Python >= 3.12 is needed, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The optional extras (Ray and submitit launchers, the dashboard, JupyterLab) are installed
# too, so that `make test` runs their tests; a plain `pip install -e .` needs none of them.
# Versions come from the lock file (the ranges stay in pyproject.toml); `make lock`
# refreshes it after a change of pyproject.toml's dependencies.
EXTRAS := dev ray slurm dashboard notebooks
LOCK := requirements/test.lock

$(STAMP): pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml $(addprefix --extra ,$(EXTRAS)) --python-version 3.12 --python-platform linux --quiet -o $(LOCK)

# `make run`: a sweep over every bundled scenario (configs/scenario/*.yaml), all jobs
# with one seed so that each is compared with the baseline world by world, two jobs at a
# time. 50,000 worlds a scenario give P(sign) to within about +-0.005.
comma := ,
empty :=
space := $(empty) $(empty)
SCENARIOS := $(subst $(space),$(comma),$(sort $(basename $(notdir $(wildcard configs/scenario/*.yaml)))))
RUN_ARGS ?= worlds=50000 seed=0
# One folder per `make run` (as sim-run's default, but known here so the report can follow).
SWEEP_DIR := results/sweeps/$(shell date +%Y-%m-%d/%H-%M-%S)

run: $(STAMP)
	$(BIN)/sim-run -m scenario=$(SCENARIOS) $(RUN_ARGS) hydra/launcher=joblib hydra.launcher.n_jobs=2 hydra.sweep.dir=$(SWEEP_DIR)
	@echo "Report: $$($(BIN)/sim-report $(SWEEP_DIR))"

# Lint and type checks first (seconds), then the tests.
test: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks experiments
	$(BIN)/mypy sim
	$(BIN)/python -m pytest

# `make backtest`: score the model's forecasts from three past origins against the dated
# record (configs/backtest/facts.yaml); the scoreboard lands in results/backtest/.
backtest: $(STAMP)
	$(BIN)/sim-backtest

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks experiments
	$(BIN)/mypy sim

dashboard: $(STAMP)
	$(BIN)/sim-dashboard

# JupyterLab on this machine only; the notebooks read the latest sweep (`make run` first).
notebooks: $(STAMP)
	$(BIN)/jupyter lab --ip 127.0.0.1 notebooks/

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ensemble.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
