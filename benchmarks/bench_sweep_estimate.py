"""Benchmark: ``oversmooth sweep --dry-run``'s time estimate against the measured run, on this machine.

Runs the dry-run estimate (:func:`oversmooth.experiments.estimate_cost`, calibrated by timing a
few small cells of the spec here, now) and then the sweep itself on the same executor
(a local process pool of ``--workers`` workers, default every core; ``--workers 1`` runs in this
process, as the command line does) into a temporary
directory, sampling the 1-minute load average every 5 s. Reports estimate, measured wall
time, their ratio, and the load (the machine may be shared).

Usage::

    python benchmarks/bench_sweep_estimate.py                              # the README's spec
    python benchmarks/bench_sweep_estimate.py benchmarks/sweep-estimate-reduced.toml

Appends a record to ``benchmarks/results/sweep_estimate.json`` (a list of runs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from oversmooth._version import __version__
from oversmooth.experiments import estimate_cost, load_spec, run_sweep
from oversmooth.experiments.sweep import ProcessExecutor, SerialExecutor
from oversmooth.operators import num_threads

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:  # pragma: no cover
        return ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("spec", nargs="?", default=str(ROOT / "docs" / "sweep-example.toml"))
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--json", default=str(HERE / "results" / "sweep_estimate.json"))
    args = ap.parse_args(argv)
    spec = load_spec(args.spec)
    workers = args.workers or num_threads()
    up_estimate = _uptime()
    print(f"oversmooth {__version__}: {args.spec}: {spec.n_cells} cells, {workers} workers; {up_estimate}", flush=True)
    t0 = time.perf_counter()
    serial = workers == 1  # as the command line: one worker runs in this process, products threaded
    est = estimate_cost(spec, workers=workers, backend="serial" if serial else "process")
    dry = time.perf_counter() - t0
    print(f"estimate: {est['seconds_estimate']:.0f} s (cell time {est['seconds_one_worker']:.0f} s, load of others "
          f"{est['load_others']}; dry run took {dry:.1f} s)", flush=True)
    loads: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            loads.append(os.getloadavg()[0])
            stop.wait(5.0)

    th = threading.Thread(target=sample, daemon=True)
    up_before = _uptime()
    th.start()
    with tempfile.TemporaryDirectory() as tmp:
        t1 = time.perf_counter()
        executor = SerialExecutor() if serial else ProcessExecutor(workers)
        s = run_sweep(spec, tmp, executor=executor, progress=sys.stderr.isatty())
        wall = time.perf_counter() - t1
    stop.set()
    th.join()
    ratio = wall / est["seconds_estimate"]
    print(f"measured: {wall:.0f} s ({s.done} done, {s.failed} failed); measured / estimate = {ratio:.2f}; "
          f"load average during the run {min(loads):.1f}..{max(loads):.1f} (mean {sum(loads) / len(loads):.1f})",
          flush=True)
    rec = {"benchmark": "sweep_estimate", "oversmooth_version": __version__,
           "estimator": "CPU-time calibration, core share measured during calibration, autogroup-aware",
           "spec": os.path.relpath(args.spec, ROOT),
           "cells": spec.n_cells, "seeds": spec.seeds, "workers": workers, "executor": executor.describe(), "cpus": os.cpu_count(),
           "python": platform.python_version(), "estimate_s": round(est["seconds_estimate"], 1),
           "estimate_cell_time_s": round(est["seconds_one_worker"], 1), "dry_run_s": round(dry, 1),
           "load_others_at_estimate": est["load_others"], "measured_s": round(wall, 1),
           "measured_over_estimate": round(ratio, 3), "done": s.done, "failed": s.failed,
           "load_during_run": {"min": min(loads), "max": max(loads), "mean": round(sum(loads) / len(loads), 2)},
           "uptime_before_estimate": up_estimate, "uptime_before_run": up_before, "uptime_after_run": _uptime(),
           "calibration_core_share": est.get("calibration_core_share"), "cores_for_the_sweep":
           est.get("cores_for_the_sweep"), "autogroup": est.get("autogroup"),
           "model": {k: {"a": v["a"], "b": v["b"], "f": v["f"]} for k, v in est["model"].items()},
           "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    path = Path(args.json)
    runs = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    runs.append(rec)
    tmp_path = path.with_name(path.name + ".tmp")
    tmp_path.write_text(json.dumps(runs, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp_path, path)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
