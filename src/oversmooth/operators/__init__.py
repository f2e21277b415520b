"""Operators: normalised adjacencies and streaming propagation (GCN, APPNP/PPR, PairNorm, corrected).

Propagation runs in float64 (default) or float32 (``dtype=``), with the NumPy/SciPy kernel
(row-parallel, cache-blocked: :mod:`oversmooth.operators._spmm`) or, with the ``train`` extra,
``backend="torch"`` (CPU, or CUDA when present).

Examples
--------
>>> import numpy as np
>>> from oversmooth.graphs import sample_csbm
>>> from oversmooth.operators import normalize_adjacency, iter_propagate
>>> g = sample_csbm(100, p=0.1, q=0.02, seed=0)
>>> P = normalize_adjacency(g, "rw")
>>> hs = list(iter_propagate(P, g.features, 3, operator="appnp", alpha=0.1))
>>> len(hs), hs[0].shape
(4, (100, 1))
"""

from ._normalize import NORMALIZATIONS, ZERO_DEGREE_POLICIES, normalize_adjacency, stationary_projection
from ._propagate import BACKENDS, DTYPES, OPERATORS, PAIRNORM_MODES, iter_propagate, pairnorm, propagate
from ._spmm import RowParallelMatmul, blas_threads, check_dtype, num_threads

__all__ = [
    "normalize_adjacency",
    "stationary_projection",
    "iter_propagate",
    "propagate",
    "pairnorm",
    "NORMALIZATIONS",
    "ZERO_DEGREE_POLICIES",
    "OPERATORS",
    "PAIRNORM_MODES",
    "BACKENDS",
    "DTYPES",
    "check_dtype",
    "num_threads",
    "blas_threads",
    "RowParallelMatmul",
]
