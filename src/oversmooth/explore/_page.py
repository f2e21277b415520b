"""Assemble the explorer page: the template, its stylesheet and scripts, and the data, in one file."""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from .._utils import check_choice
from .._version import __version__
from ..errors import DataError
from ._cells import GRIDS, measure_grid, read_results
from ._curves import ndtr_underflow

__all__ = ["render_explorer", "write_explorer", "EXPLORER_FILENAME"]

#: The page's file name inside ``out_dir`` (``reproduce`` links it relatively).
EXPLORER_FILENAME = "explorer.html"
_PARTS = {"/*__CSS__*/": "page.css", "/*__THEORY__*/": "theory.js", "/*__PLOT__*/": "plot.js", "/*__APP__*/": "app.js"}


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _inline_json(data: Any) -> str:
    """JSON safe inside a <script> element: ``<``, ``>`` and ``&`` only as ``\\u`` escapes (inside strings)."""
    text = json.dumps(data, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_explorer(cells: Sequence[dict[str, Any]] = (), *, source: str = "none",
                    build_seconds: float | None = None) -> str:
    """The explorer page as one HTML string (stylesheet, scripts and ``cells`` inline).

    Examples
    --------
    >>> from oversmooth.explore import render_explorer
    >>> page = render_explorer()
    >>> page.startswith("<!DOCTYPE html>"), "/*__" in page
    (True, False)
    """
    data = {
        "version": __version__, "cells": list(cells), "cells_source": source, "underflow": ndtr_underflow(),
        "build_seconds": None if build_seconds is None else round(float(build_seconds), 1),
    }
    page = _asset("page.html")
    for marker, name in _PARTS.items():
        page = page.replace(marker, _asset(name))
    return page.replace("/*__DATA__*/", _inline_json(data))


def write_explorer(out_dir: str | Path, *, results: str | Path | None = None, grid: str = "default",
                   seed: int = 0) -> Path:
    """Write ``out_dir/explorer.html``: the interactive theory explorer, self-contained.

    Parameters
    ----------
    out_dir : str or Path
        Created if missing.
    results : str or Path, optional
        Results to overlay (see :func:`read_results`): a CSV such as ``reproduce``'s
        ``results/*.csv``, ``simulate --json`` output, JSON lines, or a sweep's output directory.
    grid : {'default', 'small', 'none'}
        A fresh measured grid to overlay as well (``default``: 24 cells at N = 500 and 2000, about 8 s of CPU;
        ``small``: 6 cells at N = 500, about 2 s; ``none``).
    seed : int, default 0
        Seed of the fresh grid.

    Returns
    -------
    Path
        The page written.

    Examples
    --------
    >>> import tempfile
    >>> from oversmooth.explore import write_explorer
    >>> write_explorer(tempfile.mkdtemp(), grid="none").name
    'explorer.html'
    """
    t0 = time.perf_counter()
    grid = check_choice(grid, "grid", tuple(GRIDS))
    out = Path(out_dir)
    if out.exists() and not out.is_dir():  # before any work: a bad folder fails at once
        raise DataError(f"out_dir {out} exists and is not a directory")
    cells: list[dict[str, Any]] = []
    sources = []
    if results is not None:
        cells += read_results(results)
        sources.append(f"results {Path(results).name}")
    if grid != "none":
        cells += measure_grid(grid, seed=seed)
        sources.append(f"fresh grid '{grid}' run at build time (seed {seed})")
    try:  # created only once the inputs were read: a refused run leaves nothing behind
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create out_dir {out}: {exc}") from None
    path = out / EXPLORER_FILENAME
    page = render_explorer(cells, source="; ".join(sources) or "none", build_seconds=time.perf_counter() - t0)
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot write {path}: {exc}") from None
    return path
