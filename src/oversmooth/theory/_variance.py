"""The paper's feature-noise variance: its bounds, APPNP's floor, the Catalan refinement (ours).

``sigma`` is always the feature-noise standard deviation (variances are ``sigma**2``);
``degree`` the expected degree with the self-loop counted.
"""

from __future__ import annotations

from math import comb, exp, lgamma, log
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._utils import (
    SeedLike,
    check_choice,
    check_nonneg_int,
    check_positive_int,
    check_probability,
    renamed_kwargs,
    spawn_generators,
)
from ._rates import _expected_degree

__all__ = ["variance_bounds", "ppr_variance_floor", "catalan", "stationary_sq_sum", "expected_stationary_sq_sum",
           "catalan_variance", "ppr_catalan_variance", "spectral_sandwich"]

_CATALAN_FLOAT_MAX = 500  # C_500 ~ 1e297: the largest Catalan number used as an exact float


def variance_bounds(n_nodes: int, sigma: float = 1.0) -> tuple[float, float]:
    """The paper's exact bounds ``sigma^2 / N <= (sigma(n))^2 <= sigma^2`` (any graph, any n).

    Examples
    --------
    >>> from oversmooth.theory import variance_bounds
    >>> variance_bounds(1000, sigma=2.0)
    (0.004, 4.0)
    """
    n_nodes = check_positive_int(n_nodes, "n_nodes")
    s2 = float(sigma) ** 2
    return s2 / n_nodes, s2


def ppr_variance_floor(alpha: float, sigma: float = 1.0) -> float:
    """APPNP's floor ``alpha^2 sigma^2``: ``(M_n)_ii >= alpha`` caps denoising.

    Examples
    --------
    >>> from oversmooth.theory import ppr_variance_floor
    >>> round(ppr_variance_floor(0.1), 12)
    0.01
    """
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
    """``sum_j pi_j^2`` with ``pi_j = d_j / sum(d)``: the saturation level of the variance.

    Examples
    --------
    >>> from oversmooth.theory import stationary_sq_sum
    >>> stationary_sq_sum([2, 2, 2, 2])  # a regular graph: 1/N
    0.25
    """
    deg = np.asarray(degrees, dtype=np.float64)
    return float(np.sum(deg**2) / np.sum(deg) ** 2)


def expected_stationary_sq_sum(n: int, p: float, q: float, self_loops: bool = True) -> float:
    """Model value of ``sum_j pi_j^2`` for the two-block CSBM: ``(1/N)(1 + Var(deg)/d^2)``.

    ``Var(deg) = (N/2)(p(1-p) + q(1-q))`` (self-loops add no variance).

    Examples
    --------
    >>> from oversmooth.theory import expected_stationary_sq_sum
    >>> round(expected_stationary_sq_sum(2000, 0.0114, 0.0038) * 2000, 4)  # a little above 1/N
    1.0574
    """
    n = check_positive_int(n, "n", minimum=2)
    p, q = check_probability(p, "p"), check_probability(q, "q")
    return _expected_stationary_sq_sum(n, p, q, self_loops)


def _expected_stationary_sq_sum(n: int, p: float, q: float, self_loops: bool) -> float:
    d = _expected_degree(n, p, q, self_loops)
    var = (n / 2.0) * (p * (1 - p) + q * (1 - q))
    return (1.0 + var / d**2) / n


@renamed_kwargs(d="degree")
def catalan_variance(depth: Any, degree: float, pi_sq_sum: float, sigma: float = 1.0) -> np.ndarray:
    """Refined variance ``sigma^2 (sum_j pi_j^2 + C_n / d^n)`` (ours), ``d`` = ``degree``.

    ``sigma`` is the feature-noise standard deviation (not a variance).

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
    return float(sigma) ** 2 * (pi_sq_sum + np.array([_catalan_over_power(int(k), float(degree)) for k in n]))


def _catalan_over_power(k: int, degree: float) -> float:
    """``C_k / degree^k``, exact in integers while ``C_k`` fits a float, in logs beyond (no overflow at any depth)."""
    if k <= _CATALAN_FLOAT_MAX and (degree <= 1.0 or k * log(degree) < 700.0):
        return catalan(k) / degree**k
    log_c = lgamma(2 * k + 1) - 2.0 * lgamma(k + 1) - log(k + 1)
    return exp(log_c - k * log(degree))


def _walk_overlap(t: int, degree: float, self_loops: bool) -> float:
    """Leading-order ``<row_i P^k, row_i P^l>`` beyond ``sum pi^2``, for ``t = k + l`` (ours).

    Even ``t = 2m``: ``C_m / d^m`` (closed tree excursions). Odd ``t = 2m + 1``: a walk of
    odd length can only close by staying put once; with self-loops (``P_ii = 1/d``) the
    leading term is ``(2m + 1) C_m / d^(m+1)`` (one stay among ``2m + 1`` steps), without
    them it is 0 (a tree is bipartite).
    """
    m, odd = divmod(t, 2)
    if not odd:
        return _catalan_over_power(m, float(degree))
    return (2 * m + 1) * _catalan_over_power(m, float(degree)) / float(degree) if self_loops else 0.0


@renamed_kwargs(d="degree")
def ppr_catalan_variance(
    depth: Any, degree: float, pi_sq_sum: float, alpha: float, sigma: float = 1.0, self_loops: bool = True
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
    return _ppr_catalan_variance(depth, degree, pi_sq_sum, check_probability(alpha, "alpha"), sigma, self_loops)


def _ppr_catalan_variance(depth: Any, degree: float, pi_sq_sum: float, alpha: float, sigma: float,
                          self_loops: bool) -> np.ndarray:
    """:func:`ppr_catalan_variance` without validation."""
    depths = np.atleast_1d(np.asarray(depth, dtype=np.int64))
    top = int(depths.max()) if depths.size else 0
    overlap = np.array([_walk_overlap(t, degree, self_loops) for t in range(2 * top + 1)])
    out = []
    for n in depths:
        n = int(n)
        c = np.array([alpha * (1 - alpha) ** k for k in range(n)] + [(1 - alpha) ** n])
        # sum_{k,l} c_k c_l (pi^2 + R_{k+l}) = pi^2 (sum c)^2 + sum_t R_t (c * c)_t  (R depends on k + l only)
        out.append(float(pi_sq_sum * c.sum() ** 2 + np.convolve(c, c) @ overlap[: 2 * n + 1]))
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

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.measures import feature_noise_variance
    >>> from oversmooth.theory import spectral_sandwich
    >>> g = sample_csbm(300, p=0.06, q=0.02, seed=0)
    >>> lo, hi = spectral_sandwich(g, 3, method="exact")
    >>> exact = feature_noise_variance(g, 3, method="exact").pooled
    >>> bool(np.all(lo <= exact * (1 + 1e-9)) and np.all(exact <= hi * (1 + 1e-9)))
    True
    """
    from ..operators import normalize_adjacency

    depth = check_nonneg_int(depth, "depth")
    method = check_choice(method, "method", ("auto", "exact", "hutchinson"))
    a = getattr(graph, "adjacency", graph)
    deg = np.asarray(sp.csr_array(a).sum(axis=1)).ravel()
    s = normalize_adjacency(a, "sym")
    n = s.shape[0]
    if method == "auto":
        method = "exact" if n <= exact_max_nodes else "hutchinson"
    if method == "exact":
        w = np.linalg.eigvalsh(s.toarray())
        m = np.array([np.mean(w ** (2 * k)) for k in range(depth + 1)])
    else:  # hutchinson
        (rng,) = spawn_generators(seed, 1)
        z = rng.choice([-1.0, 1.0], size=(n, check_positive_int(probes, "probes")))
        m = np.empty(depth + 1)
        for k in range(depth + 1):
            m[k] = np.mean(np.einsum("ij,ij->j", z, z)) / n
            z = np.asarray(s @ z)
    ratio = deg.max() / deg.min()
    return m / ratio, m * ratio
