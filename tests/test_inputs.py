"""The input conventions of the measures (oversmooth.measures._inputs): every graph and
embedding form a user brings gives the same arrays, and bad input names the argument."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from oversmooth.graphs import Graph
from oversmooth.measures._inputs import as_adjacency, as_embedding, as_labels, as_layers

# the path 0 - 1 - 2 - 3 plus the edge 1 - 3, as a dense reference
DENSE = np.array([[0, 1, 0, 0], [1, 0, 1, 1], [0, 1, 0, 1], [0, 1, 1, 0]], dtype=float)
ONE_WAY = np.array([[0, 1, 2, 1], [1, 2, 3, 3]])  # each undirected edge listed once
BOTH_WAYS = np.hstack([ONE_WAY, ONE_WAY[::-1]])


def _all_forms() -> list[object]:
    forms: list[object] = [sp.csr_array(DENSE), sp.coo_matrix(DENSE), DENSE, ONE_WAY, BOTH_WAYS,
                           Graph.from_scipy(DENSE)]
    g = nx.Graph()
    g.add_nodes_from(range(4))
    g.add_edges_from(ONE_WAY.T.tolist())
    forms.append(g)
    return forms


@pytest.mark.parametrize("form", range(len(_all_forms())))
def test_every_graph_form_gives_the_same_symmetric_adjacency(form):
    a = as_adjacency(_all_forms()[form], n_nodes=4)
    assert isinstance(a, sp.csr_array) and a.dtype == np.float64
    np.testing.assert_array_equal(a.toarray(), DENSE)


def test_torch_and_pyg_forms():
    torch = pytest.importorskip("torch")
    data_mod = pytest.importorskip("torch_geometric.data")
    ei = torch.tensor(BOTH_WAYS)
    np.testing.assert_array_equal(as_adjacency(ei, n_nodes=4).toarray(), DENSE)
    d = data_mod.Data(edge_index=ei, num_nodes=5)  # a trailing isolated node
    a = as_adjacency(d)
    assert a.shape == (5, 5) and a[4].nnz == 0
    x = torch.ones(3, 2, dtype=torch.float16, requires_grad=True)
    layers = as_layers([x, torch.zeros(3, 4)])
    assert [h.dtype for h in layers] == [np.float64, np.float64] and [h.shape for h in layers] == [(3, 2), (3, 4)]


def test_edge_index_sizes_from_the_embeddings_and_keeps_weights():
    a = as_adjacency(np.array([[0], [1]]), n_nodes=3)
    assert a.shape == (3, 3) and a.nnz == 2
    g = nx.Graph()
    g.add_edge(0, 1, weight=2.5)
    np.testing.assert_array_equal(as_adjacency(g).toarray(), [[0, 2.5], [2.5, 0]])


def test_an_edge_listed_twice_is_one_edge_and_a_normalised_matrix_is_refused():
    a = as_adjacency(np.hstack([BOTH_WAYS, BOTH_WAYS]), n_nodes=4)  # every arc listed twice
    np.testing.assert_array_equal(a.toarray(), DENSE)
    P = sp.csr_array(DENSE / DENSE.sum(axis=1, keepdims=True))  # D^-1 A: both directions, different weights
    with pytest.raises(ValueError, match="different weights in their two directions"):
        as_adjacency(P)
    upper = sp.csr_array(np.triu(2.0 * DENSE))  # one direction only, weighted: completed, weights kept
    np.testing.assert_array_equal(as_adjacency(upper).toarray(), 2.0 * DENSE)


def test_layers_single_and_sequence():
    assert len(as_layers(np.zeros((5, 3)))) == 1
    assert as_layers([1.0, 2.0, 3.0])[0].shape == (3, 1)
    assert [h.shape for h in as_layers([np.zeros(4), np.zeros((4, 2))])] == [(4, 1), (4, 2)]


@pytest.mark.parametrize(("call", "match"), [
    (lambda: as_layers([np.zeros((3, 2)), np.zeros((4, 2))]), r"embeddings\[1\] has 4 rows"),
    (lambda: as_layers([]), "empty sequence"),
    (lambda: as_embedding(np.array([[1.0, np.nan]])), "must be finite"),
    (lambda: as_embedding(np.zeros((2, 2, 2))), "2-D array"),
    (lambda: as_embedding(np.zeros((0, 2))), "empty"),
    (lambda: as_embedding([["a", "b"]]), "numeric array"),
    (lambda: as_embedding(np.zeros((3, 2)), n_nodes=4), "must have 4 rows"),
    (lambda: as_adjacency(np.array([[0, 5], [1, 0]]), n_nodes=3), r"node ids in 0\.\.2"),
    (lambda: as_adjacency(np.array([[0.5, 1.0], [1.0, 0.0], [0.0, 1.0]])), "graph must be"),
    (lambda: as_adjacency(sp.csr_array(np.eye(3)), n_nodes=4), "3 nodes but the embeddings have 4"),
    (lambda: as_adjacency(sp.csr_array([[0.0, -1.0], [-1.0, 0.0]])), "negative edge weights"),
    (lambda: as_adjacency(None), "graph is required"),
    (lambda: as_labels([0, 1], 3), r"shape \(3,\)"),
    (lambda: as_labels([0.5, 1, 2], 3), "must be integers"),
    (lambda: as_labels(["a", "b", "c"], 3), "encode string classes"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_labels_negatives_and_one_hot():
    assert as_labels(np.array([0, -5, 2]), 3).tolist() == [0, -1, 2]
    assert as_labels(np.array([[0, 1], [1, 0], [0, 0]]), 3).tolist() == [1, 0, -1]
    assert as_labels(np.array([1.0, 0.0]), 2).dtype == np.int64
