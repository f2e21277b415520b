"""The ``oversmooth`` command line.

One module per subcommand (``cli/_simulate.py``, ``_reproduce.py``, ``_analyze.py``, ``_train.py``, ``_explore.py``,
``_sweep.py``, ``_profile.py``), each with an ``add_parser(sub)``; what they share is in
:mod:`oversmooth.cli._common`. Registering a subcommand is one entry in :data:`SUBCOMMANDS`.

Every subcommand has ``--help`` with an example (building the parser imports nothing heavy).
The error contract: a usage error, an error the package raises on purpose
(:class:`oversmooth.errors.OversmoothError`: bad arguments, work refused up front, bad files)
or a file that cannot be read or written (``OSError``) ends the command with exit code 2 and
one line on stderr, ``oversmooth <command>: error: <message>``. Any other exception (a ``ValueError`` from inside numpy, a ``TypeError`` from a wrong call) is a bug
and shows its traceback.

Examples
--------
>>> from oversmooth.cli import main
>>> main(["simulate", "--p", "1.5"])
2
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from .._version import __version__
from ..errors import OversmoothError
from ._common import CLIError, OneLineParser, error_line, format_table
from ._simulate import SIMULATE_OPERATOR_CHOICES

__all__ = ["main", "build_parser", "CLIError", "format_table", "SUBCOMMANDS", "SIMULATE_OPERATOR_CHOICES"]

#: The subcommands in ``--help`` order: the module ``oversmooth.cli.<module>`` registers itself
#: with its ``add_parser(sub)``.
SUBCOMMANDS = ("_simulate", "_reproduce", "_sweep", "_train", "_analyze", "_profile", "_explore")

_Parser = OneLineParser  # the name older modules used


def build_parser() -> argparse.ArgumentParser:
    """The ``oversmooth`` argument parser, every subcommand of :data:`SUBCOMMANDS` registered.

    Examples
    --------
    >>> from oversmooth.cli import build_parser
    >>> build_parser().parse_args(["simulate", "--depth", "3"]).depth
    3
    """
    parser = OneLineParser(
        prog="oversmooth",
        description="Measure, predict and explain oversmoothing in GNNs (Wu et al., ICLR 2023).",
        epilog="example:\n  oversmooth simulate --n 2000 --p 0.0114 --q 0.0038 --depth 10",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"oversmooth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oversmooth`` console script; returns the exit code.

    Exit 0 on success, 2 with one line on stderr for a user error (see the module docstring),
    130 when interrupted.
    """
    command: str | None = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = getattr(args, "command", None)
        if not command:
            parser.print_help()
            return 2
        return int(args.func(args))
    except (CLIError, OversmoothError, OSError) as exc:
        sys.stdout.flush()
        print(error_line(command, exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
