"""Figures of the reproduction, drawn from tidy result tables (lists of row dicts).

Theory is drawn as lines, measurements as markers with error bars (standard error over
seeds); quantities spanning decades use log axes. Every function returns a matplotlib
``Figure``; :func:`save_figure` writes it as PNG and SVG.

Examples
--------
>>> from oversmooth.experiments import simulate
>>> from oversmooth.viz import figure_mixing
>>> fig = figure_mixing(simulate(n=300, p=0.06, q=0.02, depth=3, seeds=2))
>>> len(fig.axes) >= 1
True
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy.special import log_ndtr

from ..experiments._table import column, group_rows, mean_and_sem
from ._analyze import figure_real_graphs
from ._training import figure_training

__all__ = [
    "save_figure",
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
    "FIGURES",
]

Rows = Sequence[dict[str, Any]]



def _log10_bayes(separation: float) -> float:
    """``log10 Phi(-separation / 2)`` without underflow (the theory line below 1e-300)."""
    return float(log_ndtr(-float(separation) / 2.0) / math.log(10.0))

def _plt() -> Any:
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "svg", "pdf"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path_png: str | os.PathLike[str]) -> list[Path]:
    """Save ``fig`` as ``path_png`` and the same name with ``.svg``; close it."""
    plt = _plt()
    png = Path(path_png)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110, bbox_inches="tight", metadata={"Software": None})
    svg = png.with_suffix(".svg")
    fig.savefig(svg, bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return [png, svg]


def _grid(n: int, width: float = 4.2, height: float = 3.4, ncols: int = 3) -> tuple[Any, np.ndarray]:
    plt = _plt()
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def _errorbar(ax: Any, rows: Rows, key: str, label: str, transform: Any = None, **kw: Any) -> None:
    x, m, s = mean_and_sem(rows, key)
    if transform is not None:
        m, s = transform(m), s * 0
    ax.errorbar(x, m, yerr=s, fmt=kw.pop("fmt", "o"), ms=4, capsize=2, label=label, **kw)


def _line(ax: Any, rows: Rows, key: str, label: str, **kw: Any) -> None:
    x, m, _ = mean_and_sem(rows, key)
    if np.all(np.isnan(m)):
        return
    ax.plot(x, m, label=label, **kw)


def figure_overview(rows: Rows) -> Any:
    """Mixing vs denoising in one picture: |gap| and 2 x noise std vs depth, and the Bayes error.

    The error ``Phi(-|gap| / (2 sigma(n)))`` is small while the gap (mixing, falling like
    lambda^n) stays above twice the noise std (denoising, falling until it saturates
    near sigma/sqrt(N)); it rises once the gap drops under the saturated noise.
    """
    plt = _plt()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    x, gap, gs = mean_and_sem(rows, "gap")
    _, var, vs = mean_and_sem(rows, "feature_variance")
    ax.errorbar(x, np.abs(gap), yerr=gs, fmt="o-", ms=4, capsize=2, color="C3", label="mixing: |gap| between class means")
    ax.errorbar(x, 2 * np.sqrt(var), fmt="s-", ms=4, color="C2", label="denoising: 2 x feature-noise std sigma(n)")
    n = rows[0]["n"]
    ax.axhline(2 / math.sqrt(n), color="C2", ls=":", lw=1, label="2 sigma / sqrt(N) (variance floor)")
    ax.set_yscale("log")
    ax.set_xlabel("depth n (layers)")
    ax.set_ylabel("feature units (sigma = 1)")
    ax.legend(fontsize=7.5)
    ax.grid(alpha=0.3)
    ax.set_title("Two effects of each layer", fontsize=10)
    _errorbar(ax2, rows, "log10_bayes_error", "measured", color="k")
    _line(ax2, [dict(r, t=_log10_bayes(r["theory_separation"])) for r in rows
                if r.get("theory_separation") is not None], "t", "theory (nu, Catalan; ours)", color="C0")
    ax2.set_xlabel("depth n (layers)")
    ax2.set_ylabel("log10 Bayes error  Phi(-|gap| / (2 sigma(n)))")
    ax2.legend(fontsize=7.5)
    ax2.grid(alpha=0.3)
    ax2.set_title("Their race: a U-shaped error, best depth small", fontsize=10)
    p, q = rows[0]["p"], rows[0]["q"]
    fig.suptitle(f"CSBM N={n}, p={p:g}, q={q:g}, mu=+-1, sigma=1, GCN D^-1 A with self-loops", fontsize=10)
    fig.tight_layout()
    return fig


def figure_mixing(rows: Rows) -> Any:
    """|gap| vs depth per config: measured (markers) against lambda^n and nu^n (ours; :func:`oversmooth.theory.nu`)."""
    groups = group_rows(rows, ["label"]) if rows and "label" in rows[0] else {("",): list(rows)}
    fig, axes = _grid(len(groups))
    for ax, ((label,), g) in zip(axes, groups.items()):
        x, m, s = mean_and_sem(g, "gap")
        ax.errorbar(x, np.abs(m), yerr=s, fmt="o", ms=4, capsize=2, color="k", label="measured |gap|")
        appnp = g[0]["operator"] == "appnp"
        _line(ax, [dict(r, theory_gap=abs(r["theory_gap"]) if r["theory_gap"] is not None else None) for r in g],
              "theory_gap", "PPR recursion, lambda" if appnp else "paper: lambda^n gap(0)", color="C0")
        _line(ax, [dict(r, theory_gap_finite_degree=abs(r["theory_gap_finite_degree"])
                        if r["theory_gap_finite_degree"] is not None else None) for r in g],
              "theory_gap_finite_degree",
              "PPR recursion, nu (ours)" if appnp else "nu^n gap(0) (ours)", color="C3", ls="--")
        if np.any(m < 0):
            ax.set_title(f"{label}\n(gap alternates in sign; |gap| shown)", fontsize=9)
        else:
            ax.set_title(label, fontsize=9)
        ax.set_yscale("log")
        ax.set_xlabel("depth n (layers)")
        ax.set_ylabel("|mu_2(n) - mu_1(n)| (feature units)")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle("Mixing: class-mean gap vs depth (D^-1 A with self-loops; mean +- SE over seeds)", fontsize=10)
    fig.tight_layout()
    return fig


def figure_denoising(rows: Rows) -> Any:
    """Feature-noise variance vs depth with bounds and Catalan curve; cross-sectional spread apart."""
    plt = _plt()
    groups = group_rows(rows, ["label"]) if rows and "label" in rows[0] else {("",): list(rows)}
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    for i, ((label, ), g) in enumerate(groups.items()):
        c = f"C{i}"
        n = g[0]["n"]
        x, m, s = mean_and_sem(g, "feature_variance")
        _, se_h, _ = mean_and_sem(g, "feature_variance_se")
        err = np.sqrt(s**2 + se_h**2)
        ax.errorbar(x, m, yerr=err, fmt="o", ms=4, capsize=2, color=c, label=f"{label}: measured ({g[0]['variance_method']})")
        _line(ax, g, "theory_feature_variance", f"{label}: sum pi^2 + C_n/d^n (ours)", color=c, ls="-")
        pi2 = float(np.mean(column(g, "pi_sq_sum")))
        ax.axhline(pi2, color=c, ls=":", lw=1)
        ax.axhline(1.0 / n, color=c, ls="--", lw=1, label=f"{label}: lower bound sigma^2/N")
        xs, cm, cs = mean_and_sem(g, "cross_sectional_variance")
        ax2.errorbar(xs, cm, yerr=cs, fmt="s-", ms=3, capsize=2, color=c, label=label)
    ax.axhline(1.0, color="k", ls="--", lw=1, label="upper bound sigma^2")
    ax.set_yscale("log")
    ax.set_xlabel("depth n (layers)")
    ax.set_ylabel("feature-noise variance sigma(n)^2 (sigma = 1)")
    ax.set_title("The paper's variance: Var_x h_i(n), class-averaged\n(dotted: saturation level sum_j pi_j^2)", fontsize=9)
    ax.legend(fontsize=6.5)
    ax.grid(alpha=0.3)
    ax2.set_yscale("log")
    ax2.set_xlabel("depth n (layers)")
    ax2.set_ylabel("within-class variance across nodes")
    ax2.set_title("Cross-sectional spread of ONE realisation\n(not the paper's variance: no bounds apply)", fontsize=9)
    ax2.legend(fontsize=7)
    ax2.grid(alpha=0.3)
    fig.suptitle("Denoising (D^-1 A with self-loops; mean +- SE)", fontsize=10)
    fig.tight_layout()
    return fig


def figure_optimal_depth(rows: Rows) -> Any:
    """log10 Bayes error vs depth per N, and the best depth vs N with the scaling laws.

    Filled markers: the Gaussian view ``Phi(-|gap| / (2 sigma(n)))``; hollow squares, when the
    rows carry ``mixture_bayes_error``: the exact Bayes error given the graph
    (:func:`oversmooth.measures._mixture.mixture_bayes_error`), which parts from the Gaussian
    view when the structural spread of the node means is large.
    """
    from .. import theory

    plt = _plt()
    groups = group_rows(rows, ["n"])
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ns, best, best_t, ll, ld = [], [], [], [], []
    for i, ((n,), g) in enumerate(sorted(groups.items())):
        c = plt.cm.viridis(i / max(1, len(groups) - 1))
        x, m, s = mean_and_sem(g, "log10_bayes_error")
        ax.errorbar(x, m, yerr=s, fmt="o", ms=3, capsize=2, color=c, label=f"N={n:g}")
        tb = column(g, "theory_bayes_error")
        xt, mt, _ = mean_and_sem([dict(r, t=_log10_bayes(r["theory_separation"])) for r in g], "t")
        if np.all(np.isfinite(tb)):
            ax.plot(xt, mt, color=c, lw=1)
        mix = [dict(r, t=math.log10(max(r["mixture_bayes_error"], 1e-300))) for r in g
               if r.get("mixture_bayes_error") is not None]
        if mix:  # the exact Bayes error given the graph (each class a mixture over its nodes)
            xm, mm, sm = mean_and_sem(mix, "t")
            ax.errorbar(xm, mm, yerr=sm, fmt="s", mfc="none", ms=5, capsize=2, color=c,
                        label="mixture view (given the graph)" if i == 0 else None)
        sep = mean_and_sem(g, "separation")[1]
        tsep = mean_and_sem(g, "theory_separation")[1]
        ns.append(n)
        best.append(int(np.argmax(sep)))
        best_t.append(int(np.nanargmax(tsep)))
        ll.append(theory.depth_scale_loglog(n))
        ld.append(theory.depth_scale_logd(n, float(np.mean(column(g, "mean_degree")))))
    ax.set_xlabel("depth n (layers)")
    ax.set_ylabel("log10 Bayes error  Phi(-|gap|/(2 sigma(n)))")
    ax.set_title("Error vs depth: markers measured, lines theory (nu, Catalan; ours)", fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    ax2.plot(ns, best, "o", color="k", ms=6, label="measured best depth")
    ax2.plot(ns, best_t, "x", color="C3", ms=8, label="theory best depth")
    ax2.plot(ns, ll, "-", color="C0", label="log N / log log N")
    ax2.plot(ns, ld, "--", color="C2", label="log N / log d")
    ax2.set_xscale("log")
    ax2.set_xlabel("number of nodes N")
    ax2.set_ylabel("depth (layers)")
    ax2.set_title("Best depth vs N (d = 1 + 3 ln N, lambda = 0.5)", fontsize=9)
    ax2.legend(fontsize=7)
    ax2.grid(alpha=0.3)
    fig.suptitle("Optimal depth: the error is U-shaped in depth", fontsize=10)
    fig.tight_layout()
    return fig


def figure_appnp_vs_gcn(rows: Rows) -> Any:
    """Map of log10(best separation GCN / APPNP) per (N, p/q) and alpha, plus two depth curves."""
    plt = _plt()
    gcn = [r for r in rows if r["operator"] == "gcn"]
    app = [r for r in rows if r["operator"] == "appnp"]
    alphas = sorted({r["alpha"] for r in app})
    sizes = sorted({r["n"] for r in rows})
    ratios = sorted({r["ratio"] for r in rows})
    fig, axes = _grid(len(alphas) + 2, width=3.8, height=3.3, ncols=len(alphas) + 2)

    def best(rs: Rows) -> float:
        return float(np.nanmax(mean_and_sem(rs, "separation")[1]))

    g_best = {k: best(v) for k, v in group_rows(gcn, ["n", "ratio"]).items()}
    a_groups = group_rows(app, ["n", "ratio", "alpha"])
    im = None
    for ax, alpha in zip(axes, alphas):
        grid = np.full((len(sizes), len(ratios)), np.nan)
        for i, n in enumerate(sizes):
            for j, rt in enumerate(ratios):
                if (n, rt, alpha) in a_groups:
                    grid[i, j] = math.log10(g_best[(n, rt)] / best(a_groups[(n, rt, alpha)]))
        im = ax.imshow(grid, cmap="RdBu_r", vmin=-1, vmax=1, origin="lower", aspect="auto")
        for i in range(len(sizes)):
            for j in range(len(ratios)):
                ax.text(j, i, "GCN" if grid[i, j] > 0 else "APPNP", ha="center", va="center", fontsize=7)
        ax.set_xticks(range(len(ratios)), [f"{r:g}" for r in ratios])
        ax.set_yticks(range(len(sizes)), [f"{n:g}" for n in sizes])
        ax.set_xlabel("p / q (community strength)")
        ax.set_ylabel("N")
        ax.set_title(f"winner of the best error, alpha={alpha:g}", fontsize=9)
    if im is not None:
        fig.colorbar(im, ax=axes[len(alphas) - 1], label="log10(best sep GCN / APPNP)", shrink=0.8)
    for ax, (n, rt) in zip(axes[len(alphas):], [(min(sizes), min(ratios)), (max(sizes), max(ratios))]):
        _errorbar(ax, [r for r in gcn if r["n"] == n and r["ratio"] == rt], "log10_bayes_error", "GCN",
                  color="k")
        for k, alpha in enumerate(alphas):
            _errorbar(ax, [r for r in app if r["n"] == n and r["ratio"] == rt and r["alpha"] == alpha],
                      "log10_bayes_error", f"APPNP alpha={alpha:g}", color=f"C{k}", fmt="s-")
        ax.set_xlabel("depth n (layers)")
        ax.set_ylabel("log10 Bayes error")
        ax.set_title(f"N={n:g}, p/q={rt:g}", fontsize=9)
        ax.legend(fontsize=6.5)
        ax.grid(alpha=0.3)
    fig.suptitle("APPNP vs GCN (average degree 11; red: GCN's best error is lower)", fontsize=10)
    fig.tight_layout()
    return fig


def figure_pairnorm(rows: Rows) -> Any:
    """GCN vs PairNorm: |gap|, feature-noise variance and Bayes / realised error vs depth."""
    groups = group_rows(rows, ["label"])
    fig, axes = _grid(4, width=3.6, height=3.3, ncols=4)
    for i, ((label,), g) in enumerate(groups.items()):
        c = f"C{i}"
        x, m, s = mean_and_sem(g, "gap")
        axes[0].errorbar(x, np.abs(m), yerr=s, fmt="o-", ms=3, capsize=2, color=c, label=label)
        _errorbar(axes[1], g, "feature_variance", label, color=c, fmt="o-")
        _errorbar(axes[2], g, "log10_bayes_error", label, color=c, fmt="o-")
        _errorbar(axes[3], g, "realised_error", label, color=c, fmt="o-")
    for ax, yl, log in [(axes[0], "|gap| (class means of E h(n))", True),
                        (axes[1], "feature-noise variance", True),
                        (axes[2], "log10 Bayes error", False), (axes[3], "realised error (fraction)", False)]:
        ax.set_xlabel("depth n (layers)")
        ax.set_ylabel(yl)
        if log:
            ax.set_yscale("log")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle("PairNorm (scale 1, frozen-affine view) vs GCN, N=2000, lambda=0.5, d=16", fontsize=10)
    fig.tight_layout()
    return fig


def figure_corrected_conv(rows: Rows) -> Any:
    """Corrected convolution vs GCN and APPNP: |gap|, feature-noise variance and realised error vs depth.

    One row of panels per CSBM cell (``label`` = ``"N=.., p/q=.., <operator>"``, rows of
    :func:`oversmooth.report.run_claim` ``("corrected_conv", ...)``); mean and SE over seeds.
    The corrected operator's variance has no ``[sigma^2/N, sigma^2]`` bounds, so none are drawn.

    Examples
    --------
    >>> from oversmooth.experiments import simulate
    >>> from oversmooth.viz import figure_corrected_conv
    >>> rows = [dict(r, label=f"N=300, p/q=3, {op}", ratio=3.0) for op in ("gcn", "corrected")
    ...         for r in simulate(n=300, p=0.06, q=0.02, depth=3, seeds=2, operator=op)]
    >>> len(figure_corrected_conv(rows).axes) >= 3
    True
    """
    cells: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for r in rows:
        cell, op = r["label"].rsplit(", ", 1)
        cells.setdefault(cell, {}).setdefault(op, []).append(r)
    fig, axes = _grid(3 * len(cells), width=3.6, height=3.0, ncols=3)
    colors = {"gcn": "k", "corrected": "C3"}
    for k, (cell, ops) in enumerate(cells.items()):
        ax_gap, ax_var, ax_err = axes[3 * k: 3 * k + 3]
        for i, (op, g) in enumerate(ops.items()):
            c = colors.get(op, f"C{i}")
            x, m, s = mean_and_sem(g, "gap")
            ax_gap.errorbar(x, np.abs(m), yerr=s, fmt="o-", ms=3, capsize=2, color=c, label=op)
            _errorbar(ax_var, g, "feature_variance", op, color=c, fmt="o-")
            _errorbar(ax_err, g, "realised_error", op, color=c, fmt="o-")
        for ax, yl, log in [(ax_gap, "|gap|", True), (ax_var, "feature-noise variance", True),
                            (ax_err, "realised error (fraction)", False)]:
            ax.set_title(cell, fontsize=9)
            ax.set_xlabel("depth n (layers)")
            ax.set_ylabel(yl)
            if log:
                ax.set_yscale("log")
            ax.legend(fontsize=6.5)
            ax.grid(alpha=0.3)
    fig.suptitle("Corrected convolution (P - 1 pi^T) vs GCN and APPNP (c = 10 neighbours + self-loop; "
                 "mean +- SE over seeds)", fontsize=10)
    fig.tight_layout()
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
    fig, axes = _grid(len(graphs), width=4.0, height=3.3, ncols=3)
    for ax, name in zip(axes, graphs):
        g = [r for r in rows if r["graph"] == name]
        for i, model in enumerate(dict.fromkeys(r["model"] for r in g)):
            m_rows = [r for r in g if r["model"] == model]
            alpha = m_rows[0].get("alpha")
            label = f"{model.upper()} alpha={alpha:g}" if model == "appnp" and alpha is not None else model.upper()
            _errorbar(ax, m_rows, "test_acc", label, color="k" if model == "gcn" else f"C{i}", fmt="o-")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("depth (layers / propagation steps)")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{name} ({g[0].get('features', '')} features)", fontsize=9)
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle("Trained GNNs vs depth (60/20/20 random splits, Adam)", fontsize=10)
    fig.tight_layout()
    return fig


FIGURES = {
    "mixing": figure_mixing,
    "denoising": figure_denoising,
    "optimal_depth": figure_optimal_depth,
    "appnp_vs_gcn": figure_appnp_vs_gcn,
    "pairnorm": figure_pairnorm,
    "real_graphs": figure_real_graphs,
    "training": figure_training,
    "real_gnn": figure_real_gnn,
    "corrected_conv": figure_corrected_conv,
}
