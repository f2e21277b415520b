"""Tidy result tables: lists of flat dict rows, their schemas, CSV files and mean +- SEM.

One row per config x seed x depth; every row records its config, seed and the package
version. Figures and reports are drawn from these tables, never from ad-hoc loops. This is
the one public home of what every layer shares about tables (``experiments``, ``training``,
``report``, ``viz`` and ``cli`` import it from here):

- :data:`SIMULATE_COLUMNS`: the columns of every :func:`oversmooth.simulate` row, in order;
- :func:`write_csv` / :func:`read_csv`: atomic CSV that round-trips floats exactly;
- :func:`group_rows`, :func:`column`: grouping and one column as floats;
- :func:`mean_sem`: the package's one mean and standard error (of values, or along an
  axis of an array); :func:`grouped_mean_sem`: per value of a key (e.g. per depth over seeds).

Examples
--------
>>> from oversmooth.tables import grouped_mean_sem
>>> rows = [{"depth": 0, "gap": 1.0}, {"depth": 0, "gap": 3.0}, {"depth": 1, "gap": 2.0}]
>>> x, m, se = grouped_mean_sem(rows, "gap")
>>> x.tolist(), m.tolist(), se.tolist()
([0.0, 1.0], [2.0, 2.0], [1.0, 0.0])
"""

from __future__ import annotations

import csv
import json
import math
import os
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .errors import ValidationError

__all__ = ["SIMULATE_COLUMNS", "write_csv", "read_csv", "group_rows", "column", "mean_sem", "grouped_mean_sem",
           "mean_and_sem"]

#: Columns every row of :func:`oversmooth.simulate` has (the CLI's JSON contract), in order.
SIMULATE_COLUMNS = (
    "seed", "depth", "operator", "n", "p", "q", "sigma", "alpha", "self_loops",
    "mean_degree", "pi_sq_sum",
    "gap", "realised_gap", "feature_variance", "feature_variance_se", "cross_sectional_variance",
    "structural_variance", "bayes_error", "log10_bayes_error", "separation", "realised_error",
    "dirichlet_energy", "mad",
    "theory_gap", "theory_gap_finite_degree", "theory_feature_variance", "theory_variance_lower",
    "theory_variance_upper", "theory_ppr_floor", "theory_bayes_error", "theory_bayes_error_paper",
    "theory_separation",
    "variance_method", "probes", "oversmooth_version",
)


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
    >>> from oversmooth.tables import write_csv, read_csv
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
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(columns)
            for r in rows:
                w.writerow([_cell(r.get(c)) for c in columns])
        os.replace(tmp, path)
    except BaseException:  # disk full, interrupted: the old file (or none) stays, no half-written temp
        tmp.unlink(missing_ok=True)
        raise
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
    """Read a CSV written by :func:`write_csv` back into typed rows.

    Empty cells -> ``None``, ``true``/``false`` -> bool, JSON lists/objects parsed, then
    int, then float, else the string.

    Examples
    --------
    >>> import tempfile, os
    >>> from oversmooth.tables import write_csv, read_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
    >>> _ = write_csv([{"a": [1, 2], "b": None}], path)
    >>> read_csv(path)
    [{'a': [1, 2], 'b': None}]
    """
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: _parse(v) for k, v in r.items()} for r in csv.DictReader(fh)]


def group_rows(rows: Iterable[dict[str, Any]], keys: Sequence[str]) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    """Group rows by the values of ``keys`` (insertion order kept).

    Examples
    --------
    >>> from oversmooth.tables import group_rows
    >>> list(group_rows([{"n": 1, "v": 0}, {"n": 2, "v": 1}, {"n": 1, "v": 2}], ["n"]))
    [(1,), (2,)]
    """
    out: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[tuple(r.get(k) for k in keys)].append(r)
    return dict(out)


def column(rows: Iterable[dict[str, Any]], key: str, transform: Callable[[Any], float] | None = None) -> np.ndarray:
    """One column as a float array (None -> NaN; ``transform`` maps each present value to a float).

    Examples
    --------
    >>> from oversmooth.tables import column
    >>> column([{"e": 0.5}, {"e": None}, {}], "e").tolist()
    [0.5, nan, nan]
    """
    vals = []
    for r in rows:
        v = r.get(key)
        vals.append(np.nan if v is None else (transform(v) if transform else float(v)))
    return np.asarray(vals, dtype=np.float64)


def mean_sem(values: Any, axis: int | None = None) -> Any:
    """Mean of the finite values and its standard error ``std(ddof=1) / sqrt(count)`` (0 for one value).

    ``None`` and non-finite values are skipped. With ``axis=None`` (default) ``values`` is
    any iterable and the result is two floats (NaN mean, SE 0 when nothing is finite); with
    an ``axis`` it is an array and the result two arrays along the other axes (e.g.
    ``mean_sem(errors, axis=-1)`` for a depth x seeds array).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.tables import mean_sem
    >>> mean_sem([1.0, 3.0, None, float("nan")])
    (2.0, 1.0)
    >>> m, se = mean_sem(np.array([[1.0, 3.0], [2.0, 2.0]]), axis=1)
    >>> m.tolist(), se.tolist()
    ([2.0, 2.0], [1.0, 0.0])
    """
    if axis is None:
        v = np.asarray([x for x in values if x is not None], dtype=float)
        v = v[np.isfinite(v)]
        if not v.size:
            return float("nan"), 0.0
        return float(v.mean()), float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0
    a = np.asarray(values, dtype=float)
    if not -a.ndim <= int(axis) < a.ndim:
        raise ValidationError(f"axis must be in [-{a.ndim}, {a.ndim}) for an array of shape {a.shape}, got {axis}")
    ok = np.isfinite(a)
    cnt = ok.sum(axis=axis)
    filled = np.where(ok, a, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = filled.sum(axis=axis) / cnt
        dev = np.where(ok, a - np.expand_dims(m, axis), 0.0)
        var = (dev * dev).sum(axis=axis) / (cnt - 1)
        se = np.where(cnt > 1, np.sqrt(var / cnt), 0.0)
    return m, se


def grouped_mean_sem(rows: Sequence[dict[str, Any]], key: str, by: str = "depth"
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per value of ``by`` (sorted): mean of ``key`` over rows and its standard error (:func:`mean_sem`).

    Examples
    --------
    >>> from oversmooth.tables import grouped_mean_sem
    >>> grouped_mean_sem([{"depth": 1, "e": 0.5}, {"depth": 0, "e": 0.25}], "e")[1].tolist()
    [0.25, 0.5]
    """
    groups = group_rows(rows, [by])
    xs = sorted(k[0] for k in groups)
    stats = np.array([mean_sem(column(groups[(x,)], key)) for x in xs]).reshape(-1, 2)
    return np.asarray(xs, dtype=float), stats[:, 0], stats[:, 1]


def mean_and_sem(rows: Sequence[dict[str, Any]], key: str, by: str = "depth"
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Deprecated name of :func:`grouped_mean_sem` (kept for one release).

    Examples
    --------
    >>> import warnings
    >>> from oversmooth.tables import mean_and_sem
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", DeprecationWarning)
    ...     mean_and_sem([{"depth": 0, "e": 1.0}], "e")[1].tolist()
    [1.0]
    """
    warnings.warn("mean_and_sem is deprecated; use oversmooth.tables.grouped_mean_sem (same arguments)",
                  DeprecationWarning, stacklevel=2)
    return grouped_mean_sem(rows, key, by)
