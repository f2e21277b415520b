"""Streaming propagation: h(0), h(1), ..., h(n) with one sparse matmul per layer.

Operators (``P`` is a normalised adjacency, usually ``D^-1 A``):

* ``"gcn"``      h(n+1) = P h(n)
* ``"appnp"``    h(n+1) = (1 - alpha) P h(n) + alpha h(0)       (PPR / GCNII's initial residual)
* ``"pairnorm"`` h(n+1) = PairNorm(P h(n))                     (Zhao & Akoglu, 2020)

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

from .._utils import check_choice, check_nonneg_int, check_positive_float, check_probability
from ._spmm import RowParallelMatmul

__all__ = ["propagate", "iter_propagate", "pairnorm", "OPERATORS", "PAIRNORM_MODES"]

OPERATORS = ("gcn", "appnp", "pairnorm")
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
        c = h - h.mean(axis=0, keepdims=True)
        ref = c
    else:
        c = np.array(h, dtype=np.float64, copy=True)
        shift = c[:, reference].mean(axis=0)
        c[:, reference] -= shift
        if affine is not None:
            c[:, affine] -= shift
        ref = c[:, reference]
    sq = np.einsum("ij,ij->i", ref, ref)
    if mode == "PN":
        norm = np.sqrt(sq.mean())
        c *= scale / norm if norm > 0 else 0.0
    else:
        norm = np.sqrt(sq)
        c *= np.divide(scale, norm, out=np.zeros_like(norm), where=norm > 0)[:, None]
    return c


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
    operator : {"gcn", "appnp", "pairnorm"}
    alpha : float in [0, 1]
        Teleport (initial-residual) weight for ``"appnp"``.
    pairnorm_scale, pairnorm_mode : float, {"PN", "PN-SI"}
        PairNorm's ``s`` and variant.
    reference, affine : slice, optional
        PairNorm's frozen-affine linearisation (see the module docstring and
        :func:`pairnorm`): ``reference`` columns set the shift and scale, ``affine``
        columns take the shift too, the rest only the scale. Default: plain PairNorm
        of the whole block.

    Yields
    ------
    numpy.ndarray (N, k)
        A fresh array per depth (safe to keep).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.operators import iter_propagate
    >>> P = sp.csr_array([[0.5, 0.5], [0.5, 0.5]])
    >>> [h.ravel().tolist() for h in iter_propagate(P, np.array([0.0, 2.0]), 2)]
    [[0.0, 2.0], [1.0, 1.0], [1.0, 1.0]]
    """
    operator = check_choice(operator, "operator", OPERATORS)
    depth = check_nonneg_int(depth, "depth")
    alpha = check_probability(alpha, "alpha")
    pairnorm_scale = check_positive_float(pairnorm_scale, "pairnorm_scale")
    if not sp.issparse(P) and not isinstance(P, np.ndarray):
        raise TypeError(f"P must be a scipy sparse matrix or a numpy array, got {type(P).__name__}")
    h0 = np.array(x, dtype=np.float64, order="C", copy=True)
    squeeze = h0.ndim == 1
    if squeeze:
        h0 = h0[:, None]
    if h0.ndim != 2 or h0.shape[0] != P.shape[0]:
        raise ValueError(f"x must have {P.shape[0]} rows (one per node), got shape {np.shape(x)}")
    h = h0
    yield h0[:, 0].copy() if squeeze else h0.copy()
    matmul = RowParallelMatmul(P) if depth else None
    for _ in range(depth):
        h = matmul(h)
        if operator == "appnp":
            h *= 1.0 - alpha
            h += alpha * h0
        elif operator == "pairnorm":
            h = pairnorm(h, pairnorm_scale, pairnorm_mode, reference, affine)
        yield h[:, 0].copy() if squeeze else h


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
