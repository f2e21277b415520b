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
from .._utils import check_positive_int
from ..errors import ValidationError
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


#: Measured seconds of each claim (run + figure) in (quick, full) mode on the 2-core machine: only the order
#: in which a pool of workers starts the claims (longest first), never a result.
CLAIM_COST = {"mixing": (6, 30), "denoising": (5, 100), "optimal_depth": (8, 160), "appnp_vs_gcn": (17, 520),
              "pairnorm": (6, 25), "real_graphs": (7, 25), "training": (22, 460), "real_gnn": (13, 3600),
              "corrected_conv": (14, 240)}


def _claim_task(cid: str, quick: bool, seed: int, out: str, threads: int | None) -> ClaimResult:
    """Run, judge and draw one claim; write its CSVs and figure (in this process or a pool worker)."""
    import os

    if threads is not None:  # a pool worker: its share of the CPUs for the sparse products
        os.environ["OVERSMOOTH_NUM_THREADS"] = str(threads)
    res = run_claim(cid, QUICK if quick else FULL, seed)
    _write_tables(res, Path(out))
    claim = CLAIMS[cid]
    if res.figure and claim.figure is not None:
        from ..viz import save_figure

        save_figure(claim.figure(res.tables[cid]), Path(out) / res.figure)
    return res


def _run_claims(ids: list[str], quick: bool, seed: int, out: Path, workers: int, bar: Progress) -> list[ClaimResult]:
    """Every claim of ``ids``, in order; side by side in ``workers`` spawned processes when ``workers > 1``."""
    if workers <= 1 or len(ids) <= 1:
        results = []
        for cid in ids:
            bar.update(cid)
            results.append(_claim_task(cid, quick, seed, str(out), None))
            bar.update(cid, advance=1)
        return results
    import concurrent.futures as cf
    import multiprocessing as mp

    from ..operators import num_threads

    threads = max(1, num_threads() // workers)
    order = sorted(ids, key=lambda c: -CLAIM_COST[c][0 if quick else 1])
    done: dict[str, ClaimResult] = {}
    # spawn: workers start clean (no inherited threads or locks); each claim carries its own seeds,
    # so the results and files are those of the serial run
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        futures = {pool.submit(_claim_task, cid, quick, seed, str(out), threads): cid for cid in order}
        bar.update(f"{len(ids)} claims on {workers} processes")
        for fut in cf.as_completed(futures):
            cid = futures[fut]
            done[cid] = fut.result()
            bar.update(cid, advance=1)
    return [done[cid] for cid in ids]


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
        Run the claims side by side in this many spawned processes (each claim with its run,
        judge, CSVs and figure in one worker, the longest first; the sparse products of each
        share the CPUs). Default (or ``1``): everything in this process. ``oversmooth
        reproduce`` uses the usable CPUs (``oversmooth.operators.num_threads``); from a script,
        call ``reproduce(workers=...)`` under ``if __name__ == "__main__":``, as every spawned
        pool needs. The results and files do not depend on it.
    explorer : bool, optional
        Also write the interactive explorer (``explorer.html``, :mod:`oversmooth.explore`)
        beside the report and link it from the report's top; default: when every claim runs.

    Returns
    -------
    list of ClaimResult

    Examples
    --------
    ``reproduce(out, quick=True)`` runs all nine claims (about 40 s on 2 cores); with ``claims=[]``
    it only lays out the output folder:

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
    workers = 1 if workers is None else check_positive_int(workers, "workers")
    (out / "results").mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    scale = QUICK if quick else FULL
    bar = Progress(len(ids), enabled=progress)
    t0 = time.perf_counter()
    results = _run_claims(ids, quick, seed, out, min(workers, max(1, len(ids))), bar)
    bar.close()
    link = _explorer(out, quick) if (explorer if explorer is not None else claims is None) else None
    meta = {"mode": scale.name, "seed": seed, "seconds": time.perf_counter() - t0, "oversmooth_version": __version__,
            "explorer": link}
    write_claims_json(results, out / "claims.json")
    write_report(results, out, meta)
    return results
