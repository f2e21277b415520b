"""Theory: closed forms, the values quoted in SCIENCE.md, exact inequalities and approximations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import ndtr

from _helpers import csbm_pq, dense_row_norms_sq, dense_rw, random_graphs
from oversmooth import theory
from oversmooth.graphs import sample_csbm
from oversmooth.measures import feature_noise_variance

SLACK = 1e-12  # relative slack on exact inequalities (floating-point rounding only)


# =========================================================================== lambda, degree, Catalan


def test_lam_values_and_sign():
    assert theory.lam(0.3, 0.1) == pytest.approx(0.5, abs=1e-15)
    assert theory.lam(0.1, 0.3) == pytest.approx(-0.5, abs=1e-15)  # heterophily
    assert theory.lam(0.0114, 0.0038) == pytest.approx(0.5, abs=1e-12)
    assert theory.lam(0.2, 0.0) == 1.0 and theory.lam(0.0, 0.2) == -1.0
    with pytest.raises(ValueError, match="p \\+ q must be > 0"):
        theory.lam(0.0, 0.0)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        theory.lam(1.5, 0.1)


@pytest.mark.parametrize("n, p, q", [(2000, 0.0114, 0.0038), (100, 0.3, 0.1), (4001, 0.01, 0.02)])
def test_expected_degree_formula(n, p, q):
    assert theory.expected_degree(n, p, q) == pytest.approx(1 + n / 2 * (p + q), rel=1e-14)
    assert theory.expected_degree(n, p, q, self_loops=False) == pytest.approx(n / 2 * (p + q), rel=1e-14)


def test_expected_degree_science_value_and_sampled_mean():
    assert theory.expected_degree(2000, 0.0114, 0.0038) == pytest.approx(16.2, abs=1e-12)
    # The exact expectation is 1 + (N/2 - 1) p + (N/2) q: the definition overstates it by p.
    n, p, q = 2000, 0.0114, 0.0038
    exact = 1 + (n / 2 - 1) * p + n / 2 * q
    assert theory.expected_degree(n, p, q) - exact == pytest.approx(p, rel=1e-10)
    degs = np.concatenate([sample_csbm(n, p, q, seed=s, features=False).degrees for s in range(3)])
    # mean degree of one graph = 1 + 2E/N, E a sum of independent Bernoullis: se = 2 sqrt(Var E) / N
    pairs_in, pairs_out = 2 * (n // 2) * (n // 2 - 1) // 2, (n // 2) ** 2
    se = 2 * math.sqrt(pairs_in * p * (1 - p) + pairs_out * q * (1 - q)) / n / math.sqrt(3)
    assert abs(degs.mean() - exact) < 4 * se


def test_catalan_numbers():
    assert [theory.catalan(i) for i in range(10)] == [1, 1, 2, 5, 14, 42, 132, 429, 1430, 4862]
    assert theory.catalan(30) == math.comb(60, 30) // 31
    with pytest.raises(ValueError, match="n must be an integer >= 0"):
        theory.catalan(-1)


# =========================================================================== mixing


def test_nu_closed_forms_and_science_values():
    # nu = [(c - 1) lam + 1/lam + s] / (c + s) and its second form lam + (1-lam)(1+lam+s lam)/(lam (c+s))
    for lam in (0.35, -0.35, 0.5, -0.5, 0.8, -0.8):
        for c in (10.0, 20.0):
            for s in (0, 1):
                second = lam + (1 - lam) * (1 + lam + s * lam) / (lam * (c + s))
                assert theory.nu(lam, c, self_loops=bool(s)) == pytest.approx(second, rel=1e-12)
    # SCIENCE.md: lambda = -0.5 with self-loops has nu = -0.5 exactly, for every c
    assert theory.nu(-0.5, 15.2) == pytest.approx(-0.5, abs=1e-15)
    assert theory.nu(-0.5, 7.0) == pytest.approx(-0.5, abs=1e-15)
    # the old lambda + 1/(d lambda) (d = c + 1) agrees only at lambda = 1/2 with self-loops
    assert theory.nu(0.5, 15.2) == pytest.approx(0.5 + 1 / (16.2 * 0.5), rel=1e-14)
    assert abs(theory.nu(1 / 3, 12.4) - (1 / 3 + 1 / (13.4 / 3))) > 0.02
    # lambda_eff is nu written with d = c + s
    assert theory.lambda_eff(0.5, 16.2) == theory.nu(0.5, 15.2)
    assert theory.lambda_eff(-0.8, 10.0, self_loops=False) == theory.nu(-0.8, 10.0, self_loops=False)
    assert theory.lambda_eff(1 / 3, 13.4) == pytest.approx((11.4 / 3 + 3 + 1) / 13.4, rel=1e-14)


def test_nu_threshold_and_validation():
    assert math.isnan(theory.nu(0.2, 16.0))  # c lambda^2 = 0.64 < 1
    assert math.isnan(theory.nu(0.5, 4.0))  # exactly at the threshold c lambda^2 = 1
    assert math.isnan(theory.nu(-0.5, 4.0))
    assert math.isnan(theory.nu(0.0, 100.0))
    assert not math.isnan(theory.nu(0.5, 4.01))
    assert math.isnan(theory.lambda_eff(0.5, 5.0))  # d = 5 with self-loops: c = 4, at the threshold
    assert theory.nu(1.0, 3.0) == pytest.approx(1.0, abs=1e-15)  # lambda = 1: no mixing at all
    with pytest.raises(ValueError, match="c must be a finite number > 0"):
        theory.nu(0.5, 0.0)
    assert math.isnan(theory.lambda_eff(0.5, 1.0))  # only the self-loop: no neighbours, no outlier
    assert math.isnan(theory.lambda_eff(0.5, float("nan")))


def _outlier(n: int, c: float, lam: float, self_loops: bool, seed: int) -> tuple[float, float, float, float]:
    """The outlier eigenvalue of D^-1 (A + sI) of one sampled CSBM, by dense eigendecomposition.

    D^-1 A' is similar to S = D^-1/2 A' D^-1/2 (same eigenvalues; eigenvectors u = D^-1/2 v), so a
    symmetric dense solver (LAPACK syevr, the 4 smallest and the 4 largest eigenpairs) gives the
    candidates. The outlier is the candidate eigenvector of D^-1 A' most correlated with the class
    vector. Returns (its eigenvalue, the second largest eigenvalue for lambda > 0 or the most
    negative one for lambda < 0, its correlation, the largest correlation of any other candidate).
    """
    p, q = c / n * (1 + lam), c / n * (1 - lam)
    for k in range(10):  # without self-loops, redraw a graph with an isolated node (rare at c >= 10)
        g = sample_csbm(n, p, q, self_loops=self_loops, features=False, seed=seed + 1000 * k)
        A = g.adjacency.toarray()
        deg = A.sum(axis=1)
        if np.all(deg > 0):
            break
    r = 1.0 / np.sqrt(deg)
    S = r[:, None] * A * r[None, :]
    lo_w, lo_v = scipy.linalg.eigh(S, subset_by_index=[0, 3], driver="evr")
    hi_w, hi_v = scipy.linalg.eigh(S, subset_by_index=[n - 4, n - 1], driver="evr")
    w, V = np.concatenate([lo_w, hi_w]), np.hstack([lo_v, hi_v])
    U = r[:, None] * V  # eigenvectors of D^-1 A'
    y = np.where(g.labels == 0, -1.0, 1.0)
    corr = np.abs(y @ U) / (np.linalg.norm(U, axis=0) * np.sqrt(n))
    order = np.argsort(-corr)
    return float(w[order[0]]), float(hi_w[-2] if lam > 0 else lo_w[0]), float(corr[order[0]]), float(corr[order[1]])


def _outlier_sparse(n: int, c: float, lam: float, self_loops: bool, seed: int) -> tuple[float, float, float, float]:
    """As :func:`_outlier`, from the same graph's 4 largest and 4 smallest eigenpairs by sparse Lanczos (ARPACK).

    The same eigenpairs (to ~1e-10) at a fraction of the dense solver's cost: the default run uses
    this, the dense solver stays the slow cross-check (``test_sparse_and_dense_outliers_agree``).
    """
    p, q = c / n * (1 + lam), c / n * (1 - lam)
    for k in range(10):
        g = sample_csbm(n, p, q, self_loops=self_loops, features=False, seed=seed + 1000 * k)
        deg = np.asarray(g.adjacency.sum(axis=1)).ravel()
        if np.all(deg > 0):
            break
    r = 1.0 / np.sqrt(deg)
    S = scipy.sparse.csr_array(g.adjacency.multiply(r[:, None]).multiply(r[None, :]))
    v0 = np.random.default_rng(0).standard_normal(n)
    lo_w, lo_v = scipy.sparse.linalg.eigsh(S, k=4, which="SA", v0=v0, tol=1e-12)
    hi_w, hi_v = scipy.sparse.linalg.eigsh(S, k=4, which="LA", v0=v0, tol=1e-12)
    w, V = np.concatenate([lo_w, hi_w]), np.hstack([lo_v, hi_v])
    U = r[:, None] * V
    y = np.where(g.labels == 0, -1.0, 1.0)
    corr = np.abs(y @ U) / (np.linalg.norm(U, axis=0) * np.sqrt(n))
    order = np.argsort(-corr)
    return float(w[order[0]]), float(np.sort(hi_w)[-2] if lam > 0 else lo_w.min()), float(corr[order[0]]), \
        float(corr[order[1]])


@pytest.mark.parametrize("c, lam", [(10.0, 0.5), (10.0, -0.5), (20.0, 0.8), (20.0, -0.8)])
@pytest.mark.parametrize("self_loops", [True, False])
def test_nu_matches_outlier_eigenvalue(c, lam, self_loops):
    """Issue 12's check (N = 2000, c lambda^2 > 2, tolerance 0.02), eigenpairs by sparse Lanczos."""
    assert c * lam**2 > 2
    outlier, extreme, corr, runner_up = _outlier_sparse(2000, c, lam, self_loops,
                                                        seed=int(100 * c + 10 * lam) % 97)
    assert outlier == extreme
    assert corr > 0.5 and runner_up < 0.3
    assert abs(outlier - theory.nu(lam, c, self_loops)) < 0.02, (outlier, theory.nu(lam, c, self_loops))
    if not (lam == 0.5 and self_loops):
        assert abs(outlier - (lam + 1 / ((c + 1) * lam))) > 0.02


@pytest.mark.slow
def test_sparse_and_dense_outliers_agree():
    for args in [(2000, 10.0, -0.5, True, 2), (2000, 20.0, 0.8, False, 1)]:
        dense, sparse = _outlier(*args), _outlier_sparse(*args)
        assert np.allclose(dense, sparse, atol=1e-8), (dense, sparse)


@pytest.mark.slow  # 8 dense N = 2000 eigendecompositions: ~1 s each alone, 5 s on the shared 2 cores
@pytest.mark.parametrize("c, lam", [(10.0, 0.5), (10.0, -0.5), (20.0, 0.8), (20.0, -0.8)])
@pytest.mark.parametrize("self_loops", [True, False])
def test_nu_matches_dense_outlier_eigenvalue(c, lam, self_loops):
    assert c * lam**2 > 2  # well above the detectability threshold
    outlier, extreme, corr, runner_up = _outlier(2000, c, lam, self_loops, seed=int(100 * c + 10 * lam) % 97)
    assert outlier == extreme  # the class direction is the second largest (lambda > 0) / most negative
    assert corr > 0.5 and runner_up < 0.3  # one eigenvector carries the classes
    assert abs(outlier - theory.nu(lam, c, self_loops)) < 0.02, (outlier, theory.nu(lam, c, self_loops))
    # the old formula lambda + 1/(d lambda) misses these by more, except at lambda = 1/2 with self-loops
    if not (lam == 0.5 and self_loops):
        assert abs(outlier - (lam + 1 / ((c + 1) * lam))) > 0.02


def test_gap_curves():
    n = np.arange(6)
    assert np.allclose(theory.gap(n, 0.5, 2.0), 2.0 * 0.5**n, rtol=1e-15)
    assert theory.gap(3, 0.5, 2.0) == pytest.approx(0.25) and isinstance(theory.gap(3, 0.5, 2.0), float)
    assert np.allclose(theory.gap(n, -0.5, 2.0), 2.0 * (-0.5) ** n)  # alternating under heterophily
    le = theory.nu(0.5, 15.2)
    assert np.allclose(theory.gap_finite_degree(n, 0.5, 16.2, 2.0), 2.0 * le**n, rtol=1e-14)
    assert np.allclose(theory.gap_finite_degree(n, -0.5, 16.2, 2.0), 2.0 * (-0.5) ** n, rtol=1e-14)
    le0 = theory.nu(-0.6, 16.2, self_loops=False)
    assert np.allclose(theory.gap_finite_degree(n, -0.6, 16.2, 2.0, self_loops=False), 2.0 * le0**n, rtol=1e-14)
    assert np.all(np.isnan(theory.gap_finite_degree(n[1:], 0.2, 16.0, 2.0)))  # below threshold


@pytest.mark.parametrize("lam, alpha", [(0.5, 0.1), (0.9, 0.05), (-0.6, 0.2), (0.3, 1.0)])
def test_ppr_gap_recursion_start_and_limit(lam, alpha):
    g0 = 2.0
    n = np.arange(40)
    g = theory.ppr_gap(n, lam, alpha, g0)
    assert g[0] == pytest.approx(g0, rel=1e-14)
    # the linear recursion gap(n+1) = (1 - alpha) lambda gap(n) + alpha gap(0)
    assert np.allclose(g[1:], (1 - alpha) * lam * g[:-1] + alpha * g0, rtol=1e-12, atol=1e-15)
    g_star = theory.ppr_fixed_point(lam, alpha, g0)
    assert g_star == pytest.approx(alpha * g0 / (1 - (1 - alpha) * lam), rel=1e-14)
    assert theory.ppr_gap(500, lam, alpha, g0) == pytest.approx(g_star, rel=1e-10)


def test_ppr_gap_alpha_zero_is_lambda_power():
    n = np.arange(10)
    assert np.allclose(theory.ppr_gap(n, 0.5, 0.0, 2.0), 2.0 * 0.5**n, rtol=1e-14)
    assert np.allclose(theory.ppr_gap(n, -0.7, 0.0, 1.0), (-0.7) ** n, rtol=1e-14)


def test_ppr_gap_alpha_zero_lambda_one():
    # q = 0 gives lambda = 1; with alpha = 0 APPNP is GCN and the gap never decays
    assert np.allclose(theory.ppr_gap(np.arange(5), 1.0, 0.0, 2.0), 2.0)


# =========================================================================== variance


def test_variance_bounds_and_ppr_floor():
    assert theory.variance_bounds(100) == (0.01, 1.0)
    lo, hi = theory.variance_bounds(100, sigma=2.0)
    assert lo == pytest.approx(0.04) and hi == pytest.approx(4.0)
    assert theory.ppr_variance_floor(0.1, 2.0) == pytest.approx(0.04, rel=1e-14)
    assert theory.ppr_variance_floor(0.0) == 0.0
    with pytest.raises(ValueError, match="alpha must be in"):
        theory.ppr_variance_floor(1.5)
    with pytest.raises(ValueError, match="n_nodes must be an integer >= 1"):
        theory.variance_bounds(0)


def test_stationary_sq_sum():
    assert theory.stationary_sq_sum([1, 1, 1, 1]) == pytest.approx(0.25)
    assert theory.stationary_sq_sum([1, 3]) == pytest.approx((1 + 9) / 16)
    n, p, q = 2000, 0.0114, 0.0038
    g = sample_csbm(n, p, q, seed=0, features=False)
    # model value (1/N)(1 + Var(deg)/d^2) vs one realisation: fluctuations are O(1/sqrt(N)), < 3%
    assert theory.stationary_sq_sum(g.degrees) == pytest.approx(theory.expected_stationary_sq_sum(n, p, q),
                                                                rel=0.03)
    assert theory.expected_stationary_sq_sum(n, p, q) > 1 / n


def test_catalan_variance_closed_form():
    assert theory.catalan_variance([0, 1, 2], 10.0, 0.0).tolist() == pytest.approx([1.0, 0.1, 0.02])
    v = theory.catalan_variance(np.arange(6), 16.0, 0.001, sigma=2.0)
    expected = 4.0 * (0.001 + np.array([1, 1, 2, 5, 14, 42]) / 16.0 ** np.arange(6))
    assert np.allclose(v, expected, rtol=1e-14)


def test_ppr_catalan_variance_reduces_to_gcn_and_respects_floor():
    n = np.arange(8)
    assert np.allclose(theory.ppr_catalan_variance(n, 16.0, 0.001, 0.0), theory.catalan_variance(n, 16.0, 0.001),
                       rtol=1e-13)
    for alpha in (0.1, 0.3, 0.9):
        v = theory.ppr_catalan_variance(n, 16.0, 0.001, alpha, sigma=1.5)
        assert np.all(v >= theory.ppr_variance_floor(alpha, 1.5))
        assert v[0] == pytest.approx(1.5**2 * 1.001)


CATALAN_TOL = 0.20  # SCIENCE.md: "within ~15% at every depth for N = 2000..8000, d = 16..28"


@pytest.fixture(scope="module")
def catalan_graphs():
    out = []
    for n, d, seed in [(2000, 16.0, 0), (3000, 22.0, 1), (4000, 28.0, 2)]:
        p, q = csbm_pq(n, d, 0.5)
        g = sample_csbm(n, p=p, q=q, seed=seed)
        out.append((n, p, q, g))
    return out


@pytest.mark.slow
def test_catalan_variance_vs_exact(catalan_graphs):
    for n, p, q, g in catalan_graphs:
        exact = feature_noise_variance(g, 8, method="exact").pooled
        d = theory.expected_degree(n, p, q)
        for pi2 in (theory.stationary_sq_sum(g.degrees), theory.expected_stationary_sq_sum(n, p, q)):
            pred = theory.catalan_variance(np.arange(9), d, pi2)
            rel = np.abs(pred / exact - 1)
            assert np.all(rel < CATALAN_TOL), (n, d, rel.round(3))
        # and the saturation level sum_j pi_j^2 is reached (within 1%) by depth 8
        assert exact[8] == pytest.approx(theory.stationary_sq_sum(g.degrees), rel=0.01)


@pytest.mark.slow
def test_ppr_catalan_variance_depth_one(catalan_graphs):
    # Depth 1 is exact arithmetic: ||row_i((1-a) P + a I)||^2 = (1-a)^2 ||row_i P||^2 + 2a(1-a) P_ii + a^2,
    # with P_ii = 1/d_i (the self-loop). The tree approximation of ||row_i P||^2 is the same one the
    # GCN formula uses (within ~6% here), so the APPNP prediction should be at least within 10%.
    n, p, q, g = catalan_graphs[0]
    alpha = 0.2
    d = theory.expected_degree(n, p, q)
    pi2 = theory.stationary_sq_sum(g.degrees)
    exact = feature_noise_variance(g, 1, operator="appnp", alpha=alpha, method="exact").pooled[1]
    gcn_exact = feature_noise_variance(g, 1, method="exact").pooled[1]
    assert abs(theory.catalan_variance(1, d, pi2)[0] / gcn_exact - 1) < 0.10  # the GCN part is fine
    assert abs(theory.ppr_catalan_variance(1, d, pi2, alpha)[0] / exact - 1) < 0.10


# =========================================================================== spectral sandwich


@settings(max_examples=40)
@given(random_graphs(), st.integers(0, 6))
def test_spectral_sandwich_holds_exactly(g, depth):
    lower, upper = theory.spectral_sandwich(g, depth, method="exact")
    Pd = dense_rw(g)
    deg = g.degrees
    assert lower[0] == pytest.approx(deg.min() / deg.max(), rel=1e-12)  # m_0 = 1
    for n in range(depth + 1):
        v = dense_row_norms_sq(Pd, n).mean()
        assert lower[n] * (1 - SLACK) - 1e-15 <= v <= upper[n] * (1 + SLACK) + 1e-15, (n, lower[n], v, upper[n])


def test_spectral_sandwich_hutchinson_close_to_exact():
    # N = 800 (the relative error of m_2n over 1024 probes is ~sqrt(2/1024) at any N: the top eigenvalue dominates)
    g = sample_csbm(800, *csbm_pq(800, 16.0, 0.5), seed=0)
    lo_e, hi_e = theory.spectral_sandwich(g, 6, method="exact")
    lo_h, hi_h = theory.spectral_sandwich(g, 6, method="hutchinson", probes=1024, seed=0)
    # m_2n by Hutchinson: relative error <= ~sqrt(2/1024) = 4.4% (1 sd); allow 20% (> 4 sd)
    assert np.allclose(lo_h, lo_e, rtol=0.2) and np.allclose(hi_h, hi_e, rtol=0.2)
    assert lo_h[0] == pytest.approx(lo_e[0], rel=1e-12)  # m_0 = 1 exactly for +-1 probes
    with pytest.raises(ValueError, match="method must be"):
        theory.spectral_sandwich(g, 2, method="dense")


# =========================================================================== errors and depth


def test_predicted_bayes_error():
    assert theory.predicted_bayes_error(2.0, 1.0) == pytest.approx(ndtr(-1.0), rel=1e-15)
    assert theory.predicted_bayes_error(-2.0, 4.0) == pytest.approx(ndtr(-0.5), rel=1e-15)
    out = theory.predicted_bayes_error([2.0, 1.0], [1.0, 0.25])
    assert np.allclose(out, [ndtr(-1.0), ndtr(-1.0)], rtol=1e-15)


def test_optimal_depth_ties_go_shallow():
    assert theory.optimal_depth([0.3, 0.1, 0.05, 0.2]) == 2
    assert theory.optimal_depth([0.2, 0.1, 0.1, 0.1]) == 1
    assert theory.optimal_depth([0.1, 0.1]) == 0
    assert theory.optimal_depth([np.nan, 0.3, 0.2, np.nan]) == 2
    with pytest.raises(ValueError):
        theory.optimal_depth([])
    with pytest.raises(ValueError):
        theory.optimal_depth([np.nan, np.nan])


def test_predicted_optimal_depth_is_small_and_hump():
    # The SCIENCE.md default (N=2000, lambda=0.5, d=16.2): error falls then rises, best depth small.
    n, p, q = 2000, 0.0114, 0.0038
    depths = np.arange(21)
    lam = theory.lam(p, q)
    d = theory.expected_degree(n, p, q)
    var = theory.catalan_variance(depths, d, theory.expected_stationary_sq_sum(n, p, q))
    err = theory.predicted_bayes_error(theory.gap_finite_degree(depths, lam, d, 2.0), var)
    best = theory.optimal_depth(err)
    assert 1 <= best <= 5
    assert err[best] < err[0] and err[best] < err[-1]


def test_depth_scales():
    assert theory.depth_scale_loglog(math.e**math.e) == pytest.approx(math.e)
    assert theory.depth_scale_logd(10_000, 10.0) == pytest.approx(4.0)
