"""``oversmooth analyze``: CSBM fit, saturation level, reach, probe, the analysis and its CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from oversmooth import theory
from oversmooth.cli import main
from oversmooth.experiments import analyze_graph, fit_csbm, graph_reach, linear_probe
from oversmooth.experiments._analyze import prepare_graph, saturation_level
from oversmooth.graphs import Graph, planetoid_structure, sample_csbm
from oversmooth.measures import feature_noise_variance

RAW = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "planetoid"


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
    res = analyze_graph(csbm, 6, seeds=2, alphas=(0.1, 0.3), bfs_sources=8, seed=1)
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


def test_analysis_is_deterministic(csbm):
    a = analyze_graph(csbm, 3, seeds=2, alphas=(0.2,), bfs_sources=4, seed=5, variance="hutchinson").to_json()
    b = analyze_graph(csbm, 3, seeds=2, alphas=(0.2,), bfs_sources=4, seed=5, variance="hutchinson").to_json()
    c = analyze_graph(csbm, 3, seeds=2, alphas=(0.2,), bfs_sources=4, seed=6, variance="hutchinson").to_json()
    a.pop("seconds"), b.pop("seconds"), c.pop("seconds")
    assert a == b
    assert a["rows"] != c["rows"]


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
    with pytest.raises(ValueError, match="snr must be"):
        analyze_graph(csbm, 2, snr=-1)
    with pytest.raises(ValueError, match="alpha must be in"):
        analyze_graph(csbm, 2, alphas=(1.5,))
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
    res = analyze_graph(planetoid_structure("cora"), 4, seeds=2, alphas=(), bfs_sources=8)
    assert res.fit.n_components == 78 and res.fit.n_classes == 7
    assert res.rows[0]["variance_method"] == "exact"
    v = [r["feature_variance"] for r in res.rows]
    assert all(b < a for a, b in zip(v, v[1:]))  # decreasing
    assert v[-1] > res.fit.limit_variance


# --------------------------------------------------------------------------- CLI
def test_cli_analyze_cora_json_and_figure(tmp_path, capsys):
    js, fig = tmp_path / "cora.json", tmp_path / "cora.png"
    rc = main(["analyze", "cora", "--depth", "3", "--seeds", "2", "--alphas", "0.1", "--bfs-sources", "4",
               "--json", str(js), "--figure", str(fig)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "self-loops added" in out and "recommendation" in out and "fitted CSBM" in out
    data = json.loads(js.read_text())
    assert data["graph"] == "cora" and len(data["rows"]) == 4
    assert fig.is_file() and fig.with_suffix(".svg").is_file()


def test_cli_analyze_json_to_stdout(capsys):
    rc = main(["analyze", "citeseer", "--depth", "2", "--seeds", "1", "--alphas", "--bfs-sources", "4",
               "--json", "-"])
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
    rc = main(["analyze", "cora", "--depth", "1", "--seeds", "1", "--alphas", "--bfs-sources", "4", "--json", "-"])
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


@pytest.mark.skipif(not (RAW / "ind.pubmed.graph").is_file(), reason="raw Planetoid files absent")
def test_cli_analyze_pubmed_real_features_unverifiable(tmp_path, capsys):
    # PubMed's allx is not in RAW and no hash for it ships: refused before any download
    assert main(["analyze", "pubmed", "--features", "real", "--root", str(RAW), "--data-dir", str(tmp_path),
                 "--depth", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "ind.pubmed.allx" in err[0] and "cannot be verified" in err[0]


@pytest.mark.skipif(not (RAW / "ind.citeseer.graph").is_file(), reason="raw Planetoid files absent")
def test_cli_analyze_citeseer_real_features(tmp_path, capsys):
    rc = main(["analyze", "citeseer", "--features", "real", "--root", str(RAW), "--data-dir", str(tmp_path),
               "--depth", "2", "--seeds", "1", "--splits", "2", "--alphas", "--bfs-sources", "4"])
    out = capsys.readouterr().out
    assert rc == 0 and "linear probe at depth" in out and "probe test acc" in out
