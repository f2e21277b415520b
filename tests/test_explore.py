"""The interactive explorer: a self-contained page whose JavaScript theory is the Python theory."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from oversmooth.errors import DataError, FileFormatError, ValidationError
from oversmooth.experiments import simulate, write_csv
from oversmooth.explore import (
    EXPLORER_OPERATORS,
    GRIDS,
    aggregate_cells,
    grid_configs,
    ndtr_underflow,
    read_results,
    render_explorer,
    theory_curves,
    write_explorer,
)

CURVE_KEYS = ("gap", "gap_nu", "variance", "bayes", "bayes_paper")
SCALAR_KEYS = ("lam", "c", "d", "nu", "pi_sq_sum", "variance_lower", "variance_upper", "ppr_floor", "g_star")


def _close(a, b, rtol=1e-12):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-300)


def _same_curves(js: dict, py: dict, rtol: float = 1e-12) -> list[str]:
    bad = [k for k in SCALAR_KEYS if not _close(js[k], py[k], rtol)]
    for k in CURVE_KEYS:
        if (js[k] is None) != (py[k] is None) or (py[k] is not None and (
                len(js[k]) != len(py[k]) or not all(_close(a, b, rtol) for a, b in zip(js[k], py[k])))):
            bad.append(k)
    if js["best_depth"] != py["best_depth"]:
        bad.append("best_depth")
    return bad


# ---------------------------------------------------------------- page and Python side

def test_page_is_self_contained():
    page = render_explorer(aggregate_cells([dict(operator="gcn", n=100, p=0.1, q=0.02, sigma=1.0, depth=0, gap=2.0,
                                                 feature_variance=1.0, bayes_error=0.16, seed=0)]))
    assert page.startswith("<!DOCTYPE html>") and "/*__" not in page  # every placeholder filled
    assert "http://" not in page and "https://" not in page and "//cdn" not in page
    assert not re.search(r"""\b(src|href)\s*=\s*["']?(?!#)""", page), "no external src/href at all"
    for forbidden in ("fetch(", "XMLHttpRequest", "import(", "WebSocket", "EventSource", "@import"):
        assert forbidden not in page, forbidden
    assert not re.search(r"""url\(\s*(?!['"]?#)""", page), "CSS/SVG url() only to fragments of the page"
    # the browser itself refuses any load: the CSP allows inline script and style only
    assert "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'" in page
    # the embedded data closes no script early
    data = page.split("window.OversmoothExplorer = {data: ", 1)[1].split("};</script>", 1)[0]
    assert "</" not in data and json.loads(data)["cells"][0]["n"] == 100


@pytest.mark.parametrize("operator", EXPLORER_OPERATORS)
@pytest.mark.parametrize("p,q", [(0.09, 0.03), (0.02, 0.06)])
def test_theory_curves_are_simulates_theory_columns(operator, p, q):
    rows = simulate(200, p, q, depth=5, operator=operator, alpha=0.2, sigma=0.7, method="exact")
    th = theory_curves(200, p, q, depth=5, operator=operator, alpha=0.2, sigma=0.7)
    pairs = {"gap": "theory_gap", "gap_nu": "theory_gap_finite_degree", "variance": "theory_feature_variance",
             "bayes": "theory_bayes_error", "bayes_paper": "theory_bayes_error_paper"}
    for ours, col in pairs.items():
        expected = [r[col] for r in rows]
        if th[ours] is None:
            assert all(v is None for v in expected), (operator, ours)
        else:
            assert th[ours] == expected, (operator, ours)
    if operator != "corrected":
        assert rows[0]["theory_variance_lower"] == th["variance_lower"]
        assert th["best_depth"] == min(range(6), key=lambda i: (rows[i]["theory_bayes_error"], i))


def test_theory_curves_validates_arguments():
    with pytest.raises(ValidationError, match="operator"):
        theory_curves(100, 0.1, 0.1, operator="pairnorm")
    with pytest.raises(ValidationError, match="p and q"):
        theory_curves(100, 0.0, 0.0)
    with pytest.raises(ValidationError, match="sigma"):
        theory_curves(100, 0.1, 0.1, sigma=0)


def test_ndtr_underflow_is_the_edge_of_zero():
    from scipy.special import ndtr

    x = ndtr_underflow()
    assert ndtr(x) == 0.0 and ndtr(math.nextafter(x, 0.0)) > 0.0


def test_grid_names_and_cli_choices_agree():
    from oversmooth.cli._explore import GRID_CHOICES

    assert tuple(GRIDS) == GRID_CHOICES
    cfgs = grid_configs("default")
    assert len(cfgs) == 24 and {c["operator"] for c in cfgs} == set(EXPLORER_OPERATORS)


def test_read_results_csv_json_and_errors(tmp_path):
    rows = simulate(120, 0.1, 0.03, depth=3, seeds=2, operator="appnp", alpha=0.3, method="exact")
    rows += simulate(120, 0.1, 0.03, depth=3, operator="pairnorm", method="exact")  # no theory: left out
    csv_path = write_csv(rows, tmp_path / "r.csv")
    (cell,) = read_results(csv_path)
    assert (cell["operator"], cell["n"], cell["alpha"], cell["seeds"], cell["depths"]) == ("appnp", 120, 0.3, 2, [0, 1, 2, 3])
    expected = [(rows[k]["bayes_error"] + rows[4 + k]["bayes_error"]) / 2 for k in range(4)]
    assert all(math.isclose(a, b) for a, b in zip(cell["bayes_error"], expected))
    json_path = tmp_path / "r.json"
    json_path.write_text(json.dumps({"rows": rows}))
    assert read_results(json_path)[0]["gap"] == cell["gap"]
    with pytest.raises(DataError, match="missing.json"):
        read_results(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"operator": "gcn", "n": 5}]))
    with pytest.raises(FileFormatError, match="bad.json"):
        read_results(bad)
    bad.write_text("{not json")
    with pytest.raises(FileFormatError, match="bad.json"):
        read_results(bad)


def test_read_results_from_a_sweep_store(tmp_path):
    from oversmooth.experiments.sweep import parse_spec, run_sweep

    spec = parse_spec({"sweep": {"seed": 0, "seeds": 2, "measures": ["gap", "feature_variance"]},
                       "fixed": {"depth": 3, "n": 150, "q": 0.02, "method": "exact"},
                       "grid": {"p": [0.06, 0.1], "operator": ["gcn", "pairnorm"]}})
    run_sweep(spec, tmp_path / "sw", backend="serial", progress=False)
    cells = read_results(tmp_path / "sw")
    assert [(c["operator"], c["p"], c["seeds"], c["depths"]) for c in cells] == [
        ("gcn", 0.06, 2, [0, 1, 2, 3]), ("gcn", 0.1, 2, [0, 1, 2, 3])]
    assert cells[0]["bayes_error"] == [None] * 4 and cells[0]["gap"][0] is not None  # not measured: not drawn
    strip = lambda cs: [{k: v for k, v in c.items() if k != "source"} for c in cs]  # noqa: E731
    assert strip(read_results(tmp_path / "sw" / "results.sqlite")) == strip(cells)
    with pytest.raises(DataError, match="sweep store"):
        read_results(tmp_path)


def test_cli_explore_writes_the_page(tmp_path, capsys):
    from oversmooth.cli import _explore

    parser = argparse.ArgumentParser(prog="oversmooth")
    _explore.add_parser(parser.add_subparsers(dest="command"))
    rows = simulate(100, 0.2, 0.05, depth=2, method="exact")
    (tmp_path / "rows.json").write_text(json.dumps({"rows": rows}))
    args = parser.parse_args(["explore", "--out", str(tmp_path / "o"), "--grid", "none",
                              "--results", str(tmp_path / "rows.json")])
    assert args.func(args) == 0
    assert "explorer.html" in capsys.readouterr().out
    page = (tmp_path / "o" / "explorer.html").read_text()
    assert '"cells_source":"results rows.json"' in page
    with pytest.raises(ValidationError, match="grid"):
        write_explorer(tmp_path, grid="huge")


@pytest.fixture
def explore_main(monkeypatch):
    """``oversmooth.cli.main`` with ``explore`` registered (it is one name in cli.SUBCOMMANDS)."""
    import oversmooth.cli as cli

    if "_explore" not in cli.SUBCOMMANDS:
        monkeypatch.setattr(cli, "SUBCOMMANDS", (*cli.SUBCOMMANDS, "_explore"))
    return cli.main


def test_cli_explore_errors_are_one_line(explore_main, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert explore_main(["explore", "--out", str(afile)]) == 2  # refused before the grid runs
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--out" in err and "afile" in err
    bad = tmp_path / "bad.json"
    bad.write_text("[1]")
    assert explore_main(["explore", "--out", str(tmp_path / "o"), "--grid", "none", "--results", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.json" in err
    assert explore_main(["explore", "--out", str(tmp_path / "o"), "--results", str(tmp_path / "nope.csv")]) == 2
    assert "nope.csv" in capsys.readouterr().err
    assert explore_main(["explore", "--out", str(tmp_path / "o"), "--grid", "none", "--seed", "x"]) == 2
    assert "--seed" in capsys.readouterr().err
    assert explore_main(["explore", "--out", str(tmp_path / "o"), "--grid", "none"]) == 0
    assert (tmp_path / "o" / "explorer.html").is_file()


# ---------------------------------------------------------------- headless Chromium

def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _chromium_args(binary: str, profile: Path) -> list[str]:
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
            f"--user-data-dir={profile}"]


#: JS/Python check settings (values the sliders can take and some they cannot).
CHECKS = [
    dict(n=2000, p=0.0075, q=0.0025, sigma=1.0, operator="gcn", alpha=0.1, self_loops=True, depth=24),
    dict(n=500, p=0.01, q=0.03, sigma=0.5, operator="gcn", alpha=0.1, self_loops=False, depth=16),
    dict(n=5000, p=0.004, q=0.0008, sigma=1.5, operator="appnp", alpha=0.1, self_loops=True, depth=30),
    dict(n=300, p=0.05, q=0.02, sigma=2.0, operator="appnp", alpha=0.35, self_loops=False, depth=12),
    dict(n=10000, p=0.001, q=0.001, sigma=1.0, operator="gcn", alpha=0.1, self_loops=True, depth=10),  # lambda = 0
    dict(n=1000, p=0.02, q=0.005, sigma=1.0, operator="corrected", alpha=0.1, self_loops=True, depth=20),
    dict(n=1000000, p=0.000095, q=0.000005, sigma=0.2, operator="gcn", alpha=0.1, self_loops=True, depth=24),  # Phi = 0
    # d^k beyond 1e304: the Catalan terms in logs (lgamma), as theory._variance computes them
    dict(n=1000000, p=0.1, q=0.02, sigma=1.0, operator="appnp", alpha=0.2, self_loops=True, depth=64),
    dict(n=1000000, p=0.1, q=0.02, sigma=3.0, operator="gcn", alpha=0.1, self_loops=False, depth=64),
]

#: Moves a reader makes: (what, control id, new value: a slider index or a radio value)
MOVES = [("N slider to 100000", "s-n", 11), ("sigma slider to 0.5", "s-sigma", 10), ("operator to APPNP", "op", "appnp"),
         ("alpha slider to 0.3", "s-alpha", 30), ("operator to GCN, N to 200", "op", "gcn"), ("", "s-n", 1),
         ("parametrisation to p and q (same graph)", "mode", "pq"), ("p slider to 0.1", "s-p", 40),
         ("click the stored cell off the sliders' grid", "chip", 1), ("depth slider to 10 (stays on the cell)", "s-depth", 10),
         ("c slider to 1000 at N = 200: p > 1, no graph", "s-c", 22)]

_PROBE = """<script>
window.addEventListener('load', function () {
  var OS = window.OversmoothExplorer, out = {steps: [], checks: []};
  function shown() {
    var el = document.getElementById('best-depth-value');
    return {depth: el.getAttribute('data-depth'), text: el.textContent, params: OS.params(),
            cell: document.getElementById('measured-status') ? +document.getElementById('measured-status').getAttribute('data-cell') : null,
            points: document.querySelectorAll('#fig-gap svg.chart circle').length};
  }
  out.steps.push(shown());
  __MOVES__.forEach(function (mv) {
    if (mv[1] === 'chip') {
      document.querySelector('button.chip[data-cell="' + mv[2] + '"]').click();
    } else if (mv[1] === 'op' || mv[1] === 'mode') {
      var r = document.querySelector('input[name=' + mv[1] + '][value=' + mv[2] + ']');
      r.checked = true; r.dispatchEvent(new Event('change', {bubbles: true}));
    } else {
      var s = document.getElementById(mv[1]);
      s.value = String(mv[2]); s.dispatchEvent(new Event('input', {bubbles: true}));
    }
    out.steps.push(shown());
  });
  __CHECKS__.forEach(function (c) { out.checks.push(OS.theory.curves(c)); });
  var el = document.createElement('pre'); el.id = 'probe-result'; el.textContent = JSON.stringify(out);
  document.body.appendChild(el);
});
</script>"""


@pytest.mark.skipif(_chromium() is None and os.environ.get("CI") != "true",
                    reason="chromium not installed (.ci/run installs Debian's chromium)")
def test_explorer_in_headless_chromium(tmp_path):
    binary = _chromium()
    assert binary is not None, "CI must have chromium: .ci/run installs it"
    # one stored cell where the last move lands: gcn, N = 200, lambda = 0.5, c = 10, sigma = 0.5
    from oversmooth.theory import csbm_pq

    p, q = csbm_pq(200, 10.0, 0.5)
    cells = aggregate_cells(simulate(200, p, q, depth=6, sigma=0.5, seeds=2, method="exact"))
    # and one whose N, p, q and sigma lie on no slider's grid: reached by clicking its button
    cells += aggregate_cells(simulate(150, 0.07, 0.021, depth=12, sigma=1.33, method="exact"))
    page = render_explorer(cells, source="test cell")
    probed = tmp_path / "probed.html"
    probe = _PROBE.replace("__MOVES__", json.dumps(MOVES)).replace("__CHECKS__", json.dumps(CHECKS))
    probed.write_text(page.replace("</body>", probe + "</body>"))
    dom = subprocess.run([*_chromium_args(binary, tmp_path / "prof"), "--virtual-time-budget=5000", "--dump-dom",
                          "--enable-logging=stderr", "--v=0", probed.as_uri()], capture_output=True, text=True, timeout=120)
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', dom.stdout, re.S)
    assert match, f"probe did not run: {dom.stderr[-2000:]}"
    out = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    # no script error, no console message, no load the Content-Security-Policy had to block
    console = [ln for ln in dom.stderr.splitlines() if ":CONSOLE" in ln]
    assert console == [], console
    # the JavaScript theory is the Python theory, value for value, at every check setting
    for check, js in zip(CHECKS, out["checks"]):
        py = theory_curves(**check)
        assert _same_curves(js, py) == [], (check, _same_curves(js, py))
    # each slider move changes the best depth shown to the one Python predicts at the page's new settings
    steps = out["steps"]
    assert len(steps) == len(MOVES) + 1
    last = steps.pop()  # settings with no graph: nothing predicted, nothing drawn
    assert last["params"]["p"] > 1 and last["depth"] == "" and last["text"] == "\u2014" and last["cell"] is None
    shown = []
    for step in steps:
        prm = step["params"]
        py = theory_curves(prm["n"], prm["p"], prm["q"], sigma=prm["sigma"], operator=prm["operator"],
                           alpha=prm["alpha"], self_loops=prm["self_loops"], depth=prm["depth"])
        assert step["depth"] == str(py["best_depth"]), (prm, step, py["best_depth"])
        shown.append(int(step["depth"]))
    assert [s["params"]["n"] for s in steps] == [2000, 100000, 100000, 100000, 100000, 100000, 200, 200, 200, 150, 150]
    assert steps[1]["params"]["sigma"] == 1.0 and steps[2]["params"]["sigma"] == 0.5
    assert shown[0] != shown[1], "moving the N slider changes the best depth (4 -> 7 at lambda 0.5, c 10)"
    assert steps[3]["params"]["operator"] == "appnp" and steps[4]["params"]["alpha"] == 0.3
    # measured points appear where the sliders hit the stored cell, and only there
    assert [s["cell"] for s in steps] == [-1] * 6 + [0, 0, -1, 1, 1]
    assert [s["points"] for s in steps[5:]] == [0, 7, 7, 0, 13, 11]
    assert {k: steps[9]["params"][k] for k in ("p", "q", "sigma", "depth")} == dict(p=0.07, q=0.021, sigma=1.33, depth=24)
    assert steps[7]["params"]["p"] == 0.075 and shown[7] == shown[6]  # the p/q sliders start at the same graph
    assert steps[8]["params"]["p"] == 0.1 and steps[8]["params"]["q"] == 0.025
    artifacts = os.environ.get("OVERSMOOTH_ARTIFACTS")
    if artifacts:  # a full-page screenshot for CI (look at it)
        path = tmp_path / "explorer.html"
        path.write_text(page)
        shot = Path(artifacts) / "explorer-screenshot.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([*_chromium_args(binary, tmp_path / "prof2"), "--hide-scrollbars", "--window-size=1400,1500",
                        "--virtual-time-budget=3000", f"--screenshot={shot}", path.as_uri() + "#n=2000&op=appnp"],
                       capture_output=True, text=True, timeout=120)
        assert shot.is_file() and shot.stat().st_size > 10_000
