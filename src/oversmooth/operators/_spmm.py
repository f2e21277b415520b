"""Row-parallel, cache-blocked sparse x dense products: the one hot loop of every propagation.

SciPy's CSR kernel is single-threaded but releases the GIL, so the rows of ``P`` are split
into contiguous bands of about equal nonzeros, one thread per band. On a large block the
kernel is bound by the random reads of the rows ``h[j]`` it gathers (one per nonzero); so,
when the block is larger than the cache, the columns of ``P`` are also split into
``B`` blocks whose slice ``h[c0:c1]`` fits in about ``CACHE_BLOCK_BYTES`` (8 MiB, within the
shared L3 cache), and each band accumulates ``out[band] += P[band, c0:c1] @ h[c0:c1]`` block
after block. Every output row still adds its terms in increasing column order, exactly as
one sequential call does, so the result is **bitwise identical** for any thread count and
any blocking. Blocking re-streams the output once per block, so it is used only for
``2 <= B <= MAX_COLUMN_BLOCKS`` (48; measured on the 2-core machine at N = 1e6, 35 float32
columns: 16 blocks, 1.1-1.3 s per product against 3.6-3.9 s unblocked).

The thread count is ``OVERSMOOTH_NUM_THREADS`` if set, else the number of CPUs this
process may run on; small products (fewer than ``PARALLEL_MIN_WORK`` multiply-adds) stay
in one thread. BLAS threads are not used here (see :func:`blas_threads`).
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import scipy.sparse as sp

from ..errors import ValidationError

try:  # the accumulating kernel behind ``csr @ dense``: out += A @ X, no temporary
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover - a SciPy without it: the public product plus an add
    _csr_matvecs = None

__all__ = ["RowParallelMatmul", "num_threads", "blas_threads", "PARALLEL_MIN_WORK", "CACHE_BLOCK_BYTES",
           "MAX_COLUMN_BLOCKS", "DTYPES"]

PARALLEL_MIN_WORK = 4_000_000
#: Target bytes of the slice ``h[c0:c1]`` of one column block (it should stay in the L3 cache).
CACHE_BLOCK_BYTES = 8 * 2**20
#: Column blocking is used for 2..MAX_COLUMN_BLOCKS blocks; beyond, re-streaming the output costs more.
MAX_COLUMN_BLOCKS = 48
#: The floating-point types a propagation may run in.
DTYPES = ("float64", "float32")


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
            raise ValidationError(f"OVERSMOOTH_NUM_THREADS must be a positive integer, got {env!r}") from None
        if value < 1:
            raise ValidationError(f"OVERSMOOTH_NUM_THREADS must be a positive integer, got {env!r}")
        return value
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def blas_threads(limit: int = 1) -> Iterator[bool]:
    """Cap the BLAS / OpenMP thread pools at ``limit`` inside the block (threadpoolctl, when installed).

    On an oversubscribed machine a threaded OpenBLAS spins and collapses (``X^T X`` with
    N = 1e6, d = 64 took 0.045 s on one thread and 2.9 s on two under load); the products
    inside a profile are small (d x d) or sparse (our own threads), so one BLAS thread is
    what they need. Yields whether a limit was applied (False without threadpoolctl, which
    then changes nothing).

    Examples
    --------
    >>> from oversmooth.operators._spmm import blas_threads
    >>> with blas_threads(1) as applied:
    ...     isinstance(applied, bool)
    True
    """
    controller = _controller()
    if controller is None:
        yield False
        return
    with controller.limit(limits=max(1, int(limit))):
        yield True


_CONTROLLER: list[Any] = [None, -1]  # [threadpoolctl.ThreadpoolController, len(sys.modules) when it was built]


def _controller() -> Any:
    """One ``ThreadpoolController`` per set of loaded modules (None without threadpoolctl).

    ``threadpool_limits`` rescans every loaded shared library on each call (2 ms with torch
    loaded: 7 s over a quick reproduction); the controller is rebuilt only when a module was
    imported since, which is when a new BLAS or OpenMP library can have been loaded.
    """
    if _CONTROLLER[0] is None or _CONTROLLER[1] != len(sys.modules):
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            return None
        _CONTROLLER[0], _CONTROLLER[1] = ThreadpoolController(), len(sys.modules)
    return _CONTROLLER[0]


def check_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """``float64`` or ``float32`` (names, NumPy or torch dtypes) as a NumPy dtype.

    Examples
    --------
    >>> from oversmooth.operators._spmm import check_dtype
    >>> check_dtype("float32").name
    'float32'
    """
    text = str(dtype).replace("torch.", "")
    if text not in DTYPES:
        try:
            text = np.dtype(dtype).name
        except TypeError:
            text = ""
    if text not in DTYPES:
        raise ValidationError(f"{name} must be 'float64' or 'float32', got {dtype!r}")
    return np.dtype(text)


class RowParallelMatmul:
    """``P @ h`` for a fixed ``P``: row bands in parallel threads, column blocks that fit the cache.

    Parameters
    ----------
    P : scipy sparse matrix or numpy array, shape (N, N)
    threads : int, optional
        Default :func:`num_threads`.
    dtype : {"float64", "float32"}, optional
        Precision of the product (``P`` is converted once; ``h`` per call if needed). Default:
        ``P``'s own float type (float64 for anything else).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.operators import RowParallelMatmul
    >>> P = sp.random_array((50, 50), density=0.2, format="csr", rng=0)
    >>> h = np.ones((50, 3))
    >>> bool(np.array_equal(RowParallelMatmul(P, threads=2)(h), P @ h))
    True
    """

    def __init__(self, P: Any, threads: int | None = None, dtype: Any = None):
        if dtype is None:
            dtype = P.dtype if getattr(P, "dtype", None) in (np.float32, np.float64) else np.float64
        self.dtype = check_dtype(dtype)
        if sp.issparse(P):
            P = sp.csr_array(P, dtype=self.dtype)
            P.sort_indices()
        else:
            P = np.asarray(P, dtype=self.dtype)
        self.P = P
        self.threads = num_threads() if threads is None else max(1, int(threads))
        self.sparse = sp.issparse(P)
        self._rows: list[tuple[int, int]] = [(0, P.shape[0])]
        if self.sparse and self.threads > 1 and P.shape[0] >= 2 * self.threads:
            # contiguous row bands with about nnz / threads nonzeros each
            cuts = np.searchsorted(P.indptr, np.linspace(0, P.nnz, self.threads + 1)[1:-1])
            edges = np.unique(np.concatenate([[0], cuts, [P.shape[0]]]))
            self._rows = [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]
        self._tiles: dict[int, list[list[tuple[int, int, int, int, Any]]]] = {}
        self._bands: list[tuple[int, int, Any]] | None = None

    def column_blocks(self, k: int) -> int:
        """Number of column blocks used for an (N, k) block (1: unblocked)."""
        if not self.sparse or _csr_matvecs is None:
            return 1
        n = self.P.shape[1]
        blocks = -(-n * k * self.dtype.itemsize // CACHE_BLOCK_BYTES)
        return int(blocks) if 2 <= blocks <= MAX_COLUMN_BLOCKS and n >= 2 * blocks else 1

    def _build(self, blocks: int) -> list[list[tuple[int, int, int, int, Any]]]:
        """Per row band: the (r0, r1, c0, c1, (indptr, indices, data)) tiles, column blocks in order."""
        P = self.P
        n_rows, n_cols = P.shape
        width = -(-n_cols // blocks)
        rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(P.indptr))
        blk = (P.indices // width).astype(np.int16 if blocks < 2**15 else np.int32)
        order = np.argsort(blk, kind="stable")  # by block, then row, then column: every row keeps its order
        idx_type = np.int32 if max(P.nnz, n_cols) < 2**31 else np.int64
        starts = np.zeros(blocks + 1, dtype=np.int64)  # where each block begins in ``order``
        np.cumsum(np.bincount(blk, minlength=blocks), out=starts[1:])
        out: list[list[tuple[int, int, int, int, Any]]] = [[] for _ in self._rows]
        for b in range(blocks):
            sel = order[starts[b]:starts[b + 1]]
            c0, c1 = b * width, min(n_cols, (b + 1) * width)
            counts = np.bincount(rows[sel], minlength=n_rows)
            indptr = np.zeros(n_rows + 1, dtype=idx_type)
            np.cumsum(counts, out=indptr[1:])
            indices = (P.indices[sel] - c0).astype(idx_type)
            data = P.data[sel]
            for t, (r0, r1) in enumerate(self._rows):
                a, e = int(indptr[r0]), int(indptr[r1])
                out[t].append((r0, r1, c0, c1, (indptr[r0:r1 + 1] - a, indices[a:e], data[a:e])))
        return out

    def __call__(self, h: np.ndarray) -> np.ndarray:
        h = np.ascontiguousarray(h, dtype=self.dtype)
        k = 1 if h.ndim == 1 else h.shape[1]
        blocks = self.column_blocks(k)
        if blocks == 1 and (len(self._rows) < 2 or self.P.nnz * k < PARALLEL_MIN_WORK):
            return np.asarray(self.P @ h)
        if blocks == 1:
            return self._banded(h)
        if blocks not in self._tiles:
            self._tiles = {blocks: self._build(blocks)}  # one tiling kept (memory: one copy of P)
        out = np.zeros((self.P.shape[0], k), dtype=self.dtype)
        h2 = h.reshape(h.shape[0], k)

        def work(tiles: list[tuple[int, int, int, int, Any]]) -> None:
            for r0, r1, c0, c1, (indptr, indices, data) in tiles:
                _csr_matvecs(r1 - r0, c1 - c0, k, indptr, indices, data, h2[c0:c1].ravel(), out[r0:r1].ravel())

        self._run(work, self._tiles[blocks])
        return out.reshape(h.shape)

    def _banded(self, h: np.ndarray) -> np.ndarray:
        P = self.P
        out = np.empty((P.shape[0],) + h.shape[1:], dtype=self.dtype)
        if self._bands is None:  # views of P's arrays, built once (SciPy checks a new matrix's format)
            self._bands = []
            for r0, r1 in self._rows:
                a, b = int(P.indptr[r0]), int(P.indptr[r1])
                self._bands.append((r0, r1, sp.csr_array((P.data[a:b], P.indices[a:b], P.indptr[r0:r1 + 1] - a),
                                                         shape=(r1 - r0, P.shape[1]), copy=False)))

        def work(band: tuple[int, int, Any]) -> None:
            r0, r1, m = band
            out[r0:r1] = m @ h

        self._run(work, self._bands)
        return out

    def _run(self, work: Any, items: list[Any]) -> None:
        if len(items) == 1:
            work(items[0])
            return
        with ThreadPoolExecutor(len(items)) as pool:
            list(pool.map(work, items))
