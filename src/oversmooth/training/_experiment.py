"""Training experiments: graphs x models x depths x widths x seeds -> tidy rows.

One row per (graph config, seed, model, depth, width): the config, the features and the
split used, the hyper-parameters (and the recipe they follow), train / validation / test
accuracy of the selected state, the final training loss, epochs, per-layer gradient norms
at the first and the last epoch, and, for Gaussian class features, the core library's
Bayes and realised accuracies of the linear propagation ``h(n) = P^n x``
(:func:`oversmooth.measures.depth_profile`); wall times go beside them (``timings.csv``).
The grid is :class:`~oversmooth.training.TrainingConfig` (``_config.py``), the graph
sources ``_data.py``.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence, TextIO

import numpy as np
import torch

from .._utils import check_positive_int, derive_seed
from ..errors import ValidationError
from .._version import __version__
from ..graphs import Graph, random_split, resolve_split, sample_csbm
from ..measures import depth_profile
from ..operators import iter_propagate, normalize_adjacency, stationary_projection
from ..theory import csbm_pq  # re-exported: (p, q) from the degree and lambda
from ._backend import deterministic, torch_dtype, torch_seed
from ._config import GRAPHS, TIMING_COLUMNS, TRAIN_COLUMNS, TrainingConfig, quick_config, recipe_config
from ._data import _features_source, class_features, load_graph_source
from ._fit import fit, weight_decay_groups
from ._models import PYG_MODELS, LinearClassifier, build_model, model_normalization
from ._recipes import row_normalize

__all__ = ["TrainingConfig", "run_training", "quick_config", "recipe_config", "random_split", "class_features",
           "csbm_pq", "load_graph_source", "GRAPHS", "TRAIN_COLUMNS", "TIMING_COLUMNS", "write_training_csv",
           "RunContext"]

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
                 on_model: Callable[[RunContext], None] | None = None,
                 workers: int = 1) -> list[dict[str, Any]]:
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

    ``workers > 1`` trains the (graph config, seed) groups side by side in that many spawned
    processes (each with ``config.threads`` torch threads); every run draws its streams from
    its own seeds, so the rows are the same, in the same order (``on_row`` is called here, in
    order; ``on_model`` needs the models in this process and so ``workers=1``). Call it under
    ``if __name__ == "__main__":`` in a script, as every spawned pool needs.

    Examples
    --------
    >>> from oversmooth.training import TrainingConfig, run_training
    >>> rows = run_training(TrainingConfig(models=("linear",), depths=(2,), widths=(8,), n=200, seeds=1,
    ...                                    max_epochs=10), progress=False)
    >>> len(rows), rows[0]["depth"], rows[0]["width"]
    (1, 2, 8)
    """
    workers = check_positive_int(workers, "workers")
    if workers > 1 and on_model is not None:
        raise ValidationError("on_model needs the trained models in this process: use workers=1 with on_model")
    gcfgs = config.graph_configs()
    bar = _Bars(len(gcfgs) * config.seeds * config.runs_per_seed(), progress, stream)
    base = None if config.graph == "csbm" else load_graph_source(
        config.graph, labels=config.labels, real_features=config.real_features, features=config.features,
        root=config.root)
    fixed_split = None
    if config.split != "random":
        assert base is not None  # validated: public / file splits need a fixed graph
        fixed_split = resolve_split(config.split, base[0])
    tasks = [(ci, gc, si) for ci, gc in enumerate(gcfgs) for si in range(config.seeds)]
    rows: list[dict[str, Any]] = []
    if workers == 1 or len(tasks) == 1:
        for ci, gc, si in tasks:
            rows += _train_group(config, ci, gc, si, base, fixed_split, bar=bar, on_row=on_row, on_model=on_model)
    else:
        import concurrent.futures as cf
        import multiprocessing as mp

        per_task = config.runs_per_seed()
        with cf.ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=mp.get_context("spawn")) as pool:
            futures = [pool.submit(_train_group, config, ci, gc, si, base, fixed_split) for ci, gc, si in tasks]
            for (ci, gc, si), fut in zip(tasks, futures):  # in order: rows and on_row as the serial run
                group = fut.result()
                for row in group:
                    rows.append(row)
                    if on_row is not None:
                        on_row(row)
                bar.overall.update(f"seed {config.seed + si} of graph config {ci + 1}", advance=per_task)
    bar.close()
    return rows


def _train_group(config: TrainingConfig, ci: int, gc: dict[str, Any], si: int, base: Any, fixed_split: Any, *,
                 bar: _Bars | None = None, on_row: Callable[[dict[str, Any]], None] | None = None,
                 on_model: Callable[[RunContext], None] | None = None) -> list[dict[str, Any]]:
    """Every model x depth x width of one graph config ``gc`` (index ``ci``) and replicate ``si``."""
    import torch_geometric

    dt = torch_dtype(config.dtype)
    max_depth = max(config.depths)
    split_label = {"random": "60/20/20", "public": "public"}.get(config.split, config.split)
    split_source = {"random": "random 60/20/20 of the labelled nodes, drawn per seed",
                    "public": "Planetoid public split (PyG Planetoid(split='public'))"}.get(
                        config.split, f"split file {config.split}")
    rows: list[dict[str, Any]] = []
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
    for model_name in config.models:
        for depth in config.depths:
            for width in ((None,) if model_name == "sgc" else config.widths):
                run_seed = torch_seed(seed_i, ci, model_name, depth, width or 0)
                label = f"{model_name} n={depth} w={width or '-'} seed={seed_i}"
                if bar is not None:
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
                              max_epochs=config.max_epochs, patience=config.patience,
                              callback=None if bar is None else bar.epoch, param_groups=groups,
                              selection=config.selection, window=config.window)
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
                if bar is not None:
                    bar.finish(label)
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
