"""Ensemble-vectorised agent-based model of the Armenia–Azerbaijan peace process.

The core (this package but :mod:`sim.cli`) never imports Hydra: configurations become
typed objects at the boundary (:func:`load_params`) and the model takes plain objects.
"""

from sim.errors import ConfigError
from sim.experiment.api import OUTCOMES, Result, simulate, summarise
from sim.experiment.config import CONFIG_DIR, compose, load_params, scenarios
from sim.model.model import PeaceModel
from sim.model.params import ModelParams, parse_params

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
