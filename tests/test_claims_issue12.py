"""Fast checks of the issue-12 claim modules (the quick run itself is in tests/test_reproduce.py)."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

from oversmooth import theory
from oversmooth.report import CLAIM_IDS, QUICK, RULE_CHANGES, run_claim
from oversmooth.report.claims.appnp_vs_gcn import one_percent_depth
from oversmooth.report.claims.real_graphs import flattening_depth


def test_claim_ids_fixed_order():
    assert CLAIM_IDS == ("mixing", "denoising", "optimal_depth", "appnp_vs_gcn", "pairnorm", "real_graphs",
                         "training", "real_gnn", "corrected_conv")


def test_changed_rules_have_old_rule_verdict_and_why():
    assert set(RULE_CHANGES) == {"mixing", "appnp_vs_gcn", "real_graphs", "training", "real_gnn"}
    for cid, ch in RULE_CHANGES.items():
        assert set(ch) == {"old_rule", "old_verdict", "why"}, cid
        assert ch["old_verdict"].split()[0] in ("PASS", "FAIL"), cid


@pytest.mark.parametrize("lam", [0.5, 9 / 11])
def test_one_percent_depth_is_where_nu_power_crosses_one_percent(lam):
    n1 = one_percent_depth(lam, 10.0)
    nu = abs(theory.nu(lam, 10.0))
    assert nu ** n1 <= 0.01 < nu ** (n1 - 1)


def test_one_percent_depth_below_detectability_uses_the_formula():
    # c lambda^2 = 0.4 <= 1: theory.nu is undefined; the formula's value (9 * 0.2 + 5 + 1) / 11 is used
    assert math.isnan(theory.nu(0.2, 10.0))
    v = (9 * 0.2 + 5 + 1) / 11
    n1 = one_percent_depth(0.2, 10.0)
    assert v ** n1 <= 0.01 < v ** (n1 - 1)


def _flattening_naive(var, se, ratio=0.9, k=4.0):
    for n0 in range(len(var)):
        if all(var[n] >= ratio * var[n - 1] - k * se[n] for n in range(n0 + 1, len(var))):
            if n0 < len(var) - 1:
                return n0
    return None


@pytest.mark.parametrize("seed", range(20))
def test_flattening_depth_matches_naive_definition(seed):
    rng = np.random.default_rng(seed)
    var = np.exp(np.cumsum(rng.normal(-0.1, 0.1, size=12)))
    se = rng.uniform(0, 0.01, size=12) * var
    assert flattening_depth(var, se) == _flattening_naive(var, se)


def test_corrected_rw_operator_has_gcn_realised_error():
    # (P - 1 pi^T)^n = P^n - 1 pi^T with P = D^-1 A: a constant shift, invisible to a threshold with a bias
    from oversmooth.experiments import simulate

    kw = dict(n=300, p=0.06, q=0.02, depth=6, seeds=1, seed=5)
    g = simulate(operator="gcn", **kw)
    c = simulate(operator="corrected", **kw)
    np.testing.assert_allclose([r["realised_error"] for r in c], [r["realised_error"] for r in g], atol=1e-12)
    np.testing.assert_allclose([r["gap"] for r in c], [r["gap"] for r in g], rtol=1e-6, atol=1e-12)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs the train extra")
def test_real_gnn_not_run_names_the_missing_files(tmp_path, monkeypatch):
    monkeypatch.setenv("OVERSMOOTH_PLANETOID_RAW", str(tmp_path))
    monkeypatch.setenv("OVERSMOOTH_DATA", str(tmp_path / "cache"))
    r = run_claim("real_gnn", QUICK, 0)
    assert r.status == "NOT RUN" and r.numbers == {} and r.tables == {}
    assert r.note.startswith("Skipped: ") and "cora" in r.note and str(tmp_path) in r.note
