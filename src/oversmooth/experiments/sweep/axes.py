"""Values in a sweep spec: each key's type, grid axes (lists and range tables) and their size.

Examples
--------
>>> from oversmooth.experiments.sweep.axes import check_value
>>> check_value("grid.n[0]", "n", 2000.0)
2000
"""

from __future__ import annotations

import math
import numbers
import reprlib
from dataclasses import fields
from typing import Any, Mapping

import numpy as np

from ...errors import FileFormatError, ResourceLimitError
from ...operators import ZERO_DEGREE_POLICIES
from .._simulate import SimulationConfig

__all__ = ["SpecError", "check_value", "expand_axis", "axis_count", "MAX_CELLS", "KINDS"]

#: The largest grid a spec may describe (cells).
MAX_CELLS = 1_000_000
#: The kind of value each field takes: int, float, str, bool or floats (a list of numbers).
KINDS = {f.name: {"int": "int", "float": "float", "str": "str", "bool": "bool"}.get(str(f.type), "floats")
          for f in fields(SimulationConfig)}
_INT_FIELDS = tuple(k for k, v in KINDS.items() if v == "int")
_MAX_MU = 10_000
_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlist, _short.maxdict, _short.maxlevel = 40, 40, 6, 6, 3


class SpecError(FileFormatError):
    """A sweep spec that cannot run (raised before any cell is computed); names the key and the file."""


def _r(value: Any) -> str:
    """A bounded repr for messages (a hostile value never prints megabytes)."""
    return _short.repr(value)


# --------------------------------------------------------------------------- values
def _is_number(v: Any) -> bool:
    return isinstance(v, (numbers.Real, np.floating, np.integer)) and not isinstance(v, (bool, np.bool_))


def check_value(where: str, name: str, value: Any) -> Any:
    """Type-check one value of field ``name`` (``where`` names it in the spec); return it normalised.

    Examples
    --------
    >>> from oversmooth.experiments.sweep.axes import check_value
    >>> check_value("fixed.self_loops", "self_loops", "no")
    Traceback (most recent call last):
    ...
    oversmooth.experiments.sweep.axes.SpecError: fixed.self_loops must be true or false, got 'no'
    """
    kind = KINDS[name]
    if kind == "bool":
        if not isinstance(value, bool):
            raise SpecError(f"{where} must be true or false, got {_r(value)}")
        return value
    if kind == "int":
        if _is_number(value) and float(value).is_integer():
            return int(value)
        raise SpecError(f"{where} must be an integer, got {_r(value)}")
    if kind == "float":
        if not _is_number(value):
            raise SpecError(f"{where} must be a number, got {_r(value)}")
        return float(value)
    if kind == "str":
        if not isinstance(value, str):
            raise SpecError(f"{where} must be a string, got {_r(value)}")
        if name == "zero_degree" and value not in ZERO_DEGREE_POLICIES:  # not checked by SimulationConfig
            raise SpecError(f"{where} must be one of {', '.join(map(repr, ZERO_DEGREE_POLICIES))}, got {_r(value)}")
        return value
    if not isinstance(value, (list, tuple)) or not all(_is_number(v) for v in value):
        raise SpecError(f"{where} must be a list of numbers (class means), got {_r(value)}")
    if len(value) > _MAX_MU:
        raise SpecError(f"{where} lists {len(value)} class means, more than {_MAX_MU}")
    return tuple(float(v) for v in value)


def _range_count(name: str, value: Mapping[str, Any]) -> tuple[float, float, int, float | None, bool]:
    unknown = set(value) - {"start", "stop", "num", "step", "log"}
    if unknown:
        raise SpecError(f"grid.{name}: unknown range key(s) {sorted(map(str, unknown))}; use start, stop and num "
                        "(with log = true for log spacing) or step")
    if "start" not in value or "stop" not in value:
        raise SpecError(f"grid.{name}: a range needs start and stop, got {_r(dict(value))}")
    if not (_is_number(value["start"]) and _is_number(value["stop"])):
        raise SpecError(f"grid.{name}: start and stop must be numbers, got {_r(dict(value))}")
    start, stop = float(value["start"]), float(value["stop"])
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise SpecError(f"grid.{name}: start and stop must be finite, got {start}, {stop}")
    log = value.get("log", False)
    if not isinstance(log, bool):
        raise SpecError(f"grid.{name}.log must be true or false, got {_r(log)}")
    if ("num" in value) == ("step" in value):
        raise SpecError(f"grid.{name}: give exactly one of num and step, got {_r(dict(value))}")
    if "num" in value:
        num = value["num"]
        if not (_is_number(num) and float(num).is_integer() and num >= 1):
            raise SpecError(f"grid.{name}.num must be an integer >= 1, got {_r(num)}")
        if num > MAX_CELLS:
            raise ResourceLimitError(f"grid.{name}.num: {float(num):.3g} values, more than max_cells={MAX_CELLS:,}")
        if log and (start <= 0 or stop <= 0):
            raise SpecError(f"grid.{name}: a log range needs start, stop > 0, got {start}, {stop}")
        return start, stop, int(num), None, log
    if log:
        raise SpecError(f"grid.{name}: log = true needs num, not step")
    step = value["step"]
    if not _is_number(step):
        raise SpecError(f"grid.{name}: step must be a number, got {_r(step)}")
    step = float(step)
    if not math.isfinite(step) or step == 0 or (stop - start) / step < 0:
        raise SpecError(f"grid.{name}: step {step} does not lead from {start} to {stop}")
    span = (stop - start) / step
    if not math.isfinite(span) or span >= MAX_CELLS:
        raise ResourceLimitError(f"grid.{name}: the range from {start} to {stop} in steps of {step} has "
                                 f"{span + 1:.3g} values, more than max_cells={MAX_CELLS:,}")
    return start, stop, int(math.floor(span + 1e-9)) + 1, step, False


def axis_count(name: str, value: Any) -> int:
    """Number of values of grid axis ``name`` (computed, nothing is expanded); 0 when malformed.

    More than :data:`MAX_CELLS` values in one range raise :class:`~oversmooth.errors.ResourceLimitError`.

    Examples
    --------
    >>> from oversmooth.experiments.sweep.axes import axis_count
    >>> axis_count("p", {"start": 0.0, "stop": 1.0, "step": 0.25}), axis_count("q", [0.1, 0.2])
    (5, 2)
    """
    if isinstance(value, Mapping):
        try:
            return _range_count(name, value)[2]
        except ResourceLimitError:
            raise
        except SpecError:
            return 0
    return len(value) if isinstance(value, (list, tuple)) else 0


def expand_axis(name: str, value: Any) -> list[Any]:
    """The values of grid axis ``name``: a list, or a range table.

    A range table is ``{start, stop, num}`` (evenly spaced, both ends included;
    ``log = true`` for log-spaced) or ``{start, stop, step}`` (``stop`` included when
    it falls on the grid). Integer fields (``n``, ``depth``, ``probes``) are rounded.
    The number of values is computed before any is made: more than :data:`MAX_CELLS`
    raises :class:`~oversmooth.errors.ResourceLimitError`.

    Examples
    --------
    >>> from oversmooth.experiments import expand_axis
    >>> expand_axis("n", {"start": 100, "stop": 10000, "num": 3, "log": True})
    [100, 1000, 10000]
    >>> expand_axis("alpha", {"start": 0.1, "stop": 0.3, "step": 0.1})
    [0.1, 0.2, 0.3]
    >>> expand_axis("operator", ["gcn", "appnp"])
    ['gcn', 'appnp']
    """
    if isinstance(value, Mapping):
        if name in KINDS and KINDS[name] not in ("int", "float"):
            raise SpecError(f"grid.{name}: a range table needs a numeric field, {name} takes a "
                            f"{KINDS[name]}")
        start, stop, count, step, log = _range_count(name, value)
        if count > MAX_CELLS:
            raise ResourceLimitError(f"grid.{name}.num: {count:,} values, more than max_cells={MAX_CELLS:,}")
        if step is None:
            vals = np.geomspace(start, stop, count) if log else np.linspace(start, stop, count)
        else:
            vals = start + step * np.arange(count)
        out = [float(v) for v in vals]
        if name in _INT_FIELDS:
            return list(dict.fromkeys(int(round(v)) for v in out))
        return [float(f"{v:.15g}") for v in out]  # 0.1 + 2 * 0.1 -> 0.3, not 0.30000000000000004
    if isinstance(value, (list, tuple)):
        if not value:
            raise SpecError(f"grid.{name}: an axis needs at least one value")
        if len(value) > MAX_CELLS:
            raise ResourceLimitError(f"grid.{name}: {len(value):,} values, more than max_cells={MAX_CELLS:,}")
        if name in KINDS:
            return [check_value(f"grid.{name}[{i}]", name, v) for i, v in enumerate(value)]
        return list(value)
    raise SpecError(f"grid.{name}: an axis is a list or a range table, got {_r(value)}")
