"""A dependency-free text progress bar with rate and ETA (shared by ``reproduce`` and ``sweep``).

It lives below both :mod:`oversmooth.experiments` and :mod:`oversmooth.report` so that
the layering stays one-way (experiments never import report);
``oversmooth.report.Progress`` is this class.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "format_duration"]


def format_duration(seconds: float) -> str:
    """``"42s"``, ``"3m05s"`` or ``"2h07m"`` (``"?"`` when unknown).

    Examples
    --------
    >>> from oversmooth._progress import format_duration
    >>> format_duration(42.2), format_duration(185), format_duration(7620)
    ('42s', '3m05s', '2h07m')
    """
    if seconds != seconds or seconds < 0 or seconds == float("inf"):
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


class Progress:
    """A text progress bar on a stream (stderr by default): count, elapsed, rate and ETA.

    Parameters
    ----------
    total : int
        Number of steps.
    stream : text stream, optional
        Where to draw (default ``sys.stderr``).
    enabled : bool
        ``False`` draws nothing (counts are still kept).
    width : int
        Characters of the bar.

    Examples
    --------
    >>> import io
    >>> from oversmooth._progress import Progress
    >>> buf = io.StringIO()
    >>> bar = Progress(4, stream=buf)
    >>> bar.update("cell 1", advance=1)
    >>> bar.done, "1/4" in buf.getvalue(), "ETA" in buf.getvalue()
    (1, True, True)
    """

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True, width: int = 28):
        self.total, self.done, self.width = total, 0, width
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.t0 = time.perf_counter()

    @property
    def rate(self) -> float:
        """Steps per second so far (0 before the first step)."""
        elapsed = time.perf_counter() - self.t0
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def eta(self) -> float:
        """Estimated seconds left at the current rate (``inf`` before the first step)."""
        rate = self.rate
        return (self.total - self.done) / rate if rate > 0 else float("inf")

    def update(self, label: str, advance: int = 0) -> None:
        """Advance by ``advance`` steps and redraw with ``label``."""
        self.done += advance
        if not self.enabled:
            return
        frac = min(1.0, self.done / self.total) if self.total else 1.0
        fill = int(round(frac * self.width))
        elapsed = time.perf_counter() - self.t0
        rate = self.rate
        self.stream.write(f"\r[{'#' * fill}{'.' * (self.width - fill)}] {self.done}/{self.total} "
                          f"{elapsed:6.1f}s  {rate:6.2f}/s  ETA {format_duration(self.eta):>6}  {label:<28}")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
