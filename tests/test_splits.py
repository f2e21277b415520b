"""Splits: random 60/20/20, Planetoid's public split (as PyG), split files, resolve_split."""

from __future__ import annotations

import numpy as np
import pytest

from oversmooth.graphs import (
    PLANETOID_NAMES,
    Graph,
    load_planetoid,
    load_split,
    planetoid_public_split,
    planetoid_structure,
    random_split,
    resolve_split,
)

from _helpers import needs_planetoid_raw, planetoid_raw_dir

PUBLIC_SIZES = {"cora": (140, 500, 1000), "citeseer": (120, 500, 1000), "pubmed": (60, 500, 1000)}


# --------------------------------------------------------------------------- random
def test_random_split_is_the_old_permutation():
    """Same Generator, same split as the code it replaced: permute the labelled nodes, cut 60/20/20."""
    labels = np.array([0, 1, -1, 2, 1, 0, -1, 2, 2, 1, 0, 0, 1, 2, -1, 0, 1, 2, 0, 1])
    tr, va, te = random_split(labels, np.random.default_rng(11))
    lab = np.flatnonzero(labels >= 0)
    perm = np.random.default_rng(11).permutation(lab)
    n_tr, n_va = int(round(0.6 * lab.size)), int(round(0.2 * lab.size))
    assert tr.tolist() == sorted(perm[:n_tr].tolist())
    assert va.tolist() == sorted(perm[n_tr:n_tr + n_va].tolist())
    assert te.tolist() == sorted(perm[n_tr + n_va:].tolist())
    # a seed is accepted too, and gives the split of default_rng(seed)
    assert all(np.array_equal(a, b) for a, b in zip(random_split(labels, 11), (tr, va, te)))


def test_random_split_generator_stream_advances_and_validation():
    rng = np.random.default_rng(0)
    a = random_split(np.zeros(30, dtype=int), rng)
    b = random_split(np.zeros(30, dtype=int), rng)
    assert not np.array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="at least 3 labelled nodes"):
        random_split(np.array([0, 1, -1, -1]), 0)
    with pytest.raises(ValueError, match="fractions must be three non-negative numbers summing to 1"):
        random_split(np.zeros(10, dtype=int), 0, fractions=(0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="labels must be a 1-D array"):
        random_split(np.zeros((3, 3), dtype=int), 0)


def test_experiments_reexport_is_the_same_function_output():
    from oversmooth.experiments import random_split as old

    labels = planetoid_structure("cora").labels
    for s in range(3):
        new = random_split(labels, np.random.default_rng(s))
        ref = old(labels, np.random.default_rng(s))
        assert all(np.array_equal(x, y) for x, y in zip(new, ref))


# --------------------------------------------------------------------------- public
@pytest.mark.parametrize("name", PLANETOID_NAMES)
def test_public_split_counts_offline(name):
    tr, va, te = planetoid_public_split(name)
    assert (tr.size, va.size, te.size) == PUBLIC_SIZES[name]
    g = planetoid_structure(name)
    assert all(np.array_equal(a, b) for a, b in zip(resolve_split("public", g), (tr, va, te)))
    # train = range(len(y)), val = the next 500 nodes, all three disjoint, test inside the test block
    assert tr.tolist() == list(range(tr.size)) and va.tolist() == list(range(tr.size, tr.size + 500))
    assert np.intersect1d(te, np.arange(tr.size + 500)).size == 0
    assert te.min() >= g.n_nodes - 1015  # the test nodes are the last rows (ind.<name>.test.index)
    assert np.all(g.labels[np.concatenate([tr, va, te])] >= 0)


def test_public_split_cora_is_first_20_of_each_class():
    g = planetoid_structure("cora")
    tr, _, _ = planetoid_public_split(g)
    assert np.bincount(g.labels[tr]).tolist() == [20] * 7
    # every training node is among the first 20 nodes of its class in node order
    for c in range(7):
        first20 = np.flatnonzero(g.labels == c)[:20]
        assert np.array_equal(np.sort(tr[g.labels[tr] == c]), first20)


def test_public_split_errors():
    with pytest.raises(ValueError, match="graph_or_name must be one of"):
        planetoid_public_split("reddit")
    g = Graph.from_edges([0, 1], [1, 2], labels=[0, 1, 0], name="mine")
    with pytest.raises(ValueError, match="graph 'mine' has no Planetoid public split"):
        resolve_split("public", g)
    with pytest.raises(TypeError, match="Planetoid name or a Graph"):
        planetoid_public_split(42)
    stale = Graph.from_edges([0, 1], [1, 2], labels=[0, 1, 0], name="sub",
                             metadata={"public_split": {"train": [0], "val": [1], "test": [7]}})
    with pytest.raises(ValueError, match=r"graph 'sub': metadata\['public_split'\]: 'test' holds node id 7"):
        planetoid_public_split(stale)


@needs_planetoid_raw
@pytest.mark.parametrize("name", PLANETOID_NAMES)
def test_public_split_from_raw_files_equals_shipped(name, tmp_path):
    g = load_planetoid(name, root=planetoid_raw_dir(), features=False, download=False, data_dir=tmp_path)
    got = planetoid_public_split(g)
    assert all(np.array_equal(a, b) for a, b in zip(got, planetoid_public_split(name)))
    assert tuple(s.size for s in got) == PUBLIC_SIZES[name]


@needs_planetoid_raw
@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_public_split_equals_pyg_masks(name, tmp_path):
    pytest.importorskip("torch_geometric")
    import shutil

    from torch_geometric.io.planetoid import read_planetoid_data

    from oversmooth.graphs._planetoid import PLANETOID_FILES

    for f in PLANETOID_FILES:
        shutil.copy(planetoid_raw_dir() / f"ind.{name}.{f}", tmp_path / f"ind.{name}.{f}")
    data = read_planetoid_data(str(tmp_path), name)
    tr, va, te = planetoid_public_split(name)
    for mask, ours in ((data.train_mask, tr), (data.val_mask, va), (data.test_mask, te)):
        assert np.array_equal(np.flatnonzero(mask.numpy()), ours)


# --------------------------------------------------------------------------- split files
def test_load_split_masks_and_indices(tmp_path):
    p = tmp_path / "masks.npz"
    m = np.zeros((3, 6), dtype=bool)
    m[0, [0, 1, 2]] = m[1, 3] = m[2, [4, 5]] = True
    np.savez(p, train=m[0], val=m[1], test=m[2])
    assert [s.tolist() for s in load_split(p, 6)] == [[0, 1, 2], [3], [4, 5]]
    q = tmp_path / "idx.npz"
    np.savez(q, train=np.array([2, 0, 1]), val=np.array([], dtype=np.int64), test=np.array([5, 4]))
    tr, va, te = load_split(q, 6)
    assert tr.tolist() == [0, 1, 2] and va.size == 0 and te.tolist() == [4, 5] and tr.dtype == np.int64
    g = Graph.from_edges([0], [1], n_nodes=6)
    assert [s.tolist() for s in resolve_split(q, g)] == [[0, 1, 2], [], [4, 5]]
    assert [s.tolist() for s in resolve_split(str(p), g)] == [[0, 1, 2], [3], [4, 5]]


@pytest.mark.parametrize(
    "arrays, message",
    [
        (dict(train=[0, 1], val=[1], test=[2]), r"'train' and 'val' overlap in 1 node\(s\), e.g. node 1"),
        (dict(train=[0, 9], val=[1], test=[2]), r"'train' holds node id 9, outside 0\.\.4 \(N=5\)"),
        (dict(train=[0, -1], val=[1], test=[2]), r"'train' holds node id -1"),
        (dict(train=np.ones(4, bool), val=[], test=[4]), r"'train' is a boolean mask of shape \(4,\), expected \(5,\)"),
        (dict(train=[0], val=[1]), r"missing key 'test'"),
        (dict(train=[0.0, 1.0], val=[2], test=[3]), r"'train' must be a boolean mask or an integer index array"),
        (dict(train=[0, 0], val=[2], test=[3]), r"'train' lists node 0 more than once"),
        (dict(train=np.array([], dtype=int), val=[2], test=[3]), r"'train' is empty"),
        (dict(train=[[0, 1]], val=[2], test=[3]), r"'train' must be a 1-D array of node indices"),
        (dict(train=[1, 1, 0, 0, 0], val=[], test=[3]), r"more than once \(an integer array is read as node indices: "
                                                         r"save a 0/1 mask as dtype bool\)"),
    ],
)
def test_load_split_errors_name_file_and_key(tmp_path, arrays, message):
    p = tmp_path / "bad.npz"
    np.savez(p, **{k: np.asarray(v, dtype=np.int64 if isinstance(v, list) and not v else None)
                   for k, v in arrays.items()})
    with pytest.raises(ValueError, match=message) as info:
        load_split(p, 5)
    assert str(p) in str(info.value) and "\n" not in str(info.value)


def test_load_split_refuses_pickles_and_non_npz(tmp_path):
    p = tmp_path / "pickled.npz"
    np.savez(p, train=np.array([[0], "x"], dtype=object), val=np.array([1]), test=np.array([2]))
    with pytest.raises(ValueError, match=r"pickled\.npz: key 'train' holds pickled objects, which are refused"):
        load_split(p, 5)
    q = tmp_path / "text.npz"
    q.write_text("not a zip")
    with pytest.raises(ValueError, match=r"text\.npz: not a NumPy \.npz file"):
        load_split(q, 5)
    r = tmp_path / "single.npy"
    np.save(r, np.arange(3))
    with pytest.raises(ValueError, match=r"single\.npy: a split must be an \.npz file"):
        load_split(r, 5)
    with pytest.raises(FileNotFoundError, match="split file not found"):
        load_split(tmp_path / "nope.npz", 5)


def test_resolve_split_random_triple_and_errors():
    g = planetoid_structure("citeseer")
    tr, va, te = resolve_split("random", g, seed=0)
    assert (tr.size, va.size, te.size) == (1987, 662, 663)  # the 3312 labelled nodes, 60/20/20
    assert np.all(g.labels[np.concatenate([tr, va, te])] >= 0)
    assert all(np.array_equal(a, b) for a, b in zip(resolve_split("random", g, seed=0), (tr, va, te)))
    assert [s.tolist() for s in resolve_split(([0], [1], [2, 3]), Graph.from_edges([0], [1], n_nodes=4))] \
        == [[0], [1], [2, 3]]
    with pytest.raises(FileNotFoundError, match="split must be 'public', 'random' or an .npz split file"):
        resolve_split("publik", g)
    with pytest.raises(ValueError, match="split must be 'public', 'random', a path"):
        resolve_split(3, g)
    with pytest.raises(TypeError, match="graph must be an oversmooth Graph"):
        resolve_split("random", np.zeros(3))


# --------------------------------------------------------------------------- the one mask / index parser
def test_as_node_index_contract():
    from oversmooth.errors import ValidationError
    from oversmooth.graphs import as_node_index

    assert as_node_index(np.array([True, False, True, False]), 4, "m").tolist() == [0, 2]
    assert as_node_index([3, 1, 3], 4, "m").tolist() == [1, 3]  # merge (the default)
    assert as_node_index([], 4, "m").tolist() == [] and as_node_index([], 4, "m").dtype == np.int64
    assert as_node_index(np.array([1, 0, 1, 1]), 4, "m").tolist() == [0, 1]  # integers are ids, never a mask
    cases = [
        (dict(mask_or_index=[3, 1, 3], duplicates="refuse"), r"^m lists node 3 more than once$"),
        (dict(mask_or_index=[1, 0, 1, 1], duplicates="refuse"), r"save a 0/1 mask as dtype bool"),
        (dict(mask_or_index=np.ones(3, bool)), r"^m is a boolean mask of shape \(3,\), expected \(4,\)"),
        (dict(mask_or_index=[0, 4]), r"^m holds node id 4, outside 0\.\.3 \(N=4\)$"),
        (dict(mask_or_index=[-1]), r"^m holds node id -1"),
        (dict(mask_or_index=[0.0, 1.0]), r"^m must be a boolean mask or an integer index array, got dtype float64"),
        (dict(mask_or_index=["a"]), r"^m must be a boolean mask or an integer index array"),
        (dict(mask_or_index=[[0, 1]]), r"^m must be a 1-D array of node indices, got shape \(1, 2\)"),
        (dict(mask_or_index=[0], duplicates="keep"), r"duplicates must be one of"),
    ]
    for kw, message in cases:
        with pytest.raises(ValidationError, match=message):
            as_node_index(n_nodes=4, name="m", **kw)


def test_as_node_index_reads_torch_tensors():
    torch = pytest.importorskip("torch")
    from oversmooth.graphs import as_node_index

    assert as_node_index(torch.tensor([True, False, True]), 3, "m").tolist() == [0, 2]
    assert as_node_index(torch.tensor([2, 0]), 3, "m").tolist() == [0, 2]
