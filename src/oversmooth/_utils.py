"""Shared helpers: seeding, argument validation and lazy optional imports.

Every public function of :mod:`oversmooth` that draws random numbers takes a
``seed`` argument and turns it into a :class:`numpy.random.Generator` through
:func:`check_random_state`; independent streams are split with
:func:`spawn_generators` (``numpy.random.SeedSequence.spawn`` underneath).
Every purpose (edges, features, probes, Monte Carlo, training, a sweep cell, a replicate)
gets its own stream from the user's seed through :func:`derive_seed`, keyed by a purpose
string: two purposes never replay each other's bits. The global NumPy RNG is never used.
"""

from __future__ import annotations

import hashlib
import importlib
import functools
import math
import numbers
import warnings
from types import ModuleType
from typing import Any, Callable, TypeVar, Union

import numpy as np

from .errors import ArgumentTypeError, ValidationError

SeedLike = Union[int, np.integer, np.random.Generator, np.random.SeedSequence, None]

__all__ = [
    "SeedLike",
    "check_random_state",
    "spawn_generators",
    "derive_seed",
    "check_probability",
    "check_positive_int",
    "check_nonneg_int",
    "check_finite_array",
    "check_choice",
    "optional_import",
    "renamed_kwargs",
]

_F = TypeVar("_F", bound=Callable[..., Any])


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
            raise ValidationError(f"seed must be a non-negative integer, got {seed}")
        return np.random.default_rng(int(seed))
    raise ArgumentTypeError(
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
    return [np.random.default_rng(child) for child in _seed_sequence(seed).spawn(n)]


def _seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """An int, a ``SeedSequence`` or ``None`` as a ``SeedSequence`` (validated; not a Generator)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        return np.random.SeedSequence()
    check_random_state(seed)  # validates type and sign
    return np.random.SeedSequence(int(seed))  # type: ignore[arg-type]


def _purpose_words(purpose: tuple[Any, ...]) -> tuple[int, ...]:
    """Eight 32-bit words from the SHA-256 of the purpose parts (type-tagged, NUL-separated)."""
    parts = []
    for p in purpose:
        if isinstance(p, str):
            parts.append("s:" + p)
        elif isinstance(p, (numbers.Integral, np.integer)) and not isinstance(p, bool):
            parts.append(f"i:{int(p)}")
        else:
            raise ArgumentTypeError(f"purpose parts must be str or int, got {type(p).__name__} ({p!r})")
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 32, 4))


def derive_seed(seed: SeedLike, *purpose: str | int, as_int: bool = False) -> Any:
    """The random stream of one purpose, derived from the user's seed: one helper for every scheme.

    ``SeedSequence(entropy=seed, spawn_key=words)`` where ``words`` are the SHA-256 of the
    purpose parts (``"graph"``, ``"probes"``, ``"cell", 3``, ``"replicate", r``, ...): the
    same ``(seed, purpose)`` always gives the same stream, different purposes give
    independent streams, and none of them replays ``SeedSequence(seed)`` itself or its
    :meth:`~numpy.random.SeedSequence.spawn` children (their spawn keys are short tuples of
    small ints, never eight hash words). Python's ``hash`` is not used (it is salted per
    process for strings).

    Parameters
    ----------
    seed : int >= 0, SeedSequence, Generator or None
        An int or a ``SeedSequence`` is keyed as above (a ``SeedSequence`` keeps its own
        spawn key in front of the purpose words); a ``Generator`` contributes one spawned
        child (its stream advances; not reproducible from an int); ``None`` fresh entropy.
    *purpose : str or int
        What the stream is for; nested purposes are further parts (``"cell", 3, "graph"``).
    as_int : bool, default False
        Return an int in ``[0, 2**31)`` (for APIs that want an integer seed: torch, older
        code) instead of the ``SeedSequence``.

    Returns
    -------
    numpy.random.SeedSequence or int
        Pass the ``SeedSequence`` to :func:`check_random_state`, ``numpy.random.default_rng``
        or any ``seed=`` argument of :mod:`oversmooth`.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth._utils import derive_seed
    >>> a = np.random.default_rng(derive_seed(0, "graph")).integers(1000, size=3)
    >>> b = np.random.default_rng(derive_seed(0, "graph")).integers(1000, size=3)
    >>> c = np.random.default_rng(derive_seed(0, "probes")).integers(1000, size=3)
    >>> bool((a == b).all()), bool((a == c).all())
    (True, False)
    >>> derive_seed(0, "cell", 3, as_int=True) == derive_seed(0, "cell", 3, as_int=True) < 2**31
    True
    """
    if not purpose:
        raise ValidationError("derive_seed needs a purpose (e.g. 'graph', 'probes'): one stream per purpose")
    words = _purpose_words(purpose)
    if isinstance(seed, np.random.Generator):
        base = seed.spawn(1)[0].bit_generator.seed_seq
    else:
        base = _seed_sequence(seed)
    seq = np.random.SeedSequence(base.entropy, spawn_key=tuple(base.spawn_key) + words,
                                 pool_size=base.pool_size)
    if as_int:
        return int(seq.generate_state(1, np.uint32)[0] >> 1)
    return seq


def check_probability(value: Any, name: str) -> float:
    """Return ``value`` as a float in [0, 1] or raise ``ValueError`` naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not (0.0 <= v <= 1.0):  # also rejects NaN
        raise ValidationError(f"{name} must be in [0, 1], got {value}")
    return v


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum`` or raise ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise ValidationError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if int(value) < minimum:
        raise ValidationError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_nonneg_int(value: Any, name: str) -> int:
    """Return ``value`` as an int >= 0 or raise ``ValueError`` naming ``name``."""
    return check_positive_int(value, name, minimum=0)


def check_finite_array(value: Any, name: str, *, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Convert to a float64 array, checking it is finite (and of the given rank)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be an array of numbers, got {value!r}") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            raise ValidationError(f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].ravel()[0]
        raise ValidationError(f"{name} must be finite, got a value {bad}")
    return arr


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValidationError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return str(value)


def check_positive_float(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite float > 0 (or >= 0) or raise naming ``name``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{name} must be a number, got {value!r}") from None
    ok = math.isfinite(v) and (v >= 0 if allow_zero else v > 0)
    if not ok:
        raise ValidationError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, got {value}")
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


def renamed_kwargs(**renames: str) -> Callable[[_F], _F]:
    """Keep an old keyword argument working for one release, with a :class:`DeprecationWarning`.

    ``@renamed_kwargs(lam_="lam")`` maps a call's ``lam_=`` to ``lam=`` and warns; passing
    both names is a :class:`~oversmooth.errors.ValidationError` naming them.

    Examples
    --------
    >>> import warnings
    >>> from oversmooth._utils import renamed_kwargs
    >>> @renamed_kwargs(old="new")
    ... def f(new=1):
    ...     return new
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(old=3), w[0].category.__name__
    (3, 'DeprecationWarning')
    """

    def wrap(func: _F) -> _F:
        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise ValidationError(f"{func.__name__}() got both {old}= (deprecated) and {new}=; "
                                              f"pass only {new}=")
                    warnings.warn(f"{func.__name__}(): the argument {old}= is deprecated and will be removed in "
                                  f"the next release; use {new}=", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return inner  # type: ignore[return-value]

    return wrap
