"""Training figures, drawn from the tidy rows of :func:`oversmooth.training.run_training`."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..experiments._table import group_rows, mean_sem

__all__ = ["figure_training"]

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
    from . import _grid

    if not rows:
        raise ValueError("rows must not be empty")
    fig, axes = _grid(3, width=4.4, height=3.6, ncols=3)
    ax, ax_gap, ax_grad = axes
    models = group_rows(rows, ["model"])
    for i, ((model,), g) in enumerate(models.items()):
        x, m, s = _best_width_curve(g)
        ax.errorbar(x, m, yerr=s, fmt="o-", ms=4, capsize=2, color=f"C{i}", label=f"{model} ({g[0]['normalization']})")
    ref = [r for r in rows if r.get("bayes_accuracy") is not None]
    if ref:
        per_depth = group_rows(ref, ["depth"])
        xd = sorted(k[0] for k in per_depth)
        ax.plot(xd, [mean_sem([r["bayes_accuracy"] for r in per_depth[(d,)]])[0] for d in xd], ":", color="k",
                lw=1, label="Bayes acc. of h(n) = P^n x (core)")
        best = mean_sem([r["bayes_accuracy_best"] for r in ref])[0]
        ax.axhline(best, color="k", ls="--", lw=1, label=f"Bayes-optimal linear propagation: {best:.3f}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("depth n (propagations)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Accuracy vs depth", fontsize=10)
    ax.legend(fontsize=6.5)
    ax.grid(alpha=0.3)

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
            ax_gap.errorbar(xs, ms, yerr=ss, fmt="o-", ms=4, capsize=2, color=f"C{j}", label=f"width {width}")
        ax_gap.axhline(0.0, color="k", lw=0.8)
        ax_gap.legend(fontsize=7)
    else:
        ax_gap.text(0.5, 0.5, "needs models linear and sgc", ha="center", va="center", transform=ax_gap.transAxes)
    ax_gap.set_xscale("log", base=2)
    ax_gap.set_xlabel("depth n")
    ax_gap.set_ylabel("accuracy: linear classifier - linear GNN")
    ax_gap.set_title("Per-layer weights vs the linear classifier on h(n)", fontsize=10)
    ax_gap.grid(alpha=0.3)

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
        ax_grad.set_yscale("log")
        ax_grad.set_title(f"Gradient norm per layer, depth {dmax} (0 = underflow: not drawn)", fontsize=9)
        ax_grad.legend(fontsize=6)
    ax_grad.set_xlabel("layer (0 = input side; last = read-out)")
    ax_grad.set_ylabel("||grad||, median over seeds")
    ax_grad.grid(alpha=0.3)
    r0 = rows[0]
    desc = (f"CSBM N={r0['n']}, lambda={r0['lam']}, SNR={r0['snr']}, d={r0['feature_dim']}" if r0["graph"] == "csbm"
            else f"{r0['graph']} ({r0['features']} features)")
    fig.suptitle(f"Trained models on {desc}; self-loops; Adam lr={r0['lr']}, early stopping on validation",
                 fontsize=10)
    fig.tight_layout()
    return fig
