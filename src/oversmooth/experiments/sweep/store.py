"""The result store of a sweep: one SQLite file, one transaction per cell, checked on every open.

``OUT/results.sqlite`` holds three tables:

``meta``
    The sweep's spec (JSON), master seed, measured columns and schema version.
``cells``
    One row per cell: its canonical key, index in the spec, config (JSON), seed,
    status (``done`` or ``failed``), error message, seconds, host, package version,
    finish time and number of attempts.
``results``
    One row per cell x seed x depth: the config columns, the measured columns, the
    package version, the cell's timing and host. Primary key ``(cell_key, seed, depth)``.

A cell's rows and its ``cells`` entry are written in one transaction (``BEGIN IMMEDIATE
... COMMIT``, write-ahead log): a process killed at any moment leaves the whole cell or
nothing. A new store is built under a temporary name and moved into place complete.

Opening an existing file checks it first and refuses, with one line naming the file, what is
not a complete store of ours: an empty file, a file that is not SQLite, a damaged or
truncated database (``PRAGMA quick_check``), or another program's database (its tables are
never touched; nothing of ours is written into it).

Examples
--------
>>> import tempfile
>>> from oversmooth.experiments.sweep import ResultStore
>>> store = ResultStore.create(tempfile.mkdtemp(), ["x"], {"seed": 0})
>>> store.write_cell("k1", 0, "{}", 7, [{"seed": 7, "depth": 0, "x": 1.5}], seconds=0.1)
>>> store.counts()
{'done': 1, 'failed': 0}
>>> store.close()
"""

from __future__ import annotations

import datetime as _dt
import json
import socket
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..._version import __version__
from ...errors import DataError, FileFormatError, ValidationError
from .storefile import _FIX, BOOK_COLUMNS, SCHEMA_VERSION, STORE_FILENAME, _quote, check_store_file, create_store_file

__all__ = ["ResultStore", "STORE_FILENAME", "SCHEMA_VERSION", "BOOK_COLUMNS", "check_store_file", "open_store"]

def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class ResultStore:
    """A sweep's SQLite store (use :meth:`create` or :meth:`open`; both check the file first).

    Parameters
    ----------
    path : path
        The SQLite file (already checked).
    columns : sequence of str
        Data columns of ``results`` (config and measured columns, without :data:`BOOK_COLUMNS`).
    """

    def __init__(self, path: str | Path, columns: Sequence[str]):
        self.path = Path(path)
        self.columns = tuple(columns)
        # isolation_level=None: autocommit; transactions are explicit BEGIN/COMMIT.
        self._conn = sqlite3.connect(str(self.path), timeout=60.0, isolation_level=None)
        self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing committed
        self.host = socket.gethostname()
        cols = [*BOOK_COLUMNS, *[c for c in self.columns if c not in BOOK_COLUMNS]]
        self._row_columns = tuple(cols)
        self._insert_sql = (f"INSERT INTO results ({', '.join(map(_quote, cols))}) "
                            f"VALUES ({', '.join('?' * len(cols))})")

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(cls, out: str | Path, columns: Sequence[str], meta: dict[str, Any]) -> "ResultStore":
        """Create the store in directory ``out``, or open the one there if it records the same sweep.

        ``meta`` values are stored as JSON; an existing store keeps its ``seed`` and
        columns: a mismatch raises :class:`~oversmooth.errors.ValidationError` naming both.
        A file that is not a store of ours is refused (see :func:`check_store_file`).
        """
        out = Path(out)
        for c in columns:
            _quote(c)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise DataError(f"output directory {out} is a file, not a directory") from None
        path = out / STORE_FILENAME
        items = {**meta, "columns": list(columns), "schema_version": SCHEMA_VERSION}
        if not path.exists():
            try:
                create_store_file(path, columns, items)
            except sqlite3.Error as exc:
                raise DataError(f"{path} cannot be created: {exc}") from None
            return cls(path, columns)
        old_cols = check_store_file(path)
        if old_cols != list(columns):
            raise ValidationError(f"{out} holds a sweep recording columns {old_cols}, this one records "
                                  f"{list(columns)}; use another output directory")
        store = cls(path, columns)
        try:
            stored = store.meta()
            for k in ("seed",):
                if k in meta and k in stored and stored[k] != meta[k]:
                    raise ValidationError(f"{out} holds a sweep with {k}={stored[k]}, this one has {k}={meta[k]}; "
                                          "use another output directory")
            store.set_meta(**meta)
        except BaseException:
            store.close()
            raise
        return store

    @classmethod
    def open(cls, out: str | Path) -> "ResultStore":
        """Open the existing store of directory ``out``, checked (``DataError`` if there is none)."""
        path = Path(out) / STORE_FILENAME
        if not path.exists():
            raise DataError(f"no sweep store in {out} (expected {path})")
        return cls(path, check_store_file(path))

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ reading
    def _read(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, tuple(params))
        except sqlite3.DatabaseError as exc:
            raise FileFormatError(f"{self.path} is damaged ({exc}): {_FIX}") from None

    def meta(self) -> dict[str, Any]:
        """The ``meta`` table, JSON-decoded."""
        try:
            return {k: json.loads(v) for k, v in self._read("SELECT key, value FROM meta")}
        except ValueError as exc:
            raise FileFormatError(f"{self.path} is damaged (unreadable meta table: {exc}): {_FIX}") from None

    def statuses(self) -> dict[str, str]:
        """``{cell_key: status}`` of every stored cell."""
        return dict(self._read("SELECT cell_key, status FROM cells").fetchall())

    def counts(self) -> dict[str, int]:
        """Number of ``done`` and ``failed`` cells."""
        got = dict(self._read("SELECT status, COUNT(*) FROM cells GROUP BY status").fetchall())
        return {"done": int(got.get("done", 0)), "failed": int(got.get("failed", 0))}

    def cells(self) -> list[dict[str, Any]]:
        """Every ``cells`` row as a dict, by cell index."""
        names, rows = self.table("cells")
        return [dict(zip(names, r)) for r in rows]

    def table(self, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Column names and rows of table ``results`` (by cell, seed, depth) or ``cells`` (by cell)."""
        order = {"results": "cell_index, seed, depth", "cells": "cell_index, cell_key"}
        if name not in order:
            raise ValidationError(f"table must be 'results' or 'cells', got {name!r}")
        cur = self._read(f"SELECT * FROM {name} ORDER BY {order[name]}")
        return [d[0] for d in cur.description], cur.fetchall()

    def n_result_rows(self) -> int:
        """Number of ``results`` rows."""
        return int(self._read("SELECT COUNT(*) FROM results").fetchone()[0])

    def rows_per_cell(self) -> dict[str, int]:
        """``{cell_key: number of results rows}`` (to find cells whose rows are missing)."""
        return dict(self._read("SELECT cell_key, COUNT(*) FROM results GROUP BY cell_key").fetchall())

    def best_depths(self, column: str) -> dict[str, tuple[int, float]]:
        """``{cell_key: (depth, value)}``: the depth of the smallest seed-mean ``column`` per cell."""
        best: dict[str, tuple[int, float]] = {}
        if column not in self.columns:
            return best
        for key, depth, value in self._read(f"SELECT cell_key, depth, AVG({_quote(column)}) FROM results "
                                            "GROUP BY cell_key, depth ORDER BY cell_key, depth"):
            if value is not None and (key not in best or value < best[key][1]):
                best[key] = (int(depth), float(value))
        return best

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only SQL query on the store."""
        return self._read(sql, params).fetchall()

    # ------------------------------------------------------------------ writing
    def _transaction(self, body: Callable[[sqlite3.Connection], Any]) -> None:
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise DataError(f"{self.path} cannot be written: {exc}") from None
        try:
            body(conn)
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError):
                raise DataError(f"{self.path} cannot be written: {exc}") from None
            raise
        conn.execute("COMMIT")

    def set_meta(self, **items: Any) -> None:
        """Update ``meta`` entries (one transaction)."""
        self._transaction(lambda c: c.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [(k, json.dumps(v, sort_keys=True)) for k, v in items.items()]))

    def _attempts(self, conn: sqlite3.Connection, cell_key: str) -> int:
        row = conn.execute("SELECT attempts FROM cells WHERE cell_key = ?", (cell_key,)).fetchone()
        return 1 if row is None else int(row[0]) + 1

    def _write(self, status: str, cell_key: str, cell_index: int, config_json: str, seed: int, error: str | None,
               values: list[tuple[Any, ...]], seconds: float, host: str | None, version: str) -> None:
        host = host or self.host

        def body(conn: sqlite3.Connection) -> None:
            attempts = self._attempts(conn, cell_key)
            conn.execute("DELETE FROM results WHERE cell_key = ?", (cell_key,))
            conn.executemany(self._insert_sql, values)
            conn.execute("INSERT OR REPLACE INTO cells (cell_key, cell_index, config, seed, status, error, seconds, "
                         "host, oversmooth_version, finished_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (cell_key, cell_index, config_json, seed, status, error, seconds, host, version, _now(),
                          attempts))

        self._transaction(body)

    def write_cell(self, cell_key: str, cell_index: int, config_json: str, seed: int,
                   rows: Sequence[dict[str, Any]], *, seconds: float, host: str | None = None,
                   version: str = __version__) -> None:
        """Store a finished cell: its rows and ``done`` status, atomically.

        Rows already stored for ``cell_key`` (a retried cell) are replaced in the same
        transaction, so a cell never has two copies of a row.
        """
        data_cols = self._row_columns[len(BOOK_COLUMNS):]
        values = [(cell_key, cell_index, r["seed"], r["depth"], seconds, host or self.host, version,
                   *[_sql_value(r.get(c)) for c in data_cols]) for r in rows]
        self._write("done", cell_key, cell_index, config_json, seed, None, values, seconds, host, version)

    def write_failure(self, cell_key: str, cell_index: int, config_json: str, seed: int, error: str, *,
                      seconds: float, host: str | None = None, version: str = __version__) -> None:
        """Store a cell that raised: ``failed`` status with its error message, no rows."""
        self._write("failed", cell_key, cell_index, config_json, seed, error, [], seconds, host, version)

    def reindex(self, indices: dict[str, int]) -> int:
        """Set the ``cell_index`` of stored cells (and their rows) to ``indices[cell_key]``.

        A spec that grew or was reordered keeps its stored cells; this makes their
        indices those of the current spec. Returns the number of cells changed.
        """
        stored = dict(self._read("SELECT cell_key, cell_index FROM cells").fetchall())
        changed = [(i, k) for k, i in indices.items() if k in stored and stored[k] != i]
        if changed:
            def body(conn: sqlite3.Connection) -> None:
                conn.executemany("UPDATE cells SET cell_index = ? WHERE cell_key = ?", changed)
                conn.executemany("UPDATE results SET cell_index = ? WHERE cell_key = ?", changed)

            self._transaction(body)
        return len(changed)


def _sql_value(v: Any) -> Any:
    """Python value -> SQLite value (bool as 0/1, lists and dicts as JSON)."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v)
    return v


def open_store(out: str | Path) -> ResultStore:
    """Open the store of a sweep's output directory (see :meth:`ResultStore.open`)."""
    return ResultStore.open(out)
