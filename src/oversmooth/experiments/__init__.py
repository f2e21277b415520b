"""Experiments: configurations, simulations, real-graph analysis, sweeps and tidy result tables.

Examples
--------
>>> from oversmooth.experiments import simulate
>>> rows = simulate(n=300, p=0.06, q=0.02, depth=1)
>>> sorted(set(r["operator"] for r in rows))
['gcn']
"""

from ._simulate import ROW_COLUMNS, SIMULATE_OPERATORS, SimulationConfig, run_simulation, simulate
from ._table import column, group_rows, mean_and_sem, read_csv, write_csv
from ..graphs import random_split  # re-exported: moved to oversmooth.graphs
from ..measures import linear_probe  # re-exported: moved to oversmooth.measures
from ._analyze import AnalysisResult, analyze_graph
from ._structure import CSBMFit, fit_csbm, graph_reach, saturation_level
from ._sweep import (SpecError, SweepSpec, SweepSummary, cell_key, cell_seed, estimate_cost, expand_axis,
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
