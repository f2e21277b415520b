"""``oversmooth train``: train linear GNNs, SGC and PyG GNNs over depths, widths and seeds."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "MODEL_CHOICES"]

#: Same as ``oversmooth.training.MODELS`` (kept here so ``--help`` works without torch).
MODEL_CHOICES = ("linear", "sgc", "gcn", "gat", "appnp", "gcnii")
#: Same as ``oversmooth.training.RECIPES``.
RECIPE_CHOICES = ("kipf",)

SUMMARY = (("model", "model"), ("depth", "depth"), ("width", "width"), ("seeds", "seeds"),
           ("test_acc", "test acc"), ("test_sem", "+- sem"), ("val_acc", "val acc"), ("epochs", "epochs"),
           ("bayes_accuracy", "bayes acc"), ("wall_time_s", "time [s]"))


def _summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from ..tables import group_rows, mean_sem

    out = []
    for (model, depth, width), g in group_rows(rows, ["model", "depth", "width"]).items():
        acc, sem = mean_sem(r["test_acc"] for r in g)
        bayes = [r["bayes_accuracy"] for r in g if r["bayes_accuracy"] is not None]
        out.append({"model": model, "depth": depth, "width": width, "seeds": len(g), "test_acc": acc,
                    "test_sem": sem, "val_acc": mean_sem(r["val_acc"] for r in g)[0],
                    "epochs": mean_sem(r["epochs"] for r in g)[0],
                    "bayes_accuracy": mean_sem(bayes)[0] if bayes else None,
                    "wall_time_s": float(sum(r["wall_time_s"] for r in g))})
    return out


def _cmd_train(args: argparse.Namespace) -> int:
    from ._common import CLIError, check_output_dir, format_table

    check_output_dir(args.out, "--out", "train")
    try:
        from ..training import TrainingConfig, TrainingProfiler, quick_config, recipe_config, run_training
        from ..training import write_training_csv
    except ImportError as exc:
        raise CLIError(f"oversmooth train: error: {exc}") from None
    if args.quick and args.recipe:
        raise CLIError("oversmooth train: error: --quick and --recipe are alternatives; give one (see --help)")
    features = args.features
    if args.gaussian_features:
        if features not in (None, "gaussian"):
            raise CLIError("oversmooth train: error: --gaussian-features contradicts --features FILE")
        features = "gaussian"
    given = {
        "graph": args.graph, "labels": args.labels, "models": args.model, "depths": args.depths, "widths": args.widths,
        "seeds": args.seeds, "seed": args.seed, "n": args.n, "lam": args.lam, "snr": args.snr,
        "degree": args.degree, "feature_dim": args.feature_dim, "normalization": args.normalization,
        "operator": args.operator, "lr": args.lr, "weight_decay": args.weight_decay, "max_epochs": args.epochs, "patience": args.patience,
        "dropout": args.dropout, "alpha": args.alpha, "dtype": args.dtype, "threads": args.threads,
        "features": features, "root": args.root, "split": args.split, "feature_norm": args.feature_norm,
    }
    given = {k: (tuple(v) if isinstance(v, list) else v) for k, v in given.items() if v is not None}
    if args.quick:
        cfg = quick_config(**given)
    elif args.recipe:
        cfg = recipe_config(args.recipe, **given)
    else:
        cfg = TrainingConfig(**given)
    out = Path(args.out)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    profiler = TrainingProfiler(max(cfg.depths)) if args.profile else None
    t0 = time.perf_counter()
    try:
        rows = run_training(cfg, progress=not args.no_progress, on_model=profiler)
    except BaseException:
        if created and not any(out.iterdir()):  # refused or interrupted before writing: leave nothing behind
            out.rmdir()
        raise
    total = time.perf_counter() - t0
    csv_path = write_training_csv(rows, out / "training.csv")
    (out / "config.json").write_text(json.dumps({"config": cfg.to_dict(), "quick": bool(args.quick),
                                                 "recipe": cfg.recipe_label(), "runs": len(rows),
                                                 "wall_time_s": total}, indent=1) + "\n", encoding="utf-8")
    wrote = [str(csv_path), str(csv_path.with_name("timings.csv")), str(out / "config.json")]
    if profiler is not None:
        wrote.append(str(profiler.write_csv(out / "profile.csv")))
        if not args.no_figure:
            wrote += [str(p) for p in profiler.figures(out / "figures") if p.suffix == ".png"]
    if not args.no_figure:
        from ..viz import figure_training, save_figure

        wrote += [str(p) for p in save_figure(figure_training(rows), out / "figures" / "training.png")]
    r0 = rows[0]
    print(f"oversmooth train  graph={cfg.graph} ({r0['features']} features: {r0['features_source']}; "
          f"N={r0['n']})  split={r0['split']} ({r0['n_train']}/{r0['n_val']}/{r0['n_test']})  "
          f"normalization={cfg.normalization}  operator={cfg.operator}  "
          f"threads={cfg.threads}  {len(rows)} runs in {total:.1f} s")
    print(f"recipe: {r0['recipe']}; feature_norm={r0['feature_norm']}, weight decay on {r0['weight_decay_scope']}, "
          f"{r0['model_selection']}")
    print(format_table(_summary(rows), SUMMARY))
    print("\nwrote " + ", ".join(wrote))
    return 0


def add_parser(sub: Any) -> None:
    from ._common import finite_float, integer

    """Register ``oversmooth train``."""
    p = sub.add_parser(
        "train",
        help="train linear GNNs (per-layer weights), SGC and PyG GNNs across depths (needs the train extra)",
        description="Train the linear GNN with per-layer weights h(k+1) = P h(k) W_k, the linear classifier on "
        "h(n) (SGC) and PyG's GCN, GAT, APPNP and GCNII on CSBM or real graphs, for every depth, width and "
        "seed (random 60/20/20 splits unless --split, Adam, early stopping on validation). P = D^-1 A with "
        "self-loops unless --normalization sym. Real graphs use their own features when they have them "
        "(--features gaussian or FILE to choose); every row says which features and which split were used. "
        "--recipe kipf trains Kipf & Welling's GCN (public split, D^-1/2 (A+I) D^-1/2, row-normalised "
        "features, hidden 16, dropout 0.5, lr 0.01, weight decay 5e-4 on the first layer, 200 epochs with "
        "their early stopping). Writes DIR/training.csv (tidy, one row per run; same seed, same bytes), DIR/timings.csv (wall times), DIR/config.json and "
        "DIR/figures/training.png|svg; with --profile also DIR/profile.csv (run x layer x metric) and "
        "DIR/figures/profile_<model>_depth<n>.png|svg. Needs `pip install 'oversmooth[train]'`.",
        epilog="examples:\n  oversmooth train --quick --out out-train\n"
        "  oversmooth train --graph csbm --model linear sgc --depths 1 2 4 8 16 32 64 --widths 16 64 256 "
        "--seeds 10 --out out-train\n  oversmooth train --graph cora --model gcn appnp --depths 1 2 4 8 --widths 64 "
        "--seeds 3 --out out-cora\n"
        "  oversmooth train --graph cora --root DIR --model gcn --depths 2 --widths 16 --seeds 10 --split public "
        "--recipe kipf --out out-kipf\n"
        "  oversmooth train --graph cora --root DIR --recipe kipf --depths 2 8 --seeds 2 --profile --out out-prof",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--graph", default=None, help="csbm (default), cora, citeseer, pubmed, or a labelled graph file "
                   "(.npz, edge list, GraphML, GML; see oversmooth.graphs.read_graph)")
    p.add_argument("--labels", default=None, help="labels of a graph file: a 'node label' file for an edge list, "
                   "or a .npy / text file of N integers (-1 = unlabelled)")
    p.add_argument("--model", "--models", dest="model", nargs="+", choices=MODEL_CHOICES, default=None,
                   help="models to train (default linear sgc; --recipe kipf: gcn)")
    p.add_argument("--depths", type=integer, nargs="+", default=None,
                   help="propagation depths (default 1 2 4 8 16 32 64; --quick 1 2 4 8 16)")
    p.add_argument("--widths", type=integer, nargs="+", default=None,
                   help="hidden widths (default 16 64 256; --quick 16 64); sgc has none")
    p.add_argument("--seeds", type=integer, default=None, help="replicates seed, seed+1, ... (default 10; --quick 2)")
    p.add_argument("--seed", type=integer, default=None, help="first seed (default 0)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--recipe", choices=RECIPE_CHOICES, default=None,
                   help="kipf: Kipf & Welling's GCN recipe (gcn, depth 2, width 16, public split, sym "
                   "normalisation, row-normalised features, dropout 0.5, lr 0.01, weight decay 5e-4 on the first "
                   "layer, no bias, <= 200 epochs with their validation-loss early stopping); explicit options "
                   "override it and the rows say so")
    p.add_argument("--profile", action="store_true",
                   help="also write profile.csv (every trained model's layers measured: separation, spreads, "
                   "Dirichlet energy, Rayleigh quotient, MAD, effective rank, probe accuracy) and a figure per "
                   "model and depth beside the untrained propagation P^k x")
    p.add_argument("--quick", action="store_true",
                   help="small CSBM (N=1000), depths 1..16, widths 16 64, 2 seeds, <= 200 epochs; explicit options "
                   "override")
    g = p.add_argument_group("CSBM and features")
    g.add_argument("--n", type=integer, nargs="+", default=None, help="CSBM nodes N (default 2000; --quick 1000)")
    g.add_argument("--lam", type=finite_float, nargs="+", default=None, help="CSBM lambda = (p-q)/(p+q) (default 0.5)")
    g.add_argument("--snr", type=finite_float, nargs="+", default=None,
                   help="Gaussian class features: ||mu_1 - mu_0|| / sigma (default 1)")
    g.add_argument("--degree", type=finite_float, default=None, help="CSBM expected degree (N/2)(p+q) (default 10)")
    g.add_argument("--feature-dim", type=integer, default=None, help="Gaussian feature dimension d (default 16)")
    g.add_argument("--features", default=None, metavar="FILE|gaussian",
                   help="node features: 'gaussian' (Gaussian class features, drawn per seed) or an .npy/.npz "
                   "file (key x or features); default the graph's own features when it has them (Planetoid files, "
                   ".npz/GraphML with features), else Gaussian")
    g.add_argument("--gaussian-features", action="store_true", help="same as --features gaussian")
    g.add_argument("--root", default=None, metavar="DIR",
                   help="folder with the raw Planetoid files ind.<name>.* (cora, citeseer, pubmed)")
    g.add_argument("--split", default=None, metavar="public|random|PATH",
                   help="random (default: seeded 60/20/20 per seed), public (the Planetoid split: 140/120/60 "
                   "train, 500 val, 1000 test) or an .npz file with train/val/test masks or index arrays")
    g.add_argument("--feature-norm", choices=["none", "row"], default=None,
                   help="row: divide each feature row by its sum (default none; --recipe kipf: row)")
    t = p.add_argument_group("training")
    t.add_argument("--operator", choices=["gcn", "corrected"], default=None,
                   help="gcn: propagate with P (default); corrected: with P - u w^T, the stationary component "
                        "removed at every layer (Wang, Baranwal & Fountoulakis 2024; models linear, sgc, gcn)")
    t.add_argument("--normalization", choices=["rw", "sym"], default=None,
                   help="rw = D^-1 A (the paper's, default), sym = D^-1/2 A D^-1/2")
    t.add_argument("--lr", type=finite_float, default=None, help="Adam learning rate (default 0.01)")
    t.add_argument("--weight-decay", type=finite_float, default=None, help="Adam weight decay (default 5e-4)")
    t.add_argument("--epochs", type=integer, default=None, help="maximum epochs (default 300; --quick 200)")
    t.add_argument("--patience", type=integer, default=None,
                   help="early stopping: epochs without a better validation accuracy (default 50; --quick 30)")
    t.add_argument("--dropout", type=finite_float, default=None, help="feature dropout of the PyG models (default 0.5)")
    t.add_argument("--alpha", type=finite_float, default=None, help="APPNP/GCNII initial-residual alpha (default 0.1)")
    t.add_argument("--dtype", choices=["float32", "float64"], default=None, help="default float32")
    t.add_argument("--threads", type=integer, default=None, help="torch threads, recorded in the rows (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--no-figure", action="store_true", help="skip the figure")
    p.set_defaults(func=_cmd_train)
