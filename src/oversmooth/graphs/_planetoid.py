"""Planetoid citation graphs (Cora, CiteSeer, PubMed): safe loading, verified download.

The raw files ``ind.<name>.{x,tx,allx,y,ty,ally,graph,test.index}`` of Yang, Cohen and
Salakhutdinov (ICML 2016, github.com/kimiyoung/planetoid, MIT license) are the files
PyTorch Geometric downloads. All but ``test.index`` are Python-2 pickles; they are read
by a *restricted* unpickler that resolves only the classes those files need (NumPy
arrays and dtypes, SciPy CSR matrices, ``list`` and ``defaultdict``). Anything else, for
instance ``os.system`` smuggled in through ``__reduce__``, is refused with
:class:`UnsafePickleError` before it can run.

Where the files come from, in order: ``root`` (if given), the cache directory
(``$OVERSMOOTH_DATA``, else ``~/.cache/oversmooth``, sub-folder ``planetoid``), else a
download from ``url`` (default :data:`DEFAULT_URL`, the upstream repository's raw files)
(or ``$OVERSMOOTH_PLANETOID_URL``) into the cache through
:func:`oversmooth.graphs._download.download`: capped at the file's known size (a
``Content-Length`` above it is refused up front), under one total deadline (``timeout``),
checked for SHA-256 (the one file without a hash must parse first) and only then renamed
into place. A wrong hash, a truncated, oversized, slow or missing file raises an error
naming the file and the URL, and nothing half-written is left in the cache; ``.part``
files of a killed earlier run are removed on the next call.

Every file is checked against the SHA-256 shipped in :data:`PLANETOID_SHA256`. One hash
is not known to this package: ``ind.pubmed.allx`` (PubMed's unlabelled-node features)
was absent from the copy the hashes were taken from, and no hash is invented for it. Its
entry is ``None``: such a file cannot be verified, and loading it raises
:class:`UnverifiedFileError` unless the caller opts in with ``allow_unverified=True``
(it is then still read through the restricted unpickler). Structure and labels do not
need the feature files: ``features=False`` loads them without ``allx``.

Graph semantics follow PyG's ``Planetoid``: the stored graph is symmetric, without
duplicate edges or self-loops. CiteSeer's raw files lack the features and labels of 15 test
nodes (their ids are missing from ``ind.citeseer.test.index``); they are kept, with their
edges from ``ind.citeseer.graph``, zero features and label ``-1`` (unlabelled; PyG labels
them 0). (They are not isolated: each has one or two edges.)

Compact structure + labels of the three graphs also ship inside the package
(``oversmooth/graphs/data/planetoid_<name>.npz``, built by
``scripts/build_planetoid_arrays.py``); :func:`planetoid_structure` loads them offline.
"""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .._utils import check_choice, check_positive_float
from ..errors import FileFormatError
from ._download import (IntegrityError, MissingFileError, UnverifiedFileError, data_home, download,
                        remove_stale_parts, sha256_file)
from ._graph import Graph
from ._planetoid_files import PLANETOID_SHA256, PLANETOID_SIZES
from ._pickle import PickleFormatError, UnsafePickleError, checked_csr, restricted_load

__all__ = [
    "PLANETOID_NAMES",
    "PLANETOID_FILES",
    "PLANETOID_SHA256",
    "PLANETOID_SIZES",
    "PLANETOID_COUNTS",
    "DEFAULT_URL",
    "UnsafePickleError",
    "PickleFormatError",
    "UnverifiedFileError",
    "IntegrityError",
    "MissingFileError",
    "data_home",
    "load_planetoid",
    "planetoid_structure",
    "restricted_load",
]

PLANETOID_NAMES = ("cora", "citeseer", "pubmed")
PLANETOID_FILES = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
_FEATURE_FILES = ("tx", "allx")  # "x" is a subset of "allx": not needed
# "y" (the first rows of "ally") is read only for its length: the public split's training nodes
_STRUCTURE_FILES = ("y", "ally", "ty", "graph", "test.index")

#: The upstream repository's raw data folder (``<url>/ind.<name>.<suffix>``).
DEFAULT_URL = "https://github.com/kimiyoung/planetoid/raw/master/data"

#: Expected (nodes, undirected edges without self-loops, classes, feature dims).
PLANETOID_COUNTS = {
    "cora": (2708, 5278, 7, 1433),
    "citeseer": (3327, 4552, 6, 3703),
    "pubmed": (19717, 44324, 3, 500),
}

_PUBLIC_VAL = 500  # validation nodes of the public split (PyG's read_planetoid_data)


def _public_split(n_train: int, test_index: np.ndarray) -> dict[str, np.ndarray]:
    """PyG's Planetoid(split="public"): train = range(len(y)), val = the next 500, test = test.index."""
    return {"train": np.arange(n_train, dtype=np.int64),
            "val": np.arange(n_train, n_train + _PUBLIC_VAL, dtype=np.int64),
            "test": np.sort(np.asarray(test_index, dtype=np.int64))}


# --------------------------------------------------------------------------- files: find, verify, download
def _verify(path: Path, fname: str, allow_unverified: bool) -> bool:
    """Check ``path`` against the shipped SHA-256; return whether it was verified (False: opted-in unverified)."""
    expected = PLANETOID_SHA256.get(fname)
    if expected is None:
        if not allow_unverified:
            raise UnverifiedFileError(
                f"{fname}: no SHA-256 for this file ships with oversmooth, so {path} cannot be verified; pass "
                "allow_unverified=True to load it anyway (still through the restricted unpickler), or "
                "features=False to load structure and labels without it")
        return False
    size = PLANETOID_SIZES.get(fname)
    if size is not None and path.stat().st_size != size:
        raise IntegrityError(f"{fname}: {path} has {path.stat().st_size} bytes, expected {size}; the file is corrupt "
                             "or truncated: delete it and load again")
    got = sha256_file(path)
    if got != expected:
        raise IntegrityError(f"{fname}: SHA-256 mismatch for {path} (expected {expected}, got {got}); the file is "
                             "corrupt or truncated: delete it and load again")
    return True


def _locate(name: str, suffix: str, root: Path | None, cache: Path, url: str | None, download_ok: bool,
            allow_unverified: bool, progress: bool, timeout: float) -> tuple[Path, bool]:
    fname = f"ind.{name}.{suffix}"
    candidates = ([root / fname] if root is not None else []) + [cache / fname]
    for path in candidates:
        if path.is_file():
            return path, _verify(path, fname, allow_unverified)
    if not download_ok:
        raise MissingFileError(f"{fname}: not found in {', '.join(str(c.parent) for c in candidates)} and "
                               "download=False")
    expected = PLANETOID_SHA256.get(fname)
    if expected is None and not allow_unverified:
        _verify(cache / fname, fname, allow_unverified)  # raises UnverifiedFileError before any download
    dest = cache / fname
    base = (url or os.environ.get("OVERSMOOTH_PLANETOID_URL") or DEFAULT_URL).rstrip("/")
    download(f"{base}/{fname}", dest, fname=fname, sha256=expected, max_bytes=PLANETOID_SIZES.get(fname),
             timeout=timeout, progress=progress,
             check=None if expected is not None else (lambda p: _check_features_file(p, name, suffix, fname)))
    return dest, expected is not None


def _check_features_file(path: Path, name: str, suffix: str, what: str) -> sp.csr_matrix:
    """An unverified feature file must parse as a CSR matrix of the dataset's feature dimension."""
    m = checked_csr(_read(path, what, verified=False), what)
    n, _, _, d = PLANETOID_COUNTS[name]
    if m.shape[1] != d or m.shape[0] > n:
        raise FileFormatError(f"{what}: a {m.shape[0]} x {m.shape[1]} matrix; {name} has {d} feature dimensions "
                              f"and at most {n} rows")
    return m

# --------------------------------------------------------------------------- parsing (as PyG's read_planetoid_data)
def _read(path: Path, fname: str, verified: bool) -> Any:
    """Unpickle ``path`` (the file ``fname``); errors name the path."""
    try:
        with open(path, "rb") as fh:
            return restricted_load(fh, str(path), verified=verified)
    except PickleFormatError as exc:
        if verified:
            raise
        raise type(exc)(f"{exc}; delete {path} or load with features=False") from None


def _dense_labels(onehot: Any, fname: str) -> np.ndarray:
    if not isinstance(onehot, np.ndarray) or onehot.ndim != 2:
        shape = getattr(onehot, "shape", None)
        raise FileFormatError(f"{fname}: expected a 2-D one-hot label array, got {type(onehot).__name__} "
                              f"{'' if shape is None else shape}")
    return onehot


def _edges_from_dict(graph: Any, n: int, fname: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(graph, dict):
        raise FileFormatError(f"{fname}: expected a dict of adjacency lists, got {type(graph).__name__}")
    try:
        keys = np.fromiter(graph.keys(), dtype=np.int64, count=len(graph))
        lists = [np.asarray(v, dtype=np.int64) for v in graph.values()]
    except (TypeError, ValueError, OverflowError):
        raise FileFormatError(f"{fname}: adjacency lists must map node ids to lists of node ids") from None
    if any(v.ndim != 1 for v in lists):
        raise FileFormatError(f"{fname}: adjacency lists must be flat lists of node ids")
    counts = np.array([v.size for v in lists], dtype=np.int64)
    src = np.repeat(keys, counts)
    dst = np.concatenate(lists) if lists else np.empty(0, np.int64)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    if src.size and (max(src.max(), dst.max()) >= n or min(src.min(), dst.min()) < 0):
        raise FileFormatError(f"{fname}: node ids outside 0..{n - 1}")
    return src, dst


def load_planetoid(
    name: str,
    root: str | os.PathLike[str] | None = None,
    url: str | None = None,
    *,
    features: bool = True,
    download: bool = True,
    allow_unverified: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
    progress: bool | None = None,
    timeout: float = 120.0,
) -> Graph:
    """Load Cora, CiteSeer or PubMed from the original raw Planetoid files.

    Parameters
    ----------
    name : {"cora", "citeseer", "pubmed"}
        Case-insensitive.
    root : path, optional
        Folder holding the raw ``ind.<name>.*`` files; looked at first.
    url : str, optional
        Base URL to download missing files from (default :data:`DEFAULT_URL`).
    features : bool, default True
        Load the bag-of-words features (``tx``, ``allx``). ``False`` loads
        structure and labels only (``graph.features is None``); needed when a feature
        file such as ``ind.pubmed.allx`` is unavailable or cannot be verified.
    download : bool, default True
        Download missing files into the cache; ``False`` raises instead.
    allow_unverified : bool, default False
        Accept a file for which no SHA-256 ships (only ``ind.pubmed.allx``).
    data_dir : path, optional
        Cache folder (default ``$OVERSMOOTH_DATA``, else ``~/.cache/oversmooth``);
        files live in its ``planetoid`` sub-folder.
    progress : bool, optional
        Progress bar on stderr while downloading (default: when stderr is a terminal).
    timeout : float, default 120
        Total seconds for downloading one file (connecting, headers and body together;
        a slower download is cut off and nothing is cached).

    Returns
    -------
    Graph
        Symmetric, no self-loops, no duplicate edges; ``labels`` in 0..K-1 with ``-1``
        for CiteSeer's 15 nodes missing from the raw feature/label files (zero features);
        ``metadata`` has the split sizes, the files used and ``public_split`` (PyG's
        ``Planetoid(split="public")`` train / val / test node indices, see
        :func:`~oversmooth.graphs.planetoid_public_split`).

    Raises
    ------
    IntegrityError, UnverifiedFileError, MissingFileError (``OSError``)
        A file that is corrupt, truncated, unverifiable, missing, too large or too slow
        to download; each names the file (and the URL).
    UnsafePickleError, PickleFormatError, FileFormatError (``ValueError``)
        A file whose content is refused; each names the file.

    Examples
    --------
    >>> from oversmooth.graphs import load_planetoid
    >>> g = load_planetoid("cora", features=False)  # doctest: +SKIP
    >>> g.n_nodes, g.n_edges, g.n_classes  # doctest: +SKIP
    (2708, 5278, 7)
    """
    key = check_choice(str(name).lower(), "name", PLANETOID_NAMES)
    timeout = check_positive_float(timeout, "timeout")
    root_p = Path(root) if root is not None else None
    cache = data_home(data_dir) / "planetoid"
    remove_stale_parts(cache)  # .part files of a killed earlier download (a missing folder is fine)
    if progress is None:
        progress = sys.stderr.isatty()
    files = list(_STRUCTURE_FILES) + (list(_FEATURE_FILES) if features else [])
    found = {s: _locate(key, s, root_p, cache, url, download, allow_unverified, bool(progress), timeout)
             for s in files}
    paths = {s: p for s, (p, _) in found.items()}

    def fname(s: str) -> str:
        return f"ind.{key}.{s}"

    def read(s: str) -> Any:
        return _read(paths[s], fname(s), found[s][1])

    ally = _dense_labels(read("ally"), fname("ally"))
    y_train = _dense_labels(read("y"), fname("y"))
    n_public_train = y_train.shape[0]
    if n_public_train + _PUBLIC_VAL > ally.shape[0] or not np.array_equal(y_train, ally[:n_public_train]):
        raise FileFormatError(f"{fname('y')}: expected the first rows of {fname('ally')} ({n_public_train} rows, "
                              f"{ally.shape[0]} in {fname('ally')})")
    ty = _dense_labels(read("ty"), fname("ty"))
    try:
        test_index = np.loadtxt(paths["test.index"], dtype=np.int64, ndmin=1)
    except ValueError as exc:
        raise FileFormatError(f"{fname('test.index')}: not a list of integers ({exc})") from None
    if test_index.size != ty.shape[0] or test_index.ndim != 1:
        raise FileFormatError(f"{fname('test.index')}: {test_index.size} indices but {ty.shape[0]} rows in "
                              f"{fname('ty')}")
    sorted_test = np.sort(test_index)
    n_train_all = ally.shape[0]
    lo, hi = int(sorted_test[0]), int(sorted_test[-1])
    if lo != n_train_all or hi - lo + 1 > 2 * test_index.size:
        raise FileFormatError(f"{fname('test.index')}: test indices {lo}..{hi}, expected to start at {n_train_all} "
                              f"and to span about {test_index.size} nodes")
    n_test_ext = hi - lo + 1  # CiteSeer: some test ids have no rows in tx / ty
    ty_ext = np.zeros((n_test_ext, ty.shape[1]), dtype=ty.dtype)
    ty_ext[sorted_test - lo] = ty
    y_all = np.concatenate([ally, ty_ext])
    y_all[test_index] = y_all[sorted_test]
    n = y_all.shape[0]
    labels = np.where(y_all.sum(axis=1) > 0, np.argmax(y_all, axis=1), -1).astype(np.int64)

    x = None
    if features:
        d = PLANETOID_COUNTS[key][3]
        allx = checked_csr(read("allx"), str(paths["allx"]))
        tx = checked_csr(read("tx"), str(paths["tx"]))
        if allx.shape[0] != n_train_all or tx.shape[0] != ty.shape[0]:
            raise FileFormatError(f"{paths['allx']}: feature rows ({allx.shape[0]} + {tx.shape[0]} in "
                                  f"{fname('tx')}) do not match the labels ({n_train_all} + {ty.shape[0]})")
        if allx.shape[1] != d or tx.shape[1] != d:
            raise FileFormatError(f"{paths['allx']}: {allx.shape[1]} feature columns ({tx.shape[1]} in "
                                  f"{fname('tx')}); {key} has {d}")
        for m, s in ((allx, "allx"), (tx, "tx")):
            if m.data.dtype.kind not in "biuf" or not np.all(np.isfinite(m.data)):
                raise FileFormatError(f"{paths[s]}: feature values must be finite numbers")
        tx_ext = sp.lil_matrix((n_test_ext, tx.shape[1]), dtype=np.float64)
        tx_ext[sorted_test - lo] = tx
        x = sp.vstack([allx, sp.csr_matrix(tx_ext)]).tocsr()
        perm = np.arange(n)
        perm[test_index] = sorted_test
        x = x[perm].toarray()

    src, dst = _edges_from_dict(read("graph"), n, fname("graph"))
    meta = {"n_train_all": int(n_train_all), "n_test": int(test_index.size), "n_missing_test": int(n_test_ext - ty.shape[0]),
            "files": {s: str(p) for s, p in paths.items()}, "unlabelled_nodes": int(np.sum(labels < 0)),
            "public_split": _public_split(n_public_train, test_index),
            "features_source": (f"Planetoid bag-of-words features ({fname('allx')}, {fname('tx')})" if features
                                else None)}
    g = Graph.from_edges(src, dst, n_nodes=n, labels=labels, features=x, name=key,
                         source=f"Planetoid raw files ({paths['graph'].parent})", metadata=meta)
    return g


# --------------------------------------------------------------------------- shipped arrays
def planetoid_structure(name: str) -> Graph:
    """Structure and labels of a Planetoid graph from the arrays shipped in the package (offline).

    Built from the raw files by ``scripts/build_planetoid_arrays.py`` (see
    ``oversmooth/graphs/data/README.md``): identical to ``load_planetoid(name,
    features=False)``, with the same ``metadata["public_split"]``. No features.

    Examples
    --------
    >>> from oversmooth.graphs import planetoid_structure
    >>> g = planetoid_structure("cora")
    >>> g.n_nodes, g.n_edges, g.n_classes
    (2708, 5278, 7)
    """
    key = check_choice(str(name).lower(), "name", PLANETOID_NAMES)
    ref = resources.files("oversmooth.graphs").joinpath("data", f"planetoid_{key}.npz")
    with ref.open("rb") as fh, np.load(fh, allow_pickle=False) as z:
        n = int(z["n_nodes"])
        rows, cols, labels = z["rows"], z["cols"], z["labels"].astype(np.int64)
        split = {k: np.sort(z[f"public_{k}"].astype(np.int64)) for k in ("train", "val", "test")}
    return Graph.from_edges(rows, cols, n_nodes=n, labels=labels, name=key,
                            source="Planetoid (Yang et al., ICML 2016), arrays shipped with oversmooth",
                            metadata={"unlabelled_nodes": int(np.sum(labels < 0)), "public_split": split})
