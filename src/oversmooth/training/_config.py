"""The training grid: :class:`TrainingConfig`, its named recipes and the row schemas.

Validation happens here, once, at the public boundary (every field named in its error), and
the largest run's memory is estimated before anything is allocated.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import Any

from .._utils import (
    check_choice,
    check_nonneg_int,
    check_positive_float,
    check_positive_int,
    check_probability,
)
from ..errors import ValidationError
from ..theory import csbm_pq
from ._backend import DTYPES
from ._fit import SELECTIONS
from ._models import CORRECTED_MODELS, MODELS, TRAIN_OPERATORS
from ._recipes import FEATURE_NORMS, RECIPES

__all__ = ["TrainingConfig", "quick_config", "recipe_config", "GRAPHS", "TRAIN_COLUMNS", "TIMING_COLUMNS",
           "MAX_SNR"]

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
