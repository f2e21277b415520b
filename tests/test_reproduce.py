"""End-to-end tests of ``oversmooth reproduce``: files, claims, CSV columns, determinism, browser."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from oversmooth.experiments import ROW_COLUMNS, read_csv
from oversmooth.report._claims import CLAIM_IDS
from oversmooth.report import reproduce

STATUSES = {"PASS", "FAIL", "NOT RUN"}
RUN_CLAIMS = ("mixing", "denoising", "optimal_depth", "appnp_vs_gcn", "pairnorm", "real_graphs")
# the training claim runs when the train extra (torch) is installed; its CSV has its own columns
TRAINED = ("training",) if importlib.util.find_spec("torch") is not None else ()


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One real ``oversmooth reproduce --quick`` subprocess, shared by the tests below."""
    out = tmp_path_factory.mktemp("reproduce") / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "oversmooth", "reproduce", "--quick", "--out", str(out), "--seed", "0"],
        capture_output=True, text=True, timeout=600,
    )
    return out, proc


def test_exit_code_and_terminal_table(quick_run):
    out, proc = quick_run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for cid in CLAIM_IDS:
        assert re.search(rf"^{cid}\s+(PASS|FAIL|NOT RUN)\s", proc.stdout, re.M), cid
    assert "report.html" in proc.stdout


def test_claims_json_has_every_id_with_status_and_numbers(quick_run):
    out, _ = quick_run
    claims = json.loads((out / "claims.json").read_text())
    assert [c["id"] for c in claims] == list(CLAIM_IDS)
    for c in claims:
        assert set(c) >= {"id", "title", "status", "numbers", "figure"}
        assert c["status"] in STATUSES
        if c["id"] in RUN_CLAIMS + TRAINED:
            assert c["status"] in {"PASS", "FAIL"}
            assert c["numbers"], c["id"]
            assert (out / c["figure"]).is_file()
            assert (out / c["figure"]).with_suffix(".svg").is_file()
        else:  # not implemented in this version: reported, never faked
            assert c["status"] == "NOT RUN" and c["numbers"] == {} and c["figure"] is None


def test_csvs_parse_with_documented_columns(quick_run):
    out, _ = quick_run
    for cid in RUN_CLAIMS:
        rows = read_csv(out / "results" / f"{cid}.csv")
        assert rows, cid
        assert set(ROW_COLUMNS) <= set(rows[0]), cid
        assert {r["oversmooth_version"] for r in rows} == {__import__("oversmooth").__version__}
        # tidy: one row per config x seed x depth
        keys = [(r["label"], r.get("alpha"), r["seed"], r["depth"]) for r in rows]
        assert len(keys) == len(set(keys)), cid


def test_report_html_structure(quick_run):
    out, _ = quick_run
    html = (out / "report.html").read_text()
    for cid in CLAIM_IDS:
        assert f'id="row-{cid}"' in html and f'id="{cid}"' in html
    assert html.count("data:image/png;base64,") == len(RUN_CLAIMS + TRAINED)
    assert "http://" not in html and "https://" not in html  # self-contained, no network


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


_PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var rows = Array.prototype.slice.call(document.querySelectorAll('tr.claim-row')).map(function (r) { return r.id; });
  var el = document.createElement('pre');
  el.id = 'probe-result';
  el.textContent = JSON.stringify({images: imgs.length, loaded: ok, rows: rows});
  document.body.appendChild(el);
});
</script>"""


def _chromium_args(binary: str, profile: Path) -> list[str]:
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
            f"--user-data-dir={profile}"]


@pytest.mark.skipif(_chromium() is None and os.environ.get("CI") != "true",
                    reason="chromium not installed (.ci/run installs Debian's chromium)")
def test_report_opens_in_headless_chromium(quick_run, tmp_path):
    out, _ = quick_run
    binary = _chromium()
    assert binary is not None, "CI must have chromium: .ci/run installs it"
    # A copy of the report with a read-only probe that records what the browser loaded.
    probed = tmp_path / "probed.html"
    probed.write_text((out / "report.html").read_text().replace("</body>", _PROBE + "</body>"))
    dom = subprocess.run(
        [*_chromium_args(binary, tmp_path / "profile1"), "--virtual-time-budget=5000", "--dump-dom",
         probed.as_uri()], capture_output=True, text=True, timeout=120,
    )
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', dom.stdout, re.S)
    assert match, f"probe did not run: {dom.stderr[-2000:]}"
    result = json.loads(match.group(1).replace("&quot;", '"'))
    assert result["images"] == len(RUN_CLAIMS + TRAINED)
    assert result["loaded"] == result["images"], result
    assert result["rows"] == [f"row-{cid}" for cid in CLAIM_IDS]
    # The screenshot is kept beside the report as a CI artifact.
    shot = out / "report-screenshot.png"
    subprocess.run(
        [*_chromium_args(binary, tmp_path / "profile2"), "--hide-scrollbars", "--window-size=1280,2400",
         f"--screenshot={shot}", (out / "report.html").as_uri()], capture_output=True, text=True, timeout=120,
    )
    assert shot.is_file() and shot.stat().st_size > 10_000
    artifacts = os.environ.get("OVERSMOOTH_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / shot.name)
        shutil.copy(out / "report.html", Path(artifacts) / "report.html")


def test_same_seed_identical_csvs_different_seed_differs(tmp_path):
    claims = ["mixing", "pairnorm"]
    a = tmp_path / "a"
    b = tmp_path / "b"
    c = tmp_path / "c"
    reproduce(a, quick=True, seed=3, claims=claims, progress=False)
    reproduce(b, quick=True, seed=3, claims=claims, progress=False)
    reproduce(c, quick=True, seed=4, claims=claims, progress=False)
    for cid in claims:
        name = f"results/{cid}.csv"
        assert (a / name).read_bytes() == (b / name).read_bytes(), cid
        assert (a / name).read_bytes() != (c / name).read_bytes(), cid


def test_bad_arguments_exit_2_one_line(capsys):
    from oversmooth.cli import main

    assert main(["reproduce", "--seed", "-1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--seed" in err[0]
    assert main(["reproduce", "--claims", "nonsense"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nonsense" in err[0]
