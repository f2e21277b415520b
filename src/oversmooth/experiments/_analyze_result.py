"""What :func:`~oversmooth.experiments.analyze_graph` returns, and the rules that read its curves.

:class:`AnalysisResult` (with its JSON form), the depth recommendation (smallest error, and
the depths within one standard error of it), the first departure of a measured curve from
its prediction, and the "never a NaN table" check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import theory
from .._version import __version__
from ..tables import mean_sem
from ..theory import CSBMFit

__all__ = ["AnalysisResult", "DEPARTURE_FACTOR", "recommend", "probe_recommendation", "first_departure", "check_finite",
           "json_clean"]

#: A measured curve "departs" from the CSBM theory where measured/theory leaves [1/1.5, 1.5].
DEPARTURE_FACTOR = 1.5


@dataclass
class AnalysisResult:
    """What :func:`analyze_graph` found: the fit, per-depth rows, reach, recommendation.

    ``features`` says which features were used (``kind`` "real" or "gaussian", ``origin``,
    ``dim``, ``measured_dim``, ``captured_energy``, ``summary``); ``config`` the operator
    and every setting, with ``split`` describing the probe's train/val/test nodes and
    ``noise_model`` the Gaussian model behind the feature-noise variance and the Bayes errors.

    Examples
    --------
    >>> from oversmooth.graphs import sample_csbm
    >>> from oversmooth.experiments import analyze_graph
    >>> res = analyze_graph(sample_csbm(300, p=0.06, q=0.01, seed=0), depth=2, alphas=(), bfs_sources=4, metrics=())
    >>> sorted(res.to_json())[:4]
    ['appnp', 'config', 'csbm_fit', 'departures']
    """

    name: str
    fit: CSBMFit
    rows: list[dict[str, Any]]
    reach: dict[str, Any]
    recommendation: dict[str, Any]
    departures: dict[str, Any]
    appnp: list[dict[str, Any]]
    config: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    features: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-safe dict (NaN/inf -> None, numpy scalars -> Python)."""
        return json_clean({"oversmooth_version": __version__, "graph": self.name, "features": self.features,
                           "config": self.config, "csbm_fit": self.fit.to_dict(), "rows": self.rows,
                           "reach": self.reach, "departures": self.departures, "appnp": self.appnp,
                           "recommendation": self.recommendation, "notes": self.notes,
                           "seconds": round(self.seconds, 3)})


def json_clean(v: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars and arrays -> Python.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.experiments._analyze_result import json_clean
    >>> json_clean({"a": np.float64("nan"), "b": [np.int64(2), np.bool_(True)]})
    {'a': None, 'b': [2, True]}
    """
    if isinstance(v, dict):
        return {k: json_clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_clean(x) for x in v]
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, np.ndarray):
        return json_clean(v.tolist())
    return v


def recommend(err: np.ndarray, se: np.ndarray) -> dict[str, Any]:
    """The depth of the smallest error, and the range of depths within one SE of it.

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.experiments._analyze_result import recommend
    >>> recommend(np.array([0.3, 0.1, 0.12, 0.2]), np.array([0.01, 0.03, 0.01, 0.01]))["within_one_se"]
    [1, 2]
    """
    best = theory.optimal_depth(err)
    within = np.flatnonzero(err <= err[best] + se[best])
    return {"depth": best, "error": float(err[best]), "se": float(se[best]),
            "within_one_se": [int(within.min()), int(within.max())]}


def probe_recommendation(rows: list[dict[str, Any]], val: np.ndarray, test: np.ndarray, measured: str
                         ) -> dict[str, Any]:
    """The probe's depth: smallest validation error (test error when there is no validation node).

    ``val`` and ``test`` are accuracies (depth + 1, splits); the per-depth probe columns are
    added to ``rows``. ``validated`` says whether validation nodes chose the depth.
    """
    has_val = bool(np.all(np.isfinite(val)))
    vm, vs = mean_sem(1.0 - (val if has_val else test), axis=1)
    tm = test.mean(axis=1)
    tsd = test.std(axis=1, ddof=1) if test.shape[1] > 1 else np.zeros(test.shape[0])
    for n, r in enumerate(rows):
        if has_val:
            r["probe_val_error"] = float(vm[n])
            r["probe_val_error_se"] = float(vs[n])
        r["probe_test_accuracy"] = float(tm[n])
        r["probe_test_accuracy_std"] = float(tsd[n])
    rec = recommend(vm, vs)
    rec["test_accuracy"] = float(tm[rec["depth"]])
    rec["test_accuracy_std"] = float(tsd[rec["depth"]])
    rec["criterion"] = f"{'validation' if has_val else 'test'} error of a linear probe on {measured}"
    rec["validated"] = has_val
    return rec


def first_departure(measured: np.ndarray, predicted: np.ndarray, factor: float) -> int | None:
    """First depth where ``|measured| / |predicted|`` leaves ``[1/factor, factor]`` (or is not finite).

    Examples
    --------
    >>> import numpy as np
    >>> from oversmooth.experiments._analyze_result import first_departure
    >>> first_departure(np.array([1.0, 0.5, 0.1]), np.array([1.0, 0.5, 0.25]), 1.5)
    2
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(measured) / np.abs(predicted)
    bad = np.flatnonzero(~np.isfinite(ratio) | (ratio > factor) | (ratio < 1.0 / factor))
    return int(bad[0]) if bad.size else None


def check_finite(res: AnalysisResult, skip: set[str]) -> None:
    """Never a NaN table: every number analyze computes must be finite (None marks 'not applicable').

    The profile's columns (``skip``) say in their notes why one is missing.
    """
    for r in res.rows:
        for key, v in r.items():
            if key in skip or (key == "feature_variance_se" and res.config["probes"] == 1):
                continue  # one Hutchinson probe: no spread to estimate an SE from
            if isinstance(v, float) and not math.isfinite(v):
                raise RuntimeError(f"analysis produced a non-finite {key} at depth {r['depth']}: "
                                   "please report this")  # a bug, not a user error: never caught as one
