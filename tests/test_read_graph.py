"""User graphs: edge lists, labels files, .npz, GraphML/GML, NetworkX and PyG Data."""

from __future__ import annotations

import time

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from oversmooth.graphs import from_pyg, read_graph
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
    with pytest.raises(ValueError, match="n_nodes=2 but the files use node id 2"):
        read_graph(p, n_nodes=2)


def test_string_ids_and_string_labels(tmp_path):
    e = tmp_path / "e.tsv"
    e.write_text("alice\tbob\nbob\tcarol\ncarol\tdave\n")
    lab = tmp_path / "l.tsv"
    lab.write_text("alice\tred\nbob\tblue\ncarol\tred\nerin\tblue\n")  # dave unlabelled, erin isolated
    g = read_graph(e, lab)
    assert g.metadata["node_names"].tolist() == ["alice", "bob", "carol", "dave", "erin"]
    assert g.metadata["class_names"] == ["blue", "red"]
    assert g.labels.tolist() == [1, 0, 1, -1, 0]
    assert _edges(g) == [(0, 1), (1, 2), (2, 3)]
    assert g.degrees[4] == 0


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
    assert set(g.adjacency.data) == {1.0} and g.labels.tolist() == [0, 1, 1]
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
