"""Smoothness measures of arbitrary node embeddings: Dirichlet energies, MAD, MADGap, ...

Every function takes one layer's embeddings ``x`` ((N, d) or (N,) NumPy array or torch
tensor) and a graph or labels in the conventions of :mod:`oversmooth.measures._inputs`
(SciPy sparse adjacency, :class:`~oversmooth.graphs.Graph`, PyG ``edge_index``, PyG
``Data``, NetworkX graph). Definitions (``../shared/SCIENCE.md`` section 6), with
``w_ij`` the symmetric edge weights, ``N(i)`` the neighbours of i other than i itself:

=============================  ========================================================
``dirichlet_energy``           ``E = (1/N) sum_i sum_{j in N(i)} w_ij ||x_i - x_j||^2``
                               (Rusch, Bronstein & Mishra 2023; each undirected edge from
                               both ends; self-loops add 0). They report ``sqrt(E)``.
``normalized_dirichlet_energy``  ``tr(X^T L X)``, ``L = I - D~^-1/2 A~ D~^-1/2``,
                               ``A~`` = off-diagonal part of A plus I (Cai & Wang 2020)
``rayleigh_quotient``          ``E / ||X||_F^2`` (blind to a global rescaling x -> c x)
``mad``                        mean of the non-zero neighbour cosine distances
                               ``1 - cos(x_i, x_j)`` per node, averaged over the nodes
                               with a non-zero value (Chen et al., AAAI 2020)
``mad_gap``                    ``MAD_rmt - MAD_neb`` on the masks of nodes >= 8 hops and
                               <= 3 hops away (Chen et al.); sampled sources beyond
                               ``MADGAP_EXACT_MAX_NODES``
``group_distance_ratio``       mean inter-class over mean intra-class Euclidean distance
                               (Zhou et al. 2020, PyG ``DiffGroupNorm``)
``effective_rank``             ``exp(H(p))``, ``p`` = singular values / their sum
                               (Roy & Vetterli 2007)
=============================  ========================================================

The edge measures cost O(E d) and make one pass over each undirected edge (gathered in
chunks of bounded memory); :func:`edge_arrays` extracts the edges once so that many
layers of the same graph reuse them, and :func:`edge_smoothness` computes the three
energies and MAD in that single pass. :func:`hop_masks` does the breadth-first searches
of MADGap once per graph (bit-parallel: 64 sources per machine word).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .._utils import SeedLike, check_choice, check_positive_float, check_positive_int, check_random_state
from ._inputs import as_adjacency, as_embedding, as_labels

__all__ = [
    "EdgeArrays",
    "HopMasks",
    "MADGAP_EXACT_MAX_NODES",
    "MADGAP_SAMPLE_SOURCES",
    "GDR_MAX_NODES",
    "edge_arrays",
    "edge_smoothness",
    "dirichlet_energy",
    "normalized_dirichlet_energy",
    "rayleigh_quotient",
    "mad",
    "hop_masks",
    "mad_gap",
    "group_distance_ratio",
    "effective_rank",
]

#: MADGap uses every node as a source up to this many nodes; beyond, a seeded sample.
MADGAP_EXACT_MAX_NODES = 4096
#: Number of sampled MADGap sources on graphs larger than ``MADGAP_EXACT_MAX_NODES``.
MADGAP_SAMPLE_SOURCES = 256
#: The group distance ratio is exact up to this many labelled nodes; beyond, a sample.
GDR_MAX_NODES = 5000

_EPS = float(np.finfo(np.float64).eps)
_CHUNK_ENTRIES = 4_000_000  # floats per gathered block (32 MB): bounded memory on large graphs
_SVD_MAX_ENTRIES = 100_000  # effective_rank: SVD up to this size, the d x d Gram matrix beyond
_CANCEL = 1e-4  # sparse-product forms fall back to the exact per-edge pass below this ratio (cancellation)
_SMALL_MAD = 1e-4  # nodes whose mean neighbour distance is below this are recomputed pair by pair
_BFS_CHUNK_WORDS = 2_000_000  # uint64 words gathered per block in the bit-parallel BFS


# =========================================================================== edges


class EdgeArrays(NamedTuple):
    """Each undirected edge of a graph once (``rows < cols``), self-loops dropped.

    ``weights`` are the symmetric edge weights, ``degree`` the weighted degree of every
    node without its self-loop, ``n_neighbours`` its number of neighbours other than
    itself and ``adjacency`` the symmetric off-diagonal CSR adjacency. Built by
    :func:`edge_arrays`; pass as ``edges=`` to reuse across layers.
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
    a = as_adjacency(graph, n_nodes=n_nodes)
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
            raise ValueError(f"edges were built for {edges.n_nodes} nodes but the embeddings have {n_nodes} rows")
        return edges
    if isinstance(edges, (tuple, list)) and len(edges) in (2, 3):
        r = np.asarray(edges[0]).ravel()
        c = np.asarray(edges[1]).ravel()
        w = np.ones(r.size) if len(edges) == 2 else np.asarray(edges[2], dtype=np.float64).ravel()
        if r.shape != c.shape or w.shape != r.shape:
            raise ValueError(f"edges must be (rows, cols[, weights]) of equal lengths, got {r.shape}, {c.shape}, "
                             f"{w.shape}")
        if r.size and (min(int(r.min()), int(c.min())) < 0 or max(int(r.max()), int(c.max())) >= n_nodes):
            raise ValueError(f"edges must hold node ids in 0..{n_nodes - 1} (N from the embeddings)")
        a = sp.csr_array((w, (r.astype(np.int64), c.astype(np.int64))), shape=(n_nodes, n_nodes))
        return edge_arrays(a)
    raise ValueError("edges must be the EdgeArrays returned by edge_arrays(graph), got "
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


def _spmm(a: sp.csr_array, h: np.ndarray) -> np.ndarray:
    from ..operators._spmm import RowParallelMatmul

    return RowParallelMatmul(a)(h)


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
    a = e.adjacency
    if energy:
        xc = x - x.mean(axis=0)
        big = float(e.degree @ np.einsum("ij,ij->i", xc, xc))
        val = big - float(np.einsum("ij,ij->", xc, _spmm(a, xc))) if big > 0 else 0.0
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
        val = big - float(np.einsum("ij,ij->", y, y)) - float(np.einsum("ij,ij->", y, _spmm(a, y)))
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
    mask = sp.csr_array((np.ones(a.nnz), a.indices, a.indptr), shape=a.shape)
    total = e.n_neighbours - np.einsum("ij,ij->i", u, _spmm(mask, u))  # sum_j (1 - u_i . u_j); zero rows: 1
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


def edge_smoothness(x: Any, graph: Any = None, *, edges: EdgeArrays | None = None) -> dict[str, float]:
    """The three Dirichlet energies and MAD of one layer in a single pass over the edges.

    Returns a dict with keys ``dirichlet_energy``, ``normalized_dirichlet_energy``,
    ``rayleigh_quotient`` and ``mad``, each equal to the function of that name.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.measures import edge_smoothness
    >>> a = sp.csr_array([[0, 1], [1, 0]])
    >>> {k: round(v, 6) for k, v in edge_smoothness(np.array([0.0, 2.0]), a).items()}
    {'dirichlet_energy': 4.0, 'normalized_dirichlet_energy': 2.0, 'rayleigh_quotient': 1.0, 'mad': 1.0}
    """
    h = as_embedding(x, "x")
    e = _resolve_edges(graph, edges, h.shape[0])
    out = _edge_pass(h, e, energy=True, normalized=True, mad_=True)
    return {
        "dirichlet_energy": out["dirichlet_energy"],
        "normalized_dirichlet_energy": out["normalized_dirichlet_energy"],
        "rayleigh_quotient": _rayleigh(out["dirichlet_energy"], h),
        "mad": out["mad"],
    }


# =========================================================================== energies


def dirichlet_energy(x: Any, graph: Any = None, *, edges: EdgeArrays | None = None) -> float:
    """Dirichlet energy ``E = (1/N) sum_i sum_{j in N(i)} w_ij ||x_i - x_j||^2`` (Rusch et al.).

    The form of Rusch, Bronstein & Mishra (2023, "A survey on oversmoothing in graph
    neural networks"): every undirected edge counted from both ends, self-loops add 0,
    ``w_ij`` the edge weight (1 for an unweighted graph). Equivalently
    ``E = (2/N) tr(X^T (D - A) X)`` with A without its diagonal. They report ``sqrt(E)``.
    An ``edge_index`` listing each undirected edge once gives the same value as one
    listing both directions.

    Parameters
    ----------
    x : array or tensor, shape (N, d) or (N,)
    graph : graph in any supported form (see :func:`edge_arrays`); or pass ``edges``
    edges : EdgeArrays, optional
        ``edge_arrays(graph)``, to reuse across layers.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.measures import dirichlet_energy
    >>> a = sp.csr_array([[0, 1], [1, 0]])
    >>> dirichlet_energy(np.array([0.0, 2.0]), a)  # (4 + 4) / 2
    4.0
    """
    h = as_embedding(x, "x")
    return _edge_pass(h, _resolve_edges(graph, edges, h.shape[0]), energy=True)["dirichlet_energy"]


def normalized_dirichlet_energy(x: Any, graph: Any = None, *, edges: EdgeArrays | None = None) -> float:
    """Cai & Wang's (2020) energy ``tr(X^T L X)``, ``L = I - D~^-1/2 A~ D~^-1/2``.

    ``A~`` is the off-diagonal part of A plus the identity (self-loops added, existing
    ones replaced by weight 1) and ``D~`` its degrees; computed as
    ``(1/2) sum_{i,j} A~_ij ||x_i / sqrt(d~_i) - x_j / sqrt(d~_j)||^2`` (no cancellation),
    with no ``1/N``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.measures import normalized_dirichlet_energy
    >>> a = sp.csr_array([[0, 1], [1, 0]])  # d~ = 2 for both nodes
    >>> round(normalized_dirichlet_energy(np.array([0.0, 2.0]), a), 12)  # (0 - 2 / sqrt 2)^2
    2.0
    """
    h = as_embedding(x, "x")
    e = _resolve_edges(graph, edges, h.shape[0])
    return _edge_pass(h, e, normalized=True)["normalized_dirichlet_energy"]


def _rayleigh(energy: float, h: np.ndarray) -> float:
    sq = float(np.einsum("ij,ij->", h, h))
    return energy / sq if sq > 0 else float("nan")


def rayleigh_quotient(x: Any, graph: Any = None, *, edges: EdgeArrays | None = None) -> float:
    """``E(X) / ||X||_F^2`` with E the Dirichlet energy of :func:`dirichlet_energy`.

    As SCIENCE.md section 6 writes it: the only one of the three energies blind to a
    global rescaling ``x -> c x`` (the raw energies can rise while the classes merge when
    weights inflate the norms). Identity: ``E / ||X||_F^2 = (2/N) tr(X^T (D - A) X) /
    ||X||_F^2``, i.e. ``2/N`` times the textbook Rayleigh quotient of the combinatorial
    Laplacian ``D - A`` (A without its diagonal), so it lies in ``[0, 2 lambda_max / N]``.
    NaN for ``X = 0``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.measures import rayleigh_quotient
    >>> a = sp.csr_array([[0, 1], [1, 0]])
    >>> rayleigh_quotient(np.array([1.0, -1.0]), a) == rayleigh_quotient(np.array([5.0, -5.0]), a) == 2.0
    True
    """
    h = as_embedding(x, "x")
    e = _resolve_edges(graph, edges, h.shape[0])
    return _rayleigh(_edge_pass(h, e, energy=True)["dirichlet_energy"], h)


# =========================================================================== MAD


def mad(x: Any, graph: Any = None, *, edges: EdgeArrays | None = None) -> float:
    """Mean average distance (Chen et al., AAAI 2020) on the neighbour mask.

    ``D_ij = 1 - cos(x_i, x_j)`` for the neighbour pairs ``j in N(i)`` (self-loops
    excluded; edge weights ignored: the mask is binary). As the paper defines it, a
    node's value is the mean of its **non-zero** distances and MAD is the mean over the
    nodes whose value is non-zero. Chen et al.'s published ``mad_value`` divides by the
    non-zero count per node too, but then averages over *all* nodes (zeros included);
    we follow the definition (SCIENCE.md section 6).

    Conventions: a zero vector has cosine 0 with everything (distance 1, as sklearn's
    cosine distance gives); distances at or below ``d * machine epsilon`` (the rounding
    level of ``1 - cos`` in float64, 1.4e-14 for d = 64) count as zero; MAD is 0.0 when
    every masked distance is zero and NaN when the graph has no edge. In 1-D the cosine
    is the product of signs.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.measures import mad
    >>> a = sp.csr_array([[0, 1, 1], [1, 0, 0], [1, 0, 0]])  # a star: 0-1, 0-2
    >>> mad(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), a)  # node 0: mean of {1}; 1: {1}; 2: {}
    1.0
    """
    h = as_embedding(x, "x")
    return _edge_pass(h, _resolve_edges(graph, edges, h.shape[0]), mad_=True)["mad"]


# =========================================================================== MADGap


class HopMasks(NamedTuple):
    """MADGap masks of a set of source nodes, from breadth-first searches (:func:`hop_masks`).

    Row k of the sparse (n_sources x N) matrices belongs to ``sources[k]``: ``neb`` marks
    the nodes 1..``neb_hops`` hops away; the remote set (>= ``rmt_hops`` hops, plus the
    other components when ``unreachable="remote"``) is stored directly in ``rmt`` or, when
    that is smaller (``use_ball[k]``), as its complement ``ball`` (the nodes fewer than
    ``rmt_hops`` hops away, the source included) within the graph (``"remote"``) or
    within the source's component ``component`` (``"ignore"``). ``n_rmt`` counts each
    remote set.
    """

    sources: np.ndarray
    neb: sp.csr_array
    rmt: sp.csr_array
    ball: sp.csr_array
    use_ball: np.ndarray
    n_rmt: np.ndarray
    component: np.ndarray | None
    neb_hops: int
    rmt_hops: int
    unreachable: str
    exact: bool

    @property
    def n_nodes(self) -> int:
        """Number of nodes N."""
        return int(self.neb.shape[1])


def _row_edge_positions(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``indices`` of the edges of ``rows`` and each row's start in that list."""
    lengths = (indptr[rows + 1] - indptr[rows]).astype(np.int64)
    starts = np.zeros(rows.size, dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    total = int(lengths.sum())
    pos = np.arange(total, dtype=np.int64) + np.repeat(indptr[rows].astype(np.int64) - starts, lengths)
    return pos, starts


def _pull(a: sp.csr_array, frontier: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each row i in ``rows``: OR of ``frontier[j]`` over its neighbours j (chunked)."""
    out = np.zeros((rows.size, frontier.shape[1]), dtype=np.uint64)
    deg = (a.indptr[rows + 1] - a.indptr[rows]).astype(np.int64)
    cum = np.cumsum(deg)
    per_block = max(1, _BFS_CHUNK_WORDS // frontier.shape[1])
    lo = 0
    while lo < rows.size:  # blocks of rows with at most _BFS_CHUNK_WORDS gathered words
        base = int(cum[lo - 1]) if lo else 0
        hi = max(lo + 1, int(np.searchsorted(cum, base + per_block, side="right")))
        has = deg[lo:hi] > 0
        if has.all() and rows[hi - 1] - rows[lo] == hi - 1 - lo:  # a contiguous band: slices, no index lists
            e0, e1 = int(a.indptr[rows[lo]]), int(a.indptr[rows[hi - 1] + 1])
            out[lo:hi] = np.bitwise_or.reduceat(frontier[a.indices[e0:e1]], a.indptr[rows[lo]:rows[hi - 1] + 1] - e0,
                                                axis=0)
        elif has.any():
            pos, starts = _row_edge_positions(a.indptr, rows[lo:hi][has])
            gathered = frontier[a.indices[pos]]
            out[lo:hi][has] = np.bitwise_or.reduceat(gathered, starts, axis=0)
        lo = hi
    return out


def _push(a: sp.csr_array, frontier: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OR ``frontier[i]`` of the ``rows`` into their neighbours: (targets, bits) with unique targets."""
    pos, _ = _row_edge_positions(a.indptr, rows)
    deg = (a.indptr[rows + 1] - a.indptr[rows]).astype(np.int64)
    targets = a.indices[pos]
    if targets.size == 0:
        return targets.astype(np.int64), np.zeros((0, frontier.shape[1]), dtype=np.uint64)
    order = np.argsort(targets, kind="stable")
    targets = targets[order]
    vals = np.repeat(frontier[rows], deg, axis=0)[order]
    first = np.flatnonzero(np.r_[True, targets[1:] != targets[:-1]])
    return targets[first], np.bitwise_or.reduceat(vals, first, axis=0)


def hop_masks(graph: Any, *, neb_hops: int = 3, rmt_hops: int = 8, sources: Any = None, seed: SeedLike = None,
              unreachable: str = "remote", n_nodes: int | None = None) -> HopMasks:
    """The neighbour and remote masks of MADGap for a set of source nodes (once per graph).

    Hop distances come from breadth-first searches from every source up to
    ``rmt_hops - 1`` hops, 64 sources at a time in the bits of a machine word (cost
    O(rmt_hops * E * n_sources / 64)). Nodes never reached within ``rmt_hops - 1`` hops
    are remote; those in another connected component (infinite hop distance) count as
    remote too with ``unreachable="remote"`` (the default: the paper's "topological
    distance >= 8"; Chen et al.'s code takes the masks as given), or are left out of
    both masks with ``unreachable="ignore"``. Stored as sparse rows (:class:`HopMasks`):
    memory O(sum over sources of the neighbour set plus the smaller of the remote set and
    its complement).

    Parameters
    ----------
    graph : graph in any supported form
    neb_hops, rmt_hops : int
        Neighbour mask: ``1 <= hops <= neb_hops``; remote mask: ``hops >= rmt_hops``
        (Chen et al.: 3 and 8). Need ``neb_hops < rmt_hops``.
    sources : None, int or array of node ids
        None: every node when ``N <= MADGAP_EXACT_MAX_NODES`` (4096), else a uniform
        sample of ``MADGAP_SAMPLE_SOURCES`` (256) nodes without replacement; an int: that
        many sampled nodes (all when >= N); an array: those nodes.
    seed : int, Generator or None
        Seeds the source sample.
    unreachable : {"remote", "ignore"}
    n_nodes : int, optional
        N, for an ``edge_index``.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import hop_masks
    >>> path = np.array([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])  # 0-1-2-3-4-5
    >>> m = hop_masks(path, neb_hops=1, rmt_hops=4, sources=[0])
    >>> m.neb.toarray()[0].nonzero()[0].tolist(), m.rmt.toarray()[0].nonzero()[0].tolist()
    ([1], [4, 5])
    """
    a = edge_arrays(graph, n_nodes=n_nodes).adjacency  # self-loops do not shorten any hop distance
    n = a.shape[0]
    neb_hops = check_positive_int(neb_hops, "neb_hops")
    rmt_hops = check_positive_int(rmt_hops, "rmt_hops", minimum=2)
    if neb_hops >= rmt_hops:
        raise ValueError(f"neb_hops must be smaller than rmt_hops, got neb_hops={neb_hops}, rmt_hops={rmt_hops}")
    unreachable = check_choice(unreachable, "unreachable", ("remote", "ignore"))
    src, exact = _choose_sources(sources, n, seed)
    words = (src.size + 63) // 64
    visited = np.zeros((n, words), dtype=np.uint64)
    bit = np.left_shift(np.uint64(1), (np.arange(src.size) % 64).astype(np.uint64))
    np.bitwise_or.at(visited, (src, np.arange(src.size) // 64), bit)
    own = visited.copy()  # each source's own bit, removed from its masks
    frontier = visited.copy()
    full = np.full(words, np.uint64(0xFFFFFFFFFFFFFFFF))
    if src.size % 64:
        full[-1] = np.uint64((1 << (src.size % 64)) - 1)
    nnz = max(1, a.nnz)
    neb = None
    active = np.unique(src)
    for hop in range(1, rmt_hops):
        if active.size == 0:
            break
        out_edges = int((a.indptr[active + 1] - a.indptr[active]).sum())
        if out_edges * 8 < nnz:  # small frontier: push along its edges
            rows, new = _push(a, frontier, active)
            new &= ~visited[rows]
        else:  # large frontier: every node still missing a source pulls from its neighbours
            rows = np.flatnonzero((visited != full).any(axis=1))
            new = _pull(a, frontier, rows) & ~visited[rows]
        keep = new.any(axis=1)
        rows, new = rows[keep], new[keep]
        frontier[active] = 0
        frontier[rows] = new
        visited[rows] |= new
        active = rows
        if hop == neb_hops:
            neb = visited.copy()
    if neb is None:
        neb = visited.copy()
    neb &= ~own
    rmt = ~visited
    comp = None
    if unreachable == "ignore":
        n_comp, comp = connected_components(a, directed=False)
        for w in range(words):  # keep only the nodes in each source's component
            comp_bits = np.zeros(n_comp, dtype=np.uint64)
            np.bitwise_or.at(comp_bits, comp[src[64 * w: 64 * w + 64]], bit[64 * w: 64 * w + 64])
            rmt[:, w] &= comp_bits[comp]
    rmt &= full  # clear the unused high bits of the last word
    # bits -> sparse rows, the remote set stored directly or as its complement, whichever is smaller
    parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {"neb": [], "rmt": [], "ball": []}
    use_ball = np.zeros(src.size, dtype=bool)
    n_rmt = np.zeros(src.size, dtype=np.int64)
    for w in range(words):
        k = min(64, src.size - 64 * w)
        nb, rb, vb = (_unpack_word(m[:, w])[:, :k] for m in (neb, rmt, visited))
        n_r = rb.sum(axis=0)
        ub = vb.sum(axis=0) < n_r
        use_ball[64 * w: 64 * w + k] = ub
        n_rmt[64 * w: 64 * w + k] = n_r
        for key, bits, cols in (("neb", nb, np.arange(k)), ("rmt", rb, np.flatnonzero(~ub)),
                                ("ball", vb, np.flatnonzero(ub))):
            col, row = np.nonzero(np.ascontiguousarray(bits[:, cols].T))  # sorted by source, then node
            parts[key].append((cols[col] + 64 * w, row))
    shape = (src.size, n)

    def to_csr(pieces: list[tuple[np.ndarray, np.ndarray]]) -> sp.csr_array:
        r = np.concatenate([p[0] for p in pieces]) if pieces else np.zeros(0, np.int64)
        c = np.concatenate([p[1] for p in pieces]) if pieces else np.zeros(0, np.int64)
        indptr = np.r_[0, np.cumsum(np.bincount(r, minlength=src.size))]
        return sp.csr_array((np.ones(c.size), c, indptr), shape=shape)

    return HopMasks(src, to_csr(parts["neb"]), to_csr(parts["rmt"]), to_csr(parts["ball"]), use_ball, n_rmt,
                    comp, neb_hops, rmt_hops, unreachable, exact)


def _choose_sources(sources: Any, n: int, seed: SeedLike) -> tuple[np.ndarray, bool]:
    if sources is None:
        if n <= MADGAP_EXACT_MAX_NODES:
            return np.arange(n), True
        sources = MADGAP_SAMPLE_SOURCES
    if np.isscalar(sources):
        k = check_positive_int(sources, "sources")
        if k >= n:
            return np.arange(n), True
        rng = check_random_state(seed)
        return np.sort(rng.choice(n, size=k, replace=False)), False
    arr = np.asarray(sources).ravel()
    if arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"sources must be None, a positive int or a non-empty array of node ids, got {sources!r}")
    if int(arr.min()) < 0 or int(arr.max()) >= n:
        raise ValueError(f"sources must be node ids in 0..{n - 1}, got ids {int(arr.min())}..{int(arr.max())}")
    if np.unique(arr).size != arr.size:
        raise ValueError("sources must not repeat a node")
    return arr.astype(np.int64), arr.size == n


def _unpack_word(col: np.ndarray) -> np.ndarray:
    """(N,) uint64 -> (N, 64) bool: bit k of each word."""
    return np.unpackbits(np.ascontiguousarray(col).view(np.uint8).reshape(-1, 8), axis=1,
                         bitorder="little").astype(bool)


def _row(m: sp.csr_array, k: int) -> np.ndarray:
    return m.indices[m.indptr[k]:m.indptr[k + 1]]


def _in_remote(masks: HopMasks, k: int, nodes: np.ndarray) -> np.ndarray:
    """Whether each of ``nodes`` is in the remote set of source k."""
    if not masks.use_ball[k]:
        return np.isin(nodes, _row(masks.rmt, k))
    inside = ~np.isin(nodes, _row(masks.ball, k))
    if masks.component is not None:
        inside &= masks.component[nodes] == masks.component[masks.sources[k]]
    return inside


def _remote_set(masks: HopMasks, k: int) -> np.ndarray:
    """The remote nodes of source k as an index array."""
    if not masks.use_ball[k]:
        return _row(masks.rmt, k)
    n = masks.n_nodes
    keep = np.ones(n, dtype=bool) if masks.component is None else masks.component == masks.component[masks.sources[k]]
    keep[_row(masks.ball, k)] = False
    return np.flatnonzero(keep)


def mad_gap(x: Any, graph: Any = None, *, neb_hops: int = 3, rmt_hops: int = 8, sources: Any = None,
            seed: SeedLike = None, unreachable: str = "remote", masks: HopMasks | None = None) -> dict[str, Any]:
    """MADGap (Chen et al., AAAI 2020): ``MAD_rmt - MAD_neb``.

    ``MAD_neb`` is :func:`mad` on the mask of the nodes 1..``neb_hops`` hops away
    (Chen et al.: <= 3), ``MAD_rmt`` on the nodes >= ``rmt_hops`` hops away (>= 8),
    both with the paper's two-stage non-zero means (a source's value is the mean of
    its non-zero cosine distances on the mask; the graph's value the mean over sources
    with a non-zero value). Chen et al.'s ``mad_gap_regularizer`` averages the source
    values including zeros instead; we follow the definition. A masked value is NaN when
    no source has any node in that mask (e.g. no node is ``rmt_hops`` away on a
    small-diameter graph).

    Exact (every node a source) for ``N <= MADGAP_EXACT_MAX_NODES`` (4096); beyond, the
    means run over a seeded uniform sample of ``MADGAP_SAMPLE_SOURCES`` (256) source
    nodes, with every other node as a target: ``mad_sources`` says how many sources
    were used (N when exact). The masked sums come from sparse products with the stored
    masks (cost O(N d + d * mask entries)), the zero distances from an exact check of
    the few pairs whose random projections agree, and sources with a mean below 1e-4 are
    recomputed pair by pair. Pass ``masks=hop_masks(graph, ...)`` to do the searches once
    per graph.

    Parameters
    ----------
    x : array or tensor, shape (N, d) or (N,)
    graph : graph in any supported form (or pass ``masks``)
    neb_hops, rmt_hops, sources, seed, unreachable
        See :func:`hop_masks`.
    masks : HopMasks, optional
        Precomputed masks (then the five arguments above are taken from them).

    Returns
    -------
    dict
        ``mad_neb``, ``mad_rmt``, ``mad_gap`` (floats) and ``mad_sources`` (int).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import mad_gap
    >>> path = np.array([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])  # 0-1-2-3-4-5
    >>> x = np.array([[1.0, 0.0], [1.0, 0.1], [1.0, 0.2], [0.0, 1.0], [0.1, 1.0], [0.0, 1.0]])
    >>> out = mad_gap(x, path, neb_hops=1, rmt_hops=3)
    >>> round(out["mad_rmt"], 4), round(out["mad_neb"], 4), round(out["mad_gap"], 4), out["mad_sources"]
    (0.8958, 0.1381, 0.7577, 6)
    """
    h = as_embedding(x, "x")
    n, d = h.shape
    if masks is None:
        masks = hop_masks(graph, neb_hops=neb_hops, rmt_hops=rmt_hops, sources=sources, seed=seed,
                          unreachable=unreachable, n_nodes=n)
    elif not isinstance(masks, HopMasks):
        raise ValueError(f"masks must be the HopMasks returned by hop_masks(graph), got {type(masks).__name__}")
    elif masks.n_nodes != n:
        raise ValueError(f"masks were built for {masks.n_nodes} nodes but the embeddings have {n} rows")
    inv, zero = _unit_rows(h)
    u = h * inv[:, None]
    tol = _zero_tol(d)
    src = masks.sources
    us = u[src]
    # masked sums of D_sj = 1 - u_s . u_j from sparse products (a zero row has u = 0: distance 1)
    n_neb = np.diff(masks.neb.indptr)
    neb_sum = n_neb - np.einsum("ij,ij->i", us, masks.neb @ u)
    if masks.component is None:
        outside = np.broadcast_to(u.sum(axis=0), us.shape)
    else:
        comp = masks.component
        ind = sp.csr_array((np.ones(n), (comp, np.arange(n))), shape=(int(comp.max()) + 1, n))
        outside = (ind @ u)[comp[src]]
    rmt_vec = np.where(masks.use_ball[:, None], outside - masks.ball @ u, masks.rmt @ u)
    rmt_sum = masks.n_rmt - np.einsum("ij,ij->i", us, rmt_vec)
    neb_cnt = n_neb.astype(np.float64)
    rmt_cnt = masks.n_rmt.astype(np.float64)
    # zero distances: only nodes whose random projection is within the bound of the source's
    g = np.random.default_rng(20200101).standard_normal(d)
    proj = u @ g
    order = np.argsort(proj, kind="stable")
    sorted_proj = proj[order]
    slack = float(np.linalg.norm(g)) * (np.sqrt(2.0 * tol) + 8.0 * d * _EPS)
    lo = np.searchsorted(sorted_proj, proj[src] - slack, side="left")
    hi = np.searchsorted(sorted_proj, proj[src] + slack, side="right")
    for k in np.flatnonzero((hi - lo > 1) & ~zero[src]):
        s = src[k]
        cand = order[lo[k]:hi[k]]
        cand = cand[(cand != s) & ~zero[cand]]
        z = cand[_pair_distances(u, zero, np.full(cand.size, s), cand, tol) == 0]
        if z.size == 0:
            continue
        neb_cnt[k] -= np.isin(z, _row(masks.neb, k)).sum()
        rmt_cnt[k] -= _in_remote(masks, k, z).sum()
    # tiny means lose digits in 1 - u_s . u_j: recompute those sources pair by pair
    for sums, cnts, which in ((neb_sum, neb_cnt, "neb"), (rmt_sum, rmt_cnt, "rmt")):
        for k in np.flatnonzero((cnts > 0) & (sums < _SMALL_MAD * cnts)):
            targets = _row(masks.neb, k) if which == "neb" else _remote_set(masks, k)
            dist = _pair_distances(u, zero, np.full(targets.size, src[k]), targets, tol)
            sums[k] = dist.sum()
            cnts[k] = np.count_nonzero(dist)
    values = []
    for sums, cnts, sizes in ((neb_sum, neb_cnt, n_neb), (rmt_sum, rmt_cnt, masks.n_rmt)):
        has = cnts > 0
        if not (sizes > 0).any():
            values.append(float("nan"))
        else:
            values.append(float(np.mean(sums[has] / cnts[has])) if has.any() else 0.0)
    mad_neb, mad_rmt = values
    return {"mad_neb": mad_neb, "mad_rmt": mad_rmt, "mad_gap": mad_rmt - mad_neb, "mad_sources": int(src.size)}


# =========================================================================== group distance ratio


def _distance_sum(a: np.ndarray, b: np.ndarray, same: bool) -> float:
    """Sum of Euclidean distances over all pairs (rows of a) x (rows of b), chunked.

    Uses ``||a||^2 + ||b||^2 - 2 a.b`` on centred data (as ``torch.cdist`` does); the
    diagonal of a block with itself is set to exactly 0.
    """
    total = 0.0
    nb = np.einsum("ij,ij->i", b, b)
    step = max(1, _CHUNK_ENTRIES // max(1, b.shape[0]))
    for lo in range(0, a.shape[0], step):
        blk = a[lo:lo + step]
        sq = np.einsum("ij,ij->i", blk, blk)[:, None] + nb[None, :] - 2.0 * (blk @ b.T)
        np.clip(sq, 0.0, None, out=sq)
        if same:
            idx = np.arange(blk.shape[0])
            sq[idx, lo + idx] = 0.0
        total += float(np.sqrt(sq).sum())
    return total


def group_distance_ratio(x: Any, labels: Any, *, eps: float = 1e-5, max_nodes: int = GDR_MAX_NODES,
                         form: str = "paper", seed: SeedLike = 0) -> float:
    """Group distance ratio (Zhou et al. 2020, PyG ``DiffGroupNorm.group_distance_ratio``).

    With ``X_i`` the nodes of class i, C the number of classes and ``M_ij`` the mean
    Euclidean distance between the nodes of classes i and j (``M_ii`` over all
    ``|X_i|^2`` ordered pairs, the zero diagonal included)::

        R = [1/(C-1)^2 sum_{i != j} M_ij] / ([1/C sum_i M_ii] + eps)

    ``form="paper"`` (the default) is this formula, as the paper and PyG's docstring
    write it. PyG's code computes the numerator differently: for each class i the mean
    distance to *all* nodes outside i (pooled), ``sum_i sum_{j != i} |X_j| M_ij /
    (N - |X_i|)``, also over ``(C-1)^2``; ``form="pyg"`` reproduces that. They agree for
    two classes; for C equal classes the paper's value is C - 1 times PyG's. We follow
    the definition (SCIENCE.md section 6). Unlabelled nodes (label < 0) are left out
    and C counts the classes present (PyG takes ``max(y) + 1`` and fails on an empty
    class).

    Exact for up to ``max_nodes`` labelled nodes (O(N^2 d)); beyond, a seeded stratified
    sample of about ``max_nodes`` nodes (at least 2 per class) with unbiased estimates
    of each ``M_ij`` (the within-class mean rescaled by ``(|X_i| - 1) / |X_i|`` with the
    true class sizes).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import group_distance_ratio
    >>> x = np.array([0.0, 1.0, 10.0, 11.0])  # M_01 = M_10 = 10, M_00 = M_11 = (0+1+1+0)/4
    >>> round(group_distance_ratio(x, [0, 0, 1, 1], eps=0.0), 6)  # (10 + 10) / 0.5
    40.0
    """
    h = as_embedding(x, "x")
    y = as_labels(labels, h.shape[0])
    eps = check_positive_float(eps, "eps", allow_zero=True)
    max_nodes = check_positive_int(max_nodes, "max_nodes", minimum=2)
    form = check_choice(form, "form", ("paper", "pyg"))
    keep = y >= 0
    h, y = h[keep], y[keep]
    classes, y = np.unique(y, return_inverse=True)
    c = classes.size
    if c < 2:
        raise ValueError(f"labels must have at least two classes among the labelled nodes, got {c}")
    sizes = np.bincount(y, minlength=c)
    members = [np.flatnonzero(y == i) for i in range(c)]
    if y.size > max_nodes:
        rng = check_random_state(seed)
        take = np.maximum(np.minimum(sizes, 2), np.floor(max_nodes * sizes / y.size).astype(np.int64))
        members = [np.sort(rng.choice(m, size=int(t), replace=False)) for m, t in zip(members, take)]
    h = h - h.mean(axis=0)  # distances unchanged; less cancellation in the Gram form
    blocks = [h[m] for m in members]
    mean = np.zeros((c, c))
    for i in range(c):
        ni = blocks[i].shape[0]
        if ni > 1:  # mean over distinct pairs, times (n_i - 1)/n_i for the zero diagonal
            within = _distance_sum(blocks[i], blocks[i], True) / (ni * (ni - 1))
            mean[i, i] = within * (sizes[i] - 1) / sizes[i]
        for j in range(i + 1, c):
            mean[i, j] = mean[j, i] = _distance_sum(blocks[i], blocks[j], False) / (ni * blocks[j].shape[0])
    off = ~np.eye(c, dtype=bool)
    if form == "paper":
        numerator = mean[off].sum()
    else:
        total = int(sizes.sum())
        numerator = sum(float(sizes[off[i]] @ mean[i, off[i]]) / (total - sizes[i]) for i in range(c))
    numerator /= (c - 1) ** 2
    denominator = np.trace(mean) / c
    return float(numerator / (denominator + eps))


# =========================================================================== effective rank


def effective_rank(x: Any) -> float:
    """Effective rank ``exp(H(p))``, ``p_k = s_k / sum(s)`` over the singular values s.

    Roy & Vetterli (2007); the embeddings are not centred (rank collapse of X itself).
    Between 1 and min(N, d) for a non-zero X; 0.0 for X = 0. Singular values come from
    an SVD when ``N d <= 1e5`` or ``N <= d``, else from the eigenvalues of the d x d Gram
    matrix
    (O(N d^2); singular values below ~1e-8 of the largest lose accuracy there, which
    changes the entropy by less than 1e-6).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import effective_rank
    >>> round(effective_rank(np.eye(3)), 6), round(effective_rank(np.ones((4, 3))), 6)
    (3.0, 1.0)
    """
    h = as_embedding(x, "x")
    if h.size <= _SVD_MAX_ENTRIES or h.shape[0] <= h.shape[1]:
        s = np.linalg.svd(h, compute_uv=False)
    else:
        g = h.T @ h  # BLAS: einsum does not use it and is ~20x slower at d ~ 1000
        s = np.sqrt(np.clip(np.linalg.eigvalsh(g), 0.0, None))
    total = float(s.sum())
    if total <= 0:
        return 0.0
    p = s[s > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))
