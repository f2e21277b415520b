"""Hostile inputs to the explorer: result tables, output folders and arguments of ``write_explorer``.

All inputs run in ONE subprocess (under the harness' time and memory limits); each is then
judged as its own case.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _harness import run_python

_ROW = dict(operator="gcn", n=100, p=0.1, q=0.02, sigma=1.0, depth=0, gap=2.0, feature_variance=1.0,
            bayes_error=0.16, seed=0)


def _row(**kw):
    return {**_ROW, **kw}


# name: (class, file name, file content (str, bytes, or a callable taking the path), call, expected)
# expected: ("error", kinds, mentions...) or ("ok", check) with check a Python expression on `out`
def _cases(tmp: Path) -> dict[str, tuple]:
    deep = "[" * 100_000 + "]" * 100_000
    many = [_row(n=100 + i) for i in range(2500)]
    return {
        "missing-file": ("arguments", None, None, "read_results(P + '/nope.json')", ("error", "OSError", "nope.json")),
        "directory": ("arguments", "adir", "DIR", "read_results(F)", ("error", "OSError", "adir")),
        "empty-json": ("tracebacks", "e.json", "", "read_results(F)", ("error", "ValueError", "e.json")),
        "empty-csv": ("misread", "e.csv", "", "read_results(F)", ("ok", "out == []")),
        "binary-json": ("tracebacks", "b.json", b"\xff\xfe\x00garbage\x80", "read_results(F)", ("error", "OSError", "b.json")),
        "binary-csv": ("tracebacks", "b.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "read_results(F)", ("error", "OSError", "b.csv")),
        "json-scalar": ("tracebacks", "s.json", "42", "read_results(F)", ("error", "ValueError", "s.json")),
        "json-rows-not-list": ("tracebacks", "r.json", '{"rows": 5}', "read_results(F)", ("error", "ValueError", "r.json")),
        "json-list-of-ints": ("tracebacks", "i.json", "[1, 2, 3]", "read_results(F)", ("error", "ValueError", "i.json")),
        "json-deep-nesting": ("tiny-huge", "d.json", deep, "read_results(F)", ("error", "ValueError", "d.json")),
        "jsonl-bad-line": ("tracebacks", "l.jsonl", json.dumps(_ROW) + "\n{oops\n", "read_results(F)",
                           ("error", "ValueError", "l.jsonl")),
        "missing-column": ("tracebacks", "m.json", json.dumps([{k: v for k, v in _ROW.items() if k != "sigma"}]),
                           "read_results(F)", ("error", "ValueError", "m.json", "sigma")),
        "no-measured-column": ("misread", "m2.json", json.dumps([{k: v for k, v in _ROW.items()
                                                                 if k not in ("gap", "feature_variance", "bayes_error")}]),
                               "read_results(F)", ("error", "ValueError", "m2.json", "measured")),
        "store-junk": ("stores", "junk/results.sqlite", b"SQLite format 3\x00" + b"\x13" * 200, "read_results(P + '/junk')",
                       ("error", "ValueError", "results.sqlite")),
        "store-empty": ("stores", "empty/results.sqlite", b"", "read_results(P + '/empty')", ("error", "ValueError", "results.sqlite")),
        "dir-without-store": ("arguments", "nostore/readme.txt", "x", "read_results(P + '/nostore')",
                              ("error", "OSError", "nostore", "results.sqlite")),
        "csv-wrong-header": ("tracebacks", "h.csv", "a,b\n1,2\n", "read_results(F)", ("error", "ValueError", "h.csv", "operator")),
        "n-text": ("tracebacks", "n1.json", json.dumps([_row(n="abc")]), "read_results(F)", ("error", "ValueError", "n1.json", "n ")),
        "n-fraction": ("misread", "n2.json", json.dumps([_row(n=1.5)]), "read_results(F)", ("error", "ValueError", "n ")),
        "n-huge": ("tracebacks", "n3.json", json.dumps([_row(n=1e300)]), "read_results(F)", ("error", "ValueError", "n ")),
        "n-bool": ("misread", "n4.json", json.dumps([_row(n=True)]), "read_results(F)", ("error", "ValueError", "n ")),
        "n-list": ("tracebacks", "n5.json", json.dumps([_row(n=[1])]), "read_results(F)", ("error", "ValueError", "n ")),
        "p-above-1": ("arguments", "p1.json", json.dumps([_row(p=2)]), "read_results(F)", ("error", "ValueError", "p ")),
        "p-nan": ("tracebacks", "p2.json", '[{"operator": "gcn", "n": 100, "p": NaN, "q": 0.1, "sigma": 1, "depth": 0, '
                  '"gap": 1, "feature_variance": 1, "bayes_error": 0.1}]', "read_results(F)", ("error", "ValueError", "p ")),
        "q-negative": ("arguments", "q1.json", json.dumps([_row(q=-0.1)]), "read_results(F)", ("error", "ValueError", "q ")),
        "p-q-zero": ("arguments", "pq.json", json.dumps([_row(p=0, q=0)]), "read_results(F)", ("error", "ValueError", "p and q")),
        "sigma-zero": ("arguments", "s1.json", json.dumps([_row(sigma=0)]), "read_results(F)", ("error", "ValueError", "sigma")),
        "sigma-infinite": ("tracebacks", "s2.json", json.dumps([_row(sigma=float("inf"))]), "read_results(F)",
                           ("error", "ValueError", "sigma")),
        "depth-negative": ("arguments", "d1.json", json.dumps([_row(depth=-1)]), "read_results(F)", ("error", "ValueError", "depth")),
        "depth-huge": ("allocation", "d2.json", json.dumps([_row(depth=10**9)]), "read_results(F)", ("error", "ValueError", "depth")),
        "alpha-out-of-range": ("arguments", "a.json", json.dumps([_row(operator="appnp", alpha=5)]), "read_results(F)",
                               ("error", "ValueError", "alpha")),
        "self-loops-maybe": ("misread", "sl.json", json.dumps([_row(self_loops="maybe")]), "read_results(F)",
                             ("error", "ValueError", "self_loops")),
        "gap-overflow-mean": ("tracebacks", "o.json", json.dumps([_row(gap=1e308, seed=0), _row(gap=1e308, seed=1)]),
                              "write_explorer(P + '/o1', results=F, grid='none').read_text()", ("ok", "'\"gap\":[null]' in out")),
        "gap-text": ("tracebacks", "g.json", json.dumps([_row(gap="abc")]),
                     "write_explorer(P + '/o2', results=F, grid='none').read_text()", ("ok", "'\"gap\":[null]' in out")),
        "seed-unhashable": ("tracebacks", "u.json", json.dumps([_row(seed=[1, 2])]), "read_results(F)[0]['seeds']", ("ok", "out == 1")),
        "script-injection": ("misread", "x.json", json.dumps([_row(variance_method="</script><script>alert(1)</script>")]),
                             "write_explorer(P + '/o3', results=F, grid='none').read_text()",
                             ("ok", "'<script>alert' not in out and out.count('</script>') == 4")),
        "unknown-operator-left-out": ("misread", "k.json", json.dumps([_row(operator="pairnorm"), _row()]), "read_results(F)",
                                      ("ok", "[c['operator'] for c in out] == ['gcn']")),
        "too-many-cells": ("allocation", "many.json", json.dumps(many), "read_results(F)", ("error", "ValueError", "cells")),
        "sparse-huge-file": ("tiny-huge", "huge.json", _truncate, "read_results(F)",
                             ("error", "ValueError", "huge.json", "bytes")),
        "out-is-a-file": ("arguments", "afile", "x", "write_explorer(F, grid='none')", ("error", "OSError", "afile")),
        "grid-unknown": ("arguments", None, None, "write_explorer(P + '/o4', grid='huge')", ("error", "ValueError", "grid")),
        "seed-negative": ("arguments", None, None, "write_explorer(P + '/o5', grid='small', seed=-1)", ("error", "ValueError", "seed")),
        "theory-operator": ("arguments", None, None, "theory_curves(100, 0.1, 0.1, operator='gcn-sym')",
                            ("error", "ValueError", "operator")),
        "theory-depth-negative": ("arguments", None, None, "theory_curves(100, 0.1, 0.1, depth=-2)", ("error", "ValueError", "depth")),
        "theory-gap0-nan": ("arguments", None, None, "theory_curves(100, 0.1, 0.1, gap0=float('nan'))",
                            ("error", "ValueError", "gap0")),
    }


def _truncate(path: Path) -> None:
    with open(path, "wb") as fh:
        fh.truncate(201 * 2**20)  # a sparse file: no disk used


CASES = [pytest.param(name, marks=pytest.mark.hostile(case[0]), id=name) for name, case in _cases(Path("/unused")).items()]

_RUNNER = """
import json
from oversmooth.explore import read_results, theory_curves, write_explorer
P = {tmp!r}
for name, fname, call in {calls!r}:
    F = P + "/" + (fname or "")
    try:
        out = eval(call)
        rec = {{"name": name, "type": None, "mro": [], "message": "", "out": repr(out)[:200]}}
        rec["value"] = out if isinstance(out, (int, list, str)) and not isinstance(out, bool) else None
    except BaseException as exc:  # judged below, case by case
        rec = {{"name": name, "type": type(exc).__name__, "mro": [c.__name__ for c in type(exc).__mro__],
               "message": str(exc)[:500]}}
    print("@@CASE@@" + json.dumps(rec, default=str))
"""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("explore_hostile")
    cases = _cases(tmp)
    calls = []
    for name, (_, fname, content, call, _) in cases.items():
        if fname is not None:
            path = tmp / fname
            path.parent.mkdir(parents=True, exist_ok=True)
            if content == "DIR":
                path.mkdir()
            elif callable(content):
                content(path)
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        calls.append((name, fname, call))
    res = run_python(_RUNNER.format(tmp=str(tmp), calls=calls), timeout=120)
    recs = {}
    for line in res.outcome.stdout.splitlines():
        if line.startswith("@@CASE@@"):
            rec = json.loads(line[len("@@CASE@@"):])
            recs[rec["name"]] = rec
    return recs, res


@pytest.mark.parametrize("name", CASES)
def test_explore_hostile_input(name, outcomes):
    recs, res = outcomes
    assert name in recs, f"the runner stopped before {name}: {res.outcome.stderr[-2000:]}"
    rec = recs[name]
    expected = _cases(Path("/unused"))[name][4]
    if expected[0] == "error":
        kind, mentions = expected[1], expected[2:]
        assert rec["type"] is not None, f"{name}: no error raised (got {rec.get('out')})"
        assert kind in rec["mro"], f"{name}: raised {rec['type']} ({rec['message']!r}), expected a {kind}"
        assert "OversmoothError" in rec["mro"], f"{name}: {rec['type']} is not one of oversmooth.errors"
        assert "\n" not in rec["message"].strip()
        for m in mentions:
            assert m.lower() in rec["message"].lower(), f"{name}: message does not mention {m!r}: {rec['message']!r}"
    else:
        assert rec["type"] is None, f"{name}: raised {rec['type']}: {rec['message']}"
        out = rec.get("value")
        assert eval(expected[1], {"out": out}), f"{name}: check {expected[1]!r} failed on {rec.get('out')}"
