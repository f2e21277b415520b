"""The self-contained ``report.html``: a summary of every verdict, then one section per claim.

Per claim: the statement and the source sentence it tests, the PASS rule (and, for a rule
changed by issue 12, the old rule, its old verdict and why), the verdict with its
explanation, the figure (embedded PNG), the numbers as a small table, and the raw numbers
and config folded away in ``<details>``.
"""

from __future__ import annotations

import base64
import html
import json
import platform
import re
from pathlib import Path
from typing import Any, Sequence

from .._version import __version__
from ._core import ClaimResult
from .claims import CLAIMS

__all__ = ["write_report", "render_report"]

_GREEK = {"lambda": "\u03bb", "nu": "\u03bd", "sigma": "\u03c3", "pi": "\u03c0", "mu": "\u03bc", "alpha": "\u03b1"}
_SUP = str.maketrans("0123456789n-", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207f\u207b")


def pretty(text: str) -> str:
    """Plain-text maths of the claims for reading: Greek letters and simple superscripts.

    Examples
    --------
    >>> from oversmooth.report._html import pretty
    >>> pretty("lambda^n and sigma^2/N, d^-1, sum pi_j^2, alphabet")
    'λⁿ and σ²/N, d⁻¹, sum π_j², alphabet'
    """
    text = re.sub(r"\b(lambda|nu|sigma|pi|mu|alpha)(?![A-Za-z0-9])", lambda m: _GREEK[m.group(1)], text)
    return re.sub(r"\^(-?[0-9n]+)\b", lambda m: m.group(1).translate(_SUP), text)


def esc(text: str) -> str:
    """HTML-escaped :func:`pretty` text."""
    return html.escape(pretty(str(text)))


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;padding:1.5em 2em;max-width:1180px;
color:#1d2329;line-height:1.5;background:#fff}
h1{margin:.2em 0 .1em;font-size:1.7em} h2{margin:.2em 0 .5em;font-size:1.3em} .meta{color:#57606a;font-size:.92em}
table{border-collapse:collapse;margin:.5em 0 1em} td,th{border:1px solid #d0d7de;padding:.3em .6em;vertical-align:top;
font-size:.9em;text-align:left} th{background:#f3f5f7}
.badge{display:inline-block;padding:.05em .55em;border-radius:.3em;font-weight:700;font-size:.85em;letter-spacing:.02em}
.PASS{background:#d3f2d6;color:#0f5323}.FAIL{background:#fbd5d8;color:#82071e}.NOTRUN{background:#e6e8eb;color:#3b434b}
section.claim{border-top:3px solid #d0d7de;margin-top:2.2em;padding-top:.8em}
.source{border-left:4px solid #8c959f;margin:.4em 0;padding:.2em .9em;color:#3b434b;background:#f6f8fa;font-style:italic}
.rule{border-left:4px solid #0969da;margin:.6em 0;padding:.3em .9em;background:#f1f7ff}
.changed{border-left:4px solid #bf8700;margin:.6em 0;padding:.3em .9em;background:#fff8e5}
.explain{border-left:4px solid #1f883d;margin:.6em 0;padding:.4em .9em;background:#f3fbf4}
.explain.FAILx{border-left-color:#cf222e;background:#fff5f5}
img{max-width:100%;border:1px solid #eaeef2;margin:.4em 0} details{margin:.4em 0}
summary{cursor:pointer;color:#0969da} pre{background:#f6f8fa;padding:.6em;overflow:auto;max-height:32em;font-size:.78em}
#summary td:nth-child(4){max-width:32em} .lead{max-width:62em}
"""


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="figure of the claim {esc(path.stem)}">'


def _badge(status: str) -> str:
    return f'<span class="badge {status.replace(" ", "")}">{esc(status)}</span>'


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "numbers") -> str:
    th = "".join(f"<th>{esc(str(h))}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{esc(str(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f'<table class="{cls}"><tr>{th}</tr>{body}</table>'


def _section(c: ClaimResult, out: Path) -> str:
    fig = out / c.figure if c.figure else None
    fig_html = (_img(fig) if fig is not None and fig.exists()
                else "<p><em>No figure: the claim was not run.</em></p>")
    claim = CLAIMS.get(c.id)
    numbers_html = ""
    if c.numbers and claim is not None:
        head, rows = claim.table(c.numbers)
        numbers_html = "<h3>Numbers</h3>" + _table(head, rows)
    changed = ""
    if c.old_rule:
        changed = (f'<div class="changed"><strong>Rule changed (issue 12, before the new run).</strong><br>'
                   f"<strong>Old rule:</strong> {esc(c.old_rule)}<br><strong>Old verdict:</strong> "
                   f"{esc(c.old_verdict)}<br><strong>Why it changed:</strong> {esc(c.why_changed)}</div>")
    fail = " FAILx" if c.status == "FAIL" else ""
    extra_note = c.note.split("Rule changed.")[0].strip()
    return f"""
<section class="claim" id="{html.escape(c.id)}">
<h2>{esc(c.title)} {_badge(c.status)}</h2>
<p class="lead">{esc(c.statement)}</p>
<p><strong>Tests:</strong></p><blockquote class="source">{esc(c.source)}</blockquote>
<div class="rule"><strong>PASS rule (fixed before the run):</strong> {esc(c.rule)}</div>
{changed}
<div class="explain{fail}"><strong>Verdict {esc(c.status)}: why.</strong> <span class="explanation">{esc(c.explanation)}</span>
{f'<br><em>{esc(extra_note)}</em>' if extra_note else ''}</div>
{fig_html}
{numbers_html}
<details><summary>All numbers (JSON)</summary><pre>{html.escape(json.dumps(c.numbers, indent=1))}</pre></details>
<details><summary>Config (ran in {c.seconds:.1f} s)</summary><pre>{html.escape(json.dumps(c.config, indent=1))}</pre></details>
</section>"""


def render_report(results: Sequence[ClaimResult], out: Path, meta: dict[str, Any]) -> str:
    """The report's HTML text (figures read from ``out``)."""
    rows = "".join(
        f'<tr id="row-{html.escape(c.id)}" class="claim-row"><td><a href="#{html.escape(c.id)}">{html.escape(c.id)}</a></td>'
        f"<td>{esc(c.title)}</td><td>{_badge(c.status)}</td><td>{esc(c.summary)}</td><td>{c.seconds:.1f} s</td></tr>"
        for c in results)
    counts = {s: sum(c.status == s for c in results) for s in ("PASS", "FAIL", "NOT RUN")}
    explorer = meta.get("explorer")
    explorer_html = (f'<p><strong>Interactive explorer:</strong> <a href="{html.escape(explorer)}">{html.escape(explorer)}</a> '
                     + esc("(drag N, p, q, sigma, alpha and the operator; theory curves with measured points).")
                     + "</p>"
                     if explorer else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>oversmooth reproduction report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{_CSS}</style></head><body>
<h1>oversmooth: reproduction of Wu et al. (ICLR 2023)</h1>
<p class="meta">oversmooth {esc(__version__)} &middot; mode <strong>{esc(meta['mode'])}</strong> &middot; seed
{meta['seed']} &middot; total run time {meta['seconds']:.1f} s &middot; Python {esc(platform.python_version())}
on {esc(platform.machine())}</p>
<p class="lead">Each claim of <em>A Non-Asymptotic Analysis of Oversmoothing in Graph Neural Networks</em> (and of
two related sources) is run on contextual stochastic block models or real graphs and judged by a PASS rule written
before its result was seen. Operators use D<sup>-1</sup>A with self-loops unless stated; formulas marked
<em>ours</em> are not in the paper. A FAIL is a result, explained with its numbers below.</p>
<p><strong>{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['NOT RUN']} not run.</strong></p>
{explorer_html}
<table id="claims"><tr><th>claim</th><th>what it tests</th><th>verdict</th><th>key number</th><th>time</th></tr>
{rows}</table>
{''.join(_section(c, out) for c in results)}
</body></html>
"""


def write_report(results: Sequence[ClaimResult], out: str | Path, meta: dict[str, Any]) -> Path:
    """Write the self-contained ``out/report.html`` (figures embedded, no network) and return its path.

    ``meta`` holds ``mode``, ``seed``, ``seconds`` and optionally ``explorer`` (a relative link).

    Examples
    --------
    >>> import tempfile
    >>> from oversmooth.report import ClaimResult, write_report
    >>> r = ClaimResult("mixing", "t", "s", "r", "PASS", {}, None, {}, explanation="why")
    >>> path = write_report([r], tempfile.mkdtemp(), {"mode": "quick", "seed": 0, "seconds": 1.0})
    >>> path.name, 'id="row-mixing"' in path.read_text()
    ('report.html', True)
    """
    out = Path(out)
    path = out / "report.html"
    path.write_text(render_report(results, out, meta), encoding="utf-8")
    return path
