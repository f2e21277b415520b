"""Class geometry of a layer: separation of the class means, within- and between-class spread.

Used by :func:`oversmooth.measures.profile_embeddings` and :func:`oversmooth.measures.depth_profile`;
the three measures need labels but no graph and no noise model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ValidationError
from ._inputs import as_embedding, as_labels
from ._stats import class_indicator

__all__ = ["class_separation", "within_class_spread", "between_class_spread", "SHRINKAGE_RATIO"]

#: ``shrinkage="auto"``: Ledoit-Wolf when ``SHRINKAGE_RATIO * d > N_labelled - K`` (d not << N), else none.
SHRINKAGE_RATIO = 10


# --------------------------------------------------------------------------- class geometry
def _labelled(x: Any, labels: Any, name: str = "x") -> tuple[np.ndarray, np.ndarray, int]:
    h = as_embedding(x, name)
    y = as_labels(labels, h.shape[0])
    mask = y >= 0
    if not mask.any():
        raise ValidationError("labels has no labelled node (all negative); class measures need classes")
    h, y = h[mask], y[mask]
    classes, y = np.unique(y, return_inverse=True)  # empty class ids are dropped
    return h, y, classes.size


def _class_means(h: np.ndarray, y: np.ndarray, k: int, ind: Any = None) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(y, minlength=k).astype(np.float64)
    # the package's class indicator (a sparse K x N product: ~10x faster than np.add.at on large N); a caller
    # measuring many layers of the same labels passes it once built
    return np.asarray((class_indicator(y, k) if ind is None else ind) @ h), counts


def within_class_spread(x: Any, labels: Any) -> float:
    """Mean squared distance of a labelled node to its class mean: ``(1/N_l) sum_i ||x_i - mu_{c_i}||^2``.

    The sum runs over the ``N_l`` labelled nodes (label >= 0); ``mu_c`` is the mean of class c. It
    is the trace of the within-class scatter divided by ``N_l`` (population form, ddof = 0), so
    ``within_class_spread + between_class_spread`` is the total variance
    ``(1/N_l) sum_i ||x_i - mu||^2`` of the labelled nodes.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import within_class_spread
    >>> within_class_spread(np.array([[0.0], [2.0], [10.0], [10.0]]), [0, 0, 1, 1])
    0.5
    """
    h, y, k = _labelled(x, labels)
    means, _ = _class_means(h, y, k)
    return _within_of(h, y, means)


def _within_of(h: np.ndarray, y: np.ndarray, means: np.ndarray) -> float:
    r = h - means[y]
    return float(np.einsum("ij,ij->", r, r) / h.shape[0])


def _between_of(means: np.ndarray, counts: np.ndarray) -> float:
    dev = means - counts @ means / counts.sum()
    return float(counts @ np.einsum("ij,ij->i", dev, dev) / counts.sum())


def between_class_spread(x: Any, labels: Any) -> float:
    """Class-size-weighted mean squared distance of the class means to the overall mean.

    ``sum_c (n_c / N_l) ||mu_c - mu||^2`` with ``n_c`` the labelled nodes of class c, ``mu_c``
    their mean and ``mu`` the mean of all ``N_l`` labelled nodes (the trace of the
    between-class scatter divided by ``N_l``).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import between_class_spread
    >>> between_class_spread(np.array([[0.0], [2.0], [10.0], [10.0]]), [0, 0, 1, 1])
    20.25
    """
    h, y, k = _labelled(x, labels)
    means, counts = _class_means(h, y, k)
    return _between_of(means, counts)


def _ledoit_wolf(z: np.ndarray, gram: np.ndarray) -> float:
    """Ledoit & Wolf (2004) shrinkage intensity towards ``(tr S / d) I`` for centred rows ``z``.

    With ``S = Z^T Z / n`` (``gram = Z^T Z``), ``m = tr(S) / d``, ``delta^2 = ||S - m I||_F^2 / d`` and
    ``beta^2 = (1/n^2) sum_k ||z_k z_k^T - S||_F^2 / d = ((1/n) sum_k ||z_k||^4 - ||S||_F^2) / (n d)``:
    intensity ``min(beta^2, delta^2) / delta^2``. O(N d) given the Gram matrix.
    """
    n, d = z.shape
    sq = np.einsum("ij,ij->i", z, z)
    s = gram / n
    trace = float(np.trace(s))
    mu = trace / d
    fro2 = float(np.einsum("ij,ij->", s, s))
    beta = (float(sq @ sq) / n - fro2) / (n * d)
    delta = (fro2 - 2.0 * mu * trace + d * mu**2) / d
    beta = min(beta, delta)
    return 0.0 if beta <= 0 or delta <= 0 else float(beta / delta)


def _separation(x: Any, labels: Any, shrinkage: Any = "auto") -> tuple[float, float, str]:
    """(separation, shrinkage used, how it was chosen)."""
    return _separation_of(*_labelled(x, labels), shrinkage)


def _separation_of(h: np.ndarray, y: np.ndarray, k: int, shrinkage: Any = "auto",
                   ind: Any = None) -> tuple[float, float, str]:
    if k < 2:
        raise ValidationError(f"class_separation needs at least 2 classes among the labelled nodes, got {k}")
    n, d = h.shape
    means, _ = _class_means(h, y, k, ind)
    z = h - means[y]
    dof = n - k
    gram = z.T @ z
    if isinstance(shrinkage, str):
        if shrinkage not in ("auto", "ledoit-wolf"):
            raise ValidationError(f"shrinkage must be 'auto', 'ledoit-wolf' or a number in [0, 1], got {shrinkage!r}")
        if shrinkage == "ledoit-wolf" or SHRINKAGE_RATIO * d > dof:
            s = _ledoit_wolf(z, gram)
            how = f"Ledoit-Wolf {s:.3g}" + ("" if shrinkage == "ledoit-wolf" else
                                             f" (d = {d} is not << N - K = {dof})")
        else:
            s, how = 0.0, f"none (d = {d} << N - K = {dof})"
    elif shrinkage is None:
        s, how = 0.0, "none"
    else:
        s = float(shrinkage)
        if not 0.0 <= s <= 1.0:
            raise ValidationError(f"shrinkage must be 'auto', 'ledoit-wolf' or a number in [0, 1], got {shrinkage!r}")
        how = f"fixed {s:.3g}"
    cov = gram / max(dof, 1)
    centred = means - means.mean(axis=0)
    solved = None
    if s > 0:
        target = np.trace(cov) / d
        cov *= 1.0 - s
        cov[np.diag_indices(d)] += s * target
        try:  # positive definite once shrunk: a Cholesky solve, O(d^3 / 3)
            from scipy.linalg import cho_factor, cho_solve

            solved = cho_solve(cho_factor(cov), centred.T)
        except np.linalg.LinAlgError:
            solved = None
    if solved is None:  # pseudo-inverse: distances within the range of a rank-deficient S
        solved = np.linalg.pinv(cov, hermitian=True) @ centred.T
    g = centred @ solved
    diag = np.diag(g)
    dist2 = diag[:, None] + diag[None, :] - 2.0 * g
    off = ~np.eye(k, dtype=bool)
    return float(np.sqrt(max(float(dist2[off].min()), 0.0))), s, how


def class_separation(x: Any, labels: Any, *, shrinkage: Any = "auto") -> float:
    """Smallest Mahalanobis distance between two class means under the pooled within-class covariance.

    ``min_{a != b} sqrt((mu_a - mu_b)^T S^+ (mu_a - mu_b))`` over the classes present among the
    labelled nodes, with the pooled within-class covariance
    ``S = (1/(N_l - K)) sum_i (x_i - mu_{c_i})(x_i - mu_{c_i})^T`` (``^+``: pseudo-inverse, so a
    rank-deficient S measures distances in its range). With shrinkage ``s``, S is replaced by
    ``(1 - s) S + s (tr S / d) I`` (towards a scaled identity).

    Parameters
    ----------
    x : array or tensor (N, d) or (N,)
    labels : array or tensor (N,)
        Negative for unlabelled nodes (ignored).
    shrinkage : "auto", "ledoit-wolf", float in [0, 1] or None
        ``"auto"``: the Ledoit-Wolf (2004) intensity when d is not << N, precisely when
        ``10 d > N_l - K`` (fewer than 10 residual degrees of freedom per dimension), else none.
        ``"ledoit-wolf"``: always; a number: that fixed intensity; None or 0: none.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import class_separation
    >>> x = np.array([[0.0], [2.0], [10.0], [12.0]])
    >>> class_separation(x, [0, 0, 1, 1])  # means 1 and 11, pooled variance (1 + 1 + 1 + 1) / 2 = 2
    7.0710678118654755
    """
    return _separation(x, labels, shrinkage)[0]


