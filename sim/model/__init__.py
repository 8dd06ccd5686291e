"""The model's pure mechanisms: no I/O, no Hydra.

``model`` (:class:`~sim.model.model.PeaceModel`) runs the weekly ``schedule`` of
mechanisms (interface in ``mechanism``) over the shared ``state`` of every world; the
actors are Mesa agents (``agents``); ``rules`` holds the pure formulas, ``params`` the
schema (spec and drawn types), ``codes`` the named codes and outcome classes, and
``outputs`` the registry of every declared series and column.
"""
