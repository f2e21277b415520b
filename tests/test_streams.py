"""Independent random streams: one derivation helper, and the Hutchinson z-scores it makes honest."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from oversmooth._utils import check_random_state, derive_seed, spawn_generators
from oversmooth.graphs import sample_csbm
from oversmooth.measures import feature_noise_variance
from oversmooth.operators import normalize_adjacency
from oversmooth.theory import csbm_pq

# =========================================================================== derive_seed


def _words(seed_seq: np.random.SeedSequence, k: int = 64) -> np.ndarray:
    return np.random.default_rng(seed_seq).integers(0, 2**32, size=k, dtype=np.uint64)


def test_same_seed_and_purpose_give_the_same_bytes():
    assert np.array_equal(_words(derive_seed(5, "graph")), _words(derive_seed(5, "graph")))
    assert np.array_equal(_words(derive_seed(5, "cell", 3)), _words(derive_seed(np.int64(5), "cell", np.int32(3))))
    assert derive_seed(5, "torch", 1, 2, as_int=True) == derive_seed(5, "torch", 1, 2, as_int=True)


def test_purposes_seeds_and_parts_give_different_streams():
    streams = [derive_seed(5, "graph"), derive_seed(5, "probes"), derive_seed(6, "graph"), derive_seed(5, "cell", 3),
               derive_seed(5, "cell", "3"), derive_seed(5, "cell", 3, "graph"), derive_seed(5, "cell3")]
    words = [tuple(_words(s, 4)) for s in streams]
    assert len(set(words)) == len(words)  # the int 3 and the string "3" are different purposes


def test_derived_streams_never_replay_the_plain_seed_or_its_spawned_children():
    # the bug: sample_csbm(seed=s) and feature_noise_variance(seed=s) both used SeedSequence(s).spawn(...)[0]
    plain = [tuple(_words(np.random.SeedSequence(7), 4))]
    plain += [tuple(_words(c, 4)) for c in np.random.SeedSequence(7).spawn(4)]
    derived = [tuple(_words(derive_seed(7, p), 4)) for p in ("graph", "probes", "profile", "replicate")]
    assert not set(plain) & set(derived)
    # the old replay, shown: the first spawned child of the same int seed is the same stream in both places
    a = spawn_generators(7, 2)[0].integers(0, 2**32, size=4)
    b = spawn_generators(7, 1)[0].integers(0, 2**32, size=4)
    assert np.array_equal(a, b)


def test_streams_of_two_purposes_are_uncorrelated():
    x = np.random.default_rng(derive_seed(11, "graph")).standard_normal(20_000)
    y = np.random.default_rng(derive_seed(11, "probes")).standard_normal(20_000)
    assert abs(np.corrcoef(x, y)[0, 1]) < 4 / math.sqrt(20_000)


def test_seed_sequence_and_generator_inputs():
    base = np.random.SeedSequence(3)
    assert np.array_equal(_words(derive_seed(base, "graph")), _words(derive_seed(3, "graph")))
    child = base.spawn(1)[0]  # a SeedSequence keeps its own spawn key in front of the purpose words
    assert not np.array_equal(_words(derive_seed(child, "graph")), _words(derive_seed(3, "graph")))
    g1, g2 = np.random.default_rng(0), np.random.default_rng(0)
    assert np.array_equal(_words(derive_seed(g1, "x")), _words(derive_seed(g2, "x")))  # same generator state
    assert isinstance(check_random_state(derive_seed(0, "x")), np.random.Generator)
    v = derive_seed(0, "torch", as_int=True)
    assert isinstance(v, int) and 0 <= v < 2**31


def test_derive_seed_validation():
    with pytest.raises(ValueError, match="needs a purpose"):
        derive_seed(0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        derive_seed(-1, "graph")
    with pytest.raises(TypeError, match="purpose parts must be str or int"):
        derive_seed(0, 1.5)
    with pytest.raises(TypeError, match="purpose parts must be str or int"):
        derive_seed(0, True)


# =========================================================================== Hutchinson z-scores over seeds

Z_SEEDS = 50
Z_N = 6000
Z_PROBES = 16
Z_DEPTHS = (1, 2, 3)


def _exact_pooled_by_sparse_powers(g, depth: int, chunk: int = 1000) -> np.ndarray:
    """Mean over nodes of ||row i of P^n||^2, n = 0..depth, from sparse row blocks of P^n (P = D^-1 A).

    An independent exact computation (rows of the identity times P, n times, in blocks of
    ``chunk`` rows), about 2-3x faster than propagating identity columns at N = 6000, depth 3.
    """
    P = sp.csr_array(normalize_adjacency(g, "rw"))
    n = P.shape[0]
    out = np.zeros((depth + 1, n))
    out[0] = 1.0
    eye = sp.eye_array(n, format="csr")
    for start in range(0, n, chunk):
        rows = sp.csr_array(eye[start:start + chunk])
        for k in range(1, depth + 1):
            rows = rows @ P
            out[k, start:start + chunk] = np.asarray(rows.multiply(rows).sum(axis=1)).ravel()
    return out.mean(axis=1)


@pytest.mark.slow  # 50 exact variances at N = 6000: about 3 s each on one free core, 12 s on the shared machine
def test_hutchinson_z_scores_over_seeds():
    """(estimate - exact) / SE over 50 independent graphs and probe sets is close to N(0, 1).

    Graph and probes draw from independent streams (derive_seed purposes "graph" and "probes").
    Mean within 3 SE of 0 (the SE from the spread of the per-seed mean z: the depths of one seed
    share their probes) and standard deviation in [0.8, 1.25] over all 150 z-scores. The d = 16.2,
    lambda = 0.5 CSBM is near saturation at depth 3 (sum pi_j^2 is ~20% of the variance there), where
    one direction dominates every probe and a probe-spread SE made the z-scores skewed.
    """
    p, q = csbm_pq(Z_N, 15.2, 0.5)
    z = np.empty((Z_SEEDS, len(Z_DEPTHS)))
    for s in range(Z_SEEDS):
        g = sample_csbm(Z_N, p, q, features=False, seed=derive_seed(s, "graph"))
        est = feature_noise_variance(g, max(Z_DEPTHS), method="hutchinson", probes=Z_PROBES,
                                     seed=derive_seed(s, "probes"))
        exact = _exact_pooled_by_sparse_powers(g, max(Z_DEPTHS))
        if s == 0:  # the independent sparse-power computation is the package's exact variance, to rounding
            ref = feature_noise_variance(g, max(Z_DEPTHS), method="exact", exact_max_nodes=Z_N).pooled
            assert np.allclose(exact, ref, rtol=1e-12, atol=0)
        d = list(Z_DEPTHS)
        assert np.all(est.se_pooled[d] > 0)
        z[s] = (est.pooled[d] - exact[d]) / est.se_pooled[d]
    per_seed = z.mean(axis=1)
    se_mean = per_seed.std(ddof=1) / math.sqrt(Z_SEEDS)
    sd = z.std(ddof=1)
    msg = (f"mean z {z.mean():+.3f} (SE {se_mean:.3f}), sd {sd:.3f}, "
           f"per depth mean {z.mean(0).round(3)} sd {z.std(0).round(3)}")
    assert abs(z.mean()) <= 3 * se_mean, msg
    assert 0.8 <= sd <= 1.25, msg
