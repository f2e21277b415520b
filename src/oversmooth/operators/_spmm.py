"""Row-parallel sparse x dense products: the one hot loop of every propagation.

SciPy's CSR product is single-threaded but releases the GIL, so splitting the rows of
``P`` into contiguous bands of about equal nonzeros and multiplying each band in its
own thread uses every core. Each output row is computed by exactly the same sequential
loop as in a single call, so the result is bitwise identical for any thread count.
The bands are zero-copy views of ``P``'s arrays.

The thread count is ``OVERSMOOTH_NUM_THREADS`` if set, else the number of CPUs this
process may run on; small products (fewer than ``PARALLEL_MIN_WORK`` multiply-adds) stay
in one thread.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["RowParallelMatmul", "num_threads", "PARALLEL_MIN_WORK"]

PARALLEL_MIN_WORK = 4_000_000


def num_threads() -> int:
    """Threads for sparse products: ``$OVERSMOOTH_NUM_THREADS`` or the usable CPUs.

    Examples
    --------
    >>> from oversmooth.operators._spmm import num_threads
    >>> num_threads() >= 1
    True
    """
    env = os.environ.get("OVERSMOOTH_NUM_THREADS")
    if env:
        try:
            value = int(env)
        except ValueError:
            raise ValueError(f"OVERSMOOTH_NUM_THREADS must be a positive integer, got {env!r}") from None
        if value < 1:
            raise ValueError(f"OVERSMOOTH_NUM_THREADS must be a positive integer, got {env!r}")
        return value
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class RowParallelMatmul:
    """``P @ h`` for a fixed ``P``, split into row bands computed in parallel threads.

    Parameters
    ----------
    P : scipy sparse matrix or numpy array, shape (N, N)
    threads : int, optional
        Default :func:`num_threads`.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.operators._spmm import RowParallelMatmul
    >>> P = sp.random_array((50, 50), density=0.2, format="csr", rng=0)
    >>> h = np.ones((50, 3))
    >>> bool(np.array_equal(RowParallelMatmul(P, threads=2)(h), P @ h))
    True
    """

    def __init__(self, P: Any, threads: int | None = None):
        self.P = P
        self.threads = num_threads() if threads is None else max(1, int(threads))
        self._bands: list[tuple[int, int, Any]] = []
        if sp.issparse(P) and P.format == "csr" and self.threads > 1 and P.shape[0] >= 2 * self.threads:
            indptr = P.indptr
            # contiguous row bands with about nnz / threads nonzeros each
            cuts = np.searchsorted(indptr, np.linspace(0, P.nnz, self.threads + 1)[1:-1])
            edges = np.unique(np.concatenate([[0], cuts, [P.shape[0]]]))
            for r0, r1 in zip(edges[:-1], edges[1:]):
                a, b = int(indptr[r0]), int(indptr[r1])
                band = sp.csr_array((P.data[a:b], P.indices[a:b], indptr[r0:r1 + 1] - indptr[r0]),
                                    shape=(int(r1 - r0), P.shape[1]), copy=False)
                self._bands.append((int(r0), int(r1), band))

    def __call__(self, h: np.ndarray) -> np.ndarray:
        k = 1 if h.ndim == 1 else h.shape[1]
        if len(self._bands) < 2 or self.P.nnz * k < PARALLEL_MIN_WORK:
            return np.asarray(self.P @ h)
        out = np.empty((self.P.shape[0],) + h.shape[1:], dtype=np.result_type(self.P.dtype, h.dtype))

        def work(band: tuple[int, int, Any]) -> None:
            r0, r1, m = band
            out[r0:r1] = m @ h

        with ThreadPoolExecutor(len(self._bands)) as pool:
            list(pool.map(work, self._bands))
        return out
