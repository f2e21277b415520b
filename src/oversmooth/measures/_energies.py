"""The Dirichlet energies, the Rayleigh quotient and MAD of one layer (definitions: :mod:`._smoothness`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._utils import SeedLike, check_random_state
from ._edges import EdgeArrays, _edge_pass, _resolve_edges
from ._sampled_edges import _edge_pass_sampled, sample_nodes
from ._inputs import as_embedding

__all__ = ["edge_smoothness", "dirichlet_energy", "normalized_dirichlet_energy", "rayleigh_quotient", "mad"]


def edge_smoothness(x: Any, graph: Any = None, *, edges: EdgeArrays | None = None, sample: Any = None,
                    seed: SeedLike = None) -> dict[str, Any]:
    """The three Dirichlet energies and MAD of one layer together.

    Returns a dict with keys ``dirichlet_energy``, ``normalized_dirichlet_energy``,
    ``rayleigh_quotient`` and ``mad``, each equal to the function of that name; with a
    ``sample`` also ``sample_nodes`` (its size).

    Parameters
    ----------
    x : array or tensor, shape (N, d) or (N,)
    graph : graph in any supported form; or pass ``edges``
    edges : EdgeArrays, optional
    sample : None, int or array of node ids
        None: every node (exact). An int m < N: a seeded uniform sample of m nodes without
        replacement; an array: those nodes. The measures are then estimated from ONE pass over
        the edges of the sampled nodes (cost O(m * mean degree * d) whatever N): the energies
        by the sample mean of each node's own sum over its neighbours (unbiased; ``E`` is a mean
        over nodes, Cai & Wang's energy N times one), MAD by the mean over the sampled nodes of
        their non-zero mean cosine distance (Chen et al.'s node average restricted to the
        sample). Standard error: the spread of the per-node sums over ``sqrt(m)``.
    seed : int, Generator or None
        For an int ``sample``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.measures import edge_smoothness
    >>> a = sp.csr_array([[0, 1], [1, 0]])
    >>> {k: round(v, 6) for k, v in edge_smoothness(np.array([0.0, 2.0]), a).items()}
    {'dirichlet_energy': 4.0, 'normalized_dirichlet_energy': 2.0, 'rayleigh_quotient': 1.0, 'mad': 1.0}
    >>> edge_smoothness(np.array([0.0, 2.0]), a, sample=[0])["dirichlet_energy"]  # node 0's own sum
    4.0
    """
    h = as_embedding(x, "x")
    e = _resolve_edges(graph, edges, h.shape[0])
    nodes = sample_nodes(h.shape[0], sample, check_random_state(seed) if np.isscalar(sample) else None)
    if nodes is None:
        out = _edge_pass(h, e, energy=True, normalized=True, mad_=True)
    else:
        out = _edge_pass_sampled(h, e, nodes)
    res: dict[str, Any] = {
        "dirichlet_energy": out["dirichlet_energy"],
        "normalized_dirichlet_energy": out["normalized_dirichlet_energy"],
        "rayleigh_quotient": _rayleigh(out["dirichlet_energy"], h),
        "mad": out["mad"],
    }
    if nodes is not None:
        res["sample_nodes"] = int(nodes.size)
    return res


# =========================================================================== energies


def dirichlet_energy(x: Any, graph: Any = None, *, edges: EdgeArrays | None = None) -> float:
    """Dirichlet energy ``E = (1/N) sum_i sum_{j in N(i)} w_ij ||x_i - x_j||^2`` (Rusch et al.).

    The form of Rusch, Bronstein & Mishra (2023, "A survey on oversmoothing in graph
    neural networks"): every undirected edge counted from both ends, self-loops add 0,
    ``w_ij`` the edge weight (1 for an unweighted graph). Equivalently
    ``E = (2/N) tr(X^T (D - A) X)`` with A without its diagonal. They report ``sqrt(E)``.
    An ``edge_index`` listing each undirected edge once gives the same value as one
    listing both directions.

    Parameters
    ----------
    x : array or tensor, shape (N, d) or (N,)
    graph : graph in any supported form (see :func:`edge_arrays`); or pass ``edges``
    edges : EdgeArrays, optional
        ``edge_arrays(graph)``, to reuse across layers.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.measures import dirichlet_energy
    >>> a = sp.csr_array([[0, 1], [1, 0]])
    >>> dirichlet_energy(np.array([0.0, 2.0]), a)  # (4 + 4) / 2
    4.0
    """
    h = as_embedding(x, "x")
    return _edge_pass(h, _resolve_edges(graph, edges, h.shape[0]), energy=True)["dirichlet_energy"]


def normalized_dirichlet_energy(x: Any, graph: Any = None, *, edges: EdgeArrays | None = None) -> float:
    """Cai & Wang's (2020) energy ``tr(X^T L X)``, ``L = I - D~^-1/2 A~ D~^-1/2``.

    ``A~`` is the off-diagonal part of A plus the identity (self-loops added, existing
    ones replaced by weight 1) and ``D~`` its degrees; computed as
    ``(1/2) sum_{i,j} A~_ij ||x_i / sqrt(d~_i) - x_j / sqrt(d~_j)||^2`` (no cancellation),
    with no ``1/N``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.measures import normalized_dirichlet_energy
    >>> a = sp.csr_array([[0, 1], [1, 0]])  # d~ = 2 for both nodes
    >>> round(normalized_dirichlet_energy(np.array([0.0, 2.0]), a), 12)  # (0 - 2 / sqrt 2)^2
    2.0
    """
    h = as_embedding(x, "x")
    e = _resolve_edges(graph, edges, h.shape[0])
    return _edge_pass(h, e, normalized=True)["normalized_dirichlet_energy"]


def _rayleigh(energy: float, h: np.ndarray) -> float:
    sq = float(np.einsum("ij,ij->", h, h))
    return energy / sq if sq > 0 else float("nan")


def rayleigh_quotient(x: Any, graph: Any = None, *, edges: EdgeArrays | None = None) -> float:
    """``E(X) / ||X||_F^2`` with E the Dirichlet energy of :func:`dirichlet_energy`.

    As SCIENCE.md section 6 writes it: the only one of the three energies blind to a
    global rescaling ``x -> c x`` (the raw energies can rise while the classes merge when
    weights inflate the norms). Identity: ``E / ||X||_F^2 = (2/N) tr(X^T (D - A) X) /
    ||X||_F^2``, i.e. ``2/N`` times the textbook Rayleigh quotient of the combinatorial
    Laplacian ``D - A`` (A without its diagonal), so it lies in ``[0, 2 lambda_max / N]``.
    NaN for ``X = 0``.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.measures import rayleigh_quotient
    >>> a = sp.csr_array([[0, 1], [1, 0]])
    >>> rayleigh_quotient(np.array([1.0, -1.0]), a) == rayleigh_quotient(np.array([5.0, -5.0]), a) == 2.0
    True
    """
    h = as_embedding(x, "x")
    e = _resolve_edges(graph, edges, h.shape[0])
    return _rayleigh(_edge_pass(h, e, energy=True)["dirichlet_energy"], h)


# =========================================================================== MAD


def mad(x: Any, graph: Any = None, *, edges: EdgeArrays | None = None) -> float:
    """Mean average distance (Chen et al., AAAI 2020) on the neighbour mask.

    ``D_ij = 1 - cos(x_i, x_j)`` for the neighbour pairs ``j in N(i)`` (self-loops
    excluded; edge weights ignored: the mask is binary). As the paper defines it, a
    node's value is the mean of its **non-zero** distances and MAD is the mean over the
    nodes whose value is non-zero. Chen et al.'s published ``mad_value`` divides by the
    non-zero count per node too, but then averages over *all* nodes (zeros included);
    we follow the definition (SCIENCE.md section 6).

    Conventions: a zero vector has cosine 0 with everything (distance 1, as sklearn's
    cosine distance gives); distances at or below ``d * machine epsilon`` (the rounding
    level of ``1 - cos`` in float64, 1.4e-14 for d = 64) count as zero; MAD is 0.0 when
    every masked distance is zero and NaN when the graph has no edge. In 1-D the cosine
    is the product of signs.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.measures import mad
    >>> a = sp.csr_array([[0, 1, 1], [1, 0, 0], [1, 0, 0]])  # a star: 0-1, 0-2
    >>> mad(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), a)  # node 0: mean of {1}; 1: {1}; 2: {}
    1.0
    """
    h = as_embedding(x, "x")
    return _edge_pass(h, _resolve_edges(graph, edges, h.shape[0]), mad_=True)["mad"]


