"""A CSBM fitted to a labelled graph: the model's parameters read off the graph and its labels.

- :func:`prepare_graph`: validation, contiguous labels, self-loops ``A_ii = 1``;
- :func:`fit_csbm`: block sizes, edge densities, the one-layer class transition ``M`` of
  ``D^-1 A`` and its mixing eigenvalue, the paper's ``lambda`` from pooled densities, the
  finite-degree rate :func:`~oversmooth.theory.nu` (ours), degrees, components and the exact
  variance limit (:func:`oversmooth.graphs.saturation_level`).

Names: ``lam`` is the paper's ``lambda = (p - q)/(p + q)`` everywhere in :mod:`oversmooth.theory`;
in :class:`CSBMFit` (kept as the analysis JSON's keys) ``lam`` is the mixing eigenvalue of the
fitted class transition, ``lam_pq`` the pooled-density lambda, ``lambda_eff`` the rate nu.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from ..errors import ValidationError
from ..graphs import saturation_level
from ..measures import class_indicator
from ..operators import normalize_adjacency
from ._rates import lambda_eff
from ._variance import stationary_sq_sum

__all__ = ["CSBMFit", "prepare_graph", "fit_csbm"]


def prepare_graph(graph: Any) -> tuple[Any, np.ndarray, np.ndarray]:
    """Validate a labelled graph and return (graph with self-loops, contiguous labels, class ids).

    Labels are re-coded to 0..K-1 over the classes that occur (``class_ids[k]`` is the
    original id of class k); ``-1`` stays unlabelled.

    Examples
    --------
    >>> from oversmooth.graphs import Graph
    >>> from oversmooth.theory import prepare_graph
    >>> g, labels, class_ids = prepare_graph(Graph.from_edges([0, 1, 2], [1, 2, 3], labels=[5, 5, 9, 9]))
    >>> labels.tolist(), class_ids.tolist(), g.n_self_loops
    ([0, 0, 1, 1], [5, 9], 4)

    Raises
    ------
    ValidationError
        No labelled node, fewer than 2 classes, a class with < 2 labelled nodes, no
        edges, or fewer than 3 nodes.
    """
    n = graph.n_nodes
    if n < 3:
        raise ValidationError(f"graph must have at least 3 nodes, got {n}")
    if graph.n_edges == 0:
        raise ValidationError("graph has no edges (self-loops aside): there is nothing to propagate over")
    lab = np.asarray(graph.labels, dtype=np.int64)
    mask = lab >= 0
    if not mask.any():
        raise ValidationError("graph is unlabelled (every label is -1): analyze needs node labels (--labels FILE)")
    class_ids, codes = np.unique(lab[mask], return_inverse=True)
    if class_ids.size < 2:
        raise ValidationError(f"graph has a single class ({int(class_ids[0])}): analyze needs at least 2 classes")
    counts = np.bincount(codes, minlength=class_ids.size)
    small = class_ids[counts < 2]
    if small.size:
        raise ValidationError(f"class(es) {', '.join(map(str, small.tolist()))} have fewer than 2 labelled nodes; "
                         "relabel them as -1 (unlabelled) or merge them")
    labels = np.full(n, -1, dtype=np.int64)
    labels[mask] = codes
    g = graph.with_self_loops(True)
    g.labels = labels
    return g, labels, class_ids


@dataclass
class CSBMFit:
    """A CSBM fitted to a labelled graph (see :func:`fit_csbm`). Degrees include the self-loop.

    Examples
    --------
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.theory import fit_csbm
    >>> fit = fit_csbm(sample_csbm(400, p=0.05, q=0.01, seed=0))
    >>> fit.n_classes, sorted(fit.to_dict())[:3]
    (2, ['block_sizes', 'd_lambda2', 'degree_std'])
    """

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
    >>> from oversmooth.theory import fit_csbm
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
    lam_transition = float(np.real(w[1])) if k > 1 else 0.0
    deg = g.degrees
    mean_degree = float(deg.mean())
    c = mean_degree - 1.0  # neighbours, the self-loop not counted
    nu_rate = lambda_eff(lam_pq, mean_degree) if c > 0 and c * lam_pq**2 > 1 else None
    if nu_rate is not None and abs(nu_rate) >= 1:  # outside the formula's range (no decay predicted)
        nu_rate = None
    n_comp, comp = csgraph.connected_components(g.adjacency, directed=False)
    within_edges = float(np.trace(e))
    total_lab_edges = float(e[np.triu_indices(k)].sum())
    return CSBMFit(
        n_nodes=n, n_edges=g.n_edges, n_labelled=int(sizes.sum()), n_classes=k,
        block_sizes=sizes.astype(int).tolist(), densities=dens.tolist(), transition=trans.tolist(),
        eigenvalues=[float(np.real(x)) for x in w], lam=lam_transition, p_in=p_in, q_out=q_out, lam_pq=float(lam_pq),
        edge_homophily=within_edges / total_lab_edges if total_lab_edges > 0 else float("nan"),
        mean_degree=mean_degree, degree_std=float(deg.std()), min_degree=int(deg.min()), max_degree=int(deg.max()),
        d_lambda2=mean_degree * lam_transition**2, lambda_eff=None if nu_rate is None else float(nu_rate),
        pi_sq_sum=stationary_sq_sum(deg), limit_variance=saturation_level(g.adjacency, labels),
        n_components=int(n_comp), largest_component=int(np.bincount(comp).max()),
        isolated_nodes=int(np.count_nonzero(deg <= 1)),
    )
