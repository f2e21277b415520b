"""Graphs: the :class:`Graph` container and the CSBM sampler.

Examples
--------
>>> from oversmooth.graphs import sample_csbm
>>> g = sample_csbm(200, p=0.1, q=0.02, seed=0)
>>> g.n_classes
2
"""

from ._csbm import bernoulli_positions, block_probability_matrix, sample_csbm, sample_sbm_adjacency
from ._graph import Graph
from ._io import from_pyg, read_graph
from ._planetoid import (
    PLANETOID_NAMES,
    IntegrityError,
    UnsafePickleError,
    UnverifiedFileError,
    data_home,
    load_planetoid,
    planetoid_structure,
    restricted_load,
)

__all__ = [
    "Graph",
    "sample_csbm",
    "sample_sbm_adjacency",
    "bernoulli_positions",
    "block_probability_matrix",
    "load_planetoid",
    "planetoid_structure",
    "restricted_load",
    "data_home",
    "PLANETOID_NAMES",
    "UnsafePickleError",
    "UnverifiedFileError",
    "IntegrityError",
    "read_graph",
    "from_pyg",
]
