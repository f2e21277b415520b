"""Label values -> class codes: one encoder for files and converters, and the bound on the number of classes."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..errors import DataError, FileFormatError

__all__ = ["encode_labels", "check_label_range", "max_classes", "MIN_CLASS_BOUND", "read_label_array"]

#: Integer labels of files and converters are below max(N, this): more would size K x N arrays by a typo.
MIN_CLASS_BOUND = 65536


def max_classes(n_nodes: int) -> int:
    """The largest number of classes a graph of ``n_nodes`` nodes may declare: ``max(n_nodes, 65536)``."""
    return max(int(n_nodes), MIN_CLASS_BOUND)


def check_label_range(labels: Any, n_nodes: int, what: str) -> None:
    """Refuse an integer label >= :func:`max_classes` (names ``what``)."""
    lab = np.asarray(labels)
    if lab.size and np.issubdtype(lab.dtype, np.integer) and int(lab.max()) >= max_classes(n_nodes):
        raise FileFormatError(f"{what}: label {int(lab.max())} means at least {int(lab.max()) + 1} classes, more than "
                              f"{max_classes(n_nodes)} (the most a graph of {n_nodes} nodes may have); number the "
                              "classes 0..K-1")


def encode_labels(vals: np.ndarray, what: str) -> tuple[np.ndarray, list[str] | None]:
    """Integer labels stay (>= -1); integral floats become integers; other values -> 0..K-1 in sorted order.

    A negative integer other than -1, or a non-finite float, is an error naming ``what``
    (never silently turned into a class name).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.graphs._labels import encode_labels
    >>> encode_labels(np.array(["b", "a", "b"]), "labels")
    (array([1, 0, 1]), ['a', 'b'])
    """
    if vals.dtype == np.bool_:
        vals = vals.astype(np.int64)
    if np.issubdtype(vals.dtype, np.integer):
        if vals.size and vals.min() < -1:
            raise FileFormatError(f"{what}: labels must be >= -1 (-1 = unlabelled), got {vals.min()}")
        return vals.astype(np.int64), None
    if np.issubdtype(vals.dtype, np.floating):
        if not np.all(np.isfinite(vals)):
            raise FileFormatError(f"{what}: labels must be finite, got {vals[~np.isfinite(vals)][0]}")
        if np.all(vals == np.round(vals)):
            return encode_labels(vals.astype(np.int64), what)
    s = vals.astype(str)
    try:
        as_int = s.astype(np.int64)
    except (ValueError, OverflowError):
        as_int = None
    if as_int is not None:
        return encode_labels(as_int, what)  # its own range error is not swallowed
    odd = np.isin(np.char.lower(s), ["nan", "inf", "-inf", "none", ""])
    if odd.any():
        raise FileFormatError(f"{what}: labels must be classes, got {str(s[odd][0])!r}")
    names, codes = np.unique(s, return_inverse=True)
    return codes.astype(np.int64), names.tolist()


def read_label_array(path: str | os.PathLike[str]) -> np.ndarray:
    """N integer labels in node order from a ``.npy`` file or a text file of numbers (``-1`` = unlabelled).

    The array must be one-dimensional, finite and integral (``1.0`` is class 1; ``0.7`` is an
    error, never truncated) and at least -1; a pickled ``.npy`` is refused. Every error is a
    :class:`~oversmooth.errors.FileFormatError` (or :class:`~oversmooth.errors.DataError` for an
    unreadable file) naming the file.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from oversmooth.graphs import read_label_array
    >>> p = os.path.join(tempfile.mkdtemp(), "y.txt")
    >>> _ = open(p, "w").write("0 1 -1 1.0")
    >>> read_label_array(p).tolist()
    [0, 1, -1, 1]
    """
    name = os.fspath(path)
    try:
        if name.endswith(".npy"):
            arr = np.load(name, allow_pickle=False)
        else:
            arr = np.loadtxt(name, dtype=np.float64, ndmin=1)
    except OSError as exc:
        raise DataError(f"labels file {name}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise FileFormatError(f"labels file {name}: not an array of numbers ({' '.join(str(exc).split())[:200]})") \
            from None
    arr = np.asarray(arr)
    if arr.ndim != 1:
        raise FileFormatError(f"labels file {name}: expected one label per node (a 1-D array), got shape {arr.shape}")
    if arr.dtype.kind not in "iuf" and arr.dtype.kind != "b":
        raise FileFormatError(f"labels file {name}: labels must be integers, got dtype {arr.dtype}")
    a = arr.astype(np.float64)
    bad = ~np.isfinite(a) | (a != np.round(a)) | (a < -1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise FileFormatError(f"labels file {name}: labels must be integers >= -1 (-1 = unlabelled); "
                              f"entry {i} is {arr[i].item()!r}")
    return a.astype(np.int64)

