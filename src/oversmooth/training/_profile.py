"""``oversmooth train --profile``: per-layer measures of every trained model beside the untrained ``P^k x``.

For every trained run the embeddings of its layers (:func:`oversmooth.training.layer_embeddings`,
input features first; the linear GNN's ``h(k) = P h(k-1) W_k``) are measured by
:func:`oversmooth.measures.profile_embeddings` on the run's graph (self-loops included), with
the probe fitted on the run's training nodes and scored on its test nodes. Beside them, per
seed and graph, the same measures of the untrained linear propagation ``P^k x`` of the same
features and operator, ``k = 0 .. max depth``. Output: a tidy long table (one row per run
config x layer x metric) and one figure per model and depth.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ._embeddings import layer_embeddings
from ._experiment import RunContext

__all__ = ["TrainingProfiler", "TRAIN_PROFILE_METRICS", "PROFILE_COLUMNS", "FIGURE_METRICS"]

#: Measures computed by default (MADGap and the group distance ratio are left out: BFS / sampling cost).
TRAIN_PROFILE_METRICS = ("separation", "within_class_spread", "between_class_spread", "dirichlet_energy",
                         "rayleigh_quotient", "mad", "effective_rank", "probe_accuracy")
#: (metric, axis label) of the figure panels.
FIGURE_METRICS = (("separation", "class separation (min Mahalanobis)"),
                  ("within_class_spread", "within-class spread"),
                  ("rayleigh_quotient", "Rayleigh quotient E / ||X||_F^2"),
                  ("probe_accuracy", "probe accuracy (held-out)"))
#: Run-config columns of profile.csv, then ``layer, dim, metric, value``.
_CONFIG_KEYS = ("graph", "n", "lam", "snr", "features", "features_source", "feature_norm", "split", "recipe",
                "normalization", "model", "depth", "width", "seed", "run_seed")
PROFILE_COLUMNS = (*_CONFIG_KEYS, "embedding", "layer", "dim", "metric", "value")
BASELINE = "P^k x (untrained)"


def _numeric(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


class TrainingProfiler:
    """Callback for :func:`oversmooth.training.run_training` (``on_model=``) that profiles every run.

    Parameters
    ----------
    max_depth : int
        Depth of the untrained propagation ``P^k x`` drawn beside the models.
    metrics : sequence of str
        Passed to :func:`oversmooth.measures.profile_embeddings`.

    Examples
    --------
    >>> from oversmooth.training import TrainingConfig, TrainingProfiler, run_training
    >>> cfg = TrainingConfig(models=("gcn",), depths=(2,), widths=(8,), n=(200,), seeds=1, max_epochs=5,
    ...                      feature_dim=4)
    >>> prof = TrainingProfiler(max_depth=2)
    >>> rows = run_training(cfg, progress=False, on_model=prof)
    >>> sorted({r["embedding"] for r in prof.rows})
    ['P^k x (untrained)', 'trained']
    """

    def __init__(self, max_depth: int, metrics: Sequence[str] = TRAIN_PROFILE_METRICS):
        self.max_depth = int(max_depth)
        self.metrics = tuple(metrics)
        self.rows: list[dict[str, Any]] = []
        self._baselines: set[tuple[Any, ...]] = set()

    def _measure(self, layers: list[Any], ctx: RunContext, config: dict[str, Any], embedding: str) -> None:
        from ..measures import profile_embeddings

        tr, _, te = ctx.split
        prof = profile_embeddings(layers, ctx.graph.labels, ctx.graph.adjacency, train_mask=tr, test_mask=te,
                                  metrics=self.metrics, seed=int(ctx.seed), progress=False)
        for r in prof.rows:
            for metric, value in r.items():
                if metric in ("layer", "n_nodes", "dim") or not _numeric(value):
                    continue
                self.rows.append({**config, "embedding": embedding, "layer": int(r["layer"]), "dim": r.get("dim"),
                                  "metric": metric, "value": float(value)})

    def __call__(self, ctx: RunContext) -> None:
        row = ctx.row
        config = {k: row.get(k) for k in _CONFIG_KEYS}
        key = (row.get("graph"), row.get("n"), row.get("lam"), row.get("snr"), row.get("seed"))
        if key not in self._baselines:
            self._baselines.add(key)
            from ..operators import iter_propagate

            base = list(iter_propagate(ctx.P, np.asarray(ctx.graph.features, dtype=np.float64), self.max_depth))
            self._measure(base, ctx, {**config, "model": "propagation", "depth": self.max_depth, "width": None,
                                      "run_seed": None}, BASELINE)
        if ctx.model is None:  # sgc: logistic regression on h(n) = P^n x, the baseline's own layers
            return
        if hasattr(ctx.model, "layer_outputs"):
            x = ctx.inputs.to_dense() if ctx.inputs.layout != torch.strided else ctx.inputs
            layers = [h.detach().double().numpy() for h in ctx.model.layer_outputs(x)]
        else:
            layers = layer_embeddings(ctx.model, ctx.inputs)
        layers[0] = np.asarray(ctx.graph.features, dtype=np.float64)  # the input in full precision, as P^0 x
        self._measure(layers, ctx, config, "trained")

    def write_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write ``profile.csv`` (columns :data:`PROFILE_COLUMNS`)."""
        from ..tables import write_csv

        return write_csv(self.rows, path, columns=PROFILE_COLUMNS)

    def figures(self, folder: str | os.PathLike[str]) -> list[Path]:
        """One figure per trained model and depth (PNG + SVG): each figure metric by layer, mean over seeds,
        one line per width, beside the untrained ``P^k x`` (mean over seeds)."""
        from ..viz import _plt, save_figure  # _plt: the package's lazy matplotlib import

        plt = _plt()
        from matplotlib.ticker import MaxNLocator

        out: list[Path] = []
        trained = [r for r in self.rows if r["embedding"] == "trained"]
        base = [r for r in self.rows if r["embedding"] == BASELINE]
        cells = sorted({(r["model"], r["depth"]) for r in trained})
        for model, depth in cells:
            fig, axes = plt.subplots(1, len(FIGURE_METRICS), figsize=(4.0 * len(FIGURE_METRICS), 3.3))
            for ax, (metric, label) in zip(np.atleast_1d(axes), FIGURE_METRICS):
                widths = sorted({r["width"] for r in trained if r["model"] == model and r["depth"] == depth},
                                key=lambda w: (w is None, w))
                for w in widths:
                    sel = [r for r in trained if (r["model"], r["depth"], r["width"], r["metric"]) ==
                           (model, depth, w, metric)]
                    self._line(ax, sel, f"trained {model} w={w}", "-o")
                self._line(ax, [r for r in base if r["metric"] == metric and r["layer"] <= depth], BASELINE, "--s")
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                ax.set_xlabel("layer (0 = input features)")
                ax.set_ylabel(label)
                if metric in ("within_class_spread", "rayleigh_quotient", "separation"):
                    vals = [r["value"] for r in trained + base if r["metric"] == metric]
                    if vals and min(vals) > 0:
                        ax.set_yscale("log")
            r0 = next(r for r in trained if r["model"] == model and r["depth"] == depth)
            fig.suptitle(f"{r0['graph']}: {model}, depth {depth} ({r0['features']} features, split {r0['split']}, "
                         f"{r0['normalization']}); mean over seeds", fontsize=10)
            np.atleast_1d(axes)[0].legend(fontsize=7)
            fig.tight_layout()
            out += save_figure(fig, Path(folder) / f"profile_{model}_depth{depth}.png")
        return out

    @staticmethod
    def _line(ax: Any, rows: list[dict[str, Any]], label: str, style: str) -> None:
        if not rows:
            return
        layers = sorted({r["layer"] for r in rows})
        mean = [float(np.mean([r["value"] for r in rows if r["layer"] == k])) for k in layers]
        ax.plot(layers, mean, style, ms=3, label=label)
