"""Resumable parameter sweeps: spec files, grid expansion, cell keys and seeds, backends.

A *spec* (TOML, or YAML when PyYAML is installed) fixes some parameters of
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
:func:`~oversmooth.experiments.run_simulation`: one row per seed x depth. Its *key*
is the canonical JSON of its full config (sorted keys, floats written by ``repr``,
which round-trips exactly, so configs differing in any digit get different keys;
no Python ``hash``). Its seed is drawn from
``SeedSequence([master_seed, *sha256(key) as 32-bit words])``: a cell's result does
not depend on the order, backend or number of workers.

Examples
--------
>>> from oversmooth.experiments import parse_spec
>>> spec = parse_spec({"sweep": {"seed": 0}, "fixed": {"depth": 2},
...                    "grid": {"n": [200, 400], "p": [0.05], "q": [0.01]}})
>>> len(spec.cells())
2
>>> spec.cells()[0].key == spec.cells()[0].key, spec.cells()[0].key != spec.cells()[1].key
(True, True)
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import socket
import sys
import time
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence, TextIO

import numpy as np

from .._progress import Progress, format_duration
from .._utils import check_nonneg_int, check_positive_int, derive_seed, optional_import
from .._version import __version__
from ._simulate import ROW_COLUMNS, SimulationConfig, run_simulation
from ._store import STORE_FILENAME, ResultStore

__all__ = [
    "SpecError",
    "SweepSpec",
    "Cell",
    "CellOutcome",
    "SweepSummary",
    "BACKENDS",
    "MEASURE_COLUMNS",
    "parse_spec",
    "load_spec",
    "expand_axis",
    "cell_key",
    "cell_seed",
    "run_cells",
    "iter_outcomes",
    "use_backend",
    "run_sweep",
    "sweep_status",
    "estimate_cost",
    "load_results",
]

#: Execution backends of :func:`run_cells` and :func:`run_sweep`.
BACKENDS = ("serial", "process", "dask")

#: Fields of SimulationConfig a spec may fix or sweep (``seed`` derives from the key, ``seeds`` is per sweep).
CONFIG_FIELDS = tuple(f.name for f in fields(SimulationConfig) if f.name not in ("seed", "seeds"))
_INT_FIELDS = ("n", "depth", "probes", "exact_max_nodes")
#: Row columns that repeat the config (stored as config columns instead).
_CONFIG_ROW_COLUMNS = ("seed", "depth", "operator", "n", "p", "q", "sigma", "alpha", "self_loops",
                       "oversmooth_version")
#: Measured columns a spec may record (default: all of them).
MEASURE_COLUMNS = tuple(c for c in ROW_COLUMNS
                        if c not in _CONFIG_ROW_COLUMNS and c not in CONFIG_FIELDS)
#: Config columns of every stored row (``max_depth`` is the config's depth, ``cell_seed`` its seed).
STORE_CONFIG_COLUMNS = tuple("max_depth" if f == "depth" else f for f in CONFIG_FIELDS) + ("cell_seed", "seeds")
_SWEEP_KEYS = ("name", "seed", "seeds", "measures", "out")


class SpecError(ValueError):
    """A sweep spec that cannot run (raised before any cell is computed)."""


# --------------------------------------------------------------------------- spec
def expand_axis(name: str, value: Any) -> list[Any]:
    """The values of grid axis ``name``: a list, or a range table.

    A range table is ``{start, stop, num}`` (evenly spaced, both ends included;
    ``log = true`` for log-spaced) or ``{start, stop, step}`` (``stop`` included when
    it falls on the grid). Integer fields (``n``, ``depth``, ``probes``) are rounded.

    Examples
    --------
    >>> from oversmooth.experiments import expand_axis
    >>> expand_axis("n", {"start": 100, "stop": 10000, "num": 3, "log": True})
    [100, 1000, 10000]
    >>> expand_axis("alpha", {"start": 0.1, "stop": 0.3, "step": 0.1})
    [0.1, 0.2, 0.3]
    >>> expand_axis("operator", ["gcn", "appnp"])
    ['gcn', 'appnp']
    """
    if isinstance(value, Mapping):
        unknown = set(value) - {"start", "stop", "num", "step", "log"}
        if unknown:
            raise SpecError(f"grid.{name}: unknown range key(s) {sorted(unknown)}; use start, stop and num "
                            "(with log = true for log spacing) or step")
        if "start" not in value or "stop" not in value:
            raise SpecError(f"grid.{name}: a range needs start and stop, got {dict(value)}")
        try:
            start, stop = float(value["start"]), float(value["stop"])
        except (TypeError, ValueError):
            raise SpecError(f"grid.{name}: start and stop must be numbers, got {dict(value)}") from None
        log = bool(value.get("log", False))
        if ("num" in value) == ("step" in value):
            raise SpecError(f"grid.{name}: give exactly one of num and step, got {dict(value)}")
        if "num" in value:
            try:
                num = check_positive_int(value["num"], f"grid.{name}.num")
            except ValueError as exc:
                raise SpecError(str(exc)) from None
            if log:
                if start <= 0 or stop <= 0:
                    raise SpecError(f"grid.{name}: a log range needs start, stop > 0, got {start}, {stop}")
                vals = np.geomspace(start, stop, num)
            else:
                vals = np.linspace(start, stop, num)
        else:
            if log:
                raise SpecError(f"grid.{name}: log = true needs num, not step")
            try:
                step = float(value["step"])
            except (TypeError, ValueError):
                raise SpecError(f"grid.{name}: step must be a number, got {value['step']!r}") from None
            if not math.isfinite(step) or step == 0 or (stop - start) / step < 0:
                raise SpecError(f"grid.{name}: step {step} does not lead from {start} to {stop}")
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            vals = start + step * np.arange(count)
        out = [float(v) for v in vals]
        if name in _INT_FIELDS:
            out = list(dict.fromkeys(int(round(v)) for v in out))
        else:
            out = [float(f"{v:.15g}") for v in out]  # 0.1 + 2 * 0.1 -> 0.3, not 0.30000000000000004
        return out
    if isinstance(value, (list, tuple)):
        if not value:
            raise SpecError(f"grid.{name}: an axis needs at least one value")
        return list(value)
    raise SpecError(f"grid.{name}: an axis is a list or a range table, got {value!r}")


def cell_key(config: SimulationConfig) -> str:
    """Canonical key of a cell: its config (without the derived ``seed``) as sorted JSON.

    Floats are written by ``repr`` (shortest exact round-trip), so two configs that
    differ anywhere get different keys; the key is stable across runs and machines.

    Examples
    --------
    >>> from oversmooth.experiments import SimulationConfig, cell_key
    >>> a = cell_key(SimulationConfig(p=0.01231)); b = cell_key(SimulationConfig(p=0.01232))
    >>> a != b, '"p":0.01231' in a
    (True, True)
    """
    d = config.to_dict()
    d.pop("seed")
    return json.dumps(d, sort_keys=True, separators=(",", ":"), allow_nan=False)


def cell_seed(master_seed: int, key: str) -> int:
    """The cell's seed: ``derive_seed(master_seed, "cell", key, as_int=True)``.

    The one seed-derivation helper of the package (:func:`oversmooth._utils.derive_seed`,
    keyed by the SHA-256 of ``"cell"`` and the cell's canonical key): it depends on the
    master seed and the cell's config only, never on the grid order, the backend or the
    number of workers.

    Examples
    --------
    >>> from oversmooth.experiments import cell_seed
    >>> cell_seed(0, "a") == cell_seed(0, "a"), cell_seed(0, "a") != cell_seed(1, "a")
    (True, True)
    """
    master_seed = check_nonneg_int(master_seed, "seed")
    return int(derive_seed(master_seed, "cell", key, as_int=True))


@dataclass(frozen=True)
class Cell:
    """One cell of a sweep: index in the spec, key, config (with its derived seed), axis values."""

    index: int
    key: str
    config: SimulationConfig
    axes: dict[str, Any] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return self.config.seed


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: fixed parameters, grid axes (expanded), seeds, measures, output.

    Build it with :func:`parse_spec` or :func:`load_spec`; :meth:`cells` lists the
    cells in grid order (the last axis varies fastest).
    """

    fixed: dict[str, Any]
    grid: dict[str, list[Any]]
    seed: int = 0
    seeds: int = 1
    measures: tuple[str, ...] = MEASURE_COLUMNS
    out: str | None = None
    name: str = "sweep"
    _cells: tuple[Cell, ...] = field(default=(), repr=False, compare=False)

    def cells(self) -> list[Cell]:
        """Every cell, in grid order."""
        return list(self._cells)

    @property
    def n_cells(self) -> int:
        return len(self._cells)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (re-parsable by :func:`parse_spec`)."""
        return {"sweep": {"name": self.name, "seed": self.seed, "seeds": self.seeds,
                          "measures": list(self.measures), **({"out": self.out} if self.out else {})},
                "fixed": dict(self.fixed), "grid": {k: list(v) for k, v in self.grid.items()}}


def _check_field(section: str, name: str) -> None:
    if name in ("seed", "seeds"):
        raise SpecError(f"{section}.{name}: the cell seed derives from [sweep] seed and the cell key; "
                        "set [sweep] seed (master seed) and [sweep] seeds (replicates) instead")
    if name not in CONFIG_FIELDS:
        raise SpecError(f"{section}.{name}: unknown field; fields are {', '.join(CONFIG_FIELDS)}")


def parse_spec(data: Mapping[str, Any], *, source: str = "spec") -> SweepSpec:
    """Validate a spec (a mapping with ``[sweep]``, ``[fixed]``, ``[grid]``) and build every cell.

    Every cell's :class:`SimulationConfig` is constructed here, before any work: a bad
    value raises :class:`SpecError` naming the field and the cell.

    Examples
    --------
    >>> from oversmooth.experiments import parse_spec
    >>> parse_spec({"grid": {"p": [0.05, -0.1], "q": [0.01]}})
    Traceback (most recent call last):
    ...
    oversmooth.experiments._sweep.SpecError: spec: cell 1 (p=-0.1, q=0.01): p must be in [0, 1], got -0.1
    """
    if not isinstance(data, Mapping):
        raise SpecError(f"{source}: a spec is a table with [sweep], [fixed] and [grid], got {type(data).__name__}")
    unknown = set(data) - {"sweep", "fixed", "grid"}
    if unknown:
        raise SpecError(f"{source}: unknown section(s) {sorted(unknown)}; sections are [sweep], [fixed], [grid]")
    sweep = dict(data.get("sweep", {}) or {})
    fixed = dict(data.get("fixed", {}) or {})
    grid_in = dict(data.get("grid", {}) or {})
    bad = set(sweep) - set(_SWEEP_KEYS)
    if bad:
        raise SpecError(f"{source}: unknown [sweep] key(s) {sorted(bad)}; keys are {', '.join(_SWEEP_KEYS)}")
    try:
        seed = check_nonneg_int(sweep.get("seed", 0), "sweep.seed")
        seeds = check_positive_int(sweep.get("seeds", 1), "sweep.seeds")
    except ValueError as exc:
        raise SpecError(f"{source}: {exc}") from None
    measures = sweep.get("measures", list(MEASURE_COLUMNS))
    if isinstance(measures, str) or not isinstance(measures, (list, tuple)) or not measures:
        raise SpecError(f"{source}: sweep.measures must be a non-empty list of column names, got {measures!r}")
    for m in measures:
        if m not in MEASURE_COLUMNS:
            raise SpecError(f"{source}: sweep.measures: unknown measure {m!r}; measures are "
                            f"{', '.join(MEASURE_COLUMNS)}")
    measures = tuple(dict.fromkeys(measures))
    out = sweep.get("out")
    if out is not None and not isinstance(out, str):
        raise SpecError(f"{source}: sweep.out must be a path string, got {out!r}")
    name = str(sweep.get("name", "sweep"))
    for k in fixed:
        _check_field("fixed", k)
    grid: dict[str, list[Any]] = {}
    for k, v in grid_in.items():
        _check_field("grid", k)
        if k in fixed:
            raise SpecError(f"{source}: {k} is both in [fixed] and in [grid]; keep one")
        grid[k] = expand_axis(k, v)
    if "mu" in fixed and not isinstance(fixed["mu"], (list, tuple)):
        raise SpecError(f"{source}: fixed.mu must be a list of class means, got {fixed['mu']!r}")

    cells: list[Cell] = []
    seen: dict[str, int] = {}
    axes = list(grid)
    for index, combo in enumerate(itertools.product(*(grid[a] for a in axes))):
        values = dict(zip(axes, combo))
        params = {**fixed, **values}
        if "mu" in params:
            if not isinstance(params["mu"], (list, tuple)):
                raise SpecError(f"{source}: cell {index} ({_describe(values)}): mu must be a list of class "
                                f"means, got {params['mu']!r}")
            params["mu"] = tuple(params["mu"])
        try:
            cfg = SimulationConfig(seed=0, seeds=seeds, **params)
        except (ValueError, TypeError) as exc:
            raise SpecError(f"{source}: cell {index} ({_describe(values)}): {exc}") from None
        key = cell_key(cfg)
        if key in seen:
            raise SpecError(f"{source}: cells {seen[key]} and {index} ({_describe(values)}) have the same config; "
                            "remove the repeated axis value")
        seen[key] = index
        cells.append(Cell(index, key, replace(cfg, seed=cell_seed(seed, key)), values))
    return SweepSpec(fixed=fixed, grid=grid, seed=seed, seeds=seeds, measures=measures, out=out, name=name,
                     _cells=tuple(cells))


def _describe(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items()) or "the only cell"


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a spec file: ``.toml``, or ``.yaml``/``.yml`` (needs PyYAML).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from oversmooth.experiments import load_spec
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
    >>> _ = f.write_text('[fixed]\\ndepth = 2\\n[grid]\\nn = [200, 400]\\n')
    >>> load_spec(f).n_cells
    2
    """
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"spec file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        yaml = optional_import("yaml", "sweep")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise SpecError(f"{path}: not valid YAML: {str(exc).splitlines()[0]}") from None
    else:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"{path}: not valid TOML: {exc}") from None
    return parse_spec(data or {}, source=str(path))


# --------------------------------------------------------------------------- running cells
@dataclass
class CellOutcome:
    """What one cell returned: its rows, or the error it raised; seconds and host."""

    index: int
    rows: list[dict[str, Any]] | None
    error: str | None
    seconds: float
    host: str


#: Threads each pool or Dask worker gives one cell's sparse products (``OVERSMOOTH_NUM_THREADS``):
#: the parallelism of a sweep comes from its workers, so one thread each avoids oversubscription.
WORKER_THREADS = 1


def _run_cell(config: SimulationConfig, threads: int | None = None
              ) -> tuple[list[dict[str, Any]] | None, str | None, float, str]:
    """Worker entry point: run one config, never raise (a cell's error is a result).

    ``threads`` (in a worker process) sets ``OVERSMOOTH_NUM_THREADS`` there; results are
    bitwise identical for any thread count.
    """
    if threads is not None:
        os.environ["OVERSMOOTH_NUM_THREADS"] = str(threads)
    t0 = time.perf_counter()
    try:
        rows, err = run_simulation(config), None
    except Exception as exc:  # noqa: BLE001 - stored as the cell's error message
        rows, err = None, f"{type(exc).__name__}: {exc}"
    return rows, err, time.perf_counter() - t0, socket.gethostname()


def _exit_with_parent(parent: int, poll_s: float = 0.5) -> None:  # pragma: no cover - runs in pool workers
    while os.getppid() == parent:
        time.sleep(poll_s)
    os._exit(1)


def _pool_worker_init(parent: int, threads: int) -> None:  # pragma: no cover - runs in pool workers
    """Pool worker setup: one thread per cell, and exit when the driving process dies.

    A SIGKILLed driver cannot shut its pool down; without this watchdog its workers
    would wait forever on the task queue (they never write the store either way).
    """
    import threading

    os.environ["OVERSMOOTH_NUM_THREADS"] = str(threads)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="oversmooth-parent-watch").start()


def _run_cell_strict(config: SimulationConfig) -> list[dict[str, Any]]:
    return run_simulation(config)


_DEFAULT: dict[str, Any] = {"backend": "serial", "workers": None, "dask_scheduler": None, "dask_local": None}


@contextlib.contextmanager
def use_backend(backend: str = "serial", *, workers: int | None = None, dask_scheduler: str | None = None,
                dask_local: int | None = None) -> Iterator[None]:
    """Within the block, :func:`run_cells` called without a backend uses this one.

    ``oversmooth.report.reproduce(workers=...)`` uses it to run every claim's grid on
    a process pool.

    Examples
    --------
    >>> from oversmooth.experiments import SimulationConfig, run_cells, use_backend
    >>> with use_backend("serial"):
    ...     len(run_cells([SimulationConfig(n=200, p=0.05, q=0.01, depth=1)])[0])
    2
    """
    _check_backend(backend, workers, dask_scheduler, dask_local)
    old = dict(_DEFAULT)
    _DEFAULT.update(backend=backend, workers=workers, dask_scheduler=dask_scheduler, dask_local=dask_local)
    try:
        yield
    finally:
        _DEFAULT.clear()
        _DEFAULT.update(old)


def _check_backend(backend: str, workers: int | None, dask_scheduler: str | None, dask_local: int | None) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}")
    if workers is not None:
        check_positive_int(workers, "workers")
    if dask_local is not None:
        check_positive_int(dask_local, "dask_local")
    if backend == "dask" and (dask_scheduler is None) == (dask_local is None):
        raise ValueError("the dask backend needs exactly one of dask_scheduler (an address such as "
                         "tcp://host:8786) and dask_local (number of LocalCluster workers)")


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def _dask_client(dask_scheduler: str | None, dask_local: int | None) -> Iterator[Any]:
    distributed = optional_import("distributed", "dask")
    if dask_scheduler is not None:
        with distributed.Client(dask_scheduler) as client:
            yield client
        return
    with distributed.LocalCluster(n_workers=dask_local, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


def iter_outcomes(
    configs: Sequence[SimulationConfig],
    *,
    backend: str = "serial",
    workers: int | None = None,
    dask_scheduler: str | None = None,
    dask_local: int | None = None,
    client: Any = None,
) -> Iterator[CellOutcome]:
    """Run ``configs`` on a backend and yield each :class:`CellOutcome` as it finishes.

    Parameters
    ----------
    configs : sequence of SimulationConfig
    backend : {"serial", "process", "dask"}
        ``serial`` runs here; ``process`` on a local process pool of ``workers``
        processes (default: every usable core); ``dask`` on the cluster at
        ``dask_scheduler`` or on a LocalCluster of ``dask_local`` single-threaded
        worker processes (loopback only), or on an existing ``client``. ``serial``
        lets a cell's sparse products use every core (threads); pool and Dask
        workers run each cell in :data:`WORKER_THREADS` thread (the workers are the
        parallelism). The values are the same either way.

    Yields
    ------
    CellOutcome
        In completion order (``index`` is the position in ``configs``). A cell that
        raised yields its error message instead of rows; a Dask worker that dies is
        replaced and its cells rerun by the scheduler.
    """
    if client is None:
        _check_backend(backend, workers, dask_scheduler, dask_local)
    configs = list(configs)
    if not configs:
        return
    if backend == "serial" and client is None:
        for i, cfg in enumerate(configs):
            rows, err, sec, host = _run_cell(cfg)
            yield CellOutcome(i, rows, err, sec, host)
        return
    if backend == "process" and client is None:
        import concurrent.futures as cf
        import multiprocessing as mp

        n = min(workers or _default_workers(), len(configs))
        # spawn: workers start clean (no inherited threads or locks), same on every OS
        with cf.ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn"), initializer=_pool_worker_init,
                                    initargs=(os.getpid(), WORKER_THREADS)) as pool:
            futs = {pool.submit(_run_cell, cfg): i for i, cfg in enumerate(configs)}
            try:
                for fut in cf.as_completed(futs):
                    rows, err, sec, host = fut.result()
                    yield CellOutcome(futs[fut], rows, err, sec, host)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        return
    ctx = contextlib.nullcontext(client) if client is not None else _dask_client(dask_scheduler, dask_local)
    with ctx as cl:
        distributed = optional_import("distributed", "dask")
        futs = cl.map(_run_cell, configs, threads=WORKER_THREADS, pure=False)
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


def run_cells(
    configs: Sequence[SimulationConfig],
    *,
    backend: str | None = None,
    workers: int | None = None,
    dask_scheduler: str | None = None,
    dask_local: int | None = None,
) -> list[list[dict[str, Any]]]:
    """Run every config and return their rows, in the order of ``configs``.

    The rows of a config do not depend on the backend or the number of workers
    (each config carries its own seed). Without ``backend``, the one set by
    :func:`use_backend` (default ``serial``). The first cell that raised raises
    ``RuntimeError`` with its message.

    Examples
    --------
    >>> from oversmooth.experiments import SimulationConfig, run_cells
    >>> cfgs = [SimulationConfig(n=200, p=0.05, q=0.01, depth=1, seed=s) for s in (0, 1)]
    >>> [len(r) for r in run_cells(cfgs)]
    [2, 2]
    """
    if backend is None:
        backend, workers = _DEFAULT["backend"], workers or _DEFAULT["workers"]
        dask_scheduler, dask_local = _DEFAULT["dask_scheduler"], _DEFAULT["dask_local"]
    configs = list(configs)
    if backend == "serial":
        _check_backend(backend, workers, dask_scheduler, dask_local)
        return [_run_cell_strict(c) for c in configs]  # errors keep their type and traceback
    out: list[list[dict[str, Any]] | None] = [None] * len(configs)
    for o in iter_outcomes(configs, backend=backend, workers=workers, dask_scheduler=dask_scheduler,
                           dask_local=dask_local):
        if o.error is not None:
            raise RuntimeError(f"config {o.index} failed: {o.error}")
        out[o.index] = o.rows
    return out  # type: ignore[return-value]


# --------------------------------------------------------------------------- sweeps
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


def _store_columns(spec: SweepSpec) -> list[str]:
    return [*STORE_CONFIG_COLUMNS, *spec.measures]


def _store_rows(cell: Cell, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    cfg = cell.config.to_dict()
    base = {("max_depth" if k == "depth" else k): v for k, v in cfg.items() if k not in ("seed",)}
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
    unless ``retry_failed``. Each finished cell is written in one transaction (see
    :mod:`oversmooth.experiments._store`), so killing the sweep at any moment and
    running it again gives the same store as an uninterrupted run.

    Parameters
    ----------
    spec : SweepSpec
    out : path, optional
        Output directory (default the spec's ``out``).
    backend, workers, dask_scheduler, dask_local
        See :func:`iter_outcomes` (``dask_scheduler``/``dask_local`` imply ``dask``).
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
    if dask_scheduler is not None or dask_local is not None:
        backend = "dask"
    _check_backend(backend, workers, dask_scheduler, dask_local)
    out = _resolve_out(spec, out)
    t0 = time.perf_counter()
    store = ResultStore.create(out, _store_columns(spec), {"seed": spec.seed})
    try:
        store.set_meta(spec=spec.to_dict(), name=spec.name, oversmooth_version=__version__)
        cells = spec.cells()
        store.reindex({c.key: c.index for c in cells})
        status = store.statuses()
        todo = [c for c in cells if status.get(c.key) != "done" and (retry_failed or status.get(c.key) != "failed")]
        bar = Progress(len(todo), stream=stream, enabled=progress and bool(todo))
        failures: list[tuple[int, str]] = []
        store_seconds = 0.0
        for o in iter_outcomes([c.config for c in todo], backend=backend, workers=workers,
                               dask_scheduler=dask_scheduler, dask_local=dask_local):
            cell = cells[todo[o.index].index]
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
                        ran=len(todo), seconds=time.perf_counter() - t0, backend=backend,
                        workers=dask_local if backend == "dask" else workers, failures=failures,
                        store_seconds=store_seconds)


def _status_of(store: ResultStore, cells: Sequence[Cell]) -> dict[str, int]:
    status = store.statuses()
    keys = [c.key for c in cells]
    done = sum(status.get(k) == "done" for k in keys)
    failed = sum(status.get(k) == "failed" for k in keys)
    return {"total": len(keys), "done": done, "failed": failed, "pending": len(keys) - done - failed,
            "stored_outside_spec": len(set(status) - set(keys))}


def sweep_status(out: str | Path) -> dict[str, Any]:
    """Done / failed / pending cells of the sweep stored in ``out`` (against its last spec).

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
        meta = store.meta()
        spec = parse_spec(meta["spec"], source=f"{out}/{STORE_FILENAME}")
        st = _status_of(store, spec.cells())
        st["failures"] = [(c["cell_index"], c["error"]) for c in store.cells() if c["status"] == "failed"]
        st["rows"] = store.n_result_rows()
    st.update(name=spec.name, seed=spec.seed, out=str(out))
    return st


def summary_rows(out: str | Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Per-cell summary of a stored sweep: axes, status, seconds, best depth and its error.

    ``best_depth`` is the depth of the smallest seed-mean Bayes error (when
    ``bayes_error`` is recorded); one dict per cell of the stored spec, in grid order.
    """
    with ResultStore.open(out) as store:
        spec = parse_spec(store.meta()["spec"], source=f"{out}/{STORE_FILENAME}")
        by_key = {c["cell_key"]: c for c in store.cells()}
        best: dict[str, tuple[int, float]] = {}
        if "bayes_error" in store.columns:
            for key, depth, err in store.query(
                    "SELECT cell_key, depth, AVG(bayes_error) FROM results GROUP BY cell_key, depth "
                    "ORDER BY cell_key, depth"):
                if err is not None and (key not in best or err < best[key][1]):
                    best[key] = (int(depth), float(err))
    out_rows = []
    for c in spec.cells()[:limit]:
        stored = by_key.get(c.key)
        row = {"cell": c.index, **c.axes, "status": stored["status"] if stored else "pending",
               "seconds": stored["seconds"] if stored else None}
        if c.key in best:
            row["best_depth"], row["best_bayes_error"] = best[c.key]
        out_rows.append(row)
    return out_rows


def estimate_cost(spec: SweepSpec, *, calibrate: bool = True) -> dict[str, Any]:
    """Rough cost of a sweep: work units per cell and, calibrated here, seconds.

    The model: a layer propagates ``cols`` columns over ``N d`` stored entries, with
    ``cols = N`` for the exact variance (dense rows of M_n) and ``probes`` otherwise,
    so a cell costs ``seeds (depth + 1) N d cols`` (+ sampling ``seeds N d``). With
    ``calibrate``, two small reference cells (exact and Hutchinson) are timed on this
    machine to turn units into seconds on one worker.
    """
    from ..measures._profile import _resolve_method  # the same rule as depth_profile

    def units(cfg: SimulationConfig) -> tuple[str, float]:
        k = len(cfg.mu)
        d = 1.0 + cfg.n * (cfg.p + (k - 1) * cfg.q) / k
        method = _resolve_method(cfg.method, cfg.n, cfg.exact_max_nodes)
        cols = cfg.n if method == "exact" else cfg.probes
        return method, cfg.seeds * (cfg.n * d * ((cfg.depth + 1) * (cols + 2) + 1))

    per_method: dict[str, float] = {"exact": 0.0, "hutchinson": 0.0}
    for c in spec.cells():
        m, u = units(c.config)
        per_method[m] += u
    est: dict[str, Any] = {"cells": spec.n_cells, "seeds_per_cell": spec.seeds,
                           "rows": sum(spec.seeds * (c.config.depth + 1) for c in spec.cells()),
                           "work_units": float(sum(per_method.values()))}
    if calibrate:
        seconds = 0.0
        for method, ref in (("exact", SimulationConfig(n=800, p=0.02, q=0.005, depth=6, method="exact")),
                            ("hutchinson", SimulationConfig(n=4000, p=0.004, q=0.001, depth=6,
                                                            method="hutchinson", probes=32))):
            if per_method[method] == 0:
                continue
            run_simulation(ref)  # warm caches and imports
            t = time.perf_counter()
            run_simulation(ref)
            seconds += per_method[method] * (time.perf_counter() - t) / units(ref)[1]
        est["seconds_one_worker"] = seconds
        est["seconds_all_cores"] = seconds / _default_workers()
        est["cores"] = _default_workers()
    return est


def format_cost(est: Mapping[str, Any]) -> str:
    """One line of :func:`estimate_cost` output."""
    text = f"{est['cells']} cells x {est['seeds_per_cell']} seed(s), {est['rows']} rows, " \
           f"~{est['work_units']:.3g} work units"
    if "seconds_one_worker" in est:
        def fmt(s: float) -> str:
            return f"{s:.1f}s" if s < 60 else format_duration(s)

        text += (f"; estimated {fmt(est['seconds_one_worker'])} on one worker, "
                 f"~{fmt(est['seconds_all_cores'])} on {est['cores']} cores (rough)")
    return text


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
        raise ValueError(f"table must be 'results' or 'cells', got {table!r}")
    pd = optional_import("pandas", "sweep")
    with ResultStore.open(out) as store:
        order = "cell_index, seed, depth" if table == "results" else "cell_index"
        cur = store._conn.execute(f"SELECT * FROM {table} ORDER BY {order}")
        names = [d[0] for d in cur.description]
        df = pd.DataFrame.from_records(cur.fetchall(), columns=names)
    if table == "results" and "self_loops" in df:
        df["self_loops"] = df["self_loops"].astype(bool)
    return df
