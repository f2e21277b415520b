"""Reading a spec file: TOML, JSON or YAML, bounded in size and structure, never executing anything.

* The file is read only up to :data:`MAX_SPEC_BYTES` (a larger file is refused by its size).
* TOML (``tomllib``) and JSON (``json``) build plain data only.
* YAML needs PyYAML; it is read with a *safe* loader that also refuses aliases (``*name``):
  an alias bomb (a few hundred bytes expanding to billions of nodes) never expands, and no
  tag can construct a Python object.
* Nesting deeper than the parser's recursion limit is refused as malformed, not a crash.

Examples
--------
>>> import pathlib, tempfile
>>> from oversmooth.experiments import load_spec
>>> f = pathlib.Path(tempfile.mkdtemp()) / "s.json"
>>> _ = f.write_text('{"fixed": {"depth": 2}, "grid": {"n": [200, 400]}}')
>>> load_spec(f).n_cells
2
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..._utils import optional_import
from ...errors import DataError
from .spec import SpecError, SweepSpec, parse_spec

__all__ = ["load_spec", "read_spec_data", "MAX_SPEC_BYTES", "SPEC_SUFFIXES"]

#: The largest spec file read (bytes).
MAX_SPEC_BYTES = 1 << 20
#: Spec file suffixes and their formats.
SPEC_SUFFIXES = {".toml": "TOML", ".json": "JSON", ".yaml": "YAML", ".yml": "YAML"}


def _read_text(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_SPEC_BYTES + 1)
    except IsADirectoryError:
        raise DataError(f"spec file {path} is a directory, not a spec file") from None
    except OSError as exc:
        raise DataError(f"spec file {path} cannot be read: {exc.strerror or exc}") from None
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError(f"{path}: spec file larger than {MAX_SPEC_BYTES:,} bytes; a spec is a few lines")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not UTF-8 text (byte {exc.start}); a spec is a TOML, JSON or YAML text file"
                        ) from None


def _yaml_load(path: Path, text: str) -> Any:
    yaml = optional_import("yaml", "sweep")

    class _Loader(yaml.SafeLoader):  # type: ignore[misc, name-defined]
        """SafeLoader that refuses aliases: no alias bomb can expand."""

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise SpecError(f"{path}: YAML aliases (*{event.anchor}) are not allowed in a spec "
                                f"(line {event.start_mark.line + 1}); write the values out")
            return super().compose_node(parent, index)

    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()
        raise SpecError(f"{path}: not valid YAML: {' '.join(first[:2])}") from None


def read_spec_data(path: str | Path) -> Any:
    """The plain data of a spec file (TOML, JSON or YAML by suffix; TOML for other suffixes)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"spec file {path} does not exist")
    text = _read_text(path)
    fmt = SPEC_SUFFIXES.get(path.suffix.lower(), "TOML")
    try:
        if fmt == "YAML":
            return _yaml_load(path, text)
        if fmt == "JSON":
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise SpecError(f"{path}: not valid JSON: {exc}") from None
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise SpecError(f"{path}: not valid {fmt}: nested too deeply") from None


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a spec file: ``.toml``, ``.json``, or ``.yaml``/``.yml`` (needs PyYAML).

    Errors name the file: :class:`SpecError` (a ``ValueError``) for what it holds,
    :class:`~oversmooth.errors.DataError` (an ``OSError``) when it cannot be read.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from oversmooth.experiments import load_spec
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
    >>> _ = f.write_text('[fixed]\\ndepth = 2\\n[grid]\\nn = [200, 400]\\n')
    >>> load_spec(f).n_cells
    2
    """
    path = Path(path)
    data = read_spec_data(path)
    return parse_spec({} if data is None else data, source=str(path))
