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

from ..experiments._table import group_rows, mean_and_sem

__all__ = ["figure_analysis", "figure_real_graphs"]


def _col(rows: Sequence[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else float(r[key]) for r in rows])


def figure_analysis(result: dict[str, Any]) -> Any:
    """Four panels from ``AnalysisResult.to_json()``: gap, variance, errors with the recommendation, reach."""
    from . import _plt

    plt = _plt()
    rows = result["rows"]
    fit = result["csbm_fit"]
    rec = result["recommendation"]
    x = _col(rows, "depth")
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.9))
    ax = axes[0]
    ax.plot(x, np.abs(_col(rows, "gap")), "o", ms=4, color="k", label="measured (Gaussian noise model)")
    ax.plot(x, np.abs(_col(rows, "theory_gap")), "-", color="C0", label=f"fitted CSBM: M^n mu (lambda={fit['lam']:.3g})")
    eff = _col(rows, "theory_gap_finite_degree")
    if np.any(np.isfinite(eff)):
        ax.plot(x, eff, "--", color="C3", label="nu^n (finite-degree rate, ours)")
    ax.set_yscale("log")
    ax.set_title("Mixing: smallest class-mean distance", fontsize=9)
    ax.set_ylabel("Mahalanobis distance (sigma = 1)")
    ax = axes[1]
    v = _col(rows, "feature_variance")
    ax.errorbar(x, v, yerr=_col(rows, "feature_variance_se"), fmt="o", ms=4, capsize=2, color="k",
                label=f"measured ({rows[0].get('variance_method', '')})")
    ax.plot(x, _col(rows, "theory_feature_variance"), "-", color="C0", label="limit + C_n/d^n (ours)")
    ax.axhline(fit["limit_variance"], color="C2", ls=":", label="n -> inf limit (component-wise sum pi^2)")
    ax.axhline(1.0 / fit["n_nodes"], color="C1", ls="--", lw=1, label="lower bound sigma^2/N")
    sat = result["reach"].get("variance_saturation_depth")
    if sat is not None:
        ax.axvline(sat, color="C2", lw=1, alpha=0.6)
    ax.set_yscale("log")
    ax.set_title("Denoising: feature-noise variance", fontsize=9)
    ax.set_ylabel("sigma(n)^2")
    ax = axes[2]
    ax.plot(x, _col(rows, "bayes_error"), "o", ms=4, color="k", label="Bayes error (LDA, Gaussian model)")
    ax.plot(x, _col(rows, "theory_bayes_error"), "-", color="C0", label="fitted CSBM Bayes error")
    ax.errorbar(x, _col(rows, "realised_error"), yerr=_col(rows, "realised_error_se"), fmt="s", ms=3, capsize=2,
                color="C3", label="realised error, Gaussian draws (mean +- SE)")
    feats = result.get("features") or {}
    kind = feats.get("kind", "gaussian")
    if "probe_test_accuracy" in rows[0]:
        ax.errorbar(x, 1.0 - _col(rows, "probe_test_accuracy"), yerr=_col(rows, "probe_test_accuracy_std"),
                    fmt="^-", ms=3, capsize=2, color="C4", label=f"linear probe, test error (+- std; {kind} features)")
    lo, hi = rec["within_one_se"]
    ax.axvspan(lo - 0.5, hi + 0.5, color="C2", alpha=0.15, label="within 1 SE of the best")
    ax.axvline(rec["depth"], color="C2", lw=1.5, label=f"recommended depth {rec['depth']}")
    ax.set_title("Errors vs depth", fontsize=9)
    ax.set_ylabel("error (fraction)")
    ax = axes[3]
    reach = result["reach"]
    hops = np.arange(len(reach["new_fraction_per_hop"]))
    ax.bar(hops, reach["new_fraction_per_hop"], color="C7", label="newly reached per hop (BFS)")
    ax.axvline(reach["diameter_lower_bound"], color="k", ls="--", lw=1,
               label=f"diameter >= {reach['diameter_lower_bound']}")
    if sat is not None:
        ax.axvline(sat, color="C2", lw=1.5, label=f"variance saturates at {sat}")
    ax.set_title("Reach: new nodes per hop", fontsize=9)
    ax.set_ylabel("fraction of the source's component")
    for a in axes:
        a.set_xlabel("depth n / hop")
        a.grid(alpha=0.3)
        a.legend(fontsize=6.5)
    if kind == "real":
        used = (f"real features ({feats.get('dim')} dims" + (f", top {feats['measured_dim']} principal directions"
                                                              if feats.get("measured_dim") != feats.get("dim") else "")
                + ")")
    else:
        used = "Gaussian class features"
    fig.suptitle(f"{result['graph']}: N={fit['n_nodes']}, K={fit['n_classes']}, d={fit['mean_degree']:.3g}; "
                 f"D^-1 A with self-loops; features: {used}; gap/variance/Bayes: Gaussian noise model", fontsize=10)
    fig.tight_layout()
    return fig


def figure_real_graphs(rows: Sequence[dict[str, Any]]) -> Any:
    """The ``real_graphs`` claim: feature-noise variance per graph vs depth, with its limit and bounds."""
    from . import _grid

    groups = group_rows(rows, ["label"])
    fig, axes = _grid(len(groups), width=4.4, height=3.6)
    for ax, ((label,), g) in zip(axes, groups.items()):
        x, m, s = mean_and_sem(g, "feature_variance")
        _, se, _ = mean_and_sem(g, "feature_variance_se")
        ax.errorbar(x, m, yerr=np.sqrt(s**2 + se**2), fmt="o", ms=4, capsize=2, color="k",
                    label=f"measured ({g[0]['variance_method']})")
        _, th, _ = mean_and_sem(g, "theory_feature_variance")
        ax.plot(x, th, "-", color="C0", label="limit + C_n/d^n (ours)")
        lim = float(g[0]["limit_variance"])
        ax.axhline(lim, color="C2", ls=":", label="n -> inf limit (component-wise sum pi^2)")
        ax.axhline(float(g[0]["pi_sq_sum"]), color="C4", ls="-.", lw=1, label="sum_j pi_j^2 (whole graph)")
        ax.axhline(1.0 / g[0]["n"], color="C1", ls="--", lw=1, label="lower bound sigma^2/N")
        ax.set_yscale("log")
        ax.set_xlabel("depth n (layers)")
        ax.set_ylabel("feature-noise variance (sigma = 1)")
        ax.set_title(f"{label}: N={g[0]['n']}, d={g[0]['mean_degree']:.3g}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6.5)
    fig.suptitle("Real graphs (Planetoid structure, Gaussian class features): variance saturation; "
                 "D^-1 A with self-loops", fontsize=10)
    fig.tight_layout()
    return fig
