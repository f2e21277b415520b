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
import os
import socket
import sqlite3
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ..._version import __version__
from ...errors import DataError, FileFormatError, ValidationError

__all__ = ["ResultStore", "STORE_FILENAME", "SCHEMA_VERSION", "BOOK_COLUMNS", "check_store_file", "open_store"]

#: File name of the store inside a sweep's output directory.
STORE_FILENAME = "results.sqlite"
SCHEMA_VERSION = "1"
#: Columns every ``results`` row has besides the measured and config columns.
BOOK_COLUMNS = ("cell_key", "cell_index", "seed", "depth", "seconds", "host", "oversmooth_version")
_CELL_COLUMNS = ("cell_key", "cell_index", "config", "seed", "status", "error", "seconds", "host",
                 "oversmooth_version", "finished_at", "attempts")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_FIX = "remove it or choose another output directory"


def _quote(name: str) -> str:
    if not isinstance(name, str) or not name.replace("_", "").isalnum() or not name.isascii():
        raise ValidationError(f"columns: names must be letters, digits and '_', got {name!r}")
    return f'"{name}"'


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def check_store_file(path: str | Path) -> list[str]:
    """Check that ``path`` is a complete, undamaged sweep store of ours; return its recorded columns.

    Raises :class:`~oversmooth.errors.FileFormatError` (one line naming the file) for an
    empty file, a file that is not SQLite, a damaged or truncated database, another
    program's database or a store of a newer schema; :class:`~oversmooth.errors.DataError`
    when it cannot be read at all.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from oversmooth.experiments.sweep import check_store_file
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "results.sqlite"; _ = f.write_bytes(b"")
    >>> check_store_file(f)
    Traceback (most recent call last):
    ...
    oversmooth.errors.FileFormatError: ... is empty (0 bytes), not a sweep store: remove it or choose another output directory
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path} is a directory, not a sweep store; {_FIX}")
    try:
        with open(path, "rb") as fh:
            head = fh.read(100)
    except OSError as exc:
        raise DataError(f"{path} cannot be read: {exc.strerror or exc}") from None
    if not head:
        raise FileFormatError(f"{path} is empty (0 bytes), not a sweep store: {_FIX}")
    if not head.startswith(_SQLITE_MAGIC):
        raise FileFormatError(f"{path} is not an SQLite database (not a sweep store): {_FIX}")
    if len(head) < 100:
        raise FileFormatError(f"{path} is truncated ({len(head)} bytes, less than an SQLite header): {_FIX}")
    try:
        # immutable: read the file as it is, creating no -wal / -shm beside a file that may not be ours
        conn = sqlite3.connect(f"file:{urllib.request.pathname2url(str(path.resolve()))}?mode=ro&immutable=1", uri=True,
                               timeout=10.0)
    except sqlite3.Error as exc:
        raise DataError(f"{path} cannot be opened: {exc}") from None
    try:
        check = conn.execute("PRAGMA quick_check").fetchall()
        if [r[0] for r in check] != ["ok"]:
            raise FileFormatError(f"{path} is damaged (SQLite quick_check: {str(check[0][0])[:200]}); the cells "
                                  f"stored in it cannot be trusted: {_FIX}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"meta", "cells", "results"} <= tables:
            shown = ", ".join(sorted(tables)[:8]) or "none"
            raise FileFormatError(f"{path} is an SQLite database but not an oversmooth sweep store (tables: {shown}); "
                                  f"it is left untouched: {_FIX}")
        meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('schema_version', 'columns')"))
        version = json.loads(meta.get("schema_version", "null"))
        if version is None or "columns" not in meta:
            raise FileFormatError(f"{path} is not a complete sweep store (no schema version or columns recorded); "
                                  f"{_FIX}")
        if str(version) != SCHEMA_VERSION:
            raise FileFormatError(f"{path} has store schema {version}, this oversmooth reads schema {SCHEMA_VERSION}; "
                                  "use the oversmooth version that wrote it, or another output directory")
        columns = json.loads(meta["columns"])
        have_cells = {r[1] for r in conn.execute("PRAGMA table_info(cells)")}
        have_results = {r[1] for r in conn.execute("PRAGMA table_info(results)")}
        missing = [c for c in _CELL_COLUMNS if c not in have_cells] + [
            c for c in (*BOOK_COLUMNS, *columns) if c not in have_results]
        if missing:
            raise FileFormatError(f"{path} is a damaged sweep store (missing columns {missing[:5]}): {_FIX}")
    except sqlite3.DatabaseError as exc:
        raise FileFormatError(f"{path} is damaged or truncated ({exc}): {_FIX}") from None
    except (ValueError, TypeError) as exc:
        if isinstance(exc, FileFormatError):
            raise
        raise FileFormatError(f"{path} is a damaged sweep store (unreadable meta table: {exc}): {_FIX}") from None
    finally:
        conn.close()
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        raise FileFormatError(f"{path} is a damaged sweep store (columns are not a list of names): {_FIX}")
    return columns


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else (or not ours to ask)
        return True
    return True


def _create_file(path: Path, columns: Sequence[str], items: dict[str, Any]) -> None:
    """Build a new store under a temporary name, then move it into place (never half-created)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    for old in path.parent.glob(f".{path.name}.tmp-*"):  # left by a creation that was killed
        pid = old.name.rsplit("-", 1)[-1] if not old.name.endswith(("-wal", "-shm")) else old.name.split("-")[-2]
        if pid.isdigit() and (int(pid) == os.getpid() or not _pid_alive(int(pid))):
            old.unlink(missing_ok=True)
    conn = sqlite3.connect(str(tmp), isolation_level=None)
    try:
        data_cols = [c for c in columns if c not in BOOK_COLUMNS]
        conn.execute("BEGIN")
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("CREATE TABLE cells (cell_key TEXT PRIMARY KEY, cell_index INTEGER, config TEXT, seed INTEGER, "
                     "status TEXT NOT NULL, error TEXT, seconds REAL, host TEXT, oversmooth_version TEXT, "
                     "finished_at TEXT, attempts INTEGER NOT NULL DEFAULT 1)")
        conn.execute("CREATE TABLE results (cell_key TEXT NOT NULL, cell_index INTEGER, seed INTEGER NOT NULL, depth "
                     "INTEGER NOT NULL, seconds REAL, host TEXT, oversmooth_version TEXT"
                     + "".join(f", {_quote(c)}" for c in data_cols) + ", PRIMARY KEY (cell_key, seed, depth))")
        conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                         [(k, json.dumps(v, sort_keys=True)) for k, v in items.items()])
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")
    except BaseException:
        conn.close()
        tmp.unlink(missing_ok=True)
        raise
    conn.close()
    try:
        os.link(tmp, path)  # atomic and never replaces a store another process just created
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        check_store_file(path)
        return
    except OSError:  # pragma: no cover - no hard links on this file system
        os.replace(tmp, path)
        return
    tmp.unlink(missing_ok=True)


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
                _create_file(path, columns, items)
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
