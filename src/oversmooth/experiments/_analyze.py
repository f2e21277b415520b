"""``oversmooth analyze``: the theory applied to a real graph, and a depth recommendation.

Given a labelled graph (a Planetoid graph, a PyTorch Geometric ``Data``, a NetworkX graph
or the user's own file), :func:`analyze_graph`

1. fits a CSBM from the labels (:func:`~oversmooth.experiments._structure.fit_csbm`):
   block sizes, the K x K edge densities, the one-layer class transition matrix ``M``,
   its mixing eigenvalue ``lambda``, the average degree and its spread;
2. chooses the features (``features="auto"``): the graph's own features when it has
   them (Planetoid raw files, ``Data.x``, an ``.npz`` holding features, or an array
   passed in), else Gaussian class features (means ``snr * e_c``, one-hot, ``sigma = 1``;
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
   model (class means ``snr * e_c``, ``sigma = 1``): the paper's feature-noise variance
   (exact or Hutchinson with its standard error), the gap of the class means, the
   Gaussian-view (LDA) Bayes error and the realised error of Gaussian draws, the fitted
   CSBM's theory beside them (mean-field gap ``M^n mu``, the Catalan variance
   ``sum pi_j^2 + C_n/d^n`` (ours)), the first depth where the graph departs from the
   model by more than a factor 1.5, and APPNP's best alpha; with ``mixture=True`` also the
   exact Bayes error of the noise model given the graph (each class a Gaussian mixture over
   its nodes). No LDA Bayes error is computed in the real features' dimension: with real
   features the held-out probe is the accuracy measure;
5. measures the graph's reach (:func:`~oversmooth.experiments._structure.graph_reach`).

Propagation uses the paper's operator ``P = D^-1 A`` **with self-loops** (``A_ii = 1``,
existing self-loops replaced). Disconnected graphs are fine: the variance then
saturates at the component-wise level ``saturation_level`` (above ``sum_j pi_j^2``);
isolated nodes keep their own feature forever. Errors (never a NaN table): a graph
with no labelled node, fewer than two classes, a class with fewer than two labelled
nodes, no edges, fewer than 3 nodes. Every output (``AnalysisResult.features``, the JSON,
the printed text and the figure) says which features were used.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from .. import theory
from .._utils import (
    SeedLike,
    check_choice,
    check_positive_float,
    check_positive_int,
    check_probability,
    spawn_generators,
)
from .._version import __version__
from ..graphs import Graph, gaussian_class_features, random_split, read_graph, resolve_split
from ..measures import (
    PROFILE_METRICS,
    bayes_error_lda,
    class_indicator,
    feature_noise_variance,
    linear_probe,
    mahalanobis_distances,
    profile_embeddings,
    realised_error,
)
from ..measures._embeddings import PROBE_MAX_TRAIN
from ..measures._mixture import mixture_bayes_error
from ..measures._profile import _exact_row_norms
from ..operators import iter_propagate, normalize_adjacency
from ._structure import CSBMFit, fit_csbm, graph_reach, prepare_graph, saturation_level

__all__ = [
    "CSBMFit",
    "AnalysisResult",
    "prepare_graph",
    "fit_csbm",
    "saturation_level",
    "graph_reach",
    "linear_probe",
    "random_split",
    "analyze_graph",
    "DEFAULT_ALPHAS",
    "DEPARTURE_FACTOR",
    "FEATURE_MODES",
    "DEFAULT_METRICS",
    "MIXTURE_MAX_NODES",
]

#: APPNP teleport weights tried for the recommendation.
DEFAULT_ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.5)
#: A measured curve "departs" from the CSBM theory where measured/theory leaves [1/1.5, 1.5].
DEPARTURE_FACTOR = 1.5
#: ``features=`` choices besides an array: the graph's own when present, Gaussian, or the graph's own (required).
FEATURE_MODES = ("auto", "gaussian", "real")
#: Profile columns measured per depth by default: the O(N d^2 + d^3 + E d) ones. MADGap and the group
#: distance ratio (sampled, about 1 s per depth on 20,000 nodes) and the probe on Gaussian features come with
#: ``metrics="all"`` or by name; the probe always runs on real features.
DEFAULT_METRICS = ("separation", "within_class_spread", "between_class_spread", "dirichlet_energy",
                   "normalized_dirichlet_energy", "rayleigh_quotient", "mad", "effective_rank")
#: ``mixture=True`` is skipped above this many nodes (its Monte Carlo costs O(samples N K) per depth).
MIXTURE_MAX_NODES = 20_000
_LDA_SAMPLES = 20_000  # Monte Carlo draws of the K-class Bayes error in K dims (SE <= 0.0036)


# --------------------------------------------------------------------------- inputs
def _as_graph(graph: Any) -> Graph:
    """An oversmooth Graph, a PyG ``Data`` (``x`` kept) or a NetworkX graph -> Graph."""
    if isinstance(graph, Graph):
        return graph
    if hasattr(graph, "edge_index") or type(graph).__module__.startswith("networkx"):
        # a PyG edge_index listing each edge once is read as undirected (the measures' convention)
        return read_graph(graph, symmetrize=True)
    raise TypeError(f"graph must be an oversmooth Graph, a torch_geometric Data or a networkx graph, "
                    f"got {type(graph).__name__}")


def _features_array(x: Any, n_nodes: int) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n_nodes:
        raise ValueError(f"features must be an (N, d) array with N = {n_nodes} rows (one per node), "
                         f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("features must be finite (no NaN or inf)")
    return arr


def _select_features(g: Graph, features: Any, source: str | None) -> tuple[np.ndarray | None, dict[str, Any]]:
    """(real features or None for Gaussian, description) for the ``features`` argument."""
    if not isinstance(features, str):
        x = _features_array(features, g.n_nodes)
        return x, {"kind": "real", "origin": source or "features array passed to analyze_graph"}
    mode = check_choice(features, "features", FEATURE_MODES)
    own = g.features
    if mode == "gaussian":
        why = "explicit choice (features='gaussian')" + (": the graph's own features are not used"
                                                          if own is not None else "")
        return None, {"kind": "gaussian", "origin": source or why}
    if own is None:
        if mode == "real":
            raise ValueError(f"features='real' but graph {g.name!r} has no features (pass an (N, d) array, "
                             "or features='gaussian')")
        return None, {"kind": "gaussian", "origin": source or f"graph {g.name!r} has no features"}
    if source is None:
        fsrc = (g.metadata or {}).get("features_source")
        where = g.source or g.name
        source = f"the graph's own features ({fsrc}; {where})" if fsrc else f"the graph's own features ({where})"
    return _features_array(own, g.n_nodes), {"kind": "real", "origin": source}


def _resolve_splits(split: Any, g0: Graph, labels: np.ndarray, splits: int,
                    rngs: Sequence[np.random.Generator]) -> tuple[list[tuple[np.ndarray, ...]], str]:
    """Probe splits restricted to labelled nodes, and a description."""
    if isinstance(split, str) and split == "random":
        parts = [random_split(labels, r) for r in rngs[:splits]]
        desc = f"random 60/20/20 splits of the labelled nodes (train/val/test), {splits} seeded"
    else:
        tr, va, te = resolve_split(split, g0)
        parts = [(tr, va, te)]
        what = "Planetoid public split" if isinstance(split, str) and split == "public" else (
            f"split file {os.fspath(split)}" if isinstance(split, (str, os.PathLike)) else "given split")
        desc = f"{what}: train {tr.size}, val {va.size}, test {te.size} nodes"
    out = []
    dropped = 0
    for tr, va, te in parts:
        tr, va, te = (np.asarray(s, dtype=np.int64) for s in (tr, va, te))
        size = tr.size + va.size + te.size
        tr, va, te = tr[labels[tr] >= 0], va[labels[va] >= 0], te[labels[te] >= 0]
        dropped = max(dropped, size - tr.size - va.size - te.size)
        if tr.size == 0 or te.size == 0:
            raise ValueError(f"split: the {'train' if tr.size == 0 else 'test'} set has no labelled node")
        if np.unique(labels[tr]).size < 2:
            raise ValueError("split: the train set holds a single class; the probe needs at least 2")
        out.append((tr, va, te))
    if dropped:
        desc += f" ({dropped} unlabelled node(s) left out)"
    return out, desc


def _orthonormal(y: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the columns of ``y`` from the eigenvectors of its small Gram matrix, twice.

    (LAPACK's QR of a tall matrix stalls for seconds on a busy machine with threaded BLAS; a
    k x k eigendecomposition does not. Done twice, like CholeskyQR2, for orthogonality.)
    """
    for _ in range(2):
        w, v = np.linalg.eigh(y.T @ y)
        keep = w > max(float(w.max()), 0.0) * 1e-12
        y = y @ (v[:, keep] / np.sqrt(w[keep]))
    return y


def _reduce_features(x: np.ndarray, rank: int, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Project X on its top ``rank`` right singular directions (randomised range finder).

    Returns the projection and the share of ``||X||_F^2`` it keeps. Propagation commutes
    with the projection: ``P^n (X V) = (P^n X) V``. Cost O(N d rank) (Halko et al. 2011:
    ``rank + 10`` random directions, two power iterations).
    """
    if x.shape[1] <= rank:
        return x, 1.0
    q = _orthonormal(x @ rng.standard_normal((x.shape[1], rank + 10)))
    for _ in range(2):
        q = _orthonormal(x @ (x.T @ q))
    b = q.T @ x  # (m, d): X ~ Q B
    w, u = np.linalg.eigh(b @ b.T)  # B = U S V^T: B B^T = U S^2 U^T
    top = np.argsort(w)[::-1][:rank]
    top = top[w[top] > 0]
    vt = (u[:, top].T @ b) / np.sqrt(w[top])[:, None]
    xr = x @ vt.T
    tot = float(np.sum(x * x))
    return xr, (float(np.sum(xr * xr)) / tot if tot > 0 else 1.0)


# --------------------------------------------------------------------------- the result
@dataclass
class AnalysisResult:
    """What :func:`analyze_graph` found: the fit, per-depth rows, reach, recommendation.

    ``features`` says which features were used (``kind`` "real" or "gaussian", ``origin``,
    ``dim``, ``measured_dim``, ``captured_energy``, ``summary``); ``split`` describes the
    probe's train/val/test nodes; ``noise_model`` the Gaussian model behind the
    feature-noise variance and the Bayes errors.
    """

    name: str
    fit: CSBMFit
    rows: list[dict[str, Any]]
    reach: dict[str, Any]
    recommendation: dict[str, Any]
    departures: dict[str, Any]
    appnp: list[dict[str, Any]]
    config: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    features: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return _clean({"oversmooth_version": __version__, "graph": self.name, "features": self.features,
                       "config": self.config, "csbm_fit": self.fit.to_dict(), "rows": self.rows, "reach": self.reach,
                       "departures": self.departures, "appnp": self.appnp, "recommendation": self.recommendation,
                       "notes": self.notes, "seconds": round(self.seconds, 3)})


def _clean(v: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, np.ndarray):
        return _clean(v.tolist())
    return v


def _mean_se(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the last axis and its standard error (NaN-free: 0 for a single value)."""
    m = a.mean(axis=-1)
    s = a.std(axis=-1, ddof=1) / math.sqrt(a.shape[-1]) if a.shape[-1] > 1 else np.zeros_like(m)
    return m, s


def _recommend(err: np.ndarray, se: np.ndarray) -> dict[str, Any]:
    best = theory.optimal_depth(err)
    within = np.flatnonzero(err <= err[best] + se[best])
    return {"depth": best, "error": float(err[best]), "se": float(se[best]),
            "within_one_se": [int(within.min()), int(within.max())]}


def _first_departure(measured: np.ndarray, predicted: np.ndarray, factor: float) -> int | None:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(measured) / np.abs(predicted)
    bad = np.flatnonzero(~np.isfinite(ratio) | (ratio > factor) | (ratio < 1.0 / factor))
    return int(bad[0]) if bad.size else None


def _min_distance(means: np.ndarray, cov: np.ndarray) -> float:
    dist = mahalanobis_distances(means, cov)
    k = dist.shape[0]
    return float(dist[~np.eye(k, dtype=bool)].min())


# --------------------------------------------------------------------------- the analysis
def analyze_graph(
    graph: Any,
    depth: int = 16,
    *,
    features: Any = "auto",
    split: Any = "random",
    snr: float = 1.0,
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
    snr : float
        Gaussian noise model: class means ``snr * e_c`` (one-hot), noise ``sigma = 1``.
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
    progress : bool, optional
        Progress bar (rate, ETA) on stderr over the profiled depths; default on for large
        profiles (N x d x depths >= 2e7) when stderr is a terminal.
    seed : int, Generator or None
        Master seed (SeedSequence); same seed, same numbers.

    Returns
    -------
    AnalysisResult

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
    snr = check_positive_float(snr, "snr")
    seeds = check_positive_int(seeds, "seeds")
    appnp_seeds = check_positive_int(appnp_seeds, "appnp_seeds")
    splits = check_positive_int(splits, "splits")
    probe_rank = check_positive_int(probe_rank, "probe_rank")
    probes = check_positive_int(probes, "probes")
    bfs_sources = check_positive_int(bfs_sources, "bfs_sources")
    alphas = [check_probability(a, "alpha") for a in alphas]
    if metrics is None:
        metrics = list(DEFAULT_METRICS)
    elif isinstance(metrics, str) and metrics == "all":
        metrics = list(PROFILE_METRICS)
    else:
        metrics = [metrics] if isinstance(metrics, str) else [str(m) for m in metrics]
        bad = [m for m in metrics if m not in PROFILE_METRICS]
        if bad:
            raise ValueError(f"metrics: unknown metric {bad[0]!r}; choose from {', '.join(PROFILE_METRICS)}")
    g0 = _as_graph(graph)
    x_real, info = _select_features(g0, features, features_source)
    g, labels, class_ids = prepare_graph(g0)
    fit = fit_csbm(g, labels)
    k = fit.n_classes
    mu = snr * np.eye(k)
    sigma = 1.0
    rng_feat, rng_probe, rng_reach, rng_appnp, rng_split, rng_profile, rng_mix = spawn_generators(seed, 7)
    notes = ["propagation: P = D^-1 A with self-loops added (A_ii = 1), as in the paper"]
    if fit.n_components > 1:
        notes.append(f"graph is disconnected: {fit.n_components} components (largest {fit.largest_component} of "
                     f"{fit.n_nodes} nodes); the variance saturates at the component-wise level "
                     f"{fit.limit_variance:.3g}, not at sum_j pi_j^2 = {fit.pi_sq_sum:.3g}")
    if fit.isolated_nodes:
        notes.append(f"{fit.isolated_nodes} isolated node(s) keep their own features at every depth")
    n_unl = int(np.count_nonzero(labels < 0))
    if n_unl:
        notes.append(f"{n_unl} unlabelled node(s) propagate but are not scored (their Gaussian features have the "
                     "average class mean)")

    # ---- features and splits
    split_rngs = spawn_generators(rng_split, splits + 1)
    parts, split_desc = _resolve_splits(split, g0, labels, splits, split_rngs[1:])
    draws = [gaussian_class_features(g, mu, sigma, r) for r in spawn_generators(rng_feat, seeds)]
    if x_real is not None:
        xr, captured = _reduce_features(x_real, probe_rank, split_rngs[0])
        info.update(dim=int(x_real.shape[1]), measured_dim=int(xr.shape[1]), captured_energy=captured)
        reduced = xr.shape[1] < x_real.shape[1]
        info["summary"] = (f"real features: {info['origin']}, {x_real.shape[1]} dims"
                           + (f"; measured on their top {xr.shape[1]} principal directions (randomised SVD, "
                              f"{100 * captured:.1f}% of ||X||_F^2)" if reduced else ""))
        info["measured"] = "P^n X" + (" V (X projected on its top principal directions)" if reduced else "")
    else:
        xr = draws[0]
        info.update(dim=k, measured_dim=k, captured_energy=1.0)
        info["summary"] = (f"Gaussian class features ({info['origin']}): means {snr:g} x one-hot, sigma = 1, "
                           f"{k} dims, {seeds} draw(s); the profile measures the first draw")
        info["measured"] = "P^n X (first Gaussian draw)"
    noise_model = {"kind": "gaussian class features", "mu": f"{snr:g} x one-hot (K = {k} dims)", "sigma": sigma,
                   "used_for": "feature-noise variance, class-mean gap, Bayes errors (LDA, K dims), realised "
                               "error, APPNP comparison, fitted-CSBM theory"}
    if x_real is not None:
        notes.append("real features: the held-out linear probe is the accuracy measure; the Gaussian noise model "
                     f"(means {snr:g} x one-hot, sigma = 1) gives the feature-noise variance and the Bayes-error "
                     "columns (no LDA Bayes error in the features' own dimension)")

    # ---- noise model: the paper's feature-noise variance (graph only, times sigma^2)
    (rng_var,) = spawn_generators(rng_probe, 1)
    var_est = feature_noise_variance(g, depth, sigma=sigma, method=variance, probes=probes, seed=rng_var)
    method = var_est.method
    cov = sigma**2 * np.eye(k)
    ind = class_indicator(labels, k)
    counts = np.bincount(labels[labels >= 0], minlength=k).astype(float)
    weights = counts / counts.sum()
    signal = np.where((labels >= 0)[:, None], mu[np.clip(labels, 0, None)], mu.mean(axis=0))

    # ---- propagate [signal | Gaussian draws | measured features] together, measure every depth
    P = normalize_adjacency(g, "rw")
    blocks = [signal] + draws + ([xr] if x_real is not None else [])
    mix_note = ""
    node_var: np.ndarray | None = None
    if mixture and g.n_nodes > MIXTURE_MAX_NODES:
        mix_note = (f"mixture_bayes_error skipped: N = {g.n_nodes} > {MIXTURE_MAX_NODES} (Monte Carlo costs "
                    "O(samples N K) per depth)")
        notes.append(mix_note)
    elif mixture and method == "exact":
        node_var = _exact_row_norms(P, depth, {"operator": "gcn"}, None) * sigma**2
    elif mixture:
        z = (2.0 * spawn_generators(rng_mix, 1)[0].integers(0, 2, size=(g.n_nodes, probes)) - 1.0)
        blocks.append(z)
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
    probe_parts = [_cap_train(p, r) for p, r in zip(parts, spawn_generators(rng_profile, len(parts)))]
    probe_note = ""
    if any(p[0].size < q[0].size for p, q in zip(probe_parts, parts)):
        probe_note = (f"probe fitted on {PROBE_MAX_TRAIN} of {parts[0][0].size} training nodes per split (seeded "
                      "uniform sample)")
        notes.append(probe_note)
    probe_val = np.zeros((depth + 1, len(parts)))
    probe_test = np.zeros((depth + 1, len(parts)))
    warm: list[np.ndarray | None] = [None] * len(parts)
    rows: list[dict[str, Any]] = []
    profile_keys: set[str] = set()
    rng_mc = spawn_generators(rng_probe, 1)[0]
    def measured_layers() -> Iterator[np.ndarray]:
        """Propagate; per depth the noise-model columns and the probe, then hand the layer to the profile."""
        for n, h in enumerate(iter_propagate(P, block, depth)):
            means = np.asarray(ind @ h[:, :k])
            var = float(var_est.pooled[n])
            r: dict[str, Any] = {
                "depth": n, "gap": _min_distance(means, cov), "feature_variance": var,
                "feature_variance_se": float(var_est.se_pooled[n]),
                "bayes_error": bayes_error_lda(means, cov * (var / sigma**2), n_samples=_LDA_SAMPLES, seed=rng_mc)}
            re, cs = [], []
            for s in range(seeds):
                hx = h[:, k * (1 + s):k * (2 + s)]
                re.append(realised_error(hx, labels))
                rm = np.asarray(ind @ hx)
                sq = np.asarray(ind @ (hx * hx))
                cs.append(float(weights @ np.clip(sq - rm**2, 0, None).mean(axis=1)))
            re_m, re_s = _mean_se(np.array(re))
            r["realised_error"] = float(re_m)
            r["realised_error_se"] = float(re_s)
            r["cross_sectional_variance"] = float(np.mean(cs))
            if mixture:
                r["mixture_bayes_error"] = r["mixture_bayes_error_bound"] = None
                if not mix_note:
                    nv = node_var[n] if node_var is not None else np.mean(h[:, -probes:] ** 2, axis=1) * sigma**2
                    # whitened (cov = sigma^2 I): node i ~ N(m_i / sigma, (nv_i / sigma^2) I)
                    rel = np.clip(nv / sigma**2, np.finfo(float).tiny, None)
                    mres = mixture_bayes_error(h[:, :k] / sigma, rel, labels, priors="equal", seed=rng_mc_mix)
                    r["mixture_bayes_error"], r["mixture_bayes_error_bound"] = mres.error, mres.uncertainty
                how = "exact" if node_var is not None else f"from {probes} Hutchinson probes"
                r["mixture_notes"] = mix_note or (
                    f"Monte Carlo in K dims, equal priors (as the LDA column); per-node row norms {how}")
            layer = h[:, off_x:off_x + dim_x]
            for s, (tr, va, te) in enumerate(probe_parts):
                ev = [layer[va], layer[te]] if va.size else [layer[te]]
                preds, warm[s] = linear_probe(layer[tr], labels[tr], ev, init=warm[s], return_params=True)
                probe_val[n, s] = np.mean(preds[0] == labels[va]) if va.size else np.nan
                probe_test[n, s] = np.mean(preds[-1] == labels[te])
            if run_probe:
                r["probe_accuracy"] = float(probe_test[n].mean())
                r["probe_notes"] = probe_note
            rows.append(r)
            yield layer

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
    ns = np.arange(depth + 1)
    trans = np.asarray(fit.transition)
    th_means = [np.linalg.matrix_power(trans, int(n)) @ mu for n in ns]
    th_gap = np.array([_min_distance(m, cov) for m in th_means])
    th_var = theory.catalan_variance(ns, fit.mean_degree, fit.limit_variance, sigma)
    # th_var already carries sigma^2: the noise covariance of h_i(n) is cov * th_var / sigma^2
    th_bayes = np.array([bayes_error_lda(m, cov * (v / sigma**2), n_samples=_LDA_SAMPLES, seed=int(n))
                         for n, (m, v) in enumerate(zip(th_means, th_var))])
    gap0 = th_gap[0]
    th_gap_eff = (gap0 * np.abs(fit.lambda_eff) ** ns) if fit.lambda_eff is not None else None
    for n, r in zip(ns, rows):
        r["theory_gap"] = float(th_gap[n])
        r["theory_gap_finite_degree"] = None if th_gap_eff is None else float(th_gap_eff[n])
        r["theory_feature_variance"] = float(th_var[n])
        r["limit_variance"] = fit.limit_variance
        r["variance_lower"] = sigma**2 / fit.n_nodes
        r["variance_upper"] = sigma**2
        r["theory_bayes_error"] = float(th_bayes[n])
        r["variance_method"] = method

    # ---- recommendation
    rec: dict[str, Any] = {}
    if run_probe:
        has_val = bool(np.all(np.isfinite(probe_val)))
        vm, vs = _mean_se(1.0 - (probe_val if has_val else probe_test))
        tm = probe_test.mean(axis=1)
        tsd = probe_test.std(axis=1, ddof=1) if len(parts) > 1 else np.zeros(depth + 1)
        for n in ns:
            if has_val:
                rows[n]["probe_val_error"] = float(vm[n])
                rows[n]["probe_val_error_se"] = float(vs[n])
            rows[n]["probe_test_accuracy"] = float(tm[n])
            rows[n]["probe_test_accuracy_std"] = float(tsd[n])
        rec["probe"] = _recommend(vm, vs)
        rec["probe"]["test_accuracy"] = float(tm[rec["probe"]["depth"]])
        rec["probe"]["test_accuracy_std"] = float(tsd[rec["probe"]["depth"]])
        rec["probe"]["criterion"] = (f"{'validation' if has_val else 'test'} error of a linear probe on "
                                     f"{info['measured']} ({split_desc})")
        if not has_val and x_real is not None:
            notes.append("the split has no validation node: the depth is chosen on the test nodes (optimistic)")
    re_m = np.array([r["realised_error"] for r in rows])
    re_s = np.array([r["realised_error_se"] for r in rows])
    rec["gcn"] = _recommend(re_m, re_s)
    rec["gcn"]["criterion"] = "realised error of Gaussian class features (mean +- SE over draws)"
    be = np.array([r["bayes_error"] for r in rows])
    rec["bayes_depth"] = int(theory.optimal_depth(be))
    rec["theory_bayes_depth"] = int(theory.optimal_depth(th_bayes))
    if x_real is not None:
        rec["depth"] = rec["probe"]["depth"]
        rec["within_one_se"] = rec["probe"]["within_one_se"]
        rec["criterion"] = rec["probe"]["criterion"]
    else:
        rec["depth"] = rec["gcn"]["depth"]
        rec["within_one_se"] = rec["gcn"]["within_one_se"]
        rec["criterion"] = rec["gcn"]["criterion"]

    # ---- APPNP on the Gaussian model: best alpha
    appnp_rows: list[dict[str, Any]] = []
    if alphas:
        best = None
        for alpha, ar in zip(alphas, spawn_generators(rng_appnp, len(alphas))):
            sub = spawn_generators(ar, appnp_seeds)
            xs = np.hstack([gaussian_class_features(g, mu, sigma, s) for s in sub])
            errs = np.zeros((depth + 1, appnp_seeds))
            for n, h in enumerate(iter_propagate(P, xs, depth, operator="appnp", alpha=alpha)):
                for s in range(appnp_seeds):
                    errs[n, s] = realised_error(h[:, k * s:k * (s + 1)], labels)
            em, es = _mean_se(errs)
            rr = _recommend(em, es)
            entry = {"alpha": alpha, "best_depth": rr["depth"], "best_realised_error": rr["error"], "se": rr["se"],
                     "realised_error_at_max_depth": float(em[-1])}
            appnp_rows.append(entry)
            if best is None or entry["best_realised_error"] < best["best_realised_error"]:
                best = entry
        rec["appnp"] = dict(best) if best is not None else None
        if best is not None:
            rec["appnp_beats_gcn"] = bool(best["best_realised_error"] < rec["gcn"]["error"])

    # ---- reach and departures
    reach = graph_reach(g0.adjacency, depth, sources=bfs_sources, seed=rng_reach)
    var_m = np.array([r["feature_variance"] for r in rows])
    se_m = np.array([r["feature_variance_se"] for r in rows])
    sat = np.flatnonzero(var_m <= 1.15 * fit.limit_variance + 4 * np.nan_to_num(se_m))
    reach["variance_saturation_depth"] = int(sat[0]) if sat.size else None
    gap_m = np.array([r["gap"] for r in rows])
    departures = {
        "factor": DEPARTURE_FACTOR,
        "gap_vs_mean_field": _first_departure(gap_m, th_gap, DEPARTURE_FACTOR),
        "gap_vs_lambda_eff": None if th_gap_eff is None else _first_departure(gap_m, th_gap_eff, DEPARTURE_FACTOR),
        "variance_vs_catalan": _first_departure(var_m, th_var, DEPARTURE_FACTOR),
    }
    config = {"depth": depth, "snr": snr, "sigma": sigma, "features": info["kind"], "split": split_desc,
              "seeds": seeds, "variance": method, "probes": probes if method == "hutchinson" else 0,
              "alphas": list(alphas), "appnp_seeds": appnp_seeds, "bfs_sources": bfs_sources,
              "splits": len(parts) if run_probe else 0, "probe_rank": probe_rank, "self_loops": True,
              "operator": "D^-1 A", "class_ids": class_ids.tolist(), "noise_model": noise_model,
              "metrics": list(metrics), "mixture": bool(mixture)}
    res = AnalysisResult(g0.name, fit, rows, reach, rec, departures, appnp_rows, config, notes, features=info)
    _check_finite(res, profile_keys)
    res.seconds = time.perf_counter() - t0
    return res


def _cap_train(part: tuple[np.ndarray, ...], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """At most PROBE_MAX_TRAIN training nodes (a seeded uniform sample), as the profile's probe."""
    tr, va, te = part
    if tr.size <= PROBE_MAX_TRAIN:
        return part
    return np.sort(rng.choice(tr, size=PROBE_MAX_TRAIN, replace=False)), va, te


def _check_finite(res: AnalysisResult, skip: set[str]) -> None:
    """Never a NaN table: every number analyze computes must be finite (None marks 'not applicable').

    The profile's columns (``skip``) say in their notes why one is missing.
    """
    for r in res.rows:
        for key, v in r.items():
            if key in skip or (key == "feature_variance_se" and res.config["probes"] == 1):
                continue  # one Hutchinson probe: no spread to estimate an SE from
            if isinstance(v, float) and not math.isfinite(v):
                raise RuntimeError(f"analysis produced a non-finite {key} at depth {r['depth']}: please report this")
