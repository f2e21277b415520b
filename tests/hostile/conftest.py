"""The hostile-input corpus: the ``hostile(<class>)`` marker and the corpus figures at the end of a run.

Tests without the marker (the harness's own checks) are not counted. Run ``pytest tests/hostile`` to see ``hostile corpus: tried N, handled M`` and the figures
by class (the README's table). A case is "handled" when its test passed.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from _harness import CLASSES  # noqa: E402

_TRIED: Counter[str] = Counter()
_HANDLED: Counter[str] = Counter()


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        m = item.get_closest_marker("hostile")
        if m is not None and (not m.args or m.args[0] not in CLASSES):
            raise pytest.UsageError(f"{item.nodeid}: hostile class must be one of {CLASSES}, got {m.args}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any):  # noqa: ANN201
    outcome = yield
    rep = outcome.get_result()
    m = item.get_closest_marker("hostile")
    if m is None or rep.when != "call":
        return
    _TRIED[m.args[0]] += 1
    if rep.passed:
        _HANDLED[m.args[0]] += 1


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _TRIED:
        return
    tr = terminalreporter
    tr.write_sep("-", f"hostile corpus: tried {sum(_TRIED.values())}, handled {sum(_HANDLED.values())}")
    for cls in CLASSES:
        if _TRIED[cls]:
            tr.write_line(f"  {cls:<16} {_HANDLED[cls]:>4} / {_TRIED[cls]:<4}")
