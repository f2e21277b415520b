"""Benchmark: a sweep of N = 2000 CSBM cells (depths 0..32, GCN and APPNP) on 1 and 2 workers.

Runs the same spec twice through :func:`oversmooth.experiments.run_sweep` on a local
process pool (1 worker, then 2 workers; each into a fresh store), checks that both
stores hold identical values, and reports wall time, cells per second, the speedup,
and the store overhead per cell (the time spent in the store writes: one SQLite
transaction with the cell's 33 x seeds rows, timed separately inside ``run_sweep``).
A second, compute-free measurement rewrites the stored rows of every cell into a
fresh store and times only ``write_cell``.

Usage::

    python benchmarks/bench_sweep.py                 # 1000 cells (25 p x 20 q x 2 operators)
    python benchmarks/bench_sweep.py --cells 100     # a smaller run (p x q grid shrunk)

Prints a table and writes ``benchmarks/results/sweep.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

from oversmooth._version import __version__
from oversmooth.experiments import load_results, parse_spec, run_sweep
from oversmooth.experiments.sweep import ResultStore

HERE = Path(__file__).resolve().parent


def make_spec(cells: int, depth: int, method: str, probes: int) -> dict:
    """``cells`` = n_p x n_q x 2 operators, N = 2000, depths 0..depth."""
    per_op = max(1, cells // 2)
    n_p = max(1, int(round(math.sqrt(per_op * 1.25))))
    n_q = max(1, per_op // n_p)
    return {
        "sweep": {"name": "bench", "seed": 0, "seeds": 1},
        "fixed": {"n": 2000, "depth": depth, "method": method, "probes": probes, "alpha": 0.1},
        "grid": {"p": {"start": 0.006, "stop": 0.02, "num": n_p}, "q": {"start": 0.001, "stop": 0.005, "num": n_q},
                 "operator": ["gcn", "appnp"]},
    }


def _machine_busy_s() -> float | None:
    """CPU seconds used by every process on the machine so far (psutil), or None."""
    try:
        import psutil
    except ImportError:
        return None
    t = psutil.cpu_times()
    return sum(getattr(t, k, 0.0) for k in ("user", "nice", "system", "irq", "softirq", "steal"))


def _our_cpu_s() -> float:
    """CPU seconds of this process and its reaped children (the pool workers)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


def rewrite_cost(src: Path, columns: list[str]) -> dict:
    """Time write_cell alone: copy every stored cell's rows into a fresh store."""
    df = load_results(src)
    with tempfile.TemporaryDirectory() as tmp:
        store = ResultStore.create(tmp, columns, {"seed": 0})
        times = []
        for (key, index), g in df.groupby(["cell_key", "cell_index"], sort=False):
            rows = g.drop(columns=["cell_key", "cell_index"]).to_dict("records")
            t = time.perf_counter()
            store.write_cell(key, int(index), "{}", 0, rows, seconds=0.0)
            times.append(time.perf_counter() - t)
        store.close()
    times.sort()
    return {"cells": len(times), "rows_per_cell": int(len(df) / max(1, len(times))),
            "mean_ms": 1e3 * sum(times) / len(times), "median_ms": 1e3 * times[len(times) // 2],
            "p95_ms": 1e3 * times[int(0.95 * (len(times) - 1))]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--depth", type=int, default=32)
    ap.add_argument("--method", default="hutchinson", choices=["hutchinson", "exact"])
    ap.add_argument("--probes", type=int, default=32)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--backend", default="process", choices=["process", "dask"],
                    help="local process pool (default) or a Dask LocalCluster of that many workers")
    ap.add_argument("--json", default=str(HERE / "results" / "sweep.json"))
    args = ap.parse_args(argv)

    spec = parse_spec(make_spec(args.cells, args.depth, args.method, args.probes))
    print(f"oversmooth {__version__}: {spec.n_cells} cells (N=2000, depths 0..{args.depth}, gcn + appnp, "
          f"{args.method} variance{f', {args.probes} probes' if args.method == 'hutchinson' else ''}), "
          f"{args.backend} backend, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        stores = []
        for w in args.workers:
            out = Path(tmp) / f"w{w}"
            load0 = os.getloadavg()[0]
            busy0, ours0 = _machine_busy_s(), _our_cpu_s()
            t0 = time.perf_counter()
            kw = {"dask_local": w} if args.backend == "dask" else {"backend": "process", "workers": w}
            s = run_sweep(spec, out, progress=sys.stderr.isatty(), **kw)
            wall = time.perf_counter() - t0
            busy1, ours1 = _machine_busy_s(), _our_cpu_s()
            assert s.done == spec.n_cells and s.failed == 0, s
            cell_secs = load_results(out, table="cells")["seconds"]
            runs.append({"workers": w, "backend": args.backend, "cells": s.done, "wall_s": wall, "cells_per_s": s.done / wall,
                         "mean_cell_compute_s": float(cell_secs.mean()),
                         "store_ms_per_cell": 1e3 * s.store_seconds / s.ran, "load_average_before": load0,
                         "load_average_after": os.getloadavg()[0], "our_cpu_s": ours1 - ours0,
                         "others_cpu_s": None if busy0 is None else max(0.0, (busy1 - busy0) - (ours1 - ours0)),
                         "machine_cpu_s_available": (os.cpu_count() or 1) * wall})
            stores.append(out)
            r = runs[-1]
            others = "?" if r["others_cpu_s"] is None else f"{r['others_cpu_s']:.0f}"
            print(f"  workers={w}: {wall:.1f} s, {s.done / wall:.2f} cells/s, store {r['store_ms_per_cell']:.2f}"
                  f" ms/cell; CPU s: ours {r['our_cpu_s']:.0f}, other processes {others}, available "
                  f"{r['machine_cpu_s_available']:.0f}", flush=True)
        ref = load_results(stores[0]).drop(columns=["seconds", "host"])
        identical = all(load_results(o).drop(columns=["seconds", "host"]).equals(ref) for o in stores[1:])
        with ResultStore.open(stores[0]) as st:
            columns = list(st.columns)
        rewrite = rewrite_cost(stores[0], columns)
    base = runs[0]["wall_s"]
    for r in runs:
        r["speedup"] = base / r["wall_s"]
    print()
    print(f"{'workers':>8} {'wall s':>9} {'cells/s':>9} {'speedup':>8} {'cell s':>8} {'store ms/cell':>14} "
          f"{'others CPU %':>13}")
    for r in runs:
        others = "?" if r["others_cpu_s"] is None else f"{100 * r['others_cpu_s'] / r['machine_cpu_s_available']:.0f}"
        print(f"{r['workers']:>8} {r['wall_s']:>9.1f} {r['cells_per_s']:>9.2f} {r['speedup']:>8.2f} "
              f"{r['mean_cell_compute_s']:>8.3f} {r['store_ms_per_cell']:>14.2f} {others:>13}")
    print("others CPU % = CPU time of other processes on the machine / (CPUs x wall time) during the run")
    print(f"store write alone ({rewrite['rows_per_cell']} rows per cell, {rewrite['cells']} cells): mean "
          f"{rewrite['mean_ms']:.2f} ms, median {rewrite['median_ms']:.2f} ms, p95 {rewrite['p95_ms']:.2f} ms")
    print(f"identical stored values across worker counts: {identical}")
    result = {"benchmark": "sweep", "oversmooth_version": __version__, "python": platform.python_version(),
              "machine": platform.machine(), "cpus": os.cpu_count(), "cells": spec.n_cells, "n": 2000,
              "depth": args.depth, "operators": ["gcn", "appnp"], "method": args.method, "probes": args.probes,
              "runs": runs, "store_write_only": rewrite, "identical_values": identical,
              "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
