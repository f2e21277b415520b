"""The :class:`Graph` container: a symmetric CSR adjacency with labels and features."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._utils import check_finite_array, optional_import
from ..errors import ArgumentTypeError, ValidationError
from ._convert import DEFAULT_LABEL_ATTR

__all__ = ["Graph", "index_dtype_for"]


def index_dtype_for(n_nodes: int, nnz: int) -> type[np.signedinteger]:
    """int32 when every index and offset fits, else int64."""
    return np.int32 if max(n_nodes, nnz) < np.iinfo(np.int32).max else np.int64


def _is_symmetric(a: sp.csr_array, atol: float = 1e-12) -> bool:
    """Symmetry test in O(nnz): the CSC arrays of a symmetric CSR matrix equal its CSR arrays."""
    t = a.tocsc()
    t.sort_indices()
    if np.array_equal(a.indptr, t.indptr) and np.array_equal(a.indices, t.indices):
        return bool(np.allclose(a.data, t.data, rtol=0.0, atol=atol))
    return (abs(a - a.T) > atol).nnz == 0


@dataclass(eq=False)
class Graph:
    """An undirected graph as a symmetric CSR adjacency, with node labels and features.

    Parameters
    ----------
    adjacency : scipy.sparse.csr_array or csr_matrix, shape (N, N)
        Symmetric adjacency, entries 0/1 (weights are kept as given). Self-loops, if
        any, sit on the diagonal. Stored as CSR with sorted int32 indices where they fit.
    labels : array of int, shape (N,), optional
        Class of each node, ``-1`` for unlabelled. Defaults to all ``-1``.
    features : array of float, shape (N, d), optional
        Node features (a 1-D array is taken as d = 1).
    name, source : str
        Metadata: a short name and where the graph came from.
    metadata : dict
        Anything else worth keeping (the CSBM parameters, for example).
    check_symmetric : bool, default True
        Verify that the adjacency is symmetric (O(nnz)); samplers that are symmetric by
        construction skip it.

    Attributes
    ----------
    n_nodes : int
    n_edges : int
        Undirected edges, self-loops not counted.
    n_classes : int
        ``max(labels) + 1`` (0 if the graph is unlabelled).
    has_self_loops : bool

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.graphs import Graph
    >>> g = Graph.from_edges([0, 1], [1, 2], n_nodes=3, labels=[0, 0, 1])
    >>> g.n_nodes, g.n_edges, g.n_classes
    (3, 2, 2)
    """

    adjacency: Any
    labels: np.ndarray | None = None
    features: np.ndarray | None = None
    name: str = "graph"
    source: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    check_symmetric: bool = field(default=True, repr=False, compare=False)

    def __post_init__(self) -> None:
        a = self.adjacency
        if not sp.issparse(a):
            raise ArgumentTypeError(f"adjacency must be a scipy.sparse matrix, got {type(a).__name__}")
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ValidationError(f"adjacency must be square, got shape {a.shape}")
        a = sp.csr_array(a)
        if a.dtype != np.float64:
            a = a.astype(np.float64)
        a.sum_duplicates()
        a.eliminate_zeros()  # a stored zero is not an edge
        a.sort_indices()
        idx = index_dtype_for(a.shape[0], a.nnz)
        a.indices = a.indices.astype(idx, copy=False)
        a.indptr = a.indptr.astype(idx, copy=False)
        if not np.all(np.isfinite(a.data)):
            raise ValidationError("adjacency has non-finite entries")
        if self.check_symmetric and not _is_symmetric(a):
            raise ValidationError("adjacency must be symmetric (undirected graph); symmetrise it first, e.g. A.maximum(A.T)")
        self.adjacency = a
        n = a.shape[0]
        if self.labels is None:
            self.labels = np.full(n, -1, dtype=np.int64)
        else:
            lab = np.asarray(self.labels)
            if lab.shape != (n,):
                raise ValidationError(f"labels must have shape ({n},), got {lab.shape}")
            if lab.size and not np.issubdtype(lab.dtype, np.integer):
                if not np.all(np.isfinite(lab)) or not np.all(lab == np.round(lab)):
                    raise ValidationError("labels must be integers (-1 for unlabelled)")
            lab = lab.astype(np.int64)
            if lab.size and lab.min() < -1:
                raise ValidationError(f"labels must be >= -1 (-1 = unlabelled), got {lab.min()}")
            self.labels = lab
        if self.features is not None:
            x = check_finite_array(self.features, "features", ndim=(1, 2))
            if x.ndim == 1:
                x = x[:, None]
            if x.shape[0] != n:
                raise ValidationError(f"features must have {n} rows (one per node), got {x.shape[0]}")
            self.features = x

    # ------------------------------------------------------------------ properties
    @property
    def n_nodes(self) -> int:
        return int(self.adjacency.shape[0])

    @property
    def n_self_loops(self) -> int:
        return int(np.count_nonzero(self.adjacency.diagonal()))

    @property
    def has_self_loops(self) -> bool:
        return self.n_self_loops > 0

    @property
    def n_edges(self) -> int:
        return (int(self.adjacency.nnz) - self.n_self_loops) // 2

    @property
    def n_classes(self) -> int:
        lab = self.labels
        return int(lab.max()) + 1 if lab.size and lab.max() >= 0 else 0

    @property
    def is_weighted(self) -> bool:
        """True when some edge weight differs from 1 (degrees are then weighted: d_i = sum_j w_ij)."""
        return bool(np.any(self.adjacency.data != 1.0))

    @property
    def degrees(self) -> np.ndarray:
        """Row sums of the adjacency (self-loops included when present)."""
        return np.asarray(self.adjacency.sum(axis=1)).ravel()

    def __repr__(self) -> str:
        d = 0 if self.features is None else self.features.shape[1]
        return (
            f"Graph(name={self.name!r}, n_nodes={self.n_nodes}, n_edges={self.n_edges}, "
            f"n_classes={self.n_classes}, self_loops={self.has_self_loops}, feature_dim={d}"
            + (", weighted=True)" if self.is_weighted else ")")
        )

    # ------------------------------------------------------------------ helpers
    def with_self_loops(self, self_loops: bool = True) -> "Graph":
        """Return a copy whose diagonal is all ones (``True``) or all zeros (``False``)."""
        a = self.adjacency
        a = sp.csr_array(a - sp.diags_array(a.diagonal()))
        if self_loops:
            a = sp.csr_array(a + sp.eye_array(self.n_nodes, format="csr"))
        a.eliminate_zeros()
        return Graph(a, self.labels.copy(), None if self.features is None else self.features.copy(),
                     self.name, self.source, dict(self.metadata))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_scipy(cls, matrix: Any, labels: Any = None, features: Any = None, **meta: Any) -> "Graph":
        """Build from any scipy sparse (or dense 2-D array) adjacency.

        Examples
        --------
        >>> import scipy.sparse as sp
        >>> from oversmooth.graphs import Graph
        >>> Graph.from_scipy(sp.csr_array([[0, 1], [1, 0]])).n_edges
        1
        """
        if not sp.issparse(matrix):
            matrix = sp.csr_array(np.asarray(matrix))
        return cls(matrix, labels, features, **meta)

    @classmethod
    def from_edges(cls, rows: Any, cols: Any, n_nodes: int | None = None, labels: Any = None,
                   features: Any = None, **meta: Any) -> "Graph":
        """Build from two arrays of endpoints; each edge is added in both directions.

        Duplicate edges are merged (weight 1). Self-loops ``(i, i)`` are kept.

        Examples
        --------
        >>> from oversmooth.graphs import Graph
        >>> Graph.from_edges([0, 0, 1], [1, 1, 2]).n_edges
        2
        """
        r = np.asarray(rows)
        c = np.asarray(cols)
        if r.shape != c.shape or r.ndim != 1:
            raise ValidationError(f"rows and cols must be 1-D arrays of the same length, got {r.shape} and {c.shape}")
        if r.size and (not np.issubdtype(r.dtype, np.integer) or not np.issubdtype(c.dtype, np.integer)):
            raise ValidationError("rows and cols must hold integer node ids")
        if r.size and min(r.min(), c.min()) < 0:
            raise ValidationError("node ids must be >= 0")
        n = int(max(r.max(), c.max()) + 1) if r.size else 0
        if n_nodes is None:
            n_nodes = n
        elif n > n_nodes:
            raise ValidationError(f"n_nodes={n_nodes} but edges use node id {n - 1}")
        from ._limits import check_node_count

        check_node_count(int(n_nodes), "Graph.from_edges: node ids are indices (n_nodes, or the largest id + 1)")
        rr = np.concatenate([r, c[r != c]])
        cc = np.concatenate([c, r[r != c]])
        a = sp.csr_array((np.ones(rr.size), (rr, cc)), shape=(n_nodes, n_nodes))
        a.sum_duplicates()
        a.data[:] = 1.0
        return cls(a, labels, features, **meta)

    @classmethod
    def from_networkx(cls, graph: Any, label_attr: str | None = DEFAULT_LABEL_ATTR, *, labels: Any = None,
                      feature_attr: str | None = None, weight: str | None = "weight", symmetrize: bool = False,
                      keep_self_loops: bool = False, name: str | None = None) -> "Graph":
        """Build from a NetworkX graph: the one NetworkX converter (``read_graph`` uses it too).

        Nodes are numbered 0..N-1 in iteration order (``metadata['node_names']`` keeps them).

        Parameters
        ----------
        graph : networkx.Graph or MultiGraph
            A directed graph needs ``symmetrize=True``.
        label_attr : str or None, default "label"
            Node attribute holding the class. Non-integer values (strings) are encoded
            0..K-1 in sorted order, names in ``metadata['class_names']``. A name given
            explicitly must exist: missing on every node is a ``ValueError`` naming it;
            missing on some nodes gives them ``-1`` (unlabelled), with a ``UserWarning`` and
            ``metadata['unlabelled_nodes']``. The default ``"label"`` may be absent (an
            unlabelled graph). ``None``: no labels.
        labels : array of N labels in node order, optional
            Instead of ``label_attr``.
        feature_attr : str, optional
            Node attribute holding features (a number or an equal-length vector per node).
        weight : str or None, default "weight"
            Edge attribute holding weights (an edge without it weighs 1). Weights other
            than 1 give a weighted adjacency (``metadata['weighted']``; parallel edges of a
            multigraph are summed); ``None`` reads every edge as weight 1.
        symmetrize : bool, default False
            Make a directed graph undirected (reverse edges added).
        keep_self_loops : bool, default False
            Self-loops are removed (counted in ``metadata['self_loops_removed']``) unless set.
        name : str, optional
            Defaults to ``graph.name`` or ``"networkx"``.

        Examples
        --------
        >>> import networkx as nx
        >>> from oversmooth.graphs import Graph
        >>> g = Graph.from_networkx(nx.karate_club_graph(), label_attr="club")
        >>> g.n_nodes, g.n_edges, g.metadata["class_names"], g.metadata["weighted"]
        (34, 78, ['Mr. Hi', 'Officer'], True)
        """
        from ._convert import networkx_to_graph

        return networkx_to_graph(graph, label_attr, labels=labels, feature_attr=feature_attr, weight=weight,
                                 symmetrize=symmetrize, keep_self_loops=keep_self_loops, name=name)

    @classmethod
    def from_pyg(cls, data: Any, *, weight: str | None = "edge_weight", symmetrize: bool = False,
                 keep_self_loops: bool = False, name: str = "pyg") -> "Graph":
        """Build from a PyTorch Geometric ``Data``: the one PyG converter (``read_graph`` uses it too).

        ``edge_index`` holds arcs: it must list both directions of every edge unless
        ``symmetrize=True``. ``y`` becomes the labels (negative -> -1), ``x`` the features,
        ``data.<weight>`` (default ``edge_weight``) the edge weights (weights other than 1
        give a weighted adjacency, ``metadata['weighted']``; both directions must agree).
        ``edge_attr`` is not read as weights (a ``UserWarning`` says so; pass
        ``weight="edge_attr"`` for a 1-D one). ``train_mask`` / ``val_mask`` / ``test_mask``
        are kept as node indices in ``metadata['split']``.

        Examples
        --------
        >>> import torch
        >>> from torch_geometric.data import Data
        >>> from oversmooth.graphs import Graph
        >>> d = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), edge_weight=torch.tensor([2.0, 2.0]), num_nodes=3)
        >>> g = Graph.from_pyg(d)
        >>> g.n_edges, g.adjacency.toarray()[0].tolist(), g.metadata["weighted"]
        (1, [0.0, 2.0, 0.0], True)
        """
        from ._convert import pyg_to_graph

        return pyg_to_graph(data, weight=weight, symmetrize=symmetrize, keep_self_loops=keep_self_loops, name=name)

    def to_pyg(self, split: Any = None, seed: Any = None) -> Any:
        """Return a PyTorch Geometric ``Data`` (needs the ``train`` extra: torch, torch_geometric).

        ``edge_index`` lists both directions of every edge (int64), ``edge_weight`` (float32)
        is set when the graph is weighted, ``x`` (float32) when it has features, ``y`` = the
        labels (int64, ``-1`` = unlabelled), ``num_nodes``. With ``split`` ("public",
        "random", a path or a triple; see :func:`~oversmooth.graphs.resolve_split`) it also
        gets ``train_mask``, ``val_mask`` and ``test_mask``.

        Examples
        --------
        >>> from oversmooth.graphs import planetoid_structure
        >>> d = planetoid_structure("cora").to_pyg(split="public")
        >>> d.num_nodes, d.edge_index.shape[1], int(d.train_mask.sum()), int(d.test_mask.sum())
        (2708, 10556, 140, 1000)
        """
        from ._convert import graph_to_pyg

        return graph_to_pyg(self, split, seed)

    def to_networkx(self) -> Any:
        """Return a :class:`networkx.Graph`: edge attribute ``weight``, node attributes ``label`` and ``x``.

        ``x`` (the feature row, a NumPy array) is set when the graph has features;
        :meth:`from_networkx` with ``feature_attr="x"`` reads it back.

        Examples
        --------
        >>> from oversmooth.graphs import Graph, sample_csbm
        >>> g = sample_csbm(50, p=0.2, q=0.05, seed=0)
        >>> back = Graph.from_networkx(g.to_networkx(), feature_attr="x", keep_self_loops=True)
        >>> bool((back.adjacency != g.adjacency).nnz == 0), bool((back.features == g.features).all())
        (True, True)
        """
        nx = optional_import("networkx", "test")
        g = nx.from_scipy_sparse_array(self.adjacency)
        nx.set_node_attributes(g, {i: int(v) for i, v in enumerate(self.labels)}, "label")
        if self.features is not None:
            nx.set_node_attributes(g, dict(enumerate(self.features)), "x")
        return g
