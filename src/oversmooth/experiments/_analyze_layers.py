"""Per-depth measurements of :func:`~oversmooth.experiments.analyze_graph` on one propagated block.

The block holds ``[signal | Gaussian draws | measured features | Hutchinson probes]``
propagated together; :class:`LayerMeter` reads each depth's noise-model columns (class-mean
gap, feature-noise variance, LDA and mixture Bayes errors, realised error,
cross-sectional variance) and fits the held-out linear probe on the measured features.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..measures import (
    VarianceEstimate,
    bayes_error_lda,
    class_indicator,
    linear_probe,
    min_mahalanobis_distance,
    mixture_bayes_error,
    realised_error,
)
from ..tables import mean_sem
from ._analyze_model import LDA_SAMPLES

__all__ = ["LayerMeter"]


class LayerMeter:
    """Measure depth after depth; ``rows`` and the probe's ``val`` / ``test`` accuracies accumulate.

    Parameters
    ----------
    labels : ndarray (N,)
        Contiguous classes 0..K-1, -1 unlabelled.
    k, seeds, sigma
        Classes, Gaussian draws in the block (after the K signal columns), noise std.
    var_est : VarianceEstimate
        The paper's feature-noise variance per depth.
    x_cols : slice
        The measured features' columns in the block (handed to the profile).
    probe_parts : sequence of (train, val, test)
        Node ids of each probe split (empty: no probe).
    mixture : {"off", "skip", "exact", "probes"}
        The exact mixture Bayes error: not asked, skipped (note in ``mix_note``), from exact
        per-node row norms ``node_var``, or from the last ``probes`` columns of the block.
    """

    def __init__(self, labels: np.ndarray, k: int, seeds: int, sigma: float, var_est: VarianceEstimate,
                 x_cols: slice, probe_parts: Sequence[tuple[np.ndarray, ...]], *, run_probe: bool,
                 probe_note: str, mixture: str, mix_note: str, node_var: np.ndarray | None, probes: int,
                 rng_mc: np.random.Generator, rng_mix: np.random.Generator):
        self.labels, self.k, self.seeds, self.sigma = labels, k, seeds, sigma
        self.var_est, self.x_cols = var_est, x_cols
        self.cov = sigma**2 * np.eye(k)
        self.ind = class_indicator(labels, k)
        counts = np.bincount(labels[labels >= 0], minlength=k).astype(float)
        self.weights = counts / counts.sum()
        self.parts = list(probe_parts)
        self.run_probe, self.probe_note = run_probe, probe_note
        self.mixture, self.mix_note, self.node_var, self.probes = mixture, mix_note, node_var, probes
        self.rng_mc, self.rng_mix = rng_mc, rng_mix
        depth = var_est.pooled.size - 1
        self.val = np.zeros((depth + 1, len(self.parts)))
        self.test = np.zeros((depth + 1, len(self.parts)))
        self._warm: list[np.ndarray | None] = [None] * len(self.parts)
        self.rows: list[dict[str, Any]] = []

    def measure(self, n: int, h: np.ndarray) -> np.ndarray:
        """Append depth ``n``'s row from the block ``h``; return the measured features' layer."""
        k, sigma, labels = self.k, self.sigma, self.labels
        means = np.asarray(self.ind @ h[:, :k])
        var = float(self.var_est.pooled[n])
        r: dict[str, Any] = {
            "depth": n, "gap": min_mahalanobis_distance(means, self.cov), "feature_variance": var,
            "feature_variance_se": float(self.var_est.se_pooled[n]),
            "bayes_error": bayes_error_lda(means, self.cov * (var / sigma**2), n_samples=LDA_SAMPLES,
                                           seed=self.rng_mc)}
        re, cs = [], []
        for s in range(self.seeds):
            hx = h[:, k * (1 + s):k * (2 + s)]
            re.append(realised_error(hx, labels))
            rm = np.asarray(self.ind @ hx)
            sq = np.asarray(self.ind @ (hx * hx))
            cs.append(float(self.weights @ np.clip(sq - rm**2, 0, None).mean(axis=1)))
        re_m, re_s = mean_sem(np.array(re)[None, :], axis=1)
        r["realised_error"] = float(re_m[0])
        r["realised_error_se"] = float(re_s[0])
        r["cross_sectional_variance"] = float(np.mean(cs))
        if self.mixture != "off":
            self._mixture_columns(r, n, h)
        layer = h[:, self.x_cols]
        for s, (tr, va, te) in enumerate(self.parts):
            ev = [layer[va], layer[te]] if va.size else [layer[te]]
            preds, self._warm[s] = linear_probe(layer[tr], labels[tr], ev, init=self._warm[s], return_params=True)
            self.val[n, s] = np.mean(preds[0] == labels[va]) if va.size else np.nan
            self.test[n, s] = np.mean(preds[-1] == labels[te])
        if self.run_probe:
            r["probe_accuracy"] = float(self.test[n].mean())
            r["probe_notes"] = self.probe_note
        self.rows.append(r)
        return layer

    def _mixture_columns(self, r: dict[str, Any], n: int, h: np.ndarray) -> None:
        sigma, k = self.sigma, self.k
        r["mixture_bayes_error"] = r["mixture_bayes_error_bound"] = None
        if self.mixture != "skip":
            nv = (self.node_var[n] if self.node_var is not None
                  else np.mean(h[:, -self.probes:] ** 2, axis=1) * sigma**2)
            # whitened (cov = sigma^2 I): node i ~ N(m_i / sigma, (nv_i / sigma^2) I)
            rel = np.clip(nv / sigma**2, np.finfo(float).tiny, None)
            mres = mixture_bayes_error(h[:, :k] / sigma, rel, self.labels, priors="equal", seed=self.rng_mix)
            r["mixture_bayes_error"], r["mixture_bayes_error_bound"] = mres.error, mres.uncertainty
        how = "exact" if self.node_var is not None else f"from {self.probes} Hutchinson probes"
        r["mixture_notes"] = self.mix_note or (
            f"Monte Carlo in K dims, equal priors (as the LDA column); per-node row norms {how}")
