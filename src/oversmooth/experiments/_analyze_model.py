"""The Gaussian noise model's side of :func:`~oversmooth.experiments.analyze_graph`.

- :func:`fitted_theory`: the fitted CSBM's predictions per depth (mean-field class means
  ``M^n mu`` or their APPNP recursion, the Catalan variance (ours), the LDA Bayes error);
- :func:`appnp_comparison`: the realised error of Gaussian class features under APPNP for
  each teleport weight, and the best one.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import theory
from .._utils import spawn_generators
from ..graphs import gaussian_class_features
from ..measures import bayes_error_lda, min_mahalanobis_distance, realised_error
from ..operators import iter_propagate
from ..tables import mean_sem
from ._analyze_result import recommend

__all__ = ["LDA_SAMPLES", "fitted_theory", "appnp_comparison"]

#: Monte Carlo draws of the K-class Bayes error in K dims (SE <= 0.0036).
LDA_SAMPLES = 20_000


def fitted_theory(fit: theory.CSBMFit, mu: np.ndarray, sigma: float, depth: int, *, operator: str = "gcn",
                  alpha: float = 0.1) -> dict[str, Any]:
    """Predictions of the fitted CSBM at depths 0..depth for Gaussian class features ``N(mu_c, sigma^2 I)``.

    Returns ``gap`` (min Mahalanobis distance of the predicted class means), ``gap_nu``
    (``gap(0) |nu|^n``, None when nu is undefined; APPNP: its recursion with nu),
    ``variance`` (Catalan, ours; APPNP: :func:`oversmooth.theory.ppr_catalan_variance`; None
    for the corrected operator, whose rows are not probability vectors) and ``bayes``.
    The corrected operator ``P - 1 pi^T`` moves every node by the same ``pi^T h``: its class
    means keep GCN's gap.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.theory import fit_csbm
    >>> from oversmooth.experiments._analyze_model import fitted_theory
    >>> th = fitted_theory(fit_csbm(sample_csbm(400, p=0.05, q=0.01, seed=0)), np.eye(2), 1.0, 3)
    >>> len(th["gap"]), bool(th["gap"][0] > th["gap"][3])
    (4, True)
    """
    ns = np.arange(depth + 1)
    k = mu.shape[0]
    cov = sigma**2 * np.eye(k)
    trans = np.asarray(fit.transition)
    means = [mu]
    for _ in range(depth):
        step = trans @ means[-1]
        means.append((1.0 - alpha) * step + alpha * mu if operator == "appnp" else step)
    gap = np.array([min_mahalanobis_distance(m, cov) for m in means])
    gap_nu = None
    if fit.lambda_eff is not None:
        gap_nu = (theory.ppr_gap(ns, fit.lambda_eff, alpha, gap[0]) if operator == "appnp"
                  else gap[0] * np.abs(fit.lambda_eff) ** ns)
        gap_nu = np.abs(np.atleast_1d(gap_nu))
    variance = None
    if operator == "gcn":
        variance = theory.catalan_variance(ns, fit.mean_degree, fit.limit_variance, sigma)
    elif operator == "appnp":
        variance = theory.ppr_catalan_variance(ns, fit.mean_degree, fit.limit_variance, alpha, sigma)
    if variance is None:
        bayes = np.full(ns.size, np.nan)
    else:  # variance carries sigma^2: the noise covariance of h_i(n) is cov * variance / sigma^2
        bayes = np.array([bayes_error_lda(m, cov * (v / sigma**2), n_samples=LDA_SAMPLES, seed=int(n))
                          for n, (m, v) in enumerate(zip(means, variance))])
    return {"gap": gap, "gap_nu": gap_nu, "variance": variance, "bayes": bayes}


def appnp_comparison(P: Any, g: Any, labels: np.ndarray, mu: np.ndarray, sigma: float, depth: int,
                     alphas: Sequence[float], draws: int, rng: np.random.Generator
                     ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Realised error of ``draws`` Gaussian feature draws under APPNP per alpha: rows, and the best row."""
    rows: list[dict[str, Any]] = []
    best = None
    k = mu.shape[0]
    for alpha, ar in zip(alphas, spawn_generators(rng, len(alphas))):
        xs = np.hstack([gaussian_class_features(g, mu, sigma, s) for s in spawn_generators(ar, draws)])
        errs = np.zeros((depth + 1, draws))
        for n, h in enumerate(iter_propagate(P, xs, depth, operator="appnp", alpha=alpha)):
            for s in range(draws):
                errs[n, s] = realised_error(h[:, k * s:k * (s + 1)], labels)
        em, es = mean_sem(errs, axis=1)
        rr = recommend(em, es)
        entry = {"alpha": alpha, "best_depth": rr["depth"], "best_realised_error": rr["error"], "se": rr["se"],
                 "realised_error_at_max_depth": float(em[-1])}
        rows.append(entry)
        if best is None or entry["best_realised_error"] < best["best_realised_error"]:
            best = entry
    return rows, (dict(best) if best is not None else None)
