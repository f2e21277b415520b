"""GCN, APPNP and GCNII on the public Planetoid split of Cora and CiteSeer, depths 2..64, vs the literature.

Usage::

    python benchmarks/bench_public_split.py --root DIR                # DIR: raw ind.<name>.* Planetoid files
    python benchmarks/bench_public_split.py --root DIR --deadline 15:10 --graphs cora --models gcn

Every run: the public split (:func:`oversmooth.graphs.planetoid_public_split`: 140/500/1000 nodes on
Cora, 120/500/1000 on CiteSeer, as PyG's ``Planetoid(split="public")``), the raw bag-of-words features
row-normalised, ``P = D^-1/2 (A + I) D^-1/2`` (PyG's ``gcn_norm``), CPU, float32, torch threads 1.

* ``gcn``: Kipf & Welling's recipe (:data:`oversmooth.training.KIPF`) at every depth: hidden 16,
  dropout 0.5, Adam lr 0.01, weight decay 5e-4 on the first layer, no bias, <= 200 epochs, Kipf's
  validation-loss early stopping (window 10), final parameters scored.
* ``appnp``: PyG's citation-benchmark settings: MLP 64 hidden, dropout 0.5, lr 0.01, weight decay 5e-4
  on all parameters, alpha 0.1, K = depth propagation steps, 200 epochs, the state of the epoch with the
  best validation accuracy scored (no early stop). Depth 10 (the APPNP paper's K) is added beside 2..64.
* ``gcnii``: PyG's ``examples/gcn2_cora.py``: hidden 64, alpha 0.1, theta 0.5, shared weights,
  dropout 0.6, lr 0.01, weight decay 0.01 on the convolutions and 5e-4 on the two linear layers, <= 1000
  epochs, the best-validation-accuracy state scored; to fit the time, training stops after 100 epochs
  without a better validation accuracy (the GCNII authors' patience; PyG's example has none).
* ``gcnii_full`` (only the cells named by ``--gcnii-full GRAPH:DEPTH``): the same with PyG's example
  exactly, 1000 epochs and no early stop.

Seeds: each cell has a target number of seeds (``_target``: 10 for the 2-layer GCN, 5 for GCN at 4 and 8
layers and APPNP up to K = 10, 3 / 2 for the deeper GCN and APPNP cells, 3 / 2 / 1 for GCNII at <= 8 / 16 /
32-64 layers; ``--seeds`` caps them). Runs go in order of ``cost x (seed + 1)`` with cost = a model
factor (GCN 1, APPNP 1.2, GCNII 8) x depth, divided by 4 for the four literature cells: the cheap cells get
their seeds before the expensive ones get a first. A run is not started when its expected time (its cell's
last run, else the same model's deepest run so far scaled by depth) would pass ``--deadline``.
``--resume FILE`` reuses the runs of an earlier JSON (runs are deterministic given graph, model, depth
and seed) and adds the missing ones. The JSON states
the seeds and epochs every cell actually ran; nothing is extrapolated. It is rewritten after every run
(``complete`` false until the end).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from _common import RESULTS, machine, print_table

#: Literature test accuracies on the public split (percent).
LITERATURE = {
    ("gcn", "cora", 2): (81.5, "Kipf & Welling 2017, Table 2"),
    ("gcn", "citeseer", 2): (70.3, "Kipf & Welling 2017, Table 2"),
    ("appnp", "cora", 10): (83.3, "literature value given in issue 11 (APPNP, Cora)"),
    ("gcnii", "cora", 64): (85.5, "Chen et al. 2020 (GCNII), Table 2, 64 layers"),
    ("gcnii_full", "cora", 64): (85.5, "Chen et al. 2020 (GCNII), Table 2, 64 layers"),
}

SETTINGS = {
    "gcn": "Kipf recipe: hidden 16, dropout 0.5, lr 0.01, wd 5e-4 first layer, no bias, <= 200 epochs, "
           "Kipf early stopping (window 10), final state",
    "appnp": "MLP hidden 64, dropout 0.5, lr 0.01, wd 5e-4 all, alpha 0.1, K = depth, 200 epochs, "
             "best-val-acc state",
    "gcnii": "hidden 64, alpha 0.1, theta 0.5, shared weights, dropout 0.6, lr 0.01, wd 0.01 convs / 5e-4 "
             "linears, <= 1000 epochs, best-val-acc state, patience 100",
    "gcnii_full": "as gcnii, PyG's examples/gcn2_cora.py exactly: 1000 epochs, no early stop, best-val-acc state",
}


def _target(model: str, depth: int, seeds: int) -> int:
    """Seeds wanted per cell (2 shared cores: the deep cells cost up to 100x the 2-layer GCN)."""
    if model == "gcn":
        want = 10 if depth == 2 else (5 if depth <= 8 else (3 if depth <= 32 else 2))
    elif model == "appnp":
        want = 5 if depth <= 10 else (3 if depth <= 32 else 2)
    else:
        want = 3 if depth <= 8 else (2 if depth <= 16 else 1)
    return min(seeds, want)


def _default_root() -> str | None:
    env = os.environ.get("OVERSMOOTH_PLANETOID_RAW")
    if env:
        return env
    here = Path(__file__).resolve().parents[2] / "shared" / "data" / "planetoid"
    return str(here) if here.is_dir() else None


def _load(name: str, root: str) -> dict[str, Any]:
    import torch

    from oversmooth.graphs import load_planetoid, planetoid_public_split
    from oversmooth.operators import normalize_adjacency
    from oversmooth.training import row_normalize

    g = load_planetoid(name, root=root, download=False, progress=False)
    tr, va, te = planetoid_public_split(g)
    x = row_normalize(np.asarray(g.features, dtype=np.float64))
    gl = g.with_self_loops(True)
    P = normalize_adjacency(gl, "sym")
    with np.errstate(all="ignore"):
        xt = torch.from_numpy(x).float().to_sparse_csr()
    return {"graph": g, "P": P, "x": xt, "y": torch.from_numpy(np.clip(g.labels, 0, None).astype(np.int64)),
            "split": tuple(torch.from_numpy(a.astype(np.int64)) for a in (tr, va, te)),
            "sizes": [int(tr.size), int(va.size), int(te.size)], "n_classes": int(g.labels.max()) + 1}


def _run(model_name: str, depth: int, seed: int, data: dict[str, Any]) -> dict[str, Any]:
    from oversmooth.training import KIPF, PygGNN, deterministic, fit, torch_seed, weight_decay_groups

    code = {"gcn": 1, "appnp": 2, "gcnii": 3, "gcnii_full": 3}[model_name]
    run_seed = torch_seed(seed, code, depth)
    d_in = data["x"].shape[1]
    with deterministic(run_seed, 1):
        if model_name == "gcn":
            m = PygGNN("gcn", data["P"], d_in, KIPF.width, depth, data["n_classes"], dropout=KIPF.dropout,
                       bias=KIPF.bias)
            res = fit(m, data["x"], data["y"], data["split"], lr=KIPF.lr, max_epochs=KIPF.max_epochs,
                      param_groups=weight_decay_groups(m, KIPF.weight_decay, KIPF.weight_decay_scope),
                      selection=KIPF.selection, window=KIPF.window, patience=0)
        elif model_name == "appnp":
            m = PygGNN("appnp", data["P"], d_in, 64, depth, data["n_classes"], dropout=0.5, alpha=0.1)
            res = fit(m, data["x"], data["y"], data["split"], lr=0.01, weight_decay=5e-4, max_epochs=200,
                      patience=0, selection="best_val")
        else:
            m = PygGNN("gcnii", data["P"], d_in, 64, depth, data["n_classes"], dropout=0.6, alpha=0.1, theta=0.5)
            # gcnii and gcnii_full share the torch seed (code 3): same initialisation, only the stopping differs
            conv_ids = {id(p) for p in m.convs.parameters()}
            groups = [{"params": list(m.convs.parameters()), "weight_decay": 0.01},
                      {"params": [p for p in m.parameters() if id(p) not in conv_ids], "weight_decay": 5e-4}]
            res = fit(m, data["x"], data["y"], data["split"], lr=0.01, max_epochs=1000,
                      patience=0 if model_name == "gcnii_full" else 100, param_groups=groups, selection="best_val")
    return {"seed": seed, "run_seed": run_seed, "test_acc": res.test_acc, "val_acc": res.val_acc,
            "train_acc": res.train_acc, "epochs": res.epochs, "best_epoch": res.best_epoch, "seconds": res.seconds}


def _summary(cell: dict[str, Any]) -> dict[str, Any]:
    acc = np.array([r["test_acc"] for r in cell["runs"]]) * 100
    n = acc.size
    out = {k: cell[k] for k in ("graph", "model", "depth", "target_seeds")}
    out.update(seeds=n, seeds_run=[r["seed"] for r in cell["runs"]],
               test_acc_mean=round(float(acc.mean()), 2) if n else None,
               test_acc_se=round(float(acc.std(ddof=1) / np.sqrt(n)), 2) if n > 1 else None,
               test_acc_min=round(float(acc.min()), 2) if n else None,
               test_acc_max=round(float(acc.max()), 2) if n else None,
               epochs_mean=round(float(np.mean([r["epochs"] for r in cell["runs"]])), 1) if n else None,
               seconds_total=round(float(sum(r["seconds"] for r in cell["runs"])), 1),
               settings=SETTINGS[cell["model"]])
    lit = LITERATURE.get((cell["model"], cell["graph"], cell["depth"]))
    if lit:
        out["literature"], out["literature_source"] = lit
        if n:
            out["minus_literature"] = round(out["test_acc_mean"] - lit[0], 2)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=_default_root(), help="folder with the raw Planetoid files")
    ap.add_argument("--graphs", nargs="+", default=["cora", "citeseer"])
    ap.add_argument("--models", nargs="+", default=["gcn", "appnp", "gcnii"], choices=["gcn", "appnp", "gcnii"])
    ap.add_argument("--depths", type=int, nargs="+", default=[2, 4, 8, 16, 32, 64])
    ap.add_argument("--seeds", type=int, default=10, help="seeds of the cheap cells (deep GCNII: fewer)")
    ap.add_argument("--deadline", default=None, help="HH:MM (local clock): start no run expected to end later")
    ap.add_argument("--out", default=str(RESULTS / "public_split.json"))
    ap.add_argument("--resume", default=None, help="an earlier JSON whose runs are kept (not rerun)")
    ap.add_argument("--gcnii-full", nargs="*", default=[], metavar="GRAPH:DEPTH",
                    help="extra one-seed cells: GCNII with PyG's example exactly (1000 epochs, no early stop)")
    args = ap.parse_args(argv)
    if not args.root:
        ap.error("--root is required (or set OVERSMOOTH_PLANETOID_RAW)")
    import torch

    torch.set_num_threads(1)
    deadline = None
    if args.deadline:
        hh, mm = (int(v) for v in args.deadline.split(":"))
        deadline = dt.datetime.now().replace(hour=hh, minute=mm, second=0, microsecond=0).timestamp()
    t_start = time.time()
    data = {g: _load(g, args.root) for g in args.graphs}
    cells: list[dict[str, Any]] = []
    for g in args.graphs:
        for m in args.models:
            depths = sorted(set(args.depths) | ({10} if m == "appnp" else set()))
            for d in depths:
                cells.append({"graph": g, "model": m, "depth": d, "target_seeds": _target(m, d, args.seeds),
                              "runs": [], "skipped": 0, "last_seconds": None})
    for spec in args.gcnii_full:
        g, d = spec.split(":")
        cells.append({"graph": g, "model": "gcnii_full", "depth": int(d), "target_seeds": 1, "runs": [],
                      "skipped": 0, "last_seconds": None})
    cost = {"gcn": 1.0, "appnp": 1.2, "gcnii": 8.0, "gcnii_full": 30.0}
    cells.sort(key=lambda c: cost[c["model"]] * c["depth"])
    out = Path(args.out)
    previous: list[dict[str, Any]] = []
    if args.resume:
        old = json.loads(Path(args.resume).read_text())
        previous = [{"started": old.get("started"), "wall_time_s": old.get("wall_time_s"),
                     "runs": len(old.get("runs", []))}] + list(old.get("previous_sessions", []))
        by_cell = {(c["graph"], c["model"], c["depth"]): c for c in cells}
        for r in old.get("runs", []):
            c = by_cell.get((r["graph"], r["model"], r["depth"]))
            if c is not None and r["seed"] < c["target_seeds"]:
                c["runs"].append({k: v for k, v in r.items() if k not in ("graph", "model", "depth")})
                c["last_seconds"] = r["seconds"]

    def dump(complete: bool) -> None:
        payload = {
            "benchmark": "public Planetoid split: GCN / APPNP / GCNII by depth vs the literature",
            "machine": machine(), "torch_threads": 1, "device": "cpu", "dtype": "float32",
            "split_sizes": {g: data[g]["sizes"] for g in args.graphs},
            "features": "raw Planetoid bag-of-words, row-normalised", "operator": "D^-1/2 (A+I) D^-1/2",
            "settings": SETTINGS, "started": dt.datetime.fromtimestamp(t_start).isoformat(timespec="seconds"),
            "wall_time_s": round(time.time() - t_start, 1), "deadline": args.deadline, "complete": complete,
            "previous_sessions": previous,
            "wall_time_all_sessions_s": round(time.time() - t_start + sum(p["wall_time_s"] or 0 for p in previous), 1),
            "cells": [_summary(c) | {"not_started_for_deadline": c["skipped"]} for c in cells],
            "runs": [{"graph": c["graph"], "model": c["model"], "depth": c["depth"], **r}
                     for c in cells for r in c["runs"]],
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(payload, indent=1) + "\n")

    def key(c: dict[str, Any]) -> float:
        lit = (c["model"], c["graph"], c["depth"]) in LITERATURE
        return cost[c["model"]] * c["depth"] / (4.0 if lit else 1.0)

    def expected(c: dict[str, Any]) -> float:
        if c["last_seconds"]:
            return float(c["last_seconds"])
        done = [o for o in cells if (o["graph"], o["model"]) == (c["graph"], c["model"]) and o["last_seconds"]]
        if not done:
            return 0.0
        o = max(done, key=lambda o: o["depth"])
        return float(o["last_seconds"]) * c["depth"] / o["depth"]

    order = sorted(((c, s) for c in cells for s in range(c["target_seeds"])), key=lambda cs: key(cs[0]) * (cs[1] + 1))
    for c, rnd in order:
        if any(r["seed"] == rnd for r in c["runs"]):
            continue
        expect = expected(c)
        if deadline is not None and time.time() + expect > deadline:
            c["skipped"] += 1
            continue
        r = _run(c["model"], c["depth"], rnd, data[c["graph"]])
        c["runs"].append(r)
        c["last_seconds"] = r["seconds"]
        print(f"{c['graph']:>8} {c['model']:>5} depth {c['depth']:>2} seed {rnd}: test {r['test_acc']:.3f} "
              f"epochs {r['epochs']} {r['seconds']:.1f}s  (elapsed {time.time() - t_start:.0f}s)", flush=True)
        dump(False)
    for c in cells:
        c["runs"].sort(key=lambda r: r["seed"])
    dump(True)
    print_table([_summary(c) for c in cells],
                ["graph", "model", "depth", "seeds", "test_acc_mean", "test_acc_se", "literature", "epochs_mean",
                 "seconds_total"])
    print(f"wall time {time.time() - t_start:.0f} s; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
