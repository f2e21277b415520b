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

SUMMARY = (("model", "model"), ("depth", "depth"), ("width", "width"), ("seeds", "seeds"),
           ("test_acc", "test acc"), ("test_sem", "+- sem"), ("val_acc", "val acc"), ("epochs", "epochs"),
           ("bayes_accuracy", "bayes acc"), ("wall_time_s", "time [s]"))


def _summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    import numpy as np

    from ..experiments._table import group_rows

    out = []
    for (model, depth, width), g in group_rows(rows, ["model", "depth", "width"]).items():
        t = np.array([r["test_acc"] for r in g])
        b = [r["bayes_accuracy"] for r in g if r["bayes_accuracy"] is not None]
        out.append({"model": model, "depth": depth, "width": width, "seeds": len(g), "test_acc": float(t.mean()),
                    "test_sem": float(t.std(ddof=1) / np.sqrt(t.size)) if t.size > 1 else 0.0,
                    "val_acc": float(np.mean([r["val_acc"] for r in g])),
                    "epochs": float(np.mean([r["epochs"] for r in g])),
                    "bayes_accuracy": float(np.mean(b)) if b else None,
                    "wall_time_s": float(sum(r["wall_time_s"] for r in g))})
    return out


def _cmd_train(args: argparse.Namespace) -> int:
    from . import CLIError, format_table

    try:
        from ..training import TrainingConfig, quick_config, run_training
        from ..training._experiment import write_training_csv
    except ImportError as exc:
        raise CLIError(f"oversmooth train: error: {exc}") from None
    given = {
        "graph": args.graph, "labels": args.labels, "models": args.model, "depths": args.depths, "widths": args.widths,
        "seeds": args.seeds, "seed": args.seed, "n": args.n, "lam": args.lam, "snr": args.snr,
        "degree": args.degree, "feature_dim": args.feature_dim, "normalization": args.normalization,
        "lr": args.lr, "weight_decay": args.weight_decay, "max_epochs": args.epochs, "patience": args.patience,
        "dropout": args.dropout, "alpha": args.alpha, "dtype": args.dtype, "threads": args.threads,
        "real_features": False if args.gaussian_features else None,
    }
    given = {k: (tuple(v) if isinstance(v, list) else v) for k, v in given.items() if v is not None}
    cfg = quick_config(**given) if args.quick else TrainingConfig(**given)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows = run_training(cfg, progress=not args.no_progress)
    total = time.perf_counter() - t0
    csv_path = write_training_csv(rows, out / "training.csv")
    (out / "config.json").write_text(json.dumps({"config": cfg.to_dict(), "quick": bool(args.quick),
                                                 "runs": len(rows), "wall_time_s": total}, indent=1) + "\n",
                                     encoding="utf-8")
    wrote = [str(csv_path), str(out / "config.json")]
    if not args.no_figure:
        from ..viz import figure_training, save_figure

        wrote += [str(p) for p in save_figure(figure_training(rows), out / "figures" / "training.png")]
    r0 = rows[0]
    print(f"oversmooth train  graph={cfg.graph} ({r0['features']} features, N={r0['n']})  "
          f"normalization={cfg.normalization}  threads={cfg.threads}  {len(rows)} runs in {total:.1f} s")
    print(format_table(_summary(rows), SUMMARY))
    print("\nwrote " + ", ".join(wrote))
    return 0


def add_parser(sub: Any) -> None:
    """Register ``oversmooth train``."""
    p = sub.add_parser(
        "train",
        help="train linear GNNs (per-layer weights), SGC and PyG GNNs across depths (needs the train extra)",
        description="Train the linear GNN with per-layer weights h(k+1) = P h(k) W_k, the linear classifier on "
        "h(n) (SGC) and PyG's GCN, GAT, APPNP and GCNII on CSBM or real graphs, for every depth, width and "
        "seed (random 60/20/20 splits, Adam, early stopping on validation). P = D^-1 A with self-loops unless "
        "--normalization sym. Writes DIR/training.csv (tidy, one row per run), DIR/config.json and "
        "DIR/figures/training.png|svg. Needs `pip install 'oversmooth[train]'`.",
        epilog="examples:\n  oversmooth train --quick --out out-train\n"
        "  oversmooth train --graph csbm --model linear sgc --depths 1 2 4 8 16 32 64 --widths 16 64 256 "
        "--seeds 10 --out out-train\n  oversmooth train --graph cora --model gcn appnp --depths 1 2 4 8 --widths 64 "
        "--seeds 3 --out out-cora",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--graph", default=None, help="csbm (default), cora, citeseer, pubmed, or a labelled graph file "
                   "(.npz, edge list, GraphML, GML; see oversmooth.graphs.read_graph)")
    p.add_argument("--labels", default=None, help="labels of a graph file: a 'node label' file for an edge list, "
                   "or a .npy / text file of N integers (-1 = unlabelled)")
    p.add_argument("--model", nargs="+", choices=MODEL_CHOICES, default=None,
                   help="models to train (default linear sgc)")
    p.add_argument("--depths", type=int, nargs="+", default=None,
                   help="propagation depths (default 1 2 4 8 16 32 64; --quick 1 2 4 8 16)")
    p.add_argument("--widths", type=int, nargs="+", default=None,
                   help="hidden widths (default 16 64 256; --quick 16 64); sgc has none")
    p.add_argument("--seeds", type=int, default=None, help="replicates seed, seed+1, ... (default 10; --quick 2)")
    p.add_argument("--seed", type=int, default=None, help="first seed (default 0)")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--quick", action="store_true",
                   help="small CSBM (N=1000), depths 1..16, widths 16 64, 2 seeds, <= 200 epochs; explicit options "
                   "override")
    g = p.add_argument_group("CSBM and features")
    g.add_argument("--n", type=int, nargs="+", default=None, help="CSBM nodes N (default 2000; --quick 1000)")
    g.add_argument("--lam", type=float, nargs="+", default=None, help="CSBM lambda = (p-q)/(p+q) (default 0.5)")
    g.add_argument("--snr", type=float, nargs="+", default=None,
                   help="Gaussian class features: ||mu_1 - mu_0|| / sigma (default 1)")
    g.add_argument("--degree", type=float, default=None, help="CSBM expected degree (N/2)(p+q) (default 10)")
    g.add_argument("--feature-dim", type=int, default=None, help="Gaussian feature dimension d (default 16)")
    g.add_argument("--gaussian-features", action="store_true",
                   help="real graphs: use Gaussian class features even when real features load")
    t = p.add_argument_group("training")
    t.add_argument("--normalization", choices=["rw", "sym"], default=None,
                   help="rw = D^-1 A (the paper's, default), sym = D^-1/2 A D^-1/2")
    t.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 0.01)")
    t.add_argument("--weight-decay", type=float, default=None, help="Adam weight decay (default 5e-4)")
    t.add_argument("--epochs", type=int, default=None, help="maximum epochs (default 300; --quick 200)")
    t.add_argument("--patience", type=int, default=None,
                   help="early stopping: epochs without a better validation accuracy (default 50; --quick 30)")
    t.add_argument("--dropout", type=float, default=None, help="feature dropout of the PyG models (default 0.5)")
    t.add_argument("--alpha", type=float, default=None, help="APPNP/GCNII initial-residual alpha (default 0.1)")
    t.add_argument("--dtype", choices=["float32", "float64"], default=None, help="default float32")
    t.add_argument("--threads", type=int, default=None, help="torch threads, recorded in the rows (default 1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--no-figure", action="store_true", help="skip the figure")
    p.set_defaults(func=_cmd_train)
