"""``oversmooth analyze``: CSBM fit, saturation level, reach, probe, features, splits, the analysis and its CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.sparse as sp

from _helpers import needs_planetoid_raw, planetoid_raw_dir
from oversmooth import theory
from oversmooth.cli import main
from oversmooth.experiments import analyze_graph, fit_csbm, graph_reach, linear_probe, random_split
from oversmooth.experiments import saturation_level
from oversmooth.theory import prepare_graph
from oversmooth.graphs import Graph, load_planetoid, planetoid_structure, sample_csbm
from oversmooth.measures import PROFILE_METRICS, feature_noise_variance

RAW = planetoid_raw_dir()  # $OVERSMOOTH_PLANETOID_RAW (tests/_helpers.py)
FAST = ["separation", "rayleigh_quotient"]  # a cheap profile for tests that are about something else
_QUICK = ["--depth", "1", "--seeds", "1", "--alphas", "--bfs-sources", "4", "--splits", "1",
          "--metrics", "separation"]


@pytest.fixture(scope="module")
def csbm():
    return sample_csbm(1200, p=0.03, q=0.005, seed=3)


# --------------------------------------------------------------------------- fit
def test_fit_recovers_csbm_parameters(csbm):
    fit = fit_csbm(csbm)
    assert fit.block_sizes == [600, 600] and fit.n_classes == 2
    assert fit.p_in == pytest.approx(0.03, rel=0.1)
    assert fit.q_out == pytest.approx(0.005, rel=0.15)
    assert fit.lam_pq == pytest.approx(theory.lam(0.03, 0.005), abs=0.05)
    np.testing.assert_allclose(np.sum(fit.transition, axis=1), 1.0)
    # class transition of D^-1 A with self-loops (the loop counts for the own class):
    # lambda = M_00 - M_01 ~ (1 + (N/2)(p - q)) / (1 + (N/2)(p + q))
    d = theory.expected_degree(1200, 0.03, 0.005)
    assert fit.lam == pytest.approx((1 + 600 * (0.03 - 0.005)) / d, abs=0.02)
    assert fit.mean_degree == pytest.approx(d, rel=0.05)
    assert fit.n_components == 1 and fit.limit_variance == pytest.approx(fit.pi_sq_sum)


def test_fit_densities_exact_on_a_tiny_graph():
    # classes 0 = {0, 1}, 1 = {2, 3}; edges 0-1 (within 0), 1-2 (across), 2-3 (within 1)
    g = Graph.from_edges([0, 1, 2], [1, 2, 3], labels=[0, 0, 1, 1])
    fit = fit_csbm(g)
    np.testing.assert_allclose(fit.densities, [[1.0, 0.25], [0.25, 1.0]])
    assert fit.p_in == 1.0 and fit.q_out == 0.25 and fit.edge_homophily == pytest.approx(2 / 3)
    # M_00 = mean over {0, 1} of the weight on class 0: node 0 (self, 1) -> 1; node 1 (self, 0, 2) -> 2/3
    assert fit.transition[0][0] == pytest.approx((1 + 2 / 3) / 2)


def test_saturation_level_connected_and_disconnected(path3, isolated_graph):
    a = path3.adjacency  # has self-loops
    assert saturation_level(a) == pytest.approx(theory.stationary_sq_sum(path3.degrees))
    b = isolated_graph.with_self_loops().adjacency  # {0, 1} and {2}
    assert saturation_level(b) == pytest.approx((0.5 + 0.5 + 1.0) / 3)


def test_variance_approaches_the_exact_limit_on_a_disconnected_graph():
    g1 = sample_csbm(60, p=0.3, q=0.1, seed=1)
    g2 = sample_csbm(20, p=0.5, q=0.2, seed=2)
    a = sp.block_diag([g1.adjacency, g2.adjacency, sp.csr_array((3, 3))], format="csr")
    g = Graph(a, labels=np.r_[g1.labels, g2.labels, [0, 1, 1]]).with_self_loops()
    lim = saturation_level(g.adjacency, g.labels)
    v = feature_noise_variance(g, 60, method="exact").pooled
    assert v[-1] == pytest.approx(lim, rel=1e-3)
    assert lim > theory.stationary_sq_sum(g.degrees)  # disconnected: above the global sum pi^2


# --------------------------------------------------------------------------- reach
def test_reach_on_a_cycle_is_exact():
    n = 12
    rows = np.arange(n)
    cyc = sp.csr_array((np.ones(n), (rows, (rows + 1) % n)), shape=(n, n))
    r = graph_reach(cyc + cyc.T, 8, sources=n)
    assert r["new_per_hop"] == [1.0] + [2.0] * 5 + [1.0, 0.0, 0.0]
    assert r["diameter_lower_bound"] == 6 and r["reach_saturation_hop"] == 6
    np.testing.assert_allclose(r["reached_fraction"][-1], 1.0)


def test_reach_disconnected_uses_component_sizes():
    a = sp.block_diag([sp.csr_array([[0, 1], [1, 0]]), sp.csr_array((1, 1))], format="csr")
    r = graph_reach(a, 2, sources=3)
    np.testing.assert_allclose(r["reached_fraction"], [2 / 3, 1.0, 1.0])
    with pytest.raises(ValueError, match="batch must be an integer >= 1, got 0"):
        graph_reach(a, 2, sources=3, batch=0)


# --------------------------------------------------------------------------- probe
def test_linear_probe_separates_gaussian_blobs():
    rng = np.random.default_rng(0)
    k, n = 3, 600
    y = rng.integers(0, k, n)
    x = 3.0 * np.eye(k)[y] + rng.standard_normal((n, k)) + 5.0  # offset: standardisation matters
    (pred,) = linear_probe(x[:400], y[:400], [x[400:]])
    assert np.mean(pred == y[400:]) > 0.9
    # labels independent of the features: chance level
    (pred,) = linear_probe(x[:400], rng.integers(0, k, 400), [x[400:]])
    assert np.mean(pred == y[400:]) < 0.5


# --------------------------------------------------------------------------- analysis
def test_analysis_rows_theory_recommendation(csbm):
    res = analyze_graph(csbm, 6, seeds=2, alphas=(0.1, 0.3), bfs_sources=8, seed=1, metrics=FAST)
    assert [r["depth"] for r in res.rows] == list(range(7))
    for r in res.rows:
        for v in r.values():
            assert not (isinstance(v, float) and not math.isfinite(v))
        assert 1 / 1200 - 1e-12 <= r["feature_variance"] <= 1.0 + 1e-12
    assert res.rows[0]["gap"] == pytest.approx(math.sqrt(2))  # one-hot means, sigma 1
    assert res.rows[0]["theory_gap"] == pytest.approx(math.sqrt(2))
    assert res.rows[1]["gap"] == pytest.approx(res.rows[1]["theory_gap"], rel=1e-9)  # exact at depth 1
    rec = res.recommendation
    lo, hi = rec["within_one_se"]
    assert lo <= rec["depth"] <= hi and 0 <= lo and hi <= 6
    assert rec["appnp"]["alpha"] in (0.1, 0.3)
    assert len(res.appnp) == 2
    out = json.loads(json.dumps(res.to_json(), allow_nan=False))
    assert out["csbm_fit"]["n_classes"] == 2 and out["config"]["self_loops"] is True
    assert "self-loops" in res.notes[0]


# determinism (same seed, same bytes; another seed, other rows): tests/test_api.py, once per layer


def test_analysis_disconnected_graph_with_unlabelled_nodes():
    g1 = sample_csbm(200, p=0.08, q=0.02, seed=1)
    a = sp.block_diag([g1.adjacency, sp.csr_array([[0, 1], [1, 0]]), sp.csr_array((2, 2))], format="csr")
    g = Graph(a, labels=np.r_[g1.labels, [0, 1, -1, 1]])
    res = analyze_graph(g, 4, seeds=2, alphas=(), bfs_sources=8)
    assert any("disconnected" in n for n in res.notes)
    assert any("isolated" in n for n in res.notes) and any("unlabelled" in n for n in res.notes)
    assert res.fit.n_components == 4
    assert res.rows[-1]["feature_variance"] >= res.fit.limit_variance - 1e-12


def test_analysis_labels_with_gaps_are_recoded():
    g = sample_csbm(200, p=0.08, q=0.02, seed=1)
    g2 = Graph(g.adjacency, labels=np.where(g.labels == 1, 5, 2))
    res = analyze_graph(g2, 2, seeds=1, alphas=(), bfs_sources=4)
    assert res.config["class_ids"] == [2, 5] and res.fit.n_classes == 2


@pytest.mark.parametrize("labels, match", [
    ([-1, -1, -1, -1], "unlabelled"),
    ([0, 0, 0, 0], "single class"),
    ([0, 0, 1, -1], "fewer than 2 labelled nodes"),
])
def test_analysis_bad_labels(labels, match):
    g = Graph.from_edges([0, 1, 2], [1, 2, 3], labels=labels)
    with pytest.raises(ValueError, match=match):
        analyze_graph(g, 2)


def test_analysis_bad_graphs_and_arguments(csbm):
    with pytest.raises(ValueError, match="no edges"):
        analyze_graph(Graph(sp.csr_array((4, 4)), labels=[0, 0, 1, 1]), 2)
    with pytest.raises(ValueError, match="at least 3 nodes"):
        prepare_graph(Graph.from_edges([0], [1], labels=[0, 1]))
    with pytest.raises(ValueError, match="features='real' but graph"):
        analyze_graph(Graph(csbm.adjacency, labels=csbm.labels), 2, features="real")
    with pytest.raises(ValueError, match="depth must be an integer >= 1"):
        analyze_graph(csbm, 0)
    with pytest.raises(ValueError, match="mean_scale must be"):
        analyze_graph(csbm, 2, mean_scale=-1)
    with pytest.warns(DeprecationWarning, match="snr= is deprecated"), pytest.raises(ValueError, match="mean_scale"):
        analyze_graph(csbm, 2, snr=-1)
    with pytest.raises(ValueError, match="alphas must be in"):
        analyze_graph(csbm, 2, alphas=(1.5,))
    with pytest.raises(ValueError, match="alpha must be in"):
        analyze_graph(csbm, 2, operator="appnp", alpha=1.5)
    with pytest.raises(ValueError, match="operator must be one of"):
        analyze_graph(csbm, 2, operator="sgc")
    with pytest.raises(ValueError, match="bfs_sources must be an integer >= 1, got 0"):
        analyze_graph(csbm, 2, bfs_sources=0)
    with pytest.raises(ValueError, match="probes must be an integer >= 1, got 0"):
        analyze_graph(csbm, 2, probes=0, variance="exact")


def test_analysis_with_real_features_probe():
    rng = np.random.default_rng(0)
    g = sample_csbm(400, p=0.05, q=0.01, seed=2)
    x = np.eye(2)[g.labels] @ rng.standard_normal((2, 30)) + 2.0 * rng.standard_normal((400, 30))
    g = Graph(g.adjacency, labels=g.labels, features=x)
    res = analyze_graph(g, 3, features="real", seeds=1, alphas=(), splits=2, probe_rank=8, bfs_sources=4)
    r = res.rows
    assert all(0.0 <= row["probe_test_accuracy"] <= 1.0 for row in r)
    assert res.recommendation["criterion"].startswith("validation error of a linear probe")
    # propagation denoises: the probe is better at depth >= 1 than on raw features
    assert max(row["probe_test_accuracy"] for row in r[1:]) > r[0]["probe_test_accuracy"]


def test_planetoid_cora_analysis_is_sane():
    res = analyze_graph(planetoid_structure("cora"), 4, seeds=2, alphas=(), bfs_sources=8, metrics=FAST)
    assert res.features["kind"] == "gaussian" and "has no features" in res.features["summary"]
    assert res.fit.n_components == 78 and res.fit.n_classes == 7
    assert res.rows[0]["variance_method"] == "exact"
    v = [r["feature_variance"] for r in res.rows]
    assert all(b < a for a, b in zip(v, v[1:]))  # decreasing
    assert v[-1] > res.fit.limit_variance


# --------------------------------------------------------------------------- CLI
def test_cli_analyze_cora_json_and_figure(tmp_path, capsys):
    js, fig = tmp_path / "cora.json", tmp_path / "cora.png"
    rc = main(["analyze", "cora", "--depth", "3", "--seeds", "2", "--alphas", "0.1", "--bfs-sources", "4",
               "--json", str(js), "--figure", str(fig), "--metrics", "separation", "rayleigh_quotient"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "self-loops added" in out and "recommendation" in out and "fitted CSBM" in out
    data = json.loads(js.read_text())
    assert data["graph"] == "cora" and len(data["rows"]) == 4
    assert fig.is_file() and fig.with_suffix(".svg").is_file()


def test_cli_analyze_json_to_stdout(capsys):
    rc = main(["analyze", "citeseer", "--depth", "2", "--seeds", "1", "--alphas", "--bfs-sources", "4",
               "--json", "-", "--metrics"])
    out = capsys.readouterr().out
    assert rc == 0
    data = json.loads(out)
    assert data["csbm_fit"]["n_nodes"] == 3327 and data["appnp"] == []


def test_cli_analyze_edge_list_with_labels(tmp_path, capsys):
    g = sample_csbm(300, p=0.05, q=0.01, seed=0)
    up = sp.triu(g.adjacency, k=1).tocoo()
    e = tmp_path / "edges.txt"
    np.savetxt(e, np.c_[up.row, up.col], fmt="%d")
    lab = tmp_path / "labels.txt"
    np.savetxt(lab, np.c_[np.arange(300), g.labels], fmt="%d")
    rc = main(["analyze", str(e), "--labels", str(lab), "--depth", "3", "--seeds", "2", "--alphas", "0.1",
               "--bfs-sources", "4", "--hutchinson", "--probes", "8"])
    out = capsys.readouterr().out
    assert rc == 0 and "block sizes [150, 150]" in out and "hutchinson" in out


@pytest.mark.parametrize("argv, needle", [
    (["analyze", "nonexistent-graph"], "neither a file nor a Planetoid name"),
    (["analyze", "cora", "--depth", "0"], "--depth"),
    (["analyze", "cora", "--labels", "x.txt"], "--labels goes with a graph file"),
])
def test_cli_analyze_errors_one_line(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]


def test_cli_analyze_planetoid_name_beside_a_folder_of_that_name(tmp_path, monkeypatch, capsys):
    (tmp_path / "cora").mkdir()
    monkeypatch.chdir(tmp_path)
    rc = main(["analyze", "cora", "--depth", "1", "--seeds", "1", "--alphas", "--bfs-sources", "4", "--json", "-",
               "--metrics"])
    assert rc == 0 and json.loads(capsys.readouterr().out)["csbm_fit"]["n_nodes"] == 2708


def test_cli_analyze_unlabelled_and_directed_errors(tmp_path, capsys):
    e = tmp_path / "e.txt"
    e.write_text("0 1\n1 2\n2 0\n")
    assert main(["analyze", str(e)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unlabelled" in err[0]
    assert main(["analyze", str(e), "--directed"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--symmetrize" in err[0]


@needs_planetoid_raw
def test_cli_analyze_pubmed_real_features_unverifiable(tmp_path, capsys):
    # PubMed's allx is not in RAW and no hash for it ships: refused before any download
    assert main(["analyze", "pubmed", "--features", "real", "--root", str(RAW), "--data-dir", str(tmp_path),
                 "--depth", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ind.pubmed.allx" in err[0] and "cannot be verified" in err[0]
    # features auto: the structure from --root, Gaussian class features, and the reason said
    assert main(["analyze", "pubmed", "--root", str(RAW), "--data-dir", str(tmp_path), "--json", "-"] + _QUICK) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["features"]["kind"] == "gaussian"
    assert any("ind.pubmed.allx" in n and "Gaussian class features instead" in n for n in data["notes"])


@needs_planetoid_raw
def test_cli_analyze_citeseer_real_features(tmp_path, capsys):
    rc = main(["analyze", "citeseer", "--features", "real", "--root", str(RAW), "--data-dir", str(tmp_path),
               "--depth", "2", "--seeds", "1", "--splits", "2", "--alphas", "--bfs-sources", "4", "--metrics", "mad",
               "--probe-rank", "32"])
    out = capsys.readouterr().out
    assert rc == 0 and "linear probe (real features) at depth" in out and "probe test acc" in out
    assert "features: real features: the graph's own features (Planetoid bag-of-words" in out and "3703 dims" in out


# --------------------------------------------------------------------------- features used
def _featured(n=300, d=12, scale=4.0, seed=0):
    """A CSBM structure with d-dim features that name the class almost perfectly."""
    g = sample_csbm(n, p=0.05, q=0.01, seed=seed)
    rng = np.random.default_rng(seed)
    x = scale * np.eye(2)[g.labels] @ rng.standard_normal((2, d)) + rng.standard_normal((n, d))
    return g, x


def test_features_auto_uses_the_graphs_own_and_gaussian_is_explicit():
    g, x = _featured()
    gx = Graph(g.adjacency, labels=g.labels, features=x, name="feat")
    kw = dict(seeds=1, alphas=(), splits=1, bfs_sources=4, metrics=FAST + ["probe_accuracy"])
    real = analyze_graph(gx, 2, **kw)
    gauss = analyze_graph(gx, 2, features="gaussian", **kw)
    assert real.features["kind"] == "real" and real.features["dim"] == 12 and real.config["features"] == "real"
    assert "the graph's own features" in real.features["summary"] and "12 dims" in real.features["summary"]
    assert gauss.features["kind"] == "gaussian" and "explicit" in gauss.features["summary"]
    # the probe sees x (near-perfect at depth 0), not a 2-dim Gaussian draw with snr 1 (~76% at depth 0)
    assert real.rows[0]["probe_test_accuracy"] > 0.95
    assert gauss.rows[0]["probe_test_accuracy"] < 0.9
    assert real.rows[0]["dim"] == 12 and gauss.rows[0]["dim"] == 2
    assert real.recommendation["criterion"].startswith("validation error of a linear probe")
    assert gauss.recommendation["criterion"].startswith("realised error of Gaussian")
    # the noise-model columns do not depend on the features used
    assert real.rows[1]["feature_variance"] == gauss.rows[1]["feature_variance"]
    assert real.rows[1]["gap"] == pytest.approx(gauss.rows[1]["gap"])
    out = json.loads(json.dumps(real.to_json(), allow_nan=False))
    assert out["features"]["kind"] == "real" and out["config"]["noise_model"]["sigma"] == 1.0


def test_features_from_a_pyg_data_with_x():
    torch = pytest.importorskip("torch")
    data_mod = pytest.importorskip("torch_geometric.data")
    g, x = _featured(seed=1)
    up = sp.triu(g.adjacency, k=1).tocoo()
    ei = torch.tensor(np.vstack([np.r_[up.row, up.col], np.r_[up.col, up.row]]), dtype=torch.long)
    data = data_mod.Data(x=torch.tensor(x, dtype=torch.float32), edge_index=ei, y=torch.tensor(g.labels))
    res = analyze_graph(data, 1, seeds=1, alphas=(), splits=1, bfs_sources=4, metrics=FAST)
    assert res.features["kind"] == "real" and res.features["dim"] == 12
    assert "torch_geometric" in res.features["origin"]
    assert res.rows[0]["probe_test_accuracy"] > 0.95
    assert res.fit.n_edges == g.n_edges


def test_features_array_argument_and_its_errors():
    g, x = _featured(seed=2)
    res = analyze_graph(g, 1, features=x, features_source="my array", seeds=1, alphas=(), splits=1,
                        bfs_sources=4, metrics=FAST)
    assert res.features["origin"] == "my array" and res.features["dim"] == 12
    with pytest.raises(ValueError, match=r"features must be an \(N, d\) array with N = 300"):
        analyze_graph(g, 1, features=x[:10])
    with pytest.raises(ValueError, match="features must be finite"):
        analyze_graph(g, 1, features=np.full_like(x, np.nan))
    with pytest.raises(ValueError, match="features must be one of"):
        analyze_graph(g, 1, features="gaussain")
    with pytest.raises(ValueError, match="metrics: unknown metric 'madd'"):
        analyze_graph(g, 1, metrics=["madd"])


def test_high_dimensional_features_are_reduced_and_the_share_stated():
    g, x = _featured(d=40, seed=3)
    res = analyze_graph(g, 1, features=x, probe_rank=8, seeds=1, alphas=(), splits=1, bfs_sources=4, metrics=FAST)
    f = res.features
    assert f["dim"] == 40 and f["measured_dim"] == 8 and res.rows[0]["dim"] == 8
    assert 0.0 < f["captured_energy"] < 1.0
    assert "top 8 principal directions" in f["summary"] and "% of ||X||_F^2" in f["summary"]
    # no LDA Bayes error in the features' own dimension: the Bayes columns are the K-dim noise model's
    assert any("no LDA Bayes error" in n for n in res.notes)


def test_profile_columns_per_depth_and_skipped_profile():
    g, x = _featured(seed=4)
    res = analyze_graph(g, 2, features=x, seeds=1, alphas=(), splits=1, bfs_sources=4, seed=0, metrics="all")
    r = res.rows
    for key in ("separation", "within_class_spread", "rayleigh_quotient", "mad", "mad_gap", "effective_rank",
                "group_distance_ratio", "dirichlet_energy", "normalized_dirichlet_energy", "probe_accuracy"):
        assert key in r[0], key
    assert r[2]["rayleigh_quotient"] < r[0]["rayleigh_quotient"]  # propagation smooths
    default = analyze_graph(g.with_self_loops(False), 1, seeds=1, alphas=(), splits=1, bfs_sources=4)
    assert res.config["metrics"] == list(PROFILE_METRICS)
    assert "mad_gap" not in default.rows[0] and "effective_rank" in default.rows[0]
    assert default.features["kind"] == "real"  # the CSBM's own 1-D features
    gauss = analyze_graph(g, 1, features="gaussian", seeds=1, alphas=(), splits=1, bfs_sources=4)
    assert "probe_test_accuracy" not in gauss.rows[0] and "probe" not in gauss.recommendation
    assert gauss.config["split"].startswith("none used: no probe on Gaussian features")
    bare = analyze_graph(g, 2, features=x, seeds=1, alphas=(), splits=1, bfs_sources=4, metrics=())
    assert "separation" not in bare.rows[0] and "probe_test_accuracy" in bare.rows[0]
    # the probe does not depend on the profile
    assert [row["probe_test_accuracy"] for row in bare.rows] == [row["probe_test_accuracy"] for row in r]


# --------------------------------------------------------------------------- splits
def test_split_given_as_indices_drops_unlabelled_nodes():
    g, x = _featured(seed=5)
    lab = g.labels.copy()
    lab[:5] = -1
    gg = Graph(g.adjacency, labels=lab, features=x)
    rest = np.setdiff1d(np.arange(300), np.arange(0, 300, 3))
    tr, va, te = np.arange(0, 300, 3), rest[:50], rest[50:]  # both classes (blocks are contiguous) in each
    res = analyze_graph(gg, 1, split=(tr, va, te), seeds=1, alphas=(), bfs_sources=4, metrics=())
    assert res.config["splits"] == 1 and "train 100, val 50, test 150" in res.config["split"]
    assert res.config["split"].endswith("(5 unlabelled node(s) left out)")
    assert "validation error of a linear probe" in res.recommendation["criterion"]
    with pytest.raises(ValueError, match="split"):
        analyze_graph(gg, 1, split=(np.arange(5), va, te), metrics=())  # train only unlabelled nodes


def test_random_split_is_reexported_and_matches_graphs():
    from oversmooth import graphs

    lab = np.array([0, 1] * 20)
    a = random_split(lab, np.random.default_rng(3))
    b = graphs.random_split(lab, np.random.default_rng(3))
    assert all(np.array_equal(u, v) for u, v in zip(a, b))


@needs_planetoid_raw
def test_real_cora_features_public_split():
    g = load_planetoid("cora", root=RAW, download=False)
    res = analyze_graph(g, 2, split="public", seeds=1, alphas=(), bfs_sources=4, metrics=FAST)
    f = res.features
    assert f["kind"] == "real" and f["dim"] == 1433 and f["measured_dim"] == 128
    assert "the graph's own features (Planetoid bag-of-words features (ind.cora.allx, ind.cora.tx)" in f["origin"]
    assert res.config["split"] == "Planetoid public split: train 140, val 500, test 1000 nodes"
    acc = [r["probe_test_accuracy"] for r in res.rows]
    assert acc[0] < 0.6 and acc[2] > 0.7  # 140 training nodes: propagation is what makes the probe work
    assert res.recommendation["depth"] in (1, 2)


# --------------------------------------------------------------------------- CLI: features and splits
def _edge_list(tmp_path, g):
    up = sp.triu(g.adjacency, k=1).tocoo()
    e = tmp_path / "edges.txt"
    np.savetxt(e, np.c_[up.row, up.col], fmt="%d")
    lab = tmp_path / "labels.txt"
    np.savetxt(lab, np.c_[np.arange(g.n_nodes), g.labels], fmt="%d")
    return str(e), str(lab)



def test_cli_features_file_for_an_edge_list(tmp_path, capsys):
    g, x = _featured(seed=6)
    e, lab = _edge_list(tmp_path, g)
    xf = tmp_path / "x.npy"
    np.save(xf, x)
    assert main(["analyze", e, "--labels", lab, "--features", str(xf)] + _QUICK) == 0
    out = capsys.readouterr().out
    assert f"features: real features: --features file {xf}, 12 dims" in out
    assert "linear probe (real features)" in out
    assert main(["analyze", e, "--labels", lab, "--features", str(xf), "--json", "-"] + _QUICK) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["features"]["kind"] == "real" and data["features"]["origin"] == f"--features file {xf}"


def test_cli_edge_list_without_features_says_gaussian(tmp_path, capsys):
    g, _ = _featured(seed=7)
    e, lab = _edge_list(tmp_path, g)
    assert main(["analyze", e, "--labels", lab] + _QUICK) == 0
    out = capsys.readouterr().out
    assert "features: Gaussian class features (graph 'edges' has no features)" in out
    assert main(["analyze", e, "--labels", lab, "--features", "real"] + _QUICK) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--features real:" in err[0] and "holds no features" in err[0]


@needs_planetoid_raw
def test_cli_cora_real_features_from_root_and_gaussian_explicit(tmp_path, capsys):
    fig = tmp_path / "cora.png"
    assert main(["analyze", "cora", "--root", str(RAW), "--data-dir", str(tmp_path), "--figure", str(fig),
                 "--probe-rank", "32"] + _QUICK) == 0
    out = capsys.readouterr().out
    assert "features: real features: the graph's own features (Planetoid bag-of-words features" in out
    assert "1433 dims; measured on their top 32 principal directions" in out
    assert "linear probe (real features) at depth" in out
    assert fig.is_file()
    assert main(["analyze", "cora", "--root", str(RAW), "--features", "gaussian", "--json", "-"] + _QUICK) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["features"]["kind"] == "gaussian" and "explicit" in data["features"]["summary"]


def test_cli_cora_without_raw_files_falls_back_and_says_so(tmp_path, capsys):
    assert main(["analyze", "cora", "--data-dir", str(tmp_path), "--json", "-"] + _QUICK) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["features"]["kind"] == "gaussian"
    assert any("no usable Planetoid feature files" in n for n in data["notes"])


def test_cli_split_public_and_file(tmp_path, capsys):
    probe = _QUICK[:-1] + ["probe_accuracy"]  # Gaussian features (no raw files): the probe only on request
    assert main(["analyze", "cora", "--data-dir", str(tmp_path), "--split", "public", "--json", "-"]
                + probe) == 0
    assert json.loads(capsys.readouterr().out)["config"]["split"].startswith("Planetoid public split: train 140")
    sp_file = tmp_path / "split.npz"
    mask = np.zeros(2708, dtype=bool)
    mask[:300] = True
    np.savez(sp_file, train=mask, val=np.arange(300, 400), test=np.arange(400, 900))
    assert main(["analyze", "cora", "--data-dir", str(tmp_path), "--split", str(sp_file)] + probe) == 0
    out = capsys.readouterr().out
    assert f"split: split file {sp_file}: train 300, val 100, test 500 nodes" in out


@pytest.mark.parametrize("extra, needle", [
    (["--features", "gausian"], "--features must be auto, gaussian, real or a .npy/.npz feature file"),
    (["--features", "{bad_rows}"], "--features:"),
    (["--split", "publik"], "--split must be random, public or an .npz split file"),
    (["--split", "{bad_split}"], "--split"),
    (["--splits", "0"], "--splits must be >= 1"),
    (["--probe-rank", "0"], "--probe-rank must be >= 1"),
    (["--metrics", "madd"], "metrics: unknown metric 'madd'"),
])
def test_cli_bad_features_and_split_one_line(tmp_path, capsys, extra, needle):
    np.save(tmp_path / "bad_rows.npy", np.zeros((5, 3)))
    np.savez(tmp_path / "bad_split.npz", train=[0, 1], val=[1], test=[2])  # train and val overlap
    extra = [a.format(bad_rows=tmp_path / "bad_rows.npy", bad_split=tmp_path / "bad_split.npz") for a in extra]
    assert main(["analyze", "cora", "--data-dir", str(tmp_path), "--depth", "1"] + extra) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0], err


def test_cli_split_public_on_an_edge_list_is_one_line(tmp_path, capsys):
    g, _ = _featured(seed=8)
    e, lab = _edge_list(tmp_path, g)
    assert main(["analyze", e, "--labels", lab, "--split", "public"] + _QUICK) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--split public" in err[0] and "public split" in err[0]


def test_npz_graph_holding_features_api_and_cli(tmp_path, capsys):
    from oversmooth.graphs import read_graph

    g, x = _featured(seed=9)
    up = sp.triu(g.adjacency, k=1).tocoo()
    f = tmp_path / "graph.npz"
    np.savez(f, edge_index=np.vstack([up.row, up.col]), y=g.labels, x=x)
    res = analyze_graph(read_graph(f), 1, seeds=1, alphas=(), splits=1, bfs_sources=4, metrics=FAST)
    assert res.features["kind"] == "real" and res.features["dim"] == 12
    assert f"graph.npz, key 'x'" in res.features["origin"]
    assert res.rows[0]["probe_test_accuracy"] > 0.95
    assert main(["analyze", str(f)] + _QUICK) == 0
    out = capsys.readouterr().out
    assert "features: real features: the graph's own features (" in out and "key 'x'" in out
    assert main(["analyze", str(f), "--features", "gaussian"] + _QUICK) == 0
    assert "features: Gaussian class features (explicit choice (features='gaussian')" in capsys.readouterr().out


def test_probe_training_nodes_are_capped_and_the_row_says_so(monkeypatch):
    import oversmooth.experiments._analyze_inputs as an

    monkeypatch.setattr(an, "PROBE_MAX_TRAIN", 50)
    g, x = _featured(seed=10)
    res = analyze_graph(g, 1, features=x, seeds=1, alphas=(), splits=1, bfs_sources=4, metrics=())
    assert res.rows[0]["probe_notes"] == "probe fitted on 50 of 180 training nodes per split (seeded uniform sample)"
    assert res.rows[0]["probe_test_accuracy"] > 0.9


def test_cli_metrics_all_and_none(tmp_path, capsys):
    g, x = _featured(seed=11)
    e, lab = _edge_list(tmp_path, g)
    base = ["analyze", e, "--labels", lab, "--depth", "1", "--seeds", "1", "--alphas", "--bfs-sources", "4",
            "--splits", "1", "--json", "-"]
    assert main(base + ["--metrics", "all"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["metrics"] == list(PROFILE_METRICS) and "mad_gap" in data["rows"][0]
    assert "probe_test_accuracy" in data["rows"][0]  # the probe on Gaussian features, asked for by "all"
    assert main(base + ["--metrics"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["metrics"] == [] and "separation" not in data["rows"][0]


def test_cli_weighted_edge_list_says_so(tmp_path, capsys):
    g, _ = _featured(seed=12)
    up = sp.triu(g.adjacency, k=1).tocoo()
    e = tmp_path / "w.txt"
    np.savetxt(e, np.c_[up.row, up.col, 1.0 + (up.row % 3)], fmt=["%d", "%d", "%g"])
    _, lab = _edge_list(tmp_path, g)
    assert main(["analyze", str(e), "--labels", lab] + _QUICK) == 0
    assert "edges: weighted (D^-1 A uses the weighted degrees" in capsys.readouterr().out


def test_mixture_bayes_error_opt_in(tmp_path, capsys, monkeypatch):
    g = sample_csbm(400, p=0.05, q=0.01, seed=13)
    kw = dict(features="gaussian", seeds=1, alphas=(), bfs_sources=4, metrics=(), mixture=True)
    ex = analyze_graph(g, 2, variance="exact", **kw)
    hu = analyze_graph(g, 2, variance="hutchinson", probes=16, **kw)
    for res in (ex, hu):
        r0 = res.rows[0]
        # depth 0: every node has the class mean and variance sigma^2, so the mixture is one Gaussian per class
        assert abs(r0["mixture_bayes_error"] - r0["bayes_error"]) <= 4 * r0["mixture_bayes_error_bound"] + 1e-3
        assert all(0.0 <= r["mixture_bayes_error"] <= 0.5 for r in res.rows)
    assert "exact" in ex.rows[1]["mixture_notes"] and "16 Hutchinson probes" in hu.rows[1]["mixture_notes"]
    assert "mixture_bayes_error" not in analyze_graph(g, 1, **{**kw, "mixture": False}).rows[0]
    import oversmooth.experiments._analyze as an

    monkeypatch.setattr(an, "MIXTURE_MAX_NODES", 100)
    skipped = analyze_graph(g, 1, **kw)
    assert skipped.rows[0]["mixture_bayes_error"] is None
    assert skipped.rows[0]["mixture_notes"].startswith("mixture_bayes_error skipped: N = 400 > 100")
    monkeypatch.setattr(an, "MIXTURE_MAX_NODES", 20_000)
    e, lab = _edge_list(tmp_path, g)
    assert main(["analyze", e, "--labels", lab, "--depth", "1", "--seeds", "1", "--alphas", "--bfs-sources", "4",
                 "--metrics", "--mixture"]) == 0
    out = capsys.readouterr().out
    assert "mixture err" in out and "per-node row norms exact" in out
    assert "3. per-depth profile: none" in out


def test_networkx_graph_input():
    nx = pytest.importorskip("networkx")
    G = nx.karate_club_graph()
    for _, d in G.nodes(data=True):
        d["label"] = d["club"]
    res = analyze_graph(G, 2, seeds=1, alphas=(), bfs_sources=4, metrics=FAST)
    assert res.fit.n_nodes == 34 and res.fit.block_sizes == [17, 17]
    assert res.features["kind"] == "gaussian" and "has no features" in res.features["summary"]
    with pytest.raises(TypeError, match="graph must be an oversmooth Graph, a torch_geometric Data or a networkx"):
        analyze_graph([[0, 1], [1, 0]], 2)


def test_progress_bar_on_request(capsys):
    g, x = _featured(seed=14)
    analyze_graph(g, 2, features=x, seeds=1, alphas=(), splits=1, bfs_sources=4, metrics=FAST, progress=True)
    assert "layer 2" in capsys.readouterr().err
    analyze_graph(g, 2, features=x, seeds=1, alphas=(), splits=1, bfs_sources=4, metrics=FAST, progress=False)
    assert capsys.readouterr().err == ""


def test_operator_corrected_keeps_gcns_gap_and_drops_the_bounds(csbm):
    kw = dict(features="gaussian", seeds=1, alphas=(), bfs_sources=4, metrics=(), variance="exact")
    gcn = analyze_graph(csbm, 3, **kw)
    cor = analyze_graph(csbm, 3, operator="corrected", **kw)
    # P - 1 pi^T moves every node by the same pi^T h: the class-mean gap is GCN's, to rounding
    for a, b in zip(gcn.rows, cor.rows):
        assert b["gap"] == pytest.approx(a["gap"], rel=1e-9, abs=1e-12)
        assert b["variance_lower"] is None and b["variance_upper"] is None and b["theory_feature_variance"] is None
    # its rows are no longer probability vectors: the noise shrinks below GCN's
    assert cor.rows[3]["feature_variance"] < gcn.rows[3]["feature_variance"]
    assert cor.config["operator_name"] == "corrected" and cor.recommendation["realised"]["operator"] == "corrected"
    assert "gcn" not in cor.recommendation and "corrected convolution" in cor.notes[0]


def test_operator_appnp_alpha_one_never_moves(csbm):
    res = analyze_graph(csbm, 3, features="gaussian", operator="appnp", alpha=1.0, seeds=1, alphas=(),
                        bfs_sources=4, metrics=())
    gaps = [r["gap"] for r in res.rows]
    assert gaps == pytest.approx([gaps[0]] * 4, rel=1e-12)  # h(n) = x at every depth
    assert [r["theory_gap"] for r in res.rows] == pytest.approx([res.rows[0]["theory_gap"]] * 4, rel=1e-12)
    assert res.rows[3]["feature_variance"] == pytest.approx(1.0, rel=1e-12)  # sigma^2: no denoising at all


def test_cli_operator_and_mean_scale(tmp_path, capsys):
    g = sample_csbm(300, p=0.05, q=0.01, seed=21)
    e, lab = _edge_list(tmp_path, g)
    assert main(["analyze", e, "--labels", lab, "--operator", "corrected", "--mean-scale", "2"] + _QUICK
                + ["--json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["operator_name"] == "corrected" and data["config"]["mean_scale"] == 2.0
    assert main(["analyze", e, "--labels", lab, "--snr", "2"] + _QUICK + ["--json", "-"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["config"]["mean_scale"] == 2.0 and "--snr is deprecated" in out.err


def test_huge_depth_is_refused_up_front_with_an_estimate(csbm, tmp_path, capsys):
    from oversmooth.errors import ResourceLimitError

    with pytest.raises(ResourceLimitError, match=r"depth=1000000000: needs about .* GiB"):
        analyze_graph(csbm, 10**9)
    e, lab = _edge_list(tmp_path, sample_csbm(60, p=0.2, q=0.05, seed=1))
    assert main(["analyze", e, "--labels", lab, "--depth", "1e9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "depth" in err[0] and "GiB" in err[0]
    assert main(["analyze", e, "--labels", lab, "--json", str(tmp_path)] + _QUICK) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--json" in err[0]


def test_float32_propagation_agrees_with_float64(csbm):
    kw = dict(features="gaussian", seeds=1, alphas=(), bfs_sources=4, metrics=["separation"], variance="hutchinson",
              probes=8)
    a = analyze_graph(csbm, 3, **kw)
    b = analyze_graph(csbm, 3, dtype="float32", **kw)
    assert b.config["dtype"] == "float32"
    for ra, rb in zip(a.rows, b.rows):  # float32 rounding (~1e-7 relative per step) on the same draws
        for key in ("gap", "feature_variance", "separation"):
            assert rb[key] == pytest.approx(ra[key], rel=1e-4), key
    with pytest.raises(ValueError, match="dtype must be one of"):
        analyze_graph(csbm, 2, dtype="float16")
