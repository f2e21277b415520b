"""The store's file: its name and schema, the check every open makes, and atomic creation.

Examples
--------
>>> import pathlib, tempfile
>>> from oversmooth.experiments.sweep.storefile import check_store_file
>>> f = pathlib.Path(tempfile.mkdtemp()) / "results.sqlite"; _ = f.write_text("name,value")
>>> check_store_file(f)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
oversmooth.errors.FileFormatError: ... is not an SQLite database (not a sweep store): ...
"""

from __future__ import annotations

import json
import os
import sqlite3
import urllib.request
from pathlib import Path
from typing import Any, Sequence

from ...errors import DataError, FileFormatError, ValidationError

__all__ = ["STORE_FILENAME", "SCHEMA_VERSION", "BOOK_COLUMNS", "check_store_file", "create_store_file"]

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


def create_store_file(path: Path, columns: Sequence[str], items: dict[str, Any]) -> None:
    """Build a new store under a temporary name, then move it into place (never half-created).

    ``items`` go into its ``meta`` table as JSON; an existing file at ``path`` is never replaced.
    """
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
