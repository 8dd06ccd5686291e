"""Command line: the Hydra app ``sim-run`` and its sweep summary.

This is the only part of :mod:`sim` that imports Hydra. The app composes a
configuration, checks it once (:mod:`sim.cli.compose`, :mod:`sim.experiment.settings`) and hands
plain typed objects to :func:`sim.experiment.api.simulate`.
"""

from sim.cli import fastyaml
from sim.experiment.executors import ray_private_defaults

# `hydra/launcher=ray` starts a local Ray. Unless the user says otherwise, Ray does not
# report usage, and runs in its single-machine mode, where all its services listen on
# 127.0.0.1 only (README, "Running on a cluster", says how to join a real cluster).
ray_private_defaults()

# Hydra reads YAML through OmegaConf's pure-Python loader; the same loader on libyaml
# parses the same documents several times faster (a sweep job's start-up halves).
fastyaml.install()
