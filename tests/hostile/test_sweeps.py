"""Hostile sweep specs and sweep runs: wrong types, absurd grids, tiny files that declare huge work,
unsafe YAML, unreachable Dask schedulers, pool workers that die.

The spec cases run in ONE limited subprocess (``_graphbatch.run_batch``: each case under its
own time limit, all under the harness's memory limit) through the public ``load_spec``; the
command-line cases each run ``oversmooth sweep`` under the harness's limits. A case passes
when it ends as its table row says: an error whose one-line message names the file and the
key (or the argument), or a correct run the case checks.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from _graphbatch import result_of, run_batch
from _harness import assert_cli_error, assert_cli_ok, assert_py_error, assert_py_ok, run_cli, run_python

# id -> (class, file name, file content (str or bytes), expected: ("error", *mentions) or ("ok", n_cells))
SPECS: dict[str, tuple[str, str, str | bytes, tuple]] = {
    "self-loops-string": ("sweep-specs", "s.toml", '[fixed]\nself_loops = "no"\n', ("error", "fixed.self_loops", "s.toml")),
    "self-loops-grid-string": ("sweep-specs", "s.toml", '[grid]\nself_loops = [true, "yes"]\n',
                               ("error", "grid.self_loops[1]", "s.toml")),
    "self-loops-int": ("sweep-specs", "s.toml", "[fixed]\nself_loops = 0\n", ("error", "fixed.self_loops")),
    "zero-degree-bogus": ("sweep-specs", "s.toml", '[fixed]\nzero_degree = "bogus"\n', ("error", "fixed.zero_degree")),
    "zero-degree-grid": ("sweep-specs", "s.toml", '[grid]\nzero_degree = ["raise", "bogus"]\n',
                         ("error", "grid.zero_degree[1]")),
    "n-string": ("sweep-specs", "s.toml", '[fixed]\nn = "2000"\n', ("error", "fixed.n", "integer")),
    "n-fraction": ("sweep-specs", "s.toml", "[fixed]\nn = 2000.5\n", ("error", "fixed.n", "integer")),
    "depth-bool": ("sweep-specs", "s.toml", "[fixed]\ndepth = true\n", ("error", "fixed.depth")),
    "p-nan": ("sweep-specs", "s.toml", "[fixed]\np = nan\n", ("error", "p must be in [0, 1]")),
    "sigma-inf": ("sweep-specs", "s.toml", "[fixed]\nsigma = inf\n", ("error", "sigma")),
    "sigma-string": ("sweep-specs", "s.toml", '[fixed]\nsigma = "1"\n', ("error", "fixed.sigma", "number")),
    "mu-one-class": ("sweep-specs", "s.toml", "[fixed]\nmu = [1.0]\n", ("error", "mu")),
    "mu-string": ("sweep-specs", "s.toml", '[fixed]\nmu = "ab"\n', ("error", "fixed.mu")),
    "operator-unknown": ("sweep-specs", "s.toml", '[grid]\noperator = ["gcn", "gat"]\n',
                         ("error", "grid.operator[1]", "operator must be one of")),
    "unknown-section": ("sweep-specs", "s.toml", "[grdi]\np = [0.1]\n", ("error", "unknown section", "s.toml")),
    "unknown-field": ("sweep-specs", "s.toml", "[fixed]\nsigmaa = 1.0\n", ("error", "fixed.sigmaa", "unknown field")),
    "fixed-seed": ("sweep-specs", "s.toml", "[fixed]\nseed = 3\n", ("error", "fixed.seed")),
    "empty-axis": ("sweep-specs", "s.toml", "[grid]\np = []\n", ("error", "grid.p", "at least one")),
    "range-no-num": ("sweep-specs", "s.toml", "[grid]\np = {start = 0.1, stop = 0.2}\n", ("error", "grid.p")),
    "range-log-step": ("sweep-specs", "s.toml", "[grid]\np = {start = 0.1, stop = 0.2, step = 0.05, log = true}\n",
                       ("error", "grid.p", "log")),
    "range-log-zero": ("sweep-specs", "s.toml", "[grid]\np = {start = 0.0, stop = 0.2, num = 3, log = true}\n",
                       ("error", "grid.p", "log range")),
    "range-on-string": ("sweep-specs", "s.toml", "[grid]\noperator = {start = 0, stop = 1, num = 2}\n",
                        ("error", "grid.operator")),
    "range-wrong-way": ("sweep-specs", "s.toml", "[grid]\np = {start = 0.2, stop = 0.1, step = 0.05}\n",
                        ("error", "grid.p", "does not lead")),
    "duplicate-values": ("sweep-specs", "s.json", '{"grid": {"n": [200, 200.0]}}', ("error", "grid.n[0]", "grid.n[1]")),
    "seeds-zero": ("sweep-specs", "s.toml", "[sweep]\nseeds = 0\n", ("error", "sweep.seeds")),
    "seed-negative": ("sweep-specs", "s.toml", "[sweep]\nseed = -1\n", ("error", "sweep.seed")),
    "measures-string": ("sweep-specs", "s.toml", '[sweep]\nmeasures = "gap"\n', ("error", "sweep.measures")),
    "measures-unknown": ("sweep-specs", "s.toml", '[sweep]\nmeasures = ["gap", "nope"]\n', ("error", "sweep.measures")),
    "out-number": ("sweep-specs", "s.toml", "[sweep]\nout = 5\n", ("error", "sweep.out")),
    "name-huge": ("sweep-specs", "s.toml", '[sweep]\nname = "' + "x" * 5000 + '"\n', ("error", "sweep.name")),
    "fixed-not-table": ("sweep-specs", "s.toml", "fixed = 3\n", ("error", "[fixed] must be a table")),
    "p-q-zero": ("sweep-specs", "s.toml", "[grid]\np = [0.1, 0.0]\nq = [0.1, 0.0]\n", ("error", "p = 0 and q = 0")),
    "probes-zero": ("sweep-specs", "s.toml", "[fixed]\nprobes = 0\n", ("error", "probes")),
    "bad-toml": ("sweep-specs", "s.toml", "[grid\np = 1\n", ("error", "s.toml", "not valid TOML")),
    "bad-json": ("sweep-specs", "s.json", '{"grid": ', ("error", "s.json", "not valid JSON")),
    "json-list": ("sweep-specs", "s.json", "[1, 2, 3]", ("error", "s.json", "a spec is a table")),
    "yaml-python-tag": ("sweep-specs", "s.yaml", "grid: !!python/object/apply:os.system ['touch PWNED']\n",
                        ("error", "s.yaml", "not valid YAML")),
    "not-utf8": ("sweep-specs", "s.toml", b"[fixed]\nn = \xff\xfe\n", ("error", "s.toml", "UTF-8")),
    "deep-json": ("sweep-specs", "s.json", "[" * 200_000 + "]" * 200_000, ("error", "s.json")),
    "valid-json-spec": ("sweep-specs", "s.json", '{"fixed": {"depth": 2}, "grid": {"n": [200, 400]}}', ("ok", 2)),
    # tiny files, huge work: refused with the count / the estimate, before anything is built
    "grid-1e12": ("tiny-huge", "s.toml", "[grid]\np = {start = 0.01, stop = 0.02, num = 1000000}\n"
                  "q = {start = 0.001, stop = 0.002, num = 1000000}\n", ("error", "1,000,000,000,000 cells", "s.toml")),
    "grid-ten-axes": ("tiny-huge", "s.json", json.dumps({"grid": {k: list(range(1, 11)) if k in ("n", "depth", "probes")
                                                                   else [0.1 * i for i in range(1, 11)] for k in
                                                                   ("n", "p", "q", "sigma", "alpha", "depth", "probes",
                                                                    "pairnorm_scale")}}),
                      ("error", "100,000,000 cells")),
    "step-1e-300": ("tiny-huge", "s.toml", "[grid]\np = {start = 0, stop = 1, step = 1e-300}\n",
                    ("error", "grid.p", "1e+300 values")),
    "num-1e7": ("tiny-huge", "s.toml", "[grid]\np = {start = 0.01, stop = 0.02, num = 10000000}\n",
                ("error", "grid.p", "max_cells")),
    "num-1e300": ("tiny-huge", "s.toml", "[grid]\np = {start = 0.01, stop = 0.02, num = 1e300}\n", ("error", "grid.p.num")),
    "depth-1e9": ("tiny-huge", "s.toml", "[fixed]\ndepth = 1000000000\n", ("error", "depth", "rows")),
    "n-1e8-dense": ("tiny-huge", "s.toml", "[fixed]\nn = 100000000\np = 0.1\n", ("error", "n, p, q", "needs about")),
    "probes-1e9": ("tiny-huge", "s.toml", "[fixed]\nn = 100000\nprobes = 1000000000\n", ("error", "probes", "needs about")),
    "mu-100k-classes": ("tiny-huge", "s.json", json.dumps({"fixed": {"mu": [0.0] * 100_000}}), ("error", "fixed.mu")),
    "yaml-alias-bomb": ("tiny-huge", "s.yaml", "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi")),
        ("error", "s.yaml", "aliases")),
    "spec-2mb": ("tiny-huge", "s.toml", "# padding\n" * 200_000, ("error", "s.toml", "larger than")),
    "million-cells-counted": ("tiny-huge", "s.toml", "[fixed]\ndepth = 2\n[grid]\np = {start = 0.01, stop = 0.02, "
                              "num = 1000}\nq = {start = 0.001, stop = 0.002, num = 1000}\n", ("ok", 1_000_000)),
}

_SETUP = """
from pathlib import Path
from oversmooth.experiments import load_spec, estimate_cost
"""


@pytest.fixture(scope="module")
def spec_outcomes(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep_specs")
    snippets = {}
    for cid, (_cls, name, content, _exp) in SPECS.items():
        d = root / cid
        d.mkdir()
        f = d / name
        if isinstance(content, bytes):
            f.write_bytes(content)
        else:
            f.write_text(content, encoding="utf-8")
        snippets[cid] = (f"import os\nos.chdir({str(d)!r})\nspec = load_spec({str(f)!r})\n"
                         "result = [spec.n_cells, estimate_cost(spec, calibrate=False)['cells']]\n")
    outs = run_batch(snippets, setup=_SETUP, case_timeout=10, timeout=120, mem_mb=2000)
    outs["_root"] = root
    return outs


@pytest.mark.parametrize("cid", [pytest.param(c, marks=pytest.mark.hostile(v[0]), id=c) for c, v in SPECS.items()])
def test_sweep_spec(spec_outcomes, cid):
    expect = SPECS[cid][3]
    res = spec_outcomes[cid]
    if expect[0] == "error":
        assert_py_error(res, *expect[1:])
    else:
        assert_py_ok(res)
        assert result_of(res) == [expect[1], expect[1]]
    assert res.outcome.seconds < 8, f"took {res.outcome.seconds:.1f} s"
    assert not (spec_outcomes["_root"] / cid / "PWNED").exists()  # no YAML tag ran code


# --------------------------------------------------------------------------- the command line
SMALL = "[sweep]\nmeasures = [\"gap\"]\n[fixed]\ndepth = 1\nq = 0.01\n[grid]\np = [0.04, 0.05]\n"


def _spec(tmp_path: Path, text: str = SMALL, name: str = "s.toml") -> str:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return str(f)


@pytest.mark.hostile("sweep-specs")
@pytest.mark.parametrize("text, mentions", [
    ('[fixed]\nself_loops = "no"\n', ("s.toml", "fixed.self_loops")),
    ('[fixed]\nzero_degree = "bogus"\n', ("s.toml", "fixed.zero_degree")),
], ids=["self-loops-no", "zero-degree-bogus"])
def test_cli_dry_run_refuses_bad_values(tmp_path, text, mentions):
    out = run_cli("sweep", "--dry-run", "--no-calibrate", _spec(tmp_path, text), cwd=tmp_path, timeout=60)
    assert_cli_error(out, *mentions)


@pytest.mark.hostile("tiny-huge")
def test_cli_dry_run_of_a_million_cells_counts_and_calibrates_quickly(tmp_path):
    text = ("[fixed]\ndepth = 2\n[grid]\np = {start = 0.01, stop = 0.02, num = 1000}\n"
            "q = {start = 0.001, stop = 0.002, num = 1000}\n")
    out = run_cli("sweep", "--dry-run", "--json", _spec(tmp_path, text), cwd=tmp_path, timeout=60, mem_mb=2000)
    assert_cli_ok(out)
    est = json.loads(out.stdout)
    assert est["cells"] == 10**6 and est["rows"] == 3 * 10**6 and est["seconds_estimate"] > 0


@pytest.mark.hostile("arguments")
@pytest.mark.parametrize("args, mention", [
    (["--workers", "0"], "workers"),
    (["--retries", "-1"], "retries"),
    (["--dask-timeout", "-1"], "--dask-timeout"),
    (["--dask-scheduler", "nonsense://x"], "dask_scheduler"),
], ids=["workers-0", "retries-negative", "dask-timeout-negative", "dask-scheduler-garbage"])
def test_cli_bad_run_arguments(tmp_path, args, mention):
    out = run_cli("sweep", _spec(tmp_path), "--out", str(tmp_path / "o"), "--no-progress", *args, cwd=tmp_path,
                  timeout=60)
    assert_cli_error(out, mention)
    assert not (tmp_path / "o" / "results.sqlite").exists()


@pytest.mark.hostile("tracebacks")
def test_cli_unreachable_dask_scheduler_is_one_line_within_the_timeout(tmp_path):
    out = run_cli("sweep", _spec(tmp_path), "--out", str(tmp_path / "o"), "--dask-scheduler", "tcp://127.0.0.1:1",
                  "--dask-timeout", "2", "--no-progress", cwd=tmp_path, timeout=45)
    assert_cli_error(out, "dask_scheduler", "tcp://127.0.0.1:1", "within 2 s")
    assert out.seconds < 30


_KILLER = '''
import os
from pathlib import Path
from oversmooth.experiments.sweep import run_cell

def die(marker, config):
    """n = 230 always kills its worker; n = 220 kills it once."""
    if config.n == 230 or (config.n == 220 and not os.path.exists(marker)):
        Path(marker).touch()
        os._exit(1)
    return run_cell(config)

def die_at_start(config):
    os._exit(3)
'''


@pytest.mark.hostile("tracebacks")
def test_a_killed_pool_worker_does_not_abort_the_sweep(tmp_path):
    (tmp_path / "killer_cells.py").write_text(_KILLER, encoding="utf-8")
    code = f"""
    import functools, sys
    sys.path.insert(0, {str(tmp_path)!r})
    from killer_cells import die
    from oversmooth.experiments import parse_spec, run_sweep, sweep_status
    from oversmooth.experiments.sweep import ProcessExecutor
    spec = parse_spec({{"sweep": {{"measures": ["gap"]}}, "fixed": {{"depth": 1, "q": 0.01}},
                       "grid": {{"n": [200, 210, 220, 230, 240]}}}})
    if __name__ == "__main__":
        ex = ProcessExecutor(2, retries=1, cell_fn=functools.partial(die, {str(tmp_path / "died")!r}))
        s = run_sweep(spec, {str(tmp_path / "o")!r}, executor=ex, progress=False)
        st = sweep_status({str(tmp_path / "o")!r})
        assert (s.done, s.failed, st["done"], st["failed"]) == (4, 1, 4, 1), (s, st)
        assert "BrokenProcessPool" in st["failures"][0][1], st
    """
    res = run_python(code, cwd=tmp_path, timeout=90, mem_mb=4000)
    assert_py_ok(res)


@pytest.mark.hostile("tracebacks")
def test_a_pool_whose_workers_always_die_is_one_error_not_a_loop(tmp_path):
    (tmp_path / "killer_cells.py").write_text(_KILLER, encoding="utf-8")
    code = f"""
    import sys
    sys.path.insert(0, {str(tmp_path)!r})
    from killer_cells import die_at_start
    from oversmooth.experiments import parse_spec, run_sweep
    from oversmooth.experiments.sweep import ProcessExecutor
    spec = parse_spec({{"sweep": {{"measures": ["gap"]}}, "fixed": {{"depth": 1, "q": 0.01}},
                       "grid": {{"n": [200, 210, 220, 230, 240, 250]}}}})
    if __name__ == "__main__":
        run_sweep(spec, {str(tmp_path / "o")!r}, executor=ProcessExecutor(2, retries=0, cell_fn=die_at_start),
                  progress=False)
    """
    res = run_python(code, cwd=tmp_path, timeout=90, mem_mb=4000)
    assert_py_error(res, "workers", "broke", kinds=("RuntimeError",))
    assert "OversmoothError" in res.exc_mro


@pytest.mark.hostile("stores")
def test_cli_output_directory_that_is_a_file(tmp_path):
    (tmp_path / "o").write_text("x", encoding="utf-8")
    out = run_cli("sweep", _spec(tmp_path), "--out", str(tmp_path / "o"), "--workers", "1", "--no-progress",
                  cwd=tmp_path, timeout=60)
    assert_cli_error(out, str(tmp_path / "o"))
    assert (tmp_path / "o").read_text(encoding="utf-8") == "x"


@pytest.mark.hostile("sweep-specs")
def test_cli_spec_that_is_a_directory_or_missing(tmp_path):
    d = tmp_path / "dir.toml"
    d.mkdir()
    code = textwrap.dedent(f"""
    import subprocess, sys
    outs = [subprocess.run([sys.executable, "-m", "oversmooth", "sweep", "--dry-run", p], capture_output=True, text=True)
            for p in ({str(d)!r}, {str(tmp_path / "missing.toml")!r})]
    for o, name in zip(outs, ("is a directory", "does not exist")):
        lines = [ln for ln in o.stderr.splitlines() if ln.strip()]
        assert o.returncode == 2 and len(lines) == 1 and name in lines[0], (o.returncode, o.stderr)
    """)
    assert_py_ok(run_python(code, cwd=tmp_path, timeout=60))


@pytest.mark.hostile("sweep-specs")
def test_the_package_memory_budget_applies_to_sweep_cells(tmp_path):
    out = run_cli("sweep", "--dry-run", "--no-calibrate", _spec(tmp_path), cwd=tmp_path, timeout=60,
                  env={"OVERSMOOTH_MAX_BYTES": "1000000"})
    assert_cli_error(out, "s.toml", "n, p, q", "OVERSMOOTH_MAX_BYTES")
