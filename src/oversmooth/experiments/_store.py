"""The result store of a sweep: one SQLite file, one transaction per cell.

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

A cell's rows and its ``cells`` entry are written in a single transaction
(``BEGIN IMMEDIATE ... COMMIT``, write-ahead log): a process killed at any moment
leaves either the whole cell or nothing, never a torn or duplicated row. Only the
process that drives the sweep writes; workers return rows to it.

Examples
--------
>>> import tempfile
>>> from oversmooth.experiments._store import ResultStore
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
from typing import Any, Iterable, Sequence

from .._version import __version__

__all__ = ["ResultStore", "STORE_FILENAME", "open_store"]

#: File name of the store inside a sweep's output directory.
STORE_FILENAME = "results.sqlite"
SCHEMA_VERSION = "1"
#: Columns every ``results`` row has besides the measured and config columns.
BOOK_COLUMNS = ("cell_key", "cell_index", "seed", "depth", "seconds", "host", "oversmooth_version")


def _quote(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"column names must be letters, digits and '_', got {name!r}")
    return f'"{name}"'


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


class ResultStore:
    """A sweep's SQLite store (use :meth:`create` or :meth:`open`).

    Parameters
    ----------
    path : path
        The SQLite file.
    columns : sequence of str
        Data columns of ``results`` (config and measured columns, without
        :data:`BOOK_COLUMNS`).
    """

    def __init__(self, path: str | Path, columns: Sequence[str]):
        self.path = Path(path)
        self.columns = tuple(columns)
        # isolation_level=None: autocommit; transactions are explicit BEGIN/COMMIT.
        self._conn = sqlite3.connect(str(self.path), timeout=60.0, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing committed
        self.host = socket.gethostname()
        cols = [*BOOK_COLUMNS, *[c for c in self.columns if c not in BOOK_COLUMNS]]
        self._row_columns = tuple(cols)
        self._insert_sql = (f"INSERT INTO results ({', '.join(map(_quote, cols))}) "
                            f"VALUES ({', '.join('?' * len(cols))})")

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(cls, out: str | Path, columns: Sequence[str], meta: dict[str, Any]) -> "ResultStore":
        """Create (or open, if it exists with the same columns) the store in directory ``out``.

        ``meta`` values are stored as JSON; an existing store keeps its ``seed`` and
        columns: a mismatch raises ``ValueError`` naming both.
        """
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        path = out / STORE_FILENAME
        existed = path.exists()
        conn = sqlite3.connect(str(path), timeout=60.0, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            stored = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if existed and "columns" in stored:
                old_cols = json.loads(stored["columns"])
                if old_cols != list(columns):
                    raise ValueError(f"{out} holds a sweep recording columns {old_cols}, this one records "
                                     f"{list(columns)}; use another output directory")
                for k in ("seed",):
                    if k in meta and k in stored and json.loads(stored[k]) != meta[k]:
                        raise ValueError(f"{out} holds a sweep with {k}={json.loads(stored[k])}, this one has "
                                         f"{k}={meta[k]}; use another output directory")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS cells (cell_key TEXT PRIMARY KEY, cell_index INTEGER, config TEXT, "
                "seed INTEGER, status TEXT NOT NULL, error TEXT, seconds REAL, host TEXT, oversmooth_version TEXT, "
                "finished_at TEXT, attempts INTEGER NOT NULL DEFAULT 1)")
            data_cols = [c for c in columns if c not in BOOK_COLUMNS]
            conn.execute(
                "CREATE TABLE IF NOT EXISTS results (cell_key TEXT NOT NULL, cell_index INTEGER, seed INTEGER NOT "
                "NULL, depth INTEGER NOT NULL, seconds REAL, host TEXT, oversmooth_version TEXT"
                + "".join(f", {_quote(c)}" for c in data_cols)
                + ", PRIMARY KEY (cell_key, seed, depth))")
            items = {**meta, "columns": list(columns), "schema_version": SCHEMA_VERSION}
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             [(k, json.dumps(v, sort_keys=True)) for k, v in items.items()])
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()
        return cls(path, columns)

    @classmethod
    def open(cls, out: str | Path) -> "ResultStore":
        """Open the existing store of directory ``out`` (``FileNotFoundError`` if none)."""
        path = Path(out) / STORE_FILENAME
        if not path.is_file():
            raise FileNotFoundError(f"no sweep store in {out} (expected {path})")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60.0)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'columns'").fetchone()
        finally:
            conn.close()
        if row is None:
            raise FileNotFoundError(f"{path} is not a complete sweep store (no columns recorded)")
        return cls(path, json.loads(row[0]))

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ reading
    def meta(self) -> dict[str, Any]:
        """The ``meta`` table, JSON-decoded."""
        return {k: json.loads(v) for k, v in self._conn.execute("SELECT key, value FROM meta")}

    def set_meta(self, **items: Any) -> None:
        """Update ``meta`` entries (one transaction)."""
        self._transaction(lambda c: c.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
            [(k, json.dumps(v, sort_keys=True)) for k, v in items.items()]))

    def statuses(self) -> dict[str, str]:
        """``{cell_key: status}`` of every stored cell."""
        return dict(self._conn.execute("SELECT cell_key, status FROM cells").fetchall())

    def counts(self) -> dict[str, int]:
        """Number of ``done`` and ``failed`` cells."""
        got = dict(self._conn.execute("SELECT status, COUNT(*) FROM cells GROUP BY status").fetchall())
        return {"done": int(got.get("done", 0)), "failed": int(got.get("failed", 0))}

    def cells(self) -> list[dict[str, Any]]:
        """Every ``cells`` row as a dict, by cell index."""
        cur = self._conn.execute("SELECT * FROM cells ORDER BY cell_index, cell_key")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def n_result_rows(self) -> int:
        """Number of ``results`` rows."""
        return int(self._conn.execute("SELECT COUNT(*) FROM results").fetchone()[0])

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only SQL query on the store."""
        return self._conn.execute(sql, tuple(params)).fetchall()

    # ------------------------------------------------------------------ writing
    def _transaction(self, body: Any) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            body(conn)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _attempts(self, conn: sqlite3.Connection, cell_key: str) -> int:
        row = conn.execute("SELECT attempts FROM cells WHERE cell_key = ?", (cell_key,)).fetchone()
        return 1 if row is None else int(row[0]) + 1

    def write_cell(self, cell_key: str, cell_index: int, config_json: str, seed: int,
                   rows: Sequence[dict[str, Any]], *, seconds: float, host: str | None = None,
                   version: str = __version__) -> None:
        """Store a finished cell: its rows and ``done`` status, atomically.

        Rows already stored for ``cell_key`` (a retried cell) are replaced in the same
        transaction, so a cell never has two copies of a row.
        """
        host = host or self.host
        data_cols = self._row_columns[len(BOOK_COLUMNS):]
        values = [(cell_key, cell_index, r["seed"], r["depth"], seconds, host, version,
                   *[_sql_value(r.get(c)) for c in data_cols]) for r in rows]

        def body(conn: sqlite3.Connection) -> None:
            attempts = self._attempts(conn, cell_key)
            conn.execute("DELETE FROM results WHERE cell_key = ?", (cell_key,))
            conn.executemany(self._insert_sql, values)
            conn.execute("INSERT OR REPLACE INTO cells (cell_key, cell_index, config, seed, status, error, seconds, "
                         "host, oversmooth_version, finished_at, attempts) VALUES (?, ?, ?, ?, 'done', NULL, ?, ?, ?, "
                         "?, ?)", (cell_key, cell_index, config_json, seed, seconds, host, version, _now(), attempts))

        self._transaction(body)

    def reindex(self, indices: dict[str, int]) -> int:
        """Set the ``cell_index`` of stored cells (and their rows) to ``indices[cell_key]``.

        A spec that grew or was reordered keeps its stored cells; this makes their
        indices those of the current spec. Returns the number of cells changed.
        """
        stored = dict(self._conn.execute("SELECT cell_key, cell_index FROM cells").fetchall())
        changed = [(i, k) for k, i in indices.items() if k in stored and stored[k] != i]
        if changed:
            def body(conn: sqlite3.Connection) -> None:
                conn.executemany("UPDATE cells SET cell_index = ? WHERE cell_key = ?", changed)
                conn.executemany("UPDATE results SET cell_index = ? WHERE cell_key = ?", changed)

            self._transaction(body)
        return len(changed)

    def write_failure(self, cell_key: str, cell_index: int, config_json: str, seed: int, error: str, *,
                      seconds: float, host: str | None = None, version: str = __version__) -> None:
        """Store a cell that raised: ``failed`` status with its error message, no rows."""
        host = host or self.host

        def body(conn: sqlite3.Connection) -> None:
            attempts = self._attempts(conn, cell_key)
            conn.execute("DELETE FROM results WHERE cell_key = ?", (cell_key,))
            conn.execute("INSERT OR REPLACE INTO cells (cell_key, cell_index, config, seed, status, error, seconds, "
                         "host, oversmooth_version, finished_at, attempts) VALUES (?, ?, ?, ?, 'failed', ?, ?, ?, ?, "
                         "?, ?)", (cell_key, cell_index, config_json, seed, error, seconds, host, version, _now(),
                                   attempts))

        self._transaction(body)


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
