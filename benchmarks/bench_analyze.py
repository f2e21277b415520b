"""Benchmark: ``oversmooth analyze`` on PubMed (depth 64) and on a 1e6-node / 1e7-edge edge list.

1. ``oversmooth analyze pubmed --depth 64`` as a subprocess (interpreter start, imports, the
   shipped arrays, every default: 3 Gaussian draws, Hutchinson with 32 probes, 5 APPNP
   alphas, BFS from 64 sources, the text report), timed end to end; goal < 10 s.
2. A user graph: a CSBM with N = 1e6 nodes and 1e7 undirected edges (average degree 20,
   lambda = 0.5) written as a whitespace edge list plus a labels file (not timed), then
   ``read_graph(edges, labels)`` and ``analyze_graph(g, 32, variance="hutchinson",
   probes=32, seeds=1, alphas=(), bfs_sources=8)`` timed; goal < 2 min for both.

Run: ``python benchmarks/bench_analyze.py [--n N] [--skip-pubmed]``; writes
``benchmarks/results/analyze.json``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from _common import print_table, write
from oversmooth.experiments import analyze_graph
from oversmooth.graphs import read_graph, sample_csbm

DEGREE, LAM, DEPTH, PROBES = 20.0, 0.5, 32, 32


def bench_pubmed(depth: int = 64) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        js = Path(tmp) / "pubmed.json"
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "oversmooth", "analyze", "pubmed", "--depth", str(depth),
                               "--json", str(js)], capture_output=True, text=True, check=True)
        wall = time.perf_counter() - t0
        import json

        data = json.loads(js.read_text())
    rec = data["recommendation"]
    print(proc.stdout.splitlines()[0])
    return {"task": f"oversmooth analyze pubmed --depth {depth}", "wall_s": wall,
            "analysis_s": data["seconds"], "recommended_depth": rec["depth"],
            "within_one_se": rec["within_one_se"], "appnp_alpha": rec["appnp"]["alpha"] if rec.get("appnp") else None}


def _write_edge_list(path: Path, rows: np.ndarray, cols: np.ndarray) -> None:
    """Fast text writer (setup only, not timed)."""
    with open(path, "w") as fh:
        step = 1_000_000
        for s in range(0, rows.size, step):
            block = np.char.add(np.char.add(rows[s:s + step].astype(str), " "), cols[s:s + step].astype(str))
            fh.write("\n".join(block.tolist()))
            fh.write("\n")


def bench_large(n: int) -> dict:
    s = 2.0 * DEGREE / n
    g = sample_csbm(n, s * (1 + LAM) / 2, s * (1 - LAM) / 2, seed=0, self_loops=False)
    up = sp.triu(g.adjacency, k=1).tocoo()
    with tempfile.TemporaryDirectory() as tmp:
        edges, labels = Path(tmp) / "edges.txt", Path(tmp) / "labels.txt"
        t0 = time.perf_counter()
        _write_edge_list(edges, up.row, up.col)
        _write_edge_list(labels, np.arange(n), g.labels)
        t_write = time.perf_counter() - t0
        size_mb = edges.stat().st_size / 1e6
        t0 = time.perf_counter()
        h = read_graph(edges, labels)
        t_read = time.perf_counter() - t0
    assert h.n_edges == up.nnz and h.n_nodes == n
    t0 = time.perf_counter()
    res = analyze_graph(h, DEPTH, variance="hutchinson", probes=PROBES, seeds=1, alphas=(), bfs_sources=8, seed=0, metrics=())
    t_analyze = time.perf_counter() - t0
    last = res.rows[-1]
    print(f"N={n} edges={h.n_edges}: edge list {size_mb:.0f} MB written in {t_write:.1f} s (setup); read in "
          f"{t_read:.2f} s; depth-{DEPTH} analysis in {t_analyze:.1f} s; var({DEPTH}) = "
          f"{last['feature_variance']:.3g} +- {last['feature_variance_se']:.2g}; recommended depth "
          f"{res.recommendation['depth']}")
    return {"task": f"read_graph + analyze_graph depth {DEPTH} (N={n}, {h.n_edges} edges)", "n": n,
            "edges": int(h.n_edges), "file_mb": size_mb, "read_s": t_read, "analysis_s": t_analyze,
            "wall_s": t_read + t_analyze, "probes": PROBES, "seeds": 1, "alphas": [], "bfs_sources": 8,
            "recommended_depth": res.recommendation["depth"], "lambda_fit": res.fit.lam,
            "variance_last": last["feature_variance"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="nodes of the synthetic edge list (default 1e6)")
    ap.add_argument("--skip-pubmed", action="store_true")
    ap.add_argument("--skip-large", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    if not args.skip_pubmed:
        rows.append(bench_pubmed())
    if not args.skip_large:
        rows.append(bench_large(args.n))
    print_table(rows, ["task", "wall_s", "analysis_s", "recommended_depth"])
    if args.n == 1_000_000 and not args.skip_pubmed and not args.skip_large:
        path = write("analyze", {"results": rows, "cpu_threads_env": os.environ.get("OMP_NUM_THREADS")})
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
