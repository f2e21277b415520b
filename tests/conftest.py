"""Shared fixtures and the Hypothesis profile of the test suite.

Helpers that are plain functions (dense references, strategies, statistics, CLI runners)
live in ``tests/_helpers.py``; this file only holds fixtures and configuration.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, settings

sys.path.insert(0, os.path.dirname(__file__))  # make ``_helpers`` importable in every import mode

from oversmooth.graphs import Graph, sample_csbm  # noqa: E402
from _quick_reproduction import quick_reproduction  # noqa: E402,F401  (the ONE quick reproduction, session-wide)

# Deterministic property tests: derandomize=True makes every run draw the same examples
# (the "fixed seed" of Hypothesis); no example database is written; no per-example
# deadline (the first call of a test pays for imports and caches).
settings.register_profile(
    "oversmooth",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("oversmooth")


@pytest.fixture
def path3() -> Graph:
    """The path 0 - 1 - 2 with self-loops, labels [0, 0, 1]; degrees (2, 3, 2)."""
    a = sp.csr_array(np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 1.0, 1.0]]))
    return Graph(a, labels=[0, 0, 1], features=[[0.0], [3.0], [6.0]])


@pytest.fixture
def isolated_graph() -> Graph:
    """Edge 0 - 1 and an isolated node 2, no self-loops (node 2 has degree 0)."""
    return Graph.from_edges([0], [1], n_nodes=3, labels=[0, 1, 1])


@pytest.fixture(scope="module")
def csbm_small() -> Graph:
    """A small two-block CSBM (N=300, d ~ 13, lambda = 0.5), seed 0: fast, exact methods apply."""
    return sample_csbm(300, p=0.06, q=0.02, mu=[-1.0, 1.0], sigma=1.0, seed=0)
