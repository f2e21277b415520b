"""The cost model of :func:`~oversmooth.experiments.run_simulation`: memory and time estimated before any work.

Examples
--------
>>> from oversmooth.experiments import SimulationConfig
>>> from oversmooth.experiments._simcost import estimate_simulation
>>> est = estimate_simulation(SimulationConfig(n=2000, depth=10))
>>> est["method"], est["memory_bytes"] < 2**30
('exact', True)
"""

from __future__ import annotations

from typing import Any

__all__ = ["estimate_simulation"]

# Cost model of one replicate, fitted to peak RSS and wall time measured on the 2-core development
# machine (N = 2e5 .. 1e6, average degree 10 .. 40, 8 .. 64 probes, depth 2 .. 500): bytes per node,
# per stored entry of A, per node and propagated column; seconds per node and entry sampled, per
# layer, per node-layer and per entry-column multiply-add. An estimate within about 2x: it decides
# only what is refused up front.
_BYTES_NODE, _BYTES_NNZ, _BYTES_NODE_COLUMN, _BYTES_ROW = 215.0, 72.0, 40.0, 6000.0
_SEC_NODE, _SEC_NNZ, _SEC_LAYER, _SEC_NODE_LAYER, _SEC_MADD = 4e-6, 2e-7, 0.01, 6e-6, 2e-9
_EXACT_CHUNK_ENTRIES = 8_000_000  # measures._profile propagates identity columns in chunks this size


def estimate_simulation(cfg: Any) -> dict[str, Any]:
    """Estimated peak memory (bytes) and run time (seconds) of ``run_simulation(cfg)`` and what dominates each.

    Parameters
    ----------
    cfg : SimulationConfig
        A validated configuration.

    Returns
    -------
    dict
        ``nnz`` (expected stored entries of A), ``method`` (the variance method used),
        ``memory_bytes``, ``seconds``, and ``memory_argument`` / ``memory_detail`` /
        ``time_argument`` / ``time_detail``: the argument to change and what the estimate counts.

    Examples
    --------
    >>> from oversmooth.experiments import SimulationConfig
    >>> from oversmooth.experiments._simcost import estimate_simulation
    >>> estimate_simulation(SimulationConfig(n=300, depth=10**9))["memory_argument"]
    'depth=1000000000'
    """
    k = len(cfg.mu)
    n = float(min(cfg.n, 10**300))
    block = n / k
    nnz = n * ((block - 1.0) * cfg.p + (n - block) * cfg.q + (1.0 if cfg.self_loops else 0.0))
    exact = cfg.method == "exact" or (cfg.method == "auto" and cfg.n <= cfg.exact_max_nodes)
    depth, seeds = float(min(cfg.depth, 10**300)), float(cfg.seeds)
    layers = depth + 1.0
    graph_mem = _BYTES_NODE * n + _BYTES_NNZ * nnz
    if exact:
        cols = n
        chunk = max(1.0, min(n, _EXACT_CHUNK_ENTRIES // max(cfg.n, 1)))
        column_mem = 4 * 8.0 * n * chunk
        layer_mem = layers * (8.0 * n + _BYTES_ROW * seeds)
    else:
        cols = float(cfg.probes) + 3.0
        column_mem = _BYTES_NODE_COLUMN * n * cols
        layer_mem = layers * _BYTES_ROW * seeds
    mem = {"graph": graph_mem, "columns": column_mem, "layers": layer_mem}
    sample_s = seeds * (_SEC_NODE * n + _SEC_NNZ * nnz)
    prop_s = seeds * layers * _SEC_MADD * nnz * cols
    layer_s = seeds * layers * (_SEC_LAYER + _SEC_NODE_LAYER * n)
    secs = {"graph": sample_s, "columns": prop_s, "layers": layer_s}
    graph_arg = (f"n={cfg.n} with p={cfg.p:g}, q={cfg.q:g}", f"a sampled graph of ~{nnz:.3g} stored entries")
    column_arg = ((f"n={cfg.n} with the exact variance (method={cfg.method!r}; use method='hutchinson' or --hutchinson)",
                   "dense rows of M_n")
                  if exact else (f"probes={cfg.probes} at n={cfg.n}", f"{cols:.0f} propagated columns"))
    layer_arg = ((f"seeds={cfg.seeds}" if seeds > layers else f"depth={cfg.depth}"),
                 f"{cfg.depth + 1} layers x {cfg.seeds} seed(s) at n={cfg.n}")
    names = {"graph": graph_arg, "columns": column_arg, "layers": layer_arg}
    if 1 < cfg.seeds <= layers:
        names = {key: (f"{a} and seeds={cfg.seeds}", d) if key != "layers" else (a, d)
                 for key, (a, d) in names.items()}
    m_key = max(mem, key=lambda key: mem[key])
    s_key = max(secs, key=lambda key: secs[key])
    if s_key == "columns":  # propagation: depth x columns; blame depth when it is the larger factor
        s_key = "layers" if layers > cols else "columns"
    return {
        "nnz": nnz, "method": "exact" if exact else "hutchinson",
        "memory_bytes": sum(mem.values()), "seconds": sum(secs.values()),
        "memory_argument": names[m_key][0], "memory_detail": names[m_key][1],
        "time_argument": names[s_key][0], "time_detail": names[s_key][1],
    }
