"""The ``oversmooth`` command line.

Every subcommand has ``--help`` with an example. Bad arguments exit with code 2 and a
one-line message on stderr (no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Callable, Sequence

from .._version import __version__

__all__ = ["main", "build_parser", "CLIError"]


class CLIError(Exception):
    """A user error: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CLIError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def _fmt(v: Any, width: int = 10) -> str:
    if v is None:
        return "-".rjust(width)
    if isinstance(v, float):
        return (f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}").rjust(width)
    return str(v).rjust(width)


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """Aligned text table: ``columns`` are (key, header) pairs."""
    widths = [max(10, len(h)) for _, h in columns]
    lines = ["  ".join(h.rjust(w) for (_, h), w in zip(columns, widths))]
    for r in rows:
        lines.append("  ".join(_fmt(r.get(k), w) for (k, _), w in zip(columns, widths)))
    return "\n".join(lines)


#: ``simulate --operator`` choices (a literal, so that ``--help`` imports nothing heavy;
#: a test checks it equals ``oversmooth.experiments.SIMULATE_OPERATORS``).
SIMULATE_OPERATOR_CHOICES = ("gcn", "gcn-sym", "appnp", "pairnorm", "corrected", "corrected-sym")

SIMULATE_TABLE = (
    ("seed", "seed"), ("depth", "depth"), ("gap", "gap"), ("theory_gap", "lam^n gap"),
    ("theory_gap_finite_degree", "nu^n gap"), ("feature_variance", "feat var"),
    ("theory_feature_variance", "theory var"), ("cross_sectional_variance", "cross-sect"),
    ("bayes_error", "bayes err"), ("theory_bayes_error", "theory bayes"), ("realised_error", "realised"),
)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from ..experiments import SimulationConfig, run_simulation

    cfg = SimulationConfig(
        n=args.n, p=args.p, q=args.q, mu=tuple(args.mu), sigma=args.sigma, depth=args.depth,
        operator=args.operator, alpha=args.alpha, pairnorm_scale=args.pairnorm_scale,
        pairnorm_mode=args.pairnorm_mode, self_loops=not args.no_self_loops, seed=args.seed,
        seeds=args.seeds, probes=args.probes, method=args.method, zero_degree=args.zero_degree,
    )
    rows = run_simulation(cfg)
    if args.json:
        out = {"oversmooth_version": __version__, "config": cfg.to_dict(), "rows": rows}
        sys.stdout.write(json.dumps(out, allow_nan=False) + "\n")
    else:
        from .. import theory

        print(f"oversmooth {__version__}  simulate  N={cfg.n} p={cfg.p} q={cfg.q} mu={list(cfg.mu)} "
              f"sigma={cfg.sigma} operator={cfg.operator}"
              + (f" alpha={cfg.alpha}" if cfg.operator == "appnp" else "")
              + f" self_loops={cfg.self_loops} variance={rows[0]['variance_method']}")
        if len(cfg.mu) == 2 and cfg.p + cfg.q > 0:
            lam = theory.lam(cfg.p, cfg.q)
            c = cfg.n / 2.0 * (cfg.p + cfg.q)  # expected neighbours, the self-loop not counted
            bounds = ("none (rows of M_n are not probability vectors)" if cfg.operator.startswith("corrected")
                      else f"[{cfg.sigma**2 / cfg.n:.3g}, {cfg.sigma**2:.3g}]")
            print(f"lambda={lam:.4g}  c={c:.4g}  nu={theory.nu(lam, c, cfg.self_loops):.4g} (finite-degree rate, ours)"
                  f"  variance bounds {bounds}")
        print(format_table(rows, SIMULATE_TABLE))
    return 0


def _add_simulate(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="sample CSBM graphs and measure mixing, denoising and errors per depth",
        description="Sample CSBM graphs, propagate Gaussian features and measure the mean gap, the "
        "feature-noise variance, the Bayes and realised errors per depth, with the theory beside them.",
        epilog="example:\n  oversmooth simulate --n 2000 --p 0.0114 --q 0.0038 --mu -1 1 --sigma 1 "
        "--depth 10 --operator gcn --seed 0 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--n", type=int, default=2000, help="number of nodes N (default 2000)")
    p.add_argument("--p", type=float, default=0.0114, help="within-block edge probability (default 0.0114)")
    p.add_argument("--q", type=float, default=0.0038, help="between-block edge probability (default 0.0038)")
    p.add_argument("--mu", type=float, nargs="+", default=[-1.0, 1.0], help="class means, one per block (default -1 1)")
    p.add_argument("--sigma", type=float, default=1.0, help="feature noise standard deviation (default 1)")
    p.add_argument("--depth", type=int, default=10, help="largest depth D; rows for 0..D (default 10)")
    p.add_argument("--operator", default="gcn", choices=list(SIMULATE_OPERATOR_CHOICES),
                   help="gcn = D^-1 A (the paper's), gcn-sym = D^-1/2 A D^-1/2, appnp = PPR, pairnorm, corrected = "
                   "(P - 1 pi^T), the convolution without its stationary component (Wang, Baranwal, Fountoulakis 2024), "
                   "corrected-sym = S - sqrt(pi) sqrt(pi)^T")
    p.add_argument("--alpha", type=float, default=0.1, help="APPNP teleport weight alpha (default 0.1)")
    p.add_argument("--pairnorm-scale", type=float, default=1.0, help="PairNorm scale s (default 1)")
    p.add_argument("--pairnorm-mode", default="PN", choices=["PN", "PN-SI"], help="PairNorm variant (default PN)")
    p.add_argument("--no-self-loops", action="store_true", help="sample A without self-loops (default: with)")
    p.add_argument("--zero-degree", default="raise", choices=["raise", "self-loop", "zero"],
                   help="nodes of degree 0 (only without self-loops): raise an error (default), give them a "
                   "self-loop, or leave their rows of D^-1 A at zero")
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.add_argument("--seeds", type=int, default=1, help="number of seeds: seed, seed+1, ... (default 1)")
    p.add_argument("--probes", type=int, default=32, help="Hutchinson probes (default 32)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--exact", dest="method", action="store_const", const="exact",
                   help="exact feature-noise variance from dense rows of M_n")
    g.add_argument("--hutchinson", dest="method", action="store_const", const="hutchinson",
                   help="Hutchinson estimate with --probes random +-1 vectors")
    p.set_defaults(method="auto", func=_cmd_simulate)
    p.add_argument("--json", action="store_true", help="print one JSON object {oversmooth_version, config, rows}")


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from ..report import format_claims_table, reproduce

    if args.seed < 0:
        raise CLIError(f"oversmooth reproduce: error: --seed must be >= 0, got {args.seed}")
    out = args.out or ("oversmooth-reproduce-quick" if args.quick else "oversmooth-reproduce")
    t0 = time.perf_counter()
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


def _add_reproduce(sub: Any) -> None:
    from ..report._claims import CLAIM_IDS

    p = sub.add_parser(
        "reproduce",
        help="run every claim of the paper: PASS/FAIL checks, CSVs, figures and an HTML report",
        description="Run every claim of Wu et al. (ICLR 2023) on CSBMs, judge each by its fixed PASS rule, and "
        "write claims.json, results/*.csv, figures/*.png|svg and report.html. Exit code 0 when it ran "
        "(FAILs are results).",
        epilog="example:\n  oversmooth reproduce --quick --out out --seed 0",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="smaller graphs and fewer seeds (< 60 s), same claims")
    p.add_argument("--out", default=None, help="output directory (default oversmooth-reproduce[-quick])")
    p.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    p.add_argument("--claims", nargs="+", choices=list(CLAIM_IDS), default=None, help="run only these claims")
    p.add_argument("--open", action="store_true", help="open report.html in a browser when done")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--workers", type=int, default=None, help="run each claim's configs on a process pool of this "
                   "many workers (default: in this process; same numbers either way)")
    p.set_defaults(func=_cmd_reproduce)


from . import _sweep as _sweep_cli  # noqa: E402 - after CLIError and format_table, which it imports

from . import _train as _train_cli  # noqa: E402

_SUBCOMMANDS: list[Callable[[Any], None]] = [_add_simulate, _add_reproduce, _sweep_cli.add_parser,
                                             _train_cli.add_parser]
from . import _analyze as _analyze_cli  # noqa: E402
_SUBCOMMANDS.append(_analyze_cli.add_parser)
from . import _profile as _profile_cli  # noqa: E402
_SUBCOMMANDS.append(_profile_cli.add_parser)


def build_parser() -> argparse.ArgumentParser:
    """The ``oversmooth`` argument parser."""
    parser = _Parser(
        prog="oversmooth",
        description="Measure, predict and explain oversmoothing in GNNs (Wu et al., ICLR 2023).",
        epilog="example:\n  oversmooth simulate --n 2000 --p 0.0114 --q 0.0038 --depth 10",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"oversmooth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oversmooth`` console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "command", None):
            parser.print_help()
            return 2
        return int(args.func(args))
    except CLIError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except (ValueError, TypeError) as exc:
        cmd = getattr(locals().get("args"), "command", None) or ""
        print(f"oversmooth {cmd}: error: {exc}".replace("  ", " "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
