"""``oversmooth analyze GRAPH``: fit a CSBM to a real graph, measure, compare, recommend a depth."""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser"]

_TABLE = (
    ("depth", "depth"), ("gap", "gap"), ("theory_gap", "CSBM gap"), ("feature_variance", "feat var"),
    ("theory_feature_variance", "CSBM var"), ("bayes_error", "bayes err"), ("theory_bayes_error", "CSBM bayes"),
    ("realised_error", "realised"), ("realised_error_se", "+- SE"),
)
_PROBE = (("probe_val_error", "probe val err"), ("probe_test_accuracy", "probe test acc"),
          ("probe_test_accuracy_std", "+- std"))


def _load(args: argparse.Namespace) -> Any:
    from ..graphs import PLANETOID_NAMES, load_planetoid, planetoid_structure, read_graph
    from . import CLIError

    path = Path(args.graph)
    if path.is_file():  # a folder that happens to be named cora (e.g. a --root) is not a graph file
        labels = args.labels
        return read_graph(path, labels, directed=args.directed, symmetrize=args.symmetrize,
                          delimiter=args.delimiter, header=args.header)
    name = args.graph.lower()
    if name not in PLANETOID_NAMES:
        raise CLIError(f"oversmooth analyze: error: {args.graph!r} is neither a file nor a Planetoid name "
                       f"({', '.join(PLANETOID_NAMES)})")
    if args.labels:
        raise CLIError("oversmooth analyze: error: --labels goes with a graph file, not a Planetoid name")
    if args.features == "real":
        return load_planetoid(name, root=args.root, data_dir=args.data_dir, allow_unverified=args.allow_unverified)
    if args.root:
        return load_planetoid(name, root=args.root, data_dir=args.data_dir, features=False, download=False)
    return planetoid_structure(name)


def _print(res: Any, graph: Any) -> None:
    from .._version import __version__
    from . import format_table

    f = res.fit
    cfg = res.config
    print(f"oversmooth {__version__}  analyze  {res.name}: N={f.n_nodes} edges={f.n_edges} (undirected, stored "
          f"without self-loops) classes={f.n_classes} labelled={f.n_labelled}")
    meta = graph.metadata or {}
    cleaned = [f"{k.replace('_', ' ')}={meta[k]}" for k in ("duplicate_edges", "self_loops_removed", "symmetrized")
               if meta.get(k)]
    if cleaned:
        print("input cleaned: " + ", ".join(cleaned))
    for note in res.notes:
        print(f"note: {note}")
    print("\n1. fitted CSBM (degrees include the self-loop)")
    print(f"   block sizes {f.block_sizes}")
    print(f"   p_in={f.p_in:.4g}  q_out={f.q_out:.4g}  lambda_pq=(p-q)/(p+(K-1)q)={f.lam_pq:.4g}  "
          f"edge homophily={f.edge_homophily:.3g}")
    print(f"   class transition M of D^-1 A: mixing eigenvalue lambda={f.lam:.4g}  (eigenvalues "
          + ", ".join(f"{x:.3g}" for x in f.eigenvalues) + ")")
    print(f"   average degree d={f.mean_degree:.4g} +- {f.degree_std:.3g} (min {f.min_degree}, max {f.max_degree})  "
          f"d lambda^2={f.d_lambda2:.3g}  lambda_eff={'-' if f.lambda_eff is None else f'{f.lambda_eff:.4g}'} (ours)")
    print(f"   sum_j pi_j^2={f.pi_sq_sum:.4g}  variance limit (component-wise)={f.limit_variance:.4g}  "
          f"bounds [sigma^2/N={1 / f.n_nodes:.3g}, sigma^2=1]")
    print(f"   components={f.n_components} (largest {f.largest_component})  isolated nodes={f.isolated_nodes}")
    print(f"\n2-3. per depth: Gaussian class features (means {cfg['snr']:g} x one-hot, sigma=1, {cfg['seeds']} draws), "
          f"variance {cfg['variance']}" + (f" ({cfg['probes']} probes)" if cfg["probes"] else "")
          + "; CSBM = the fitted model's theory (mean-field gap M^n mu, Catalan variance (ours))")
    cols = list(_TABLE) + (list(_PROBE) if cfg["features"] == "real" else [])
    print(format_table(res.rows, cols))
    reach = res.reach
    print(f"\n   reach (BFS from {reach['sources']} sources): new nodes per hop "
          + " ".join(f"{v:.3g}" for v in reach["new_per_hop"][: min(len(reach['new_per_hop']), 16)])
          + (" ..." if len(reach["new_per_hop"]) > 16 else ""))
    print(f"   diameter >= {reach['diameter_lower_bound']} (BFS estimate)  reach saturates (99%) at hop "
          f"{reach['reach_saturation_hop'] if reach['reach_saturation_hop'] is not None else '> D'}  variance "
          f"saturates (at most 1.15 x its limit + 4 SE) at depth "
          f"{reach['variance_saturation_depth'] if reach['variance_saturation_depth'] is not None else '> D'}")
    dep = res.departures
    print(f"   departs from the CSBM (measured/theory outside [1/{dep['factor']:g}, {dep['factor']:g}]) at depth: "
          f"gap {_dep(dep['gap_vs_mean_field'])}, variance {_dep(dep['variance_vs_catalan'])}")
    rec = res.recommendation
    print("\n4. recommendation")
    lo, hi = rec["within_one_se"]
    print(f"   depth {rec['depth']} (depths {lo}..{hi} are within one SE of the best), by the {rec['criterion']}")
    if "probe" in rec:
        p = rec["probe"]
        print(f"   linear probe at depth {p['depth']}: test accuracy {p['test_accuracy']:.3f} +- "
              f"{p['test_accuracy_std']:.3f} (std over {cfg['splits']} splits)")
    print(f"   Gaussian features: realised error {rec['gcn']['error']:.4g} +- {rec['gcn']['se']:.2g} at depth "
          f"{rec['gcn']['depth']}; Bayes-error argmin {rec['bayes_depth']}, fitted-CSBM argmin "
          f"{rec['theory_bayes_depth']}")
    if rec.get("appnp"):
        a = rec["appnp"]
        print(f"   APPNP: best alpha={a['alpha']:g} (depth {a['best_depth']}, realised error "
              f"{a['best_realised_error']:.4g}); {'beats' if rec['appnp_beats_gcn'] else 'does not beat'} GCN's best")
    print(f"   ({res.seconds:.1f} s)")


def _dep(v: Any) -> str:
    return "never (up to D)" if v is None else str(v)


def _cmd_analyze(args: argparse.Namespace) -> int:
    from ..experiments import analyze_graph
    from ..graphs import IntegrityError, UnsafePickleError, UnverifiedFileError
    from . import CLIError

    if args.depth < 1:
        raise CLIError(f"oversmooth analyze: error: --depth must be >= 1, got {args.depth}")
    if args.seed < 0:
        raise CLIError(f"oversmooth analyze: error: --seed must be >= 0, got {args.seed}")
    try:
        graph = _load(args)
    except (OSError, IntegrityError, UnverifiedFileError, UnsafePickleError, pickle.UnpicklingError) as exc:
        raise CLIError(f"oversmooth analyze: error: {exc}") from None
    res = analyze_graph(graph, args.depth, snr=args.snr, features=args.features, seeds=args.seeds,
                        variance=args.method, probes=args.probes, alphas=args.alphas, bfs_sources=args.bfs_sources,
                        splits=args.splits, seed=args.seed)
    out = res.to_json()
    if args.json == "-":
        sys.stdout.write(json.dumps(out, allow_nan=False) + "\n")
    else:
        _print(res, graph)
        if args.json:
            Path(args.json).write_text(json.dumps(out, allow_nan=False, indent=1) + "\n", encoding="utf-8")
            print(f"wrote {args.json}")
    if args.figure:
        from ..viz import save_figure
        from ..viz._analyze import figure_analysis

        paths = save_figure(figure_analysis(out), args.figure)
        if args.json != "-":
            print("wrote " + ", ".join(map(str, paths)))
    return 0


def add_parser(sub: Any) -> None:
    """Register ``oversmooth analyze``."""
    p = sub.add_parser(
        "analyze",
        help="fit a CSBM to a real graph, measure mixing/denoising per depth, recommend a depth",
        description="Fit a CSBM to a labelled graph (a Planetoid name or an edge list / .npz / .graphml / .gml "
        "file), measure per depth the mixing of Gaussian class features, the feature-noise variance, the Bayes and "
        "realised errors (and with --features real a linear probe on P^n X), the graph's reach, compare with the "
        "fitted CSBM's theory and recommend a depth and APPNP's alpha. Propagation: P = D^-1 A with self-loops "
        "added (A_ii = 1). Planetoid structure and labels ship with the package; --features real loads the raw "
        "files from --root, the cache ($OVERSMOOTH_DATA or ~/.cache/oversmooth) or downloads them (SHA-256 "
        "checked).",
        epilog="examples:\n  oversmooth analyze cora --depth 16 --json cora.json --figure cora.png\n"
        "  oversmooth analyze edges.txt --labels labels.txt --depth 32 --hutchinson\n"
        "  oversmooth analyze citeseer --features real --root data/planetoid",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("graph", metavar="GRAPH", help="cora | citeseer | pubmed, or a graph file")
    p.add_argument("--labels", default=None, help="labels file for an edge list: 'node label' lines (missing -> -1)")
    p.add_argument("--depth", type=int, default=16, help="largest depth D; rows for 0..D (default 16)")
    p.add_argument("--snr", type=float, default=1.0, help="Gaussian class means snr x one-hot, sigma=1 (default 1)")
    p.add_argument("--features", default="gaussian", choices=["gaussian", "real"],
                   help="gaussian (default) or real: add a linear probe on P^n X (needs the graph's features)")
    p.add_argument("--seeds", type=int, default=3, help="Gaussian feature draws (default 3)")
    p.add_argument("--splits", type=int, default=3, help="random 60/20/20 splits for the probe (default 3)")
    p.add_argument("--probes", type=int, default=32, help="Hutchinson probes (default 32)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--exact", dest="method", action="store_const", const="exact",
                   help="exact feature-noise variance (dense rows; small graphs)")
    g.add_argument("--hutchinson", dest="method", action="store_const", const="hutchinson",
                   help="Hutchinson estimate with --probes random +-1 vectors (default above 5000 nodes)")
    p.set_defaults(method="auto", func=_cmd_analyze)
    p.add_argument("--alphas", type=float, nargs="*", default=[0.05, 0.1, 0.2, 0.3, 0.5],
                   help="APPNP alphas to compare (default 0.05 0.1 0.2 0.3 0.5; none to skip)")
    p.add_argument("--bfs-sources", type=int, default=64, help="BFS sources for the reach (default 64)")
    p.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    p.add_argument("--directed", action="store_true", help="edge-list lines are arcs (default: undirected edges)")
    p.add_argument("--symmetrize", action="store_true", help="make a directed graph undirected (else an error)")
    p.add_argument("--delimiter", default=None, help="edge-list delimiter (default: comma if present, else spaces)")
    p.add_argument("--header", default=None, action=argparse.BooleanOptionalAction,
                   help="edge list has a header line (default: detected when ids are integers)")
    p.add_argument("--root", default=None, help="folder with the raw Planetoid ind.<name>.* files")
    p.add_argument("--data-dir", default=None, help="cache folder (default $OVERSMOOTH_DATA or ~/.cache/oversmooth)")
    p.add_argument("--allow-unverified", action="store_true",
                   help="accept a raw file with no shipped SHA-256 (only ind.pubmed.allx)")
    p.add_argument("--json", default=None, metavar="PATH", help="write the result as JSON to PATH ('-': stdout only)")
    p.add_argument("--figure", default=None, metavar="PATH", help="draw the figure to PATH (.png, plus .svg)")
