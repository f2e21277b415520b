"""User graphs: edge lists, labels files, .npz, GraphML/GML, NetworkX and PyG Data."""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from oversmooth.graphs import Graph, from_pyg, read_graph
from oversmooth.errors import FileFormatError
from oversmooth.graphs._io import clean_adjacency, from_networkx


def _edges(g):
    up = sp.triu(g.adjacency, k=1).tocoo()
    return sorted(zip(up.row.tolist(), up.col.tolist()))


def test_whitespace_edge_list_with_comments_duplicates_and_loops(tmp_path):
    p = tmp_path / "e.txt"
    p.write_text("# a comment\n0 1\n1 2\n\n2\t3\n1 0\n3 3\n0 1\n")
    g = read_graph(p)
    assert g.n_nodes == 4 and _edges(g) == [(0, 1), (1, 2), (2, 3)]
    assert not g.has_self_loops
    # "1 0" and the second "0 1" repeat the edge 0-1; "3 3" is a self-loop
    assert g.metadata["duplicate_edges"] == 2 and g.metadata["self_loops_removed"] == 1
    assert g.metadata["n_lines"] == 6
    assert np.all(g.labels == -1)


def test_csv_header_detected_and_n_nodes(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("source,target\n0,1\n1,2\n")
    g = read_graph(p, n_nodes=5)
    assert g.n_nodes == 5 and _edges(g) == [(0, 1), (1, 2)]
    with pytest.raises(ValueError, match="n_nodes=2 but edge list .* uses node id 2"):
        read_graph(p, n_nodes=2)


def test_string_ids_and_string_labels(tmp_path):
    e = tmp_path / "e.tsv"
    e.write_text("alice\tbob\nbob\tcarol\ncarol\tdave\n")
    lab = tmp_path / "l.tsv"
    lab.write_text("alice\tred\nbob\tblue\ncarol\tred\n")  # dave unlabelled
    g = read_graph(e, lab)
    assert g.metadata["node_names"].tolist() == ["alice", "bob", "carol", "dave"]
    assert g.metadata["class_names"] == ["blue", "red"]
    assert g.labels.tolist() == [1, 0, 1, -1]
    assert _edges(g) == [(0, 1), (1, 2), (2, 3)]
    # a label for a node the edge list does not have is refused, naming the file and line (never an isolated node)
    lab.write_text("alice\tred\nbob\tblue\ncarol\tred\nerin\tblue\n")
    with pytest.raises(FileFormatError, match=r"l\.tsv, line 4: node erin is not in the edge list"):
        read_graph(e, lab)


def test_integer_labels_file_missing_are_minus_one(tmp_path):
    e = tmp_path / "e.txt"
    e.write_text("0 1\n1 2\n2 3\n")
    lab = tmp_path / "l.txt"
    lab.write_text("node label\n0 2\n3 0\n")
    g = read_graph(e, lab)
    assert g.labels.tolist() == [2, -1, -1, 0]


def test_directed_edge_list_needs_symmetrize(tmp_path):
    p = tmp_path / "arcs.txt"
    p.write_text("0 1\n1 0\n1 2\n")
    with pytest.raises(ValueError, match="directed: 1 pairs .* symmetrize=True"):
        read_graph(p, directed=True)
    g = read_graph(p, directed=True, symmetrize=True)
    assert _edges(g) == [(0, 1), (1, 2)] and g.metadata["symmetrized"] == 1
    # a list of arcs that has both directions is fine as directed input
    q = tmp_path / "both.txt"
    q.write_text("0 1\n1 0\n")
    assert read_graph(q, directed=True).n_edges == 1


def test_edge_list_errors(tmp_path):
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(ValueError, match="no data lines"):
        read_graph(tmp_path / "empty.txt")
    (tmp_path / "one.txt").write_text("1\n2\n")
    with pytest.raises(ValueError, match="at least two columns"):
        read_graph(tmp_path / "one.txt")
    with pytest.raises(FileNotFoundError, match="graph file not found"):
        read_graph(tmp_path / "nope.txt")
    with pytest.raises(ValueError, match="format must be one of"):
        read_graph(tmp_path / "one.txt", format="parquet")
    with pytest.raises(TypeError, match="path must be"):
        read_graph(42)


def test_npz(tmp_path):
    a = sp.csr_array(np.array([[0, 2, 0], [2, 1, 1], [0, 1, 0]], dtype=float))
    sp.save_npz(tmp_path / "a.npz", sp.csr_matrix(a))
    g = read_graph(tmp_path / "a.npz", labels=[0, 1, 1])
    assert _edges(g) == [(0, 1), (1, 2)] and g.metadata["self_loops_removed"] == 1
    # the values are edge weights: kept (weighted adjacency), never dropped silently
    assert g.adjacency.toarray().tolist() == [[0, 2, 0], [2, 0, 1], [0, 1, 0]] and g.metadata["weighted"]
    assert g.labels.tolist() == [0, 1, 1]
    b = read_graph(tmp_path / "a.npz", weighted=False)  # explicitly unweighted: weight 2 = a repeated edge
    assert set(b.adjacency.data) == {1.0} and b.metadata["weights_ignored"] and b.metadata["duplicate_edges"] == 1
    sp.save_npz(tmp_path / "d.npz", sp.csr_matrix(np.array([[0, 1], [0, 0]])))
    with pytest.raises(ValueError, match="directed"):
        read_graph(tmp_path / "d.npz")
    assert read_graph(tmp_path / "d.npz", symmetrize=True).n_edges == 1
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a scipy.sparse .npz"):
        read_graph(tmp_path / "bad.npz")


@pytest.mark.parametrize("fmt", ["graphml", "gml"])
def test_graphml_gml_with_label_attribute(tmp_path, fmt):
    h = nx.Graph()
    h.add_node("a", cls=0)
    h.add_node("b", cls=1)
    h.add_node("c")
    h.add_edges_from([("a", "b"), ("b", "c")])
    path = tmp_path / f"g.{fmt}"
    (nx.write_graphml if fmt == "graphml" else nx.write_gml)(h, path)
    with pytest.warns(UserWarning, match=r"'cls' is missing on 1 of 3 nodes"):
        g = read_graph(path, label_attr="cls")
    assert g.n_nodes == 3 and g.n_edges == 2
    assert g.labels.tolist() == [0, 1, -1]
    d = nx.DiGraph([("a", "b")])
    dp = tmp_path / f"d.{fmt}"
    (nx.write_graphml if fmt == "graphml" else nx.write_gml)(d, dp)
    with pytest.raises(ValueError, match="directed"):
        read_graph(dp)
    assert read_graph(dp, symmetrize=True).n_edges == 1


def test_networkx_objects():
    h = nx.karate_club_graph()
    g = read_graph(h, label_attr="club")
    assert g.n_nodes == 34 and g.n_edges == 78
    assert g.metadata["class_names"] == ["Mr. Hi", "Officer"]
    assert set(g.labels.tolist()) == {0, 1}
    m = nx.MultiGraph([(0, 1), (0, 1), (1, 1)])
    gm = from_networkx(m)
    assert gm.n_edges == 1 and gm.metadata["duplicate_edges"] == 1 and gm.metadata["self_loops_removed"] == 1
    with pytest.raises(ValueError, match="directed"):
        read_graph(nx.DiGraph([(0, 1)]))


def test_pyg_data():
    torch = pytest.importorskip("torch")
    data_mod = pytest.importorskip("torch_geometric.data")
    d = data_mod.Data(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), y=torch.tensor([0, 1, -5, 1]),
                      x=torch.ones(4, 2), num_nodes=4)
    g = read_graph(d)
    assert g.n_nodes == 4 and _edges(g) == [(0, 1), (1, 2)]
    assert g.labels.tolist() == [0, 1, -1, 1]
    assert g.features.shape == (4, 2) and g.degrees[3] == 0
    one_way = data_mod.Data(edge_index=torch.tensor([[0], [1]]), num_nodes=2)
    with pytest.raises(ValueError, match="directed"):
        from_pyg(one_way)
    assert from_pyg(one_way, symmetrize=True).n_edges == 1
    with pytest.raises(ValueError, match=r"edge_index must hold node ids in 0\.\.1 \(num_nodes=2\), got ids 0\.\.5"):
        from_pyg(data_mod.Data(edge_index=torch.tensor([[0, 5], [5, 0]]), num_nodes=2))


def test_clean_adjacency_report():
    a = sp.csr_array(np.array([[1, 3], [3, 0]]))
    m, rep = clean_adjacency(a)
    assert m.toarray().tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert rep == {"duplicate_edges": 2, "self_loops_removed": 1, "symmetrized": 0}  # weight 3 = 2 extra


def test_large_edge_list_is_vectorised(tmp_path):
    rng = np.random.default_rng(0)
    e = rng.integers(0, 200_000, size=(500_000, 2))
    p = tmp_path / "big.txt"
    np.savetxt(p, e, fmt="%d")
    t0 = time.perf_counter()
    g = read_graph(p)
    elapsed = time.perf_counter() - t0
    assert g.n_nodes == int(e.max()) + 1
    loops = int(np.sum(e[:, 0] == e[:, 1]))
    assert g.metadata["self_loops_removed"] == np.unique(e[e[:, 0] == e[:, 1], 0]).size
    assert g.n_edges + g.metadata["duplicate_edges"] + loops == e.shape[0]
    assert elapsed < 20.0, elapsed  # ~1 s vectorised; a per-line Python loop with checks is far slower


def test_labels_file_has_its_own_delimiter(tmp_path):
    # a whitespace labels file beside a CSV edge list: each file's delimiter is detected on its own
    edges = tmp_path / "edges.csv"
    edges.write_text("0,1\n1,2\n2,3\n")
    labels = tmp_path / "labels.txt"
    labels.write_text("0 0\n1 0\n2 1\n3 1\n")
    g = read_graph(edges, labels=labels)
    assert g.labels.tolist() == [0, 0, 1, 1]
    assert g.n_edges == 3


# --------------------------------------------------------------------------- one converter per kind
def test_graph_from_networkx_string_labels_and_read_graph_agree():
    h = nx.karate_club_graph()
    g = Graph.from_networkx(h, label_attr="club")
    r = read_graph(h, label_attr="club")
    f = from_networkx(h, labels="club")
    for other in (r, f):
        assert (other.adjacency != g.adjacency).nnz == 0 and np.array_equal(other.labels, g.labels)
    assert g.metadata["class_names"] == ["Mr. Hi", "Officer"]
    assert g.labels.tolist() == [0 if h.nodes[v]["club"] == "Mr. Hi" else 1 for v in h.nodes]
    # karate's edges carry a 'weight' attribute (interaction counts): kept, D^-1 A uses weighted degrees
    assert g.metadata["weighted"] and g.is_weighted and repr(g).endswith("weighted=True)")
    i, j, d = next(iter(h.edges(data=True)))
    assert g.adjacency[i, j] == d["weight"] == g.adjacency[j, i]
    from oversmooth.operators import normalize_adjacency

    P = normalize_adjacency(g)
    deg = np.array([sum(dd["weight"] for *_, dd in h.edges(v, data=True)) for v in h.nodes])
    np.testing.assert_allclose(P.toarray(), g.adjacency.toarray() / deg[:, None])
    u = Graph.from_networkx(h, label_attr="club", weight=None)
    assert set(u.adjacency.data) == {1.0} and u.metadata["weights_ignored"] and not u.metadata["weighted"]


def test_networkx_label_attribute_missing_everywhere_or_somewhere():
    h = nx.path_graph(3)
    with pytest.raises(ValueError, match=r"node attribute 'club' \(label_attr\) is missing on every node"):
        Graph.from_networkx(h, label_attr="club")
    with pytest.raises(ValueError, match="'club'"):
        read_graph(h, label_attr="club")
    assert Graph.from_networkx(h).n_classes == 0  # the default 'label' is optional
    h.nodes[0]["club"] = "a"
    h.nodes[2]["club"] = "b"
    with pytest.warns(UserWarning, match=r"'club' is missing on 1 of 3 nodes; they are unlabelled \(-1\)"):
        g = Graph.from_networkx(h, label_attr="club")
    assert g.labels.tolist() == [0, -1, 1] and g.metadata["unlabelled_nodes"] == 1
    h.nodes[1]["label"] = 2.0  # integral floats are integers
    h.nodes[0]["label"] = 0.0
    h.nodes[2]["label"] = 1.0
    assert Graph.from_networkx(h).labels.tolist() == [0, 2, 1]


def test_networkx_features_and_weights_errors():
    h = nx.Graph()
    h.add_node("a", x=[1.0, 2.0])
    h.add_node("b", x=[3.0, 4.0])
    h.add_edge("a", "b", weight=0.5)
    g = Graph.from_networkx(h, feature_attr="x")
    assert g.features.tolist() == [[1.0, 2.0], [3.0, 4.0]] and g.adjacency[0, 1] == 0.5
    h.add_node("c")
    h.add_edge("b", "c")
    with pytest.raises(ValueError, match=r"node attribute 'x' \(feature_attr\) is missing on 1 of 3 nodes, e.g. node 'c'"):
        Graph.from_networkx(h, feature_attr="x")
    h.nodes["c"]["x"] = [1.0]
    with pytest.raises(ValueError, match="same length on every node"):
        Graph.from_networkx(h, feature_attr="x")
    h.nodes["c"]["x"] = [1.0, 0.0]
    assert Graph.from_networkx(h, feature_attr="x").features.shape == (3, 2)
    h.edges["b", "c"]["weight"] = -1.0
    with pytest.raises(ValueError, match="edge weights must be >= 0"):
        Graph.from_networkx(h)
    h.edges["b", "c"]["weight"] = "heavy"
    with pytest.raises(ValueError, match=r"edge attribute 'weight' \(weight\) must be numbers"):
        Graph.from_networkx(h)
    m = nx.MultiGraph()
    m.add_edge(0, 1, weight=2.0)
    m.add_edge(0, 1, weight=0.5)
    assert Graph.from_networkx(m).adjacency[0, 1] == 2.5  # parallel weighted edges are summed


def test_pyg_weights_features_masks_and_round_trip():
    torch = pytest.importorskip("torch")
    data_mod = pytest.importorskip("torch_geometric.data")
    ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    d = data_mod.Data(edge_index=ei, edge_weight=torch.tensor([2.0, 2.0, 0.5, 0.5]), x=torch.arange(6.0).view(3, 2),
                      y=torch.tensor([[1], [0], [1]]), num_nodes=3,
                      train_mask=torch.tensor([True, False, False]), val_mask=torch.tensor([False, True, False]),
                      test_mask=torch.tensor([False, False, True]))
    g = Graph.from_pyg(d)
    assert g.adjacency.toarray().tolist() == [[0, 2, 0], [2, 0, 0.5], [0, 0.5, 0]] and g.metadata["weighted"]
    assert g.labels.tolist() == [1, 0, 1] and g.features.tolist() == [[0, 1], [2, 3], [4, 5]]
    assert {k: v.tolist() for k, v in g.metadata["split"].items()} == {"train": [0], "val": [1], "test": [2]}
    assert (read_graph(d).adjacency != g.adjacency).nnz == 0 and (from_pyg(d).adjacency != g.adjacency).nnz == 0
    back = g.to_pyg(split=tuple(g.metadata["split"].values()))
    assert back.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert back.edge_weight.tolist() == [2.0, 2.0, 0.5, 0.5] and back.y.tolist() == [1, 0, 1]
    assert back.x.dtype == torch.float32 and back.train_mask.tolist() == [True, False, False]
    again = Graph.from_pyg(back)
    assert (again.adjacency != g.adjacency).nnz == 0 and np.array_equal(again.features, g.features)
    unweighted = Graph.from_pyg(d, weight=None)
    assert set(unweighted.adjacency.data) == {1.0} and unweighted.metadata["weights_ignored"]
    assert "edge_weight" not in Graph.from_pyg(data_mod.Data(edge_index=ei, num_nodes=3)).to_pyg()
    bad = data_mod.Data(edge_index=ei, edge_weight=torch.tensor([2.0, 1.0, 0.5, 0.5]), num_nodes=3)
    with pytest.raises(ValueError, match=r"edge \(0, 1\) has weight 2 one way and 1 the other"):
        Graph.from_pyg(bad)
    attr = data_mod.Data(edge_index=ei, edge_attr=torch.ones(4, 3), num_nodes=3)
    with pytest.warns(UserWarning, match=r"edge_attr \(shape \(4, 3\)\) is not read as edge weights"):
        assert not Graph.from_pyg(attr).metadata["weighted"]
    with pytest.raises(ValueError, match="multi-dimensional edge features are not edge weights"):
        Graph.from_pyg(attr, weight="edge_attr")


def test_to_pyg_public_split_of_planetoid():
    pytest.importorskip("torch_geometric")
    from oversmooth.graphs import planetoid_structure

    d = planetoid_structure("cora").to_pyg(split="public")
    assert (int(d.train_mask.sum()), int(d.val_mask.sum()), int(d.test_mask.sum())) == (140, 500, 1000)
    assert d.edge_index.shape == (2, 2 * 5278) and "x" not in d


def test_weighted_edge_list_and_npz_arrays(tmp_path):
    p = tmp_path / "w.txt"
    p.write_text("0 1 0.5\n1 2 2\n0 1 0.25\n")
    g = read_graph(p)
    assert g.adjacency.toarray().tolist() == [[0, 0.75, 0], [0.75, 0, 2], [0, 2, 0]] and g.metadata["weighted"]
    assert g.metadata["duplicate_edges"] == 1
    u = read_graph(p, weighted=False)
    assert set(u.adjacency.data) == {1.0} and u.metadata["weights_ignored"]
    q = tmp_path / "t.txt"
    q.write_text("0 1 2020-01-01\n")
    with pytest.raises(ValueError, match=r"t\.txt: has 3 columns but the third is not a number .* weighted=False"):
        read_graph(q)
    assert read_graph(q, weighted=False).n_edges == 1
    # an .npz of arrays in PyG's names: edge_index (one direction is enough), x, y (strings encoded), edge_weight
    z = tmp_path / "g.npz"
    np.savez(z, edge_index=np.array([[0, 1], [1, 2]]), x=np.eye(4), y=np.array(["b", "a", "b", "a"]),
             edge_weight=np.array([1.0, 3.0]))
    h = read_graph(z)
    assert h.n_nodes == 4 and h.features.shape == (4, 4) and h.labels.tolist() == [1, 0, 1, 0]
    assert h.metadata["class_names"] == ["a", "b"] and h.adjacency[1, 2] == 3.0 == h.adjacency[2, 1]
    assert h.metadata["features_source"].endswith("key 'x'")
    np.savez(tmp_path / "rc.npz", rows=[0], cols=[1], n_nodes=3)
    assert read_graph(tmp_path / "rc.npz").n_nodes == 3
    np.savez(tmp_path / "bad.npz", edges=[[0, 1]])
    with pytest.raises(ValueError, match=r"bad\.npz: not a scipy.sparse .npz file, and no graph arrays"):
        read_graph(tmp_path / "bad.npz")
    np.savez(tmp_path / "short.npz", edge_index=[[0], [1]], x=np.ones((3, 2)), num_nodes=2)
    with pytest.raises(ValueError, match=r"short\.npz, key 'x': 3 rows of features for a graph of 2 nodes"):
        read_graph(tmp_path / "short.npz")


def test_read_graph_features_file(tmp_path):
    e = tmp_path / "e.txt"
    e.write_text("0 1\n1 2\n")
    np.save(tmp_path / "x.npy", np.arange(6.0).reshape(3, 2))
    g = read_graph(e, features=tmp_path / "x.npy")
    assert g.features.tolist() == [[0, 1], [2, 3], [4, 5]] and g.metadata["features_source"].endswith("x.npy")
    np.save(tmp_path / "y.npy", np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"y\.npy: 2 rows of features for a graph of 3 nodes"):
        read_graph(e, features=tmp_path / "y.npy")
    assert read_graph(e, features=np.ones(3)).features.shape == (3, 1)


def test_npz_graph_refuses_pickles_and_bad_shapes(tmp_path):
    np.savez(tmp_path / "p.npz", edge_index=np.array([[0], [1]]), y=np.array([0, "a"], dtype=object))
    with pytest.raises(ValueError, match=r"p\.npz, key 'y': holds pickled objects, which are refused"):
        read_graph(tmp_path / "p.npz")
    np.savez(tmp_path / "s.npz", edge_index=np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match=r"s\.npz: 'edge_index' must be an integer array of shape \(2, E\)"):
        read_graph(tmp_path / "s.npz")
    np.savez(tmp_path / "w.npz", edge_index=np.array([[0], [1]]), edge_weight=np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"w\.npz: 'edge_weight' must hold one weight per edge \(1\)"):
        read_graph(tmp_path / "w.npz")
    np.savez(tmp_path / "b.npz", edge_index=np.array([[0], [1]]), x=np.ones((2, 1)), features=np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"b\.npz: has both 'x' and 'features'"):
        read_graph(tmp_path / "b.npz")


def test_weighted_normalisation_matches_pyg_gcn_norm():
    """A weighted Graph's D^-1/2 (A + I) D^-1/2 equals PyG's gcn_norm on to_pyg()'s edge_index and edge_weight."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("torch_geometric")
    from torch_geometric.nn.conv.gcn_conv import gcn_norm

    from oversmooth.operators import normalize_adjacency

    h = nx.karate_club_graph()
    g = Graph.from_networkx(h)
    d = g.to_pyg()
    ei, w = gcn_norm(d.edge_index, d.edge_weight.double(), num_nodes=d.num_nodes, add_self_loops=True)
    pyg = sp.coo_array((w.numpy(), (ei[0].numpy(), ei[1].numpy())), shape=(g.n_nodes, g.n_nodes)).toarray()
    ours = normalize_adjacency(g.with_self_loops(True), "sym").toarray()
    np.testing.assert_allclose(ours, pyg.T, rtol=1e-12, atol=1e-15)
    assert torch.is_tensor(d.edge_weight)


def test_node_id_mapping_modes(tmp_path):
    """Dense integer ids are indices; sparse ones are numbered densely in numeric order (warned); ids= forces either."""
    e = tmp_path / "e.txt"
    e.write_text("10 2\n2 100000000\n")
    lab = tmp_path / "l.txt"
    lab.write_text("100000000 1\n2 0\n")
    with pytest.warns(UserWarning, match=r"integer node ids are sparse \(largest 100000000, 3 distinct\)"):
        g = read_graph(e, lab)
    assert g.metadata["node_ids"] == "name" and g.metadata["node_names"].tolist() == [2, 10, 100000000]
    assert _edges(g) == [(0, 1), (0, 2)] and g.labels.tolist() == [0, -1, 1]
    dense = tmp_path / "d.txt"
    dense.write_text("0 1\n4 5\n")
    g = read_graph(dense)
    assert g.metadata["node_ids"] == "index" and g.n_nodes == 6 and g.degrees.tolist() == [1, 1, 0, 0, 1, 1]
    g = read_graph(dense, ids="name")
    assert g.n_nodes == 4 and g.metadata["node_names"].tolist() == [0, 1, 4, 5]
    sparse = tmp_path / "s.txt"
    sparse.write_text("0 1\n1 50000\n")
    g = read_graph(sparse, ids="index")  # explicit: ids are indices (isolated nodes in between), within the budget
    assert g.n_nodes == 50001 and g.n_edges == 2 and g.metadata["node_ids"] == "index"


@pytest.mark.parametrize("text, match", [
    ("a b c", "not an array of numbers"), ("0.7 1 0", "entry 0 is 0.7"), ("0 -2 1", "entry 1 is -2"),
    ("0 nan 1", "entry 1 is nan"),
])
def test_read_label_array_refuses_what_is_not_integer_labels(tmp_path, text, match):
    from oversmooth.errors import FileFormatError
    from oversmooth.graphs import read_label_array

    p = tmp_path / "y.txt"
    p.write_text(text)
    with pytest.raises(FileFormatError, match=match):
        read_label_array(p)
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object))
    with pytest.raises(FileFormatError, match="obj.npy"):
        read_label_array(tmp_path / "obj.npy")
    np.save(tmp_path / "ok.npy", np.array([1.0, 0.0, -1.0]))
    assert read_label_array(tmp_path / "ok.npy").tolist() == [1, 0, -1]
