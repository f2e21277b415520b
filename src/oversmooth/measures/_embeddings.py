"""Measure any embeddings layer by layer: class geometry, smoothness, rank and a held-out probe.

:func:`profile_embeddings` takes the per-layer embeddings of a model (trained or not), the
labels and the graph, in the input conventions of :mod:`oversmooth.measures._inputs`, and
returns a :class:`Profile`: one row per layer with

* **class geometry** (this module): :func:`class_separation` (min pairwise Mahalanobis distance
  between class means, pooled within-class covariance, shrunk when d is not << N),
  :func:`within_class_spread` and :func:`between_class_spread`;
* **smoothness** (:mod:`oversmooth.measures._smoothness`): the Dirichlet energy of Rusch et al.
  and its square root, Cai & Wang's normalised energy, the Rayleigh quotient, MAD and MADGap of
  Chen et al., PyG's group distance ratio and the effective rank;
* a **held-out linear probe** (:func:`oversmooth.measures.probe_accuracy`).

None of these needs a noise model: they are properties of one realisation. (The paper's
feature-noise variance and its Bayes error do; see :func:`oversmooth.measures.depth_profile`.)

Cost per layer, unsampled, is at most O(N d^2 + d^3) plus O(E d) for the graph measures: the
quadratic-in-N measures (MADGap, group distance ratio) sample nodes beyond their stated sizes and
the probe fits on at most :data:`PROBE_MAX_TRAIN` training nodes; every row says what was sampled
or skipped, and why, in its ``notes``.
"""

from __future__ import annotations

import itertools
import math
import sys
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from .._progress import Progress
from ..errors import ValidationError
from .._utils import SeedLike, spawn_generators
from ..operators import blas_threads
from ._geometry import (
    SHRINKAGE_RATIO,
    _between_of,
    _class_means,
    _separation_of,
    _within_of,
    between_class_spread,
    class_separation,
    within_class_spread,
)
from ._inputs import as_adjacency, as_embedding, as_labels, as_layers
from ._edges import _edges_of
from ._stats import class_indicator
from ._probe import _fit_score, _resolve_probe_split
from ._profile_result import Profile

__all__ = [
    "class_separation",
    "within_class_spread",
    "between_class_spread",
    "Profile",
    "profile_embeddings",
    "PROFILE_METRICS",
    "PROBE_MAX_TRAIN",
    "SHRINKAGE_RATIO",
]

#: Metric names accepted by ``metrics=`` (each adds the columns listed in :func:`profile_embeddings`).
PROFILE_METRICS = (
    "separation", "within_class_spread", "between_class_spread", "dirichlet_energy",
    "normalized_dirichlet_energy", "rayleigh_quotient", "mad", "mad_gap", "group_distance_ratio",
    "effective_rank", "probe_accuracy",
)
#: The probe is fitted on at most this many training nodes (a seeded subsample beyond, said in the row).
PROBE_MAX_TRAIN = 20_000
_GRAPH_METRICS = ("dirichlet_energy", "normalized_dirichlet_energy", "rayleigh_quotient", "mad", "mad_gap")
_LABEL_METRICS = ("separation", "within_class_spread", "between_class_spread", "group_distance_ratio",
                  "probe_accuracy")


# --------------------------------------------------------------------------- the profile
def _resolve_metrics(metrics: Iterable[str] | None) -> tuple[str, ...]:
    if metrics is None:
        return PROFILE_METRICS
    if isinstance(metrics, str):
        metrics = [metrics]
    out = []
    for m in metrics:
        if m not in PROFILE_METRICS:
            raise ValidationError(f"metrics: unknown metric {m!r}; choose from {', '.join(PROFILE_METRICS)}")
        if m not in out:
            out.append(m)
    return tuple(m for m in PROFILE_METRICS if m in out)


class _LayerMeter:
    """Everything that does not change between layers (graph, classes, split, seeds), computed once."""

    def __init__(self, n_nodes: int, labels: Any, graph: Any, *, metrics: Iterable[str] | None,
                 train_mask: Any = None, test_mask: Any = None, seed: SeedLike = None,
                 probe_max_train: int | None = None):
        from . import _smoothness as sm

        self.sm = sm
        self.metrics = _resolve_metrics(metrics)
        self.n = n_nodes
        needs_graph = any(m in _GRAPH_METRICS for m in self.metrics)
        needs_labels = any(m in _LABEL_METRICS for m in self.metrics)
        self.adj = as_adjacency(graph, n_nodes) if needs_graph else None
        self.edges = _edges_of(self.adj) if needs_graph else None  # the adjacency is checked once
        self.labels = as_labels(labels, n_nodes) if labels is not None else None
        if needs_labels and self.labels is None:
            raise ValidationError(f"labels is required for {', '.join(m for m in self.metrics if m in _LABEL_METRICS)}")
        self.info: dict[str, Any] = {"n_nodes": n_nodes, "metrics": list(self.metrics)}
        self.class_note: str | None = None
        if self.labels is not None:
            lab = self.labels[self.labels >= 0]
            self.info["n_labelled"] = int(lab.size)
            ids, self.y_inverse = np.unique(lab, return_inverse=True)
            self.n_class_ids = int(ids.size)
            self.info["n_classes"] = self.n_class_ids
            if self.info["n_classes"] < 2:
                self.class_note = f"{self.info['n_classes']} class(es) among the labelled nodes: class measures skipped"
        rng_split, rng_sub, rng_sampled = spawn_generators(seed, 3)
        # one seed for the sampled graph measures, the same at every layer (same sources, comparable layers)
        self.sample_seed = int(rng_sampled.integers(2**31))
        # MADGap's hop masks (breadth-first searches from every node, or a seeded sample of sources on
        # large graphs) do not depend on the layer: computed once, the same sources at every layer
        self.masks = sm.hop_masks(self.adj, seed=self.sample_seed) if "mad_gap" in self.metrics else None
        # the energies and MAD: every node up to SMOOTHNESS_EXACT_MAX_NODES, beyond ONE pass over the edges of a
        # seeded node sample (the same nodes at every layer); its size goes into every row
        self.smooth_nodes = None
        if needs_graph and n_nodes > sm.SMOOTHNESS_EXACT_MAX_NODES:
            self.smooth_nodes = sm.sample_nodes(n_nodes, sm.SMOOTHNESS_SAMPLE_NODES,
                                                np.random.default_rng([self.sample_seed, 1]))
        self.probe: tuple[np.ndarray, np.ndarray] | None = None
        self.probe_note: str | None = None
        probe_max_train = PROBE_MAX_TRAIN if probe_max_train is None else probe_max_train
        if "probe_accuracy" in self.metrics and self.class_note is None:
            tr, te, how = _resolve_probe_split(self.labels, train_mask, test_mask, rng_split)
            self.info["split"] = how
            if tr.size > probe_max_train:
                self.probe_note = (f"probe fitted on {probe_max_train} of {tr.size} training nodes "
                                   "(seeded uniform sample)")
                tr = np.sort(rng_sub.choice(tr, size=probe_max_train, replace=False))
            self.probe = (tr, te)
            self.info["n_train"], self.info["n_test"] = int(tr.size), int(te.size)

    def _indicator(self) -> Any:
        """The labelled nodes' class indicator, built once for every layer."""
        if getattr(self, "_ind", None) is None:
            self._ind = class_indicator(self.y_inverse, self.n_class_ids)
        return self._ind

    def measure(self, layer: int, h: np.ndarray) -> dict[str, Any]:
        """One layer's row; BLAS capped at one thread (threadpoolctl, when installed: see ``blas_threads``)."""
        with blas_threads(1):
            return self._measure(layer, h)

    def _measure(self, layer: int, h: np.ndarray) -> dict[str, Any]:
        sm, m = self.sm, self.metrics
        row: dict[str, Any] = {"layer": layer, "n_nodes": int(h.shape[0]), "dim": int(h.shape[1])}
        notes: list[str] = []
        class_ok = self.class_note is None
        if self.class_note is not None and any(k in _LABEL_METRICS for k in m):
            notes.append(self.class_note)
        geometry = [k for k in ("separation", "within_class_spread", "between_class_spread") if k in m]
        for key in geometry:
            row[key] = None
            if key == "separation":
                row["separation_shrinkage"] = None
        if geometry and class_ok:  # one pass over the labelled rows for the three class measures
            lab = self.labels >= 0
            hl = h[lab] if not lab.all() else h
            y = self.y_inverse
            if "separation" in m:
                sep, s, how = _separation_of(hl, y, self.n_class_ids, "auto", self._indicator())
                row["separation"], row["separation_shrinkage"] = sep, s
                notes.append(f"separation shrinkage: {how}")
            if "within_class_spread" in m or "between_class_spread" in m:
                means, counts = _class_means(hl, y, self.n_class_ids, self._indicator())
                if "within_class_spread" in m:
                    row["within_class_spread"] = _within_of(hl, y, means)
                if "between_class_spread" in m:
                    row["between_class_spread"] = _between_of(means, counts)
        edge_keys = [k for k in ("dirichlet_energy", "normalized_dirichlet_energy", "rayleigh_quotient", "mad")
                     if k in m]
        if self.smooth_nodes is not None and edge_keys:  # one pass over the sampled nodes' edges
            row["smoothness_sample"] = int(self.smooth_nodes.size)
            row.update({k: v for k, v in sm.edge_smoothness(h, edges=self.edges, sample=self.smooth_nodes).items()
                        if k in edge_keys})
            notes.append(f"{', '.join(edge_keys)}: {self.smooth_nodes.size} of {self.n} nodes sampled")
        elif len(edge_keys) > 1:  # the sparse-product forms of all of them
            row.update({k: v for k, v in sm.edge_smoothness(h, edges=self.edges).items() if k in edge_keys})
        elif edge_keys:
            row[edge_keys[0]] = getattr(sm, edge_keys[0])(h, edges=self.edges)
        if "dirichlet_energy" in m:
            row["dirichlet_energy_sqrt"] = math.sqrt(row["dirichlet_energy"])
        if "rayleigh_quotient" in m and not np.any(h):
            row["rayleigh_quotient"] = None
            notes.append("rayleigh_quotient: X = 0, undefined")
        if "mad_gap" in m:
            g = sm.mad_gap(h, masks=self.masks)
            row.update({k: g[k] for k in ("mad_neb", "mad_rmt", "mad_gap", "mad_sources")})
            if g["mad_sources"] < self.n:
                notes.append(f"mad_gap: {g['mad_sources']} of {self.n} source nodes sampled")
        if "group_distance_ratio" in m:
            row["group_distance_ratio"] = None
            if class_ok:
                row["group_distance_ratio"] = sm.group_distance_ratio(h, self.labels, seed=self.sample_seed)
                n_lab = self.info["n_labelled"]
                if n_lab > sm.GDR_MAX_NODES:
                    notes.append(f"group_distance_ratio: {sm.GDR_MAX_NODES} of {n_lab} labelled nodes sampled")
        if "effective_rank" in m:
            row["effective_rank"] = sm.effective_rank(h)
        if "probe_accuracy" in m:
            row["probe_accuracy"] = None
            if self.probe is not None:
                tr, te = self.probe
                row["probe_accuracy"] = _fit_score(h, self.labels, tr, te)
                if self.probe_note:
                    notes.append(self.probe_note)
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
                if key == "mad_rmt":
                    notes.append(f"mad_rmt: no node is >= {self.masks.rmt_hops} hops from a source (undefined)")
                elif key != "mad_gap":
                    notes.append(f"{key}: undefined")
        row["notes"] = "; ".join(notes)
        return row


def _progress(progress: Any, total: int, size: int) -> Progress:
    if progress is None:
        enabled = size >= 20_000_000 and total > 1 and getattr(sys.stderr, "isatty", lambda: False)()
        return Progress(total, enabled=enabled)
    if isinstance(progress, bool):
        return Progress(total, enabled=progress)
    if hasattr(progress, "write"):
        return Progress(total, stream=progress)
    raise ValidationError(f"progress must be None, True, False or a text stream, got {type(progress).__name__}")


def profile_embeddings(
    embeddings: Any,
    labels: Any,
    graph: Any,
    *,
    train_mask: Any = None,
    test_mask: Any = None,
    metrics: Sequence[str] | None = None,
    seed: SeedLike = None,
    progress: Any = None,
) -> Profile:
    """Measure oversmoothing in any per-layer embeddings: one row per layer.

    Parameters
    ----------
    embeddings : array, tensor, sequence or iterator of them
        One (N, d_l) array per layer (NumPy or torch: detached, any device, any float dtype;
        dimensions may differ between layers), or a single array (one layer). An iterator (e.g.
        :func:`oversmooth.operators.iter_propagate`) is measured as it yields, so only one layer is
        held at a time.
    labels : array or tensor (N,)
        Integer classes, negative for unlabelled nodes (ignored by the class measures).
    graph : scipy sparse, Graph, edge_index (2 x E), PyG Data or NetworkX graph
        Read as undirected (see :func:`oversmooth.measures._inputs.as_adjacency`). May be None
        when no graph measure is selected.
    train_mask, test_mask : boolean mask or node ids (NumPy or torch), optional
        The probe's split; default a seeded 60/20/20 split of the labelled nodes (fit on 60%,
        score on the last 20%). The same split is used at every layer.
    metrics : sequence of str, optional
        Subset of :data:`PROFILE_METRICS` (default all); unselected columns are absent.
    seed : int, Generator or None
        For the random split, the probe's training subsample and the sampled MADGap sources and
        group-distance nodes (the same sample at every layer).
    progress : bool, text stream or None
        Progress bar (rate, ETA) on stderr or the given stream; None: on for large profiles
        (N x sum of d_l >= 2e7) when stderr is a terminal.

    Returns
    -------
    Profile
        Row keys: ``layer, n_nodes, dim``; ``separation, separation_shrinkage``
        (:func:`class_separation` with ``shrinkage="auto"``; the intensity used);
        ``within_class_spread, between_class_spread``; ``dirichlet_energy`` (Rusch et al.:
        ``(1/N) sum_i sum_{j in N(i)} ||x_i - x_j||^2``) and ``dirichlet_energy_sqrt``;
        ``normalized_dirichlet_energy`` (Cai & Wang ``tr(X^T L X)``); ``rayleigh_quotient``
        (``E / ||X||_F^2``); ``mad``; ``mad_neb, mad_rmt, mad_gap, mad_sources``;
        ``group_distance_ratio``; ``effective_rank``; ``probe_accuracy``; and ``notes`` (what
        was sampled, shrunk or skipped, and why); beyond ``SMOOTHNESS_EXACT_MAX_NODES`` (1e5) nodes
        the energies and MAD come from one pass over the edges of a seeded sample of
        ``SMOOTHNESS_SAMPLE_NODES`` (1e5) nodes, the same at every layer, and the row says so in
        ``smoothness_sample`` (its size; the key is absent when every node is used). A measure
        that cannot be computed (e.g. one
        class only) is None, with the reason in ``notes``.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.measures import profile_embeddings
    >>> from oversmooth.operators import iter_propagate, normalize_adjacency
    >>> g = sample_csbm(300, p=0.05, q=0.01, seed=0)
    >>> layers = list(iter_propagate(normalize_adjacency(g), g.features, 4))
    >>> prof = profile_embeddings(layers, g.labels, g, seed=0)
    >>> [r["layer"] for r in prof.rows]
    [0, 1, 2, 3, 4]
    >>> prof.rows[4]["rayleigh_quotient"] < prof.rows[0]["rayleigh_quotient"]
    True
    """
    if isinstance(embeddings, Iterator):  # a generator: measured as it yields, one layer in memory
        first = next(embeddings, None)
        if first is None:
            raise ValidationError("embeddings is an empty iterator; it must yield one (N, d) array per layer")
        h0 = as_embedding(first, "embeddings[0]")
        layers: Iterable[np.ndarray] = itertools.chain([h0], embeddings)
        n, total, size = h0.shape[0], 0, 0
    else:
        listed = as_layers(embeddings)
        layers, n, total = listed, listed[0].shape[0], len(listed)
        size = n * sum(h.shape[1] for h in listed)
    meter = _LayerMeter(n, labels, graph, metrics=metrics, train_mask=train_mask, test_mask=test_mask, seed=seed)
    bar = _progress(progress, total, size)
    rows = []
    for i, h in enumerate(layers):
        if total == 0:  # an iterator: the bar counts layers without a total
            bar.total = i + 1
        h = as_embedding(h, f"embeddings[{i}]", n_nodes=n)
        bar.update(f"layer {i}")
        rows.append(meter.measure(i, h))
        bar.update(f"layer {i}", advance=1)
    bar.close()
    return Profile(rows, meter.info)
