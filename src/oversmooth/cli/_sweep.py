"""``oversmooth sweep``: resumable parameter sweeps on a process pool or a Dask cluster.

Examples
--------
>>> from oversmooth.cli import main
>>> main(["sweep", "--help"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_parser", "SUMMARY_LIMIT"]

#: Cells shown in the final summary table (the store holds them all).
SUMMARY_LIMIT = 30


def _print_status(st: dict[str, Any]) -> None:
    print(f"sweep {st['name']!r} in {st['out']}: {st['total']} cells: {st['done']} done, {st['failed']} failed, "
          f"{st['pending']} pending ({st['rows']} rows stored)")
    if st.get("stored_outside_spec"):
        print(f"  plus {st['stored_outside_spec']} stored cell(s) not in the last spec")
    if st.get("incomplete"):
        print(f"  DAMAGED: {len(st['incomplete'])} cell(s) marked done have missing rows (cells "
              f"{', '.join(map(str, st['incomplete'][:10]))}); remove the store and rerun them")
    for index, err in st["failures"][:10]:
        print(f"  failed cell {index}: {err}")
    if len(st["failures"]) > 10:
        print(f"  ... and {len(st['failures']) - 10} more failed cells")


def _summary_table(out: Any) -> str:
    from ..experiments.sweep import summary_rows
    from ._common import format_table

    rows = summary_rows(out)
    shown = rows[:SUMMARY_LIMIT]
    if not shown:
        return ""
    keys = [k for k in shown[0] if k not in ("status", "seconds", "best_depth", "best_bayes_error")]
    cols = [(k, k) for k in keys] + [("status", "status"), ("seconds", "seconds"), ("best_depth", "best depth"),
                                     ("best_bayes_error", "best bayes err")]
    text = format_table(shown, cols)
    if len(rows) > len(shown):
        text += f"\n... {len(rows) - len(shown)} more cells (load_results(OUT) has them all)"
    return text


def _executor(args: argparse.Namespace) -> Any:
    from .._utils import check_positive_float
    from ..experiments.sweep import DaskExecutor, ProcessExecutor, SerialExecutor

    check_positive_float(args.dask_timeout, "--dask-timeout")

    if args.dask_scheduler is not None or args.dask_local is not None:
        return DaskExecutor(args.dask_scheduler, local=args.dask_local, connect_timeout=args.dask_timeout)
    if args.workers == 1:
        return SerialExecutor()
    return ProcessExecutor(args.workers, retries=args.retries)


def _cmd_sweep(args: argparse.Namespace) -> int:
    """Run the subcommand; the package's errors (one line, exit 2) propagate to ``cli.main``."""
    from ..experiments.sweep import estimate_cost, format_cost, load_spec, run_sweep, sweep_status
    from ._common import CLIError

    prog = "oversmooth sweep"
    if args.status:
        st = sweep_status(args.target)
        if args.json:
            print(json.dumps(st))
        else:
            _print_status(st)
        return 0
    if args.dask_scheduler and args.dask_local is not None:
        raise CLIError(f"{prog}: error: give --dask-scheduler or --dask-local, not both")
    executor = _executor(args)  # checks --workers, --dask-local and --retries before anything runs
    spec = load_spec(args.target)
    if args.dry_run:
        est = estimate_cost(spec, calibrate=not args.no_calibrate, workers=executor.workers,
                            backend=executor.name)
        axes = ", ".join(f"{k} ({len(v)})" for k, v in spec.grid.items()) or "none"
        if args.json:
            print(json.dumps({"name": spec.name, "axes": {k: len(v) for k, v in spec.grid.items()}, **est}))
        else:
            print(f"sweep {spec.name!r}: {spec.n_cells:,} cells; axes: {axes}; out: {args.out or spec.out}")
            print(format_cost(est))
        return 0
    summary = run_sweep(spec, args.out, executor=executor, retry_failed=args.retry_failed,
                        progress=not args.no_progress)
    st = sweep_status(summary.out)
    if args.json:
        print(json.dumps({**st, "ran": summary.ran, "seconds": summary.seconds, "backend": summary.backend}))
        return 0
    where = summary.backend + (f", {summary.workers} workers" if summary.workers else "")
    print(f"ran {summary.ran} cell(s) in {summary.seconds:.1f} s ({where})")
    table = _summary_table(summary.out)
    if table:
        print(table)
    _print_status(st)
    return 0


def add_parser(sub: Any) -> None:
    """Register ``oversmooth sweep`` on the subparsers ``sub``."""
    p = sub.add_parser(
        "sweep",
        help="run a resumable parameter sweep from a TOML/YAML spec (process pool or Dask)",
        description="Run every cell (one CSBM simulation config) of the grid in SPEC, storing one row per "
        "cell x seed x depth in OUT/results.sqlite. Running it again resumes: only cells not yet stored run. "
        "A cell that raises is stored as failed (--retry-failed reruns them). Backends: a local process pool "
        "(default, --workers), or Dask (--dask-scheduler ADDRESS, --dask-local N). One sweep at a time per OUT (a lock "
        "file); a store that is empty, damaged or not ours is refused, never overwritten.",
        epilog="examples:\n  oversmooth sweep --dry-run spec.toml\n  oversmooth sweep spec.toml --workers 2\n"
        "  oversmooth sweep spec.toml --dask-local 2\n  oversmooth sweep --status sweep-out",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("target", metavar="SPEC|OUT", help="the spec file (.toml, .json, .yaml), or with --status the "
                   "output "
                   "directory")
    p.add_argument("--out", default=None, help="output directory (default: [sweep] out of the spec)")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: every core; 1 runs in this process)")
    p.add_argument("--dask-scheduler", default=None, metavar="ADDRESS",
                   help="run on an existing Dask cluster, e.g. tcp://HOST:8786 (needs oversmooth[dask])")
    p.add_argument("--dask-local", type=int, default=None, metavar="N",
                   help="start a Dask LocalCluster of N single-threaded worker processes on loopback")
    p.add_argument("--dask-timeout", type=float, default=10.0, metavar="S",
                   help="seconds to wait for --dask-scheduler before giving up (default 10)")
    p.add_argument("--retries", type=int, default=2, metavar="K",
                   help="reruns of a cell whose pool worker died (killed, out of memory) before it is stored "
                   "failed (default 2)")
    p.add_argument("--retry-failed", action="store_true", help="rerun the cells stored as failed")
    p.add_argument("--dry-run", action="store_true", help="print the number of cells and the time it will take, "
                   "calibrated by timing a few small cells here (seconds), run nothing")
    p.add_argument("--no-calibrate", action="store_true", help="with --dry-run: count cells and work only")
    p.add_argument("--status", action="store_true", help="print done / failed / pending cells of the sweep in OUT")
    p.add_argument("--json", action="store_true", help="print the status or summary as one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_sweep)
