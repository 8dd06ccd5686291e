"""Parallel jobs die with ``sim-run``: worker processes tied to their parent's life.

The joblib launcher runs a sweep's jobs in loky worker processes. By default they
outlive a killed ``sim-run`` (``kill -9`` or SIGTERM) and go on writing job folders.
:func:`install` replaces joblib's ``loky`` backend by one whose workers run
:func:`bind_to_parent` first: on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` has the
kernel kill the worker the moment its parent ends, however it ends. A worker whose
parent is already gone when it starts exits at once. Elsewhere this is a no-op.

The Hydra launcher is unchanged (it asks joblib for ``backend="loky"``); only the class
joblib registers under that name is ours.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from sim.experiment.executors import bind_to_parent


def install() -> None:
    """Register the parent-bound loky backend under joblib's name ``loky``.

    Call in the parent process before the launcher starts workers. Idempotent.
    """
    from joblib import parallel
    from joblib._parallel_backends import LokyBackend

    if getattr(parallel.BACKENDS.get("loky"), "_sim_parent_bound", False):
        return

    class ParentBoundLokyBackend(LokyBackend):
        """Loky backend whose workers run :func:`bind_to_parent` first."""

        _sim_parent_bound = True

        def configure(self, n_jobs: int = 1, parallel: Any = None, **kwargs: Any) -> int:
            kwargs.setdefault("initializer", bind_to_parent)
            kwargs.setdefault("initargs", (os.getpid(),))
            return super().configure(n_jobs, parallel, **kwargs)

    parallel.register_parallel_backend("loky", ParentBoundLokyBackend)
    # the resource tracker (a helper process started with these options) would warn on
    # stderr about semaphores it cleans up after a sweep that ended on a failed job
    quiet = "ignore::UserWarning:multiprocessing.resource_tracker"
    if quiet not in sys.warnoptions:
        sys.warnoptions.append(quiet)


def shutdown() -> None:
    """Stop the reusable loky workers, if any, before ``sim-run`` exits on an error.

    A sweep that ends on a failed job would otherwise leave the workers' semaphores to
    the resource tracker, which warns about them on stderr.
    """
    try:
        from joblib.externals.loky import reusable_executor
    except ImportError:
        return
    executor = reusable_executor._executor
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)
