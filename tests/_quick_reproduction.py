"""The ONE quick reproduction of the test session, shared by every test that reads its output.

``oversmooth reproduce --quick --seed 0`` runs once per session in a subprocess (the CLI as a
user runs it) and the result is cached here, at module level, so that importing the fixture
into several test modules (or registering it in ``conftest.py``) still runs it once.
Its output folder is kept under pytest's session temporary directory.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from _helpers import PLANETOID_RAW_ENV, planetoid_raw_dir

__all__ = ["QuickRun", "quick_reproduction", "HAS_TORCH", "HAS_RAW", "TRAINED", "SIMULATED", "run_quick"]

HAS_TORCH = importlib.util.find_spec("torch") is not None
_RAW = planetoid_raw_dir()
HAS_RAW = all((_RAW / f"ind.{name}.{s}").is_file() for name in ("cora", "citeseer")
              for s in ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index"))
#: claims whose CSV is a simulation table (oversmooth.experiments.ROW_COLUMNS)
SIMULATED = ("mixing", "denoising", "optimal_depth", "appnp_vs_gcn", "pairnorm", "real_graphs", "corrected_conv")
#: the trained claims that run here (training needs torch; real_gnn also the raw Planetoid files)
TRAINED = (("training",) if HAS_TORCH else ()) + (("real_gnn",) if HAS_TORCH and HAS_RAW else ())


@dataclass(frozen=True)
class QuickRun:
    """The quick reproduction's output folder, its finished process and its wall time."""

    out: Path
    proc: subprocess.CompletedProcess[str]
    seconds: float


_CACHE: dict[str, QuickRun] = {}


def run_quick(base: Path) -> QuickRun:
    """Run ``oversmooth reproduce --quick --seed 0`` into ``base/out`` once per process; later calls reuse it."""
    if "run" not in _CACHE:
        out = base / "out"
        env = dict(os.environ)
        if HAS_RAW:
            env[PLANETOID_RAW_ENV] = str(_RAW)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "oversmooth", "reproduce", "--quick", "--out", str(out),
                               "--seed", "0"], capture_output=True, text=True, timeout=1200, env=env)
        _CACHE["run"] = QuickRun(out, proc, time.perf_counter() - t0)
    return _CACHE["run"]


@pytest.fixture(scope="session")
def quick_reproduction(tmp_path_factory: pytest.TempPathFactory) -> QuickRun:
    """The session's one ``oversmooth reproduce --quick --seed 0`` run (see the module docstring)."""
    return run_quick(tmp_path_factory.getbasetemp() / "quick-reproduction")
