"""Graph container invariants and the CSBM sampler (validation, reproducibility, statistics).

Statistical tests use fixed seeds, so they are deterministic; the tolerances are chosen so
that a *correct* sampler would fail them with a tiny probability (stated per test), while
a biased one (off-by-one, wrong block, missing pairs) fails by many standard errors.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import block_diag

from _helpers import (
    binomial_z,
    block_edge_counts,
    block_pair_counts,
    chi2_binomial_pvalue,
    dense,
    random_graphs,
)
from oversmooth.graphs import Graph, bernoulli_positions, block_probability_matrix, sample_csbm, sample_sbm_adjacency
from oversmooth.graphs._csbm import _decode_lower_triangle

Z_MAX = 4.0  # |z| < 4: a correct sampler fails with probability ~6e-5 per comparison


def _rows_strictly_sorted(a: sp.csr_array) -> bool:
    """Every row's column indices strictly increase (sorted, no duplicates)."""
    d = np.diff(a.indices.astype(np.int64))
    row_start = np.zeros(a.indices.size, dtype=bool)
    row_start[a.indptr[:-1][np.diff(a.indptr) > 0]] = True
    return bool(np.all((d > 0) | row_start[1:]))


# =========================================================================== Graph invariants


class TestGraphInvariants:
    def test_csbm_adjacency_is_symmetric_sorted_int32_csr(self):
        g = sample_csbm(500, p=0.05, q=0.01, seed=1)
        a = g.adjacency
        assert isinstance(a, sp.csr_array)
        assert a.dtype == np.float64
        assert a.indices.dtype == np.int32 and a.indptr.dtype == np.int32
        assert a.has_sorted_indices and _rows_strictly_sorted(a)
        assert (a != a.T).nnz == 0
        assert np.all(a.data == 1.0)

    def test_n_edges_excludes_self_loops(self):
        g = Graph.from_edges([0, 1, 2, 2], [1, 2, 2, 0], n_nodes=4)
        # edges {0,1}, {1,2}, {0,2} plus the loop (2,2)
        assert g.n_edges == 3
        assert g.n_self_loops == 1 and g.has_self_loops
        gl = g.with_self_loops(True)
        assert gl.n_edges == 3 and gl.n_self_loops == 4
        g0 = g.with_self_loops(False)
        assert g0.n_edges == 3 and g0.n_self_loops == 0 and not g0.has_self_loops

    def test_csbm_n_edges_counts_off_diagonal_pairs(self):
        g = sample_csbm(400, p=0.05, q=0.01, seed=2)
        upper = sp.triu(g.adjacency, k=1)
        assert g.n_edges == upper.nnz
        assert g.n_self_loops == 400

    def test_explicit_zeros_are_not_edges(self):
        # entries (0,1) and (1,0) are real edges; (0,2) and (2,0) are stored zeros (no edge)
        a = sp.csr_array((np.array([1.0, 0.0, 1.0, 0.0]), np.array([1, 2, 0, 0]), np.array([0, 2, 3, 4])),
                         shape=(3, 3))
        assert np.count_nonzero(a.toarray()) == 2
        g = Graph(a)
        assert g.n_edges == 1

    def test_degrees_include_self_loops(self, path3):
        assert path3.degrees.tolist() == [2.0, 3.0, 2.0]

    @settings(max_examples=40)
    @given(random_graphs(self_loops=False))
    def test_from_edges_invariants(self, g):
        a = g.adjacency
        A = dense(a)
        assert np.array_equal(A, A.T)
        assert a.indices.dtype == np.int32 and _rows_strictly_sorted(a)
        assert set(np.unique(A)) <= {0.0, 1.0}
        assert g.n_edges == int(np.count_nonzero(np.triu(A, 1)))

    def test_asymmetric_adjacency_rejected(self):
        with pytest.raises(ValueError, match="symmetric"):
            Graph(sp.csr_array(np.array([[0.0, 1.0], [0.0, 0.0]])))

    def test_non_square_and_dense_rejected(self):
        with pytest.raises(ValueError, match="square"):
            Graph(sp.csr_array(np.zeros((2, 3))))
        with pytest.raises(TypeError, match="adjacency"):
            Graph(np.eye(2))

    def test_labels_validation(self):
        a = sp.eye_array(3, format="csr")
        with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
            Graph(a, labels=[0, 1])
        with pytest.raises(ValueError, match="labels must be >= -1"):
            Graph(a, labels=[0, -2, 1])
        with pytest.raises(ValueError, match="labels must be integers"):
            Graph(a, labels=[0.0, 0.5, 1.0])
        g = Graph(a, labels=[0.0, 1.0, -1.0])  # integral floats are accepted
        assert g.labels.dtype == np.int64 and g.labels.tolist() == [0, 1, -1]
        assert Graph(a).labels.tolist() == [-1, -1, -1] and Graph(a).n_classes == 0

    def test_features_validation(self):
        a = sp.eye_array(3, format="csr")
        assert Graph(a, features=[1.0, 2.0, 3.0]).features.shape == (3, 1)
        with pytest.raises(ValueError, match="features must be finite"):
            Graph(a, features=[1.0, np.nan, 3.0])
        with pytest.raises(ValueError, match="features must have 3 rows"):
            Graph(a, features=np.zeros((2, 2)))

    def test_from_edges_validation(self):
        with pytest.raises(ValueError, match="n_nodes=2"):
            Graph.from_edges([0], [5], n_nodes=2)
        with pytest.raises(ValueError, match=">= 0"):
            Graph.from_edges([-1], [0])

    def test_from_edges_merges_duplicates(self):
        g = Graph.from_edges([0, 1, 0], [1, 0, 1], n_nodes=2)
        assert dense(g).tolist() == [[0.0, 1.0], [1.0, 0.0]]

    def test_round_trip_scipy_networkx(self):
        g = sample_csbm(120, p=0.1, q=0.02, seed=3)
        g2 = Graph.from_scipy(g.adjacency, labels=g.labels)
        assert (g2.adjacency != g.adjacency).nnz == 0
        g3 = Graph.from_scipy(dense(g), labels=g.labels)  # a dense array is accepted too
        assert (g3.adjacency != g.adjacency).nnz == 0
        nxg = g.to_networkx()
        assert nxg.number_of_nodes() == 120
        assert nxg.number_of_edges() == g.n_edges + g.n_self_loops
        back = Graph.from_networkx(nxg, keep_self_loops=True)
        assert (back.adjacency != g.adjacency).nnz == 0 and not back.metadata["weighted"]
        loopless = Graph.from_networkx(nxg)  # self-loops are removed by default, and counted
        assert loopless.n_edges == g.n_edges and not loopless.has_self_loops
        assert loopless.metadata["self_loops_removed"] == 120
        assert np.array_equal(back.labels, g.labels)
        # from_edges of the upper triangle gives the same graph
        u = sp.triu(g.adjacency).tocoo()
        g4 = Graph.from_edges(u.row, u.col, n_nodes=120, labels=g.labels)
        assert (g4.adjacency != g.adjacency).nnz == 0

    def test_from_networkx_relabels_and_rejects_directed(self):
        h = nx.Graph()
        h.add_edges_from([("a", "b"), ("b", "c")])
        g = Graph.from_networkx(h)
        assert g.n_nodes == 3 and g.n_edges == 2 and g.n_classes == 0
        with pytest.raises(ValueError, match="directed"):
            Graph.from_networkx(nx.DiGraph([(0, 1)]))


# =========================================================================== sample_csbm validation


class TestCSBMValidation:
    @pytest.mark.parametrize(
        "kwargs, message",
        [
            (dict(n=100, p=1.5, q=0.1), "p must be in [0, 1], got 1.5"),
            (dict(n=100, p=0.1, q=-0.1), "q must be in [0, 1], got -0.1"),
            (dict(n=100, p=float("nan"), q=0.1), "p must be in [0, 1]"),
            (dict(n=1, p=0.1, q=0.1), "n must be an integer >= 2, got 1"),
            (dict(sizes=[5, 0], p=0.1, q=0.1), "sizes[1] must be >= 1"),
            (dict(n=10, sizes=[5, 6], p=0.1, q=0.1), "sizes must sum to n=10"),
            (dict(n=10, p=0.1, q=0.1, mu=[0.0, np.inf]), "mu must be finite"),
            (dict(n=10, p=0.1, q=0.1, mu=[[0.0, 0.0], [1.0, 1.0]], sigma=[[1.0, 2.0], [2.0, 1.0]]),
             "sigma (covariance) must be positive semi-definite"),
            (dict(n=10, p=0.1, q=0.1, sigma=-1.0), "sigma must be >= 0"),
            (dict(n=10, p=0.1, q=0.1, sigma=np.nan), "sigma must be finite"),
            (dict(n=10, p=0.1, q=0.1, mu=[0.0, 1.0, 2.0], n_blocks=2, sizes=[5, 5]), "mu must have one row per block"),
            (dict(n=10, p=0.1, q=0.1, n_blocks=2, probs=[[0.1, 0.2], [0.3, 0.1]]), "give either p and q, or probs"),
            (dict(n=10, probs=[[0.1, 0.2], [0.3, 0.1]]), "probs must be symmetric"),
            (dict(n=10, probs=[[0.1, 2.0], [2.0, 0.1]]), "probs[0, 1] must be in [0, 1], got 2.0"),
        ],
    )
    def test_bad_arguments_raise_value_error_naming_them(self, kwargs, message):
        with pytest.raises(ValueError) as info:
            sample_csbm(**kwargs, seed=0)
        assert message in str(info.value)

    def test_n_not_divisible_and_too_many_blocks(self):
        g = sample_csbm(7, p=0.5, q=0.1, seed=0)
        assert np.bincount(g.labels).tolist() == [4, 3]
        with pytest.raises(ValueError, match="n_blocks must be <= n"):
            sample_csbm(3, p=0.5, q=0.1, n_blocks=4, mu=[0, 1, 2, 3], seed=0)

    def test_metadata_records_the_model(self):
        g = sample_csbm(100, p=0.1, q=0.02, sigma=0.5, seed=4)
        m = g.metadata
        assert m["model"] == "csbm" and m["sizes"] == [50, 50] and m["p"] == 0.1 and m["q"] == 0.02
        assert m["mu"] == [[-1.0], [1.0]] and m["sigma"] == 0.5 and m["seed"] == 4 and m["self_loops"] is True

    def test_heterophily_is_allowed(self):
        g = sample_csbm(1000, p=0.002, q=0.02, seed=0)
        counts = block_edge_counts(g)
        assert counts[0, 1] > counts[0, 0] + counts[1, 1]  # more edges across than inside


# =========================================================================== reproducibility


class TestSeeds:
    @staticmethod
    def _arrays(g):
        a = g.adjacency
        return [a.indices, a.indptr, a.data, g.features, g.labels]

    def test_same_int_seed_byte_identical(self):
        g1 = sample_csbm(800, p=0.02, q=0.005, seed=123)
        g2 = sample_csbm(800, p=0.02, q=0.005, seed=np.int64(123))
        for x, y in zip(self._arrays(g1), self._arrays(g2)):
            assert x.dtype == y.dtype and x.tobytes() == y.tobytes()

    def test_different_seeds_differ(self):
        g1 = sample_csbm(800, p=0.02, q=0.005, seed=1)
        g2 = sample_csbm(800, p=0.02, q=0.005, seed=2)
        assert (g1.adjacency != g2.adjacency).nnz > 0
        assert not np.array_equal(g1.features, g2.features)

    def test_generator_and_seedsequence_seeds(self):
        g1 = sample_csbm(300, p=0.05, q=0.01, seed=np.random.default_rng(9))
        g2 = sample_csbm(300, p=0.05, q=0.01, seed=np.random.default_rng(9))
        assert (g1.adjacency != g2.adjacency).nnz == 0 and np.array_equal(g1.features, g2.features)
        rng = np.random.default_rng(9)
        a = sample_csbm(300, p=0.05, q=0.01, seed=rng)
        b = sample_csbm(300, p=0.05, q=0.01, seed=rng)  # the caller's stream advances
        assert (a.adjacency != b.adjacency).nnz > 0
        s1 = sample_csbm(300, p=0.05, q=0.01, seed=np.random.SeedSequence(5))
        s2 = sample_csbm(300, p=0.05, q=0.01, seed=np.random.SeedSequence(5))
        assert (s1.adjacency != s2.adjacency).nnz == 0

    def test_structure_independent_of_feature_options(self):
        # structure and features use independent child streams
        g1 = sample_csbm(300, p=0.05, q=0.01, seed=7)
        g2 = sample_csbm(300, p=0.05, q=0.01, seed=7, features=False, sigma=3.0)
        assert g2.features is None
        assert (g1.adjacency != g2.adjacency).nnz == 0

    def test_self_loops_on_off_same_structure(self):
        on = sample_csbm(300, p=0.05, q=0.01, seed=5, self_loops=True)
        off = sample_csbm(300, p=0.05, q=0.01, seed=5, self_loops=False)
        assert np.all(on.adjacency.diagonal() == 1.0) and on.n_self_loops == 300
        assert np.all(off.adjacency.diagonal() == 0.0) and not off.has_self_loops
        diff = sp.csr_array(on.adjacency - off.adjacency)
        diff.eliminate_zeros()
        assert (diff != sp.eye_array(300, format="csr")).nnz == 0
        assert _rows_strictly_sorted(off.adjacency) and _rows_strictly_sorted(on.adjacency)


# =========================================================================== sampler statistics


class TestSamplerStatistics:
    @pytest.mark.parametrize("seed", [0, 1, 2])
    @pytest.mark.parametrize("n, p, q", [(2000, 0.0114, 0.0038), (1001, 0.02, 0.05), (600, 0.3, 0.001)])
    def test_block_edge_counts_binomial(self, n, p, q, seed):
        g = sample_csbm(n, p=p, q=q, seed=seed, features=False)
        sizes = np.bincount(g.labels)
        counts = block_edge_counts(g)
        pairs = block_pair_counts(sizes)
        # within: the two blocks pooled, Binomial(pairs00 + pairs11, p); between: Binomial(pairs01, q)
        z_in = binomial_z(counts[0, 0] + counts[1, 1], pairs[0, 0] + pairs[1, 1], p)
        z_out = binomial_z(counts[0, 1], pairs[0, 1], q)
        assert abs(z_in) < Z_MAX, z_in
        assert abs(z_out) < Z_MAX, z_out

    def test_per_node_degrees_binomial_chi_square(self):
        # Within-block neighbours of a node ~ Binomial(s - 1, p), across ~ Binomial(s, q),
        # pooled over 3 seeds and both blocks (6000 nodes). Degrees of one graph are
        # dependent only through shared edges (O(1/N)); we accept p-value > 1e-3.
        n, p, q = 2000, 0.01, 0.004
        within, across = [], []
        for seed in range(3):
            g = sample_csbm(n, p=p, q=q, seed=seed, features=False, self_loops=False)
            a = sp.csr_array(g.adjacency)
            same = np.where(g.labels[:, None] == 0, 1.0, 0.0).ravel()
            same_block = np.asarray(a @ same)  # neighbours in block 0
            own = np.where(g.labels == 0, same_block, g.degrees - same_block)
            within.append(own.astype(np.int64))
            across.append((g.degrees - own).astype(np.int64))
        s = n // 2
        assert chi2_binomial_pvalue(np.concatenate(within), s - 1, p) > 1e-3
        assert chi2_binomial_pvalue(np.concatenate(across), s, q) > 1e-3

    def test_general_probability_matrix(self):
        probs = np.array([[0.10, 0.01, 0.03], [0.01, 0.05, 0.00], [0.03, 0.00, 0.20]])
        sizes = [150, 250, 100]
        g = sample_csbm(sizes=sizes, probs=probs, mu=[0.0, 1.0, 2.0], seed=11)
        assert g.n_classes == 3 and np.bincount(g.labels).tolist() == sizes
        counts = block_edge_counts(g)
        pairs = block_pair_counts(sizes)
        for a in range(3):
            for b in range(a, 3):
                if probs[a, b] == 0:
                    assert counts[a, b] == 0
                else:
                    assert abs(binomial_z(counts[a, b], pairs[a, b], probs[a, b])) < Z_MAX, (a, b)

    def test_uneven_sizes_with_p_q(self):
        g = sample_csbm(sizes=[700, 300], p=0.03, q=0.01, seed=4, features=False)
        counts = block_edge_counts(g)
        pairs = block_pair_counts([700, 300])
        assert abs(binomial_z(counts[0, 0], pairs[0, 0], 0.03)) < Z_MAX
        assert abs(binomial_z(counts[1, 1], pairs[1, 1], 0.03)) < Z_MAX
        assert abs(binomial_z(counts[0, 1], pairs[0, 1], 0.01)) < Z_MAX

    def test_scalar_sigma_feature_moments(self):
        mu, sigma = np.array([-1.0, 2.0]), 0.7
        g = sample_csbm(6000, p=0.001, q=0.001, mu=mu, sigma=sigma, seed=21)
        x = g.features[:, 0]
        for c in range(2):
            xc = x[g.labels == c]
            n_c = xc.size
            # class mean within 4 standard errors sigma / sqrt(n_c)
            assert abs(xc.mean() - mu[c]) < Z_MAX * sigma / np.sqrt(n_c)
            # sample variance: standard error sigma^2 sqrt(2 / (n_c - 1)) for Gaussian data
            assert abs(xc.var(ddof=1) - sigma**2) < Z_MAX * sigma**2 * np.sqrt(2.0 / (n_c - 1))

    def test_full_covariance_recovered(self):
        mu = np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 2.0]])
        L = np.array([[1.0, 0.0, 0.0], [0.5, 0.8, 0.0], [-0.3, 0.2, 0.0]])  # rank 2: PSD, singular
        cov = L @ L.T
        g = sample_csbm(8000, p=0.0005, q=0.0005, mu=mu, sigma=cov, seed=8)
        assert g.features.shape == (8000, 3)
        resid = g.features - mu[g.labels]
        n = resid.shape[0]
        for c in range(2):
            assert np.all(np.abs(resid[g.labels == c].mean(axis=0)) < Z_MAX * np.sqrt(np.diag(cov) / 4000) + 1e-12)
        emp = resid.T @ resid / n
        # entrywise standard error of a Gaussian sample covariance: sqrt((S_ii S_jj + S_ij^2) / n)
        se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
        assert np.all(np.abs(emp - cov) < Z_MAX * se + 1e-12)
        # the null direction of the singular covariance carries no noise at all
        null = np.linalg.svd(cov)[2][-1]
        assert np.max(np.abs(resid @ null)) < 1e-10


# =========================================================================== edge cases


class TestCSBMEdgeCases:
    def test_p_q_zero_only_self_loops(self):
        g = sample_csbm(50, p=0.0, q=0.0, seed=0)
        assert g.n_edges == 0 and g.n_self_loops == 50
        assert sample_csbm(50, p=0.0, q=0.0, seed=0, self_loops=False).adjacency.nnz == 0

    def test_p_zero_no_within_block_edges(self):
        g = sample_csbm(200, p=0.0, q=0.1, seed=0)
        counts = block_edge_counts(g)
        assert counts[0, 0] == 0 and counts[1, 1] == 0 and counts[0, 1] > 0

    def test_p_one_complete_blocks_q_zero_disconnected(self):
        sizes = [60, 41]
        g = sample_csbm(sizes=sizes, p=1.0, q=0.0, seed=0, self_loops=False)
        A = dense(g)
        lab = g.labels
        same = lab[:, None] == lab[None, :]
        expected = same & ~np.eye(sum(sizes), dtype=bool)
        assert np.array_equal(A.astype(bool), expected)
        assert g.n_edges == 60 * 59 // 2 + 41 * 40 // 2

    def test_p_q_one_complete_graph(self):
        g = sample_csbm(30, p=1.0, q=1.0, seed=0)
        assert np.all(dense(g) == 1.0)

    def test_single_node_block(self):
        g = sample_csbm(sizes=[1, 5], p=0.5, q=1.0, seed=0, self_loops=False)
        assert dense(g)[0, 1:].tolist() == [1.0] * 5

    def test_sample_sbm_adjacency_direct(self):
        a = sample_sbm_adjacency([3, 4], [[1.0, 0.0], [0.0, 1.0]], self_loops=True, seed=0)
        assert np.array_equal(dense(a), block_diag(np.ones((3, 3)), np.ones((4, 4))))

    def test_block_probability_matrix(self):
        assert block_probability_matrix(3, p=0.5, q=0.1).tolist() == [[0.5, 0.1, 0.1], [0.1, 0.5, 0.1],
                                                                      [0.1, 0.1, 0.5]]
        with pytest.raises(ValueError, match="give p and q"):
            block_probability_matrix(2, p=0.5)
        with pytest.raises(ValueError, match="probs must be a 3 x 3 matrix"):
            block_probability_matrix(3, probs=[[0.5, 0.1], [0.1, 0.5]])


# =========================================================================== bernoulli_positions


class TestBernoulliPositions:
    @pytest.mark.parametrize("m, p, seed", [(10_000, 0.01, 0), (1_000_000, 0.0003, 1), (5_000, 0.7, 2),
                                            (10**12, 1e-9, 3), (2000, 0.5, 4)])
    def test_sorted_distinct_in_range_binomial_count(self, m, p, seed):
        pos = bernoulli_positions(m, p, np.random.default_rng(seed))
        assert pos.dtype == np.int64
        assert np.all(np.diff(pos) > 0)
        assert pos.size == 0 or (pos[0] >= 0 and pos[-1] < m)
        assert abs(binomial_z(pos.size, m, p)) < Z_MAX

    def test_every_position_has_probability_p(self):
        # 4000 repetitions of m=25 trials: each position's hit count ~ Binomial(4000, 0.3);
        # an off-by-one in the geometric skipping shows up at the first or last position.
        m, p, reps = 25, 0.3, 4000
        rng = np.random.default_rng(12)
        hits = np.zeros(m)
        for _ in range(reps):
            hits[bernoulli_positions(m, p, rng)] += 1
        z = (hits - reps * p) / np.sqrt(reps * p * (1 - p))
        assert np.all(np.abs(z) < Z_MAX), z
        # and the per-repetition counts are Binomial(25, 0.3) too: chi-square over the 4000 counts
        rng = np.random.default_rng(13)
        sizes = np.array([bernoulli_positions(m, p, rng).size for _ in range(reps)])
        assert chi2_binomial_pvalue(sizes, m, p) > 1e-3

    def test_gaps_are_geometric(self):
        # successive gaps are i.i.d. Geometric(p) on {1, 2, ...}: mean 1/p, variance (1-p)/p^2
        p = 0.05
        pos = bernoulli_positions(2_000_000, p, np.random.default_rng(3))
        gaps = np.diff(pos)
        se = np.sqrt((1 - p) / p**2 / gaps.size)
        assert abs(gaps.mean() - 1 / p) < Z_MAX * se
        assert abs(np.mean(gaps == 1) - p) < Z_MAX * np.sqrt(p * (1 - p) / gaps.size)

    def test_degenerate_cases(self):
        rng = np.random.default_rng(0)
        assert bernoulli_positions(0, 0.5, rng).size == 0
        assert bernoulli_positions(100, 0.0, rng).size == 0
        assert bernoulli_positions(7, 1.0, rng).tolist() == list(range(7))
        with pytest.raises(ValueError, match="m must be in"):
            bernoulli_positions(-1, 0.5, rng)
        with pytest.raises(ValueError, match="m must be in"):
            bernoulli_positions(2**53, 0.5, rng)

    @pytest.mark.parametrize("p", [1e-19, 1e-300])
    def test_tiny_probability_stays_in_range(self, p):
        pos = bernoulli_positions(1000, p, np.random.default_rng(0))
        # expected count 1e-16: essentially always empty, and never out of range
        assert np.all((pos >= 0) & (pos < 1000)) and np.all(np.diff(pos) > 0)

    def test_sample_csbm_tiny_p(self):
        g = sample_csbm(1000, p=1e-20, q=0.01, seed=0)
        assert block_edge_counts(g)[0, 0] == 0

    @settings(max_examples=60)
    @given(st.integers(1, 10**8), st.integers(-3, 3))
    def test_lower_triangle_decoding_round_trip(self, i, offset):
        # positions around the start of row i (k = i(i-1)/2 + offset): exact (i, j) with 0 <= j < i
        k0 = i * (i - 1) // 2 + offset
        ks = np.array([k for k in (k0, k0 + i - 1, k0 + i) if k >= 0], dtype=np.int64)
        r, c = _decode_lower_triangle(ks)
        assert np.all((c >= 0) & (c < r))
        assert np.array_equal(r * (r - 1) // 2 + c, ks)


# =========================================================================== Gaussian class features, feature files


class TestGaussianClassFeatures:
    def test_csbm_features_are_gaussian_class_features_of_its_labels(self):
        """The CSBM sampler draws its features with gaussian_class_features from the second child stream."""
        from oversmooth._utils import spawn_generators
        from oversmooth.graphs import gaussian_class_features

        cov = [[2.0, 0.3], [0.3, 0.5]]
        for mu, sigma in (([-1.0, 1.0], 1.0), ([[-1, 0], [1, 0]], cov), ([[0, 1, 2], [1, 0, 0]], 0.4)):
            g = sample_csbm(300, p=0.05, q=0.01, mu=mu, sigma=sigma, seed=4)
            x = gaussian_class_features(g, mu, sigma, spawn_generators(4, 2)[1])
            assert x.tobytes() == g.features.tobytes()

    def test_definition_unlabelled_and_covariance(self):
        from oversmooth.graphs import gaussian_class_features

        labels = np.array([0, 1, -1, 1])
        mu = np.array([[1.0, 2.0], [-3.0, 0.5]])
        x = gaussian_class_features(labels, mu, 0.5, seed=1)
        z = np.random.default_rng(1).standard_normal((4, 2))
        expected = np.array([mu[0], mu[1], mu.mean(axis=0), mu[1]]) + 0.5 * z
        np.testing.assert_allclose(x, expected, rtol=0, atol=1e-15)
        cov = np.array([[1.0, 0.8], [0.8, 1.0]])
        big = gaussian_class_features(np.zeros(40_000, dtype=int), [[0.0, 0.0]], cov, seed=0)
        np.testing.assert_allclose(np.cov(big.T), cov, atol=0.03)
        assert gaussian_class_features(Graph.from_edges([0], [1], labels=[0, 1]), [-1, 1], seed=0).shape == (2, 1)

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            (dict(labels=[0, 2], mu=[0.0, 1.0]), r"mu must have one row per class \(3 classes\)"),
            (dict(labels=[0, 1], mu=[0.0, np.nan]), "mu must be finite"),
            (dict(labels=[0, 1], mu=[0.0, 1.0], sigma=-1.0), "sigma must be >= 0"),
            (dict(labels=[0, 1], mu=[[0.0, 1.0], [1, 0]], sigma=np.eye(3)), "sigma must be a scalar or a 2 x 2"),
            (dict(labels=[0, 1], mu=[[0.0, 1.0], [1, 0]], sigma=[[1, 2], [2, 1]]), "positive semi-definite"),
            (dict(labels=[0.5, 1], mu=[0.0, 1.0]), "labels must be integers"),
        ],
    )
    def test_validation(self, kwargs, message):
        from oversmooth.graphs import gaussian_class_features

        with pytest.raises(ValueError, match=message):
            gaussian_class_features(np.asarray(kwargs.pop("labels")), **kwargs)


class TestReadFeatures:
    def test_npy_npz_keys_sparse_and_1d(self, tmp_path):
        from oversmooth.graphs import read_features

        x = np.arange(12.0).reshape(4, 3)
        np.save(tmp_path / "a.npy", x)
        np.savez(tmp_path / "b.npz", x=x)
        np.savez(tmp_path / "c.npz", features=x.astype(np.float32))
        sp.save_npz(tmp_path / "d.npz", sp.csr_matrix(x))
        np.save(tmp_path / "e.npy", np.arange(4))
        for f in ("a.npy", "b.npz", "c.npz", "d.npz"):
            np.testing.assert_array_equal(read_features(tmp_path / f, n_nodes=4), x)
        assert read_features(tmp_path / "e.npy").shape == (4, 1)

    @pytest.mark.parametrize(
        "make, message",
        [
            (lambda p: np.savez(p / "f.npz", y=np.ones(4)), r"f\.npz: no key 'x' or 'features' \(found 'y'\)"),
            (lambda p: np.savez(p / "f.npz", x=np.ones(4), features=np.ones(4)), r"f\.npz: has both 'x' and 'features'"),
            (lambda p: np.savez(p / "f.npz", x=np.array([1, "a"], dtype=object)), r"f\.npz, key 'x': holds pickled"),
            (lambda p: np.save(p / "f.npy", np.array([[1], "a"], dtype=object)), r"f\.npy: holds pickled objects"),
            (lambda p: np.save(p / "f.npy", np.ones(3)), r"f\.npy: 3 rows of features for a graph of 4 nodes"),
            (lambda p: np.save(p / "f.npy", np.array([1.0, np.inf, 0, 0])), r"f\.npy: features must be finite"),
            (lambda p: np.save(p / "f.npy", np.ones((4, 2, 2))), r"f\.npy: features must be a 1-D or 2-D array"),
            (lambda p: np.save(p / "f.npy", np.array(["a", "b", "c", "d"])), r"f\.npy: features must be numbers"),
            (lambda p: (p / "f.csv").write_text("1,2"), r"f\.csv: features must be a \.npy or \.npz file"),
            (lambda p: (p / "f.npz").write_text("junk"), r"f\.npz: not a NumPy \.npz file"),
        ],
    )
    def test_errors_name_the_file(self, tmp_path, make, message):
        from oversmooth.graphs import read_features

        make(tmp_path)
        path = next(tmp_path.iterdir())
        with pytest.raises(ValueError, match=message):
            read_features(path, n_nodes=4)

    def test_missing_file(self, tmp_path):
        from oversmooth.graphs import read_features

        with pytest.raises(FileNotFoundError, match="feature file not found"):
            read_features(tmp_path / "nope.npy")


def test_csbm_bytes_pinned():
    """sample_csbm's graph, labels and features for a given seed are pinned (reproduction CSVs depend on them).

    The hash was taken before the features moved to gaussian_class_features (commit b09895b) and is unchanged.
    """
    import hashlib

    h = hashlib.sha256()
    for seed in (0, 1, 2024):
        for kw in (dict(n=400, p=0.05, q=0.01),
                   dict(sizes=[100, 60, 140], p=0.06, q=0.02, mu=[[0, 1], [1, 0], [2, 2]], sigma=0.5)):
            g = sample_csbm(**kw, seed=seed)
            for a in (g.adjacency.indptr, g.adjacency.indices, g.labels, g.features):
                h.update(np.ascontiguousarray(a).tobytes())
    assert h.hexdigest() == "b3287c937465cbcceff07a442100e0a0bc6a9eba232b301c90855cb95d1c66fd"


def test_sample_csbm_refuses_what_memory_cannot_hold_before_sampling(monkeypatch):
    from oversmooth.errors import ResourceLimitError
    from oversmooth.graphs import estimate_csbm_bytes

    # N = 1e8, p = 0.1: about 2.5e14 expected edges, refused at once (no allocation, no sampling)
    with pytest.raises(ResourceLimitError, match=r"n=100000000, p=0\.1, q=0\.01 means about 2\.75e\+14 expected edges"):
        sample_csbm(10**8, p=0.1, q=0.01, seed=0)
    with pytest.raises(ResourceLimitError, match=r"n=1000000000000"):
        sample_csbm(10**12, p=0.0, q=0.0, seed=0)
    edges, nbytes = estimate_csbm_bytes([500, 500], [[0.02, 0.002], [0.002, 0.02]], d=3)
    assert edges == pytest.approx(2 * 124750 * 0.02 + 250000 * 0.002)
    monkeypatch.setenv("OVERSMOOTH_MAX_BYTES", str(int(nbytes) - 1))
    with pytest.raises(ResourceLimitError, match=r"OVERSMOOTH_MAX_BYTES"):
        sample_csbm(sizes=[500, 500], p=0.02, q=0.002, mu=np.zeros((2, 3)), seed=0)
    monkeypatch.setenv("OVERSMOOTH_MAX_BYTES", str(int(nbytes) + 1))
    assert sample_csbm(sizes=[500, 500], p=0.02, q=0.002, mu=np.zeros((2, 3)), seed=0).n_nodes == 1000
