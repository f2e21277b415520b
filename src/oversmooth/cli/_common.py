"""What every ``oversmooth`` subcommand shares: the one-line error, argument types, tables, safe outputs.

* :class:`CLIError` and :func:`cli_error`: a user error, printed by ``main`` as one line
  ``oversmooth <command>: error: <message>`` with exit code 2.
* :class:`OneLineParser`: an ``argparse`` parser whose usage errors are such a line.
* :func:`integer` and :func:`finite_float`: ``type=`` converters that reject NaN, infinities and
  non-integral counts by the option's name (``--depth 1e3`` is accepted as 1000).
* :func:`check_output_dir` / :func:`check_output_file`: refuse an output path that is a file
  where a directory is needed (or the reverse), or that cannot be written, before any work.
* :func:`atomic_write_text` / :func:`atomic_path`: write a file completely or not at all
  (a temporary file in the same directory, then ``os.replace``).
* :func:`format_table`: an aligned text table; :func:`error_line`: the printed line of an error.

Examples
--------
>>> from oversmooth.cli._common import format_table, integer
>>> print(format_table([{"a": 1, "b": 0.5}], [("a", "a"), ("b", "b")]))
         a           b
         1         0.5
>>> integer("1e3")
1000
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Sequence

__all__ = ["CLIError", "cli_error", "OneLineParser", "integer", "finite_float", "check_output_dir",
           "check_output_file", "atomic_write_text", "atomic_path", "format_table", "error_line"]


class CLIError(Exception):
    """A user error on the command line: printed as one line, exit code 2.

    The message is printed as it is when it starts with ``oversmooth``; otherwise ``main``
    prefixes ``oversmooth <command>: error: ``.
    """


def cli_error(command: str, message: str) -> CLIError:
    """A :class:`CLIError` whose line is ``oversmooth <command>: error: <message>``.

    Examples
    --------
    >>> from oversmooth.cli._common import cli_error
    >>> str(cli_error("simulate", "--n must be >= 2"))
    'oversmooth simulate: error: --n must be >= 2'
    """
    return CLIError(f"oversmooth {command}: error: {message}")


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (raised as :class:`CLIError`, exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CLIError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def integer(text: str) -> int:
    """``type=`` for counts: an integer, also written ``1e6`` or ``1_000`` (integral values only).

    Examples
    --------
    >>> from oversmooth.cli._common import integer
    >>> integer("12"), integer("2e3")
    (12, 2000)
    >>> integer("1.5")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer, got '1.5'
    """
    s = str(text).strip()
    try:
        return int(s)
    except ValueError:
        pass
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not math.isfinite(v) or not v.is_integer():
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    return int(v)


def finite_float(text: str) -> float:
    """``type=`` for real numbers: finite only (``nan``, ``inf`` and overflowing ``1e999`` refused).

    Examples
    --------
    >>> from oversmooth.cli._common import finite_float
    >>> finite_float("1e-3")
    0.001
    >>> finite_float("nan")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a finite number, got 'nan'
    """
    try:
        v = float(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


def _nearest_existing(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_output_dir(path: str | os.PathLike[str], option: str, command: str) -> Path:
    """Check that ``path`` can be (or is) a writable directory; refuse naming ``option`` otherwise.

    Nothing is created. A path that exists as a file, or whose nearest existing ancestor is a
    file or is not writable, is refused before any work starts.

    Examples
    --------
    >>> import tempfile
    >>> from oversmooth.cli._common import check_output_dir
    >>> d = tempfile.mkdtemp()
    >>> check_output_dir(d + "/new/out", "--out", "reproduce").name
    'out'
    """
    p = Path(path)
    if str(path) == "":
        raise cli_error(command, f"{option} must be a directory path, got ''")
    if p.exists() and not p.is_dir():
        raise cli_error(command, f"{option} {str(path)!r} exists and is not a directory")
    base = _nearest_existing(p)
    if not base.is_dir():
        raise cli_error(command, f"{option} {str(path)!r}: {str(base)!r} is a file, not a directory")
    if not os.access(base, os.W_OK | os.X_OK):
        raise cli_error(command, f"{option} {str(path)!r}: {str(base)!r} is not writable")
    return p


def check_output_file(path: str | os.PathLike[str], option: str, command: str) -> Path:
    """Check that ``path`` names a file that can be written: not a directory, in a writable directory.

    Examples
    --------
    >>> import tempfile
    >>> from oversmooth.cli._common import check_output_file
    >>> d = tempfile.mkdtemp()
    >>> check_output_file(d, "--json", "analyze")
    Traceback (most recent call last):
    ...
    oversmooth.cli._common.CLIError: oversmooth analyze: error: --json ... is a directory, not a file
    """
    p = Path(path)
    if str(path) == "":
        raise cli_error(command, f"{option} must be a file path, got ''")
    if p.is_dir():
        raise cli_error(command, f"{option} {str(path)!r} is a directory, not a file")
    parent = p.absolute().parent
    if not parent.is_dir():
        raise cli_error(command, f"{option} {str(path)!r}: directory {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise cli_error(command, f"{option} {str(path)!r} is not writable")
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` (``os.replace``), else is removed.

    For writers that want a file name (``savefig``, ``numpy.save``): a reader never sees a
    half-written ``path``, and a failure leaves the old file (or none) in place.

    Examples
    --------
    >>> import os, tempfile
    >>> from oversmooth.cli._common import atomic_path
    >>> target = os.path.join(tempfile.mkdtemp(), "x.txt")
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> open(target).read()
    'done'
    """
    target = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp" + target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600: give the file the mode an open() would
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically: the whole file or, on failure, the old one.

    Examples
    --------
    >>> import os, tempfile
    >>> from oversmooth.cli._common import atomic_write_text
    >>> p = atomic_write_text(os.path.join(tempfile.mkdtemp(), "a.json"), "{}")
    >>> p.read_text()
    '{}'
    """
    target = Path(path)
    with atomic_path(target) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    return target


def _fmt(v: Any, width: int = 10) -> str:
    if v is None:
        return "-".rjust(width)
    if isinstance(v, float):
        return (f"{v:.4g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}").rjust(width)
    return str(v).rjust(width)


def format_table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    """Aligned text table: ``columns`` are (key, header) pairs; None prints as ``-``.

    Examples
    --------
    >>> from oversmooth.cli._common import format_table
    >>> print(format_table([{"x": None}], [("x", "x")]))
             x
             -
    """
    widths = [max(10, len(h)) for _, h in columns]
    lines = ["  ".join(h.rjust(w) for (_, h), w in zip(columns, widths))]
    for r in rows:
        lines.append("  ".join(_fmt(r.get(k), w) for (k, _), w in zip(columns, widths)))
    return "\n".join(lines)


def error_line(command: str | None, exc: BaseException) -> str:
    """The one printed line of ``exc`` (newlines folded): ``oversmooth <command>: error: <message>``.

    Examples
    --------
    >>> from oversmooth.cli._common import error_line
    >>> error_line("simulate", ValueError("p must be in [0, 1]\\ngot 2"))
    'oversmooth simulate: error: p must be in [0, 1] got 2'
    """
    text = str(exc).strip()
    if isinstance(exc, OSError) and not text:
        text = type(exc).__name__
    if isinstance(exc, KeyError) and exc.args:  # str(KeyError) is the key's repr
        text = str(exc.args[0])
    text = " ".join(text.split())
    if isinstance(exc, CLIError) and text.startswith("oversmooth"):
        return text
    prefix = f"oversmooth {command}" if command else "oversmooth"
    return f"{prefix}: error: {text or type(exc).__name__}"


