# Two commands on a fresh machine: `make run` and `make test`.
# The virtual environment is created on first use with Python 3.12 (see .python-version).
PYTHON ?= $(shell command -v python3.12 2>/dev/null || echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 12), "Python >= 3.12 is needed, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m sim.quickstart

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks experiments

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ensemble.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
