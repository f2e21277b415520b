"""Experiments: configurations, runs and tidy result rows.

Examples
--------
>>> from oversmooth.experiments import simulate
>>> rows = simulate(n=300, p=0.06, q=0.02, depth=1)
>>> sorted(set(r["operator"] for r in rows))
['gcn']
"""

from ._simulate import ROW_COLUMNS, SIMULATE_OPERATORS, SimulationConfig, run_simulation, simulate

__all__ = ["ROW_COLUMNS", "SIMULATE_OPERATORS", "SimulationConfig", "run_simulation", "simulate"]
