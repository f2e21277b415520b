"""Normalised adjacencies and propagation (GCN, APPNP/PPR, PairNorm), against dense references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from _helpers import dense, dense_M, dense_rw, dense_sym, random_graphs
from oversmooth.graphs import Graph, sample_csbm
from oversmooth.measures import class_means, cross_sectional_spread
from oversmooth.operators import iter_propagate, normalize_adjacency, pairnorm, propagate, stationary_projection

RTOL = 1e-10  # dense matrix powers vs sparse streaming: both are exact up to O(depth * eps) rounding


# =========================================================================== normalize_adjacency


class TestNormalize:
    def test_rw_rows_sum_to_one_and_equal_dense(self, csbm_small):
        P = normalize_adjacency(csbm_small, "rw")
        assert sp.issparse(P) and P.dtype == np.float64
        assert np.allclose(np.asarray(P.sum(axis=1)).ravel(), 1.0, rtol=0, atol=1e-14)
        assert np.allclose(P.toarray(), dense_rw(csbm_small), rtol=RTOL, atol=0)
        # same sparsity as A
        assert P.nnz == csbm_small.adjacency.nnz

    def test_rw_is_row_stochastic_not_column(self, path3):
        P = normalize_adjacency(path3, "rw").toarray()
        assert np.allclose(P, [[1 / 2, 1 / 2, 0], [1 / 3, 1 / 3, 1 / 3], [0, 1 / 2, 1 / 2]], rtol=0, atol=1e-15)

    def test_sym_equals_dense_and_is_symmetric(self, csbm_small):
        S = normalize_adjacency(csbm_small, "sym")
        Sd = S.toarray()
        assert np.allclose(Sd, dense_sym(csbm_small), rtol=RTOL, atol=0)
        assert np.array_equal(Sd, Sd.T)

    def test_accepts_plain_sparse_matrix(self, path3):
        a = sp.csr_matrix(path3.adjacency)
        assert np.allclose(normalize_adjacency(a).toarray(), dense_rw(path3), rtol=0, atol=1e-15)
        with pytest.raises(TypeError):
            normalize_adjacency(np.eye(3))

    @settings(max_examples=30)
    @given(random_graphs(), st.sampled_from(["rw", "sym"]))
    def test_random_graphs_match_dense(self, g, kind):
        ref = dense_rw(g) if kind == "rw" else dense_sym(g)
        assert np.allclose(normalize_adjacency(g, kind).toarray(), ref, rtol=RTOL, atol=1e-15)

    def test_zero_degree_raises_by_default(self, isolated_graph):
        for kind in ("rw", "sym"):
            with pytest.raises(ValueError, match="degree 0"):
                normalize_adjacency(isolated_graph, kind)

    def test_zero_degree_self_loop_policy(self, isolated_graph):
        P = normalize_adjacency(isolated_graph, "rw", zero_degree="self-loop").toarray()
        assert P[2].tolist() == [0.0, 0.0, 1.0]  # e_i: the node keeps its own value
        assert np.allclose(P.sum(axis=1), 1.0)
        assert P[0].tolist() == [0.0, 1.0, 0.0]
        S = normalize_adjacency(isolated_graph, "sym", zero_degree="self-loop").toarray()
        assert S[2].tolist() == [0.0, 0.0, 1.0]

    def test_zero_degree_zero_policy(self, isolated_graph):
        for kind in ("rw", "sym"):
            P = normalize_adjacency(isolated_graph, kind, zero_degree="zero").toarray()
            assert P[2].tolist() == [0.0, 0.0, 0.0]
            assert P[0].tolist() == [0.0, 1.0, 0.0]

    def test_bad_choices(self, path3):
        with pytest.raises(ValueError, match="kind must be one of"):
            normalize_adjacency(path3, "lazy")
        with pytest.raises(ValueError, match="zero_degree must be one of"):
            normalize_adjacency(path3, zero_degree="ignore")


# =========================================================================== iter_propagate: linear operators


class TestLinearPropagation:
    @pytest.mark.parametrize("operator, alpha", [("gcn", 0.1), ("appnp", 0.1), ("appnp", 0.35)])
    def test_matches_dense_reference_every_depth(self, csbm_small, operator, alpha):
        P = normalize_adjacency(csbm_small)
        Pd = dense_rw(csbm_small)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((300, 3))
        hs = list(iter_propagate(P, x, 8, operator=operator, alpha=alpha))
        assert len(hs) == 9
        for n, h in enumerate(hs):  # the list is kept: every yielded array must stay valid
            assert np.allclose(h, dense_M(Pd, n, operator, alpha) @ x, rtol=RTOL, atol=1e-12), n

    @settings(max_examples=30)
    @given(random_graphs(), st.sampled_from(["gcn", "appnp"]), st.floats(0.0, 1.0), st.integers(0, 6),
           st.integers(0, 2**32 - 1))
    def test_random_graphs_match_dense(self, g, operator, alpha, depth, seed):
        P = normalize_adjacency(g)
        Pd = dense_rw(g)
        x = np.random.default_rng(seed).standard_normal(g.n_nodes)
        for n, h in enumerate(iter_propagate(P, x, depth, operator=operator, alpha=alpha)):
            assert h.shape == (g.n_nodes,)  # 1-D in, 1-D out
            assert np.allclose(h, dense_M(Pd, n, operator, alpha) @ x, rtol=RTOL, atol=1e-12)

    def test_dense_numpy_operator_accepted(self, path3):
        Pd = dense_rw(path3)
        x = np.array([1.0, -2.0, 5.0])
        hs = list(iter_propagate(Pd, x, 3))
        assert np.allclose(hs[3], np.linalg.matrix_power(Pd, 3) @ x, rtol=RTOL)

    def test_appnp_recursion(self, csbm_small):
        P = normalize_adjacency(csbm_small)
        x = csbm_small.features
        alpha = 0.2
        hs = list(iter_propagate(P, x, 6, operator="appnp", alpha=alpha))
        assert np.array_equal(hs[0], x)
        for n in range(6):
            expected = (1 - alpha) * (P @ hs[n]) + alpha * x
            assert np.allclose(hs[n + 1], expected, rtol=1e-13, atol=1e-15)

    def test_appnp_alpha_zero_is_gcn_alpha_one_is_identity(self, csbm_small):
        P = normalize_adjacency(csbm_small)
        x = csbm_small.features
        for a, b in zip(iter_propagate(P, x, 5, operator="appnp", alpha=0.0), iter_propagate(P, x, 5)):
            assert np.allclose(a, b, rtol=1e-14, atol=1e-15)
        for h in iter_propagate(P, x, 5, operator="appnp", alpha=1.0):
            assert np.array_equal(h, x)

    def test_does_not_modify_input_and_propagate_returns_last(self, csbm_small):
        P = normalize_adjacency(csbm_small)
        x = csbm_small.features.copy()
        last = propagate(P, x, 4, operator="appnp", alpha=0.1)
        assert np.array_equal(x, csbm_small.features)
        assert np.allclose(last, dense_M(dense_rw(csbm_small), 4, "appnp", 0.1) @ x, rtol=RTOL)
        assert np.array_equal(propagate(P, x, 0), x)

    def test_validation(self, path3):
        P = normalize_adjacency(path3)
        x = np.zeros(3)
        with pytest.raises(ValueError, match="operator must be one of"):
            list(iter_propagate(P, x, 2, operator="foo"))
        with pytest.raises(ValueError, match="depth must be an integer >= 0"):
            list(iter_propagate(P, x, -1))
        with pytest.raises(ValueError, match="alpha must be in"):
            list(iter_propagate(P, x, 2, operator="appnp", alpha=1.5))
        with pytest.raises(ValueError, match="x must have 3 rows"):
            list(iter_propagate(P, np.zeros(4), 2))
        with pytest.raises(TypeError, match="P must be"):
            list(iter_propagate([[1.0]], np.zeros(1), 2))


# =========================================================================== PairNorm


class TestPairNorm:
    @pytest.mark.parametrize("scale", [0.5, 1.0, 3.0])
    def test_pn_centres_and_scales(self, scale):
        h = np.random.default_rng(1).normal(2.0, 3.0, size=(50, 4))
        out = pairnorm(h, scale, "PN")
        assert np.allclose(out.mean(axis=0), 0.0, atol=1e-13)
        assert np.isclose(np.mean(np.sum(out**2, axis=1)), scale**2, rtol=1e-12)
        # PN is one global affine map: out = r (h - mean)
        r = out[0, 0] / (h[0, 0] - h[:, 0].mean())
        assert np.allclose(out, r * (h - h.mean(axis=0)), rtol=1e-12, atol=1e-13)

    @pytest.mark.parametrize("scale", [0.5, 2.0])
    def test_pn_si_rows_have_norm_s(self, scale):
        h = np.random.default_rng(2).normal(1.0, 1.0, size=(40, 3))
        out = pairnorm(h, scale, "PN-SI")
        assert np.allclose(np.linalg.norm(out, axis=1), scale, rtol=1e-12)
        # direction of each centred row is kept
        c = h - h.mean(axis=0)
        assert np.allclose(out, scale * c / np.linalg.norm(c, axis=1, keepdims=True), rtol=1e-12)

    def test_constant_input_gives_zeros(self):
        out = pairnorm(np.full((5, 2), 3.0), 1.0, "PN")
        assert np.array_equal(out, np.zeros((5, 2)))
        out = pairnorm(np.full((5, 2), 3.0), 1.0, "PN-SI")
        assert np.array_equal(out, np.zeros((5, 2)))

    def test_propagation_applies_pairnorm_after_each_convolution(self, csbm_small):
        P = normalize_adjacency(csbm_small)
        x = csbm_small.features
        hs = list(iter_propagate(P, x, 4, operator="pairnorm", pairnorm_scale=2.0))
        for n in range(4):
            assert np.allclose(hs[n + 1], pairnorm(P @ hs[n], 2.0, "PN"), rtol=1e-12, atol=1e-14)
            assert np.isclose(np.mean(hs[n + 1] ** 2), 4.0, rtol=1e-12)

    @pytest.mark.parametrize("mode", ["PN", "PN-SI"])
    def test_frozen_affine_linearisation(self, csbm_small, mode):
        """Reference columns = plain PairNorm; affine columns follow it; other columns are only scaled."""
        P = normalize_adjacency(csbm_small)
        x = csbm_small.features
        rng = np.random.default_rng(3)
        z1, z2 = rng.standard_normal((300, 1)), rng.standard_normal((300, 1))
        block = np.hstack([x, x, z1, z2, z1 + 2.0 * z2, np.ones((300, 1))])
        plain = list(iter_propagate(P, x, 5, operator="pairnorm", pairnorm_mode=mode, pairnorm_scale=1.5))
        frozen = list(iter_propagate(P, block, 5, operator="pairnorm", pairnorm_mode=mode, pairnorm_scale=1.5,
                                     reference=slice(0, 1), affine=slice(1, 2)))
        for n, (a, b) in enumerate(zip(plain, frozen)):
            assert np.allclose(b[:, :1], a, rtol=1e-12, atol=1e-14), n
            assert np.allclose(b[:, 1:2], a, rtol=1e-12, atol=1e-14), n  # affine column = same map
            # non-affine columns see a *linear* map (no shift): additivity holds
            assert np.allclose(b[:, 4], b[:, 2] + 2.0 * b[:, 3], rtol=1e-10, atol=1e-12), n
        if mode == "PN":
            # a constant column is only rescaled (P 1 = 1): stays constant, never centred to 0
            for b in frozen:
                assert np.ptp(b[:, 5]) < 1e-12 * abs(b[0, 5]) and b[0, 5] > 0

    @settings(max_examples=40)
    @given(random_graphs(min_nodes=4, max_nodes=30), st.integers(0, 2**32 - 1), st.integers(1, 8))
    def test_pn_keeps_gap_over_std_ratio_in_1d(self, g, seed, depth):
        """In 1-D PairNorm (PN) is one affine map of all nodes: realised gap / within-class std = GCN's."""
        P = normalize_adjacency(g)
        x = np.random.default_rng(seed).standard_normal(g.n_nodes) + np.where(g.labels == 1, 1.0, -1.0)
        checked = 0
        for n, (hg, hp) in enumerate(zip(iter_propagate(P, x, depth),
                                         iter_propagate(P, x, depth, operator="pairnorm"))):
            mg, mp = class_means(hg, g.labels).ravel(), class_means(hp, g.labels).ravel()
            sg, sp_ = cross_sectional_spread(hg, g.labels), cross_sectional_spread(hp, g.labels)
            # GCN loses relative precision as its values converge to a constant (cancellation,
            # relative error ~ eps * |h| / std): compare only where the GCN spread is >= 1e-5 |h|,
            # i.e. relative error <= ~1e-11 per layer, far inside rtol = 1e-7.
            scale = 1.0 + np.max(np.abs(hg))
            if np.sqrt(sg.min()) < 1e-5 * scale:
                continue
            checked += 1
            ratio_g = (mg[1] - mg[0]) / np.sqrt(sg)
            ratio_p = (mp[1] - mp[0]) / np.sqrt(sp_)
            assert np.allclose(ratio_p, ratio_g, rtol=1e-7, atol=1e-9), (n, ratio_g, ratio_p)
        assume(checked > 0)


# =========================================================================== corrected convolution


def _dense_corrected_M(a, n: int, kind: str = "rw") -> np.ndarray:
    """M_n of the corrected convolution from the closed form P^n - 1 pi^T (S^n - v v^T for sym), dense."""
    A = dense(a)
    d = A.sum(axis=1)
    pi = d / d.sum()
    if kind == "rw":
        P, proj = A / d[:, None], np.outer(np.ones_like(pi), pi)
    else:
        r = 1 / np.sqrt(d)
        P, proj = r[:, None] * A * r[None, :], np.outer(np.sqrt(pi), np.sqrt(pi))
    return np.eye(len(d)) if n == 0 else np.linalg.matrix_power(P, n) - proj


class TestCorrected:
    @pytest.mark.parametrize("self_loops", [True, False])
    def test_matches_closed_form_P_n_minus_1_pi(self, self_loops):
        g = sample_csbm(120, 0.15, 0.05, self_loops=self_loops, seed=3)
        assert g.degrees.min() > 0
        P = normalize_adjacency(g, "rw")
        x = np.random.default_rng(0).normal(size=(120, 3))
        hs = list(iter_propagate(P, x, 6, operator="corrected"))  # pi read off the unweighted P
        for n, h in enumerate(hs):
            assert np.allclose(h, _dense_corrected_M(g, n) @ x, rtol=RTOL, atol=1e-12)
        # the closed form is the power of the corrected matrix (an independent check of the identity)
        Pd = dense_rw(g)
        pi = g.degrees / g.degrees.sum()
        C = Pd - np.outer(np.ones(120), pi)
        assert np.allclose(np.linalg.matrix_power(C, 5), _dense_corrected_M(g, 5), rtol=0, atol=1e-12)

    def test_stationary_component_removed(self, csbm_small):
        P = normalize_adjacency(csbm_small, "rw")
        u, pi = stationary_projection(csbm_small)
        assert np.array_equal(u, np.ones(csbm_small.n_nodes))
        assert np.allclose(pi, csbm_small.degrees / csbm_small.degrees.sum(), rtol=1e-14)
        assert np.allclose(pi @ P.toarray(), pi, rtol=0, atol=1e-15)  # stationary: pi^T P = pi^T
        x = np.random.default_rng(1).normal(size=csbm_small.n_nodes) + 5.0
        for n, h in enumerate(iter_propagate(P, x, 4, operator="corrected")):
            if n:
                assert abs(pi @ h) < 1e-12  # pi^T h(n) = 0 for n >= 1
        # a constant signal is the principal component: removed in one layer
        assert np.allclose(propagate(P, np.full(csbm_small.n_nodes, 3.0), 1, operator="corrected"), 0, atol=1e-13)

    def test_weighted_graph_needs_principal_and_matches_dense(self):
        a = sp.csr_array(np.array([[1.0, 2.0, 0.0, 0.5], [2.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 3.0],
                                   [0.5, 0.0, 3.0, 0.0]]))
        P = normalize_adjacency(a, "rw")
        x = np.array([1.0, -2.0, 0.5, 4.0])
        with pytest.raises(ValueError, match="principal"):
            list(iter_propagate(P, x, 2, operator="corrected"))
        pair = stationary_projection(a, "rw")
        for n, h in enumerate(iter_propagate(P, x, 5, operator="corrected", principal=pair)):
            assert np.allclose(h, _dense_corrected_M(a, n) @ x, rtol=1e-12, atol=1e-13)
        # a bare pi means u = 1
        h_pi = propagate(P, x, 3, operator="corrected", principal=pair[1])
        assert np.allclose(h_pi, _dense_corrected_M(a, 3) @ x, rtol=1e-12, atol=1e-13)

    def test_symmetric_normalisation(self, csbm_small):
        S = normalize_adjacency(csbm_small, "sym")
        x = np.random.default_rng(2).normal(size=(csbm_small.n_nodes, 2))
        with pytest.raises(ValueError, match="principal"):  # S is not D^-1 A: refuse to guess
            list(iter_propagate(S, x, 1, operator="corrected"))
        v, v2 = stationary_projection(csbm_small, "sym")
        assert np.array_equal(v, v2) and abs(v @ v - 1) < 1e-12
        hs = list(iter_propagate(S, x, 4, operator="corrected", principal=(v, v)))
        d = csbm_small.degrees.astype(float)
        for n, h in enumerate(hs):
            assert np.allclose(h, _dense_corrected_M(csbm_small, n, "sym") @ x, rtol=1e-10, atol=1e-12)
            # similar to the rw corrected operator: S_c^n = D^1/2 (P^n - 1 pi^T) D^-1/2
            if n:
                ref = np.sqrt(d)[:, None] * (_dense_corrected_M(csbm_small, n) @ (x / np.sqrt(d)[:, None]))
                assert np.allclose(h, ref, rtol=1e-10, atol=1e-12)

    def test_rows_are_not_probability_vectors(self, csbm_small):
        # the paper's variance bounds sigma^2/N <= ||row i of M_n||^2 <= sigma^2 need stochastic rows;
        # corrected rows sum to 0 and their squared norms fall below 1/N
        n_nodes = csbm_small.n_nodes
        M = _dense_corrected_M(csbm_small, 12)
        assert np.allclose(M.sum(axis=1), 0, atol=1e-12)
        assert np.mean(np.einsum("ij,ij->i", M, M)) < 1.0 / n_nodes
        M_gcn = np.linalg.matrix_power(dense_rw(csbm_small), 12)
        assert np.min(np.einsum("ij,ij->i", M_gcn, M_gcn)) >= 1.0 / n_nodes * (1 - 1e-12)

    def test_principal_validation(self, path3):
        P = normalize_adjacency(path3, "rw")
        x = np.ones(3)
        with pytest.raises(ValueError, match="w\\^T u = 1"):
            list(iter_propagate(P, x, 1, operator="corrected", principal=np.ones(3)))
        with pytest.raises(ValueError, match="3 entries"):
            list(iter_propagate(P, x, 1, operator="corrected", principal=(np.ones(2), np.ones(2) / 2)))
        with pytest.raises(ValueError, match="operator must be one of"):
            list(iter_propagate(P, x, 1, operator="corrrected"))


# --------------------------------------------------------------------------- speed: kernel, dtype, backend
def test_cache_blocked_kernel_is_bitwise_identical(monkeypatch):
    import oversmooth.operators._spmm as spmm

    g = sample_csbm(20_000, p=0.0015, q=0.0005, seed=3)
    P = normalize_adjacency(g, "rw")
    h = np.random.default_rng(0).standard_normal((20_000, 12))
    for dtype in (np.float64, np.float32):
        ref = P.astype(dtype) @ h.astype(dtype)
        for cache in (200_000, 100_000):  # 10 / 20 column blocks (float64), 5 / 10 (float32)
            monkeypatch.setattr(spmm, "CACHE_BLOCK_BYTES", cache)
            for threads in (1, 2, 3):
                mm = spmm.RowParallelMatmul(P, threads=threads, dtype=dtype)
                assert mm.column_blocks(12) > 1
                out = mm(h)
                assert out.dtype == dtype and np.array_equal(out, ref)


def test_kernel_refuses_unknown_dtype():
    from oversmooth.errors import ValidationError
    from oversmooth.operators._spmm import RowParallelMatmul

    with pytest.raises(ValidationError, match="dtype"):
        RowParallelMatmul(sp.eye_array(3, format="csr"), dtype="float16")
    with pytest.raises(ValidationError, match="dtype"):
        list(iter_propagate(sp.eye_array(3, format="csr"), np.ones(3), 1, dtype="int8"))


@pytest.mark.parametrize("operator", ["gcn", "appnp", "pairnorm", "corrected"])
def test_float32_propagation_within_its_stated_bound(operator):
    # iter_propagate's docstring: |h32(n) - h64(n)| <= n gamma_k (|P|^n |x|), gamma_k = k u / (1 - k u)
    g = sample_csbm(2000, p=0.01, q=0.002, seed=1)
    P = normalize_adjacency(g)
    x = np.random.default_rng(0).choice([-1.0, 1.0], size=(2000, 4))
    u = 2.0**-24
    k = int(np.diff(P.indptr).max())
    gamma = k * u / (1 - k * u)
    env = np.abs(x)
    for n, (a, b) in enumerate(zip(iter_propagate(P, x, 12, operator=operator),
                                   iter_propagate(P, x, 12, operator=operator, dtype="float32"))):
        assert b.dtype == np.float32
        err = np.abs(a - b.astype(np.float64))
        if operator == "gcn":  # the rigorous entrywise bound (non-negative P, no extra operations)
            assert np.all(err <= n * gamma * env + u * np.abs(a)), n
        else:  # the other operators add O(u) per layer: the same order, with a factor of 4 of slack
            assert err.max() <= 4 * (n + 1) * gamma * max(1.0, np.abs(a).max()), n
        env = np.abs(P) @ env


def test_torch_backend_matches_numpy():
    pytest.importorskip("torch")
    g = sample_csbm(1500, p=0.01, q=0.002, seed=2)
    P = normalize_adjacency(g)
    x = np.random.default_rng(1).standard_normal((1500, 3))
    for operator in ("gcn", "appnp", "corrected"):
        for dtype, tol in (("float64", 1e-12), ("float32", 1e-5)):
            ref = list(iter_propagate(P, x, 6, operator=operator, dtype=dtype))
            got = list(iter_propagate(P, x, 6, operator=operator, dtype=dtype, backend="torch", device="cpu"))
            for a, b in zip(ref, got):
                assert b.dtype == np.dtype(dtype)
                np.testing.assert_allclose(b, a, rtol=tol, atol=tol)
    v = propagate(P, x[:, 0], 3, backend="torch")
    assert v.shape == (1500,)


def test_backend_and_device_are_validated():
    from oversmooth.errors import ValidationError

    P = sp.eye_array(3, format="csr")
    with pytest.raises(ValidationError, match="backend"):
        list(iter_propagate(P, np.ones(3), 1, backend="jax"))
    with pytest.raises(ValidationError, match="device"):
        list(iter_propagate(P, np.ones(3), 1, device="cpu"))


def test_blas_threads_context():
    from oversmooth.operators._spmm import blas_threads

    with blas_threads(1) as applied:
        assert isinstance(applied, bool)
        assert float(np.ones((3, 3)).T @ np.ones(3) @ np.ones(3)) == 9.0
