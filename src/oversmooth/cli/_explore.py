"""``oversmooth explore --out DIR``: write the self-contained interactive theory explorer."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "GRID_CHOICES"]

#: ``--grid`` choices (a literal, so that ``--help`` imports nothing heavy; tests check it equals
#: ``oversmooth.explore.GRIDS``).
GRID_CHOICES = ("default", "small", "none")


def _cmd_explore(args: argparse.Namespace) -> int:
    from ..explore import write_explorer
    from ._common import check_output_dir, cli_error

    check_output_dir(args.out, "--out", "explore")  # before the grid is simulated
    if args.results is not None and not Path(args.results).exists():
        raise cli_error("explore", f"--results {args.results!r} does not exist")
    t0 = time.perf_counter()
    path = write_explorer(args.out, results=args.results, grid=args.grid, seed=args.seed)
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, {time.perf_counter() - t0:.1f} s): open it in any "
          "browser, no server or network needed")
    return 0


def add_parser(sub: Any) -> None:
    """Register ``oversmooth explore``."""
    p = sub.add_parser(
        "explore",
        help="write explorer.html: drag N, p, q (or lambda, degree), sigma, alpha, the operator; theory curves update live",
        description="Write a self-contained interactive page (explorer.html, no network or server): sliders for the "
        "CSBM (N, p and q, or lambda and the mean degree), sigma, APPNP's alpha, the depth range, self-loops and the "
        "operator (gcn, appnp, corrected); the mean gap (lambda^n and the finite-degree nu^n), the feature-noise "
        "variance with its bounds and the Catalan curve, the Bayes error and the predicted best depth, and APPNP's "
        "recursion, computed in the browser by a port of oversmooth.theory. Measured points (a small grid simulated "
        "now, and/or --results) are overlaid where the sliders hit a stored cell.",
        epilog="examples:\n  oversmooth explore --out explorer\n"
        "  oversmooth explore --out explorer --results out/results/mixing.csv --grid none\n"
        "  oversmooth explore --out explorer --results sweep-demo --grid none",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--out", required=True, help="output directory (explorer.html is written there)")
    p.add_argument("--results", default=None, help="results to overlay: a CSV (reproduce's results/*.csv), "
                   "simulate --json output, JSON lines of simulate rows, or a sweep's output directory")
    p.add_argument("--grid", choices=list(GRID_CHOICES), default="default", help="fresh measured grid simulated at build "
                   "time: default (24 cells, N = 500 and 2000, ~8 s of CPU), small (6 cells, N = 500, ~2 s) or none")
    from ._common import integer

    p.add_argument("--seed", type=integer, default=0, help="seed of the fresh grid (default 0)")
    p.set_defaults(func=_cmd_explore)
