"""The quick reproduction's report in headless Chromium (Debian's chromium; no playwright needed).

A read-only probe script appended to a copy of the report records what the browser saw (every
image decoded, each claim's explanation, every visible ``<pre>`` and its line count, the page
height); ``--dump-dom`` returns it. Then a full-page screenshot (window as tall as the page) is
saved to ``$OVERSMOOTH_ARTIFACTS`` (CI uploads that folder).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from oversmooth.report import CLAIM_IDS

from _quick_reproduction import SIMULATED, TRAINED  # the session fixture quick_reproduction is in conftest.py

MAX_OPEN_PRE_LINES = 40

_PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var sections = Array.prototype.slice.call(document.querySelectorAll('section.claim'));
  function folded(el) {  // inside a closed <details>: not shown until the reader opens it
    for (var a = el.parentElement; a; a = a.parentElement) {
      if (a.tagName === 'DETAILS' && !a.open) { return true; }
    }
    return false;
  }
  var pres = Array.prototype.slice.call(document.querySelectorAll('pre')).filter(function (p) {
    return p.id !== 'probe-result' && !folded(p) && p.getClientRects().length > 0; });
  var el = document.createElement('pre');
  el.id = 'probe-result';
  el.textContent = JSON.stringify({
    images: imgs.length,
    loaded: imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
    rows: Array.prototype.slice.call(document.querySelectorAll('tr.claim-row')).map(function (r) { return r.id; }),
    explanations: sections.map(function (s) {
      var e = s.querySelector('.explanation'); return [s.id, e ? e.textContent.trim().length : 0]; }),
    open_pre_lines: pres.map(function (p) { return p.textContent.split('\\n').length; }),
    folded_pre: document.querySelectorAll('details pre').length,
    height: document.documentElement.scrollHeight
  });
  document.body.appendChild(el);
});
</script>"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _args(binary: str, profile: Path) -> list[str]:
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
            f"--user-data-dir={profile}"]


@pytest.mark.skipif(_chromium() is None and os.environ.get("CI") != "true",
                    reason="chromium not installed (.ci/run installs Debian's chromium)")
def test_report_reads_well_in_headless_chromium(quick_reproduction, tmp_path):
    out = quick_reproduction.out
    binary = _chromium()
    assert binary is not None, "CI must have chromium: .ci/run installs it"
    probed = tmp_path / "probed.html"
    probed.write_text((out / "report.html").read_text().replace("</body>", _PROBE + "</body>"))
    dom = subprocess.run([*_args(binary, tmp_path / "p1"), "--window-size=1280,900", "--virtual-time-budget=5000",
                          "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=180)
    match = re.search(r'<pre id="probe-result">(.*?)</pre>', dom.stdout, re.S)
    assert match, f"probe did not run: {dom.stderr[-2000:]}"
    seen = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert seen["images"] == len(SIMULATED + TRAINED)
    assert seen["loaded"] == seen["images"], seen
    assert seen["rows"] == [f"row-{cid}" for cid in CLAIM_IDS]
    assert [s for s, _ in seen["explanations"]] == list(CLAIM_IDS)
    assert all(n > 0 for _, n in seen["explanations"]), seen["explanations"]
    assert all(n <= MAX_OPEN_PRE_LINES for n in seen["open_pre_lines"]), seen["open_pre_lines"]
    assert seen["folded_pre"] >= len(SIMULATED + TRAINED)  # the raw numbers and configs are there, folded
    # the full page, as tall as it is, kept as a CI artifact
    shot = out / "report-screenshot.png"
    subprocess.run([*_args(binary, tmp_path / "p2"), "--hide-scrollbars", f"--window-size=1280,{seen['height']}",
                    f"--screenshot={shot}", (out / "report.html").as_uri()], capture_output=True, text=True,
                   timeout=180)
    assert shot.is_file() and shot.stat().st_size > 50_000
    artifacts = os.environ.get("OVERSMOOTH_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / shot.name)
        shutil.copy(out / "report.html", Path(artifacts) / "report.html")
