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
from .._utils import SeedLike, optional_import, spawn_generators
from ._inputs import as_adjacency, as_embedding, as_labels, as_layers
from ._probe import _fit_score, _resolve_probe_split
from ._stats import class_indicator

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
#: ``shrinkage="auto"``: Ledoit-Wolf when ``SHRINKAGE_RATIO * d > N_labelled - K`` (d not << N), else none.
SHRINKAGE_RATIO = 10
_GRAPH_METRICS = ("dirichlet_energy", "normalized_dirichlet_energy", "rayleigh_quotient", "mad", "mad_gap")
_LABEL_METRICS = ("separation", "within_class_spread", "between_class_spread", "group_distance_ratio",
                  "probe_accuracy")


# --------------------------------------------------------------------------- class geometry
def _labelled(x: Any, labels: Any, name: str = "x") -> tuple[np.ndarray, np.ndarray, int]:
    h = as_embedding(x, name)
    y = as_labels(labels, h.shape[0])
    mask = y >= 0
    if not mask.any():
        raise ValueError("labels has no labelled node (all negative); class measures need classes")
    h, y = h[mask], y[mask]
    classes, y = np.unique(y, return_inverse=True)  # empty class ids are dropped
    return h, y, classes.size


def _class_means(h: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(y, minlength=k).astype(np.float64)
    # the package's class indicator (a sparse K x N product: ~10x faster than np.add.at on large N)
    return np.asarray(class_indicator(y, k) @ h), counts


def within_class_spread(x: Any, labels: Any) -> float:
    """Mean squared distance of a labelled node to its class mean: ``(1/N_l) sum_i ||x_i - mu_{c_i}||^2``.

    The sum runs over the ``N_l`` labelled nodes (label >= 0); ``mu_c`` is the mean of class c. It
    is the trace of the within-class scatter divided by ``N_l`` (population form, ddof = 0), so
    ``within_class_spread + between_class_spread`` is the total variance
    ``(1/N_l) sum_i ||x_i - mu||^2`` of the labelled nodes.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import within_class_spread
    >>> within_class_spread(np.array([[0.0], [2.0], [10.0], [10.0]]), [0, 0, 1, 1])
    0.5
    """
    h, y, k = _labelled(x, labels)
    means, _ = _class_means(h, y, k)
    return _within_of(h, y, means)


def _within_of(h: np.ndarray, y: np.ndarray, means: np.ndarray) -> float:
    r = h - means[y]
    return float(np.einsum("ij,ij->", r, r) / h.shape[0])


def _between_of(means: np.ndarray, counts: np.ndarray) -> float:
    dev = means - counts @ means / counts.sum()
    return float(counts @ np.einsum("ij,ij->i", dev, dev) / counts.sum())


def between_class_spread(x: Any, labels: Any) -> float:
    """Class-size-weighted mean squared distance of the class means to the overall mean.

    ``sum_c (n_c / N_l) ||mu_c - mu||^2`` with ``n_c`` the labelled nodes of class c, ``mu_c``
    their mean and ``mu`` the mean of all ``N_l`` labelled nodes (the trace of the
    between-class scatter divided by ``N_l``).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import between_class_spread
    >>> between_class_spread(np.array([[0.0], [2.0], [10.0], [10.0]]), [0, 0, 1, 1])
    20.25
    """
    h, y, k = _labelled(x, labels)
    means, counts = _class_means(h, y, k)
    return _between_of(means, counts)


def _ledoit_wolf(z: np.ndarray, gram: np.ndarray) -> float:
    """Ledoit & Wolf (2004) shrinkage intensity towards ``(tr S / d) I`` for centred rows ``z``.

    With ``S = Z^T Z / n`` (``gram = Z^T Z``), ``m = tr(S) / d``, ``delta^2 = ||S - m I||_F^2 / d`` and
    ``beta^2 = (1/n^2) sum_k ||z_k z_k^T - S||_F^2 / d = ((1/n) sum_k ||z_k||^4 - ||S||_F^2) / (n d)``:
    intensity ``min(beta^2, delta^2) / delta^2``. O(N d) given the Gram matrix.
    """
    n, d = z.shape
    sq = np.einsum("ij,ij->i", z, z)
    s = gram / n
    trace = float(np.trace(s))
    mu = trace / d
    fro2 = float(np.einsum("ij,ij->", s, s))
    beta = (float(sq @ sq) / n - fro2) / (n * d)
    delta = (fro2 - 2.0 * mu * trace + d * mu**2) / d
    beta = min(beta, delta)
    return 0.0 if beta <= 0 or delta <= 0 else float(beta / delta)


def _separation(x: Any, labels: Any, shrinkage: Any = "auto") -> tuple[float, float, str]:
    """(separation, shrinkage used, how it was chosen)."""
    return _separation_of(*_labelled(x, labels), shrinkage)


def _separation_of(h: np.ndarray, y: np.ndarray, k: int, shrinkage: Any = "auto") -> tuple[float, float, str]:
    if k < 2:
        raise ValueError(f"class_separation needs at least 2 classes among the labelled nodes, got {k}")
    n, d = h.shape
    means, _ = _class_means(h, y, k)
    z = h - means[y]
    dof = n - k
    gram = z.T @ z
    if isinstance(shrinkage, str):
        if shrinkage not in ("auto", "ledoit-wolf"):
            raise ValueError(f"shrinkage must be 'auto', 'ledoit-wolf' or a number in [0, 1], got {shrinkage!r}")
        if shrinkage == "ledoit-wolf" or SHRINKAGE_RATIO * d > dof:
            s = _ledoit_wolf(z, gram)
            how = f"Ledoit-Wolf {s:.3g}" + ("" if shrinkage == "ledoit-wolf" else
                                             f" (d = {d} is not << N - K = {dof})")
        else:
            s, how = 0.0, f"none (d = {d} << N - K = {dof})"
    elif shrinkage is None:
        s, how = 0.0, "none"
    else:
        s = float(shrinkage)
        if not 0.0 <= s <= 1.0:
            raise ValueError(f"shrinkage must be 'auto', 'ledoit-wolf' or a number in [0, 1], got {shrinkage!r}")
        how = f"fixed {s:.3g}"
    cov = gram / max(dof, 1)
    centred = means - means.mean(axis=0)
    solved = None
    if s > 0:
        target = np.trace(cov) / d
        cov *= 1.0 - s
        cov[np.diag_indices(d)] += s * target
        try:  # positive definite once shrunk: a Cholesky solve, O(d^3 / 3)
            from scipy.linalg import cho_factor, cho_solve

            solved = cho_solve(cho_factor(cov), centred.T)
        except np.linalg.LinAlgError:
            solved = None
    if solved is None:  # pseudo-inverse: distances within the range of a rank-deficient S
        solved = np.linalg.pinv(cov, hermitian=True) @ centred.T
    g = centred @ solved
    diag = np.diag(g)
    dist2 = diag[:, None] + diag[None, :] - 2.0 * g
    off = ~np.eye(k, dtype=bool)
    return float(np.sqrt(max(float(dist2[off].min()), 0.0))), s, how


def class_separation(x: Any, labels: Any, *, shrinkage: Any = "auto") -> float:
    """Smallest Mahalanobis distance between two class means under the pooled within-class covariance.

    ``min_{a != b} sqrt((mu_a - mu_b)^T S^+ (mu_a - mu_b))`` over the classes present among the
    labelled nodes, with the pooled within-class covariance
    ``S = (1/(N_l - K)) sum_i (x_i - mu_{c_i})(x_i - mu_{c_i})^T`` (``^+``: pseudo-inverse, so a
    rank-deficient S measures distances in its range). With shrinkage ``s``, S is replaced by
    ``(1 - s) S + s (tr S / d) I`` (towards a scaled identity).

    Parameters
    ----------
    x : array or tensor (N, d) or (N,)
    labels : array or tensor (N,)
        Negative for unlabelled nodes (ignored).
    shrinkage : "auto", "ledoit-wolf", float in [0, 1] or None
        ``"auto"``: the Ledoit-Wolf (2004) intensity when d is not << N, precisely when
        ``10 d > N_l - K`` (fewer than 10 residual degrees of freedom per dimension), else none.
        ``"ledoit-wolf"``: always; a number: that fixed intensity; None or 0: none.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import class_separation
    >>> x = np.array([[0.0], [2.0], [10.0], [12.0]])
    >>> class_separation(x, [0, 0, 1, 1])  # means 1 and 11, pooled variance (1 + 1 + 1 + 1) / 2 = 2
    7.0710678118654755
    """
    return _separation(x, labels, shrinkage)[0]


# --------------------------------------------------------------------------- the profile
class Profile:
    """Per-layer measures of a model's embeddings: one dict per layer in :attr:`rows`.

    Attributes
    ----------
    rows : list of dict
        One row per layer (keys: see :func:`profile_embeddings`).
    info : dict
        What the whole profile used: ``n_nodes``, ``n_labelled``, ``n_classes``, ``metrics`` and the
        probe ``split``.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.measures import profile_embeddings
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 20)
    >>> layers = [y[:, None] + rng.standard_normal((40, 3)) * s for s in (1.0, 0.5)]
    >>> edges = np.array([np.arange(39), np.arange(1, 40)])
    >>> prof = profile_embeddings(layers, y, edges, metrics=["separation", "rayleigh_quotient"], seed=0)
    >>> len(prof.rows), sorted(prof.rows[0])[:3]
    (2, ['dim', 'layer', 'n_nodes'])
    """

    def __init__(self, rows: list[dict[str, Any]], info: dict[str, Any] | None = None):
        self.rows = rows
        self.info = dict(info or {})

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> list[Any]:
        """The values of one column, by layer (``None`` where absent)."""
        return [r.get(name) for r in self.rows]

    def to_frame(self) -> Any:
        """The rows as a :class:`pandas.DataFrame` (needs pandas: ``pip install 'oversmooth[sweep]'``)."""
        pd = optional_import("pandas", "sweep")
        return pd.DataFrame(self.rows)

    def __repr__(self) -> str:
        if not self.rows:
            return "Profile(0 layers)"
        first, last = self.rows[0], self.rows[-1]
        dims = sorted({r["dim"] for r in self.rows})
        dim = str(dims[0]) if len(dims) == 1 else f"{first['dim']}..{last['dim']}"
        parts = [f"{len(self.rows)} layers", f"N={first['n_nodes']}", f"d={dim}"]
        for key, label in (("separation", "separation"), ("rayleigh_quotient", "rayleigh"),
                           ("probe_accuracy", "probe")):
            a, b = first.get(key), last.get(key)
            if a is not None and b is not None:
                parts.append(f"{label} {a:.3g}->{b:.3g}")
        return f"Profile({', '.join(parts)})"

    def plot(self, *, title: str | None = None) -> Any:
        """A figure of the measures by layer (integer ticks).

        Panels: class separation; within- and between-class spread (log scale); the Rayleigh
        quotient E/||X||_F^2; MAD, MAD_neb, MAD_rmt and MADGap; probe accuracy. Panels whose
        measures were not computed are left out.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        layers = [r["layer"] for r in self.rows]
        panels = [
            ("class separation (Mahalanobis)", [("separation", "min pairwise")], False),
            ("spread", [("within_class_spread", "within class"), ("between_class_spread", "between classes")],
             True),
            ("Rayleigh quotient E / ||X||_F^2", [("rayleigh_quotient", "E / ||X||^2")], True),
            ("MAD (Chen et al.)", [("mad", "MAD (neighbours)"), ("mad_neb", "MAD_neb (<= 3 hops)"),
                                   ("mad_rmt", "MAD_rmt (>= 8 hops)"), ("mad_gap", "MADGap")], False),
            ("held-out probe accuracy", [("probe_accuracy", "linear probe")], False),
        ]
        panels = [p for p in panels if any(self._has(k) for k, _ in p[1])]
        n = max(1, len(panels))
        ncols = min(3, n)
        nrows = math.ceil(n / ncols)
        fig = Figure(figsize=(4.2 * ncols, 3.3 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
        for ax in axes[len(panels):]:
            ax.set_visible(False)
        for ax, (name, series, log) in zip(axes, panels):
            for key, label in series:
                if not self._has(key):
                    continue
                vals = [np.nan if r.get(key) is None else float(r[key]) for r in self.rows]
                ax.plot(layers, vals, marker="o", ms=3, label=label)
            if log and all(v is None or v > 0 for k, _ in series for v in self.column(k)):
                ax.set_yscale("log")
            ax.set_title(name, fontsize=10)
            ax.set_xlabel("layer")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if len(series) > 1:
                ax.legend(fontsize=7)
        if title:
            fig.suptitle(title)
        return fig

    def _has(self, key: str) -> bool:
        return any(r.get(key) is not None for r in self.rows)


def _resolve_metrics(metrics: Iterable[str] | None) -> tuple[str, ...]:
    if metrics is None:
        return PROFILE_METRICS
    if isinstance(metrics, str):
        metrics = [metrics]
    out = []
    for m in metrics:
        if m not in PROFILE_METRICS:
            raise ValueError(f"metrics: unknown metric {m!r}; choose from {', '.join(PROFILE_METRICS)}")
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
        self.edges = sm.edge_arrays(self.adj) if needs_graph else None
        self.labels = as_labels(labels, n_nodes) if labels is not None else None
        if needs_labels and self.labels is None:
            raise ValueError(f"labels is required for {', '.join(m for m in self.metrics if m in _LABEL_METRICS)}")
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

    def measure(self, layer: int, h: np.ndarray) -> dict[str, Any]:
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
                sep, s, how = _separation_of(hl, y, self.n_class_ids, "auto")
                row["separation"], row["separation_shrinkage"] = sep, s
                notes.append(f"separation shrinkage: {how}")
            if "within_class_spread" in m or "between_class_spread" in m:
                means, counts = _class_means(hl, y, self.n_class_ids)
                if "within_class_spread" in m:
                    row["within_class_spread"] = _within_of(hl, y, means)
                if "between_class_spread" in m:
                    row["between_class_spread"] = _between_of(means, counts)
        edge_keys = [k for k in ("dirichlet_energy", "normalized_dirichlet_energy", "rayleigh_quotient", "mad")
                     if k in m]
        if len(edge_keys) > 1:  # one pass over the edges for all of them
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
    raise ValueError(f"progress must be None, True, False or a text stream, got {type(progress).__name__}")


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
        was sampled, shrunk or skipped, and why). A measure that cannot be computed (e.g. one
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
            raise ValueError("embeddings is an empty iterator; it must yield one (N, d) array per layer")
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
