"""Node features: Gaussian class features on any graph, and feature files.

:func:`gaussian_class_features` is the one sampler of ``x_i ~ N(mu_{c_i}, Sigma)`` used by the
CSBM sampler (:func:`~oversmooth.graphs.sample_csbm`), ``analyze`` and ``train``;
:func:`read_features` reads a user's feature matrix from ``.npy`` / ``.npz``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._utils import SeedLike, check_finite_array, check_random_state
from ..errors import FileFormatError, ValidationError
from ._arrays import SafeNpz, load_npy, open_npz
from ._download import MissingFileError
from ._limits import check_bytes, check_node_count

__all__ = ["gaussian_class_features", "read_features", "covariance_factor", "FEATURE_KEYS", "load_sparse_npz",
           "load_npz_archive", "check_feature_matrix"]

#: Keys an ``.npz`` file may hold its feature matrix under (first found wins; both is an error).
FEATURE_KEYS = ("x", "features")


def covariance_factor(sigma: Any, d: int) -> np.ndarray:
    """A matrix F with F F^T = Sigma (a scalar sigma means Sigma = sigma^2 I).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.graphs._features import covariance_factor
    >>> f = covariance_factor([[4.0, 0.0], [0.0, 1.0]], 2)
    >>> np.allclose(f @ f.T, [[4, 0], [0, 1]])
    True
    """
    arr = check_finite_array(sigma, "sigma", ndim=(0, 2))
    if arr.ndim == 0:
        if arr < 0:
            raise ValidationError(f"sigma must be >= 0 (a standard deviation), got {float(arr)}")
        return float(arr) * np.eye(d)
    if arr.shape != (d, d):
        raise ValidationError(f"sigma must be a scalar or a {d} x {d} covariance matrix, got shape {arr.shape}")
    if not np.allclose(arr, arr.T, atol=1e-12 * max(1.0, float(np.abs(arr).max()))):
        raise ValidationError("sigma (covariance) must be symmetric")
    w, v = np.linalg.eigh(arr)
    tol = 1e-10 * max(1.0, float(np.abs(w).max()))
    if w.min() < -tol:
        raise ValidationError(f"sigma (covariance) must be positive semi-definite, got an eigenvalue {w.min():.3g}")
    return v * np.sqrt(np.clip(w, 0.0, None))


def gaussian_class_features(graph_or_labels: Any, mu: Any, sigma: Any = 1.0, seed: SeedLike = None) -> np.ndarray:
    """Draw ``x_i ~ N(mu_{c_i}, Sigma)`` for the nodes of an existing graph.

    Node ``i`` of class ``c_i`` gets ``mu[c_i] + F z_i`` with ``z_i ~ N(0, I_d)`` (one
    ``(N, d)`` block of standard normals from ``seed``) and ``F F^T = Sigma``; an unlabelled
    node (label ``-1``) gets the average of the class means.

    Parameters
    ----------
    graph_or_labels : Graph or array of int, shape (N,)
        The labels ``c_i`` (a Graph's ``labels``); ``-1`` = unlabelled.
    mu : array, shape (K,) or (K, d)
        Class means, one row per class (K >= max label + 1); K scalars give d = 1.
    sigma : float or array (d, d), default 1.0
        Standard deviation (``Sigma = sigma**2 I``) or a positive semi-definite covariance.
    seed : int, numpy.random.Generator, SeedSequence or None
        A Generator is used as is (its stream advances).

    Returns
    -------
    numpy.ndarray, float64, shape (N, d)

    Raises
    ------
    ValueError
        Non-finite ``mu`` / ``sigma``, fewer rows in ``mu`` than classes, a covariance of
        the wrong shape, not symmetric or not PSD.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.graphs import gaussian_class_features
    >>> x = gaussian_class_features(np.array([0, 0, 1, -1]), mu=[[-1.0, 0.0], [1.0, 0.0]], sigma=0.0, seed=0)
    >>> x.tolist()
    [[-1.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]
    """
    labels = getattr(graph_or_labels, "labels", graph_or_labels)
    lab = np.asarray(labels)
    if lab.ndim != 1:
        raise ValidationError(f"labels must be a 1-D array (one label per node), got shape {lab.shape}")
    if lab.size and not np.issubdtype(lab.dtype, np.integer):
        raise ValidationError(f"labels must be integers (-1 for unlabelled), got dtype {lab.dtype}")
    lab = lab.astype(np.int64, copy=False)
    mu_arr = check_finite_array(mu, "mu", ndim=(1, 2))
    if mu_arr.ndim == 1:
        mu_arr = mu_arr[:, None]
    k_needed = int(lab.max()) + 1 if lab.size and lab.max() >= 0 else 0
    if mu_arr.shape[0] < max(k_needed, 1):
        raise ValidationError(f"mu must have one row per class ({k_needed} classes), got shape {np.shape(mu)}")
    d = mu_arr.shape[1]
    factor = covariance_factor(sigma, d)
    rng = check_random_state(seed)
    noise = rng.standard_normal((lab.size, d))
    unlabelled = lab < 0
    if unlabelled.any():
        mean = mu_arr[np.clip(lab, 0, None)]
        mean[unlabelled] = mu_arr.mean(axis=0)
    else:
        mean = mu_arr[lab]
    sig = np.asarray(sigma, dtype=np.float64)
    if sig.ndim == 0 and float(sig) != 0.0:
        # Sigma = sigma^2 I: F z = sigma z, bit for bit what the product with sigma * I gives, in O(N d)
        noise *= float(sig)
        return mean + noise
    return mean + noise @ factor.T


def load_sparse_npz(z: SafeNpz, *, dense_features: bool) -> sp.csr_array:
    """A ``scipy.sparse.save_npz`` archive -> CSR, its declared shape checked before anything is built.

    ``dense_features``: the matrix will be made dense (features), so rows x cols x 8 bytes
    must fit the budget; otherwise (an adjacency) the node count must.
    """
    p = z.path
    fmt_arr, shape_arr = z["format"], z["shape"]
    fmt = fmt_arr.item() if fmt_arr.size == 1 else None
    fmt = fmt.decode("ascii", "replace") if isinstance(fmt, bytes) else str(fmt)
    if shape_arr.shape != (2,) or shape_arr.dtype.kind not in "iu" or shape_arr.min() < 0:
        raise FileFormatError(f"{p}: 'shape' of a sparse matrix must be two non-negative integers, got {shape_arr}")
    rows, cols = (int(v) for v in shape_arr)
    if dense_features:
        check_bytes(rows * cols * 8, f"{p}: a {rows} x {cols} feature matrix made dense")
    else:
        check_node_count(max(rows, cols), f"{p}: a {rows} x {cols} sparse matrix")
    try:
        if fmt in ("csr", "csc"):
            cls = sp.csr_array if fmt == "csr" else sp.csc_array
            m = cls((z["data"], z["indices"], z["indptr"]), shape=(rows, cols))
            m.check_format(full_check=True)
        elif fmt == "coo":
            r, c = z["row"], z["col"]
            if r.size and (r.min() < 0 or c.min() < 0 or r.max() >= rows or c.max() >= cols):
                raise ValidationError("row or column index outside the shape")
            m = sp.coo_array((z["data"], (r, c)), shape=(rows, cols))
        else:
            raise FileFormatError(f"{p}: sparse format {fmt!r} is not supported (save it as csr, csc or coo)")
    except (ValueError, TypeError, IndexError) as exc:
        if isinstance(exc, FileFormatError):
            raise
        raise FileFormatError(f"{p}: not a valid scipy.sparse {fmt} matrix ({' '.join(str(exc).split())})") from None
    return sp.csr_array(m)


def load_npz_archive(p: Path, what: str, single: str) -> SafeNpz:
    """An ``.npz`` archive whose arrays are size-checked when read (:func:`~oversmooth.graphs._arrays.open_npz`)."""
    return open_npz(p, what, single)


def read_features(path: str | os.PathLike[str], n_nodes: int | None = None) -> np.ndarray:
    """Read a node-feature matrix from ``.npy`` or ``.npz``.

    ``.npy``: the array itself. ``.npz``: the array under key ``"x"`` or ``"features"``
    (``numpy.savez``), or a ``scipy.sparse.save_npz`` matrix (made dense). Pickled objects
    are refused (``allow_pickle=False``). A 1-D array is one feature per node.

    Parameters
    ----------
    path : path to a ``.npy`` or ``.npz`` file
    n_nodes : int, optional
        Expected number of rows (one per node).

    Returns
    -------
    numpy.ndarray, float64, shape (N, d)

    Raises
    ------
    FileNotFoundError
    ValueError
        Naming the file: unknown suffix, no ``x`` / ``features`` key (or both), pickled
        objects, non-numeric or non-finite values, not 1-D/2-D, wrong number of rows.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from oversmooth.graphs import read_features
    >>> p = os.path.join(tempfile.mkdtemp(), "feat.npz")
    >>> np.savez(p, x=np.eye(3))
    >>> read_features(p, n_nodes=3).shape
    (3, 3)
    """
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"feature file not found: {p}")
    suffix = p.suffix.lower()
    if suffix not in (".npy", ".npz"):
        raise FileFormatError(f"{p}: features must be a .npy or .npz file, got suffix {p.suffix!r}")
    if suffix == ".npy":
        arr = load_npy(p)
        where = str(p)
    else:
        with open_npz(p, "a NumPy .npz file", "holds a single .npy array; name it .npy") as z:
            keys = [k for k in FEATURE_KEYS if k in z]
            if not keys and {"format", "shape", "data"} <= set(z.files):
                arr = load_sparse_npz(z, dense_features=True).toarray()
                where = str(p)
            elif not keys:
                raise FileFormatError(f"{p}: no key 'x' or 'features' (found {', '.join(map(repr, z.files)) or 'none'})")
            elif len(keys) == 2:
                raise FileFormatError(f"{p}: has both 'x' and 'features'; keep one")
            else:
                where = f"{p}, key {keys[0]!r}"
                arr = z[keys[0]]
    return check_feature_matrix(arr, n_nodes, where)


def check_feature_matrix(arr: Any, n_nodes: int | None, where: str) -> np.ndarray:
    """A numeric, finite, 1-D or 2-D array -> float64 (N, d); errors start with ``where``."""
    a = np.asarray(arr)
    if not (a.dtype == np.bool_ or np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise FileFormatError(f"{where}: features must be numbers, got dtype {a.dtype}")
    if a.ndim not in (1, 2):
        raise FileFormatError(f"{where}: features must be a 1-D or 2-D array (nodes x dims), got shape {a.shape}")
    x = a.astype(np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[1] == 0:
        raise FileFormatError(f"{where}: features have 0 columns (shape {a.shape})")
    if not np.all(np.isfinite(x)):
        r, c = np.argwhere(~np.isfinite(x))[0]
        raise FileFormatError(f"{where}: features must be finite, got {x[r, c]} at row {r}, column {c}")
    if n_nodes is not None and x.shape[0] != int(n_nodes):
        raise FileFormatError(f"{where}: {x.shape[0]} rows of features for a graph of {int(n_nodes)} nodes")
    return x
