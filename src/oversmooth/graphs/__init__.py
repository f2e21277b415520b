"""Graphs: the :class:`Graph` container, the CSBM sampler, converters, features and splits.

Examples
--------
>>> from oversmooth.graphs import sample_csbm
>>> g = sample_csbm(200, p=0.1, q=0.02, seed=0)
>>> g.n_classes
2
"""

from ._csbm import (bernoulli_positions, block_probability_matrix, estimate_csbm_bytes, sample_csbm,
                    sample_sbm_adjacency)
from ._features import gaussian_class_features, read_features
from ._graph import Graph
from ._index import as_node_index
from ._labels import read_label_array
from ._limits import check_bytes, max_bytes
from ._io import from_networkx, from_pyg, read_graph
from ._download import IntegrityError, MissingFileError, UnverifiedFileError, data_home
from ._pickle import PickleFormatError, UnsafePickleError, restricted_load
from ._planetoid import PLANETOID_NAMES, load_planetoid, planetoid_structure
from ._stats import graph_reach, saturation_level
from ._splits import SPLIT_KEYS, SPLIT_NAMES, load_split, planetoid_public_split, random_split, resolve_split

__all__ = [
    "SPLIT_KEYS",
    "SPLIT_NAMES",
    "Graph",
    "as_node_index",
    "read_label_array",
    "max_bytes",
    "check_bytes",
    "sample_csbm",
    "sample_sbm_adjacency",
    "bernoulli_positions",
    "block_probability_matrix",
    "estimate_csbm_bytes",
    "load_planetoid",
    "planetoid_structure",
    "restricted_load",
    "data_home",
    "PLANETOID_NAMES",
    "UnsafePickleError",
    "PickleFormatError",
    "UnverifiedFileError",
    "IntegrityError",
    "MissingFileError",
    "read_graph",
    "from_pyg",
    "from_networkx",
    "gaussian_class_features",
    "read_features",
    "random_split",
    "planetoid_public_split",
    "load_split",
    "resolve_split",
    "graph_reach",
    "saturation_level",
]
