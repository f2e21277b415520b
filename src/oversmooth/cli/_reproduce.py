"""``oversmooth reproduce``: run every claim of the paper and write claims, CSVs, figures and a report.

This module holds the command's argument handling; the work is :func:`oversmooth.report.reproduce`.

Examples
--------
>>> from oversmooth.cli import main
>>> main(["reproduce", "--workers", "0"])
2
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from ._common import check_output_dir, cli_error, integer

__all__ = ["add_parser", "CLAIM_CHOICES", "MAX_WORKERS"]

#: The most ``--workers`` accepted (each is a process).
MAX_WORKERS = 1024

#: ``reproduce --claims`` choices (a literal, so that ``--help`` imports nothing heavy; a test checks
#: it equals ``oversmooth.report``'s claim ids).
CLAIM_CHOICES = ("mixing", "denoising", "optimal_depth", "appnp_vs_gcn", "pairnorm", "real_graphs", "training",
                 "real_gnn", "corrected_conv")


def _cmd_reproduce(args: argparse.Namespace) -> int:
    if args.seed < 0:
        raise cli_error("reproduce", f"--seed must be >= 0, got {args.seed}")
    if args.workers is not None and not 1 <= args.workers <= MAX_WORKERS:
        raise cli_error("reproduce", f"--workers must be in [1, {MAX_WORKERS}], got {args.workers}")
    out = args.out if args.out is not None else ("oversmooth-reproduce-quick" if args.quick else "oversmooth-reproduce")
    check_output_dir(out, "--out", "reproduce")
    from ..report import format_claims_table, reproduce

    t0 = time.perf_counter()
    if args.workers is None:
        from ..operators import num_threads

        args.workers = num_threads()
    claims = reproduce(out, quick=args.quick, seed=args.seed, claims=args.claims, progress=not args.no_progress,
                       workers=args.workers)
    print(format_claims_table(claims))
    total = time.perf_counter() - t0
    print(f"\nwrote {out}/claims.json, {out}/results/*.csv, {out}/figures/*.png|svg and {out}/report.html "
          f"({total:.1f} s)")
    if args.open:
        import webbrowser
        from pathlib import Path

        webbrowser.open(Path(out, "report.html").resolve().as_uri())
    return 0


def add_parser(sub: Any) -> None:
    """Register ``oversmooth reproduce``."""
    p = sub.add_parser(
        "reproduce",
        help="run every claim of the paper: PASS/FAIL checks, CSVs, figures and an HTML report",
        description="Run every claim of Wu et al. (ICLR 2023) on CSBMs, judge each by its fixed PASS rule, and "
        "write claims.json, results/*.csv, figures/*.png|svg and report.html. Exit code 0 when it ran "
        "(FAILs are results).",
        epilog="example:\n  oversmooth reproduce --quick --out out --seed 0",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="smaller graphs and fewer seeds (about 40 s on 2 cores), same claims")
    p.add_argument("--out", default=None, help="output directory (default oversmooth-reproduce[-quick])")
    p.add_argument("--seed", type=integer, default=0, help="master seed (default 0)")
    p.add_argument("--claims", nargs="+", choices=list(CLAIM_CHOICES), default=None, help="run only these claims")
    p.add_argument("--open", action="store_true", help="open report.html in a browser when done")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--workers", type=integer, default=None, help="run the claims side by side in this many "
                   "processes (default: the usable CPUs; 1: all in this process; same files either way)")
    p.set_defaults(func=_cmd_reproduce)
