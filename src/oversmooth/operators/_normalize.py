"""Normalised adjacency operators: random walk D^-1 A (the paper's) and symmetric D^-1/2 A D^-1/2."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import ArgumentTypeError, ValidationError
from .._utils import check_choice

__all__ = ["normalize_adjacency", "stationary_projection", "NORMALIZATIONS", "ZERO_DEGREE_POLICIES"]

NORMALIZATIONS = ("rw", "sym")
ZERO_DEGREE_POLICIES = ("raise", "self-loop", "zero")


def _adjacency_of(graph_or_matrix: Any) -> sp.csr_array:
    a = getattr(graph_or_matrix, "adjacency", graph_or_matrix)
    if not sp.issparse(a):
        raise ArgumentTypeError(f"expected a Graph or a scipy sparse adjacency, got {type(a).__name__}")
    return sp.csr_array(a, dtype=np.float64)


def normalize_adjacency(
    graph: Any, kind: str = "rw", *, zero_degree: str = "raise"
) -> sp.csr_array:
    """Return ``P = D^-1 A`` (``kind="rw"``) or ``S = D^-1/2 A D^-1/2`` (``kind="sym"``).

    ``D^-1 A`` is the paper's operator: row i averages the neighbours of i
    (self included when A has self-loops), so every row sums to 1. ``A D^-1``
    (column-stochastic) is a different operator and is not offered.

    Parameters
    ----------
    graph : Graph or scipy sparse matrix
        The adjacency A as is: add self-loops beforehand if you want them
        (:func:`oversmooth.graphs.sample_csbm` does by default).
    kind : {"rw", "sym"}, default "rw"
    zero_degree : {"raise", "self-loop", "zero"}, default "raise"
        What to do with nodes of degree 0 (possible without self-loops):
        ``"raise"`` a ``ValueError`` naming them; ``"self-loop"`` give each such
        node a self-loop, so it keeps its own value (rows stay stochastic, the
        paper's variance bounds still hold); ``"zero"`` leave its row at zero
        (rows no longer sum to one: the bounds sigma^2/N <= Var do not hold there).

    Returns
    -------
    scipy.sparse.csr_array
        Same sparsity as A (plus added self-loops), float64.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from oversmooth.operators import normalize_adjacency
    >>> a = sp.csr_array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    >>> normalize_adjacency(a).toarray().sum(axis=1).round(12).tolist()
    [1.0, 1.0, 1.0]
    """
    kind = check_choice(kind, "kind", NORMALIZATIONS)
    zero_degree = check_choice(zero_degree, "zero_degree", ZERO_DEGREE_POLICIES)
    a = _adjacency_of(graph)
    deg = np.asarray(a.sum(axis=1)).ravel()
    if np.any(deg < 0):
        raise ValidationError("adjacency has negative row sums; normalisation needs non-negative weights")
    isolated = np.flatnonzero(deg == 0)
    if isolated.size:
        if zero_degree == "raise":
            shown = ", ".join(map(str, isolated[:5])) + (" ..." if isolated.size > 5 else "")
            raise ValidationError(
                f"{isolated.size} node(s) have degree 0 (e.g. {shown}); add self-loops, or choose a "
                "zero_degree policy: 'self-loop' (keep their own value) or 'zero' (zero rows)"
            )
        if zero_degree == "self-loop":
            fix = np.zeros(a.shape[0])
            fix[isolated] = 1.0
            a = sp.csr_array(a + sp.diags_array(fix, format="csr"))
            deg = deg + fix
    with np.errstate(divide="ignore"):
        inv = np.where(deg > 0, 1.0 / np.where(deg > 0, deg, 1.0), 0.0)
    a = a.copy()
    a.sort_indices()
    rows = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
    if kind == "rw":
        a.data *= inv[rows]
    else:
        s = np.sqrt(inv)
        a.data *= s[rows] * s[a.indices]
    return a


def stationary_projection(graph: Any, kind: str = "rw") -> tuple[np.ndarray, np.ndarray]:
    """The principal (stationary) component ``u w^T`` of a normalised adjacency, as ``(u, w)``.

    With weighted degrees ``d = A 1`` and ``pi = d / sum(d)`` (the stationary distribution
    of the random walk ``P = D^-1 A``):

    * ``kind="rw"``: ``u = 1``, ``w = pi``: ``P 1 = 1`` and ``pi^T P = pi^T``;
    * ``kind="sym"``: ``u = w = sqrt(pi)``, the unit principal eigenvector of
      ``S = D^-1/2 A D^-1/2`` (eigenvalue 1). Since ``S = D^1/2 P D^-1/2`` and
      ``sqrt(pi) sqrt(pi)^T = D^1/2 1 pi^T D^-1/2``, the corrected ``S - u u^T`` is similar
      to the corrected ``P - 1 pi^T``: same spectrum.

    In both cases ``w^T u = 1``, so ``(M - u w^T)^n = M^n - u w^T`` for ``n >= 1``: the
    corrected convolution of Wang, Baranwal & Fountoulakis (2024) used by
    ``iter_propagate(..., operator="corrected")``. On a disconnected graph ``pi`` is the
    global one: only the global stationary component is removed, and every further
    component keeps its own eigenvalue 1.

    Parameters
    ----------
    graph : Graph or scipy sparse matrix
        The adjacency A as used by :func:`normalize_adjacency` (self-loops as given).
    kind : {"rw", "sym"}

    Returns
    -------
    u, w : ndarray (N,)

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from oversmooth.operators import stationary_projection
    >>> a = sp.csr_array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]])
    >>> u, w = stationary_projection(a)
    >>> u.tolist(), w.round(4).tolist()
    ([1.0, 1.0, 1.0], [0.2857, 0.4286, 0.2857])
    """
    kind = check_choice(kind, "kind", NORMALIZATIONS)
    a = _adjacency_of(graph)
    deg = np.asarray(a.sum(axis=1)).ravel()
    total = float(deg.sum())
    if np.any(deg < 0) or not total > 0:
        raise ValidationError("graph must have non-negative weights and at least one edge for a stationary distribution")
    pi = deg / total
    if kind == "rw":
        return np.ones_like(pi), pi
    v = np.sqrt(pi)
    return v, v.copy()
