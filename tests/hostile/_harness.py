"""The hostile-input corpus harness: run one input under a time and memory limit, judge the outcome.

Every case of the corpus (``tests/hostile/test_*.py``) runs in a *subprocess* with an
address-space limit (``RLIMIT_AS``) and a wall-clock timeout, so that a hang or an
unbounded allocation fails the one case instead of the suite. A case is "handled" when it
ends in one of the outcomes the hardening issue allows:

* a one-line error on the CLI: exit code 2, stderr one non-empty line (``oversmooth ...: error: ...``)
  naming the argument or file, no ``Traceback``;
* a ``ValueError`` / ``OSError`` subclass in Python, its message naming the argument or file;
* a correct run (exit 0), checked by the case;
* a documented warning (checked by the case).

Each case is marked ``@pytest.mark.hostile("<class>")`` with one of :data:`CLASSES`; the
hook in ``tests/hostile/conftest.py`` prints the corpus figures (tried / handled, by class)
at the end of the run, the numbers the README reports.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

#: The classes of the hostile-input corpus (the hardening issue's list, plus argument checks).
CLASSES = (
    "downloads",        # unbounded / slow / truncated / interrupted downloads (loopback server)
    "tiny-huge",        # tiny files that declare or expand to huge work (pickles, YAML, ids, cell counts)
    "allocation",       # arguments whose work or memory must be estimated and refused up front
    "misread",          # inputs silently read with a changed meaning
    "stores",           # result stores: empty, junk, truncated, foreign, concurrent, damaged
    "tracebacks",       # inputs that ended in a Python traceback
    "graph-files",      # broken or hostile graph, label, feature and split files
    "planetoid-files",  # broken or hostile raw Planetoid files
    "sweep-specs",      # sweep specifications
    "arguments",        # out-of-range or malformed CLI / Python arguments
    "promises",         # what the README promises (byte-identical files, ...)
)

#: Default limits of one case: wall-clock seconds and address space in MiB.
TIMEOUT_S = 60.0
MEM_MB = 3000


@dataclass(frozen=True)
class Outcome:
    """How one case ended."""

    code: int | None  #: exit code (None when killed by the timeout)
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    # one BLAS thread: bounded virtual memory and no oversubscription across cases
    env.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                "PYTHONDONTWRITEBYTECODE": "1", "PYTHONFAULTHANDLER": "0"})
    if extra:
        env.update(extra)
    return env


def _limits(mem_mb: int):  # noqa: ANN202
    def apply() -> None:
        lim = int(mem_mb) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def run_limited(argv: Sequence[str], *, cwd: str | Path | None = None, timeout: float = TIMEOUT_S,
                mem_mb: int = MEM_MB, env: dict[str, str] | None = None, stdin: str | None = None) -> Outcome:
    """Run ``argv`` under ``timeout`` seconds and ``mem_mb`` MiB of address space."""
    t0 = time.perf_counter()
    try:
        r = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout,
                           env=_env(env), preexec_fn=_limits(mem_mb), input=stdin)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return Outcome(None, out, err, time.perf_counter() - t0, True)
    return Outcome(r.returncode, r.stdout, r.stderr, time.perf_counter() - t0, False)


def run_cli(*args: str, **kw) -> Outcome:  # noqa: ANN003
    """``python -m oversmooth args...`` under the limits (keywords as :func:`run_limited`)."""
    return run_limited([sys.executable, "-m", "oversmooth", *args], **kw)


_PY_WRAPPER = """
import json, sys, traceback
def _report(exc):
    mro = [c.__name__ for c in type(exc).__mro__]
    print("@@HOSTILE@@" + json.dumps({{"type": type(exc).__name__, "mro": mro, "message": str(exc)}}))
try:
{body}
except BaseException as exc:  # the harness judges every exception
    _report(exc)
    sys.exit(0)
print("@@HOSTILE@@" + json.dumps({{"type": None, "mro": [], "message": ""}}))
"""


@dataclass(frozen=True)
class PyOutcome:
    """How a Python-level case ended: the exception raised (if any) and the process outcome."""

    outcome: Outcome
    exc_type: str | None
    exc_mro: tuple[str, ...]
    message: str


def run_python(code: str, **kw) -> PyOutcome:  # noqa: ANN003
    """Run ``code`` (a snippet) in a fresh interpreter under the limits; report what it raised."""
    body = textwrap.indent(textwrap.dedent(code).strip() or "pass", "    ")
    out = run_limited([sys.executable, "-c", _PY_WRAPPER.format(body=body)], **kw)
    for line in out.stdout.splitlines():
        if line.startswith("@@HOSTILE@@"):
            rec = json.loads(line[len("@@HOSTILE@@"):])
            return PyOutcome(out, rec["type"], tuple(rec["mro"]), rec["message"])
    return PyOutcome(out, None, (), "")


def _describe(out: Outcome) -> str:
    return (f"exit {out.code}, {out.seconds:.1f} s{' (TIMED OUT)' if out.timed_out else ''}\n"
            f"stdout: {out.stdout[-1500:]}\nstderr: {out.stderr[-3000:]}")


def assert_cli_error(out: Outcome, *mentions: str) -> str:
    """Exit 2, stderr exactly one non-empty line, no traceback, mentioning each of ``mentions``.

    Returns the error line. ``mentions`` are matched case-insensitively (name the argument
    or the file the user must fix).
    """
    assert not out.timed_out, f"hung: {_describe(out)}"
    assert out.code == 2, f"expected exit 2: {_describe(out)}"
    assert not out.traceback, f"traceback: {_describe(out)}"
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}: {_describe(out)}"
    line = lines[0]
    for m in mentions:
        assert m.lower() in line.lower(), f"error line does not mention {m!r}: {line!r}"
    return line


def assert_cli_ok(out: Outcome) -> None:
    """Exit 0, no traceback, within the limits."""
    assert not out.timed_out, f"hung: {_describe(out)}"
    assert out.code == 0, f"expected exit 0: {_describe(out)}"
    assert not out.traceback, f"traceback: {_describe(out)}"


def assert_py_error(res: PyOutcome, *mentions: str, kinds: tuple[str, ...] = ("ValueError", "OSError")) -> str:
    """The snippet raised a subclass of one of ``kinds`` whose message mentions each of ``mentions``."""
    out = res.outcome
    assert not out.timed_out, f"hung: {_describe(out)}"
    assert res.exc_type is not None, f"no exception raised: {_describe(out)}"
    assert any(k in res.exc_mro for k in kinds), (
        f"raised {res.exc_type} ({res.message!r}), expected a subclass of {kinds}: {_describe(out)}")
    assert "\n" not in res.message.strip(), f"multi-line message: {res.message!r}"
    for m in mentions:
        assert m.lower() in res.message.lower(), f"message does not mention {m!r}: {res.message!r}"
    return res.message


def assert_py_ok(res: PyOutcome) -> None:
    """The snippet ran to the end without raising."""
    out = res.outcome
    assert not out.timed_out, f"hung: {_describe(out)}"
    assert res.exc_type is None, f"raised {res.exc_type}: {res.message!r}\n{_describe(out)}"
