"""Benchmark: the exact O(N + E) CSBM sampler against igraph and NetworkX.

Two equal blocks, average degree 20 (lambda = 0.5), d = 1 features, N = 1e4 .. 1e6, to a
symmetric CSR adjacency. Peers: igraph's ``Graph.SBM`` plus conversion of its edge list to
the same CSR (self-loops added like ours), and NetworkX's ``stochastic_block_model`` up to
N = 1e5. Peak extra memory of our sampler is measured with tracemalloc (NumPy's buffers
included) and compared with the size of the CSR it returns.

Run: ``python benchmarks/bench_sampler.py [--quick]``; writes ``benchmarks/results/sampler.json``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import scipy.sparse as sp

from _common import peak_memory, print_table, timed, write
from oversmooth.graphs import sample_csbm

DEGREE, LAM = 20.0, 0.5


def pq(n: int) -> tuple[float, float]:
    s = 2.0 * DEGREE / n
    return s * (1 + LAM) / 2, s * (1 - LAM) / 2


def csr_bytes(a: sp.csr_array) -> int:
    return a.data.nbytes + a.indices.nbytes + a.indptr.nbytes


def ours(n: int, seed: int = 0):
    p, q = pq(n)
    return sample_csbm(n, p, q, mu=[-1.0, 1.0], sigma=1.0, seed=seed)


def edges_to_csr(n: int, e: np.ndarray) -> sp.csr_array:
    """Undirected edge list -> symmetric CSR with self-loops (what ``ours`` returns)."""
    i, j = e[:, 0], e[:, 1]
    loops = np.arange(n)
    rows = np.concatenate([i, j, loops])
    cols = np.concatenate([j, i, loops])
    a = sp.coo_array((np.ones(rows.size), (rows, cols)), shape=(n, n)).tocsr()
    a.sum_duplicates()
    return a


def igraph_sbm(n: int):
    import igraph as ig

    # igraph's own C generator (PCG32): a Python-level generator would slow it down unfairly
    ig.set_random_number_generator(None)
    p, q = pq(n)
    g = ig.Graph.SBM([[p, q], [q, p]], [n // 2, n - n // 2])
    e = np.array(g.get_edgelist(), dtype=np.int64).reshape(-1, 2)
    return edges_to_csr(n, e)


def networkx_sbm(n: int, seed: int = 0):
    import networkx as nx

    p, q = pq(n)
    g = nx.stochastic_block_model([n // 2, n - n // 2], [[p, q], [q, p]], seed=seed, sparse=True)
    e = np.array(g.edges(), dtype=np.int64).reshape(-1, 2)
    return edges_to_csr(n, e)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N up to 1e5 and fewer repeats")
    args = ap.parse_args(argv)
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    repeats = 3 if args.quick else 5
    rows = []
    for n in sizes:
        t_ours, times, g = timed(lambda: ours(n), repeats)
        size = csr_bytes(g.adjacency)
        del g
        peak, g = peak_memory(lambda: ours(n, seed=1))
        extra = peak - size - g.features.nbytes - g.labels.nbytes
        row = {"N": n, "edges": g.n_edges, "ours_s": t_ours, "csr_MB": size / 1e6,
               "peak_extra_MB": extra / 1e6, "peak_extra_over_csr": extra / size}
        del g
        try:
            import igraph  # noqa: F401

            t_ig, _, _ = timed(lambda: igraph_sbm(n), repeats)
            row["igraph_s"], row["igraph_over_ours"] = t_ig, t_ig / t_ours
        except ImportError:
            print("igraph not installed (pip install 'oversmooth[bench]'): skipped", file=sys.stderr)
        if n <= 100_000:
            try:
                t_nx, _, _ = timed(lambda: networkx_sbm(n), 1)
                row["networkx_s"], row["networkx_over_ours"] = t_nx, t_nx / t_ours
            except ImportError:
                print("networkx not installed: skipped", file=sys.stderr)
        rows.append(row)
        print_table([row], list(row))
    print()
    cols = ["N", "edges", "ours_s", "igraph_s", "igraph_over_ours", "networkx_s", "networkx_over_ours", "csr_MB",
            "peak_extra_MB", "peak_extra_over_csr"]
    print_table(rows, cols)
    path = write("sampler", {"degree": DEGREE, "lambda": LAM, "repeats": repeats, "rows": rows})
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
