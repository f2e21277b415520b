"""User graphs: edge lists, ``.npz`` files, GraphML/GML, NetworkX and PyG ``Data``.

Every reader returns a :class:`~oversmooth.graphs.Graph` that is symmetric, binary (0/1)
unless the input carries edge weights (then weighted, ``metadata['weighted']``; see
:mod:`oversmooth.graphs._convert`), without self-loops, with what was cleaned recorded in
``graph.metadata``:
``duplicate_edges`` (repeated pairs merged), ``self_loops_removed`` and ``symmetrized``
(directed pairs added to make the graph undirected). The analysis adds self-loops back
itself (the paper's ``A_ii = 1``).

Directed input is symmetrised only when asked (``symmetrize=True``); otherwise a
directed graph is an error. An *edge list* is read as undirected by default (each line
one undirected edge, the usual convention); pass ``directed=True`` when its lines are
arcs, and then it must list both directions of every edge unless ``symmetrize=True``.

An ``.npz`` file is a ``scipy.sparse.save_npz`` matrix, or arrays in PyG's names:
``edge_index`` (2 x E; or ``rows`` and ``cols``), optional ``num_nodes``, ``y`` (or
``labels``), ``x`` (or ``features``) and ``edge_weight``; its edges are read as undirected.
Features also come from a separate file (``features=``, :func:`~oversmooth.graphs.read_features`).

Parsing is vectorised (:func:`numpy.loadtxt`'s C parser, :func:`numpy.unique` for
string ids): a 10-million-edge file reads in seconds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._utils import optional_import
from ._convert import DEFAULT_LABEL_ATTR, clean_adjacency, encode_labels
from ._convert import _finish as _finish_convert
from ._features import FEATURE_KEYS, check_feature_matrix, load_npz_archive, read_features
from ._graph import Graph, index_dtype_for

__all__ = ["read_graph", "from_networkx", "from_pyg", "clean_adjacency"]

_FORMATS = ("edgelist", "npz", "graphml", "gml")


def _finish(a: Any, labels: Any, features: Any, symmetrize: bool, name: str, source: str,
            extra: dict[str, Any] | None = None, weighted: bool = False) -> Graph:
    return _finish_convert(a, labels, features, symmetrize=symmetrize, name=name, source=source, extra=extra,
                           weighted=weighted)


# --------------------------------------------------------------------------- edge lists
def _first_data_lines(path: Path, comments: str, k: int = 2) -> list[str]:
    out: list[str] = []
    with open(path, "r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            s = line.strip()
            if not s or (comments and s.startswith(comments)):
                continue
            out.append(s)
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


def _read_pairs(path: Path, *, delimiter: str | None, header: bool | None, comments: str,
                what: str, info: dict[str, Any] | None = None) -> tuple[np.ndarray, bool, str | None]:
    """Two-column table -> (array (m, 2), ids_are_int, delimiter) without a Python loop per line."""
    first = _first_data_lines(path, comments)
    if not first:
        raise ValueError(f"{what} {path}: no data lines")
    if delimiter is None:
        delimiter = "," if "," in first[0] else ("\t" if "\t" in first[0] and " " in first[0].strip() else None)
    toks = _split(first[0], delimiter)
    if len(toks) < 2:
        raise ValueError(f"{what} {path}: expected at least two columns, got {first[0]!r}")
    if header is None:  # a header: first line not integers while the next one is
        header = (not (_is_int(toks[0]) and _is_int(toks[1])) and len(first) > 1
                  and all(_is_int(t) for t in _split(first[1], delimiter)[:2]))
    kw = dict(delimiter=delimiter, comments=comments or None, skiprows=0, usecols=(0, 1), ndmin=2)
    skip = 0
    if header:
        # skip up to and including the header line (comments/blank lines before it too)
        with open(path, "r", encoding="utf-8", errors="replace") as fh:
            for i, line in enumerate(fh):
                if line.strip() == first[0]:
                    skip = i + 1
                    break
    kw["skiprows"] = skip
    if info is not None:  # what a caller needs to read more columns the same way
        info.update(kw=dict(kw), ncols=len(toks))
    try:
        arr = np.loadtxt(path, dtype=np.int64, **kw)
        if arr.size and arr.min() < 0:
            raise ValueError("negative node id")
        return arr, True, delimiter
    except ValueError:
        pass
    try:
        arr = np.loadtxt(path, dtype=str, **kw)
    except ValueError as exc:
        raise ValueError(f"{what} {path}: cannot parse as a two-column table ({exc})") from None
    return arr, False, delimiter


def _labels_from_file(path: Path, ids_int: bool, delimiter: str | None, comments: str,
                      header: bool | None) -> tuple[np.ndarray, np.ndarray]:
    arr, lab_int, _ = _read_pairs(path, delimiter=delimiter, header=header, comments=comments, what="labels file")
    nodes, vals = arr[:, 0], arr[:, 1]
    if ids_int and not lab_int:
        try:
            nodes = nodes.astype(np.int64)
        except ValueError:
            raise ValueError(f"labels file {path}: node ids must be integers like the edge list's") from None
    if not ids_int:
        nodes = nodes.astype(str)
    return nodes, vals


def _edge_weights(path: Path, info: dict[str, Any], m: int) -> np.ndarray:
    kw = dict(info["kw"], usecols=(2,), ndmin=1)
    try:
        w = np.loadtxt(path, dtype=np.float64, **kw)
    except ValueError as exc:
        raise ValueError(f"edge list {path}: has {info['ncols']} columns but the third is not a number (edge weight): "
                         f"{exc}; pass weighted=False to read the first two columns only") from None
    if w.shape != (m,):
        raise ValueError(f"edge list {path}: {w.size} weights in the third column for {m} edges")
    return w


def _read_edge_list(path: Path, labels: Any, *, directed: bool, symmetrize: bool, delimiter: str | None,
                    header: bool | None, comments: str, name: str, n_nodes: int | None, weighted: bool) -> Graph:
    info: dict[str, Any] = {}
    pairs, ids_int, _ = _read_pairs(path, delimiter=delimiter, header=header, comments=comments,
                                    what="edge list", info=info)
    w = _edge_weights(path, info, pairs.shape[0]) if weighted and info["ncols"] >= 3 else np.ones(pairs.shape[0])
    label_nodes = label_vals = None
    if isinstance(labels, (str, os.PathLike)):
        # the labels file gets its own delimiter detection unless the user gave one
        label_nodes, label_vals = _labels_from_file(Path(labels), ids_int, delimiter, comments, None)
    node_names = None
    if ids_int:
        n = int(pairs.max()) + 1 if pairs.size else 0
        if label_nodes is not None and label_nodes.size:
            if label_nodes.min() < 0:
                raise ValueError(f"labels file {labels}: node ids must be >= 0")
            n = max(n, int(label_nodes.max()) + 1)
        if n_nodes is not None:
            if n_nodes < n:
                raise ValueError(f"n_nodes={n_nodes} but the files use node id {n - 1}")
            n = n_nodes
        rows, cols = pairs[:, 0], pairs[:, 1]
        lab_idx = label_nodes
    else:
        allnames = pairs.ravel() if label_nodes is None else np.concatenate([pairs.ravel(), label_nodes])
        node_names, inv = np.unique(allnames, return_inverse=True)
        n = node_names.size
        rows, cols = inv[: pairs.size].reshape(-1, 2).T
        lab_idx = inv[pairs.size:] if label_nodes is not None else None
    lab_arr = None
    class_names = None
    if label_nodes is not None:
        codes, class_names = encode_labels(label_vals, f"labels file {labels}")
        lab_arr = np.full(n, -1, dtype=np.int64)
        lab_arr[lab_idx] = codes
    elif labels is not None:
        lab_arr = np.asarray(labels)
    idx = index_dtype_for(n, 2 * rows.size)
    rows = rows.astype(idx, copy=False)
    cols = cols.astype(idx, copy=False)
    if directed:
        a = sp.coo_array((w, (rows, cols)), shape=(n, n))
    else:
        off = rows != cols
        a = sp.coo_array((np.concatenate([w, w[off]]),
                          (np.concatenate([rows, cols[off]]), np.concatenate([cols, rows[off]]))), shape=(n, n))
    extra: dict[str, Any] = {"n_lines": int(pairs.shape[0])}
    if node_names is not None:
        extra["node_names"] = node_names
    if class_names is not None:
        extra["class_names"] = class_names
    if info["ncols"] >= 3 and not weighted:
        extra["weights_ignored"] = True
    g = _finish(a, lab_arr, None, symmetrize or not directed, name, f"edge list {path}", extra,
                weighted=bool(np.any(w != 1.0)))
    if not directed:
        # each line was added in both directions: a line repeated (in either orientation) is a duplicate
        loop_lines = int(np.count_nonzero(rows == cols))
        g.metadata["duplicate_edges"] = int(pairs.shape[0] - loop_lines - g.n_edges)
        g.metadata["symmetrized"] = 0
    return g


# --------------------------------------------------------------------------- python objects
def from_networkx(graph: Any, *, labels: Any = DEFAULT_LABEL_ATTR, symmetrize: bool = False, name: str | None = None,
                  feature_attr: str | None = None, weight: str | None = "weight") -> Graph:
    """A NetworkX graph -> :class:`Graph`: :meth:`Graph.from_networkx` (one converter).

    ``labels`` is a node attribute name (its ``label_attr``) or an array of N labels.

    Examples
    --------
    >>> import networkx as nx
    >>> from oversmooth.graphs import from_networkx
    >>> g = from_networkx(nx.path_graph(4))
    >>> g.n_nodes, g.n_edges
    (4, 3)
    """
    if labels is None or isinstance(labels, str):
        return Graph.from_networkx(graph, labels, feature_attr=feature_attr, weight=weight, symmetrize=symmetrize,
                                   name=name)
    return Graph.from_networkx(graph, None, labels=labels, feature_attr=feature_attr, weight=weight,
                               symmetrize=symmetrize, name=name)


def from_pyg(data: Any, *, symmetrize: bool = False, name: str = "pyg", weight: str | None = "edge_weight") -> Graph:
    """A PyTorch Geometric ``Data`` -> :class:`Graph`: :meth:`Graph.from_pyg` (one converter).

    Examples
    --------
    >>> import torch
    >>> from torch_geometric.data import Data
    >>> from oversmooth.graphs import from_pyg
    >>> d = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=3)
    >>> from_pyg(d).n_edges
    1
    """
    return Graph.from_pyg(data, weight=weight, symmetrize=symmetrize, name=name)


# --------------------------------------------------------------------------- .npz graphs
_NPZ_GRAPH_KEYS = "'edge_index' (2 x E) or 'rows' and 'cols', with optional 'num_nodes', 'y' or 'labels', " \
    "'x' or 'features', 'edge_weight'"


def _npz_array(z: Any, key: str, p: Path) -> np.ndarray:
    try:
        return z[key]
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ValueError(f"{p}: key {key!r} holds pickled objects, which are refused (allow_pickle=False)") from None
        raise ValueError(f"{p}: key {key!r} cannot be read ({exc})") from None


def _one_of(z: Any, keys: tuple[str, ...], p: Path) -> tuple[str | None, np.ndarray | None]:
    found = [k for k in keys if k in z.files]
    if len(found) > 1:
        raise ValueError(f"{p}: has both {found[0]!r} and {found[1]!r}; keep one")
    return (found[0], _npz_array(z, found[0], p)) if found else (None, None)


def _read_npz(p: Path, labels: Any, *, symmetrize: bool, weighted: bool, name: str,
              n_nodes: int | None) -> Graph:
    """A scipy.sparse ``save_npz`` matrix, or arrays: edge_index / rows+cols, num_nodes, y, x, edge_weight."""
    z = load_npz_archive(p, "a scipy.sparse .npz file nor an .npz of graph arrays",
                         "not a scipy.sparse .npz file nor an .npz of graph arrays (a single array)")
    with z:
        if {"format", "shape", "data"} <= set(z.files):  # scipy.sparse.save_npz
            try:
                a = sp.load_npz(p)
            except (ValueError, OSError, KeyError) as exc:
                raise ValueError(f"{p}: not a scipy.sparse .npz file ({exc})") from None
            values = np.asarray(sp.coo_array(a).data)
            has_w = bool(values.size and np.any(values[values != 0] != 1.0))
            extra = {"weights_ignored": True} if has_w and not weighted else {}
            return _finish(a, labels, None, symmetrize, name, f"npz {p}", extra, weighted=weighted and has_w)
        _, ei = _one_of(z, ("edge_index",), p)
        if ei is None:
            if not {"rows", "cols"} <= set(z.files):
                raise ValueError(f"{p}: not a scipy.sparse .npz file, and no graph arrays: an .npz graph holds "
                                 f"{_NPZ_GRAPH_KEYS} (found {', '.join(map(repr, z.files)) or 'none'})")
            ei = np.vstack([np.ravel(_npz_array(z, "rows", p)), np.ravel(_npz_array(z, "cols", p))])
        if ei.ndim != 2 or ei.shape[0] != 2 or (ei.size and not np.issubdtype(ei.dtype, np.integer)):
            raise ValueError(f"{p}: 'edge_index' must be an integer array of shape (2, E), got {ei.dtype} {ei.shape}")
        _, n_arr = _one_of(z, ("num_nodes", "n_nodes"), p)
        _, y = _one_of(z, ("y", "labels"), p)
        xkey, x = _one_of(z, FEATURE_KEYS, p)
        w = _npz_array(z, "edge_weight", p) if "edge_weight" in z.files else None
    n = int(ei.max()) + 1 if ei.size else 0
    for k, v in (("num_nodes", None if n_arr is None else int(n_arr)), ("n_nodes", n_nodes)):
        if v is not None:
            if v < n:
                raise ValueError(f"{p}: {k}={v} but the edges use node id {n - 1}")
            n = v
    if y is not None and labels is None:
        if y.ndim != 1:
            raise ValueError(f"{p}: labels ('y' / 'labels') must be 1-D (one per node), got shape {y.shape}")
        n = max(n, y.shape[0]) if n_arr is None and n_nodes is None else n
        labels_arr, class_names = encode_labels(np.where(y < 0, -1, y) if np.issubdtype(y.dtype, np.number) else y,
                                                f"{p}: labels")
        if labels_arr.shape[0] != n:
            raise ValueError(f"{p}: {labels_arr.shape[0]} labels for {n} nodes")
    else:
        labels_arr, class_names = labels, None
    feats = None
    if x is not None:
        feats = check_feature_matrix(x, None, f"{p}, key {xkey!r}")
        if n_arr is None and n_nodes is None and y is None:
            n = max(n, feats.shape[0])
        if feats.shape[0] != n:
            raise ValueError(f"{p}, key {xkey!r}: {feats.shape[0]} rows of features for {n} nodes")
    if ei.size and ei.min() < 0:
        raise ValueError(f"{p}: 'edge_index' holds a negative node id {int(ei.min())}")
    wv = np.ones(ei.shape[1])
    if w is not None:
        wv = np.asarray(w, dtype=np.float64).ravel()
        if wv.shape != (ei.shape[1],):
            raise ValueError(f"{p}: 'edge_weight' must hold one weight per edge ({ei.shape[1]}), got shape {w.shape}")
    has_w = bool(np.any(wv != 1.0))
    extra: dict[str, Any] = {"weights_ignored": True} if has_w and not weighted else {}
    if class_names is not None:
        extra["class_names"] = class_names
    if feats is not None:
        extra["features_source"] = f"{p}, key {xkey!r}"
    a = sp.coo_array((wv if weighted else np.ones(ei.shape[1]), (ei[0].astype(np.int64), ei[1].astype(np.int64))),
                     shape=(n, n))
    # one-directional edge lists are read as undirected (the union of both directions), reported as symmetrized
    return _finish(a, labels_arr, feats, True, name, f"npz {p}", extra, weighted=weighted and has_w)


# --------------------------------------------------------------------------- entry point
def read_graph(
    path: Any,
    labels: Any = None,
    *,
    format: str | None = None,
    directed: bool = False,
    symmetrize: bool = False,
    delimiter: str | None = None,
    header: bool | None = None,
    comments: str = "#",
    n_nodes: int | None = None,
    label_attr: str | None = DEFAULT_LABEL_ATTR,
    name: str | None = None,
    features: Any = None,
    feature_attr: str | None = None,
    weighted: bool = True,
) -> Graph:
    """Read a user graph: edge list, ``.npz``, GraphML or GML; or convert a NetworkX / PyG object.

    Parameters
    ----------
    path : path, networkx.Graph or torch_geometric.data.Data
        A file, or an in-memory graph (converted by :meth:`Graph.from_networkx` /
        :meth:`Graph.from_pyg`, the one converter of each kind).
    labels : path or array, optional
        Edge lists: a file of ``node label`` lines (same id space and delimiter
        detection as the edge list; nodes without a line get ``-1``; non-integer
        labels are mapped to 0..K-1 in sorted order, names kept in
        ``metadata['class_names']``), or an array of N labels in node order (integer
        ids, or the sorted string ids of ``metadata['node_names']``). Other formats: an array,
        or labels come from the file (GraphML/GML attribute ``label_attr``, ``.npz`` key
        ``y`` / ``labels``).
    format : {"edgelist", "npz", "graphml", "gml"}, optional
        Default from the suffix (``.npz``, ``.graphml``, ``.gml``, anything else an edge list).
    directed : bool, default False
        Edge lists only: lines are arcs (see the module docs).
    symmetrize : bool, default False
        Make a directed input undirected by adding reverse edges; otherwise directed
        input raises ``ValueError``. (An ``.npz`` of arrays is always read as undirected.)
    delimiter : str, optional
        Default: ``,`` if the first data line has a comma, else whitespace.
    header : bool, optional
        Default: a header is assumed when the first line's two fields are not integers
        while the second line's are (with string node ids pass ``header=True``).
    comments : str
        Lines starting with it are skipped.
    n_nodes : int, optional
        Integer ids: number of nodes (isolated nodes beyond the largest id).
    label_attr : str
        Node attribute holding labels in GraphML/GML/NetworkX input (default ``"label"``,
        optional; a name given explicitly must exist). (GML reserves ``label`` for node
        names: store classes under another attribute there.)
    name : str, optional
        Defaults to the file's stem.
    features : path or array, optional
        Node features: an ``.npy`` / ``.npz`` file (:func:`~oversmooth.graphs.read_features`)
        or an (N, d) array, rows in node order. Otherwise features come from the input
        when it has them (PyG ``x``, an ``.npz`` key ``x`` / ``features``, the NetworkX
        node attribute ``feature_attr``). ``metadata['features_source']`` says which.
    feature_attr : str, optional
        NetworkX / GraphML / GML node attribute holding features.
    weighted : bool, default True
        Keep edge weights where the input has them (a third edge-list column, the values
        of a sparse matrix, an ``.npz`` ``edge_weight``, the NetworkX edge attribute
        ``weight``, PyG ``edge_weight``): a weighted adjacency, ``metadata['weighted']``.
        ``False`` reads every edge as weight 1 (``metadata['weights_ignored']``).

    Returns
    -------
    Graph
        Symmetric, no self-loops, 0/1 unless weighted; ``metadata`` reports ``duplicate_edges``,
        ``self_loops_removed``, ``symmetrized`` and ``weighted``. Non-negative integer ids are node
        indices; any other ids (strings, or integers when one of them is negative) are
        names, mapped to 0..N-1 in text-sorted order (``"10"`` before ``"2"``;
        ``metadata['node_names']`` keeps them).

    Examples
    --------
    >>> import os, tempfile
    >>> from oversmooth.graphs import read_graph
    >>> d = tempfile.mkdtemp()
    >>> with open(os.path.join(d, "e.csv"), "w") as f:
    ...     _ = f.write("src,dst\\na,b\\nb,c\\nc,c\\na,b\\n")
    >>> g = read_graph(os.path.join(d, "e.csv"), header=True)
    >>> g.n_nodes, g.n_edges, g.metadata["duplicate_edges"], g.metadata["self_loops_removed"]
    (3, 2, 1, 1)
    """
    g = _read_any(path, labels, format=format, directed=directed, symmetrize=symmetrize, delimiter=delimiter,
                  header=header, comments=comments, n_nodes=n_nodes, label_attr=label_attr, name=name,
                  feature_attr=feature_attr, weighted=weighted)
    if features is not None:
        if isinstance(features, (str, os.PathLike)):
            x = read_features(features, g.n_nodes)
            src = str(features)
        else:
            x = check_feature_matrix(features, g.n_nodes, "features")
            src = "array passed to read_graph"
        g = Graph(g.adjacency, g.labels, x, name=g.name, source=g.source,
                  metadata={**g.metadata, "features_source": src}, check_symmetric=False)
    return g


def _read_any(path: Any, labels: Any, *, format: str | None, directed: bool, symmetrize: bool,
              delimiter: str | None, header: bool | None, comments: str, n_nodes: int | None, label_attr: Any,
              name: str | None, feature_attr: str | None, weighted: bool) -> Graph:
    if not isinstance(path, (str, os.PathLike)):
        mod = type(path).__module__
        if mod.startswith("networkx"):
            return from_networkx(path, labels=label_attr if labels is None else labels, symmetrize=symmetrize,
                                 name=name, feature_attr=feature_attr, weight="weight" if weighted else None)
        if hasattr(path, "edge_index"):
            return Graph.from_pyg(path, symmetrize=symmetrize, name=name or "pyg",
                                  weight="edge_weight" if weighted else None)
        raise TypeError(f"path must be a file path, a networkx graph or a torch_geometric Data, got {type(path).__name__}")
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"graph file not found: {p}")
    fmt = format
    if fmt is None:
        suf = p.suffix.lower()
        fmt = {".npz": "npz", ".graphml": "graphml", ".gml": "gml"}.get(suf, "edgelist")
    if fmt not in _FORMATS:
        raise ValueError(f"format must be one of {', '.join(map(repr, _FORMATS))}, got {fmt!r}")
    nm = name or p.stem
    if fmt == "edgelist":
        return _read_edge_list(p, labels, directed=directed, symmetrize=symmetrize, delimiter=delimiter,
                               header=header, comments=comments, name=nm, n_nodes=n_nodes, weighted=weighted)
    if isinstance(labels, (str, os.PathLike)):
        raise ValueError("a labels file goes with an edge list; for .npz/.graphml/.gml pass an array of labels")
    if fmt == "npz":
        return _read_npz(p, labels, symmetrize=symmetrize, weighted=weighted, name=nm, n_nodes=n_nodes)
    nx = optional_import("networkx", "test")
    reader = nx.read_graphml if fmt == "graphml" else nx.read_gml
    try:
        g = reader(p)
    except Exception as exc:  # networkx raises many parser error types
        raise ValueError(f"{p}: cannot read as {fmt} ({type(exc).__name__}: {exc})") from None
    out = from_networkx(g, labels=label_attr if labels is None else labels, symmetrize=symmetrize, name=nm,
                        feature_attr=feature_attr, weight="weight" if weighted else None)
    out.source = f"{fmt} {p}"
    return out
