"""Graphs and features for training: Gaussian class features and the named / file graph sources."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .._utils import check_positive_int
from ..errors import ValidationError
from ..graphs import Graph, gaussian_class_features
from ._config import GRAPHS

if TYPE_CHECKING:
    from ._config import TrainingConfig

__all__ = ["class_features", "load_graph_source"]

def class_features(labels: np.ndarray, snr: float, dim: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian class features ``x_i ~ N(mu_{c_i}, I_d)`` with ``mu_c = (snr / sqrt 2) e_c``.

    Any two class means are ``snr`` apart (in units of sigma = 1); unlabelled nodes
    (label -1) get the average mean. Returns ``(x, mu)``; ``x`` is drawn by
    :func:`oversmooth.graphs.gaussian_class_features` (the one sampler of the package).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.training import class_features
    >>> x, mu = class_features(np.array([0, 1, 1]), 2.0, 4, np.random.default_rng(0))
    >>> x.shape, round(float(np.linalg.norm(mu[0] - mu[1])), 12)
    ((3, 4), 2.0)
    """
    labels = np.asarray(labels)
    k = int(labels.max()) + 1
    dim = check_positive_int(dim, "feature_dim")
    if dim < k:
        raise ValidationError(f"feature_dim must be >= the number of classes ({k}) for class features, got {dim}")
    mu = np.zeros((k, dim))
    mu[np.arange(k), np.arange(k)] = float(snr) / math.sqrt(2.0)
    return gaussian_class_features(labels, mu, 1.0, rng), mu


def load_graph_source(graph: str, *, labels: str | None = None, real_features: bool = True,
                      features: str | None = None, root: str | None = None) -> tuple[Graph, str]:
    """Load a named Planetoid graph or a file with its features; return ``(graph, features_kind)``.

    ``features_kind`` is ``"real"`` (the graph's own features), ``"file"`` (``features`` is a
    feature file, read by :func:`oversmooth.graphs.read_features`) or ``"gaussian"`` (no
    features loaded: Gaussian class features are drawn per seed by the trainer).

    A file is read by :func:`oversmooth.graphs.read_graph`; ``labels`` is its labels:
    a ``node label`` file for an edge list, or for any format a ``.npy`` array or a text
    file of N integers (``-1`` = unlabelled). GraphML/GML files may carry them instead.

    Planetoid graphs come from :func:`oversmooth.graphs.load_planetoid` (real features):
    from ``root`` when given (the files must then load), else from the local cache, no
    download; when no cached files are there, from the structure and labels shipped with
    the package (:func:`oversmooth.graphs.planetoid_structure`) with Gaussian features.
    ``features="gaussian"`` (or ``real_features=False``) always takes Gaussian features.

    Examples
    --------
    >>> from oversmooth.training import load_graph_source
    >>> g, kind = load_graph_source("cora", features="gaussian")
    >>> g.n_nodes, kind
    (2708, 'gaussian')
    """
    from .. import graphs

    if graph == "csbm":
        raise ValidationError("the CSBM is sampled per seed, not loaded")
    if not real_features:
        features = "gaussian"
    use_own = features is None
    if graph in GRAPHS:
        g: Graph | None = None
        if use_own or root is not None:
            try:
                g = graphs.load_planetoid(graph, root=root, features=use_own, download=False, progress=False)
            except (FileNotFoundError, graphs.UnverifiedFileError):  # not cached, or unverifiable: fall back
                if root is not None:  # to the shipped structure; a corrupt or unsafe cached file still raises
                    raise
        if g is None:
            g = graphs.planetoid_structure(graph)
        if features not in (None, "gaussian"):
            x = graphs.read_features(features, g.n_nodes)
            return Graph(g.adjacency, g.labels, x, name=g.name, source=g.source, metadata=dict(g.metadata),
                         check_symmetric=False), "file"
        kind = "real" if (use_own and g.features is not None) else "gaussian"
        if kind == "gaussian" and g.features is not None:
            g = Graph(g.adjacency, g.labels, None, name=g.name, source=g.source, metadata=dict(g.metadata),
                      check_symmetric=False)
        return g, kind
    feat_arg = features if features not in (None, "gaussian") else None
    if labels is None:
        g = graphs.read_graph(graph, features=feat_arg)
    elif str(graph).endswith((".npz", ".graphml", ".gml")):
        g = graphs.read_graph(graph, labels=graphs.read_label_array(labels), features=feat_arg)
    else:
        g = graphs.read_graph(graph, labels=labels, features=feat_arg)
    if g.n_classes < 2:
        raise ValidationError(f"graph file {graph!r} must come with labels of at least 2 classes")
    if feat_arg is not None:
        return g, "file"
    kind = "real" if (use_own and g.features is not None) else "gaussian"
    return g, kind


def _features_source(g: Graph, kind: str, config: "TrainingConfig") -> str:
    if kind == "gaussian":
        return (f"gaussian class features: mu_c = (snr/sqrt 2) e_c, sigma 1, d={config.feature_dim}, "
                "drawn per seed")
    if kind == "file":
        return f"feature file {config.features}"
    return f"{g.source or g.name}: the graph's own features"
