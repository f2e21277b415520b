"""MADGap of Chen et al. (AAAI 2020): hop masks from bit-parallel breadth-first searches, masked MADs."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .._utils import SeedLike, check_choice, check_positive_int, check_random_state
from ..errors import ValidationError
from ._edges import _EPS, _SMALL_MAD, _pair_distances, _row_edge_positions, _unit_rows, _zero_tol, edge_arrays
from ._inputs import as_embedding

__all__ = ["HopMasks", "hop_masks", "mad_gap", "MADGAP_EXACT_MAX_NODES", "MADGAP_SAMPLE_SOURCES"]

#: MADGap uses every node as a source up to this many nodes; beyond, a seeded sample.
MADGAP_EXACT_MAX_NODES = 4096
#: Number of sampled MADGap sources on graphs larger than ``MADGAP_EXACT_MAX_NODES``.
MADGAP_SAMPLE_SOURCES = 256
_BFS_CHUNK_WORDS = 2_000_000  # uint64 words gathered per block in the bit-parallel BFS


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

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import hop_masks
    >>> m = hop_masks(np.array([[0, 1, 2], [1, 2, 3]]), neb_hops=1, rmt_hops=3, sources=[0])  # path 0-1-2-3
    >>> m.n_nodes, m.sources.tolist(), int(m.n_rmt[0])
    (4, [0], 1)
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
        raise ValidationError(f"neb_hops must be smaller than rmt_hops, got neb_hops={neb_hops}, rmt_hops={rmt_hops}")
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
        raise ValidationError(f"sources must be None, a positive int or a non-empty array of node ids, got {sources!r}")
    if int(arr.min()) < 0 or int(arr.max()) >= n:
        raise ValidationError(f"sources must be node ids in 0..{n - 1}, got ids {int(arr.min())}..{int(arr.max())}")
    if np.unique(arr).size != arr.size:
        raise ValidationError("sources must not repeat a node")
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
        raise ValidationError(f"masks must be the HopMasks returned by hop_masks(graph), got {type(masks).__name__}")
    elif masks.n_nodes != n:
        raise ValidationError(f"masks were built for {masks.n_nodes} nodes but the embeddings have {n} rows")
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


