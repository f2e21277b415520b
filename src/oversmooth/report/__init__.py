"""``oversmooth reproduce``: every claim as tidy CSVs, figures, claims.json and one HTML report.

Examples
--------
>>> import tempfile
>>> from oversmooth.report import reproduce
>>> claims = reproduce(tempfile.mkdtemp(), quick=True, claims=["pairnorm"], progress=False)  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import json
import platform
import time
from pathlib import Path
from typing import Any, Sequence

from .._progress import Progress
from .._version import __version__
from ._claims import CLAIM_IDS, FULL, QUICK, ClaimResult, run_claim
from ..experiments._simulate import ROW_COLUMNS
from ..experiments._sweep import use_backend
from ..experiments._table import write_csv

__all__ = [
    "reproduce",
    "write_report",
    "format_claims_table",
    "Progress",
    "CLAIM_IDS",
    "ClaimResult",
    "run_claim",
]


#: Per-config statistics the terminal table shows (each claim's ruled ones).
_RULED_STATS = ("measured_rate", "nu", "lambda_eff", "ppr_max_rel_dev", "saturation_rel_dev",
                "min_variance_over_sigma2_by_N",  # mixing, denoising
                "flattening_depth_n0", "min_variance_over_limit", "depth_within_15pct_of_limit",  # real_graphs
                "best_winner",  # real_gnn, with its gcn_drop_at_D / appnp_drop_at_D
                "best_error", "best_depth", "rise_after_best")  # corrected_conv


def _short_numbers(c: ClaimResult, limit: int = 150) -> str:
    keys = {
        "mixing": None, "denoising": None,
        "optimal_depth": ["best_depth_by_N", "theory_best_depth_by_N", "all_u_shaped"],
        "appnp_vs_gcn": ["appnp_ahead_at_n1_and_2n1_every_cell", "n1_by_p_over_q", "gcn_best_wins_fraction",
                         "gcn_wins_corner_largest_N_strongest_communities"],
        "pairnorm": ["gap_last_over_gap0_pairnorm", "variance_ratio_pairnorm_over_gcn_last_depth",
                     "best_separation_gcn", "best_separation_pairnorm"],
        "training": ["sgc_minus_linear_by_depth", "bayes_accuracy_best_core"],
    }.get(c.id)
    if not c.numbers:
        return c.note[:limit]
    if keys is None:  # per-config dicts: show the ruled statistic of each
        parts = []
        for label, e in c.numbers.items():
            stat = {k: v for k, v in e.items() if k in _RULED_STATS or k.startswith(("gcn_drop_at_", "appnp_drop_at_"))}
            mark = {True: "ok", False: "X", None: "-"}[e.get("pass")]
            parts.append(f"{label.split(' (')[0]}: " + ", ".join(f"{k}={v}" for k, v in stat.items()) + f" [{mark}]")
        text = "; ".join(parts)
    else:
        text = ", ".join(f"{k}={json.dumps(c.numbers[k])}" for k in keys if k in c.numbers)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_claims_table(claims: Sequence[ClaimResult], width: int = 150) -> str:
    """The terminal table: ``claim  STATUS  the numbers behind it``."""
    lines = [f"{'claim':<15}{'status':<9}numbers"]
    for c in claims:
        lines.append(f"{c.id:<15}{c.status:<9}{_short_numbers(c, width)}")
    return "\n".join(lines)


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="figure {html.escape(path.stem)}">'


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1180px;color:#222;
line-height:1.45}
h1{margin-bottom:.2em} .meta{color:#555} table{border-collapse:collapse;margin:.6em 0}
td,th{border:1px solid #ccc;padding:.25em .6em;vertical-align:top;font-size:.92em}
.PASS{background:#d9f2d9;font-weight:bold}.FAIL{background:#f8d7da;font-weight:bold}
.NOTRUN{background:#eee;font-weight:bold} section{border-top:2px solid #ddd;margin-top:2em;padding-top:.6em}
img{max-width:100%;border:1px solid #eee} pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.8em}
"""


def write_report(claims: Sequence[ClaimResult], out: Path, meta: dict[str, Any]) -> Path:
    """Write the self-contained ``report.html`` (figures embedded, no network)."""
    esc = html.escape
    rows = "".join(
        f'<tr id="row-{c.id}" class="claim-row"><td><a href="#{c.id}">{esc(c.id)}</a></td><td>{esc(c.title)}</td>'
        f'<td class="{c.status.replace(" ", "")}">{esc(c.status)}</td><td>{c.seconds:.1f} s</td></tr>'
        for c in claims)
    sections = []
    for c in claims:
        fig = out / c.figure if c.figure else None
        fig_html = _img(fig) if fig is not None and fig.exists() else "<p><em>No figure: the claim was not run.</em></p>"
        sections.append(f"""
<section id="{c.id}">
<h2>{esc(c.title)} <span class="{c.status.replace(' ', '')}">{esc(c.status)}</span></h2>
<p>{esc(c.statement)}</p>
<p><strong>PASS rule (fixed in advance):</strong> {esc(c.rule)}</p>
{f'<p><strong>Note:</strong> {esc(c.note)}</p>' if c.note else ''}
{fig_html}
<p><strong>Numbers</strong></p><pre>{esc(json.dumps(c.numbers, indent=1))}</pre>
<p><strong>Config</strong> (ran in {c.seconds:.1f} s)</p><pre>{esc(json.dumps(c.config, indent=1))}</pre>
</section>""")
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>oversmooth reproduction report</title>
<style>{_CSS}</style></head><body>
<h1>oversmooth: reproduction of Wu et al. (ICLR 2023)</h1>
<p class="meta">oversmooth {esc(__version__)} &middot; mode <strong>{esc(meta['mode'])}</strong> &middot; seed
{meta['seed']} &middot; total run time {meta['seconds']:.1f} s &middot; Python {esc(platform.python_version())}
on {esc(platform.machine())}</p>
<p>Each claim of <em>A Non-Asymptotic Analysis of Oversmoothing in Graph Neural Networks</em> is run on
contextual stochastic block models and judged by a PASS rule written before the results were seen. Operators
use D<sup>-1</sup>A with self-loops unless stated. Formulas marked <em>ours</em> are not in the paper. A FAIL
is a result, reported with its numbers.</p>
<table id="claims"><tr><th>claim</th><th>title</th><th>status</th><th>time</th></tr>{rows}</table>
{''.join(sections)}
</body></html>
"""
    path = out / "report.html"
    path.write_text(doc, encoding="utf-8")
    return path


def reproduce(
    out: str | Path = "oversmooth-reproduce",
    *,
    quick: bool = False,
    seed: int = 0,
    claims: Sequence[str] | None = None,
    progress: bool = True,
    workers: int | None = None,
) -> list[ClaimResult]:
    """Run the claims, write ``results/*.csv``, ``figures/*``, ``claims.json`` and ``report.html``.

    Parameters
    ----------
    out : path
        Output directory (created).
    quick : bool
        Smaller graphs and fewer seeds (< 60 s on 2 cores), same claims and rules.
    seed : int
        Master seed; every config's seed derives from it (``SeedSequence``). Same
        seed, identical CSVs.
    claims : list of str, optional
        A subset of claim ids (default all).
    progress : bool
        Draw a progress bar on stderr.
    workers : int, optional
        Run each claim's grid of configs on a local process pool of this many
        workers (the sweep machinery, :func:`oversmooth.experiments.run_cells`); default
        (or 1): in this process. The numbers do not depend on it.

    Returns
    -------
    list of ClaimResult
    """
    from ..viz import FIGURES, save_figure

    out = Path(out)
    ids = list(CLAIM_IDS) if claims is None else list(claims)
    for cid in ids:
        if cid not in CLAIM_IDS:
            raise ValueError(f"claims must be among {', '.join(CLAIM_IDS)}, got {cid!r}")
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    scale = QUICK if quick else FULL
    bar = Progress(len(ids), enabled=progress)
    t0 = time.perf_counter()
    results: list[ClaimResult] = []
    for cid in ids:
        bar.update(cid)
        with use_backend("process" if workers and workers > 1 else "serial", workers=workers):
            res = run_claim(cid, scale, seed)
        for name, rows in res.tables.items():
            if name == "training":  # not a simulation table: its own columns (oversmooth.training.TRAIN_COLUMNS)
                write_csv(rows, out / "results" / f"{name}.csv")
                continue
            extra = [k for k in rows[0] if k not in ROW_COLUMNS and k not in ("class_means", "feature_variance_per_class")]
            write_csv(rows, out / "results" / f"{name}.csv", columns=["label", *[k for k in extra if k != "label"],
                                                                      *ROW_COLUMNS])
        if res.figure and cid in FIGURES:
            bar.update(f"{cid}: figure")
            save_figure(FIGURES[cid](res.tables[cid]), out / res.figure)
        results.append(res)
        bar.update(cid, advance=1)
    bar.close()
    total = time.perf_counter() - t0
    meta = {"mode": scale.name, "seed": seed, "seconds": total, "oversmooth_version": __version__}
    (out / "claims.json").write_text(json.dumps([c.to_json() for c in results], indent=1) + "\n", encoding="utf-8")
    write_report(results, out, meta)
    return results
