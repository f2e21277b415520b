"""Feature-noise variance (exact or Hutchinson) and the per-depth profile of a graph.

The paper's variance at depth n is ``Var_x(h_i(n)) = sigma^2 ||row i of M_n||^2``
(``M_n = P^n`` for GCN, the PPR polynomial for APPNP), averaged over the nodes of a
class. It is computed

* **exactly** from dense rows of ``M_n`` (propagating identity columns in chunks of at
  most 8 million entries) when ``N <= EXACT_MAX_NODES`` (5000): cost
  O(depth * nnz(P) * N);
* by **Hutchinson** otherwise: with Rademacher probes ``z``,
  ``E[(M_n z)_i^2] = ||row i of M_n||^2``; the class average over k probes has a
  standard error estimated from the spread of the k per-probe averages
  (about ``sqrt(2 / (k N_c))`` in relative terms once rows are spread out).
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
from ..operators import iter_propagate, normalize_adjacency
from ._stats import (
    bayes_error,
    bayes_error_lda,
    class_indicator,
    class_means,
    dirichlet_energy,
    edge_arrays,
    mad,
    mahalanobis_distances,
    realised_error,
)

__all__ = ["EXACT_MAX_NODES", "VarianceEstimate", "feature_noise_variance", "depth_profile"]

EXACT_MAX_NODES = 5000
_CHUNK_ENTRIES = 8_000_000
VARIANCE_METHODS = ("auto", "exact", "hutchinson")


@dataclass(frozen=True)
class VarianceEstimate:
    """Feature-noise variance per depth (rows) and class (columns), times ``sigma^2``.

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


def _resolve_method(method: str, n: int, exact_max_nodes: int) -> str:
    method = check_choice(method, "variance method", VARIANCE_METHODS)
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
        mask = labels >= 0
        self.pool_w = np.where(mask, 1.0 / mask.sum(), 0.0)
        self.per_class = np.zeros((depth + 1, n_classes))
        self.se_per_class = np.zeros((depth + 1, n_classes))
        self.pooled = np.zeros(depth + 1)
        self.se_pooled = np.zeros(depth + 1)

    def hutchinson(self, n: int, z: np.ndarray) -> None:
        sq = z * z
        per_probe = np.asarray(self.ind @ sq)  # (K, k)
        pooled = self.pool_w @ sq  # (k,)
        k = sq.shape[1]
        self.per_class[n] = per_probe.mean(axis=1)
        self.pooled[n] = pooled.mean()
        if k > 1:
            self.se_per_class[n] = per_probe.std(axis=1, ddof=1) / np.sqrt(k)
            self.se_pooled[n] = pooled.std(ddof=1) / np.sqrt(k)
        else:
            self.se_per_class[n] = np.nan
            self.se_pooled[n] = np.nan

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


def _operator_kwargs(operator: str, alpha: float, pairnorm_scale: float, pairnorm_mode: str) -> dict[str, Any]:
    return {"operator": operator, "alpha": alpha, "pairnorm_scale": pairnorm_scale, "pairnorm_mode": pairnorm_mode}


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
        raise ValueError("graph has no labelled node; the class-averaged variance needs labels")
    P = normalize_adjacency(graph, normalization, zero_degree=zero_degree)
    op = _operator_kwargs(operator, alpha, pairnorm_scale, pairnorm_mode)
    reference = _reference_features(graph, operator)
    method = _resolve_method(method, P.shape[0], exact_max_nodes)
    acc = _ProbeAccumulator(labels, depth, int(labels.max()) + 1)
    if method == "exact":
        norms = _exact_row_norms(P, depth, op, reference)
        for n in range(depth + 1):
            acc.exact_rows(n, norms[n])
        return acc.result(float(sigma) ** 2, "exact", 0)
    probes = check_positive_int(probes, "probes")
    (rng,) = spawn_generators(seed, 1)
    z = _rademacher(rng, P.shape[0], probes)
    d = 0 if reference is None else reference.shape[1]
    block = z if reference is None else np.hstack([reference, z])
    for n, h in enumerate(iter_propagate(P, block, depth, reference=slice(0, d) if d else None, **op)):
        acc.hutchinson(n, h[:, d:])
    return acc.result(float(sigma) ** 2, "hutchinson", probes)


def _reference_features(graph: Any, operator: str) -> np.ndarray | None:
    if operator != "pairnorm":
        return None
    if graph.features is None:
        raise ValueError("operator='pairnorm' needs graph.features: its normalisation is set by the realised features")
    return np.asarray(graph.features, dtype=np.float64)


def _noise_covariance(sigma: Any, d: int) -> np.ndarray:
    s = check_finite_array(sigma, "sigma", ndim=(0, 2))
    if s.ndim == 0:
        return float(s) ** 2 * np.eye(d)
    if s.shape != (d, d):
        raise ValueError(f"sigma must be a scalar or a {d} x {d} covariance, got shape {s.shape}")
    return s


def depth_profile(
    graph: Any,
    depth: int,
    *,
    operator: str = "gcn",
    normalization: str = "rw",
    alpha: float = 0.1,
    pairnorm_scale: float = 1.0,
    pairnorm_mode: str = "PN",
    mu: Any = None,
    sigma: Any = None,
    variance: str = "auto",
    probes: int = 32,
    zero_degree: str = "raise",
    exact_max_nodes: int = EXACT_MAX_NODES,
    seed: SeedLike = None,
    lda_samples: int = 200_000,
    smoothness: bool = True,
) -> list[dict[str, Any]]:
    """Measure mixing and denoising at every depth 0..``depth``: one row per depth.

    Propagates, in one sparse matmul per layer, the block ``[x | mu_{c_i} | z]``: the
    realised features ``x`` (realised errors, spreads, Dirichlet energy, MAD), the
    conditional-mean signal (the paper's class means ``mu_c(n)`` and the structural
    spread) and, for Hutchinson, the probes (the feature-noise variance).

    Parameters
    ----------
    graph : Graph
        Labelled, with ``features`` (N x d).
    depth : int
    operator, normalization, alpha, pairnorm_scale, pairnorm_mode
        See :func:`oversmooth.operators.iter_propagate`.
    mu : array (K,) or (K, d), optional
        Class means of the input features; default ``graph.metadata["mu"]`` (a CSBM).
        Unlabelled nodes get the average of the class means.
    sigma : float or array (d, d), optional
        Feature noise std (or covariance); default ``graph.metadata["sigma"]``.
    variance : {"auto", "exact", "hutchinson"}
    probes : int
    seed : int, Generator or None
        For the Hutchinson probes (and the Monte Carlo LDA error when K > 2, d > 1).
    lda_samples : int
        Monte Carlo draws of the LDA Bayes error when K > 2 and d > 1 (standard error
        below ``sqrt(0.25 / lda_samples)``).
    smoothness : bool
        Compute the Dirichlet energy and MAD (two passes over the edges per depth);
        ``False`` leaves them ``None`` (faster on very large graphs).

    Returns
    -------
    list of dict
        Keys: ``depth, gap, realised_gap, class_means, feature_variance,
        feature_variance_se, feature_variance_per_class, cross_sectional_variance,
        structural_variance, bayes_error, realised_error, dirichlet_energy, mad,
        variance_method, probes``. ``gap`` is ``mu_2(n) - mu_1(n)`` for two classes
        in 1-D, otherwise the smallest pairwise Mahalanobis distance between class
        means under the input covariance. Spreads are pooled over labelled nodes.

    Examples
    --------
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.measures import depth_profile
    >>> g = sample_csbm(400, p=0.05, q=0.01, seed=0)
    >>> rows = depth_profile(g, 2)
    >>> round(rows[0]["gap"], 12), round(rows[0]["bayes_error"], 4)
    (2.0, 0.1587)
    """
    depth = check_nonneg_int(depth, "depth")
    if graph.features is None:
        raise ValueError("graph has no features; sample them (e.g. sample_csbm) or set graph.features")
    x = np.asarray(graph.features, dtype=np.float64)
    n_nodes, d = x.shape
    labels = np.asarray(graph.labels)
    if not np.any(labels >= 0):
        raise ValueError("graph has no labelled node; depth_profile needs class labels")
    k = int(labels.max()) + 1
    meta = getattr(graph, "metadata", {}) or {}
    if mu is None:
        if "mu" not in meta:
            raise ValueError("pass mu (class means of the input features): the graph does not record them")
        mu = meta["mu"]
    if sigma is None:
        if "sigma" not in meta:
            raise ValueError("pass sigma (feature noise std or covariance): the graph does not record it")
        sigma = meta["sigma"]
    mu_arr = check_finite_array(mu, "mu", ndim=(1, 2))
    mu_arr = mu_arr[:, None] if mu_arr.ndim == 1 else mu_arr
    if mu_arr.shape != (k, d):
        raise ValueError(f"mu must have shape ({k}, {d}) (classes x feature dims), got {mu_arr.shape}")
    cov = _noise_covariance(sigma, d)
    sigma2 = float(np.trace(cov)) / d
    signal = np.where((labels >= 0)[:, None], mu_arr[np.clip(labels, 0, None)], mu_arr.mean(axis=0))

    P = normalize_adjacency(graph, normalization, zero_degree=zero_degree)
    op = _operator_kwargs(operator, alpha, pairnorm_scale, pairnorm_mode)
    method = _resolve_method(variance, n_nodes, exact_max_nodes)
    rng_probes, rng_mc = spawn_generators(seed, 2)
    acc = _ProbeAccumulator(labels, depth, k)
    n_probes = check_positive_int(probes, "probes") if method == "hutchinson" else 0
    parts = [x, signal]
    if method == "hutchinson":
        parts.append(_rademacher(rng_probes, n_nodes, n_probes))
    block = np.hstack(parts)
    ind = class_indicator(labels, k)
    counts = np.bincount(labels[labels >= 0], minlength=k).astype(float)
    weights = counts / counts.sum()
    edges = edge_arrays(graph.adjacency) if smoothness else None
    rows: list[dict[str, Any]] = []
    for n, h in enumerate(iter_propagate(P, block, depth, reference=slice(0, d), affine=slice(d, 2 * d), **op)):
        hx, hm = h[:, :d], h[:, d:2 * d]
        if method == "hutchinson":
            acc.hutchinson(n, h[:, 2 * d:])
        means = np.asarray(ind @ hm)
        realised_means = np.asarray(ind @ hx)
        sq_x = np.asarray(ind @ (hx * hx))
        sq_m = np.asarray(ind @ (hm * hm))
        cross = np.clip(sq_x - realised_means**2, 0, None).mean(axis=1)
        struct = np.clip(sq_m - means**2, 0, None).mean(axis=1)
        rows.append({
            "depth": n,
            "gap": _gap(means, cov, k, d),
            "realised_gap": _gap(realised_means, cov, k, d),
            "class_means": means.ravel().tolist() if d == 1 else means.tolist(),
            "cross_sectional_variance": float(weights @ cross),
            "structural_variance": float(weights @ struct),
            "realised_error": realised_error(hx, labels),
            "dirichlet_energy": dirichlet_energy(hx, edges=edges) if smoothness else None,
            "mad": mad(hx, edges=edges) if smoothness else None,
            "_means": means,
        })
    if method == "exact":
        ref = x if operator == "pairnorm" else None
        norms = _exact_row_norms(P, depth, op, ref)
        for n in range(depth + 1):
            acc.exact_rows(n, norms[n])
    est = acc.result(sigma2, method, n_probes)
    for n, row in enumerate(rows):
        means = row.pop("_means")
        var = float(est.pooled[n])
        row["feature_variance"] = var
        row["feature_variance_se"] = float(est.se_pooled[n])
        row["feature_variance_per_class"] = est.per_class[n].tolist()
        if k == 2 and d == 1:
            row["bayes_error"] = float(bayes_error(row["gap"], np.sqrt(var)))
        else:
            row["bayes_error"] = bayes_error_lda(means, cov * (var / sigma2), n_samples=lda_samples,
                                                 seed=rng_mc)
        row["variance_method"] = method
        row["probes"] = n_probes
    return rows


def _gap(means: np.ndarray, cov: np.ndarray, k: int, d: int) -> float:
    if k == 2 and d == 1:
        return float(means[1, 0] - means[0, 0])
    dist = mahalanobis_distances(means, cov)
    return float(dist[~np.eye(k, dtype=bool)].min()) if k > 1 else 0.0
