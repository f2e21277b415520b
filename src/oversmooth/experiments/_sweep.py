"""Backward-compatible path: sweeps moved to the :mod:`oversmooth.experiments.sweep` subpackage.

Import from :mod:`oversmooth.experiments` (the public names) or from
:mod:`oversmooth.experiments.sweep`; this module only re-exports them.

Examples
--------
>>> from oversmooth.experiments._sweep import run_cells
>>> run_cells.__module__
'oversmooth.experiments.sweep.runner'
"""

from .sweep import (BACKENDS, MEASURE_COLUMNS, STORE_CONFIG_COLUMNS, WORKER_THREADS, Cell, CellOutcome,
                    SpecError, SweepSpec, SweepSummary, cell_key, cell_seed, estimate_cost, expand_axis,
                    format_cost, load_results, load_spec, parse_spec, run_cells, run_sweep, summary_rows,
                    sweep_status, use_backend)
from .sweep.spec import CONFIG_FIELDS

__all__ = ["SpecError", "SweepSpec", "Cell", "CellOutcome", "SweepSummary", "BACKENDS", "MEASURE_COLUMNS",
           "STORE_CONFIG_COLUMNS", "CONFIG_FIELDS", "WORKER_THREADS", "parse_spec", "load_spec", "expand_axis",
           "cell_key", "cell_seed", "run_cells", "use_backend", "run_sweep", "sweep_status", "summary_rows",
           "estimate_cost", "format_cost", "load_results"]
