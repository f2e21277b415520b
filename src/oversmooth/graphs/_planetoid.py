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
into the cache: streamed to a temporary name with a progress bar, checked for length
and SHA-256, then renamed atomically. A wrong hash, a truncated or a missing file raises
an error naming the file, and nothing half-written is left in the cache.

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

import codecs
import hashlib
import http.client
import io
import os
import pickle
import sys
import tempfile
import urllib.error
import urllib.request
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import scipy.sparse as sp

from .._progress import Progress
from .._utils import check_choice
from ._graph import Graph

__all__ = [
    "PLANETOID_NAMES",
    "PLANETOID_FILES",
    "PLANETOID_SHA256",
    "PLANETOID_COUNTS",
    "DEFAULT_URL",
    "UnsafePickleError",
    "UnverifiedFileError",
    "IntegrityError",
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

#: SHA-256 of every raw file; ``None`` = not known to this package (cannot be verified).
PLANETOID_SHA256: dict[str, str | None] = {
    "ind.citeseer.allx": "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
    "ind.citeseer.ally": "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
    "ind.citeseer.graph": "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
    "ind.citeseer.test.index": "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
    "ind.citeseer.tx": "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
    "ind.citeseer.ty": "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
    "ind.citeseer.x": "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
    "ind.citeseer.y": "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
    "ind.cora.allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
    "ind.cora.ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
    "ind.cora.graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
    "ind.cora.test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    "ind.cora.tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
    "ind.cora.ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
    "ind.cora.x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
    "ind.cora.y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
    "ind.pubmed.allx": None,  # absent from the source of these hashes: unknown, not invented
    "ind.pubmed.ally": "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e",
    "ind.pubmed.graph": "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9",
    "ind.pubmed.test.index": "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5",
    "ind.pubmed.tx": "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d",
    "ind.pubmed.ty": "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd",
    "ind.pubmed.x": "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33",
    "ind.pubmed.y": "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3",
}

_CHUNK = 1 << 16
_PUBLIC_VAL = 500  # validation nodes of the public split (PyG's read_planetoid_data)


def _public_split(n_train: int, test_index: np.ndarray) -> dict[str, np.ndarray]:
    """PyG's Planetoid(split="public"): train = range(len(y)), val = the next 500, test = test.index."""
    return {"train": np.arange(n_train, dtype=np.int64),
            "val": np.arange(n_train, n_train + _PUBLIC_VAL, dtype=np.int64),
            "test": np.sort(np.asarray(test_index, dtype=np.int64))}


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for a global that the restricted unpickler does not allow."""


class IntegrityError(OSError):
    """A data file has the wrong SHA-256 or is truncated."""


class UnverifiedFileError(OSError):
    """A data file has no shipped SHA-256 and the caller did not opt in to load it unverified."""


# --------------------------------------------------------------------------- restricted unpickler
def _numpy_reconstruct() -> Any:
    try:
        from numpy._core.multiarray import _reconstruct  # NumPy >= 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


def _allowed_globals() -> dict[tuple[str, str], Any]:
    rec = _numpy_reconstruct()
    csr = sp.csr_matrix
    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("collections", "defaultdict"): defaultdict,
        ("__builtin__", "list"): list,
        ("builtins", "list"): list,
        # Python 3 writes bytes in protocol-2 pickles as _codecs.encode(str, 'latin1'): a pure function
        ("_codecs", "encode"): codecs.encode,
    }
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(mod, "_reconstruct")] = rec
    for mod in ("scipy.sparse.csr", "scipy.sparse._csr", "scipy.sparse"):
        allowed[(mod, "csr_matrix")] = csr
    return allowed


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals of :func:`_allowed_globals`; everything else is refused."""

    def __init__(self, file: BinaryIO, what: str):
        super().__init__(file, encoding="latin1", fix_imports=False)
        self._allowed = _allowed_globals()
        self._what = what

    def find_class(self, module: str, name: str) -> Any:
        obj = self._allowed.get((module, name))
        if obj is None:
            raise UnsafePickleError(
                f"{self._what}: refusing to load global {module}.{name}: the restricted unpickler only allows "
                "NumPy arrays, SciPy CSR matrices, list, defaultdict and codecs.encode (the file may be corrupt or malicious)")
        return obj


def restricted_load(data: bytes | BinaryIO, what: str = "pickle") -> Any:
    """Unpickle Planetoid data with a restricted unpickler (``encoding='latin1'``).

    Parameters
    ----------
    data : bytes or binary file
    what : str
        Name used in error messages (the file name).

    Raises
    ------
    UnsafePickleError
        When the pickle references any other global (nothing of it is executed).

    Examples
    --------
    >>> import pickle, numpy as np
    >>> from oversmooth.graphs import restricted_load
    >>> restricted_load(pickle.dumps(np.arange(3), protocol=2)).tolist()
    [0, 1, 2]
    >>> import os
    >>> class Evil:
    ...     def __reduce__(self):
    ...         return (os.system, ("true",))
    >>> restricted_load(pickle.dumps(Evil()))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    oversmooth.graphs._planetoid.UnsafePickleError: pickle: refusing to load global ...
    """
    fh = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    try:
        obj = _RestrictedUnpickler(fh, what).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # truncated / garbage pickles
        raise pickle.UnpicklingError(f"{what}: cannot be unpickled ({type(exc).__name__}: {exc})") from None
    if isinstance(obj, np.ndarray) and obj.dtype.hasobject:
        raise UnsafePickleError(f"{what}: object arrays are not allowed")
    return obj


# --------------------------------------------------------------------------- files: find, verify, download
def data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: ``data_home`` if given, else ``$OVERSMOOTH_DATA``, else ``~/.cache/oversmooth``.

    Examples
    --------
    >>> from oversmooth.graphs import data_home
    >>> data_home("/tmp/x").as_posix()
    '/tmp/x'
    """
    if data_home is not None:
        return Path(data_home)
    env = os.environ.get("OVERSMOOTH_DATA")
    return Path(env) if env else Path.home() / ".cache" / "oversmooth"


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _verify(path: Path, fname: str, allow_unverified: bool) -> None:
    expected = PLANETOID_SHA256.get(fname)
    if expected is None:
        if not allow_unverified:
            raise UnverifiedFileError(
                f"{fname}: no SHA-256 for this file ships with oversmooth, so {path} cannot be verified; pass "
                "allow_unverified=True to load it anyway (still through the restricted unpickler), or "
                "features=False to load structure and labels without it")
        return
    got = _sha256_file(path)
    if got != expected:
        raise IntegrityError(f"{fname}: SHA-256 mismatch for {path} (expected {expected}, got {got}); the file is "
                             "corrupt or truncated: delete it and load again")


def _download(url: str, dest: Path, fname: str, allow_unverified: bool, progress: bool, timeout: float) -> None:
    """Stream ``url`` to a temporary file beside ``dest``; check length and hash; rename atomically."""
    expected = PLANETOID_SHA256.get(fname)
    if expected is None and not allow_unverified:
        _verify(dest, fname, allow_unverified)  # raises UnverifiedFileError before any download
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{fname}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp, os.fdopen(fd, "wb") as out:
                length = resp.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                bar = Progress(total or 0, enabled=progress)  # steps are bytes
                while True:
                    block = resp.read(_CHUNK)
                    if not block:
                        break
                    out.write(block)
                    h.update(block)
                    bar.update(f"downloading {fname} (bytes)", advance=len(block))
                bar.close()
        except http.client.IncompleteRead as exc:
            raise IntegrityError(f"{fname}: truncated download from {url} (connection closed after "
                                 f"{len(exc.partial)} more bytes); nothing was written to the cache") from None
        except urllib.error.HTTPError as exc:
            raise FileNotFoundError(f"{fname}: download from {url} failed: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            if isinstance(exc, (IntegrityError, UnverifiedFileError)):
                raise
            reason = getattr(exc, "reason", exc)
            raise OSError(f"{fname}: download from {url} failed: {reason}") from None
        if total is not None and bar.done != total:
            raise IntegrityError(f"{fname}: truncated download from {url} ({bar.done} of {total} bytes)")
        got = h.hexdigest()
        if expected is not None and got != expected:
            raise IntegrityError(f"{fname}: SHA-256 mismatch for the download from {url} (expected {expected}, "
                                 f"got {got}); nothing was written to the cache")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


def _locate(name: str, suffix: str, root: Path | None, cache: Path, url: str | None, download: bool,
            allow_unverified: bool, progress: bool, timeout: float) -> Path:
    fname = f"ind.{name}.{suffix}"
    candidates = ([root / fname] if root is not None else []) + [cache / fname]
    for path in candidates:
        if path.is_file():
            _verify(path, fname, allow_unverified)
            return path
    if not download:
        raise FileNotFoundError(f"{fname}: not found in {', '.join(str(c.parent) for c in candidates)} and "
                                "download=False")
    dest = cache / fname
    _download(f"{(url or DEFAULT_URL).rstrip('/')}/{fname}", dest, fname, allow_unverified, progress, timeout)
    return dest


# --------------------------------------------------------------------------- parsing (as PyG's read_planetoid_data)
def _read(path: Path, fname: str) -> Any:
    with open(path, "rb") as fh:
        return restricted_load(fh, fname)


def _dense_labels(onehot: Any, fname: str) -> np.ndarray:
    y = np.asarray(onehot)
    if y.ndim != 2:
        raise ValueError(f"{fname}: expected a 2-D one-hot label array, got shape {y.shape}")
    return y


def _edges_from_dict(graph: Any, n: int, fname: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(graph, dict):
        raise ValueError(f"{fname}: expected a dict of adjacency lists, got {type(graph).__name__}")
    src = np.fromiter((k for k, v in graph.items() for _ in v), dtype=np.int64)
    dst = np.fromiter((j for v in graph.values() for j in v), dtype=np.int64)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    if src.size and (max(src.max(), dst.max()) >= n or min(src.min(), dst.min()) < 0):
        raise ValueError(f"{fname}: node ids outside 0..{n - 1}")
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
    timeout: float = 60.0,
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
    timeout : float
        Seconds per network operation.

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
    IntegrityError, UnverifiedFileError, FileNotFoundError, UnsafePickleError
        Each naming the offending file.

    Examples
    --------
    >>> from oversmooth.graphs import load_planetoid
    >>> g = load_planetoid("cora", features=False)  # doctest: +SKIP
    >>> g.n_nodes, g.n_edges, g.n_classes  # doctest: +SKIP
    (2708, 5278, 7)
    """
    key = check_choice(str(name).lower(), "name", PLANETOID_NAMES)
    root_p = Path(root) if root is not None else None
    cache = data_home(data_dir) / "planetoid"
    if progress is None:
        progress = sys.stderr.isatty()
    files = list(_STRUCTURE_FILES) + (list(_FEATURE_FILES) if features else [])
    paths = {s: _locate(key, s, root_p, cache, url, download, allow_unverified, bool(progress), timeout)
             for s in files}

    def fname(s: str) -> str:
        return f"ind.{key}.{s}"

    ally = _dense_labels(_read(paths["ally"], fname("ally")), fname("ally"))
    y_train = _dense_labels(_read(paths["y"], fname("y")), fname("y"))
    n_public_train = y_train.shape[0]
    if n_public_train + _PUBLIC_VAL > ally.shape[0] or not np.array_equal(y_train, ally[:n_public_train]):
        raise ValueError(f"{fname('y')}: expected the first rows of {fname('ally')} ({n_public_train} rows, "
                         f"{ally.shape[0]} in {fname('ally')})")
    ty = _dense_labels(_read(paths["ty"], fname("ty")), fname("ty"))
    try:
        test_index = np.loadtxt(paths["test.index"], dtype=np.int64, ndmin=1)
    except ValueError as exc:
        raise ValueError(f"{fname('test.index')}: not a list of integers ({exc})") from None
    if test_index.size != ty.shape[0]:
        raise ValueError(f"{fname('test.index')}: {test_index.size} indices but {ty.shape[0]} rows in "
                         f"{fname('ty')}")
    sorted_test = np.sort(test_index)
    n_train_all = ally.shape[0]
    lo, hi = int(sorted_test[0]), int(sorted_test[-1])
    if lo != n_train_all:
        raise ValueError(f"{fname('test.index')}: smallest test index {lo}, expected {n_train_all}")
    n_test_ext = hi - lo + 1  # CiteSeer: some test ids have no rows in tx / ty
    ty_ext = np.zeros((n_test_ext, ty.shape[1]), dtype=ty.dtype)
    ty_ext[sorted_test - lo] = ty
    y_all = np.concatenate([ally, ty_ext])
    y_all[test_index] = y_all[sorted_test]
    n = y_all.shape[0]
    labels = np.where(y_all.sum(axis=1) > 0, np.argmax(y_all, axis=1), -1).astype(np.int64)

    x = None
    if features:
        allx = sp.csr_matrix(_read(paths["allx"], fname("allx")))
        tx = sp.csr_matrix(_read(paths["tx"], fname("tx")))
        if allx.shape[0] != n_train_all or tx.shape[0] != ty.shape[0]:
            raise ValueError(f"ind.{key}: feature rows ({allx.shape[0]} + {tx.shape[0]}) do not match the labels "
                             f"({n_train_all} + {ty.shape[0]})")
        tx_ext = sp.lil_matrix((n_test_ext, tx.shape[1]), dtype=np.float64)
        tx_ext[sorted_test - lo] = tx
        x = sp.vstack([allx, sp.csr_matrix(tx_ext)]).tocsr()
        perm = np.arange(n)
        perm[test_index] = sorted_test
        x = x[perm].toarray()

    g_raw = _read(paths["graph"], fname("graph"))
    src, dst = _edges_from_dict(g_raw, n, fname("graph"))
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
