"""Every docstring example of the package runs (numpydoc examples are part of the docs)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import oversmooth


def _modules() -> list[str]:
    names = [oversmooth.__name__]
    for info in pkgutil.walk_packages(oversmooth.__path__, prefix="oversmooth."):
        if not info.name.endswith("__main__"):  # importing it runs the CLI
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name, globs={"np": np}):
        if test.examples:
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name} (see the output above)"


def test_row_parallel_matmul_is_bitwise_identical():
    from oversmooth.graphs import sample_csbm
    from oversmooth.operators import normalize_adjacency
    from oversmooth.operators._spmm import PARALLEL_MIN_WORK, RowParallelMatmul

    g = sample_csbm(20_000, p=0.0015, q=0.0005, seed=3)
    P = normalize_adjacency(g, "rw")
    h = np.random.default_rng(0).standard_normal((20_000, 12))
    assert P.nnz * h.shape[1] >= PARALLEL_MIN_WORK  # the threaded path is taken
    ref = P @ h
    for threads in (1, 2, 3, 7):
        assert np.array_equal(RowParallelMatmul(P, threads=threads)(h), ref)
