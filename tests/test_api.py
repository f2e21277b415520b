"""API conformance, in the style of scikit-network's ``test_API.py``: one place for what every public name owes.

1. Every public function and class (each subpackage's ``__all__``) has a numpydoc docstring with
   an ``Examples`` section (the examples themselves run in ``test_doctests.py``).
2. Invalid values of the shared arguments (seed, n, p, q, depth, alpha, ...) raise the project's
   errors (:mod:`oversmooth.errors`) with a message naming the argument: one table.
3. Seed handling, once per layer: the same seed gives the same bytes, another seed other bytes.
   (The layer-specific tests no longer repeat this.)
"""

from __future__ import annotations

import importlib
import inspect
import pickle
from typing import Any, Callable

import numpy as np
import pytest

from oversmooth.errors import ArgumentTypeError, OversmoothError, ValidationError

# --------------------------------------------------------------------------- 1. docstrings

#: Public modules whose ``__all__`` is checked (torch / matplotlib ones import their heavy parts lazily).
PUBLIC_MODULES = ("oversmooth", "oversmooth.graphs", "oversmooth.operators", "oversmooth.measures",
                  "oversmooth.theory", "oversmooth.experiments", "oversmooth.tables", "oversmooth.training",
                  "oversmooth.viz", "oversmooth.report", "oversmooth.cli")

#: Public names that still lack an Examples section, each with its owner. The test fails when one of
#: them gains one (delete it here) and when any other name lacks one: the list can only shrink.
MISSING_EXAMPLES = {
    "oversmooth.experiments": {"SpecError", "SweepSpec", "SweepSummary", "estimate_cost"},  # S
    "oversmooth.training": set(),  # lead
    "oversmooth.cli": {"main", "CLIError"},  # C
}


def _public(module_name: str) -> list[tuple[str, Any]]:
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    assert names is not None, f"{module_name} has no __all__"
    out = []
    for name in names:
        obj = getattr(module, name)  # every name in __all__ must exist
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            continue  # exceptions are documented by the functions that raise them
        if inspect.isfunction(obj) or inspect.isclass(obj):
            out.append((name, obj))
    return out


def _has_examples(obj: Any) -> bool:
    doc = inspect.getdoc(obj) or ""
    return "Examples\n--------" in doc and ">>>" in doc.split("Examples\n--------", 1)[1]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_has_a_numpydoc_example(module_name):
    pytest.importorskip("torch") if module_name == "oversmooth.training" else None
    allowed = MISSING_EXAMPLES.get(module_name, set())
    public = _public(module_name)
    assert public or module_name == "oversmooth.cli", f"{module_name} exports no function or class"
    missing = sorted(name for name, obj in public if not _has_examples(obj) and name not in allowed)
    assert not missing, f"{module_name}: no 'Examples' section with a '>>>' line in {missing}"
    fixed = sorted(name for name, obj in public if name in allowed and _has_examples(obj))
    assert not fixed, f"{module_name}: {fixed} now have examples: remove them from MISSING_EXAMPLES"
    summaryless = sorted(name for name, obj in public if not (inspect.getdoc(obj) or "").strip())
    assert not summaryless, f"{module_name}: no docstring at all for {summaryless}"


def test_all_lists_only_existing_unique_names():
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        names = list(module.__all__)
        assert len(names) == len(set(names)), f"{module_name}.__all__ repeats a name"
        assert all(hasattr(module, n) for n in names), module_name


# --------------------------------------------------------------------------- 2. validation of shared arguments


def _graph():
    from oversmooth.graphs import sample_csbm

    return sample_csbm(120, p=0.1, q=0.02, seed=0)


def _call(path: str) -> Callable[..., Any]:
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


# (function, positional args factory, bad keyword arguments, the argument name the message must give)
VALIDATION = [
    ("oversmooth.graphs.sample_csbm", lambda: (), dict(n=-5, p=0.1, q=0.1), "n"),
    ("oversmooth.graphs.sample_csbm", lambda: (), dict(n=100, p=1.5, q=0.1), "p"),
    ("oversmooth.graphs.sample_csbm", lambda: (), dict(n=100, p=0.1, q=-0.1), "q"),
    ("oversmooth.graphs.sample_csbm", lambda: (), dict(n=100, p=0.1, q=0.1, seed=-1), "seed"),
    ("oversmooth.graphs.sample_csbm", lambda: (), dict(n=100, p=0.1, q=0.1, seed="x"), "seed"),
    ("oversmooth.graphs.random_split", lambda: (np.array([0, 1] * 10),), dict(seed=-3), "seed"),
    ("oversmooth.graphs.graph_reach", lambda: (_graph(),), dict(max_hops=-1), "max_hops"),
    ("oversmooth.graphs.graph_reach", lambda: (_graph(), 3), dict(seed=1.5), "seed"),
    ("oversmooth.theory.lam", lambda: (), dict(p=2.0, q=0.1), "p"),
    ("oversmooth.theory.expected_degree", lambda: (), dict(n=1, p=0.1, q=0.1), "n"),
    ("oversmooth.theory.ppr_gap", lambda: (3, 0.5), dict(alpha=1.5, gap0=2.0), "alpha"),
    ("oversmooth.theory.ppr_variance_floor", lambda: (), dict(alpha=-0.1), "alpha"),
    ("oversmooth.theory.theory_columns", lambda: (1000, 0.01, 0.005), dict(depth=-1, gap0=2.0), "depth"),
    ("oversmooth.theory.theory_columns", lambda: (1000, 0.01, 0.005, 3), dict(gap0=2.0, alpha=2.0), "alpha"),
    ("oversmooth.theory.spectral_sandwich", lambda: (_graph(),), dict(depth=-2), "depth"),
    ("oversmooth.theory.spectral_sandwich", lambda: (_graph(), 2), dict(method="dense"), "method"),
    ("oversmooth.measures.feature_noise_variance", lambda: (_graph(),), dict(depth=-1), "depth"),
    ("oversmooth.measures.feature_noise_variance", lambda: (_graph(), 2), dict(operator="appnp", alpha=1.5), "alpha"),
    ("oversmooth.measures.feature_noise_variance", lambda: (_graph(), 2), dict(method="hutchinson", seed=-1),
     "seed"),
    ("oversmooth.measures.principal_projection", lambda: (np.ones((5, 4)),), dict(rank=0), "rank"),
    ("oversmooth.measures.principal_projection", lambda: (np.ones((5, 4)), 2), dict(seed="s"), "seed"),
    ("oversmooth.operators.iter_propagate", lambda: (_graph().adjacency, np.ones((120, 1))),
     dict(depth=1, operator="appnp", alpha=3.0), "alpha"),
    ("oversmooth.experiments.simulate", lambda: (), dict(n=200, depth=-1), "depth"),
    ("oversmooth.experiments.simulate", lambda: (), dict(n=200, depth=2, operator="appnp", alpha=1.5), "alpha"),
    ("oversmooth.experiments.simulate", lambda: (), dict(n=200, p=1.5, depth=2), "p"),
    ("oversmooth.experiments.analyze_graph", lambda: (_graph(),), dict(depth=0), "depth"),
    ("oversmooth.experiments.analyze_graph", lambda: (_graph(), 2), dict(operator="appnp", alpha=-1.0), "alpha"),
    ("oversmooth.experiments.analyze_graph", lambda: (_graph(), 2), dict(operator="sgc"), "operator"),
    ("oversmooth.experiments.analyze_graph", lambda: (_graph(), 2), dict(seed=-4, alphas=()), "seed"),
    ("oversmooth.tables.mean_sem", lambda: (np.ones((2, 3)),), dict(axis=5), "axis"),
]


@pytest.mark.parametrize("path, args, bad, name", VALIDATION,
                         ids=[f"{p.rsplit('.', 1)[1]}-{n}-{i}" for i, (p, _, _, n) in enumerate(VALIDATION)])
def test_invalid_shared_arguments_raise_the_projects_errors_naming_them(path, args, bad, name):
    with pytest.raises((ValidationError, ArgumentTypeError)) as info:
        out = _call(path)(*args(), **bad)
        if inspect.isgenerator(out):
            next(out)
    assert isinstance(info.value, OversmoothError)
    assert name in str(info.value), f"{path}({bad}) raised {info.value!r}, which does not name {name!r}"


def test_deprecated_keywords_still_work_with_a_warning():
    from oversmooth import theory
    from oversmooth.experiments import analyze_graph
    from oversmooth.tables import grouped_mean_sem, mean_and_sem

    with pytest.warns(DeprecationWarning, match="lam_= is deprecated"):
        assert theory.gap(2, lam_=0.5, gap0=2.0) == theory.gap(2, lam=0.5, gap0=2.0)
    with pytest.warns(DeprecationWarning, match="d= is deprecated"):
        assert theory.lambda_eff(0.5, d=16.2) == theory.lambda_eff(0.5, degree=16.2)
    with pytest.raises(ValidationError, match="got both lam_= .* and lam="):
        theory.nu(lam=0.5, lam_=0.5, c=10.0)
    rows = [{"depth": 0, "e": 1.0}, {"depth": 0, "e": 3.0}]
    with pytest.warns(DeprecationWarning, match="grouped_mean_sem"):
        old = mean_and_sem(rows, "e")
    assert [a.tolist() for a in old] == [a.tolist() for a in grouped_mean_sem(rows, "e")]
    with pytest.warns(DeprecationWarning, match="snr= is deprecated"):
        res = analyze_graph(_graph(), 1, snr=2.0, seeds=1, alphas=(), bfs_sources=2, metrics=())
    assert res.config["mean_scale"] == 2.0


# --------------------------------------------------------------------------- 3. seeds: once per layer


def _bytes(obj: Any) -> bytes:
    """A canonical byte string of a result (arrays by value, dataclasses and dicts by their fields)."""
    if hasattr(obj, "to_json"):
        obj = obj.to_json()
        obj.pop("seconds", None)
    if hasattr(obj, "__dataclass_fields__"):
        obj = {k: getattr(obj, k) for k in obj.__dataclass_fields__}
    if hasattr(obj, "adjacency"):  # a Graph
        a = obj.adjacency
        obj = (a.indptr, a.indices, a.data, obj.labels, obj.features)
    return pickle.dumps(obj, protocol=4)


#: Functions whose seed is stored as an int in their output (simulate's rows record it): no Generator.
INT_SEED_ONLY = {"experiments.simulate"}


def _seeded_calls() -> list[tuple[str, Callable[[Any], Any]]]:
    from oversmooth import experiments, graphs, measures, theory

    g = _graph()
    x = np.random.default_rng(0).standard_normal((120, 6)) + g.labels[:, None]
    return [
        ("graphs.sample_csbm", lambda s: graphs.sample_csbm(150, p=0.08, q=0.02, seed=s)),
        ("graphs.random_split", lambda s: graphs.random_split(g.labels, s)),
        ("graphs.gaussian_class_features", lambda s: graphs.gaussian_class_features(g, np.eye(2), 1.0, s)),
        ("graphs.graph_reach", lambda s: graphs.graph_reach(g, 4, sources=5, seed=s)),
        ("measures.feature_noise_variance",
         lambda s: measures.feature_noise_variance(g, 3, method="hutchinson", probes=4, seed=s)),
        ("measures.bayes_error_lda", lambda s: measures.bayes_error_lda(np.eye(3), np.eye(3), n_samples=300, seed=s)),
        ("measures.probe_accuracy", lambda s: measures.probe_accuracy(x, g.labels, seed=s)),
        ("measures.principal_projection", lambda s: measures.principal_projection(x, 2, seed=s)),
        ("measures.mixture_bayes_error", lambda s: measures.mixture_bayes_error(
            np.c_[g.labels, 1 - g.labels].astype(float), np.ones(120), g.labels, method="monte_carlo",
            n_samples=200, seed=s)),
        ("measures.profile_embeddings", lambda s: measures.profile_embeddings(
            [x, x + 0.5], g.labels, g.adjacency, metrics=["mad_gap", "probe_accuracy"], seed=s).rows),
        ("theory.spectral_sandwich", lambda s: theory.spectral_sandwich(g, 2, method="hutchinson", probes=4, seed=s)),
        ("experiments.simulate", lambda s: [{k: v for k, v in r.items() if k != "oversmooth_version"}
                                            for r in experiments.simulate(n=150, p=0.08, q=0.02, depth=2, seed=s)]),
        ("experiments.analyze_graph", lambda s: experiments.analyze_graph(
            g, 2, seeds=2, alphas=(0.2,), bfs_sources=4, variance="hutchinson", probes=4,
            metrics=["mad_gap", "separation"], seed=s)),
    ]


@pytest.mark.parametrize("label, call", _seeded_calls(), ids=[c[0] for c in _seeded_calls()])
def test_same_seed_same_bytes_other_seed_other_bytes(label, call):
    a, b, c = _bytes(call(3)), _bytes(call(3)), _bytes(call(4))
    assert a == b, f"{label}: two calls with seed=3 differ"
    assert a != c, f"{label}: seed=3 and seed=4 give the same bytes (is the seed used?)"
    if label in INT_SEED_ONLY:
        return
    gen = _bytes(call(np.random.default_rng(3)))
    assert gen == _bytes(call(np.random.default_rng(3))), f"{label}: a fresh Generator(3) is not reproducible"
