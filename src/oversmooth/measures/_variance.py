"""The paper's feature-noise variance, exact or by Hutchinson, and the propagated probe block.

See :mod:`oversmooth.measures._profile` for the estimator (deflated Rademacher probes); this
module holds :func:`feature_noise_variance`, the exact row norms (:func:`row_norms_sq`), the block
builder shared with :func:`~oversmooth.measures.depth_profile` and the up-front memory estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._utils import (
    SeedLike,
    check_choice,
    check_finite_array,
    check_nonneg_int,
    check_positive_int,
    spawn_generators,
)
from ..errors import ValidationError
from ..operators import check_dtype, iter_propagate, normalize_adjacency, stationary_projection
from ._memory import check_memory, memory_estimate
from ._stats import class_indicator

__all__ = ["EXACT_MAX_NODES", "VARIANCE_METHODS", "VarianceEstimate", "feature_noise_variance", "row_norms_sq",
           "resolve_variance_method", "memory_estimate", "probe_block", "probe_layers"]

EXACT_MAX_NODES = 5000
_CHUNK_ENTRIES = 8_000_000
_SMALL_BLOCK = 2**24  # probe blocks up to this many entries are built and summed in one piece (as before)
_SUM_CHUNK_BYTES = 2**20  # larger ones are summed in row chunks of about this many float64 bytes
VARIANCE_METHODS = ("auto", "exact", "hutchinson")


@dataclass(frozen=True)
class VarianceEstimate:
    """Feature-noise variance per depth (rows) and class (columns), times ``sigma^2``.

    Examples
    --------
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.measures import feature_noise_variance
    >>> v = feature_noise_variance(sample_csbm(200, p=0.05, q=0.01, seed=0), 2)
    >>> v.method, v.per_class.shape, v.pooled.shape
    ('exact', (3, 2), (3,))

    Attributes
    ----------
    per_class, se_per_class : ndarray (depth + 1, K)
    pooled, se_pooled : ndarray (depth + 1,)
        Average over all labelled nodes (the variance shared by the classes).
    method : {"exact", "hutchinson"}
    probes : int
        Number of Hutchinson probes (0 for exact).
    """

    per_class: np.ndarray
    se_per_class: np.ndarray
    pooled: np.ndarray
    se_pooled: np.ndarray
    method: str
    probes: int


def resolve_variance_method(variance: str, n: int, exact_max_nodes: int = 5000, name: str = "variance") -> str:
    """``"exact"`` or ``"hutchinson"`` for ``variance`` in {"auto", "exact", "hutchinson"} on N = ``n`` nodes.

    Examples
    --------
    >>> from oversmooth.measures._variance import resolve_variance_method
    >>> resolve_variance_method("auto", 10**6), resolve_variance_method("auto", 100)
    ('hutchinson', 'exact')
    """
    return _resolve_method(variance, n, exact_max_nodes, name)


def _resolve_method(method: str, n: int, exact_max_nodes: int, name: str = "method") -> str:
    method = check_choice(method, name, VARIANCE_METHODS)
    if method == "auto":
        return "exact" if n <= exact_max_nodes else "hutchinson"
    return method


def _rademacher(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    z = rng.integers(0, 2, size=(n, k), dtype=np.int8).astype(np.float64)
    z *= 2.0
    z -= 1.0
    return z


class _ProbeAccumulator:
    """Turns propagated probe columns into class averages and standard errors."""

    def __init__(self, labels: np.ndarray, depth: int, n_classes: int):
        self.ind = class_indicator(labels, n_classes)
        self.labels = np.where(labels >= 0, labels, -1)
        self.counts = np.maximum(np.bincount(labels[labels >= 0], minlength=n_classes), 1).astype(np.float64)
        mask = labels >= 0
        self.pool_w = np.where(mask, 1.0 / mask.sum(), 0.0)
        self.per_class = np.zeros((depth + 1, n_classes))
        self.se_per_class = np.zeros((depth + 1, n_classes))
        self.pooled = np.zeros(depth + 1)
        self.se_pooled = np.zeros(depth + 1)

    def hutchinson(self, n: int, z: np.ndarray, q: np.ndarray | None = None, per_node: bool = True) -> Any:
        """Accumulate depth n from the propagated deflated probes ``z`` and direction ``q``; per-node estimate.

        Sums and squares are taken in float64 whatever ``z``'s type. Large blocks (more than
        ``_SMALL_BLOCK`` entries) go in row chunks through a dense one-hot product (no N x k
        float64 temporary); smaller ones through the sparse class indicator as before.
        """
        if n == 0:  # M_0 = I for every operator: each row norm is 1, exactly
            ones = np.ones(z.shape[0])
            self.exact_rows(0, ones)
            return ones
        k = z.shape[1]
        node = None
        if z.size <= _SMALL_BLOCK:
            sq = np.square(z, dtype=np.float64)
            per_probe = np.asarray(self.ind @ sq)  # (K, k)
            pooled = self.pool_w @ sq  # (k,)
            node = sq.mean(axis=1) if per_node else None
        else:
            per_probe, pooled, node = self._chunked(z, per_node)
        self.per_class[n] = per_probe.mean(axis=1)
        self.pooled[n] = pooled.mean()
        if q is not None:  # the stationary direction's share, computed exactly
            e = np.square(q, dtype=np.float64)
            node = None if node is None else node + e
            self.per_class[n] += np.asarray(self.ind @ e)
            self.pooled[n] += float(self.pool_w @ e)
        if k > 1:
            self.se_per_class[n] = per_probe.std(axis=1, ddof=1) / np.sqrt(k)
            self.se_pooled[n] = pooled.std(ddof=1) / np.sqrt(k)
        else:
            self.se_per_class[n] = np.nan
            self.se_pooled[n] = np.nan
        return node

    def _chunked(self, z: np.ndarray, per_node: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        n_rows, k = z.shape
        sums = np.zeros((self.counts.size, k))
        node = np.empty(n_rows) if per_node else None
        step = max(1, _SUM_CHUNK_BYTES // max(1, 8 * k))  # the float64 squares of a chunk stay in L2
        classes = np.arange(self.counts.size)
        for lo in range(0, n_rows, step):
            sq = np.square(z[lo:lo + step], dtype=np.float64)
            onehot = (self.labels[lo:lo + step, None] == classes).astype(np.float64)
            sums += onehot.T @ sq
            if node is not None:
                node[lo:lo + step] = sq.mean(axis=1)
        return sums / self.counts[:, None], sums.sum(axis=0) / self.counts.sum(), node

    def exact_rows(self, n: int, row_norms_sq: np.ndarray) -> None:
        self.per_class[n] = np.asarray(self.ind @ row_norms_sq)
        self.pooled[n] = self.pool_w @ row_norms_sq

    def result(self, sigma2: float, method: str, probes: int) -> VarianceEstimate:
        return VarianceEstimate(self.per_class * sigma2, self.se_per_class * sigma2,
                                self.pooled * sigma2, self.se_pooled * sigma2, method, probes)


def _exact_row_norms(P: Any, depth: int, op: dict[str, Any], reference: np.ndarray | None) -> np.ndarray:
    """``||row i of M_n||^2`` for every node and depth, from identity columns in chunks."""
    n = P.shape[0]
    out = np.zeros((depth + 1, n))
    chunk = max(1, min(n, _CHUNK_ENTRIES // max(n, 1)))
    d = 0 if reference is None else reference.shape[1]
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        block = np.zeros((n, d + stop - start))
        if d:
            block[:, :d] = reference
        block[np.arange(start, stop), d + np.arange(stop - start)] = 1.0
        ref = slice(0, d) if d else None
        for k, h in enumerate(iter_propagate(P, block, depth, reference=ref, **op)):
            cols = h[:, d:]
            out[k] += np.einsum("ij,ij->i", cols, cols)
    return out


def _operator_kwargs(operator: str, alpha: float, pairnorm_scale: float, pairnorm_mode: str, graph: Any = None,
                     normalization: str = "rw") -> dict[str, Any]:
    op = {"operator": operator, "alpha": alpha, "pairnorm_scale": pairnorm_scale, "pairnorm_mode": pairnorm_mode}
    if operator == "corrected":  # the principal component of the normalised adjacency actually used
        op["principal"] = stationary_projection(graph, normalization)
    return op


def _deflation_direction(graph: Any, normalization: str, n: int) -> np.ndarray | None:
    """Unit stationary direction q (``pi / ||pi||`` for D^-1 A, ``sqrt(pi)`` for the symmetric form), or None."""
    try:
        _, w = stationary_projection(graph, normalization)
    except ValueError:  # no edge: no stationary distribution, plain Hutchinson
        return None
    norm = float(np.linalg.norm(w))
    return w / norm if w.shape == (n,) and norm > 0 else None


def _deflated_probes(rng: np.random.Generator, n: int, k: int, q: np.ndarray | None) -> np.ndarray:
    """Rademacher probes with the direction q projected out: ``z - q (q^T z)`` (E[z z^T] = I - q q^T)."""
    z = _rademacher(rng, n, k)
    if q is not None:
        z -= np.outer(q, q @ z)
    return z


def probe_block(parts: list[np.ndarray], rng: np.random.Generator | None, probes: int, q: np.ndarray | None,
                dtype: Any = "float64", q_column: bool = True) -> np.ndarray:
    """The propagated block ``[parts... | q | z']`` in ``dtype``: given columns, the direction, deflated probes.

    The probes come from one draw of ``rng`` (the same bytes for a seed whatever the size or
    dtype). Blocks of at most ``_SMALL_BLOCK`` probe entries in float64 are built exactly as
    before (one ``hstack``); larger ones are written into one array of ``dtype`` in row chunks,
    the deflation ``z - q (q^T z)`` computed in float64 per chunk, so no N x k float64 temporary
    is made (the int8 draw is N x k bytes).
    """
    dtype = np.dtype(dtype)
    n = parts[0].shape[0]
    if rng is None or probes == 0:
        return np.ascontiguousarray(np.hstack(parts) if len(parts) > 1 else parts[0], dtype=dtype)
    if dtype == np.float64 and n * probes <= _SMALL_BLOCK and q_column:
        z = _deflated_probes(rng, n, probes, q)
        return np.hstack(parts + ([] if q is None else [q[:, None]]) + [z])
    signs = rng.integers(0, 2, size=(n, probes), dtype=np.int8)  # the draw of _rademacher
    width = sum(p.shape[1] for p in parts)
    block = np.empty((n, width + (q is not None and q_column) + probes), dtype=dtype)
    col = 0
    for p in parts:
        block[:, col:col + p.shape[1]] = p
        col += p.shape[1]
    step = max(1, _SMALL_BLOCK // (4 * probes))
    qz = np.zeros(probes)
    if q is not None:
        if q_column:
            block[:, col] = q
            col += 1
        for lo in range(0, n, step):  # q^T z in float64, chunk by chunk
            qz += q[lo:lo + step] @ (2.0 * signs[lo:lo + step] - 1.0)
    for lo in range(0, n, step):
        z = 2.0 * signs[lo:lo + step] - 1.0
        if q is not None:
            z -= np.outer(q[lo:lo + step], qz)
        block[lo:lo + step, col:] = z
    return block


def probe_layers(P: Any, parts: list[np.ndarray], rng: np.random.Generator | None, probes: int,
                 q: np.ndarray | None, depth: int, op: dict[str, Any], *, dtype: Any = "float64",
                 reference: slice | None = None, affine: slice | None = None, backend: str = "numpy") -> Any:
    """Yield ``(main, z, q_n)`` per depth: the given columns, the propagated deflated probes, ``M_n q``.

    float64: one block ``[parts | q | z]``, one product per layer (as before). float32: the given
    columns and ``q`` (whose shares are exact, with no standard error to hide a rounding error)
    stay float64 in one block and only the probes go float32 in a second one, so every measure of
    the layers is the float64 path's and only the probe part of the variance estimate carries
    float32 rounding. PairNorm's frozen-affine view scales the probes by the reference columns'
    norm, so it keeps one float64 block whatever ``dtype``.
    """
    dtype = np.dtype(dtype)
    width = sum(p.shape[1] for p in parts)
    nq = 0 if q is None else 1
    kw = {"reference": reference, "affine": affine, "backend": backend, **op}
    if dtype == np.float64 or rng is None or probes == 0 or op.get("operator") == "pairnorm":
        for h in iter_propagate(P, probe_block(parts, rng, probes, q, np.float64), depth, **kw):  # block not kept
            yield h[:, :width], h[:, width + nq:], (h[:, width] if nq else None)
        return
    n = parts[0].shape[0]
    kw32 = {**kw, "reference": None, "affine": None}
    main = iter_propagate(P, probe_block(parts + ([] if q is None else [q[:, None]]), None, 0, None, np.float64),
                          depth, **kw)
    probe = iter_propagate(P, probe_block([np.zeros((n, 0), dtype=dtype)], rng, probes, q, dtype, q_column=False),
                           depth, dtype=dtype, **kw32)
    for h, hz in zip(main, probe):
        yield h[:, :width], hz, (h[:, width] if nq else None)


def row_norms_sq(P: Any, depth: int, *, operator: str = "gcn", alpha: float = 0.1, pairnorm_scale: float = 1.0,
                 pairnorm_mode: str = "PN", principal: Any = None, reference: Any = None) -> np.ndarray:
    """Exact ``||row i of M_n||^2`` for every node i and depth n = 0..depth, shape (depth + 1, N).

    ``M_n`` is the propagation operator of :func:`oversmooth.operators.iter_propagate` with these
    arguments (``reference``: the realised features for PairNorm's frozen-affine view), computed
    from identity columns propagated in chunks of at most 8 million entries, in float64: cost
    O(depth * nnz(P) * N). The paper's feature-noise variance of node i is ``sigma^2`` times it.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from oversmooth.measures._variance import row_norms_sq
    >>> P = sp.csr_array([[0.5, 0.5], [0.5, 0.5]])
    >>> row_norms_sq(P, 1).tolist()
    [[1.0, 1.0], [0.5, 0.5]]
    """
    depth = check_nonneg_int(depth, "depth")
    op: dict[str, Any] = {"operator": operator, "alpha": alpha, "pairnorm_scale": pairnorm_scale,
                          "pairnorm_mode": pairnorm_mode}
    if principal is not None:
        op["principal"] = principal
    ref = None if reference is None else check_finite_array(reference, "reference", ndim=(1, 2))
    if ref is not None and ref.ndim == 1:
        ref = ref[:, None]
    return _exact_row_norms(P, depth, op, ref)


def feature_noise_variance(
    graph: Any,
    depth: int,
    *,
    operator: str = "gcn",
    normalization: str = "rw",
    alpha: float = 0.1,
    pairnorm_scale: float = 1.0,
    pairnorm_mode: str = "PN",
    sigma: float = 1.0,
    method: str = "auto",
    probes: int = 32,
    zero_degree: str = "raise",
    exact_max_nodes: int = EXACT_MAX_NODES,
    seed: SeedLike = None,
    dtype: Any = "float64",
) -> VarianceEstimate:
    """The paper's feature-noise variance ``sigma^2 ||row i of M_n||^2``, class-averaged.

    Parameters
    ----------
    graph : Graph
        With labels; for ``operator="pairnorm"`` also features (the normalisation is
        frozen at its values on the realised features: the frozen-affine view of
        :mod:`oversmooth.operators`, under which only PairNorm's scale acts on the noise).
    depth : int
        Depths 0..depth are returned.
    operator, normalization, alpha, pairnorm_scale, pairnorm_mode
        See :func:`oversmooth.operators.iter_propagate`.
    sigma : float
        Standard deviation of the input features (the result scales with sigma^2).
    method : {"auto", "exact", "hutchinson"}
        ``"auto"`` is exact for ``N <= exact_max_nodes``.
    probes : int
        Rademacher probes for Hutchinson.
    seed : int, Generator or None
        For the probes.
    dtype : {"float64", "float32"}
        Precision of the propagated probes (the exact path, the stationary direction's exact share
        and PairNorm's block are always float64; squares and sums are accumulated in float64).
        float32's rounding error (bounded in :func:`oversmooth.operators.iter_propagate`) is of
        relative order ``depth * sqrt(k) * 2**-24`` (k the row nonzeros) in each probe's value,
        about 1e-5 at depth 32: far below the probes' spread, i.e. the reported standard error
        (tested: within 1e-3 SE of float64 with the same probes).

    Returns
    -------
    VarianceEstimate

    Examples
    --------
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.measures import feature_noise_variance
    >>> g = sample_csbm(300, p=0.05, q=0.01, seed=0)
    >>> v = feature_noise_variance(g, 4)
    >>> round(float(v.pooled[0]), 12), bool(1 / 300 <= v.pooled[-1] <= 1.0)
    (1.0, True)
    """
    depth = check_nonneg_int(depth, "depth")
    labels = np.asarray(graph.labels)
    if not np.any(labels >= 0):
        raise ValidationError("graph has no labelled node; the class-averaged variance needs labels")
    P = normalize_adjacency(graph, normalization, zero_degree=zero_degree)
    op = _operator_kwargs(operator, alpha, pairnorm_scale, pairnorm_mode, graph, normalization)
    reference = _reference_features(graph, operator)
    method = _resolve_method(method, P.shape[0], exact_max_nodes)
    dtype = check_dtype(dtype)
    acc = _ProbeAccumulator(labels, depth, int(labels.max()) + 1)
    if method == "exact":
        norms = _exact_row_norms(P, depth, op, reference)
        for n in range(depth + 1):
            acc.exact_rows(n, norms[n])
        return acc.result(float(sigma) ** 2, "exact", 0)
    probes = check_positive_int(probes, "probes")
    d = 0 if reference is None else reference.shape[1]
    check_memory(P.shape[0], P.nnz, d + 1 + probes, "feature_noise_variance: graph", "pass dtype='float32' or "
                 "fewer probes", dtype=dtype, smoothness=False)
    (rng,) = spawn_generators(seed, 1)
    q = _deflation_direction(graph, normalization, P.shape[0])
    parts = [np.zeros((P.shape[0], 0))] if reference is None else [reference]
    for n, (_, z, qn) in enumerate(probe_layers(P, parts, rng, probes, q, depth, op, dtype=dtype,
                                                reference=slice(0, d) if d else None)):
        acc.hutchinson(n, z, qn, per_node=False)
    return acc.result(float(sigma) ** 2, "hutchinson", probes)


def _reference_features(graph: Any, operator: str) -> np.ndarray | None:
    if operator != "pairnorm":
        return None
    if graph.features is None:
        raise ValidationError("operator='pairnorm' needs graph.features: its normalisation is set by the realised features")
    return np.asarray(graph.features, dtype=np.float64)

