"""Figures comparing operators: APPNP vs GCN, PairNorm vs GCN, the corrected convolution vs GCN and APPNP.

Examples
--------
>>> from oversmooth.experiments import simulate
>>> from oversmooth.viz import figure_pairnorm
>>> rows = [dict(r, label=op) for op in ("gcn", "pairnorm")
...         for r in simulate(n=300, p=0.06, q=0.02, depth=3, seeds=2, operator=op)]
>>> len([ax for ax in figure_pairnorm(rows).axes if ax.get_visible()])
4
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..tables import group_rows, grouped_mean_sem
from ._common import finish, errorbar, grid, note, plt_module, style_axes

__all__ = ["figure_appnp_vs_gcn", "figure_pairnorm", "figure_corrected_conv"]

Rows = Sequence[dict[str, Any]]


def _best(rs: Rows) -> float:
    return float(np.nanmax(grouped_mean_sem(rs, "separation")[1]))


def figure_appnp_vs_gcn(rows: Rows) -> Any:
    """Top: per alpha, a map of log10(best separation GCN / APPNP) over (N, p/q). Bottom: two cells vs depth.

    A positive value (red) means GCN's best error is the lower one. The depth curves mark
    ``n1`` (GCN's gap at 1% by nu) and ``2 n1``, where the claim compares the two.

    Examples
    --------
    >>> from oversmooth.experiments import simulate
    >>> from oversmooth.viz import figure_appnp_vs_gcn
    >>> rows = [dict(r, ratio=3.0) for op in ("gcn", "appnp")
    ...         for r in simulate(n=300, p=0.06, q=0.02, depth=4, seeds=1, operator=op)]
    >>> sum(ax.get_visible() for ax in figure_appnp_vs_gcn(rows).axes)  # one map, its colour bar, two curves
    4
    """
    from matplotlib.colors import TwoSlopeNorm

    plt = plt_module()
    gcn = [r for r in rows if r["operator"] == "gcn"]
    app = [r for r in rows if r["operator"] == "appnp"]
    alphas = sorted({r["alpha"] for r in app})
    sizes = sorted({r["n"] for r in rows})
    ratios = sorted({r["ratio"] for r in rows})
    ncols = max(len(alphas), 2)
    fig, axes = plt.subplots(2, ncols, figsize=(4.6 * ncols, 8.2), squeeze=False, layout="constrained")
    g_best = {k: _best(v) for k, v in group_rows(gcn, ["n", "ratio"]).items()}
    a_groups = group_rows(app, ["n", "ratio", "alpha"])
    grids = []
    for alpha in alphas:
        g = np.full((len(sizes), len(ratios)), np.nan)
        for i, n in enumerate(sizes):
            for j, rt in enumerate(ratios):
                if (n, rt, alpha) in a_groups:
                    g[i, j] = math.log10(g_best[(n, rt)] / _best(a_groups[(n, rt, alpha)]))
        grids.append(g)
    lim = max(0.05, float(np.nanmax(np.abs(grids)))) if grids else 1.0
    norm = TwoSlopeNorm(0.0, -lim, lim)
    im = None
    for ax, alpha, g in zip(axes[0], alphas, grids):
        im = ax.imshow(g, cmap="RdBu_r", norm=norm, origin="lower", aspect="auto")
        for i in range(len(sizes)):
            for j in range(len(ratios)):
                ax.text(j, i, f"{'GCN' if g[i, j] > 0 else 'APPNP'}\n{g[i, j]:+.2f}", ha="center", va="center",
                        fontsize=8.5)
        ax.set_xticks(range(len(ratios)), [f"{r:g}" for r in ratios])
        ax.set_yticks(range(len(sizes)), [f"{n:g}" for n in sizes])
        ax.set_xlabel("p / q (community strength)")
        ax.set_ylabel("N")
        ax.set_title(f"log10(best sep. GCN / APPNP), α = {alpha:g}\n(cell text: whose best error is lower)",
                     fontsize=9.5)
    for ax in axes[0][len(alphas):]:
        ax.set_visible(False)
    if im is not None:
        fig.colorbar(im, ax=list(axes[0][: len(alphas)]), label="log10(best separation GCN / APPNP)",
                     shrink=0.9)
    for ax, (n, rt) in zip(axes[1], [(min(sizes), min(ratios)), (max(sizes), max(ratios))]):
        cell = [r for r in gcn if r["n"] == n and r["ratio"] == rt]
        errorbar(ax, cell, "log10_bayes_error", "GCN", color="k", fmt="o-", ms=3)
        for k, alpha in enumerate(alphas):
            errorbar(ax, [r for r in app if r["n"] == n and r["ratio"] == rt and r["alpha"] == alpha],
                     "log10_bayes_error", f"APPNP α={alpha:g}", color=f"C{k}", fmt="s-", ms=3)
        depth = max(r["depth"] for r in cell)
        ax.axvline(depth / 2, color="C3", ls="--", lw=1, label=r"$n_1$ (GCN gap at 1%)")
        ax.axvline(depth, color="C3", ls=":", lw=1.2, label=r"$2 n_1$")
        style_axes(ax, r"$\log_{10}$ Bayes error", title=f"N = {n:g}, p/q = {rt:g}")
    for ax in axes[1][2:]:
        ax.set_visible(False)
    fig.suptitle("APPNP vs GCN (c = 10 neighbours + self-loop; red: GCN's best error is lower)", fontsize=10.5)
    return fig


def figure_pairnorm(rows: Rows) -> Any:
    """GCN vs PairNorm (PN, PN-SI): |gap|, feature-noise variance, Bayes and realised error vs depth.

    PN is an affine map of all nodes at once, so its gap/std ratio (and so both errors) is
    GCN's: GCN is drawn as a wide pale band under the PN markers so both stay visible.

    Examples
    --------
    >>> from oversmooth.experiments import simulate
    >>> from oversmooth.viz import figure_pairnorm
    >>> rows = [dict(r, label=op) for op in ("gcn", "pairnorm")
    ...         for r in simulate(n=300, p=0.06, q=0.02, depth=3, seeds=2, operator=op)]
    >>> len(figure_pairnorm(rows).axes)
    4
    """
    groups = group_rows(rows, ["label"])
    fig, axes = grid(4, width=3.9, height=3.5, ncols=4)
    style = {"gcn": dict(color="0.55", fmt="-", lw=6, alpha=0.45, zorder=1),
             "pairnorm PN": dict(color="C0", fmt="o--", ms=5, zorder=3),
             "pairnorm PN-SI": dict(color="C1", fmt="^:", ms=4, zorder=2)}
    for i, ((label,), g) in enumerate(groups.items()):
        kw = dict(style.get(label, dict(color=f"C{i + 2}", fmt="o-")))
        x, m, s = grouped_mean_sem(g, "gap")
        axes[0].errorbar(x, np.abs(m), yerr=s, capsize=3, label=label, **kw)
        errorbar(axes[1], g, "feature_variance", label, **kw)
        errorbar(axes[2], g, "log10_bayes_error", label, **kw)
        errorbar(axes[3], g, "realised_error", label, **kw)
    for ax, yl, log in [(axes[0], "|gap| (class means of E h(n))", True), (axes[1], "feature-noise variance", True),
                        (axes[2], r"$\log_{10}$ Bayes error", False), (axes[3], "realised error (fraction)", False)]:
        style_axes(ax, yl, log=log)
    axes[2].set_title("PN coincides with GCN (grey band)", fontsize=9.5)
    axes[3].set_title("PN coincides with GCN (grey band)", fontsize=9.5)
    axes[0].set_title("PN keeps the gap; GCN's vanishes", fontsize=9.5)
    axes[1].set_title("... because PN rescales the noise too", fontsize=9.5)
    n, p, q = rows[0]["n"], rows[0]["p"], rows[0]["q"]
    finish(fig, f"PairNorm (scale 1, frozen-affine view) vs GCN, N={n}, p={p:g}, q={q:g}")
    si = groups.get(("pairnorm PN-SI",))
    if si:
        x, gap, _ = grouped_mean_sem(si, "gap")
        _, var, _ = grouped_mean_sem(si, "feature_variance")
        note(fig, "PN-SI (each node rescaled to norm 1) in the frozen-affine view: every layer's centring and "
                  "scaling frozen as a linear map, so its gap and variance grow together without bound "
                  f"(|gap| {abs(gap[-1]):.1e}, variance {var[-1]:.1e} at depth {int(x[-1])}); only their ratio, "
                  "which sets the errors on the right, is meaningful.")
    return fig


def figure_corrected_conv(rows: Rows) -> Any:
    """Corrected convolution vs GCN and APPNP: |gap|, feature-noise variance and realised error vs depth.

    One panel of realised error vs depth per CSBM cell (``label`` = ``"N=.., p/q=.., <operator>"``,
    rows of :func:`oversmooth.report.run_claim` ``("corrected_conv", ...)``; one column per p/q),
    then the mean gap and the feature-noise variance of one cell; mean and SE over seeds.
    The corrected operator's variance has no ``[sigma^2/N, sigma^2]`` bounds, so none are drawn;
    with D^-1 A its realised error equals GCN's (drawn as a pale band under it).

    Examples
    --------
    >>> from oversmooth.experiments import simulate
    >>> from oversmooth.viz import figure_corrected_conv
    >>> rows = [dict(r, label=f"N=300, p/q=3, {op}", ratio=3.0) for op in ("gcn", "corrected")
    ...         for r in simulate(n=300, p=0.06, q=0.02, depth=3, seeds=2, operator=op)]
    >>> sum(ax.get_visible() for ax in figure_corrected_conv(rows).axes)
    3
    """
    cells: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for r in rows:
        cell, op = r["label"].rsplit(", ", 1)
        cells.setdefault(cell, {}).setdefault(op, []).append(r)
    names = list(cells)
    ncols = max(3, len({c.split(", ")[1] for c in names}))  # one column per p/q
    per_row = math.ceil(len(names) / ncols) * ncols
    fig, axes = grid(per_row + 2, width=3.6, height=2.9, ncols=ncols)
    style = {"gcn": dict(color="0.55", fmt="-", lw=6, alpha=0.45, zorder=1),
             "corrected": dict(color="C3", fmt="o--", ms=3, zorder=3)}

    def kw(op: str, i: int) -> dict[str, Any]:
        return dict(style.get(op, dict(color=f"C{i}", fmt="s-", ms=3, zorder=2)))

    for k, (cell, ops) in enumerate(cells.items()):  # the ruled quantity: the realised error of every cell
        for i, (op, g) in enumerate(ops.items()):
            errorbar(axes[k], g, "realised_error", op, **kw(op, i))
        style_axes(axes[k], "realised error" if k % ncols == 0 else "", title=cell, legend=k == 0, legend_size=7)
    for ax in axes[len(names):per_row]:
        ax.set_visible(False)
    shown = names[len(names) - 1 - (len(names) % ncols or ncols) // 2]  # the largest N, a middle p/q
    ax_gap, ax_var = axes[per_row], axes[per_row + 1]
    for i, (op, g) in enumerate(cells[shown].items()):
        x, m, s_ = grouped_mean_sem(g, "gap")
        ax_gap.errorbar(x, np.abs(m), yerr=s_, capsize=3, label=op, **kw(op, i))
        errorbar(ax_var, g, "feature_variance", op, **kw(op, i))
    style_axes(ax_gap, "|gap|", title=f"{shown}: mean gap", log=True, legend=False)
    style_axes(ax_var, "feature-noise variance (no bounds drawn)", title=f"{shown}: variance", log=True,
               legend=False)
    finish(fig, "Corrected convolution (P - 1π^T) vs GCN and APPNP (c = 10 neighbours + self-loop; mean ± SE over "
                 "seeds; grey band: GCN)")
    return fig
