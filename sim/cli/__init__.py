"""Command line: the Hydra app ``sim-run`` and its sweep summary.

This is the only part of :mod:`sim` that imports Hydra. The app composes a
configuration, checks it once (:mod:`sim.cli.compose`, :mod:`sim.settings`) and hands
plain typed objects to :func:`sim.api.simulate`.
"""

import os

# `hydra/launcher=ray` starts a local Ray. Unless the user says otherwise, Ray does not
# report usage, and runs in its single-machine mode, where all its services listen on
# 127.0.0.1 only (README, "Running on a cluster", says how to join a real cluster).
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

# Hydra reads YAML through OmegaConf's pure-Python loader; the same loader on libyaml
# parses the same documents several times faster (a sweep job's start-up halves).
from sim.cli import fastyaml  # noqa: E402

fastyaml.install()
