"""The harness itself: a hang, an allocation bomb and a traceback are caught as failures, not suite crashes."""

from __future__ import annotations

import pytest
from _harness import assert_cli_error, run_cli, run_python


@pytest.mark.hostile("arguments")
def test_cli_bad_probability_is_one_line() -> None:
    out = run_cli("simulate", "--n", "100", "--p", "1.5", "--q", "0.1", "--depth", "2", timeout=60)
    assert_cli_error(out, "p")


def test_limits_stop_hangs_and_bombs() -> None:
    res = run_python("import time; time.sleep(30)", timeout=2)
    assert res.outcome.timed_out
    res = run_python("b = bytearray(4 * 2**30)", mem_mb=1000)
    assert res.exc_type == "MemoryError"
