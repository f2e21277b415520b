"""Training figures, drawn from the tidy rows of :func:`oversmooth.training.run_training`."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import ValidationError

from ..tables import group_rows, mean_sem
from ._common import finish, errorbar, grid, log2_depth_axis, note, style_axes

__all__ = ["figure_training", "figure_real_gnn"]

Rows = Sequence[dict[str, Any]]


def _best_width_curve(rows: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per depth: test accuracy (mean, SEM over seeds) of the width with the best mean validation accuracy."""
    xs, ms, ss = [], [], []
    for (depth,), g in sorted(group_rows(rows, ["depth"]).items()):
        by_w = group_rows(g, ["width"])
        best = max(by_w.values(), key=lambda rs: mean_sem([r["val_acc"] for r in rs])[0])
        m, s = mean_sem([r["test_acc"] for r in best])
        xs.append(depth)
        ms.append(m)
        ss.append(s)
    return np.asarray(xs, float), np.asarray(ms), np.asarray(ss)


def figure_training(rows: Rows) -> Any:
    """Accuracy vs depth per model, the linear-GNN-vs-linear-classifier gap per width, gradient norms per layer.

    Left: test accuracy (mean and SEM over seeds; for models with a width, the width with
    the best mean validation accuracy at that depth) with, for Gaussian class features,
    the core library's Bayes accuracy ``1 - Phi(-Delta(n)/2)`` of the linear propagation
    ``h(n) = P^n x`` (dotted, per depth) and its best value over depths (dashed line).
    Middle: test accuracy of the linear classifier on ``h(n)`` (SGC) minus the linear GNN
    with per-layer weights, paired by seed, one line per width. Right: per-layer gradient
    norms of the deepest linear GNN at the first (dashed) and last (solid) epoch, median over
    seeds (a median of exactly 0, an underflowed gradient, is left out of the log axis).

    Examples
    --------
    >>> from oversmooth.training import TrainingConfig, run_training  # doctest: +SKIP
    >>> from oversmooth.viz import figure_training  # doctest: +SKIP
    >>> fig = figure_training(run_training(TrainingConfig(depths=(1, 2), widths=(8,), n=200, seeds=2,
    ...                                                   max_epochs=20), progress=False))  # doctest: +SKIP
    """
    if not rows:
        raise ValidationError("rows must not be empty")
    fig, axes = grid(3, width=4.6, height=3.8, ncols=3)
    ax, ax_gap, ax_grad = axes
    models = group_rows(rows, ["model"])
    for i, ((model,), g) in enumerate(models.items()):
        x, m, s = _best_width_curve(g)
        ax.errorbar(x, m, yerr=s, fmt="o-", ms=4, capsize=3, color=f"C{i}", label=f"{model} ({g[0]['normalization']})")
    ref = [r for r in rows if r.get("bayes_accuracy") is not None]
    if ref:
        per_depth = group_rows(ref, ["depth"])
        xd = sorted(k[0] for k in per_depth)
        ax.plot(xd, [mean_sem([r["bayes_accuracy"] for r in per_depth[(d,)]])[0] for d in xd], ":", color="k",
                lw=1.5, label=r"Gaussian-view Bayes acc. of $h(n)=P^n x$ (*)")
        best = mean_sem([r["bayes_accuracy_best"] for r in ref])[0]
        ax.axhline(best, color="k", ls="--", lw=1, label=f"its best over depths: {best:.3f}")
    depths = sorted({r["depth"] for r in rows})
    log2_depth_axis(ax, depths)
    style_axes(ax, "test accuracy", xlabel="depth n (propagations)", title="Accuracy vs depth", integer_x=False,
               legend_size=7.5)

    sgc = {(r["seed"], r["depth"], r.get("n"), r.get("lam"), r.get("snr")): r["test_acc"]
           for r in rows if r["model"] == "sgc"}
    lin = [r for r in rows if r["model"] == "linear"]
    if sgc and lin:
        for j, ((width,), g) in enumerate(sorted(group_rows(lin, ["width"]).items())):
            xs, ms, ss = [], [], []
            for (depth,), gd in sorted(group_rows(g, ["depth"]).items()):
                diffs = [sgc[k] - r["test_acc"] for r in gd
                         if (k := (r["seed"], r["depth"], r.get("n"), r.get("lam"), r.get("snr"))) in sgc]
                m, s = mean_sem(diffs)
                xs.append(depth)
                ms.append(m)
                ss.append(s)
            ax_gap.errorbar(xs, ms, yerr=ss, fmt="o-", ms=4, capsize=3, color=f"C{j}", label=f"width {width}")
        ax_gap.axhline(0.0, color="k", lw=0.8)
    else:
        ax_gap.text(0.5, 0.5, "needs models linear and sgc", ha="center", va="center", transform=ax_gap.transAxes)
    log2_depth_axis(ax_gap, depths)
    style_axes(ax_gap, "accuracy: linear classifier - linear GNN", xlabel="depth n",
               title="Per-layer weights vs the linear classifier on h(n)", integer_x=False)

    deep_src = lin or [r for r in rows if r["model"] != "sgc"]
    if deep_src:
        dmax = max(r["depth"] for r in deep_src)
        deep = [r for r in deep_src if r["depth"] == dmax]
        for j, ((model, width), g) in enumerate(sorted(group_rows(deep, ["model", "width"]).items())):
            for key, style in (("grad_norm_start", "--"), ("grad_norm_end", "-")):
                arr = np.asarray([r[key] for r in g if r[key]], dtype=float)
                if arr.ndim == 2 and arr.size:
                    med = np.median(arr, axis=0)
                    ax_grad.plot(np.arange(arr.shape[1]), np.where(med > 0, med, np.nan),
                                 style, color=f"C{j}", marker=".",
                                 label=f"{model} w={width} {'start' if key.endswith('start') else 'end'}")
        ax_grad.set_title(f"Gradient norm per layer, depth {dmax} (0 = underflow: not drawn)", fontsize=9.5)
    style_axes(ax_grad, "||grad||, median over seeds", xlabel="layer (0 = input side; last = read-out)",
               log=bool(deep_src), legend_size=7)
    r0 = rows[0]
    desc = (f"CSBM N={r0['n']}, λ={r0['lam']}, SNR={r0['snr']}, feature dim {r0['feature_dim']}" if r0["graph"] == "csbm"
            else f"{r0['graph']} ({r0['features']} features)")
    finish(fig, f"Trained models on {desc}; self-loops; Adam lr={r0['lr']}, early stopping on validation")
    if ref:
        note(fig, "(*) The Gaussian view scores h(n) as if every node's noise were independent; neighbours share "
                  "noise after propagation, and a classifier trained on these nodes absorbs part of it, so trained "
                  "models stay above this curve at depth.")
    return fig


def figure_real_gnn(rows: Rows) -> Any:
    """Trained GCN and APPNP test accuracy vs depth, one panel per graph (mean and SE over seeds).

    ``rows`` are :func:`oversmooth.training.run_training` rows (``graph``, ``model``, ``depth``,
    ``test_acc``, ``features``); the panel title names the features used.

    Examples
    --------
    >>> from oversmooth.viz import figure_real_gnn
    >>> rows = [dict(graph="cora", model=m, depth=d, test_acc=a, features="real", seed=0, alpha=al)
    ...         for m, a, al in (("gcn", 0.8, None), ("appnp", 0.85, 0.1)) for d in (2, 8)]
    >>> len(figure_real_gnn(rows).axes)
    1
    """
    graphs = list(dict.fromkeys(r["graph"] for r in rows))
    fig, axes = grid(len(graphs), width=4.2, height=3.5, ncols=3)
    for ax, name in zip(axes, graphs):
        g = [r for r in rows if r["graph"] == name]
        for i, model in enumerate(dict.fromkeys(r["model"] for r in g)):
            m_rows = [r for r in g if r["model"] == model]
            alpha = m_rows[0].get("alpha")
            label = f"{model.upper()} α={alpha:g}" if model == "appnp" and alpha is not None else model.upper()
            errorbar(ax, m_rows, "test_acc", label, color="k" if model == "gcn" else f"C{i}", fmt="o-")
        log2_depth_axis(ax, [r["depth"] for r in g])
        ax.set_ylim(0, 1)
        style_axes(ax, "test accuracy", xlabel="depth (layers / propagation steps)",
                   title=f"{name} ({g[0].get('features', '')} features)", integer_x=False)
    finish(fig, "Trained GNNs vs depth (60/20/20 random splits, Adam; mean ± SE over seeds)")
    return fig
