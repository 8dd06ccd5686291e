"""Command line: the Hydra app ``sim-run`` and its sweep summary.

This is the only part of :mod:`sim` that imports Hydra. The app composes a
configuration, checks it once (:mod:`sim.cli.compose`, :mod:`sim.cli.schema`) and hands
plain typed objects to :func:`sim.api.simulate`.
"""
