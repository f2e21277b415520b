"""Resumable sweeps: spec parsing and validation, cell keys and seeds, the SQLite store,
backends (serial, process pool, Dask LocalCluster), resume after SIGKILL, a Dask worker
killed mid-sweep, failed cells and --retry-failed, the CLI."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from _helpers import run_cli
from _sweep_cells import die_in_worker
from oversmooth.experiments import (
    SimulationConfig,
    SpecError,
    cell_key,
    cell_seed,
    expand_axis,
    load_results,
    load_spec,
    parse_spec,
    run_cells,
    run_simulation,
    run_sweep,
    sweep_status,
    use_backend,
)
from oversmooth.errors import DataError, FileFormatError, ResourceLimitError
from oversmooth.experiments.sweep import (LOCK_FILENAME, STORE_FILENAME, DaskExecutor, DirectoryLock,
                                          ProcessExecutor, ResultStore, SerialExecutor, SweepLockedError,
                                          estimate_cost, run_cell)

pd = pytest.importorskip("pandas")

SPEC = {
    "sweep": {"name": "t", "seed": 3, "seeds": 2, "measures": ["gap", "feature_variance", "bayes_error",
                                                               "separation", "realised_error"]},
    "fixed": {"depth": 4, "q": 0.01},
    "grid": {"n": [200, 300], "p": [0.03, 0.05], "operator": ["gcn", "appnp"]},
}


def _values(out: Path) -> "pd.DataFrame":
    df = load_results(out)
    return df.drop(columns=["seconds", "host"]).reset_index(drop=True)


def _write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- spec
def test_expand_axis_lists_and_ranges():
    assert expand_axis("operator", ["gcn", "appnp"]) == ["gcn", "appnp"]
    assert expand_axis("n", {"start": 100, "stop": 10_000, "num": 3, "log": True}) == [100, 1000, 10_000]
    assert expand_axis("p", {"start": 0.01, "stop": 0.03, "num": 3}) == [0.01, 0.02, 0.03]
    assert expand_axis("alpha", {"start": 0.1, "stop": 0.3, "step": 0.1}) == [0.1, 0.2, 0.3]
    assert expand_axis("depth", {"start": 0, "stop": 8, "step": 4}) == [0, 4, 8]
    ps = expand_axis("p", {"start": 1e-3, "stop": 1e-1, "num": 5, "log": True})
    assert np.allclose(np.diff(np.log10(ps)), 0.5)
    for bad, msg in [({"start": 1, "stop": 2}, "num and step"), ({"start": 0, "stop": 1, "num": 3, "log": True},
                                                                 "log range"),
                     ({"start": 1, "stop": 0, "step": 0.5}, "does not lead"), ([], "at least one"),
                     ({"stop": 1, "num": 2}, "start and stop"), ({"start": 0, "stop": 1, "nun": 2}, "unknown range"),
                     ("gcn", "list or a range"), ({"start": 0, "stop": 1, "step": "x"}, "step must be a number")]:
        with pytest.raises(SpecError, match=msg):
            expand_axis("p", bad)


def test_cells_follow_the_grid_and_carry_validated_configs():
    spec = parse_spec(SPEC)
    cells = spec.cells()
    assert spec.n_cells == 8 == len({c.key for c in cells})
    assert [c.index for c in cells] == list(range(8))
    assert cells[0].axes == {"n": 200, "p": 0.03, "operator": "gcn"}
    assert cells[1].axes == {"n": 200, "p": 0.03, "operator": "appnp"}  # last axis fastest
    assert all(isinstance(c.config, SimulationConfig) and c.config.seeds == 2 for c in cells)
    assert all(c.config.depth == 4 and c.config.q == 0.01 for c in cells)
    assert parse_spec(spec.to_dict()).cells() == cells  # the stored spec re-parses to the same cells


def test_keys_are_canonical_and_do_not_collide_in_the_4th_decimal():
    a, b = SimulationConfig(p=0.0114), SimulationConfig(p=0.0115)
    c, d = SimulationConfig(p=0.011401), SimulationConfig(p=0.011402)
    keys = {cell_key(x) for x in (a, b, c, d)}
    assert len(keys) == 4
    assert cell_key(SimulationConfig(p=0.0114)) == cell_key(a)
    assert cell_key(SimulationConfig(n=2000.0, p=0.0114)) == cell_key(a)  # types are normalised first
    assert cell_key(SimulationConfig(seed=5)) == cell_key(SimulationConfig(seed=9))  # the seed is derived, not keyed
    parsed = json.loads(cell_key(c))
    assert parsed["p"] == 0.011401 and "seed" not in parsed
    seeds = {cell_seed(0, k) for k in keys}
    assert len(seeds) == 4
    assert cell_seed(0, cell_key(a)) != cell_seed(1, cell_key(a))


def test_key_and_seed_are_stable_across_processes_and_hash_seeds():
    code = ("from oversmooth.experiments import SimulationConfig, cell_key, cell_seed\n"
            "k = cell_key(SimulationConfig(n=1234, p=0.01231, q=0.004, operator='appnp', alpha=0.15))\n"
            "print(cell_seed(7, k)); print(k)")
    outs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        outs.append(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                                   check=True).stdout)
    assert outs[0] == outs[1]
    here = cell_key(SimulationConfig(n=1234, p=0.01231, q=0.004, operator="appnp", alpha=0.15))
    assert outs[0].splitlines() == [str(cell_seed(7, here)), here]


def test_cell_seed_does_not_depend_on_order():
    spec = parse_spec(SPEC)
    rev = {**SPEC, "grid": {"operator": ["appnp", "gcn"], "p": [0.05, 0.03], "n": [300, 200]}}
    seeds = {c.key: c.seed for c in spec.cells()}
    assert {c.key: c.seed for c in parse_spec(rev).cells()} == seeds
    sub = {**SPEC, "grid": {"n": [300], "p": [0.05], "operator": ["appnp"]}}
    only = parse_spec(sub).cells()[0]
    assert seeds[only.key] == only.seed


@pytest.mark.parametrize("field, value, message", [
    ("p", [0.03, -0.1], "spec: grid.p[1] = -0.1: p must be in [0, 1], got -0.1"),
    ("operator", ["gcn", "gat"], "spec: grid.operator[1] = 'gat': operator must be one of"),
    ("depth", [2, -1], "spec: grid.depth[1] = -1: depth must be an integer >= 0, got -1"),
    ("self_loops", [True, "no"], "spec: grid.self_loops[1] must be true or false, got 'no'"),
    ("zero_degree", ["raise", "bogus"], "spec: grid.zero_degree[1] must be one of 'raise', 'self-loop', 'zero'"),
    ("n", [200, "300"], "spec: grid.n[1] must be an integer, got '300'"),
])
def test_bad_values_are_rejected_naming_field_and_cell(field, value, message):
    grid = {"p": [0.03], "operator": ["gcn"], field: value}
    with pytest.raises(SpecError) as err:
        parse_spec({"fixed": {"q": 0.01}, "grid": grid})
    assert message in str(err.value)


@pytest.mark.parametrize("spec, message", [
    ({"fixed": {"sigmaa": 1.0}}, "fixed.sigmaa: unknown field"),
    ({"grid": {"seed": [1, 2]}}, "grid.seed: the cell seed derives"),
    ({"fixed": {"p": 0.1}, "grid": {"p": [0.2]}}, "p is both in [fixed] and in [grid]"),
    ({"sweep": {"measures": ["gap", "nope"]}}, "unknown measure 'nope'"),
    ({"sweep": {"seeds": 0}}, "sweep.seeds must be an integer >= 1, got 0"),
    ({"sweep": {"workers": 2}}, "unknown [sweep] key(s) ['workers']"),
    ({"grid": {"p": [0.05, 0.05]}}, "grid.p[0] and grid.p[1] are the same value 0.05"),
    ({"grid": {"n": [200, 200.0]}}, "grid.n[0] and grid.n[1] are the same value 200"),
    ({"fixed": {"self_loops": "no"}}, "spec: fixed.self_loops must be true or false, got 'no'"),
    ({"fixed": {"sigma": "1"}}, "spec: fixed.sigma must be a number, got '1'"),
    ({"fixed": {"mu": 1.0}}, "spec: fixed.mu must be a list of numbers"),
    ({"fixed": {"q": 0.0}, "grid": {"p": [0.0, 0.1]}}, "grid.p[0] = 0.0: p and q are both 0"),
    ({"grid": {"p": [0.1, 0.0], "q": [0.1, 0.0]}}, "the cell with p = 0 and q = 0 has no edges"),
    ({"sweep": {"seed": "1"}}, "sweep.seed must be an integer >= 0, got '1'"),
    ({"sweep": {"out": 3}}, "sweep.out must be a path string, got 3"),
    ({"sweep": {"measures": "gap"}}, "sweep.measures must be a non-empty list"),
    ({"fixed": []}, "[fixed] must be a table"),
    ({"extra": {}}, "unknown section"),
])
def test_spec_structure_errors(spec, message):
    with pytest.raises(SpecError) as err:
        parse_spec(spec)
    assert message in str(err.value)


def test_toml_and_yaml_specs_give_the_same_cells(tmp_path):
    pytest.importorskip("yaml")
    toml = _write_toml(tmp_path / "s.toml", """
[sweep]
seed = 1
seeds = 2
[fixed]
depth = 3
q = 0.01
[grid]
n = {start = 200, stop = 800, num = 3, log = true}
p = [0.02, 0.0201]
""")
    yml = _write_toml(tmp_path / "s.yaml", """
sweep: {seed: 1, seeds: 2}
fixed: {depth: 3, q: 0.01}
grid:
  n: {start: 200, stop: 800, num: 3, log: true}
  p: [0.02, 0.0201]
""")
    a, b = load_spec(toml).cells(), load_spec(yml).cells()
    assert len(a) == 6 and a == b
    assert [c.axes["n"] for c in a[::2]] == [200, 400, 800]
    bad = _write_toml(tmp_path / "bad.toml", "[grid\nn = 1")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(bad)
    with pytest.raises(DataError, match="does not exist"):
        load_spec(tmp_path / "missing.toml")
    js = _write_toml(tmp_path / "s.json", json.dumps(load_spec(toml).to_dict()))
    assert load_spec(js).cells() == a


# --------------------------------------------------------------------------- store and resume
def test_sweep_stores_one_row_per_cell_seed_depth(tmp_path):
    spec = parse_spec(SPEC)
    summary = run_sweep(spec, tmp_path / "o", backend="serial", progress=False)
    assert (summary.total, summary.done, summary.failed, summary.pending, summary.ran) == (8, 8, 0, 0, 8)
    df = load_results(tmp_path / "o")
    assert len(df) == 8 * 2 * 5
    assert not df.duplicated(["cell_key", "seed", "depth"]).any()
    for col in ("n", "p", "q", "operator", "alpha", "max_depth", "cell_seed", "oversmooth_version", "seconds",
                "host", "gap", "bayes_error"):
        assert col in df.columns, col
    assert "dirichlet_energy" not in df.columns  # only the spec's measures
    assert set(df["probes"]) == {32} and set(df["max_depth"]) == {4}  # config values, not per-row ones
    # the stored values are exactly run_simulation's for the cell's config
    cell = spec.cells()[5]
    rows = run_simulation(cell.config)
    got = df[df["cell_key"] == cell.key].sort_values(["seed", "depth"])
    assert got["gap"].tolist() == [r["gap"] for r in rows]
    assert got["seed"].tolist() == [r["seed"] for r in rows]
    assert set(got["cell_seed"]) == {cell.seed}
    cells = load_results(tmp_path / "o", table="cells")
    assert list(cells["status"]) == ["done"] * 8 and list(cells["attempts"]) == [1] * 8


def test_interrupted_sweep_resumes_to_the_same_store(tmp_path):
    spec = parse_spec(SPEC)
    run_sweep(spec, tmp_path / "full", backend="serial", progress=False)
    seen = []

    def stop_after_three(outcome):
        seen.append(outcome.index)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, tmp_path / "part", backend="serial", progress=False, on_cell=stop_after_three)
    st = sweep_status(tmp_path / "part")
    assert (st["done"], st["pending"], st["rows"]) == (3, 5, 3 * 10)
    again = run_sweep(spec, tmp_path / "part", backend="serial", progress=False)
    assert again.ran == 5 and again.done == 8
    pd.testing.assert_frame_equal(_values(tmp_path / "part"), _values(tmp_path / "full"))
    assert run_sweep(spec, tmp_path / "part", backend="serial", progress=False).ran == 0


def test_a_growing_grid_only_runs_the_new_cells(tmp_path):
    small = parse_spec({**SPEC, "grid": {"n": [200], "p": [0.03, 0.05], "operator": ["gcn"]}})
    run_sweep(small, tmp_path, backend="serial", progress=False)
    big = parse_spec(SPEC)
    assert run_sweep(big, tmp_path, backend="serial", progress=False).ran == 6
    full = tmp_path / "full"
    run_sweep(big, full, backend="serial", progress=False)
    pd.testing.assert_frame_equal(_values(tmp_path), _values(full))


def test_store_refuses_another_master_seed_or_other_measures(tmp_path):
    run_sweep(parse_spec(SPEC), tmp_path, backend="serial", progress=False)
    with pytest.raises(ValueError, match="seed=3, this one has seed=4"):
        run_sweep(parse_spec({**SPEC, "sweep": {**SPEC["sweep"], "seed": 4}}), tmp_path, backend="serial",
                  progress=False)
    with pytest.raises(ValueError, match="recording columns"):
        run_sweep(parse_spec({**SPEC, "sweep": {**SPEC["sweep"], "measures": ["gap"]}}), tmp_path,
                  backend="serial", progress=False)


def test_a_failing_write_leaves_no_partial_cell(tmp_path):
    store = ResultStore.create(tmp_path, ["x"], {"seed": 0})
    store.write_cell("a", 0, "{}", 1, [{"seed": 1, "depth": 0, "x": 1.0}, {"seed": 1, "depth": 1, "x": 2.0}],
                     seconds=0.1)
    dup = [{"seed": 1, "depth": 0, "x": 1.0}, {"seed": 1, "depth": 0, "x": 9.0}]  # violates the primary key
    with pytest.raises(sqlite3.IntegrityError):
        store.write_cell("b", 1, "{}", 1, dup, seconds=0.1)
    assert store.statuses() == {"a": "done"} and store.n_result_rows() == 2
    # a rewrite of a stored cell replaces its rows, it never duplicates them
    store.write_cell("a", 0, "{}", 1, [{"seed": 1, "depth": 0, "x": 5.0}], seconds=0.1)
    assert store.query("SELECT x FROM results") == [(5.0,)]
    assert store.cells()[0]["attempts"] == 2
    store.close()


# --------------------------------------------------------------------------- failures
def test_a_cell_that_raises_is_stored_as_failed_and_retried(tmp_path, monkeypatch):
    spec = parse_spec(SPEC)
    bad_key = spec.cells()[2].key

    def flaky(config):
        if cell_key(config) == bad_key:
            return None, "RuntimeError: boom in cell 2", 0.0, "here"
        return run_cell(config)

    s = run_sweep(spec, tmp_path, executor=SerialExecutor(flaky), progress=False)
    assert (s.done, s.failed, s.pending) == (7, 1, 0)
    assert s.failures == [(2, "RuntimeError: boom in cell 2")]
    st = sweep_status(tmp_path)
    assert st["failures"] == [(2, "RuntimeError: boom in cell 2")]
    assert run_sweep(spec, tmp_path, backend="serial", progress=False).ran == 0  # failed cells are not rerun
    s = run_sweep(spec, tmp_path, backend="serial", progress=False, retry_failed=True)
    assert (s.ran, s.done, s.failed) == (1, 8, 0)
    cells = load_results(tmp_path, table="cells")
    assert cells.loc[cells["cell_index"] == 2, "attempts"].item() == 2
    assert cells["error"].isna().all()


def test_runtime_errors_of_real_configs_do_not_stop_the_others(tmp_path):
    # without self-loops a sparse graph has isolated nodes: zero_degree="raise" makes those cells fail
    spec = parse_spec({"fixed": {"depth": 2, "q": 0.001, "self_loops": False},
                       "grid": {"n": [60], "p": [0.001, 0.5]}})
    s = run_sweep(spec, tmp_path, backend="serial", progress=False)
    assert (s.done, s.failed) == (1, 1)
    assert "degree" in s.failures[0][1]
    assert len(load_results(tmp_path)) == 3


# --------------------------------------------------------------------------- backends
def test_same_values_on_serial_process_pool_and_dask_local_cluster(tmp_path):
    pytest.importorskip("distributed")
    spec = parse_spec(SPEC)
    run_sweep(spec, tmp_path / "serial", backend="serial", progress=False)
    run_sweep(spec, tmp_path / "pool", backend="process", workers=2, progress=False)
    s = run_sweep(spec, tmp_path / "dask", dask_local=2, progress=False)
    assert s.backend == "dask" and s.done == 8
    ref = _values(tmp_path / "serial")
    pd.testing.assert_frame_equal(_values(tmp_path / "pool"), ref)
    pd.testing.assert_frame_equal(_values(tmp_path / "dask"), ref)


def test_run_cells_backends_agree_and_keep_order():
    cfgs = [SimulationConfig(n=200, p=0.05, q=0.01, depth=2, seed=s, operator=op)
            for s in (0, 5) for op in ("gcn", "appnp")]
    # large enough for the threaded sparse product in this process (serial), one thread in pool workers
    cfgs.append(SimulationConfig(n=1500, p=0.02, q=0.005, depth=2, method="exact", seed=1))
    ref = [run_simulation(c) for c in cfgs]
    assert run_cells(cfgs) == ref
    assert run_cells(cfgs, ProcessExecutor(2)) == ref  # the executor passed explicitly
    with use_backend("process", workers=2):  # the backward-compatible context
        assert run_cells(cfgs) == ref
    with pytest.raises(ValueError, match="backend must be one of"):
        run_cells(cfgs, backend="threads")
    with pytest.raises(ValueError, match="workers must be an integer >= 1, got 0"):
        run_cells(cfgs, backend="process", workers=0)
    with pytest.raises(ValueError, match="needs exactly one of dask_scheduler"):
        run_cells(cfgs, backend="dask")


def test_a_killed_pool_worker_retries_its_cell_and_the_sweep_goes_on(tmp_path):
    import functools

    spec = parse_spec({"sweep": {"measures": ["gap"]}, "fixed": {"depth": 1, "q": 0.01},
                       "grid": {"n": [200, 210, 220, 230, 240, 250]}})
    ex = ProcessExecutor(2, retries=1, cell_fn=functools.partial(die_in_worker, str(tmp_path / "died")))
    s = run_sweep(spec, tmp_path / "o", executor=ex, progress=False)
    assert (s.done, s.failed, s.pending) == (5, 1, 0)
    assert s.failures[0][0] == 3 and "BrokenProcessPool" in s.failures[0][1] and "2 times" in s.failures[0][1]
    ref = run_sweep(spec, tmp_path / "ref", backend="serial", progress=False)
    assert ref.done == 6
    got, want = _values(tmp_path / "o"), _values(tmp_path / "ref")
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want[want["n"] != 230].reset_index(drop=True))


def test_dask_worker_killed_mid_sweep_still_gives_the_full_result(tmp_path):
    distributed = pytest.importorskip("distributed")
    psutil = pytest.importorskip("psutil")
    spec = parse_spec({"sweep": {"seed": 1, "measures": ["gap", "feature_variance"]},
                       "fixed": {"depth": 6, "q": 0.004, "method": "exact"},
                       "grid": {"n": [700, 800, 900], "p": [0.02, 0.03, 0.04, 0.05]}})
    run_sweep(spec, tmp_path / "ref", backend="serial", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        pids = client.run(os.getpid)
        killed = []

        def kill_one_worker(outcome):
            if not killed:
                victim = sorted(pids.values())[0]
                psutil.Process(victim).kill()  # SIGKILL the worker process; its nanny starts a new one
                killed.append(victim)

        s = run_sweep(spec, tmp_path / "dask", dask_scheduler=cluster.scheduler_address, progress=False,
                      on_cell=kill_one_worker)
        assert killed, "no cell finished"
        client.wait_for_workers(2, timeout=30)
        assert killed[0] not in client.run(os.getpid).values()  # the nanny replaced the killed worker
    assert (s.done, s.failed, s.pending) == (12, 0, 0)
    pd.testing.assert_frame_equal(_values(tmp_path / "dask"), _values(tmp_path / "ref"))


# --------------------------------------------------------------------------- SIGKILL and resume
KILL_SPEC = """
[sweep]
name = "kill"
seed = 11
measures = ["gap", "feature_variance", "bayes_error"]
[fixed]
depth = 6
q = 0.005
method = "exact"
[grid]
n = [600, 700, 800, 900]
p = {start = 0.02, stop = 0.05, num = 10}
"""


def _done(out: Path) -> int:
    path = out / STORE_FILENAME
    if not path.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM cells WHERE status = 'done'").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:  # tables not created yet
        return 0


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_mid_sweep_then_resume_equals_an_uninterrupted_run(tmp_path, workers):
    psutil = pytest.importorskip("psutil")
    spec_path = _write_toml(tmp_path / "kill.toml", KILL_SPEC)
    spec = load_spec(spec_path)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "oversmooth", "sweep", str(spec_path), "--out", str(out),
                             "--workers", str(workers), "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while _done(out) < 4 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proc.poll() is None, "the sweep finished before it could be killed"
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= (2 if workers == 2 else 0)  # pool workers (+ multiprocessing's resource tracker)
        os.kill(proc.pid, signal.SIGKILL)  # only the driving process, mid-way
        proc.wait(timeout=30)
        # orphaned pool workers notice the driver is gone and exit (they never write the store)
        _, alive = psutil.wait_procs(children, timeout=20)
        assert not alive, f"pool processes outlived the killed driver: {alive}"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # clean up whatever is left of this test's process group
        except ProcessLookupError:
            pass
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    st = sweep_status(out)
    assert 4 <= st["done"] < spec.n_cells
    # no partial cells: every done cell has all its rows, no row belongs to a cell not done
    assert st["rows"] == st["done"] * 7
    df = load_results(out)
    assert not df.duplicated(["cell_key", "seed", "depth"]).any()
    resumed = run_sweep(spec, out, backend="serial", progress=False)
    assert resumed.ran == spec.n_cells - st["done"] and resumed.done == spec.n_cells
    run_sweep(spec, tmp_path / "full", backend="serial", progress=False)
    pd.testing.assert_frame_equal(_values(out), _values(tmp_path / "full"))


# --------------------------------------------------------------------------- CLI
def test_cli_dry_run_status_and_summary(tmp_path, capsys):
    spec_path = _write_toml(tmp_path / "s.toml", KILL_SPEC.replace('n = [600, 700, 800, 900]', 'n = [300]')
                            .replace("num = 10", "num = 3"))
    out = tmp_path / "o"
    code, stdout, _ = run_cli(capsys, "sweep", "--dry-run", str(spec_path))
    assert code == 0 and "3 cells" in stdout and "estimated" in stdout
    assert not out.exists()
    code, stdout, _ = run_cli(capsys, "sweep", str(spec_path), "--out", str(out), "--workers", "1", "--no-progress")
    assert code == 0
    assert "best depth" in stdout and "3 done, 0 failed, 0 pending" in stdout
    code, stdout, _ = run_cli(capsys, "sweep", "--status", str(out))
    assert code == 0 and "3 cells: 3 done, 0 failed, 0 pending (21 rows stored)" in stdout
    code, stdout, _ = run_cli(capsys, "sweep", "--status", "--json", str(out))
    assert json.loads(stdout)["done"] == 3
    code, stdout, _ = run_cli(capsys, "sweep", str(spec_path), "--out", str(out), "--workers", "1", "--no-progress")
    assert code == 0 and "ran 0 cell(s)" in stdout


@pytest.mark.parametrize("text, message", [
    ("[grid]\np = [0.1, -0.2]\n", "bad.toml: grid.p[1] = -0.2: p must be in [0, 1], got -0.2"),
    ("[grid]\noperator = ['gcn', 'sage']\n", "bad.toml: grid.operator[1] = 'sage': operator must be one of"),
    ("[fixed]\ndepth = -3\n", "bad.toml: [fixed]: depth must be an integer >= 0, got -3"),
    ("[fixed]\nself_loops = 'no'\n", "bad.toml: fixed.self_loops must be true or false, got 'no'"),
])
def test_cli_rejects_bad_specs_before_any_work(tmp_path, capsys, text, message):
    spec_path = _write_toml(tmp_path / "bad.toml", text)
    out = tmp_path / "o"
    code, stdout, stderr = run_cli(capsys, "sweep", str(spec_path), "--out", str(out))
    assert code == 2 and message in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert not out.exists()


def test_cli_argument_errors(tmp_path, capsys):
    code, _, stderr = run_cli(capsys, "sweep", "--status", str(tmp_path / "nothing"))
    assert code == 2 and "no sweep store" in stderr
    spec_path = _write_toml(tmp_path / "s.toml", "[fixed]\ndepth = 1\n")
    code, _, stderr = run_cli(capsys, "sweep", str(spec_path))
    assert code == 2 and "no output directory" in stderr
    code, _, stderr = run_cli(capsys, "sweep", str(spec_path), "--out", str(tmp_path / "o"), "--workers", "0")
    assert code == 2 and "workers must be an integer >= 1, got 0" in stderr
    code, _, stderr = run_cli(capsys, "sweep", str(spec_path), "--out", str(tmp_path / "o"), "--dask-local", "1",
                              "--dask-scheduler", "tcp://127.0.0.1:1")
    assert code == 2 and "not both" in stderr


def test_the_documented_example_spec_parses(capsys):
    root = Path(__file__).resolve().parents[1]
    spec = load_spec(root / "docs" / "sweep-example.toml")
    assert spec.n_cells == 10 * 4 * 2 and spec.seeds == 3 and spec.out == "sweep-pq"
    assert spec.grid["q"] == [0.001, 0.002, 0.003, 0.004]
    assert spec.grid["p"][0] == 0.005 and spec.grid["p"][-1] == 0.05
    readme = (root / "README.md").read_text(encoding="utf-8")
    body = (root / "docs" / "sweep-example.toml").read_text(encoding="utf-8").split("\n", 1)[1]
    assert body in readme  # the README shows the same spec
    est = estimate_cost(spec, calibrate=False)
    assert est["cells"] == 80 and est["rows"] == 80 * 3 * 33


# --------------------------------------------------------------------------- hardening (issue 13)
def _make_store_file(kind: str, path: Path) -> None:
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "junk":
        path.write_bytes(b"not a database at all\n" * 50)
    elif kind == "foreign":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE people (name TEXT)")
        conn.execute("INSERT INTO people VALUES ('ada')")
        conn.commit()
        conn.close()
    elif kind == "truncated":
        run_sweep(parse_spec({"fixed": {"depth": 1}, "grid": {"p": [0.04, 0.05]}}), path.parent.parent / "full",
                  backend="serial", progress=False)
        data = (path.parent.parent / "full" / STORE_FILENAME).read_bytes()
        path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("kind, message", [
    ("empty", "is empty (0 bytes), not a sweep store"),
    ("junk", "is not an SQLite database"),
    ("foreign", "is an SQLite database but not an oversmooth sweep store (tables: people); it is left untouched"),
    ("truncated", "is damaged or truncated"),
])
def test_a_store_that_is_not_ours_or_damaged_is_refused_and_left_as_it_was(tmp_path, kind, message):
    out = tmp_path / "o"
    out.mkdir()
    path = out / STORE_FILENAME
    _make_store_file(kind, path)
    before = path.read_bytes()
    spec = parse_spec({"fixed": {"depth": 1}, "grid": {"p": [0.04, 0.05]}})
    for call in (lambda: run_sweep(spec, out, backend="serial", progress=False), lambda: sweep_status(out),
                 lambda: load_results(out)):
        with pytest.raises(FileFormatError) as err:
            call()
        assert message in str(err.value) and str(path) in str(err.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [STORE_FILENAME]  # no lock, WAL or temporary file left


def test_status_names_done_cells_whose_rows_are_missing(tmp_path):
    run_sweep(parse_spec({"fixed": {"depth": 1}, "grid": {"p": [0.04, 0.05]}}), tmp_path, backend="serial",
              progress=False)
    conn = sqlite3.connect(tmp_path / STORE_FILENAME)
    conn.execute("DELETE FROM results WHERE cell_index = 1 AND depth = 1")
    conn.commit()
    conn.close()
    st = sweep_status(tmp_path)
    assert st["incomplete"] == [1] and st["done"] == 2


def test_one_sweep_at_a_time_per_directory_and_no_stale_lock(tmp_path):
    spec = parse_spec({"fixed": {"depth": 1}, "grid": {"p": [0.04, 0.05]}})
    with DirectoryLock(tmp_path):
        with pytest.raises(SweepLockedError, match=f"in use by another sweep \\(pid {os.getpid()} on "):
            run_sweep(spec, tmp_path, backend="serial", progress=False)
    assert not (tmp_path / STORE_FILENAME).exists()  # refused before the store was touched
    # a lock file left by a process that died is not a held lock (flock dies with its holder)
    (tmp_path / LOCK_FILENAME).write_text(json.dumps({"pid": 999999999, "host": "x", "started": "then"}))
    assert run_sweep(spec, tmp_path, backend="serial", progress=False).done == 2
    assert not (tmp_path / LOCK_FILENAME).exists()


def test_grid_size_is_counted_not_enumerated():
    t = time.perf_counter()
    spec = parse_spec({"fixed": {"depth": 2}, "grid": {"p": {"start": 0.01, "stop": 0.02, "num": 1000},
                                                      "q": {"start": 0.001, "stop": 0.002, "num": 1000}}})
    est = estimate_cost(spec, calibrate=False)
    assert spec.n_cells == 10**6 and est["rows"] == 3 * 10**6
    assert time.perf_counter() - t < 20  # no SimulationConfig per cell (that took minutes)
    assert spec.cell(999_999).axes == {"p": 0.02, "q": 0.002}
    with pytest.raises(ResourceLimitError, match=r"has 1,000,000,000,000 cells \(p 1,000,000 x q 1,000,000\)"):
        parse_spec({"grid": {"p": {"start": 0.01, "stop": 0.02, "num": 10**6},
                             "q": {"start": 0.001, "stop": 0.002, "num": 10**6}}})
    with pytest.raises(ResourceLimitError, match="grid.p: the range from 0.0 to 1.0 in steps of 1e-300"):
        parse_spec({"grid": {"p": {"start": 0, "stop": 1, "step": 1e-300}}})
    with pytest.raises(ResourceLimitError, match="depth: a cell would store"):
        parse_spec({"fixed": {"depth": 10**9}})
    with pytest.raises(ResourceLimitError, match=r"n, p, q: cell 0 .*: needs about .* \(\$OVERSMOOTH_MAX_BYTES\)"):
        parse_spec({"fixed": {"n": 10**8, "p": 0.1}})


def test_yaml_aliases_and_oversized_spec_files_are_refused(tmp_path):
    pytest.importorskip("yaml")
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    with pytest.raises(SpecError, match="YAML aliases"):
        load_spec(_write_toml(tmp_path / "bomb.yaml", bomb))
    big = _write_toml(tmp_path / "big.toml", "# x\n" * 300_000)
    with pytest.raises(SpecError, match="larger than 1,048,576 bytes"):
        load_spec(big)
    with pytest.raises(SpecError, match="nested too deeply|not valid JSON"):
        load_spec(_write_toml(tmp_path / "deep.json", "[" * 100_000 + "]" * 100_000))


def test_an_unreachable_dask_scheduler_is_one_error_within_the_timeout():
    pytest.importorskip("distributed")
    t = time.perf_counter()
    with pytest.raises(DataError, match="could not connect to the Dask scheduler at tcp://127.0.0.1:1 within 1 s"):
        run_cells([SimulationConfig(n=200, depth=1)], DaskExecutor("tcp://127.0.0.1:1", connect_timeout=1))
    assert time.perf_counter() - t < 15


def test_store_creation_is_atomic_and_cleans_what_a_killed_creation_left(tmp_path):
    dead = tmp_path / f".{STORE_FILENAME}.tmp-999999999"
    dead.write_bytes(b"half a store")
    (tmp_path / f".{STORE_FILENAME}.tmp-999999999-wal").write_bytes(b"x")
    store = ResultStore.create(tmp_path, ["x"], {"seed": 0})
    store.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [STORE_FILENAME]
    (tmp_path / "sub").write_text("a file where the output directory should be")
    with pytest.raises(DataError, match="is a file, not a directory"):
        ResultStore.create(tmp_path / "sub", ["x"], {"seed": 0})
