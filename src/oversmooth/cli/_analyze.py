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
_PROFILE = (("depth", "depth"), ("probe_val_error", "probe val err"), ("probe_test_accuracy", "probe test acc"),
            ("probe_test_accuracy_std", "+- std"), ("separation", "separation"),
            ("within_class_spread", "within spread"), ("rayleigh_quotient", "rayleigh"), ("mad", "MAD"),
            ("mad_gap", "MADGap"), ("group_distance_ratio", "GDR"), ("effective_rank", "eff rank"))
_NAMED = ("auto", "gaussian", "real")
_SPLITS = ("random", "public")


def _load(args: argparse.Namespace) -> tuple[Any, Any, str | None, list[str]]:
    """(graph, features argument for analyze_graph, where the features came from, notes)."""
    from ..graphs import (PLANETOID_NAMES, UnverifiedFileError, load_planetoid, planetoid_structure, read_features,
                          read_graph)
    from . import CLIError

    spec = args.features
    if spec not in _NAMED and not Path(spec).is_file():
        raise CLIError(f"oversmooth analyze: error: --features must be auto, gaussian, real or a .npy/.npz feature "
                       f"file; file not found: {spec}")
    notes: list[str] = []
    path = Path(args.graph)
    if path.is_file():  # a folder that happens to be named cora (e.g. a --root) is not a graph file
        graph = read_graph(path, args.labels, directed=args.directed, symmetrize=args.symmetrize,
                           delimiter=args.delimiter, header=args.header)
        if spec == "real" and graph.features is None:
            raise CLIError(f"oversmooth analyze: error: --features real: {path} holds no features; pass --features "
                           "FILE (.npy/.npz, one row per node) or --features gaussian")
    else:
        name = args.graph.lower()
        if name not in PLANETOID_NAMES:
            raise CLIError(f"oversmooth analyze: error: {args.graph!r} is neither a file nor a Planetoid name "
                           f"({', '.join(PLANETOID_NAMES)})")
        if args.labels:
            raise CLIError("oversmooth analyze: error: --labels goes with a graph file, not a Planetoid name")
        graph = None
        if spec == "real":  # the raw files from --root, the cache, or downloaded (SHA-256 checked)
            graph = load_planetoid(name, root=args.root, data_dir=args.data_dir,
                                   allow_unverified=args.allow_unverified)
        elif spec == "auto":  # the raw files when they are here (--root or the cache); never downloads
            try:
                graph = load_planetoid(name, root=args.root, data_dir=args.data_dir, download=False,
                                       allow_unverified=args.allow_unverified, progress=False)
            except (FileNotFoundError, UnverifiedFileError) as exc:
                notes.append(f"no usable Planetoid feature files ({exc}); Gaussian class features instead: pass "
                             "--root DIR with the raw files, or --features real to download them")
        if graph is None:
            graph = (load_planetoid(name, root=args.root, data_dir=args.data_dir, features=False, download=False)
                     if args.root else planetoid_structure(name))
    if spec in _NAMED:
        return graph, spec, None, notes
    try:
        x = read_features(spec, graph.n_nodes)
    except ValueError as exc:
        raise CLIError(f"oversmooth analyze: error: --features: {exc}") from None
    if graph.features is not None:
        notes.append(f"--features {spec} replaces the graph's own features")
    return graph, x, f"--features file {spec}", notes


def _check_split(args: argparse.Namespace, graph: Any) -> Any:
    from ..graphs import resolve_split
    from . import CLIError

    spec = args.split
    if spec not in _SPLITS and not Path(spec).is_file():
        raise CLIError(f"oversmooth analyze: error: --split must be random, public or an .npz split file; "
                       f"file not found: {spec}")
    if spec == "random":
        return spec  # drawn from the labelled nodes by analyze_graph
    try:
        resolve_split(spec, graph)
    except (ValueError, OSError) as exc:
        raise CLIError(f"oversmooth analyze: error: --split {spec}: {exc}") from None
    return spec


def _print(res: Any, graph: Any) -> None:
    from .._version import __version__
    from . import format_table

    f = res.fit
    cfg = res.config
    print(f"oversmooth {__version__}  analyze  {res.name}: N={f.n_nodes} edges={f.n_edges} (undirected, stored "
          f"without self-loops) classes={f.n_classes} labelled={f.n_labelled}")
    print(f"features: {res.features['summary']}")
    print(f"split: {cfg['split']}")
    meta = graph.metadata or {}
    cleaned = [f"{k.replace('_', ' ')}={meta[k]}" for k in ("duplicate_edges", "self_loops_removed", "symmetrized")
               if meta.get(k)]
    if cleaned:
        print("input cleaned: " + ", ".join(cleaned))
    if meta.get("weighted"):
        print("edges: weighted (D^-1 A uses the weighted degrees; the fitted CSBM counts edges)")
    elif meta.get("weights_ignored"):
        print("edges: the file's edge weights were ignored (read as 1)")
    for note in res.notes:
        print(f"note: {note}")
    print("\n1. fitted CSBM (degrees include the self-loop)")
    print(f"   block sizes {f.block_sizes}")
    print(f"   p_in={f.p_in:.4g}  q_out={f.q_out:.4g}  lambda_pq=(p-q)/(p+(K-1)q)={f.lam_pq:.4g}  "
          f"edge homophily={f.edge_homophily:.3g}")
    print(f"   class transition M of D^-1 A: mixing eigenvalue lambda={f.lam:.4g}  (eigenvalues "
          + ", ".join(f"{x:.3g}" for x in f.eigenvalues) + ")")
    print(f"   average degree d={f.mean_degree:.4g} +- {f.degree_std:.3g} (min {f.min_degree}, max {f.max_degree})  "
          f"d lambda^2={f.d_lambda2:.3g}")
    nu = "-" if f.lambda_eff is None else f"{f.lambda_eff:.4g}"
    print(f"   finite-degree rate nu={nu} (ours, from lambda_pq and c = d - 1; '-' below c lambda_pq^2 = 1)")
    print(f"   sum_j pi_j^2={f.pi_sq_sum:.4g}  variance limit (component-wise)={f.limit_variance:.4g}  "
          f"bounds [sigma^2/N={1 / f.n_nodes:.3g}, sigma^2=1]")
    print(f"   components={f.n_components} (largest {f.largest_component})  isolated nodes={f.isolated_nodes}")
    print(f"\n2. per depth, the Gaussian noise model under {cfg['operator']} (class means {cfg['mean_scale']:g} x "
          f"one-hot, sigma=1, {cfg['seeds']} "
          f"draw(s)): gap, feature-noise variance ({cfg['variance']}"
          + (f", {cfg['probes']} probes" if cfg["probes"] else "")
          + "), Bayes error (LDA, K dims), realised error; CSBM = the fitted model's theory (mean-field gap "
          "M^n mu, Catalan variance (ours))")
    cols = list(_TABLE) + ([("mixture_bayes_error", "mixture err"), ("mixture_bayes_error_bound", "+- SE")]
                           if cfg.get("mixture") else [])
    print(format_table(res.rows, cols))
    if cfg.get("mixture"):
        print(f"   mixture err = the noise model's Bayes error given the graph (Gaussian mixture over each class's "
              f"nodes): {res.rows[0].get('mixture_notes')}")
    cols = [c for c in _PROFILE if c[0] in res.rows[0]]
    if len(cols) == 1:
        print("\n3. per-depth profile: none (--metrics without names, and no probe on Gaussian features)")
    else:
        print(f"\n3. per depth, profile of {res.features['measured']} ({res.features['kind']} features, "
              f"{res.features['measured_dim']} dims)" + (f"; probe: {cfg['split']}" if cfg["splits"] else ""))
        print(format_table(res.rows, cols))
        pnotes = sorted({part for r in res.rows for part in (r.get("profile_notes") or "").split("; ") if part})
        for note in pnotes:
            print(f"   profile: {note}")
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
        print(f"   linear probe ({res.features['kind']} features) at depth {p['depth']}: test accuracy "
              f"{p['test_accuracy']:.3f} +- {p['test_accuracy_std']:.3f} (std over {cfg['splits']} split(s))")
    r = rec["realised"]
    th = "-" if rec["theory_bayes_depth"] is None else rec["theory_bayes_depth"]
    print(f"   Gaussian noise model ({cfg['operator']}): realised error {r['error']:.4g} +- {r['se']:.2g} at depth "
          f"{r['depth']}; Bayes-error argmin {rec['bayes_depth']}, fitted-CSBM argmin {th}")
    if rec.get("appnp"):
        a = rec["appnp"]
        print(f"   APPNP: best alpha={a['alpha']:g} (depth {a['best_depth']}, realised error "
              f"{a['best_realised_error']:.4g}); {'beats' if rec['appnp_beats_operator'] else 'does not beat'} the best of "
              f"{cfg['operator_name']}")
    print(f"   ({res.seconds:.1f} s)")


def _dep(v: Any) -> str:
    return "never (up to D)" if v is None else str(v)


def _cmd_analyze(args: argparse.Namespace) -> int:
    from ..experiments import analyze_graph
    from ..graphs import IntegrityError, UnsafePickleError, UnverifiedFileError
    from ._common import CLIError, atomic_write_text, check_output_file

    if args.snr is not None:
        if args.mean_scale is not None:
            raise CLIError("oversmooth analyze: error: --snr is the deprecated name of --mean-scale: pass only "
                           "--mean-scale")
        print("oversmooth analyze: warning: --snr is deprecated (it is not the distance SNR of `oversmooth train`); "
              "use --mean-scale (same meaning: class means VALUE x one-hot)", file=sys.stderr)
        args.mean_scale = args.snr
    if args.json not in (None, "-"):
        check_output_file(args.json, "--json", "analyze")
    if args.figure:
        check_output_file(args.figure, "--figure", "analyze")
    if args.depth < 1:
        raise CLIError(f"oversmooth analyze: error: --depth must be >= 1, got {args.depth}")
    if args.seed < 0:
        raise CLIError(f"oversmooth analyze: error: --seed must be >= 0, got {args.seed}")
    for opt in ("splits", "probe_rank"):
        if getattr(args, opt) < 1:
            raise CLIError(f"oversmooth analyze: error: --{opt.replace('_', '-')} must be >= 1, "
                           f"got {getattr(args, opt)}")
    try:
        graph, features, source, notes = _load(args)
    except (OSError, IntegrityError, UnverifiedFileError, UnsafePickleError, pickle.UnpicklingError) as exc:
        raise CLIError(f"oversmooth analyze: error: {exc}") from None
    split = _check_split(args, graph)
    res = analyze_graph(graph, args.depth, features=features, features_source=source, split=split,
                        mean_scale=1.0 if args.mean_scale is None else args.mean_scale,
                        operator=args.operator, alpha=args.alpha, dtype=args.dtype,
                        seeds=args.seeds, variance=args.method, probes=args.probes, alphas=args.alphas,
                        bfs_sources=args.bfs_sources, splits=args.splits, probe_rank=args.probe_rank,
                        metrics="all" if args.metrics == ["all"] else args.metrics, mixture=args.mixture,
                        progress=False if args.no_progress else None, seed=args.seed)
    res.notes[1:1] = notes
    out = res.to_json()
    if args.json == "-":
        sys.stdout.write(json.dumps(out, allow_nan=False) + "\n")
    else:
        _print(res, graph)
        if args.json:
            atomic_write_text(args.json, json.dumps(out, allow_nan=False, indent=1) + "\n")
            print(f"wrote {args.json}")
    if args.figure:
        from ..viz import figure_analysis, save_figure

        paths = save_figure(figure_analysis(out), args.figure)
        if args.json != "-":
            print("wrote " + ", ".join(map(str, paths)))
    return 0


def add_parser(sub: Any) -> None:
    """Register ``oversmooth analyze``."""
    from ._common import finite_float, integer

    p = sub.add_parser(
        "analyze",
        help="fit a CSBM to a real graph, measure mixing/denoising per depth, recommend a depth",
        description="Fit a CSBM to a labelled graph (a Planetoid name or an edge list / .npz / .graphml / .gml "
        "file), propagate its features (P^n X) and profile every depth (held-out linear probe on real features, "
        "class separation, spreads, Dirichlet energies, MAD, effective rank; --metrics all adds MADGap and the group "
        "distance ratio), measure the Gaussian "
        "noise model's mixing, feature-noise variance, Bayes and realised errors, the graph's reach, compare with "
        "the fitted CSBM's theory and recommend a depth (by the probe's validation error with real features) and "
        "APPNP's alpha. Features (--features auto, the default): the graph's own when it has them (Planetoid raw "
        "files in --root or the cache, an .npz graph holding features), else Gaussian class features; "
        "--features FILE reads a .npy/.npz matrix; --features gaussian chooses Gaussian class features; "
        "--features real requires real ones (Planetoid: downloaded if missing, SHA-256 checked). Every output "
        "says which features were used. Propagation (--operator): P = D^-1 A with self-loops added (A_ii = 1), the "
        "corrected P - 1 pi^T, or APPNP.",
        epilog="examples:\n  oversmooth analyze cora --depth 16 --json cora.json --figure cora.png\n"
        "  oversmooth analyze cora --root data/planetoid --split public --depth 8\n"
        "  oversmooth analyze edges.txt --labels labels.txt --features x.npy --depth 32 --hutchinson\n"
        "  oversmooth analyze citeseer --features gaussian --split split.npz",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("graph", metavar="GRAPH", help="cora | citeseer | pubmed, or a graph file")
    p.add_argument("--labels", default=None, help="labels file for an edge list: 'node label' lines (missing -> -1)")
    p.add_argument("--depth", type=integer, default=16, help="largest depth D; rows for 0..D (default 16)")
    p.add_argument("--operator", choices=("gcn", "corrected", "appnp"), default="gcn",
                   help="propagation: gcn = D^-1 A with self-loops (default, the paper's); corrected = D^-1 A - 1 pi^T "
                   "(Wang, Baranwal, Fountoulakis 2024); appnp = APPNP with --alpha")
    p.add_argument("--dtype", choices=("float64", "float32"), default="float64",
                   help="precision of the propagated features and probes (float32: ~2-3x faster propagation, "
                   "measures accumulated in float64; default float64)")
    p.add_argument("--alpha", type=finite_float, default=0.1, help="APPNP teleport weight for --operator appnp "
                   "(default 0.1)")
    p.add_argument("--mean-scale", type=finite_float, default=None, metavar="S",
                   help="Gaussian noise model: class means S x one-hot, sigma=1 (default 1)")
    p.add_argument("--snr", type=finite_float, default=None, help=argparse.SUPPRESS)  # deprecated: --mean-scale
    p.add_argument("--features", default="auto", metavar="auto|gaussian|real|FILE",
                   help="auto (default): the graph's own features when it has them, else Gaussian class features; "
                   "gaussian; real (required; Planetoid files downloaded if missing); or a .npy/.npz feature file")
    p.add_argument("--split", default="random", metavar="random|public|PATH",
                   help="probe train/val/test nodes: random 60/20/20 splits (default), public (Planetoid), or an "
                   ".npz file with train/val/test masks or index arrays")
    p.add_argument("--seeds", type=integer, default=3, help="Gaussian feature draws (default 3)")
    p.add_argument("--splits", type=integer, default=3, help="random splits for the probe (default 3; --split random)")
    p.add_argument("--mixture", action="store_true",
                   help="also the noise model's exact Bayes error given the graph (Gaussian-mixture view; Monte "
                   "Carlo, O(samples N K) per depth; skipped above 20000 nodes)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (default: one on large profiles when stderr is a terminal)")
    p.add_argument("--probe-rank", type=integer, default=128, metavar="R",
                   help="real features of more dimensions are projected on their top R principal directions "
                   "(randomised SVD) before propagation; the probe and the profile see these (default 128)")
    p.add_argument("--metrics", nargs="*", default=None, metavar="NAME",
                   help="profile measures per depth: 'all', or names (default: separation, spreads, Dirichlet "
                   "energies, Rayleigh quotient, MAD, effective rank; none given: skip the profile)")
    p.add_argument("--probes", type=integer, default=32, help="Hutchinson probes (default 32)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--exact", dest="method", action="store_const", const="exact",
                   help="exact feature-noise variance (dense rows; small graphs)")
    g.add_argument("--hutchinson", dest="method", action="store_const", const="hutchinson",
                   help="Hutchinson estimate with --probes random +-1 vectors (default above 5000 nodes)")
    p.set_defaults(method="auto", func=_cmd_analyze)
    p.add_argument("--alphas", type=finite_float, nargs="*", default=[0.05, 0.1, 0.2, 0.3, 0.5],
                   help="APPNP alphas to compare (default 0.05 0.1 0.2 0.3 0.5; none to skip)")
    p.add_argument("--bfs-sources", type=integer, default=64, help="BFS sources for the reach (default 64)")
    p.add_argument("--seed", type=integer, default=0, help="master seed (default 0)")
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
