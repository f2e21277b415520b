"""``oversmooth reproduce``: every claim as tidy CSVs, figures, claims.json and one HTML report.

Each of the nine claims is one :class:`Claim` object (:mod:`oversmooth.report.claims`, one
module per claim); the report, the terminal table (:func:`format_claims_table`),
``claims.json`` and the README table (:func:`claims_markdown`) are all rendered from them.

Examples
--------
>>> from oversmooth.report import CLAIM_IDS, CLAIMS
>>> len(CLAIM_IDS), CLAIMS["corrected_conv"].source.split(",")[0]
(9, 'Wang')
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from .._progress import Progress
from .._version import __version__
from ..errors import ValidationError
from ..experiments import use_backend
from ..tables import SIMULATE_COLUMNS, write_csv
from ._claims import CLAIM_IDS, CLAIMS, FULL, QUICK, RULE_CHANGES, judge_claim, run_claim
from ._core import Claim, ClaimResult, Measured, RuleChange, Scale, Verdict
from ._html import write_report
from ._render import claims_markdown, format_claims_table, load_claims_json, write_claims_json

__all__ = [
    "reproduce",
    "write_report",
    "format_claims_table",
    "claims_markdown",
    "write_claims_json",
    "load_claims_json",
    "Progress",
    "Claim",
    "ClaimResult",
    "Measured",
    "Verdict",
    "RuleChange",
    "Scale",
    "QUICK",
    "FULL",
    "CLAIMS",
    "CLAIM_IDS",
    "RULE_CHANGES",
    "run_claim",
    "judge_claim",
]

_TRAINING_TABLES = ("training", "real_gnn")  # rows of oversmooth.training.run_training: their own columns


def _write_tables(res: ClaimResult, out: Path) -> None:
    for name, rows in res.tables.items():
        if name in _TRAINING_TABLES:  # trained runs: the training schema, wall times left out (same seed, same bytes)
            from ..training import TRAIN_COLUMNS

            write_csv(rows, out / "results" / f"{name}.csv", columns=["label", *TRAIN_COLUMNS]
                      if any("label" in r for r in rows) else TRAIN_COLUMNS)
            continue
        skip = (*SIMULATE_COLUMNS, "class_means", "feature_variance_per_class")
        extra = [k for k in rows[0] if k not in skip]
        write_csv(rows, out / "results" / f"{name}.csv", columns=["label", *[k for k in extra if k != "label"],
                                                                  *SIMULATE_COLUMNS])


def _explorer(out: Path, quick: bool) -> str | None:
    """Write the interactive explorer page beside the report (``explorer.html``); its relative link."""
    try:
        from ..explore import write_explorer
    except ImportError:  # the explorer package is absent from this installation: the report says nothing of it
        return None
    return Path(write_explorer(out, grid="small" if quick else "default")).name


def reproduce(
    out: str | Path = "oversmooth-reproduce",
    *,
    quick: bool = False,
    seed: int = 0,
    claims: Sequence[str] | None = None,
    progress: bool = True,
    workers: int | None = None,
    explorer: bool | None = None,
) -> list[ClaimResult]:
    """Run the claims, write ``results/*.csv``, ``figures/*``, ``claims.json`` and ``report.html``.

    Parameters
    ----------
    out : path
        Output directory (created).
    quick : bool
        Smaller graphs and fewer seeds, same claims and rules.
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
    explorer : bool, optional
        Also write the interactive explorer (``explorer.html``, :mod:`oversmooth.explore`)
        beside the report and link it from the report's top; default: when every claim runs.

    Returns
    -------
    list of ClaimResult

    Examples
    --------
    ``reproduce(out, quick=True)`` runs all nine claims (minutes); with ``claims=[]`` it only lays
    out the output folder:

    >>> import pathlib, tempfile
    >>> from oversmooth.report import reproduce
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> reproduce(out, quick=True, claims=[], progress=False)
    []
    >>> sorted(p.name for p in out.iterdir())
    ['claims.json', 'figures', 'report.html', 'results']
    """
    out = Path(out)
    ids = list(CLAIM_IDS) if claims is None else list(claims)
    for cid in ids:
        if cid not in CLAIM_IDS:
            raise ValidationError(f"claims must be among {', '.join(CLAIM_IDS)}, got {cid!r}")
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
        _write_tables(res, out)
        claim = CLAIMS[cid]
        if res.figure and claim.figure is not None:
            from ..viz import save_figure

            bar.update(f"{cid}: figure")
            save_figure(claim.figure(res.tables[cid]), out / res.figure)
        results.append(res)
        bar.update(cid, advance=1)
    bar.close()
    link = _explorer(out, quick) if (explorer if explorer is not None else claims is None) else None
    meta = {"mode": scale.name, "seed": seed, "seconds": time.perf_counter() - t0, "oversmooth_version": __version__,
            "explorer": link}
    write_claims_json(results, out / "claims.json")
    write_report(results, out, meta)
    return results
