"""Driving a sweep: run the cells not yet stored on an executor, store each as it finishes, report.

Examples
--------
>>> import tempfile
>>> from oversmooth.experiments import parse_spec, run_sweep
>>> from oversmooth.experiments.sweep import SerialExecutor
>>> spec = parse_spec({"fixed": {"depth": 1, "q": 0.01}, "grid": {"p": [0.04, 0.05]}})
>>> run_sweep(spec, tempfile.mkdtemp(), executor=SerialExecutor(), progress=False).done
2
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TextIO

from ..._progress import Progress
from ..._utils import optional_import
from ..._version import __version__
from ...errors import ValidationError
from .executors import CellOutcome, Executor, SerialExecutor, make_executor, run_cell
from .lock import DirectoryLock
from .spec import STORE_CONFIG_COLUMNS, Cell, SpecError, SweepSpec, parse_spec
from .store import ResultStore

__all__ = ["SweepSummary", "run_sweep", "sweep_status", "summary_rows", "load_results", "run_cells",
           "use_backend"]


@dataclass
class SweepSummary:
    """Outcome of :func:`run_sweep`: counts, seconds, and where the store is."""

    out: Path
    total: int
    done: int
    failed: int
    pending: int
    ran: int
    seconds: float
    backend: str
    workers: int | None
    failures: list[tuple[int, str]] = field(default_factory=list)
    store_seconds: float = 0.0  #: time spent writing cells to the store (included in ``seconds``)


def _store_rows(cell: Cell, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    cfg = cell.config.to_dict()
    base = {("max_depth" if k == "depth" else k): v for k, v in cfg.items() if k != "seed"}
    base["cell_seed"] = cell.seed
    # config columns win: a row's ``probes`` is the number used (0 for the exact variance)
    return [{**r, **base} for r in rows]


def _resolve_out(spec: SweepSpec, out: str | Path | None) -> Path:
    if out is not None:
        return Path(out)
    if spec.out:
        return Path(spec.out)
    raise SpecError("no output directory: set [sweep] out in the spec or pass out (--out)")


def run_sweep(
    spec: SweepSpec,
    out: str | Path | None = None,
    *,
    executor: Executor | None = None,
    backend: str = "process",
    workers: int | None = None,
    dask_scheduler: str | None = None,
    dask_local: int | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    stream: TextIO | None = None,
    on_cell: Callable[[CellOutcome], None] | None = None,
) -> SweepSummary:
    """Run the cells of ``spec`` not yet stored in ``out`` and store each as it finishes.

    Resumable: cells already ``done`` in the store are skipped; ``failed`` ones too
    unless ``retry_failed``. Each finished cell is written in one transaction, so
    killing the sweep at any moment and running it again gives the same store as an
    uninterrupted run. The output directory is locked while the sweep runs: a second
    sweep on it raises :class:`~oversmooth.experiments.sweep.SweepLockedError` at once.

    Parameters
    ----------
    spec : SweepSpec
    out : path, optional
        Output directory (default the spec's ``out``).
    executor : Executor, optional
        Where the cells run (:class:`~oversmooth.experiments.sweep.SerialExecutor`,
        ``ProcessExecutor``, ``DaskExecutor``). Without it, one is built from
        ``backend``, ``workers``, ``dask_scheduler``, ``dask_local`` by
        :func:`~oversmooth.experiments.sweep.make_executor`.
    retry_failed : bool
        Rerun cells stored as failed.
    progress : bool
        Progress bar (rate, ETA) on ``stream`` (stderr).
    on_cell : callable, optional
        Called with every :class:`CellOutcome` after it is stored.

    Returns
    -------
    SweepSummary

    Examples
    --------
    >>> import tempfile
    >>> from oversmooth.experiments import parse_spec, run_sweep
    >>> spec = parse_spec({"fixed": {"depth": 1, "q": 0.01}, "grid": {"p": [0.04, 0.05]}})
    >>> out = tempfile.mkdtemp()
    >>> run_sweep(spec, out, backend="serial", progress=False).done
    2
    >>> run_sweep(spec, out, backend="serial", progress=False).ran  # resumed: nothing left
    0
    """
    if executor is None:
        executor = make_executor(backend, workers=workers, dask_scheduler=dask_scheduler, dask_local=dask_local)
    elif not isinstance(executor, Executor):
        raise ValidationError(f"executor must be an Executor (SerialExecutor, ProcessExecutor, DaskExecutor), "
                              f"got {type(executor).__name__}")
    out = _resolve_out(spec, out)
    cells = spec.cells()  # every config built (and checked) before the directory is touched
    t0 = time.perf_counter()
    with executor.session(), DirectoryLock(out):
        store = ResultStore.create(out, [*STORE_CONFIG_COLUMNS, *spec.measures], {"seed": spec.seed})
        try:
            store.set_meta(spec=spec.to_dict(), name=spec.name, oversmooth_version=__version__)
            store.reindex({c.key: c.index for c in cells})
            status = store.statuses()
            todo = [c for c in cells
                    if status.get(c.key) != "done" and (retry_failed or status.get(c.key) != "failed")]
            bar = Progress(len(todo), stream=stream, enabled=progress and bool(todo))
            failures: list[tuple[int, str]] = []
            store_seconds = 0.0
            for o in executor.outcomes([c.config for c in todo]):
                cell = todo[o.index]
                t_store = time.perf_counter()
                cfg_json = json.dumps(cell.config.to_dict(), sort_keys=True)
                if o.error is None:
                    store.write_cell(cell.key, cell.index, cfg_json, cell.seed, _store_rows(cell, o.rows or []),
                                     seconds=o.seconds, host=o.host)
                else:
                    store.write_failure(cell.key, cell.index, cfg_json, cell.seed, o.error, seconds=o.seconds,
                                        host=o.host)
                    failures.append((cell.index, o.error))
                store_seconds += time.perf_counter() - t_store
                if on_cell is not None:
                    on_cell(o)
                bar.update(f"cell {cell.index}" + (" FAILED" if o.error else ""), advance=1)
            bar.close()
            st = _status_of(store, cells)
        finally:
            store.close()
    return SweepSummary(out=out, total=st["total"], done=st["done"], failed=st["failed"], pending=st["pending"],
                        ran=len(todo), seconds=time.perf_counter() - t0, backend=executor.name,
                        workers=executor.workers, failures=failures, store_seconds=store_seconds)


def _status_of(store: ResultStore, cells: Sequence[Cell]) -> dict[str, Any]:
    status = store.statuses()
    keys = [c.key for c in cells]
    done = sum(status.get(k) == "done" for k in keys)
    failed = sum(status.get(k) == "failed" for k in keys)
    return {"total": len(keys), "done": done, "failed": failed, "pending": len(keys) - done - failed,
            "stored_outside_spec": len(set(status) - set(keys))}


def _stored_spec(store: ResultStore, out: str | Path) -> SweepSpec:
    meta = store.meta()
    if "spec" not in meta:
        raise SpecError(f"{store.path} is a damaged sweep store: no spec recorded (the sweep never started); "
                        "run the sweep again")
    return parse_spec(meta["spec"], source=str(store.path))


def sweep_status(out: str | Path) -> dict[str, Any]:
    """Done / failed / pending cells of the sweep stored in ``out`` (against its last spec).

    The store is checked on opening (an empty, foreign or damaged file raises one line
    naming it). ``incomplete`` lists cells marked done whose rows are missing.

    Examples
    --------
    >>> import tempfile
    >>> from oversmooth.experiments import parse_spec, run_sweep, sweep_status
    >>> out = tempfile.mkdtemp()
    >>> _ = run_sweep(parse_spec({"fixed": {"depth": 1}}), out, backend="serial", progress=False)
    >>> {k: sweep_status(out)[k] for k in ("done", "failed", "pending")}
    {'done': 1, 'failed': 0, 'pending': 0}
    """
    with ResultStore.open(out) as store:
        spec = _stored_spec(store, out)
        cells = spec.cells()
        st = _status_of(store, cells)
        stored = store.cells()
        st["failures"] = [(c["cell_index"], c["error"]) for c in stored if c["status"] == "failed"]
        counts = store.rows_per_cell()
        by_key = {c.key: c for c in cells}
        st["incomplete"] = [by_key[c["cell_key"]].index for c in stored
                            if c["status"] == "done" and c["cell_key"] in by_key
                            and counts.get(c["cell_key"], 0) != spec.seeds * (by_key[c["cell_key"]].config.depth + 1)]
        st["rows"] = sum(counts.values())
    st.update(name=spec.name, seed=spec.seed, out=str(out))
    return st


def summary_rows(out: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Per-cell summary of a stored sweep: axes, status, seconds, best depth and its error.

    ``best_depth`` is the depth of the smallest seed-mean Bayes error (when
    ``bayes_error`` is recorded); one dict per cell of the stored spec, in grid order.
    """
    with ResultStore.open(out) as store:
        spec = _stored_spec(store, out)
        by_key = {c["cell_key"]: c for c in store.cells()}
        best = store.best_depths("bayes_error")
    out_rows = []
    for c in spec.cells()[:limit]:
        stored = by_key.get(c.key)
        row = {"cell": c.index, **c.axes, "status": stored["status"] if stored else "pending",
               "seconds": stored["seconds"] if stored else None}
        if c.key in best:
            row["best_depth"], row["best_bayes_error"] = best[c.key]
        out_rows.append(row)
    return out_rows


def load_results(out: str | Path, *, table: str = "results") -> Any:
    """The stored results of a sweep as a pandas DataFrame.

    Parameters
    ----------
    out : path
        The sweep's output directory.
    table : {"results", "cells"}
        ``results``: one row per cell x seed x depth (config columns, measured
        columns, ``oversmooth_version``, ``seconds``, ``host``), sorted by cell, seed
        and depth; ``cells``: one row per stored cell with its status and error.

    Examples
    --------
    >>> import tempfile
    >>> from oversmooth.experiments import parse_spec, run_sweep, load_results
    >>> out = tempfile.mkdtemp()
    >>> _ = run_sweep(parse_spec({"fixed": {"depth": 2}, "sweep": {"seeds": 2}}), out, backend="serial",
    ...               progress=False)
    >>> df = load_results(out)
    >>> len(df), list(df["depth"][:3])
    (6, [0, 1, 2])
    """
    if table not in ("results", "cells"):
        raise ValidationError(f"table must be 'results' or 'cells', got {table!r}")
    pd = optional_import("pandas", "sweep")
    with ResultStore.open(out) as store:
        names, rows = store.table(table)
    df = pd.DataFrame.from_records(rows, columns=names)
    if table == "results" and "self_loops" in df:
        df["self_loops"] = df["self_loops"].astype(bool)
    return df


# --------------------------------------------------------------------------- cells without a store
_CURRENT: contextvars.ContextVar[Executor | None] = contextvars.ContextVar("oversmooth_sweep_executor",
                                                                         default=None)


@contextlib.contextmanager
def use_backend(backend: str = "serial", *, workers: int | None = None, dask_scheduler: str | None = None,
                dask_local: int | None = None) -> Iterator[Executor]:
    """Backward-compatible: within the block, :func:`run_cells` without an executor uses this one.

    Prefer passing ``executor=`` to :func:`run_cells`; this context (a context variable,
    restored on exit, private to each thread and task) exists for callers that cannot
    pass it through yet. Yields the executor.

    Examples
    --------
    >>> from oversmooth.experiments import SimulationConfig, run_cells, use_backend
    >>> with use_backend("serial"):
    ...     len(run_cells([SimulationConfig(n=200, p=0.05, q=0.01, depth=1)])[0])
    2
    """
    ex = make_executor(backend, workers=workers, dask_scheduler=dask_scheduler, dask_local=dask_local)
    token = _CURRENT.set(ex)
    try:
        yield ex
    finally:
        _CURRENT.reset(token)


def run_cells(configs: Sequence[Any], executor: Executor | None = None, *, backend: str | None = None,
              workers: int | None = None, dask_scheduler: str | None = None,
              dask_local: int | None = None) -> list[list[dict[str, Any]]]:
    """Run every config and return their rows, in the order of ``configs``.

    The rows of a config do not depend on the executor (each config carries its own
    seed). ``executor`` (or one built from ``backend`` and its arguments; else the one
    of an enclosing :func:`use_backend`; else serial). Serially, a cell's exception
    propagates unchanged; elsewhere the first failed cell raises ``RuntimeError``.

    Examples
    --------
    >>> from oversmooth.experiments import SimulationConfig, run_cells
    >>> cfgs = [SimulationConfig(n=200, p=0.05, q=0.01, depth=1, seed=s) for s in (0, 1)]
    >>> [len(r) for r in run_cells(cfgs)]
    [2, 2]
    """
    if executor is None:
        if backend is not None or dask_scheduler is not None or dask_local is not None:
            executor = make_executor(backend or "serial", workers=workers, dask_scheduler=dask_scheduler,
                                     dask_local=dask_local)
        else:
            executor = _CURRENT.get() or SerialExecutor()
    configs = list(configs)
    if isinstance(executor, SerialExecutor) and executor.cell_fn is run_cell:
        from .. import _simulate

        return [_simulate.run_simulation(c) for c in configs]  # errors keep their type and traceback
    out: list[list[dict[str, Any]] | None] = [None] * len(configs)
    for o in executor.outcomes(configs):
        if o.error is not None:
            raise RuntimeError(f"config {o.index} failed: {o.error}")
        out[o.index] = o.rows
    return out  # type: ignore[return-value]
