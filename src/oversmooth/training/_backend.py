"""Torch plumbing: the core operator as a torch sparse tensor, seeds and determinism."""

from __future__ import annotations

import contextlib
import warnings
from typing import Any, Iterator

import numpy as np
import scipy.sparse as sp
import torch

from .._utils import check_choice, check_positive_int, derive_seed
from ..errors import ArgumentTypeError

__all__ = ["to_torch_sparse", "SparseOperator", "to_edge_index", "torch_seed", "deterministic", "DTYPES", "torch_dtype"]

DTYPES = ("float32", "float64")


def torch_dtype(dtype: str) -> torch.dtype:
    """``"float32"`` / ``"float64"`` -> the torch dtype (``ValueError`` naming ``dtype`` otherwise).

    Examples
    --------
    >>> from oversmooth.training import torch_dtype
    >>> torch_dtype("float64")
    torch.float64
    """
    return {"float32": torch.float32, "float64": torch.float64}[check_choice(dtype, "dtype", DTYPES)]


def to_torch_sparse(P: Any, dtype: str = "float32") -> torch.Tensor:
    """Convert a SciPy sparse operator (e.g. ``normalize_adjacency(g)``) to a torch CSR tensor.

    Entries, sparsity pattern and row order are kept exactly, so ``to_torch_sparse(P) @ h``
    computes ``P @ h``.

    Parameters
    ----------
    P : scipy.sparse matrix or array, shape (N, N)
    dtype : {"float32", "float64"}

    Returns
    -------
    torch.Tensor
        ``torch.sparse_csr`` layout.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, torch
    >>> from oversmooth.training import to_torch_sparse
    >>> P = sp.csr_array([[0.5, 0.5], [0.0, 1.0]])
    >>> (to_torch_sparse(P, "float64") @ torch.ones(2, 1, dtype=torch.float64)).ravel().tolist()
    [1.0, 1.0]
    """
    if not sp.issparse(P):
        raise ArgumentTypeError(f"P must be a scipy sparse matrix, got {type(P).__name__}")
    a = sp.csr_array(P)
    a.sort_indices()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(
            torch.from_numpy(a.indptr.astype(np.int64)),
            torch.from_numpy(a.indices.astype(np.int64)),
            torch.from_numpy(np.ascontiguousarray(a.data, dtype=np.float64)).to(torch_dtype(dtype)),
            size=a.shape,
            check_invariants=True,
        )


class _SparseMatmul(torch.autograd.Function):
    """``P @ h`` whose backward multiplies by a precomputed ``P^T`` (torch transposes the CSR on every call)."""

    @staticmethod
    def forward(ctx: Any, h: torch.Tensor, P: torch.Tensor, PT: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.PT = PT
        return torch.sparse.mm(P, h)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:  # type: ignore[override]
        return torch.sparse.mm(ctx.PT, grad), None, None


class SparseOperator:
    """A fixed operator ``P`` for training: a torch CSR tensor and its transpose, built once.

    ``op @ h`` is ``torch.sparse.mm(P, h)``; its gradient with respect to ``h`` is
    ``P^T @ grad`` from the stored transpose. torch's own backward of a CSR product builds
    that transpose again at every call (4x the forward's cost at N = 1000, width 64); the
    values are bitwise the same (tested), only the time changes. ``op.P`` is the CSR tensor
    (what PyG layers receive as ``adj_t``).

    Parameters
    ----------
    P : scipy.sparse matrix, shape (N, N)
    dtype : {"float32", "float64"}

    Examples
    --------
    >>> import scipy.sparse as sp, torch
    >>> from oversmooth.training import SparseOperator
    >>> op = SparseOperator(sp.csr_array([[0.5, 0.5], [0.0, 1.0]]), "float64")
    >>> h = torch.ones(2, 1, dtype=torch.float64, requires_grad=True)
    >>> (op @ h).sum().backward()
    >>> h.grad.ravel().tolist()
    [0.5, 1.5]
    """

    def __init__(self, P: Any, dtype: str = "float32"):
        self.P = to_torch_sparse(P, dtype)
        a = sp.csr_array(P)
        self.PT = self.P if (a != a.T).nnz == 0 else to_torch_sparse(a.T.tocsr(), dtype)
        self.shape = tuple(self.P.shape)

    def __matmul__(self, h: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() and h.requires_grad:
            return _SparseMatmul.apply(h, self.P, self.PT)
        return torch.sparse.mm(self.P, h)


def to_edge_index(P: Any, dtype: str = "float32") -> tuple[torch.Tensor, torch.Tensor]:
    """``(edge_index, edge_weight)`` for PyG message passing that computes ``P @ h``.

    PyG sends messages from ``edge_index[0]`` (source) to ``edge_index[1]`` (target) and
    sums ``w * x_source`` at the target; entry ``P[i, j]`` is therefore the edge ``j -> i``
    with weight ``P[i, j]``. Layers given this pair with ``normalize=False`` and no added
    self-loops apply exactly the operator ``P``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> from oversmooth.training import to_edge_index
    >>> ei, w = to_edge_index(sp.csr_array([[0.0, 1.0], [0.25, 0.75]]))
    >>> ei.tolist(), w.tolist()
    ([[1, 0, 1], [0, 1, 1]], [1.0, 0.25, 0.75])
    """
    if not sp.issparse(P):
        raise ArgumentTypeError(f"P must be a scipy sparse matrix, got {type(P).__name__}")
    coo = sp.csr_array(P).tocoo()
    order = np.lexsort((coo.col, coo.row))
    rows, cols = coo.row[order].astype(np.int64), coo.col[order].astype(np.int64)
    edge_index = torch.from_numpy(np.vstack([cols, rows]))
    weight = torch.from_numpy(np.ascontiguousarray(coo.data[order], dtype=np.float64)).to(torch_dtype(dtype))
    return edge_index, weight


def torch_seed(seed: int, *purpose: str | int) -> int:
    """The ``torch.manual_seed`` of one run: ``derive_seed(seed, "torch", *purpose, as_int=True)``.

    One derivation helper for every stream of the package
    (:func:`oversmooth._utils.derive_seed`): the torch stream of a run never replays the
    graph, feature, split or probe streams of the same seed.

    Examples
    --------
    >>> from oversmooth.training import torch_seed
    >>> torch_seed(0, "gcn", 2) == torch_seed(0, "gcn", 2) != torch_seed(0, "gcn", 4)
    True
    """
    return int(derive_seed(seed, "torch", *purpose, as_int=True))


@contextlib.contextmanager
def deterministic(seed: int, threads: int = 1) -> Iterator[None]:
    """Seed torch, force deterministic algorithms and a fixed thread count; restore on exit.

    Examples
    --------
    >>> import torch
    >>> from oversmooth.training import deterministic
    >>> with deterministic(3):
    ...     a = torch.rand(2)
    >>> with deterministic(3):
    ...     b = torch.rand(2)
    >>> bool((a == b).all())
    True
    """
    threads = check_positive_int(threads, "threads")
    old_threads = torch.get_num_threads()
    old_det = torch.are_deterministic_algorithms_enabled()
    old_state = torch.get_rng_state()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        torch.use_deterministic_algorithms(old_det)
        torch.set_rng_state(old_state)
