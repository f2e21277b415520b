"""Moved to the public :mod:`oversmooth.tables` (re-exported here for one release)."""

from __future__ import annotations

from ..tables import column, group_rows, grouped_mean_sem, mean_and_sem, mean_sem, read_csv, write_csv

__all__ = ["write_csv", "read_csv", "group_rows", "column", "mean_sem", "grouped_mean_sem", "mean_and_sem"]
