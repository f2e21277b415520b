"""Full-batch training with Adam: early stopping on validation accuracy, or Kipf & Welling's rule.

Two model-selection rules (``selection``):

* ``"best_val"`` (default): after every epoch the validation accuracy is measured (no
  dropout); the parameters of the first epoch with the best one are restored at the end
  (this equals PyG's ``examples/gcn.py``, which reports the test accuracy of the epoch with the
  best validation accuracy); training stops after ``patience`` epochs without a better one.
* ``"kipf"``: Kipf & Welling's ``train.py``: at most ``max_epochs`` epochs; after each the
  validation loss (cross-entropy plus the weight-decay term ``sum wd/2 ||W||^2`` of the
  penalised parameters, as their ``model.loss``) is recorded, and training stops at the first
  epoch ``e`` (1-based) with ``e > window + 1`` whose validation loss exceeds the mean of the
  ``window`` losses before it. The final parameters are scored (no state is restored).
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch
from torch import nn

from .._utils import check_choice, check_nonneg_int, check_positive_float, check_positive_int
from ..errors import ValidationError
from ._models import layer_grad_norms

__all__ = ["fit", "FitResult", "SELECTIONS", "weight_decay_groups"]

#: Model-selection rules of :func:`fit`.
SELECTIONS = ("best_val", "kipf")

#: callback(epoch, max_epochs, train_loss, val_accuracy)
EpochCallback = Callable[[int, int, float, float], None]


@dataclass
class FitResult:
    """Outcome of :func:`fit`: accuracies of the best-validation state and the training trace.

    Examples
    --------
    >>> from oversmooth.training import FitResult
    >>> r = FitResult(train_acc=1.0, val_acc=0.9, test_acc=0.8, final_loss=0.1, best_epoch=3, epochs=5)
    >>> r.test_acc, r.grad_norm_start
    (0.8, [])
    """

    train_acc: float
    val_acc: float
    test_acc: float
    final_loss: float
    best_epoch: int
    epochs: int
    grad_norm_start: list[float] = field(default_factory=list)
    grad_norm_end: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _accuracy(logits: torch.Tensor, y: torch.Tensor, idx: torch.Tensor) -> float:
    if idx.numel() == 0:
        return float("nan")
    return float((logits[idx].argmax(dim=1) == y[idx]).double().mean())


def weight_decay_groups(model: nn.Module, weight_decay: float, scope: str = "all") -> list[dict[str, Any]]:
    """Adam parameter groups: weight decay on every parameter (``"all"``) or on the first layer only (``"first"``).

    ``"first"`` is Kipf & Welling's choice (and PyG's ``examples/gcn.py``): the parameters of
    ``model.layers()[0]`` (the input-side layer) are penalised, all others get 0.

    Examples
    --------
    >>> from oversmooth.training import LinearClassifier, weight_decay_groups
    >>> [g["weight_decay"] for g in weight_decay_groups(LinearClassifier(3, 2), 5e-4, "first")]
    [0.0005, 0.0]
    """
    weight_decay = check_positive_float(weight_decay, "weight_decay", allow_zero=True)
    scope = check_choice(scope, "weight_decay_scope", ("all", "first"))
    params = [p for p in model.parameters() if p.requires_grad]
    if scope == "all":
        return [{"params": params, "weight_decay": weight_decay}]
    first_ids = {id(p) for p in model.layers()[0].parameters()}  # type: ignore[operator]
    return [{"params": [p for p in params if id(p) in first_ids], "weight_decay": weight_decay},
            {"params": [p for p in params if id(p) not in first_ids], "weight_decay": 0.0}]


def _decay_penalty(groups: Sequence[dict[str, Any]]) -> float:
    total = 0.0
    for g in groups:
        wd = float(g.get("weight_decay", 0.0))
        if wd:
            total += wd / 2.0 * sum(float(p.detach().double().pow(2).sum()) for p in g["params"])
    return total


def fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    split: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    *,
    lr: float = 0.01,
    weight_decay: float = 5e-4,
    max_epochs: int = 300,
    patience: int = 50,
    callback: EpochCallback | None = None,
    param_groups: Sequence[dict[str, Any]] | None = None,
    selection: str = "best_val",
    window: int = 10,
) -> FitResult:
    """Train ``model`` full-batch with Adam on cross-entropy; select the model as ``selection`` says.

    Each epoch: one gradient step on the training nodes, then an evaluation (no
    dropout) of the validation accuracy (and loss). With ``selection="best_val"``
    training stops after ``patience`` epochs without a better validation accuracy
    (``patience=0``: never stops early) and the parameters of the best epoch are restored;
    with ``selection="kipf"`` Kipf & Welling's validation-loss rule stops it and the final
    parameters are kept (module docstring). The selected state is scored on train,
    validation and test nodes.

    Parameters
    ----------
    model : torch.nn.Module
        With a ``layers()`` method (per-layer gradient norms).
    x : tensor (N, d)
    y : tensor (N,) of class ids
    split : (train_idx, val_idx, test_idx)
    lr, weight_decay : float
        Adam's step size and L2 penalty.
    max_epochs, patience : int
    callback : callable, optional
        ``callback(epoch, max_epochs, loss, val_acc)`` after every epoch.
    param_groups : list of dict, optional
        Adam parameter groups (``params``, ``weight_decay``), e.g. from
        :func:`weight_decay_groups`; default one group, ``weight_decay`` on every parameter.
    selection : {"best_val", "kipf"}
    window : int
        Kipf's early-stopping window (10 in their code); ``selection="kipf"`` only.

    Returns
    -------
    FitResult
        ``final_loss`` is the training loss of the last epoch run; ``grad_norm_start``
        and ``grad_norm_end`` are the per-layer gradient norms (input side first) at the
        first and the last epoch.

    Examples
    --------
    >>> import torch
    >>> from oversmooth.training import LinearClassifier, deterministic, fit
    >>> x = torch.tensor([[-1.0], [-2.0], [1.0], [2.0]]); y = torch.tensor([0, 0, 1, 1])
    >>> idx = torch.arange(4)
    >>> with deterministic(seed=0):
    ...     res = fit(LinearClassifier(1, 2), x, y, (idx, idx, idx), lr=0.1, max_epochs=100)
    >>> res.test_acc
    1.0
    """
    lr = check_positive_float(lr, "lr")
    weight_decay = check_positive_float(weight_decay, "weight_decay", allow_zero=True)
    max_epochs = check_positive_int(max_epochs, "max_epochs")
    patience = check_nonneg_int(patience, "patience")
    selection = check_choice(selection, "selection", SELECTIONS)
    window = check_positive_int(window, "window")
    train_idx, val_idx, test_idx = split
    if train_idx.numel() == 0:
        raise ValidationError("split has no training node")
    if selection == "kipf" and val_idx.numel() == 0:
        raise ValidationError("selection='kipf' needs validation nodes (split[1] is empty)")
    t0 = time.perf_counter()
    groups = ([{"params": list(model.parameters()), "weight_decay": weight_decay}] if param_groups is None
              else [dict(g) for g in param_groups])
    opt = torch.optim.Adam(groups, lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    kipf = selection == "kipf"
    best_val, best_epoch = -1.0, 0
    best_state = None if kipf else copy.deepcopy(model.state_dict())
    val_losses: list[float] = []
    g_start: list[float] = []
    g_end: list[float] = []
    loss_value = float("nan")
    epoch = 0
    for epoch in range(1, max_epochs + 1):
        model.train()
        opt.zero_grad()
        loss = loss_fn(model(x)[train_idx], y[train_idx])
        loss.backward()
        g_end = layer_grad_norms(model)
        if epoch == 1:
            g_start = list(g_end)
        opt.step()
        loss_value = float(loss.detach())
        model.eval()
        with torch.no_grad():
            out = model(x)
            val = _accuracy(out, y, val_idx if val_idx.numel() else train_idx)
            if kipf:
                val_losses.append(float(loss_fn(out[val_idx], y[val_idx])) + _decay_penalty(groups))
        if callback is not None:
            callback(epoch, max_epochs, loss_value, val)
        if kipf:
            best_epoch = epoch  # the final state is the selected one
            if not torch.isfinite(loss.detach()):
                break
            if epoch > window + 1 and val_losses[-1] > sum(val_losses[-window - 1:-1]) / window:
                break
            continue
        if val > best_val:
            best_val, best_epoch = val, epoch
            best_state = copy.deepcopy(model.state_dict())
        if patience and epoch - best_epoch >= patience:
            break
        if not torch.isfinite(loss.detach()):
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        out = model(x)
    return FitResult(
        train_acc=_accuracy(out, y, train_idx), val_acc=_accuracy(out, y, val_idx),
        test_acc=_accuracy(out, y, test_idx), final_loss=loss_value, best_epoch=best_epoch, epochs=epoch,
        grad_norm_start=g_start, grad_norm_end=g_end, seconds=time.perf_counter() - t0)
