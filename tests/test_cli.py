"""End-to-end tests of the ``oversmooth`` command line (in-process for speed, and as real subprocesses)."""

from __future__ import annotations

import json

import pytest

import oversmooth
from _helpers import parse_single_json, run_cli, run_cli_subprocess

SCIENCE_ARGS = ["simulate", "--n", "2000", "--p", "0.0114", "--q", "0.0038", "--mu", "-1", "1", "--sigma", "1",
                "--depth", "10", "--operator", "gcn", "--seed", "0", "--json"]
SMALL = ["simulate", "--n", "300", "--p", "0.06", "--q", "0.02", "--depth", "3"]

REQUIRED_ROW_KEYS = {
    "seed", "depth", "operator", "gap", "feature_variance", "cross_sectional_variance", "structural_variance",
    "bayes_error", "realised_error", "dirichlet_energy", "mad", "theory_gap", "theory_gap_finite_degree",
    "theory_feature_variance", "theory_bayes_error",
}


def _no_nan(token: str):
    raise AssertionError(f"JSON contains {token}: not valid JSON")


def _json(capsys, *args: str) -> dict:
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    obj = parse_single_json(out)
    json.loads(out, parse_constant=_no_nan)  # strict JSON: no NaN / Infinity tokens
    return obj


# =========================================================================== the documented command


@pytest.fixture(scope="module")
def science_run():
    """The SCIENCE.md default run, as a real subprocess (console entry point via ``python -m oversmooth``)."""
    proc = run_cli_subprocess(*SCIENCE_ARGS)
    return proc


def test_subprocess_json_contract(science_run):
    proc = science_run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    obj = parse_single_json(proc.stdout)
    json.loads(proc.stdout, parse_constant=_no_nan)
    assert set(obj) == {"oversmooth_version", "config", "rows"}
    assert obj["oversmooth_version"] == oversmooth.__version__
    cfg = obj["config"]
    assert cfg["n"] == 2000 and cfg["p"] == 0.0114 and cfg["q"] == 0.0038 and cfg["mu"] == [-1.0, 1.0]
    assert cfg["depth"] == 10 and cfg["operator"] == "gcn" and cfg["seed"] == 0 and cfg["seeds"] == 1
    rows = obj["rows"]
    assert len(rows) == 11
    assert [r["depth"] for r in rows] == list(range(11))
    for r in rows:
        assert REQUIRED_ROW_KEYS <= set(r), REQUIRED_ROW_KEYS - set(r)
        assert r["seed"] == 0 and r["operator"] == "gcn"
        assert r["oversmooth_version"] == oversmooth.__version__
        # the paper's exact bounds on the feature-noise variance, on the reported numbers
        assert 1 / 2000 * (1 - 1e-12) <= r["feature_variance"] <= 1 + 1e-12
    assert rows[0]["gap"] == pytest.approx(2.0, rel=1e-12)
    assert rows[1]["theory_gap"] == pytest.approx(1.0, rel=1e-12)  # lambda = 0.5
    assert rows[1]["theory_gap_finite_degree"] == pytest.approx(2 * (0.5 + 1 / (16.2 * 0.5)), rel=1e-9)


def test_subprocess_and_in_process_agree(science_run, capsys):
    # same seed -> identical rows, across processes too
    obj = _json(capsys, *SCIENCE_ARGS)
    assert obj == parse_single_json(science_run.stdout)


def test_version(capsys):
    code, out, err = run_cli(capsys, "--version")
    assert code == 0 and out.strip() == f"oversmooth {oversmooth.__version__}"
    proc = run_cli_subprocess("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"oversmooth {oversmooth.__version__}"


# =========================================================================== options


def test_seeds_replicates(capsys):
    obj = _json(capsys, "simulate", "--n", "300", "--p", "0.06", "--q", "0.02", "--depth", "10", "--seeds", "3",
                "--json")
    rows = obj["rows"]
    assert len(rows) == 33
    assert [r["seed"] for r in rows] == [0] * 11 + [1] * 11 + [2] * 11
    assert [r["depth"] for r in rows] == list(range(11)) * 3
    assert rows[1]["gap"] != rows[12]["gap"]  # different graphs per seed


@pytest.mark.parametrize("operator", ["gcn", "gcn-sym", "appnp", "pairnorm"])
def test_each_operator_runs(capsys, operator):
    obj = _json(capsys, *SMALL, "--operator", operator, "--alpha", "0.2", "--json")
    rows = obj["rows"]
    assert len(rows) == 4 and all(r["operator"] == operator for r in rows)
    assert all(REQUIRED_ROW_KEYS <= set(r) for r in rows)
    if operator == "appnp":
        assert all(r["theory_ppr_floor"] == pytest.approx(0.04) for r in rows)
        assert all(r["feature_variance"] >= 0.04 * (1 - 1e-12) for r in rows)
    else:
        assert all(r["theory_ppr_floor"] is None for r in rows)
    if operator == "pairnorm":  # no closed-form theory: reported as null, never faked
        assert all(r["theory_gap"] is None and r["theory_bayes_error"] is None for r in rows)
    else:
        assert all(isinstance(r["theory_gap"], float) for r in rows)


def test_gcn_sym_differs_from_gcn(capsys):
    a = _json(capsys, *SMALL, "--json")["rows"]
    b = _json(capsys, *SMALL, "--operator", "gcn-sym", "--json")["rows"]
    assert a[0]["gap"] == b[0]["gap"] and a[2]["gap"] != b[2]["gap"]


def test_exact_vs_hutchinson(capsys):
    ex = _json(capsys, *SMALL, "--exact", "--json")["rows"]
    hu = _json(capsys, *SMALL, "--hutchinson", "--probes", "64", "--json")["rows"]
    assert all(r["variance_method"] == "exact" and r["probes"] == 0 for r in ex)
    assert all(r["variance_method"] == "hutchinson" and r["probes"] == 64 for r in hu)
    for e, h in zip(ex, hu):
        assert e["gap"] == h["gap"]  # same graph and features: only the variance estimator differs
        if e["depth"] == 0:
            assert h["feature_variance"] == pytest.approx(1.0, rel=1e-12)
        else:  # within 4 reported standard errors
            assert abs(h["feature_variance"] - e["feature_variance"]) < 4 * h["feature_variance_se"]


def test_simulate_operator_choices_are_the_simulation_operators():
    from oversmooth.cli import SIMULATE_OPERATOR_CHOICES
    from oversmooth.experiments import SIMULATE_OPERATORS

    assert SIMULATE_OPERATOR_CHOICES == SIMULATE_OPERATORS


def test_text_table_corrected_operator_has_no_variance_bounds(capsys):
    code, out, err = run_cli(capsys, *SMALL, "--operator", "corrected")
    assert code == 0 and err == ""
    assert "operator=corrected" in out and "variance bounds none" in out


def test_text_table(capsys):
    code, out, err = run_cli(capsys, *SMALL)
    assert code == 0 and err == ""
    lines = out.strip().splitlines()
    assert lines[0].startswith(f"oversmooth {oversmooth.__version__}  simulate  N=300")
    assert "lambda=0.5" in lines[1] and "nu=" in lines[1] and "variance bounds [" in lines[1]
    header = lines[2].split()
    assert header[:3] == ["seed", "depth", "gap"] and "realised" in header
    assert len(lines) == 3 + 4
    assert [int(line.split()[1]) for line in lines[3:]] == [0, 1, 2, 3]
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)


def test_no_self_loops_with_zero_degree_policy(capsys):
    code, out, err = run_cli(capsys, "simulate", "--n", "200", "--p", "0.005", "--q", "0.005", "--depth", "2",
                             "--no-self-loops", "--zero-degree", "self-loop", "--json")
    assert code == 0, err
    rows = parse_single_json(out)["rows"]
    assert all(r["self_loops"] is False for r in rows)


def test_same_seed_identical_different_seed_differs(capsys):
    args = [*SMALL, "--hutchinson", "--probes", "8"]
    a = _json(capsys, *args, "--seed", "5", "--json")
    b = _json(capsys, *args, "--seed", "5", "--json")
    c = _json(capsys, *args, "--seed", "6", "--json")
    assert a["rows"] == b["rows"]
    assert [r["seed"] for r in c["rows"]] == [6] * 4
    strip = [{k: v for k, v in r.items() if k != "seed"} for r in a["rows"]]
    strip_c = [{k: v for k, v in r.items() if k != "seed"} for r in c["rows"]]
    assert strip != strip_c
    assert a["rows"][1]["realised_gap"] != c["rows"][1]["realised_gap"]


# =========================================================================== errors and help


# The "exit 2, one line" contract of every subcommand, as one table: (arguments, what the line must say).
# "{tmp}" is a fresh directory, "{file}" a file in it. Each case runs in-process (main()).
ONE_LINE_ERRORS = [
    # simulate: ranges, types, choices
    (["simulate", "--p", "1.5"], "p must be in [0, 1], got 1.5"),
    (["simulate", "--q", "-0.1"], "q must be in [0, 1]"),
    (["simulate", "--depth", "-1"], "depth"),
    (["simulate", "--depth", "x"], "--depth"),
    (["simulate", "--depth", "2.5"], "--depth"),
    (["simulate", "--operator", "foo"], "foo"),
    (["simulate", "--n", "200", "--p", "0.005", "--q", "0.005", "--depth", "2", "--no-self-loops"], "degree 0"),
    (["simulate", "--probes", "0", "--hutchinson"], "probes"),
    (["simulate", "--seeds", "0"], "seeds"),
    (["simulate", "--sigma", "0"], "sigma"),
    (["simulate", "--sigma", "nan"], "--sigma"),
    (["simulate", "--p", "inf"], "--p"),
    (["simulate", "--mu", "1"], "mu"),
    (["simulate", "--mu", "1", "1e999"], "--mu"),
    (["simulate", "--n", "1"], "n must be"),
    (["simulate", "--p", "0", "--q", "0"], "p and q are both 0"),
    (["simulate", "--bogus"], "--bogus"),
    (["simulate", "--exact", "--hutchinson"], "--hutchinson"),
    (["simulate", "--max-hours", "0"], "--max-hours"),
    # simulate: values whose squares overflow or underflow (issue 13: tracebacks and a misread)
    (["simulate", "--sigma", "1e308"], "sigma must be in"),
    (["simulate", "--sigma", "1e-308"], "sigma must be in"),
    (["simulate", "--mu", "1e308", "1e307"], "mu values must be within"),
    (["simulate", "--operator", "pairnorm", "--pairnorm-scale", "1e308"], "pairnorm_scale"),
    # simulate: allocation refused up front, naming the argument and the estimate
    (["simulate", "--n", "100000000", "--p", "0.1"], "n=100000000"),
    (["simulate", "--n", "1e12"], "n=1000000000000"),
    (["simulate", "--depth", "1e9"], "depth=1000000000"),
    (["simulate", "--probes", "1e9", "--hutchinson"], "probes=1000000000"),
    (["simulate", "--seeds", "1e8", "--n", "300"], "seeds=100000000"),
    (["simulate", "--n", "1000", "--depth", "1e6", "--hutchinson", "--max-hours", "1"], "of work"),
    # reproduce: argument handling (before any claim runs)
    (["reproduce", "--seed", "-1"], "--seed"),
    (["reproduce", "--workers", "0"], "--workers"),
    (["reproduce", "--claims", "nope"], "nope"),
    (["reproduce", "--out", "{file}"], "--out"),
    (["reproduce", "--out", "{file}/sub"], "--out"),
    (["reproduce", "--out", ""], "--out"),
    # profile
    (["profile", "{tmp}/missing.npz", "--graph", "cora", "--out", "{tmp}/o"], "missing.npz"),
    (["profile", "{file}", "--graph", "cora", "--out", "{file}"], "--out"),
    (["profile", "{file}", "--graph", "cora", "--out", "{tmp}/o", "--seed", "nan"], "--seed"),
    # the other subcommands' parsers
    (["analyze"], "GRAPH"),
    (["sweep"], "sweep"),
    (["train", "--depths", "x"], "--depths"),
    (["frobnicate"], "frobnicate"),
]


@pytest.mark.parametrize("args, needle", ONE_LINE_ERRORS, ids=[" ".join(a)[:60] for a, _ in ONE_LINE_ERRORS])
def test_errors_exit_2_with_one_line(capsys, tmp_path, args, needle):
    file = tmp_path / "afile"
    file.write_text("not a directory\n")
    args = [a.replace("{tmp}", str(tmp_path)).replace("{file}", str(file)) for a in args]
    code, out, err = run_cli(capsys, *args)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert needle in lines[0]
    assert lines[0].startswith(f"oversmooth {args[0]}: error: ") or lines[0].startswith("oversmooth: error: ")
    assert "Traceback" not in err and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]  # nothing written


def test_stray_numpy_error_is_a_bug_not_a_user_error(monkeypatch):
    # main() catches the project's errors and OSError, not a ValueError from inside numpy
    import numpy as np

    from oversmooth.cli import _simulate, main

    def boom(args):
        return np.zeros(3).reshape(2)

    monkeypatch.setattr(_simulate, "_cmd_simulate", boom)
    with pytest.raises(ValueError, match="reshape"):
        main(["simulate"])


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    from oversmooth.cli._common import atomic_path, atomic_write_text

    target = tmp_path / "out.json"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary left


@pytest.mark.parametrize("args", [["simulate", "--p", "1.5"], ["simulate", "--depth", "x"]])
def test_bad_arguments_subprocess(args):
    proc = run_cli_subprocess(*args)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_appnp_alpha_zero_q_zero_runs(capsys):
    code, out, err = run_cli(capsys, "simulate", "--n", "200", "--p", "0.1", "--q", "0", "--operator", "appnp",
                             "--alpha", "0", "--depth", "2", "--json")
    assert code == 0
    rows = parse_single_json(out)["rows"]
    assert all(r["theory_gap"] == pytest.approx(2.0) for r in rows)  # lambda = 1: no mixing


@pytest.mark.parametrize("args", [["--help"], ["simulate", "--help"], ["reproduce", "--help"]])
def test_help_has_example(capsys, args):
    code, out, err = run_cli(capsys, *args)
    assert code == 0
    assert "example" in out
    assert "oversmooth" in out


def test_no_command_prints_help_exit_2(capsys):
    code, out, err = run_cli(capsys)
    assert code == 2 and "usage:" in out and "simulate" in out


def test_literal_choices_match_the_package():
    # --help builds every parser from literals (imports nothing heavy): they must equal the package's
    from oversmooth.cli._profile import PROFILE_METRIC_CHOICES
    from oversmooth.cli._reproduce import CLAIM_CHOICES
    from oversmooth.measures import PROFILE_METRICS
    from oversmooth.report import _claims

    assert CLAIM_CHOICES == tuple(_claims.CLAIM_IDS)
    assert PROFILE_METRIC_CHOICES == tuple(PROFILE_METRICS)


def test_dtype_float32_agrees_with_float64(capsys):
    args = ["simulate", "--n", "600", "--p", "0.03", "--q", "0.01", "--depth", "3", "--hutchinson", "--json"]
    a = _json(capsys, *args)
    b = _json(capsys, *args, "--dtype", "float32")
    assert a["config"]["dtype"] == "float64" and b["config"]["dtype"] == "float32"
    for ra, rb in zip(a["rows"], b["rows"]):
        assert rb["gap"] == pytest.approx(ra["gap"], rel=1e-5)
        assert rb["feature_variance"] == pytest.approx(ra["feature_variance"], rel=1e-4)


def test_help_imports_nothing_heavy():
    # building every subcommand's parser (what --help and every error path pay) imports no numpy/scipy/torch
    import subprocess
    import sys

    code = ("import sys; from oversmooth.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('numpy', 'scipy', 'torch', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
