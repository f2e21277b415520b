"""Input conventions shared by every measure of arbitrary embeddings.

One place turns what a user has into what the measures compute on:

* **embeddings** (:func:`as_layers`, :func:`as_embedding`): a NumPy array or a torch
  tensor (detached, any device, any float dtype) of shape (N, d), or (N,) for d = 1; or a
  sequence of them, one per layer. Always returned as C-contiguous float64 NumPy arrays.
* **graph** (:func:`as_adjacency`): a SciPy sparse adjacency, a
  :class:`~oversmooth.graphs.Graph`, a PyG ``edge_index`` (2 x E array or tensor; N from the
  embeddings), a PyG ``Data`` (its ``edge_index`` and ``num_nodes``) or a NetworkX graph.
  Always returned as a symmetric N x N ``scipy.sparse.csr_array`` (float64 weights, self-loops
  as given). A one-directional ``edge_index`` (each undirected edge listed once) is read as
  undirected: the union of both directions, so every measure counts an undirected edge from
  both ends whichever way it was listed.
* **labels** (:func:`as_labels`): integers per node, ``-1`` (or any negative) for unlabelled.

Errors name the argument and say what to fix. PyG ``Data`` and NetworkX graphs go through the
package's one converter of each (:meth:`~oversmooth.graphs.Graph.from_pyg`,
:meth:`~oversmooth.graphs.Graph.from_networkx`); torch is never imported here
(objects are recognised by their attributes).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from ..errors import ValidationError

__all__ = ["as_embedding", "as_layers", "as_adjacency", "as_labels"]


def _to_numpy(value: Any) -> Any:
    """A torch tensor (any device, with or without grad) -> NumPy; anything else unchanged."""
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        t = value.detach().cpu()
        if getattr(t, "is_sparse", False) or str(getattr(t, "layout", "")).startswith("torch.sparse"):
            t = t.to_dense()
        if str(getattr(t, "dtype", "")) in ("torch.bfloat16", "torch.float16"):
            t = t.float()
        return t.numpy()
    return value


def as_embedding(x: Any, name: str = "embeddings", n_nodes: int | None = None) -> np.ndarray:
    """One layer's embeddings as a float64 (N, d) array, checked finite.

    Examples
    --------
    >>> from oversmooth.measures._inputs import as_embedding
    >>> as_embedding([1.0, 2.0]).shape
    (2, 1)
    """
    x = _to_numpy(x)
    if sp.issparse(x):
        x = x.toarray()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a numeric array (N x d) or a torch tensor, got {type(x).__name__}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValidationError(f"{name} must be a 2-D array (nodes x dims), got shape {arr.shape}")
    if n_nodes is not None and arr.shape[0] != n_nodes:
        raise ValidationError(f"{name} must have {n_nodes} rows (one per node), got {arr.shape[0]}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValidationError(f"{name} is empty (shape {arr.shape}); it needs at least one node and one dimension")
    if not np.all(np.isfinite(arr)):
        raise ValidationError(f"{name} must be finite, got {int(np.sum(~np.isfinite(arr)))} NaN or infinite entries")
    return np.ascontiguousarray(arr)


def as_layers(embeddings: Any) -> list[np.ndarray]:
    """A single array or a sequence of per-layer arrays -> list of float64 (N, d_l) arrays.

    Every layer must have the same number of rows (nodes); dimensions may differ.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures._inputs import as_layers
    >>> [h.shape for h in as_layers([np.zeros((3, 2)), np.zeros((3, 5))])]
    [(3, 2), (3, 5)]
    >>> len(as_layers(np.zeros((3, 2))))
    1
    """
    x = _to_numpy(embeddings)
    if isinstance(x, np.ndarray) or sp.issparse(x):
        layers = [as_embedding(x, "embeddings")]
    elif isinstance(x, Sequence) and not isinstance(x, (str, bytes)):
        if len(x) == 0:
            raise ValidationError("embeddings is an empty sequence; pass one (N, d) array per layer")
        if all(np.isscalar(v) for v in x):  # a plain list of numbers: one 1-D layer
            layers = [as_embedding(x, "embeddings")]
        else:
            layers = [as_embedding(v, f"embeddings[{i}]") for i, v in enumerate(x)]
    else:
        layers = [as_embedding(x, "embeddings")]
    n = layers[0].shape[0]
    for i, h in enumerate(layers):
        if h.shape[0] != n:
            raise ValidationError(f"embeddings[{i}] has {h.shape[0]} rows but embeddings[0] has {n}; "
                             "every layer needs one row per node")
    return layers


def as_labels(labels: Any, n_nodes: int, name: str = "labels") -> np.ndarray:
    """Integer labels (N,), negatives mapped to -1 (unlabelled).

    Examples
    --------
    >>> from oversmooth.measures._inputs import as_labels
    >>> as_labels([0, 2, -3], 3).tolist()
    [0, 2, -1]
    """
    y = np.asarray(_to_numpy(labels))
    if y.ndim == 2 and y.shape[1] > 1 and y.shape[0] == n_nodes:  # one-hot
        y = np.where(y.sum(axis=1) > 0, np.argmax(y, axis=1), -1)
    y = y.ravel() if y.ndim == 2 and 1 in y.shape else y
    if y.shape != (n_nodes,):
        raise ValidationError(f"{name} must have shape ({n_nodes},) (one label per node), got {y.shape}")
    if y.size and not np.issubdtype(y.dtype, np.integer):
        try:
            yf = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValidationError(f"{name} must be integers (-1 for unlabelled); encode string classes first, "
                             f"e.g. numpy.unique(..., return_inverse=True)") from None
        if not np.all(np.isfinite(yf)) or not np.all(yf == np.round(yf)):
            raise ValidationError(f"{name} must be integers (-1 for unlabelled), got non-integer values")
        y = yf
    y = y.astype(np.int64)
    return np.where(y < 0, -1, y)


def _from_edge_index(ei: Any, n_nodes: int | None, name: str = "edge_index") -> sp.csr_array:
    ei = np.asarray(_to_numpy(ei))
    if ei.ndim != 2 or ei.shape[0] != 2:
        raise ValidationError(f"{name} must have shape (2, E), got {ei.shape}")
    if ei.size and not np.issubdtype(ei.dtype, np.integer):
        raise ValidationError(f"{name} must hold integer node ids, got dtype {ei.dtype}")
    if n_nodes is None:
        n_nodes = int(ei.max()) + 1 if ei.size else 0
    if ei.size and (int(ei.min()) < 0 or int(ei.max()) >= n_nodes):
        raise ValidationError(f"{name} must hold node ids in 0..{n_nodes - 1} (N = {n_nodes} from the embeddings), "
                         f"got ids {int(ei.min())}..{int(ei.max())}")
    a = sp.csr_array(sp.coo_array((np.ones(ei.shape[1]), (ei[0].astype(np.int64), ei[1].astype(np.int64))),
                                  shape=(n_nodes, n_nodes)))
    a.sum_duplicates()
    a.data[:] = 1.0  # a pair listed several times is one edge (N(i) is a set), as Graph.from_pyg reads it
    return a


def as_adjacency(graph: Any, n_nodes: int | None = None, name: str = "graph") -> sp.csr_array:
    """Any supported graph object -> symmetric float64 CSR adjacency (N x N).

    Parameters
    ----------
    graph : scipy sparse, Graph, edge_index (2 x E), PyG Data or NetworkX graph
    n_nodes : int, optional
        N (from the embeddings); required to size an ``edge_index`` with isolated trailing
        nodes, and checked against every other input.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures._inputs import as_adjacency
    >>> as_adjacency(np.array([[0, 1], [1, 2]]), n_nodes=3).toarray().tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    if graph is None:
        raise ValidationError(f"{name} is required: a scipy sparse adjacency, a Graph, an edge_index, a PyG Data "
                         "or a NetworkX graph")
    if hasattr(graph, "adjacency") and sp.issparse(getattr(graph, "adjacency")):  # oversmooth Graph
        a = sp.csr_array(graph.adjacency, dtype=np.float64)
    elif hasattr(graph, "edge_index") or (hasattr(graph, "adj") and hasattr(graph, "is_directed")):
        # a PyG Data or a NetworkX graph: through the package's one converter of each, read as undirected
        from ..graphs import Graph

        if hasattr(graph, "edge_index"):
            g = Graph.from_pyg(graph, symmetrize=True, keep_self_loops=True)
        else:
            g = Graph.from_networkx(graph, label_attr=None, symmetrize=True, keep_self_loops=True)
        a = sp.csr_array(g.adjacency, dtype=np.float64)
    elif sp.issparse(graph):
        a = sp.csr_array(graph, dtype=np.float64)
    else:
        arr = np.asarray(_to_numpy(graph))
        if arr.ndim == 2 and arr.shape[0] == 2 and not (arr.shape[1] == 2 and n_nodes == 2):
            a = _from_edge_index(arr, n_nodes, name=name)
        elif arr.ndim == 2 and arr.shape[0] == arr.shape[1]:
            a = sp.csr_array(arr.astype(np.float64))
        else:
            raise ValidationError(f"{name} must be a scipy sparse adjacency (N x N), a Graph, an edge_index (2 x E), a "
                             f"PyG Data or a NetworkX graph; got {type(graph).__name__} of shape {arr.shape}")
    if a.shape[0] != a.shape[1]:
        raise ValidationError(f"{name} adjacency must be square, got shape {a.shape}")
    if n_nodes is not None and a.shape[0] != n_nodes:
        raise ValidationError(f"{name} has {a.shape[0]} nodes but the embeddings have {n_nodes} rows")
    a.sum_duplicates()
    a.eliminate_zeros()
    if a.nnz and not np.all(np.isfinite(a.data)):
        raise ValidationError(f"{name} has non-finite edge weights")
    if a.nnz and a.data.min() < 0:
        raise ValidationError(f"{name} has negative edge weights; the measures need weights >= 0")
    diff = a - a.T
    if diff.nnz and np.abs(diff.data).max() > 1e-12 * max(1.0, float(np.abs(a.data).max())):
        # a one-directional listing is read as undirected (the missing reverse entries filled in);
        # both directions present with different weights (e.g. a row-normalised D^-1 A) is an error
        t = sp.csr_array(a.T)
        pattern = sp.csr_array((np.ones(a.nnz), a.indices, a.indptr), shape=a.shape)
        both = pattern.multiply(sp.csr_array((np.ones(t.nnz), t.indices, t.indptr), shape=t.shape))
        mismatch = both.multiply(abs(a - t))
        mismatch.eliminate_zeros()
        if mismatch.nnz and mismatch.data.max() > 1e-12 * max(1.0, float(np.abs(a.data).max())):
            raise ValidationError(f"{name} is not symmetric: some edges have different weights in their two directions "
                             "(a normalised matrix such as D^-1 A?); pass the symmetric adjacency A")
        a = sp.csr_array(a.maximum(t))
    a.sort_indices()
    return a
