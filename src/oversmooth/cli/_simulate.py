"""``oversmooth simulate``: sample CSBM graphs and measure mixing, denoising and errors per depth.

Examples
--------
>>> from oversmooth.cli import main
>>> main(["simulate", "--n", "300", "--p", "0.06", "--q", "0.02", "--depth", "1"])  # doctest: +ELLIPSIS
oversmooth ... simulate  N=300 ...
0
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ._common import cli_error, finite_float, format_table, integer

__all__ = ["add_parser", "SIMULATE_OPERATOR_CHOICES", "SIMULATE_TABLE"]

#: ``simulate --operator`` choices (a literal, so that ``--help`` imports nothing heavy;
#: a test checks it equals ``oversmooth.experiments.SIMULATE_OPERATORS``).
SIMULATE_OPERATOR_CHOICES = ("gcn", "gcn-sym", "appnp", "pairnorm", "corrected", "corrected-sym")

#: Columns of the text table: (row key, header).
SIMULATE_TABLE = (
    ("seed", "seed"), ("depth", "depth"), ("gap", "gap"), ("theory_gap", "lam^n gap"),
    ("theory_gap_finite_degree", "nu^n gap"), ("feature_variance", "feat var"),
    ("theory_feature_variance", "theory var"), ("cross_sectional_variance", "cross-sect"),
    ("bayes_error", "bayes err"), ("theory_bayes_error", "theory bayes"), ("realised_error", "realised"),
)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from .._version import __version__
    from ..experiments import SimulationConfig, run_simulation

    for opt, value in (("--max-hours", args.max_hours), ("--max-memory-gb", args.max_memory_gb)):
        if value is not None and not value > 0:
            raise cli_error("simulate", f"{opt} must be > 0, got {value}")

    cfg = SimulationConfig(
        n=args.n, p=args.p, q=args.q, mu=tuple(args.mu), sigma=args.sigma, depth=args.depth,
        operator=args.operator, alpha=args.alpha, pairnorm_scale=args.pairnorm_scale,
        pairnorm_mode=args.pairnorm_mode, self_loops=not args.no_self_loops, seed=args.seed,
        seeds=args.seeds, probes=args.probes, method=args.method, zero_degree=args.zero_degree,
    )
    rows = run_simulation(cfg, max_memory=None if args.max_memory_gb is None else args.max_memory_gb * 2**30,
                          max_seconds=args.max_hours * 3600.0, dtype=args.dtype, backend=args.backend)
    if args.json:
        config = {**cfg.to_dict(), "dtype": args.dtype, "backend": args.backend}
        out = {"oversmooth_version": __version__, "config": config, "rows": rows}
        sys.stdout.write(json.dumps(out, allow_nan=False) + "\n")
        return 0
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


def add_parser(sub: Any) -> None:
    """Register ``oversmooth simulate``."""
    p = sub.add_parser(
        "simulate",
        help="sample CSBM graphs and measure mixing, denoising and errors per depth",
        description="Sample CSBM graphs, propagate Gaussian features and measure the mean gap, the "
        "feature-noise variance, the Bayes and realised errors per depth, with the theory beside them. "
        "Work and memory are estimated before anything is allocated; a run over the limit is refused "
        "with the estimate (see SimulationConfig.resources).",
        epilog="example:\n  oversmooth simulate --n 2000 --p 0.0114 --q 0.0038 --mu -1 1 --sigma 1 "
        "--depth 10 --operator gcn --seed 0 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--n", type=integer, default=2000, help="number of nodes N (default 2000)")
    p.add_argument("--p", type=finite_float, default=0.0114, help="within-block edge probability (default 0.0114)")
    p.add_argument("--q", type=finite_float, default=0.0038, help="between-block edge probability (default 0.0038)")
    p.add_argument("--mu", type=finite_float, nargs="+", default=[-1.0, 1.0],
                   help="class means, one per block (default -1 1)")
    p.add_argument("--sigma", type=finite_float, default=1.0, help="feature noise standard deviation (default 1)")
    p.add_argument("--depth", type=integer, default=10, help="largest depth D; rows for 0..D (default 10)")
    p.add_argument("--operator", default="gcn", choices=list(SIMULATE_OPERATOR_CHOICES),
                   help="gcn = D^-1 A (the paper's), gcn-sym = D^-1/2 A D^-1/2, appnp = PPR, pairnorm, corrected = "
                   "(P - 1 pi^T), the convolution without its stationary component (Wang, Baranwal, Fountoulakis 2024), "
                   "corrected-sym = S - sqrt(pi) sqrt(pi)^T")
    p.add_argument("--alpha", type=finite_float, default=0.1, help="APPNP teleport weight alpha (default 0.1)")
    p.add_argument("--pairnorm-scale", type=finite_float, default=1.0, help="PairNorm scale s (default 1)")
    p.add_argument("--pairnorm-mode", default="PN", choices=["PN", "PN-SI"], help="PairNorm variant (default PN)")
    p.add_argument("--no-self-loops", action="store_true", help="sample A without self-loops (default: with)")
    p.add_argument("--zero-degree", default="raise", choices=["raise", "self-loop", "zero"],
                   help="nodes of degree 0 (only without self-loops): raise an error (default), give them a "
                   "self-loop, or leave their rows of D^-1 A at zero")
    p.add_argument("--seed", type=integer, default=0, help="first seed (default 0)")
    p.add_argument("--seeds", type=integer, default=1, help="number of seeds: seed, seed+1, ... (default 1)")
    p.add_argument("--probes", type=integer, default=32, help="Hutchinson probes (default 32)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--exact", dest="method", action="store_const", const="exact",
                   help="exact feature-noise variance from dense rows of M_n")
    g.add_argument("--hutchinson", dest="method", action="store_const", const="hutchinson",
                   help="Hutchinson estimate with --probes random +-1 vectors")
    p.set_defaults(method="auto", func=_cmd_simulate)
    p.add_argument("--json", action="store_true", help="print one JSON object {oversmooth_version, config, rows}")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"], help="float32: Hutchinson "
                   "probes and propagated blocks in single precision, sums in float64 (faster; the exact path stays "
                   "float64; default float64)")
    p.add_argument("--backend", default="numpy", choices=["numpy", "torch"], help="propagation backend (torch "
                   "needs the train extra; default numpy)")
    p.add_argument("--max-hours", type=finite_float, default=6.0, help="refuse a run estimated to take longer "
                   "(default 6)")
    p.add_argument("--max-memory-gb", type=finite_float, default=None, help="refuse a run estimated to need more "
                   "memory, in GiB (default: this machine's memory, or ulimit -v)")
