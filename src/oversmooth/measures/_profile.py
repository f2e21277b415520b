"""Feature-noise variance (exact or Hutchinson) and the per-depth profile of a graph.

:func:`depth_profile` propagates a graph's features and measures every realised layer with the
measures of :func:`oversmooth.measures.profile_embeddings` (class separation, spreads, Dirichlet
energies, MAD, and any other metric asked for). Only the paper's quantities that need a known
noise model (the class means ``M_n mu``, the feature-noise variance and the Gaussian-view Bayes
error) use the explicit ``(mu, sigma)`` passed in; nothing is read from the graph's metadata.

The paper's variance at depth n is ``Var_x(h_i(n)) = sigma^2 ||row i of M_n||^2``
(``M_n = P^n`` for GCN, the PPR polynomial for APPNP), averaged over the nodes of a
class. It is computed

* **exactly** from dense rows of ``M_n`` (propagating identity columns in chunks of at
  most 8 million entries) when ``N <= EXACT_MAX_NODES`` (5000): cost
  O(depth * nnz(P) * N);
* by **Hutchinson** otherwise: with Rademacher probes ``z``,
  ``E[(M_n z)_i^2] = ||row i of M_n||^2``. The stationary direction ``q`` (``pi / ||pi||``
  for ``D^-1 A``, ``sqrt(pi)`` for the symmetric form) is computed exactly, since its share of
  the variance is what saturates: the probes are deflated, ``z' = z - q (q^T z)``, and
  ``(M_n q)_i^2 + mean over probes of (M_n z')_i^2`` is unbiased (``E[z' z'^T] = I - q q^T``;
  Hutch++ with one known direction; depth 0, ``M_0 = I``, is exact). The class average's standard error is the spread of
  the probe part across the k probes; without the deflation the saturated direction made
  every probe's value ~ ``sum pi_j^2 chi^2_1``, a skewed estimate whose SE correlated with it.

Precision: ``dtype="float32"`` propagates the Hutchinson probes in float32 (half the memory
traffic of the dominant block) while the features, class-mean signal and stationary direction stay
float64 and every sum is taken in float64; the probes' rounding error is bounded in
:func:`oversmooth.operators.iter_propagate` and is far below the Hutchinson standard error (tested). Work and memory are estimated before allocating and refused
beyond the budget (:class:`~oversmooth.errors.ResourceLimitError`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._utils import SeedLike, check_finite_array, check_nonneg_int, check_positive_int, spawn_generators
from ..errors import ValidationError
from ..operators import check_dtype, normalize_adjacency
from ._embeddings import _GRAPH_METRICS, SHRINKAGE_RATIO, _LayerMeter, _progress, _resolve_metrics
from ._stats import bayes_error, bayes_error_lda, class_indicator, min_mahalanobis_distance, realised_error
from ._variance import (  # noqa: F401  (_exact_row_norms, _resolve_method: kept importable here)
    EXACT_MAX_NODES,
    VarianceEstimate,
    _deflation_direction,
    _exact_row_norms,
    _operator_kwargs,
    _ProbeAccumulator,
    _resolve_method,
    check_memory,
    feature_noise_variance,
    probe_layers,
)

_EXACT_CHUNK = 8_000_000  # entries of the exact path's identity chunks (as in _variance)

__all__ = ["EXACT_MAX_NODES", "VarianceEstimate", "feature_noise_variance", "depth_profile",
           "DEPTH_PROFILE_METRICS"]

#: The measures of :func:`profile_embeddings` that :func:`depth_profile` computes by default (the cheap
#: ones: O(N d^2 + d^3 + E d) per depth). MADGap, the group distance ratio, the effective rank and the
#: probe are opt-in through ``metrics=`` (the probe is added by default without a noise model).
DEPTH_PROFILE_METRICS = ("separation", "within_class_spread", "between_class_spread", "dirichlet_energy",
                         "normalized_dirichlet_energy", "rayleigh_quotient", "mad")


def _noise_covariance(sigma: Any, d: int) -> np.ndarray:
    s = check_finite_array(sigma, "sigma", ndim=(0, 2))
    if s.ndim == 0:
        return float(s) ** 2 * np.eye(d)
    if s.shape != (d, d):
        raise ValidationError(f"sigma must be a scalar or a {d} x {d} covariance, got shape {s.shape}")
    return s


class _NoiseModel:
    """The explicit Gaussian noise model ``x_i ~ N(mu_{c_i}, cov)``: gaps and Bayes errors of class means.

    The precision (and, for the Monte Carlo LDA error when d > 2K, the whitening onto the span of
    the whitened class means) is computed once: O(d^3), not per depth.
    """

    def __init__(self, mu: Any, sigma: Any, k: int, d: int, labels: np.ndarray):
        mu_arr = check_finite_array(mu, "mu", ndim=(1, 2))
        mu_arr = mu_arr[:, None] if mu_arr.ndim == 1 else mu_arr
        if mu_arr.shape != (k, d):
            raise ValidationError(f"mu must have shape ({k}, {d}) (classes x feature dims), got {mu_arr.shape}")
        self.k, self.d = k, d
        self.mu = mu_arr
        self.cov = _noise_covariance(sigma, d)
        self.sigma2 = float(np.trace(self.cov)) / d
        self.prec = np.linalg.pinv(self.cov) if d > 1 or k > 2 else None
        self.signal = np.where((labels >= 0)[:, None], mu_arr[np.clip(labels, 0, None)], mu_arr.mean(axis=0))
        self.whiten: np.ndarray | None = None
        if k > 2 and d > 2 * k:
            w, v = np.linalg.eigh(self.cov)
            keep = w > w.max() * d * np.finfo(float).eps
            self.whiten = v[:, keep] / np.sqrt(w[keep])

    def gap(self, means: np.ndarray) -> float:
        k, d = self.k, self.d
        if k == 2 and d == 1:
            return float(means[1, 0] - means[0, 0])
        if k < 2:
            return 0.0
        return min_mahalanobis_distance(means, precision=self.prec)

    def mixture_error(self, node_means: np.ndarray, row_norms_sq: np.ndarray, labels: np.ndarray, rng: Any) -> Any:
        """Gaussian-mixture Bayes error: node i ~ N((M_n mu)_i, cov ||row i of M_n||^2), whitened first."""
        from ._mixture import mixture_bayes_error

        var = np.clip(row_norms_sq, np.finfo(float).tiny, None)
        if self.d == 1:
            return mixture_bayes_error(node_means[:, 0], self.sigma2 * var, labels, priors="equal", seed=rng)
        w, v = np.linalg.eigh(self.cov)
        keep = w > w.max() * self.d * np.finfo(float).eps
        return mixture_bayes_error(node_means @ (v[:, keep] / np.sqrt(w[keep])), var, labels, priors="equal",
                                   seed=rng)

    def bayes_error(self, means: np.ndarray, gap: float, var: float, n_samples: int, rng: Any) -> float:
        """Bayes error of the class means with noise covariance ``cov * var / sigma^2``."""
        if self.k == 2 and self.d == 1:
            return float(bayes_error(gap, np.sqrt(var)))
        scale = var / self.sigma2
        if self.whiten is None:
            return bayes_error_lda(means, self.cov * scale, n_samples=n_samples, seed=rng)
        # Exact reduction: the LDA rule depends only on the whitened point's projection on the span
        # of the whitened means (K - 1 dims), where the noise is N(0, scale I).
        mw = means @ self.whiten
        q, _ = np.linalg.qr((mw[1:] - mw[0]).T)
        return bayes_error_lda(mw @ q, scale * np.eye(q.shape[1]), n_samples=n_samples, seed=rng)


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
    metrics: Any = None,
    train_mask: Any = None,
    test_mask: Any = None,
    progress: Any = False,
    mixture: bool = False,
    dtype: Any = "float64",
    backend: str = "numpy",
) -> list[dict[str, Any]]:
    """Propagate a graph's features and measure every depth 0..``depth``: one row per depth.

    Propagation produces the layers h(n) = M_n x (one sparse matmul per layer, the block
    ``[x | mu_{c_i} | z]`` propagated together); the measures of
    :func:`~oversmooth.measures.profile_embeddings` are taken on each realised layer. Only the
    quantities that need a known noise model come from the explicit ``(mu, sigma)``: the class
    means of the conditional means ``M_n mu`` (``gap``, ``class_means``, ``structural_variance``),
    the paper's feature-noise variance ``sigma^2 ||row i of M_n||^2`` and the Gaussian-view
    Bayes error. Without a noise model those columns are None and the held-out probe
    (``probe_accuracy``) is measured instead.

    Parameters
    ----------
    graph : Graph
        Labelled, with ``features`` (N x d).
    depth : int
    operator, normalization, alpha, pairnorm_scale, pairnorm_mode
        See :func:`oversmooth.operators.iter_propagate`.
    mu : array (K,) or (K, d), optional
        Class means of the input features' noise model (pass with ``sigma``). Unlabelled nodes get
        the average of the class means. Never read from ``graph.metadata``: for a CSBM pass
        ``mu=g.metadata["mu"], sigma=g.metadata["sigma"]``.
    sigma : float or array (d, d), optional
        Feature noise std (or covariance) of the noise model (pass with ``mu``).
    variance : {"auto", "exact", "hutchinson"}
    probes : int
    seed : int, Generator or None
        For the Hutchinson probes, the Monte Carlo LDA error (K > 2, d > 1), the probe's split and
        the sampled measures.
    lda_samples : int
        Monte Carlo draws of the LDA Bayes error when K > 2 and d > 1 (standard error below
        ``sqrt(0.25 / lda_samples)``). When d > 2K the draws are taken in the (K - 1)-dimensional
        span of the whitened class means, which is exact (the LDA rule only sees that span).
    smoothness : bool
        ``False`` drops the graph measures (Dirichlet energies, Rayleigh quotient, MAD, MADGap):
        their columns are None.
    metrics : sequence of str, optional
        Measures of :data:`~oversmooth.measures.PROFILE_METRICS` per depth; default
        :data:`DEPTH_PROFILE_METRICS` (the cheap ones), plus ``probe_accuracy`` without a noise
        model or when d is not << N.
    train_mask, test_mask : optional
        The probe's split (see :func:`~oversmooth.measures.probe_accuracy`).
    progress : bool, text stream or None
        Progress bar over the depths (default off).
    mixture : bool
        Also the exact Bayes error of the Gaussian-mixture view (Dalle et al.; needs the noise
        model): given the graph, node i is ``N((M_n mu)_i, sigma^2 ||row i of M_n||^2)`` and each
        class a mixture over its nodes (:func:`oversmooth.measures.mixture_bayes_error`:
        quadrature in 1-D, Monte Carlo otherwise, after whitening by the noise covariance).
        Columns ``mixture_bayes_error`` and ``mixture_bayes_error_bound`` (its stated
        uncertainty). With Hutchinson the per-node variances are the probe averages (unbiased,
        noisy per node). Costs O(N * 8193) per depth in 1-D: off by default.
    dtype : {"float64", "float32"}
        Precision of the propagated Hutchinson probes. float64 (the default) gives the same numbers
        as before. float32 propagates only the probe columns ``z`` in float32 (the block that
        dominates the cost: 32 of 35 columns) and keeps ``[x | mu_{c_i} | q]`` in float64, so every
        measure of the layers, the gap and the stationary share are exactly the float64 path's;
        only the probe part of the feature-noise variance carries float32 rounding, bounded in
        :func:`oversmooth.operators.iter_propagate` (relative order ``depth * sqrt(k) * 2**-24`` per
        probe value, about 1e-5 at depth 32 with k ~ 20 nonzeros per row), far below the reported
        standard error (the spread across probes; tested within 1e-3 SE). Sums are float64. The
        exact variance path and PairNorm stay float64 whatever ``dtype``.
    backend : {"numpy", "torch"}
        The propagation kernel (see :func:`oversmooth.operators.iter_propagate`).

    Returns
    -------
    list of dict
        Keys: ``depth, gap, realised_gap, class_means, feature_variance, feature_variance_se,
        feature_variance_per_class, cross_sectional_variance, structural_variance, bayes_error,
        realised_error, dirichlet_energy, mad, variance_method, probes, notes`` and the profile
        columns of the selected metrics (``realised_separation`` and
        ``realised_separation_shrinkage`` are profile_embeddings' ``separation`` columns, measured on
        h(n)). ``gap`` is ``mu_2(n) - mu_1(n)`` for two classes in 1-D, otherwise the smallest
        pairwise Mahalanobis distance between class means under the noise covariance;
        ``realised_gap`` the same for the realised class means. Spreads are pooled over labelled
        nodes. ``realised_error`` (in-sample LDA) is None when d is not << N (10 d > N - K: it
        would overfit) or without a noise model.

    Examples
    --------
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.measures import depth_profile
    >>> g = sample_csbm(400, p=0.05, q=0.01, seed=0)
    >>> rows = depth_profile(g, 2, mu=[-1.0, 1.0], sigma=1.0)
    >>> round(rows[0]["gap"], 12), round(rows[0]["bayes_error"], 4)
    (2.0, 0.1587)
    >>> depth_profile(g, 2)[2]["bayes_error"] is None  # no noise model: the probe instead
    True
    """
    depth = check_nonneg_int(depth, "depth")
    if graph.features is None:
        raise ValidationError("graph has no features; sample them (e.g. sample_csbm) or set graph.features")
    x = np.ascontiguousarray(np.asarray(graph.features, dtype=np.float64))
    x = x[:, None] if x.ndim == 1 else x
    n_nodes, d = x.shape
    labels = np.asarray(graph.labels)
    if not np.any(labels >= 0):
        raise ValidationError("graph has no labelled node; depth_profile needs class labels")
    k = int(labels.max()) + 1
    if (mu is None) != (sigma is None):
        missing = "sigma" if sigma is None else "mu"
        raise ValidationError(f"pass {missing} too: the noise model is (mu, sigma), both or neither "
                         "(nothing is read from graph.metadata)")
    noise = _NoiseModel(mu, sigma, k, d, labels) if mu is not None else None
    counts = np.bincount(labels[labels >= 0], minlength=k).astype(float)
    small_d = SHRINKAGE_RATIO * d <= counts.sum() - np.count_nonzero(counts)
    if metrics is None:
        chosen = list(DEPTH_PROFILE_METRICS)
        if noise is None or not small_d:
            chosen.append("probe_accuracy")
    else:
        chosen = list(_resolve_metrics(metrics))
    if not smoothness:
        chosen = [m for m in chosen if m not in _GRAPH_METRICS]
    chosen = list(_resolve_metrics(chosen))

    dtype = check_dtype(dtype)
    method = _resolve_method(variance, n_nodes, exact_max_nodes, "variance") if noise is not None else None
    n_probes = check_positive_int(probes, "probes") if method == "hutchinson" else 0
    nnz = int(getattr(graph.adjacency, "nnz", 0)) + n_nodes
    main_cols = d * (2 if noise is not None else 1) + (1 if n_probes else 0)
    # float32 propagates only the probes in float32 (the rest stays float64): columns in units of dtype
    columns = main_cols * (8 // dtype.itemsize) + n_probes
    exact_cols = min(n_nodes, max(1, _EXACT_CHUNK // max(n_nodes, 1))) if method == "exact" else 0
    check_memory(n_nodes, nnz, columns, "depth_profile: graph", "pass dtype='float32', fewer probes, or "
                 "smoothness=False", dtype=dtype, smoothness=smoothness, exact_columns=exact_cols)
    P = normalize_adjacency(graph, normalization, zero_degree=zero_degree)
    op = _operator_kwargs(operator, alpha, pairnorm_scale, pairnorm_mode, graph, normalization)
    rng_probes, rng_mc, rng_meter, rng_mixture = spawn_generators(seed, 4)
    if mixture and noise is None:
        raise ValidationError("mixture=True needs the noise model: pass mu and sigma")
    node_var = np.zeros((depth + 1, n_nodes)) if mixture else None
    node_means: list[np.ndarray] = []
    meter = _LayerMeter(n_nodes, labels, graph, metrics=chosen, train_mask=train_mask, test_mask=test_mask,
                        seed=rng_meter)
    acc = _ProbeAccumulator(labels, depth, k)
    parts = [x]
    if noise is not None:
        parts.append(noise.signal)
    q = _deflation_direction(graph, normalization, n_nodes) if method == "hutchinson" else None
    layers = probe_layers(P, parts, rng_probes if method == "hutchinson" else None, n_probes, q, depth, op,
                          dtype=dtype, reference=slice(0, d), affine=slice(d, 2 * d) if noise is not None else None,
                          backend=backend)
    del parts
    ind = class_indicator(labels, k)
    weights = counts / counts.sum()
    bar = _progress(progress, depth + 1, 0)
    rows: list[dict[str, Any]] = []
    for n, (h, hz, hq) in enumerate(layers):
        bar.update(f"depth {n}")
        hx = np.ascontiguousarray(h[:, :d], dtype=np.float64)
        if method == "hutchinson":
            per_node = acc.hutchinson(n, hz, hq, per_node=node_var is not None)
            if node_var is not None:
                node_var[n] = per_node
        if mixture:
            node_means.append(np.array(h[:, d:2 * d], dtype=np.float64))
        realised_means = np.asarray(ind @ hx)
        sq_x = np.asarray(ind @ (hx * hx))
        cross = np.clip(sq_x - realised_means**2, 0, None).mean(axis=1)
        prof = meter.measure(n, hx)
        row: dict[str, Any] = {"depth": n, "gap": None, "realised_gap": None, "class_means": None,
                               "cross_sectional_variance": float(weights @ cross), "structural_variance": None,
                               "realised_error": None}
        notes = [prof.pop("notes")] if prof.get("notes") else []
        if noise is not None:
            hm = np.asarray(h[:, d:2 * d], dtype=np.float64)
            means = np.asarray(ind @ hm)
            sq_m = np.asarray(ind @ (hm * hm))
            struct = np.clip(sq_m - means**2, 0, None).mean(axis=1)
            row.update({
                "gap": noise.gap(means),
                "realised_gap": noise.gap(realised_means),
                "class_means": means.ravel().tolist() if d == 1 else means.tolist(),
                "structural_variance": float(weights @ struct),
                "_means": means,
            })
            if small_d:
                row["realised_error"] = realised_error(hx, labels)
            else:
                notes.append(f"realised_error: in-sample LDA skipped, d = {d} is not << N (it would overfit); "
                             "see probe_accuracy")
        else:
            notes.append("no noise model (mu, sigma): gap, feature-noise variance and Bayes error not defined; "
                         "probe_accuracy measures the layer instead")
        row["dirichlet_energy"] = prof.pop("dirichlet_energy", None)
        row["mad"] = prof.pop("mad", None)
        for key in ("layer", "n_nodes", "dim"):
            prof.pop(key)
        for key, value in prof.items():
            row["realised_" + key if key.startswith("separation") else key] = value
        row["notes"] = "; ".join(notes)
        rows.append(row)
        bar.update(f"depth {n}", advance=1)
    bar.close()
    if method == "exact":
        ref = x if operator == "pairnorm" else None
        norms = _exact_row_norms(P, depth, op, ref)
        for n in range(depth + 1):
            acc.exact_rows(n, norms[n])
        if node_var is not None:
            node_var[:] = norms
    est = acc.result(noise.sigma2, method, n_probes) if noise is not None else None
    for n, row in enumerate(rows):
        row.update({"feature_variance": None, "feature_variance_se": None, "feature_variance_per_class": None,
                    "bayes_error": None, "variance_method": method, "probes": n_probes})
        if noise is None or est is None:
            continue
        means = row.pop("_means")
        var = float(est.pooled[n])
        row["feature_variance"] = var
        row["feature_variance_se"] = float(est.se_pooled[n])
        row["feature_variance_per_class"] = est.per_class[n].tolist()
        row["bayes_error"] = noise.bayes_error(means, row["gap"], var, lda_samples, rng_mc)
        if mixture:
            res = noise.mixture_error(node_means[n], node_var[n], labels, rng_mixture)
            row["mixture_bayes_error"], row["mixture_bayes_error_bound"] = res.error, res.uncertainty
    return rows
