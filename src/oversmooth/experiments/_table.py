"""Tidy result tables: lists of flat dict rows, written to and read from CSV.

One row per config x seed x depth; every row records its config, seed and the package
version. Figures are drawn from these tables (see :mod:`oversmooth.viz`), never from
ad-hoc loops.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

__all__ = ["write_csv", "read_csv", "group_rows", "column", "mean_and_sem"]


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(v)
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v)
    return str(v)


def write_csv(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str], columns: Sequence[str] | None = None) -> Path:
    """Write rows as CSV atomically (temp file + rename); floats round-trip exactly.

    Columns default to the union of keys in first-seen order. ``None``/NaN -> empty
    cell, booleans -> ``true``/``false``, lists -> JSON.

    Examples
    --------
    >>> import tempfile, os
    >>> from oversmooth.experiments import write_csv, read_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = write_csv([{"depth": 0, "gap": 2.0, "ok": True}], path)
    >>> read_csv(path)
    [{'depth': 0, 'gap': 2.0, 'ok': True}]
    """
    path = Path(path)
    if columns is None:
        seen: dict[str, None] = {}
        for r in rows:
            for k in r:
                seen.setdefault(k, None)
        columns = list(seen)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in columns])
    os.replace(tmp, path)
    return path


def _parse(v: str) -> Any:
    if v == "":
        return None
    if v in ("true", "false"):
        return v == "true"
    if v[0] in "[{":
        try:
            return json.loads(v)
        except ValueError:
            return v
    try:
        return int(v)
    except ValueError:
        pass
    try:
        return float(v)
    except ValueError:
        return v


def read_csv(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a CSV written by :func:`write_csv` back into typed rows."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: _parse(v) for k, v in r.items()} for r in csv.DictReader(fh)]


def group_rows(rows: Iterable[dict[str, Any]], keys: Sequence[str]) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """Group rows by the values of ``keys`` (insertion order kept)."""
    out: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[tuple(r.get(k) for k in keys)].append(r)
    return dict(out)


def column(rows: Iterable[dict[str, Any]], key: str, transform: Callable[[Any], float] | None = None) -> np.ndarray:
    """One column as a float array (None -> NaN)."""
    vals = []
    for r in rows:
        v = r.get(key)
        vals.append(np.nan if v is None else (transform(v) if transform else float(v)))
    return np.asarray(vals, dtype=np.float64)


def mean_sem(values: Any) -> tuple[float, float]:
    """Mean of the finite values (``None`` skipped) and its standard error (0 for one value).

    Examples
    --------
    >>> from oversmooth.experiments._table import mean_sem
    >>> mean_sem([1.0, 3.0, None, float("nan")])
    (2.0, 1.0)
    """
    v = np.asarray([x for x in values if x is not None], dtype=float)
    v = v[np.isfinite(v)]
    if not v.size:
        return float("nan"), 0.0
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0


def mean_and_sem(rows: Sequence[dict[str, Any]], key: str, by: str = "depth") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per value of ``by`` (sorted): mean of ``key`` over rows and its standard error over seeds."""
    groups = group_rows(rows, [by])
    xs = sorted(k[0] for k in groups)
    stats = np.array([mean_sem(column(groups[(x,)], key)) for x in xs]).reshape(-1, 2)
    return np.asarray(xs, dtype=float), stats[:, 0], stats[:, 1]
