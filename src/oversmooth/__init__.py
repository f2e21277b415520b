"""oversmooth: measure, predict and explain oversmoothing in graph neural networks.

Implements the finite-depth analysis of Wu, Chen, Wang and Jadbabaie, "A Non-Asymptotic
Analysis of Oversmoothing in Graph Neural Networks" (ICLR 2023): on a contextual stochastic
block model, each linear graph convolution *mixes* the class means (gap ~ lambda^n) and
*denoises* the features (variance down to ~1/N); their race makes the error U-shaped in depth.

Subpackages, data flowing one way: :mod:`~oversmooth.graphs` -> :mod:`~oversmooth.operators`
-> :mod:`~oversmooth.measures` -> :mod:`~oversmooth.theory` -> :mod:`~oversmooth.experiments`
-> :mod:`~oversmooth.training` -> :mod:`~oversmooth.viz` / :mod:`~oversmooth.report`
-> :mod:`~oversmooth.cli`.

Examples
--------
>>> import oversmooth
>>> rows = oversmooth.simulate(n=400, p=0.05, q=0.01, depth=3, seed=0)
>>> [r["depth"] for r in rows]
[0, 1, 2, 3]
"""

from ._version import __version__
from .experiments import simulate  # noqa: E402
from .graphs import Graph, sample_csbm

__all__ = ["__version__", "Graph", "sample_csbm", "simulate"]
