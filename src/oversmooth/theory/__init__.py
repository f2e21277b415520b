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

Examples
--------
>>> from oversmooth import theory
>>> lam = theory.lam(0.0114, 0.0038)
>>> round(lam, 3), round(theory.gap(3, lam, 2.0), 4)
(0.5, 0.25)
"""

from __future__ import annotations

from math import comb, log
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import ndtr

from .._utils import (
    SeedLike,
    check_nonneg_int,
    check_positive_float,
    check_positive_int,
    check_probability,
    spawn_generators,
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
]


def lam(p: float, q: float) -> float:
    """The mixing rate ``lambda = (p - q) / (p + q)`` (negative under heterophily).

    Examples
    --------
    >>> from oversmooth.theory import lam
    >>> round(lam(0.3, 0.1), 12)
    0.5
    """
    p = check_probability(p, "p")
    q = check_probability(q, "q")
    if p + q == 0:
        raise ValueError("p + q must be > 0 (a graph with no edges does not mix)")
    return (p - q) / (p + q)


def csbm_pq(n: int, degree: float, lam: float) -> tuple[float, float]:
    """Edge probabilities ``(p, q)`` of a 2-block CSBM from its degree and ``lambda``.

    Solves ``(N/2)(p + q) = degree`` (expected neighbours, the self-loop not counted) and
    ``(p - q)/(p + q) = lam``.

    Examples
    --------
    >>> from oversmooth.theory import csbm_pq
    >>> [round(v, 6) for v in csbm_pq(1000, 10.0, 0.5)]
    [0.015, 0.005]
    """
    n = check_positive_int(n, "n")
    s = 2.0 * float(degree) / n
    p, q = s * (1 + float(lam)) / 2.0, s * (1 - float(lam)) / 2.0
    if not (0.0 <= p <= 1.0 and 0.0 <= q <= 1.0):
        raise ValueError(f"degree={degree} is too large for n={n} and lam={lam}: p={p:.3g}, q={q:.3g} must be in [0, 1]")
    return p, q


def expected_degree(n: int, p: float, q: float, self_loops: bool = True) -> float:
    """Expected degree ``d = 1 + (N/2)(p + q)`` of the two-block CSBM (SCIENCE.md).

    The exact expectation is ``(N/2 - 1) p + (N/2) q`` plus the self-loop, which
    differs from this by ``p``; the definition above is the one every formula here uses.

    Examples
    --------
    >>> from oversmooth.theory import expected_degree
    >>> round(expected_degree(2000, 0.0114, 0.0038), 6)
    16.2
    """
    n = check_positive_int(n, "n", minimum=2)
    return (1.0 if self_loops else 0.0) + (n / 2.0) * (check_probability(p, "p") + check_probability(q, "q"))


def _out(v: Any) -> Any:
    """A float for scalar input, an array otherwise."""
    arr = np.asarray(v, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


def gap(n: Any, lam_: float, gap0: float) -> Any:
    """The paper's mean gap ``lambda^n * gap(0)`` (Theorem 1, dense regime)."""
    return _out(np.power(float(lam_), np.asarray(n, dtype=float)) * gap0)


def nu(lam_: float, c: float, self_loops: bool = True) -> float:
    """Finite-degree per-layer mixing rate (ours): ``nu = [(c - 1) lambda + 1/lambda + s] / (c + s)``.

    The outlier eigenvalue of ``P = D^-1 (A + s I)`` in the class-difference direction for a
    sparse two-block CSBM (a BBP-style second-order correction), with ``c = (N/2)(p + q)`` the
    expected number of neighbours (the self-loop not counted) and ``s = 1`` with self-loops,
    ``0`` without. Equivalently ``nu = lambda + (1 - lambda)(1 + lambda + s lambda) /
    (lambda (c + s))``. It holds for **both signs** of lambda (heterophily, ``p < q``, gives
    a negative outlier; with self-loops ``lambda = -1/2`` gives ``nu = -1/2`` exactly) above
    the detectability (Kesten-Stigum) threshold ``c lambda^2 > 1``.

    Checked against dense eigendecompositions of ``D^-1 (A + s I)`` at N = 2000 for
    lambda in {+-0.3, +-0.5, +-0.8}, c in {10, 20}, with and without self-loops: the
    outlier (the eigenvector most correlated with the class vector) is within 0.01 of nu
    (``tests/test_theory.py`` asserts 0.02 where ``c lambda^2 > 2``). An earlier version of
    this package used ``lambda + 1/(d lambda)`` (``d = c + 1``): it equals nu only at
    lambda = 1/2 with self-loops and is off by up to 0.23 elsewhere (lambda = -0.8, c = 10).

    **When the measured rate departs from nu.** ``nu`` is an eigenvalue; the mean gap
    follows ``nu^n`` only once the outlier direction dominates the class vector. At small
    depths, and whenever the class vector's overlap with the outlier eigenvector is small
    (weak communities, ``c lambda^2`` close to 1: the overlap is about 0.6 at
    ``c lambda^2 = 1.8``), the bulk modes add to the gap, and ``|gap(n+1)/gap(n)|`` over the
    first few depths differs from ``|nu|`` by more than the eigenvalue does (the bulk modes of
    magnitude ``~ 2 sqrt(c)/(c + s)`` decay at their own rates). Compare rates at depths where
    the outlier dominates, or compare with the eigenvalue itself. Measured (the ``mixing``
    claim's quick run, 3 seeds, rate = geometric mean of ``|gap(n+1)/gap(n)|`` over depths
    1..6): lambda = 0.5, c = 15.2 (``c lambda^2 = 3.8``) gives 0.608 against nu = 0.6235,
    lambda = -0.5 gives 0.497 against ``|nu|`` = 0.5, but lambda = 1/3, c = 12.4
    (``c lambda^2 = 1.38``) gives 0.543 against nu = 0.582: the weak outlier lets the faster
    bulk modes pull the early rate down.

    Parameters
    ----------
    lam_ : float
        ``lambda = (p - q)/(p + q)``, in [-1, 1].
    c : float
        Expected number of neighbours ``(N/2)(p + q)``, self-loop not counted (> 0).
    self_loops : bool, default True
        Whether the operator is ``D^-1 (A + I)`` (s = 1) or ``D^-1 A`` (s = 0).

    Returns
    -------
    float
        NaN at or below the threshold ``c lambda^2 <= 1`` (the block signal is lost in the
        bulk) and for lambda = 0; otherwise nu, capped at 1 in absolute value (the spectral
        radius of P).

    Examples
    --------
    >>> from oversmooth.theory import nu
    >>> round(nu(0.5, 15.2), 4), round(nu(-0.5, 15.2), 4), round(nu(-0.5, 15.2, self_loops=False), 4)
    (0.6235, -0.5, -0.5987)
    """
    lam_ = float(lam_)
    c = check_positive_float(c, "c")
    s = 1.0 if self_loops else 0.0
    if lam_ == 0 or c * lam_ * lam_ <= 1.0:
        return float("nan")
    val = ((c - 1.0) * lam_ + 1.0 / lam_ + s) / (c + s)
    return float(np.sign(val) * min(abs(val), 1.0))


def lambda_eff(lam_: float, d: float, self_loops: bool = True) -> float:
    """The finite-degree rate :func:`nu` (ours), from the expected degree ``d = c + s``.

    ``d`` counts the self-loop when ``self_loops`` (``d = 1 + (N/2)(p + q)``, as
    :func:`expected_degree` returns it), so ``c = d - s``. This is the same quantity as
    ``nu(lam_, d - s, self_loops)`` (NaN when ``d <= s``); the name is kept for callers that hold ``d``. (It used
    to be ``lambda + 1/(d lambda)``, which is wrong except at lambda = 1/2 with self-loops:
    see :func:`nu`.)

    Examples
    --------
    >>> from oversmooth.theory import lambda_eff
    >>> round(lambda_eff(0.5, 16.2), 4), round(lambda_eff(-0.5, 16.2), 4)
    (0.6235, -0.5)
    """
    s = 1.0 if self_loops else 0.0
    c = float(d) - s
    if not c > 0:  # no neighbours beyond the self-loop (or d is NaN): nothing to mix, no outlier
        return float("nan")
    return nu(lam_, c, self_loops)


def gap_finite_degree(n: Any, lam_: float, d: float, gap0: float, self_loops: bool = True) -> Any:
    """Mean gap with the finite-degree rate: ``nu^n * gap(0)`` (ours; ``d = c + s``, see :func:`lambda_eff`).

    Examples
    --------
    >>> from oversmooth.theory import gap_finite_degree
    >>> gap_finite_degree([0, 1, 2], -0.5, 16.2, 2.0).tolist()
    [2.0, -1.0, 0.5]
    """
    return _out(np.power(lambda_eff(lam_, d, self_loops), np.asarray(n, dtype=float)) * gap0)


def ppr_fixed_point(lam_: float, alpha: float, gap0: float) -> float:
    """Limit of the APPNP gap: ``g* = alpha gap(0) / (1 - (1 - alpha) lambda)``.

    When ``(1 - alpha) lambda = 1`` (only ``alpha = 0`` and ``lambda = 1``: plain GCN on
    a graph with no edges between blocks) the gap never moves, and its limit is ``gap(0)``.

    Examples
    --------
    >>> from oversmooth.theory import ppr_fixed_point
    >>> ppr_fixed_point(0.5, 0.5, 2.0)
    1.3333333333333333
    >>> ppr_fixed_point(1.0, 0.0, 2.0)
    2.0
    """
    r = (1.0 - float(alpha)) * float(lam_)
    if r == 1.0:
        return float(gap0)
    return float(alpha) * gap0 / (1.0 - r)


def ppr_gap(n: Any, lam_: float, alpha: float, gap0: float) -> Any:
    """APPNP mean gap ``g* + ((1 - alpha) lambda)^n (gap(0) - g*)`` (linear recursion).

    ``lam_`` may be the paper's lambda or the finite-degree rate :func:`nu` (ours).

    Examples
    --------
    >>> from oversmooth.theory import ppr_gap
    >>> ppr_gap(0, 0.5, 0.1, 2.0)
    2.0
    """
    alpha = check_probability(alpha, "alpha")
    g_star = ppr_fixed_point(lam_, alpha, gap0)
    return _out(g_star + np.power((1.0 - alpha) * float(lam_), np.asarray(n, dtype=float)) * (gap0 - g_star))


def variance_bounds(n_nodes: int, sigma: float = 1.0) -> tuple[float, float]:
    """The paper's exact bounds ``sigma^2 / N <= (sigma(n))^2 <= sigma^2`` (any graph, any n)."""
    n_nodes = check_positive_int(n_nodes, "n_nodes")
    s2 = float(sigma) ** 2
    return s2 / n_nodes, s2


def ppr_variance_floor(alpha: float, sigma: float = 1.0) -> float:
    """APPNP's floor ``alpha^2 sigma^2``: ``(M_n)_ii >= alpha`` caps denoising."""
    return check_probability(alpha, "alpha") ** 2 * float(sigma) ** 2


def catalan(n: int) -> int:
    """Catalan number ``C_n = binom(2n, n) / (n + 1)``.

    Examples
    --------
    >>> from oversmooth.theory import catalan
    >>> [catalan(i) for i in range(6)]
    [1, 1, 2, 5, 14, 42]
    """
    n = check_nonneg_int(n, "n")
    return comb(2 * n, n) // (n + 1)


def stationary_sq_sum(degrees: Any) -> float:
    """``sum_j pi_j^2`` with ``pi_j = d_j / sum(d)``: the saturation level of the variance."""
    deg = np.asarray(degrees, dtype=np.float64)
    return float(np.sum(deg**2) / np.sum(deg) ** 2)


def expected_stationary_sq_sum(n: int, p: float, q: float, self_loops: bool = True) -> float:
    """Model value of ``sum_j pi_j^2`` for the two-block CSBM: ``(1/N)(1 + Var(deg)/d^2)``.

    ``Var(deg) = (N/2)(p(1-p) + q(1-q))`` (self-loops add no variance).
    """
    d = expected_degree(n, p, q, self_loops)
    var = (n / 2.0) * (p * (1 - p) + q * (1 - q))
    return (1.0 + var / d**2) / n


def catalan_variance(depth: Any, d: float, pi_sq_sum: float, sigma: float = 1.0) -> np.ndarray:
    """Refined variance ``sigma^2 (sum_j pi_j^2 + C_n / d^n)`` (ours).

    Closed walks of length 2n on a locally tree-like graph of degree d: the chance
    that two independent n-step walks from a node meet again is ``C_n / d^n``; the
    ``sum pi_j^2`` term is where the variance saturates (~1/N).

    Examples
    --------
    >>> from oversmooth.theory import catalan_variance
    >>> catalan_variance([0, 1, 2], 10.0, 0.0).tolist()
    [1.0, 0.1, 0.02]
    """
    n = np.atleast_1d(np.asarray(depth, dtype=np.int64))
    c = np.array([catalan(int(k)) for k in n], dtype=np.float64)
    return float(sigma) ** 2 * (pi_sq_sum + c / np.power(float(d), n.astype(float)))


def _walk_overlap(t: int, d: float, self_loops: bool) -> float:
    """Leading-order ``<row_i P^k, row_i P^l>`` beyond ``sum pi^2``, for ``t = k + l`` (ours).

    Even ``t = 2m``: ``C_m / d^m`` (closed tree excursions). Odd ``t = 2m + 1``: a walk of
    odd length can only close by staying put once; with self-loops (``P_ii = 1/d``) the
    leading term is ``(2m + 1) C_m / d^(m+1)`` (one stay among ``2m + 1`` steps), without
    them it is 0 (a tree is bipartite).
    """
    m, odd = divmod(t, 2)
    if not odd:
        return catalan(m) / float(d) ** m
    return (2 * m + 1) * catalan(m) / float(d) ** (m + 1) if self_loops else 0.0


def ppr_catalan_variance(
    depth: Any, d: float, pi_sq_sum: float, alpha: float, sigma: float = 1.0, self_loops: bool = True
) -> np.ndarray:
    """APPNP analogue of :func:`catalan_variance` (ours).

    With ``M_n = sum_k c_k P^k`` (``c_k = alpha (1-alpha)^k`` for k < n and
    ``c_n = (1-alpha)^n``), ``||row i||^2 = sum_{k,l} c_k c_l <row_i P^k, row_i P^l>``
    and, on a locally tree-like graph, ``<row_i P^k, row_i P^l> ~= sum pi^2 + R_{k+l}``
    with ``R_{2m} = C_m / d^m`` and, with self-loops, ``R_{2m+1} = (2m+1) C_m / d^(m+1)``
    (the walk stays put once; exact at ``k + l = 1``: ``P_ii = 1/d``); ``R_odd = 0``
    without self-loops. Reduces to the GCN formula at alpha = 0.

    Examples
    --------
    >>> from oversmooth.theory import ppr_catalan_variance
    >>> ppr_catalan_variance([0, 1], 10.0, 0.0, 0.5).round(4).tolist()  # 1/4 (0.1) + 2/4 (0.1) + 1/4
    [1.0, 0.325]
    """
    alpha = check_probability(alpha, "alpha")
    out = []
    for n in np.atleast_1d(np.asarray(depth, dtype=np.int64)):
        n = int(n)
        c = np.array([alpha * (1 - alpha) ** k for k in range(n)] + [(1 - alpha) ** n])
        r = np.array([[_walk_overlap(k + l, d, self_loops) for l in range(n + 1)] for k in range(n + 1)])
        out.append(float(c @ (pi_sq_sum + r) @ c))
    return float(sigma) ** 2 * np.asarray(out)


def spectral_sandwich(
    graph: Any, depth: int, *, method: str = "auto", probes: int = 64, exact_max_nodes: int = 5000,
    seed: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Rigorous per-graph bounds on ``mean_i ||row i of P^n||^2`` (ours).

    With ``S = D^-1/2 A D^-1/2`` and ``m_2n = tr(S^2n) / N``:
    ``(d_min/d_max) m_2n <= mean_i ||row i of P^n||^2 <= (d_max/d_min) m_2n``.
    ``m_2n`` is exact from the eigenvalues of S for ``N <= exact_max_nodes``,
    otherwise a Hutchinson estimate ``mean ||S^n z||^2 / N`` (then the bounds hold up
    to its sampling error).

    Returns
    -------
    lower, upper : ndarray (depth + 1,)
    """
    from ..operators import normalize_adjacency

    depth = check_nonneg_int(depth, "depth")
    a = getattr(graph, "adjacency", graph)
    deg = np.asarray(sp.csr_array(a).sum(axis=1)).ravel()
    s = normalize_adjacency(a, "sym")
    n = s.shape[0]
    if method == "auto":
        method = "exact" if n <= exact_max_nodes else "hutchinson"
    if method == "exact":
        w = np.linalg.eigvalsh(s.toarray())
        m = np.array([np.mean(w ** (2 * k)) for k in range(depth + 1)])
    elif method == "hutchinson":
        (rng,) = spawn_generators(seed, 1)
        z = rng.choice([-1.0, 1.0], size=(n, check_positive_int(probes, "probes")))
        m = np.empty(depth + 1)
        for k in range(depth + 1):
            m[k] = np.mean(np.einsum("ij,ij->j", z, z)) / n
            z = np.asarray(s @ z)
    else:
        raise ValueError(f"method must be 'auto', 'exact' or 'hutchinson', got {method!r}")
    ratio = deg.max() / deg.min()
    return m / ratio, m * ratio


def predicted_bayes_error(gaps: Any, variances: Any) -> np.ndarray:
    """``Phi(-|gap(n)| / (2 sqrt(var(n))))`` from predicted gap and variance curves."""
    g = np.abs(np.asarray(gaps, dtype=np.float64))
    v = np.asarray(variances, dtype=np.float64)
    return _out(ndtr(-g / (2.0 * np.sqrt(v))))


def optimal_depth(errors: Any) -> int:
    """The depth (index) of the smallest error; ties go to the shallowest depth.

    Examples
    --------
    >>> from oversmooth.theory import optimal_depth
    >>> optimal_depth([0.3, 0.1, 0.05, 0.2])
    2
    """
    e = np.asarray(errors, dtype=np.float64)
    if e.size == 0 or np.all(np.isnan(e)):
        raise ValueError("errors must contain at least one number")
    return int(np.nanargmin(e))


def depth_scale_loglog(n_nodes: float) -> float:
    """``log N / log log N``: the diameter scale of the CSBM when d ~ log N."""
    return log(n_nodes) / log(log(n_nodes))


def depth_scale_logd(n_nodes: float, d: float) -> float:
    """``log N / log d``: the depth at which ``d^n ~ N`` (variance saturation)."""
    return log(n_nodes) / log(d)
