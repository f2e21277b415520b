"""Train / validation / test splits of the nodes: random, Planetoid's public split, from a file.

Every function returns ``(train, val, test)``: three sorted int64 arrays of node indices,
pairwise disjoint.

- :func:`random_split`: a seeded 60/20/20 permutation of the labelled nodes.
- :func:`planetoid_public_split`: the split of PyTorch Geometric's
  ``Planetoid(split="public")`` (Yang et al. 2016, used by Kipf & Welling 2017): the
  ``len(ind.<name>.y)`` training nodes (20 per class) first in node order, the next 500
  nodes for validation, and the 1000 nodes of ``ind.<name>.test.index`` for testing.
- :func:`load_split`: an ``.npz`` file with arrays ``train``, ``val``, ``test`` (boolean
  masks of length N or integer index arrays).
- :func:`resolve_split`: one entry point for ``"public"``, ``"random"`` or a path.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .._utils import SeedLike, check_choice, check_nonneg_int, check_random_state
from ..errors import ArgumentTypeError, FileFormatError, ValidationError
from ._download import MissingFileError
from ._features import load_npz_archive
from ._index import as_node_index
from ._planetoid import PLANETOID_NAMES

__all__ = ["random_split", "planetoid_public_split", "load_split", "resolve_split", "SPLIT_KEYS", "SPLIT_NAMES"]

#: The three arrays of a split, in the order they are returned.
SPLIT_KEYS = ("train", "val", "test")
#: The named splits :func:`resolve_split` understands (anything else is a path).
SPLIT_NAMES = ("public", "random")


def random_split(labels: Any, seed: SeedLike = None,
                 fractions: Sequence[float] = (0.6, 0.2, 0.2)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random train / validation / test split of the labelled nodes (default 60/20/20).

    The labelled nodes (``labels >= 0``) are permuted with ``rng.permutation``; the first
    ``round(f_train * n)`` go to training, the next ``round(f_val * n)`` to validation, the
    rest to test. The same generator state always gives the same split.

    Parameters
    ----------
    labels : array of int, shape (N,)
        ``-1`` (or any negative value) marks an unlabelled node, never drawn.
    seed : int, numpy.random.Generator, SeedSequence or None
        A ``Generator`` is used as is (its stream advances), anything else seeds a new one
        (:func:`oversmooth._utils.check_random_state`).
    fractions : three floats summing to 1

    Returns
    -------
    train, val, test : sorted int64 arrays of node indices

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.graphs import random_split
    >>> tr, va, te = random_split(np.array([0, 1] * 10), np.random.default_rng(0))
    >>> len(tr), len(va), len(te)
    (12, 4, 4)
    """
    lab = np.asarray(labels)
    if lab.ndim != 1:
        raise ValidationError(f"labels must be a 1-D array (one label per node), got shape {lab.shape}")
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.shape != (3,) or not np.all(np.isfinite(fr)) or np.any(fr < 0) or abs(float(fr.sum()) - 1.0) > 1e-9:
        raise ValidationError(f"fractions must be three non-negative numbers summing to 1, got {tuple(fractions)}")
    rng = check_random_state(seed)
    idx = np.flatnonzero(lab >= 0)
    if idx.size < 3:
        raise ValidationError(f"need at least 3 labelled nodes for a train/val/test split, got {idx.size}")
    perm = rng.permutation(idx)
    n_tr = int(round(fractions[0] * idx.size))
    n_va = int(round(fractions[1] * idx.size))
    return np.sort(perm[:n_tr]), np.sort(perm[n_tr:n_tr + n_va]), np.sort(perm[n_tr + n_va:])


def _shipped_public_split(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ref = resources.files("oversmooth.graphs").joinpath("data", f"planetoid_{name}.npz")
    with ref.open("rb") as fh, np.load(fh, allow_pickle=False) as z:
        return tuple(np.sort(z[f"public_{k}"].astype(np.int64)) for k in SPLIT_KEYS)  # type: ignore[return-value]


def planetoid_public_split(graph_or_name: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The public Planetoid split, exactly as PyTorch Geometric's ``Planetoid(split="public")``.

    PyG's ``read_planetoid_data`` sets ``train = range(len(y))`` (``y`` = the file
    ``ind.<name>.y``: 20 labelled nodes per class), ``val = range(len(y), len(y) + 500)`` and
    ``test = ind.<name>.test.index``. Sizes: Cora 140 / 500 / 1000, CiteSeer 120 / 500 / 1000,
    PubMed 60 / 500 / 1000.

    Parameters
    ----------
    graph_or_name : {"cora", "citeseer", "pubmed"} or Graph
        A name reads the split shipped with the package (offline, built from the verified raw
        files). A :class:`Graph` from :func:`~oversmooth.graphs.load_planetoid` or
        :func:`~oversmooth.graphs.planetoid_structure` carries it in
        ``metadata["public_split"]``.

    Returns
    -------
    train, val, test : sorted int64 arrays of node indices

    Examples
    --------
    >>> from oversmooth.graphs import planetoid_public_split
    >>> [len(s) for s in planetoid_public_split("cora")]
    [140, 500, 1000]
    """
    if isinstance(graph_or_name, str):
        return _shipped_public_split(check_choice(graph_or_name.lower(), "graph_or_name", PLANETOID_NAMES))
    meta = getattr(graph_or_name, "metadata", None)
    if not isinstance(meta, dict):
        raise ArgumentTypeError(f"graph_or_name must be a Planetoid name or a Graph, got {type(graph_or_name).__name__}")
    split = meta.get("public_split")
    if split is None:
        name = getattr(graph_or_name, "name", "graph")
        raise ValidationError(f"graph {name!r} has no Planetoid public split (metadata['public_split']); load it with "
                         "load_planetoid or planetoid_structure, or pass split='random' or a split file")
    n = getattr(graph_or_name, "n_nodes", None)
    if n is None or not all(k in split for k in SPLIT_KEYS):
        raise ValidationError("metadata['public_split'] must hold 'train', 'val' and 'test' node indices of a Graph")
    return _check_sets({k: np.asarray(split[k], dtype=np.int64) for k in SPLIT_KEYS}, int(n),
                       f"graph {getattr(graph_or_name, 'name', 'graph')!r}: metadata['public_split']")


def _check_sets(arrays: dict[str, Any], n_nodes: int, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Masks or index arrays -> three sorted, disjoint, in-range index arrays (errors name ``where`` and the key)."""
    out = {k: as_node_index(arrays[k], n_nodes, f"{where}: {k!r}", duplicates="refuse") for k in SPLIT_KEYS}
    for i, a in enumerate(SPLIT_KEYS):
        for b in SPLIT_KEYS[i + 1:]:
            both = np.intersect1d(out[a], out[b], assume_unique=True)
            if both.size:
                raise ValidationError(f"{where}: {a!r} and {b!r} overlap in {both.size} node(s), e.g. node {int(both[0])}")
    for k in ("train", "test"):
        if out[k].size == 0:
            raise ValidationError(f"{where}: {k!r} is empty")
    return out["train"], out["val"], out["test"]


def load_split(path: str | os.PathLike[str], n_nodes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read a split from an ``.npz`` file with arrays ``train``, ``val`` and ``test``.

    Each array is a boolean mask of length ``n_nodes`` or an integer array of node
    indices (an integer array is always read as indices, never as a 0/1 mask). Pickled
    objects are refused (``allow_pickle=False``). ``val`` may be empty.

    Parameters
    ----------
    path : path to an ``.npz`` file (``numpy.savez``)
    n_nodes : int
        Number of nodes of the graph the split belongs to.

    Returns
    -------
    train, val, test : sorted int64 arrays of node indices

    Raises
    ------
    FileNotFoundError
        No such file.
    ValueError
        A one-line message naming the file and the key: not an ``.npz``, a missing key,
        pickled objects, a mask of the wrong length, an id out of range or repeated, a
        non-integer array, overlapping sets, an empty train or test set.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from oversmooth.graphs import load_split
    >>> p = os.path.join(tempfile.mkdtemp(), "split.npz")
    >>> np.savez(p, train=[0, 1], val=np.array([], dtype=int), test=[3])
    >>> [s.tolist() for s in load_split(p, 4)]
    [[0, 1], [], [3]]
    """
    p = Path(path)
    if not p.is_file():
        raise MissingFileError(f"split file not found: {p}")
    n = check_nonneg_int(n_nodes, "n_nodes")
    z = load_npz_archive(p, "a NumPy .npz file of split arrays",
                         "a split must be an .npz file with arrays 'train', 'val', 'test', got a single array")
    with z:
        missing = [k for k in SPLIT_KEYS if k not in z.files]
        if missing:
            raise FileFormatError(f"{p}: missing key {missing[0]!r} (a split file needs 'train', 'val' and 'test'; "
                             f"found {', '.join(map(repr, z.files)) or 'none'})")
        arrays = {}
        for k in SPLIT_KEYS:
            try:
                arrays[k] = z[k]
            except FileFormatError as exc:
                if "pickle" in str(exc).lower():
                    raise FileFormatError(f"{p}: key {k!r} holds pickled objects, which are refused "
                                          "(allow_pickle=False); save a boolean mask or an integer index array") from None
                raise
    try:
        return _check_sets(arrays, n, str(p))
    except ValidationError as exc:
        raise FileFormatError(str(exc)) from None


def resolve_split(split: Any, graph: Any, seed: SeedLike = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turn a split specification into ``(train, val, test)`` node indices of ``graph``.

    Parameters
    ----------
    split : "public", "random", a path, or a (train, val, test) triple
        ``"public"``: :func:`planetoid_public_split` (a Planetoid graph); ``"random"``:
        :func:`random_split` of the labelled nodes with ``seed``; a path: :func:`load_split`;
        a triple of masks or index arrays: checked like a split file.
    graph : Graph
        Supplies N, the labels (``"random"``) and the public split (``"public"``).
    seed : int, Generator or None
        Only for ``"random"``.

    Returns
    -------
    train, val, test : sorted int64 arrays of node indices

    Examples
    --------
    >>> from oversmooth.graphs import planetoid_structure, resolve_split
    >>> g = planetoid_structure("citeseer")
    >>> [len(s) for s in resolve_split("public", g)]
    [120, 500, 1000]
    >>> [len(s) for s in resolve_split("random", g, seed=0)]
    [1987, 662, 663]
    """
    n = getattr(graph, "n_nodes", None)
    if n is None:
        raise ArgumentTypeError(f"graph must be an oversmooth Graph, got {type(graph).__name__}")
    if isinstance(split, (tuple, list)) and len(split) == 3 and not isinstance(split, str):
        return _check_sets(dict(zip(SPLIT_KEYS, split)), int(n), "split")
    if isinstance(split, str) and split in SPLIT_NAMES:
        if split == "public":
            return planetoid_public_split(graph)
        return random_split(graph.labels, seed)
    if isinstance(split, (str, os.PathLike)):
        p = Path(split)
        if not p.is_file():
            raise MissingFileError(f"split must be 'public', 'random' or an .npz split file; file not found: {p}")
        return load_split(p, int(n))
    raise ValidationError(f"split must be 'public', 'random', a path to an .npz file or a (train, val, test) triple, "
                     f"got {split!r}")
