"""One CSBM experiment: sample, propagate, measure, and put the theory beside it."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

from .. import theory
from .._resources import check_resources
from .._utils import (
    check_choice,
    check_finite_array,
    check_nonneg_int,
    check_positive_float,
    check_positive_int,
    check_probability,
    derive_seed,
)
from .._version import __version__
from ..errors import ValidationError
from ..graphs import sample_csbm
from ..measures import EXACT_MAX_NODES, bayes_error, depth_profile
from ..operators import PAIRNORM_MODES
from ..tables import SIMULATE_COLUMNS
from ._simcost import estimate_simulation

__all__ = ["SimulationConfig", "simulate", "run_simulation", "SIMULATE_OPERATORS", "ROW_COLUMNS", "SCALE_RANGE"]

#: Magnitudes allowed for ``mu``, ``sigma`` and ``pairnorm_scale``: squares and sums of squares of the
#: features must stay finite and normal in float64 (``--mu 1e308 1e307`` overflowed the separation and
#: ``--sigma 1e-308`` divided by an underflowed variance). The results scale exactly with them, so any
#: problem can be stated inside this range.
SCALE_RANGE = (1e-100, 1e100)


#: Operators of the simulate experiment; ``gcn-sym`` is GCN with D^-1/2 A D^-1/2; ``corrected`` is
#: ``D^-1 A - 1 pi^T`` (Wang, Baranwal & Fountoulakis 2024: no [sigma^2/N, sigma^2] bounds), which is
#: GCN shifted by one constant per feature; ``corrected-sym`` is ``S - sqrt(pi) sqrt(pi)^T`` with
#: ``S = D^-1/2 A D^-1/2``, whose removed component differs between nodes.
SIMULATE_OPERATORS = ("gcn", "gcn-sym", "appnp", "pairnorm", "corrected", "corrected-sym")

#: Columns every row of :func:`simulate` has (the CLI's JSON contract), in order: the package's
#: one schema, :data:`oversmooth.tables.SIMULATE_COLUMNS`.
ROW_COLUMNS = SIMULATE_COLUMNS


#: Measures of :func:`~oversmooth.measures.profile_embeddings` taken on every realised layer h(n).
SIMULATE_METRICS = ("dirichlet_energy", "mad")
#: The columns of a row taken from :func:`~oversmooth.measures.depth_profile`.
_PROFILE_KEYS = (
    "gap", "realised_gap", "class_means", "cross_sectional_variance", "structural_variance", "realised_error",
    "dirichlet_energy", "mad", "feature_variance", "feature_variance_se", "feature_variance_per_class",
    "bayes_error", "variance_method", "probes",
)


@dataclass(frozen=True)
class SimulationConfig:
    """Parameters of one CSBM simulation (validated on creation).

    Attributes follow the paper's notation: ``n`` nodes in two equal blocks (or
    ``len(mu)`` blocks), edge probabilities ``p`` (within) and ``q`` (across), 1-D
    class means ``mu`` and noise std ``sigma``; ``operator`` in
    ``gcn | gcn-sym | appnp | pairnorm | corrected | corrected-sym``, APPNP's ``alpha``; ``seed`` and ``seeds``
    replicates (rows say ``seed, seed + 1, ...``; replicate r's graph and profile streams are
    ``derive_seed(seed, "replicate", r)`` then ``"graph"`` / ``"profile"``); the variance ``method``
    (auto | exact | hutchinson) and its ``probes``.

    Examples
    --------
    >>> from oversmooth.experiments import SimulationConfig
    >>> SimulationConfig(n=500, p=0.05, q=0.01).operator
    'gcn'
    >>> SimulationConfig(n=500, p=1.5, q=0.01)
    Traceback (most recent call last):
    ...
    oversmooth.errors.ValidationError: p must be in [0, 1], got 1.5
    """

    n: int = 2000
    p: float = 0.0114
    q: float = 0.0038
    mu: tuple[float, ...] = (-1.0, 1.0)
    sigma: float = 1.0
    depth: int = 10
    operator: str = "gcn"
    alpha: float = 0.1
    pairnorm_scale: float = 1.0
    pairnorm_mode: str = "PN"
    self_loops: bool = True
    seed: int = 0
    seeds: int = 1
    probes: int = 32
    method: str = "auto"
    exact_max_nodes: int = EXACT_MAX_NODES
    zero_degree: str = "raise"

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "n", check_positive_int(self.n, "n", minimum=2))
        set_(self, "p", check_probability(self.p, "p"))
        set_(self, "q", check_probability(self.q, "q"))
        mu = check_finite_array(self.mu, "mu", ndim=1)
        if mu.size < 2:
            raise ValidationError(f"mu must give at least 2 class means, got {mu.tolist()}")
        if mu.size > self.n:
            raise ValidationError(f"mu has {mu.size} classes but n={self.n} nodes (no empty block allowed)")
        if np.any(np.abs(mu) > SCALE_RANGE[1]):
            raise ValidationError(f"mu values must be within +-{SCALE_RANGE[1]:g} (squares must stay finite; the "
                                  f"results scale with mu and sigma: divide both), got {mu.tolist()}")
        set_(self, "mu", tuple(float(v) for v in mu))
        set_(self, "sigma", _check_scale(self.sigma, "sigma"))
        set_(self, "depth", check_nonneg_int(self.depth, "depth"))
        set_(self, "operator", check_choice(self.operator, "operator", SIMULATE_OPERATORS))
        set_(self, "alpha", check_probability(self.alpha, "alpha"))
        set_(self, "pairnorm_scale", _check_scale(self.pairnorm_scale, "pairnorm_scale"))
        set_(self, "pairnorm_mode", check_choice(self.pairnorm_mode, "pairnorm_mode", PAIRNORM_MODES))
        set_(self, "seed", check_nonneg_int(self.seed, "seed"))
        set_(self, "seeds", check_positive_int(self.seeds, "seeds"))
        set_(self, "probes", check_positive_int(self.probes, "probes"))
        set_(self, "method", check_choice(self.method, "method", ("auto", "exact", "hutchinson")))
        set_(self, "exact_max_nodes", check_nonneg_int(self.exact_max_nodes, "exact_max_nodes"))
        if self.p + self.q == 0:
            raise ValidationError("p and q are both 0: the graph has no edges to propagate over")

    def to_dict(self) -> dict[str, Any]:
        """The parameters as a JSON-ready dict (``mu`` a list)."""
        out = asdict(self)
        out["mu"] = list(self.mu)
        return out

    def resources(self) -> dict[str, Any]:
        """Estimated peak memory (bytes) and run time (seconds) of :func:`run_simulation`, before any work.

        From the expected number of stored entries of A (``nnz``), the variance method and the
        number of propagated columns; the model was fitted to runs on the development machine
        (within about 2x). ``memory_argument`` / ``time_argument`` name what dominates each.

        Examples
        --------
        >>> from oversmooth.experiments import SimulationConfig
        >>> est = SimulationConfig(n=100_000_000, p=0.1, q=0.0038).resources()
        >>> est["memory_bytes"] > 2**50, est["memory_argument"].startswith("n=100000000")
        (True, True)
        """
        return estimate_simulation(self)

    def check_resources(self, *, max_memory: float | None = None, max_seconds: float | None = None) -> None:
        """Raise ``ResourceLimitError`` (naming the argument, with the estimate) when :meth:`resources` exceeds a limit.

        ``max_memory`` (bytes) defaults to this machine's memory (or ``ulimit -v``),
        ``max_seconds`` to 6 hours; ``math.inf`` lifts a limit.

        Examples
        --------
        >>> from oversmooth.experiments import SimulationConfig
        >>> SimulationConfig(n=300, depth=10**9).check_resources()
        Traceback (most recent call last):
        ...
        oversmooth.errors.ResourceLimitError: depth=1000000000 needs about ...
        """
        est = self.resources()
        check_resources(memory=est["memory_bytes"], seconds=0.0, argument=est["memory_argument"],
                        detail=est["memory_detail"], max_memory=max_memory, max_seconds=max_seconds)
        check_resources(memory=0.0, seconds=est["seconds"], argument=est["time_argument"],
                        detail=est["time_detail"], max_memory=max_memory, max_seconds=max_seconds)


def _check_scale(value: Any, name: str) -> float:
    v = check_positive_float(value, name)
    lo, hi = SCALE_RANGE
    if not lo <= v <= hi:
        hint = "; the results scale with mu and sigma: rescale both" if name == "sigma" else ""
        raise ValidationError(f"{name} must be in [{lo:g}, {hi:g}] (squares must stay finite and normal{hint}), "
                              f"got {value}")
    return v


def run_simulation(config: SimulationConfig, *, max_memory: float | None = None,
                   max_seconds: float | None = None, dtype: str = "float64",
                   backend: str = "numpy") -> list[dict[str, Any]]:
    """Run ``config``: one row per seed x depth (see :data:`ROW_COLUMNS`).

    The memory and time are estimated first (:meth:`SimulationConfig.resources`); beyond
    ``max_memory`` bytes (default: this machine's memory or ``ulimit -v``) or ``max_seconds``
    (default 6 hours) the run is refused with ``ResourceLimitError`` before anything is allocated.
    ``dtype`` (``"float64"`` or ``"float32"``: the Hutchinson probes and propagated blocks, sums in
    float64; the exact path stays float64) and ``backend`` (``"numpy"`` or ``"torch"``) are passed
    to :func:`~oversmooth.measures.depth_profile`; they are not part of the config (nor of a sweep
    cell's key).

    Examples
    --------
    >>> from oversmooth.experiments import SimulationConfig, run_simulation
    >>> rows = run_simulation(SimulationConfig(n=300, p=0.06, q=0.02, depth=2, seeds=2))
    >>> len(rows), rows[0]["seed"], rows[-1]["seed"]
    (6, 0, 1)
    """
    if not isinstance(config, SimulationConfig):
        from ..errors import ArgumentTypeError

        raise ArgumentTypeError(f"config must be a SimulationConfig, got {type(config).__name__}")
    cfg = config
    dtype = check_choice(str(dtype), "dtype", ("float64", "float32"))
    backend = check_choice(backend, "backend", ("numpy", "torch"))
    cfg.check_resources(max_memory=max_memory, max_seconds=max_seconds)
    operator = {"gcn-sym": "gcn", "corrected-sym": "corrected"}.get(cfg.operator, cfg.operator)
    normalization = "sym" if cfg.operator.endswith("-sym") else "rw"
    gap0 = cfg.mu[1] - cfg.mu[0]
    theory_rows = theory.theory_columns(cfg.n, cfg.p, cfg.q, cfg.depth, gap0=gap0, sigma=cfg.sigma,
                                        operator=cfg.operator, alpha=cfg.alpha, self_loops=cfg.self_loops,
                                        n_classes=len(cfg.mu))
    rows: list[dict[str, Any]] = []
    for r in range(cfg.seeds):
        seed = cfg.seed + r  # the row's "seed" column
        # one stream per purpose (derive_seed): the graph's and the profile's streams never replay each
        # other (with the same integer both spawned the same children: Hutchinson probes = the edge stream)
        rep = derive_seed(cfg.seed, "replicate", r)
        graph = sample_csbm(cfg.n, cfg.p, cfg.q, n_blocks=len(cfg.mu), mu=list(cfg.mu), sigma=cfg.sigma,
                            self_loops=cfg.self_loops, seed=derive_seed(rep, "graph"))
        # the noise model is the config's own (mu, sigma): passed explicitly, never read from the graph
        profile = depth_profile(
            graph, cfg.depth, operator=operator, normalization=normalization, alpha=cfg.alpha,
            pairnorm_scale=cfg.pairnorm_scale, pairnorm_mode=cfg.pairnorm_mode, mu=list(cfg.mu),
            sigma=cfg.sigma, variance=cfg.method, probes=cfg.probes, zero_degree=cfg.zero_degree,
            exact_max_nodes=cfg.exact_max_nodes, seed=derive_seed(rep, "profile"), metrics=SIMULATE_METRICS,
            dtype=dtype, backend=backend,
        )
        deg = graph.degrees
        graph_cols = {"mean_degree": float(deg.mean()), "pi_sq_sum": theory.stationary_sq_sum(deg)}
        for prof, th in zip(profile, theory_rows):
            row = {
                "seed": seed, "depth": prof["depth"], "operator": cfg.operator, "n": cfg.n, "p": cfg.p,
                "q": cfg.q, "sigma": cfg.sigma, "alpha": cfg.alpha, "self_loops": cfg.self_loops,
                **graph_cols,
            }
            row.update({k: prof[k] for k in _PROFILE_KEYS})
            if len(cfg.mu) == 2:
                sep = abs(prof["gap"]) / math.sqrt(prof["feature_variance"])
                row["separation"] = sep
                row["log10_bayes_error"] = float(bayes_error(sep, log10=True))
            else:
                row["separation"] = None
                row["log10_bayes_error"] = math.log10(prof["bayes_error"]) if prof["bayes_error"] > 0 else None
            row.update(th)
            row["oversmooth_version"] = __version__
            rows.append({k: _clean(v) for k, v in row.items()})
    return rows


def _num(v: Any) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


def _clean(v: Any) -> Any:
    """Plain Python values, NaN as None (valid JSON)."""
    if isinstance(v, (np.floating, float)):
        return _num(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def simulate(
    n: int = 2000,
    p: float = 0.0114,
    q: float = 0.0038,
    *,
    mu: Sequence[float] = (-1.0, 1.0),
    sigma: float = 1.0,
    depth: int = 10,
    operator: str = "gcn",
    alpha: float = 0.1,
    seed: int = 0,
    seeds: int = 1,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """Sample CSBM graphs and measure mixing and denoising at depths 0..``depth``.

    A thin wrapper: ``run_simulation(SimulationConfig(...))``. See
    :class:`SimulationConfig` for every parameter and :data:`ROW_COLUMNS` for the
    row keys (measured values, then the theory beside them).

    Returns
    -------
    list of dict
        One row per seed x depth.

    Examples
    --------
    >>> from oversmooth.experiments import simulate
    >>> rows = simulate(n=2000, p=0.0114, q=0.0038, depth=2, seed=0)
    >>> round(rows[1]["theory_gap"], 12)
    1.0
    """
    cfg = SimulationConfig(n=n, p=p, q=q, mu=tuple(mu), sigma=sigma, depth=depth, operator=operator,
                           alpha=alpha, seed=seed, seeds=seeds, **kwargs)
    return run_simulation(cfg)
