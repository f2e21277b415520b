"""Theory to compare measurements against (Wu et al., ICLR 2023, and our derivations).

Formulas marked *ours* are not in the paper; they were derived for this package and
checked numerically (see ``SCIENCE.md`` and the tests):

* the finite-degree mixing rate ``nu = [(c - 1) lambda + 1/lambda + s] / (c + s)`` (ours), the
  outlier eigenvalue of ``D^-1 (A + s I)`` in the class-difference direction, for both signs of
  lambda (:func:`nu`; :func:`lambda_eff` is the same rate written with ``d = c + s``). It
  replaces an earlier ``lambda + 1/(d lambda)``, which agrees with it only at lambda = 1/2 with
  self-loops and is off by up to 0.23 elsewhere;
* the Catalan refinement of the variance ``sum_j pi_j^2 + C_n / d^n`` (ours);
* its APPNP generalisation over pairs of walk lengths (ours);
* the spectral sandwich ``(d_min/d_max) m_2n <= mean_i ||row i of P^n||^2 <= (d_max/d_min) m_2n`` (ours).

Modules: :mod:`._rates` (lambda, nu, the APPNP recursion), :mod:`._variance` (bounds, floor,
Catalan curves, the sandwich), :mod:`._depth` (predicted Bayes error, best depth, depth
scales), :mod:`._columns` (:func:`theory_columns`, the per-depth predictions every table
carries), :mod:`._fit` (:func:`fit_csbm`: a CSBM read off a labelled graph).

Names used throughout: ``lam`` = the paper's ``lambda = (p - q)/(p + q)``; ``degree`` = the
expected degree with the self-loop counted, ``c`` = expected neighbours; ``sigma`` = the
feature-noise standard deviation. The old keywords ``lam_=`` and ``d=`` still work for one
release with a :class:`DeprecationWarning`.

Examples
--------
>>> from oversmooth import theory
>>> lam = theory.lam(0.0114, 0.0038)
>>> round(lam, 3), round(theory.gap(3, lam, 2.0), 4)
(0.5, 0.25)
"""

from __future__ import annotations

from ._columns import THEORY_COLUMNS, THEORY_OPERATORS, theory_columns
from ._depth import depth_scale_logd, depth_scale_loglog, optimal_depth, predicted_bayes_error
from ._fit import CSBMFit, fit_csbm, prepare_graph
from ._rates import csbm_pq, expected_degree, gap, gap_finite_degree, lam, lambda_eff, nu, ppr_fixed_point, ppr_gap
from ._variance import (
    catalan,
    catalan_variance,
    expected_stationary_sq_sum,
    ppr_catalan_variance,
    ppr_variance_floor,
    spectral_sandwich,
    stationary_sq_sum,
    variance_bounds,
)

__all__ = [
    "lam",
    "csbm_pq",
    "expected_degree",
    "gap",
    "nu",
    "lambda_eff",
    "gap_finite_degree",
    "ppr_gap",
    "ppr_fixed_point",
    "variance_bounds",
    "ppr_variance_floor",
    "catalan",
    "stationary_sq_sum",
    "expected_stationary_sq_sum",
    "catalan_variance",
    "ppr_catalan_variance",
    "spectral_sandwich",
    "predicted_bayes_error",
    "optimal_depth",
    "depth_scale_loglog",
    "depth_scale_logd",
    "THEORY_COLUMNS",
    "THEORY_OPERATORS",
    "theory_columns",
    "CSBMFit",
    "fit_csbm",
    "prepare_graph",
]
