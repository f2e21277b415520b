"""Per-class statistics, Bayes and realised errors (smoothness measures: ``_smoothness``).

Two different within-class "variances" appear in this package; never mix them up:

* the **feature-noise variance** (the paper's ``sigma(n)^2``, see
  :func:`oversmooth.measures.feature_noise_variance`): the variance *over feature
  draws* of one node's representation, ``sigma^2 ||row i of M_n||^2``, averaged over a
  class. It obeys ``sigma^2/N <= . <= sigma^2`` on every graph.
* the **cross-sectional spread** (:func:`cross_sectional_spread`): the variance
  *across the nodes* of a class of one realisation h(n). It goes to 0 with depth and
  can fall below ``sigma^2/N``; it is what a practitioner sees, not the paper's variance.

A third quantity, the **structural spread** (:func:`structural_spread`), is the
variance across the nodes of a class of the conditional means ``(M_n mu)_i``: how
unevenly the graph mixes the classes at different nodes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import log_ndtr, ndtr

from ..errors import ValidationError
from .._utils import SeedLike, check_random_state

__all__ = [
    "class_means",
    "class_indicator",
    "mean_gap",
    "mahalanobis_distances",
    "min_mahalanobis_distance",
    "cross_sectional_spread",
    "structural_spread",
    "bayes_error",
    "bayes_error_lda",
    "realised_error",
]


def _as_2d(h: Any) -> np.ndarray:
    arr = np.asarray(h, dtype=np.float64)
    return arr[:, None] if arr.ndim == 1 else arr


def class_indicator(labels: np.ndarray, n_classes: int | None = None) -> sp.csr_array:
    """Row-normalised K x N indicator: ``(C @ v)[c]`` is the mean of v over class c.

    Unlabelled nodes (label -1) belong to no class.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import class_indicator
    >>> (class_indicator(np.array([0, 0, 1, -1])) @ np.array([1.0, 3.0, 5.0, 9.0])).tolist()
    [2.0, 5.0]
    """
    k, rows, cols, w = _class_weights(labels, n_classes)
    return sp.csr_array((w, (rows, cols)), shape=(k, np.asarray(labels).size))


def _class_weights(labels: Any, n_classes: int | None = None) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """K, and per labelled node (in node order) its class, its id and ``1 / |class|``."""
    labels = np.asarray(labels)
    k = int(labels.max()) + 1 if n_classes is None else int(n_classes)
    mask = labels >= 0
    counts = np.bincount(labels[mask], minlength=k).astype(np.float64)
    if np.any(counts == 0):
        empty = int(np.flatnonzero(counts == 0)[0])
        raise ValidationError(f"class {empty} has no labelled node; every class needs at least one")
    rows = labels[mask]
    return k, rows, np.flatnonzero(mask), 1.0 / counts[rows]


#: Up to this many columns, class means are per-column weighted bincounts (no indicator matrix built).
_BINCOUNT_MAX_COLUMNS = 8


def class_means(h: Any, labels: Any) -> np.ndarray:
    """Mean of ``h`` over the nodes of each class, shape (K, d).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import class_means
    >>> class_means(np.array([1.0, 3.0, 10.0]), np.array([0, 0, 1])).ravel().tolist()
    [2.0, 10.0]
    """
    h2 = _as_2d(h)
    if h2.shape[1] > _BINCOUNT_MAX_COLUMNS:
        return np.asarray(class_indicator(np.asarray(labels)) @ h2)
    # the indicator product's sums, term for term and in the same node order: bitwise the same
    k, rows, cols, w = _class_weights(labels)
    out = np.empty((k, h2.shape[1]))
    for j in range(h2.shape[1]):
        out[:, j] = np.bincount(rows, weights=w * h2[cols, j], minlength=k)
    return out


def _within_class_variance(h: Any, labels: Any) -> np.ndarray:
    """Per class: variance across its nodes, averaged over the d dimensions (ddof=0)."""
    h2 = _as_2d(h)
    c = class_indicator(np.asarray(labels))
    means = c @ h2
    sq = c @ (h2 * h2)
    return np.clip(sq - means * means, 0.0, None).mean(axis=1)


def cross_sectional_spread(h: Any, labels: Any) -> np.ndarray:
    """Within-class variance *across nodes* of one realisation h(n), per class.

    Not the paper's variance: it shrinks to 0 with depth and may fall below
    ``sigma^2 / N``. See the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import cross_sectional_spread
    >>> cross_sectional_spread(np.array([1.0, 3.0, 5.0, 5.0]), np.array([0, 0, 1, 1])).tolist()
    [1.0, 0.0]
    """
    return _within_class_variance(h, labels)


def structural_spread(conditional_means: Any, labels: Any) -> np.ndarray:
    """Within-class variance across nodes of the conditional means ``(M_n mu)_i``, per class.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import structural_spread
    >>> structural_spread(np.array([0.5, 0.7, -1.0, -1.0]), np.array([0, 0, 1, 1])).round(6).tolist()
    [0.01, 0.0]
    """
    return _within_class_variance(conditional_means, labels)


def mean_gap(means: Any, cov: Any = None) -> Any:
    """The mixing statistic between class means.

    Two classes in 1-D with no ``cov``: the signed gap ``mu_2 - mu_1``. Otherwise the
    K x K matrix of pairwise Mahalanobis distances under the shared covariance ``cov``
    (identity if omitted).

    Examples
    --------
    >>> from oversmooth.measures import mean_gap
    >>> mean_gap([[-1.0], [1.0]])
    2.0
    >>> mean_gap([[0.0, 0.0], [3.0, 4.0]]).round(6).tolist()
    [[0.0, 5.0], [5.0, 0.0]]
    """
    m = _as_2d(means)
    if m.shape[0] == 2 and m.shape[1] == 1 and cov is None:
        return float(m[1, 0] - m[0, 0])
    return mahalanobis_distances(m, np.eye(m.shape[1]) if cov is None else cov)


def mahalanobis_distances(means: Any, cov: Any) -> np.ndarray:
    """Pairwise Mahalanobis distances ``sqrt((m_a - m_b)^T cov^+ (m_a - m_b))``.

    Examples
    --------
    >>> from oversmooth.measures import mahalanobis_distances
    >>> mahalanobis_distances([[0.0, 0.0], [3.0, 4.0]], [[1.0, 0.0], [0.0, 1.0]]).tolist()
    [[0.0, 5.0], [5.0, 0.0]]
    """
    m = _as_2d(means)
    c = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    prec = np.linalg.pinv(c)
    diff = m[:, None, :] - m[None, :, :]
    return np.sqrt(np.clip(np.einsum("abi,ij,abj->ab", diff, prec, diff), 0.0, None))


def bayes_error(gap: Any, std: Any = 1.0, *, log10: bool = False) -> Any:
    """Bayes error of two equal-prior Gaussians with a common std: ``Phi(-|gap| / (2 std))``.

    The package's one implementation of ``Phi(-separation / 2)``: with the default
    ``std = 1``, ``gap`` is a separation (a Mahalanobis distance, ``|gap| / std``).
    (The paper's blog post writes ``1 - Phi(gap / std)``: the factor 2 is missing there.)

    Parameters
    ----------
    gap : float or array
        Distance between the two class means (its sign is ignored).
    std : float or array, default 1.0
        The common standard deviation (not a variance); 0 gives 0 error for a non-zero gap.
    log10 : bool, default False
        Return ``log10`` of the error, accurate far into the tail (``log_ndtr``: a
        separation of 60 gives about -197 where the error itself underflows to 0).

    Examples
    --------
    >>> from scipy.special import log_ndtr, ndtr
    >>> from oversmooth.measures import bayes_error
    >>> bool(abs(bayes_error(2.0, 1.0) - ndtr(-1.0)) < 1e-15)
    True
    >>> round(bayes_error(60.0, log10=True), 1)
    -197.3
    """
    gap = np.abs(np.asarray(gap, dtype=np.float64))
    std = np.asarray(std, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(std > 0, gap / (2.0 * np.where(std > 0, std, 1.0)), np.where(gap > 0, np.inf, 0.0))
        z = np.where(np.isnan(std), np.nan, z)  # an unknown std gives an unknown error, never 0
        out = log_ndtr(-z) / np.log(10.0) if log10 else ndtr(-z)
    return float(out) if out.ndim == 0 else out


def min_mahalanobis_distance(means: Any, cov: Any = None, *, precision: Any = None) -> float:
    """The smallest Mahalanobis distance between two class means (the K-class separation).

    ``min_{a != b} sqrt((m_a - m_b)^T cov^+ (m_a - m_b))``; pass ``precision`` (the inverse
    covariance) instead of ``cov`` to reuse one. Identity covariance when both are omitted;
    0 for fewer than two classes.

    Examples
    --------
    >>> from oversmooth.measures import min_mahalanobis_distance
    >>> min_mahalanobis_distance([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])
    1.0
    >>> min_mahalanobis_distance([[0.0], [2.0]], [[4.0]])
    1.0
    """
    m = _as_2d(means)
    k = m.shape[0]
    if k < 2:
        return 0.0
    if precision is None:
        c = np.eye(m.shape[1]) if cov is None else np.atleast_2d(np.asarray(cov, dtype=np.float64))
        precision = np.linalg.pinv(c)
    diff = m[:, None, :] - m[None, :, :]
    d2 = np.einsum("abi,ij,abj->ab", diff, np.atleast_2d(np.asarray(precision, dtype=np.float64)), diff)
    return float(np.sqrt(max(float(d2[~np.eye(k, dtype=bool)].min()), 0.0)))


def bayes_error_lda(
    means: Any, cov: Any, *, n_samples: int = 200_000, seed: SeedLike = 0
) -> float:
    """Bayes error of K equal-prior Gaussian classes with a shared covariance (LDA view).

    K = 2: ``Phi(-Delta_M / 2)`` with ``Delta_M`` the Mahalanobis distance (exact).
    d = 1, any K: exact, from the intervals between midpoints of the sorted means.
    Otherwise a Monte Carlo estimate with ``n_samples`` draws (standard error below
    ``sqrt(0.25 / n_samples)``, 0.0011 by default) from a fixed ``seed``.

    Examples
    --------
    >>> from oversmooth.measures import bayes_error_lda
    >>> round(bayes_error_lda([[-1.0], [1.0]], [[1.0]]), 6)
    0.158655
    """
    m = _as_2d(means)
    c = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    k, d = m.shape
    if k < 2:
        return 0.0
    if k == 2:
        return float(bayes_error(min_mahalanobis_distance(m, c)))
    if d == 1:
        s = float(np.sqrt(c[0, 0]))
        mu = np.sort(m[:, 0])
        if s == 0:
            return float(np.mean(np.diff(mu) == 0)) * 0.5
        mids = (mu[1:] + mu[:-1]) / 2.0
        lo = np.concatenate([[-np.inf], mids])
        hi = np.concatenate([mids, [np.inf]])
        correct = ndtr((hi - mu) / s) - ndtr((lo - mu) / s)
        return float(1.0 - correct.mean())
    rng = check_random_state(seed)
    w, v = np.linalg.eigh(c)
    factor = v * np.sqrt(np.clip(w, 0.0, None))
    per = max(1, n_samples // k)
    prec = np.linalg.pinv(c)
    errors = 0
    for a in range(k):
        z = m[a] + rng.standard_normal((per, d)) @ factor.T
        scores = z @ prec @ m.T - 0.5 * np.einsum("ki,ij,kj->k", m, prec, m)
        errors += int(np.count_nonzero(np.argmax(scores, axis=1) != a))
    return errors / (per * k)


def realised_error(h: Any, labels: Any) -> float:
    """In-sample error of the best linear rule fitted on the actual h(n) (equal priors).

    Linear discriminant analysis: class means and pooled within-class covariance of
    the labelled nodes, equal priors. For two classes in 1-D this is the threshold at
    the midpoint of the two realised class means, oriented by their order.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import realised_error
    >>> realised_error(np.array([-2.0, -1.0, 0.2, 1.0, 2.0, -0.1]), np.array([0, 0, 0, 1, 1, 1]))
    0.3333333333333333
    """
    h2 = _as_2d(h)
    lab = np.asarray(labels)
    mask = lab >= 0
    if not mask.all():
        h2, lab = h2[mask], lab[mask]
    k = int(lab.max()) + 1
    means = class_means(h2, lab)
    # Shift everything by the centre of the class means: the LDA decision is unchanged
    # (the scores move by a class-independent amount), but deep layers, where every row
    # is nearly the same value, no longer lose the class differences to cancellation.
    centre = means.mean(axis=0)
    h2 = h2 - centre
    means = means - centre
    centred = h2 - means[lab]
    # einsum, not BLAS, for the tall-thin products: threaded BLAS stalls on busy machines
    cov = np.einsum("ni,nj->ij", centred, centred) / max(1, h2.shape[0] - k)
    prec = np.linalg.pinv(np.atleast_2d(cov))
    scores = np.einsum("nd,dk->nk", h2, prec @ means.T) - 0.5 * np.einsum("ki,ij,kj->k", means, prec, means)
    pred = np.argmax(scores, axis=1)
    return float(np.mean(pred != lab))
