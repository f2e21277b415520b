"""Where cells run: in this process, on a local process pool, or on a Dask cluster.

An *executor* turns a sequence of :class:`~oversmooth.experiments.SimulationConfig` into
:class:`CellOutcome` objects as the cells finish; it is passed explicitly to
:func:`~oversmooth.experiments.run_sweep` and :func:`run_cells` (no process-wide default).
A cell's values never depend on the executor: each config carries its own seed.

* :class:`SerialExecutor` runs here (a cell's sparse products may use every core).
* :class:`ProcessExecutor` runs on a local pool of single-threaded worker processes. A
  worker that dies (killed, out of memory) breaks the pool: the pool is restarted, the
  cells that were running are retried up to ``retries`` times and then reported failed,
  and the other cells go on.
* :class:`DaskExecutor` runs on a Dask cluster (an address, or a loopback LocalCluster);
  the scheduler reruns the cells of a worker that died. Connecting is bounded by
  ``connect_timeout`` seconds: an unreachable scheduler is one line, not a traceback.

Examples
--------
>>> from oversmooth.experiments import SimulationConfig
>>> from oversmooth.experiments.sweep import SerialExecutor
>>> outs = list(SerialExecutor().outcomes([SimulationConfig(n=200, p=0.05, q=0.01, depth=1)]))
>>> len(outs[0].rows), outs[0].error
(2, None)
"""

from __future__ import annotations

import abc
import contextlib
import os
import socket
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from ..._utils import check_positive_int, optional_import
from ...operators import num_threads
from ...errors import ArgumentTypeError, DataError, OversmoothError, ValidationError
from .. import _simulate

__all__ = ["CellOutcome", "WorkerPoolError", "Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor",
           "make_executor",
           "BACKENDS", "WORKER_THREADS", "MAX_POOL_RETRIES", "run_cell"]

#: Names of the executors :func:`make_executor` builds.
BACKENDS = ("serial", "process", "dask")
#: Threads each pool or Dask worker gives one cell's sparse products (``OVERSMOOTH_NUM_THREADS``):
#: the parallelism of a sweep comes from its workers, so one thread each avoids oversubscription.
WORKER_THREADS = 1
#: How many times a cell is rerun after the pool worker running it died, before it is stored failed.
MAX_POOL_RETRIES = 2


class WorkerPoolError(OversmoothError, RuntimeError):
    """The process pool keeps breaking before any cell finishes (its workers die at start)."""


@dataclass
class CellOutcome:
    """What one cell returned: its rows, or the error it raised; seconds and host."""

    index: int
    rows: list[dict[str, Any]] | None
    error: str | None
    seconds: float
    host: str


def run_cell(config: Any, threads: int | None = None) -> tuple[list[dict[str, Any]] | None, str | None, float, str]:
    """Worker entry point: run one config, never raise (a cell's error is a result).

    ``threads`` (in a worker process) sets ``OVERSMOOTH_NUM_THREADS`` there; results are
    bitwise identical for any thread count.
    """
    if threads is not None:
        os.environ["OVERSMOOTH_NUM_THREADS"] = str(threads)
    t0 = time.perf_counter()
    try:
        rows, err = _simulate.run_simulation(config), None
    except Exception as exc:  # noqa: BLE001 - stored as the cell's error message
        rows, err = None, f"{type(exc).__name__}: {exc}"
    return rows, err, time.perf_counter() - t0, socket.gethostname()


class Executor(abc.ABC):
    """Base class: :meth:`outcomes` yields one :class:`CellOutcome` per config as it finishes."""

    name = "executor"
    workers: int | None = None

    @abc.abstractmethod
    def outcomes(self, configs: Sequence[Any]) -> Iterator[CellOutcome]:
        """Run ``configs``; yield one outcome per config as it finishes (in any order)."""

    @contextlib.contextmanager
    def session(self) -> Iterator["Executor"]:
        """Acquire what the executor needs (a Dask connection) before any file is touched."""
        yield self

    def describe(self) -> str:
        """``"process, 2 workers"`` and the like."""
        return self.name + (f", {self.workers} workers" if self.workers else "")


class SerialExecutor(Executor):
    """Run every cell in this process, one after another.

    Parameters
    ----------
    cell_fn : callable, optional
        The function run per config (default :func:`run_cell`): returns ``(rows, error, seconds, host)``.
    """

    name = "serial"

    def __init__(self, cell_fn: Callable[..., Any] | None = None):
        self.cell_fn = cell_fn or run_cell

    def outcomes(self, configs: Sequence[Any]) -> Iterator[CellOutcome]:
        for i, cfg in enumerate(configs):
            rows, err, sec, host = self.cell_fn(cfg)
            yield CellOutcome(i, rows, err, sec, host)


def _exit_with_parent(parent: int, poll_s: float = 0.5) -> None:  # pragma: no cover - runs in pool workers
    while os.getppid() == parent:
        time.sleep(poll_s)
    os._exit(1)


def _pool_worker_init(parent: int, threads: int) -> None:  # pragma: no cover - runs in pool workers
    """Pool worker setup: one thread per cell, and exit when the driving process dies."""
    import threading

    os.environ["OVERSMOOTH_NUM_THREADS"] = str(threads)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="oversmooth-parent-watch").start()


class ProcessExecutor(Executor):
    """A local pool of ``workers`` spawned processes, one cell per worker at a time.

    Parameters
    ----------
    workers : int, optional
        Worker processes (default :func:`oversmooth.operators.num_threads`: every usable core).
    retries : int
        How many times a cell whose worker died is rerun before it is reported failed.
    cell_fn : callable, optional
        A module-level function run per config in the workers (default :func:`run_cell`).
    """

    name = "process"

    def __init__(self, workers: int | None = None, *, retries: int = MAX_POOL_RETRIES,
                 cell_fn: Callable[..., Any] | None = None):
        self.workers = None if workers is None else check_positive_int(workers, "workers")
        self.retries = check_positive_int(retries, "retries", minimum=0)
        self.cell_fn = cell_fn or run_cell

    def _pool(self, n: int) -> Any:
        import concurrent.futures as cf
        import multiprocessing as mp

        # spawn: workers start clean (no inherited threads or locks), same on every OS
        return cf.ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"),
                                      initializer=_pool_worker_init, initargs=(os.getpid(), WORKER_THREADS))

    def outcomes(self, configs: Sequence[Any]) -> Iterator[CellOutcome]:
        import concurrent.futures as cf
        from concurrent.futures.process import BrokenProcessPool

        configs = list(configs)
        if not configs:
            return
        n = min(self.workers or num_threads(), len(configs))
        queue = list(range(len(configs)))[::-1]  # a stack: pop() takes the next cell in grid order
        deaths = [0] * len(configs)
        fruitless = 0  # pools in a row that broke before finishing any cell
        while queue:
            pool = self._pool(n)
            inflight: dict[Any, int] = {}
            suspects: list[int] = []
            finished = 0
            try:
                while (queue or inflight) and not suspects:
                    # at most one cell per worker, so the cells running when a worker dies are known;
                    # a cell that was running then is rerun alone, so a second death is its own
                    while queue and len(inflight) < n and not (deaths[queue[-1]] and inflight):
                        i = queue.pop()
                        inflight[pool.submit(self.cell_fn, configs[i])] = i
                        if deaths[i]:
                            break
                    done, _ = cf.wait(inflight, return_when=cf.FIRST_COMPLETED)
                    if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                        done, _ = cf.wait(inflight)  # the pool is broken: every other future ends now
                    for fut in done:
                        i = inflight.pop(fut)
                        if isinstance(fut.exception(), BrokenProcessPool):
                            suspects.append(i)
                            continue
                        rows, err, sec, host = fut.result()
                        finished += 1
                        yield CellOutcome(i, rows, err, sec, host)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown(wait=not suspects, cancel_futures=True)
            fruitless = fruitless + 1 if suspects and not finished else 0
            if fruitless > self.retries + 1:
                raise WorkerPoolError(
                    f"workers: the process pool broke {fruitless} times in a row before finishing any cell (its "
                    "worker processes die at start: out of memory, or a script that starts a sweep without an "
                    "`if __name__ == '__main__':` guard); run with one worker (--workers 1) to see the error")
            retry = []
            for i in sorted(suspects):
                deaths[i] += 1
                if deaths[i] > self.retries:
                    yield CellOutcome(i, None, f"BrokenProcessPool: the worker process running this cell died "
                                      f"{deaths[i]} times (killed, or out of memory); not retried again",
                                      float("nan"), socket.gethostname())
                else:
                    retry.append(i)
            queue.extend(sorted(retry, reverse=True))


@contextlib.contextmanager
def _dask_client(dask_scheduler: str | None, dask_local: int | None, timeout: float) -> Iterator[Any]:
    distributed = optional_import("distributed", "dask")
    if dask_scheduler is not None:
        try:
            client = distributed.Client(dask_scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise DataError(f"dask_scheduler: could not connect to the Dask scheduler at {dask_scheduler} within "
                            f"{timeout:g} s ({type(exc).__name__}); is it running and reachable?") from None
        except (ValueError, TypeError) as exc:
            raise ValidationError(f"dask_scheduler: {dask_scheduler!r} is not a scheduler address such as "
                                  f"tcp://HOST:8786 ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
                                  ) from None
        with client:
            yield client
        return
    with distributed.LocalCluster(n_workers=dask_local, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


class DaskExecutor(Executor):
    """Run the cells on a Dask cluster: ``scheduler`` address, ``local`` LocalCluster workers, or ``client``.

    Parameters
    ----------
    scheduler : str, optional
        Address such as ``tcp://HOST:8786``.
    local : int, optional
        Number of single-threaded LocalCluster worker processes (loopback only).
    client : distributed.Client, optional
        An existing client.
    connect_timeout : float
        Seconds to wait for the scheduler before giving up with one line.
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, *, local: int | None = None, client: Any = None,
                 connect_timeout: float = 10.0):
        if client is None and (scheduler is None) == (local is None):
            raise ValidationError("the dask backend needs exactly one of dask_scheduler (an address such as "
                                  "tcp://host:8786) and dask_local (number of LocalCluster workers)")
        if scheduler is not None and not isinstance(scheduler, str):
            raise ArgumentTypeError(f"dask_scheduler must be an address string, got {scheduler!r}")
        self.scheduler, self.client = scheduler, client
        self.local = None if local is None else check_positive_int(local, "dask_local")
        self.workers = self.local
        if not (isinstance(connect_timeout, (int, float)) and 0 < connect_timeout < 3600):
            raise ValidationError(f"connect_timeout must be a number of seconds in (0, 3600), got {connect_timeout!r}")
        self.connect_timeout = float(connect_timeout)

    @contextlib.contextmanager
    def session(self) -> Iterator["Executor"]:
        """Connect (or start the LocalCluster) once, bounded by ``connect_timeout``; reused by :meth:`outcomes`."""
        if self.client is not None:
            yield self
            return
        with _dask_client(self.scheduler, self.local, self.connect_timeout) as client:
            self.client = client
            try:
                yield self
            finally:
                self.client = None

    def outcomes(self, configs: Sequence[Any]) -> Iterator[CellOutcome]:
        configs = list(configs)
        if not configs:
            return
        ctx = (contextlib.nullcontext(self.client) if self.client is not None
               else _dask_client(self.scheduler, self.local, self.connect_timeout))
        with ctx as cl:
            distributed = optional_import("distributed", "dask")
            futs = cl.map(run_cell, configs, threads=WORKER_THREADS, pure=False)
            index = {f.key: i for i, f in enumerate(futs)}
            try:
                for fut in distributed.as_completed(futs):
                    i = index[fut.key]
                    try:
                        rows, err, sec, host = fut.result()
                    except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker after repeated worker deaths
                        rows, err, sec, host = None, f"{type(exc).__name__}: {exc}", float("nan"), ""
                    fut.release()
                    yield CellOutcome(i, rows, err, sec, host)
            except BaseException:
                cl.cancel(futs)
                raise


def make_executor(backend: str = "serial", *, workers: int | None = None, dask_scheduler: str | None = None,
                  dask_local: int | None = None) -> Executor:
    """The executor named ``backend`` (``serial``, ``process`` or ``dask``), its arguments checked.

    ``dask_scheduler`` or ``dask_local`` imply ``dask``.

    Examples
    --------
    >>> from oversmooth.experiments.sweep import make_executor
    >>> make_executor("process", workers=2).describe()
    'process, 2 workers'
    """
    if dask_scheduler is not None or dask_local is not None:
        backend = "dask"
    if backend not in BACKENDS:
        raise ValidationError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
    if workers is not None:
        check_positive_int(workers, "workers")
    if backend == "serial":
        return SerialExecutor()
    if backend == "process":
        return ProcessExecutor(workers)
    return DaskExecutor(dask_scheduler, local=dask_local)
