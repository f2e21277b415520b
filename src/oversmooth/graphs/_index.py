"""The one parser of node masks and node-index arrays (splits, probes, training masks).

Examples
--------
>>> import numpy as np
>>> from oversmooth.graphs import as_node_index
>>> as_node_index(np.array([True, False, True]), 3, "train_mask").tolist()
[0, 2]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._utils import check_choice, check_nonneg_int
from ..errors import ValidationError

__all__ = ["as_node_index"]

_DUPLICATES = ("merge", "refuse")


def _to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def as_node_index(mask_or_index: Any, n_nodes: int, name: str = "index", *,
                  duplicates: str = "merge") -> np.ndarray:
    """A boolean mask of length N or an array of node ids -> sorted, unique int64 node indices.

    The contract shared by split files (:func:`~oversmooth.graphs.load_split`), split
    triples, the public split and the probes of :mod:`oversmooth.measures`:

    * ``dtype bool``: a mask, exactly ``n_nodes`` entries (one per node);
    * an integer dtype (NumPy, list, torch tensor): node ids, 1-D, each in ``0..n_nodes-1``;
      an integer 0/1 array is read as *ids*, never as a mask (save masks as bool);
    * anything else (floats, strings, objects, 2-D arrays) is refused;
    * an empty list or array is the empty set.

    Parameters
    ----------
    mask_or_index : array-like or torch tensor
    n_nodes : int
        Number of nodes N of the graph.
    name : str
        What the argument is called in messages (``"train_mask"``, ``"split.npz: 'test'"``).
    duplicates : {"merge", "refuse"}, default "merge"
        A node id listed twice: merged silently, or refused (split files, where a repeat
        usually means a 0/1 mask saved as integers; the message says so).

    Returns
    -------
    numpy.ndarray of int64, sorted, unique

    Raises
    ------
    ValidationError (``ValueError``)
        Naming ``name``: wrong dtype, shape or length, an id out of range, a refused repeat.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.graphs import as_node_index
    >>> as_node_index([2, 0, 2], 3, "test_mask").tolist()
    [0, 2]
    >>> as_node_index([2, 0, 2], 3, "test", duplicates="refuse")
    Traceback (most recent call last):
    ...
    oversmooth.errors.ValidationError: test lists node 2 more than once
    """
    n = check_nonneg_int(n_nodes, "n_nodes")
    duplicates = check_choice(duplicates, "duplicates", _DUPLICATES)
    try:
        a = _to_numpy(mask_or_index)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be a boolean mask or an integer index array ({exc})") from None
    if a.size == 0 and a.dtype.kind in "fO" and a.ndim == 1:  # [] from a list or JSON
        return np.zeros(0, dtype=np.int64)
    if a.dtype == np.bool_:
        if a.shape != (n,):
            raise ValidationError(f"{name} is a boolean mask of shape {a.shape}, expected ({n},) (one entry per node)")
        return np.flatnonzero(a).astype(np.int64)
    if not np.issubdtype(a.dtype, np.integer):
        raise ValidationError(f"{name} must be a boolean mask or an integer index array, got dtype {a.dtype}")
    if a.ndim != 1:
        raise ValidationError(f"{name} must be a 1-D array of node indices, got shape {a.shape}")
    if a.size and (int(a.min()) < 0 or int(a.max()) >= n):
        bad = int(a.min()) if int(a.min()) < 0 else int(a.max())
        raise ValidationError(f"{name} holds node id {bad}, outside 0..{n - 1} (N={n})")
    idx = np.sort(a.astype(np.int64))
    rep = idx[1:][idx[1:] == idx[:-1]]
    if rep.size:
        if duplicates == "refuse":
            hint = (" (an integer array is read as node indices: save a 0/1 mask as dtype bool)"
                    if a.shape == (n,) and np.all((a == 0) | (a == 1)) else "")
            raise ValidationError(f"{name} lists node {int(rep[0])} more than once{hint}")
        idx = np.unique(idx)
    return idx
