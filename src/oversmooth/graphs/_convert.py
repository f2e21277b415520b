"""The one NetworkX converter and the one PyTorch Geometric converter (both directions for PyG).

:meth:`Graph.from_networkx <oversmooth.graphs.Graph.from_networkx>`,
:meth:`Graph.from_pyg <oversmooth.graphs.Graph.from_pyg>` and
:meth:`Graph.to_pyg <oversmooth.graphs.Graph.to_pyg>` are implemented here;
:func:`oversmooth.graphs.from_networkx`, :func:`oversmooth.graphs.from_pyg` and
:func:`oversmooth.graphs.read_graph` call them.

Cleaning (:func:`clean_adjacency`) is the same for every input: the graph is made
undirected only when asked (``symmetrize=True``), self-loops are removed (the analysis adds
them back: the paper's ``A_ii = 1``) unless ``keep_self_loops=True``, and what changed is
reported in ``metadata``: ``duplicate_edges``, ``self_loops_removed``, ``symmetrized``.

Edge weights are never dropped silently. An input with weights other than 1 (a NetworkX
edge attribute, PyG's ``edge_weight``, the values of a sparse matrix) gives a *weighted*
adjacency (``metadata["weighted"] = True``): ``A_ij = w_ij``, repeated edges summed (as
PyG's ``gcn_norm`` and NetworkX's multigraph conversion do), and ``D^-1 A`` then uses the
weighted degrees ``d_i = sum_j w_ij``. Weights must be finite and >= 0, and the two
directions of an edge must carry the same weight. Passing ``weight=None`` reads every edge
as weight 1, and says so in ``metadata["weights_ignored"]``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._utils import optional_import
from ..errors import ValidationError
from ._labels import check_label_range, encode_labels, max_classes

__all__ = ["clean_adjacency", "networkx_to_graph", "pyg_to_graph", "graph_to_pyg", "DEFAULT_LABEL_ATTR",
           "encode_labels", "check_label_range", "max_classes"]


class _DefaultAttr(str):
    """The default label attribute: used when present, no error when every node lacks it."""


#: ``label_attr``'s default: ``"label"`` when the nodes have it, unlabelled otherwise. A name given
#: explicitly must be present on at least one node.
DEFAULT_LABEL_ATTR = _DefaultAttr("label")


# --------------------------------------------------------------------------- cleaning
def _duplicates(r: np.ndarray, c: np.ndarray, w: np.ndarray, n: int,
                count_weights: bool) -> tuple[int, sp.csr_array]:
    """Repeated (r, c) entries (and integer multiplicities > 1 when ``count_weights``), once per undirected pair.

    Also returns the summed multiplicity matrix (its pattern is the edge set).
    """
    mult = np.maximum(np.round(w), 1.0) if count_weights and np.all(w == np.round(w)) else np.ones(w.size)
    m = sp.csr_array((mult, (r, c)), shape=(n, n))
    m.sum_duplicates()
    extra = m.copy()
    extra.data = extra.data - 1.0
    extra.eliminate_zeros()
    return (int(sp.triu(extra.maximum(extra.T), k=1).sum()) if extra.nnz else 0), m


def _finish_indices(m: sp.csr_array, n: int) -> sp.csr_array:
    from ._graph import index_dtype_for

    m.sort_indices()
    idx = index_dtype_for(n, m.nnz)
    m.indices = m.indices.astype(idx, copy=False)
    m.indptr = m.indptr.astype(idx, copy=False)
    return m


def clean_adjacency(a: Any, *, symmetrize: bool = False, what: str = "graph", weighted: bool = False,
                    keep_self_loops: bool = False) -> tuple[sp.csr_array, dict[str, int]]:
    """Symmetric CSR from any sparse adjacency (binary, or weighted), with a report of what changed.

    Parameters
    ----------
    a : scipy sparse matrix, shape (N, N)
        Entries != 0 are edges.
    symmetrize : bool
        Add the reverse of every one-way pair; if ``False`` a non-symmetric pattern raises.
    what : str
        Name used in error messages.
    weighted : bool, default False
        ``False``: every edge gets weight 1 (integer values > 1 are read as multiplicities
        and counted in ``duplicate_edges``). ``True``: the values are edge weights (finite,
        >= 0; repeated entries summed; both directions of an edge must agree).
    keep_self_loops : bool, default False
        Keep the diagonal (it is still counted in ``self_loops_removed`` = 0 then).

    Returns
    -------
    adjacency : csr_array
    report : dict
        ``duplicate_edges`` (stored entries > 1 or repeated pairs), ``self_loops_removed``
        (nodes that had a self-loop), ``symmetrized`` (one-way pairs completed).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from oversmooth.graphs._io import clean_adjacency
    >>> a, rep = clean_adjacency(sp.csr_array([[1, 2], [1, 0]]))
    >>> a.toarray().tolist(), rep
    ([[0.0, 1.0], [1.0, 0.0]], {'duplicate_edges': 1, 'self_loops_removed': 1, 'symmetrized': 0})
    >>> clean_adjacency(sp.csr_array([[0, 2], [2, 0]]))[1]["duplicate_edges"]  # one pair, listed twice
    1
    >>> clean_adjacency(sp.csr_array([[0, 0.5], [0.5, 0]]), weighted=True)[0].toarray().tolist()
    [[0.0, 0.5], [0.5, 0.0]]
    """
    a = sp.coo_array(a)
    if a.shape[0] != a.shape[1]:
        raise ValidationError(f"{what}: adjacency must be square, got shape {a.shape}")
    n = a.shape[0]
    w_all = np.asarray(a.data, dtype=np.float64)
    if weighted:
        if not np.all(np.isfinite(w_all)):
            raise ValidationError(f"{what}: edge weights must be finite, got {w_all[~np.isfinite(w_all)][0]}")
        if np.any(w_all < 0):
            i = int(np.flatnonzero(w_all < 0)[0])
            raise ValidationError(f"{what}: edge weights must be >= 0 (D^-1 A needs non-negative degrees), got "
                             f"{w_all[i]:g} on edge ({int(a.row[i])}, {int(a.col[i])})")
    keep = w_all != 0
    r, c, w = a.row[keep].astype(np.int64), a.col[keep].astype(np.int64), w_all[keep]
    loops = r == c
    n_loops = int(np.unique(r[loops]).size)  # nodes that had a self-loop
    if keep_self_loops:
        n_loops_removed = 0
    else:
        n_loops_removed = n_loops
        r, c, w = r[~loops], c[~loops], w[~loops]
    if keep_self_loops:
        off = r != c
        dup = _duplicates(r[off], c[off], w[off], n, count_weights=not weighted)[0]
        counts = None
    else:
        dup, counts = _duplicates(r, c, w, n, count_weights=not weighted)
    if weighted or counts is None:
        m = sp.csr_array((w if weighted else np.ones(w.size), (r, c)), shape=(n, n))
        m.sum_duplicates()
    else:
        m = counts
    if weighted:
        pattern = m.copy()
        pattern.data[:] = 1.0
    else:
        m.data[:] = 1.0
        pattern = m
    t = pattern.T.tocsr()
    one_way = pattern - t
    one_way.eliminate_zeros()
    n_one_way = int(np.count_nonzero(one_way.data > 0))
    if weighted:
        both = pattern.multiply(t)
        diff = sp.csr_array((m - m.T.tocsr()).multiply(both))
        diff.eliminate_zeros()
        scale = np.maximum(np.abs(m).max() if m.nnz else 0.0, 1.0)
        bad = np.flatnonzero(np.abs(diff.data) > 1e-12 * scale)
        if bad.size:
            d = diff.tocoo()
            i, j = int(d.row[bad[0]]), int(d.col[bad[0]])
            raise ValidationError(f"{what}: edge ({i}, {j}) has weight {m[i, j]:g} one way and {m[j, i]:g} the other; "
                             "an undirected graph needs one weight per edge")
    if n_one_way:
        if not symmetrize:
            raise ValidationError(f"{what} is directed: {n_one_way} pairs (i, j) have no (j, i); pass symmetrize=True "
                             "(--symmetrize) to add the reverse edges")
        m = sp.csr_array(m.maximum(m.T.tocsr()))  # one-way pairs get their weight both ways
    m = _finish_indices(sp.csr_array(m), n)
    # an undirected input listing both directions is not counted as duplicated
    return m, {"duplicate_edges": dup, "self_loops_removed": n_loops_removed, "symmetrized": n_one_way}


def _finish(a: Any, labels: Any, features: Any, *, symmetrize: bool, name: str, source: str,
            extra: dict[str, Any] | None = None, weighted: bool = False, keep_self_loops: bool = False,
            what: str | None = None) -> Any:
    from ._graph import Graph

    adj, report = clean_adjacency(a, symmetrize=symmetrize, what=what or name, weighted=weighted,
                                  keep_self_loops=keep_self_loops)
    meta = {**report, "weighted": bool(weighted and adj.nnz and np.any(adj.data != 1.0)), **(extra or {})}
    return Graph(adj, labels, features, name=name, source=source, metadata=meta, check_symmetric=False)


# --------------------------------------------------------------------------- NetworkX
def _node_features(graph: Any, nodes: list[Any], attr: str, nm: str) -> np.ndarray:
    from ._features import check_feature_matrix

    vals = [graph.nodes[v].get(attr) for v in nodes]
    missing = [v for v, x in zip(nodes, vals) if x is None]
    if missing:
        raise ValidationError(f"{nm}: node attribute {attr!r} (feature_attr) is missing on {len(missing)} of {len(nodes)} "
                         f"nodes, e.g. node {missing[0]!r}")
    rows = [np.atleast_1d(np.asarray(x)) for x in vals]
    dims = {r.shape for r in rows}
    if len(dims) > 1 or any(r.ndim != 1 for r in rows):
        raise ValidationError(f"{nm}: node attribute {attr!r} (feature_attr) must be a number or a vector of the same "
                         f"length on every node, got shapes {sorted(map(str, dims))[:3]}")
    return check_feature_matrix(np.stack(rows) if rows else np.zeros((0, 1)), len(nodes),
                                f"{nm}: node attribute {attr!r} (feature_attr)")


def networkx_to_graph(graph: Any, label_attr: Any = DEFAULT_LABEL_ATTR, *, labels: Any = None,
                      feature_attr: str | None = None, weight: str | None = "weight", symmetrize: bool = False,
                      keep_self_loops: bool = False, name: str | None = None) -> Any:
    """The implementation of :meth:`Graph.from_networkx` (see there)."""
    nx = optional_import("networkx", "test")
    nm = name or (str(graph.name) if getattr(graph, "name", "") else "networkx")
    if graph.is_directed() and not symmetrize:
        raise ValidationError(f"{nm} is a directed NetworkX graph; pass symmetrize=True (or graph.to_undirected())")
    nodes = list(graph.nodes())
    extra: dict[str, Any] = {"node_names": nodes}
    # labels
    lab = None
    if labels is not None:
        lab = np.asarray(labels)
    elif label_attr is not None:
        vals = [graph.nodes[v].get(label_attr) for v in nodes]
        present = np.array([v is not None for v in vals], dtype=bool)
        if not present.any():
            if not isinstance(label_attr, _DefaultAttr) and nodes:
                seen = sorted({k for v in nodes for k in graph.nodes[v]})
                raise ValidationError(f"{nm}: node attribute {label_attr!r} (label_attr) is missing on every node "
                                 f"(node attributes present: {', '.join(map(repr, seen[:10])) or 'none'})")
        else:
            raw = np.array([v for v in vals if v is not None])
            if raw.ndim != 1:
                raise ValidationError(f"{nm}: node attribute {label_attr!r} (label_attr) must be one value per node")
            codes, class_names = encode_labels(raw, f"{nm}: node attribute {label_attr!r}")
            check_label_range(codes, len(nodes), f"{nm}: node attribute {label_attr!r}")
            lab = np.full(len(nodes), -1, dtype=np.int64)
            lab[present] = codes
            extra["label_attr"] = str(label_attr)
            if class_names is not None:
                extra["class_names"] = class_names
            n_missing = int((~present).sum())
            if n_missing:
                extra["unlabelled_nodes"] = n_missing
                warnings.warn(f"{nm}: node attribute {label_attr!r} is missing on {n_missing} of {len(nodes)} nodes; "
                              "they are unlabelled (-1)", UserWarning, stacklevel=3)
    # features
    x = _node_features(graph, nodes, feature_attr, nm) if feature_attr is not None else None
    if x is not None:
        extra["feature_attr"] = feature_attr
    # weights
    weighted = False
    if weight is not None:
        ws = [d.get(weight, 1) for *_, d in graph.edges(data=True)]
        try:
            wa = np.asarray(ws, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValidationError(f"{nm}: edge attribute {weight!r} (weight) must be numbers") from None
        weighted = bool(np.any(wa != 1.0))
    elif any(len(d) for *_, d in graph.edges(data=True)):
        extra["weights_ignored"] = True
    a = nx.to_scipy_sparse_array(graph, nodelist=nodes, weight=weight if weighted else None, format="coo")
    return _finish(a, lab, x, symmetrize=symmetrize, name=nm, source="networkx", extra=extra, weighted=weighted,
                   keep_self_loops=keep_self_loops)


# --------------------------------------------------------------------------- PyTorch Geometric
def _to_np(t: Any) -> np.ndarray:
    if hasattr(t, "detach"):
        t = t.detach().cpu().numpy()
    return np.asarray(t)


def _attr(data: Any, key: str) -> Any:
    try:
        return getattr(data, key, None)
    except (AttributeError, KeyError):  # some Data versions raise on missing keys
        return None


def pyg_to_graph(data: Any, *, weight: str | None = "edge_weight", symmetrize: bool = False,
                 keep_self_loops: bool = False, name: str = "pyg") -> Any:
    """The implementation of :meth:`Graph.from_pyg` (see there)."""
    ei = _attr(data, "edge_index")
    if ei is None:
        raise ValidationError("data has no edge_index")
    ei = _to_np(ei)
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise ValidationError(f"edge_index must have shape (2, E), got {ei.shape}")
    n = _attr(data, "num_nodes")
    n = int(n) if n is not None else (int(ei.max()) + 1 if ei.size else 0)
    from ._limits import check_node_count

    check_node_count(n, "data (num_nodes, or the largest id in edge_index + 1)")
    if ei.size and (ei.min() < 0 or ei.max() >= n):
        raise ValidationError(f"edge_index must hold node ids in 0..{n - 1} (num_nodes={n}), got ids "
                         f"{int(ei.min())}..{int(ei.max())}")
    extra: dict[str, Any] = {}
    y = _attr(data, "y")
    lab = None
    if y is not None:
        y = _to_np(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValidationError(f"data.y must be one label per node (shape (N,)), got {y.shape}")
        if y.shape[0] != n:
            raise ValidationError(f"data.y must have one label per node ({n}), got {y.shape[0]}")
        lab, _ = encode_labels(np.where(y < 0, -1, y), "data.y")
        check_label_range(lab, n, "data.y")
    x = _attr(data, "x")
    x = None if x is None else _to_np(x).astype(np.float64)
    w = np.ones(ei.shape[1])
    weighted = False
    if weight is not None:
        wt = _attr(data, weight)
        if wt is not None:
            wt = _to_np(wt).astype(np.float64)
            if wt.ndim == 2 and wt.shape[1] == 1:
                wt = wt[:, 0]
            if wt.shape != (ei.shape[1],):
                raise ValidationError(f"data.{weight} must hold one weight per edge ({ei.shape[1]},), got shape {wt.shape}"
                                 + (" (multi-dimensional edge features are not edge weights)" if wt.ndim == 2 else ""))
            w = wt
            weighted = bool(np.any(wt != 1.0))
        ea = _attr(data, "edge_attr")
        if ea is not None and weight != "edge_attr":
            shape = tuple(_to_np(ea).shape)
            extra["edge_attr_not_used"] = shape
            warnings.warn(f"{name}: data.edge_attr (shape {shape}) is not read as edge weights (data.{weight} is); "
                          "pass weight='edge_attr' to use a 1-D edge_attr as weights", UserWarning, stacklevel=3)
    else:
        extra["weights_ignored"] = True
    masks = {}
    for k in ("train", "val", "test"):
        mk = _attr(data, f"{k}_mask")
        if mk is not None:
            mk = _to_np(mk)
            if mk.dtype == np.bool_ and mk.shape == (n,):
                masks[k] = np.flatnonzero(mk).astype(np.int64)
    if len(masks) == 3:
        extra["split"] = masks  # PyG's train_mask / val_mask / test_mask as node indices
    a = sp.coo_array((w, (ei[0].astype(np.int64), ei[1].astype(np.int64))), shape=(n, n))
    return _finish(a, lab, x, symmetrize=symmetrize, name=name, source="torch_geometric Data", extra=extra,
                   weighted=weighted, keep_self_loops=keep_self_loops)


def graph_to_pyg(graph: Any, split: Any = None, seed: Any = None) -> Any:
    """The implementation of :meth:`Graph.to_pyg` (see there)."""
    torch = optional_import("torch", "train")
    data_mod = optional_import("torch_geometric.data", "train")
    a = graph.adjacency.tocoo()
    kw: dict[str, Any] = {
        "edge_index": torch.from_numpy(np.vstack([a.row, a.col]).astype(np.int64)),
        "y": torch.from_numpy(graph.labels.astype(np.int64)),
        "num_nodes": graph.n_nodes,
    }
    if a.nnz and np.any(a.data != 1.0):
        kw["edge_weight"] = torch.from_numpy(a.data.astype(np.float32))
    if graph.features is not None:
        kw["x"] = torch.from_numpy(graph.features.astype(np.float32))
    if split is not None:
        from ._splits import SPLIT_KEYS, resolve_split

        for k, idx in zip(SPLIT_KEYS, resolve_split(split, graph, seed)):
            m = torch.zeros(graph.n_nodes, dtype=torch.bool)
            m[torch.from_numpy(idx)] = True
            kw[f"{k}_mask"] = m
    return data_mod.Data(**kw)
