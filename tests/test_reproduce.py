"""End-to-end tests of ``oversmooth reproduce --quick``: files, claims, pinned statuses, CSV columns, determinism.

All of them read the session's ONE quick reproduction (tests/_quick_reproduction.py); the
browser test of its report is tests/test_report_browser.py.
"""

from __future__ import annotations

import json
import re

from oversmooth.experiments import ROW_COLUMNS, read_csv
from oversmooth.report import CLAIM_IDS, CLAIMS, RULE_CHANGES, reproduce

from _quick_reproduction import SIMULATED, TRAINED  # the session fixture quick_reproduction is in conftest.py

STATUSES = {"PASS", "FAIL", "NOT RUN"}

# The quick run's statuses (seed 0), pinned: a claim that flips (PASS -> FAIL or back) fails
# test_quick_statuses_pinned, which prints its numbers and explanation. Measured on the committed tree after the
# lead's training streams change (7a09ed4, d2f8481): training FAIL (SGC - linear = -0.045 at depth 2, 2 seeds of
# N=1000, beyond the 0.03 shallow tolerance; the rule is not moved), real_gnn PASS (an undertrained smoke test).
QUICK_STATUS = {
    "mixing": "PASS", "denoising": "PASS", "optimal_depth": "PASS", "appnp_vs_gcn": "PASS", "pairnorm": "PASS",
    "real_graphs": "PASS", "training": "FAIL", "real_gnn": "PASS", "corrected_conv": "FAIL",
}


def _claims(run) -> dict[str, dict]:
    return {c["id"]: c for c in json.loads((run.out / "claims.json").read_text())}


def test_exit_code_and_terminal_table(quick_reproduction):
    run = quick_reproduction
    assert run.proc.returncode == 0, run.proc.stderr
    assert "Traceback" not in run.proc.stderr
    claims = _claims(run)
    for cid in CLAIM_IDS:  # one line per claim: id, status and its key number (the claim's summary)
        line = re.search(rf"^{cid}\s+(PASS|FAIL|NOT RUN)\s+(.*)$", run.proc.stdout, re.M)
        assert line, cid
        assert line.group(1) == claims[cid]["status"]
        assert claims[cid]["summary"][:40] in line.group(2), (cid, line.group(2))
    assert "report.html" in run.proc.stdout


def test_claims_json_has_every_id_with_status_numbers_and_explanation(quick_reproduction):
    run = quick_reproduction
    claims = json.loads((run.out / "claims.json").read_text())
    assert [c["id"] for c in claims] == list(CLAIM_IDS)
    for c in claims:
        assert set(c) >= {"id", "title", "status", "summary", "numbers", "figure", "source", "statement", "rule",
                          "explanation", "old_rule", "old_verdict", "why_changed"}
        assert c["status"] in STATUSES
        assert c["rule"] == CLAIMS[c["id"]].rule and c["source"] == CLAIMS[c["id"]].source
        assert len(c["explanation"]) > 80, c["id"]
        if c["id"] in SIMULATED + TRAINED:
            assert c["status"] in {"PASS", "FAIL"}
            assert c["numbers"], c["id"]
            assert (run.out / c["figure"]).is_file()
            assert (run.out / c["figure"]).with_suffix(".svg").is_file()
        else:  # not runnable here (no torch, or no raw Planetoid files): reported with the reason, never faked
            assert c["status"] == "NOT RUN" and c["numbers"] == {} and c["figure"] is None
            assert c["note"].startswith("Skipped: "), c


def test_quick_statuses_pinned(quick_reproduction):
    claims = _claims(quick_reproduction)
    assert list(claims) == list(QUICK_STATUS)
    for cid, pinned in QUICK_STATUS.items():
        c = claims[cid]
        if cid in ("training", "real_gnn") and cid not in TRAINED:
            pinned = "NOT RUN"
        assert c["status"] == pinned, (
            f"{cid}: quick-run status {c['status']} (pinned {pinned}).\nExplanation: {c['explanation']}\n"
            f"Numbers:\n{json.dumps(c['numbers'], indent=1)}")


def test_explanations_say_why(quick_reproduction):
    claims = _claims(quick_reproduction)
    if claims["corrected_conv"]["status"] == "FAIL":  # the FAIL is explained by the operator, from the numbers
        assert "P^n - 1 pi^T" in claims["corrected_conv"]["explanation"]
        assert "equals GCN's" in claims["corrected_conv"]["explanation"]
    if claims["real_gnn"]["status"] in ("PASS", "FAIL"):  # the quick run is a smoke test, and says so
        assert "smoke test" in claims["real_gnn"]["explanation"]


def test_changed_rules_name_old_rule_and_verdict(quick_reproduction):
    claims = _claims(quick_reproduction)
    for cid in ("mixing", "appnp_vs_gcn", "real_graphs", "training", "real_gnn"):
        c = claims[cid]
        assert c["old_rule"] and c["old_verdict"].split()[0] in ("PASS", "FAIL") and c["why_changed"], cid
        if c["status"] != "NOT RUN":
            assert "Old rule:" in c["note"] and "Old verdict:" in c["note"] and "Why:" in c["note"], cid
    for cid in ("denoising", "optimal_depth", "pairnorm", "corrected_conv"):
        assert claims[cid]["old_rule"] is None and "Rule changed" not in claims[cid]["note"], cid


def test_csvs_parse_with_documented_columns(quick_reproduction):
    out = quick_reproduction.out
    for cid in SIMULATED:
        rows = read_csv(out / "results" / f"{cid}.csv")
        assert rows, cid
        assert set(ROW_COLUMNS) <= set(rows[0]), cid
        assert {r["oversmooth_version"] for r in rows} == {__import__("oversmooth").__version__}
        # tidy: one row per config x seed x depth
        keys = [(r["label"], r.get("alpha"), r["seed"], r["depth"]) for r in rows]
        assert len(keys) == len(set(keys)), cid


def test_report_html_structure(quick_reproduction):
    out = quick_reproduction.out
    html = (out / "report.html").read_text()
    for cid in CLAIM_IDS:
        assert f'id="row-{cid}"' in html and f'id="{cid}"' in html
    assert html.count("data:image/png;base64,") == len(SIMULATED + TRAINED)
    assert "http://" not in html and "https://" not in html  # self-contained, no network
    # every changed rule (issue 12's four, real_gnn's training budget) shows the old rule and verdict
    assert html.count('class="changed"') == len(RULE_CHANGES) == 5
    if (out / "explorer.html").is_file():
        assert 'href="explorer.html"' in html


def test_same_seed_identical_csvs_different_seed_differs(quick_reproduction, tmp_path):
    # determinism of the report layer, checked once on the two cheapest claims, against the session's CLI run
    # (seed 0, claims side by side on the usable CPUs): run here on a pool of 2 processes, and serially
    a, b = tmp_path / "a", tmp_path / "b"
    reproduce(a, quick=True, seed=0, claims=["mixing", "denoising"], progress=False, workers=2)
    reproduce(b, quick=True, seed=1, claims=["mixing"], progress=False)
    for name in ("results/mixing.csv", "results/denoising.csv", "figures/mixing.svg", "figures/denoising.png"):
        assert (a / name).read_bytes() == (quick_reproduction.out / name).read_bytes(), name
    name = "results/mixing.csv"
    assert (a / name).read_bytes() != (b / name).read_bytes()
    got = {c["id"]: c["numbers"] for c in json.loads((a / "claims.json").read_text())}
    assert got == {k: _claims(quick_reproduction)[k]["numbers"] for k in ("mixing", "denoising")}


def test_bad_arguments_exit_2_one_line(capsys):
    from oversmooth.cli import main

    assert main(["reproduce", "--seed", "-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--seed" in err[0]
    assert main(["reproduce", "--claims", "nonsense"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nonsense" in err[0]
