"""Models: the per-layer-weight linear GNN, the linear classifier on h(n) (SGC) and PyG GNNs.

Every model takes the node features and applies a fixed propagation operator given as
a SciPy matrix built by :func:`oversmooth.operators.normalize_adjacency` (``"rw"`` =
``D^-1 A``, the paper's; ``"sym"`` = ``D^-1/2 A D^-1/2``), so the operator is exactly the
core library's. ``depth`` is the number of propagations through the graph for every
model. GAT learns its own weights over the same edges (softmax attention, self-loops
included), so its normalisation is ``"attention"``.

``operator="corrected"`` (models ``linear``, ``sgc`` and ``gcn``) applies the corrected
convolution of Wang, Baranwal & Fountoulakis (2024) instead of ``P``: ``P - u w^T``, the
principal (stationary) component removed at every layer, ``(u, w)`` from
:func:`oversmooth.operators.stationary_projection` (``u = 1``, ``w = pi`` for ``D^-1 A``).
It is applied as ``P h - u (w^T h)``: one sparse product and one rank-one update, never a
dense N x N matrix.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from torch import nn

from .._utils import check_choice, check_positive_int, check_probability, optional_import
from ..errors import ValidationError
from ._backend import SparseOperator, to_edge_index, torch_dtype

__all__ = ["LinearGNN", "LinearClassifier", "PygGNN", "build_model", "MODELS", "PYG_MODELS",
           "NORMALIZATION_LABELS", "model_normalization", "layer_grad_norms", "input_dropout",
           "TRAIN_OPERATORS", "CORRECTED_MODELS"]

MODELS = ("linear", "sgc", "gcn", "gat", "appnp", "gcnii")
PYG_MODELS = ("gcn", "gat", "appnp", "gcnii")
NORMALIZATION_LABELS = {"rw": "D^-1 A", "sym": "D^-1/2 A D^-1/2"}
#: Operators a model can be trained on: ``P`` itself, or the corrected ``P - u w^T``.
TRAIN_OPERATORS = ("gcn", "corrected")
#: The models that take ``operator="corrected"`` (the others mix or attend in ways the correction does not define).
CORRECTED_MODELS = ("linear", "sgc", "gcn")


class _Principal(nn.Module):
    """The rank-one principal component ``u w^T`` of an operator, applied as ``u (w^T h)``."""

    def __init__(self, principal: tuple[Any, Any], n_nodes: int, dtype: torch.dtype):
        super().__init__()
        u, w = (np.asarray(v, dtype=np.float64).ravel() for v in principal)
        if u.shape != (n_nodes,) or w.shape != (n_nodes,):
            raise ValidationError(f"principal must be two length-{n_nodes} vectors (u, w), got shapes {u.shape}, {w.shape}")
        self.register_buffer("u", torch.from_numpy(u).to(dtype)[:, None], persistent=False)
        self.register_buffer("w", torch.from_numpy(w).to(dtype)[None, :], persistent=False)

    def project(self, h: torch.Tensor) -> torch.Tensor:
        """``w^T h`` as a ``1 x d`` row (``h`` dense or sparse)."""
        return torch.mm(self.w, h)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``u (w^T h)``, ``N x d``."""
        return self.u * self.project(h)


def model_normalization(model: str, normalization: str) -> str:
    """The operator a model really applies, as written in the ``normalization`` column.

    Examples
    --------
    >>> from oversmooth.training import model_normalization
    >>> model_normalization("gcn", "rw"), model_normalization("gat", "rw")
    ('D^-1 A', 'attention (softmax over neighbours and self)')
    """
    check_choice(model, "model", MODELS)
    if model == "gat":
        return "attention (softmax over neighbours and self)"
    return NORMALIZATION_LABELS[check_choice(normalization, "normalization", tuple(NORMALIZATION_LABELS))]


def _grad_norm(params: Any) -> float:
    sq = 0.0
    for p in params:
        if p.grad is not None:
            sq += float(p.grad.detach().double().pow(2).sum())
    return sq**0.5


def input_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Dropout on dense or sparse (CSR / COO) input features; a sparse input drops its stored entries.

    Dropping a zero changes nothing, so on a sparse tensor only the stored values are
    dropped (and the kept ones scaled by ``1 / (1 - p)``), as Kipf & Welling's sparse dropout.

    Examples
    --------
    >>> import torch
    >>> from oversmooth.training import input_dropout
    >>> x = torch.eye(3).to_sparse_csr()
    >>> bool((input_dropout(x, 0.5, training=False).to_dense() == torch.eye(3)).all())
    True
    """
    if not training or p == 0.0:
        return x
    if x.layout == torch.sparse_csr:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse (CSR tensor support is in beta|invariant checks)")
            return torch.sparse_csr_tensor(x.crow_indices(), x.col_indices(),
                                           nn.functional.dropout(x.values(), p, True), x.shape,
                                           check_invariants=False)
    if x.layout == torch.sparse_coo:
        x = x.coalesce()
        return torch.sparse_coo_tensor(x.indices(), nn.functional.dropout(x.values(), p, True), x.shape)
    return nn.functional.dropout(x, p, True)


def layer_grad_norms(model: nn.Module) -> list[float]:
    """Euclidean norm of the gradient of each layer's parameters, input side first.

    Examples
    --------
    >>> import torch
    >>> from oversmooth.training import LinearClassifier, layer_grad_norms
    >>> m = LinearClassifier(3, 2)
    >>> m(torch.ones(4, 3)).sum().backward()
    >>> len(layer_grad_norms(m)), layer_grad_norms(m)[0] > 0
    (1, True)
    """
    return [_grad_norm(layer.parameters()) for layer in model.layers()]  # type: ignore[operator]


class LinearGNN(nn.Module):
    """Linear GNN with per-layer weights: ``h(k+1) = P h(k) W_k`` for ``k < n``, then a linear read-out.

    ``W_0`` is ``d x w`` and ``W_k`` (k >= 1) ``w x w``, Glorot-initialised, no bias and
    no nonlinearity inside the propagation; the read-out is ``w -> K`` with a bias. The
    model is linear in ``P^n x``: the same hypothesis class as the linear classifier on
    ``h(n)``, so any gap between the two is an optimisation effect.

    Parameters
    ----------
    P : scipy sparse (N, N)
        The propagation operator (``normalize_adjacency(graph, "rw")``).
    in_dim, width, depth, n_classes : int
    dtype : {"float32", "float64"}
    principal : (u, w), optional
        Train on the corrected operator ``P - u w^T`` (module docstring).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.operators import normalize_adjacency
    >>> from oversmooth.training import LinearGNN
    >>> g = sample_csbm(100, p=0.1, q=0.02, seed=0)
    >>> m = LinearGNN(normalize_adjacency(g), in_dim=1, width=16, depth=3, n_classes=2)
    >>> m(torch.from_numpy(g.features).float()).shape
    torch.Size([100, 2])
    """

    def __init__(self, P: Any, in_dim: int, width: int, depth: int, n_classes: int, dtype: str = "float32",
                 principal: tuple[Any, Any] | None = None):
        super().__init__()
        in_dim = check_positive_int(in_dim, "in_dim")
        width = check_positive_int(width, "width")
        depth = check_positive_int(depth, "depth")
        n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
        self.op = SparseOperator(P, dtype)
        dt = torch_dtype(dtype)
        self.principal = None if principal is None else _Principal(principal, self.op.shape[0], dt)
        self.weights = nn.ModuleList(
            nn.Linear(in_dim if k == 0 else width, width, bias=False, dtype=dt) for k in range(depth))
        self.readout = nn.Linear(width, n_classes, dtype=dt)
        for lin in [*self.weights, self.readout]:
            nn.init.xavier_uniform_(lin.weight)
        nn.init.zeros_(self.readout.bias)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """h(n), before the read-out."""
        h = x
        for lin in self.weights:
            h = self._propagate(lin(h))  # P (h W) = (P h) W
        return h

    def _propagate(self, h: torch.Tensor) -> torch.Tensor:
        out = self.op @ h
        return out if self.principal is None else out - self.principal(h)

    def layer_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``[x, h(1), ..., h(n)]`` with ``h(k) = P h(k-1) W_k`` (the per-layer embeddings; no grad)."""
        out = [x]
        with torch.no_grad():
            h = x
            for lin in self.weights:
                h = self._propagate(lin(h))
                out.append(h)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.embed(x))

    def layers(self) -> list[nn.Module]:
        return [*self.weights, self.readout]


class LinearClassifier(nn.Module):
    """The linear classifier (logistic regression) on fixed propagated features h(n): SGC.

    Examples
    --------
    >>> import torch
    >>> from oversmooth.training import LinearClassifier
    >>> LinearClassifier(3, 2)(torch.zeros(5, 3)).shape
    torch.Size([5, 2])
    """

    def __init__(self, in_dim: int, n_classes: int, dtype: str = "float32"):
        super().__init__()
        self.linear = nn.Linear(check_positive_int(in_dim, "in_dim"),
                                check_positive_int(n_classes, "n_classes", minimum=2), dtype=torch_dtype(dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)

    def layers(self) -> list[nn.Module]:
        return [self.linear]


_CACHED: dict[type, type] = {}


def _cached(cls: type) -> type:
    """A PyG layer class whose sparse aggregation goes through the model's :class:`SparseOperator`.

    PyG's ``message_and_aggregate(adj_t, x)`` is ``torch.sparse.mm(adj_t, x)`` for a CSR
    ``adj_t``; the subclass computes the same product (bitwise) with the transpose kept for the
    backward pass. Parameters, names and state dicts are PyG's.
    """
    if cls not in _CACHED:
        def message_and_aggregate(self: Any, adj_t: Any, x: torch.Tensor) -> torch.Tensor:
            op = getattr(self, "_op", None)
            if op is not None and adj_t is op.P:
                return op @ x
            return cls.message_and_aggregate(self, adj_t, x)

        # PyG inspects the signature in the layer's own module: keep the parent's annotations
        message_and_aggregate.__annotations__ = dict(cls.message_and_aggregate.__annotations__)
        _CACHED[cls] = type(cls.__name__, (cls,), {"message_and_aggregate": message_and_aggregate,
                                                     "__module__": cls.__module__, "__doc__": cls.__doc__})
    return _CACHED[cls]


class PygGNN(nn.Module):
    """GCN, GAT, APPNP or GCNII from PyTorch Geometric on a fixed operator.

    * ``gcn``: ``depth`` GCNConv layers (ReLU and dropout between), fed the operator as a
      sparse CSR tensor with ``normalize=False`` and no added self-loops, so each
      layer computes ``P h W`` with the core library's ``P`` (``P h W - u (w^T h) W`` with
      ``principal``) (PyG's default would be
      ``D^-1/2 A D^-1/2``). ``bias=False`` drops the layers' biases (Kipf & Welling's GCN
      has none).
    * ``gat``: ``depth`` single-head GATConv layers over the same edges (self-loops of A
      included, none added).
    * ``appnp``: MLP (dropout, linear, ReLU, dropout, linear), then ``depth`` PPR steps
      ``h <- (1 - alpha) P h + alpha h(0)`` with PyG's APPNP on the given weights. Its edge
      dropout is set to 0: PyG applies it cumulatively across the K steps (pyg#10783) and it
      would change the operator being studied; dropout acts on the features only.
    * ``gcnii``: linear, ``depth`` GCN2Conv layers (initial residual ``alpha``, identity
      mapping ``theta``), linear.

    The input ``x`` may be a dense or a sparse (CSR/COO) tensor (bag-of-words features:
    the first layer then costs O(nnz w)); input dropout drops stored entries
    (:func:`input_dropout`). ``forward`` also takes a PyG ``Data`` (its ``x`` is used; the
    operator is always the model's own ``P``).

    Examples
    --------
    >>> import torch
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.operators import normalize_adjacency
    >>> from oversmooth.training import PygGNN
    >>> g = sample_csbm(60, p=0.2, q=0.05, seed=0)
    >>> m = PygGNN("appnp", normalize_adjacency(g), in_dim=1, width=8, depth=4, n_classes=2)
    >>> m(torch.from_numpy(g.features).float()).shape
    torch.Size([60, 2])
    """

    def __init__(self, kind: str, P: Any, in_dim: int, width: int, depth: int, n_classes: int, *,
                 dropout: float = 0.5, alpha: float = 0.1, theta: float = 0.5, dtype: str = "float32",
                 bias: bool = True, principal: tuple[Any, Any] | None = None):
        super().__init__()
        pyg = optional_import("torch_geometric.nn", "train")
        self.kind = check_choice(kind, "model", PYG_MODELS)
        if principal is not None and self.kind not in CORRECTED_MODELS:
            raise ValidationError(f"operator 'corrected' is implemented for models {', '.join(CORRECTED_MODELS)}, "
                             f"got model {self.kind!r}")
        in_dim = check_positive_int(in_dim, "in_dim")
        width = check_positive_int(width, "width")
        self.depth = depth = check_positive_int(depth, "depth")
        n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
        self.dropout = check_probability(dropout, "dropout")
        self.alpha = check_probability(alpha, "alpha")
        dt = torch_dtype(dtype)
        # GAT attends over edges; the others multiply by P: a CSR tensor (PyG's adj_t: row = target)
        # gives the same sums as edge_index message passing, 2-3x faster on CPU
        self.edge_index, self.edge_weight = to_edge_index(P, dtype) if self.kind == "gat" else (None, None)
        self.op = SparseOperator(P, dtype) if self.kind != "gat" else None
        self.adj = None if self.op is None else self.op.P
        self.principal = None if principal is None else _Principal(principal, P.shape[0], dt)
        self.pre: nn.Module | None = None
        self.post: nn.Module | None = None
        if kind in ("gcn", "gat"):
            dims = [in_dim] + [width] * (depth - 1) + [n_classes]
            if kind == "gcn":
                convs = [_cached(pyg.GCNConv)(a, b, normalize=False, add_self_loops=False, bias=bool(bias))
                         for a, b in zip(dims, dims[1:])]
            else:
                convs = [pyg.GATConv(a, b, heads=1, add_self_loops=False, bias=bool(bias))
                         for a, b in zip(dims, dims[1:])]
            self.convs = nn.ModuleList(convs)
        elif kind == "appnp":
            self.pre = nn.Linear(in_dim, width)
            self.post = nn.Linear(width, n_classes)
            self.prop = _cached(pyg.APPNP)(K=depth, alpha=self.alpha, dropout=0.0, add_self_loops=False, normalize=False)
            self.convs = nn.ModuleList()
        else:
            self.pre = nn.Linear(in_dim, width)
            self.post = nn.Linear(width, n_classes)
            self.convs = nn.ModuleList(
                _cached(pyg.GCN2Conv)(width, alpha=self.alpha, theta=theta, layer=k + 1, shared_weights=True,
                             add_self_loops=False, normalize=False) for k in range(depth))
        self.to(dt)
        for m in [*self.convs, *([self.prop] if kind == "appnp" else [])]:
            m._op = self.op

    def forward(self, x: Any) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) and hasattr(x, "x") and hasattr(x, "edge_index"):
            x = x.x  # a PyG Data: its features, on this model's operator
        drop = input_dropout
        relu = nn.functional.relu
        adj = self.adj
        if self.kind in ("gcn", "gat"):
            h = x
            for k, conv in enumerate(self.convs):
                h = drop(h, self.dropout, self.training)
                if self.kind == "gat":
                    h = conv(h, self.edge_index)
                elif self.principal is None:
                    h = conv(h, adj)
                else:  # (P - u w^T) h Theta + b = conv(h) - u ((w^T h) Theta)
                    h = conv(h, adj) - self.principal.u * conv.lin(self.principal.project(h))
                if k < len(self.convs) - 1:
                    h = relu(h)
            return h
        assert self.pre is not None and self.post is not None  # set for appnp and gcnii
        if self.kind == "appnp":
            h = relu(self.pre(drop(x, self.dropout, self.training)))
            h = self.post(drop(h, self.dropout, self.training))
            return self.prop(h, adj)
        h0 = relu(self.pre(drop(x, self.dropout, self.training)))
        h = h0
        for conv in self.convs:
            h = relu(conv(drop(h, self.dropout, self.training), h0, adj))
        return self.post(drop(h, self.dropout, self.training))

    def layers(self) -> list[nn.Module]:
        return [m for m in [self.pre, *self.convs, self.post] if m is not None]


def build_model(kind: str, P: Any, in_dim: int, width: int, depth: int, n_classes: int, *,
                dropout: float = 0.5, alpha: float = 0.1, dtype: str = "float32", theta: float = 0.5,
                bias: bool = True, principal: tuple[Any, Any] | None = None) -> nn.Module:
    """Build ``linear`` (:class:`LinearGNN`) or a PyG model (:class:`PygGNN`); ``sgc`` is
    :class:`LinearClassifier` on precomputed ``h(n)`` and is built by the trainer.

    ``principal=(u, w)`` trains on the corrected operator ``P - u w^T`` (models in
    :data:`CORRECTED_MODELS`).

    Examples
    --------
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.operators import normalize_adjacency
    >>> from oversmooth.training import build_model
    >>> g = sample_csbm(50, p=0.2, q=0.05, seed=0)
    >>> type(build_model("linear", normalize_adjacency(g), 1, 8, 2, 2)).__name__
    'LinearGNN'
    """
    kind = check_choice(kind, "model", tuple(m for m in MODELS if m != "sgc"))
    if kind == "linear":
        return LinearGNN(P, in_dim, width, depth, n_classes, dtype, principal=principal)
    return PygGNN(kind, P, in_dim, width, depth, n_classes, dropout=dropout, alpha=alpha, dtype=dtype, theta=theta,
                  bias=bias, principal=principal)
