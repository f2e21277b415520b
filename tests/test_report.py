"""Fast tests of the claim objects, their judges and the renderings (no reproduction run here)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from oversmooth.errors import ArgumentTypeError, ValidationError
from oversmooth.report import (CLAIM_IDS, CLAIMS, QUICK, RULE_CHANGES, ClaimResult, Measured, RuleChange,
                               claims_markdown, format_claims_table, judge_claim, load_claims_json, write_claims_json,
                               write_report)
from oversmooth.report.claims import (appnp_vs_gcn, corrected_conv, denoising, mixing, optimal_depth, pairnorm,
                                      real_gnn, real_graphs, training)


def test_nine_claims_in_fixed_order_each_declared_once():
    assert CLAIM_IDS == ("mixing", "denoising", "optimal_depth", "appnp_vs_gcn", "pairnorm", "real_graphs",
                         "training", "real_gnn", "corrected_conv")
    for cid, c in CLAIMS.items():
        assert c.id == cid
        for text in (c.title, c.source, c.statement, c.rule):
            assert isinstance(text, str) and len(text) > 20, cid
        assert callable(c.run) and callable(c.judge) and callable(c.summary) and callable(c.explain)
        assert c.figure is not None
    assert set(RULE_CHANGES) == {"mixing", "appnp_vs_gcn", "real_graphs", "training", "real_gnn"}


@pytest.mark.parametrize("module, constants", [
    (mixing, ["RATE_TOL", "PPR_REL_TOL", "SPARSE_MIN_C_LAMBDA2"]),
    (denoising, ["N_SE", "DENOISE_SAT_REL", "FIRST_LAYER_DROP"]),
    (optimal_depth, ["U_SHAPE_MARGIN", "MAX_BEST_DEPTH", "MAX_DROP"]),
    (appnp_vs_gcn, ["GAP_FRACTION", "APPNP_DEGREE"]),
    (pairnorm, ["PAIRNORM_GAP_KEPT", "PAIRNORM_GCN_GAP_GONE", "PAIRNORM_VAR_FACTOR", "PAIRNORM_SEP_SLACK"]),
    (real_graphs, ["FLAT_RATIO"]),
    (training, ["TRAIN_MATCH_TOL", "TRAIN_STRUGGLE_MIN", "TRAIN_BEHIND_MIN", "TRAIN_DEEP_MIN_DEPTH"]),
    (real_gnn, ["HOLD_TOL", "COLLAPSE_DROP"]),
    (corrected_conv, ["WORSEN_TOL", "DETECTABLE_C_LAMBDA2", "CORRECTED_DEGREE"]),
])
def test_rule_text_is_generated_from_the_judges_constants(module, constants):
    rule = module.CLAIM.rule
    for name in constants:
        value = getattr(module, name)
        assert f"{value:g}" in rule or f"{value:.0%}" in rule, (name, value, rule)


def test_rule_change_refuses_a_verdict_that_is_not_pass_or_fail():
    with pytest.raises(ValidationError, match="old_verdict"):
        RuleChange("r", "maybe", "w")
    assert "Old verdict: FAIL (x)" in RuleChange("r", "FAIL (x)", "w").note()


def _gnn_rows(acc: dict[str, list[float]], depths=(2, 16)) -> list[dict]:
    return [dict(graph="cora", model=m, depth=d, test_acc=a, n=2708, seed=0, features="real", alpha=0.1,
                 best_epoch=20, epochs=50, train_acc=a) for m, accs in acc.items() for d, a in zip(depths, accs)]


def _gnn_measured(acc: dict[str, list[float]]) -> Measured:
    return Measured({"real_gnn": _gnn_rows(acc)}, {"graphs": ["cora"], "features": {"cora": "real"},
                                                   "depths": [2, 16], "training": {"cora": {"max_epochs": 50}}})


def test_real_gnn_judge_flips_exactly_at_its_constants(monkeypatch):
    # APPNP drops 0.04 (holds: <= 0.05), GCN drops 0.30 (collapses: >= 0.10), APPNP ahead at 16
    m = _gnn_measured({"gcn": [0.80, 0.50], "appnp": [0.84, 0.80]})
    assert judge_claim(real_gnn.CLAIM, m, QUICK).status == "PASS"
    monkeypatch.setattr(real_gnn, "HOLD_TOL", 0.03)  # the judge reads the module constant
    res = judge_claim(real_gnn.CLAIM, m, QUICK)
    assert res.status == "FAIL" and res.numbers["cora"]["appnp_holds"] is False
    assert "APPNP does not hold its accuracy" in res.explanation and "smoke test" in res.explanation


def test_corrected_conv_judge_reads_the_realised_error():
    def rows(errors: dict[str, list[float]]) -> list[dict]:
        return [dict(label=f"N=500, p/q=3, {op}", depth=d, seed=0, realised_error=e, bayes_error=e, gap=1.0 / (d + 1),
                     feature_variance=0.1) for op, es in errors.items() for d, e in enumerate(es)]

    scale = QUICK.__class__(**{**QUICK.__dict__, "corrected_sizes": (500,), "corrected_ratios": (3.0,)})
    flat = [0.2, 0.1, 0.05, 0.06, 0.07]  # rises 0.02 <= 0.03 after its best: PASS
    ok = Measured({"corrected_conv": rows({"gcn": flat, "appnp alpha=0.1": flat, "corrected": flat})}, {})
    assert judge_claim(corrected_conv.CLAIM, ok, scale).status == "PASS"
    rising = [0.2, 0.1, 0.05, 0.07, 0.09]  # rises 0.04 > 0.03
    bad = Measured({"corrected_conv": rows({"gcn": rising, "appnp alpha=0.1": flat, "corrected": rising})}, {})
    res = judge_claim(corrected_conv.CLAIM, bad, scale)
    assert res.status == "FAIL" and res.numbers["N=500, p/q=3"]["rise_after_best"] == pytest.approx(0.04)
    assert "equals GCN's" in res.explanation and "+0.03" in res.explanation


def test_skipped_measurement_is_not_run_with_its_reason():
    res = judge_claim(training.CLAIM, Measured({}, {}, skipped="Skipped: no torch (pip install oversmooth[train])"), QUICK)
    assert res.status == "NOT RUN" and res.numbers == {} and res.figure is None
    assert res.note.startswith("Skipped: ") and "oversmooth[train]" in res.explanation


def _result(status: str = "PASS") -> ClaimResult:
    res = judge_claim(real_gnn.CLAIM, _gnn_measured({"gcn": [0.80, 0.50], "appnp": [0.84, 0.80]}), QUICK)
    res.status = status
    res.seconds = 1.25
    return res


def test_terminal_and_markdown_tables_render_from_the_results():
    res = [_result()]
    table = format_claims_table(res)
    assert table.splitlines()[1].startswith("real_gnn       PASS     cora: acc at D GCN 0.5, APPNP 0.8")
    md = claims_markdown(res)
    assert md.splitlines()[2] == (f"| `real_gnn` | {real_gnn.CLAIM.title} | **PASS** | cora: acc at D GCN 0.5, APPNP "
                                  "0.8 | 1.2 s |")
    with pytest.raises(ArgumentTypeError, match="results"):
        claims_markdown([{"id": "x"}])


def test_claims_json_round_trip(tmp_path):
    res = [_result("FAIL")]
    write_claims_json(res, tmp_path / "claims.json")
    back = load_claims_json(tmp_path / "claims.json")
    assert back[0].to_json() == res[0].to_json()
    entry = json.loads((tmp_path / "claims.json").read_text())[0]
    assert entry["explanation"] == res[0].explanation and entry["source"] == real_gnn.CLAIM.source


def test_report_html_has_summary_sections_tables_and_folded_json(tmp_path):
    res = [_result()]
    path = write_report(res, tmp_path, {"mode": "quick", "seed": 0, "seconds": 1.0, "explorer": "explorer.html"})
    html = path.read_text()
    assert 'id="row-real_gnn"' in html and 'href="#real_gnn"' in html and 'id="real_gnn"' in html
    assert 'href="explorer.html"' in html
    assert html.count("<details>") == 2 and html.count("<pre>") == 2  # numbers and config, folded
    assert "depth 16" in html and "<table class=\"numbers\">" in html  # the numbers as a table
    assert "α" in html  # plain-text maths made readable (alpha -> α)
    assert "http://" not in html and "https://" not in html


def test_mixing_judge_matches_its_rule_on_a_synthetic_gap():
    # a gap decaying exactly at |lambda| for the dense configs and at |nu| for the sparse ones passes
    from oversmooth import theory

    rows = []
    for label, kw, kind in mixing.CONFIGS:
        lam = theory.lam(kw["p"], kw["q"])
        nu = theory.nu(lam, kw["n"] / 2 * (kw["p"] + kw["q"]))
        rate = {"nu": nu, "lambda": lam}.get(kind)
        for d in range(9):
            g = 2.0 * rate ** d if rate is not None else float(theory.ppr_gap(np.arange(9), nu, kw["alpha"], 2.0)[d])
            rows.append(dict(label=label, depth=d, seed=0, gap=g))
    res = judge_claim(mixing.CLAIM, Measured({"mixing": rows}, {}), QUICK)
    assert res.status == "PASS", res.numbers
    assert all(abs(e["measured_rate"] - abs(e[{"nu": "nu", "lambda": "lambda"}[e["kind"]]])) < 1e-3
               for e in res.numbers.values() if e["kind"] != "ppr")
