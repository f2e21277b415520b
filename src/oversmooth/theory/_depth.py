"""Where the race between mixing and denoising ends: the predicted Bayes error and the best depth."""

from __future__ import annotations

from math import log
from typing import Any

import numpy as np

from .._utils import renamed_kwargs
from ..errors import ValidationError
from ..measures import bayes_error

__all__ = ["predicted_bayes_error", "optimal_depth", "depth_scale_loglog", "depth_scale_logd"]


def predicted_bayes_error(gaps: Any, variances: Any) -> np.ndarray:
    """``Phi(-|gap(n)| / (2 sqrt(var(n))))`` from predicted gap and variance curves (:func:`oversmooth.measures.bayes_error`).

    Examples
    --------
    >>> from oversmooth.theory import predicted_bayes_error
    >>> predicted_bayes_error([2.0, 1.0], [1.0, 0.25]).round(6).tolist()
    [0.158655, 0.158655]
    """
    g = np.abs(np.asarray(gaps, dtype=np.float64))
    v = np.asarray(variances, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return bayes_error(g, np.sqrt(v))


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
        raise ValidationError("errors must contain at least one number")
    return int(np.nanargmin(e))


def depth_scale_loglog(n_nodes: float) -> float:
    """``log N / log log N``: the diameter scale of the CSBM when d ~ log N.

    Examples
    --------
    >>> from oversmooth.theory import depth_scale_loglog
    >>> round(depth_scale_loglog(10_000), 3)
    4.148
    """
    return log(n_nodes) / log(log(n_nodes))


@renamed_kwargs(d="degree")
def depth_scale_logd(n_nodes: float, degree: float) -> float:
    """``log N / log d``: the depth at which ``d^n ~ N`` (variance saturation), ``d`` = ``degree``.

    Examples
    --------
    >>> from oversmooth.theory import depth_scale_logd
    >>> depth_scale_logd(10_000, 10.0)
    4.0
    """
    return log(n_nodes) / log(degree)
