"""The exceptions ``oversmooth`` raises for what a user must fix.

Every error the package raises on purpose derives from :class:`OversmoothError` and from
the built-in class a caller would expect (``ValueError``, ``TypeError`` or ``OSError``), so
``except ValueError`` keeps working while the command line catches exactly the project's
own errors (one line, exit code 2) and lets a genuine bug show its traceback.

* :class:`ValidationError` (``ValueError``): an argument out of range or malformed; the
  message names the argument and what to fix (``p must be in [0, 1], got 1.5``).
* :class:`ArgumentTypeError` (``TypeError``): an argument of the wrong type.
* :class:`ResourceLimitError` (``ValidationError``): work or memory estimated up front
  exceeds a limit; the message names the argument and gives the estimate.
* :class:`FileFormatError` (``ValidationError``): a file that does not hold what its format
  promises; the message names the file.
* :class:`DataError` (``OSError``): a file or download that cannot be read, fetched or
  verified (missing, truncated, wrong checksum, too large, too slow).

Examples
--------
>>> from oversmooth.errors import OversmoothError, ValidationError
>>> issubclass(ValidationError, ValueError) and issubclass(ValidationError, OversmoothError)
True
"""

from __future__ import annotations

__all__ = ["OversmoothError", "ValidationError", "ArgumentTypeError", "ResourceLimitError",
           "FileFormatError", "DataError"]


class OversmoothError(Exception):
    """Base class of every error ``oversmooth`` raises for the user to fix."""


class ValidationError(OversmoothError, ValueError):
    """An argument value the user must fix; the message names the argument."""


class ArgumentTypeError(OversmoothError, TypeError):
    """An argument of the wrong type; the message names the argument."""


class ResourceLimitError(ValidationError):
    """Work or memory estimated before allocating exceeds a limit; names the argument and the estimate."""


class FileFormatError(ValidationError):
    """A file whose content does not match its format; the message names the file."""


class DataError(OversmoothError, OSError):
    """A file or download that cannot be read, fetched or verified; the message names it."""
