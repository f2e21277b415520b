"""Shared plumbing of the figures: lazy matplotlib, saving, panel grids and one axis-styling helper.

Every figure of the package styles its axes through :func:`style_axes` (labels, log scale,
integer ticks on depth / layer axes, a readable legend, a light grid) and draws measurements
through :func:`errorbar` (markers with visible caps), so they look alike.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..measures import bayes_error
from ..tables import grouped_mean_sem

__all__ = ["plt_module", "save_figure", "grid", "style_axes", "log2_depth_axis", "errorbar", "line", "log10_bayes", "note", "finish",
           "DEPTH", "LEGEND_SIZE"]

Rows = Sequence[dict[str, Any]]
DEPTH = "depth n (layers)"
LEGEND_SIZE = 8.0


def plt_module() -> Any:
    """``matplotlib.pyplot`` on a non-interactive backend (imported on first use)."""
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "svg", "pdf"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path_png: str | os.PathLike[str]) -> list[Path]:
    """Save ``fig`` as ``path_png`` and the same name with ``.svg``; close it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from oversmooth.viz import grid, save_figure
    >>> fig, axes = grid(1)
    >>> [p.suffix for p in save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "f.png")]
    ['.png', '.svg']
    """
    plt = plt_module()
    png = Path(path_png)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110, bbox_inches="tight", metadata={"Software": None})
    svg = png.with_suffix(".svg")
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "oversmooth"}):  # fixed element ids: same figure, same bytes
        fig.savefig(svg, bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return [png, svg]


def grid(n: int, width: float = 4.2, height: float = 3.4, ncols: int = 3) -> tuple[Any, np.ndarray]:
    """A figure with ``n`` panels in rows of ``ncols`` (the spare panels hidden); the flat array of axes.

    Examples
    --------
    >>> from oversmooth.viz import grid
    >>> fig, axes = grid(4, ncols=3)
    >>> len(axes), sum(ax.get_visible() for ax in axes)
    (6, 4)
    """
    plt = plt_module()
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def style_axes(ax: Any, ylabel: str, *, xlabel: str = DEPTH, title: str | None = None, log: bool = False,
               integer_x: bool = True, legend: bool = True, legend_size: float = LEGEND_SIZE,
               legend_loc: str = "best") -> Any:
    """Label ``ax``, optionally log its y axis, put integer ticks on its x axis, add a legend and a grid.

    Examples
    --------
    >>> from oversmooth.viz import grid, style_axes
    >>> fig, (ax,) = grid(1)
    >>> _ = ax.plot([0, 1, 2], [1.0, 0.5, 0.25], label="gap")
    >>> style_axes(ax, "gap", log=True).get_yscale()
    'log'
    """
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if log:
        ax.set_yscale("log")
    if integer_x and ax.get_xscale() == "linear":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        ax.set_title(title, fontsize=10)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=legend_size, framealpha=0.85, loc=legend_loc)
    ax.grid(alpha=0.3)
    return ax


def log2_depth_axis(ax: Any, depths: Sequence[int]) -> None:
    """A base-2 log x axis ticked at exactly ``depths`` (integers)."""
    ax.set_xscale("log", base=2)
    ds = sorted({int(d) for d in depths})
    ax.set_xticks(ds, [str(d) for d in ds])
    ax.minorticks_off()


def errorbar(ax: Any, rows: Rows, key: str, label: str | None, *, transform: Any = None, **kw: Any) -> Any:
    """Seed-mean +- SE of ``key`` per depth as markers with caps (``transform`` applied to the mean only)."""
    x, m, s = grouped_mean_sem(rows, key)
    if transform is not None:
        m, s = transform(m), s * 0
    kw.setdefault("fmt", "o")
    kw.setdefault("ms", 4)
    return ax.errorbar(x, m, yerr=s, capsize=3, elinewidth=1.1, label=label, **kw)


def line(ax: Any, rows: Rows, key: str, label: str | None, **kw: Any) -> None:
    """The seed-mean of ``key`` per depth as a line (nothing when it is all NaN)."""
    x, m, _ = grouped_mean_sem(rows, key)
    if np.all(np.isnan(m)):
        return
    ax.plot(x, m, label=label, **kw)


def log10_bayes(separation: float) -> float:
    """``log10 Phi(-separation / 2)`` without underflow (the theory line below 1e-300).

    Examples
    --------
    >>> from oversmooth.viz._common import log10_bayes
    >>> round(log10_bayes(0.0), 4)
    -0.301
    """
    return float(bayes_error(float(separation), log10=True))


def finish(fig: Any, title: str) -> Any:
    """Add the figure's title and lay the panels out below it (the title never overlaps a panel title)."""
    height = fig.get_size_inches()[1]
    fig.suptitle(title, fontsize=10.5, y=1.0 - 0.04 / height, va="top")
    fig.tight_layout()  # lays the panels out below the title (matplotlib counts the suptitle)
    return fig


def note(fig: Any, text: str, y: float = -0.01) -> None:
    """A wrapped explanatory line under the panels of ``fig``."""
    fig.text(0.01, y, text, fontsize=8.5, va="top", ha="left", wrap=True, color="#333")
