"""The sampled edge pass: the smoothness measures of large graphs from the edges of a node sample.

Beyond :data:`SMOOTHNESS_EXACT_MAX_NODES` nodes the profiles measure the Dirichlet energies and
MAD on a seeded uniform sample of :data:`SMOOTHNESS_SAMPLE_NODES` nodes (the same nodes at every
layer) in ONE pass over their edges (:func:`_edge_pass_sampled`); the (node, neighbour) pairs are
built once per graph and sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ValidationError
from ._edges import _CHUNK_ENTRIES, EdgeArrays, _graph_cache, _row_edge_positions, _unit_rows, _zero_tol

__all__ = ["sample_nodes", "SMOOTHNESS_EXACT_MAX_NODES", "SMOOTHNESS_SAMPLE_NODES"]

#: The profiles measure the edge measures on every node up to this many nodes; beyond, on a sample.
SMOOTHNESS_EXACT_MAX_NODES = 100_000
#: Size of that seeded uniform node sample (the same nodes at every layer).
SMOOTHNESS_SAMPLE_NODES = 100_000


def sample_nodes(n: int, sample: Any, rng: np.random.Generator | None = None) -> np.ndarray | None:
    """The node sample of a sampled edge pass: None (every node), a seeded uniform sample or given ids.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures._sampled_edges import sample_nodes
    >>> sample_nodes(10, 3, np.random.default_rng(0)).size, sample_nodes(10, 20) is None
    (3, True)
    """
    if sample is None:
        return None
    if np.isscalar(sample):
        if isinstance(sample, bool) or int(sample) != sample or int(sample) < 1:
            raise ValidationError(f"sample must be None, a positive int or an array of node ids, got {sample!r}")
        m = int(sample)
        if m >= n:
            return None
        rng = rng if rng is not None else np.random.default_rng(0)
        return np.sort(rng.choice(n, size=m, replace=False))
    ids = np.asarray(sample).ravel()
    if ids.size == 0 or not np.issubdtype(ids.dtype, np.integer):
        raise ValidationError("sample must be None, a positive int or a non-empty array of integer node ids")
    ids = np.sort(ids.astype(np.int64))
    if int(ids[0]) < 0 or int(ids[-1]) >= n or bool(np.any(ids[1:] == ids[:-1])):
        raise ValidationError(f"sample must hold distinct node ids in 0..{n - 1}")
    return ids


def _sampled_pairs(e: EdgeArrays, nodes: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(owner, i, j, w, s_i, s_j)`` of every (sampled node, neighbour) pair; kept for the next layer.

    A profile measures every layer of one graph on the same node sample, so the pairs, their
    weights and the ``1 / sqrt(d~)`` factors are built once (:func:`._edges._graph_cache`, with
    the sample they were built for).
    """
    a = e.adjacency
    cache = _graph_cache(a)
    cached = cache.get("sampled_pairs")
    if cached is not None and np.array_equal(cached[0], nodes):
        return cached[1]
    pos, starts = _row_edge_positions(a.indptr, nodes)
    owner = np.repeat(np.arange(nodes.size), np.diff(np.r_[starts, pos.size]))
    s = 1.0 / np.sqrt(1.0 + e.degree)
    i = nodes[owner]
    j = a.indices[pos]
    pairs = (owner, i, j, a.data[pos], s[i], s[j])
    cache["sampled_pairs"] = (nodes.copy(), pairs)
    return pairs


def _edge_pass_sampled(x: np.ndarray, e: EdgeArrays, nodes: np.ndarray) -> dict[str, float]:
    """ONE chunked pass over the edges of the sampled ``nodes``: the three energies and MAD.

    Each sampled node i contributes its own sums over its neighbours: ``s_i = sum_j w_ij
    ||x_i - x_j||^2`` (so ``E = (1/N) sum_i s_i`` is estimated by the sample mean of ``s_i``,
    unbiased), ``t_i = sum_j w_ij ||x_i / sqrt(d~_i) - x_j / sqrt(d~_j)||^2`` (Cai & Wang's
    energy ``(1/2) sum_i t_i`` by ``N/2`` times the mean) and MAD's per-node non-zero mean of
    ``1 - cos`` (its mean over the sampled nodes with a non-zero value). Differences are formed
    pair by pair, as in the exact pass: no cancellation, zero distances exact.
    """
    n, d = x.shape
    m = nodes.size
    owner, ii, jj, ww, si, sj = _sampled_pairs(e, nodes)
    inv, zero = _unit_rows(x)
    tol = _zero_tol(d)
    sums = np.zeros((4, m))  # energy, normalised energy, MAD distance sum, MAD non-zero count
    step = max(1, _CHUNK_ENTRIES // max(1, d))
    for lo in range(0, owner.size, step):
        o = owner[lo:lo + step]
        i = ii[lo:lo + step]
        j = jj[lo:lo + step]
        w = ww[lo:lo + step]
        xi, xj = x[i], x[j]
        diff = xi - xj
        sums[0] += np.bincount(o, weights=w * np.einsum("ij,ij->i", diff, diff), minlength=m)
        diff = xi * si[lo:lo + step, None] - xj * sj[lo:lo + step, None]
        sums[1] += np.bincount(o, weights=w * np.einsum("ij,ij->i", diff, diff), minlength=m)
        diff = xi * inv[i, None] - xj * inv[j, None]
        dist = 0.5 * np.einsum("ij,ij->i", diff, diff)
        dist[zero[i] | zero[j]] = 1.0
        dist[dist <= tol] = 0.0
        sums[2] += np.bincount(o, weights=dist, minlength=m)
        sums[3] += np.bincount(o, weights=(dist > 0).astype(np.float64), minlength=m)
    has = sums[3] > 0
    if e.rows.size == 0:
        mad_value = float("nan")
    else:
        mad_value = float(np.mean(sums[2][has] / sums[3][has])) if has.any() else 0.0
    return {"dirichlet_energy": float(sums[0].mean()), "normalized_dirichlet_energy": 0.5 * n * float(sums[1].mean()),
            "mad": mad_value}
