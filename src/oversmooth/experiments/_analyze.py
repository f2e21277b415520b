"""``oversmooth analyze``: the theory applied to a real graph, and a depth recommendation.

Given a labelled graph (a Planetoid graph, a PyTorch Geometric ``Data``, a NetworkX graph
or the user's own file), :func:`analyze_graph`

1. fits a CSBM from the labels (:func:`oversmooth.theory.fit_csbm`):
   block sizes, the K x K edge densities, the one-layer class transition matrix ``M``,
   its mixing eigenvalue ``lambda``, the average degree and its spread;
2. chooses the features (``features="auto"``): the graph's own features when it has
   them (Planetoid raw files, ``Data.x``, an ``.npz`` holding features, or an array
   passed in), else Gaussian class features (means ``mean_scale * e_c``, one-hot, ``sigma = 1``;
   K dimensions), which ``features="gaussian"`` also selects explicitly. Real features
   of more than ``probe_rank`` dimensions are projected on their top ``probe_rank``
   principal directions (randomised SVD; propagation commutes with the projection, and
   the captured share of ``||X||_F^2`` is reported);
3. propagates them, ``h(n) = P^n X`` for n = 0..D, and measures every layer with
   :func:`oversmooth.measures.profile_embeddings` (by default :data:`DEFAULT_METRICS`: class
   separation, spreads, the Dirichlet energies, the Rayleigh quotient, MAD, effective rank;
   ``metrics="all"`` adds the sampled MADGap and group distance ratio), plus the held-out
   linear probe over the chosen split(s) (``split="random"``:
   seeded 60/20/20 splits; ``"public"``: Planetoid's public split; a path: an ``.npz``
   split file): its validation error recommends the depth for real features;
4. only the quantities that need a known noise model come from the explicit Gaussian
   model (class means ``mean_scale * e_c``, ``sigma = 1``): the paper's feature-noise variance
   (exact or Hutchinson with its standard error), the gap of the class means, the
   Gaussian-view (LDA) Bayes error and the realised error of Gaussian draws, the fitted
   CSBM's theory beside them (mean-field gap ``M^n mu``, the Catalan variance
   ``sum pi_j^2 + C_n/d^n`` (ours)), the first depth where the graph departs from the
   model by more than a factor 1.5, and APPNP's best alpha; with ``mixture=True`` also the
   exact Bayes error of the noise model given the graph (each class a Gaussian mixture over
   its nodes). No LDA Bayes error is computed in the real features' dimension: with real
   features the held-out probe is the accuracy measure;
5. measures the graph's reach (:func:`oversmooth.graphs.graph_reach`).

Propagation uses the paper's operator ``P = D^-1 A`` **with self-loops** (``A_ii = 1``,
existing self-loops replaced), or (``operator=``) the corrected convolution ``P - 1 pi^T`` or APPNP. Disconnected graphs are fine: the variance then
saturates at the component-wise level ``saturation_level`` (above ``sum_j pi_j^2``);
isolated nodes keep their own feature forever. Errors (never a NaN table): a graph
with no labelled node, fewer than two classes, a class with fewer than two labelled
nodes, no edges, fewer than 3 nodes. Every output (``AnalysisResult.features``, the JSON,
the printed text and the figure) says which features were used.

Modules: this orchestrator; :mod:`._analyze_inputs` (arguments, features, splits, the
memory estimate), :mod:`._analyze_layers` (per-depth measurements), :mod:`._analyze_model`
(the fitted CSBM's predictions, APPNP's alphas), :mod:`._analyze_result` (the result, the
recommendation rules).
"""
from __future__ import annotations

import sys
import time
from typing import Any, Iterator, Sequence

import numpy as np

from .. import theory
from .._utils import (
    SeedLike,
    check_choice,
    check_positive_float,
    check_positive_int,
    check_probability,
    renamed_kwargs,
    spawn_generators,
)
from ..graphs import gaussian_class_features, graph_reach
from ..measures import EXACT_MAX_NODES, feature_noise_variance, principal_projection, profile_embeddings, row_norms_sq
from ..operators import iter_propagate, normalize_adjacency
from ._analyze_inputs import (
    ANALYZE_OPERATORS,
    FEATURE_MODES,
    as_graph,
    cap_train,
    check_analysis_size,
    resolve_metrics,
    describe_features,
    graph_notes,
    resolve_splits,
    select_features,
)
from ._analyze_layers import LayerMeter
from ._analyze_model import appnp_comparison, fitted_theory
from ._analyze_result import (
    DEPARTURE_FACTOR,
    AnalysisResult,
    check_finite,
    first_departure,
    probe_recommendation,
    recommend,
)

__all__ = ["AnalysisResult", "analyze_graph", "ANALYZE_OPERATORS", "DEFAULT_ALPHAS",
           "DEPARTURE_FACTOR", "FEATURE_MODES", "DEFAULT_METRICS", "MIXTURE_MAX_NODES"]

#: APPNP teleport weights tried for the recommendation.
DEFAULT_ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.5)
#: Profile columns measured per depth by default: the O(N d^2 + d^3 + E d) ones. MADGap and the group
#: distance ratio (sampled, about 1 s per depth on 20,000 nodes) and the probe on Gaussian features come with
#: ``metrics="all"`` or by name; the probe always runs on real features.
DEFAULT_METRICS = ("separation", "within_class_spread", "between_class_spread", "dirichlet_energy",
                   "normalized_dirichlet_energy", "rayleigh_quotient", "mad", "effective_rank")
#: ``mixture=True`` is skipped above this many nodes (its Monte Carlo costs O(samples N K) per depth).
MIXTURE_MAX_NODES = 20_000

@renamed_kwargs(snr="mean_scale")
def analyze_graph(
    graph: Any,
    depth: int = 16,
    *,
    features: Any = "auto",
    split: Any = "random",
    mean_scale: float = 1.0,
    operator: str = "gcn",
    alpha: float = 0.1,
    seeds: int = 3,
    variance: str = "auto",
    probes: int = 32,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    appnp_seeds: int = 1,
    bfs_sources: int = 64,
    splits: int = 3,
    probe_rank: int = 128,
    metrics: Sequence[str] | None = None,
    features_source: str | None = None,
    mixture: bool = False,
    dtype: str = "float64",
    progress: bool | None = None,
    seed: SeedLike = 0,
) -> AnalysisResult:
    """Fit a CSBM, measure every depth of ``P^n X``, compare with theory, recommend a depth.

    Parameters
    ----------
    graph : Graph, torch_geometric.data.Data or networkx.Graph
        Labelled (``-1`` = unlabelled). A ``Data`` keeps its ``x`` as the graph's features.
    depth : int
        Largest depth D (rows for 0..D).
    features : {"auto", "gaussian", "real"} or array (N, d)
        ``"auto"`` (default): the graph's own features when it has them, else Gaussian
        class features; ``"gaussian"``: Gaussian class features even when the graph has
        its own; ``"real"``: the graph's own (an error when it has none); an array (NumPy
        or torch): these features.
    split : "random", "public", path or (train, val, test)
        The probe's nodes: ``splits`` seeded 60/20/20 random splits of the labelled nodes,
        Planetoid's public split, an ``.npz`` split file, or masks / index arrays
        (:func:`oversmooth.graphs.resolve_split`). Unlabelled nodes are dropped.
    mean_scale : float
        Gaussian noise model: class means ``mean_scale * e_c`` (one-hot), noise ``sigma = 1``
        (class means ``mean_scale * sqrt(2)`` apart). (Was ``snr=``, which elsewhere in the
        package, e.g. :mod:`oversmooth.training`, is the distance between the class means over
        sigma; ``snr=`` still works for one release with a DeprecationWarning.)
    operator : {"gcn", "corrected", "appnp"}
        The propagation measured: the paper's ``P = D^-1 A`` (self-loops; default), the
        corrected convolution ``P - 1 pi^T`` (Wang, Baranwal, Fountoulakis 2024: no
        ``[sigma^2/N, sigma^2]`` variance bounds and no Catalan curve for it; its fitted-CSBM
        gap is GCN's), or APPNP with teleport weight ``alpha`` (fitted-CSBM theory: the PPR
        recursion and :func:`oversmooth.theory.ppr_catalan_variance`).
    alpha : float
        APPNP's teleport weight for ``operator="appnp"``.
    seeds : int
        Gaussian feature draws (realised error: mean and standard error over them).
    variance : {"auto", "exact", "hutchinson"}
        Feature-noise variance method (exact up to 5000 nodes by default).
    probes : int
        Hutchinson probes.
    alphas : sequence of float
        APPNP teleport weights to compare on the Gaussian model (empty: skip APPNP).
    appnp_seeds : int
        Gaussian feature draws per alpha.
    bfs_sources : int
        BFS sources for the reach.
    splits : int
        Number of random splits (``split="random"`` only).
    probe_rank : int
        Real features of more dimensions are projected on their top ``probe_rank``
        principal directions before propagation (the probe and the profile see these).
    metrics : "all" or sequence of str, optional
        Columns of :func:`oversmooth.measures.profile_embeddings` to measure per depth:
        default :data:`DEFAULT_METRICS`; ``"all"`` adds MADGap, the group distance ratio and
        the probe on Gaussian features; ``()`` skips the profile (the probe on real features
        still runs: it recommends the depth).
    features_source : str, optional
        Where the features came from, for the outputs (e.g. the file a CLI read).
    mixture : bool
        Also the exact Bayes error of the noise model given the graph (the Gaussian-mixture
        view, :func:`oversmooth.measures.mixture_bayes_error`: node i ~ N((M_n mu)_i,
        sigma^2 ||row i of M_n||^2 I), each class a mixture over its nodes; Monte Carlo in K
        dims, O(samples N K) per depth; equal class priors, as the LDA Bayes error): columns
        ``mixture_bayes_error`` and ``mixture_bayes_error_bound`` (its Monte Carlo standard
        error). Per-node row norms are exact when the variance is, else averages over
        ``probes`` Hutchinson probes (noisy per node, unbiased). Skipped, with the reason in
        the row, above :data:`MIXTURE_MAX_NODES`.
    dtype : {"float64", "float32"}
        Precision of the propagated block and the Hutchinson probes (float32: about 2-3x
        faster propagation, rounding bound in :func:`oversmooth.operators.iter_propagate`; the
        measures accumulate in float64; exact variances stay float64).
    progress : bool, optional
        Progress bar (rate, ETA) on stderr over the profiled depths; default on for large
        profiles (N x d x depths >= 2e7) when stderr is a terminal.
    seed : int, Generator or None
        Master seed (SeedSequence); same seed, same numbers.

    Raises
    ------
    ValidationError
        An argument out of range (named), an unusable graph (no labels, one class, a class
        with one node, no edges, fewer than 3 nodes) or split.
    ResourceLimitError
        The analysis's estimated memory exceeds :func:`oversmooth.graphs.max_bytes` (names
        ``depth`` and gives the estimate), before anything is propagated.

    Returns
    -------
    AnalysisResult
        ``recommendation["realised"]`` is the realised-error recommendation under the chosen
        operator (also ``recommendation["gcn"]`` when it is GCN).

    Examples
    --------
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.experiments import analyze_graph
    >>> res = analyze_graph(sample_csbm(400, p=0.05, q=0.01, seed=0), depth=4, alphas=(0.1,), bfs_sources=8)
    >>> 0 <= res.recommendation["depth"] <= 4, len(res.rows), res.features["kind"]  # the CSBM's own features
    (True, 5, 'real')
    """
    t0 = time.perf_counter()
    depth = check_positive_int(depth, "depth")
    mean_scale = check_positive_float(mean_scale, "mean_scale")
    operator = check_choice(operator, "operator", ANALYZE_OPERATORS)
    dtype = check_choice(str(np.dtype(dtype)) if dtype in (np.float32, np.float64) else dtype, "dtype",
                         ("float64", "float32"))
    alpha = check_probability(alpha, "alpha")
    seeds = check_positive_int(seeds, "seeds")
    appnp_seeds = check_positive_int(appnp_seeds, "appnp_seeds")
    splits = check_positive_int(splits, "splits")
    probe_rank = check_positive_int(probe_rank, "probe_rank")
    probes = check_positive_int(probes, "probes")
    bfs_sources = check_positive_int(bfs_sources, "bfs_sources")
    alphas = [check_probability(a, "alphas") for a in alphas]
    metrics = resolve_metrics(metrics, DEFAULT_METRICS)
    g0 = as_graph(graph)
    x_real, info = select_features(g0, features, features_source)
    g, labels, class_ids = theory.prepare_graph(g0)
    k = int(class_ids.size)
    exact = variance == "exact" or (variance == "auto" and g.n_nodes <= EXACT_MAX_NODES)
    n_cols = k * (1 + seeds) + (min(x_real.shape[1], probe_rank) if x_real is not None else 0) + probes * mixture
    check_analysis_size(g.n_nodes, g.adjacency.nnz, n_cols, depth, exact=exact, mixture=mixture)
    fit = theory.fit_csbm(g, labels)
    mu = mean_scale * np.eye(k)
    sigma = 1.0
    op: dict[str, Any] = {"operator": operator, "alpha": alpha} if operator != "gcn" else {}
    rng_feat, rng_probe, rng_reach, rng_appnp, rng_split, rng_profile, rng_mix = spawn_generators(seed, 7)
    notes = graph_notes(fit, labels, operator, alpha)

    # ---- features and splits
    split_rngs = spawn_generators(rng_split, splits + 1)
    parts, split_desc = resolve_splits(split, g0, labels, splits, split_rngs[1:])
    draws = [gaussian_class_features(g, mu, sigma, r) for r in spawn_generators(rng_feat, seeds)]
    if x_real is not None:
        xr, captured = principal_projection(x_real, probe_rank, seed=split_rngs[0])
    else:
        xr, captured = draws[0], 1.0
    describe_features(info, x_real, xr, captured, mean_scale, seeds, operator)
    noise_model = {"kind": "gaussian class features", "mu": f"{mean_scale:g} x one-hot (K = {k} dims)",
                   "sigma": sigma, "used_for": "feature-noise variance, class-mean gap, Bayes errors (LDA, K dims), "
                                               "realised error, APPNP comparison, fitted-CSBM theory"}
    if x_real is not None:
        notes.append("real features: the held-out linear probe is the accuracy measure; the Gaussian noise model "
                     f"(means {mean_scale:g} x one-hot, sigma = 1) gives the feature-noise variance and the "
                     "Bayes-error columns (no LDA Bayes error in the features' own dimension)")

    # ---- noise model: the paper's feature-noise variance (graph only, times sigma^2)
    (rng_var,) = spawn_generators(rng_probe, 1)
    var_est = feature_noise_variance(g, depth, sigma=sigma, method=variance, probes=probes, seed=rng_var, dtype=dtype,
                                     **op)
    method = var_est.method
    signal = np.where((labels >= 0)[:, None], mu[np.clip(labels, 0, None)], mu.mean(axis=0))

    # ---- propagate [signal | Gaussian draws | measured features | probes] together, measure every depth
    P = normalize_adjacency(g, "rw")
    blocks = [signal] + draws + ([xr] if x_real is not None else [])
    mix_mode, mix_note, node_var = ("on" if mixture else "off"), "", None
    if mixture and g.n_nodes > MIXTURE_MAX_NODES:
        mix_mode = "skip"
        mix_note = (f"mixture_bayes_error skipped: N = {g.n_nodes} > {MIXTURE_MAX_NODES} (Monte Carlo costs "
                    "O(samples N K) per depth)")
        notes.append(mix_note)
    elif mixture and method == "exact":
        node_var = row_norms_sq(P, depth, **(op or {"operator": "gcn"})) * sigma**2
    elif mixture:
        blocks.append(2.0 * spawn_generators(rng_mix, 1)[0].integers(0, 2, size=(g.n_nodes, probes)) - 1.0)
    rng_mc_mix = spawn_generators(rng_mix, 2)[1]
    block = np.hstack(blocks)
    off_x = k * (1 + seeds) if x_real is not None else k
    dim_x = xr.shape[1]
    profile_seed = int(rng_profile.integers(0, 2**31 - 1))
    prof_metrics = [m for m in metrics if m != "probe_accuracy"]
    # the probe (over every split, with validation) always runs on real features; on Gaussian ones when asked
    run_probe = x_real is not None or "probe_accuracy" in metrics
    if not run_probe:
        parts = []
        split_desc = "none used: no probe on Gaussian features (metrics without probe_accuracy)"
    probe_parts = [cap_train(p, r) for p, r in zip(parts, spawn_generators(rng_profile, len(parts)))]
    probe_note = ""
    if any(p[0].size < q[0].size for p, q in zip(probe_parts, parts)):
        probe_note = (f"probe fitted on {probe_parts[0][0].size} of {parts[0][0].size} training nodes per split (seeded "
                      "uniform sample)")
        notes.append(probe_note)
    meter = LayerMeter(labels, k, seeds, sigma, var_est, slice(off_x, off_x + dim_x), probe_parts,
                       run_probe=run_probe, probe_note=probe_note, mixture=mix_mode, mix_note=mix_note,
                       node_var=node_var, probes=probes, rng_mc=spawn_generators(rng_probe, 1)[0], rng_mix=rng_mc_mix)

    def measured_layers() -> Iterator[np.ndarray]:
        for n, h in enumerate(iter_propagate(P, block, depth, dtype=dtype, **op)):
            yield meter.measure(n, h)

    rows = meter.rows
    profile_keys: set[str] = set()
    if prof_metrics:
        # the profile measures each layer as it is yielded: one layer in memory, edges, hop masks and sampled
        # sources computed once (the same sample at every depth)
        if progress is None:
            progress = bool(g.n_nodes * dim_x * (depth + 1) >= 20_000_000 and sys.stderr.isatty())
        prof = profile_embeddings(measured_layers(), labels, g0.adjacency, metrics=prof_metrics, seed=profile_seed,
                                  progress=bool(progress))
        for r, pr in zip(rows, prof.rows):
            pr = dict(pr)
            pr.pop("layer", None)
            pr["profile_notes"] = pr.pop("notes", "")
            profile_keys.update(pr)
            r.update(pr)
    else:
        for _ in measured_layers():
            pass

    # ---- theory of the fitted CSBM
    th = fitted_theory(fit, mu, sigma, depth, operator=operator, alpha=alpha)
    bounded = operator != "corrected"  # rows of M_n are probability vectors: sigma^2/N <= Var <= sigma^2
    for n, r in enumerate(rows):
        r["theory_gap"] = float(th["gap"][n])
        r["theory_gap_finite_degree"] = None if th["gap_nu"] is None else float(th["gap_nu"][n])
        r["theory_feature_variance"] = None if th["variance"] is None else float(th["variance"][n])
        r["limit_variance"] = fit.limit_variance if bounded else None
        r["variance_lower"] = sigma**2 / fit.n_nodes if bounded else None
        r["variance_upper"] = sigma**2 if bounded else None
        r["theory_bayes_error"] = None if th["variance"] is None else float(th["bayes"][n])
        r["variance_method"] = method

    # ---- recommendation
    rec: dict[str, Any] = {}
    if run_probe:
        rec["probe"] = probe_recommendation(rows, meter.val, meter.test, f"{info['measured']} ({split_desc})")
        if not rec["probe"]["validated"] and x_real is not None:
            notes.append("the split has no validation node: the depth is chosen on the test nodes (optimistic)")
    re_m = np.array([r["realised_error"] for r in rows])
    re_s = np.array([r["realised_error_se"] for r in rows])
    rec["realised"] = recommend(re_m, re_s)
    rec["realised"]["operator"] = operator
    rec["realised"]["criterion"] = "realised error of Gaussian class features (mean +- SE over draws)"
    if operator == "gcn":
        rec["gcn"] = rec["realised"]
    rec["bayes_depth"] = int(theory.optimal_depth(np.array([r["bayes_error"] for r in rows])))
    rec["theory_bayes_depth"] = None if th["variance"] is None else int(theory.optimal_depth(th["bayes"]))
    best = rec["probe"] if x_real is not None else rec["realised"]
    rec.update(depth=best["depth"], within_one_se=best["within_one_se"], criterion=best["criterion"])

    # ---- APPNP on the Gaussian model: best alpha
    appnp_rows: list[dict[str, Any]] = []
    if alphas:
        appnp_rows, rec["appnp"] = appnp_comparison(P, g, labels, mu, sigma, depth, alphas, appnp_seeds, rng_appnp)
        if rec["appnp"] is not None:
            rec["appnp_beats_operator"] = bool(rec["appnp"]["best_realised_error"] < rec["realised"]["error"])
            if operator == "gcn":
                rec["appnp_beats_gcn"] = rec["appnp_beats_operator"]

    # ---- reach and departures
    reach = graph_reach(g0.adjacency, depth, sources=bfs_sources, seed=rng_reach)
    var_m = np.array([r["feature_variance"] for r in rows])
    se_m = np.array([r["feature_variance_se"] for r in rows])
    sat = np.flatnonzero(var_m <= 1.15 * fit.limit_variance + 4 * np.nan_to_num(se_m)) if bounded else np.zeros(0)
    reach["variance_saturation_depth"] = int(sat[0]) if sat.size else None
    gap_m = np.array([r["gap"] for r in rows])
    departures = {
        "factor": DEPARTURE_FACTOR,
        "gap_vs_mean_field": first_departure(gap_m, th["gap"], DEPARTURE_FACTOR),
        "gap_vs_lambda_eff": None if th["gap_nu"] is None else first_departure(gap_m, th["gap_nu"],
                                                                                DEPARTURE_FACTOR),
        "variance_vs_catalan": None if th["variance"] is None else first_departure(var_m, th["variance"],
                                                                                   DEPARTURE_FACTOR),
    }
    config = {"depth": depth, "mean_scale": mean_scale, "sigma": sigma, "features": info["kind"], "split": split_desc,
              "seeds": seeds, "variance": method, "probes": probes if method == "hutchinson" else 0,
              "alphas": list(alphas), "appnp_seeds": appnp_seeds, "bfs_sources": bfs_sources,
              "splits": len(parts) if run_probe else 0, "probe_rank": probe_rank, "self_loops": True,
              "operator": {"gcn": "D^-1 A", "corrected": "D^-1 A - 1 pi^T", "appnp": "APPNP"}[operator],
              "operator_name": operator, "alpha": alpha if operator == "appnp" else None,
              "class_ids": class_ids.tolist(), "noise_model": noise_model, "metrics": list(metrics),
              "mixture": bool(mixture), "dtype": dtype}
    res = AnalysisResult(g0.name, fit, rows, reach, rec, departures, appnp_rows, config, notes, features=info)
    check_finite(res, profile_keys)
    res.seconds = time.perf_counter() - t0
    return res
