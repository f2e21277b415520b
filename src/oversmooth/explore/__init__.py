"""``oversmooth explore``: a self-contained interactive page of the theory, with measured points.

:func:`write_explorer` writes ``explorer.html``: sliders for N, p and q (or lambda and the
degree), sigma, alpha, the depth range, self-loops and the operator (GCN, APPNP, corrected);
the mean gap (``lambda^n`` and the finite-degree ``nu^n``), the feature-noise variance with
the paper's bounds and the Catalan curve, the Bayes error and the predicted best depth, and
APPNP's recursion are recomputed in the browser by a port of :mod:`oversmooth.theory`
(:func:`theory_curves` is the Python side of the same computation). Measured cells (a fresh
grid run at build time, or a result table) are overlaid where the sliders hit one. No network:
scripts and styles are inline, and the page's Content-Security-Policy forbids every fetch.

Examples
--------
>>> import tempfile
>>> from oversmooth.explore import write_explorer, theory_curves
>>> page = write_explorer(tempfile.mkdtemp(), grid="none")
>>> theory_curves(2000, 0.0075, 0.0025, operator="appnp", depth=6)["best_depth"]
3
"""

from ._cells import GRID_DEPTH, GRIDS, aggregate_cells, grid_configs, measure_grid, read_results
from ._curves import EXPLORER_OPERATORS, ndtr_underflow, theory_curves
from ._page import EXPLORER_FILENAME, render_explorer, write_explorer

__all__ = [
    "write_explorer",
    "render_explorer",
    "theory_curves",
    "ndtr_underflow",
    "read_results",
    "measure_grid",
    "aggregate_cells",
    "grid_configs",
    "EXPLORER_OPERATORS",
    "EXPLORER_FILENAME",
    "GRIDS",
    "GRID_DEPTH",
]
