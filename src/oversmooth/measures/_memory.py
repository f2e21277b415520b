"""Peak memory of a propagation profile, estimated before allocating, and its refusal beyond the budget."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ResourceLimitError

__all__ = ["memory_estimate", "check_memory"]

_CALIBRATION = 1.2  # the counted arrays were 1/1.16 of the measured peak RSS at N = 1e6 (float32, 2.55 GiB)
_INTERPRETER_BYTES = 200 * 2**20  # Python, NumPy and SciPy themselves


def memory_estimate(n_nodes: int, nnz: int, columns: int, *, dtype: Any = "float64", smoothness: bool = True,
                    exact_columns: int = 0) -> int:
    """Bytes a propagation profile holds at its peak (the graph included), estimated before allocating.

    Counts the caller's adjacency and the normalised operator (int32 indices and float64
    weights: 12 bytes per nonzero each, plus the int64 row index made while normalising), the
    kernel's copy in ``dtype`` (and its cache tiles when blocked), the edge arrays of the
    smoothness measures (about 32 bytes per nonzero), the propagated block three times
    (input, current layer, next layer; ``columns`` of ``dtype``) and the exact path's identity
    chunks (``exact_columns`` float64 columns); times 1.2 plus 200 MiB for the interpreter,
    calibrated on the measured peak RSS of the N = 1e6, depth-32, 32-probe float32 profile
    (2.55 GiB; benchmarks/results/torch_peer.json). For N = 1e7 and 2e8 nonzeros it says about
    25.7 GiB in float32 and 29.1 GiB in float64 with the smoothness measures, 18.0 / 21.3 GiB without.

    Examples
    --------
    >>> from oversmooth.measures._variance import memory_estimate
    >>> memory_estimate(10**6, 2 * 10**7, 35, dtype="float32") / 2**30 > 1
    True
    """
    item = np.dtype(dtype).itemsize
    n, nnz = int(n_nodes), int(nnz)
    matrices = nnz * (12 + 12 + 8) + nnz * (4 + item) * (1 if item == 8 else 2) + 3 * n * 8
    edges = nnz * 32 + n * 24 if smoothness else 0
    block = 3 * n * int(columns) * item + n * int(columns)  # + the int8 probe draw
    raw = matrices + edges + block + 2 * n * int(exact_columns) * 8 + 64 * n
    return int(_CALIBRATION * raw) + _INTERPRETER_BYTES


def check_memory(n_nodes: int, nnz: int, columns: int, what: str, hint: str, **kwargs: Any) -> int:
    """Refuse up front (:class:`~oversmooth.errors.ResourceLimitError`) when :func:`memory_estimate` exceeds the budget.

    The budget is ``$OVERSMOOTH_MAX_BYTES`` (bytes) when set, else the physical memory.
    """
    need = memory_estimate(n_nodes, nnz, columns, **kwargs)
    limit = _memory_budget()
    if need > limit:
        raise ResourceLimitError(f"{what}: about {need / 2**30:.1f} GiB needed (N = {n_nodes}, {nnz} nonzeros, "
                                 f"{columns} propagated columns), more than the limit of {limit / 2**30:.1f} GiB "
                                 f"($OVERSMOOTH_MAX_BYTES); {hint}")
    return need


def _memory_budget() -> int:
    from ..graphs import max_bytes  # the package's one budget ($OVERSMOOTH_MAX_BYTES, else the physical memory)

    return int(max_bytes())
