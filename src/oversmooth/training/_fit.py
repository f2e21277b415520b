"""Full-batch training with Adam and early stopping on validation accuracy."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from .._utils import check_nonneg_int, check_positive_float, check_positive_int
from ._models import layer_grad_norms

__all__ = ["fit", "FitResult"]

#: callback(epoch, max_epochs, train_loss, val_accuracy)
EpochCallback = Callable[[int, int, float, float], None]


@dataclass
class FitResult:
    """Outcome of :func:`fit`: accuracies of the best-validation state and the training trace."""

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
) -> FitResult:
    """Train ``model`` full-batch with Adam on cross-entropy; keep the best-validation state.

    Each epoch: one gradient step on the training nodes, then an evaluation (no
    dropout) of the validation accuracy. Training stops after ``patience`` epochs
    without a better validation accuracy (``patience=0``: never stops early); the
    parameters of the best epoch are restored and scored on train, validation and
    test nodes.

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
    train_idx, val_idx, test_idx = split
    if train_idx.numel() == 0:
        raise ValueError("split has no training node")
    t0 = time.perf_counter()
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    best_val, best_epoch, best_state = -1.0, 0, copy.deepcopy(model.state_dict())
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
            val = _accuracy(model(x), y, val_idx if val_idx.numel() else train_idx)
        if val > best_val:
            best_val, best_epoch = val, epoch
            best_state = copy.deepcopy(model.state_dict())
        if callback is not None:
            callback(epoch, max_epochs, loss_value, val)
        if patience and epoch - best_epoch >= patience:
            break
        if not torch.isfinite(loss.detach()):
            break
    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        out = model(x)
    return FitResult(
        train_acc=_accuracy(out, y, train_idx), val_acc=_accuracy(out, y, val_idx),
        test_acc=_accuracy(out, y, test_idx), final_loss=loss_value, best_epoch=best_epoch, epochs=epoch,
        grad_norm_start=g_start, grad_norm_end=g_end, seconds=time.perf_counter() - t0)
