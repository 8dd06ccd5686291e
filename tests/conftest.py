"""Shared fixtures: configurations built from the bundled YAML."""

from __future__ import annotations

import copy

import pytest

from sim import compose


@pytest.fixture(scope="session")
def baseline_cfg() -> dict:
    """The composed baseline configuration as a plain dict (copy before changing)."""
    cfg, _ = compose("baseline")
    return cfg


@pytest.fixture
def cfg(baseline_cfg) -> dict:
    """A fresh, mutable copy of the baseline configuration."""
    return copy.deepcopy(baseline_cfg)
