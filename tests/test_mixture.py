"""The exact mixture Bayes error given the graph, against brute force and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

from _helpers import dense_rw
from oversmooth.graphs import sample_csbm
from oversmooth.measures import mixture_bayes_error


def test_equal_nodes_reduce_to_phi_of_half_the_gap():
    # every node of a class has the same mean and variance: the mixture is one Gaussian, error Phi(-gap/(2s))
    labels = np.repeat([0, 1], 50)
    for gap, s in [(2.0, 1.0), (1.0, 0.3), (0.2, 2.0), (6.0, 0.5)]:
        m = np.where(labels == 0, -gap / 2, gap / 2) + 3.7  # a common offset changes nothing
        r = mixture_bayes_error(m, np.full(100, s * s), labels)
        assert r.method == "quadrature"
        assert abs(r.error - ndtr(-gap / (2 * s))) <= r.uncertainty < 1e-5, (gap, s, r)


def test_three_classes_equal_spacing():
    # means -a, 0, a, common std s, equal priors: the middle class errs on both sides: (4/3) Phi(-a/(2s))
    labels = np.repeat([0, 1, 2], 20)
    a, s = 1.5, 0.8
    m = np.choose(labels, [-a, 0.0, a]).astype(float)
    r = mixture_bayes_error(m, np.full(60, s * s), labels)
    exact = 4 / 3 * ndtr(-a / (2 * s))
    assert abs(r.error - exact) <= r.uncertainty < 1e-6, (r.error - exact, r.uncertainty)


def test_unequal_classes_fraction_vs_equal_priors():
    # 1 node of class 0 for 3 of class 1, each class one Gaussian: integral of min(pi_0 f_0, pi_1 f_1) by scipy quad
    labels = np.array([0, 1, 1, 1])
    m, v = np.array([-1.0, 1.0, 1.0, 1.0]), np.array([1.0, 0.25, 0.25, 0.25])

    def reference(p0: float) -> float:
        # p0 N(x; -1, 1) = (1 - p0) N(x; 1, 0.5^2) <=> 1.5 x^2 - 5 x + 1.5 + log(p0 / (1 - p0)) + log(0.5) = 0;
        # between the roots the narrow class 1 dominates, so min = p0 f0 there and (1 - p0) f1 outside
        r1, r2 = np.sort(np.roots([1.5, -5.0, 1.5 + math.log(p0 / (1 - p0)) + math.log(0.5)]).real)
        inside = p0 * (ndtr(r2 + 1) - ndtr(r1 + 1))
        outside = (1 - p0) * (ndtr((r1 - 1) / 0.5) + 1 - ndtr((r2 - 1) / 0.5))
        return float(inside + outside)

    frac = mixture_bayes_error(m, v, labels)
    eq = mixture_bayes_error(m, v, labels, priors="equal")
    assert frac.priors == "fractions" and eq.priors == "equal"
    for r, p0 in ((frac, 0.25), (eq, 0.5)):
        assert abs(r.error - reference(p0)) <= r.uncertainty < 1e-5, (r.error - reference(p0), r.uncertainty)
    assert abs(frac.error - eq.error) > 0.01


def test_brute_force_monte_carlo_on_a_small_graph():
    # Draw the features many times, propagate with the dense M_n = P^n, classify every node with the exact
    # mixture posterior (written here from the densities), count errors: the Bayes error of a random node.
    g = sample_csbm(30, 0.25, 0.08, seed=4)
    P = dense_rw(g)
    n_layers, sigma = 1, 0.5
    M = np.linalg.matrix_power(P, n_layers)
    mu = np.where(g.labels == 0, -1.0, 1.0)
    m, v = M @ mu, sigma**2 * np.einsum("ij,ij->i", M, M)
    res = mixture_bayes_error(m, v, g.labels)
    rng = np.random.default_rng(11)
    draws = 4000
    X = mu[None, :] + sigma * rng.standard_normal((draws, 30))
    H = X @ M.T  # (draws, nodes): h = M_n x per draw
    dens = np.exp(-0.5 * (H[:, :, None] - m[None, None, :]) ** 2 / v) / np.sqrt(2 * np.pi * v)  # (draws, i, j)
    score = np.stack([dens[:, :, g.labels == c].sum(axis=2) for c in (0, 1)], axis=2)  # equal class sizes
    wrong = (np.argmax(score, axis=2) != g.labels[None, :]).mean(axis=1)  # per draw: fraction of nodes wrong
    est, se = wrong.mean(), wrong.std(ddof=1) / math.sqrt(draws)
    assert abs(est - res.error) < 4 * se + res.uncertainty, (est, se, res)
    # the Gaussian view (class-averaged mean and variance) is a different number here
    gap = m[g.labels == 1].mean() - m[g.labels == 0].mean()
    gauss = ndtr(-abs(gap) / (2 * math.sqrt(v.mean())))
    assert abs(gauss - res.error) > 4 * se


def test_monte_carlo_agrees_with_quadrature_and_closed_form_in_d_dims():
    g = sample_csbm(40, 0.2, 0.05, seed=2)
    M = np.linalg.matrix_power(dense_rw(g), 3)
    mu = np.where(g.labels == 0, -0.7, 0.7)
    m, v = M @ mu, np.einsum("ij,ij->i", M, M) * 0.6
    quad = mixture_bayes_error(m, v, g.labels)
    mc = mixture_bayes_error(m, v, g.labels, method="monte_carlo", n_samples=20_000, seed=0)
    assert mc.method == "monte_carlo" and mc.uncertainty > 0
    assert abs(mc.error - quad.error) < 4 * mc.uncertainty + quad.uncertainty
    # d = 3, identical nodes per class: Phi(-||delta|| / (2 s))
    labels = np.repeat([0, 1], 25)
    means = np.where(labels[:, None] == 0, np.array([[0.0, 0.5, -0.3]]), np.array([[1.0, -0.2, 0.4]]))
    r = mixture_bayes_error(means, np.full(50, 0.49), labels, n_samples=20_000, seed=1)
    exact = ndtr(-np.linalg.norm([1.0, -0.7, 0.7]) / (2 * 0.7))
    assert r.method == "monte_carlo" and abs(r.error - exact) < 4 * r.uncertainty
    again = mixture_bayes_error(means, np.full(50, 0.49), labels, n_samples=20_000, seed=1)
    assert again.error == r.error  # seeded


def test_quadrature_error_estimate_is_honest():
    # widely spread node means (a sparse graph's structural spread): coarse vs fine grids
    rng = np.random.default_rng(3)
    labels = np.repeat([0, 1], 200)
    m = np.where(labels == 0, -0.5, 0.5) + rng.normal(0, 0.6, 400)
    v = rng.uniform(0.05, 0.3, 400)
    fine = mixture_bayes_error(m, v, labels, grid=32769)
    coarse = mixture_bayes_error(m, v, labels, grid=257)
    assert abs(coarse.error - fine.error) <= coarse.uncertainty + fine.uncertainty
    assert fine.uncertainty < 1e-6 < coarse.uncertainty
    assert fine.detail["halving_difference"] <= fine.detail["discretisation_bound"]
    assert coarse.detail["kinks"] >= 1 and coarse.detail["spacing"] == pytest.approx(128 * fine.detail["spacing"])


def test_validation_names_arguments():
    labels = np.array([0, 1])
    with pytest.raises(ValueError, match="var_per_node must be > 0"):
        mixture_bayes_error([0.0, 1.0], [1.0, 0.0], labels)
    with pytest.raises(ValueError, match="var_per_node must have 2 entries"):
        mixture_bayes_error([0.0, 1.0], [1.0], labels)
    with pytest.raises(ValueError, match="at least two classes"):
        mixture_bayes_error([0.0, 1.0], [1.0, 1.0], [0, 0])
    with pytest.raises(ValueError, match="method must be one of"):
        mixture_bayes_error([0.0, 1.0], [1.0, 1.0], labels, method="simpson")
    with pytest.raises(ValueError, match="needs 1-D features"):
        mixture_bayes_error(np.zeros((2, 2)), [1.0, 1.0], labels, method="quadrature")
    with pytest.raises(ValueError, match="grid must be odd"):
        mixture_bayes_error([0.0, 1.0], [1.0, 1.0], labels, grid=100)
    with pytest.raises(ValueError, match="priors must be one of"):
        mixture_bayes_error([0.0, 1.0], [1.0, 1.0], labels, priors="uniform")
    # unlabelled nodes are left out
    r = mixture_bayes_error([-1.0, 1.0, 50.0], [1.0, 1.0, 0.0], [0, 1, -1])
    assert abs(r.error - ndtr(-1.0)) <= r.uncertainty < 1e-6 and r.detail["interval"] == (-9.0, 9.0)
