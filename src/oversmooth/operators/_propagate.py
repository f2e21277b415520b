"""Streaming propagation: h(0), h(1), ..., h(n) with one sparse matmul per layer.

Operators (``P`` is a normalised adjacency, usually ``D^-1 A``):

* ``"gcn"``      h(n+1) = P h(n)
* ``"appnp"``    h(n+1) = (1 - alpha) P h(n) + alpha h(0)       (PPR / GCNII's initial residual)
* ``"pairnorm"`` h(n+1) = PairNorm(P h(n))                     (Zhao & Akoglu, 2020)
* ``"corrected"`` h(n+1) = (P - u w^T) h(n)                     (Wang, Baranwal & Fountoulakis, 2024)

The corrected convolution removes the principal (stationary) component of ``P`` at every
layer: for ``P = D^-1 A``, ``u = 1`` and ``w = pi``, the stationary distribution
(``pi_j = d_j / sum(d)``), so ``h(n+1) = P h(n) - 1 (pi^T h(n))``; since ``pi^T 1 = 1``,
``(P - 1 pi^T)^n = P^n - 1 pi^T`` for ``n >= 1``. It is applied as that rank-one update
(one dot product per column), never as the dense ``N x N`` matrix ``1 pi^T``. For
``S = D^-1/2 A D^-1/2`` the principal eigenvector is ``sqrt(pi)`` and the corrected
operator is ``S - sqrt(pi) sqrt(pi)^T`` (similar to ``P - 1 pi^T``); pass it with
``principal=stationary_projection(graph, "sym")``. The operator is linear, so the paper's
feature-noise variance is still ``sigma^2 ||row i of M_n||^2`` with ``M_n = P^n - 1 pi^T``,
but the rows of ``M_n`` are no longer probability vectors (they sum to 0 and have negative
entries): the bounds ``sigma^2/N <= Var <= sigma^2`` do **not** apply. Noise and mean gap
both shrink (towards 0 at the rate of the second eigenvalue) and their ratio saturates.

PairNorm is nonlinear. To measure its *feature-noise variance* and class means we use
the **frozen-affine linearisation**, the view of the paper: given the realisation, each
PairNorm layer is an affine map ``h -> r * (h - b)`` whose shift ``b`` (the column means)
and scale ``r`` (global for PN, per row for PN-SI) are computed on the *reference*
columns (the realised features) and then held fixed. Companion columns of the same block
follow that fixed map: *affine* columns (the conditional-mean signal) are shifted by the
reference's ``b`` and scaled; all other columns (noise probes, identity columns: they
carry the zero-mean noise part, on which a constant shift has no effect) are only scaled.
For the reference columns themselves the output is exactly PairNorm's. In 1-D, PN is
then one affine map of all nodes, so the ratio gap / std is that of GCN at every depth.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np
import scipy.sparse as sp

from ..errors import ArgumentTypeError, ValidationError
from .._utils import check_choice, check_finite_array, check_nonneg_int, check_positive_float, check_probability
from ._spmm import DTYPES, RowParallelMatmul, check_dtype
from ._torch import BACKENDS

__all__ = ["propagate", "iter_propagate", "pairnorm", "OPERATORS", "PAIRNORM_MODES", "BACKENDS", "DTYPES"]

OPERATORS = ("gcn", "appnp", "pairnorm", "corrected")
PAIRNORM_MODES = ("PN", "PN-SI")


def pairnorm(
    h: np.ndarray,
    scale: float = 1.0,
    mode: str = "PN",
    reference: slice | None = None,
    affine: slice | None = None,
) -> np.ndarray:
    """PairNorm of Zhao & Akoglu (2020): centre over all nodes, then rescale.

    ``"PN"``: one global factor so that the mean squared row norm is ``scale**2``;
    ``"PN-SI"``: each row rescaled to norm ``scale``.

    Without ``reference`` every column is a feature: each is centred by its own mean
    and the scale uses all of them. With ``reference`` (a slice of columns), the
    frozen-affine linearisation of the module docstring: the reference columns get
    PairNorm exactly; ``affine`` columns (same width as ``reference``) are shifted by
    the reference means and scaled; every other column is only scaled.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.operators import pairnorm
    >>> out = pairnorm(np.array([[1.0], [2.0], [6.0]]), scale=1.0)
    >>> round(float((out ** 2).sum(axis=1).mean()), 12), round(float(out.mean()), 12)
    (1.0, 0.0)
    """
    mode = check_choice(mode, "mode", PAIRNORM_MODES)
    if reference is None:
        c = h - h.mean(axis=0, keepdims=True, dtype=np.float64).astype(h.dtype)
        ref = c
    else:
        c = np.array(h, dtype=np.result_type(h.dtype, np.float32), copy=True)
        shift = c[:, reference].mean(axis=0, dtype=np.float64).astype(c.dtype)
        c[:, reference] -= shift
        if affine is not None:
            c[:, affine] -= shift
        ref = c[:, reference]
    sq = np.einsum("ij,ij->i", ref, ref, dtype=np.float64)
    if mode == "PN":
        norm = np.sqrt(sq.mean())
        c *= c.dtype.type(scale / norm if norm > 0 else 0.0)
    else:
        norm = np.sqrt(sq)
        c *= np.divide(scale, norm, out=np.zeros_like(norm), where=norm > 0).astype(c.dtype)[:, None]
    return c


def _principal_pair(P: Any, principal: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(u, w)`` for the corrected operator: given, a stationary distribution, or read off P.

    Without ``principal``, P must be ``D^-1 A`` of an unweighted graph (every row uniform on
    its support, as :func:`normalize_adjacency` makes it): then ``d_i`` = the number of
    nonzeros of row i and ``pi = d / sum(d)``. Anything else (weighted graphs, the
    symmetric normalisation) needs ``principal`` explicitly.
    """
    n = P.shape[0]
    if principal is not None:
        if isinstance(principal, tuple) and len(principal) == 2:
            u = check_finite_array(principal[0], "principal[0] (u)", ndim=1)
            w = check_finite_array(principal[1], "principal[1] (w)", ndim=1)
        else:
            w = check_finite_array(principal, "principal (the stationary distribution pi)", ndim=1)
            u = np.ones(n)
        if u.shape[0] != n or w.shape[0] != n:
            raise ValidationError(f"principal vectors must have {n} entries (one per node), "
                             f"got {u.shape[0]} and {w.shape[0]}")
        if not abs(float(w @ u) - 1.0) <= 1e-8:
            raise ValidationError(f"principal must satisfy w^T u = 1 (pi must sum to 1 for u = 1), got {float(w @ u):.6g}")
        return u, w
    csr = sp.csr_array(P, copy=True) if sp.issparse(P) else None
    if csr is None:
        raise ValidationError("operator='corrected' with a dense P needs principal=(u, w) or the stationary distribution pi")
    csr.sum_duplicates()
    nnz = np.diff(csr.indptr)
    if not np.all(nnz > 0) or not np.allclose(csr.data, np.repeat(1.0 / np.maximum(nnz, 1), nnz), rtol=1e-12, atol=0):
        raise ValidationError(
            "operator='corrected' needs principal=: P is not D^-1 A of an unweighted graph (rows not uniform on "
            "their support), so its stationary distribution cannot be read off it; pass "
            "principal=operators.stationary_projection(graph, kind)"
        )
    return np.ones(n), nnz / float(nnz.sum())


def iter_propagate(
    P: Any,
    x: np.ndarray,
    depth: int,
    *,
    operator: str = "gcn",
    alpha: float = 0.1,
    pairnorm_scale: float = 1.0,
    pairnorm_mode: str = "PN",
    reference: slice | None = None,
    affine: slice | None = None,
    principal: Any = None,
    dtype: Any = "float64",
    backend: str = "numpy",
    device: Any = None,
) -> Iterator[np.ndarray]:
    """Yield h(0), h(1), ..., h(depth) for an N x k block, one sparse matmul per layer.

    Parameters
    ----------
    P : scipy sparse matrix (N, N)
        The propagation matrix, e.g. ``normalize_adjacency(graph, "rw")``.
    x : array (N,) or (N, k)
        Features, probe vectors or any block of columns; propagated together.
    depth : int
        Last depth n (>= 0).
    operator : {"gcn", "appnp", "pairnorm", "corrected"}
    alpha : float in [0, 1]
        Teleport (initial-residual) weight for ``"appnp"``.
    pairnorm_scale, pairnorm_mode : float, {"PN", "PN-SI"}
        PairNorm's ``s`` and variant.
    reference, affine : slice, optional
        PairNorm's frozen-affine linearisation (see the module docstring and
        :func:`pairnorm`): ``reference`` columns set the shift and scale, ``affine``
        columns take the shift too, the rest only the scale. Default: plain PairNorm
        of the whole block.
    principal : (u, w) pair of arrays (N,), or an array pi (N,), optional
        For ``"corrected"``: the principal component ``u w^T`` removed at each layer
        (:func:`~oversmooth.operators.stationary_projection`); a single array is the
        stationary distribution ``pi`` with ``u = 1``. Default: read ``pi = d / sum(d)``
        off ``P`` when it is ``D^-1 A`` of an unweighted graph, else a ``ValueError``.
    dtype : {"float64", "float32"}, default "float64"
        Precision of the propagated block (``P`` is converted once). float32 halves the
        memory traffic of the kernel (about 1.5-3x faster on large blocks) at a rounding cost:
        each layer's product rounds every entry of ``h(n+1)`` with a relative error of at
        most ``gamma_k = k u / (1 - k u)`` (``k`` the row's nonzeros, ``u = 2**-24``), so after
        n layers of a non-negative ``P`` (``D^-1 A``, ``S``) ``|h_hat(n) - h(n)| <= n gamma_k
        (|P|^n |x|)`` entrywise (Higham, Accuracy and Stability, 3.5); in practice the
        error grows like ``n sqrt(k) u`` relative. float64 (the default) keeps the exact
        paths bitwise as before.
    backend : {"numpy", "torch"}, default "numpy"
        ``"torch"``: the products through ``torch.sparse`` (needs the ``train`` extra), on
        ``device``; same numbers to rounding (the order of additions may differ).
    device : str or torch.device, optional
        For ``backend="torch"``: default CUDA when available, else the CPU.

    Yields
    ------
    numpy.ndarray (N, k)
        A fresh array per depth (safe to keep), of ``dtype``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.operators import iter_propagate
    >>> P = sp.csr_array([[0.5, 0.5], [0.5, 0.5]])
    >>> [h.ravel().tolist() for h in iter_propagate(P, np.array([0.0, 2.0]), 2)]
    [[0.0, 2.0], [1.0, 1.0], [1.0, 1.0]]
    >>> [h.ravel().tolist() for h in iter_propagate(P, np.array([0.0, 2.0]), 2, operator="corrected")]
    [[0.0, 2.0], [0.0, 0.0], [0.0, 0.0]]
    """
    operator = check_choice(operator, "operator", OPERATORS)
    depth = check_nonneg_int(depth, "depth")
    alpha = check_probability(alpha, "alpha")
    pairnorm_scale = check_positive_float(pairnorm_scale, "pairnorm_scale")
    if not sp.issparse(P) and not isinstance(P, np.ndarray):
        raise ArgumentTypeError(f"P must be a scipy sparse matrix or a numpy array, got {type(P).__name__}")
    dtype = check_dtype(dtype)
    backend = check_choice(backend, "backend", BACKENDS)
    h0 = np.array(x, dtype=dtype, order="C", copy=True)
    squeeze = h0.ndim == 1
    if squeeze:
        h0 = h0[:, None]
    if h0.ndim != 2 or h0.shape[0] != P.shape[0]:
        raise ValidationError(f"x must have {P.shape[0]} rows (one per node), got shape {np.shape(x)}")
    x = None  # the caller's array is not kept alive by this generator
    h = h0
    yield h0[:, 0].copy() if squeeze else h0.copy()
    if operator != "appnp":
        h0 = None  # only APPNP's teleport term needs h(0) after the first layer
    matmul = _matmul(P, dtype, backend, device) if depth else None
    u, w = _principal_pair(P, principal) if operator == "corrected" and depth else (None, None)
    for _ in range(depth):
        wh = w @ h.astype(np.float64) if w is not None else None  # pi^T h(n): (k,), before the product
        h = matmul(h)
        if operator == "corrected":
            h -= np.outer(u, wh).astype(dtype)  # (P - u w^T) h = P h - u (w^T h): rank one, never the dense u w^T
        elif operator == "appnp":
            h *= dtype.type(1.0 - alpha)
            h += dtype.type(alpha) * h0
        elif operator == "pairnorm":
            h = pairnorm(h, pairnorm_scale, pairnorm_mode, reference, affine)
        yield h[:, 0].copy() if squeeze else h


def _matmul(P: Any, dtype: np.dtype, backend: str, device: Any) -> Any:
    if backend == "torch":
        from ._torch import TorchMatmul

        return TorchMatmul(P, dtype=dtype, device=device)
    if device is not None:
        raise ValidationError("device applies to backend='torch' only")
    return RowParallelMatmul(P, dtype=dtype)


def propagate(P: Any, x: np.ndarray, depth: int, **kwargs: Any) -> np.ndarray:
    """Return h(depth) only; see :func:`iter_propagate` for the arguments.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.operators import propagate
    >>> P = sp.csr_array([[0.5, 0.5], [0.5, 0.5]])
    >>> propagate(P, np.array([0.0, 2.0]), 3, operator="appnp", alpha=0.5).tolist()
    [0.5, 1.5]
    """
    out = None
    for out in iter_propagate(P, x, depth, **kwargs):
        pass
    return out  # type: ignore[return-value]
