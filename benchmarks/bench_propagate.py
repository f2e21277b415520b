"""Benchmark: depth-32 Hutchinson analysis (32 probes) at N = 1e6, and propagation vs torch.sparse.

1. ``depth_profile(g, 32, variance="hutchinson", probes=32)`` on a CSBM with N = 1e6 nodes,
   average degree 20: every measure at every depth 0..32 (gap, feature-noise variance with
   its SE, spreads, Bayes and realised errors, Dirichlet energy, MAD), timed end to end.
2. The propagation alone: 32 layers of ``P @ H`` on the same N x 34 block (2 signal columns
   + 32 probes), with SciPy CSR (what ``oversmooth`` uses) and, when torch is installed,
   ``torch.sparse`` CSR on the CPU (the peer), with torch's default thread count and the
   same D^-1 A matrix.

Run: ``python benchmarks/bench_propagate.py [--n N]``; writes ``benchmarks/results/propagate.json``.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from _common import print_table, timed, write
from oversmooth.graphs import sample_csbm
from oversmooth.measures import depth_profile
from oversmooth.operators import iter_propagate, normalize_adjacency

DEGREE, LAM, DEPTH, PROBES = 20.0, 0.5, 32, 32


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="number of nodes (default 1e6)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    n = args.n
    s = 2.0 * DEGREE / n
    t0 = time.perf_counter()
    g = sample_csbm(n, s * (1 + LAM) / 2, s * (1 - LAM) / 2, seed=0)
    t_sample = time.perf_counter() - t0

    t_profile, _, rows = timed(lambda: depth_profile(g, DEPTH, variance="hutchinson", probes=PROBES, seed=0,
                                                mu=g.metadata["mu"], sigma=g.metadata["sigma"]), 1)
    last = rows[-1]
    print(f"N={n} edges={g.n_edges}: sampled in {t_sample:.2f} s; depth-{DEPTH} Hutchinson profile "
          f"({PROBES} probes) in {t_profile:.2f} s; var({DEPTH}) = {last['feature_variance']:.3g} "
          f"+- {last['feature_variance_se']:.2g}")

    P = normalize_adjacency(g, "rw")
    rng = np.random.default_rng(0)
    block = np.hstack([g.features, rng.choice([-1.0, 1.0], size=(n, PROBES + 1))])  # N x 34

    def scipy_prop() -> np.ndarray:
        out = None
        for out in iter_propagate(P, block, DEPTH):
            pass
        return out

    t_scipy, _, h_scipy = timed(scipy_prop, args.repeats)
    result = {"N": n, "edges": g.n_edges, "depth": DEPTH, "probes": PROBES, "block_columns": block.shape[1],
              "sample_s": t_sample, "depth_profile_s": t_profile, "scipy_propagate_s": t_scipy}
    try:
        import torch
    except ImportError:
        print("torch not installed (pip install 'oversmooth[train]'): the torch.sparse peer is skipped",
              file=sys.stderr)
    else:
        Pt = torch.sparse_csr_tensor(torch.from_numpy(P.indptr.astype(np.int64)),
                                     torch.from_numpy(P.indices.astype(np.int64)),
                                     torch.from_numpy(P.data), size=P.shape)
        bt = torch.from_numpy(block)

        def torch_prop() -> torch.Tensor:
            h = bt
            with torch.no_grad():
                for _ in range(DEPTH):
                    h = Pt @ h
            return h

        t_torch, _, h_torch = timed(torch_prop, args.repeats)
        err = float(np.max(np.abs(h_torch.numpy() - h_scipy)))
        result.update({"torch_version": torch.__version__, "torch_threads": torch.get_num_threads(),
                       "torch_propagate_s": t_torch, "torch_over_scipy": t_torch / t_scipy,
                       "max_abs_difference": err})
    print_table([result], [k for k in result if k not in ("torch_version",)])
    path = write("propagate", result)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
