"""What a sweep will cost: cells and rows counted arithmetically, seconds calibrated on this machine.

The model. A cell runs ``seeds`` replicates; each samples a graph (cost ~ ``N (d + 1)``, d the
mean degree) and propagates ``cols`` columns through ``depth + 1`` layers, ``cols = N`` for
the exact variance (dense rows of M_n) and ``probes`` for Hutchinson's. One layer costs
``a N d cols`` (the sparse product) plus ``b N cols`` (the dense per-layer measures), so

    t(cell) = seeds [ f N (d + 1) + (depth + 1) N cols (a d + b) ]

with ``a, b, f`` per (variance method, operator). *Calibration* measures them here, now:
for every (method, operator) of the spec, the cells of lowest and highest degree are run
with one seed at depths 1 and 5 (shrunk to N <= :data:`CALIBRATION_MAX_NODES`, degree kept,
when larger); the depth difference gives the layer cost at two degrees (``a`` and ``b``),
the rest the sampling cost ``f``. Nothing is a constant of another machine.

The costs are fitted on CPU seconds, so they do not depend on the load at calibration time.
The wall time of ``w`` workers replays the pool's order (cells in grid order, each to the
next free worker) at the speed the machine gives the pool now. The calibration measures
the share of a core it got (CPU / wall seconds). On a saturated machine (share < 1) with
the kernel's *autogroup* scheduling (Linux's default for sessions), CPU is shared between
sessions first: the whole pool gets what the calibration's one thread got, however many
workers it has; without autogroup, each process gets an equal share. On a machine with
idle cores, the pool gets the cores the other processes left idle during the calibration
(from ``/proc/stat``), at least one. Starting a pool worker costs :data:`POOL_START_CPU_S`.
The estimate assumes the load stays as it was during the dry run.

Examples
--------
>>> from oversmooth.experiments import parse_spec, estimate_cost
>>> est = estimate_cost(parse_spec({"fixed": {"depth": 4}, "grid": {"n": [200, 400]}}), calibrate=False)
>>> est["cells"], est["rows"]
(2, 10)
"""

from __future__ import annotations

import heapq
import os
import time
from dataclasses import replace
from typing import Any, Mapping

import numpy as np

from ..._progress import format_duration
from ...graphs import check_bytes
from .. import _simulate
from ...measures import resolve_variance_method
from ...operators import num_threads
from .spec import SweepSpec

__all__ = ["estimate_cost", "format_cost", "cell_cost_arrays", "cell_memory_bytes", "check_memory", "CALIBRATION_MAX_NODES", "POOL_START_CPU_S"]

#: Calibration cells larger than this are shrunk to it (mean degree kept).
CALIBRATION_MAX_NODES = 20_000
#: CPU seconds a spawned pool worker takes to start (interpreter + imports), added to pool estimates.
POOL_START_CPU_S = 1.2
_DEPTHS = (1, 5)
_LIST_SCHEDULE_MAX = 200_000


def cell_cost_arrays(spec: SweepSpec) -> dict[str, Any]:
    """Per-cell model quantities as arrays in grid order: n, d, cols, depth, exact, op (+ ``operators``).

    Computed from the axes by index arithmetic (fixed values stay scalars and broadcast), so a
    10**6-cell grid takes a fraction of a second. ``exact`` is the variance method
    depth_profile resolves (``auto`` is exact up to ``exact_max_nodes``); ``op`` indexes ``operators``.
    """
    size = spec.n_cells
    strides: dict[str, int] = {}
    stride = 1
    for a in reversed(list(spec.grid)):
        strides[a] = stride
        stride *= len(spec.grid[a])
    index = np.arange(size, dtype=np.int64) if spec.grid else np.zeros(1, dtype=np.int64)
    base = _simulate.SimulationConfig()

    def per_cell(name: str, fn: Any) -> Any:
        """``fn`` of the field's value per cell: a scalar when fixed, an indexed array over an axis."""
        if name in spec.grid:
            vals = spec.grid[name]
            small = np.asarray([fn(v) for v in vals])
            return small[(index // strides[name]) % len(vals)]
        return fn(spec.fixed.get(name, getattr(base, name)))

    operators = sorted({*spec.grid.get("operator", []), spec.fixed.get("operator", base.operator)})
    n = per_cell("n", float)
    k = per_cell("mu", lambda m: float(len(m)))
    d = n * (per_cell("p", float) + (k - 1) * per_cell("q", float)) / k + per_cell("self_loops", float)
    def values(name: str) -> list[Any]:
        return spec.grid.get(name, [spec.fixed.get(name, getattr(base, name))])

    def position(name: str) -> Any:
        return (index // strides[name]) % len(spec.grid[name]) if name in spec.grid else 0

    # the variance method depth_profile resolves, for each distinct (method, n, exact_max_nodes)
    ms, ns, es = values("method"), values("n"), values("exact_max_nodes")
    table = np.array([resolve_variance_method(m, int(v), int(e)) == "exact" for m in ms for v in ns for e in es])
    exact = table[(position("method") * len(ns) + position("n")) * len(es) + position("exact_max_nodes")]
    cols = np.where(exact, n, per_cell("probes", float))
    shape = (max(size, 1),)
    out = {"n": n, "d": d, "cols": cols, "depth": per_cell("depth", float), "exact": exact,
           "op": per_cell("operator", operators.index)}
    out = {key: np.broadcast_to(np.asarray(v, dtype=bool if key == "exact" else None), shape)[:size]
           for key, v in out.items()}
    out["operators"] = operators
    return out


def cell_memory_bytes(arr: Mapping[str, np.ndarray]) -> np.ndarray:
    """Peak memory of each cell, roughly (bytes): the graph, the propagated block, the per-depth norms.

    ``40 N d`` for the sparse matrices (COO sampling, CSR adjacency and operator), ``32 N (c + 2)``
    for the propagated columns (``c = probes``, or the exact path's column chunk of at most 256)
    and ``8 N (depth + 1)`` for the exact per-depth row norms.
    """
    n, d = arr["n"], arr["d"]
    chunk = np.where(arr["exact"], np.minimum(n, 256.0), arr["cols"])
    return 40.0 * n * d + 32.0 * n * (chunk + 2) + 8.0 * n * (arr["depth"] + 1)


def check_memory(spec: SweepSpec) -> None:
    """Refuse, before any work, a spec whose largest cell needs more memory than the package's budget.

    The budget is :func:`oversmooth.graphs.max_bytes` (``$OVERSMOOTH_MAX_BYTES``, else the physical
    memory), checked by :func:`oversmooth.graphs.check_bytes`, as for every other allocation.
    """
    arr = cell_cost_arrays(spec)
    if spec.n_cells == 0:
        return
    mem = cell_memory_bytes(arr)
    i = int(np.argmax(mem))
    names = "probes" if not arr["exact"][i] and arr["cols"][i] > arr["d"][i] else "n, p, q"
    axes = ", ".join(f"{k}={v}" for k, v in spec.axis_values(i).items()) or "the only cell"
    check_bytes(int(min(mem[i], 2.0**62)), f"{spec.source}: {names}: cell {i} ({axes}: N = {arr['n'][i]:,.0f} nodes, "
                f"mean degree {arr['d'][i]:,.3g}, {arr['cols'][i]:,.0f} columns)", f"lower {names}")


def _busy_seconds() -> float | None:
    """CPU seconds every process of the machine has used so far (``/proc/stat``), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            parts = fh.readline().split()
        ticks = sum(int(v) for i, v in enumerate(parts[1:9]) if i not in (3, 4))  # all but idle, iowait
        return ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):  # pragma: no cover - not Linux
        return None


def _autogroup() -> bool:
    """Whether the kernel shares CPU between sessions first (``sched_autogroup_enabled``)."""
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled", encoding="ascii") as fh:
            return fh.read().strip() == "1"
    except OSError:
        return False


class _Clock:
    """Times runs: CPU seconds of this process (the cost, load-independent) and wall seconds (the share we got)."""

    def __init__(self) -> None:
        self.cpu = self.wall = 0.0

    def __call__(self, cfg: Any) -> float:
        t, c = time.perf_counter(), time.process_time()
        _simulate.run_simulation(cfg)
        cpu, wall = time.process_time() - c, time.perf_counter() - t
        self.cpu, self.wall = self.cpu + cpu, self.wall + wall
        return cpu

    @property
    def share(self) -> float:
        """Fraction of a core the calibration got (CPU / wall), in [0.05, 1]."""
        return min(1.0, max(0.05, self.cpu / self.wall)) if self.wall > 0 else 1.0


def _reference(spec: SweepSpec, index: int) -> tuple[Any, float]:
    """Cell ``index``'s config with one seed, shrunk to CALIBRATION_MAX_NODES (degree kept); the shrink factor."""
    cfg = spec.cell(index).config
    cfg = replace(cfg, seeds=1)
    if cfg.n <= CALIBRATION_MAX_NODES:
        return cfg, 1.0
    f = cfg.n / CALIBRATION_MAX_NODES
    return replace(cfg, n=CALIBRATION_MAX_NODES, p=min(1.0, cfg.p * f), q=min(1.0, cfg.q * f)), f


def _calibrate_group(spec: SweepSpec, arr: dict[str, Any], members: np.ndarray, clock: _Clock) -> dict[str, Any]:
    x = arr["d"][members]
    picks = list(dict.fromkeys([int(members[np.argmin(x)]), int(members[np.argmax(x)])]))
    points = []
    for i in picks:
        cfg, shrink = _reference(spec, i)
        t1, t2 = (clock(replace(cfg, depth=D)) for D in _DEPTHS)
        layer = max(t2 - t1, 1e-9) / (_DEPTHS[1] - _DEPTHS[0])
        fixed = max(t1 - (_DEPTHS[0] + 1) * layer, 0.0)
        nr = float(cfg.n)
        k = len(cfg.mu)
        dr = nr * (cfg.p + (k - 1) * cfg.q) / k + bool(cfg.self_loops)
        colsr = nr if arr["exact"][i] else float(cfg.probes)
        points.append({"cell": i, "n": cfg.n, "degree": dr, "layer_s": layer, "sample_s": fixed, "shrunk_by": shrink,
                       "per_unit": layer / (nr * colsr), "d": dr, "f": fixed / (nr * (dr + 1))})
    if len(points) == 2 and points[1]["d"] - points[0]["d"] > 0.2 * max(points[0]["d"], 1.0):
        (d1, y1), (d2, y2) = ((p["d"], p["per_unit"]) for p in points)
        a = (y2 - y1) / (d2 - d1)
        b = y1 - a * d1
        if a < 0 or b < 0:  # noisy timings: fall back to cost proportional to degree
            a, b = sum(p["per_unit"] / p["d"] for p in points) / len(points), 0.0
    else:
        a, b = sum(p["per_unit"] / p["d"] for p in points) / len(points), 0.0
    f = sum(p["f"] for p in points) / len(points)
    for p in points:
        del p["per_unit"], p["d"], p["f"]
    return {"a": a, "b": b, "f": f, "references": points}


def _schedule(times: np.ndarray, workers: int) -> float:
    """Wall time of cells taken in order by the next free of ``workers`` workers."""
    if workers <= 1:
        return float(times.sum())
    if len(times) > _LIST_SCHEDULE_MAX:
        return float(max(times.sum() / workers, times.max()))
    free = [0.0] * workers
    for t in times.tolist():
        heapq.heappush(free, heapq.heappop(free) + t)
    return max(free)


def estimate_cost(spec: SweepSpec, *, calibrate: bool = True, workers: int | None = None,
                  backend: str = "process") -> dict[str, Any]:
    """Cells, rows, work units and (calibrated here, now) the seconds a sweep will take.

    Parameters
    ----------
    spec : SweepSpec
    calibrate : bool
        Time small reference cells of the spec on this machine (a few seconds) and
        predict every cell's seconds and the wall time (see the module docstring).
    workers : int, optional
        Workers of the run to predict (default: every usable core; 1 for ``serial``).
    backend : {"process", "serial", "dask"}
        ``serial`` runs cells one at a time with threaded products; the others in
        single-threaded workers (the calibration then runs single-threaded too).

    Returns
    -------
    dict
        ``cells``, ``seeds_per_cell``, ``rows``, ``work_units``; with ``calibrate`` also
        ``seconds_one_worker`` (sum of cell times), ``seconds_estimate`` (wall time on
        ``workers``), ``workers``, ``cores``, ``load_others``, ``calibration_s`` and
        the fitted ``model`` per (method, operator).
    """
    arr = cell_cost_arrays(spec)
    seeds = spec.seeds
    layers = arr["depth"] + 1
    units = seeds * layers * arr["n"] * arr["d"] * arr["cols"]
    est: dict[str, Any] = {"cells": spec.n_cells, "seeds_per_cell": seeds, "rows": int(seeds * layers.sum()),
                           "work_units": float(units.sum())}
    if not calibrate or spec.n_cells == 0:
        return est
    cores = num_threads()
    serial = backend == "serial" or workers == 1
    w = 1 if serial else min(workers or cores, spec.n_cells)
    others = max(0.0, os.getloadavg()[0]) if hasattr(os, "getloadavg") else 0.0
    t0 = time.perf_counter()
    old = os.environ.get("OVERSMOOTH_NUM_THREADS")
    if not serial:
        os.environ["OVERSMOOTH_NUM_THREADS"] = "1"  # as in a pool worker
    try:
        clock = _Clock()
        clock(_simulate.SimulationConfig(n=200, p=0.05, q=0.01, depth=1))  # imports and caches warm
        clock.cpu = clock.wall = 0.0
        busy0, t_busy = _busy_seconds(), time.perf_counter()
        seconds = np.zeros(spec.n_cells)
        model: dict[str, Any] = {}
        groups = arr["exact"].astype(np.int64) * len(arr["operators"]) + arr["op"]
        for g in np.unique(groups).tolist():
            members = np.flatnonzero(groups == g)
            fit = _calibrate_group(spec, arr, members, clock)
            name = ("exact" if g >= len(arr["operators"]) else "hutchinson") + ":" + arr["operators"][
                g % len(arr["operators"])]
            model[name] = fit
            n, d, cols = arr["n"][members], arr["d"][members], arr["cols"][members]
            seconds[members] = seeds * (fit["f"] * n * (d + 1) + layers[members] * n * cols * (fit["a"] * d + fit["b"]))
    finally:
        if old is None:
            os.environ.pop("OVERSMOOTH_NUM_THREADS", None)
        else:
            os.environ["OVERSMOOTH_NUM_THREADS"] = old
    busy1 = _busy_seconds()
    span = time.perf_counter() - t_busy
    if busy0 is not None and busy1 is not None and span > 0:  # cores other processes kept busy meanwhile
        others_busy = max(0.0, (busy1 - busy0 - clock.cpu) / span)
    else:  # pragma: no cover - not Linux
        others_busy = min(others, cores - 1.0)
    # contention. The calibration got `share` of a core (CPU / wall seconds). Saturated machine
    # (share < 1): with the kernel's autogroup, CPU is shared between sessions first, so the
    # whole pool gets what one thread got; without it, each process gets cores / (demand + 1)
    # and the pool w times that of cores / (demand + w). Otherwise the pool gets the cores the
    # others left idle, at least one.
    share = clock.share
    if serial:  # one cell at a time, its products threaded as in the calibration
        total = clock.cpu / clock.wall if clock.wall > 0 else 1.0
        per_worker = total
    else:
        if share < 0.95:
            demand = cores / share - 1
            total = share if _autogroup() else min(w, w * cores / (demand + w))
        else:
            total = min(float(w), max(1.0, cores - others_busy))
        per_worker = total / w
    seconds = seconds / per_worker
    wall = _schedule(seconds, w) + (0.0 if serial else POOL_START_CPU_S / per_worker)
    est.update(seconds_one_worker=float(seconds.sum()),
               seconds_estimate=float(wall), seconds_all_cores=float(wall), workers=w, cores=cores,
               load_others=round(others, 2), calibration_s=round(time.perf_counter() - t0, 2),
               calibration_core_share=round(share, 3), others_busy_cores=round(others_busy, 2),
               cores_for_the_sweep=round(total, 3), autogroup=_autogroup(),
               backend="serial" if serial else backend, model=model)
    return est


def format_cost(est: Mapping[str, Any]) -> str:
    """One line of :func:`estimate_cost` output.

    Examples
    --------
    >>> from oversmooth.experiments.sweep import format_cost
    >>> format_cost({"cells": 2, "seeds_per_cell": 1, "rows": 10, "work_units": 1e6})
    '2 cells x 1 seed(s), 10 rows, ~1e+06 work units'
    """
    text = f"{est['cells']:,} cells x {est['seeds_per_cell']} seed(s), {est['rows']:,} rows, " \
           f"~{est['work_units']:.3g} work units"
    if "seconds_estimate" in est:
        def fmt(s: float) -> str:
            return f"{s:.1f}s" if s < 60 else format_duration(s)

        text += (f"; estimated {fmt(est['seconds_estimate'])} on {est['workers']} worker(s) "
                 f"({fmt(est['seconds_one_worker'])} of cell time; calibrated here in {est['calibration_s']:.1f}s, "
                 f"load of other processes {est['load_others']:.1f} on {est['cores']} cores)")
    return text
