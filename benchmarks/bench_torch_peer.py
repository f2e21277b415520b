"""Benchmark: the depth-32, 32-probe Hutchinson analysis at N = 1e6 against a hand-written torch script.

The peer is what a user would write instead of ``oversmooth``: torch CSR (``torch.sparse``), float32,
2 threads, the same graph (CSBM, average degree 20, lambda = 0.5, seed 0), the same block
``[x | mu_{c_i} | q | deflated Rademacher probes]`` propagated 32 layers, and per depth the same
numbers (class means and gap, Hutchinson feature-noise variance with its SE, cross-sectional and
structural variance, Gaussian-view Bayes error, realised error, Dirichlet energy and MAD from one
sparse product each). ``oversmooth`` runs ``depth_profile(g, 32, variance="hutchinson", probes=32,
dtype=...)`` (which also measures separation, spreads, the normalised energy and the Rayleigh
quotient). Each variant runs in its own subprocess (so its peak memory is its own), in interleaved
repeats; the load average is recorded before and after each run. The kernel alone (32 products of
the N x 35 block) is timed too, and its bandwidth is reported against this machine's copy bandwidth
(a large ``np.copyto``).

Run: ``python benchmarks/bench_torch_peer.py [--n N] [--repeats 3]``; writes
``benchmarks/results/torch_peer.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

DEGREE, LAM, DEPTH, PROBES, THREADS = 20.0, 0.5, 32, 32, 2
HERE = Path(__file__).resolve().parent


class PeakRSS:
    """Peak resident memory of this process while the block runs (polls /proc/self/statm every 20 ms)."""

    def __enter__(self) -> "PeakRSS":
        self.peak = self.start = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def make_graph(n: int) -> Any:
    from oversmooth.graphs import sample_csbm

    s = 2.0 * DEGREE / n
    return sample_csbm(n, s * (1 + LAM) / 2, s * (1 - LAM) / 2, seed=0)


# --------------------------------------------------------------------------- the workers
def run_ours(g: Any, dtype: str) -> dict[str, Any]:
    from oversmooth.measures import depth_profile

    rows = depth_profile(g, DEPTH, variance="hutchinson", probes=PROBES, seed=0, mu=g.metadata["mu"],
                         sigma=g.metadata["sigma"], dtype=dtype)
    keys = ("gap", "feature_variance", "feature_variance_se", "cross_sectional_variance", "structural_variance",
            "bayes_error", "realised_error", "dirichlet_energy", "mad")
    return {"rows": [{k: r[k] for k in keys} for r in rows],
            "smoothness_sample": rows[-1].get("smoothness_sample")}


def run_peer(g: Any) -> dict[str, Any]:
    """The hand-written torch float32 script (what a user writes instead of oversmooth)."""
    import torch

    torch.set_num_threads(THREADS)
    n = g.n_nodes
    a = g.adjacency.tocsr()
    deg = np.asarray(a.sum(axis=1)).ravel()
    f32 = torch.float32
    P = torch.sparse_csr_tensor(torch.from_numpy(a.indptr.astype(np.int64)), torch.from_numpy(a.indices.astype(np.int64)),
                                torch.from_numpy((a.data / np.repeat(deg, np.diff(a.indptr))).astype(np.float32)),
                                size=a.shape, check_invariants=False)
    off = a.copy()
    off.setdiag(0)
    off.eliminate_zeros()
    A = torch.sparse_csr_tensor(torch.from_numpy(off.indptr.astype(np.int64)),
                                torch.from_numpy(off.indices.astype(np.int64)),
                                torch.from_numpy(np.ones(off.nnz, dtype=np.float32)), size=a.shape, check_invariants=False)
    deg_off = torch.from_numpy(np.diff(off.indptr).astype(np.float32))
    y = torch.from_numpy(g.labels.astype(np.int64))
    counts = torch.bincount(y, minlength=2).to(f32)
    mu, sigma = np.asarray(g.metadata["mu"], dtype=float).ravel(), float(g.metadata["sigma"])
    gen = torch.Generator().manual_seed(0)
    pi = torch.from_numpy(deg / deg.sum()).to(f32)
    q = pi / pi.norm()
    z = torch.randint(0, 2, (n, PROBES), generator=gen).to(f32) * 2 - 1
    z -= q[:, None] * (q @ z)[None, :]
    x = torch.from_numpy(g.features.reshape(n, 1).astype(np.float32))
    m = torch.from_numpy(mu[g.labels].reshape(n, 1).astype(np.float32))
    h = torch.cat([x, m, q[:, None], z], dim=1)
    rows = []
    with torch.no_grad():
        for depth in range(DEPTH + 1):
            if depth:
                h = torch.sparse.mm(P, h)
            hx, hm, hq, hz = h[:, 0], h[:, 1], h[:, 2], h[:, 3:]

            def class_mean(v: torch.Tensor) -> torch.Tensor:
                return torch.zeros(2, *v.shape[1:], dtype=f32).index_add_(0, y, v) / counts.view(-1, *[1] * (v.dim() - 1))

            mx, mm = class_mean(hx), class_mean(hm)
            gap = float(mm[1] - mm[0])
            if depth:
                per_probe = class_mean(hz * hz)  # (2, probes)
                pooled = (hz * hz).mean(dim=0)
                var = float(pooled.mean() + (hq * hq).mean())
                se = float(pooled.std() / math.sqrt(PROBES))
            else:
                var, se = 1.0, 0.0
            var *= sigma**2
            se *= sigma**2
            rx, rm = hx - mx[y], hm - mm[y]  # centred first: no cancellation in float32
            cross = float((rx * rx).mean())
            struct = float((rm * rm).mean())
            bayes = 0.5 * math.erfc(abs(gap) / (2 * math.sqrt(var)) / math.sqrt(2)) if var > 0 else 0.0
            thr = float(mx.mean())
            pred = (hx > thr).long() if float(mx[1]) > float(mx[0]) else (hx <= thr).long()
            realised = float((pred != y).float().mean())
            xc = hx - hx.mean()  # centred: the smoothed layer is near-constant
            ax = torch.sparse.mm(A, xc[:, None])[:, 0]
            energy = float(2.0 * ((deg_off * xc * xc).sum() - (xc * ax).sum()) / n)
            s = torch.sign(hx)
            opposite = (deg_off - s * torch.sparse.mm(A, s[:, None])[:, 0]) / 2  # neighbours of the other sign
            has = opposite > 0
            mad = 2.0 if bool(has.any()) else 0.0  # 1-D: distances are 0 or 2; non-zero mean over nodes with one
            rows.append({"gap": gap, "feature_variance": var, "feature_variance_se": se, "cross_sectional_variance":
                         cross, "structural_variance": struct, "bayes_error": bayes, "realised_error": realised,
                         "dirichlet_energy": energy, "mad": mad})
    return {"rows": rows, "torch_threads": torch.get_num_threads(), "torch_version": torch.__version__}


def run_kernel(g: Any, layers: int = DEPTH) -> dict[str, Any]:
    """``layers`` products of the N x 35 block: oversmooth's kernel (float32, float64) and torch CSR float32.

    Wall and CPU seconds of each (on a loaded machine the CPU seconds say more).
    """
    import torch

    from oversmooth.operators import normalize_adjacency
    from oversmooth.operators._spmm import RowParallelMatmul

    P = normalize_adjacency(g)
    block = np.random.default_rng(0).choice([-1.0, 1.0], size=(g.n_nodes, 35))
    out: dict[str, Any] = {}
    out["layers"] = layers
    for dtype in ("float32", "float64"):
        mm = RowParallelMatmul(P, dtype=dtype)
        h = mm(block)  # warm-up: converts P, builds the cache tiles (not timed)
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(layers):
            h = mm(h)
        out[f"oversmooth_{dtype}_s"] = time.perf_counter() - t0
        out[f"oversmooth_{dtype}_cpu_s"] = time.process_time() - c0
        out[f"column_blocks_{dtype}"] = mm.column_blocks(35)
        del mm, h
    torch.set_num_threads(THREADS)
    Pt = torch.sparse_csr_tensor(torch.from_numpy(P.indptr.astype(np.int64)), torch.from_numpy(P.indices.astype(np.int64)),
                                 torch.from_numpy(P.data.astype(np.float32)), size=P.shape, check_invariants=False)
    h = torch.from_numpy(block.astype(np.float32))
    with torch.no_grad():
        h = torch.sparse.mm(Pt, h)  # warm-up (not timed)
    c0, t0 = time.process_time(), time.perf_counter()
    with torch.no_grad():
        for _ in range(layers):
            h = torch.sparse.mm(Pt, h)
    out["torch_float32_s"] = time.perf_counter() - t0
    out["torch_float32_cpu_s"] = time.process_time() - c0
    out["nnz"] = int(P.nnz)
    return out


def copy_bandwidth(mbytes: int = 512, repeats: int = 5) -> float:
    """Bytes per second of ``np.copyto`` on a large array (read + write counted)."""
    src = np.ones(mbytes * 2**20 // 8)
    dst = np.empty_like(src)
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - t0)
    return 2 * src.nbytes / best


def worker(kind: str, n: int) -> None:
    os.environ.setdefault("OVERSMOOTH_NUM_THREADS", str(THREADS))
    t0 = time.perf_counter()
    g = make_graph(n)
    sample_s = time.perf_counter() - t0
    load0 = os.getloadavg()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        if kind == "kernel":
            res = run_kernel(g, int(os.environ.get("BENCH_KERNEL_LAYERS", DEPTH)))
        elif kind == "peer_float32":
            res = run_peer(g)
        else:
            res = run_ours(g, kind.split("_")[1])
        wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime  # CPU seconds: what a loaded machine's wall hides
    res.update({"kind": kind, "wall_s": wall, "cpu_s": cpu, "sample_s": sample_s, "load_before": load0, "load_after": os.getloadavg(),
                "rss_before_bytes": mem.start, "rss_peak_bytes": mem.peak,
                "maxrss_process_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "nnz": int(g.adjacency.nnz)})
    print("RESULT " + json.dumps(res))


def spawn(kind: str, n: int) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--worker", kind, "--n", str(n)], capture_output=True, text=True,
                          check=True, env={**os.environ, "OVERSMOOTH_NUM_THREADS": str(THREADS)})
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[7:])


def agreement(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> dict[str, float]:
    """Largest |difference| of the variance in units of the combined SE, and largest relative gap difference."""
    z = max((abs(x["feature_variance"] - y["feature_variance"]) / math.hypot(x["feature_variance_se"],
             y["feature_variance_se"]) for x, y in zip(a[1:], b[1:])), default=0.0)
    rel = {k: max(abs(x[k] - y[k]) / max(abs(x[k]), 1e-300) for x, y in zip(a, b))
           for k in ("gap", "cross_sectional_variance", "dirichlet_energy")}
    return {"max_variance_diff_in_se": z, **{f"max_rel_diff_{k}": v for k, v in rel.items()}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--kernel-only", type=int, default=0, metavar="LAYERS",
                    help="only the kernel timing (LAYERS products per variant) and the copy bandwidth")
    ap.add_argument("--float64-repeats", type=int, default=1,
                    help="oversmooth float64 runs (the agreement reference; in the first repeats)")
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.n)
        return 0
    sys.path.insert(0, str(HERE))
    from _common import write

    if args.kernel_only:
        os.environ["BENCH_KERNEL_LAYERS"] = str(args.kernel_only)
        kernel = spawn("kernel", args.n)
        bw = copy_bandwidth()
        kernel.update({"copy_bandwidth_GBps": bw / 1e9, "propagation_bandwidth": _bandwidth(kernel, args.n, bw)})
        path = write("propagation_bandwidth", kernel)
        print(json.dumps({k: v for k, v in kernel.items() if k != "rows"}, indent=1))
        print(f"wrote {path}")
        return 0
    kinds = ["ours_float32", "peer_float32"] + (["ours_float64"] if args.float64_repeats else [])
    runs: list[dict[str, Any]] = []
    for rep in range(args.repeats):  # interleaved: every variant once per repeat
        for kind in kinds:
            if kind == "ours_float64" and rep >= args.float64_repeats:
                continue
            r = spawn(kind, args.n)
            r["repeat"] = rep
            runs.append(r)
            print(f"repeat {rep} {kind:14s} {r['wall_s']:7.2f} s (CPU {r['cpu_s']:7.2f} s)  peak RSS {r['rss_peak_bytes'] / 2**30:5.2f} GiB  "
                  f"load {r['load_before'][0]:.2f} -> {r['load_after'][0]:.2f}", flush=True)
            write("torch_peer", {"N": args.n, "partial": True, "runs": runs})  # so far, in case the run is cut short
    kernel = spawn("kernel", args.n)
    bw = copy_bandwidth()
    by = {k: [r for r in runs if r["kind"] == k] for k in kinds}
    ratios = [o["wall_s"] / p["wall_s"] for o, p in zip(by["ours_float32"], by["peer_float32"])]
    cpu_ratios = [o["cpu_s"] / p["cpu_s"] for o, p in zip(by["ours_float32"], by["peer_float32"])]
    traffic = _bandwidth(kernel, args.n, bw)
    result = {
        "N": args.n, "depth": DEPTH, "probes": PROBES, "threads": THREADS, "repeats": args.repeats,
        "runs": [{k: v for k, v in r.items() if k != "rows"} for r in runs],
        "ours_float32_over_peer": ratios, "median_ratio": float(np.median(ratios)),
        "ours_float32_over_peer_cpu": cpu_ratios,
        "agreement_float32_vs_float64": agreement(by["ours_float32"][0]["rows"], by["ours_float64"][0]["rows"])
        if "ours_float64" in by else None,
        "agreement_peer_vs_float64": agreement(by["peer_float32"][0]["rows"], by["ours_float64"][0]["rows"])
        if "ours_float64" in by else None,
        "kernel": kernel, "copy_bandwidth_GBps": bw / 1e9, "propagation_bandwidth": traffic,
        "memory_estimate_N1e7_depth16": _estimate_1e7(),
        "last_rows": {k: v[0]["rows"][-1] for k, v in by.items()},
    }
    path = write("torch_peer", result)
    print(json.dumps({k: result[k] for k in ("ours_float32_over_peer", "median_ratio", "agreement_float32_vs_float64",
                                             "agreement_peer_vs_float64", "copy_bandwidth_GBps",
                                             "propagation_bandwidth", "memory_estimate_N1e7_depth16")}, indent=1))
    print(f"wrote {path}")
    return 0


def _bandwidth(kernel: dict[str, Any], n: int, bw: float) -> dict[str, Any]:
    """Bytes per second of the kernel (compulsory: matrix + block in and out; gathered: a row per nonzero)."""
    nnz, cols, layers = kernel["nnz"], 35, kernel.get("layers", DEPTH)
    item = {"float32": 4, "float64": 8}
    traffic = {}
    for dt in ("float32", "float64"):
        per_layer = nnz * (4 + item[dt]) + 2 * n * cols * item[dt]  # matrix once, block in and out
        gathered = nnz * cols * item[dt]  # the rows h[j] read once per nonzero
        secs = kernel[f"oversmooth_{dt}_s"] / layers
        traffic[dt] = {"compulsory_GBps": per_layer / secs / 1e9, "gathered_GBps": gathered / secs / 1e9,
                       "compulsory_fraction_of_copy": per_layer / secs / bw,
                       "gathered_fraction_of_copy": gathered / secs / bw}
    return traffic


def _estimate_1e7() -> dict[str, float]:
    from oversmooth.measures._variance import memory_estimate

    n, nnz = 10**7, 2 * 10**8 + 10**7
    return {dt: memory_estimate(n, nnz, 2 + 1 + PROBES, dtype=dt) / 2**30 for dt in ("float32", "float64")}


if __name__ == "__main__":
    sys.exit(main())
