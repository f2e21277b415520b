"""Measures of mixing and denoising: class statistics, variances, Bayes and realised errors.

See :mod:`oversmooth.measures._stats` for the two different variances (the paper's
feature-noise variance versus the cross-sectional spread of one realisation).

Examples
--------
>>> from oversmooth.measures import bayes_error
>>> round(bayes_error(2.0, 1.0), 6)
0.158655
"""

from ._profile import EXACT_MAX_NODES, VarianceEstimate, depth_profile, feature_noise_variance
from ._stats import (
    bayes_error,
    bayes_error_lda,
    class_indicator,
    class_means,
    cross_sectional_spread,
    dirichlet_energy,
    edge_arrays,
    mad,
    mahalanobis_distances,
    mean_gap,
    realised_error,
    structural_spread,
)

__all__ = [
    "EXACT_MAX_NODES",
    "VarianceEstimate",
    "depth_profile",
    "feature_noise_variance",
    "bayes_error",
    "bayes_error_lda",
    "class_indicator",
    "class_means",
    "cross_sectional_spread",
    "dirichlet_energy",
    "edge_arrays",
    "mad",
    "mahalanobis_distances",
    "mean_gap",
    "realised_error",
    "structural_spread",
]
