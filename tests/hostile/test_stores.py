"""Hostile result stores: empty, junk, truncated, foreign, damaged or newer stores, stores in use.

Each case prepares an output directory in this process, then every case runs in ONE limited
subprocess (``_graphbatch.run_batch``) through the public API (``run_sweep``,
``sweep_status``, ``load_results``). A store that is not ours or is damaged must be refused
with one line naming the file and must be left byte-for-byte as it was (nothing of ours
written into it); a second sweep on a directory in use must be refused naming the holder.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _graphbatch import result_of, run_batch
from _harness import assert_cli_error, assert_py_error, assert_py_ok, run_cli

from oversmooth.experiments import parse_spec, run_sweep, sweep_status

SPEC = {"sweep": {"measures": ["gap"], "seed": 0}, "fixed": {"depth": 1, "q": 0.01}, "grid": {"p": [0.04, 0.05]}}
STORE = "results.sqlite"


_TEMPLATE: list[bytes] = []


def _good_store(d: Path) -> Path:
    """A complete store of SPEC in ``d`` (computed once, then copied)."""
    if not _TEMPLATE:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            run_sweep(parse_spec(SPEC), tmp, backend="serial", progress=False)
            _TEMPLATE.append((Path(tmp) / STORE).read_bytes())
    d.mkdir(parents=True, exist_ok=True)
    (d / STORE).write_bytes(_TEMPLATE[0])
    return d / STORE


def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    for s in statements:
        conn.execute(s)
    conn.commit()
    conn.close()


def _prepare(kind: str, d: Path) -> None:  # noqa: C901 - one branch per hostile store
    d.mkdir(parents=True, exist_ok=True)
    f = d / STORE
    if kind == "empty":
        f.write_bytes(b"")
    elif kind == "junk":
        f.write_bytes(b"\x00\x01junk" * 1000)
    elif kind == "text":
        f.write_text("name,value\nx,1\n", encoding="utf-8")
    elif kind == "header-only":
        f.write_bytes(b"SQLite format 3\x00")
    elif kind == "header-100":
        f.write_bytes(b"SQLite format 3\x00" + b"\x10\x00" + b"\x00" * 82)
    elif kind == "truncated":
        data = _good_store(d.parent / (d.name + "-src")).read_bytes()
        f.write_bytes(data[: len(data) // 2])
    elif kind == "truncated-page":
        data = _good_store(d.parent / (d.name + "-src")).read_bytes()
        f.write_bytes(data[:4096 + 100])
    elif kind == "zeroed-page":
        data = bytearray(_good_store(d.parent / (d.name + "-src")).read_bytes())
        data[4096:8192] = bytes(4096)
        f.write_bytes(bytes(data))
    elif kind == "foreign":
        _sql(f, "CREATE TABLE people (name TEXT)", "INSERT INTO people VALUES ('ada')")
    elif kind == "foreign-empty-db":
        _sql(f, "PRAGMA user_version = 7")
    elif kind == "foreign-same-names":
        _sql(f, "CREATE TABLE meta (a)", "CREATE TABLE cells (b)", "CREATE TABLE results (c)")
    elif kind == "newer-schema":
        _good_store(d)
        _sql(f, "UPDATE meta SET value = '\"99\"' WHERE key = 'schema_version'")
    elif kind == "no-schema-version":
        _good_store(d)
        _sql(f, "DELETE FROM meta WHERE key = 'schema_version'")
    elif kind == "junk-columns":
        _good_store(d)
        _sql(f, "UPDATE meta SET value = 'not json' WHERE key = 'columns'")
    elif kind == "dropped-column":
        _good_store(d)
        _sql(f, "ALTER TABLE results DROP COLUMN gap")
    elif kind == "no-spec":
        _good_store(d)
        _sql(f, "DELETE FROM meta WHERE key = 'spec'")
    elif kind == "junk-spec":
        _good_store(d)
        _sql(f, "UPDATE meta SET value = '{\"grid\": {\"p\": \"x\"}}' WHERE key = 'spec'")
    elif kind == "store-is-directory":
        f.mkdir()
    elif kind == "symlink-to-text":
        (d / "other.txt").write_text("not a database\n", encoding="utf-8")
        f.symlink_to(d / "other.txt")
    elif kind in ("good", "other-seed", "other-measures", "missing-rows", "junk-wal", "stale-lock", "junk-lock"):
        _good_store(d)
        if kind == "missing-rows":
            _sql(f, "DELETE FROM results WHERE cell_index = 1 AND depth = 0")
        if kind == "junk-wal":
            (d / (STORE + "-wal")).write_bytes(b"garbage" * 100)
        if kind == "stale-lock":
            (d / ".oversmooth-sweep.lock").write_text(json.dumps({"pid": 2**30, "host": "gone", "started": "x"}))
        if kind == "junk-lock":
            (d / ".oversmooth-sweep.lock").write_bytes(b"\xff" * 50)
    else:  # pragma: no cover
        raise AssertionError(kind)


_RUN = "s = run_sweep(parse_spec(SPEC), D, backend='serial', progress=False); result = [s.done, s.ran]"
_STATUS = "st = sweep_status(D); result = [st['done'], st['incomplete']]"
_LOAD = "result = len(load_results(D))"

# id -> (class, store kind, action, expected: ("error", *mentions) / ("ok", result), store untouched?)
CASES: dict[str, tuple[str, str, str, tuple, bool]] = {}
for _kind, _msg in [("empty", "is empty (0 bytes)"), ("junk", "is not an SQLite database"),
                    ("text", "is not an SQLite database"), ("header-only", "truncated"),
                    ("header-100", "results.sqlite"), ("truncated", "damaged or truncated"),
                    ("truncated-page", "results.sqlite"), ("zeroed-page", "results.sqlite"),
                    ("foreign", "not an oversmooth sweep store (tables: people)"),
                    ("foreign-empty-db", "not an oversmooth sweep store (tables: none)"),
                    ("foreign-same-names", "results.sqlite"), ("newer-schema", "schema 99"),
                    ("no-schema-version", "no schema version"), ("junk-columns", "unreadable meta"),
                    ("dropped-column", "missing columns"), ("store-is-directory", "is a directory"),
                    ("symlink-to-text", "is not an SQLite database")]:
    CASES[f"{_kind}-run"] = ("stores", _kind, _RUN, ("error", STORE, _msg), True)
    if _kind in ("empty", "junk", "truncated", "foreign", "newer-schema", "dropped-column"):
        CASES[f"{_kind}-status"] = ("stores", _kind, _STATUS, ("error", STORE, _msg), True)
        CASES[f"{_kind}-load"] = ("stores", _kind, _LOAD, ("error", STORE, _msg), True)
CASES.update({
    "no-spec-status": ("stores", "no-spec", _STATUS, ("error", STORE, "no spec recorded"), True),
    "junk-spec-status": ("stores", "junk-spec", _STATUS, ("error", STORE, "grid.p"), True),
    "other-seed-run": ("stores", "other-seed", "s = run_sweep(parse_spec({**SPEC, 'sweep': {'measures': ['gap'], "
                       "'seed': 5}}), D, backend='serial', progress=False)", ("error", "seed=0", "seed=5"), False),
    "other-measures-run": ("stores", "other-measures", "s = run_sweep(parse_spec({**SPEC, 'sweep': {'measures': "
                           "['gap', 'bayes_error']}}), D, backend='serial', progress=False)",
                           ("error", "recording columns"), False),
    "missing-rows-status": ("stores", "missing-rows", _STATUS, ("ok", [2, [1]]), False),
    "junk-wal-resume": ("stores", "junk-wal", _RUN, ("ok", [2, 0]), False),
    "stale-lock-resume": ("stores", "stale-lock", _RUN, ("ok", [2, 0]), False),
    "junk-lock-resume": ("stores", "junk-lock", _RUN, ("ok", [2, 0]), False),
    "good-load": ("stores", "good", _LOAD, ("ok", 4), False),
})

_SETUP = """
from pathlib import Path
from oversmooth.experiments import parse_spec, run_sweep, sweep_status, load_results
SPEC = %r
""" % (SPEC,)


def _digest(d: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def store_outcomes(tmp_path_factory):
    root = tmp_path_factory.mktemp("stores")
    snippets, before = {}, {}
    for cid, (_cls, kind, action, _exp, _untouched) in CASES.items():
        d = root / cid / "out"
        _prepare(kind, d)
        before[cid] = _digest(d)
        snippets[cid] = f"D = Path({str(d)!r})\n{action}\n"
    outs = run_batch(snippets, setup=_SETUP, case_timeout=20, timeout=150, mem_mb=2500)
    return outs, before, root


@pytest.mark.parametrize("cid", [pytest.param(c, marks=pytest.mark.hostile(v[0]), id=c) for c, v in CASES.items()])
def test_store(store_outcomes, cid):
    outs, before, root = store_outcomes
    _cls, _kind, _action, expect, untouched = CASES[cid]
    res = outs[cid]
    if expect[0] == "error":
        assert_py_error(res, *expect[1:])
    else:
        assert_py_ok(res)
        assert result_of(res) == expect[1]
    d = root / cid / "out"
    if untouched:  # refused: the file is exactly as it was, nothing created beside it
        assert _digest(d) == before[cid]
    assert not (d / ".oversmooth-sweep.lock").exists()  # released (and a stale or junk one taken over)
    assert res.outcome.seconds < 15


# --------------------------------------------------------------------------- two sweeps, one directory
_FIRST = """
import os, sys, time
from pathlib import Path
from oversmooth.experiments import parse_spec, run_sweep
marker = Path(sys.argv[2])

def wait_for_the_second(outcome):  # keeps this sweep running until the test has tried a second one
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.02)

spec = parse_spec({"sweep": {"measures": ["gap"]}, "fixed": {"depth": 1, "q": 0.01}, "grid": {"p": [0.04, 0.05]}})
run_sweep(spec, sys.argv[1], backend="serial", progress=False, on_cell=wait_for_the_second)
"""


@pytest.mark.hostile("stores")
def test_a_second_sweep_on_a_directory_in_use_is_refused_naming_the_holder(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('[sweep]\nmeasures = ["gap"]\n[fixed]\ndepth = 1\nq = 0.01\n[grid]\np = [0.04, 0.05]\n',
                    encoding="utf-8")
    out, marker = tmp_path / "o", tmp_path / "go"
    first = subprocess.Popen([sys.executable, "-c", _FIRST, str(out), str(marker)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (out / STORE).exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        second = run_cli("sweep", str(spec), "--out", str(out), "--workers", "1", "--no-progress", timeout=60)
        still_running = first.poll() is None
    finally:
        marker.touch()
        _, err = first.communicate(timeout=120)
    assert still_running, f"the first sweep ended before the second one started: {err}"
    assert_cli_error(second, "in use by another sweep", f"pid {first.pid}")
    assert first.returncode == 0, err
    st = sweep_status(out)
    assert (st["done"], st["pending"], st["rows"]) == (2, 0, 4)  # computed once, by the first sweep
    assert not (out / ".oversmooth-sweep.lock").exists()


@pytest.mark.hostile("stores")
@pytest.mark.parametrize("kind", ["empty", "foreign", "truncated"])
def test_cli_status_and_run_on_a_bad_store_are_one_line(tmp_path, kind):
    d = tmp_path / "o"
    _prepare(kind, d)
    before = _digest(d)
    spec = tmp_path / "s.toml"
    spec.write_text('[sweep]\nmeasures = ["gap"]\n[fixed]\ndepth = 1\n', encoding="utf-8")
    code = f"""
    import contextlib, io
    from oversmooth.cli import main
    for args in (["sweep", "--status", {str(d)!r}], ["sweep", {str(spec)!r}, "--out", {str(d)!r}, "--workers", "1"]):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(args)
        lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
        assert code == 2 and len(lines) == 1 and "results.sqlite" in lines[0], (code, err.getvalue())
    """
    from _harness import run_python

    assert_py_ok(run_python(code, cwd=tmp_path, timeout=90))
    assert _digest(d) == before
