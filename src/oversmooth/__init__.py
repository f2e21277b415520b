"""oversmooth: measure, predict and explain oversmoothing in graph neural networks.

Implements the finite-depth analysis of Wu, Chen, Wang and Jadbabaie, "A Non-Asymptotic
Analysis of Oversmoothing in Graph Neural Networks" (ICLR 2023): on a contextual stochastic
block model, each linear graph convolution *mixes* the class means (gap ~ lambda^n) and
*denoises* the features (variance down to ~1/N); their race makes the error U-shaped in depth.

Subpackages, data flowing one way: :mod:`~oversmooth.graphs` -> :mod:`~oversmooth.operators`
-> :mod:`~oversmooth.measures` -> :mod:`~oversmooth.theory` -> :mod:`~oversmooth.experiments`
-> :mod:`~oversmooth.training` -> :mod:`~oversmooth.viz` / :mod:`~oversmooth.report`
-> :mod:`~oversmooth.cli`; :mod:`~oversmooth.tables` (row schemas, CSV, mean +- SEM) and
:mod:`~oversmooth.errors` are shared by all of them.

The top-level names are imported on first use, so ``import oversmooth`` (and every
command-line call) does not pay for SciPy and the subpackages until they are needed.

Examples
--------
>>> import oversmooth
>>> rows = oversmooth.simulate(n=400, p=0.05, q=0.01, depth=3, seed=0)
>>> [r["depth"] for r in rows]
[0, 1, 2, 3]
"""

from __future__ import annotations

import importlib
from typing import Any

from ._version import __version__

__all__ = ["__version__", "Graph", "sample_csbm", "simulate"]

_LAZY = {"Graph": "oversmooth.graphs", "sample_csbm": "oversmooth.graphs", "simulate": "oversmooth.experiments"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'oversmooth' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
