"""Measured cells the explorer overlays: a small fresh grid, or rows read from a result table.

A *cell* is one ``(operator, N, p, q, sigma, alpha, self_loops)`` setting with its measured
mean gap, feature-noise variance and Bayes error per depth, averaged over seeds (rows as
:func:`oversmooth.experiments.simulate` returns them and ``reproduce`` writes them to
``results/*.csv``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .. import theory
from .._utils import check_choice, check_nonneg_int
from ..errors import DataError, FileFormatError, ResourceLimitError
from ._curves import EXPLORER_OPERATORS

__all__ = ["GRIDS", "GRID_DEPTH", "grid_configs", "measure_grid", "read_results", "aggregate_cells"]

#: Depth of the fresh grid's runs (the page's default depth range).
GRID_DEPTH = 24
#: The fresh grids: (N values, (lambda, c) pairs, operators); sigma = 1, alpha = 0.1, self-loops on.
GRIDS: dict[str, tuple[tuple[int, ...], tuple[tuple[float, float], ...], tuple[str, ...]]] = {
    "default": ((500, 2000), ((0.5, 10.0), (-0.5, 10.0), (0.8, 20.0), (0.3, 20.0)), EXPLORER_OPERATORS),
    "small": ((500,), ((0.5, 10.0), (-0.5, 10.0)), EXPLORER_OPERATORS),
    "none": ((), (), ()),
}
#: Row keys a result table must have.
REQUIRED = ("operator", "n", "p", "q", "sigma", "depth")
#: Measured columns drawn (a table needs at least one; a sweep stores those its spec's ``measures`` name).
MEASURED = ("gap", "feature_variance", "bayes_error", "realised_error")
#: At most this many cells from a result table (each one is a button and a search on every slider move).
MAX_CELLS = 2000
#: Result files larger than this are refused before they are read (bytes).
MAX_RESULTS_BYTES = 200 * 2**20
#: At most this many rows are read from a sweep store.
MAX_STORE_ROWS = 2_000_000


def grid_configs(grid: str = "default") -> list[dict[str, Any]]:
    """The simulate settings of a named grid (``default``, ``small`` or ``none``).

    Examples
    --------
    >>> from oversmooth.explore import grid_configs
    >>> cfg = grid_configs("small")[0]
    >>> cfg["n"], round(cfg["p"], 6), round(cfg["q"], 6), cfg["operator"]
    (500, 0.03, 0.01, 'gcn')
    """
    grid = check_choice(grid, "grid", tuple(GRIDS))
    ns, pairs, ops = GRIDS[grid]
    out = []
    for n in ns:
        for lam, c in pairs:
            p, q = theory.csbm_pq(n, c, lam)
            for op in ops:
                out.append({"n": n, "p": p, "q": q, "sigma": 1.0, "operator": op, "alpha": 0.1,
                            "self_loops": True, "lam": lam, "c": c})
    return out


def measure_grid(grid: str = "default", *, seed: int = 0, seeds: int = 2, depth: int = GRID_DEPTH) -> list[dict]:
    """Run :func:`~oversmooth.experiments.simulate` on every setting of ``grid``; return its cells.

    The feature-noise variance is a Hutchinson estimate with 32 probes (the rows say so; the
    error of a class average is about ``sqrt(2 / (32 N/2))``: 1.6% at N = 500, 0.8% at 2000);
    the exact one cost a third of the build at N = 500.

    Examples
    --------
    >>> from oversmooth.explore import measure_grid
    >>> measure_grid("none")
    []
    """
    from ..experiments import simulate

    seed = check_nonneg_int(seed, "seed")
    rows: list[dict[str, Any]] = []
    for cfg in grid_configs(grid):
        method = "hutchinson"
        rows += simulate(cfg["n"], cfg["p"], cfg["q"], sigma=cfg["sigma"], depth=depth, operator=cfg["operator"],
                         alpha=cfg["alpha"], seed=seed, seeds=seeds, method=method, probes=32)
    return aggregate_cells(rows, source=f"fresh grid '{grid}' (seed {seed})")


def _rows_from_store(path: Path) -> list[dict[str, Any]]:
    """The ``results`` rows of a sweep's store (``path`` is its output directory or its results.sqlite)."""
    from ..experiments.sweep import STORE_FILENAME, open_store

    out = path if path.is_dir() else path.parent
    if not (out / STORE_FILENAME).is_file():
        raise DataError(f"results {path} is a directory without a sweep store ({STORE_FILENAME}) in it")
    with open_store(out) as store:
        names, rows = store.table("results")
    if len(rows) > MAX_STORE_ROWS:
        raise ResourceLimitError(f"results {path} holds {len(rows)} rows; at most {MAX_STORE_ROWS} are read")
    return [dict(zip(names, r)) for r in rows]


def _rows_from_file(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise DataError(f"results file not found: {path}")
    if path.is_dir() or path.suffix.lower() == ".sqlite":
        return _rows_from_store(path)
    if not path.is_file():
        raise DataError(f"results file {path} is not a regular file")
    size = path.stat().st_size
    if size > MAX_RESULTS_BYTES:
        raise ResourceLimitError(f"results file {path} has {size} bytes; at most {MAX_RESULTS_BYTES} are read")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read results file {path}: {exc}") from None
    if path.suffix.lower() == ".csv":
        from ..experiments import read_csv

        try:
            return read_csv(path)
        except (ValueError, KeyError) as exc:
            raise FileFormatError(f"results file {path} is not a CSV table: {exc}") from None
    try:
        if path.suffix.lower() == ".jsonl":
            data: Any = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise FileFormatError(f"results file {path} is not valid JSON: {str(exc)[:200]}") from None
    if isinstance(data, dict):
        data = data.get("rows")
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise FileFormatError(f"results file {path} must hold a list of row objects (or {{'rows': [...]}})")
    return data


def read_results(path: str | Path) -> list[dict[str, Any]]:
    """Cells from a result table: a CSV (``reproduce``'s ``results/*.csv``), ``simulate --json`` output, JSON
    lines, or a sweep's output directory (its ``results.sqlite``).

    Rows need the columns ``operator, n, p, q, sigma, depth`` and at least one of ``gap,
    feature_variance, bayes_error, realised_error``; rows of operators the explorer has no theory for
    (``gcn-sym``, ``pairnorm``, ...) are left out.

    Examples
    --------
    >>> import json, os, tempfile
    >>> from oversmooth.explore import read_results
    >>> path = os.path.join(tempfile.mkdtemp(), "rows.json")
    >>> row = dict(operator="gcn", n=100, p=0.1, q=0.02, sigma=1.0, depth=0, gap=2.0, feature_variance=1.0,
    ...            bayes_error=0.16, seed=0)
    >>> _ = open(path, "w").write(json.dumps({"rows": [row]}))
    >>> [c["n"] for c in read_results(path)]
    [100]
    """
    path = Path(path)
    rows = _rows_from_file(path)
    cells = aggregate_cells(rows, source=str(path), label=f"results file {path}")
    if len(cells) > MAX_CELLS:
        raise ResourceLimitError(f"results file {path} holds {len(cells)} cells; the explorer shows at most {MAX_CELLS}")
    return cells


_SELF_LOOPS = {"true": True, "1": True, "1.0": True, "false": False, "0": False, "0.0": False}


def _check_row(r: Any, i: int, label: str) -> None:
    """Refuse a row whose settings are not a CSBM cell (naming the file or argument, the row and the column)."""
    where = f"{label}: row {i}"
    if not isinstance(r, dict):
        raise FileFormatError(f"{where} is not a mapping of columns")
    missing = [k for k in REQUIRED if k not in r]
    if missing:
        raise FileFormatError(f"{where} lacks column(s) {', '.join(missing)}")
    if not any(k in r for k in MEASURED):
        raise FileFormatError(f"{where} has none of the measured columns {', '.join(MEASURED)}")
    n, depth = _float(r["n"]), _float(r["depth"])
    if not (isinstance(r["n"], (int, float, str)) and math.isfinite(n) and n == int(n) and 2 <= n <= 1e9):
        raise FileFormatError(f"{where}: n must be an integer in [2, 1e9], got {r['n']!r}")
    if not (isinstance(r["depth"], (int, float, str)) and math.isfinite(depth) and depth == int(depth) and 0 <= depth <= 10**4):
        raise FileFormatError(f"{where}: depth must be an integer in [0, 10000], got {r['depth']!r}")
    for key in ("p", "q"):
        v = _float(r[key])
        if not 0.0 <= v <= 1.0:
            raise FileFormatError(f"{where}: {key} must be a probability in [0, 1], got {r[key]!r}")
    if not _float(r["p"]) + _float(r["q"]) > 0:
        raise FileFormatError(f"{where}: p and q are both 0")
    sigma = _float(r["sigma"])
    if not (math.isfinite(sigma) and sigma > 0):
        raise FileFormatError(f"{where}: sigma must be a positive number, got {r['sigma']!r}")
    if str(r.get("self_loops", True)).lower() not in _SELF_LOOPS:
        raise FileFormatError(f"{where}: self_loops must be true or false, got {r.get('self_loops')!r}")
    if str(r["operator"]) == "appnp" and not 0.0 <= _float(r.get("alpha", 0.1)) <= 1.0:
        raise FileFormatError(f"{where}: alpha must be in [0, 1], got {r.get('alpha')!r}")


def _float(v: Any) -> float:
    if isinstance(v, bool):
        return math.nan
    try:
        x = float(v)
    except (TypeError, ValueError, OverflowError):
        return math.nan
    return x


def _mean(values: Iterable[Any]) -> float | None:
    arr = np.array([_float(v) for v in values], dtype=float)
    arr = arr[np.isfinite(arr)]
    if not arr.size:
        return None
    with np.errstate(over="ignore"):
        m = float(np.mean(arr))
    return m if math.isfinite(m) else None


def aggregate_cells(rows: Sequence[dict[str, Any]], source: str = "", *, label: str = "rows") -> list[dict[str, Any]]:
    """Group simulate rows into cells (means over seeds per depth); unknown operators are left out.

    Every row is checked first (a :class:`~oversmooth.errors.FileFormatError` names ``label``,
    the row and the column).

    Examples
    --------
    >>> from oversmooth.explore import aggregate_cells
    >>> rows = [dict(operator="gcn", n=100, p=0.1, q=0.02, sigma=1.0, depth=0, gap=g, feature_variance=1.0,
    ...              bayes_error=0.16, seed=s) for s, g in enumerate([1.9, 2.1])]
    >>> cell = aggregate_cells(rows)[0]
    >>> cell["seeds"], [round(v, 6) for v in cell["gap"]]
    (2, [2.0])
    """
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for i, r in enumerate(rows):
        _check_row(r, i, label)
    for r in rows:
        op = str(r["operator"])
        if op not in EXPLORER_OPERATORS:
            continue
        alpha = _float(r.get("alpha", 0.1)) if op == "appnp" else None
        sl = _SELF_LOOPS[str(r.get("self_loops", True)).lower()]
        key = (op, int(_float(r["n"])), _float(r["p"]), _float(r["q"]), _float(r["sigma"]), alpha, sl)
        groups.setdefault(key, []).append(r)
    cells = []
    for (op, n, p, q, sigma, alpha, sl), grp in sorted(groups.items(), key=lambda kv: str(kv[0])):
        by_depth: dict[int, list[dict[str, Any]]] = {}
        for r in grp:
            by_depth.setdefault(int(_float(r["depth"])), []).append(r)
        depths = sorted(by_depth)
        methods = sorted({str(r.get("variance_method", "")) for r in grp} - {"", "None"})
        cells.append({
            "operator": op, "n": n, "p": p, "q": q, "sigma": sigma, "alpha": alpha, "self_loops": sl,
            "seeds": len({str(r.get("seed")) for r in grp}), "variance_method": (", ".join(methods) or "unknown")[:80],
            "depths": depths,
            **{m: [_mean(r.get(m) for r in by_depth[k]) for k in depths] for m in MEASURED},
            "source": source,
        })
    return cells
