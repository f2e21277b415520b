"""``.npy`` / ``.npz`` files read with their declared sizes checked before anything is allocated.

``numpy.load`` allocates what an array's header declares before it reads the data: a
100-byte ``.npy`` declaring shape (10**6, 10**6) asks for 8 TB, and an ``.npz`` member can
declare more than its compressed bytes. Here every array's header is read first; its size
must fit in the bytes the file (or the zip member) holds and in the budget of
:mod:`oversmooth.graphs._limits`. Pickled objects are refused (``allow_pickle=False``).
Every failure is a :class:`~oversmooth.errors.FileFormatError` or
:class:`~oversmooth.errors.ResourceLimitError` naming the file (and key).

Examples
--------
>>> import os, tempfile, numpy as np
>>> from oversmooth.graphs._arrays import open_npz
>>> p = os.path.join(tempfile.mkdtemp(), "a.npz")
>>> np.savez(p, x=np.arange(3))
>>> with open_npz(p, "an archive", "one array") as z:
...     z["x"].tolist()
[0, 1, 2]
"""

from __future__ import annotations

import zipfile
from math import prod
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import FileFormatError
from ._limits import check_bytes

__all__ = ["load_npy", "open_npz", "SafeNpz"]

_MAGIC = b"\x93NUMPY"


def _header(fh: BinaryIO, where: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, header length) of an ``.npy`` stream positioned at its start."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(fh)
        if version == (1, 0):
            shape, _fortran, dtype = fmt.read_array_header_1_0(fh, max_header_size=10000)
        elif version in ((2, 0), (3, 0)):
            shape, _fortran, dtype = fmt.read_array_header_2_0(fh, max_header_size=10000)
        else:
            raise FileFormatError(f"unsupported .npy version {version}")
    except (ValueError, OSError, EOFError, SyntaxError, TypeError) as exc:
        raise FileFormatError(f"{where}: not a NumPy array ({' '.join(str(exc).split())})") from None
    if dtype.hasobject:
        raise FileFormatError(f"{where}: holds pickled objects, which are refused (allow_pickle=False)")
    return tuple(int(s) for s in shape), dtype, fh.tell()


def _check_size(shape: tuple[int, ...], dtype: np.dtype, available: int, where: str) -> None:
    n_bytes = prod(shape) * dtype.itemsize
    if n_bytes > available:
        check_bytes(n_bytes, f"{where}: declares a {shape} {dtype} array")
        raise FileFormatError(f"{where}: declares a {shape} {dtype} array ({n_bytes} bytes) but holds only "
                              f"{available} bytes of data (truncated or forged)")
    check_bytes(n_bytes, f"{where}: a {shape} {dtype} array")


def load_npy(path: Path, where: str | None = None) -> np.ndarray:
    """``numpy.load`` of an ``.npy`` file after checking its declared size against the file and the budget."""
    where = where or str(path)
    with open(path, "rb") as fh:
        magic = fh.read(6)
        if magic != _MAGIC:
            kind = "a pickle, which is refused (allow_pickle=False)" if magic[:1] == b"\x80" else "not a NumPy file"
            raise FileFormatError(f"{where}: cannot be read as a NumPy .npy file ({kind})")
        fh.seek(0)
        shape, dtype, offset = _header(fh, where)
        _check_size(shape, dtype, path.stat().st_size - offset, where)
        fh.seek(0)
        try:
            return np.lib.format.read_array(fh, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise FileFormatError(f"{where}: cannot be read ({' '.join(str(exc).split())})") from None


class SafeNpz:
    """A read-only view of an ``.npz`` archive: ``files``, ``key in z``, ``z[key]`` (size-checked)."""

    def __init__(self, path: Path, zf: zipfile.ZipFile):
        self.path = path
        self._zf = zf
        self._members = {n[:-4]: n for n in zf.namelist() if n.endswith(".npy")}
        self.files = list(self._members)

    def __contains__(self, key: str) -> bool:
        return key in self._members

    def __getitem__(self, key: str) -> np.ndarray:
        where = f"{self.path}, key {key!r}"
        try:
            info = self._zf.getinfo(self._members[key])
        except KeyError:
            raise FileFormatError(f"{self.path}: no key {key!r}") from None
        try:
            with self._zf.open(info) as fh:
                shape, dtype, offset = _header(fh, where)
            _check_size(shape, dtype, info.file_size - offset, where)
            with self._zf.open(info) as fh:
                return np.lib.format.read_array(fh, allow_pickle=False)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            if isinstance(exc, FileFormatError):
                raise
            raise FileFormatError(f"{where}: cannot be read ({' '.join(str(exc).split())})") from None

    def close(self) -> None:
        self._zf.close()

    def __enter__(self) -> "SafeNpz":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def open_npz(path: str | Path, what: str, single: str) -> SafeNpz:
    """Open an ``.npz`` archive; every failure a ``FileFormatError`` naming ``path``.

    ``what`` completes "``path``: not ..." for an unreadable file, ``single`` is the message
    for a file that holds one ``.npy`` array instead of an archive.
    """
    p = Path(path)
    with open(p, "rb") as fh:
        magic = fh.read(6)
    if magic == _MAGIC:
        raise FileFormatError(f"{p}: {single}")
    if magic[:1] == b"\x80":
        raise FileFormatError(f"{p}: a pickle, which is refused (allow_pickle=False); not {what}")
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise FileFormatError(f"{p}: not {what} ({' '.join(str(exc).split())})") from None
    return SafeNpz(p, zf)
