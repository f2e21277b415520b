"""The edges of a graph once each, and the per-edge passes behind the smoothness measures.

:func:`edge_arrays` extracts each undirected edge once (with weights and degrees) so that many
layers of the same graph reuse it. The passes: sparse-product forms (O(E d), threaded, exact
fall-backs where cancellation would cost digits) and the exact chunked per-edge pass. The
sampled pass over the edges of a node sample is in :mod:`._sampled_edges`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from ..errors import ValidationError
from ._inputs import as_adjacency

__all__ = ["EdgeArrays", "edge_arrays"]

_EPS = float(np.finfo(np.float64).eps)
_CHUNK_ENTRIES = 4_000_000  # floats per gathered block (32 MB): bounded memory on large graphs
_CANCEL = 1e-4  # sparse-product forms fall back to the exact per-edge pass below this ratio (cancellation)
_SMALL_MAD = 1e-4  # nodes whose mean neighbour distance is below this are recomputed pair by pair


# =========================================================================== edges


class EdgeArrays(NamedTuple):
    """Each undirected edge of a graph once (``rows < cols``), self-loops dropped.

    ``weights`` are the symmetric edge weights, ``degree`` the weighted degree of every
    node without its self-loop, ``n_neighbours`` its number of neighbours other than
    itself and ``adjacency`` the symmetric off-diagonal CSR adjacency. Built by
    :func:`edge_arrays`; pass as ``edges=`` to reuse across layers.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import edge_arrays
    >>> e = edge_arrays(np.array([[0, 1], [1, 2]]), n_nodes=3)
    >>> e.n_nodes, e.n_neighbours.tolist()
    (3, [1, 2, 1])
    """

    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    degree: np.ndarray
    n_neighbours: np.ndarray
    adjacency: sp.csr_array

    @property
    def n_nodes(self) -> int:
        """Number of nodes N."""
        return int(self.degree.size)


def edge_arrays(graph: Any, n_nodes: int | None = None) -> EdgeArrays:
    """The undirected edges of ``graph`` once each, with weights and degrees.

    Compute once and pass as ``edges=`` to :func:`dirichlet_energy`, :func:`mad`,
    :func:`edge_smoothness`, ... when measuring many layers of the same graph.

    Parameters
    ----------
    graph : scipy sparse, Graph, edge_index (2 x E), PyG Data or NetworkX graph
        Read by :func:`~oversmooth.measures._inputs.as_adjacency` (a one-directional
        ``edge_index`` is read as undirected).
    n_nodes : int, optional
        N; needed for an ``edge_index`` whose last nodes are isolated.

    Returns
    -------
    EdgeArrays
        ``(rows, cols, weights, degree, n_neighbours, adjacency)`` with ``rows < cols``;
        ``adjacency`` is the symmetric off-diagonal CSR matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import edge_arrays
    >>> e = edge_arrays(np.array([[0, 1, 1], [1, 2, 2]]), n_nodes=3)  # 1-2 listed twice: one edge
    >>> e.rows.tolist(), e.cols.tolist(), e.weights.tolist(), e.degree.tolist()
    ([0, 1], [1, 2], [1.0, 1.0], [1.0, 2.0, 1.0])
    """
    return _edges_of(as_adjacency(graph, n_nodes=n_nodes))


def _edges_of(a: sp.csr_array) -> EdgeArrays:
    """:func:`edge_arrays` of an adjacency :func:`as_adjacency` has already read and checked."""
    n = a.shape[0]
    rows = np.repeat(np.arange(n, dtype=a.indices.dtype), np.diff(a.indptr))
    off = rows != a.indices
    if not off.all():
        a = sp.csr_array((a.data[off], a.indices[off], np.r_[0, np.cumsum(np.bincount(rows[off], minlength=n))]),
                         shape=(n, n))
        rows = rows[off]
    degree = np.bincount(rows, weights=a.data, minlength=n)
    n_neighbours = np.bincount(rows, minlength=n)
    upper = rows < a.indices
    return EdgeArrays(rows[upper], a.indices[upper], a.data[upper], degree, n_neighbours, a)


def _resolve_edges(graph: Any, edges: Any, n_nodes: int) -> EdgeArrays:
    """``edges=`` (EdgeArrays, or a legacy ``(rows, cols[, weights])`` tuple) or ``graph``."""
    if edges is None:
        return edge_arrays(graph, n_nodes=n_nodes)
    if isinstance(edges, EdgeArrays):
        if edges.n_nodes != n_nodes:
            raise ValidationError(f"edges were built for {edges.n_nodes} nodes but the embeddings have {n_nodes} rows")
        return edges
    if isinstance(edges, (tuple, list)) and len(edges) in (2, 3):
        r = np.asarray(edges[0]).ravel()
        c = np.asarray(edges[1]).ravel()
        w = np.ones(r.size) if len(edges) == 2 else np.asarray(edges[2], dtype=np.float64).ravel()
        if r.shape != c.shape or w.shape != r.shape:
            raise ValidationError(f"edges must be (rows, cols[, weights]) of equal lengths, got {r.shape}, {c.shape}, "
                             f"{w.shape}")
        if r.size and (min(int(r.min()), int(c.min())) < 0 or max(int(r.max()), int(c.max())) >= n_nodes):
            raise ValidationError(f"edges must hold node ids in 0..{n_nodes - 1} (N from the embeddings)")
        a = sp.csr_array((w, (r.astype(np.int64), c.astype(np.int64))), shape=(n_nodes, n_nodes))
        return edge_arrays(a)
    raise ValidationError("edges must be the EdgeArrays returned by edge_arrays(graph), got "
                     f"{type(edges).__name__}")


def _unit_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverse row norms (0 for a zero row) and the zero-row mask."""
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    zero = norms == 0
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=~zero)
    return inv, zero


def _zero_tol(d: int) -> float:
    """Cosine distances at or below ``d * eps`` count as zero (rounding level of 1 - cos)."""
    return d * _EPS


_LAST_GRAPH: list[Any] = [None, {}]  # [weakref to the last adjacency, what was built for it]


def _graph_cache(a: sp.csr_array) -> dict[str, Any]:
    """What the edge passes built for adjacency ``a``, kept while ``a`` is the last graph measured.

    A profile measures every layer of one graph, so its product objects and its sampled pairs are
    built once; one graph is kept (held by a weak reference), the next one replaces it.
    """
    import weakref

    ref, cache = _LAST_GRAPH
    if ref is None or ref() is not a:
        cache = {}
        try:
            _LAST_GRAPH[:] = [weakref.ref(a), cache]
        except TypeError:  # pragma: no cover - an adjacency without weak references: not kept
            pass
    return cache


def _spmm(e: EdgeArrays, h: np.ndarray, kind: str = "weighted") -> np.ndarray:
    """``A @ h`` (``kind="weighted"``) or ``1[A != 0] @ h`` (``"mask"``), threaded; the product
    objects are kept for the next layer (:func:`_graph_cache`)."""
    from ..operators import RowParallelMatmul

    a = e.adjacency
    cache = _graph_cache(a)
    key = f"product:{kind}"
    if key not in cache:
        m = a if kind == "weighted" else sp.csr_array((np.ones(a.nnz), a.indices, a.indptr), shape=a.shape)
        cache[key] = RowParallelMatmul(m)
    return cache[key](h)


def _edge_pass(x: np.ndarray, e: EdgeArrays, *, energy: bool = False, normalized: bool = False,
               mad_: bool = False) -> dict[str, float]:
    """The requested edge measures from sparse products (O(E d), threaded), exact where needed.

    The quadratic forms are evaluated as ``sum_i d_i ||x_i||^2 - sum_ij w_ij x_i . x_j`` on
    embeddings first moved to the orthogonal complement of the Laplacian's kernel
    direction (which changes neither energy); when the result is below ``_CANCEL`` times
    the first term (cancellation would cost more than 4 of 16 digits), the exact
    per-edge pass ``sum w_ij ||x_i - x_j||^2`` is used instead. MAD's per-node sums
    ``n_i - u_i . sum_j u_j`` (unit rows u) likewise, with the zero distances found
    exactly (see :func:`_mad_fast`) and nodes whose mean distance is below
    ``_SMALL_MAD`` recomputed pair by pair.
    """
    n = x.shape[0]
    out: dict[str, float] = {}
    exact: dict[str, bool] = {}
    if energy:
        xc = x - x.mean(axis=0)
        big = float(e.degree @ np.einsum("ij,ij->i", xc, xc))
        val = big - float(np.einsum("ij,ij->", xc, _spmm(e, xc))) if big > 0 else 0.0
        if big > 0 and val <= _CANCEL * big:
            exact["energy"] = True
        else:
            out["dirichlet_energy"] = 2.0 * val / n
    if normalized:
        dt = 1.0 + e.degree
        sq = np.sqrt(dt)
        xp = x - np.outer(sq, (sq @ x) / dt.sum())  # remove the kernel direction D~^1/2 1
        y = xp / sq[:, None]
        big = float(np.einsum("ij,ij->", xp, xp))
        val = big - float(np.einsum("ij,ij->", y, y)) - float(np.einsum("ij,ij->", y, _spmm(e, y)))
        if big > 0 and val <= _CANCEL * big:
            exact["normalized"] = True
        else:
            out["normalized_dirichlet_energy"] = val if big > 0 else 0.0
    if exact:
        out.update(_edge_pass_exact(x, e, energy="energy" in exact, normalized="normalized" in exact))
    if mad_:
        out["mad"] = _mad_fast(x, e)
    return out


def _pair_distances(u: np.ndarray, zero: np.ndarray, i: np.ndarray, j: np.ndarray, tol: float) -> np.ndarray:
    """Cosine distances of the pairs (i, j) from unit rows, chunked; zero rows give 1, <= tol gives 0."""
    out = np.empty(i.size)
    step = max(1, _CHUNK_ENTRIES // max(1, u.shape[1]))
    for lo in range(0, i.size, step):
        diff = u[i[lo:lo + step]] - u[j[lo:lo + step]]
        out[lo:lo + step] = 0.5 * np.einsum("ij,ij->i", diff, diff)  # = 1 - cos, no cancellation
    out[zero[i] | zero[j]] = 1.0
    out[out <= tol] = 0.0
    return out


def _mad_fast(x: np.ndarray, e: EdgeArrays) -> float:
    """MAD from one sparse product, zero distances and small values handled exactly."""
    n, d = x.shape
    if e.rows.size == 0:
        return float("nan")
    inv, zero = _unit_rows(x)
    u = x * inv[:, None]
    a = e.adjacency
    total = e.n_neighbours - np.einsum("ij,ij->i", u, _spmm(e, u, "mask"))  # sum_j (1 - u_i . u_j); zero rows: 1
    count = e.n_neighbours.astype(np.float64)
    tol = _zero_tol(d)
    # zero distances: ||u_i - u_j||^2 = 2 D_ij <= 2 tol implies |g.u_i - g.u_j| <= |g| sqrt(2 tol), so
    # only edges whose random projections nearly agree can be zero; those are checked exactly
    g = np.random.default_rng(20200101).standard_normal(d)
    proj = u @ g
    slack = float(np.linalg.norm(g)) * (np.sqrt(2.0 * tol) + 8.0 * d * _EPS)
    cand = np.flatnonzero((np.abs(proj[e.rows] - proj[e.cols]) <= slack) & ~zero[e.rows] & ~zero[e.cols])
    if cand.size:
        z = cand[_pair_distances(u, zero, e.rows[cand], e.cols[cand], tol) == 0]
        count -= np.bincount(e.rows[z], minlength=n) + np.bincount(e.cols[z], minlength=n)
    small = np.flatnonzero((count > 0) & (total < _SMALL_MAD * count))
    if small.size > n // 4:  # mostly tiny distances (a deep, smoothed layer): one exact pass
        return _edge_pass_exact(x, e, mad_=True)["mad"]
    if small.size:  # recompute the few nodes with tiny distances pair by pair
        pos, starts = _row_edge_positions(a.indptr, small)
        owner = np.repeat(small, np.diff(np.r_[starts, pos.size]))
        dist = _pair_distances(u, zero, owner, a.indices[pos], tol)
        local = np.repeat(np.arange(small.size), np.diff(np.r_[starts, pos.size]))
        total[small] = np.bincount(local, weights=dist, minlength=small.size)
        count[small] = np.bincount(local, weights=(dist > 0).astype(np.float64), minlength=small.size)
    has = count > 0
    if not has.any():
        return 0.0
    return float(np.mean(total[has] / count[has]))


def _edge_pass_exact(x: np.ndarray, e: EdgeArrays, *, energy: bool = False, normalized: bool = False,
                     mad_: bool = False) -> dict[str, float]:
    """One chunked pass over the undirected edges, every pair's difference formed exactly."""
    n, d = x.shape
    r, c, w = e.rows, e.cols, e.weights
    out: dict[str, float] = {}
    e_sum = 0.0
    n_sum = 0.0
    if normalized:
        s = 1.0 / np.sqrt(1.0 + e.degree)  # D~^-1/2 with A~ = off-diagonal A + I
    if mad_:
        inv, zero = _unit_rows(x)
        tol = _zero_tol(d)
        dist = np.empty(r.size)
    step = max(1, _CHUNK_ENTRIES // max(1, d))
    for lo in range(0, r.size, step):
        hi = min(r.size, lo + step)
        rr, cc = r[lo:hi], c[lo:hi]
        xr = x[rr]
        xc = x[cc]
        if energy:
            diff = xr - xc
            e_sum += float(w[lo:hi] @ np.einsum("ij,ij->i", diff, diff))
        if normalized:
            diff = xr * s[rr, None] - xc * s[cc, None]
            n_sum += float(w[lo:hi] @ np.einsum("ij,ij->i", diff, diff))
        if mad_:
            # 1 - cos = ||u_i - u_j||^2 / 2 for unit rows: no cancellation, exactly 0 for equal rows
            diff = xr * inv[rr, None] - xc * inv[cc, None]
            dd = 0.5 * np.einsum("ij,ij->i", diff, diff)
            dd[zero[rr] | zero[cc]] = 1.0  # a zero vector has cosine 0 with everything
            dd[dd <= tol] = 0.0
            dist[lo:hi] = dd
    if energy:
        out["dirichlet_energy"] = 2.0 * e_sum / n
    if normalized:
        out["normalized_dirichlet_energy"] = n_sum
    if mad_:
        out["mad"] = _masked_mean(dist, r, c, n)
    return out


def _masked_mean(dist: np.ndarray, r: np.ndarray, c: np.ndarray, n: int) -> float:
    """Chen et al.'s two-stage non-zero mean over the pairs (r, c) listed once each."""
    if r.size == 0:
        return float("nan")
    nz = (dist > 0).astype(np.float64)
    total = np.bincount(r, weights=dist, minlength=n) + np.bincount(c, weights=dist, minlength=n)
    count = np.bincount(r, weights=nz, minlength=n) + np.bincount(c, weights=nz, minlength=n)
    has = count > 0
    if not has.any():
        return 0.0
    return float(np.mean(total[has] / count[has]))



def _row_edge_positions(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``indices`` of the edges of ``rows`` and each row's start in that list."""
    lengths = (indptr[rows + 1] - indptr[rows]).astype(np.int64)
    starts = np.zeros(rows.size, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    total = int(lengths.sum())
    pos = np.arange(total, dtype=np.int64) + np.repeat(indptr[rows].astype(np.int64) - starts, lengths)
    return pos, starts
