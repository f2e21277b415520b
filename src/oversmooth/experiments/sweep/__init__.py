"""Resumable parameter sweeps: specs, executors, the result store, the driver and the cost model.

A *spec* (TOML, JSON, or YAML when PyYAML is installed) fixes some parameters of
:class:`~oversmooth.experiments.SimulationConfig` and lists grid axes for others::

    [sweep]
    name = "demo"
    seed = 0                 # master seed
    seeds = 2                # replicates per cell
    measures = ["gap", "feature_variance", "bayes_error", "separation"]
    out = "sweep-demo"       # output directory (relative to the working directory)

    [fixed]
    sigma = 1.0
    depth = 16

    [grid]
    n = [500, 2000]
    p = {start = 0.005, stop = 0.05, num = 4, log = true}   # log-spaced
    q = [0.002]
    operator = ["gcn", "appnp"]

One *cell* is one ``SimulationConfig`` (every combination of the axes), run with
:func:`~oversmooth.experiments.run_simulation`: one row per seed x depth. Its *key* is
the canonical JSON of its full config; its seed derives from the master seed and the key,
so a cell's result does not depend on the order, the executor or the number of workers.

Modules: :mod:`~.spec` (the language, cells, keys and seeds), :mod:`~.specfile` (reading
files, bounded), :mod:`~.executors` (serial, process pool, Dask; passed explicitly),
:mod:`~.store` (the checked SQLite store), :mod:`~.lock` (one sweep per directory),
:mod:`~.runner` (the resumable driver, status, loading) and :mod:`~.cost` (the calibrated
estimate).

Examples
--------
>>> from oversmooth.experiments.sweep import parse_spec
>>> spec = parse_spec({"sweep": {"seed": 0}, "fixed": {"depth": 2},
...                    "grid": {"n": [200, 400], "p": [0.05], "q": [0.01]}})
>>> spec.n_cells
2
"""

from .cost import estimate_cost, format_cost
from .executors import (BACKENDS, MAX_POOL_RETRIES, WORKER_THREADS, CellOutcome, DaskExecutor, Executor,
                        ProcessExecutor, SerialExecutor, WorkerPoolError, make_executor, run_cell)
from .lock import LOCK_FILENAME, DirectoryLock, SweepLockedError
from .runner import SweepSummary, load_results, run_cells, run_sweep, summary_rows, sweep_status, use_backend
from .spec import (CONFIG_FIELDS, MAX_CELLS, MAX_ROWS_PER_CELL, MEASURE_COLUMNS, STORE_CONFIG_COLUMNS, Cell,
                   SpecError, SweepSpec, cell_key, cell_seed, expand_axis, parse_spec)
from .specfile import MAX_SPEC_BYTES, load_spec
from .store import STORE_FILENAME, ResultStore, check_store_file, open_store

__all__ = [
    "SpecError", "SweepSpec", "Cell", "parse_spec", "load_spec", "expand_axis", "cell_key", "cell_seed",
    "CONFIG_FIELDS", "MEASURE_COLUMNS", "STORE_CONFIG_COLUMNS", "MAX_CELLS", "MAX_ROWS_PER_CELL", "MAX_SPEC_BYTES",
    "CellOutcome", "WorkerPoolError", "Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor",
    "make_executor", "run_cell",
    "BACKENDS", "WORKER_THREADS", "MAX_POOL_RETRIES",
    "DirectoryLock", "SweepLockedError", "LOCK_FILENAME",
    "ResultStore", "STORE_FILENAME", "check_store_file", "open_store",
    "SweepSummary", "run_sweep", "sweep_status", "summary_rows", "load_results", "run_cells", "use_backend",
    "estimate_cost", "format_cost",
]
