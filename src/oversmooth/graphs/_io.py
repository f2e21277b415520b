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

from .._utils import check_choice, optional_import
from ..errors import ArgumentTypeError, FileFormatError, ValidationError
from ._convert import DEFAULT_LABEL_ATTR, check_label_range, clean_adjacency, encode_labels
from ._convert import _finish as _finish_convert
from ._edgelist import ID_MODES, read_edge_list
from ._download import MissingFileError
from ._features import FEATURE_KEYS, check_feature_matrix, load_npz_archive, load_sparse_npz, read_features
from ._graph import Graph
from ._limits import check_node_count

__all__ = ["read_graph", "from_networkx", "from_pyg", "clean_adjacency"]

_FORMATS = ("edgelist", "npz", "graphml", "gml")


def _finish(a: Any, labels: Any, features: Any, symmetrize: bool, name: str, source: str,
            extra: dict[str, Any] | None = None, weighted: bool = False) -> Graph:
    return _finish_convert(a, labels, features, symmetrize=symmetrize, name=name, source=source, extra=extra,
                           weighted=weighted, what=source)


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


def _one_of(z: Any, keys: tuple[str, ...], p: Path) -> tuple[str | None, np.ndarray | None]:
    found = [k for k in keys if k in z]
    if len(found) > 1:
        raise FileFormatError(f"{p}: has both {found[0]!r} and {found[1]!r}; keep one")
    return (found[0], z[found[0]]) if found else (None, None)


def _scalar_count(v: np.ndarray, key: str, p: Path) -> int:
    if v.size != 1 or v.dtype.kind not in "iu" or int(v.ravel()[0]) < 0:
        raise FileFormatError(f"{p}: {key!r} must be one non-negative integer, got {v.dtype} {v.shape}")
    return int(v.ravel()[0])


def _read_npz(p: Path, labels: Any, *, symmetrize: bool, weighted: bool, name: str,
              n_nodes: int | None) -> Graph:
    """A scipy.sparse ``save_npz`` matrix, or arrays: edge_index / rows+cols, num_nodes, y, x, edge_weight."""
    with load_npz_archive(p, "a scipy.sparse .npz file nor an .npz of graph arrays",
                          "not a scipy.sparse .npz file nor an .npz of graph arrays (a single array)") as z:
        if {"format", "shape", "data"} <= set(z.files):  # scipy.sparse.save_npz
            a = load_sparse_npz(z, dense_features=False)
            values = np.asarray(a.data)
            has_w = bool(values.size and np.any(values[values != 0] != 1.0))
            extra = {"weights_ignored": True} if has_w and not weighted else {}
            return _finish(a, labels, None, symmetrize, name, f"npz {p}", extra, weighted=weighted and has_w)
        _, ei = _one_of(z, ("edge_index",), p)
        if ei is None:
            if not {"rows", "cols"} <= set(z.files):
                raise FileFormatError(f"{p}: not a scipy.sparse .npz file, and no graph arrays: an .npz graph holds "
                                      f"{_NPZ_GRAPH_KEYS} (found {', '.join(map(repr, z.files)) or 'none'})")
            r, c = np.ravel(z["rows"]), np.ravel(z["cols"])
            if r.shape != c.shape:
                raise FileFormatError(f"{p}: 'rows' and 'cols' must have the same length, got {r.size} and {c.size}")
            ei = np.vstack([r, c])
        if ei.ndim != 2 or ei.shape[0] != 2 or (ei.size and not np.issubdtype(ei.dtype, np.integer)):
            raise FileFormatError(f"{p}: 'edge_index' must be an integer array of shape (2, E), got {ei.dtype} "
                                  f"{ei.shape}")
        nkey, n_arr = _one_of(z, ("num_nodes", "n_nodes"), p)
        _, y = _one_of(z, ("y", "labels"), p)
        xkey, x = _one_of(z, FEATURE_KEYS, p)
        w = z["edge_weight"] if "edge_weight" in z else None
    if ei.size and ei.min() < 0:
        raise FileFormatError(f"{p}: 'edge_index' holds a negative node id {int(ei.min())}")
    n = int(ei.max()) + 1 if ei.size else 0
    declared = None if n_arr is None else _scalar_count(n_arr, str(nkey), p)
    for k, v in ((str(nkey), declared), ("n_nodes", n_nodes)):
        if v is not None:
            if v < n:
                raise FileFormatError(f"{p}: {k}={v} but the edges use node id {n - 1}")
            n = v
    if y is not None and labels is None:
        if y.ndim != 1:
            raise FileFormatError(f"{p}: labels ('y' / 'labels') must be 1-D (one per node), got shape {y.shape}")
        n = max(n, y.shape[0]) if n_arr is None and n_nodes is None else n
    if x is not None and n_arr is None and n_nodes is None and y is None:
        n = max(n, x.shape[0] if x.ndim else 0)
    check_node_count(n, f"{p}: node ids are indices (largest {n - 1})")
    if y is not None and labels is None:
        if np.issubdtype(y.dtype, np.floating) and not np.all(np.isfinite(y)):
            raise FileFormatError(f"{p}: labels ('y' / 'labels') must be finite (-1 = unlabelled)")
        labels_arr, class_names = encode_labels(np.where(y < 0, -1, y) if np.issubdtype(y.dtype, np.number) else y,
                                                f"{p}: labels")
        if labels_arr.shape[0] != n:
            raise FileFormatError(f"{p}: {labels_arr.shape[0]} labels for {n} nodes")
        check_label_range(labels_arr, n, f"{p}: labels ('y' / 'labels')")
    else:
        labels_arr, class_names = labels, None
    feats = None
    if x is not None:
        feats = check_feature_matrix(x, n, f"{p}, key {xkey!r}")
    wv = np.ones(ei.shape[1])
    if w is not None:
        if w.dtype.kind not in "biuf":
            raise FileFormatError(f"{p}: 'edge_weight' must be numbers, got dtype {w.dtype}")
        wv = np.asarray(w, dtype=np.float64).ravel()
        if wv.shape != (ei.shape[1],):
            raise FileFormatError(f"{p}: 'edge_weight' must hold one weight per edge ({ei.shape[1]}), got shape "
                                  f"{w.shape}")
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
    ids: str = "auto",
) -> Graph:
    """Read a user graph: edge list, ``.npz``, GraphML or GML; or convert a NetworkX / PyG object.

    Parameters
    ----------
    path : path, networkx.Graph or torch_geometric.data.Data
        A file, or an in-memory graph (converted by :meth:`Graph.from_networkx` /
        :meth:`Graph.from_pyg`, the one converter of each kind).
    labels : path or array, optional
        Edge lists: a file of ``node label`` lines (same ids and delimiter detection as
        the edge list; nodes without a line get ``-1``; a line for a node the graph
        does not have, a node listed with two different labels, or an integer label
        below -1 is an error naming the file and line; non-integer labels are mapped to
        0..K-1 in sorted order, names kept in ``metadata['class_names']``), or an array
        of N labels in node order (integer ids, or the order of ``metadata['node_names']``). Other formats: an array,
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

    ids : {"auto", "index", "name"}, default "auto"
        Edge lists only: how node ids map to nodes 0..N-1 (see Returns and
        :mod:`oversmooth.graphs._edgelist`).

    Returns
    -------
    Graph
        Symmetric, no self-loops, 0/1 unless weighted; ``metadata`` reports ``duplicate_edges``,
        ``self_loops_removed``, ``symmetrized``, ``weighted`` and, for edge lists, ``node_ids``.
        Edge-list ids (``ids="auto"``): non-negative integer ids are node indices when they
        are dense (largest id + 1 <= 2 x distinct ids + 16, or ``n_nodes`` given); sparse
        integer ids (with a ``UserWarning``) and any other ids (strings, negative integers)
        are names, numbered 0..N-1 in increasing order (numeric for integers, text order for
        strings: ``"10"`` before ``"2"``); ``metadata['node_names']`` keeps them. No array
        is sized by the largest id unless ids are indices (then within the memory budget).

    Raises
    ------
    FileNotFoundError
        No such file.
    FileFormatError (``ValueError``)
        Content that does not match the format, naming the file (and line or key).
    ResourceLimitError (``ValueError``)
        A file declaring more nodes or array bytes than the memory budget
        (``$OVERSMOOTH_MAX_BYTES``, default the physical memory).

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
                  feature_attr=feature_attr, weighted=weighted, ids=ids)
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
              name: str | None, feature_attr: str | None, weighted: bool, ids: str) -> Graph:
    if not isinstance(path, (str, os.PathLike)):
        mod = type(path).__module__
        if mod.startswith("networkx"):
            return from_networkx(path, labels=label_attr if labels is None else labels, symmetrize=symmetrize,
                                 name=name, feature_attr=feature_attr, weight="weight" if weighted else None)
        if hasattr(path, "edge_index"):
            return Graph.from_pyg(path, symmetrize=symmetrize, name=name or "pyg",
                                  weight="edge_weight" if weighted else None)
        raise ArgumentTypeError(f"path must be a file path, a networkx graph or a torch_geometric Data, got {type(path).__name__}")
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"graph file not found: {p}")
    fmt = format
    if fmt is None:
        suf = p.suffix.lower()
        fmt = {".npz": "npz", ".graphml": "graphml", ".gml": "gml"}.get(suf, "edgelist")
    if fmt not in _FORMATS:
        raise ValidationError(f"format must be one of {', '.join(map(repr, _FORMATS))}, got {fmt!r}")
    nm = name or p.stem
    if fmt == "edgelist":
        return read_edge_list(p, labels, directed=directed, symmetrize=symmetrize, delimiter=delimiter,
                              header=header, comments=comments, name=nm, n_nodes=n_nodes, weighted=weighted,
                              ids=check_choice(ids, "ids", ID_MODES))
    if isinstance(labels, (str, os.PathLike)):
        raise ValidationError("labels: a labels file goes with an edge list; for .npz/.graphml/.gml pass an array of labels")
    if fmt == "npz":
        return _read_npz(p, labels, symmetrize=symmetrize, weighted=weighted, name=nm, n_nodes=n_nodes)
    nx = optional_import("networkx", "test")
    reader = nx.read_graphml if fmt == "graphml" else nx.read_gml
    try:
        g = reader(p)
    except Exception as exc:  # networkx raises many parser error types
        raise FileFormatError(f"{p}: cannot read as {fmt} ({type(exc).__name__}: {' '.join(str(exc).split())})") \
            from None
    out = from_networkx(g, labels=label_attr if labels is None else labels, symmetrize=symmetrize, name=nm,
                        feature_attr=feature_attr, weight="weight" if weighted else None)
    out.source = f"{fmt} {p}"
    return out
