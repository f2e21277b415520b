"""Benchmark: ``profile_embeddings`` on Cora (raw features + 8 layers) and on 1e6 nodes x 64 dims x 8 layers.

1. Cora: the raw 1433-dimensional features as layer 0, then 8 layers of 2708 x 64 (an untrained
   linear GCN: ``P^k X W`` with ``P = D^-1 A`` (self-loops added), ``W`` a fixed Gaussian 1433 x 64
   matrix), every measure (MADGap and the group distance ratio exact at this size), the seeded
   60/20/20 probe split; goal < 10 s on 2 cores.
2. A CSBM with N = 1e6 nodes, average degree ~10 (lambda = 0.5, two classes), 64-dim Gaussian class
   features propagated 7 times (8 layers of 1e6 x 64), every measure with MADGap on sampled sources
   (256) and the group distance ratio on ~5000 sampled nodes, the probe fitted on 20000 sampled
   training nodes; goal < 2 min. Building the graph and the layers is not timed.

Both time each measure alone too (``--breakdown``). The machine is shared: the load average before
and after each run is recorded with the timings.

Run: ``python benchmarks/bench_profile.py [--n N] [--skip-large] [--breakdown]``; writes
``benchmarks/results/profile.json``. Cora is read from ``$OVERSMOOTH_PLANETOID_RAW`` (default
``/work/shared/data/planetoid``) with ``download=False``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from _common import print_table, write
from oversmooth.graphs import load_planetoid, sample_csbm
from oversmooth.measures import PROFILE_METRICS, profile_embeddings
from oversmooth.operators import iter_propagate, normalize_adjacency

WIDTH, LAYERS = 64, 8


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def _time_profile(layers: list[np.ndarray], labels: np.ndarray, graph, breakdown: bool) -> dict:
    load_before = _load()
    t0 = time.perf_counter()
    prof = profile_embeddings(layers, labels, graph, seed=0, progress=False)
    total = time.perf_counter() - t0
    out = {"seconds": total, "load_before": load_before, "load_after": _load(), "repr": repr(prof),
           "first_row": prof.rows[0], "last_row": prof.rows[-1]}
    if breakdown:
        per = {}
        for m in PROFILE_METRICS:
            t0 = time.perf_counter()
            profile_embeddings(layers, labels, graph, metrics=[m], seed=0, progress=False)
            per[m] = time.perf_counter() - t0
        out["per_metric_seconds"] = per
    return out


def bench_cora(breakdown: bool) -> dict:
    root = os.environ.get("OVERSMOOTH_PLANETOID_RAW", "/work/shared/data/planetoid")
    g = load_planetoid("cora", root=root, download=False)
    x = np.asarray(g.features, dtype=np.float64)
    w = np.random.default_rng(0).standard_normal((x.shape[1], WIDTH)) / np.sqrt(x.shape[1])
    layers = [x] + [h for h in iter_propagate(normalize_adjacency(g), x @ w, LAYERS - 1)]
    res = _time_profile(layers, g.labels, g, breakdown)
    res.update({"task": f"cora raw features ({x.shape[1]} dims) + {LAYERS} layers of {g.n_nodes} x {WIDTH}",
                "n_nodes": g.n_nodes, "layers": len(layers), "goal_s": 10.0})
    return res


def bench_large(n: int, breakdown: bool) -> dict:
    degree, lam = 10.0, 0.5
    s = 2.0 * degree / n
    t0 = time.perf_counter()
    g = sample_csbm(n, s * (1 + lam) / 2, s * (1 - lam) / 2, seed=0)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, WIDTH))
    x[:, 0] += np.where(g.labels == 1, 1.0, -1.0)
    layers = list(iter_propagate(normalize_adjacency(g), x, LAYERS - 1))
    t_setup = time.perf_counter() - t0
    res = _time_profile(layers, g.labels, g, breakdown)
    res.update({"task": f"CSBM N={n} (mean degree {g.degrees.mean():.3g} with the self-loop), {LAYERS} layers of "
                        f"{n} x {WIDTH}, sampled MADGap", "n_nodes": n, "edges": g.n_edges, "layers": len(layers),
                "setup_s": t_setup, "goal_s": 120.0})
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="nodes of the large CSBM (default 1e6)")
    ap.add_argument("--skip-large", action="store_true", help="only the Cora run")
    ap.add_argument("--breakdown", action="store_true", help="also time each measure alone")
    args = ap.parse_args(argv)
    results = {"cora": bench_cora(args.breakdown)}
    print(f"{results['cora']['task']}: {results['cora']['seconds']:.2f} s  {results['cora']['repr']}")
    if not args.skip_large:
        results["large"] = bench_large(args.n, args.breakdown)
        print(f"{results['large']['task']}: {results['large']['seconds']:.2f} s  {results['large']['repr']}")
    rows = [{"task": k, "seconds": v["seconds"], "goal_s": v["goal_s"], "load_before": v["load_before"][0],
             "load_after": v["load_after"][0]} for k, v in results.items()]
    print_table(rows, ["task", "seconds", "goal_s", "load_before", "load_after"])
    for k, v in results.items():
        if "per_metric_seconds" in v:
            print(k, {m: round(t, 2) for m, t in v["per_metric_seconds"].items()})
    path = write("profile", results)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
