"""Wall time of ``oversmooth train``: the --quick grid, and the full default grid (or a stated fraction).

Usage::

    python benchmarks/bench_train.py                 # quick grid x2, full grid on 1 of its 10 seeds, PyG grid 1 seed
    python benchmarks/bench_train.py --full-seeds 10 --quick-repeats 0 --skip-pyg --merge
                                                     # the whole full grid (about 25 min on 2 cores)
    python benchmarks/bench_train.py --skip-full --skip-pyg

Grids (all on CSBM graphs, D^-1 A with self-loops, torch threads = 1, float32, CPU):

* quick: ``oversmooth train --quick`` = N=1000, linear + sgc, depths 1 2 4 8 16, widths 16 64, 2 seeds,
  <= 200 epochs (patience 30).
* full: ``oversmooth train`` defaults = N=2000, linear + sgc, depths 1 2 4 8 16 32 64, widths 16 64 256,
  10 seeds, <= 300 epochs (patience 50). Seeds are independent runs of the same cost distribution, so
  the time of the whole grid is estimated as (measured time / seeds measured) x 10; the JSON and the table
  label it ``extrapolated``, and ``--full-seeds 10`` measures it outright.
* pyg: gcn gat appnp gcnii, depths 1..64, width 64, N=2000, 1 seed (same extrapolation rule).

Writes ``benchmarks/results/train.json``. No GPU was used (none is needed; the CPU wheel of torch).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from _common import RESULTS, print_table, write

from oversmooth.training import TrainingConfig, quick_config, run_training
from oversmooth.training import write_training_csv


def _measure(name: str, cfg: TrainingConfig, seeds_in_grid: int, csv_dir: str | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    rows = run_training(cfg, progress=False)
    wall = time.perf_counter() - t0
    if csv_dir:
        slug = "".join(c if c.isalnum() else "_" for c in name).strip("_")
        write_training_csv(rows, Path(csv_dir) / f"{slug}.csv")
    per_seed = wall / cfg.seeds
    return {
        "grid": name, "seeds_measured": cfg.seeds, "seeds_in_grid": seeds_in_grid, "runs": len(rows),
        "wall_s": round(wall, 2), "train_s": round(sum(r["wall_time_s"] for r in rows), 2),
        "per_seed_s": round(per_seed, 2),
        "grid_wall_s": round(per_seed * seeds_in_grid, 1),
        "grid_wall_kind": "measured" if cfg.seeds == seeds_in_grid else "extrapolated",
        "mean_epochs": round(sum(r["epochs"] for r in rows) / len(rows), 1),
        "slowest_run": max(({"model": r["model"], "depth": r["depth"], "width": r["width"],
                             "s": round(r["wall_time_s"], 2), "epochs": r["epochs"]} for r in rows),
                           key=lambda d: d["s"]),
        "config": cfg.to_dict(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick-repeats", type=int, default=2)
    ap.add_argument("--full-seeds", type=int, default=1, help="seeds of the full grid to run (of 10)")
    ap.add_argument("--pyg-seeds", type=int, default=1)
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--skip-pyg", action="store_true")
    ap.add_argument("--csv-dir", default=None, help="also write each grid's tidy rows as CSV here")
    ap.add_argument("--merge", action="store_true", help="keep the other grids already in results/train.json")
    args = ap.parse_args(argv)
    results = []
    for i in range(args.quick_repeats):
        results.append(_measure(f"quick (repeat {i + 1})", quick_config(), 2))
        print(f"quick {i + 1}: {results[-1]['wall_s']} s", file=sys.stderr)
    if not args.skip_full:
        results.append(_measure(f"full: linear + sgc, {args.full_seeds} of 10 seeds",
                                TrainingConfig(seeds=args.full_seeds), 10, args.csv_dir))
        print(f"full: {results[-1]['wall_s']} s", file=sys.stderr)
    if not args.skip_pyg:
        cfg = TrainingConfig(models=("gcn", "gat", "appnp", "gcnii"), widths=(64,), seeds=args.pyg_seeds)
        results.append(_measure(f"pyg: gcn gat appnp gcnii, width 64, {args.pyg_seeds} of 10 seeds", cfg, 10,
                                args.csv_dir))
        print(f"pyg: {results[-1]['wall_s']} s", file=sys.stderr)
    print_table(results, ["grid", "seeds_measured", "runs", "wall_s", "per_seed_s", "seeds_in_grid", "grid_wall_s",
                          "grid_wall_kind", "mean_epochs"])
    import torch

    if args.merge and (RESULTS / "train.json").exists():  # keep earlier grids this run did not measure
        names = {r["grid"] for r in results}
        old = json.loads((RESULTS / "train.json").read_text())["results"]
        results = [r for r in old if r["grid"] not in names] + results
    path = write("train", {"device": "CPU only (no GPU in this environment)", "torch": torch.__version__,
                           "torch_threads": 1, "results": results})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
