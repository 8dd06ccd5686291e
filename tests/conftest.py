"""Shared fixtures: configurations built from the bundled YAML."""

from __future__ import annotations

import copy
import os

import pytest

from sim import compose

# Tests measure the memory guard's block cost in their own process, as before it was kept
# on disk (a kept cost would skip the probe's warm-up, which the peak tests rely on, and
# a file from another checkout's run would be shared); test_memory_guard tests the file.
os.environ["SIM_COST_CACHE"] = ""


@pytest.fixture(scope="session")
def baseline_cfg() -> dict:
    """The composed baseline configuration as a plain dict (copy before changing)."""
    cfg, _ = compose("baseline")
    return cfg


@pytest.fixture
def cfg(baseline_cfg) -> dict:
    """A fresh, mutable copy of the baseline configuration."""
    return copy.deepcopy(baseline_cfg)
