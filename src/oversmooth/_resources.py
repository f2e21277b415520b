"""Work and memory refused up front: the machine's limits and the one-line refusal.

Code that can be asked for more memory or time than a machine has (a graph of 10^8 nodes,
10^9 layers) estimates both *before* allocating and calls :func:`check_resources`, which
raises :class:`~oversmooth.errors.ResourceLimitError` naming the argument to change, the
estimate and the limit. The memory limit is the smaller of the package's budget
(``$OVERSMOOTH_MAX_BYTES``, default the physical memory) and the process's address-space limit (``ulimit -v``) less what the process already maps;
the time limit is :data:`DEFAULT_MAX_SECONDS` unless the caller gives another.

Examples
--------
>>> from oversmooth._resources import check_resources, format_bytes
>>> format_bytes(3 * 2**40)
'3.0 TiB'
>>> check_resources(memory=2**60, seconds=1.0, argument="n=10**9")
Traceback (most recent call last):
...
oversmooth.errors.ResourceLimitError: n=10**9 needs about 1.15e+18 bytes of memory, over the limit of ...
"""

from __future__ import annotations

import math
import os
from typing import Any

from .errors import ResourceLimitError, ValidationError

__all__ = ["DEFAULT_MAX_SECONDS", "memory_limit", "check_resources", "format_bytes", "format_seconds"]

#: Default limit on the estimated run time of one call (6 hours): a request beyond it is refused
#: with the estimate unless the caller raises the limit.
DEFAULT_MAX_SECONDS = 6 * 3600.0


def _address_space_left() -> float:
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return math.inf
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return math.inf
    mapped = 0.0
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            mapped = float(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):  # pragma: no cover - no /proc
        pass
    return max(0.0, float(soft) - mapped)


def memory_limit() -> float:
    """Bytes one call may plan to allocate: the package's budget or the address space left under ``ulimit -v``.

    The budget is :func:`oversmooth.graphs.max_bytes` (``$OVERSMOOTH_MAX_BYTES``, default the
    physical memory), the one the graph readers and samplers use.

    Examples
    --------
    >>> from oversmooth._resources import memory_limit
    >>> memory_limit() > 0
    True
    """
    from .graphs import max_bytes

    return min(float(max_bytes()), _address_space_left())


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units (``1.5 GiB``)."""
    if not math.isfinite(n):
        return f"{n} B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024.0:
            return f"{n:.1f} {unit}" if unit != "B" else f"{n:.0f} B"
        n /= 1024.0
    return f"{n:.1f} PiB" if n < 1024.0 else f"{n * 2.0**50:.3g} bytes"


def format_seconds(s: float) -> str:
    """``s`` seconds as s, min, h or days."""
    if not math.isfinite(s):
        return f"{s} s"
    if s < 120:
        return f"{s:.3g} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    if s < 3 * 86400:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.3g} days"


def _limit(value: Any, name: str) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a number > 0 or None, got {value!r}") from None
    if not v > 0:  # NaN too
        raise ValidationError(f"{name} must be > 0 (math.inf for no limit), got {value!r}")
    return v


def check_resources(*, memory: float, seconds: float, argument: str, detail: str = "",
                    max_memory: float | None = None, max_seconds: float | None = None) -> None:
    """Refuse (``ResourceLimitError``) when the estimated ``memory`` (bytes) or ``seconds`` exceed the limits.

    Parameters
    ----------
    memory, seconds : float
        The estimate, made before anything is allocated.
    argument : str
        What the user should change, e.g. ``"n=100000000 (with p=0.1)"``; starts the message.
    detail : str
        What the estimate counts (``"the graph's 5e14 stored entries"``), in parentheses.
    max_memory, max_seconds : float, optional
        Limits; default :func:`memory_limit` and :data:`DEFAULT_MAX_SECONDS`; ``math.inf`` for none.

    Examples
    --------
    >>> from oversmooth._resources import check_resources
    >>> check_resources(memory=1e6, seconds=10.0, argument="depth=3")  # within the limits: returns None
    >>> check_resources(memory=1e6, seconds=1e9, argument="depth=10**9", max_seconds=60)
    Traceback (most recent call last):
    ...
    oversmooth.errors.ResourceLimitError: depth=10**9 needs about 31.7 years of work..., over the limit of 60 s...
    """
    mem_limit = _limit(max_memory, "max_memory")
    time_limit = _limit(max_seconds, "max_seconds")
    mem_limit = memory_limit() if mem_limit is None else mem_limit
    time_limit = DEFAULT_MAX_SECONDS if time_limit is None else time_limit
    extra = f" ({detail})" if detail else ""
    if not memory <= mem_limit:
        raise ResourceLimitError(
            f"{argument} needs about {format_bytes(memory)} of memory{extra}, over the limit of "
            f"{format_bytes(mem_limit)} ($OVERSMOOTH_MAX_BYTES, else this machine's memory, or ulimit -v): refused before allocating")
    if not seconds <= time_limit:
        years = seconds / (365.25 * 86400)
        when = f"{years:.3g} years" if years >= 1 else format_seconds(seconds)
        raise ResourceLimitError(
            f"{argument} needs about {when} of work{extra}, over the limit of {format_seconds(time_limit)} "
            "(raise it with max_seconds, --max-hours on the command line): refused before starting")
