"""``oversmooth analyze``: the theory applied to a real graph, and a depth recommendation.

Given a labelled graph (a Planetoid graph or the user's own), :func:`analyze_graph`

1. fits a CSBM from the labels (:func:`fit_csbm`): block sizes, the K x K edge
   densities, the one-layer class transition matrix ``M`` (``M_ab`` = mean over the
   nodes ``i`` of class a of the weight ``(P 1_b)_i`` that D^-1 A puts on class b), its
   mixing eigenvalue ``lambda`` (the largest non-trivial one), the average degree and
   its spread;
2. measures per depth 0..D, with :func:`oversmooth.measures.depth_profile`, the mixing
   of Gaussian class features (means ``snr * e_c``, one-hot, noise ``sigma = 1``;
   K dimensions), the paper's feature-noise variance (exact or Hutchinson with its
   standard error), the LDA Bayes error and the realised error, over several feature
   draws; with ``features="real"``, the accuracy of a linear probe (multinomial logistic
   regression, :func:`linear_probe`) on ``P^n X`` over 60/20/20 random splits; and the
   graph's reach (:func:`graph_reach`): nodes newly reached per BFS hop from sampled
   sources and an estimated diameter;
3. puts the fitted CSBM's theory beside the measurements (mean-field gap ``M^n mu``,
   the Catalan variance ``sum pi_j^2 + C_n/d^n`` (ours), its Bayes error) and reports the
   first depth where the graph departs from the model by more than a factor 1.5;
4. recommends a depth: the argmin of the error (validation error of the probe with real
   features, else the realised error of the Gaussian features), the depths within one
   standard error of the best, and APPNP's best alpha.

Propagation uses the paper's operator ``P = D^-1 A`` **with self-loops** (``A_ii = 1``,
existing self-loops replaced). Disconnected graphs are fine: the variance then
saturates at the component-wise level :func:`saturation_level` (above ``sum_j pi_j^2``);
isolated nodes keep their own feature forever. Errors (never a NaN table): a graph
with no labelled node, fewer than two classes, a class with fewer than two labelled
nodes, no edges, fewer than 3 nodes.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from .. import theory
from .._utils import (
    SeedLike,
    check_choice,
    check_nonneg_int,
    check_positive_float,
    check_positive_int,
    check_probability,
    spawn_generators,
)
from .._version import __version__
from ..measures import bayes_error_lda, class_indicator, depth_profile, mahalanobis_distances
from ..operators import iter_propagate, normalize_adjacency

__all__ = [
    "CSBMFit",
    "AnalysisResult",
    "prepare_graph",
    "fit_csbm",
    "saturation_level",
    "graph_reach",
    "gaussian_features",
    "linear_probe",
    "random_split",
    "analyze_graph",
    "DEFAULT_ALPHAS",
    "DEPARTURE_FACTOR",
]

#: APPNP teleport weights tried for the recommendation.
DEFAULT_ALPHAS = (0.05, 0.1, 0.2, 0.3, 0.5)
#: A measured curve "departs" from the CSBM theory where measured/theory leaves [1/1.5, 1.5].
DEPARTURE_FACTOR = 1.5
_LDA_SAMPLES = 20_000  # Monte Carlo draws of the K-class Bayes error (SE <= 0.0036)
_FEATURE_MODES = ("gaussian", "real")


# --------------------------------------------------------------------------- preparation and fit
def prepare_graph(graph: Any) -> tuple[Any, np.ndarray, np.ndarray]:
    """Validate a labelled graph and return (graph with self-loops, contiguous labels, class ids).

    Labels are re-coded to 0..K-1 over the classes that occur (``class_ids[k]`` is the
    original id of class k); ``-1`` stays unlabelled.

    Raises
    ------
    ValueError
        No labelled node, fewer than 2 classes, a class with < 2 labelled nodes, no
        edges, or fewer than 3 nodes.
    """
    n = graph.n_nodes
    if n < 3:
        raise ValueError(f"graph must have at least 3 nodes, got {n}")
    if graph.n_edges == 0:
        raise ValueError("graph has no edges (self-loops aside): there is nothing to propagate over")
    lab = np.asarray(graph.labels, dtype=np.int64)
    mask = lab >= 0
    if not mask.any():
        raise ValueError("graph is unlabelled (every label is -1): analyze needs node labels (--labels FILE)")
    class_ids, codes = np.unique(lab[mask], return_inverse=True)
    if class_ids.size < 2:
        raise ValueError(f"graph has a single class ({int(class_ids[0])}): analyze needs at least 2 classes")
    counts = np.bincount(codes, minlength=class_ids.size)
    small = class_ids[counts < 2]
    if small.size:
        raise ValueError(f"class(es) {', '.join(map(str, small.tolist()))} have fewer than 2 labelled nodes; "
                         "relabel them as -1 (unlabelled) or merge them")
    labels = np.full(n, -1, dtype=np.int64)
    labels[mask] = codes
    g = graph.with_self_loops(True)
    g.labels = labels
    return g, labels, class_ids


@dataclass
class CSBMFit:
    """A CSBM fitted to a labelled graph (see :func:`fit_csbm`). Degrees include the self-loop."""

    n_nodes: int
    n_edges: int
    n_labelled: int
    n_classes: int
    block_sizes: list[int]
    densities: list[list[float]]
    transition: list[list[float]]
    eigenvalues: list[float]
    lam: float
    p_in: float
    q_out: float
    lam_pq: float
    edge_homophily: float
    mean_degree: float
    degree_std: float
    min_degree: int
    max_degree: int
    d_lambda2: float
    lambda_eff: float | None
    pi_sq_sum: float
    limit_variance: float
    n_components: int
    largest_component: int
    isolated_nodes: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def saturation_level(adjacency: Any, labels: Any = None) -> float:
    """The exact n -> infinity limit of the mean over (labelled) nodes of ``||row i of P^n||^2``.

    With self-loops, P^n tends in each connected component C to ``1 pi_C^T`` with
    ``pi_C`` the component's stationary distribution, so the limit is the average over
    nodes ``i`` of ``sum_{j in C(i)} pi_{C,j}^2``: ``sum_j pi_j^2`` for a connected graph,
    larger (small components and isolated nodes saturate high) otherwise.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from oversmooth.experiments._analyze import saturation_level
    >>> a = sp.eye_array(4, format="csr") + sp.csr_array(([1.0, 1.0], ([0, 1], [1, 0])), shape=(4, 4))
    >>> round(saturation_level(a), 6)  # {0, 1}: 1/2 each; 2, 3 isolated: 1 each
    0.75
    """
    a = sp.csr_array(adjacency)
    deg = np.asarray(a.sum(axis=1)).ravel()
    _, comp = csgraph.connected_components(a, directed=False)
    tot = np.bincount(comp, weights=deg)
    sq = np.bincount(comp, weights=deg**2)
    per_node = sq[comp] / tot[comp] ** 2
    if labels is not None:
        mask = np.asarray(labels) >= 0
        return float(per_node[mask].mean())
    return float(per_node.mean())


def fit_csbm(graph: Any, labels: Any = None) -> CSBMFit:
    """Fit a CSBM to a labelled graph: blocks, densities, class transition, lambda, degrees.

    Parameters
    ----------
    graph : Graph
        Any labelled graph; its self-loops are replaced by ``A_ii = 1`` for the degrees,
        the transition matrix and the variance levels.
    labels : array, optional
        Contiguous labels 0..K-1 (-1 unlabelled); default from :func:`prepare_graph`.

    Returns
    -------
    CSBMFit
        ``densities[a][b]`` = edges between classes a and b over the possible pairs;
        ``transition`` = the one-layer class transition ``M`` of D^-1 A with self-loops
        (an unlabelled neighbour counts as the average class); ``lam`` = its largest
        non-trivial eigenvalue (modulus, sign kept); ``p_in``, ``q_out`` the pooled
        within / across densities and ``lam_pq = (p_in - q_out)/(p_in + (K-1) q_out)``
        (the paper's ``(p-q)/(p+q)`` for K = 2); ``lambda_eff`` = ``lam + 1/(d lam)``
        (ours) when ``d lam^2 > 1`` and it is below 1 in modulus, else ``None``.

    Examples
    --------
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.experiments._analyze import fit_csbm
    >>> fit = fit_csbm(sample_csbm(2000, p=0.0114, q=0.0038, seed=0))
    >>> fit.block_sizes, round(fit.lam_pq, 1)
    ([1000, 1000], 0.5)
    """
    if labels is None:
        g, labels, _ = prepare_graph(graph)
    else:
        g = graph if graph.has_self_loops and graph.n_self_loops == graph.n_nodes else graph.with_self_loops(True)
        labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1
    n = g.n_nodes
    sizes = np.bincount(labels[labels >= 0], minlength=k).astype(float)
    upper = sp.triu(g.adjacency, k=1).tocoo()
    la, lb = labels[upper.row], labels[upper.col]
    both = (la >= 0) & (lb >= 0)
    e = np.bincount(la[both] * k + lb[both], minlength=k * k).reshape(k, k).astype(float)
    e = e + e.T - np.diag(np.diag(e))  # symmetric counts of undirected edges
    pairs = np.outer(sizes, sizes)
    np.fill_diagonal(pairs, sizes * (sizes - 1) / 2.0)
    dens = np.divide(e, pairs, out=np.zeros_like(e), where=pairs > 0)
    within_pairs = float(np.trace(pairs))
    across_pairs = float(pairs[np.triu_indices(k, 1)].sum())
    p_in = float(np.trace(e)) / within_pairs if within_pairs > 0 else 0.0
    q_out = float(e[np.triu_indices(k, 1)].sum()) / across_pairs if across_pairs > 0 else 0.0
    lam_pq = (p_in - q_out) / (p_in + (k - 1) * q_out) if p_in + q_out > 0 else 0.0
    # one-layer class transition of D^-1 A (self-loops): class means of P 1_b
    P = normalize_adjacency(g, "rw")
    onehot = np.zeros((n, k))
    onehot[np.flatnonzero(labels >= 0), labels[labels >= 0]] = 1.0
    unl = (labels < 0).astype(float)[:, None]
    nb = np.asarray(P @ np.hstack([onehot, unl]))
    ind = class_indicator(labels, k)
    m = np.asarray(ind @ nb)  # class averages (K, K+1)
    trans = m[:, :k] + m[:, k:] / k
    w = np.linalg.eigvals(trans)
    order = np.argsort(-np.abs(w))
    w = w[order]
    lam_fit = float(np.real(w[1])) if k > 1 else 0.0
    deg = g.degrees
    d = float(deg.mean())
    lam_eff = theory.lambda_eff(lam_fit, d) if d * lam_fit**2 > 1 else None
    if lam_eff is not None and abs(lam_eff) >= 1:  # outside the formula's range (no decay predicted)
        lam_eff = None
    n_comp, comp = csgraph.connected_components(g.adjacency, directed=False)
    within_edges = float(np.trace(e))
    total_lab_edges = float(e[np.triu_indices(k)].sum())
    return CSBMFit(
        n_nodes=n, n_edges=g.n_edges, n_labelled=int(sizes.sum()), n_classes=k,
        block_sizes=sizes.astype(int).tolist(), densities=dens.tolist(), transition=trans.tolist(),
        eigenvalues=[float(np.real(x)) for x in w], lam=lam_fit, p_in=p_in, q_out=q_out, lam_pq=float(lam_pq),
        edge_homophily=within_edges / total_lab_edges if total_lab_edges > 0 else float("nan"),
        mean_degree=d, degree_std=float(deg.std()), min_degree=int(deg.min()), max_degree=int(deg.max()),
        d_lambda2=d * lam_fit**2, lambda_eff=None if lam_eff is None else float(lam_eff),
        pi_sq_sum=theory.stationary_sq_sum(deg), limit_variance=saturation_level(g.adjacency, labels),
        n_components=int(n_comp), largest_component=int(np.bincount(comp).max()),
        isolated_nodes=int(np.count_nonzero(deg <= 1)),
    )


# --------------------------------------------------------------------------- reach (BFS)
def graph_reach(graph: Any, max_hops: int, *, sources: int = 64, seed: SeedLike = 0,
                batch: int = 8) -> dict[str, Any]:
    """Nodes newly reached per hop by BFS from sampled sources, and an estimated diameter.

    Parameters
    ----------
    graph : Graph or sparse adjacency
    max_hops : int
        Hops reported (0..max_hops).
    sources : int
        Sources sampled uniformly without replacement (all nodes if fewer), at most
        ``max(8, 2e8 / nnz)`` so that large graphs stay fast (about 0.8 s per source at
        2e7 stored entries on one core).
    seed : int, Generator or None

    Returns
    -------
    dict
        ``new_per_hop``: mean over sources of the number of nodes first reached at hop h
        (h = 0..max_hops, hop 0 = the source); ``new_fraction_per_hop`` the same over the
        source's component size; ``reached_fraction`` cumulative; ``eccentricity_max``
        the largest finite distance seen; ``diameter_lower_bound`` the larger of that
        and a double sweep (BFS again from the farthest node found), a lower bound on
        the largest component diameter; ``reach_saturation_hop`` the first hop by which
        the sources reached 99% of their components on average.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from oversmooth.experiments._analyze import graph_reach
    >>> path = sp.diags_array([1.0, 1.0, 1.0], offsets=1, shape=(4, 4))
    >>> r = graph_reach(path + path.T, 4, sources=4)
    >>> r["diameter_lower_bound"], r["new_per_hop"][:2]
    (3, [1.0, 1.5])
    """
    max_hops = check_nonneg_int(max_hops, "max_hops")
    sources = check_positive_int(sources, "sources")
    batch = check_positive_int(batch, "batch")
    a = sp.csr_array(getattr(graph, "adjacency", graph))
    n = a.shape[0]
    (rng,) = spawn_generators(seed, 1)
    sources = min(sources, max(8, int(2e8 // max(a.nnz, 1))))
    src = np.sort(rng.choice(n, size=min(sources, n), replace=False))
    _, comp = csgraph.connected_components(a, directed=False)
    comp_size = np.bincount(comp)
    counts = np.zeros((src.size, max_hops + 1))
    ecc_max, far_node, far_d = 0, int(src[0]), -1
    for start in range(0, src.size, batch):
        idx = src[start:start + batch]
        dist = csgraph.shortest_path(a, method="D", unweighted=True, directed=True, indices=idx)  # a symmetric
        for r, row in enumerate(dist):
            finite = np.isfinite(row)
            dd = row[finite].astype(np.int64)
            counts[start + r] = np.bincount(np.minimum(dd, max_hops + 1), minlength=max_hops + 2)[: max_hops + 1]
            m = int(dd.max())
            if m > far_d:
                far_d, far_node = m, int(np.flatnonzero(finite & (row == m))[0])
        ecc_max = max(ecc_max, far_d)
    second = csgraph.shortest_path(a, method="D", unweighted=True, directed=True, indices=[far_node])[0]
    diam = max(ecc_max, int(second[np.isfinite(second)].max()))
    sizes = comp_size[comp[src]].astype(float)
    frac = counts / sizes[:, None]
    cum = np.cumsum(frac, axis=1).mean(axis=0)
    sat = np.flatnonzero(cum >= 0.99)
    return {
        "sources": int(src.size),
        "new_per_hop": counts.mean(axis=0).tolist(),
        "new_fraction_per_hop": frac.mean(axis=0).tolist(),
        "reached_fraction": cum.tolist(),
        "eccentricity_max": int(ecc_max),
        "diameter_lower_bound": int(diam),
        "reach_saturation_hop": int(sat[0]) if sat.size else None,
    }


# --------------------------------------------------------------------------- features and probe
def gaussian_features(labels: np.ndarray, k: int, snr: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """``x_i = snr * e_{c_i} + sigma * N(0, I_K)``; unlabelled nodes get the average class mean."""
    mu = snr * np.eye(k)
    mean = np.where((labels >= 0)[:, None], mu[np.clip(labels, 0, None)], mu.mean(axis=0))
    return mean + sigma * rng.standard_normal((labels.size, k))


def _softmax_loss(w_flat: np.ndarray, x: np.ndarray, y: np.ndarray, k: int, reg: float) -> tuple[float, np.ndarray]:
    d = x.shape[1]
    w = w_flat[: d * k].reshape(d, k)
    b = w_flat[d * k:]
    # einsum, not BLAS: small products gain nothing from threads, and threaded BLAS stalls on busy machines
    z = np.einsum("nd,dk->nk", x, w) + b
    z -= z.max(axis=1, keepdims=True)
    ez = np.exp(z)
    p = ez / ez.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.mean(np.log(np.clip(p[np.arange(n), y], 1e-300, None))) + 0.5 * reg * float(np.sum(w * w))
    p[np.arange(n), y] -= 1.0
    p /= n
    gw = np.einsum("nd,nk->dk", x, p) + reg * w
    gb = p.sum(axis=0)
    return loss, np.concatenate([gw.ravel(), gb])


def _fit_softmax(xt: np.ndarray, y: np.ndarray, k: int, reg: float, max_iter: int,
                 init: np.ndarray | None) -> np.ndarray:
    from scipy.optimize import minimize

    d = xt.shape[1]
    x0 = np.zeros(d * k + k) if init is None else init
    res = minimize(_softmax_loss, x0, args=(xt, y, k, reg), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter})
    return res.x


def linear_probe(x_train: np.ndarray, y_train: np.ndarray, x_eval: Sequence[np.ndarray], *, reg: float = 1e-3,
                 max_iter: int = 200, init: np.ndarray | None = None,
                 return_params: bool = False) -> Any:
    """Multinomial logistic regression (L2 on the weights, L-BFGS) -> predicted classes per eval set.

    Features are standardised with the training mean and std. No scikit-learn needed.

    Parameters
    ----------
    x_train, y_train : arrays (n, d) and (n,)
        Labels 0..K-1.
    x_eval : sequence of arrays (m, d)
    reg : float
        L2 penalty ``reg/2 ||W||^2`` on the (standardised) weights; biases free.
    max_iter : int
        L-BFGS iterations.
    init : array, optional
        Starting parameters (a previous fit's, e.g. the same split one depth earlier).
    return_params : bool
        Also return the fitted parameters (flattened W then b).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.experiments._analyze import linear_probe
    >>> x = np.array([[0.0], [0.2], [1.0], [1.2]])
    >>> linear_probe(x, np.array([0, 0, 1, 1]), [np.array([[0.1], [1.1]])])[0].tolist()
    [0, 1]
    """
    k = int(y_train.max()) + 1
    mu = x_train.mean(axis=0)
    sd = x_train.std(axis=0)
    sd[sd == 0] = 1.0
    xt = (x_train - mu) / sd
    d = xt.shape[1]
    theta = _fit_softmax(xt, y_train, k, reg, max_iter, init)
    w = theta[: d * k].reshape(d, k)
    b = theta[d * k:]
    preds = [np.argmax(np.einsum("nd,dk->nk", (xe - mu) / sd, w) + b, axis=1) for xe in x_eval]
    return (preds, theta) if return_params else preds


def _reduce_features(x: np.ndarray, rank: int, rng: np.random.Generator) -> np.ndarray:
    """Project X on its top ``rank`` right singular directions (randomised range finder).

    Propagation commutes with the projection: P^n (X V) = (P^n X) V.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape[1] <= rank:
        return x
    omega = rng.standard_normal((x.shape[1], rank + 10))
    q, _ = np.linalg.qr(x @ omega)
    for _ in range(2):
        q, _ = np.linalg.qr(x @ (x.T @ q))
    _, _, vt = np.linalg.svd(q.T @ x, full_matrices=False)
    return x @ vt[:rank].T


def random_split(labels: np.ndarray, rng: np.random.Generator,
                 fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random train / validation / test split of the labelled nodes (default 60/20/20).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.experiments import random_split
    >>> tr, va, te = random_split(np.array([0, 1] * 10), np.random.default_rng(0))
    >>> len(tr), len(va), len(te)
    (12, 4, 4)
    """
    idx = np.flatnonzero(np.asarray(labels) >= 0)
    if idx.size < 3:
        raise ValueError(f"need at least 3 labelled nodes for a train/val/test split, got {idx.size}")
    perm = rng.permutation(idx)
    n_tr = int(round(fractions[0] * idx.size))
    n_va = int(round(fractions[1] * idx.size))
    return np.sort(perm[:n_tr]), np.sort(perm[n_tr:n_tr + n_va]), np.sort(perm[n_tr + n_va:])


def _probe_curves(P: Any, x: np.ndarray, labels: np.ndarray, depth: int, splits: int, rank: int,
                  seed: SeedLike) -> dict[str, np.ndarray]:
    rngs = spawn_generators(seed, splits + 1)
    xr = _reduce_features(x, rank, rngs[0])
    parts = [random_split(labels, r) for r in rngs[1:]]
    val = np.zeros((depth + 1, splits))
    test = np.zeros((depth + 1, splits))
    warm: list[np.ndarray | None] = [None] * splits  # each split starts from its fit one depth earlier
    for n, h in enumerate(iter_propagate(P, xr, depth)):
        for s, (tr, va, te) in enumerate(parts):
            (pv, pt), warm[s] = linear_probe(h[tr], labels[tr], [h[va], h[te]], init=warm[s], return_params=True)
            val[n, s] = np.mean(pv == labels[va])
            test[n, s] = np.mean(pt == labels[te])
    return {"val": val, "test": test}


# --------------------------------------------------------------------------- the analysis
@dataclass
class AnalysisResult:
    """What :func:`analyze_graph` found: the fit, per-depth rows, reach, recommendation."""

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

    def to_json(self) -> dict[str, Any]:
        return _clean({"oversmooth_version": __version__, "graph": self.name, "config": self.config,
                       "csbm_fit": self.fit.to_dict(), "rows": self.rows, "reach": self.reach,
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


def analyze_graph(
    graph: Any,
    depth: int = 16,
    *,
    snr: float = 1.0,
    features: str = "gaussian",
    seeds: int = 3,
    variance: str = "auto",
    probes: int = 32,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    appnp_seeds: int = 1,
    bfs_sources: int = 64,
    splits: int = 3,
    probe_rank: int = 128,
    seed: SeedLike = 0,
) -> AnalysisResult:
    """Fit a CSBM, measure mixing/denoising/errors per depth, compare with theory, recommend a depth.

    Parameters
    ----------
    graph : Graph
        Labelled (``-1`` = unlabelled); ``features`` needed for ``features="real"``.
    depth : int
        Largest depth D (rows for 0..D).
    snr : float
        Gaussian class features: means ``snr * e_c`` (one-hot), noise ``sigma = 1``.
    features : {"gaussian", "real"}
        ``"real"`` adds a linear probe on ``P^n X`` (the graph's own features) and
        recommends the depth from its validation error.
    seeds : int
        Gaussian feature draws (mean and standard error over them).
    variance : {"auto", "exact", "hutchinson"}
        Feature-noise variance method (exact up to 5000 nodes by default).
    probes : int
        Hutchinson probes.
    alphas : sequence of float
        APPNP teleport weights to compare (empty: skip APPNP).
    appnp_seeds : int
        Gaussian feature draws per alpha.
    bfs_sources : int
        BFS sources for the reach.
    splits : int
        Random 60/20/20 splits of the labelled nodes for the probe.
    probe_rank : int
        The probe sees X projected on its top ``probe_rank`` principal directions
        (propagation commutes with the projection).
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
    >>> 0 <= res.recommendation["gcn"]["depth"] <= 4, len(res.rows)
    (True, 5)
    """
    t0 = time.perf_counter()
    depth = check_positive_int(depth, "depth")
    snr = check_positive_float(snr, "snr")
    features = check_choice(features, "features", _FEATURE_MODES)
    seeds = check_positive_int(seeds, "seeds")
    appnp_seeds = check_positive_int(appnp_seeds, "appnp_seeds")
    splits = check_positive_int(splits, "splits")
    probe_rank = check_positive_int(probe_rank, "probe_rank")
    probes = check_positive_int(probes, "probes")
    bfs_sources = check_positive_int(bfs_sources, "bfs_sources")
    alphas = [check_probability(a, "alpha") for a in alphas]
    if features == "real" and graph.features is None:
        raise ValueError(f"features='real' but graph {graph.name!r} has no features (use features='gaussian')")
    g, labels, class_ids = prepare_graph(graph)
    fit = fit_csbm(g, labels)
    k = fit.n_classes
    mu = snr * np.eye(k)
    sigma = 1.0
    rng_feat, rng_probe, rng_reach, rng_appnp, rng_split = spawn_generators(seed, 5)
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

    # ---- measured: Gaussian class features, several draws
    feat_rngs = spawn_generators(rng_feat, seeds)
    probe_rngs = spawn_generators(rng_probe, seeds)
    # The gap, the feature-noise variance and the Bayes error do not depend on the feature draw: they
    # come from the first draw's profile (variance exact or with `probes` Hutchinson probes). The
    # other draws only add realised errors and spreads (their profiles use 2 cheap probes).
    prof = []
    for s in range(seeds):
        gs = _with_features(g, gaussian_features(labels, k, snr, sigma, feat_rngs[s]))
        prof.append(depth_profile(gs, depth, mu=mu, sigma=sigma, variance=variance if s == 0 else "hutchinson",
                                  probes=probes if s == 0 else 2, seed=probe_rngs[s], lda_samples=_LDA_SAMPLES,
                                  smoothness=False))
    keys = ("realised_error", "cross_sectional_variance")
    arr = {key: np.array([[p[n][key] for p in prof] for n in range(depth + 1)], dtype=float) for key in keys}

    # ---- theory of the fitted CSBM
    ns = np.arange(depth + 1)
    trans = np.asarray(fit.transition)
    th_means = [np.linalg.matrix_power(trans, int(n)) @ mu for n in ns]
    cov = sigma**2 * np.eye(k)
    th_gap = np.array([_min_distance(m, cov) for m in th_means])
    th_var = theory.catalan_variance(ns, fit.mean_degree, fit.limit_variance, sigma)
    # th_var already carries sigma^2: the noise covariance of h_i(n) is cov * th_var / sigma^2
    th_bayes = np.array([bayes_error_lda(m, cov * (v / sigma**2), n_samples=_LDA_SAMPLES, seed=int(n))
                         for n, (m, v) in enumerate(zip(th_means, th_var))])
    gap0 = th_gap[0]
    th_gap_eff = (gap0 * np.abs(fit.lambda_eff) ** ns) if fit.lambda_eff is not None else None

    rows: list[dict[str, Any]] = []
    m_real = s_real = None
    for n in ns:
        p0 = prof[0][n]
        r: dict[str, Any] = {"depth": int(n), "gap": p0["gap"], "feature_variance": p0["feature_variance"],
                             "feature_variance_se": p0["feature_variance_se"], "bayes_error": p0["bayes_error"]}
        for key in keys:
            m, s = _mean_se(arr[key][n])
            r[key] = float(m)
            if key == "realised_error":
                r[key + "_se"] = float(s)
        r["theory_gap"] = float(th_gap[n])
        r["theory_gap_finite_degree"] = None if th_gap_eff is None else float(th_gap_eff[n])
        r["theory_feature_variance"] = float(th_var[n])
        r["limit_variance"] = fit.limit_variance
        r["variance_lower"] = sigma**2 / fit.n_nodes
        r["variance_upper"] = sigma**2
        r["theory_bayes_error"] = float(th_bayes[n])
        rows.append(r)
    method = prof[0][0]["variance_method"]

    # ---- probe on real features
    rec: dict[str, Any] = {}
    if features == "real":
        P = normalize_adjacency(g, "rw")
        curves = _probe_curves(P, np.asarray(g.features), labels, depth, splits, probe_rank, rng_split)
        vm, vs = _mean_se(1.0 - curves["val"])
        tm = (1.0 - curves["test"]).mean(axis=1)
        tsd = (1.0 - curves["test"]).std(axis=1, ddof=1) if splits > 1 else np.zeros(depth + 1)
        for n in ns:
            rows[n]["probe_val_error"] = float(vm[n])
            rows[n]["probe_val_error_se"] = float(vs[n])
            rows[n]["probe_test_accuracy"] = float(1.0 - tm[n])
            rows[n]["probe_test_accuracy_std"] = float(tsd[n])
        rec["probe"] = _recommend(vm, vs)
        rec["probe"]["test_accuracy"] = float(1.0 - tm[rec["probe"]["depth"]])
        rec["probe"]["test_accuracy_std"] = float(tsd[rec["probe"]["depth"]])
        m_real = vm
        s_real = vs
    re_m = np.array([r["realised_error"] for r in rows])
    re_s = np.array([r["realised_error_se"] for r in rows])
    rec["gcn"] = _recommend(re_m, re_s)
    rec["gcn"]["criterion"] = "realised error of Gaussian class features (mean +- SE over draws)"
    be = np.array([r["bayes_error"] for r in rows])
    rec["bayes_depth"] = int(theory.optimal_depth(be))
    rec["theory_bayes_depth"] = int(theory.optimal_depth(th_bayes))
    if m_real is not None:
        rec["depth"] = rec["probe"]["depth"]
        rec["within_one_se"] = rec["probe"]["within_one_se"]
        rec["criterion"] = "validation error of a linear probe on P^n X (60/20/20 splits)"
    else:
        rec["depth"] = rec["gcn"]["depth"]
        rec["within_one_se"] = rec["gcn"]["within_one_se"]
        rec["criterion"] = rec["gcn"]["criterion"]

    # ---- APPNP: best alpha
    appnp_rows: list[dict[str, Any]] = []
    if alphas:
        a_rngs = spawn_generators(rng_appnp, len(alphas))
        best = None
        for alpha, ar in zip(alphas, a_rngs):
            sub = spawn_generators(ar, 2 * appnp_seeds)
            errs = []
            for s in range(appnp_seeds):
                gs = _with_features(g, gaussian_features(labels, k, snr, sigma, sub[2 * s]))
                pr = depth_profile(gs, depth, operator="appnp", alpha=alpha, mu=mu, sigma=sigma,
                                   variance="hutchinson", probes=2, seed=sub[2 * s + 1], lda_samples=_LDA_SAMPLES,
                                   smoothness=False)
                errs.append([row["realised_error"] for row in pr])
            em, es = _mean_se(np.array(errs).T)
            r = _recommend(em, es)
            entry = {"alpha": alpha, "best_depth": r["depth"], "best_realised_error": r["error"], "se": r["se"],
                     "realised_error_at_max_depth": float(em[-1])}
            appnp_rows.append(entry)
            if best is None or entry["best_realised_error"] < best["best_realised_error"]:
                best = entry
        rec["appnp"] = dict(best) if best is not None else None
        if best is not None:
            rec["appnp_beats_gcn"] = bool(best["best_realised_error"] < rec["gcn"]["error"])

    # ---- reach and departures
    reach = graph_reach(graph.adjacency, depth, sources=bfs_sources, seed=rng_reach)
    var_m = np.array([r["feature_variance"] for r in rows])
    se_m = np.array([r["feature_variance_se"] for r in rows])
    sat = np.flatnonzero(var_m <= 1.15 * fit.limit_variance + 4 * se_m)
    reach["variance_saturation_depth"] = int(sat[0]) if sat.size else None
    gap_m = np.array([r["gap"] for r in rows])
    departures = {
        "factor": DEPARTURE_FACTOR,
        "gap_vs_mean_field": _first_departure(gap_m, th_gap, DEPARTURE_FACTOR),
        "gap_vs_lambda_eff": None if th_gap_eff is None else _first_departure(gap_m, th_gap_eff, DEPARTURE_FACTOR),
        "variance_vs_catalan": _first_departure(var_m, th_var, DEPARTURE_FACTOR),
    }
    for r in rows:
        r["variance_method"] = method
    config = {"depth": depth, "snr": snr, "sigma": sigma, "features": features, "seeds": seeds,
              "variance": method, "probes": probes if method == "hutchinson" else 0, "alphas": list(alphas),
              "appnp_seeds": appnp_seeds, "bfs_sources": bfs_sources, "splits": splits,
              "probe_rank": probe_rank, "self_loops": True, "operator": "D^-1 A",
              "class_ids": class_ids.tolist()}
    res = AnalysisResult(graph.name, fit, rows, reach, rec, departures, appnp_rows, config, notes)
    _check_finite(res)
    res.seconds = time.perf_counter() - t0
    return res


def _with_features(g: Any, x: np.ndarray) -> Any:
    from ..graphs import Graph

    return Graph(g.adjacency, g.labels, x, g.name, g.source, dict(g.metadata), check_symmetric=False)


def _min_distance(means: np.ndarray, cov: np.ndarray) -> float:
    dist = mahalanobis_distances(means, cov)
    k = dist.shape[0]
    return float(dist[~np.eye(k, dtype=bool)].min())


def _check_finite(res: AnalysisResult) -> None:
    """Never a NaN table: every measured number must be finite (None marks 'not applicable')."""
    for r in res.rows:
        for key, v in r.items():
            if isinstance(v, float) and not math.isfinite(v):
                raise RuntimeError(f"analysis produced a non-finite {key} at depth {r['depth']}: please report this")
