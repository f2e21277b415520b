"""Run many hostile Python-level inputs in ONE limited subprocess and judge each one separately.

Starting an interpreter and importing ``oversmooth`` costs 1-2 s; the graph-file corpus has
over a hundred inputs. :func:`run_batch` runs every case's snippet in one subprocess under
the harness's address-space limit and an overall timeout, each case under its own
``SIGALRM`` time limit, and returns a :class:`_harness.PyOutcome` per case, so that the
harness's judges (``assert_py_error`` / ``assert_py_ok``) apply to each input as if it had run
alone. A snippet may set ``result`` (any JSON-serialisable value) for the test to check.
"""

from __future__ import annotations

import json
import textwrap

from _harness import Outcome, PyOutcome, run_python

_PROGRAM = r'''
import json, signal, time, warnings
CASES = json.loads({cases!r})
SETUP = {setup!r}
class _CaseTimeout(BaseException):
    pass
def _alarm(signum, frame):
    raise _CaseTimeout("case exceeded its time limit")
signal.signal(signal.SIGALRM, _alarm)
base = {{}}
exec(SETUP, base)
for cid, (code, limit) in CASES.items():
    ns = dict(base)
    rec = {{"id": cid, "type": None, "mro": [], "message": "", "timed_out": False, "result": None, "warnings": []}}
    t0 = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            exec(code, ns)
        rec["warnings"] = [str(w.message) for w in caught]
    except _CaseTimeout:
        rec["timed_out"] = True
    except BaseException as exc:
        rec["type"] = type(exc).__name__
        rec["mro"] = [c.__name__ for c in type(exc).__mro__]
        rec["message"] = str(exc)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    rec["seconds"] = time.perf_counter() - t0
    try:
        rec["result"] = json.loads(json.dumps(ns.get("result")))
    except (TypeError, ValueError):
        rec["result"] = repr(ns.get("result"))
    print("@@CASE@@" + json.dumps(rec), flush=True)
'''


def run_batch(cases: dict[str, str], *, setup: str = "", case_timeout: float = 10.0, timeout: float = 120.0,
              mem_mb: int = 3000, cwd: str | None = None) -> dict[str, PyOutcome]:
    """Run each snippet of ``cases`` (id -> code) in one subprocess; a PyOutcome per id (missing = crashed)."""
    payload = json.dumps({k: [textwrap.dedent(v), case_timeout] for k, v in cases.items()})
    program = _PROGRAM.format(cases=payload, setup=textwrap.dedent(setup))
    res = run_python(f"exec({program!r})", timeout=timeout, mem_mb=mem_mb, cwd=cwd)
    out = res.outcome
    results: dict[str, PyOutcome] = {}
    for line in out.stdout.splitlines():
        if line.startswith("@@CASE@@"):
            rec = json.loads(line[len("@@CASE@@"):])
            o = Outcome(0, json.dumps({"result": rec["result"], "warnings": rec["warnings"]}), "", rec["seconds"],
                        rec["timed_out"])
            results[rec["id"]] = PyOutcome(o, rec["type"], tuple(rec["mro"]), rec["message"])
    for cid in cases:
        if cid not in results:  # the batch died (or timed out) before this case reported
            results[cid] = PyOutcome(out, "BatchDied", ("BatchDied",),
                                     f"batch ended before this case: exit {out.code}, timed out {out.timed_out}, "
                                     f"{res.exc_type}: {res.message}; stderr {out.stderr[-500:]}")
    return results


def result_of(res: PyOutcome) -> object:
    """The ``result`` a snippet set (``None`` if it set none)."""
    return json.loads(res.outcome.stdout)["result"]


def warnings_of(res: PyOutcome) -> list[str]:
    """The warning messages a snippet emitted."""
    return json.loads(res.outcome.stdout)["warnings"]
