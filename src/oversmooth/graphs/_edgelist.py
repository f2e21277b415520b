"""Edge-list and labels files: one vectorised parser, one documented id mapping.

**Node ids.** ``ids="auto"`` (the default) reads non-negative integer ids as node indices
(id ``k`` is node ``k``; ids missing between 0 and the largest are isolated nodes) when they
are dense enough: the largest id + 1 is at most twice the number of distinct ids (+ 16)
or ``n_nodes`` is given. Otherwise, for sparse integer ids (a 30-byte file with id
100000000) and for any other ids (strings, negative integers), every distinct id is a
*name*: nodes are numbered 0..N-1 in increasing order of the ids (numeric order for
integers, text order for strings: ``"10"`` before ``"2"``), computed with
:func:`numpy.unique` (no array is ever sized by the largest id), and
``metadata["node_names"]`` holds the ids. Sparse integer ids mapped that way give a
``UserWarning`` saying so. ``ids="index"`` forces indices (refused with
:class:`~oversmooth.errors.ResourceLimitError` when the largest id needs more memory than
the budget of :mod:`oversmooth.graphs._limits`), ``ids="name"`` forces names.
``metadata["node_ids"]`` records which mapping was used.

Ids that are all numbers but not all integers (``1.0``, ``0.5``: a float export) are refused
unless ``ids="name"``.

**Header.** With ``header=None`` the first data line is a header when its first two fields
are not both integers and either the next line's are, or both fields are usual column names (``src``/``dst``, ``source``/``target``, ``from``/``to``,
``node1``/``node2``, ``u``/``v``, ...). A header with no edge after it is an error, never an
edge between nodes "src" and "dst". ``metadata["header"]`` keeps the header line.

**Labels files** (``node label`` lines) use the same ids: a node that is not in the graph
(not in the edge list, or beyond the largest index / ``n_nodes``) is an error naming the
file and line (it is never added as an isolated node); a node listed twice with two
different labels is an error naming both lines (the same label twice is accepted).
Integer labels must be >= -1 (``-1`` = unlabelled); any other labels are class names,
numbered 0..K-1 in sorted order (``metadata["class_names"]``). An integer label of
``max(N, 65536)`` or more is refused (it would make K x N class arrays downstream).

Text is read as UTF-8 (a byte-order mark is ignored), ``"quoted"`` ids lose their quotes,
and a Matrix Market file (``%%MatrixMarket``) is refused with a pointer to ``scipy.io.mmread``.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._utils import check_choice, check_nonneg_int
from ..errors import FileFormatError, ValidationError
from ._convert import _finish, max_classes
from ._download import MissingFileError
from ._graph import Graph, index_dtype_for
from ._limits import check_node_count

__all__ = ["read_edge_list", "ID_MODES"]

#: How node ids map to node indices (see the module docs).
ID_MODES = ("auto", "index", "name")
_HEADER_WORDS = {"src", "dst", "source", "target", "sources", "targets", "from", "to", "u", "v", "node", "nodes",
                 "node1", "node2", "node_1", "node_2", "id", "id1", "id2", "id_1", "id_2", "head", "tail",
                 "start", "end", "from_id", "to_id", "source_id", "target_id", "node_id", "label", "class",
                 "weight", "y", "category"}


def _data_lines(path: Path, comments: str, k: int = 2) -> list[tuple[int, str]]:
    """The first ``k`` non-blank, non-comment lines with their 1-based line numbers."""
    out: list[tuple[int, str]] = []
    with open(path, "r", encoding="utf-8-sig", errors="replace") as fh:
        for no, line in enumerate(fh, 1):
            if no == 1 and line.startswith("%%MatrixMarket"):
                raise FileFormatError(f"{path}: a Matrix Market file, not an edge list; read it with "
                                      "scipy.io.mmread and pass Graph.from_scipy(matrix)")
            s = line.strip()
            if not s or (comments and s.startswith(comments)):
                continue
            out.append((no, s))
            if len(out) == k:
                break
    return out


def _split(line: str, delimiter: str | None) -> list[str]:
    return [t.strip() for t in (line.split(delimiter) if delimiter else line.split())]


def _is_int(tok: str) -> bool:
    try:
        int(tok)
        return True
    except ValueError:
        return False


def _line_number(path: Path, row: int, skip: int, comments: str) -> int:
    """1-based line number of data row ``row`` (0-based, after ``skip`` lines) of ``path``."""
    seen = -1
    with open(path, "r", encoding="utf-8-sig", errors="replace") as fh:
        for no, line in enumerate(fh, 1):
            if no <= skip:
                continue
            s = line.strip()
            if not s or (comments and s.startswith(comments)):
                continue
            seen += 1
            if seen == row:
                return no
    return -1


def read_table(path: Path, *, delimiter: str | None, header: bool | None, comments: str,
               what: str, id_cols: int = 2) -> tuple[np.ndarray, dict[str, Any]]:
    """A two-or-more-column text table -> (array (m, 2) of int64 or str, info) without a Python loop per line.

    ``info``: ``kw`` (the ``numpy.loadtxt`` keywords used), ``ncols``, ``ints`` (ids parsed as
    integers), ``header`` (the header line or ``None``), ``skip`` (lines skipped).
    """
    first = _data_lines(path, comments)
    if not first:
        raise FileFormatError(f"{what} {path}: no data lines (empty, or only comments)")
    line0 = first[0][1]
    if delimiter is None:
        delimiter = "," if "," in line0 else ("\t" if "\t" in line0 and " " in line0.strip() else None)
    toks = _split(line0, delimiter)
    if len(toks) < 2:
        odd = next((c for c in ";|:" if c in line0), None)
        hint = f" (pass delimiter={odd!r})" if odd else ""
        raise FileFormatError(f"{what} {path}, line {first[0][0]}: expected at least two columns, got {line0!r}{hint}")
    if header is None:  # see the module docs; labels files (id_cols=1) look at the node column only
        both_int = all(_is_int(t) for t in toks[:id_cols])
        words = all(t.lower().strip("\"'# ") in _HEADER_WORDS for t in toks[:2])
        next_int = len(first) > 1 and all(_is_int(t) for t in _split(first[1][1], delimiter)[:id_cols])
        header = not both_int and (next_int or words)
    skip = first[0][0] if header else 0
    if header and len(first) == 1:
        raise FileFormatError(f"{what} {path}: only a header line ({line0!r}), no data after it "
                              "(pass header=False if that line is data)")
    kw: dict[str, Any] = dict(delimiter=delimiter, comments=comments or None, skiprows=skip, usecols=(0, 1), ndmin=2,
                              encoding="utf-8-sig", quotechar='"')
    info: dict[str, Any] = {"kw": dict(kw), "ncols": len(toks), "header": line0 if header else None, "skip": skip}
    try:
        arr = np.loadtxt(path, dtype=np.int64, **kw)
        info["ints"] = True
        return arr, info
    except (ValueError, OverflowError):
        pass
    try:
        arr = np.loadtxt(path, dtype=str, **kw)
    except (ValueError, UnicodeError) as exc:
        raise FileFormatError(f"{what} {path}: cannot parse as a table of at least two columns "
                              f"({' '.join(str(exc).split())})") from None
    info["ints"] = False
    return arr, info


def _labels_from_file(path: Path, delimiter: str | None, comments: str) -> tuple[np.ndarray, np.ndarray,
                                                                                 dict[str, Any]]:
    arr, info = read_table(path, delimiter=delimiter, header=None, comments=comments, what="labels file", id_cols=1)
    return arr[:, 0], arr[:, 1], info


def _label_codes(vals: np.ndarray, path: Path, info: dict[str, Any], comments: str) -> tuple[np.ndarray,
                                                                                          list[str] | None]:
    """Labels column -> int64 codes (>= -1) and class names (or None for integer labels)."""
    s = vals.astype(str)
    try:
        codes = s.astype(np.int64)
    except (ValueError, OverflowError):
        codes = None
    if codes is not None:
        bad = np.flatnonzero(codes < -1)
        if bad.size:
            line = _line_number(path, int(bad[0]), info["skip"], comments)
            raise FileFormatError(f"labels file {path}, line {line}: label {codes[bad[0]]}; integer labels must be "
                                  ">= -1 (-1 = unlabelled)")
        return codes, None
    try:
        as_float = s.astype(np.float64)
    except ValueError:
        as_float = None
    if as_float is not None:  # numbers, not all integers: integral floats are classes, others refused
        odd = np.flatnonzero(~np.isfinite(as_float) | (as_float != np.round(as_float)) | (as_float < -1))
        if odd.size:
            line = _line_number(path, int(odd[0]), info["skip"], comments)
            raise FileFormatError(f"labels file {path}, line {line}: label {str(s[odd[0]])!r} is not a class "
                                  "(integers >= -1 or names)")
        return as_float.astype(np.int64), None
    low = np.char.lower(s)
    bad = np.flatnonzero(np.isin(low, ["nan", "inf", "-inf", "+inf", "infinity", "-infinity", ""]))
    if bad.size:
        line = _line_number(path, int(bad[0]), info["skip"], comments)
        raise FileFormatError(f"labels file {path}, line {line}: label {str(s[bad[0]])!r} is not a class")
    names, codes = np.unique(s, return_inverse=True)
    return codes.astype(np.int64), names.tolist()


def _refuse_conflicts(idx: np.ndarray, codes: np.ndarray, path: Path, info: dict[str, Any], comments: str,
                      node_of: Any) -> int:
    """Refuse a node listed with two different labels; return the number of repeated identical lines."""
    order = np.lexsort((np.arange(idx.size), idx))
    si, sc = idx[order], codes[order]
    same = si[1:] == si[:-1]
    conflict = np.flatnonzero(same & (sc[1:] != sc[:-1]))
    if conflict.size:
        a, b = order[conflict[0]], order[conflict[0] + 1]
        la = _line_number(path, int(a), info["skip"], comments)
        lb = _line_number(path, int(b), info["skip"], comments)
        raise FileFormatError(f"labels file {path}, lines {la} and {lb}: node {node_of(int(a))} has two different "
                              "labels; keep one line per node")
    return int(np.count_nonzero(same))


def read_edge_list(path: Path, labels: Any, *, directed: bool, symmetrize: bool, delimiter: str | None,
                   header: bool | None, comments: str, name: str, n_nodes: int | None, weighted: bool,
                   ids: str = "auto") -> Graph:
    """The edge-list reader of :func:`~oversmooth.graphs.read_graph` (see the module docs)."""
    ids = check_choice(ids, "ids", ID_MODES)
    if n_nodes is not None:
        n_nodes = check_nonneg_int(n_nodes, "n_nodes")
    pairs, info = read_table(path, delimiter=delimiter, header=header, comments=comments, what="edge list")
    m = pairs.shape[0]
    w = _edge_weights(path, info, m) if weighted and info["ncols"] >= 3 else np.ones(m)
    extra: dict[str, Any] = {"n_lines": int(m)}
    if info["header"] is not None:
        extra["header"] = info["header"]
    ints = info["ints"] and (not pairs.size or int(pairs.min()) >= 0)
    node_names = None
    if ints and ids != "name":
        n = int(pairs.max()) + 1 if pairs.size else 0
        n_distinct = np.unique(pairs).size if ids == "auto" and n_nodes is None else 0
        use_index = ids == "index" or n_nodes is not None or n <= 2 * n_distinct + 16
    else:
        if ids != "name" and not info["ints"]:
            _refuse_float_ids(pairs, path)
        if ids == "index":
            raise ValidationError(f"ids='index' needs non-negative integer node ids; edge list {path} has other ids "
                                  "(use ids='auto' or 'name')")
        use_index = False
    if use_index:
        if n_nodes is not None:
            if n_nodes < n:
                raise ValidationError(f"n_nodes={n_nodes} but edge list {path} uses node id {n - 1}")
            n = n_nodes
        check_node_count(n, f"edge list {path}: node ids as indices (largest id {n - 1})",
                         "pass ids='name' to number the distinct ids 0..N-1 instead")
        rows, cols = pairs[:, 0], pairs[:, 1]
        extra["node_ids"] = "index"
    else:
        node_names, inv = np.unique(pairs.ravel(), return_inverse=True)
        n = int(node_names.size)
        rows, cols = inv.reshape(-1, 2).T
        extra["node_ids"] = "name"
        extra["node_names"] = node_names
        if ints and ids == "auto":
            warnings.warn(f"edge list {path}: integer node ids are sparse (largest {int(node_names[-1])}, {n} distinct): "
                          "nodes are numbered 0..N-1 in increasing id order, metadata['node_names'] holds the ids; "
                          "pass ids='index' to use the ids as indices", UserWarning, stacklevel=4)
    lab_arr, class_names = _labels(labels, path, n, node_names, use_index, delimiter, comments, extra)
    if class_names is not None:
        extra["class_names"] = class_names
    idx = index_dtype_for(n, 2 * rows.size)
    rows = rows.astype(idx, copy=False)
    cols = cols.astype(idx, copy=False)
    if directed:
        a = sp.coo_array((w, (rows, cols)), shape=(n, n))
    else:
        off = rows != cols
        a = sp.coo_array((np.concatenate([w, w[off]]),
                          (np.concatenate([rows, cols[off]]), np.concatenate([cols, rows[off]]))), shape=(n, n))
    if info["ncols"] >= 3 and not weighted:
        extra["weights_ignored"] = True
    g = _finish(a, lab_arr, None, symmetrize=symmetrize or not directed, name=name, source=f"edge list {path}",
                extra=extra, weighted=bool(np.any(w != 1.0)), what=f"edge list {path}")
    if not directed:
        # each line was added in both directions: a line repeated (in either orientation) is a duplicate
        loop_lines = int(np.count_nonzero(rows == cols))
        g.metadata["duplicate_edges"] = int(m - loop_lines - g.n_edges)
        g.metadata["symmetrized"] = 0
    return g


def _refuse_float_ids(pairs: np.ndarray, path: Path) -> None:
    """Ids that all parse as numbers but not all as integers (``1.0``, ``0.5``): refused, not read as names."""
    flat = pairs.ravel()
    try:
        flat.astype(np.float64)
    except ValueError:
        return  # genuine names
    bad = next((t for t in flat.tolist() if not _is_int(t)), None)
    if bad is None:  # all integers, some beyond int64
        big = next(t for t in flat.tolist() if abs(int(t)) >= 2**63)
        raise FileFormatError(f"edge list {path}: node id {big} does not fit in 64 bits (pass ids='name' to read every "
                              "id as a name)")
    raise FileFormatError(f"edge list {path}: node id {bad!r} is a number but not an integer; node ids must be "
                          "integers or names (pass ids='name' to read every id as a name)")


def _labels(labels: Any, path: Path, n: int, node_names: np.ndarray | None, use_index: bool,
            delimiter: str | None, comments: str, extra: dict[str, Any]) -> tuple[Any, list[str] | None]:
    if labels is None:
        return None, None
    if not isinstance(labels, (str, os.PathLike)):
        return np.asarray(labels), None
    lp = Path(labels)
    if not lp.is_file():
        raise MissingFileError(f"labels file not found: {lp}")
    nodes, vals, info = _labels_from_file(lp, delimiter, comments)
    codes, class_names = _label_codes(vals, lp, info, comments)
    if use_index:
        try:
            idx = nodes.astype(str).astype(np.int64)
        except (ValueError, OverflowError):
            raise FileFormatError(f"labels file {lp}: node ids must be integers like the edge list's") from None
        bad = np.flatnonzero((idx < 0) | (idx >= n))
    else:
        if node_names.dtype.kind in "iu":
            try:
                keys = nodes.astype(str).astype(np.int64)
            except (ValueError, OverflowError):
                raise FileFormatError(f"labels file {lp}: node ids must be integers like the edge list's") from None
        else:
            keys = nodes.astype(str)
        names = node_names
        idx = np.searchsorted(names, keys)
        found = idx < names.size
        found[found] = names[idx[found]] == keys[found]
        bad = np.flatnonzero(~found)
    if bad.size:
        line = _line_number(lp, int(bad[0]), info["skip"], comments)
        where = f"outside 0..{n - 1}" if use_index else "not in the edge list"
        raise FileFormatError(f"labels file {lp}, line {line}: node {nodes[bad[0]]} is {where} (a label for a node "
                              "the graph does not have is refused; pass n_nodes= for isolated nodes)")
    extra["duplicate_label_lines"] = _refuse_conflicts(idx, codes, lp, info, comments, lambda i: nodes[i])
    big = np.flatnonzero(codes >= max_classes(n))
    if big.size:
        line = _line_number(lp, int(big[0]), info["skip"], comments)
        raise FileFormatError(f"labels file {lp}, line {line}: label {codes[big[0]]} means at least {codes[big[0]] + 1} "
                              f"classes, more than {max_classes(n)} (the most a graph of {n} nodes may have); number "
                              "the classes 0..K-1 or use class names")
    lab_arr = np.full(n, -1, dtype=np.int64)
    lab_arr[idx] = codes
    return lab_arr, class_names


def _edge_weights(path: Path, info: dict[str, Any], m: int) -> np.ndarray:
    kw = dict(info["kw"], usecols=(2,), ndmin=1)
    try:
        w = np.loadtxt(path, dtype=np.float64, **kw)
    except ValueError as exc:
        raise FileFormatError(f"edge list {path}: has {info['ncols']} columns but the third is not a number (edge "
                              f"weight): {' '.join(str(exc).split())}; pass weighted=False to read the first two "
                              "columns only") from None
    if w.shape != (m,):
        raise FileFormatError(f"edge list {path}: {w.size} weights in the third column for {m} edges")
    return w
