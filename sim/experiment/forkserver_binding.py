"""Imported first by the process pool's forkserver: bind it to the process that started it.

:class:`sim.experiment.executors.ProcessPool` starts its workers from a forkserver (a clean
process that forks them). Left alone the forkserver outlives a ``kill -9`` of the run, and
so do the workers forked from it, with the run's stderr still open, so a wrapper reading
``sim-run``'s output never sees the end of it. Importing this module in the forkserver
(``set_forkserver_preload``) has the kernel kill it when the run ends, however it ends;
the workers, bound to the forkserver (:func:`sim.experiment.executors.bind_pool_worker`),
follow, and the resource tracker exits once nobody holds its pipe.

Linux only (elsewhere a no-op). The kernel's parent-death signal follows the *thread*
that started the forkserver: a pool first used from a thread that ends before the run
would lose its forkserver with that thread (``sim-run`` and the library start it from
the thread that runs the blocks). Imported anywhere but from a forkserver's start-up
(told by its call stack), it does nothing.
"""

from __future__ import annotations

import os
import sys


def _in_forkserver() -> bool:
    """Whether this import comes from the forkserver's preload (a frame of its main)."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_globals.get("__name__") == "multiprocessing.forkserver":
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _bind() -> None:
    if not _in_forkserver():
        return
    from sim.experiment.executors import set_parent_death_signal

    parent = os.getppid()
    set_parent_death_signal()
    if os.getppid() != parent:  # the run ended before the signal was set
        os._exit(1)


_bind()
