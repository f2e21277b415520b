"""What a labelled graph's structure says before any feature is drawn.

- :func:`prepare_graph`: validation, contiguous labels, self-loops ``A_ii = 1``;
- :func:`fit_csbm`: a CSBM fitted from the labels (block sizes, edge densities, the
  one-layer class transition ``M`` of D^-1 A and its mixing eigenvalue ``lambda``,
  degrees, components);
- :func:`saturation_level`: the exact n -> infinity limit of the feature-noise variance;
- :func:`graph_reach`: nodes newly reached per BFS hop from sampled sources, and an
  estimated diameter (the paper's explanation of saturation).

Used by :func:`oversmooth.experiments.analyze_graph`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from .. import theory
from .._utils import SeedLike, check_nonneg_int, check_positive_int, spawn_generators
from ..measures import class_indicator
from ..operators import normalize_adjacency

__all__ = ["CSBMFit", "prepare_graph", "fit_csbm", "saturation_level", "graph_reach"]


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
    >>> from oversmooth.experiments._structure import saturation_level
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
        (the paper's ``(p-q)/(p+q)`` for K = 2); ``lambda_eff`` = the finite-degree rate
        ``nu = [(c - 1) lam_pq + 1/lam_pq + 1] / (c + 1)`` (ours, :func:`oversmooth.theory.nu`,
        with self-loops; ``c = d - 1`` neighbours) above the detectability threshold
        ``c lam_pq^2 > 1`` and when it is below 1 in modulus, else ``None``.

    Examples
    --------
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.experiments._structure import fit_csbm
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
    lam_eff = theory.lambda_eff(lam_pq, d) if d > 1 and (d - 1) * lam_pq**2 > 1 else None
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
    >>> from oversmooth.experiments._structure import graph_reach
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
