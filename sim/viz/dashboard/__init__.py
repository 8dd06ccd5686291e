"""``sim-dashboard``: a browser page to run and look inside the model (Solara).

:mod:`sim.viz.dashboard.logic` holds everything the page computes (plain functions on
:func:`sim.experiment.config.load_params`, :func:`sim.experiment.api.simulate`,
:mod:`sim.viz.plots` and :mod:`sim.viz.report`); :mod:`sim.viz.dashboard.app` is the page;
:mod:`sim.viz.dashboard.cli` the
command. Needs the ``dashboard`` extra (``pip install -e ".[dashboard]"``).

Mesa's SolaraViz steps one model instance and draws its agents on a space; this model
is an ensemble of thousands of worlds on a leading array axis with no space, and its
answers are distributions over worlds, so the page is written with Solara directly
(the library SolaraViz is built on).
"""
