"""Measures of mixing and denoising: class statistics, variances, Bayes and realised errors.

See :mod:`oversmooth.measures._stats` for the two different variances (the paper's
feature-noise variance versus the cross-sectional spread of one realisation).

Examples
--------
>>> from oversmooth.measures import bayes_error
>>> round(bayes_error(2.0, 1.0), 6)
0.158655
"""

from ._embeddings import (
    PROBE_MAX_TRAIN,
    PROFILE_METRICS,
    SHRINKAGE_RATIO,
    Profile,
    between_class_spread,
    class_separation,
    profile_embeddings,
    within_class_spread,
)
from ._mixture import MIXTURE_METHODS, MIXTURE_PRIORS, TAIL_SIGMAS, MixtureBayesError, mixture_bayes_error
from ._probe import linear_probe, probe_accuracy
from ._reduce import principal_projection
from ._profile import DEPTH_PROFILE_METRICS, depth_profile
from ._variance import (
    EXACT_MAX_NODES,
    VARIANCE_METHODS,
    VarianceEstimate,
    feature_noise_variance,
    memory_estimate,
    resolve_variance_method,
    row_norms_sq,
)
from ._sampled_edges import SMOOTHNESS_EXACT_MAX_NODES, SMOOTHNESS_SAMPLE_NODES
from ._smoothness import (
    GDR_MAX_NODES,
    MADGAP_EXACT_MAX_NODES,
    MADGAP_SAMPLE_SOURCES,
    EdgeArrays,
    HopMasks,
    dirichlet_energy,
    edge_arrays,
    edge_smoothness,
    effective_rank,
    group_distance_ratio,
    hop_masks,
    mad,
    mad_gap,
    normalized_dirichlet_energy,
    rayleigh_quotient,
)
from ._stats import (
    bayes_error,
    bayes_error_lda,
    class_indicator,
    class_means,
    cross_sectional_spread,
    mahalanobis_distances,
    mean_gap,
    min_mahalanobis_distance,
    realised_error,
    structural_spread,
)

__all__ = [
    "PROBE_MAX_TRAIN",
    "SHRINKAGE_RATIO",
    "MIXTURE_METHODS",
    "MIXTURE_PRIORS",
    "TAIL_SIGMAS",
    "DEPTH_PROFILE_METRICS",
    "MixtureBayesError",
    "mixture_bayes_error",
    "EXACT_MAX_NODES",
    "VarianceEstimate",
    "depth_profile",
    "feature_noise_variance",
    "row_norms_sq",
    "resolve_variance_method",
    "memory_estimate",
    "VARIANCE_METHODS",
    "SMOOTHNESS_EXACT_MAX_NODES",
    "SMOOTHNESS_SAMPLE_NODES",
    "bayes_error",
    "bayes_error_lda",
    "class_indicator",
    "class_means",
    "cross_sectional_spread",
    "dirichlet_energy",
    "edge_arrays",
    "mad",
    "mahalanobis_distances",
    "min_mahalanobis_distance",
    "mean_gap",
    "realised_error",
    "structural_spread",
    "GDR_MAX_NODES",
    "MADGAP_EXACT_MAX_NODES",
    "MADGAP_SAMPLE_SOURCES",
    "EdgeArrays",
    "HopMasks",
    "edge_smoothness",
    "effective_rank",
    "group_distance_ratio",
    "hop_masks",
    "mad_gap",
    "normalized_dirichlet_energy",
    "rayleigh_quotient",
    "PROFILE_METRICS",
    "Profile",
    "between_class_spread",
    "class_separation",
    "profile_embeddings",
    "within_class_spread",
    "linear_probe",
    "probe_accuracy",
    "principal_projection",
]
