"""CSBM figures: the overview, mixing, denoising and the optimal depth.

Theory is drawn as lines, measurements as markers with error bars (standard error over seeds).

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
from typing import Any, Sequence

import numpy as np

from ..tables import column, group_rows, grouped_mean_sem
from ._common import finish, errorbar, grid, line, log10_bayes, note, plt_module, style_axes

__all__ = ["figure_overview", "figure_mixing", "figure_denoising", "figure_optimal_depth"]

Rows = Sequence[dict[str, Any]]
GAP = r"$|\mu_2(n)-\mu_1(n)|$"
ZOOM_MAX = 1.6  # the denoising zoom shows the depths where the variance is below this many sigma^2/N


def _by_label(rows: Rows) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    return group_rows(rows, ["label"]) if rows and "label" in rows[0] else {("",): list(rows)}


def figure_overview(rows: Rows) -> Any:
    """Mixing vs denoising in one picture: |gap| and 2 x noise std vs depth, and the Bayes error.

    The error ``Phi(-|gap| / (2 sigma(n)))`` is small while the gap (mixing, falling like
    lambda^n) stays above twice the noise std (denoising, falling until it saturates
    near sigma/sqrt(N)); it rises once the gap drops under the saturated noise.

    Examples
    --------
    >>> from oversmooth.experiments import simulate
    >>> from oversmooth.viz import figure_overview
    >>> len(figure_overview(simulate(n=300, p=0.06, q=0.02, depth=3, seeds=2)).axes)
    2
    """
    plt = plt_module()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.0))
    x, gap, gs = grouped_mean_sem(rows, "gap")
    _, var, _ = grouped_mean_sem(rows, "feature_variance")
    ax.errorbar(x, np.abs(gap), yerr=gs, fmt="o-", ms=4, capsize=3, color="C3",
                label="mixing: " + GAP + " (class-mean gap)")
    ax.plot(x, 2 * np.sqrt(var), "s-", ms=4, color="C2", label=r"denoising: $2\sigma(n)$ (feature-noise std)")
    n = rows[0]["n"]
    ax.axhline(2 / math.sqrt(n), color="C2", ls=":", lw=1.2, label=r"$2\sigma/\sqrt{N}$ (variance floor)")
    style_axes(ax, r"feature units ($\sigma = 1$)", log=True, title="Two effects of each layer")
    errorbar(ax2, rows, "log10_bayes_error", "measured", color="k")
    line(ax2, [dict(r, t=log10_bayes(r["theory_separation"])) for r in rows
               if r.get("theory_separation") is not None], "t", r"theory ($\nu$, Catalan; ours)", color="C0")
    style_axes(ax2, r"$\log_{10}$ Bayes error $\Phi(-|\mathrm{gap}|/2\sigma(n))$",
               title="Their race: a U-shaped error, best depth small")
    p, q = rows[0]["p"], rows[0]["q"]
    finish(fig, f"CSBM N={n}, p={p:g}, q={q:g}, " + r"$\mu=\pm1$, $\sigma=1$" + ", GCN D^-1 A with self-loops")
    return fig


def figure_mixing(rows: Rows) -> Any:
    """|gap| vs depth per config: measured (markers) against lambda^n and nu^n (ours; :func:`oversmooth.theory.nu`).

    Examples
    --------
    >>> from oversmooth.experiments import simulate
    >>> from oversmooth.viz import figure_mixing
    >>> len(figure_mixing(simulate(n=300, p=0.06, q=0.02, depth=3, seeds=2)).axes)
    1
    """
    groups = _by_label(rows)
    fig, axes = grid(len(groups), width=4.4, height=3.5)
    for ax, ((label,), g) in zip(axes, groups.items()):
        x, m, s = grouped_mean_sem(g, "gap")
        ax.errorbar(x, np.abs(m), yerr=s, fmt="o", ms=5, capsize=3, color="k", label="measured |gap|", zorder=3)
        appnp = g[0]["operator"] == "appnp"
        line(ax, [dict(r, theory_gap=abs(r["theory_gap"]) if r["theory_gap"] is not None else None) for r in g],
             "theory_gap", r"PPR recursion with $\lambda$" if appnp else r"paper: $\lambda^n\,$gap(0)", color="C0")
        line(ax, [dict(r, theory_gap_finite_degree=abs(r["theory_gap_finite_degree"])
                       if r["theory_gap_finite_degree"] is not None else None) for r in g],
             "theory_gap_finite_degree",
             r"PPR recursion with $\nu$ (ours)" if appnp else r"$\nu^n\,$gap(0) (ours)", color="C3", ls="--")
        title = f"{label}\n(gap alternates in sign; |gap| shown)" if np.any(m < 0) else label
        style_axes(ax, GAP + " (feature units)", log=True, title=title)
    finish(fig, "Mixing: class-mean gap vs depth (D^-1 A with self-loops; mean ± SE over seeds)")
    return fig


def figure_denoising(rows: Rows) -> Any:
    """Feature-noise variance vs depth: bounds, Catalan curve, the saturation level; cross-sectional spread apart.

    Left: the paper's variance on a log axis with its bounds. Middle: the same in units of
    ``sigma^2/N`` from depth 2 on, where the saturation level ``N sum_j pi_j^2`` (dotted) and
    the lower bound 1 (dashed) are told apart (the depths where it is below 1.6 sigma^2/N). Right: the cross-sectional spread of one
    realisation (a different quantity, no bounds).

    Examples
    --------
    >>> from oversmooth.experiments import simulate
    >>> from oversmooth.viz import figure_denoising
    >>> rows = [dict(r, label="N=300") for r in simulate(n=300, p=0.06, q=0.02, depth=3, seeds=2)]
    >>> len(figure_denoising(rows).axes)
    3
    """
    groups = _by_label(rows)
    fig, (ax, axz, ax2) = grid(3, width=4.6, height=4.0)
    for i, ((label,), g) in enumerate(groups.items()):
        c = f"C{i}"
        n = g[0]["n"]
        x, m, s = grouped_mean_sem(g, "feature_variance")
        _, se_h, _ = grouped_mean_sem(g, "feature_variance_se")
        err = np.sqrt(s**2 + se_h**2)
        ax.errorbar(x, m, yerr=err, fmt="o", ms=4, capsize=3, color=c, label=f"{label}: measured")
        line(ax, g, "theory_feature_variance", None, color=c, ls="-")
        pi2 = float(np.mean(column(g, "pi_sq_sum")))
        ax.axhline(1.0 / n, color=c, ls="--", lw=1)
        keep = (m * n <= ZOOM_MAX) & (x >= 1)
        axz.errorbar(x[keep], m[keep] * n, yerr=err[keep] * n, fmt="o", ms=4, capsize=3, color=c,
                     label=f"{label}: measured")
        axz.axhline(pi2 * n, color=c, ls=":", lw=2)
        xs, cm, cs = grouped_mean_sem(g, "cross_sectional_variance")
        ax2.errorbar(xs, cm, yerr=cs, fmt="s-", ms=3, capsize=3, color=c, label=label)
    ax.axhline(1.0, color="k", ls="--", lw=1)
    ax.plot([], [], "k-", label=r"theory: $\sum\pi_j^2 + C_n/d^n$ (ours)")
    ax.plot([], [], "k--", lw=1, label=r"bounds $\sigma^2/N$ and $\sigma^2$")
    style_axes(ax, r"feature-noise variance $\sigma(n)^2$ ($\sigma=1$)", log=True,
               title="The paper's variance (class-averaged)")
    axz.axhline(1.0, color="k", ls="--", lw=1)
    axz.plot([], [], "k:", lw=2, label=r"saturation level $N\sum_j\pi_j^2$")
    axz.plot([], [], "k--", lw=1, label=r"lower bound $\sigma^2/N$ (= 1 here)")
    style_axes(axz, r"$\sigma(n)^2$ in units of $\sigma^2/N$",
               title=f"Zoom: depths where it is below {ZOOM_MAX:g}" + r" $\sigma^2/N$")
    axz.set_ylim(bottom=0.97)
    style_axes(ax2, "within-class variance across nodes", log=True,
               title="Cross-sectional spread of ONE realisation\n(not the paper's variance: no bounds apply)")
    finish(fig, "Denoising (D^-1 A with self-loops; mean ± SE)")
    return fig


def figure_optimal_depth(rows: Rows) -> Any:
    """One panel per N (log10 Bayes error vs depth, its minimum visible), and the best depth vs N.

    Markers: the measured Gaussian view ``Phi(-|gap| / (2 sigma(n)))``; line: theory (nu and the
    Catalan variance, ours); hollow squares, when the rows carry ``mixture_bayes_error``: the exact
    Bayes error given the graph, which parts from the Gaussian view when the structural spread of
    the node means is large. The measured best depth is marked in every panel.

    Examples
    --------
    >>> from oversmooth.experiments import simulate
    >>> from oversmooth.viz import figure_optimal_depth
    >>> fig = figure_optimal_depth(simulate(n=300, p=0.06, q=0.02, depth=4, seeds=2))
    >>> sum(ax.get_visible() for ax in fig.axes)
    2
    """
    from .. import theory

    groups = sorted(group_rows(rows, ["n"]).items())
    k = len(groups) + 1
    ncols = 3 if k <= 6 else 5
    fig, axes = grid(k, width=3.5, height=3.0, ncols=ncols)
    ns, best, best_t, ll, ld = [], [], [], [], []
    for i, ((n,), g) in enumerate(groups):
        ax = axes[i]
        errorbar(ax, g, "log10_bayes_error", "measured" if i == 0 else None, color="k", zorder=3)
        if np.all(np.isfinite(column(g, "theory_bayes_error"))):
            line(ax, [dict(r, t=log10_bayes(r["theory_separation"])) for r in g], "t",
                 r"theory ($\nu$, Catalan; ours)" if i == 0 else None, color="C0")
        mix = [dict(r, t=math.log10(max(r["mixture_bayes_error"], 1e-300))) for r in g
               if r.get("mixture_bayes_error") is not None]
        if mix:
            xm, mm, sm = grouped_mean_sem(mix, "t")
            ax.errorbar(xm, mm, yerr=sm, fmt="s", mfc="none", ms=5, capsize=3, color="C1",
                        label="mixture view (given the graph)" if i == 0 else None)
        sep = grouped_mean_sem(g, "separation")[1]
        n_star = int(np.argmax(sep))
        ax.axvline(n_star, color="C3", lw=1, ls="--", label="measured best depth" if i == 0 else None)
        d = float(np.mean(column(g, "mean_degree")))
        style_axes(ax, r"$\log_{10}$ Bayes error" if i % ncols == 0 else "", title=f"N = {n:g} (d = {d:.3g})",
                   legend=i == 0, legend_size=7.5)
        ns.append(n)
        best.append(n_star)
        best_t.append(int(np.nanargmax(grouped_mean_sem(g, "theory_separation")[1])))
        ll.append(theory.depth_scale_loglog(n))
        ld.append(theory.depth_scale_logd(n, d))
    ax2 = axes[len(groups)]
    ax2.plot(ns, best, "o", color="k", ms=7, label="measured best depth")
    ax2.plot(ns, best_t, "x", color="C3", ms=9, mew=2, label="theory best depth")
    ax2.plot(ns, ll, "-", color="C0", label=r"$\log N / \log\log N$")
    ax2.plot(ns, ld, "--", color="C2", label=r"$\log N / \log d$")
    ax2.set_xscale("log")
    from matplotlib.ticker import MaxNLocator

    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    style_axes(ax2, "depth (layers)", xlabel="number of nodes N", title=r"Best depth vs N ($\lambda$ = 0.5)",
               integer_x=False, legend_size=7.5)
    finish(fig, "Optimal depth: the error is U-shaped in depth at every N "
                 "(d = 1 + 3 ln N, λ = 0.5, μ = ±1, σ = 1; markers measured, lines theory)")
    if mix:
        note(fig, "The mixture view is the exact Bayes error given the sampled graph (each class a mixture over "
                  "its nodes); the Gaussian view treats every node alike.")
    return fig
