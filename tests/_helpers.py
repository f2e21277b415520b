"""Shared test helpers: dense reference implementations, graph strategies, statistics, a CLI runner.

Everything here is deliberately written the slow, obvious way (dense matrices, explicit
matrix powers) so that it is an *independent* reference for the sparse, streaming code
in :mod:`oversmooth`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import strategies as st
from scipy import stats

from oversmooth.graphs import Graph

# --------------------------------------------------------------------------- raw Planetoid files

#: The one environment variable naming the folder of the raw ``ind.<name>.*`` Planetoid files.
PLANETOID_RAW_ENV = "OVERSMOOTH_PLANETOID_RAW"


def planetoid_raw_dir() -> Path:
    """``$OVERSMOOTH_PLANETOID_RAW``, else ``../shared/data/planetoid`` beside the repository."""
    env = os.environ.get(PLANETOID_RAW_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data" / "planetoid"


#: Skip marker for every test that reads the raw Planetoid files.
needs_planetoid_raw = pytest.mark.skipif(
    not (planetoid_raw_dir() / "ind.cora.graph").is_file(),
    reason=f"raw Planetoid files not in {planetoid_raw_dir()} (set {PLANETOID_RAW_ENV})")

# --------------------------------------------------------------------------- dense references


def dense(a: Any) -> np.ndarray:
    """A dense float64 copy of a Graph's adjacency, a sparse matrix or an array."""
    a = getattr(a, "adjacency", a)
    return np.asarray(a.toarray() if sp.issparse(a) else a, dtype=np.float64)


def dense_rw(a: Any) -> np.ndarray:
    """D^-1 A, dense (every degree must be > 0)."""
    A = dense(a)
    return A / A.sum(axis=1, keepdims=True)


def dense_sym(a: Any) -> np.ndarray:
    """D^-1/2 A D^-1/2, dense (every degree must be > 0)."""
    A = dense(a)
    s = 1.0 / np.sqrt(A.sum(axis=1))
    return s[:, None] * A * s[None, :]


def dense_M(P: np.ndarray, n: int, operator: str = "gcn", alpha: float = 0.1) -> np.ndarray:
    """M_n from its closed form (SCIENCE.md section 3), NOT from the layer recursion.

    GCN: P^n.  PPR/APPNP: (1 - alpha)^n P^n + alpha * sum_{k<n} (1 - alpha)^k P^k.
    """
    N = P.shape[0]
    if operator == "gcn":
        return np.linalg.matrix_power(P, n)
    if operator == "appnp":
        M = (1.0 - alpha) ** n * np.linalg.matrix_power(P, n)
        for k in range(n):
            M = M + alpha * (1.0 - alpha) ** k * np.linalg.matrix_power(P, k)
        return M
    raise ValueError(operator)  # pragma: no cover


def dense_row_norms_sq(P: np.ndarray, n: int, operator: str = "gcn", alpha: float = 0.1) -> np.ndarray:
    """||row i of M_n||^2 for every node i."""
    M = dense_M(P, n, operator, alpha)
    return np.einsum("ij,ij->i", M, M)


# --------------------------------------------------------------------------- CSBM parameters


def csbm_pq(n: int, d: float, lam: float) -> tuple[float, float]:
    """(p, q) of a two-block CSBM with expected degree d = 1 + (N/2)(p + q) and lambda = lam."""
    s = (d - 1.0) / (n / 2.0)
    return s * (1.0 + lam) / 2.0, s * (1.0 - lam) / 2.0


def block_edge_counts(g: Graph) -> np.ndarray:
    """K x K upper-triangular matrix: number of undirected non-loop edges between blocks a <= b."""
    a = sp.triu(sp.csr_array(g.adjacency), k=1).tocoo()
    lab = g.labels
    k = g.n_classes
    lo = np.minimum(lab[a.row], lab[a.col])
    hi = np.maximum(lab[a.row], lab[a.col])
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (lo, hi), 1)
    return counts


def block_pair_counts(sizes: Sequence[int]) -> np.ndarray:
    """K x K upper-triangular matrix: number of node pairs inside / between blocks."""
    s = np.asarray(sizes, dtype=np.int64)
    out = np.triu(np.outer(s, s))
    np.fill_diagonal(out, s * (s - 1) // 2)
    return out


def binomial_z(count: float, n: int, p: float) -> float:
    """z-score of a Binomial(n, p) count."""
    var = n * p * (1.0 - p)
    return (count - n * p) / np.sqrt(var) if var > 0 else float(count - n * p)


def chi2_binomial_pvalue(samples: np.ndarray, n: int, p: float, min_expected: float = 5.0) -> float:
    """Chi-square goodness of fit of integer samples to Binomial(n, p).

    Support values are merged from both tails (and greedily in the middle) until every
    bin expects at least ``min_expected`` counts, so the chi-square approximation holds.
    """
    samples = np.asarray(samples)
    total = samples.size
    support = np.arange(n + 1)
    probs = stats.binom.pmf(support, n, p)
    observed = np.bincount(samples, minlength=n + 1).astype(float)
    exp_bins: list[float] = []
    obs_bins: list[float] = []
    acc_e = acc_o = 0.0
    for e, o in zip(probs * total, observed):
        acc_e += e
        acc_o += o
        if acc_e >= min_expected:
            exp_bins.append(acc_e)
            obs_bins.append(acc_o)
            acc_e = acc_o = 0.0
    # fold whatever is left in the upper tail into the last bin
    exp_bins[-1] += acc_e
    obs_bins[-1] += acc_o
    exp_arr = np.asarray(exp_bins)
    obs_arr = np.asarray(obs_bins)
    exp_arr *= obs_arr.sum() / exp_arr.sum()  # remove rounding of the pmf tails
    return float(stats.chisquare(obs_arr, exp_arr).pvalue)


# --------------------------------------------------------------------------- hypothesis strategies


@st.composite
def random_graphs(draw: Any, min_nodes: int = 2, max_nodes: int = 40, self_loops: bool = True,
                  max_edges: int = 160) -> Graph:
    """A random undirected graph from a random edge list, with self-loops on every node.

    Labels alternate 0, 1, 0, 1, ... so both classes are always present (N >= 2).
    """
    n = draw(st.integers(min_nodes, max_nodes))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=max_edges))
    rows = np.array([e[0] for e in edges], dtype=np.int64)
    cols = np.array([e[1] for e in edges], dtype=np.int64)
    g = Graph.from_edges(rows, cols, n_nodes=n, labels=np.arange(n) % 2)
    return g.with_self_loops(self_loops)


# --------------------------------------------------------------------------- CLI runners


def run_cli(capsys: Any, *args: str) -> tuple[int, str, str]:
    """Run ``oversmooth.cli.main(args)`` in-process; return (exit code, stdout, stderr).

    ``--help`` / ``--version`` leave through ``SystemExit``; its code is returned.
    """
    from oversmooth.cli import main

    capsys.readouterr()  # drop anything printed before
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's --help and --version
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def run_cli_subprocess(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m oversmooth args...`` as a real subprocess."""
    return subprocess.run([sys.executable, "-m", "oversmooth", *args], capture_output=True, text=True,
                          timeout=timeout)


def parse_single_json(stdout: str) -> dict[str, Any]:
    """Parse stdout that must hold exactly one JSON object (and nothing else)."""
    text = stdout.strip()
    decoder = json.JSONDecoder()
    obj, end = decoder.raw_decode(text)
    assert end == len(text), f"trailing output after the JSON object: {text[end:end + 200]!r}"
    assert isinstance(obj, dict)
    return obj
