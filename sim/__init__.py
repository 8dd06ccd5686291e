"""Ensemble-vectorised agent-based model of the Armenia–Azerbaijan peace process.

The core (this package but :mod:`sim.cli`) never imports Hydra: configurations become
typed objects at the boundary (:func:`load_params`) and the model takes plain objects.

The names below are imported when first used (module ``__getattr__``), so ``import
sim`` (and every ``import sim.<module>``, which runs this file first) costs next to
nothing: NumPy, pandas, SciPy and Mesa load with the module that needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.errors import ConfigError
    from sim.experiment.api import OUTCOMES, Result, simulate, summarise
    from sim.experiment.config import CONFIG_DIR, compose, load_params, scenarios
    from sim.model.model import PeaceModel
    from sim.model.params import ModelParams, parse_params

#: Where each public name lives.
_HOMES = {
    "CONFIG_DIR": "sim.experiment.config",
    "ConfigError": "sim.errors",
    "ModelParams": "sim.model.params",
    "OUTCOMES": "sim.experiment.api",
    "PeaceModel": "sim.model.model",
    "Result": "sim.experiment.api",
    "compose": "sim.experiment.config",
    "load_params": "sim.experiment.config",
    "parse_params": "sim.model.params",
    "scenarios": "sim.experiment.config",
    "simulate": "sim.experiment.api",
    "summarise": "sim.experiment.api",
}

__all__ = [
    "CONFIG_DIR",
    "ConfigError",
    "ModelParams",
    "OUTCOMES",
    "PeaceModel",
    "Result",
    "compose",
    "load_params",
    "parse_params",
    "scenarios",
    "simulate",
    "summarise",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Import a public name from its home module on first use."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
