"""Geometric skipping: the successes of many Bernoulli trials in O(successes), and triangle decoding."""

from __future__ import annotations

import numpy as np

from ..errors import ValidationError

__all__ = ["bernoulli_positions"]

_MAX_POSITION = 2**53  # positions are produced through float64 exponentials


def bernoulli_positions(m: int, p: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of the successes among ``m`` independent Bernoulli(``p``) trials.

    Uses geometric skipping (Batagelj & Brandes, 2005): the gaps between
    successive successes are i.i.d. Geometric(p), drawn as ``floor(E / c) + 1``
    with ``E ~ Exp(1)`` and ``c = -log(1 - p)``. Cost O(m p) time and memory,
    never one random number per trial; the result is exact up to the rounding of
    the float64 exponential variates.

    Parameters
    ----------
    m : int
        Number of trials (must be < 2**53).
    p : float
        Success probability in [0, 1].
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray of int64, sorted, distinct, in ``[0, m)``.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.graphs import bernoulli_positions
    >>> pos = bernoulli_positions(10_000, 0.01, np.random.default_rng(0))
    >>> bool(np.all(np.diff(pos) > 0)), 50 < pos.size < 150
    (True, True)
    """
    if m < 0 or m >= _MAX_POSITION:
        raise ValidationError(f"m must be in [0, 2**53) (the number of Bernoulli trials), got {m}")
    if m == 0 or p <= 0.0:
        return np.empty(0, dtype=np.int64)
    if p >= 1.0:
        return np.arange(m, dtype=np.int64)
    inv_c = -1.0 / np.log1p(-p)
    chunks: list[np.ndarray] = []
    last = -1
    while True:
        remaining = (m - 1 - last) * p
        size = int(remaining + 6.0 * np.sqrt(remaining) + 64)
        gaps = rng.standard_exponential(size)
        gaps *= inv_c
        np.floor(gaps, out=gaps)
        # a gap of m or more already ends the run; clipping keeps tiny p (huge gaps,
        # even inf) from overflowing int64 in the cast and the cumulative sum
        np.minimum(gaps, float(m), out=gaps)
        steps = gaps.astype(np.int64)
        steps += 1
        steps[0] += last
        np.cumsum(steps, out=steps)
        if steps[-1] >= m:
            chunks.append(steps[: np.searchsorted(steps, m)])
            break
        chunks.append(steps)
        last = int(steps[-1])
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


def _decode_lower_triangle(k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map row-major positions in the strict lower triangle to (i, j), j < i."""
    i = np.floor((1.0 + np.sqrt(1.0 + 8.0 * k.astype(np.float64))) / 2.0).astype(np.int64)
    # correct the rare off-by-one of the floating-point square root
    start = i * (i - 1) // 2
    too_big = start > k
    i[too_big] -= 1
    start = i * (i - 1) // 2
    too_small = (i + 1) * i // 2 <= k
    i[too_small] += 1
    start = i * (i - 1) // 2
    return i, k - start
