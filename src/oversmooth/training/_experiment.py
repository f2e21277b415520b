"""Training experiments: graphs x models x depths x widths x seeds -> tidy rows.

One row per (graph config, seed, model, depth, width): the config, the features and the
split used, the hyper-parameters (and the recipe they follow), train / validation / test
accuracy of the selected state, the final training loss, epochs, per-layer gradient norms
at the first and the last epoch, wall time, and, for Gaussian class features, the core
library's Bayes and realised accuracies of the linear propagation ``h(n) = P^n x``
(:func:`oversmooth.measures.depth_profile`).
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence, TextIO

import numpy as np
import torch

from .._utils import (
    check_choice,
    check_nonneg_int,
    check_positive_float,
    check_positive_int,
    check_probability,
    derive_seed,
)
from ..errors import ValidationError
from .._version import __version__
from ..graphs import Graph, gaussian_class_features, random_split, resolve_split, sample_csbm
from ..measures import depth_profile
from ..operators import iter_propagate, normalize_adjacency, stationary_projection
from ..theory import csbm_pq  # re-exported: (p, q) from the degree and lambda
from ._backend import DTYPES, deterministic, torch_dtype, torch_seed
from ._fit import SELECTIONS, fit, weight_decay_groups
from ._models import (
    CORRECTED_MODELS,
    MODELS,
    PYG_MODELS,
    TRAIN_OPERATORS,
    LinearClassifier,
    build_model,
    model_normalization,
)
from ._recipes import FEATURE_NORMS, RECIPES, row_normalize

__all__ = ["TrainingConfig", "run_training", "quick_config", "recipe_config", "random_split", "class_features",
           "csbm_pq", "load_graph_source", "GRAPHS", "TRAIN_COLUMNS", "TIMING_COLUMNS", "write_training_csv",
           "RunContext"]

#: Largest accepted ``snr`` (distance between class means in units of sigma).
MAX_SNR = 1e6

#: Named graph sources besides a file path.
GRAPHS = ("csbm", "cora", "citeseer", "pubmed")

#: Columns of every training row, in order (the documented CSV contract: same seed, same bytes).
TRAIN_COLUMNS = (
    "graph", "n", "n_edges", "n_classes", "p", "q", "lam", "mean_degree", "snr", "features", "feature_dim",
    "self_loops", "normalization", "operator", "model", "depth", "width", "seed", "run_seed", "split", "n_train",
    "n_val", "n_test", "optimizer", "lr", "weight_decay", "dropout", "alpha", "max_epochs", "patience", "init",
    "standardize", "epochs", "best_epoch", "train_acc", "val_acc", "test_acc", "final_loss", "grad_norm_start",
    "grad_norm_end", "bayes_accuracy", "bayes_accuracy_best", "bayes_best_depth",
    "core_realised_accuracy", "threads", "dtype", "torch_version", "torch_geometric_version",
    "oversmooth_version", "features_source", "feature_norm", "split_source", "recipe", "weight_decay_scope",
    "model_selection", "bias",
)

#: The run key and its wall time: ``timings.csv`` beside ``training.csv`` (timings differ between
#: runs, so they stay out of the file promised byte-identical). Rows also carry ``wall_time_s``.
TIMING_COLUMNS = ("graph", "n", "lam", "snr", "operator", "model", "depth", "width", "seed", "run_seed",
                  "epochs", "wall_time_s")


def _tuple(v: Any) -> tuple[Any, ...]:
    return tuple(v) if isinstance(v, (list, tuple)) else (v,)


@dataclass(frozen=True)
class TrainingConfig:
    """A training grid (validated on creation).

    Attributes
    ----------
    graph : str
        ``"csbm"``, ``"cora"``, ``"citeseer"``, ``"pubmed"`` or a path read by
        :func:`oversmooth.graphs.read_graph` (``.npz``, edge list, GraphML, GML) with labels.
    labels : str, optional
        Labels of a graph file (see :func:`load_graph_source`).
    models : tuple of str
        Among ``linear, sgc, gcn, gat, appnp, gcnii``.
    depths, widths : tuple of int
        Propagation depths n and hidden widths w (``sgc`` has no width: one run per depth).
    seeds, seed : int
        Replicates ``seed, seed + 1, ...`` (replicate ``seed_i`` is the same in every run that
        includes it): its graph (CSBM), features (Gaussian), split and Hutchinson probes come
        from ``derive_seed(seed_i, "graph" | "features" | "split" | "probes")`` and each run's
        torch seed from ``derive_seed(seed_i, "torch", config, model, depth, width)``
        (:func:`oversmooth._utils.derive_seed`: one independent stream per purpose).
    n, lam, snr : tuple
        CSBM grid: nodes N, lambda = (p - q)/(p + q), and the feature signal-to-noise
        ratio ``||mu_1 - mu_0|| / sigma`` (sigma = 1). ``snr`` also sets the Gaussian class
        features of real graphs without features.
    degree : float
        CSBM expected degree without the self-loop, ``(N/2)(p + q)``.
    feature_dim : int
        d of the Gaussian class features (``mu_c = (snr / sqrt 2) e_c``, needs d >= K).
    normalization : {"rw", "sym"}
        ``rw`` = D^-1 A (the paper's, default), ``sym`` = D^-1/2 A D^-1/2; with self-loops.
    operator : {"gcn", "corrected"}
        ``gcn`` (default) propagates with ``P``; ``corrected`` with ``P - u w^T``, the
        principal component removed (Wang, Baranwal & Fountoulakis, 2024;
        :func:`oversmooth.operators.stationary_projection` of ``normalization``), for the
        models ``linear``, ``sgc`` and ``gcn``.
    lr, weight_decay, max_epochs, patience : Adam and early stopping
    dropout : float
        Feature dropout of the PyG models (the linear models have none).
    alpha : float
        APPNP / GCNII initial-residual weight (0.1, the paper's).
    real_features : bool
        Use a real graph's own features when they load (else Gaussian class features);
        ``False`` is the same as ``features="gaussian"``.
    features : str, optional
        ``None`` (default): the graph's own features when it has them (Planetoid raw files,
        an ``.npz`` / GraphML / PyG graph holding features), else Gaussian class features;
        ``"gaussian"``: Gaussian class features
        (:func:`oversmooth.graphs.gaussian_class_features`, ``mu_c = (snr / sqrt 2) e_c``,
        sigma 1, drawn per seed); a path: an ``.npy`` / ``.npz`` feature file
        (:func:`oversmooth.graphs.read_features`). Rows state which (``features``,
        ``features_source``).
    root : str, optional
        Folder holding the raw Planetoid files (``ind.<name>.*``) of a named graph; when
        given the files must load (no fallback).
    split : str
        ``"random"`` (default: a seeded 60/20/20 split of the labelled nodes per seed),
        ``"public"`` (the Planetoid split, :func:`oversmooth.graphs.planetoid_public_split`) or
        the path of an ``.npz`` split file (:func:`oversmooth.graphs.load_split`).
    feature_norm : {"none", "row"}
        ``row``: each feature row divided by its sum (Kipf & Welling's preprocessing).
    weight_decay_scope : {"all", "first"}
        Weight decay on every parameter or on the first layer only.
    selection : {"best_val", "kipf"}
        Model selection of :func:`oversmooth.training.fit`; ``window`` is Kipf's window.
    bias : bool
        Biases in the GCN / GAT layers.
    recipe : str, optional
        Name of the recipe the hyper-parameters follow (:func:`recipe_config`); rows say
        ``"<name> (changed: ...)"`` when a recipe field was overridden.
    bayes : bool
        Put the core library's Bayes / realised accuracies beside Gaussian-feature rows.
    dtype : {"float32", "float64"}
    threads : int
        ``torch.set_num_threads`` for every run (recorded in the rows).

    Examples
    --------
    >>> from oversmooth.training import TrainingConfig
    >>> TrainingConfig(depths=(1, 2), widths=(16,)).normalization
    'rw'
    """

    graph: str = "csbm"
    labels: str | None = None
    models: tuple[str, ...] = ("linear", "sgc")
    depths: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    widths: tuple[int, ...] = (16, 64, 256)
    seeds: int = 10
    seed: int = 0
    n: tuple[int, ...] = (2000,)
    lam: tuple[float, ...] = (0.5,)
    snr: tuple[float, ...] = (1.0,)
    degree: float = 10.0
    feature_dim: int = 16
    normalization: str = "rw"
    operator: str = "gcn"
    lr: float = 0.01
    weight_decay: float = 5e-4
    max_epochs: int = 300
    patience: int = 50
    dropout: float = 0.5
    alpha: float = 0.1
    real_features: bool = True
    bayes: bool = True
    dtype: str = "float32"
    threads: int = 1
    features: str | None = None
    root: str | None = None
    split: str = "random"
    feature_norm: str = "none"
    weight_decay_scope: str = "all"
    selection: str = "best_val"
    window: int = 10
    bias: bool = True
    recipe: str | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("models", "depths", "widths", "n", "lam", "snr"):
            set_(self, name, _tuple(getattr(self, name)))
            if not getattr(self, name):
                raise ValidationError(f"{name} must not be empty")
        if not isinstance(self.graph, str) or not self.graph:
            raise ValidationError(f"graph must be one of {', '.join(GRAPHS)} or a file path, got {self.graph!r}")
        if self.graph not in GRAPHS and not os.path.exists(self.graph):
            raise ValidationError(f"graph must be one of {', '.join(GRAPHS)} or an existing file, got {self.graph!r}")
        if self.labels is not None and not os.path.exists(self.labels):
            raise ValidationError(f"labels must be an existing file, got {self.labels!r}")
        for m in self.models:
            check_choice(m, "model", MODELS)
        set_(self, "depths", tuple(check_positive_int(d, "depths") for d in self.depths))
        set_(self, "widths", tuple(check_positive_int(w, "widths") for w in self.widths))
        set_(self, "n", tuple(check_positive_int(v, "n", minimum=4) for v in self.n))
        for v in self.lam:
            try:
                ok = -1.0 <= float(v) <= 1.0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ValidationError(f"lam must be a number in [-1, 1], got {v!r}")
        set_(self, "lam", tuple(float(v) for v in self.lam))
        set_(self, "snr", tuple(check_positive_float(v, "snr", allow_zero=True) for v in self.snr))
        for v in self.snr:
            if v > MAX_SNR:
                raise ValidationError(f"snr must be in [0, {MAX_SNR:g}] (class means that far apart are separable "
                                      f"at any depth; larger values overflow float32 features), got {v:g}")
        check_positive_int(self.seeds, "seeds")
        check_nonneg_int(self.seed, "seed")
        check_positive_float(self.degree, "degree")
        check_positive_int(self.feature_dim, "feature_dim")
        check_choice(self.normalization, "normalization", ("rw", "sym"))
        check_choice(self.operator, "operator", TRAIN_OPERATORS)
        if self.operator == "corrected":
            other = [m for m in self.models if m not in CORRECTED_MODELS]
            if other:
                raise ValidationError(f"operator 'corrected' trains the models {', '.join(CORRECTED_MODELS)}; "
                                      f"drop {', '.join(other)} from models or use operator 'gcn'")
        if self.labels is not None and self.graph in GRAPHS:
            raise ValidationError(f"labels is for a graph file; {self.graph!r} "
                                  f"{'is sampled with its own' if self.graph == 'csbm' else 'ships its own'} labels")
        check_positive_float(self.lr, "lr")
        check_positive_float(self.weight_decay, "weight_decay", allow_zero=True)
        check_positive_int(self.max_epochs, "max_epochs")
        check_nonneg_int(self.patience, "patience")
        check_probability(self.dropout, "dropout")
        check_probability(self.alpha, "alpha")
        check_choice(self.dtype, "dtype", DTYPES)
        check_positive_int(self.threads, "threads")
        if self.features is not None:
            if not isinstance(self.features, str) or not self.features:
                raise ValidationError(f"features must be 'gaussian' or a feature file path, got {self.features!r}")
            if self.features != "gaussian" and not os.path.isfile(self.features):
                raise ValidationError(f"features must be 'gaussian' or an existing .npy/.npz file, got {self.features!r}")
            if self.features != "gaussian" and self.graph == "csbm":
                raise ValidationError("features: a feature file needs a fixed graph, not the CSBM (sampled per seed)")
        if self.root is not None and not os.path.isdir(self.root):
            raise ValidationError(f"root must be an existing folder of raw Planetoid files, got {self.root!r}")
        if not isinstance(self.split, str) or not self.split:
            raise ValidationError(f"split must be 'public', 'random' or an .npz split file, got {self.split!r}")
        if self.split not in ("public", "random") and not os.path.isfile(self.split):
            raise ValidationError(f"split must be 'public', 'random' or an existing .npz split file, got {self.split!r}")
        if self.split == "public" and self.graph == "csbm":
            raise ValidationError("split 'public' is the Planetoid split: use it with cora, citeseer or pubmed")
        check_choice(self.feature_norm, "feature_norm", FEATURE_NORMS)
        check_choice(self.weight_decay_scope, "weight_decay_scope", ("all", "first"))
        check_choice(self.selection, "selection", SELECTIONS)
        check_positive_int(self.window, "window")
        if self.recipe is not None:
            check_choice(self.recipe, "recipe", tuple(RECIPES))
        for n in self.n:
            for lam in self.lam:
                if self.graph == "csbm":
                    csbm_pq(n, self.degree, lam)  # validates p, q in [0, 1]
        if self.graph == "csbm":
            self.check_resources(max(self.n), self.feature_dim)

    def estimate_bytes(self, n_nodes: int, in_dim: int) -> int:
        """Peak memory of the largest run, estimated before anything is allocated (bytes).

        Features (float64 and the torch copy), SGC's propagated ``h(n)`` per depth, the
        deepest model's activations kept for the backward pass (``N x max(width, classes)``
        per layer, with their ReLU and dropout masks), its weights with gradients and Adam's
        two moments, and the Bayes profile's propagated block. An estimate, within a small
        factor: it exists to refuse ``depths=10**9`` or ``widths=10**9`` up front (run time is not
        estimated: a legal but long grid runs).

        Examples
        --------
        >>> from oversmooth.training import TrainingConfig
        >>> cfg = TrainingConfig(models=("gcn",), depths=(64,), widths=(64,), n=(2000,))
        >>> 10**6 < cfg.estimate_bytes(2000, 16) < 10**9
        True
        """
        n, d = int(n_nodes), int(in_dim)
        depth = max(self.depths)
        width = max(self.widths) if any(m != "sgc" for m in self.models) else 0
        feats = 12 * n * d
        sgc = 8 * n * d * (len(self.depths) + 1) if "sgc" in self.models else 0
        acts = 4 * 3 * n * max(width, 8) * (depth + 1) if width else 0
        params = 4 * 4 * (d * width + width * width * depth)
        bayes = 8 * 3 * n * (d + 64) + 8 * 64 * (depth + 1) if self.bayes else 0  # block + per-depth rows
        return feats + sgc + acts + params + bayes

    def check_resources(self, n_nodes: int, in_dim: int) -> None:
        """Refuse a grid whose largest run needs more memory than the machine allows (``ResourceLimitError``).

        The estimate is :meth:`estimate_bytes`; the limit is the package's one budget
        (``$OVERSMOOTH_MAX_BYTES``, else the physical memory, less under ``ulimit -v``).

        Examples
        --------
        >>> from oversmooth.training import TrainingConfig
        >>> TrainingConfig(models=("gcn",), depths=(10**9,), n=(1000,))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        oversmooth.errors.ResourceLimitError: depths=1000000000, widths=256, N=1000, d=16 needs about ...
        """
        from .._resources import check_resources

        width = max(self.widths) if any(m != "sgc" for m in self.models) else 0
        check_resources(memory=self.estimate_bytes(n_nodes, in_dim), seconds=0.0,
                        argument=f"depths={max(self.depths)}, widths={width}, N={n_nodes}, d={in_dim}")

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def feature_choice(self) -> str | None:
        """``None`` (the graph's own when present), ``"gaussian"`` or a feature file path."""
        return "gaussian" if not self.real_features else self.features

    def recipe_label(self) -> str:
        """The recipe column: ``"default"``, the recipe's name, or ``"<name> (changed: f1, f2)"``."""
        if self.recipe is None:
            return "default"
        r = RECIPES[self.recipe]
        changed = [f for f in _RECIPE_FIELDS if getattr(self, _RECIPE_FIELDS[f]) != getattr(r, f)]
        if self.widths != (r.width,):
            changed.insert(0, "width")
        return self.recipe if not changed else f"{self.recipe} (changed: {', '.join(changed)})"

    def selection_label(self) -> str:
        """The ``model_selection`` column."""
        if self.selection == "kipf":
            return (f"kipf: stop when val loss > mean of the previous {self.window}; final state; "
                    f"<= {self.max_epochs} epochs")
        stop = f"patience {self.patience}" if self.patience else "no early stop"
        return f"best val acc state; {stop}; <= {self.max_epochs} epochs"

    def runs_per_seed(self) -> int:
        """Training runs per seed and graph config."""
        return sum(len(self.depths) * (1 if m == "sgc" else len(self.widths)) for m in self.models)

    def graph_configs(self) -> list[dict[str, Any]]:
        """The graph-level grid: (n, lam, snr) for the CSBM, snr for the others."""
        if self.graph == "csbm":
            return [{"n": n, "lam": lam, "snr": s} for n in self.n for lam in self.lam for s in self.snr]
        return [{"snr": s} for s in self.snr]


#: Recipe field -> TrainingConfig field (the width is compared with ``widths``).
_RECIPE_FIELDS = {"normalization": "normalization", "feature_norm": "feature_norm", "dropout": "dropout",
                  "lr": "lr", "weight_decay": "weight_decay", "weight_decay_scope": "weight_decay_scope",
                  "max_epochs": "max_epochs", "patience": "patience", "selection": "selection",
                  "window": "window", "bias": "bias"}


def recipe_config(name: str, **overrides: Any) -> TrainingConfig:
    """A :class:`TrainingConfig` following a named recipe (``"kipf"``); explicit options override it.

    ``kipf`` (:data:`oversmooth.training.KIPF`): GCN, depth 2, hidden 16, ``D^-1/2 (A+I) D^-1/2``,
    row-normalised features, dropout 0.5, lr 0.01, weight decay 5e-4 on the first layer, no
    bias, <= 200 epochs with Kipf's early stopping, on the public split.

    Examples
    --------
    >>> from oversmooth.training import recipe_config
    >>> cfg = recipe_config("kipf", graph="cora", seeds=2)
    >>> cfg.recipe_label(), cfg.widths, cfg.split, cfg.weight_decay_scope
    ('kipf', (16,), 'public', 'first')
    >>> recipe_config("kipf", graph="cora", lr=0.05).recipe_label()
    'kipf (changed: lr)'
    """
    r = RECIPES[check_choice(name, "recipe", tuple(RECIPES))]
    base: dict[str, Any] = {cf: getattr(r, f) for f, cf in _RECIPE_FIELDS.items()}
    base.update(models=("gcn",), depths=(2,), widths=(r.width,), split="public", recipe=r.name, bayes=False)
    base.update({k: v for k, v in overrides.items() if v is not None})
    return TrainingConfig(**base)


def quick_config(**overrides: Any) -> TrainingConfig:
    """The ``--quick`` grid: CSBM N=1000, lambda 0.5, degree 10, SNR 1, d=16, depths 1..16,
    widths 16 and 64, 2 seeds, linear + SGC, at most 200 epochs (patience 30).

    Examples
    --------
    >>> from oversmooth.training import quick_config
    >>> quick_config().depths
    (1, 2, 4, 8, 16)
    """
    base = dict(graph="csbm", models=("linear", "sgc"), depths=(1, 2, 4, 8, 16), widths=(16, 64), seeds=2,
                n=(1000,), lam=(0.5,), snr=(1.0,), degree=10.0, feature_dim=16, max_epochs=200, patience=30)
    base.update({k: v for k, v in overrides.items() if v is not None})
    return TrainingConfig(**base)


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
        arr = np.load(labels) if str(labels).endswith(".npy") else np.loadtxt(labels, dtype=np.int64, ndmin=1)
        g = graphs.read_graph(graph, labels=np.asarray(arr, dtype=np.int64), features=feat_arg)
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


class RunContext:
    """What :func:`run_training` hands to ``on_model`` after each trained run.

    Attributes: ``model`` (the trained torch module, eval mode; ``None`` for ``sgc``),
    ``row`` (the run's row), ``graph`` (the :class:`~oversmooth.graphs.Graph` trained on,
    self-loops included, its features as fed to the model), ``P`` (the operator),
    ``inputs`` (the model's input tensor), ``split`` (train, val, test index arrays),
    ``seed`` (the replicate seed).

    Examples
    --------
    >>> from oversmooth.training import TrainingConfig, run_training
    >>> seen = []
    >>> _ = run_training(TrainingConfig(models=("linear",), depths=(2,), widths=(8,), n=(120,), seeds=1,
    ...                                 max_epochs=3), progress=False, on_model=seen.append)
    >>> type(seen[0].model).__name__, seen[0].row["depth"], len(seen[0].split)
    ('LinearGNN', 2, 3)
    """

    def __init__(self, **kw: Any):
        self.__dict__.update(kw)


class _Bars:
    """The overall progress bar with the current run's bar (epoch, loss, val acc) in its label."""

    def __init__(self, total: int, enabled: bool, stream: TextIO | None):
        from .._progress import Progress

        self.overall = Progress(total, stream=stream or sys.stderr, enabled=enabled, width=20)
        self.enabled = enabled
        self.run = ""
        self.last = 0.0

    def start(self, run: str) -> None:
        self.run = run
        self.overall.update(f"{run:<34}")

    def epoch(self, epoch: int, max_epochs: int, loss: float, val: float) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self.last < 0.2 and epoch != max_epochs):
            return
        self.last = now
        fill = int(round(10 * epoch / max_epochs))
        self.overall.update(f"{self.run:<34} [{'#' * fill}{'.' * (10 - fill)}] ep {epoch:>4}/{max_epochs} "
                            f"loss {loss:7.4f} val {val:.3f}")

    def finish(self, label: str) -> None:
        self.overall.update(f"{label:<34} {'':<60}", advance=1)

    def close(self) -> None:
        self.overall.close()


def _one_minus(v: Any) -> float | None:
    """``1 - v``, or None when the core profile left ``v`` out (e.g. the realised error it skips)."""
    return None if v is None else 1.0 - float(v)


def _sparse(x: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return x.to_sparse_csr()


def _standardize(h: np.ndarray) -> np.ndarray:
    mean = h.mean(axis=0, keepdims=True)
    std = h.std(axis=0, keepdims=True)
    return (h - mean) / np.where(std > 0, std, 1.0)


def run_training(config: TrainingConfig, *, progress: bool = True, stream: TextIO | None = None,
                 on_row: Callable[[dict[str, Any]], None] | None = None,
                 on_model: Callable[[RunContext], None] | None = None) -> list[dict[str, Any]]:
    """Run the grid of ``config``; return one tidy row per run (columns :data:`TRAIN_COLUMNS`).

    For each graph config and seed: build the graph (CSBM sample or loaded graph with
    self-loops added), the features (``config.features``; row-normalised when
    ``feature_norm="row"``) and the split (``config.split``: random per seed, or the fixed
    public / file split); ``P`` from
    :func:`oversmooth.operators.normalize_adjacency`; for Gaussian features the core
    depth profile (Bayes accuracy ``1 - Phi(-Delta/2)`` of ``h(n)`` under the paper's
    feature-noise variance, and the in-sample realised accuracy of the best linear rule);
    then every model x depth x width is trained by :func:`oversmooth.training.fit`.
    ``sgc`` trains logistic regression on the column-standardised ``h(n) = P^n x``
    (standardising is affine: same hypothesis class, better conditioned). Sparse features
    (density < 5%) are fed to the PyG GCN / APPNP / GCNII models as a sparse tensor.
    ``on_model(ctx)`` (a :class:`RunContext`) is called after every run, e.g. to profile
    the trained model's layers (:func:`oversmooth.training.layer_embeddings`).

    Examples
    --------
    >>> from oversmooth.training import TrainingConfig, run_training
    >>> rows = run_training(TrainingConfig(models=("linear",), depths=(2,), widths=(8,), n=200, seeds=1,
    ...                                    max_epochs=10), progress=False)
    >>> len(rows), rows[0]["depth"], rows[0]["width"]
    (1, 2, 8)
    """
    import torch_geometric

    gcfgs = config.graph_configs()
    bar = _Bars(len(gcfgs) * config.seeds * config.runs_per_seed(), progress, stream)
    base = None if config.graph == "csbm" else load_graph_source(
        config.graph, labels=config.labels, real_features=config.real_features, features=config.features,
        root=config.root)
    fixed_split = None
    if config.split != "random":
        assert base is not None  # validated: public / file splits need a fixed graph
        fixed_split = resolve_split(config.split, base[0])
    split_label = {"random": "60/20/20", "public": "public"}.get(config.split, config.split)
    split_source = {"random": "random 60/20/20 of the labelled nodes, drawn per seed",
                    "public": "Planetoid public split (PyG Planetoid(split='public'))"}.get(
                        config.split, f"split file {config.split}")
    dt = torch_dtype(config.dtype)
    max_depth = max(config.depths)
    rows: list[dict[str, Any]] = []
    for ci, gc in enumerate(gcfgs):
        for si in range(config.seeds):
            seed_i = config.seed + si
            rng_graph, rng_features, rng_split, rng_probes = (
                np.random.default_rng(derive_seed(seed_i, purpose)) for purpose in ("graph", "features", "split",
                                                                                    "probes"))
            meta: dict[str, Any] = {"p": None, "q": None, "lam": None}
            if base is None:
                p, q = csbm_pq(gc["n"], config.degree, gc["lam"])
                g = sample_csbm(gc["n"], p, q, features=False, seed=rng_graph)
                meta = {"p": p, "q": q, "lam": gc["lam"]}
                feat_kind = "gaussian"
            else:
                g, feat_kind = base
                if not g.has_self_loops or g.n_self_loops < g.n_nodes:
                    g = g.with_self_loops(True)
            labels = g.labels
            mu = None
            if feat_kind == "gaussian":
                x_np, mu = class_features(labels, gc["snr"], config.feature_dim, rng_features)
            else:
                x_np = np.asarray(g.features, dtype=np.float64)
            x_np = row_normalize(x_np, config.feature_norm)
            if base is not None and si == 0:
                config.check_resources(g.n_nodes, x_np.shape[1])
            graph = Graph(g.adjacency, labels, x_np, name=g.name, source=g.source, check_symmetric=False)
            P = normalize_adjacency(graph, config.normalization)
            principal = stationary_projection(graph, config.normalization) if config.operator == "corrected" else None
            tr, va, te = fixed_split if fixed_split is not None else random_split(labels, rng_split)
            split = tuple(torch.from_numpy(a.astype(np.int64)) for a in (tr, va, te))
            y = torch.from_numpy(np.clip(labels, 0, None).astype(np.int64))
            x = torch.from_numpy(x_np).to(dt)
            x_sparse = _sparse(x) if np.count_nonzero(x_np) < 0.05 * x_np.size else None
            n_classes = int(labels.max()) + 1
            profile = None
            if config.bayes and mu is not None:
                profile = depth_profile(graph, max_depth, operator=config.operator,
                                        normalization=config.normalization, mu=mu, sigma=1.0,
                                        variance="hutchinson", probes=32, seed=rng_probes)
            hn: dict[int, np.ndarray] = {}
            if "sgc" in config.models:
                wanted = set(config.depths)
                for k, h in enumerate(iter_propagate(P, x_np, max_depth, operator=config.operator,
                                                     principal=principal)):
                    if k in wanted:
                        hn[k] = _standardize(h)
            common = {
                "graph": config.graph if base is None else (g.name if config.graph not in GRAPHS else config.graph),
                "n": graph.n_nodes, "n_edges": graph.n_edges, "n_classes": n_classes, **meta,
                "mean_degree": float(graph.degrees.mean()), "snr": gc["snr"] if feat_kind == "gaussian" else None,
                "features": feat_kind, "feature_dim": int(x_np.shape[1]), "self_loops": True,
                "seed": seed_i, "split": split_label, "n_train": int(tr.size), "n_val": int(va.size),
                "n_test": int(te.size), "optimizer": "adam", "lr": config.lr, "weight_decay": config.weight_decay,
                "max_epochs": config.max_epochs, "patience": config.patience, "threads": config.threads,
                "dtype": config.dtype, "torch_version": torch.__version__,
                "torch_geometric_version": torch_geometric.__version__, "oversmooth_version": __version__,
                "features_source": _features_source(g, feat_kind, config), "feature_norm": config.feature_norm,
                "split_source": split_source, "recipe": config.recipe_label(),
                "weight_decay_scope": "first layer" if config.weight_decay_scope == "first" else "all layers",
                "model_selection": config.selection_label(),
            }
            if profile is not None and all(r.get("bayes_error") is not None for r in profile):
                bayes_acc = np.array([1.0 - r["bayes_error"] for r in profile])
                common["bayes_accuracy_best"] = float(bayes_acc.max())
                common["bayes_best_depth"] = int(np.argmax(bayes_acc))
            for mi, model_name in enumerate(config.models):
                for depth in config.depths:
                    for width in ((None,) if model_name == "sgc" else config.widths):
                        run_seed = torch_seed(seed_i, ci, model_name, depth, width or 0)
                        label = f"{model_name} n={depth} w={width or '-'} seed={seed_i}"
                        bar.start(label)
                        with deterministic(run_seed, config.threads):
                            if model_name == "sgc":
                                model = LinearClassifier(x_np.shape[1], n_classes, config.dtype)
                                inputs = torch.from_numpy(hn[depth]).to(dt)
                            else:
                                model = build_model(model_name, P, x_np.shape[1], width, depth, n_classes,
                                                    dropout=config.dropout, alpha=config.alpha, dtype=config.dtype,
                                                    bias=config.bias, principal=principal)
                                sparse_ok = x_sparse is not None and model_name in PYG_MODELS and model_name != "gat"
                                inputs = x_sparse if sparse_ok else x
                            groups = weight_decay_groups(model, config.weight_decay, config.weight_decay_scope)
                            res = fit(model, inputs, y, split, lr=config.lr, weight_decay=config.weight_decay,
                                      max_epochs=config.max_epochs, patience=config.patience, callback=bar.epoch,
                                      param_groups=groups, selection=config.selection, window=config.window)
                        linear = model_name in ("linear", "sgc")
                        row = {
                            **common, "normalization": model_normalization(model_name, config.normalization),
                            "operator": config.operator,
                            "model": model_name, "depth": depth, "width": width, "run_seed": run_seed,
                            "dropout": 0.0 if linear else config.dropout,
                            "alpha": config.alpha if model_name in ("appnp", "gcnii") else None,
                            "init": "glorot" if model_name == "linear" else "torch default",
                            "standardize": model_name == "sgc",
                            "bias": bool(config.bias) if model_name in ("gcn", "gat") else None,
                            "epochs": res.epochs, "best_epoch": res.best_epoch, "train_acc": res.train_acc,
                            "val_acc": res.val_acc, "test_acc": res.test_acc, "final_loss": res.final_loss,
                            "grad_norm_start": res.grad_norm_start, "grad_norm_end": res.grad_norm_end,
                            "wall_time_s": res.seconds,
                        }
                        if profile is not None:
                            row["bayes_accuracy"] = _one_minus(profile[depth].get("bayes_error"))
                            row["core_realised_accuracy"] = _one_minus(profile[depth].get("realised_error"))
                        rows.append({**{c: row.get(c) for c in TRAIN_COLUMNS}, "wall_time_s": row["wall_time_s"]})
                        if on_row is not None:
                            on_row(rows[-1])
                        if on_model is not None:
                            on_model(RunContext(model=None if model_name == "sgc" else model, row=rows[-1],
                                                graph=graph, P=P, inputs=inputs, split=(tr, va, te), seed=seed_i))
                        bar.finish(label)
    bar.close()
    return rows


def write_training_csv(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Write training rows in :data:`TRAIN_COLUMNS` order, and their wall times to ``timings.csv`` beside.

    ``training.csv`` holds only what the seed determines (the same seed gives the same
    bytes); the run key and ``wall_time_s`` (:data:`TIMING_COLUMNS`) go to ``timings.csv``
    in the same folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from oversmooth.training import TrainingConfig, run_training, write_training_csv
    >>> rows = run_training(TrainingConfig(models=("sgc",), depths=(1,), n=(100,), seeds=1, max_epochs=5),
    ...                     progress=False)
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> write_training_csv(rows, d / "training.csv").name, (d / "timings.csv").is_file()
    ('training.csv', True)
    """
    from ..tables import write_csv

    path = Path(path)
    write_csv(rows, path.with_name("timings.csv"), columns=TIMING_COLUMNS)
    return write_csv(rows, path, columns=TRAIN_COLUMNS)
