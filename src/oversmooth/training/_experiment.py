"""Training experiments: graphs x models x depths x widths x seeds -> tidy rows.

One row per (graph config, seed, model, depth, width): the config, the hyper-parameters,
train / validation / test accuracy of the best-validation state, the final training
loss, epochs, per-layer gradient norms at the first and the last epoch, wall time, and,
for Gaussian class features, the core library's Bayes and realised accuracies of the
linear propagation ``h(n) = P^n x`` (:func:`oversmooth.measures.depth_profile`).
"""

from __future__ import annotations

import math
import os
import sys
import time
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
    spawn_generators,
)
from .._version import __version__
from ..graphs import Graph, sample_csbm
from ..measures import depth_profile
from ..operators import iter_propagate, normalize_adjacency
from ..experiments import random_split  # re-exported: the 60/20/20 split of labelled nodes
from ..theory import csbm_pq  # re-exported: (p, q) from the degree and lambda
from ._backend import DTYPES, deterministic, torch_dtype, torch_seed
from ._fit import fit
from ._models import MODELS, LinearClassifier, build_model, model_normalization

__all__ = ["TrainingConfig", "run_training", "quick_config", "random_split", "class_features", "csbm_pq",
           "load_graph_source", "GRAPHS", "TRAIN_COLUMNS"]

#: Named graph sources besides a file path.
GRAPHS = ("csbm", "cora", "citeseer", "pubmed")

#: Columns of every training row, in order (the documented CSV contract).
TRAIN_COLUMNS = (
    "graph", "n", "n_edges", "n_classes", "p", "q", "lam", "mean_degree", "snr", "features", "feature_dim",
    "self_loops", "normalization", "model", "depth", "width", "seed", "run_seed", "split", "n_train", "n_val",
    "n_test", "optimizer", "lr", "weight_decay", "dropout", "alpha", "max_epochs", "patience", "init",
    "standardize", "epochs", "best_epoch", "train_acc", "val_acc", "test_acc", "final_loss", "grad_norm_start",
    "grad_norm_end", "wall_time_s", "bayes_accuracy", "bayes_accuracy_best", "bayes_best_depth",
    "core_realised_accuracy", "threads", "dtype", "torch_version", "torch_geometric_version",
    "oversmooth_version",
)


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
        Replicates ``seed, seed + 1, ...``: each draws its own graph (CSBM), features
        (Gaussian) and 60/20/20 split from ``SeedSequence(seed_i)``; the torch seed of a run
        derives from ``(seed_i, config, model, depth, width)``.
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
    lr, weight_decay, max_epochs, patience : Adam and early stopping
    dropout : float
        Feature dropout of the PyG models (the linear models have none).
    alpha : float
        APPNP / GCNII initial-residual weight (0.1, the paper's).
    real_features : bool
        Use a real graph's own features when they load (else Gaussian class features).
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

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("models", "depths", "widths", "n", "lam", "snr"):
            set_(self, name, _tuple(getattr(self, name)))
            if not getattr(self, name):
                raise ValueError(f"{name} must not be empty")
        if not isinstance(self.graph, str) or not self.graph:
            raise ValueError(f"graph must be one of {', '.join(GRAPHS)} or a file path, got {self.graph!r}")
        if self.graph not in GRAPHS and not os.path.exists(self.graph):
            raise ValueError(f"graph must be one of {', '.join(GRAPHS)} or an existing file, got {self.graph!r}")
        if self.labels is not None and not os.path.exists(self.labels):
            raise ValueError(f"labels must be an existing file, got {self.labels!r}")
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
                raise ValueError(f"lam must be a number in [-1, 1], got {v!r}")
        set_(self, "lam", tuple(float(v) for v in self.lam))
        set_(self, "snr", tuple(check_positive_float(v, "snr", allow_zero=True) for v in self.snr))
        check_positive_int(self.seeds, "seeds")
        check_nonneg_int(self.seed, "seed")
        check_positive_float(self.degree, "degree")
        check_positive_int(self.feature_dim, "feature_dim")
        check_choice(self.normalization, "normalization", ("rw", "sym"))
        check_positive_float(self.lr, "lr")
        check_positive_float(self.weight_decay, "weight_decay", allow_zero=True)
        check_positive_int(self.max_epochs, "max_epochs")
        check_nonneg_int(self.patience, "patience")
        check_probability(self.dropout, "dropout")
        check_probability(self.alpha, "alpha")
        check_choice(self.dtype, "dtype", DTYPES)
        check_positive_int(self.threads, "threads")
        for n in self.n:
            for lam in self.lam:
                if self.graph == "csbm":
                    csbm_pq(n, self.degree, lam)  # validates p, q in [0, 1]

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def runs_per_seed(self) -> int:
        """Training runs per seed and graph config."""
        return sum(len(self.depths) * (1 if m == "sgc" else len(self.widths)) for m in self.models)

    def graph_configs(self) -> list[dict[str, Any]]:
        """The graph-level grid: (n, lam, snr) for the CSBM, snr for the others."""
        if self.graph == "csbm":
            return [{"n": n, "lam": lam, "snr": s} for n in self.n for lam in self.lam for s in self.snr]
        return [{"snr": s} for s in self.snr]


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
    (label -1) get the average mean. Returns ``(x, mu)``.

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
        raise ValueError(f"feature_dim must be >= the number of classes ({k}) for class features, got {dim}")
    mu = np.zeros((k, dim))
    mu[np.arange(k), np.arange(k)] = float(snr) / math.sqrt(2.0)
    signal = np.where((labels >= 0)[:, None], mu[np.clip(labels, 0, None)], mu.mean(axis=0))
    return signal + rng.standard_normal((labels.size, dim)), mu


def load_graph_source(graph: str, *, labels: str | None = None, real_features: bool = True) -> tuple[Graph, str]:
    """Load a named Planetoid graph or a file; return ``(graph, features_kind)``.

    A file is read by :func:`oversmooth.graphs.read_graph`; ``labels`` is its labels:
    a ``node label`` file for an edge list, or for any format a ``.npy`` array or a text
    file of N integers (``-1`` = unlabelled). GraphML/GML files may carry them instead.

    Planetoid graphs come from :func:`oversmooth.graphs.load_planetoid` (real features,
    from the local cache, no download) when its files are present, else from the
    structure and labels shipped with the package
    (:func:`oversmooth.graphs.planetoid_structure`): the features are then Gaussian
    class features, drawn per seed. ``features_kind`` is ``"real"`` or ``"gaussian"``.
    """
    from .. import graphs

    if graph == "csbm":
        raise ValueError("the CSBM is sampled per seed, not loaded")
    if graph in GRAPHS:
        if real_features:
            try:
                g = graphs.load_planetoid(graph, download=False, progress=False)
                if g.features is not None:
                    return g, "real"
            except (FileNotFoundError, graphs.UnverifiedFileError):  # not cached, or unverifiable: fall back
                pass  # to the shipped structure; a corrupt or unsafe cached file still raises, naming it
        return graphs.planetoid_structure(graph), "gaussian"
    if labels is None:
        g = graphs.read_graph(graph)
    elif str(graph).endswith((".npz", ".graphml", ".gml")):
        arr = np.load(labels) if str(labels).endswith(".npy") else np.loadtxt(labels, dtype=np.int64, ndmin=1)
        g = graphs.read_graph(graph, labels=np.asarray(arr, dtype=np.int64))
    else:
        g = graphs.read_graph(graph, labels=labels)
    if g.n_classes < 2:
        raise ValueError(f"graph file {graph!r} must come with labels of at least 2 classes")
    kind = "real" if (real_features and g.features is not None) else "gaussian"
    return g, kind


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


def _standardize(h: np.ndarray) -> np.ndarray:
    mean = h.mean(axis=0, keepdims=True)
    std = h.std(axis=0, keepdims=True)
    return (h - mean) / np.where(std > 0, std, 1.0)


def run_training(config: TrainingConfig, *, progress: bool = True, stream: TextIO | None = None,
                 on_row: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Run the grid of ``config``; return one tidy row per run (columns :data:`TRAIN_COLUMNS`).

    For each graph config and seed: build the graph (CSBM sample or loaded graph with
    self-loops added), the features and the split; ``P`` from
    :func:`oversmooth.operators.normalize_adjacency`; for Gaussian features the core
    depth profile (Bayes accuracy ``1 - Phi(-Delta/2)`` of ``h(n)`` under the paper's
    feature-noise variance, and the in-sample realised accuracy of the best linear rule);
    then every model x depth x width is trained by :func:`oversmooth.training.fit`.
    ``sgc`` trains logistic regression on the column-standardised ``h(n) = P^n x``
    (standardising is affine: same hypothesis class, better conditioned).

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
    base = None if config.graph == "csbm" else load_graph_source(config.graph, labels=config.labels,
                                                                    real_features=config.real_features)
    dt = torch_dtype(config.dtype)
    max_depth = max(config.depths)
    rows: list[dict[str, Any]] = []
    for ci, gc in enumerate(gcfgs):
        for si in range(config.seeds):
            seed_i = config.seed + si
            rng_graph, rng_features, rng_split, rng_probes = spawn_generators(np.random.SeedSequence(seed_i), 4)
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
            graph = Graph(g.adjacency, labels, x_np, name=g.name, source=g.source, check_symmetric=False)
            P = normalize_adjacency(graph, config.normalization)
            tr, va, te = random_split(labels, rng_split)
            split = tuple(torch.from_numpy(a.astype(np.int64)) for a in (tr, va, te))
            y = torch.from_numpy(np.clip(labels, 0, None).astype(np.int64))
            x = torch.from_numpy(x_np).to(dt)
            n_classes = int(labels.max()) + 1
            profile = None
            if config.bayes and mu is not None:
                profile = depth_profile(graph, max_depth, normalization=config.normalization, mu=mu, sigma=1.0,
                                        variance="hutchinson", probes=32, seed=rng_probes)
            hn: dict[int, np.ndarray] = {}
            if "sgc" in config.models:
                wanted = set(config.depths)
                for k, h in enumerate(iter_propagate(P, x_np, max_depth)):
                    if k in wanted:
                        hn[k] = _standardize(h)
            common = {
                "graph": config.graph if base is None else (g.name if config.graph not in GRAPHS else config.graph),
                "n": graph.n_nodes, "n_edges": graph.n_edges, "n_classes": n_classes, **meta,
                "mean_degree": float(graph.degrees.mean()), "snr": gc["snr"] if feat_kind == "gaussian" else None,
                "features": feat_kind, "feature_dim": int(x_np.shape[1]), "self_loops": True,
                "seed": seed_i, "split": "60/20/20", "n_train": int(tr.size), "n_val": int(va.size),
                "n_test": int(te.size), "optimizer": "adam", "lr": config.lr, "weight_decay": config.weight_decay,
                "max_epochs": config.max_epochs, "patience": config.patience, "threads": config.threads,
                "dtype": config.dtype, "torch_version": torch.__version__,
                "torch_geometric_version": torch_geometric.__version__, "oversmooth_version": __version__,
            }
            if profile is not None:
                bayes_acc = np.array([1.0 - r["bayes_error"] for r in profile])
                common["bayes_accuracy_best"] = float(bayes_acc.max())
                common["bayes_best_depth"] = int(np.argmax(bayes_acc))
            for mi, model_name in enumerate(config.models):
                for depth in config.depths:
                    for width in ((None,) if model_name == "sgc" else config.widths):
                        run_seed = torch_seed(seed_i, ci, mi, depth, width or 0)
                        label = f"{model_name} n={depth} w={width or '-'} seed={seed_i}"
                        bar.start(label)
                        with deterministic(run_seed, config.threads):
                            if model_name == "sgc":
                                model = LinearClassifier(x_np.shape[1], n_classes, config.dtype)
                                inputs = torch.from_numpy(hn[depth]).to(dt)
                            else:
                                model = build_model(model_name, P, x_np.shape[1], width, depth, n_classes,
                                                    dropout=config.dropout, alpha=config.alpha, dtype=config.dtype)
                                inputs = x
                            res = fit(model, inputs, y, split, lr=config.lr, weight_decay=config.weight_decay,
                                      max_epochs=config.max_epochs, patience=config.patience, callback=bar.epoch)
                        linear = model_name in ("linear", "sgc")
                        row = {
                            **common, "normalization": model_normalization(model_name, config.normalization),
                            "model": model_name, "depth": depth, "width": width, "run_seed": run_seed,
                            "dropout": 0.0 if linear else config.dropout,
                            "alpha": config.alpha if model_name in ("appnp", "gcnii") else None,
                            "init": "glorot" if model_name == "linear" else "torch default",
                            "standardize": model_name == "sgc",
                            "epochs": res.epochs, "best_epoch": res.best_epoch, "train_acc": res.train_acc,
                            "val_acc": res.val_acc, "test_acc": res.test_acc, "final_loss": res.final_loss,
                            "grad_norm_start": res.grad_norm_start, "grad_norm_end": res.grad_norm_end,
                            "wall_time_s": res.seconds,
                        }
                        if profile is not None:
                            row["bayes_accuracy"] = 1.0 - profile[depth]["bayes_error"]
                            row["core_realised_accuracy"] = 1.0 - profile[depth]["realised_error"]
                        rows.append({c: row.get(c) for c in TRAIN_COLUMNS})
                        if on_row is not None:
                            on_row(rows[-1])
                        bar.finish(label)
    bar.close()
    return rows


def write_training_csv(rows: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Write training rows with :func:`oversmooth.experiments.write_csv` in :data:`TRAIN_COLUMNS` order."""
    from ..experiments._table import write_csv

    return write_csv(rows, path, columns=TRAIN_COLUMNS)
