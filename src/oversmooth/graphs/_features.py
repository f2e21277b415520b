"""Node features: Gaussian class features on any graph, and feature files.

:func:`gaussian_class_features` is the one sampler of ``x_i ~ N(mu_{c_i}, Sigma)`` used by the
CSBM sampler (:func:`~oversmooth.graphs.sample_csbm`), ``analyze`` and ``train``;
:func:`read_features` reads a user's feature matrix from ``.npy`` / ``.npz``.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._utils import SeedLike, check_finite_array, check_random_state

__all__ = ["gaussian_class_features", "read_features", "covariance_factor", "FEATURE_KEYS"]

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
            raise ValueError(f"sigma must be >= 0 (a standard deviation), got {float(arr)}")
        return float(arr) * np.eye(d)
    if arr.shape != (d, d):
        raise ValueError(f"sigma must be a scalar or a {d} x {d} covariance matrix, got shape {arr.shape}")
    if not np.allclose(arr, arr.T, atol=1e-12 * max(1.0, float(np.abs(arr).max()))):
        raise ValueError("sigma (covariance) must be symmetric")
    w, v = np.linalg.eigh(arr)
    tol = 1e-10 * max(1.0, float(np.abs(w).max()))
    if w.min() < -tol:
        raise ValueError(f"sigma (covariance) must be positive semi-definite, got an eigenvalue {w.min():.3g}")
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
        raise ValueError(f"labels must be a 1-D array (one label per node), got shape {lab.shape}")
    if lab.size and not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(f"labels must be integers (-1 for unlabelled), got dtype {lab.dtype}")
    lab = lab.astype(np.int64, copy=False)
    mu_arr = check_finite_array(mu, "mu", ndim=(1, 2))
    if mu_arr.ndim == 1:
        mu_arr = mu_arr[:, None]
    k_needed = int(lab.max()) + 1 if lab.size and lab.max() >= 0 else 0
    if mu_arr.shape[0] < max(k_needed, 1):
        raise ValueError(f"mu must have one row per class ({k_needed} classes), got shape {np.shape(mu)}")
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


def _load_sparse_npz(p: Path) -> np.ndarray:
    try:
        return sp.load_npz(p).toarray().astype(np.float64)
    except (ValueError, OSError, KeyError) as exc:
        raise ValueError(f"{p}: not a scipy.sparse .npz feature matrix ({exc})") from None


def load_npz_archive(p: Path, what: str, single: str) -> Any:
    """``numpy.load(p, allow_pickle=False)`` of an .npz archive, every failure a ``ValueError`` naming ``p``.

    ``what`` completes "``p``: not ..." for an unreadable file, ``single`` is the message
    for a file that holds one array instead of an archive. Returns the open ``NpzFile``
    (use it in a ``with`` block).
    """
    try:
        z = np.load(p, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{p}: not {what} ({exc})") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise ValueError(f"{p}: {single}")
    return z


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
        raise FileNotFoundError(f"feature file not found: {p}")
    suffix = p.suffix.lower()
    if suffix not in (".npy", ".npz"):
        raise ValueError(f"{p}: features must be a .npy or .npz file, got suffix {p.suffix!r}")
    with open(p, "rb") as fh:
        magic = fh.read(6)
    if not (magic.startswith(b"PK") or magic == b"\x93NUMPY"):
        what = "a pickle, which is refused (allow_pickle=False)" if magic[:1] == b"\x80" else "not a NumPy file"
        raise ValueError(f"{p}: cannot be read as a NumPy {suffix} file ({what})")
    try:
        loaded = np.load(p, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise ValueError(f"{p}: holds pickled objects, which are refused (allow_pickle=False)") from None
        raise ValueError(f"{p}: cannot be read as a NumPy {suffix} file ({exc})") from None
    except (OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{p}: cannot be read as a NumPy {suffix} file ({exc})") from None
    where = str(p)
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            keys = [k for k in FEATURE_KEYS if k in loaded.files]
            if not keys and {"format", "shape", "data"} <= set(loaded.files):
                arr = _load_sparse_npz(p)
            elif not keys:
                raise ValueError(f"{p}: no key 'x' or 'features' (found {', '.join(map(repr, loaded.files)) or 'none'})")
            elif len(keys) == 2:
                raise ValueError(f"{p}: has both 'x' and 'features'; keep one")
            else:
                where = f"{p}, key {keys[0]!r}"
                try:
                    arr = loaded[keys[0]]
                except ValueError as exc:
                    if "pickle" in str(exc).lower():
                        raise ValueError(f"{where}: holds pickled objects, which are refused (allow_pickle=False)") \
                            from None
                    raise ValueError(f"{where}: cannot be read ({exc})") from None
    else:
        arr = loaded
    return check_feature_matrix(arr, n_nodes, where)


def check_feature_matrix(arr: Any, n_nodes: int | None, where: str) -> np.ndarray:
    """A numeric, finite, 1-D or 2-D array -> float64 (N, d); errors start with ``where``."""
    a = np.asarray(arr)
    if not (a.dtype == np.bool_ or np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
        raise ValueError(f"{where}: features must be numbers, got dtype {a.dtype}")
    if a.ndim not in (1, 2):
        raise ValueError(f"{where}: features must be a 1-D or 2-D array (nodes x dims), got shape {a.shape}")
    x = a.astype(np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if not np.all(np.isfinite(x)):
        r, c = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{where}: features must be finite, got {x[r, c]} at row {r}, column {c}")
    if n_nodes is not None and x.shape[0] != int(n_nodes):
        raise ValueError(f"{where}: {x.shape[0]} rows of features for a graph of {int(n_nodes)} nodes")
    return x
