"""Smoothness measures of arbitrary node embeddings: Dirichlet energies, MAD, MADGap, ...

Every function takes one layer's embeddings ``x`` ((N, d) or (N,) NumPy array or torch
tensor) and a graph or labels in the conventions of :mod:`oversmooth.measures._inputs`
(SciPy sparse adjacency, :class:`~oversmooth.graphs.Graph`, PyG ``edge_index``, PyG
``Data``, NetworkX graph). Definitions (``../shared/SCIENCE.md`` section 6), with
``w_ij`` the symmetric edge weights, ``N(i)`` the neighbours of i other than i itself:

=============================  ========================================================
``dirichlet_energy``           ``E = (1/N) sum_i sum_{j in N(i)} w_ij ||x_i - x_j||^2``
                               (Rusch, Bronstein & Mishra 2023; each undirected edge from
                               both ends; self-loops add 0). They report ``sqrt(E)``.
``normalized_dirichlet_energy``  ``tr(X^T L X)``, ``L = I - D~^-1/2 A~ D~^-1/2``,
                               ``A~`` = off-diagonal part of A plus I (Cai & Wang 2020)
``rayleigh_quotient``          ``E / ||X||_F^2`` (blind to a global rescaling x -> c x)
``mad``                        mean of the non-zero neighbour cosine distances
                               ``1 - cos(x_i, x_j)`` per node, averaged over the nodes
                               with a non-zero value (Chen et al., AAAI 2020)
``mad_gap``                    ``MAD_rmt - MAD_neb`` on the masks of nodes >= 8 hops and
                               <= 3 hops away (Chen et al.); sampled sources beyond
                               ``MADGAP_EXACT_MAX_NODES``
``group_distance_ratio``       mean inter-class over mean intra-class Euclidean distance
                               (Zhou et al. 2020, PyG ``DiffGroupNorm``)
``effective_rank``             ``exp(H(p))``, ``p`` = singular values / their sum
                               (Roy & Vetterli 2007)
=============================  ========================================================

The edge measures cost O(E d); :func:`edge_arrays` extracts the edges once so that many
layers of the same graph reuse them, and :func:`edge_smoothness` computes the three
energies and MAD together; with ``sample=`` (the profiles, beyond
``SMOOTHNESS_EXACT_MAX_NODES`` nodes) in ONE pass over the edges of a node sample.
:func:`hop_masks` does the breadth-first searches of MADGap once per graph (bit-parallel:
64 sources per machine word).

This module gathers the public names; the code lives in ``_edges`` (edge arrays and passes),
``_energies`` (energies, MAD), ``_madgap`` (MADGap) and ``_gdr`` (group distance ratio,
effective rank).
"""


from ._edges import EdgeArrays, edge_arrays
from ._sampled_edges import SMOOTHNESS_EXACT_MAX_NODES, SMOOTHNESS_SAMPLE_NODES, sample_nodes
from ._energies import dirichlet_energy, edge_smoothness, mad, normalized_dirichlet_energy, rayleigh_quotient
from ._gdr import GDR_MAX_NODES, effective_rank, group_distance_ratio
from ._madgap import MADGAP_EXACT_MAX_NODES, MADGAP_SAMPLE_SOURCES, HopMasks, hop_masks, mad_gap

__all__ = [
    "EdgeArrays",
    "HopMasks",
    "MADGAP_EXACT_MAX_NODES",
    "MADGAP_SAMPLE_SOURCES",
    "GDR_MAX_NODES",
    "SMOOTHNESS_EXACT_MAX_NODES",
    "SMOOTHNESS_SAMPLE_NODES",
    "edge_arrays",
    "sample_nodes",
    "edge_smoothness",
    "dirichlet_energy",
    "normalized_dirichlet_energy",
    "rayleigh_quotient",
    "mad",
    "hop_masks",
    "mad_gap",
    "group_distance_ratio",
    "effective_rank",
]
