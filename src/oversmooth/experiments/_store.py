"""Backward-compatible path: the result store moved to :mod:`oversmooth.experiments.sweep.store`.

Examples
--------
>>> from oversmooth.experiments._store import ResultStore
>>> ResultStore.__module__
'oversmooth.experiments.sweep.store'
"""

from .sweep.store import BOOK_COLUMNS, SCHEMA_VERSION, STORE_FILENAME, ResultStore, open_store

__all__ = ["ResultStore", "STORE_FILENAME", "open_store", "SCHEMA_VERSION", "BOOK_COLUMNS"]
