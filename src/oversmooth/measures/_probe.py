"""Held-out linear probe: multinomial logistic regression on one layer's embeddings.

:func:`linear_probe` is the fitting routine (softmax regression with an L2 penalty, L-BFGS,
standardised features; no scikit-learn needed); :func:`probe_accuracy` is the measure: fit on
the training nodes, report the accuracy on held-out test nodes. It is never in-sample: with
high-dimensional features (1433 raw dimensions on Cora) an in-sample fit separates the classes
almost perfectly and says nothing about the layer.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import ValidationError
from .._utils import SeedLike, check_positive_int, check_random_state, spawn_generators
from ..graphs import as_node_index, random_split
from ._inputs import as_embedding, as_labels

__all__ = ["linear_probe", "probe_accuracy"]


def _softmax_loss(w_flat: np.ndarray, x: np.ndarray, y: np.ndarray, k: int, reg: float) -> tuple[float, np.ndarray]:
    d = x.shape[1]
    w = w_flat[: d * k].reshape(d, k)
    b = w_flat[d * k:]
    # BLAS matmuls: einsum does not call BLAS and is ~20x slower on raw high-dimensional features
    z = x @ w + b
    z -= z.max(axis=1, keepdims=True)
    ez = np.exp(z)
    p = ez / ez.sum(axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.mean(np.log(np.clip(p[np.arange(n), y], 1e-300, None))) + 0.5 * reg * float(np.sum(w * w))
    p[np.arange(n), y] -= 1.0
    p /= n
    gw = x.T @ p + reg * w
    gb = p.sum(axis=0)
    return loss, np.concatenate([gw.ravel(), gb])


def _fit_softmax(xt: np.ndarray, y: np.ndarray, k: int, reg: float, max_iter: int,
                 init: np.ndarray | None) -> np.ndarray:
    from scipy.optimize import minimize

    d = xt.shape[1]
    x0 = np.zeros(d * k + k) if init is None else init
    res = minimize(_softmax_loss, x0, args=(xt, y, k, reg), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter})
    return res.x


def linear_probe(x_train: np.ndarray, y_train: np.ndarray, x_eval: Sequence[np.ndarray], *, reg: float = 1e-3,
                 max_iter: int = 200, init: np.ndarray | None = None,
                 return_params: bool = False) -> Any:
    """Multinomial logistic regression (L2 on the weights, L-BFGS) -> predicted classes per eval set.

    Features are standardised with the training mean and std. No scikit-learn needed.

    Parameters
    ----------
    x_train, y_train : arrays (n, d) and (n,)
        Labels 0..K-1.
    x_eval : sequence of arrays (m, d)
    reg : float
        L2 penalty ``reg/2 ||W||^2`` on the (standardised) weights; biases free.
    max_iter : int
        L-BFGS iterations.
    init : array, optional
        Starting parameters (a previous fit's, e.g. the same split one depth earlier).
    return_params : bool
        Also return the fitted parameters (flattened W then b).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import linear_probe
    >>> x = np.array([[0.0], [0.2], [1.0], [1.2]])
    >>> linear_probe(x, np.array([0, 0, 1, 1]), [np.array([[0.1], [1.1]])])[0].tolist()
    [0, 1]
    """
    k = int(y_train.max()) + 1
    mu = x_train.mean(axis=0)
    sd = x_train.std(axis=0)
    sd[sd == 0] = 1.0
    xt = (x_train - mu) / sd
    d = xt.shape[1]
    theta = _fit_softmax(xt, y_train, k, reg, max_iter, init)
    w = theta[: d * k].reshape(d, k)
    b = theta[d * k:]
    preds = [np.argmax(((xe - mu) / sd) @ w + b, axis=1) for xe in x_eval]
    return (preds, theta) if return_params else preds


def _resolve_probe_split(labels: np.ndarray, train_mask: Any, test_mask: Any,
                        seed: SeedLike) -> tuple[np.ndarray, np.ndarray, str]:
    """(train, test) node ids among the labelled nodes, and a short description of the split."""
    n = labels.size
    if train_mask is None and test_mask is not None:
        raise ValidationError("test_mask was given without train_mask; pass both, only train_mask (the other "
                         "labelled nodes are tested), or neither (a seeded 60/20/20 split)")
    if train_mask is None:
        tr, _, te = random_split(labels, check_random_state(seed))
        return tr, te, "random 60/20/20 (train/val/test; probe fitted on train, scored on test)"
    tr = as_node_index(train_mask, n, "train_mask")
    tr = tr[labels[tr] >= 0]
    if test_mask is None:
        te = np.setdiff1d(np.flatnonzero(labels >= 0), tr)
        how = "given train_mask; tested on the other labelled nodes"
    else:
        te = as_node_index(test_mask, n, "test_mask")
        te = te[labels[te] >= 0]
        how = "given train_mask and test_mask"
    if tr.size == 0:
        raise ValidationError("train_mask selects no labelled node; the probe needs training nodes")
    if te.size == 0:
        if test_mask is None:
            raise ValidationError("train_mask covers every labelled node; none is left to test the probe on "
                             "(pass a smaller train_mask or a test_mask)")
        raise ValidationError("test_mask selects no labelled node; the probe needs held-out test nodes")
    both = np.intersect1d(tr, te)
    if both.size:
        raise ValidationError(f"train_mask and test_mask share {both.size} node(s), e.g. node {int(both[0])}; the "
                         "probe is scored on held-out nodes only (never in-sample)")
    return tr, te, how


def probe_accuracy(
    x: Any,
    labels: Any,
    *,
    train_mask: Any = None,
    test_mask: Any = None,
    seed: SeedLike = None,
    max_train: int | None = None,
) -> float:
    """Held-out accuracy of a linear probe (multinomial logistic regression) on embeddings ``x``.

    The probe (:func:`linear_probe`: standardised features, L2 penalty ``1e-3/2 ||W||^2``,
    200 L-BFGS iterations) is fitted on the labelled nodes of ``train_mask`` and scored on the
    labelled nodes of ``test_mask``; unlabelled nodes (label < 0) in a mask are ignored.
    With no masks, a seeded 60/20/20 split of the labelled nodes
    (:func:`oversmooth.graphs.random_split`): fit on the 60%, score on the last 20% (the
    validation 20% is not used). With only ``train_mask``, every other labelled node is tested.

    Parameters
    ----------
    x : array or tensor (N, d) or (N,)
    labels : array or tensor (N,)
        Integer classes, negative for unlabelled.
    train_mask, test_mask : boolean mask (N,) or node-id array, NumPy or torch, optional
    seed : int, Generator or None
        For the random split (and the training subsample).
    max_train : int, optional
        Fit on at most this many training nodes (a seeded uniform subsample); default all.

    Returns
    -------
    float
        Fraction of test nodes classified correctly.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import probe_accuracy
    >>> y = np.array([0, 1] * 50)
    >>> x = np.where(y == 1, 1.0, -1.0) + 0.1 * np.random.default_rng(0).standard_normal(100)
    >>> probe_accuracy(x, y, seed=0)
    1.0
    >>> probe_accuracy(x, y, train_mask=np.arange(10), test_mask=np.arange(10, 100))
    1.0
    """
    h = as_embedding(x, "x")
    y = as_labels(labels, h.shape[0])
    if not np.any(y >= 0):
        raise ValidationError("labels has no labelled node (all negative); the probe needs classes")
    rng_split, rng_sub = spawn_generators(seed, 2)
    tr, te, _ = _resolve_probe_split(y, train_mask, test_mask, rng_split)
    if max_train is not None:
        max_train = check_positive_int(max_train, "max_train")
        if tr.size > max_train:
            tr = np.sort(rng_sub.choice(tr, size=max_train, replace=False))
    return _fit_score(h, y, tr, te)


def _fit_score(h: np.ndarray, y: np.ndarray, tr: np.ndarray, te: np.ndarray) -> float:
    (pred,) = linear_probe(h[tr], y[tr], [h[te]])
    return float(np.mean(pred == y[te]))
