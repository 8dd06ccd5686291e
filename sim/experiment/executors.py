"""Where the blocks of one run are computed: this process, a process pool, or Ray.

A run of many worlds is cut into blocks (:func:`sim.experiment.runs.block_plan`); block ``b`` of a
run is ``simulate(params, size, seed, block=b)`` and draws its own random streams, so a
block's numbers do not depend on where, when or next to what it is computed. An
executor only decides where: every executor gives the same run, block by block.

- ``in_process`` (default): one block after another in this process.
- ``process``: a pool of worker processes on this machine (``workers``, default every
  core). The pool is started once per process and reused by later runs (a sweep's jobs
  under the basic launcher share it); its workers die with their parent.
- ``ray``: Ray tasks (the ``ray`` extra). Starts a private local Ray bound to
  127.0.0.1 without its dashboard unless ``RAY_ADDRESS`` names a cluster to join.

No Hydra here.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import gc
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Protocol

#: Names accepted by the ``executor`` run key.
EXECUTORS = ("in_process", "process", "ray")
#: ``PR_SET_PDEATHSIG`` from ``<linux/prctl.h>``.
PR_SET_PDEATHSIG = 1
#: Blocks a run gives an executor beyond the one it is reading, per worker (the rows
#: of these are what the run's own process holds: :mod:`sim.experiment.memory`).
AHEAD_PER_WORKER = 2
#: Module the pool's forkserver imports first: it binds the forkserver to the run.
FORKSERVER_BINDING = "sim.experiment.forkserver_binding"


def set_parent_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send ``sig`` to this process when its parent ends.

    Returns:
        Whether it was set (Linux only).
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0


def bind_to_parent(parent_pid: int) -> None:
    """Worker initializer: die with ``parent_pid`` (exit now if it is already gone)."""
    set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the signal was set
        os._exit(1)


def bind_pool_worker(main_pid: int) -> None:
    """Initializer of a pool worker forked by the forkserver: die with the run.

    The worker's parent is the forkserver, which itself exits when the process that
    started it ends; the parent-death signal therefore ends the worker too. A worker
    whose run is already gone exits at once.
    """
    set_parent_death_signal(signal.SIGKILL)
    try:
        os.kill(main_pid, 0)
    except ProcessLookupError:
        os._exit(1)
    except PermissionError:
        pass
    gc.freeze()   # what the forkserver imported is never garbage: collections skip it


def collected(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, then a full garbage collection (in a long-lived worker).

    A block's model is a cycle of objects (the Mesa model and its agents): reference
    counting never frees it, and the collector's allocation-count heuristics rarely run
    a full collection, so a worker computing block after block grew by about 100 MB a
    block, to 1.9 GB over a 1,000,000-world run. :func:`sim.experiment.api.simulate`
    now releases the model's arrays itself (:meth:`PeaceModel.release`, which also
    bounds a run in one process); what is left of the cycle is small, and collected
    here. With the worker's start-up objects frozen (:func:`bind_pool_worker`) the
    collection takes about a millisecond.
    """
    value = fn(*args)
    gc.collect()
    return value


class Executor(Protocol):
    """Computes ``fn(*args)`` for each task; results come back in task order."""

    name: str
    workers: int

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple],
            ahead: int | None = None) -> Iterator[Any]:
        """Yield ``fn(*task)`` for each task, in order (computed in any order).

        ``tasks`` is read lazily: at most ``ahead`` tasks (default: twice the workers)
        are submitted beyond the one whose result is awaited, so neither the tasks nor
        their results pile up. Closing the iterator cancels what is still pending.
        """
        ...


class InProcess:
    """One task after another in this process."""

    name = "in_process"
    workers = 1

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple],
            ahead: int | None = None) -> Iterator[Any]:
        """Yield ``fn(*task)`` for each task, computed when asked for (``ahead`` unused)."""
        for t in tasks:
            yield fn(*t)


def bounded(submit: Callable[[tuple], Any], result: Callable[[Any], Any],
            cancel: Callable[[Any], Any], tasks: Iterable[tuple], ahead: int
            ) -> Iterator[Any]:
    """Results of ``tasks`` in order, with at most ``ahead`` + 1 submitted at a time.

    Args:
        submit: Starts a task, returns its handle (a future, a Ray reference).
        result: Waits for a handle's result.
        cancel: Cancels a handle that is no longer wanted.
        tasks: Read lazily, one more each time a result is handed out.
        ahead: Tasks kept submitted beyond the one awaited (>= 0).
    """
    it = iter(tasks)
    pending: deque[Any] = deque()
    try:
        for t in it:
            pending.append(submit(t))
            if len(pending) > ahead:
                break
        while pending:
            handle = pending.popleft()
            value = result(handle)
            for t in it:   # refill before handing the result out
                pending.append(submit(t))
                break
            yield value
            del value
    finally:
        for handle in pending:
            cancel(handle)


def cpu_count() -> int:
    """Cores this process may use (its CPU affinity, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    pool = _POOLS.get(workers)
    if pool is None:
        # forkserver: a clean process to fork workers from (forking this process, which
        # may hold threads (Hydra, tqdm), is unsafe); the model is imported once there
        # the forkserver binds itself to this process as it starts (FORKSERVER_BINDING),
        # so that it, and the workers bound to it, end with the run even on SIGKILL
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([FORKSERVER_BINDING, "sim.experiment.api"])
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=bind_pool_worker,
                                   initargs=(os.getpid(),))
        _POOLS[workers] = pool
    return pool


@atexit.register
def shutdown_pools() -> None:
    """Stop the process pools of this process (at exit, or before a fork)."""
    while _POOLS:
        _, pool = _POOLS.popitem()
        pool.shutdown(wait=True, cancel_futures=True)


class ProcessPool:
    """A pool of ``workers`` processes on this machine (started once, then reused)."""

    name = "process"

    def __init__(self, workers: int | None = None):
        self.workers = workers or cpu_count()

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple],
            ahead: int | None = None) -> Iterator[Any]:
        """Keep ``ahead`` tasks (default 2 x workers) in the pool; yield results in order."""
        pool = _pool(self.workers)
        yield from bounded(lambda t: pool.submit(collected, fn, *t), Future.result, Future.cancel,
                           tasks, ahead or 2 * self.workers)


def ray_private_defaults() -> None:
    """Unless the user set them: no Ray usage reporting, and Ray's single-machine mode.

    In single-machine mode every Ray service listens on 127.0.0.1 only. Ray reads the
    variables when it is imported, so this runs before (``sim.cli`` at import, for the
    Ray launcher; the ``ray`` executor before it imports Ray).
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


class Ray:
    """Ray tasks, on a private local Ray (127.0.0.1, no dashboard) or ``RAY_ADDRESS``."""

    name = "ray"

    def __init__(self, workers: int | None = None):
        self.workers = workers or cpu_count()

    def _init(self) -> Any:
        if not os.environ.get("RAY_ADDRESS"):
            ray_private_defaults()
        else:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            import ray
        except ImportError:
            raise RuntimeError("executor=ray needs the `ray` extra: "
                               "pip install -e \".[ray]\"") from None
        if not ray.is_initialized():
            if os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER") == "0":
                # Ray reads the variable when it is first imported: if that happened
                # before (the caller imported ray), apply it now, or Ray's services bind
                # to every interface
                from ray._private import ray_constants

                ray_constants.ENABLE_RAY_CLUSTER = False
            if os.environ.get("RAY_ADDRESS"):
                ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=False)
            else:
                ray.init(address="local", num_cpus=self.workers, include_dashboard=False,
                         log_to_driver=False, _node_ip_address="127.0.0.1")
        return ray

    def map(self, fn: Callable[..., Any], tasks: Iterable[tuple],
            ahead: int | None = None) -> Iterator[Any]:
        """Keep ``ahead`` Ray tasks (default 2 x workers) submitted; yield results in order."""
        ray = self._init()
        remote = ray.remote(num_cpus=1)(fn)
        yield from bounded(lambda t: remote.remote(*t), ray.get,
                           lambda r: ray.cancel(r, force=True), tasks,
                           ahead or 2 * self.workers)


def make_executor(name: str = "in_process", workers: int | None = None) -> Executor:
    """The executor called ``name`` (one of :data:`EXECUTORS`).

    Args:
        name: ``in_process``, ``process`` or ``ray``.
        workers: Processes of a pool or Ray's CPUs (None: every core this process may
            use); ignored in process.
    """
    if name == "in_process":
        return InProcess()
    if name == "process":
        return ProcessPool(workers)
    if name == "ray":
        return Ray(workers)
    raise ValueError(f"unknown executor {name!r}; allowed: {', '.join(EXECUTORS)}")
