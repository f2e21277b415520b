"""User graphs: edge lists, ``.npz`` sparse matrices, GraphML/GML, NetworkX and PyG ``Data``.

Every reader returns a :class:`~oversmooth.graphs.Graph` that is symmetric, binary (0/1),
without self-loops, with what was cleaned recorded in ``graph.metadata``:
``duplicate_edges`` (repeated pairs merged), ``self_loops_removed`` and ``symmetrized``
(directed pairs added to make the graph undirected). The analysis adds self-loops back
itself (the paper's ``A_ii = 1``).

Directed input is symmetrised only when asked (``symmetrize=True``); otherwise a
directed graph is an error. An *edge list* is read as undirected by default (each line
one undirected edge, the usual convention); pass ``directed=True`` when its lines are
arcs, and then it must list both directions of every edge unless ``symmetrize=True``.

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
from ._graph import Graph, index_dtype_for

__all__ = ["read_graph", "from_networkx", "from_pyg", "clean_adjacency"]

_FORMATS = ("edgelist", "npz", "graphml", "gml")


def clean_adjacency(a: Any, *, symmetrize: bool = False, what: str = "graph") -> tuple[sp.csr_array, dict[str, int]]:
    """Binary, symmetric, loop-free CSR from any sparse adjacency, with a report of what changed.

    Parameters
    ----------
    a : scipy sparse matrix, shape (N, N)
        Entries != 0 are edges (weights and multiplicities are dropped).
    symmetrize : bool
        Add the reverse of every one-way pair; if ``False`` a non-symmetric pattern raises.
    what : str
        Name used in error messages.

    Returns
    -------
    adjacency : csr_array
    report : dict
        ``duplicate_edges`` (stored entries > 1 or repeated pairs), ``self_loops_removed``
        (nodes that had a self-loop),
        ``symmetrized`` (one-way pairs completed).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from oversmooth.graphs._io import clean_adjacency
    >>> a, rep = clean_adjacency(sp.csr_array([[1, 2], [1, 0]]))
    >>> a.toarray().tolist(), rep
    ([[0.0, 1.0], [1.0, 0.0]], {'duplicate_edges': 1, 'self_loops_removed': 1, 'symmetrized': 0})
    >>> clean_adjacency(sp.csr_array([[0, 2], [2, 0]]))[1]["duplicate_edges"]  # one pair, listed twice
    1
    """
    a = sp.coo_array(a)
    if a.shape[0] != a.shape[1]:
        raise ValueError(f"{what}: adjacency must be square, got shape {a.shape}")
    n = a.shape[0]
    keep = a.data != 0
    r, c, w = a.row[keep], a.col[keep], a.data[keep]
    loops = r == c
    n_loops = int(np.unique(r[loops]).size)  # nodes that had a self-loop
    r, c, w = r[~loops], c[~loops], w[~loops]
    # duplicates: repeated (r, c) entries and integer weights > 1 (multigraph counts), counted once
    # per undirected pair: sum over i < j of max(extra(i, j), extra(j, i))
    mult = np.maximum(np.round(w), 1.0) if np.all(w == np.round(w)) else np.ones(w.size)
    m = sp.csr_array((mult, (r, c)), shape=(n, n))
    m.sum_duplicates()
    extra = m.copy()
    extra.data = extra.data - 1.0
    extra.eliminate_zeros()
    dup = int(sp.triu(extra.maximum(extra.T), k=1).sum()) if extra.nnz else 0
    m.data[:] = 1.0
    t = m.T.tocsr()
    one_way = (m - t)
    one_way.eliminate_zeros()
    n_one_way = int(np.count_nonzero(one_way.data > 0))
    if n_one_way:
        if not symmetrize:
            raise ValueError(f"{what} is directed: {n_one_way} pairs (i, j) have no (j, i); pass symmetrize=True "
                             "(--symmetrize) to add the reverse edges")
        m = sp.csr_array(m.maximum(t))
    m.sort_indices()
    idx = index_dtype_for(n, m.nnz)
    m.indices = m.indices.astype(idx, copy=False)
    m.indptr = m.indptr.astype(idx, copy=False)
    # an undirected input listing both directions is not counted as duplicated
    return m, {"duplicate_edges": dup, "self_loops_removed": n_loops, "symmetrized": n_one_way}


def _finish(a: Any, labels: Any, features: Any, symmetrize: bool, name: str, source: str,
            extra: dict[str, Any] | None = None) -> Graph:
    adj, report = clean_adjacency(a, symmetrize=symmetrize, what=name)
    meta = {**report, **(extra or {})}
    return Graph(adj, labels, features, name=name, source=source, metadata=meta, check_symmetric=False)


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
                what: str) -> tuple[np.ndarray, bool, str | None]:
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


def _encode_labels(vals: np.ndarray, what: str) -> tuple[np.ndarray, list[str] | None]:
    """Integer labels stay (>= -1); other values are mapped to 0..K-1 in sorted order."""
    if np.issubdtype(vals.dtype, np.integer):
        if vals.size and vals.min() < -1:
            raise ValueError(f"{what}: labels must be >= -1 (-1 = unlabelled), got {vals.min()}")
        return vals.astype(np.int64), None
    s = vals.astype(str)
    try:
        as_int = s.astype(np.int64)
        return _encode_labels(as_int, what)
    except ValueError:
        pass
    names, codes = np.unique(s, return_inverse=True)
    return codes.astype(np.int64), names.tolist()


def _read_edge_list(path: Path, labels: Any, *, directed: bool, symmetrize: bool, delimiter: str | None,
                    header: bool | None, comments: str, name: str, n_nodes: int | None) -> Graph:
    pairs, ids_int, _ = _read_pairs(path, delimiter=delimiter, header=header, comments=comments,
                                    what="edge list")
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
        codes, class_names = _encode_labels(label_vals, f"labels file {labels}")
        lab_arr = np.full(n, -1, dtype=np.int64)
        lab_arr[lab_idx] = codes
    elif labels is not None:
        lab_arr = np.asarray(labels)
    idx = index_dtype_for(n, 2 * rows.size)
    rows = rows.astype(idx, copy=False)
    cols = cols.astype(idx, copy=False)
    if directed:
        a = sp.coo_array((np.ones(rows.size), (rows, cols)), shape=(n, n))
    else:
        off = rows != cols
        a = sp.coo_array((np.ones(rows.size + int(off.sum())),
                          (np.concatenate([rows, cols[off]]), np.concatenate([cols, rows[off]]))), shape=(n, n))
    extra: dict[str, Any] = {"n_lines": int(pairs.shape[0])}
    if node_names is not None:
        extra["node_names"] = node_names
    if class_names is not None:
        extra["class_names"] = class_names
    g = _finish(a, lab_arr, None, symmetrize or not directed, name, f"edge list {path}", extra)
    if not directed:
        # each line was added in both directions: a line repeated (in either orientation) is a duplicate
        loop_lines = int(np.count_nonzero(rows == cols))
        g.metadata["duplicate_edges"] = int(pairs.shape[0] - loop_lines - g.n_edges)
        g.metadata["symmetrized"] = 0
    return g


# --------------------------------------------------------------------------- python objects
def from_networkx(graph: Any, *, labels: Any = "label", symmetrize: bool = False, name: str | None = None) -> Graph:
    """A NetworkX graph -> :class:`Graph` (nodes in iteration order; ``metadata['node_names']``).

    ``labels`` is a node attribute name (missing -> -1) or an array. A directed graph
    needs ``symmetrize=True``. Multi-edges count as duplicates, self-loops are dropped.

    Examples
    --------
    >>> import networkx as nx
    >>> from oversmooth.graphs._io import from_networkx
    >>> g = from_networkx(nx.path_graph(4))
    >>> g.n_nodes, g.n_edges
    (4, 3)
    """
    nx = optional_import("networkx", "test")
    nodes = list(graph.nodes())
    a = nx.to_scipy_sparse_array(graph, nodelist=nodes, weight=None, format="coo")
    lab = None
    class_names = None
    if isinstance(labels, str):
        vals = [graph.nodes[v].get(labels, None) for v in nodes]
        if any(v is not None for v in vals):
            present = np.array([v is not None for v in vals])
            raw = np.array([v for v in vals if v is not None])
            codes, class_names = _encode_labels(raw, f"node attribute {labels!r}")
            lab = np.full(len(nodes), -1, dtype=np.int64)
            lab[present] = codes
    elif labels is not None:
        lab = np.asarray(labels)
    nm = name or (str(graph.name) if getattr(graph, "name", "") else "networkx")
    extra: dict[str, Any] = {"node_names": nodes}
    if class_names is not None:
        extra["class_names"] = class_names
    if graph.is_directed() and not symmetrize:
        raise ValueError(f"{nm} is a directed NetworkX graph; pass symmetrize=True (or graph.to_undirected())")
    return _finish(a, lab, None, symmetrize, nm, "networkx", extra)


def from_pyg(data: Any, *, symmetrize: bool = False, name: str = "pyg") -> Graph:
    """A PyTorch Geometric ``Data`` -> :class:`Graph` (``edge_index``, ``y``, ``x``, ``num_nodes``).

    ``edge_index`` holds arcs: it must list both directions of every edge unless
    ``symmetrize=True``. ``y`` becomes the labels (negative -> -1), ``x`` the features.

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> from torch_geometric.data import Data  # doctest: +SKIP
    >>> from oversmooth.graphs import from_pyg  # doctest: +SKIP
    >>> d = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), num_nodes=3)  # doctest: +SKIP
    >>> from_pyg(d).n_edges  # doctest: +SKIP
    1
    """

    def to_np(t: Any) -> np.ndarray:
        if hasattr(t, "detach"):
            t = t.detach().cpu().numpy()
        return np.asarray(t)

    ei = getattr(data, "edge_index", None)
    if ei is None:
        raise ValueError("data has no edge_index")
    ei = to_np(ei)
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {ei.shape}")
    n = getattr(data, "num_nodes", None)
    n = int(n) if n is not None else (int(ei.max()) + 1 if ei.size else 0)
    if ei.size and (ei.min() < 0 or ei.max() >= n):
        raise ValueError(f"edge_index must hold node ids in 0..{n - 1} (num_nodes={n}), got ids "
                         f"{int(ei.min())}..{int(ei.max())}")
    y = getattr(data, "y", None)
    lab = None
    if y is not None:
        y = to_np(y)
        if y.ndim != 1:
            raise ValueError(f"data.y must be one label per node (shape (N,)), got {y.shape}")
        lab = np.where(y < 0, -1, y).astype(np.int64)
    x = getattr(data, "x", None)
    x = None if x is None else to_np(x).astype(np.float64)
    a = sp.coo_array((np.ones(ei.shape[1]), (ei[0].astype(np.int64), ei[1].astype(np.int64))), shape=(n, n))
    return _finish(a, lab, x, symmetrize, name, "torch_geometric Data")


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
    label_attr: str = "label",
    name: str | None = None,
) -> Graph:
    """Read a user graph: edge list, ``.npz`` sparse matrix, GraphML or GML; or convert an object.

    Parameters
    ----------
    path : path, networkx.Graph or torch_geometric.data.Data
        A file, or an in-memory graph (passed to :func:`from_networkx` / :func:`from_pyg`).
    labels : path or array, optional
        Edge lists: a file of ``node label`` lines (same id space and delimiter
        detection as the edge list; nodes without a line get ``-1``; non-integer
        labels are mapped to 0..K-1 in sorted order, names kept in
        ``metadata['class_names']``), or an array of N labels in node order (integer
        ids, or the sorted string ids of ``metadata['node_names']``). Other formats: an array,
        or labels come from the file (GraphML/GML attribute ``label_attr``).
    format : {"edgelist", "npz", "graphml", "gml"}, optional
        Default from the suffix (``.npz``, ``.graphml``, ``.gml``, anything else an edge list).
    directed : bool, default False
        Edge lists only: lines are arcs (see the module docs).
    symmetrize : bool, default False
        Make a directed input undirected by adding reverse edges; otherwise directed
        input raises ``ValueError``.
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
        Node attribute holding labels in GraphML/GML/NetworkX input. (GML reserves
        ``label`` for node names: store classes under another attribute there.)
    name : str, optional
        Defaults to the file's stem.

    Returns
    -------
    Graph
        Symmetric, 0/1, no self-loops; ``metadata`` reports ``duplicate_edges``,
        ``self_loops_removed`` and ``symmetrized``. Non-negative integer ids are node
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
    if not isinstance(path, (str, os.PathLike)):
        mod = type(path).__module__
        if mod.startswith("networkx"):
            return from_networkx(path, labels=label_attr if labels is None else labels, symmetrize=symmetrize,
                                 name=name)
        if hasattr(path, "edge_index"):
            return from_pyg(path, symmetrize=symmetrize, name=name or "pyg")
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
                               header=header, comments=comments, name=nm, n_nodes=n_nodes)
    if isinstance(labels, (str, os.PathLike)):
        raise ValueError("a labels file goes with an edge list; for .npz/.graphml/.gml pass an array of labels")
    if fmt == "npz":
        try:
            a = sp.load_npz(p)
        except (ValueError, OSError, KeyError) as exc:
            raise ValueError(f"{p}: not a scipy.sparse .npz file ({exc})") from None
        return _finish(a, labels, None, symmetrize, nm, f"npz {p}")
    nx = optional_import("networkx", "test")
    reader = nx.read_graphml if fmt == "graphml" else nx.read_gml
    try:
        g = reader(p)
    except Exception as exc:  # networkx raises many parser error types
        raise ValueError(f"{p}: cannot read as {fmt} ({type(exc).__name__}: {exc})") from None
    out = from_networkx(g, labels=label_attr if labels is None else labels, symmetrize=symmetrize, name=nm)
    out.source = f"{fmt} {p}"
    return out
