"""Training: linear GNNs with per-layer weights, the linear classifier on h(n) (SGC) and PyG GNNs.

Needs the ``train`` extra (``pip install 'oversmooth[train]'``: ``torch==2.13.0`` CPU and
``torch_geometric``). Importing this subpackage without torch or torch_geometric raises an ``ImportError``
whose message names that extra; the rest of :mod:`oversmooth` never needs torch.

Every model applies the core library's operator (``P = D^-1 A`` with self-loops by
default, :func:`oversmooth.operators.normalize_adjacency`), converted once to a torch
sparse tensor (:func:`to_torch_sparse`) or to PyG edge weights (:func:`to_edge_index`).

Examples
--------
>>> from oversmooth.training import TrainingConfig, run_training
>>> cfg = TrainingConfig(models=("sgc",), depths=(1,), n=200, seeds=1, max_epochs=20)
>>> rows = run_training(cfg, progress=False)
>>> rows[0]["model"], rows[0]["normalization"]
('sgc', 'D^-1 A')
"""

import warnings

from .._utils import optional_import

optional_import("torch", "train")  # raises ImportError naming the extra when torch is missing
with warnings.catch_warnings():  # PyG's import calls torch.jit.script, deprecated in torch 2.13: not ours to show
    warnings.filterwarnings("ignore", message=r".*torch\.jit\.script.* is deprecated", category=DeprecationWarning)
    optional_import("torch_geometric", "train")  # run_training and the PyG models need it: fail here, not mid-run

from ._backend import DTYPES, SparseOperator, deterministic, to_edge_index, to_torch_sparse, torch_dtype, torch_seed  # noqa: E402
from ._experiment import (  # noqa: E402
    GRAPHS,
    TIMING_COLUMNS,
    TRAIN_COLUMNS,
    RunContext,
    TrainingConfig,
    class_features,
    csbm_pq,
    load_graph_source,
    quick_config,
    random_split,
    recipe_config,
    run_training,
    write_training_csv,
)
from ._embeddings import layer_embeddings  # noqa: E402
from ._fit import SELECTIONS, FitResult, fit, weight_decay_groups  # noqa: E402
from ._models import (  # noqa: E402
    CORRECTED_MODELS,
    MODELS,
    NORMALIZATION_LABELS,
    PYG_MODELS,
    TRAIN_OPERATORS,
    LinearClassifier,
    LinearGNN,
    PygGNN,
    build_model,
    input_dropout,
    layer_grad_norms,
    model_normalization,
)
from ._profile import PROFILE_COLUMNS, TRAIN_PROFILE_METRICS, TrainingProfiler  # noqa: E402
from ._recipes import FEATURE_NORMS, KIPF, RECIPES, Recipe, row_normalize  # noqa: E402

__all__ = [
    "to_torch_sparse",
    "SparseOperator",
    "to_edge_index",
    "torch_seed",
    "torch_dtype",
    "deterministic",
    "DTYPES",
    "LinearGNN",
    "LinearClassifier",
    "PygGNN",
    "build_model",
    "layer_grad_norms",
    "model_normalization",
    "MODELS",
    "PYG_MODELS",
    "NORMALIZATION_LABELS",
    "fit",
    "FitResult",
    "SELECTIONS",
    "weight_decay_groups",
    "input_dropout",
    "layer_embeddings",
    "Recipe",
    "RECIPES",
    "KIPF",
    "row_normalize",
    "FEATURE_NORMS",
    "TrainingConfig",
    "run_training",
    "quick_config",
    "recipe_config",
    "RunContext",
    "TrainingProfiler",
    "TRAIN_PROFILE_METRICS",
    "PROFILE_COLUMNS",
    "random_split",
    "class_features",
    "csbm_pq",
    "load_graph_source",
    "GRAPHS",
    "TRAIN_COLUMNS",
    "TIMING_COLUMNS",
    "write_training_csv",
    "TRAIN_OPERATORS",
    "CORRECTED_MODELS",
]
