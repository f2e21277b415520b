"""Size limits checked *before* allocating: declared arrays, node counts, edge counts.

One budget, :func:`max_bytes` (``$OVERSMOOTH_MAX_BYTES`` in bytes, default the machine's
physical memory), bounds what an argument or a file may make the package allocate: a
``sample_csbm`` call whose expected edges need more, an ``.npy`` header declaring a (10**6, 10**6) array, a
sparse matrix declaring 10**12 nodes: an ``.npy`` header declaring a (10**6, 10**6) array, a
sparse matrix declaring 10**12 nodes, an ``.npz`` member that inflates beyond its declared
size. Anything above it is refused with :class:`~oversmooth.errors.ResourceLimitError`
naming the file or argument and the estimate.

Examples
--------
>>> from oversmooth.graphs._limits import check_bytes
>>> check_bytes(8 * 10**3, "x")
8000
"""

from __future__ import annotations

import os

from ..errors import ResourceLimitError, ValidationError

__all__ = ["max_bytes", "check_bytes", "check_node_count", "format_bytes", "BYTES_PER_NODE"]

_FALLBACK = 16 * 2**30
#: Bytes a graph needs per node beyond its edges (CSR row pointer, labels, degrees): an estimate.
BYTES_PER_NODE = 32


def max_bytes() -> int:
    """The allocation budget: ``$OVERSMOOTH_MAX_BYTES`` (an integer, bytes), else the physical memory (else 16 GiB).

    Examples
    --------
    >>> from oversmooth.graphs._limits import max_bytes
    >>> max_bytes() > 0
    True
    """
    env = os.environ.get("OVERSMOOTH_MAX_BYTES", "").strip()
    if env:
        if not (env.isdigit() and int(env) > 0):
            raise ValidationError(f"$OVERSMOOTH_MAX_BYTES must be a positive whole number of bytes "
                                  f"(e.g. 8000000000), got {env!r}")
        return int(env)
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return _FALLBACK


def format_bytes(n: float) -> str:
    """``"4.0 GiB"`` style.

    Examples
    --------
    >>> from oversmooth.graphs._limits import format_bytes
    >>> format_bytes(3 * 2**40)
    '3.0 TiB'
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if abs(n) < 1024 or unit == "EiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024.0
    return f"{n:.1f} EiB"  # pragma: no cover


def check_bytes(n_bytes: int, what: str, hint: str = "") -> int:
    """Refuse ``n_bytes`` above :func:`max_bytes` with a message naming ``what``; return it.

    Raises :class:`~oversmooth.errors.ResourceLimitError` (a ``ValueError``) whose message
    starts with ``what`` and gives the estimate and the limit.

    Examples
    --------
    >>> from oversmooth.graphs import check_bytes
    >>> check_bytes(10**30, "depth=1e9")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    oversmooth.errors.ResourceLimitError: depth=1e9: needs about ... more than the limit of ...
    """
    limit = max_bytes()
    if n_bytes > limit:
        raise ResourceLimitError(f"{what}: needs about {format_bytes(n_bytes)}, more than the limit of "
                                 f"{format_bytes(limit)} ($OVERSMOOTH_MAX_BYTES){'; ' + hint if hint else ''}")
    return int(n_bytes)


def check_node_count(n: int, what: str, hint: str = "") -> int:
    """Refuse a graph of ``n`` nodes whose per-node arrays alone exceed the budget."""
    check_bytes(int(n) * BYTES_PER_NODE, f"{what} ({n} nodes)", hint)
    return int(n)
