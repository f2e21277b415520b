"""Mixing of the class means: lambda, the finite-degree rate nu (ours) and APPNP's recursion.

Names: ``lam`` is the paper's ``lambda = (p - q)/(p + q)``; ``degree`` the expected degree
``d = 1 + (N/2)(p + q)`` (self-loop counted); ``c = (N/2)(p + q)`` the expected number of
neighbours. (``lam_=`` and ``d=`` still work for one release, with a DeprecationWarning.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._utils import check_positive_float, check_positive_int, check_probability, renamed_kwargs
from ..errors import ValidationError

__all__ = ["lam", "csbm_pq", "expected_degree", "gap", "nu", "lambda_eff", "gap_finite_degree", "ppr_fixed_point",
           "ppr_gap"]


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
        raise ValidationError("p + q must be > 0 (a graph with no edges does not mix)")
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
        raise ValidationError(f"degree={degree} is too large for n={n} and lam={lam}: p={p:.3g}, q={q:.3g} must be in [0, 1]")
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
    return _expected_degree(n, check_probability(p, "p"), check_probability(q, "q"), self_loops)


def _expected_degree(n: int, p: float, q: float, self_loops: bool) -> float:
    """:func:`expected_degree` without validation."""
    return (1.0 if self_loops else 0.0) + (n / 2.0) * (p + q)


def _out(v: Any) -> Any:
    """A float for scalar input, an array otherwise."""
    arr = np.asarray(v, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


@renamed_kwargs(lam_="lam")
def gap(n: Any, lam: float, gap0: float) -> Any:
    """The paper's mean gap ``lambda^n * gap(0)`` (Theorem 1, dense regime).

    Examples
    --------
    >>> from oversmooth.theory import gap
    >>> gap([0, 1, 2], -0.5, 2.0).tolist()  # the sign alternates under heterophily
    [2.0, -1.0, 0.5]
    """
    return _out(np.power(float(lam), np.asarray(n, dtype=float)) * gap0)


@renamed_kwargs(lam_="lam")
def nu(lam: float, c: float, self_loops: bool = True) -> float:
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
    lam : float
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
    lam = float(lam)
    c = check_positive_float(c, "c")
    s = 1.0 if self_loops else 0.0
    if lam == 0 or c * lam * lam <= 1.0:
        return float("nan")
    val = ((c - 1.0) * lam + 1.0 / lam + s) / (c + s)
    return float(np.sign(val) * min(abs(val), 1.0))


@renamed_kwargs(lam_="lam", d="degree")
def lambda_eff(lam: float, degree: float, self_loops: bool = True) -> float:
    """The finite-degree rate :func:`nu` (ours), from the expected degree ``degree = c + s``.

    ``degree`` counts the self-loop when ``self_loops`` (``1 + (N/2)(p + q)``, as
    :func:`expected_degree` returns it), so ``c = degree - s``. This is the same quantity as
    ``nu(lam, degree - s, self_loops)`` (NaN when ``degree <= s``); the name is kept for callers that hold ``d``. (It used
    to be ``lambda + 1/(d lambda)``, which is wrong except at lambda = 1/2 with self-loops:
    see :func:`nu`.)

    Examples
    --------
    >>> from oversmooth.theory import lambda_eff
    >>> round(lambda_eff(0.5, 16.2), 4), round(lambda_eff(-0.5, 16.2), 4)
    (0.6235, -0.5)
    """
    s = 1.0 if self_loops else 0.0
    c = float(degree) - s
    if not c > 0:  # no neighbours beyond the self-loop (or d is NaN): nothing to mix, no outlier
        return float("nan")
    return nu(lam, c, self_loops)


@renamed_kwargs(lam_="lam", d="degree")
def gap_finite_degree(n: Any, lam: float, degree: float, gap0: float, self_loops: bool = True) -> Any:
    """Mean gap with the finite-degree rate: ``nu^n * gap(0)`` (ours; ``degree = c + s``, see :func:`lambda_eff`).

    Examples
    --------
    >>> from oversmooth.theory import gap_finite_degree
    >>> gap_finite_degree([0, 1, 2], -0.5, 16.2, 2.0).tolist()
    [2.0, -1.0, 0.5]
    """
    return _out(np.power(lambda_eff(lam, degree, self_loops), np.asarray(n, dtype=float)) * gap0)


@renamed_kwargs(lam_="lam")
def ppr_fixed_point(lam: float, alpha: float, gap0: float) -> float:
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
    r = (1.0 - float(alpha)) * float(lam)
    if r == 1.0:
        return float(gap0)
    return float(alpha) * gap0 / (1.0 - r)


@renamed_kwargs(lam_="lam")
def ppr_gap(n: Any, lam: float, alpha: float, gap0: float) -> Any:
    """APPNP mean gap ``g* + ((1 - alpha) lambda)^n (gap(0) - g*)`` (linear recursion).

    ``lam`` may be the paper's lambda or the finite-degree rate :func:`nu` (ours).

    Examples
    --------
    >>> from oversmooth.theory import ppr_gap
    >>> ppr_gap(0, 0.5, 0.1, 2.0)
    2.0
    """
    return _ppr_gap(n, lam, check_probability(alpha, "alpha"), gap0)


def _ppr_gap(n: Any, lam: float, alpha: float, gap0: float) -> Any:
    """:func:`ppr_gap` without validation (for callers that validated ``alpha`` at their own boundary)."""
    g_star = ppr_fixed_point(lam, alpha, gap0)
    return _out(g_star + np.power((1.0 - alpha) * float(lam), np.asarray(n, dtype=float)) * (gap0 - g_star))
