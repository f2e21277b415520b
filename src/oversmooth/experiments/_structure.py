"""Moved: :func:`fit_csbm`, :class:`CSBMFit` and :func:`prepare_graph` to :mod:`oversmooth.theory`;
:func:`saturation_level` and :func:`graph_reach` (statistics of the graph alone) to
:mod:`oversmooth.graphs`. Re-exported here for one release.
"""

from __future__ import annotations

from ..graphs import graph_reach, saturation_level
from ..theory import CSBMFit, fit_csbm, prepare_graph

__all__ = ["CSBMFit", "prepare_graph", "fit_csbm", "saturation_level", "graph_reach"]
