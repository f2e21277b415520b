"""Benchmark: how the Hutchinson analysis's time grows with N and with depth (target: linear in both).

``depth_profile(g, depth, variance="hutchinson", probes=32, dtype=...)`` on CSBM graphs of average
degree 20 (lambda = 0.5): a sweep over N at fixed depth and a sweep over depth at fixed N, each point
timed ``--repeats`` times in interleaved order (median kept), the load average recorded with every
point. The fitted exponent b of ``time ~ a N^b`` (and ``~ depth^b``) is a least-squares line in
log-log; b = 1 is linear. Points whose memory estimate exceeds the budget are refused up front by
``depth_profile`` and reported as such (the N = 1e7 point needs about 21 GiB in float32).

Run: ``python benchmarks/bench_scaling.py [--ns 1e4,3e4,1e5,3e5,1e6] [--depths 8,16,32,64,128]
[--n-depth 1e5] [--depth-n 16] [--no-smoothness] [--out NAME]``; writes ``benchmarks/results/NAME.json``
(default ``scaling``). ``maxrss_bytes`` is the process's peak so far: run the largest N alone to read its own.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from typing import Any

import numpy as np

from _common import write
from oversmooth.errors import ResourceLimitError
from oversmooth.graphs import sample_csbm
from oversmooth.measures import depth_profile

DEGREE, LAM, PROBES = 20.0, 0.5, 32


def graph(n: int) -> Any:
    s = 2.0 * DEGREE / n
    return sample_csbm(n, s * (1 + LAM) / 2, s * (1 - LAM) / 2, seed=0)


def fit(xs: list[float], ts: list[float]) -> dict[str, float] | None:
    """Least-squares ``log t = log a + b log x``; None with fewer than two points."""
    if len(xs) < 2:
        return None
    b, log_a = np.polyfit(np.log(xs), np.log(ts), 1)
    return {"exponent": float(b), "coefficient": float(np.exp(log_a))}


def one(g: Any, depth: int, dtype: str, smoothness: bool = True) -> float:
    t0 = time.perf_counter()
    depth_profile(g, depth, variance="hutchinson", probes=PROBES, seed=0, mu=g.metadata["mu"],
                  sigma=g.metadata["sigma"], dtype=dtype, smoothness=smoothness)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ns", default="1e4,3e4,1e5,3e5,1e6", help="node counts of the N sweep")
    ap.add_argument("--depth-n", type=int, default=16, help="depth of the N sweep")
    ap.add_argument("--depths", default="8,16,32,64,128", help="depths of the depth sweep")
    ap.add_argument("--n-depth", type=float, default=1e5, help="N of the depth sweep")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--out", default="scaling", help="results file name under benchmarks/results/")
    ap.add_argument("--no-smoothness", action="store_true",
                    help="leave out the Dirichlet energies and MAD (smoothness=False: the N = 1e7 point fits 24 GB)")
    args = ap.parse_args(argv)
    ns = [int(float(v)) for v in args.ns.split(",")]
    depths = [int(v) for v in args.depths.split(",")]
    points: list[dict[str, Any]] = []

    def record(kind: str, n: int, depth: int, times: list[float], note: str = "") -> None:
        points.append({"sweep": kind, "N": n, "depth": depth, "times_s": times,
                       "median_s": statistics.median(times) if times else None, "load": os.getloadavg(),
                       "maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "note": note})
        p = points[-1]
        print(f"{kind:5s} N={n:>9d} depth={depth:>4d} median={p['median_s']} s load={p['load'][0]:.2f} {note}",
              flush=True)

    graphs = {}
    for n in sorted(set(ns + [int(args.n_depth)])):
        try:
            graphs[n] = graph(n)
        except ResourceLimitError as exc:
            graphs[n] = exc
    for kind, grid in (("N", [(n, args.depth_n) for n in ns]), ("depth", [(int(args.n_depth), d) for d in depths])):
        times: dict[tuple[int, int], list[float]] = {key: [] for key in grid}
        notes: dict[tuple[int, int], str] = {}
        for _ in range(args.repeats):  # interleaved: each point once per repeat
            for n, depth in grid:
                g = graphs[n]
                if isinstance(g, Exception) or (n, depth) in notes:
                    notes.setdefault((n, depth), f"refused: {g}" if isinstance(g, Exception) else notes[(n, depth)])
                    continue
                try:
                    times[(n, depth)].append(one(g, depth, args.dtype, not args.no_smoothness))
                except ResourceLimitError as exc:
                    notes[(n, depth)] = f"refused: {exc}"
        for n, depth in grid:
            record(kind, n, depth, times[(n, depth)], notes.get((n, depth), ""))
    ok = [p for p in points if p["median_s"]]
    by_n = [p for p in ok if p["sweep"] == "N"]
    by_d = [p for p in ok if p["sweep"] == "depth"]
    result = {"dtype": args.dtype, "smoothness": not args.no_smoothness, "probes": PROBES, "degree": DEGREE, "repeats": args.repeats, "points": points,
              "fit_N": fit([p["N"] for p in by_n], [p["median_s"] for p in by_n]),
              "fit_N_from_1e5": fit([p["N"] for p in by_n if p["N"] >= 100_000],
                                    [p["median_s"] for p in by_n if p["N"] >= 100_000]),
              "fit_depth": fit([p["depth"] for p in by_d], [p["median_s"] for p in by_d])}
    path = write(args.out, result)
    print({k: result[k] for k in ("fit_N", "fit_N_from_1e5", "fit_depth")})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
