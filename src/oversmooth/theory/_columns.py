"""The theory columns of a simulation row: predicted gap, variance and Bayes error per depth.

One implementation for every caller (``simulate``'s rows, the claims, the CLI and the
figures): two-block CSBM, the paper's lambda and our finite-degree rate nu beside it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._utils import check_choice, check_nonneg_int, check_positive_float, check_positive_int, check_probability
from ..errors import ValidationError
from ._depth import predicted_bayes_error
from ._rates import _expected_degree, _ppr_gap, gap, gap_finite_degree, lambda_eff
from ._variance import _expected_stationary_sq_sum, _ppr_catalan_variance, catalan_variance

__all__ = ["THEORY_COLUMNS", "THEORY_OPERATORS", "theory_columns"]

#: The keys of every row :func:`theory_columns` returns (None where a prediction does not apply).
THEORY_COLUMNS = ("theory_variance_lower", "theory_variance_upper", "theory_ppr_floor", "theory_gap",
                  "theory_gap_finite_degree", "theory_feature_variance", "theory_bayes_error",
                  "theory_bayes_error_paper", "theory_separation")
#: Operators :func:`theory_columns` knows (simulate's names).
THEORY_OPERATORS = ("gcn", "gcn-sym", "appnp", "pairnorm", "pairnorm-si", "corrected", "corrected-sym")


def _num(v: Any) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def theory_columns(
    n: int,
    p: float,
    q: float,
    depth: int,
    *,
    gap0: float,
    sigma: float = 1.0,
    operator: str = "gcn",
    alpha: float = 0.1,
    self_loops: bool = True,
    n_classes: int = 2,
) -> list[dict[str, Any]]:
    """Predicted gap, feature-noise variance and Bayes error at depths 0..depth (two blocks).

    - ``theory_gap``: the paper's ``lambda^n gap0`` (APPNP: its recursion, :func:`ppr_gap`);
    - ``theory_gap_finite_degree``: the same with the rate nu (ours, :func:`nu`), None below
      the detectability threshold;
    - ``theory_feature_variance``: the Catalan curve ``sigma^2 (sum pi^2 + C_n/d^n)`` (ours;
      APPNP: :func:`ppr_catalan_variance`), with ``theory_variance_lower/upper`` the paper's
      bounds and ``theory_ppr_floor`` APPNP's ``alpha^2 sigma^2``;
    - ``theory_bayes_error`` from nu's gap (lambda's where nu is undefined) and the Catalan
      variance, ``theory_bayes_error_paper`` from lambda's gap, ``theory_separation`` =
      ``|gap| / sqrt(variance)``.

    PairNorm, ``corrected-sym`` and K != 2 classes have no closed form here (None); the
    corrected operator keeps GCN's gap but has no variance bounds (its rows are not
    probability vectors).

    Parameters
    ----------
    n, p, q : int, float, float
        The CSBM: nodes and within / across edge probabilities.
    depth : int
        Depths 0..depth.
    gap0 : float
        The class-mean gap at depth 0.
    sigma : float
        Feature-noise standard deviation.
    operator : str
        One of :data:`THEORY_OPERATORS`.
    alpha : float
        APPNP's teleport weight (used for ``operator="appnp"``).
    self_loops : bool
    n_classes : int

    Returns
    -------
    list of dict
        One dict per depth with the keys :data:`THEORY_COLUMNS`.

    Examples
    --------
    >>> from oversmooth.theory import theory_columns
    >>> rows = theory_columns(2000, 0.0114, 0.0038, 2, gap0=2.0)
    >>> [round(r["theory_gap"], 3) for r in rows]
    [2.0, 1.0, 0.5]
    >>> round(rows[1]["theory_gap_finite_degree"], 4)
    1.2469
    """
    n = check_positive_int(n, "n", minimum=2)
    p, q = check_probability(p, "p"), check_probability(q, "q")
    depth = check_nonneg_int(depth, "depth")
    sigma = check_positive_float(sigma, "sigma", allow_zero=True)
    operator = check_choice(operator, "operator", THEORY_OPERATORS)
    alpha = check_probability(alpha, "alpha")
    n_classes = check_positive_int(n_classes, "n_classes")
    if not math.isfinite(float(gap0)):
        raise ValidationError(f"gap0 must be finite, got {gap0}")
    depths = np.arange(depth + 1)
    # validated once above; the formulas below are the unchecked cores of the public functions
    lower, upper = sigma**2 / n, sigma**2
    corrected = operator.startswith("corrected")  # rows of M_n are not probability vectors: no bounds
    base: dict[str, Any] = {
        "theory_variance_lower": None if corrected else lower,
        "theory_variance_upper": None if corrected else upper,
        "theory_ppr_floor": alpha**2 * sigma**2 if operator == "appnp" else None,
    }
    empty = {k: None for k in THEORY_COLUMNS[3:]}
    if n_classes != 2 or operator.startswith("pairnorm") or operator == "corrected-sym" or p + q == 0:
        # PairNorm's gap and variance carry the realisation's scale; corrected-sym removes a node-dependent
        # component (sqrt(pi_i) sqrt(pi)^T h): no closed form here.
        return [{**base, **empty} for _ in depths]
    lam_ = (p - q) / (p + q)
    degree = _expected_degree(n, p, q, self_loops)
    if not degree * degree > 0:  # p, q ~ 1e-308 without self-loops: the degree's square underflows, no degree theory
        return [{**base, **empty, "theory_gap": float(v)} for v in np.atleast_1d(gap(depths, lam_, gap0))]
    nu_rate = lambda_eff(lam_, degree, self_loops)
    pi2 = _expected_stationary_sq_sum(n, p, q, self_loops)
    if operator == "appnp":
        g = _ppr_gap(depths, lam_, alpha, gap0)
        g_fd = _ppr_gap(depths, nu_rate, alpha, gap0) if math.isfinite(nu_rate) else np.full(depths.size, np.nan)
        var = _ppr_catalan_variance(depths, degree, pi2, alpha, sigma, self_loops)
    else:
        g = np.atleast_1d(gap(depths, lam_, gap0))
        g_fd = np.atleast_1d(gap_finite_degree(depths, lam_, degree, gap0, self_loops))
        var = catalan_variance(depths, degree, pi2, sigma)
    g, g_fd = np.atleast_1d(g), np.atleast_1d(g_fd)
    if corrected:
        # the mean gap is GCN's (1 pi^T h shifts every node alike); the variance is not the Catalan curve
        return [{**base, **empty, "theory_gap": float(g[i]), "theory_gap_finite_degree": _num(g_fd[i])}
                for i in depths]
    bayes_paper = np.atleast_1d(predicted_bayes_error(g, var))
    g_best = g_fd if math.isfinite(nu_rate) else g
    bayes = np.atleast_1d(predicted_bayes_error(g_best, var))
    sep = np.abs(g_best) / np.sqrt(var)
    return [{**base, "theory_gap": float(g[i]), "theory_gap_finite_degree": _num(g_fd[i]),
             "theory_feature_variance": float(var[i]), "theory_bayes_error": float(bayes[i]),
             "theory_bayes_error_paper": float(bayes_paper[i]), "theory_separation": float(sep[i])}
            for i in depths]
