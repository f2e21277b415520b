"""The explorer's theory curves in Python: the same formulas its JavaScript evaluates live.

:func:`theory_curves` puts together :mod:`oversmooth.theory` exactly as
``oversmooth simulate`` does for its ``theory_*`` columns (GCN, APPNP and the corrected
convolution on a two-block CSBM with class means -gap0/2, +gap0/2): the page's script
``theory.js`` is a line-by-line port, and ``tests/test_explore.py`` checks the two agree in
headless Chromium.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import ndtr

from .. import theory
from .._utils import check_choice, check_nonneg_int, check_positive_float, check_positive_int, check_probability
from ..errors import ValidationError

__all__ = ["EXPLORER_OPERATORS", "theory_curves", "ndtr_underflow"]

#: Operators the explorer's theory covers (``corrected``: its mean gap only; no variance formula).
EXPLORER_OPERATORS = ("gcn", "appnp", "corrected")


def _list(values: Any) -> list[float | None]:
    """Plain floats for JSON, NaN and infinities as None."""
    return [float(v) if math.isfinite(float(v)) else None for v in np.atleast_1d(np.asarray(values, dtype=float))]


def _scalar(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def theory_curves(
    n: int, p: float, q: float, *, sigma: float = 1.0, operator: str = "gcn", alpha: float = 0.1,
    self_loops: bool = True, depth: int = 24, gap0: float = 2.0,
) -> dict[str, Any]:
    """Predicted gap, variance, Bayes error and best depth at depths ``0..depth``.

    The curves are :func:`oversmooth.theory.theory_columns` (the ``theory_*`` columns of
    :func:`oversmooth.experiments.simulate`), with the scalars the page shows beside them: the gap ``lambda^n gap0`` (paper) and ``nu^n gap0`` (finite degree, ours), or for APPNP the
    PPR recursion with each rate; the Catalan variance (APPNP: its pairs-of-walks form); the Bayes
    error ``Phi(-|gap|/(2 sd))`` from the nu gap (the lambda gap when nu is undefined) and, as
    ``bayes_paper``, from the lambda gap; the best depth is :func:`oversmooth.theory.optimal_depth`
    of ``bayes``. ``corrected`` has the gap only (its rows are not probability vectors: no bounds,
    no Catalan variance).

    Parameters
    ----------
    n : int
        Nodes (two equal blocks).
    p, q : float
        Edge probability within and across blocks (``p + q > 0``).
    sigma : float, default 1.0
        Feature-noise standard deviation.
    operator : {'gcn', 'appnp', 'corrected'}
    alpha : float, default 0.1
        APPNP's teleport probability (used by ``appnp`` only).
    self_loops : bool, default True
    depth : int, default 24
    gap0 : float, default 2.0
        ``mu_2 - mu_1`` (the class means are ``-gap0/2`` and ``+gap0/2``).

    Returns
    -------
    dict
        Scalars ``lam, c, d, nu, pi_sq_sum, variance_lower, variance_upper, ppr_floor, g_star,
        best_depth`` and per-depth lists ``gap, gap_nu, variance, bayes, bayes_paper`` (NaN as None;
        None where the operator has no such curve).

    Examples
    --------
    >>> from oversmooth.explore import theory_curves
    >>> out = theory_curves(2000, 0.0075, 0.0025, depth=8)
    >>> round(out["lam"], 6), round(out["nu"], 4), out["best_depth"]
    (0.5, 0.6818, 4)
    """
    n = check_positive_int(n, "n", minimum=2)
    p, q = check_probability(p, "p"), check_probability(q, "q")
    if p + q == 0:
        raise ValidationError("p and q are both 0: the graph has no edges to propagate over")
    sigma = check_positive_float(sigma, "sigma")
    operator = check_choice(operator, "operator", EXPLORER_OPERATORS)
    alpha = check_probability(alpha, "alpha")
    depth = check_nonneg_int(depth, "depth")
    gap0 = float(gap0)
    if not math.isfinite(gap0):
        raise ValidationError(f"gap0 must be finite, got {gap0}")
    lower, upper = theory.variance_bounds(n, sigma)
    lam = theory.lam(p, q)
    s = 1.0 if self_loops else 0.0
    d = theory.expected_degree(n, p, q, self_loops)
    out: dict[str, Any] = {
        "operator": operator, "n": n, "p": p, "q": q, "sigma": sigma, "alpha": alpha, "self_loops": bool(self_loops),
        "depth": depth, "gap0": gap0, "lam": lam, "c": d - s, "d": d,
        "nu": _scalar(theory.lambda_eff(lam, d, self_loops)),
        "pi_sq_sum": theory.expected_stationary_sq_sum(n, p, q, self_loops),
        "variance_lower": None if operator == "corrected" else lower,
        "variance_upper": None if operator == "corrected" else upper,
        "ppr_floor": theory.ppr_variance_floor(alpha, sigma) if operator == "appnp" else None,
        "g_star": theory.ppr_fixed_point(lam, alpha, gap0) if operator == "appnp" else None,
    }
    # the curves: the package's one implementation of simulate's theory columns
    rows = theory.theory_columns(n, p, q, depth, gap0=gap0, sigma=sigma, operator=operator, alpha=alpha,
                                 self_loops=self_loops)
    for key, col in _COLUMNS.items():
        values = [r[col] for r in rows]
        out[key] = None if all(v is None for v in values) and key != "gap_nu" else _list(
            [np.nan if v is None else v for v in values])
    out["best_depth"] = None if out["bayes"] is None else theory.optimal_depth(out["bayes"])
    return out


#: theory_curves' per-depth keys and the theory_columns they come from.
_COLUMNS = {"gap": "theory_gap", "gap_nu": "theory_gap_finite_degree", "variance": "theory_feature_variance",
            "bayes": "theory_bayes_error", "bayes_paper": "theory_bayes_error_paper"}


def ndtr_underflow() -> float:
    """The largest ``x`` with ``scipy.special.ndtr(x) == 0`` in double precision (about -37.7).

    Below it the predicted Bayes error is exactly 0 and :func:`oversmooth.theory.optimal_depth`
    takes the shallowest depth among the zeros; the page's script uses this threshold so that its
    best depth is the Python one.

    Examples
    --------
    >>> from oversmooth.explore import ndtr_underflow
    >>> -38.5 < ndtr_underflow() < -37.0
    True
    """
    lo, hi = -40.0, -30.0  # ndtr(lo) == 0 < ndtr(hi)
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if mid in (lo, hi):
            break
        if ndtr(mid) == 0.0:
            lo = mid
        else:
            hi = mid
    return lo
