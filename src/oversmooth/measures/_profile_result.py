"""The result of :func:`oversmooth.measures.profile_embeddings`: per-layer rows, a table and a figure."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._utils import optional_import

__all__ = ["Profile"]


class Profile:
    """Per-layer measures of a model's embeddings: one dict per layer in :attr:`rows`.

    Attributes
    ----------
    rows : list of dict
        One row per layer (keys: see :func:`profile_embeddings`).
    info : dict
        What the whole profile used: ``n_nodes``, ``n_labelled``, ``n_classes``, ``metrics`` and the
        probe ``split``.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import profile_embeddings
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 20)
    >>> layers = [y[:, None] + rng.standard_normal((40, 3)) * s for s in (1.0, 0.5)]
    >>> edges = np.array([np.arange(39), np.arange(1, 40)])
    >>> prof = profile_embeddings(layers, y, edges, metrics=["separation", "rayleigh_quotient"], seed=0)
    >>> len(prof.rows), sorted(prof.rows[0])[:3]
    (2, ['dim', 'layer', 'n_nodes'])
    """

    def __init__(self, rows: list[dict[str, Any]], info: dict[str, Any] | None = None):
        self.rows = rows
        self.info = dict(info or {})

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[Any]:
        """The values of one column, by layer (``None`` where absent)."""
        return [r.get(name) for r in self.rows]

    def to_frame(self) -> Any:
        """The rows as a :class:`pandas.DataFrame` (needs pandas: ``pip install 'oversmooth[sweep]'``)."""
        pd = optional_import("pandas", "sweep")
        return pd.DataFrame(self.rows)

    def __repr__(self) -> str:
        if not self.rows:
            return "Profile(0 layers)"
        first, last = self.rows[0], self.rows[-1]
        dims = sorted({r["dim"] for r in self.rows})
        dim = str(dims[0]) if len(dims) == 1 else f"{first['dim']}..{last['dim']}"
        parts = [f"{len(self.rows)} layers", f"N={first['n_nodes']}", f"d={dim}"]
        for key, label in (("separation", "separation"), ("rayleigh_quotient", "rayleigh"),
                           ("probe_accuracy", "probe")):
            a, b = first.get(key), last.get(key)
            if a is not None and b is not None:
                parts.append(f"{label} {a:.3g}->{b:.3g}")
        return f"Profile({', '.join(parts)})"

    def plot(self, *, title: str | None = None) -> Any:
        """A figure of the measures by layer (integer ticks).

        Panels: class separation; within- and between-class spread (log scale); the Rayleigh
        quotient E/||X||_F^2; MAD, MAD_neb, MAD_rmt and MADGap; probe accuracy. Panels whose
        measures were not computed are left out.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        layers = [r["layer"] for r in self.rows]
        panels = [
            ("class separation (Mahalanobis)", [("separation", "min pairwise")], False),
            ("spread", [("within_class_spread", "within class"), ("between_class_spread", "between classes")],
             True),
            ("Rayleigh quotient E / ||X||_F^2", [("rayleigh_quotient", "E / ||X||^2")], True),
            ("MAD (Chen et al.)", [("mad", "MAD (neighbours)"), ("mad_neb", "MAD_neb (<= 3 hops)"),
                                   ("mad_rmt", "MAD_rmt (>= 8 hops)"), ("mad_gap", "MADGap")], False),
            ("held-out probe accuracy", [("probe_accuracy", "linear probe")], False),
        ]
        panels = [p for p in panels if any(self._has(k) for k, _ in p[1])]
        n = max(1, len(panels))
        ncols = min(3, n)
        nrows = math.ceil(n / ncols)
        fig = Figure(figsize=(4.2 * ncols, 3.3 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax in axes[len(panels):]:
            ax.set_visible(False)
        for ax, (name, series, log) in zip(axes, panels):
            for key, label in series:
                if not self._has(key):
                    continue
                vals = [np.nan if r.get(key) is None else float(r[key]) for r in self.rows]
                ax.plot(layers, vals, marker="o", ms=3, label=label)
            if log and all(v is None or v > 0 for k, _ in series for v in self.column(k)):
                ax.set_yscale("log")
            ax.set_title(name, fontsize=10)
            ax.set_xlabel("layer")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if len(series) > 1:
                ax.legend(fontsize=7)
        if title:
            fig.suptitle(title)
        return fig

    def _has(self, key: str) -> bool:
        return any(r.get(key) is not None for r in self.rows)
