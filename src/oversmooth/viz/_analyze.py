"""Figures for real graphs: ``oversmooth analyze`` and the ``real_graphs`` claim.

Measurements are markers (with standard errors where there are some), theory lines.
Every figure says that propagation used D^-1 A with self-loops.

Examples
--------
>>> from oversmooth.graphs import sample_csbm
>>> from oversmooth.experiments import analyze_graph
>>> from oversmooth.viz._analyze import figure_analysis
>>> res = analyze_graph(sample_csbm(300, p=0.05, q=0.01, seed=0), depth=3, alphas=(), bfs_sources=4)
>>> len(figure_analysis(res.to_json()).axes)
4
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..tables import group_rows, grouped_mean_sem
from ._common import finish, grid, plt_module, style_axes

__all__ = ["figure_analysis", "figure_real_graphs"]


def _col(rows: Sequence[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else float(r[key]) for r in rows])


def figure_analysis(result: dict[str, Any]) -> Any:
    """Four panels from ``AnalysisResult.to_json()``: gap, variance, errors with the recommendation, reach.

    The reach panel plots what ``oversmooth analyze`` prints: the mean number of nodes first
    reached at each hop of a BFS from the sampled sources.

    Examples
    --------
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.experiments import analyze_graph
    >>> from oversmooth.viz import figure_analysis
    >>> res = analyze_graph(sample_csbm(300, p=0.05, q=0.01, seed=0), depth=3, alphas=(), bfs_sources=4)
    >>> len(figure_analysis(res.to_json()).axes)
    4
    """
    plt = plt_module()
    rows = result["rows"]
    fit = result["csbm_fit"]
    rec = result["recommendation"]
    x = _col(rows, "depth")
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.2))
    axes = axes.ravel()
    ax = axes[0]
    ax.plot(x, np.abs(_col(rows, "gap")), "o", ms=4, color="k", label="measured (Gaussian noise model)")
    ax.plot(x, np.abs(_col(rows, "theory_gap")), "-", color="C0", label=rf"fitted CSBM: $M^n\mu$ ($\lambda$={fit['lam']:.3g})")
    eff = _col(rows, "theory_gap_finite_degree")
    if np.any(np.isfinite(eff)):
        ax.plot(x, eff, "--", color="C3", label=r"$\nu^n$ (finite-degree rate, ours)")
    style_axes(ax, r"Mahalanobis distance ($\sigma = 1$)", log=True, title="Mixing: smallest class-mean distance")
    ax = axes[1]
    v = _col(rows, "feature_variance")
    ax.errorbar(x, v, yerr=_col(rows, "feature_variance_se"), fmt="o", ms=4, capsize=3, color="k",
                label=f"measured ({rows[0].get('variance_method', '')})")
    ax.plot(x, _col(rows, "theory_feature_variance"), "-", color="C0", label=r"limit + $C_n/d^n$ (ours)")
    ax.axhline(fit["limit_variance"], color="C2", ls=":", lw=2, label=r"$n\to\infty$ limit (component-wise $\sum\pi_j^2$)")
    ax.axhline(1.0 / fit["n_nodes"], color="C1", ls="--", lw=1, label=r"lower bound $\sigma^2/N$")
    sat = result["reach"].get("variance_saturation_depth")
    if sat is not None:
        ax.axvline(sat, color="C2", lw=1, alpha=0.6, label=f"variance saturates at depth {sat}")
    style_axes(ax, r"$\sigma(n)^2$", log=True, title="Denoising: feature-noise variance", legend_size=7.5)
    ax = axes[2]
    ax.plot(x, _col(rows, "bayes_error"), "o", ms=4, color="k", label="Bayes error (LDA, Gaussian model)")
    ax.plot(x, _col(rows, "theory_bayes_error"), "-", color="C0", label="fitted CSBM Bayes error")
    ax.errorbar(x, _col(rows, "realised_error"), yerr=_col(rows, "realised_error_se"), fmt="s", ms=3, capsize=3,
                color="C3", label="realised error, Gaussian draws (mean +- SE)")
    feats = result.get("features") or {}
    kind = feats.get("kind", "gaussian")
    if "probe_test_accuracy" in rows[0]:
        ax.errorbar(x, 1.0 - _col(rows, "probe_test_accuracy"), yerr=_col(rows, "probe_test_accuracy_std"),
                    fmt="^-", ms=3, capsize=3, color="C4", label=f"linear probe, test error (+- std; {kind} features)")
    lo, hi = rec["within_one_se"]
    ax.axvspan(lo - 0.5, hi + 0.5, color="C2", alpha=0.15, label="within 1 SE of the best")
    ax.axvline(rec["depth"], color="C2", lw=1.5, label=f"recommended depth {rec['depth']}")
    style_axes(ax, "error (fraction)", title="Errors vs depth", legend_size=7.5)
    ax = axes[3]
    reach = result["reach"]
    new = np.asarray(reach["new_per_hop"], dtype=float)
    hops = np.arange(new.size)
    ax.bar(hops, new, color="C7", label=f"new nodes first reached at hop h\n(mean over {reach['sources']} BFS sources)")
    ax.axvline(reach["diameter_lower_bound"], color="k", ls="--", lw=1,
               label=f"diameter >= {reach['diameter_lower_bound']}")
    if sat is not None:
        ax.axvline(sat, color="C2", lw=1.5, label=f"variance saturates at depth {sat}")
    if np.any(new > 0):
        ax.set_yscale("log")
    style_axes(ax, "new nodes per hop (as printed)", xlabel="hop h", title="Reach: new nodes per hop",
               legend_size=7.5)
    if kind == "real":
        used = (f"real features ({feats.get('dim')} dims" + (f", top {feats['measured_dim']} principal directions"
                                                              if feats.get("measured_dim") != feats.get("dim") else "")
                + ")")
    else:
        used = "Gaussian class features"
    finish(fig, f"{result['graph']}: N={fit['n_nodes']}, K={fit['n_classes']}, d={fit['mean_degree']:.3g}; "
                 f"D^-1 A with self-loops; features: {used}\ngap / variance / Bayes: Gaussian noise model")
    return fig


def figure_real_graphs(rows: Sequence[dict[str, Any]]) -> Any:
    """The ``real_graphs`` claim: feature-noise variance per graph vs depth, with its limit and bounds.

    Examples
    --------
    >>> from oversmooth.experiments import simulate
    >>> from oversmooth.viz import figure_real_graphs
    >>> rows = [dict(r, label="csbm", limit_variance=r["pi_sq_sum"])
    ...         for r in simulate(n=300, p=0.06, q=0.02, depth=3, seeds=1)]
    >>> len(figure_real_graphs(rows).axes)
    1
    """
    groups = group_rows(rows, ["label"])
    fig, axes = grid(len(groups), width=4.6, height=3.8)
    for ax, ((label,), g) in zip(axes, groups.items()):
        x, m, s = grouped_mean_sem(g, "feature_variance")
        _, se, _ = grouped_mean_sem(g, "feature_variance_se")
        ax.errorbar(x, m, yerr=np.sqrt(s**2 + se**2), fmt="o", ms=4, capsize=3, color="k",
                    label=f"measured ({g[0]['variance_method']})")
        _, th, _ = grouped_mean_sem(g, "theory_feature_variance")
        ax.plot(x, th, "-", color="C0", label=r"limit + $C_n/d^n$ (ours)")
        lim = float(g[0]["limit_variance"])
        ax.axhline(lim, color="C2", ls=":", lw=2, label=r"$n\to\infty$ limit (component-wise $\sum\pi_j^2$)")
        ax.axhline(float(g[0]["pi_sq_sum"]), color="C4", ls="-.", lw=1, label=r"$\sum_j\pi_j^2$ (whole graph)")
        ax.axhline(1.0 / g[0]["n"], color="C1", ls="--", lw=1, label=r"lower bound $\sigma^2/N$")
        style_axes(ax, r"feature-noise variance ($\sigma = 1$)", log=True,
                   title=f"{label}: N={g[0]['n']}, d={g[0]['mean_degree']:.3g}", legend_size=7)
    finish(fig, "Real graphs (Planetoid structure, Gaussian class features): variance saturation; "
                 "D^-1 A with self-loops")
    return fig
