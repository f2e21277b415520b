"""Smoothness measures against naive references written here from the papers' formulas.

Every reference below is a dense loop over node pairs on a small graph (no code shared with
the package): the Dirichlet energies of Rusch et al. and Cai & Wang, the Rayleigh quotient,
Chen et al.'s MAD and MADGap (non-zero distances only), PyG's group distance ratio and the
effective rank of Roy & Vetterli.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

from _helpers import random_graphs
from oversmooth.graphs import Graph, sample_csbm
from oversmooth.measures import (
    EdgeArrays,
    dirichlet_energy,
    edge_arrays,
    edge_smoothness,
    effective_rank,
    group_distance_ratio,
    hop_masks,
    mad,
    mad_gap,
    normalized_dirichlet_energy,
    rayleigh_quotient,
)
from oversmooth.measures import _edges, _gdr, _madgap

ZERO = 1e-20  # the references treat 1 - cos below this (parallel up to rounding) as an exact zero


# =========================================================================== references


def weighted_graph(n: int, p: float, seed: int, *, self_loops: bool = True) -> np.ndarray:
    """A dense symmetric weighted adjacency with some isolated nodes and self-loops."""
    rng = np.random.default_rng(seed)
    w = np.triu(rng.uniform(0.5, 2.0, (n, n)) * (rng.random((n, n)) < p), 1)
    w = w + w.T
    if self_loops:
        w[np.diag_indices(n)] = rng.uniform(0.0, 3.0, n) * (rng.random(n) < 0.5)
    return w


def ref_energy(x: np.ndarray, w: np.ndarray) -> float:
    x = x.reshape(len(x), -1)
    n = len(x)
    total = 0.0
    for i in range(n):
        for j in range(n):
            if j != i and w[i, j] != 0:
                total += w[i, j] * np.sum((x[i] - x[j]) ** 2)
    return total / n


def ref_normalized_energy(x: np.ndarray, w: np.ndarray) -> float:
    x = x.reshape(len(x), -1)
    at = w.copy()
    np.fill_diagonal(at, 1.0)  # off-diagonal part of A plus I
    dinv = np.diag(1.0 / np.sqrt(at.sum(axis=1)))
    lap = np.eye(len(x)) - dinv @ at @ dinv
    return float(np.trace(x.T @ lap @ x))


def ref_cos_dist(a: np.ndarray, b: np.ndarray) -> float:
    """1 - cos(a, b) = 2 sin^2(theta / 2), theta from Kahan's stable angle formula."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 1.0
    theta = 2 * math.atan2(np.linalg.norm(a * nb - b * na), np.linalg.norm(a * nb + b * na))
    dist = 2 * math.sin(theta / 2) ** 2
    return 0.0 if dist < ZERO else dist


def ref_two_stage(x: np.ndarray, mask: np.ndarray, rows=None) -> float:
    """Chen et al.: node value = mean of its non-zero masked distances; graph = mean of non-zero values."""
    x = x.reshape(len(x), -1)
    rows = range(len(x)) if rows is None else rows
    any_pair = False
    values = []
    for i in rows:
        nonzero = []
        for j in range(len(x)):
            if j != i and mask[i, j]:
                any_pair = True
                dist = ref_cos_dist(x[i], x[j])
                if dist != 0:
                    nonzero.append(dist)
        if nonzero:
            values.append(sum(nonzero) / len(nonzero))
    if not any_pair:
        return math.nan
    return sum(values) / len(values) if values else 0.0


def ref_hops(w: np.ndarray) -> np.ndarray:
    """All-pairs hop distances by repeated relaxation (inf when unreachable)."""
    n = len(w)
    dist = np.full((n, n), np.inf)
    adj = (w != 0) & ~np.eye(n, dtype=bool)
    for s in range(n):
        dist[s, s] = 0
        changed = True
        while changed:
            changed = False
            for i in range(n):
                for j in range(n):
                    if adj[i, j] and dist[s, i] + 1 < dist[s, j]:
                        dist[s, j] = dist[s, i] + 1
                        changed = True
    return dist


def ref_gdr(x: np.ndarray, y: np.ndarray, eps: float, form: str = "paper") -> float:
    x = x.reshape(len(x), -1)
    classes = sorted(set(int(v) for v in y if v >= 0))
    c = len(classes)
    groups = {k: [x[i] for i in range(len(x)) if y[i] == k] for k in classes}

    def mean_dist(a, b):
        return sum(np.linalg.norm(u - v) for u in a for v in b) / (len(a) * len(b))

    if form == "paper":
        num = sum(mean_dist(groups[i], groups[j]) for i in classes for j in classes if i != j)
    else:  # PyG's code: each class against all labelled nodes outside it
        num = sum(mean_dist(groups[i], [v for j in classes if j != i for v in groups[j]]) for i in classes)
    den = sum(mean_dist(groups[i], groups[i]) for i in classes) / c
    return num / (c - 1) ** 2 / (den + eps)


def ref_erank(x: np.ndarray) -> float:
    s = np.linalg.svd(x.reshape(len(x), -1), compute_uv=False)
    p = [v / s.sum() for v in s if v > 0]
    return math.exp(-sum(q * math.log(q) for q in p))


# =========================================================================== Dirichlet energies


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("d", [1, 3])
def test_energies_match_references_on_weighted_graphs(seed, d):
    w = weighted_graph(12, 0.3, seed)
    x = np.random.default_rng(seed + 10).standard_normal((12, d))
    a = sp.csr_array(w)
    e = ref_energy(x, w)
    assert dirichlet_energy(x, a) == pytest.approx(e, rel=1e-12)
    assert normalized_dirichlet_energy(x, a) == pytest.approx(ref_normalized_energy(x, w), rel=1e-12)
    assert rayleigh_quotient(x, a) == pytest.approx(e / np.sum(x**2), rel=1e-12)
    both = edge_smoothness(x, a)
    assert both["dirichlet_energy"] == pytest.approx(e, rel=1e-12)
    assert both["normalized_dirichlet_energy"] == pytest.approx(ref_normalized_energy(x, w), rel=1e-12)
    assert both["rayleigh_quotient"] == pytest.approx(e / np.sum(x**2), rel=1e-12)
    assert both["mad"] == pytest.approx(ref_two_stage(x, w != 0), rel=1e-12)


def test_rayleigh_identity_with_the_combinatorial_laplacian():
    w = weighted_graph(10, 0.4, 5)
    x = np.random.default_rng(5).standard_normal((10, 4))
    a0 = w - np.diag(np.diag(w))
    lap = np.diag(a0.sum(axis=1)) - a0
    assert rayleigh_quotient(x, sp.csr_array(w)) == pytest.approx(
        2 / 10 * np.trace(x.T @ lap @ x) / np.sum(x**2), rel=1e-12)


def test_edge_index_listed_once_or_twice_gives_the_same_energy():
    rng = np.random.default_rng(3)
    n = 15
    pairs = {(int(i), int(j)) for i, j in rng.integers(0, n, (30, 2)) if i < j}
    once = np.array(sorted(pairs)).T
    twice = np.hstack([once, once[::-1]])
    x = rng.standard_normal((n, 3))
    w = np.zeros((n, n))
    w[once[0], once[1]] = w[once[1], once[0]] = 1.0
    for f in (dirichlet_energy, normalized_dirichlet_energy, rayleigh_quotient, mad):
        v1, v2 = f(x, once), f(x, twice)
        assert v1 == pytest.approx(v2, rel=1e-14), f.__name__
    assert dirichlet_energy(x, once) == pytest.approx(ref_energy(x, w), rel=1e-12)
    # each undirected edge is counted from both ends: a single edge of length 2 gives 2 * 4 / N
    assert dirichlet_energy(np.array([0.0, 2.0, 2.0]), np.array([[0], [1]]), edges=None) == pytest.approx(8 / 3)


def test_torch_inputs_for_embeddings_and_edge_index():
    torch = pytest.importorskip("torch")
    w = weighted_graph(9, 0.4, 7, self_loops=False)
    w[w != 0] = 1.0
    x = np.random.default_rng(7).standard_normal((9, 5)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    ei = torch.tensor(np.array(np.nonzero(np.triu(w))), dtype=torch.long)
    x64 = x.astype(np.float64)
    assert dirichlet_energy(xt, ei) == pytest.approx(ref_energy(x64, w), rel=1e-12)
    assert normalized_dirichlet_energy(xt, ei) == pytest.approx(ref_normalized_energy(x64, w), rel=1e-12)
    assert mad(xt, ei) == pytest.approx(ref_two_stage(x64, w != 0), rel=1e-12)
    assert effective_rank(xt) == pytest.approx(ref_erank(x64), rel=1e-12)
    assert group_distance_ratio(xt, torch.tensor([0, 1, 2] * 3), eps=0.0) == pytest.approx(
        ref_gdr(x64, np.array([0, 1, 2] * 3), 0.0), rel=1e-10)


def test_weighted_edges_from_networkx_and_pyg_style_data():
    nx = pytest.importorskip("networkx")
    g = nx.Graph()
    g.add_weighted_edges_from([(0, 1, 2.0), (1, 2, 0.5), (2, 3, 3.0)])
    x = np.array([[0.0, 1.0], [1.0, 1.0], [3.0, 0.0], [3.0, 2.0]])
    w = nx.to_numpy_array(g, nodelist=range(4))
    assert dirichlet_energy(x, g) == pytest.approx(ref_energy(x, w), rel=1e-14)
    assert dirichlet_energy(x, g) == pytest.approx(2 * (2.0 * 1 + 0.5 * 5 + 3.0 * 4) / 4, rel=1e-14)
    assert normalized_dirichlet_energy(x, g) == pytest.approx(ref_normalized_energy(x, w), rel=1e-12)

    class Data:  # the attributes PyG's Data exposes
        edge_index = np.array([[0, 1, 2], [1, 2, 3]])
        edge_weight = np.array([2.0, 0.5, 3.0])
        num_nodes = 4

    assert dirichlet_energy(x, Data()) == pytest.approx(ref_energy(x, w), rel=1e-14)


def test_legacy_call_forms_and_reused_edges(path3):
    h = np.array([0.0, 3.0, 6.0])
    e = edge_arrays(path3)  # a Graph
    assert isinstance(e, EdgeArrays) and e.rows.tolist() == [0, 1] and e.cols.tolist() == [1, 2]
    assert dirichlet_energy(h, edges=e) == pytest.approx(12.0, rel=1e-15)
    assert dirichlet_energy(h, edges=edge_arrays(path3.adjacency)) == pytest.approx(12.0, rel=1e-15)
    assert dirichlet_energy(h, path3.adjacency) == pytest.approx(12.0, rel=1e-15)
    # the old (rows, cols) ordered-pair tuple is read as an edge list
    assert dirichlet_energy(h, edges=(np.array([0, 1, 1, 2]), np.array([1, 0, 2, 1]))) == pytest.approx(12.0)
    assert mad(h, edges=e) == mad(h, path3)


def test_sparse_product_forms_equal_the_chunked_exact_pass(monkeypatch):
    w = weighted_graph(30, 0.3, 11)
    x = np.random.default_rng(11).standard_normal((30, 4))
    x[3] = x[4]  # a zero distance (if 3 and 4 are neighbours) and a zero vector
    x[7] = 0.0
    fast = edge_smoothness(x, sp.csr_array(w))
    monkeypatch.setattr(_edges, "_CHUNK_ENTRIES", 8)  # 2 edges per chunk
    monkeypatch.setattr(_edges, "_CANCEL", 2.0)  # always the exact per-edge energies
    monkeypatch.setattr(_edges, "_SMALL_MAD", np.inf)  # always the exact per-pair MAD
    exact = edge_smoothness(x, sp.csr_array(w))
    for k in fast:
        assert exact[k] == pytest.approx(fast[k], rel=1e-12)
    assert exact["mad"] == pytest.approx(ref_two_stage(x, w != 0), rel=1e-12)


def test_smooth_signals_keep_full_precision():
    # a ramp on a long path: ||x - mean||^2 is ~ n^2 times the energy (cancellation in the
    # sparse-product form), so the exact per-edge pass must take over
    n = 400
    path = np.array([np.arange(n - 1), np.arange(1, n)])
    ramp = np.arange(n, dtype=float)[:, None] * [1.0, -2.0]
    assert dirichlet_energy(ramp, path) == pytest.approx(2 * (n - 1) * 5.0 / n, rel=1e-13)
    # nearly parallel rows: distances ~1e-12, far below the rounding of 1 - u_i . u_j
    rng = np.random.default_rng(0)
    base = rng.standard_normal(5)
    x = base + 1e-6 * rng.standard_normal((n, 5))
    w = np.zeros((n, n))
    w[path[0], path[1]] = w[path[1], path[0]] = 1.0
    assert mad(x[:40], path[:, :39]) == pytest.approx(ref_two_stage(x[:40], w[:40, :40] != 0), rel=1e-9)
    # only a few nodes with tiny distances: recomputed pair by pair, the rest from the sparse product.
    # Nodes 2..9 are scaled copies of one vector (all distances zero, left out), so MAD is D_01 ~ 1e-13,
    # where 1 - u_0 . u_1 from the sparse product would be wrong in the third digit
    y = np.repeat(rng.standard_normal((1, 5)), 10, axis=0) * np.arange(1, 11)[:, None]
    y[0] = rng.standard_normal(5)
    y[1] = y[0] + 1e-6 * rng.standard_normal(5)
    edges = np.array([[0, 2, 3, 4, 5, 6, 7, 8], [1, 3, 4, 5, 6, 7, 8, 9]])
    expected = ref_cos_dist(y[0], y[1])
    assert 1e-14 < expected < 1e-12
    assert mad(y, edges) == pytest.approx(expected, rel=1e-9)


@given(random_graphs(max_nodes=20), st.floats(0.01, 100.0), st.booleans(), st.integers(0, 2**31 - 1))
def test_rayleigh_quotient_is_invariant_to_rescaling(g, c, negative, seed):
    x = np.random.default_rng(seed).standard_normal((g.n_nodes, 3))
    c = -c if negative else c
    r1, r2 = rayleigh_quotient(x, g), rayleigh_quotient(c * x, g)
    assert r2 == pytest.approx(r1, rel=1e-9, abs=1e-300)
    # the raw energies are not: E scales as c^2
    assert dirichlet_energy(c * x, g) == pytest.approx(c**2 * dirichlet_energy(x, g), rel=1e-9, abs=1e-300)


def test_rayleigh_quotient_of_zero_embeddings_is_nan():
    assert math.isnan(rayleigh_quotient(np.zeros((3, 2)), np.array([[0, 1], [1, 2]])))


# =========================================================================== MAD


def test_mad_averages_only_non_zero_distances(path3):
    a = path3.adjacency  # path 0 - 1 - 2 with self-loops (ignored)
    # 1-D: D01 = 0 (same sign), D12 = 2. Node 0 has no non-zero distance and is left out:
    # node 1 -> 2, node 2 -> 2, MAD = 2 (a plain mean would give (0 + 1 + 2) / 3 = 1)
    x = np.array([1.0, 2.0, -1.0])
    assert mad(x, a) == 2.0
    assert mad(x, a) == pytest.approx(ref_two_stage(x, a.toarray() != 0))
    # identical rows are an exact zero (no rounding residue), so they are skipped as well
    x2 = np.array([[0.3, 0.7], [0.3, 0.7], [0.7, 0.3]])
    expected = ref_two_stage(x2, a.toarray() != 0)
    assert mad(x2, a) == pytest.approx(expected, rel=1e-12)
    assert mad(x2, a) == pytest.approx(1 - 0.42 / 0.58, rel=1e-12)
    # every distance zero -> 0.0; no edge at all -> NaN
    assert mad(np.array([2.0, 2.0, 5.0]), a) == 0.0
    assert math.isnan(mad(x, sp.csr_array((3, 3))))


def test_mad_zero_vector_has_cosine_zero():
    a = np.array([[0, 1], [1, 2]])  # path 0 - 1 - 2
    x = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    # D01 = 1 (zero vector), D12 = 0: node 0 -> 1, node 1 -> 1 (its zero distance dropped), node 2 left out
    assert mad(x, a) == 1.0
    assert mad(np.zeros((3, 2)), a) == 1.0  # two zero vectors: cosine 0 too


@pytest.mark.parametrize("seed", [0, 4])
def test_mad_matches_reference_with_duplicates_and_scaled_rows(seed):
    rng = np.random.default_rng(seed)
    w = weighted_graph(14, 0.35, seed)
    x = rng.standard_normal((14, 3))
    x[1] = x[0]
    x[2] = 2.0 * x[0]  # scaling by a power of two: exactly the same unit vector
    x[5] = 0.0
    a = sp.csr_array(w)
    assert mad(x, a) == pytest.approx(ref_two_stage(x, w != 0), rel=1e-12)


# =========================================================================== MADGap


def ref_mad_gap(x, w, neb_hops, rmt_hops, *, unreachable="remote", rows=None):
    dist = ref_hops(w)
    neb = (dist >= 1) & (dist <= neb_hops)
    rmt = dist >= rmt_hops
    if unreachable == "ignore":
        rmt &= np.isfinite(dist)
    return ref_two_stage(x, neb, rows), ref_two_stage(x, rmt, rows)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mad_gap_matches_reference_exactly_on_small_graphs(seed):
    rng = np.random.default_rng(seed)
    n = 22
    # a long path (large hop distances) plus random chords, and a separate triangle
    w = np.zeros((n, n))
    for i in range(18):
        w[i, i + 1] = w[i + 1, i] = 1.0
    for i, j in rng.integers(0, 19, (2, 2)):
        if i != j:
            w[i, j] = w[j, i] = 1.0
    for i, j in [(19, 20), (20, 21), (19, 21)]:
        w[i, j] = w[j, i] = 1.0
    x = rng.standard_normal((n, 3))
    x[4] = x[3]
    for unreachable in ("remote", "ignore"):
        out = mad_gap(x, sp.csr_array(w), neb_hops=2, rmt_hops=5, unreachable=unreachable)
        neb, rmt = ref_mad_gap(x, w, 2, 5, unreachable=unreachable)
        assert out["mad_neb"] == pytest.approx(neb, rel=1e-10)
        assert out["mad_rmt"] == pytest.approx(rmt, rel=1e-10)
        assert out["mad_gap"] == pytest.approx(rmt - neb, rel=1e-10)
        assert out["mad_sources"] == n


def test_mad_gap_default_hops_and_more_than_64_sources():
    n = 150  # three words of sources; a cycle has hop distances up to 75
    w = np.zeros((n, n))
    for i in range(n):
        w[i, (i + 1) % n] = w[(i + 1) % n, i] = 1.0
    x = np.random.default_rng(1).standard_normal((n, 4))
    out = mad_gap(x, sp.csr_array(w))
    dist = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
    dist = np.minimum(dist, n - dist)
    assert out["mad_neb"] == pytest.approx(ref_two_stage(x, (dist >= 1) & (dist <= 3)), rel=1e-10)
    assert out["mad_rmt"] == pytest.approx(ref_two_stage(x, dist >= 8), rel=1e-10)


def test_mad_gap_neighbour_mask_of_one_hop_is_mad():
    w = weighted_graph(25, 0.2, 9)
    x = np.random.default_rng(9).standard_normal((25, 3))
    out = mad_gap(x, sp.csr_array(w), neb_hops=1, rmt_hops=2)
    assert out["mad_neb"] == pytest.approx(mad(x, sp.csr_array(w)), rel=1e-10)


def test_mad_gap_sampled_sources_are_seeded_and_match_reference_on_those_rows():
    w = weighted_graph(40, 0.08, 2, self_loops=False)
    x = np.random.default_rng(2).standard_normal((40, 3))
    a = sp.csr_array(w)
    out1 = mad_gap(x, a, neb_hops=1, rmt_hops=3, sources=10, seed=5)
    out2 = mad_gap(x, a, neb_hops=1, rmt_hops=3, sources=10, seed=5)
    assert out1 == out2 and out1["mad_sources"] == 10
    masks = hop_masks(a, neb_hops=1, rmt_hops=3, sources=10, seed=5)
    assert not masks.exact
    neb, rmt = ref_mad_gap(x, w, 1, 3, rows=masks.sources.tolist())
    assert out1["mad_neb"] == pytest.approx(neb, rel=1e-10)
    assert out1["mad_rmt"] == pytest.approx(rmt, rel=1e-10)
    # precomputed masks give the same numbers; an explicit source list too
    assert mad_gap(x, masks=masks) == out1
    assert mad_gap(x, a, neb_hops=1, rmt_hops=3, sources=masks.sources) == out1


def test_mad_gap_samples_beyond_the_exact_size(monkeypatch):
    monkeypatch.setattr(_madgap, "MADGAP_EXACT_MAX_NODES", 30)
    monkeypatch.setattr(_madgap, "MADGAP_SAMPLE_SOURCES", 12)
    w = weighted_graph(40, 0.1, 3)
    x = np.random.default_rng(3).standard_normal((40, 2))
    assert mad_gap(x, sp.csr_array(w), seed=0)["mad_sources"] == 12
    assert mad_gap(x[:30], sp.csr_array(w[:30, :30]))["mad_sources"] == 30


def test_mad_gap_without_remote_nodes_is_nan():
    x = np.random.default_rng(0).standard_normal((4, 2))
    out = mad_gap(x, np.array([[0, 0, 0], [1, 2, 3]]))  # a star: every node within 2 hops
    assert math.isnan(out["mad_rmt"]) and math.isnan(out["mad_gap"]) and out["mad_neb"] > 0


# =========================================================================== group distance ratio


@pytest.mark.parametrize("seed", [0, 1])
def test_group_distance_ratio_matches_reference(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((17, 3)) + np.repeat(np.eye(3), [6, 6, 5], axis=0) * 2
    y = np.repeat([0, 1, 2], [6, 6, 5])
    y[3] = -1  # unlabelled: left out
    for form in ("paper", "pyg"):
        assert group_distance_ratio(x, y, form=form) == pytest.approx(ref_gdr(x, y, 1e-5, form), rel=1e-10)
    # the two forms agree for two classes
    y2 = np.where(y == 2, 1, y)
    assert group_distance_ratio(x, y2) == pytest.approx(group_distance_ratio(x, y2, form="pyg"), rel=1e-12)


def test_group_distance_ratio_pyg_form_equals_pyg():
    pyg = pytest.importorskip("torch_geometric.nn")
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((30, 5))
    y = rng.integers(0, 4, 30)
    expected = pyg.DiffGroupNorm.group_distance_ratio(torch.tensor(x), torch.tensor(y))
    assert group_distance_ratio(x, y, form="pyg") == pytest.approx(expected, rel=1e-9)


def test_group_distance_ratio_sampled_is_close_and_seeded():
    rng = np.random.default_rng(6)
    y = rng.integers(0, 3, 900)
    x = rng.standard_normal((900, 4)) + 1.5 * np.eye(4)[y]
    exact = group_distance_ratio(x, y)
    s1 = group_distance_ratio(x, y, max_nodes=300, seed=1)
    assert s1 == group_distance_ratio(x, y, max_nodes=300, seed=1)
    assert s1 != group_distance_ratio(x, y, max_nodes=300, seed=2)
    assert s1 == pytest.approx(exact, rel=0.03)


# =========================================================================== effective rank


def test_effective_rank_matches_reference(monkeypatch):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((50, 6)) @ np.diag([5, 3, 1, 0.5, 0.1, 0.0])
    assert effective_rank(x) == pytest.approx(ref_erank(x), rel=1e-12)
    assert effective_rank(np.ones((7, 4))) == pytest.approx(1.0, rel=1e-12)
    assert effective_rank(np.eye(5)) == pytest.approx(5.0, rel=1e-12)
    assert effective_rank(np.zeros((4, 3))) == 0.0
    monkeypatch.setattr(_gdr, "_SVD_MAX_ENTRIES", 10)  # the Gram-matrix branch of large inputs
    assert effective_rank(x) == pytest.approx(ref_erank(x), rel=1e-9)


# =========================================================================== invalid inputs


@pytest.mark.parametrize("call, match", [
    (lambda: dirichlet_energy(np.zeros((3, 2, 2)), np.array([[0], [1]])), "x must be a 2-D"),
    (lambda: dirichlet_energy(np.array([0.0, np.nan]), np.array([[0], [1]])), "x must be finite"),
    (lambda: dirichlet_energy(np.zeros(3)), "graph is required"),
    (lambda: mad(np.zeros(3), np.array([[0], [5]])), "graph must hold node ids"),
    (lambda: dirichlet_energy(np.zeros(4), edges=edge_arrays(np.array([[0], [1]]), n_nodes=3)), "edges were built"),
    (lambda: mad(np.zeros(3), edges="x"), "edges must be"),
    (lambda: mad_gap(np.zeros(3), np.array([[0], [1]]), neb_hops=3, rmt_hops=3), "neb_hops must be smaller"),
    (lambda: mad_gap(np.zeros(3), np.array([[0], [1]]), rmt_hops=0), "rmt_hops"),
    (lambda: mad_gap(np.zeros(3), np.array([[0], [1]]), sources=[0, 7]), "sources must be node ids"),
    (lambda: mad_gap(np.zeros(3), np.array([[0], [1]]), sources=0), "sources must be"),
    (lambda: mad_gap(np.zeros(3), np.array([[0], [1]]), unreachable="far"), "unreachable"),
    (lambda: mad_gap(np.zeros(3), masks="m"), "masks must be"),
    (lambda: group_distance_ratio(np.zeros(3), [0, 0, 0]), "labels must have at least two classes"),
    (lambda: group_distance_ratio(np.zeros(3), [0, 1]), "labels must have shape"),
    (lambda: group_distance_ratio(np.zeros(3), [0, 1, 1], eps=-1), "eps"),
    (lambda: group_distance_ratio(np.zeros(3), [0, 1, 1], max_nodes=1), "max_nodes"),
    (lambda: group_distance_ratio(np.zeros(3), [0, 1, 1], form="torch"), "form"),
    (lambda: effective_rank("abc"), "x must be a numeric array"),
    (lambda: edge_smoothness(np.zeros(3), np.array([[0], [1]]), sample=[2, 0, 2]), "sample must hold distinct"),
    (lambda: edge_smoothness(np.zeros(3), np.array([[0], [1]]), sample=[0, 3]), "sample must hold distinct"),
    (lambda: edge_smoothness(np.zeros(3), np.array([[0], [1]]), sample=[-1, 1]), "sample must hold distinct"),
])
def test_invalid_inputs_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_graph_helpers_accept_graph_objects(path3):
    x = np.array([0.0, 3.0, 6.0])
    g = Graph(sp.csr_array(np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])))
    assert dirichlet_energy(x, g) == dirichlet_energy(x, path3) == 12.0


def test_hop_masks_push_and_pull_steps_match_shortest_paths():
    from scipy.sparse.csgraph import shortest_path

    rng = np.random.default_rng(12)
    n = 400
    r, c = rng.integers(0, n, (2, 800))
    a = sp.csr_array((np.ones(800), (r, c)), shape=(n, n))
    a = sp.csr_array(((a + a.T) > 0).astype(float))
    src = np.array([3, 77, 150, 260, 399])  # few sources: pushes first, pulls once the frontier is large
    m = hop_masks(a, neb_hops=2, rmt_hops=6, sources=src)
    dist = shortest_path(a, unweighted=True, indices=src)
    neb, rmt, ball = m.neb.toarray() > 0, m.rmt.toarray() > 0, m.ball.toarray() > 0
    for k in range(src.size):
        remote = ~ball[k] if m.use_ball[k] else rmt[k]
        assert np.array_equal(neb[k], (dist[k] >= 1) & (dist[k] <= 2))
        assert np.array_equal(remote, dist[k] >= 6)
        assert m.n_rmt[k] == np.sum(dist[k] >= 6)
    assert m.use_ball.any() and not m.use_ball.all()  # both storages of the remote set are exercised


def test_mad_gap_tiny_distances_keep_full_precision():
    n = 30
    w = np.zeros((n, n))
    for i in range(n - 1):
        w[i, i + 1] = w[i + 1, i] = 1.0
    rng = np.random.default_rng(2)
    x = rng.standard_normal(4) + 1e-6 * rng.standard_normal((n, 4))  # 1 - cos ~ 1e-13
    x[5] = 3.0 * x[4]  # a zero distance among them
    out = mad_gap(x, sp.csr_array(w), neb_hops=1, rmt_hops=4, unreachable="ignore")
    neb, rmt = ref_mad_gap(x, w, 1, 4)
    assert 1e-14 < neb < 1e-11
    assert out["mad_neb"] == pytest.approx(neb, rel=1e-8)
    assert out["mad_rmt"] == pytest.approx(rmt, rel=1e-8)


def test_edgeless_and_single_node_graphs():
    x = np.random.default_rng(0).standard_normal((5, 3))
    out = edge_smoothness(x, sp.csr_array((5, 5)))
    assert out["dirichlet_energy"] == 0.0 and out["normalized_dirichlet_energy"] == 0.0 and math.isnan(out["mad"])
    gap = mad_gap(x, sp.csr_array((5, 5)))  # no neighbours; every other node unreachable, hence remote
    assert math.isnan(gap["mad_neb"])
    assert gap["mad_rmt"] == pytest.approx(ref_two_stage(x, ~np.eye(5, dtype=bool)), rel=1e-12)
    assert math.isnan(mad_gap(x, sp.csr_array((5, 5)), unreachable="ignore")["mad_rmt"])
    one = mad_gap(np.ones((1, 2)), sp.csr_array((1, 1)))
    assert one["mad_sources"] == 1 and math.isnan(one["mad_neb"]) and math.isnan(one["mad_rmt"])


@given(random_graphs(max_nodes=14, max_edges=40), st.integers(0, 2**31 - 1), st.integers(1, 3))
def test_edge_measures_and_mad_gap_match_references_on_random_graphs(g, seed, d):
    rng = np.random.default_rng(seed)
    n = g.n_nodes
    x = rng.integers(-2, 3, (n, d)).astype(float)  # small integers: duplicates, zero rows, zero distances
    w = g.adjacency.toarray()
    assert dirichlet_energy(x, g) == pytest.approx(ref_energy(x, w), rel=1e-10, abs=1e-12)
    assert normalized_dirichlet_energy(x, g) == pytest.approx(ref_normalized_energy(x, w), rel=1e-9, abs=1e-12)
    off = (w != 0) & ~np.eye(n, dtype=bool)
    expected = ref_two_stage(x, off)
    got = mad(x, g)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected, rel=1e-10, abs=1e-14)
    out = mad_gap(x, g, neb_hops=1, rmt_hops=3)
    neb, rmt = ref_mad_gap(x, w, 1, 3)
    for key, ref in (("mad_neb", neb), ("mad_rmt", rmt)):
        assert (math.isnan(out[key]) and math.isnan(ref)) or out[key] == pytest.approx(ref, rel=1e-10, abs=1e-14)


# --------------------------------------------------------------------------- sampled one-pass edge measures
def test_sampled_pass_over_every_node_equals_the_exact_measures():
    g = sample_csbm(600, p=0.03, q=0.01, seed=4)
    for d in (1, 4):
        x = np.random.default_rng(d).standard_normal((600, d))
        x[5] = 0.0  # a zero row: distance 1 to everything
        x[7] = x[8] = x[9]  # equal rows: zero distances
        exact = edge_smoothness(x, g)
        every = edge_smoothness(x, g, sample=np.arange(600))
        assert every.pop("sample_nodes") == 600
        for key, value in exact.items():
            assert every[key] == pytest.approx(value, rel=1e-10), key


def test_sampled_pass_is_an_unbiased_node_average():
    g = sample_csbm(800, p=0.03, q=0.01, seed=5)
    x = np.random.default_rng(0).standard_normal((800, 3))
    exact = edge_smoothness(x, g)
    draws = [edge_smoothness(x, g, sample=100, seed=s) for s in range(40)]
    for key in ("dirichlet_energy", "normalized_dirichlet_energy", "mad"):
        vals = np.array([d[key] for d in draws])
        se = vals.std(ddof=1) / np.sqrt(vals.size)
        assert abs(vals.mean() - exact[key]) <= 4 * se + 1e-12, key
    assert draws[0]["sample_nodes"] == 100
    with pytest.raises(ValueError, match="sample"):
        edge_smoothness(x, g, sample=0)
    with pytest.raises(ValueError, match="sample"):
        edge_smoothness(x, g, sample=[1, 1])


def test_profile_samples_the_edge_measures_beyond_the_stated_size(monkeypatch):
    from oversmooth.measures import profile_embeddings

    from oversmooth.measures import _smoothness  # the profiles read the sizes there

    monkeypatch.setattr(_smoothness, "SMOOTHNESS_EXACT_MAX_NODES", 100)
    monkeypatch.setattr(_smoothness, "SMOOTHNESS_SAMPLE_NODES", 50)
    g = sample_csbm(300, p=0.05, q=0.01, seed=0)
    layers = [g.features, g.features * 2.0]
    prof = profile_embeddings(layers, g.labels, g, metrics=["dirichlet_energy", "mad"], seed=0)
    assert [r["smoothness_sample"] for r in prof.rows] == [50, 50]
    assert all("dirichlet_energy, mad: 50 of 300 nodes sampled" in r["notes"] for r in prof.rows)
    assert prof.rows[1]["dirichlet_energy"] == pytest.approx(4 * prof.rows[0]["dirichlet_energy"], rel=1e-12)
