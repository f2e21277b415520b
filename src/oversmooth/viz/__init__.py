"""Figures of the reproduction, drawn from tidy result tables (lists of row dicts).

Theory is drawn as lines, measurements as markers with error bars (standard error over
seeds, with caps); quantities spanning decades use log axes; depth and layer axes have
integer ticks; symbols are typeset ($\\lambda^n$, $\\sigma^2/N$). Every function returns a
matplotlib ``Figure``; :func:`save_figure` writes it as PNG and SVG. Each claim of
:mod:`oversmooth.report` names its own figure function (``Claim.figure``).

Examples
--------
>>> from oversmooth.experiments import simulate
>>> from oversmooth.viz import figure_mixing
>>> fig = figure_mixing(simulate(n=300, p=0.06, q=0.02, depth=3, seeds=2))
>>> len(fig.axes) >= 1
True
"""

from __future__ import annotations

from ._analyze import figure_analysis, figure_real_graphs
from ._common import grid, plt_module, save_figure, style_axes
from ._csbm import figure_denoising, figure_mixing, figure_optimal_depth, figure_overview
from ._operators import figure_appnp_vs_gcn, figure_corrected_conv, figure_pairnorm
from ._training import figure_real_gnn, figure_training

__all__ = [
    "save_figure",
    "grid",
    "style_axes",
    "figure_overview",
    "figure_mixing",
    "figure_denoising",
    "figure_optimal_depth",
    "figure_appnp_vs_gcn",
    "figure_pairnorm",
    "figure_training",
    "figure_real_graphs",
    "figure_corrected_conv",
    "figure_real_gnn",
    "figure_analysis",
]

_plt = plt_module  # the package's lazy matplotlib import, under the name oversmooth.training._profile uses
