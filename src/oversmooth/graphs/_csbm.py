"""Exact O(N + E) sampler for the contextual stochastic block model (CSBM)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp

from .._utils import (
    SeedLike,
    check_finite_array,
    check_random_state,
    check_positive_int,
    check_probability,
    spawn_generators,
)
from ..errors import ResourceLimitError, ValidationError
from ._bernoulli import _MAX_POSITION, _decode_lower_triangle, bernoulli_positions
from ._features import covariance_factor, gaussian_class_features
from ._graph import Graph, index_dtype_for
from ._limits import format_bytes, max_bytes

__all__ = ["sample_csbm", "sample_sbm_adjacency", "bernoulli_positions", "block_probability_matrix",
           "estimate_csbm_bytes"]

#: Bytes per expected undirected edge while sampling (positions, endpoints, both CSR directions) and per node.
_BYTES_PER_EDGE = 64
_BYTES_PER_NODE = 48

def block_probability_matrix(
    n_blocks: int, p: float | None = None, q: float | None = None, probs: Any = None
) -> np.ndarray:
    """The K x K matrix of edge probabilities, from (p, q) or given explicitly.

    Examples
    --------
    >>> from oversmooth.graphs import block_probability_matrix
    >>> block_probability_matrix(2, p=0.5, q=0.1).tolist()
    [[0.5, 0.1], [0.1, 0.5]]
    """
    if probs is not None:
        if p is not None or q is not None:
            raise ValidationError("give either p and q, or probs, not both")
        b = check_finite_array(probs, "probs", ndim=2)
        if b.shape != (n_blocks, n_blocks):
            raise ValidationError(f"probs must be a {n_blocks} x {n_blocks} matrix (one row per block), got shape {b.shape}")
        if not np.allclose(b, b.T, rtol=0, atol=0):
            raise ValidationError("probs must be symmetric (undirected graph)")
        for (i, j), v in np.ndenumerate(b):
            if not 0.0 <= v <= 1.0:
                raise ValidationError(f"probs[{i}, {j}] must be in [0, 1], got {v}")
        return b
    if p is None or q is None:
        raise ValidationError("give p and q (within- and between-block edge probabilities), or probs")
    pv = check_probability(p, "p")
    qv = check_probability(q, "q")
    b = np.full((n_blocks, n_blocks), qv)
    np.fill_diagonal(b, pv)
    return b


def _check_sizes(n: int | None, sizes: Sequence[int] | None, n_blocks: int) -> np.ndarray:
    if sizes is not None:
        s = np.asarray(sizes)
        if s.ndim != 1 or s.size < 1:
            raise ValidationError(f"sizes must be a non-empty list of block sizes, got {sizes!r}")
        if not np.issubdtype(s.dtype, np.integer):
            if not np.all(np.isfinite(s)) or not np.all(s == np.round(s)):
                raise ValidationError(f"sizes must be integers, got {list(sizes)}")
        s = s.astype(np.int64)
        for i, v in enumerate(s):
            if v < 1:
                raise ValidationError(f"sizes[{i}] must be >= 1 (empty block), got {v}")
        if n is not None and int(s.sum()) != int(n):
            raise ValidationError(f"sizes must sum to n={n}, got sum {int(s.sum())}")
        if s.sum() < 2:
            raise ValidationError(f"n must be >= 2, got {int(s.sum())}")
        return s
    if n is None:
        raise ValidationError("give n (number of nodes) or sizes (block sizes)")
    n = check_positive_int(n, "n", minimum=2)
    k = check_positive_int(n_blocks, "n_blocks")
    if k > n:
        raise ValidationError(f"n_blocks must be <= n (no empty block), got n_blocks={k}, n={n}")
    s = np.full(k, n // k, dtype=np.int64)
    s[: n % k] += 1
    return s


def estimate_csbm_bytes(sizes: Any, probs: Any, d: int = 0) -> tuple[float, float]:
    """(expected undirected edges, bytes needed) of sampling an SBM / CSBM, computed before sampling.

    Edges: ``sum_a C(n_a, 2) P_aa + sum_{a<b} n_a n_b P_ab``; bytes: 64 per expected edge,
    48 per node and 8 per feature entry (``d`` dimensions).

    Examples
    --------
    >>> from oversmooth.graphs import estimate_csbm_bytes
    >>> edges, nbytes = estimate_csbm_bytes([1000, 1000], [[0.01, 0.001], [0.001, 0.01]])
    >>> round(edges)
    10990
    """
    s = np.asarray(sizes, dtype=np.float64)
    b = np.asarray(probs, dtype=np.float64)
    pairs = np.outer(s, s)
    np.fill_diagonal(pairs, s * (s - 1) / 2.0)
    edges = float(np.sum(np.triu(pairs * b)))
    n = float(s.sum())
    return edges, _BYTES_PER_EDGE * edges + _BYTES_PER_NODE * n + 8.0 * n * d


def _check_budget(s: np.ndarray, b: np.ndarray, d: int, n: Any, p: Any, q: Any) -> None:
    edges, nbytes = estimate_csbm_bytes(s, b, d)
    limit = max_bytes()
    if nbytes > limit:
        what = f"n={int(s.sum())}" + (f", p={p}, q={q}" if p is not None else ", probs")
        raise ResourceLimitError(f"sample_csbm: {what} means about {edges:.3g} expected edges and "
                                 f"{format_bytes(nbytes)} of memory, more than the limit of {format_bytes(limit)} "
                                 "($OVERSMOOTH_MAX_BYTES); lower n or p / q")
    if int(s.max()) ** 2 >= _MAX_POSITION:
        raise ResourceLimitError(f"sample_csbm: n={int(s.sum())}: a block of {int(s.max())} nodes has more node "
                                 "pairs than the sampler can index (2**53); lower n")


def sample_sbm_adjacency(
    sizes: Sequence[int], probs: Any, *, self_loops: bool = True, seed: SeedLike = None
) -> sp.csr_array:
    """Sample the symmetric adjacency of a stochastic block model in O(N + E).

    Every unordered pair {i, j}, i != j, is an edge independently with probability
    ``probs[c_i, c_j]``; blocks are contiguous node ranges in the order of ``sizes``.

    Parameters
    ----------
    sizes : sequence of int
        Block sizes.
    probs : array, shape (K, K)
        Symmetric matrix of edge probabilities.
    self_loops : bool, default True
        Put ones on the diagonal (the paper's A with self-loops).
    seed : int, Generator or None

    Returns
    -------
    scipy.sparse.csr_array
        float64 ones, sorted int32 indices where they fit.

    Examples
    --------
    >>> from oversmooth.graphs import sample_sbm_adjacency
    >>> a = sample_sbm_adjacency([50, 50], [[0.2, 0.02], [0.02, 0.2]], seed=0)
    >>> a.shape, bool((a != a.T).nnz == 0)
    ((100, 100), True)
    """
    s = np.asarray(sizes, dtype=np.int64)
    b = np.asarray(probs, dtype=np.float64)
    rng = check_random_state(seed)
    n = int(s.sum())
    offsets = np.concatenate([[0], np.cumsum(s)])

    # 1. strict lower triangle L, one block row a at a time; its segments (a, 0..a)
    #    come out row-sorted and in increasing column ranges, so a per-row merge
    #    (no sort) puts them in CSR order.
    blocks: list[tuple[np.ndarray, np.ndarray]] = []  # per block row: (local counts, columns in CSR order)
    for a in range(s.size):
        segments = []
        for c in range(a + 1):
            if a == c:
                k = bernoulli_positions(int(s[a] * (s[a] - 1) // 2), float(b[a, a]), rng)
                i, j = _decode_lower_triangle(k)
            else:
                k = bernoulli_positions(int(s[a] * s[c]), float(b[a, c]), rng)
                i, j = np.divmod(k, s[c])
            j += offsets[c]
            segments.append((i, j, np.bincount(i, minlength=int(s[a]))))
        row_counts = sum(seg[2] for seg in segments)
        row_ptr = np.zeros(int(s[a]) + 1, dtype=np.int64)
        np.cumsum(row_counts, out=row_ptr[1:])
        cols = np.empty(int(row_ptr[-1]), dtype=np.int64)
        filled = row_ptr[:-1].copy()
        for i, j, cnt in segments:
            seg_ptr = np.zeros(int(s[a]) + 1, dtype=np.int64)
            np.cumsum(cnt, out=seg_ptr[1:])
            dest = np.arange(i.size, dtype=np.int64)
            dest += (filled - seg_ptr[:-1])[i]
            cols[dest] = j
            filled += cnt
        blocks.append((row_counts, cols))
        del segments
    cnt_l = np.concatenate([blk[0] for blk in blocks])
    nnz_l = int(cnt_l.sum())
    idx = index_dtype_for(n, 2 * nnz_l + n)
    indices_l = np.concatenate([blk[1] for blk in blocks]).astype(idx, copy=False) if nnz_l else np.empty(0, idx)
    del blocks
    indptr_l = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(cnt_l, out=indptr_l[1:])

    # 2. U = L^T through one CSR -> CSC conversion (a counting sort in C++)
    lower = sp.csr_array((np.ones(indices_l.size), indices_l, indptr_l.astype(idx)), shape=(n, n))
    upper = lower.tocsc()
    indptr_u = upper.indptr.astype(np.int64)
    indices_u = upper.indices
    del upper

    # 3. rows of A = [L row] + [self-loop] + [U row]: already sorted, just interleave
    cnt_u = np.diff(indptr_u)
    loop = 1 if self_loops else 0
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(cnt_l + cnt_u + loop, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=idx)
    start = indptr[:-1]
    dest = np.arange(indices_l.size, dtype=np.int64)
    dest += np.repeat(start - indptr_l[:-1], cnt_l)
    indices[dest] = indices_l
    if self_loops:
        indices[start + cnt_l] = np.arange(n, dtype=idx)
    dest = np.arange(indices_u.size, dtype=np.int64)
    dest += np.repeat(start + cnt_l + loop - indptr_u[:-1], cnt_u)
    indices[dest] = indices_u
    del dest, indices_l, indices_u, lower
    out = sp.csr_array((np.ones(indices.size), indices, indptr.astype(idx)), shape=(n, n))
    out.has_sorted_indices = True
    return out


def sample_csbm(
    n: int | None = None,
    p: float | None = None,
    q: float | None = None,
    *,
    sizes: Sequence[int] | None = None,
    n_blocks: int = 2,
    probs: Any = None,
    mu: Any = (-1.0, 1.0),
    sigma: Any = 1.0,
    self_loops: bool = True,
    features: bool = True,
    seed: SeedLike = None,
) -> Graph:
    """Sample a graph from the contextual stochastic block model.

    Nodes are split into K blocks (contiguous ids). Every unordered pair of nodes
    is an edge independently with probability ``p`` inside a block and ``q``
    across blocks (or ``probs[a, b]``); the graph is symmetric with no
    multi-edges. Node ``i`` of block ``c`` gets features ``x_i ~ N(mu_c, Sigma)``
    (drawn by :func:`~oversmooth.graphs.gaussian_class_features`).
    ``p < q`` (heterophily) is allowed.

    Parameters
    ----------
    n : int, optional
        Number of nodes N (>= 2), split into ``n_blocks`` equal blocks (the first
        ``n % n_blocks`` blocks get one extra node). Not needed with ``sizes``.
    p, q : float in [0, 1], optional
        Within- and between-block edge probabilities.
    sizes : sequence of int, optional
        Block sizes; must sum to ``n`` if both are given.
    n_blocks : int, default 2
        K, when ``sizes`` is not given (taken from ``mu`` otherwise if it has K rows).
    probs : array (K, K), optional
        Symmetric matrix of edge probabilities instead of ``p``, ``q``.
    mu : array, shape (K,) or (K, d), default (-1, 1)
        Class means; K scalars give 1-D features.
    sigma : float or array (d, d), default 1.0
        Standard deviation (a scalar: covariance ``sigma**2 * I``) or a full
        positive semi-definite covariance matrix.
    self_loops : bool, default True
        Add A_ii = 1 (the analysis of the paper uses A with self-loops).
    features : bool, default True
        Draw the Gaussian features (``False`` for structure and labels only).
    seed : int, numpy.random.Generator or None
        Same seed, same graph and features, byte for byte. The structure and the
        features use independent child streams (``SeedSequence.spawn``).

    Returns
    -------
    Graph
        With ``labels`` = block index, ``features`` of shape (N, d), and the model
        parameters in ``metadata``.

    Raises
    ------
    ValidationError (``ValueError``)
        Probabilities outside [0, 1], N < 2, an empty block, sizes not summing to
        ``n``, non-finite ``mu`` / ``sigma`` or a covariance that is not PSD.
    ResourceLimitError (``ValueError``)
        Refused before sampling: the expected edges (``estimate_csbm_bytes``) need more
        memory than ``$OVERSMOOTH_MAX_BYTES`` (default: the physical memory); the message names n, p, q.

    Examples
    --------
    >>> from oversmooth.graphs import sample_csbm
    >>> g = sample_csbm(2000, p=0.0114, q=0.0038, mu=[-1, 1], sigma=1, seed=0)
    >>> g.n_nodes, g.n_classes, g.features.shape
    (2000, 2, (2000, 1))
    """
    mu_arr = check_finite_array(mu, "mu", ndim=(1, 2))
    if sizes is None and probs is None and mu_arr.shape[0] != n_blocks and n_blocks == 2:
        n_blocks = mu_arr.shape[0]
    if probs is not None and sizes is None:
        n_blocks = np.asarray(probs).shape[0] if np.ndim(probs) == 2 else n_blocks
    s = _check_sizes(n, sizes, n_blocks)
    k = s.size
    b = block_probability_matrix(k, p, q, probs)
    if mu_arr.ndim == 1:
        mu_arr = mu_arr[:, None]
    if mu_arr.shape[0] != k:
        raise ValidationError(f"mu must have one row per block ({k}), got shape {np.shape(mu)}")
    d = mu_arr.shape[1]
    covariance_factor(sigma, d)  # validate sigma before any sampling
    _check_budget(s, b, d if features else 0, n, p, q)  # estimate memory before allocating anything
    rng_structure, rng_features = spawn_generators(seed, 2)
    adjacency = sample_sbm_adjacency(s, b, self_loops=self_loops, seed=rng_structure)
    labels = np.repeat(np.arange(k, dtype=np.int64), s)
    x = None
    if features:
        x = gaussian_class_features(labels, mu_arr, sigma, rng_features)
    meta = {
        "model": "csbm",
        "sizes": s.tolist(),
        "probs": b.tolist(),
        "p": None if p is None else float(p),
        "q": None if q is None else float(q),
        "mu": mu_arr.tolist(),
        "sigma": np.asarray(sigma, dtype=float).tolist(),
        "self_loops": bool(self_loops),
        "seed": int(seed) if isinstance(seed, (int, np.integer)) else None,
    }
    return Graph(adjacency, labels, x, name="csbm", source="oversmooth.graphs.sample_csbm", metadata=meta,
                 check_symmetric=False)  # symmetric by construction
