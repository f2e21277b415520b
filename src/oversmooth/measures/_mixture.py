"""The exact Bayes error given the graph: each class is a Gaussian mixture over its nodes.

Given the graph, node i's feature after n linear layers is Gaussian,
``h_i(n) ~ N((M_n mu)_i, sigma^2 ||row i of M_n||^2 I)`` (SCIENCE.md sections 3 and 6; the
Gaussian-mixture view of Dalle et al., Oversmoothing.jl). A random node of class c is a
random member of c, so its feature density is the mixture ``f_c = (1/N_c) sum_{i in c} phi_i``.
The Bayes error of a random node is ``1 - integral max_c pi_c f_c(x) dx``, which for two
equal classes is ``1/2 integral min(f_1, f_2)``. It differs from the Gaussian view
``Phi(-|gap| / (2 s))`` (one Gaussian per class with the class-averaged mean and variance)
when the structural spread of the node means is large, as on sparse graphs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import log_ndtr, logsumexp

from ..errors import ValidationError
from .._utils import SeedLike, check_choice, check_finite_array, check_positive_int, spawn_generators
from ._inputs import as_labels

__all__ = ["MixtureBayesError", "mixture_bayes_error", "MIXTURE_METHODS", "MIXTURE_PRIORS", "TAIL_SIGMAS"]

MIXTURE_METHODS = ("auto", "quadrature", "monte_carlo")
MIXTURE_PRIORS = ("fractions", "equal")
TAIL_SIGMAS = 8.0  # the quadrature grid reaches this many standard deviations beyond every node's mean
_CHUNK = 2_000_000  # node x grid-point (or sample) entries per block


@dataclass(frozen=True)
class MixtureBayesError:
    """The mixture Bayes error and how precise it is.

    Attributes
    ----------
    error : float
        The Bayes error of a random labelled node.
    uncertainty : float
        ``"quadrature"``: the stated error bound, ``tail + discretisation`` (see
        :func:`mixture_bayes_error`); ``"monte_carlo"``: the standard error.
    method : str
        ``"quadrature"`` or ``"monte_carlo"``.
    priors : str
        ``"fractions"`` (a random node: class c with probability N_c / N) or ``"equal"``.
    detail : dict
        Quadrature: ``grid_points``, ``spacing``, ``interval``, ``tail_bound``,
        ``discretisation_bound``, ``kinks``, ``halving_difference``, ``min_node_std``;
        Monte Carlo: ``n_samples``.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import mixture_bayes_error
    >>> res = mixture_bayes_error(np.array([-1.0, -1.0, 1.0, 1.0]), np.ones(4), np.array([0, 0, 1, 1]))
    >>> res.method, round(res.error, 4), res.uncertainty < 1e-6
    ('quadrature', 0.1587, True)
    """

    error: float
    uncertainty: float
    method: str
    priors: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __float__(self) -> float:
        return self.error


def _class_weights(labels: np.ndarray, priors: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-node mixture weights ``w_i = pi_{c(i)} / N_{c(i)}`` (summing to 1) for labelled nodes."""
    lab = labels[labels >= 0]
    k = int(lab.max()) + 1
    counts = np.bincount(lab, minlength=k).astype(np.float64)
    present = counts > 0
    if priors == "fractions":
        prior = counts / counts.sum()
    else:
        prior = np.where(present, 1.0 / present.sum(), 0.0)
    w = prior[lab] / counts[lab]
    return w, lab, k


def _quadrature(m: np.ndarray, s: np.ndarray, w: np.ndarray, lab: np.ndarray, k: int,
                grid: int) -> tuple[float, dict[str, Any]]:
    lo = float(np.min(m - TAIL_SIGMAS * s))
    hi = float(np.max(m + TAIL_SIGMAS * s))
    x = np.linspace(lo, hi, grid)
    h = (hi - lo) / (grid - 1)
    dens = np.zeros((k, grid))  # pi_c f_c on the grid
    step = max(1, _CHUNK // grid)
    for start in range(0, m.size, step):
        sl = slice(start, start + step)
        z = (x[None, :] - m[sl, None]) / s[sl, None]
        phi = np.exp(-0.5 * z * z) / (math.sqrt(2.0 * math.pi) * s[sl, None])
        wphi = w[sl, None] * phi
        for c in range(k):
            rows = lab[sl] == c
            if np.any(rows):
                dens[c] += wphi[rows].sum(axis=0)
    g = dens.sum(axis=0) - dens.max(axis=0)  # the error integrand: sum_c pi_c f_c - max_c pi_c f_c
    fine = float(h * (g.sum() - 0.5 * (g[0] + g[-1])))  # trapezoid
    coarse = float(2 * h * (g[::2].sum() - 0.5 * (g[0] + g[-1])))  # every other point (grid is odd)
    # Tail: every node's mean lies >= TAIL_SIGMAS of its std inside [lo, hi], and the integrand is at
    # most the mixture density, so its mass outside is at most sum_i w_i 2 Phi(-TAIL_SIGMAS).
    tail = float(2.0 * math.exp(log_ndtr(-TAIL_SIGMAS)))
    # Discretisation (leading order in h): smooth stretches h^2/12 int |g''| <= h^2/12 sum_i w_i 4 phi(1)/s_i^2;
    # each kink (the largest class switches) adds at most h^2/8 times the jump of g', which is at most
    # sum_i w_i max|phi_i'| = sum_i w_i phi(1)/s_i^2.
    phi1 = math.exp(-0.5) / math.sqrt(2.0 * math.pi)
    s2 = float(np.sum(w / (s * s)))
    kinks = int(np.count_nonzero(np.diff(np.argmax(dens, axis=0)) != 0))
    disc = h * h * s2 * (4.0 * phi1 / 12.0 + kinks * phi1 / 8.0)
    return min(max(fine, 0.0), 1.0), {"grid_points": grid, "spacing": h, "interval": (lo, hi), "tail_bound": tail,
                                      "discretisation_bound": disc, "kinks": kinks,
                                      "halving_difference": abs(fine - coarse)}


def _monte_carlo(m: np.ndarray, v: np.ndarray, w: np.ndarray, lab: np.ndarray, k: int, n_samples: int,
                 rng: np.random.Generator) -> tuple[float, float]:
    n, d = m.shape
    node = rng.choice(n, size=n_samples, p=w / w.sum())
    x = m[node] + np.sqrt(v[node])[:, None] * rng.standard_normal((n_samples, d))
    logw = np.log(w) - 0.5 * d * np.log(2.0 * np.pi * v)
    cond_err = np.empty(n_samples)
    step = max(1, _CHUNK // n)
    for start in range(0, n_samples, step):
        xs = x[start:start + step]
        sq = (np.einsum("ij,ij->i", xs, xs)[:, None] - 2.0 * xs @ m.T + np.einsum("ij,ij->i", m, m)[None, :])
        logp = logw[None, :] - 0.5 * np.maximum(sq, 0.0) / v[None, :]  # (samples, nodes)
        by_class = np.full((xs.shape[0], k), -np.inf)
        for c in range(k):
            cols = lab == c
            if np.any(cols):
                by_class[:, c] = logsumexp(logp[:, cols], axis=1)
        total = logsumexp(by_class, axis=1)
        # Rao-Blackwellised: the error probability given x, 1 - max_c p(c | x), instead of a 0/1 draw
        cond_err[start:start + step] = 1.0 - np.exp(by_class.max(axis=1) - total)
    return float(cond_err.mean()), float(cond_err.std(ddof=1) / math.sqrt(n_samples))


def mixture_bayes_error(
    means_per_node: Any,
    var_per_node: Any,
    labels: Any,
    *,
    method: str = "auto",
    priors: str = "fractions",
    grid: int = 8193,
    n_samples: int = 20_000,
    seed: SeedLike = None,
) -> MixtureBayesError:
    """Bayes error of a random node when each class is a Gaussian mixture over its nodes.

    Node i's feature is ``N(m_i, v_i I)`` (``m_i = (M_n mu)_i``, ``v_i = sigma^2 ||row i of
    M_n||^2``; for a shared covariance Sigma, whiten first: pass ``Sigma^-1/2 m_i``). Class c's
    density is the mixture ``f_c = (1/N_c) sum_{i in c} N(m_i, v_i I)``, and the Bayes error is
    ``1 - integral max_c pi_c f_c(x) dx = integral (sum_c pi_c f_c - max_c pi_c f_c) dx``; for
    two classes this is ``integral min(pi_1 f_1, pi_2 f_2)``, i.e. ``1/2 integral min(f_1, f_2)``
    with equal priors. Unlabelled nodes (label < 0) are left out.

    Parameters
    ----------
    means_per_node : array (N,) or (N, d)
        The conditional means ``(M_n mu)_i``.
    var_per_node : array (N,)
        Each node's noise variance (per dimension), > 0.
    labels : array (N,) of int
        Classes 0..K-1; negative = unlabelled.
    method : {"auto", "quadrature", "monte_carlo"}
        ``"auto"``: quadrature in 1-D, Monte Carlo for d > 1 (quadrature needs d = 1).
    priors : {"fractions", "equal"}, default "fractions"
        ``"fractions"``: ``pi_c = N_c / N`` (the error of a uniformly random labelled node);
        ``"equal"``: ``pi_c = 1/K``. They agree for equal class sizes (the CSBM).
    grid : int, default 8193
        Quadrature points (odd, >= 17) on ``[min_i (m_i - 8 s_i), max_i (m_i + 8 s_i)]``.
    n_samples : int, default 20000
        Monte Carlo samples.
    seed : int, Generator or None
        For Monte Carlo.

    Returns
    -------
    MixtureBayesError
        ``error``, ``uncertainty``, ``method``, ``priors``, ``detail``.

    Notes
    -----
    **Quadrature error.** The trapezoid rule on ``grid`` equally spaced points ``h`` apart.
    ``uncertainty = tail + discretisation``. ``tail = 2 Phi(-8) ~ 1.2e-15`` bounds the
    integrand's mass outside the grid (every node's Gaussian has at most that much mass there,
    and the integrand is at most the mixture density). The integrand ``g`` is smooth except
    for kinks where the largest class switches; to leading order in ``h`` the trapezoid error
    is at most ``h^2/12 int |g''| + (h^2/8) sum_kinks |jump of g'|``, and with
    ``S = sum_i w_i / s_i^2`` (``w_i`` the node's weight ``pi_c / N_c``, ``s_i`` its std) this is
    at most ``h^2 S phi(1) (4/12 + kinks/8)`` (``int |phi_s''| = 4 phi(1)/s^2``,
    ``max |phi_s'| = phi(1)/s^2``), with kinks counted as class switches between grid points
    (a pair of switches inside one cell would be missed: keep ``h`` below the smallest node
    std, reported in ``detail``). That is the stated ``discretisation`` bound; it is
    conservative (``detail["halving_difference"]`` = ``|T_h - T_2h|`` is usually far smaller).
    Cost ``O(N grid)``.

    **Monte Carlo** (d > 1). Draw a node by prior, its feature ``x``, and average the
    conditional error ``1 - max_c p(c | x)`` (lower variance than counting misclassified
    draws, same mean); ``uncertainty`` is the standard error over samples. Cost
    ``O(n_samples N d)``.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures._mixture import mixture_bayes_error
    >>> labels = np.array([0, 0, 1, 1])
    >>> r = mixture_bayes_error([-1.0, -1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], labels)
    >>> round(r.error, 6), r.uncertainty < 1e-6  # Phi(-1): two classes N(-1, 1), N(1, 1)
    (0.158655, True)
    """
    method = check_choice(method, "method", MIXTURE_METHODS)
    priors = check_choice(priors, "priors", MIXTURE_PRIORS)
    m = check_finite_array(means_per_node, "means_per_node", ndim=(1, 2))
    if m.ndim == 1:
        m = m[:, None]
    n, d = m.shape
    v = check_finite_array(var_per_node, "var_per_node", ndim=1)
    if v.shape[0] != n:
        raise ValidationError(f"var_per_node must have {n} entries (one per node, like means_per_node), got {v.shape[0]}")
    y = as_labels(labels, n)
    keep = y >= 0
    if len(np.unique(y[keep])) < 2:
        raise ValidationError("labels must contain at least two classes among the labelled nodes")
    if np.any(v[keep] <= 0):
        raise ValidationError("var_per_node must be > 0 for every labelled node (a point mass has no density)")
    w, lab, k = _class_weights(y, priors)
    m, v = m[keep], v[keep]
    if method == "auto":
        method = "quadrature" if d == 1 else "monte_carlo"
    if method == "quadrature":
        if d != 1:
            raise ValidationError(f"method='quadrature' needs 1-D features, got d={d}; use 'monte_carlo'")
        grid = check_positive_int(grid, "grid", minimum=17)
        if grid % 2 == 0:
            raise ValidationError(f"grid must be odd (the error estimate halves it), got {grid}")
        err, detail = _quadrature(m[:, 0], np.sqrt(v), w, lab, k, grid)
        detail["min_node_std"] = float(np.sqrt(v.min()))
        return MixtureBayesError(err, detail["tail_bound"] + detail["discretisation_bound"], "quadrature", priors,
                                 detail)
    n_samples = check_positive_int(n_samples, "n_samples", minimum=2)
    (rng,) = spawn_generators(seed, 1)
    err, se = _monte_carlo(m, v, w, lab, k, n_samples, rng)
    return MixtureBayesError(err, se, "monte_carlo", priors, {"n_samples": n_samples})
