"""The restricted unpickler of the Planetoid files: allowed globals only, work bounded by the file's size.

The raw Planetoid files are Python-2 pickles. :func:`restricted_load` reads them without
ever running code and without letting a small file declare a large amount of work:

* only the globals the files need resolve (NumPy arrays and numeric dtypes, SciPy CSR
  matrices, ``list``, ``defaultdict`` and ``codecs.encode``); anything else, e.g.
  ``os.system`` smuggled in through ``__reduce__``, raises :class:`UnsafePickleError`
  before it can run;
* ``numpy.ndarray`` cannot be called directly (a 45-byte pickle could otherwise declare an
  ``ndarray((60000, 100000))``): arrays come only from NumPy's own ``_reconstruct`` +
  ``__setstate__`` path, whose raw bytes must be in the file;
* every length prefix in the stream is checked against the bytes that follow before the
  C unpickler allocates anything (a 14-byte pickle declaring a 1 TB string is refused);
* after loading (files that did not match a shipped SHA-256), the object is walked once
  and its *expanded* element count (what
  ``numpy.asarray`` would materialise: list items counted once per reference, array
  elements, string lengths) must not exceed the file's size in bytes: a pickle's element
  costs at least one byte unless sub-lists are shared, which is how a 759-byte file
  expands to 5 GB. Cycles are refused too.

Examples
--------
>>> import pickle
>>> from oversmooth.graphs import restricted_load
>>> restricted_load(pickle.dumps([1, 2, 3], protocol=2))
[1, 2, 3]
"""

from __future__ import annotations

import codecs
import io
import pickle
import pickletools
from collections import defaultdict
from typing import Any, BinaryIO

import numpy as np
import scipy.sparse as sp

from ..errors import FileFormatError

__all__ = ["PickleFormatError", "UnsafePickleError", "restricted_load", "checked_csr"]


class PickleFormatError(FileFormatError, pickle.UnpicklingError):
    """A pickle that is truncated, garbage, or declares more work than its size allows (names the file)."""


class UnsafePickleError(PickleFormatError):
    """A pickle asked for a global (or a call) the restricted unpickler does not allow."""


#: dtype kinds an array in a Planetoid pickle may have (bool, int, uint, float).
_ALLOWED_KINDS = "biuf"


def _numpy_reconstruct() -> Any:
    try:
        from numpy._core.multiarray import _reconstruct  # NumPy >= 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


class _Refused:
    """A global that may appear only as an argument (``numpy.ndarray`` for ``_reconstruct``), never be called."""

    def __init__(self, qualname: str, what: str):
        self.qualname = qualname
        self.what = what

    def __call__(self, *args: Any, **kw: Any) -> Any:
        raise UnsafePickleError(f"{self.what}: refusing to call {self.qualname} directly (an array must carry its "
                                "data in the file)")


def _allowed_globals(what: str) -> dict[tuple[str, str], Any]:
    real_reconstruct = _numpy_reconstruct()
    ndarray_token = _Refused("numpy.ndarray", what)

    def reconstruct(cls: Any, shape: Any, dtype: Any) -> np.ndarray:
        if cls is not ndarray_token:
            raise UnsafePickleError(f"{what}: numpy _reconstruct of anything but numpy.ndarray is refused")
        # always an empty array: its shape and bytes come from __setstate__, which checks they agree
        return real_reconstruct(np.ndarray, (0,), b"b")

    def dtype(obj: Any, align: Any = False, copy: Any = True) -> np.dtype:
        try:
            dt = np.dtype(obj)
        except TypeError:
            raise UnsafePickleError(f"{what}: numpy dtype {obj!r} is refused") from None
        if dt.kind not in _ALLOWED_KINDS or dt.hasobject or dt.itemsize == 0 or dt.fields is not None:
            kind = "object arrays are not allowed" if dt.hasobject else "only numbers and booleans"
            raise UnsafePickleError(f"{what}: numpy dtype {obj!r} is refused ({kind})")
        return np.dtype(obj, copy=True)  # a copy: __setstate__ must never alter NumPy's shared descriptors

    def empty_bytes(*args: Any) -> bytes:
        # Python 3 writes b"" in protocol-2 pickles as bytes(): only that call is allowed (bytes(10**12) is not)
        if args:
            raise UnsafePickleError(f"{what}: refusing to call bytes{args!r:.40} (only bytes() is allowed)")
        return b""

    allowed: dict[tuple[str, str], Any] = {
        ("numpy", "ndarray"): ndarray_token,
        ("__builtin__", "bytes"): empty_bytes,
        ("builtins", "bytes"): empty_bytes,
        ("numpy", "dtype"): dtype,
        ("collections", "defaultdict"): defaultdict,
        ("__builtin__", "list"): list,
        ("builtins", "list"): list,
        # Python 3 writes bytes in protocol-2 pickles as _codecs.encode(str, 'latin1'): a pure function
        ("_codecs", "encode"): codecs.encode,
    }
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(mod, "_reconstruct")] = reconstruct
    for mod in ("scipy.sparse.csr", "scipy.sparse._csr", "scipy.sparse"):
        allowed[(mod, "csr_matrix")] = sp.csr_matrix
    return allowed


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals of :func:`_allowed_globals`; everything else is refused."""

    def __init__(self, file: BinaryIO, what: str):
        super().__init__(file, encoding="latin1", fix_imports=False)
        self._allowed = _allowed_globals(what)
        self._what = what

    def find_class(self, module: str, name: str) -> Any:
        obj = self._allowed.get((module, name))
        if obj is None:
            raise UnsafePickleError(
                f"{self._what}: refusing to load global {module}.{name}: the restricted unpickler only allows "
                "NumPy arrays, SciPy CSR matrices, list, defaultdict, bytes() and codecs.encode (the file may be corrupt "
                "or malicious)")
        return obj


def _prescan(raw: bytes, what: str) -> None:
    """Walk the opcodes once: every length prefix must fit in the bytes that follow (no allocation by declaration)."""
    try:
        for _op, _arg, _pos in pickletools.genops(raw):
            pass
    except Exception as exc:  # noqa: BLE001 - genops raises ValueError for short data, others for garbage
        raise PickleFormatError(f"{what}: cannot be unpickled ({type(exc).__name__}: {exc})") from None


_CONTAINERS = (list, tuple, set, frozenset, dict, sp.spmatrix)


def _expanded_size(obj: Any, what: str, budget: int) -> int:
    """Elements ``numpy.asarray`` would materialise (shared sub-objects counted per reference); refuse cycles."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    keep: list[Any] = []  # keeps ids stable while walking

    def children(o: Any) -> list[Any]:
        if isinstance(o, dict):
            return [x for kv in o.items() for x in kv]
        if isinstance(o, sp.spmatrix):
            return list(vars(o).values())
        return list(o)

    def leaf(o: Any) -> int:
        if type(o) is int or type(o) is float:  # the common case, first
            return 1
        if isinstance(o, np.ndarray):
            if o.dtype.kind not in _ALLOWED_KINDS or o.dtype.hasobject:
                raise UnsafePickleError(f"{what}: arrays of dtype {o.dtype} are not allowed (only numbers)")
            return int(o.size)
        if isinstance(o, (str, bytes, bytearray)):
            return max(1, len(o))
        return 1

    def cycle() -> PickleFormatError:
        return PickleFormatError(f"{what}: holds a container that contains itself (a cycle); refused")

    if not isinstance(obj, _CONTAINERS):
        return leaf(obj)
    stack: list[tuple[Any, bool]] = [(obj, False)]
    while stack:
        o, done = stack.pop()
        i = id(o)
        if done:
            total = 1
            for k in children(o):
                total += sizes[id(k)] if isinstance(k, _CONTAINERS) else leaf(k)
            sizes[i] = total
            on_path.discard(i)
            if total > budget:
                raise PickleFormatError(f"{what}: expands to more than {budget} elements, more than a file of its "
                                        "size can hold (shared sub-lists); refused")
            continue
        if i in sizes:
            continue
        if i in on_path:
            raise cycle()
        on_path.add(i)
        keep.append(o)
        stack.append((o, True))
        for k in children(o):
            if isinstance(k, _CONTAINERS):
                if id(k) in on_path:
                    raise cycle()
                if id(k) not in sizes:
                    stack.append((k, False))
    return sizes[id(obj)]


def restricted_load(data: bytes | BinaryIO, what: str = "pickle", *, max_elements: int | None = None,
                    verified: bool = False) -> Any:
    """Unpickle Planetoid data with a restricted unpickler (``encoding='latin1'``), bounded by the file's size.

    Parameters
    ----------
    data : bytes or binary file
    what : str
        Name used in error messages (the file name).
    max_elements : int, optional
        Largest expanded element count accepted (default: the pickle's size in bytes + 1024).
    verified : bool, default False
        The bytes matched a shipped SHA-256 (the genuine file): skip the opcode pre-scan
        and the element count (the allowed globals still apply).

    Raises
    ------
    UnsafePickleError
        When the pickle references any other global or calls ``numpy.ndarray`` directly
        (nothing of it is executed).
    PickleFormatError
        Truncated or garbage data, a declared length beyond the data, a cycle, or more
        elements than ``max_elements`` (a ``ValueError``, naming ``what``).

    Examples
    --------
    >>> import pickle, numpy as np
    >>> from oversmooth.graphs import restricted_load
    >>> restricted_load(pickle.dumps(np.arange(3), protocol=2)).tolist()
    [0, 1, 2]
    >>> import os
    >>> class Evil:
    ...     def __reduce__(self):
    ...         return (os.system, ("true",))
    >>> restricted_load(pickle.dumps(Evil()))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    oversmooth.graphs._pickle.UnsafePickleError: pickle: refusing to load global ...
    """
    raw = bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else data.read()
    if not verified:
        _prescan(raw, what)
    try:
        obj = _RestrictedUnpickler(io.BytesIO(raw), what).load()
    except PickleFormatError:
        raise
    except MemoryError:
        raise PickleFormatError(f"{what}: declares more data than its {len(raw)} bytes hold; refused") from None
    except Exception as exc:  # noqa: BLE001 - truncated / garbage pickles raise many types
        raise PickleFormatError(f"{what}: cannot be unpickled ({type(exc).__name__}: {exc})") from None
    if not verified:
        budget = len(raw) + 1024 if max_elements is None else int(max_elements)
        _expanded_size(obj, what, budget)
    return obj


def checked_csr(obj: Any, what: str) -> sp.csr_matrix:
    """A CSR matrix rebuilt from an unpickled one's arrays after checking they are consistent (names ``what``).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from oversmooth.graphs._pickle import checked_csr
    >>> checked_csr(sp.csr_matrix(np.eye(2)), "x").toarray().tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    if not isinstance(obj, sp.spmatrix) or obj.format != "csr":
        raise FileFormatError(f"{what}: expected a SciPy CSR matrix, got {type(obj).__name__}")
    state = vars(obj)
    try:
        shape = tuple(int(s) for s in state.get("_shape", ()))
        data, indices, indptr = (state.get(k) for k in ("data", "indices", "indptr"))
    except (TypeError, ValueError):
        raise FileFormatError(f"{what}: malformed CSR matrix (shape)") from None
    if len(shape) != 2 or min(shape) < 0:
        raise FileFormatError(f"{what}: malformed CSR matrix: shape {shape}")
    arrays_ok = all(isinstance(a, np.ndarray) and a.ndim == 1 for a in (data, indices, indptr))
    if not arrays_ok or indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
        raise FileFormatError(f"{what}: malformed CSR matrix (data / indices / indptr are not 1-D index arrays)")
    if indptr.size != shape[0] + 1 or indices.size != data.size or (indptr.size and int(indptr[-1]) != data.size):
        end = int(indptr[-1]) if indptr.size else None
        raise FileFormatError(f"{what}: malformed CSR matrix: {indptr.size} row pointers for {shape[0]} rows "
                              f"(ending at {end}), {indices.size} column indices for {data.size} values")
    try:
        m = sp.csr_matrix((data, indices, indptr), shape=shape)
        m.check_format(full_check=True)
    except ValueError as exc:
        raise FileFormatError(f"{what}: malformed CSR matrix ({exc})") from None
    return m
