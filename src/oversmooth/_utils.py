"""Shared helpers: seeding, argument validation and lazy optional imports.

Every public function of :mod:`oversmooth` that draws random numbers takes a
``seed`` argument and turns it into a :class:`numpy.random.Generator` through
:func:`check_random_state`; independent streams are split with
:func:`spawn_generators` (``numpy.random.SeedSequence.spawn`` underneath).
The global NumPy RNG is never used.
"""

from __future__ import annotations

import importlib
import math
import numbers
from types import ModuleType
from typing import Any, Union

import numpy as np

SeedLike = Union[int, np.integer, np.random.Generator, np.random.SeedSequence, None]

__all__ = [
    "SeedLike",
    "check_random_state",
    "spawn_generators",
    "check_probability",
    "check_positive_int",
    "check_nonneg_int",
    "check_finite_array",
    "check_choice",
    "optional_import",
]


def check_random_state(seed: SeedLike) -> np.random.Generator:
    """Turn ``seed`` into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    seed : int, numpy.random.Generator, numpy.random.SeedSequence or None
        An int (>= 0) or a ``SeedSequence`` seeds a new PCG64 generator; a
        ``Generator`` is returned as is (so the caller's stream advances);
        ``None`` draws fresh entropy from the operating system.

    Returns
    -------
    numpy.random.Generator

    Examples
    --------
    >>> from oversmooth._utils import check_random_state
    >>> a = check_random_state(0).integers(100, size=3)
    >>> b = check_random_state(0).integers(100, size=3)
    >>> bool((a == b).all())
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, bool):
        if int(seed) < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        return np.random.default_rng(int(seed))
    raise TypeError(
        "seed must be an int, a numpy.random.Generator, a numpy.random.SeedSequence "
        f"or None, got {type(seed).__name__}"
    )


def spawn_generators(seed: SeedLike, n: int) -> list[np.random.Generator]:
    """Split ``seed`` into ``n`` statistically independent generators.

    Children come from :meth:`numpy.random.SeedSequence.spawn` (or
    :meth:`numpy.random.Generator.spawn` for a generator), so the streams do
    not overlap and the same ``seed`` always gives the same children.

    Examples
    --------
    >>> from oversmooth._utils import spawn_generators
    >>> g1, g2 = spawn_generators(7, 2)
    >>> float(g1.random()) != float(g2.random())
    True
    """
    if isinstance(seed, np.random.Generator):
        return list(seed.spawn(n))
    if isinstance(seed, np.random.SeedSequence):
        seq = seed
    elif seed is None:
        seq = np.random.SeedSequence()
    else:
        check_random_state(seed)  # validates type and sign
        seq = np.random.SeedSequence(int(seed))  # type: ignore[arg-type]
    return [np.random.default_rng(child) for child in seq.spawn(n)]


def check_probability(value: Any, name: str) -> float:
    """Return ``value`` as a float in [0, 1] or raise ``ValueError`` naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not (0.0 <= v <= 1.0):  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return v


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum`` or raise ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_nonneg_int(value: Any, name: str) -> int:
    """Return ``value`` as an int >= 0 or raise ``ValueError`` naming ``name``."""
    return check_positive_int(value, name, minimum=0)


def check_finite_array(value: Any, name: str, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Convert to a float64 array, checking it is finite (and of the given rank)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers, got {value!r}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].ravel()[0]
        raise ValueError(f"{name} must be finite, got a value {bad}")
    return arr


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return str(value)


def check_positive_float(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0) or raise naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    ok = math.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    if not ok:
        raise ValueError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {value}")
    return v


def optional_import(module: str, extra: str) -> ModuleType:
    """Import an optional dependency or explain which extra installs it.

    Examples
    --------
    >>> from oversmooth._utils import optional_import
    >>> optional_import("math", "test").__name__
    'math'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised via monkeypatch in tests
        raise ImportError(
            f"{module!r} is needed for this feature; install it with "
            f"`pip install 'oversmooth[{extra}]'`"
        ) from exc
