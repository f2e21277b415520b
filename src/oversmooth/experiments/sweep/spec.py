"""The sweep spec language: fixed parameters, grid axes, cells, their keys and seeds.

A spec fixes some fields of :class:`~oversmooth.experiments.SimulationConfig` and lists
grid axes for others (see :mod:`oversmooth.experiments.sweep`). Every key is checked
here, before any work: its type (``self_loops = "no"`` is refused, not read as true), its
value (through ``SimulationConfig``'s own checks, on every distinct value of an axis) and
the size of the grid, counted arithmetically (a grid of 10**12 cells is refused at once,
never enumerated). Cells are built lazily, in grid order, when :meth:`SweepSpec.cells`
is first asked for.

Examples
--------
>>> from oversmooth.experiments.sweep import parse_spec
>>> spec = parse_spec({"sweep": {"seed": 0}, "fixed": {"depth": 2},
...                    "grid": {"n": [200, 400], "p": [0.05], "q": [0.01]}})
>>> spec.n_cells, spec.cells()[0].key != spec.cells()[1].key
(2, True)
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any, Iterator, Mapping

from ..._utils import check_nonneg_int, derive_seed
from ...errors import ResourceLimitError, ValidationError
from .._simulate import ROW_COLUMNS, SimulationConfig
from .axes import KINDS, MAX_CELLS, SpecError, _is_number, _r, axis_count, check_value, expand_axis

__all__ = ["SpecError", "SweepSpec", "Cell", "parse_spec", "expand_axis", "cell_key", "cell_seed",
           "CONFIG_FIELDS", "MEASURE_COLUMNS", "STORE_CONFIG_COLUMNS", "MAX_CELLS", "MAX_ROWS_PER_CELL"]

#: Fields of SimulationConfig a spec may fix or sweep (``seed`` derives from the key, ``seeds`` is per sweep).
CONFIG_FIELDS = tuple(f.name for f in fields(SimulationConfig) if f.name not in ("seed", "seeds"))
#: Row columns that repeat the config (stored as config columns instead).
_CONFIG_ROW_COLUMNS = ("seed", "depth", "operator", "n", "p", "q", "sigma", "alpha", "self_loops",
                       "oversmooth_version")
#: Measured columns a spec may record (default: all of them).
MEASURE_COLUMNS = tuple(c for c in ROW_COLUMNS if c not in _CONFIG_ROW_COLUMNS and c not in CONFIG_FIELDS)
#: Config columns of every stored row (``max_depth`` is the config's depth, ``cell_seed`` its seed).
STORE_CONFIG_COLUMNS = tuple("max_depth" if f == "depth" else f for f in CONFIG_FIELDS) + ("cell_seed", "seeds")
_SWEEP_KEYS = ("name", "seed", "seeds", "measures", "out")
#: The most rows one cell may store (seeds x (depth + 1)).
MAX_ROWS_PER_CELL = 1_000_000


# --------------------------------------------------------------------------- keys and seeds
def cell_key(config: SimulationConfig) -> str:
    """Canonical key of a cell: its config (without the derived ``seed``) as sorted JSON.

    Floats are written by ``repr`` (shortest exact round-trip), so two configs that
    differ anywhere get different keys; the key is stable across runs and machines.

    Examples
    --------
    >>> from oversmooth.experiments import SimulationConfig, cell_key
    >>> a = cell_key(SimulationConfig(p=0.01231)); b = cell_key(SimulationConfig(p=0.01232))
    >>> a != b, '"p":0.01231' in a
    (True, True)
    """
    d = config.to_dict()
    d.pop("seed")
    return json.dumps(d, sort_keys=True, separators=(",", ":"), allow_nan=False)


def cell_seed(master_seed: int, key: str) -> int:
    """The cell's seed: ``derive_seed(master_seed, "cell", key, as_int=True)``.

    It depends on the master seed and the cell's config only, never on the grid
    order, the executor or the number of workers.

    Examples
    --------
    >>> from oversmooth.experiments import cell_seed
    >>> cell_seed(0, "a") == cell_seed(0, "a"), cell_seed(0, "a") != cell_seed(1, "a")
    (True, True)
    """
    master_seed = check_nonneg_int(master_seed, "seed")
    return int(derive_seed(master_seed, "cell", key, as_int=True))


@dataclass(frozen=True)
class Cell:
    """One cell of a sweep: index in the spec, key, config (with its derived seed), axis values."""

    index: int
    key: str
    config: SimulationConfig
    axes: dict[str, Any] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        """The cell's derived seed (:func:`cell_seed`)."""
        return self.config.seed


def _describe(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items()) or "the only cell"


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: fixed parameters, grid axes (expanded), seeds, measures, output.

    Build it with :func:`parse_spec` or :func:`~oversmooth.experiments.load_spec`;
    :attr:`n_cells` is counted arithmetically, :meth:`cells` lists the cells in grid
    order (the last axis varies fastest), built on first use.
    """

    fixed: dict[str, Any]
    grid: dict[str, list[Any]]
    seed: int = 0
    seeds: int = 1
    measures: tuple[str, ...] = MEASURE_COLUMNS
    out: str | None = None
    name: str = "sweep"
    source: str = field(default="spec", compare=False)

    @property
    def n_cells(self) -> int:
        """Number of cells: the product of the axis lengths (nothing is enumerated)."""
        return math.prod(len(v) for v in self.grid.values())

    def axis_values(self, index: int) -> dict[str, Any]:
        """The axis values of cell ``index`` (grid order, the last axis fastest), computed, not enumerated."""
        if not 0 <= index < self.n_cells:
            raise ValidationError(f"index must be in [0, {self.n_cells}), got {index}")
        values: dict[str, Any] = {}
        for a in reversed(list(self.grid)):
            index, j = divmod(index, len(self.grid[a]))
            values[a] = self.grid[a][j]
        return dict(reversed(list(values.items())))

    def cell(self, index: int) -> Cell:
        """Cell ``index`` alone (the same as ``cells()[index]``, without building the others)."""
        values = self.axis_values(index)
        try:
            cfg = SimulationConfig(seed=0, seeds=self.seeds, **{**self.fixed, **values})
        except (ValueError, TypeError) as exc:
            raise SpecError(f"{self.source}: cell {index} ({_describe(values)}): {exc}") from None
        key = cell_key(cfg)
        return Cell(index, key, replace(cfg, seed=cell_seed(self.seed, key)), values)

    def iter_cells(self) -> Iterator[Cell]:
        """Every cell, in grid order, built one at a time."""
        axes = list(self.grid)
        for index, combo in enumerate(itertools.product(*(self.grid[a] for a in axes))):
            values = dict(zip(axes, combo))
            try:
                cfg = SimulationConfig(seed=0, seeds=self.seeds, **{**self.fixed, **values})
            except (ValueError, TypeError) as exc:
                raise SpecError(f"{self.source}: cell {index} ({_describe(values)}): {exc}") from None
            key = cell_key(cfg)
            yield Cell(index, key, replace(cfg, seed=cell_seed(self.seed, key)), values)

    @cached_property
    def _cells(self) -> tuple[Cell, ...]:
        return tuple(self.iter_cells())

    def cells(self) -> list[Cell]:
        """Every cell, in grid order."""
        return list(self._cells)

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (re-parsable by :func:`parse_spec`)."""
        fixed = {k: list(v) if isinstance(v, tuple) else v for k, v in self.fixed.items()}
        grid = {k: [list(x) if isinstance(x, tuple) else x for x in v] for k, v in self.grid.items()}
        return {"sweep": {"name": self.name, "seed": self.seed, "seeds": self.seeds,
                          "measures": list(self.measures), **({"out": self.out} if self.out else {})},
                "fixed": fixed, "grid": grid}


# --------------------------------------------------------------------------- parsing
def _check_field(source: str, section: str, name: Any) -> None:
    if name in ("seed", "seeds"):
        raise SpecError(f"{source}: {section}.{name}: the cell seed derives from [sweep] seed and the cell key; "
                        "set [sweep] seed (master seed) and [sweep] seeds (replicates) instead")
    if name not in CONFIG_FIELDS:
        shown = name if isinstance(name, str) and name.isprintable() and len(name) <= 40 else _r(name)
        raise SpecError(f"{source}: {section}.{shown}: unknown field; fields are {', '.join(CONFIG_FIELDS)}")


def _table(source: str, data: Mapping[str, Any], section: str) -> dict[str, Any]:
    value = data.get(section, {})
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"{source}: [{section}] must be a table, got {_r(value)}")
    return dict(value)


def _check_sweep(source: str, sweep: dict[str, Any]) -> tuple[int, int, tuple[str, ...], str | None, str]:
    bad = set(sweep) - set(_SWEEP_KEYS)
    if bad:
        raise SpecError(f"{source}: unknown [sweep] key(s) {sorted(map(str, bad))}; keys are {', '.join(_SWEEP_KEYS)}")
    out: list[int] = []
    for key, default, low in (("seed", 0, 0), ("seeds", 1, 1)):
        v = sweep.get(key, default)
        if not (_is_number(v) and float(v).is_integer() and v >= low and v < 2**63):
            raise SpecError(f"{source}: sweep.{key} must be an integer >= {low}, got {_r(v)}")
        out.append(int(v))
    measures = sweep.get("measures", list(MEASURE_COLUMNS))
    if not isinstance(measures, (list, tuple)) or not measures:
        raise SpecError(f"{source}: sweep.measures must be a non-empty list of column names, got {_r(measures)}")
    for m in measures:
        if not isinstance(m, str) or m not in MEASURE_COLUMNS:
            raise SpecError(f"{source}: sweep.measures: unknown measure {_r(m)}; measures are "
                            f"{', '.join(MEASURE_COLUMNS)}")
    target = sweep.get("out")
    if target is not None and (not isinstance(target, str) or not target or "\x00" in target):
        raise SpecError(f"{source}: sweep.out must be a path string, got {_r(target)}")
    name = sweep.get("name", "sweep")
    if not isinstance(name, str) or len(name) > 200:
        raise SpecError(f"{source}: sweep.name must be a string of at most 200 characters, got {_r(name)}")
    return out[0], out[1], tuple(dict.fromkeys(measures)), target, name


def _validate_values(source: str, fixed: dict[str, Any], grid: dict[str, list[Any]], seeds: int) -> None:
    """Every distinct value through SimulationConfig's checks, with the other fields at a valid cell.

    Numeric axes are checked at their smallest and largest value (every check is an interval);
    the two cross-field rules (p and q not both 0; no more classes than nodes) by arithmetic.
    """
    first = {k: v[0] for k, v in grid.items()}

    def probe(where: str, overrides: dict[str, Any], base: dict[str, Any] = first) -> None:
        try:
            SimulationConfig(seed=0, seeds=seeds, **{**fixed, **base, **overrides})
        except (ValueError, TypeError) as exc:
            raise SpecError(f"{source}: {where}: {exc}") from None

    try:  # [fixed] is to blame when it fails both alone (other fields at their defaults) and with cell 0's axes
        probe("[fixed]", {}, {})
    except SpecError:
        probe("[fixed]", {})
    for k, vals in grid.items():
        if KINDS[k] in ("int", "float"):
            lo, hi = min(range(len(vals)), key=vals.__getitem__), max(range(len(vals)), key=vals.__getitem__)
            picks = dict.fromkeys((lo, hi))
        else:
            picks = dict.fromkeys({json.dumps(v): i for i, v in enumerate(vals)}.values())
        for i in picks:
            probe(f"grid.{k}[{i}] = {_r(vals[i])}", {k: vals[i]})
        # the same config twice (e.g. n = [2000, 2000.0])
        seen: dict[str, int] = {}
        for i, v in enumerate(vals):
            s = json.dumps(v)
            if s in seen:
                raise SpecError(f"{source}: grid.{k}[{seen[s]}] and grid.{k}[{i}] are the same value {_r(v)}: "
                                "the cells would have the same config; remove the repeated axis value")
            seen[s] = i
    pv, qv = grid.get("p", [fixed.get("p", 0.0114)]), grid.get("q", [fixed.get("q", 0.0038)])
    if 0 in pv and 0 in qv:
        raise SpecError(f"{source}: the cell with p = 0 and q = 0 has no edges to propagate over; "
                        "remove 0 from one of the axes")
    mus = grid.get("mu", [fixed.get("mu", (-1.0, 1.0))])
    ns = grid.get("n", [fixed.get("n", 2000)])
    if max(len(m) for m in mus) > min(ns):
        raise SpecError(f"{source}: a cell has {max(len(m) for m in mus)} classes (mu) but n = {min(ns)} nodes; "
                        "no empty block is allowed")


def _check_size(source: str, fixed: dict[str, Any], grid: dict[str, list[Any]], seeds: int) -> None:
    n_cells = math.prod(len(v) for v in grid.values())
    if n_cells > MAX_CELLS:
        axes = " x ".join(f"{k} {len(v)}" for k, v in grid.items())
        raise ResourceLimitError(f"{source}: [grid] has {n_cells:,} cells ({axes}), more than "
                                 f"max_cells={MAX_CELLS:,}; shrink the grid or split it into several sweeps")
    depths = grid.get("depth", [fixed.get("depth", 10)])
    rows = seeds * (max(depths) + 1)
    if rows > MAX_ROWS_PER_CELL:
        raise ResourceLimitError(f"{source}: depth: a cell would store seeds x (depth + 1) = {rows:,} rows, "
                                 f"more than {MAX_ROWS_PER_CELL:,}; lower depth or sweep.seeds")


def parse_spec(data: Mapping[str, Any], *, source: str = "spec") -> SweepSpec:
    """Validate a spec (a mapping with ``[sweep]``, ``[fixed]``, ``[grid]``).

    Every key is type-checked and every distinct value goes through
    :class:`SimulationConfig`'s checks before any work; errors raise :class:`SpecError`
    naming ``source`` (the file) and the key. The grid's size is counted, not
    enumerated: more than :data:`MAX_CELLS` cells raise
    :class:`~oversmooth.errors.ResourceLimitError` with the count.

    Examples
    --------
    >>> from oversmooth.experiments import parse_spec
    >>> parse_spec({"grid": {"p": [0.05, -0.1], "q": [0.01]}})
    Traceback (most recent call last):
    ...
    oversmooth.experiments.sweep.axes.SpecError: spec: grid.p[1] = -0.1: p must be in [0, 1], got -0.1
    >>> parse_spec({"fixed": {"self_loops": "no"}})
    Traceback (most recent call last):
    ...
    oversmooth.experiments.sweep.axes.SpecError: spec: fixed.self_loops must be true or false, got 'no'
    """
    if not isinstance(data, Mapping):
        raise SpecError(f"{source}: a spec is a table with [sweep], [fixed] and [grid], got {type(data).__name__}")
    unknown = set(data) - {"sweep", "fixed", "grid"}
    if unknown:
        raise SpecError(f"{source}: unknown section(s) {sorted(map(str, unknown))}; sections are [sweep], [fixed], "
                        "[grid]")
    seed, seeds, measures, out, name = _check_sweep(source, _table(source, data, "sweep"))
    fixed: dict[str, Any] = {}
    for k, v in _table(source, data, "fixed").items():
        _check_field(source, "fixed", k)
        try:
            fixed[k] = check_value(f"fixed.{k}", k, v)
        except SpecError as exc:
            raise SpecError(f"{source}: {exc}") from None
    grid_in = _table(source, data, "grid")
    counts = {}
    for k, v in grid_in.items():
        _check_field(source, "grid", k)
        try:
            counts[k] = axis_count(k, v)
        except ResourceLimitError as exc:
            raise ResourceLimitError(f"{source}: {exc}") from None
    total = math.prod(counts.values())
    if total > MAX_CELLS:  # counted before any axis is expanded
        axes = " x ".join(f"{k} {c:,}" for k, c in counts.items())
        raise ResourceLimitError(f"{source}: [grid] has {total:,} cells ({axes}), more than max_cells={MAX_CELLS:,}; "
                                 "shrink the grid or split it into several sweeps")
    grid: dict[str, list[Any]] = {}
    for k, v in grid_in.items():
        _check_field(source, "grid", k)
        if k in fixed:
            raise SpecError(f"{source}: {k} is both in [fixed] and in [grid]; keep one")
        try:
            grid[k] = expand_axis(k, v)
        except (SpecError, ResourceLimitError) as exc:
            raise type(exc)(f"{source}: {exc}") from None
        except ValidationError as exc:  # pragma: no cover - defensive: expand_axis raises SpecError
            raise SpecError(f"{source}: grid.{k}: {exc}") from None
    _check_size(source, fixed, grid, seeds)
    _validate_values(source, fixed, grid, seeds)
    spec = SweepSpec(fixed=fixed, grid=grid, seed=seed, seeds=seeds, measures=measures, out=out, name=name,
                     source=source)
    from .cost import check_memory  # the cost model imports this module

    check_memory(spec)
    return spec
