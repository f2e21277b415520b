"""Per-layer embeddings of a (trained) GNN: one eval-mode forward pass with forward hooks."""

from __future__ import annotations

import inspect
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import ArgumentTypeError, ValidationError

__all__ = ["layer_embeddings"]


def _as_tensor(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return torch.from_numpy(v)
    return v


def _dense_numpy(t: Any) -> np.ndarray:
    if isinstance(t, (tuple, list)):  # e.g. GATConv(..., return_attention_weights=True) -> (out, attention)
        t = t[0]
    if isinstance(t, torch.Tensor):
        if t.layout != torch.strided:
            t = t.to_dense()
        return t.detach().to("cpu", torch.float64).numpy()
    if hasattr(t, "toarray"):  # scipy sparse features
        return np.asarray(t.toarray(), dtype=np.float64)
    return np.asarray(t, dtype=np.float64)


def _n_positional(model: nn.Module) -> int:
    """Number of positional parameters of ``model.forward`` (``*args`` counts as many)."""
    try:
        params = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):
        return 2
    n = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return 10**6
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
    return n


def _inputs(model: nn.Module, data: Any) -> tuple[tuple[Any, ...], Any]:
    """(positional arguments of the forward call, the input features)."""
    if isinstance(data, (tuple, list)):
        if not data:
            raise ValidationError("data must not be an empty tuple")
        args = tuple(_as_tensor(v) for v in data)
        return args, args[0]
    if isinstance(data, (torch.Tensor, np.ndarray)):
        x = _as_tensor(data)
        return (x,), x
    if hasattr(data, "x") and hasattr(data, "edge_index"):
        if data.x is None:
            raise ValidationError("data has no node features (data.x is None)")
        n_pos = _n_positional(model)
        if n_pos <= 1:
            return (data,), data.x
        args = [data.x, data.edge_index]
        weight = getattr(data, "edge_weight", None)
        if weight is not None and n_pos >= 3:
            args.append(weight)
        return tuple(args), data.x
    raise ArgumentTypeError("data must be a PyG Data, an (x, edge_index, ...) tuple or a feature tensor, got "
                    f"{type(data).__name__}")


def _message_passing_type() -> type | None:
    try:
        from torch_geometric.nn import MessagePassing
    except ImportError:  # pragma: no cover - the train extra installs PyG
        return None
    return MessagePassing


def _appnp_type() -> type | None:
    try:
        from torch_geometric.nn import APPNP
    except ImportError:  # pragma: no cover
        return None
    return APPNP


def layer_embeddings(model: nn.Module, data: Any, *, layers: Sequence[str] | None = None) -> list[np.ndarray]:
    """The node embeddings of every message-passing layer of ``model``, input features first.

    One forward pass in eval mode (no dropout) under ``torch.no_grad()``, with forward hooks
    on the model's message-passing layers; the model's train/eval mode (of every sub-module)
    is restored afterwards and no gradient is recorded.

    Which modules are layers:

    * default: every :class:`torch_geometric.nn.MessagePassing` module (GCNConv, GATConv,
      GCN2Conv, SAGEConv, APPNP, ...), taken in the order in which they run (for a plain
      stack, module order; a module run twice gives two layers). A layer's embedding is the
      module's output, before any activation applied outside the module (a tuple output,
      e.g. GAT with attention weights, gives its first element).
    * ``layers``: the named modules (names as in ``model.named_modules()``), in run order.
    * PyG's :class:`~torch_geometric.nn.APPNP` is one module applying K propagation steps
      ``h(k+1) = (1 - alpha) P h(k) + alpha h(0)``. It gives K layers, one per step: a hook
      on each of its ``propagate`` calls reads ``P h(k)`` and the step's output is formed from
      the module's input ``h(0)`` exactly as APPNP's code does (the last step is the module's
      own output). An APPNP model of depth K thus yields K + 1 layers (the input features,
      then the K steps); the MLP before the propagation is not a message-passing layer.

    Parameters
    ----------
    model : torch.nn.Module
    data : PyG Data, tuple or tensor
        ``(x, edge_index, ...)`` is passed as ``model(x, edge_index, ...)``; a ``Data`` as
        ``model(data.x, data.edge_index[, data.edge_weight])`` when ``forward`` takes two or
        more positional arguments, else ``model(data)``; a bare tensor / array as ``model(x)``.
        The first element (or ``data.x``) is the input features (dense or sparse).
    layers : sequence of str, optional
        Names of the modules whose outputs are the layers.

    Returns
    -------
    list of numpy.ndarray
        float64, ``[x, h_1, ..., h_L]``, each ``(N, d_l)``.

    Raises
    ------
    ValueError
        No layer found (a model without MessagePassing modules: name them with ``layers``),
        an unknown name in ``layers``, or a named layer that never ran.

    Examples
    --------
    >>> import torch
    >>> from torch_geometric.nn import GCNConv
    >>> from oversmooth.training import layer_embeddings
    >>> class Net(torch.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.conv1, self.conv2 = GCNConv(3, 8), GCNConv(8, 2)
    ...     def forward(self, x, edge_index):
    ...         return self.conv2(self.conv1(x, edge_index).relu(), edge_index)
    >>> x, ei = torch.randn(4, 3), torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    >>> [h.shape for h in layer_embeddings(Net(), (x, ei))]
    [(4, 3), (4, 8), (4, 2)]
    """
    if not isinstance(model, nn.Module):
        raise ArgumentTypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    args, x = _inputs(model, data)
    named = dict(model.named_modules())
    if layers is not None:
        if isinstance(layers, str):
            layers = [layers]
        missing = [name for name in layers if name not in named]
        if missing:
            raise ValidationError(f"layers: no module named {missing[0]!r} in the model (see model.named_modules())")
        targets = [named[name] for name in layers]
    else:
        mp = _message_passing_type()
        targets = [m for m in model.modules() if mp is not None and isinstance(m, mp)]
        if not targets:
            raise ValidationError("model has no torch_geometric MessagePassing module; name its layers with layers=[...]")
    appnp = _appnp_type()
    target_ids = {id(m) for m in targets}
    outputs: list[Any] = []
    ran: set[int] = set()
    handles = []

    def forward_hook(module: nn.Module, inputs: Any, output: Any) -> None:
        ran.add(id(module))
        if appnp is not None and isinstance(module, appnp) and getattr(module, "_os_steps", None) is not None:
            steps = module._os_steps  # type: ignore[attr-defined]
            if steps:
                steps[-1] = output  # the module's own output is the last step, exactly
            outputs.extend(steps)
            module._os_steps = None  # type: ignore[attr-defined]
            return
        outputs.append(output)

    def appnp_pre(module: nn.Module, inputs: Any) -> None:
        module._os_h0 = inputs[0]  # type: ignore[attr-defined]
        module._os_steps = []  # type: ignore[attr-defined]

    def appnp_propagate(module: nn.Module, inputs: Any, output: Any) -> None:
        steps = getattr(module, "_os_steps", None)
        if steps is not None:
            a = float(module.alpha)
            steps.append(output * (1.0 - a) + a * module._os_h0)  # type: ignore[attr-defined]

    for m in targets:
        if appnp is not None and isinstance(m, appnp):
            handles.append(m.register_forward_pre_hook(appnp_pre))
            handles.append(m.register_propagate_forward_hook(appnp_propagate))
        handles.append(m.register_forward_hook(forward_hook))
    modes = {id(m): m.training for m in model.modules()}
    try:
        model.eval()
        with torch.no_grad():
            model(*args)
    finally:
        for h in handles:
            h.remove()
        for m in model.modules():
            m.training = modes[id(m)]
            for attr in ("_os_h0", "_os_steps"):
                if id(m) in target_ids and hasattr(m, attr):
                    delattr(m, attr)
    if layers is not None:
        idle = [name for name in layers if id(named[name]) not in ran]
        if idle:
            raise ValidationError(f"layers: module {idle[0]!r} did not run in the forward pass")
    if not outputs:
        raise ValidationError("none of the message-passing layers ran in the forward pass")
    return [_dense_numpy(x), *(_dense_numpy(o) for o in outputs)]
