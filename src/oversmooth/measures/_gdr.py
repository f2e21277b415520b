"""Two measures of a layer's spread: the group distance ratio and the effective rank."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._utils import SeedLike, check_choice, check_positive_float, check_positive_int, check_random_state
from ..errors import ValidationError
from ._inputs import as_embedding, as_labels

__all__ = ["group_distance_ratio", "effective_rank", "GDR_MAX_NODES"]

#: The group distance ratio is exact up to this many labelled nodes; beyond, a sample.
GDR_MAX_NODES = 5000
_CHUNK_ENTRIES = 4_000_000  # floats per block of pairwise distances (32 MB)
_SVD_MAX_ENTRIES = 100_000  # effective_rank: SVD up to this size, the d x d Gram matrix beyond


# =========================================================================== group distance ratio


def _distance_sum(a: np.ndarray, b: np.ndarray, same: bool) -> float:
    """Sum of Euclidean distances over all pairs (rows of a) x (rows of b), chunked.

    Uses ``||a||^2 + ||b||^2 - 2 a.b`` on centred data (as ``torch.cdist`` does); the
    diagonal of a block with itself is set to exactly 0.
    """
    total = 0.0
    nb = np.einsum("ij,ij->i", b, b)
    step = max(1, _CHUNK_ENTRIES // max(1, b.shape[0]))
    for lo in range(0, a.shape[0], step):
        blk = a[lo:lo + step]
        sq = np.einsum("ij,ij->i", blk, blk)[:, None] + nb[None, :] - 2.0 * (blk @ b.T)
        np.clip(sq, 0.0, None, out=sq)
        if same:
            idx = np.arange(blk.shape[0])
            sq[idx, lo + idx] = 0.0
        total += float(np.sqrt(sq).sum())
    return total


def group_distance_ratio(x: Any, labels: Any, *, eps: float = 1e-5, max_nodes: int = GDR_MAX_NODES,
                         form: str = "paper", seed: SeedLike = 0) -> float:
    """Group distance ratio (Zhou et al. 2020, PyG ``DiffGroupNorm.group_distance_ratio``).

    With ``X_i`` the nodes of class i, C the number of classes and ``M_ij`` the mean
    Euclidean distance between the nodes of classes i and j (``M_ii`` over all
    ``|X_i|^2`` ordered pairs, the zero diagonal included)::

        R = [1/(C-1)^2 sum_{i != j} M_ij] / ([1/C sum_i M_ii] + eps)

    ``form="paper"`` (the default) is this formula, as the paper and PyG's docstring
    write it. PyG's code computes the numerator differently: for each class i the mean
    distance to *all* nodes outside i (pooled), ``sum_i sum_{j != i} |X_j| M_ij /
    (N - |X_i|)``, also over ``(C-1)^2``; ``form="pyg"`` reproduces that. They agree for
    two classes; for C equal classes the paper's value is C - 1 times PyG's. We follow
    the definition (SCIENCE.md section 6). Unlabelled nodes (label < 0) are left out
    and C counts the classes present (PyG takes ``max(y) + 1`` and fails on an empty
    class).

    Exact for up to ``max_nodes`` labelled nodes (O(N^2 d)); beyond, a seeded stratified
    sample of about ``max_nodes`` nodes (at least 2 per class) with unbiased estimates
    of each ``M_ij`` (the within-class mean rescaled by ``(|X_i| - 1) / |X_i|`` with the
    true class sizes).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import group_distance_ratio
    >>> x = np.array([0.0, 1.0, 10.0, 11.0])  # M_01 = M_10 = 10, M_00 = M_11 = (0+1+1+0)/4
    >>> round(group_distance_ratio(x, [0, 0, 1, 1], eps=0.0), 6)  # (10 + 10) / 0.5
    40.0
    """
    h = as_embedding(x, "x")
    y = as_labels(labels, h.shape[0])
    eps = check_positive_float(eps, "eps", allow_zero=True)
    max_nodes = check_positive_int(max_nodes, "max_nodes", minimum=2)
    form = check_choice(form, "form", ("paper", "pyg"))
    keep = y >= 0
    h, y = h[keep], y[keep]
    classes, y = np.unique(y, return_inverse=True)
    c = classes.size
    if c < 2:
        raise ValidationError(f"labels must have at least two classes among the labelled nodes, got {c}")
    sizes = np.bincount(y, minlength=c)
    members = [np.flatnonzero(y == i) for i in range(c)]
    if y.size > max_nodes:
        rng = check_random_state(seed)
        take = np.maximum(np.minimum(sizes, 2), np.floor(max_nodes * sizes / y.size).astype(np.int64))
        members = [np.sort(rng.choice(m, size=int(t), replace=False)) for m, t in zip(members, take)]
    h = h - h.mean(axis=0)  # distances unchanged; less cancellation in the Gram form
    blocks = [h[m] for m in members]
    mean = np.zeros((c, c))
    for i in range(c):
        ni = blocks[i].shape[0]
        if ni > 1:  # mean over distinct pairs, times (n_i - 1)/n_i for the zero diagonal
            within = _distance_sum(blocks[i], blocks[i], True) / (ni * (ni - 1))
            mean[i, i] = within * (sizes[i] - 1) / sizes[i]
        for j in range(i + 1, c):
            mean[i, j] = mean[j, i] = _distance_sum(blocks[i], blocks[j], False) / (ni * blocks[j].shape[0])
    off = ~np.eye(c, dtype=bool)
    if form == "paper":
        numerator = mean[off].sum()
    else:
        total = int(sizes.sum())
        numerator = sum(float(sizes[off[i]] @ mean[i, off[i]]) / (total - sizes[i]) for i in range(c))
    numerator /= (c - 1) ** 2
    denominator = np.trace(mean) / c
    return float(numerator / (denominator + eps))


# =========================================================================== effective rank


def effective_rank(x: Any) -> float:
    """Effective rank ``exp(H(p))``, ``p_k = s_k / sum(s)`` over the singular values s.

    Roy & Vetterli (2007); the embeddings are not centred (rank collapse of X itself).
    Between 1 and min(N, d) for a non-zero X; 0.0 for X = 0. Singular values come from
    an SVD when ``N d <= 1e5`` or ``N <= d``, else from the eigenvalues of the d x d Gram
    matrix
    (O(N d^2); singular values below ~1e-8 of the largest lose accuracy there, which
    changes the entropy by less than 1e-6).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import effective_rank
    >>> round(effective_rank(np.eye(3)), 6), round(effective_rank(np.ones((4, 3))), 6)
    (3.0, 1.0)
    """
    h = as_embedding(x, "x")
    if h.size <= _SVD_MAX_ENTRIES or h.shape[0] <= h.shape[1]:
        s = np.linalg.svd(h, compute_uv=False)
    else:
        g = h.T @ h  # BLAS: einsum does not use it and is ~20x slower at d ~ 1000
        s = np.sqrt(np.clip(np.linalg.eigvalsh(g), 0.0, None))
    total = float(s.sum())
    if total <= 0:
        return 0.0
    p = s[s > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))
