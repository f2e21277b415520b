"""The inputs of :func:`~oversmooth.experiments.analyze_graph`: graph, features, splits, metrics, cost.

Everything here validates or converts one argument and raises the project's errors
(:mod:`oversmooth.errors`) naming it; nothing here measures anything.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from .._utils import check_choice
from ..errors import ArgumentTypeError, ValidationError
from ..graphs import Graph, check_bytes, max_bytes, random_split, read_graph, resolve_split
from ..measures import PROBE_MAX_TRAIN, PROFILE_METRICS

__all__ = ["FEATURE_MODES", "ANALYZE_OPERATORS", "analyze_memory_estimate", "check_analysis_size",
           "as_graph", "select_features", "resolve_metrics", "resolve_splits", "cap_train", "describe_features",
           "graph_notes"]

#: ``features=`` choices besides an array: the graph's own when present, Gaussian, or the graph's own (required).
FEATURE_MODES = ("auto", "gaussian", "real")
#: ``operator=`` choices: the paper's GCN ``D^-1 A`` (self-loops), the corrected convolution
#: ``P - 1 pi^T`` (Wang, Baranwal, Fountoulakis 2024), APPNP with teleport ``alpha``.
ANALYZE_OPERATORS = ("gcn", "corrected", "appnp")
_OPERATOR_TEXT = {"gcn": "P = D^-1 A with self-loops added (A_ii = 1), as in the paper",
                  "corrected": "the corrected convolution P - 1 pi^T (P = D^-1 A with self-loops; Wang, Baranwal, "
                               "Fountoulakis 2024): no [sigma^2/N, sigma^2] variance bounds apply",
                  "appnp": "APPNP h(n+1) = (1 - alpha) P h(n) + alpha x, P = D^-1 A with self-loops"}
_ROW_BYTES = 4096  # one depth's row of the result (about 40 floats and notes in a dict)


def analyze_memory_estimate(n_nodes: int, n_stored: int, columns: int, depth: int, *, exact: bool,
                            mixture: bool) -> int:
    """Bytes an analysis needs: the propagated block, the per-depth rows and per-node arrays.

    ``columns`` counts every propagated column (signal, Gaussian draws, measured features,
    probes); ``exact`` (exact variance) and ``mixture`` keep ``(depth + 1) x N`` per-node
    row norms.

    Examples
    --------
    >>> from oversmooth.experiments._analyze_inputs import analyze_memory_estimate
    >>> analyze_memory_estimate(2708, 13264, 20, 16, exact=False, mixture=False) < 2**20 * 10
    True
    """
    per_depth = _ROW_BYTES + (8 * n_nodes if (exact or mixture) else 0)
    block = 3 * 8 * n_nodes * columns + 12 * n_stored  # the block, one propagation step, the operator
    return int(block + (depth + 1) * per_depth)


def check_analysis_size(n_nodes: int, n_stored: int, columns: int, depth: int, *, exact: bool,
                        mixture: bool) -> None:
    """Refuse (naming ``depth``) an analysis estimated above the package's memory budget.

    The budget is :func:`oversmooth.graphs.max_bytes` (``$OVERSMOOTH_MAX_BYTES``, else the
    machine's memory); the error is :class:`~oversmooth.errors.ResourceLimitError`.
    """
    need = analyze_memory_estimate(n_nodes, n_stored, columns, depth, exact=exact, mixture=mixture)
    per = need / max(depth + 1, 1)
    fit = max(int((max_bytes() - need + (depth + 1) * per) // per) - 1, 0)
    check_bytes(need, f"depth={depth}", f"{per / 2**10:.3g} KiB per depth on {n_nodes} nodes and {columns} "
                                        f"propagated columns: use depth <= {fit}")


def as_graph(graph: Any) -> Graph:
    """An oversmooth Graph, a PyG ``Data`` (``x`` kept) or a NetworkX graph -> Graph."""
    if isinstance(graph, Graph):
        return graph
    if hasattr(graph, "edge_index") or type(graph).__module__.startswith("networkx"):
        # a PyG edge_index listing each edge once is read as undirected (the measures' convention)
        return read_graph(graph, symmetrize=True)
    raise ArgumentTypeError(f"graph must be an oversmooth Graph, a torch_geometric Data or a networkx graph, "
                            f"got {type(graph).__name__}")


def _features_array(x: Any, n_nodes: int) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValidationError(f"features must be an (N, d) array of numbers, got {type(x).__name__}") from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] != n_nodes:
        raise ValidationError(f"features must be an (N, d) array with N = {n_nodes} rows (one per node), "
                              f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValidationError("features must be finite (no NaN or inf)")
    return arr


def select_features(g: Graph, features: Any, source: str | None) -> tuple[np.ndarray | None, dict[str, Any]]:
    """(real features or None for Gaussian, description) for the ``features`` argument."""
    if not isinstance(features, str):
        x = _features_array(features, g.n_nodes)
        return x, {"kind": "real", "origin": source or "features array passed to analyze_graph"}
    mode = check_choice(features, "features", FEATURE_MODES)
    own = g.features
    if mode == "gaussian":
        why = "explicit choice (features='gaussian')" + (": the graph's own features are not used"
                                                          if own is not None else "")
        return None, {"kind": "gaussian", "origin": source or why}
    if own is None:
        if mode == "real":
            raise ValidationError(f"features='real' but graph {g.name!r} has no features (pass an (N, d) array, "
                                  "or features='gaussian')")
        return None, {"kind": "gaussian", "origin": source or f"graph {g.name!r} has no features"}
    if source is None:
        fsrc = (g.metadata or {}).get("features_source")
        where = g.source or g.name
        source = f"the graph's own features ({fsrc}; {where})" if fsrc else f"the graph's own features ({where})"
    return _features_array(own, g.n_nodes), {"kind": "real", "origin": source}


def resolve_metrics(metrics: Any, default: Sequence[str]) -> list[str]:
    """``None`` -> ``default``; ``"all"`` -> every profile metric; else checked names."""
    if metrics is None:
        return list(default)
    if isinstance(metrics, str) and metrics == "all":
        return list(PROFILE_METRICS)
    metrics = [metrics] if isinstance(metrics, str) else [str(m) for m in metrics]
    bad = [m for m in metrics if m not in PROFILE_METRICS]
    if bad:
        raise ValidationError(f"metrics: unknown metric {bad[0]!r}; choose from {', '.join(PROFILE_METRICS)}")
    return metrics


def resolve_splits(split: Any, g0: Graph, labels: np.ndarray, splits: int,
                   rngs: Sequence[np.random.Generator]) -> tuple[list[tuple[np.ndarray, ...]], str]:
    """Probe splits restricted to labelled nodes, and a description."""
    if isinstance(split, str) and split == "random":
        parts = [random_split(labels, r) for r in rngs[:splits]]
        desc = f"random 60/20/20 splits of the labelled nodes (train/val/test), {splits} seeded"
    else:
        tr, va, te = resolve_split(split, g0)
        parts = [(tr, va, te)]
        what = "Planetoid public split" if isinstance(split, str) and split == "public" else (
            f"split file {os.fspath(split)}" if isinstance(split, (str, os.PathLike)) else "given split")
        desc = f"{what}: train {tr.size}, val {va.size}, test {te.size} nodes"
    out = []
    dropped = 0
    for tr, va, te in parts:
        tr, va, te = (np.asarray(s, dtype=np.int64) for s in (tr, va, te))
        size = tr.size + va.size + te.size
        tr, va, te = tr[labels[tr] >= 0], va[labels[va] >= 0], te[labels[te] >= 0]
        dropped = max(dropped, size - tr.size - va.size - te.size)
        if tr.size == 0 or te.size == 0:
            raise ValidationError(f"split: the {'train' if tr.size == 0 else 'test'} set has no labelled node")
        if np.unique(labels[tr]).size < 2:
            raise ValidationError("split: the train set holds a single class; the probe needs at least 2")
        out.append((tr, va, te))
    if dropped:
        desc += f" ({dropped} unlabelled node(s) left out)"
    return out, desc


def cap_train(part: tuple[np.ndarray, ...], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """At most PROBE_MAX_TRAIN training nodes (a seeded uniform sample), as the profile's probe."""
    tr, va, te = part
    if tr.size <= PROBE_MAX_TRAIN:
        return part
    return np.sort(rng.choice(tr, size=PROBE_MAX_TRAIN, replace=False)), va, te


def describe_features(info: dict[str, Any], x_real: np.ndarray | None, measured: np.ndarray, captured: float,
                      mean_scale: float, seeds: int, operator: str) -> None:
    """Fill ``info`` (dims, captured energy, the summary line, what is measured) for the outputs."""
    k = measured.shape[1]
    if x_real is not None:
        info.update(dim=int(x_real.shape[1]), measured_dim=int(k), captured_energy=captured)
        reduced = k < x_real.shape[1]
        info["summary"] = (f"real features: {info['origin']}, {x_real.shape[1]} dims"
                           + (f"; measured on their top {k} principal directions (randomised SVD, "
                              f"{100 * captured:.1f}% of ||X||_F^2)" if reduced else ""))
        info["measured"] = "P^n X" + (" V (X projected on its top principal directions)" if reduced else "")
    else:
        info.update(dim=k, measured_dim=k, captured_energy=1.0)
        info["summary"] = (f"Gaussian class features ({info['origin']}): means {mean_scale:g} x one-hot, "
                           f"sigma = 1, {k} dims, {seeds} draw(s); the profile measures the first draw")
        info["measured"] = "P^n X (first Gaussian draw)"
    if operator != "gcn":
        info["measured"] = info["measured"].replace("P^n", "M_n")


def graph_notes(fit: Any, labels: np.ndarray, operator: str, alpha: float) -> list[str]:
    """The notes every analysis output carries: the operator, components, isolated and unlabelled nodes."""
    notes = [f"propagation: {_OPERATOR_TEXT[operator]}" + (f", alpha = {alpha:g}" if operator == "appnp" else "")]
    if fit.n_components > 1:
        notes.append(f"graph is disconnected: {fit.n_components} components (largest {fit.largest_component} of "
                     f"{fit.n_nodes} nodes); the variance saturates at the component-wise level "
                     f"{fit.limit_variance:.3g}, not at sum_j pi_j^2 = {fit.pi_sq_sum:.3g}")
    if fit.isolated_nodes:
        notes.append(f"{fit.isolated_nodes} isolated node(s) keep their own features at every depth")
    n_unl = int(np.count_nonzero(labels < 0))
    if n_unl:
        notes.append(f"{n_unl} unlabelled node(s) propagate but are not scored (their Gaussian features have the "
                     "average class mean)")
    return notes
