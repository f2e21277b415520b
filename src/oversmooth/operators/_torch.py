"""The optional torch backend of the propagation: ``P @ h`` with ``torch.sparse`` CSR, CPU or CUDA.

Needs the ``train`` extra (``pip install 'oversmooth[train]'``); imported only when asked for
(``backend="torch"``). It computes the same product as the NumPy backend, in the same
precision; the order of the additions inside a row may differ (MKL or cuSPARSE), so the
results agree to rounding (about ``k u`` relative per product, ``u`` the unit roundoff and
``k`` the row's nonzeros), not bitwise. Arrays come back as NumPy; on the CPU without a copy.
torch's own thread count (``torch.set_num_threads``) is used as set by the caller.
"""

from __future__ import annotations

from typing import Any

import warnings

import numpy as np
import scipy.sparse as sp

from .._utils import optional_import
from ..errors import ValidationError
from ._spmm import check_dtype

__all__ = ["TorchMatmul", "BACKENDS", "torch_device"]

BACKENDS = ("numpy", "torch")


def torch_device(device: Any = None) -> Any:
    """The torch device: ``device`` as given, else CUDA when available, else the CPU.

    Examples
    --------
    >>> from oversmooth.operators._torch import torch_device
    >>> torch_device("cpu").type
    'cpu'
    """
    torch = optional_import("torch", "train")
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValidationError(f"device must be a torch device such as 'cpu' or 'cuda', got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValidationError(f"device={device!r}: CUDA is not available here; use 'cpu' or leave device unset")
    return dev


class TorchMatmul:
    """``P @ h`` through ``torch.sparse`` CSR on ``device``; NumPy arrays in and out.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.operators._torch import TorchMatmul
    >>> P = sp.csr_array([[0.5, 0.5], [0.0, 1.0]])
    >>> TorchMatmul(P, device="cpu")(np.array([[2.0], [4.0]])).ravel().tolist()
    [3.0, 4.0]
    """

    def __init__(self, P: Any, dtype: Any = "float64", device: Any = None):
        torch = optional_import("torch", "train")
        self.torch = torch
        self.dtype = check_dtype(dtype)
        self.device = torch_device(device)
        csr = sp.csr_array(P, dtype=self.dtype) if sp.issparse(P) else sp.csr_array(np.asarray(P, dtype=self.dtype))
        csr.sort_indices()
        with warnings.catch_warnings():  # "sparse CSR support is in beta": the product used here is stable
            warnings.simplefilter("ignore", UserWarning)
            self.P = torch.sparse_csr_tensor(
                torch.from_numpy(csr.indptr.astype(np.int64)), torch.from_numpy(csr.indices.astype(np.int64)),
                torch.from_numpy(np.ascontiguousarray(csr.data)), size=csr.shape, check_invariants=False,
            ).to(self.device)

    def __call__(self, h: np.ndarray) -> np.ndarray:
        torch = self.torch
        x = np.ascontiguousarray(h, dtype=self.dtype)
        vec = x.ndim == 1
        t = torch.from_numpy(x[:, None] if vec else x).to(self.device)
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            out = torch.sparse.mm(self.P, t)
        arr = out.cpu().numpy()
        return arr[:, 0] if vec else arr
