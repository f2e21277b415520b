"""Experiments: configurations, simulations, real-graph analysis and sweeps.

Tables (CSV, mean +- SEM) live in :mod:`oversmooth.tables`; the CSBM fit in
:mod:`oversmooth.theory`; graph reach and saturation level in :mod:`oversmooth.graphs`;
the probe and the principal projection in :mod:`oversmooth.measures`. The names below that
moved are re-exported here for one release.

Examples
--------
>>> from oversmooth.experiments import simulate
>>> rows = simulate(n=300, p=0.06, q=0.02, depth=1)
>>> sorted(set(r["operator"] for r in rows))
['gcn']
"""

from ._simulate import ROW_COLUMNS, SIMULATE_OPERATORS, SimulationConfig, run_simulation, simulate
from ..tables import column, group_rows, grouped_mean_sem, mean_and_sem, mean_sem, read_csv, write_csv
from ..graphs import random_split  # re-exported for one release: moved to oversmooth.graphs
from ..measures import linear_probe  # re-exported for one release: moved to oversmooth.measures
from ..theory import CSBMFit, fit_csbm  # re-exported for one release: moved to oversmooth.theory
from ._structure import graph_reach, saturation_level  # re-exported for one release: moved to oversmooth.graphs
from ._analyze import ANALYZE_OPERATORS, AnalysisResult, analyze_graph
from .sweep import (SpecError, SweepSpec, SweepSummary, cell_key, cell_seed, estimate_cost, expand_axis,
                     load_results, load_spec, parse_spec, run_cells, run_sweep, sweep_status, use_backend)

__all__ = [
    "ROW_COLUMNS",
    "SIMULATE_OPERATORS",
    "SimulationConfig",
    "run_simulation",
    "simulate",
    "read_csv",
    "write_csv",
    "group_rows",
    "column",
    "mean_and_sem",
    "mean_sem",
    "grouped_mean_sem",
    "ANALYZE_OPERATORS",
    "analyze_graph",
    "random_split",
    "AnalysisResult",
    "CSBMFit",
    "fit_csbm",
    "graph_reach",
    "saturation_level",
    "linear_probe",
    "SpecError",
    "SweepSpec",
    "SweepSummary",
    "parse_spec",
    "load_spec",
    "expand_axis",
    "cell_key",
    "cell_seed",
    "run_cells",
    "use_backend",
    "run_sweep",
    "sweep_status",
    "estimate_cost",
    "load_results",
]
