"""profile_embeddings, its class-geometry measures and the probe; depth_profile and simulate built on it; the CLI.

Every measure is checked against a naive reference written here from its formula (loops,
dense matrices), never against a copy of the implementation.
"""

from __future__ import annotations

import io
import itertools
import json

import numpy as np
import pytest
import scipy.sparse as sp

from _helpers import needs_planetoid_raw, planetoid_raw_dir, run_cli, run_cli_subprocess
from oversmooth.experiments import ROW_COLUMNS, SimulationConfig, run_simulation
from oversmooth.graphs import Graph, sample_csbm
from oversmooth.measures import (
    PROFILE_METRICS,
    Profile,
    between_class_spread,
    class_separation,
    depth_profile,
    dirichlet_energy,
    effective_rank,
    linear_probe,
    mad,
    mad_gap,
    normalized_dirichlet_energy,
    probe_accuracy,
    profile_embeddings,
    rayleigh_quotient,
    within_class_spread,
)
from oversmooth.measures import _embeddings, _geometry
from oversmooth.operators import iter_propagate, normalize_adjacency

# --------------------------------------------------------------------------- naive references


def naive_spreads(x, y):
    x = np.atleast_2d(np.asarray(x, float).T).T
    lab = [i for i in range(len(y)) if y[i] >= 0]
    classes = sorted({y[i] for i in lab})
    mean = {c: sum(x[i] for i in lab if y[i] == c) / sum(1 for i in lab if y[i] == c) for c in classes}
    overall = sum(x[i] for i in lab) / len(lab)
    within = sum(float(np.sum((x[i] - mean[y[i]]) ** 2)) for i in lab) / len(lab)
    size = {c: sum(1 for i in lab if y[i] == c) for c in classes}
    between = sum(size[c] * float(np.sum((mean[c] - overall) ** 2)) for c in classes) / len(lab)
    return within, between


def naive_separation(x, y, shrink=0.0):
    x = np.atleast_2d(np.asarray(x, float).T).T
    lab = [i for i in range(len(y)) if y[i] >= 0]
    classes = sorted({y[i] for i in lab})
    d = x.shape[1]
    mean = {c: np.mean([x[i] for i in lab if y[i] == c], axis=0) for c in classes}
    S = np.zeros((d, d))
    for i in lab:
        r = x[i] - mean[y[i]]
        S += np.outer(r, r)
    S /= len(lab) - len(classes)
    S = (1 - shrink) * S + shrink * np.trace(S) / d * np.eye(d)
    Sinv = np.linalg.pinv(S)
    return min(float(np.sqrt((mean[a] - mean[b]) @ Sinv @ (mean[a] - mean[b])))
               for a, b in itertools.combinations(classes, 2))


def naive_ledoit_wolf(z):
    """Ledoit & Wolf (2004), Lemmas 3.2-3.4, with <A, B> = tr(A B^T) / d, on centred rows z."""
    n, d = z.shape
    S = sum(np.outer(r, r) for r in z) / n
    norm2 = lambda a: float(np.trace(a @ a.T)) / d  # noqa: E731
    m = float(np.trace(S)) / d
    d2 = norm2(S - m * np.eye(d))
    b2bar = sum(norm2(np.outer(r, r) - S) for r in z) / n**2
    return min(b2bar, d2) / d2


# --------------------------------------------------------------------------- spreads and separation


def test_spreads_hand_values_and_decomposition():
    x = np.array([[0.0, 1.0], [2.0, 1.0], [10.0, 0.0], [10.0, 4.0], [7.0, 7.0]])
    y = np.array([0, 0, 1, 1, -1])  # the unlabelled node is ignored
    # within: class 0 mean (1, 1): 1 + 1; class 1 mean (10, 2): 4 + 4 -> 10 / 4
    assert within_class_spread(x, y) == pytest.approx(2.5, rel=1e-15)
    # between: overall mean (5.5, 1.5); 2 * (4.5^2 + 0.5^2) + 2 * (4.5^2 + 0.5^2) -> / 4
    assert between_class_spread(x, y) == pytest.approx(20.5, rel=1e-15)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 3))
    y = rng.integers(-1, 3, 30)
    w, b = naive_spreads(x, y)
    assert within_class_spread(x, y) == pytest.approx(w, rel=1e-12)
    assert between_class_spread(x, y) == pytest.approx(b, rel=1e-12)
    lab = x[y >= 0]
    total = np.mean(np.sum((lab - lab.mean(axis=0)) ** 2, axis=1))
    assert w + b == pytest.approx(total, rel=1e-12)


def test_separation_hand_value_and_naive_reference():
    # means 1 and 11, pooled variance (1 + 1 + 1 + 1) / (4 - 2) = 2: 10 / sqrt(2)
    assert class_separation([0.0, 2.0, 10.0, 12.0], [0, 0, 1, 1]) == pytest.approx(10 / np.sqrt(2), rel=1e-14)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((60, 3)) + np.repeat(np.eye(3) * 2, 20, axis=0)
    y = np.repeat([0, 1, 2], 20)
    y[5] = -1
    assert class_separation(x, y, shrinkage=None) == pytest.approx(naive_separation(x, y), rel=1e-10)
    assert class_separation(x, y, shrinkage=0.3) == pytest.approx(naive_separation(x, y, 0.3), rel=1e-10)
    # d = 3 << N - K = 56: auto does not shrink
    assert class_separation(x, y) == pytest.approx(naive_separation(x, y), rel=1e-10)


def test_separation_ledoit_wolf_when_d_not_small():
    rng = np.random.default_rng(2)
    n, d = 40, 8  # 10 d = 80 > N - K = 38: auto shrinks
    y = np.repeat([0, 1], n // 2)
    x = rng.standard_normal((n, d)) * np.linspace(0.5, 2.0, d) + y[:, None]
    means = np.array([x[y == c].mean(axis=0) for c in (0, 1)])
    s_ref = naive_ledoit_wolf(x - means[y])
    assert 0 < s_ref < 1
    sep, s, how = _geometry._separation(x, y, "auto")
    assert s == pytest.approx(s_ref, rel=1e-10) and "Ledoit-Wolf" in how
    assert sep == pytest.approx(naive_separation(x, y, s_ref), rel=1e-10)
    assert class_separation(x, y, shrinkage="ledoit-wolf") == pytest.approx(sep, rel=1e-12)
    # more dimensions than nodes: the unshrunk covariance is singular, the shrunk one is not
    xw = rng.standard_normal((20, 50)) + np.repeat([0, 1], 10)[:, None]
    assert np.isfinite(class_separation(xw, np.repeat([0, 1], 10)))


def test_separation_errors():
    with pytest.raises(ValueError, match="at least 2 classes"):
        class_separation(np.zeros((4, 2)), [0, 0, 0, -1])
    with pytest.raises(ValueError, match="shrinkage"):
        class_separation(np.zeros((4, 1)), [0, 0, 1, 1], shrinkage=2.0)
    with pytest.raises(ValueError, match="labels must have shape"):
        within_class_spread(np.zeros((4, 1)), [0, 1])


# --------------------------------------------------------------------------- the probe


def test_probe_is_held_out():
    # training nodes say "feature = class", test nodes the opposite: a held-out probe scores 0,
    # an in-sample one would score 1 on the training nodes
    y = np.array([0, 1] * 20)
    x = np.where(np.arange(40) < 20, y, 1 - y).astype(float)
    assert probe_accuracy(x, y, train_mask=np.arange(20), test_mask=np.arange(20, 40)) == 0.0
    train = np.zeros(40, dtype=bool)
    train[:20] = True
    assert probe_accuracy(x, y, train_mask=train) == 0.0  # the other labelled nodes are tested
    assert probe_accuracy(x, y, train_mask=train, test_mask=~train) == 0.0


def test_probe_random_split_and_seed():
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1, 2], 30)
    x = np.eye(3)[y] * 3 + rng.standard_normal((90, 3))
    a = probe_accuracy(x, y, seed=5)
    assert a == probe_accuracy(x, y, seed=5)
    assert 0.8 <= a <= 1.0
    # the default split is the seeded 60/20/20 split of graphs.random_split: 18 test nodes
    assert a * 18 == pytest.approx(round(a * 18))


def test_probe_mask_forms_and_errors():
    torch = pytest.importorskip("torch")
    y = np.array([0, 1] * 10)
    x = y + 0.01 * np.arange(20)
    ref = probe_accuracy(x, y, train_mask=np.arange(10), test_mask=np.arange(10, 20))
    mask = np.arange(20) < 10
    assert probe_accuracy(torch.tensor(x), torch.tensor(y), train_mask=torch.tensor(mask),
                          test_mask=torch.arange(10, 20)) == ref
    with pytest.raises(ValueError, match="test_mask was given without train_mask"):
        probe_accuracy(x, y, test_mask=mask)
    with pytest.raises(ValueError, match="train_mask is a boolean mask of"):
        probe_accuracy(x, y, train_mask=np.array([True, False, True]))
    with pytest.raises(ValueError, match="train_mask holds node id"):
        probe_accuracy(x, y, train_mask=[0, 25])
    with pytest.raises(ValueError, match="test_mask selects no labelled node"):
        probe_accuracy(x, np.where(np.arange(20) < 10, y, -1), train_mask=np.arange(10), test_mask=np.arange(10, 20))
    with pytest.raises(ValueError, match="share 5 node"):  # never scored in-sample
        probe_accuracy(x, y, train_mask=np.arange(10), test_mask=np.arange(5, 20))
    with pytest.raises(ValueError, match="train_mask covers every labelled node"):
        probe_accuracy(x, y, train_mask=np.arange(20))


def test_linear_probe_separates_and_warm_starts():
    x = np.array([[0.0], [0.2], [1.0], [1.2]])
    (pred,), theta = linear_probe(x, np.array([0, 0, 1, 1]), [np.array([[0.1], [1.1]])], return_params=True)
    assert pred.tolist() == [0, 1] and theta.shape == (1 * 2 + 2,)
    (again,) = linear_probe(x, np.array([0, 0, 1, 1]), [np.array([[0.1], [1.1]])], init=theta)
    assert again.tolist() == [0, 1]


# --------------------------------------------------------------------------- profile_embeddings


@pytest.fixture(scope="module")
def small():
    g = sample_csbm(120, p=0.12, q=0.03, mu=[[0.0, 0.0, 0.0], [1.5, 0.0, 0.5]], sigma=1.0, seed=4)
    layers = list(iter_propagate(normalize_adjacency(g), g.features, 3))
    return g, layers


ALL_KEYS = {"layer", "n_nodes", "dim", "separation", "separation_shrinkage", "within_class_spread",
            "between_class_spread", "dirichlet_energy", "dirichlet_energy_sqrt", "normalized_dirichlet_energy",
            "rayleigh_quotient", "mad", "mad_neb", "mad_rmt", "mad_gap", "mad_sources", "group_distance_ratio",
            "effective_rank", "probe_accuracy", "notes"}


def test_profile_rows_match_the_public_functions(small):
    g, layers = small
    prof = profile_embeddings(layers, g.labels, g, seed=0)
    assert isinstance(prof, Profile) and len(prof) == 4
    for i, (row, h) in enumerate(zip(prof.rows, layers)):
        assert set(row) == ALL_KEYS
        assert (row["layer"], row["n_nodes"], row["dim"]) == (i, 120, 3)
        w, b = naive_spreads(h, g.labels)
        assert row["within_class_spread"] == pytest.approx(w, rel=1e-10)
        assert row["between_class_spread"] == pytest.approx(b, rel=1e-10)
        assert row["separation"] == pytest.approx(naive_separation(h, g.labels), rel=1e-9)
        e = dirichlet_energy(h, g)
        assert row["dirichlet_energy"] == pytest.approx(e, rel=1e-12)
        assert row["dirichlet_energy_sqrt"] == pytest.approx(np.sqrt(e), rel=1e-12)
        assert row["normalized_dirichlet_energy"] == pytest.approx(normalized_dirichlet_energy(h, g), rel=1e-12)
        assert row["rayleigh_quotient"] == pytest.approx(rayleigh_quotient(h, g), rel=1e-12)
        assert row["mad"] == pytest.approx(mad(h, g), rel=1e-12)
        gap = mad_gap(h, g)
        for k in ("mad_neb", "mad_sources"):
            assert row[k] == pytest.approx(gap[k], rel=1e-12)
        assert row["effective_rank"] == pytest.approx(effective_rank(h), rel=1e-12)
        assert 0.0 <= row["probe_accuracy"] <= 1.0
        assert "separation shrinkage: none" in row["notes"]
    assert prof.info["n_labelled"] == 120 and prof.info["n_classes"] == 2 and prof.info["n_test"] == 24
    # propagation smooths: energy and Rayleigh quotient fall
    assert prof.rows[-1]["rayleigh_quotient"] < prof.rows[0]["rayleigh_quotient"]


def test_profile_metrics_select_columns_and_graph_optional(small):
    g, layers = small
    prof = profile_embeddings(layers, g.labels, None, metrics=["separation", "within_class_spread"])
    assert set(prof.rows[0]) == {"layer", "n_nodes", "dim", "separation", "separation_shrinkage",
                                 "within_class_spread", "notes"}
    with pytest.raises(ValueError, match="unknown metric 'madgap'"):
        profile_embeddings(layers, g.labels, g, metrics=["madgap"])
    with pytest.raises(ValueError, match="graph is required"):
        profile_embeddings(layers, g.labels, None, metrics=["mad"])
    assert set(PROFILE_METRICS) | {"layer", "n_nodes", "dim", "notes", "separation_shrinkage",
                                   "dirichlet_energy_sqrt", "mad_neb", "mad_rmt", "mad_sources"} == ALL_KEYS


def test_profile_one_class_and_sampled_notes(small, monkeypatch):
    g, layers = small
    one = profile_embeddings(layers[:1], np.zeros(120, dtype=int), g, metrics=["separation", "probe_accuracy", "mad"])
    r = one.rows[0]
    assert r["separation"] is None and r["probe_accuracy"] is None and r["mad"] is not None
    assert "1 class(es) among the labelled nodes" in r["notes"]
    monkeypatch.setattr(_embeddings, "PROBE_MAX_TRAIN", 30)
    prof = profile_embeddings(layers[:1], g.labels, g, metrics=["probe_accuracy"], seed=0)
    assert "probe fitted on 30 of 72 training nodes" in prof.rows[0]["notes"]
    assert prof.info["n_train"] == 30


def test_profile_sampled_madgap_says_so(monkeypatch, small):
    from oversmooth.measures import _madgap

    g, layers = small
    monkeypatch.setattr(_madgap, "MADGAP_EXACT_MAX_NODES", 50)
    monkeypatch.setattr(_madgap, "MADGAP_SAMPLE_SOURCES", 40)
    prof = profile_embeddings(layers[:2], g.labels, g, metrics=["mad_gap"], seed=1)
    assert [r["mad_sources"] for r in prof.rows] == [40, 40]
    assert all("mad_gap: 40 of 120 source nodes sampled" in r["notes"] for r in prof.rows)


def test_profile_torch_and_every_graph_form(small):
    torch = pytest.importorskip("torch")
    nx = pytest.importorskip("networkx")
    g, layers = small
    metrics = ["dirichlet_energy", "mad", "mad_gap", "separation", "probe_accuracy"]
    ref = profile_embeddings(layers, g.labels, g, metrics=metrics, seed=0).rows
    up = sp.triu(g.adjacency, k=1).tocoo()
    one_way = np.array([up.row, up.col])
    forms = {
        "scipy": sp.csr_matrix(g.adjacency),
        "edge_index": one_way,
        "edge_index_torch": torch.tensor(np.hstack([one_way, one_way[::-1]])),
        "networkx": nx.from_scipy_sparse_array(sp.csr_array(g.adjacency)),
    }
    try:
        from torch_geometric.data import Data

        forms["pyg"] = Data(edge_index=torch.tensor(one_way), num_nodes=120)
    except ImportError:  # pragma: no cover - PyG is in the train extra
        pass
    for name, graph in forms.items():
        rows = profile_embeddings(layers, g.labels, graph, metrics=metrics, seed=0).rows
        for a, b in zip(ref, rows):
            for k in ("dirichlet_energy", "mad", "mad_neb", "mad_gap", "separation", "probe_accuracy"):
                assert (a[k] is None and b[k] is None) or b[k] == pytest.approx(a[k], rel=1e-12), (name, k)
    tl = [torch.tensor(h, dtype=torch.float32, requires_grad=True) for h in layers]
    rows = profile_embeddings(tl, torch.tensor(g.labels), g, metrics=metrics, seed=0).rows
    for a, b in zip(ref, rows):
        assert b["dirichlet_energy"] == pytest.approx(a["dirichlet_energy"], rel=1e-5)
        assert b["separation"] == pytest.approx(a["separation"], rel=1e-5)


def test_profile_api_frame_plot_repr_progress(small):
    pd = pytest.importorskip("pandas")
    g, layers = small
    buf = io.StringIO()
    prof = profile_embeddings(layers, g.labels, g, seed=0, progress=buf)
    assert "4/4" in buf.getvalue()
    frame = prof.to_frame()
    assert isinstance(frame, pd.DataFrame) and frame.shape == (4, len(ALL_KEYS))
    assert frame["layer"].tolist() == [0, 1, 2, 3]
    text = repr(prof)
    assert text.startswith("Profile(4 layers, N=120, d=3") and "\n" not in text and len(text) < 200
    fig = prof.plot(title="t")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 5
    for ax in axes:
        ticks = [t for t in ax.get_xticks() if -0.5 <= t <= 3.5]
        assert all(float(t).is_integer() for t in ticks)
    only = profile_embeddings(layers, g.labels, None, metrics=["separation"]).plot()
    assert len([ax for ax in only.axes if ax.get_visible()]) == 1
    assert repr(Profile([])) == "Profile(0 layers)"
    with pytest.raises(ValueError, match="progress must be"):
        profile_embeddings(layers, g.labels, g, progress="yes")


# --------------------------------------------------------------------------- depth_profile and simulate

# Values before depth_profile and simulate were rebuilt on profile_embeddings: the noise-model
# quantities of the same graph (sample_csbm(seed=s)) and profile seed (s) must not move.
PINNED = {  # config -> (depth, gap, feature_variance, bayes_error, realised_error, cross-sectional variance)
    "gcn": (dict(n=400, p=0.05, q=0.01, depth=4), 3, 0.8442716897077374, 0.0056456042295430515,
            9.647982992861727e-09, 0.005, 0.024191101170484258),
    "appnp": (dict(n=400, p=0.05, q=0.01, depth=4, operator="appnp"), 3, 1.0350222748100144, 0.02264687959651905,
              0.0002920759156783523, 0.005, 0.04111404881530323),
    # Hutchinson: gap, realised error and spread as before; the variance changed on purpose when the
    # stationary direction became exact (deflated probes): 0.004477 before, 0.002700 +- 0.00016 now,
    # exact 0.0027564 (the old 8-probe estimate was 10 of its own SEs off: the skew near saturation)
    "hutchinson": (dict(n=600, p=0.05, q=0.01, depth=3, method="hutchinson", probes=8), 3, 0.7412747397251435,
                   0.0027004016131084384, 4.932078380987732e-13, 0.0016666666666666668, 0.010970568065385641),
    "k3": (dict(n=600, p=0.05, q=0.01, depth=3, mu=(-1.0, 0.0, 1.0)), 3, 0.2799365571115374,
           0.0037013429968937683, 0.010285680751214055, 0.08, 0.010420842974633995),
}


def _profile_of(cfg: SimulationConfig, graph_seed, profile_seed):
    g = sample_csbm(cfg.n, cfg.p, cfg.q, n_blocks=len(cfg.mu), mu=list(cfg.mu), sigma=cfg.sigma, seed=graph_seed)
    return depth_profile(g, cfg.depth, operator=cfg.operator, alpha=cfg.alpha, mu=list(cfg.mu), sigma=cfg.sigma,
                         variance=cfg.method, probes=cfg.probes, seed=profile_seed, metrics=["dirichlet_energy", "mad"])


@pytest.mark.parametrize("name", sorted(PINNED))
def test_depth_profile_numbers_unchanged_by_the_rebuild(name):
    cfg, depth, gap, var, bayes, realised, cross = PINNED[name]
    r = _profile_of(SimulationConfig(**cfg), 0, 0)[depth]
    assert r["gap"] == pytest.approx(gap, rel=1e-12)
    assert r["feature_variance"] == pytest.approx(var, rel=1e-12)
    assert r["bayes_error"] == pytest.approx(bayes, rel=1e-9)
    assert r["realised_error"] == realised
    assert r["cross_sectional_variance"] == pytest.approx(cross, rel=1e-12)


def test_simulate_is_depth_profile_of_derived_streams_with_its_columns():
    from oversmooth._utils import derive_seed

    cfg = SimulationConfig(n=300, p=0.06, q=0.02, depth=2, seed=3, seeds=2, method="hutchinson", probes=4)
    rows = run_simulation(cfg)
    assert [r["seed"] for r in rows] == [3, 3, 3, 4, 4, 4]
    for r_ in range(2):
        rep = derive_seed(3, "replicate", r_)
        ref = _profile_of(cfg, derive_seed(rep, "graph"), derive_seed(rep, "profile"))
        for row, p in zip(rows[3 * r_: 3 * r_ + 3], ref):
            for k in ("gap", "feature_variance", "feature_variance_se", "bayes_error", "realised_error", "mad"):
                assert row[k] == p[k], k
            assert set(row) == set(ROW_COLUMNS) | {"class_means", "feature_variance_per_class"}


def test_depth_profile_pinned_lda_and_no_metadata_read():
    g = sample_csbm(600, p=0.05, q=0.01, mu=[[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]], sigma=1.0, seed=2)
    rows = depth_profile(g, 2, seed=0, mu=g.metadata["mu"], sigma=g.metadata["sigma"])
    assert rows[2]["gap"] == pytest.approx(0.7762026666223883, rel=1e-12)
    assert rows[2]["feature_variance"] == pytest.approx(0.011250368335575297, rel=1e-12)
    assert rows[2]["bayes_error"] == pytest.approx(8.000080000800008e-05, rel=1e-12)
    for r, h in zip(rows, iter_propagate(normalize_adjacency(g), g.features, 2)):
        assert r["realised_separation"] == pytest.approx(naive_separation(h, g.labels), rel=1e-9)
        assert r["rayleigh_quotient"] == pytest.approx(rayleigh_quotient(h, g), rel=1e-12)
        assert "probe_accuracy" not in r  # opt-in with a noise model and d << N
    # the CSBM records mu and sigma, but nothing is read from metadata: no noise model, the probe instead
    bare = depth_profile(g, 2, seed=0)
    assert all(r[k] is None for r in bare for k in ("gap", "feature_variance", "bayes_error", "realised_error"))
    assert all(0 <= r["probe_accuracy"] <= 1 for r in bare)
    assert "no noise model" in bare[0]["notes"]
    with pytest.raises(ValueError, match="pass sigma too"):
        depth_profile(g, 1, mu=g.metadata["mu"])
    extra = depth_profile(g, 1, mu=g.metadata["mu"], sigma=1.0, metrics=["mad_gap", "effective_rank"], seed=0)
    assert {"mad_gap", "effective_rank"} <= set(extra[0]) and extra[0]["dirichlet_energy"] is None


def test_depth_profile_high_dimensional_features_with_noise_model():
    # d > 2K: the Monte Carlo LDA error runs in the span of the whitened means (exact reduction);
    # d not << N: the in-sample LDA error is skipped (it overfits), the probe is measured
    from oversmooth.measures import bayes_error_lda

    rng = np.random.default_rng(5)
    n, d = 150, 20
    labels = np.repeat([0, 1, 2], n // 3)
    mu = rng.standard_normal((3, d)) * 0.6
    cov = np.diag(np.linspace(0.5, 1.5, d))
    x = mu[labels] + rng.standard_normal((n, d)) @ np.sqrt(cov)
    g = sample_csbm(n, p=0.1, q=0.02, n_blocks=3, mu=[-1.0, 0.0, 1.0], seed=3)
    g = Graph(g.adjacency, labels, x)
    rows = depth_profile(g, 1, mu=mu, sigma=cov, lda_samples=60_000, seed=0)
    full = bayes_error_lda(mu, cov, n_samples=60_000, seed=1)
    se = np.sqrt(2 * full * (1 - full) / 60_000)
    assert abs(rows[0]["bayes_error"] - full) < 4 * se
    assert rows[0]["realised_error"] is None and "in-sample LDA skipped" in rows[0]["notes"]
    assert 0 <= rows[0]["probe_accuracy"] <= 1
    assert rows[0]["realised_separation_shrinkage"] > 0


# --------------------------------------------------------------------------- the CLI


@pytest.fixture
def saved(tmp_path, small):
    g, layers = small
    emb = tmp_path / "emb.npz"
    np.savez(emb, **{f"layer_{i}": h for i, h in enumerate(layers)})
    graph = tmp_path / "g.npz"
    sp.save_npz(graph, sp.csr_matrix(g.adjacency))
    labels = tmp_path / "y.npy"
    np.save(labels, g.labels)
    return tmp_path, emb, graph, labels


def test_cli_profile_end_to_end(saved):
    tmp, emb, graph, labels = saved
    out = tmp / "out"
    proc = run_cli_subprocess("profile", str(emb), "--graph", str(graph), "--labels", str(labels), "--out",
                              str(out), "--metrics", "separation", "mad", "probe_accuracy", "--seed", "1")
    assert proc.returncode == 0, proc.stderr
    assert "wrote" in proc.stdout and (out / "profile.png").stat().st_size > 1000
    data = json.loads((out / "profile.json").read_text())
    assert data["split"] == "random" and data["n_test"] == 24 and len(data["rows"]) == 4
    header = (out / "profile.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["layer", "n_nodes", "dim"] and "probe_accuracy" in header


def test_cli_profile_in_process_forms(saved, capsys):
    tmp, emb, graph, labels = saved
    small_layers = dict(np.load(emb))
    with_labels = tmp / "with_labels.npz"
    np.savez(with_labels, labels=np.load(labels), **small_layers)
    split = tmp / "split.npz"
    np.savez(split, train=np.arange(60), val=np.arange(60, 80), test=np.arange(80, 120))
    code, out, err = run_cli(capsys, "profile", str(with_labels), "--graph", str(graph), "--split", str(split),
                             "--metrics", "probe_accuracy", "--out", str(tmp / "o2"))
    assert code == 0, err
    data = json.loads((tmp / "o2" / "profile.json").read_text())
    assert data["labels"] == "embeddings file" and (data["n_train"], data["n_test"]) == (60, 40)


@pytest.mark.parametrize("args, message", [
    (["missing.npz"], "embeddings file not found"),
    (["{bad}"], "has no layer_0 .. layer_L arrays"),
    (["{gap}"], "is missing layer_1"),
    (["{emb}", "--graph", "nowhere"], "neither a file nor a Planetoid name"),
    (["{emb}", "--graph", "cora"], "the graph has 2708 nodes but"),
    (["{emb}", "--split", "public"], "--split public"),
])
def test_cli_profile_bad_input_one_line(saved, capsys, args, message):
    tmp, emb, graph, labels = saved
    np.savez(tmp / "bad.npz", x=np.zeros(3))
    np.savez(tmp / "gap.npz", layer_0=np.zeros((3, 1)), layer_2=np.zeros((3, 1)))
    args = [a.format(emb=emb, bad=tmp / "bad.npz", gap=tmp / "gap.npz") for a in args]
    if "--graph" not in args:
        args += ["--graph", str(graph), "--labels", str(labels)]
    code, out, err = run_cli(capsys, "profile", *args, "--out", str(tmp / "o"))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err and err.startswith("oversmooth profile: error:")


def test_hutchinson_deflated_probes_match_exact():
    # the stationary direction is exact, the deflated probes estimate the rest: unbiased at every depth
    g = sample_csbm(600, p=0.05, q=0.01, seed=0)
    mu, sigma = g.metadata["mu"], g.metadata["sigma"]
    exact = depth_profile(g, 4, mu=mu, sigma=sigma, variance="exact", metrics=[])
    hut = depth_profile(g, 4, mu=mu, sigma=sigma, variance="hutchinson", probes=64, seed=0, metrics=[])
    for e, h in zip(exact, hut):
        assert abs(h["feature_variance"] - e["feature_variance"]) <= 4 * h["feature_variance_se"] + 1e-12
        assert h["gap"] == pytest.approx(e["gap"], rel=1e-12)
    assert hut[0]["feature_variance_se"] == 0 and all(h["feature_variance_se"] > 0 for h in hut[1:])


def test_depth_profile_mixture_bayes_error_opt_in():
    g = sample_csbm(300, p=0.06, q=0.02, seed=1)
    rows = depth_profile(g, 2, mu=[-1.0, 1.0], sigma=1.0, mixture=True, metrics=[], seed=0)
    # depth 0: every node of a class is N(mu_c, 1): the mixture is one Gaussian, the two errors agree
    assert rows[0]["mixture_bayes_error"] == pytest.approx(rows[0]["bayes_error"], abs=1e-6)
    assert all(r["mixture_bayes_error_bound"] < 1e-3 for r in rows)
    assert "mixture_bayes_error" not in depth_profile(g, 1, mu=[-1.0, 1.0], sigma=1.0, metrics=[])[0]
    with pytest.raises(ValueError, match="mixture=True needs the noise model"):
        depth_profile(g, 1, mixture=True)


def test_simulate_corrected_operator():
    rows = run_simulation(SimulationConfig(n=400, p=0.05, q=0.01, depth=3, operator="corrected"))
    gcn = run_simulation(SimulationConfig(n=400, p=0.05, q=0.01, depth=3))
    for r, s in zip(rows, gcn):
        assert r["gap"] == pytest.approx(s["gap"], rel=1e-9)  # 1 pi^T h shifts every node alike
        assert r["theory_gap"] == s["theory_gap"]
        assert r["theory_variance_lower"] is None and r["theory_feature_variance"] is None
    assert rows[3]["feature_variance"] < gcn[3]["feature_variance"]  # the stationary part is removed
    sym = run_simulation(SimulationConfig(n=400, p=0.05, q=0.01, depth=3, operator="corrected-sym", method="hutchinson",
                                          probes=16))
    assert all(r["theory_gap"] is None and r["theory_variance_upper"] is None for r in sym)
    assert sym[3]["feature_variance"] < 0.05 and sym[0]["feature_variance"] == pytest.approx(1.0, rel=1e-12)
    # no floor left by the deflation: Hutchinson follows the exact variance of the corrected operator down
    hut = run_simulation(SimulationConfig(n=400, p=0.05, q=0.01, depth=12, operator="corrected", method="hutchinson",
                                          probes=32))
    ex = run_simulation(SimulationConfig(n=400, p=0.05, q=0.01, depth=12, operator="corrected"))
    assert abs(hut[12]["feature_variance"] - ex[12]["feature_variance"]) < 4 * hut[12]["feature_variance_se"]
    assert ex[12]["feature_variance"] < 1e-5 < 1 / (3 * 400)  # far below G's reported floor ~1/(3N)


def test_profile_from_an_iterator_one_layer_at_a_time(small):
    g, layers = small
    metrics = ["separation", "mad", "probe_accuracy"]
    ref = profile_embeddings(layers, g.labels, g, metrics=metrics, seed=0)
    lazy = profile_embeddings(iter_propagate(normalize_adjacency(g), g.features, 3), g.labels, g, metrics=metrics,
                              seed=0)
    assert lazy.rows == ref.rows
    with pytest.raises(ValueError, match="empty iterator"):
        profile_embeddings(iter([]), g.labels, g)


@needs_planetoid_raw
def test_cli_profile_planetoid_root_public_split(tmp_path, capsys):
    from oversmooth.graphs import planetoid_structure

    g = planetoid_structure("cora")
    x = np.random.default_rng(0).standard_normal((g.n_nodes, 4)) + np.eye(7)[g.labels][:, :4]
    np.savez(tmp_path / "emb.npz", layer_0=x, layer_1=np.asarray(normalize_adjacency(g) @ x))
    code, out, err = run_cli(capsys, "profile", str(tmp_path / "emb.npz"), "--graph", "cora", "--root",
                             str(planetoid_raw_dir()), "--split", "public", "--metrics", "probe_accuracy",
                             "separation", "--out", str(tmp_path / "o"))
    assert code == 0, err
    data = json.loads((tmp_path / "o" / "profile.json").read_text())
    assert (data["graph"], data["n_train"], data["n_test"]) == ("cora", 140, 1000)
    assert "140 train / 1000 test" in out


# --------------------------------------------------------------------------- speed: dtype, chunks, memory
def test_depth_profile_float32_agrees_with_float64_within_the_standard_errors():
    from oversmooth.measures import depth_profile
    from oversmooth.graphs import sample_csbm

    g = sample_csbm(3000, p=0.006, q=0.002, seed=7)
    kw = dict(variance="hutchinson", probes=16, seed=3, mu=g.metadata["mu"], sigma=g.metadata["sigma"])
    r64 = depth_profile(g, 8, **kw)
    r32 = depth_profile(g, 8, dtype="float32", **kw)
    for a, b in zip(r64, r32):
        # the same probes (one draw): the estimates differ by rounding only, far inside their SE
        assert abs(a["feature_variance"] - b["feature_variance"]) <= 1e-3 * max(a["feature_variance_se"], 1e-300) \
            + 1e-6 * a["feature_variance"]
        for key in ("gap", "realised_gap", "cross_sectional_variance", "dirichlet_energy", "mad", "realised_error"):
            assert b[key] == a[key], key  # only the probes are float32: every other column is the float64 path's
        assert b["bayes_error"] == pytest.approx(a["bayes_error"], rel=1e-4, abs=1e-12)


def test_chunked_probe_block_and_accumulator_equal_the_one_piece_path(monkeypatch):
    from oversmooth.graphs import sample_csbm
    from oversmooth.measures import _variance, feature_noise_variance

    g = sample_csbm(2000, p=0.01, q=0.003, seed=2)
    ref = feature_noise_variance(g, 5, method="hutchinson", probes=8, seed=1)
    monkeypatch.setattr(_variance, "_SMALL_BLOCK", 1000)  # chunks of 31 rows, the block built in place
    got = feature_noise_variance(g, 5, method="hutchinson", probes=8, seed=1)
    np.testing.assert_allclose(got.per_class, ref.per_class, rtol=1e-12)
    np.testing.assert_allclose(got.se_pooled, ref.se_pooled, rtol=1e-10)
    f32 = feature_noise_variance(g, 5, method="hutchinson", probes=8, seed=1, dtype="float32")
    np.testing.assert_allclose(f32.pooled, ref.pooled, rtol=1e-5)


def test_over_size_work_is_refused_up_front(monkeypatch):
    from oversmooth.errors import ResourceLimitError
    from oversmooth.graphs import sample_csbm
    from oversmooth.measures import depth_profile, feature_noise_variance
    from oversmooth.measures._variance import memory_estimate

    g = sample_csbm(2000, p=0.01, q=0.003, seed=2)
    need = memory_estimate(2000, g.adjacency.nnz + 2000, 2 + 1 + 32, dtype="float64")
    monkeypatch.setenv("OVERSMOOTH_MAX_BYTES", str(need // 2))
    with pytest.raises(ResourceLimitError, match=r"depth_profile: graph: about .* GiB needed \(N = 2000"):
        depth_profile(g, 4, variance="hutchinson", mu=g.metadata["mu"], sigma=g.metadata["sigma"])
    with pytest.raises(ResourceLimitError, match="feature_noise_variance: graph"):
        feature_noise_variance(g, 4, method="hutchinson", probes=10**5)
    # the N = 1e7, 2e8-nonzero depth-16 analysis: its estimate, float64 vs float32 (stated in the README)
    big64 = memory_estimate(10**7, 2 * 10**8 + 10**7, 35, dtype="float64")
    big32 = memory_estimate(10**7, 2 * 10**8 + 10**7, 35, dtype="float32")
    assert big32 < big64 < 30 * 2**30
