"""Bounded, verified downloads into the cache (the Planetoid files' transport).

:func:`download` streams a URL to a temporary ``.part`` file beside its destination and
renames it into place only after it has been verified:

* **size**: at most ``max_bytes`` (the file's known size when there is one, else a stated
  maximum). A ``Content-Length`` above it is refused before the body is read; a server
  that keeps sending is cut off at the limit.
* **time**: one *total* deadline (``timeout`` seconds for connecting, the headers and the
  body together, not per read): a server trickling one byte every few seconds is cut off.
* **content**: a known SHA-256 must match; a file without one must pass ``check`` (the
  caller parses it) before it is renamed into the cache, so a truncated or foreign file
  never stays cached.
* **leftovers**: the ``.part`` file is removed on every error and on ``SIGTERM``; those of
  a process that was killed (``SIGKILL``) are removed by the next call
  (:func:`remove_stale_parts`), identified by the dead process id in their name.

Errors are :class:`~oversmooth.errors.DataError` (``OSError``) naming the file and URL.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import secrets
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

from .._progress import Progress
from .._utils import renamed_kwargs
from ..errors import DataError

__all__ = ["IntegrityError", "UnverifiedFileError", "MissingFileError", "download", "remove_stale_parts",
           "sha256_file", "data_home", "MAX_UNKNOWN_BYTES"]

#: Largest download accepted for a file whose size is not known in advance (64 MiB).
MAX_UNKNOWN_BYTES = 64 * 2**20
_CHUNK = 1 << 16
_STALE_AGE_S = 24 * 3600.0


class IntegrityError(DataError):
    """A data file or download has the wrong SHA-256, is truncated, too large or too slow."""


class UnverifiedFileError(DataError):
    """A data file has no shipped SHA-256 and the caller did not opt in to load it unverified."""


class MissingFileError(DataError, FileNotFoundError):
    """A data file is neither on disk nor downloadable (HTTP 404, ``download=False``)."""


@renamed_kwargs(data_home="data_dir")
def data_home(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache folder: ``data_dir`` if given, else ``$OVERSMOOTH_DATA``, else ``~/.cache/oversmooth``.

    ``data_dir`` is the name ``load_planetoid`` and the CLI (``--data-dir``) use; the old
    keyword ``data_home=`` still works with a ``DeprecationWarning``.

    Examples
    --------
    >>> from oversmooth.graphs import data_home
    >>> data_home("/tmp/x").as_posix()
    '/tmp/x'
    >>> data_home(data_dir="/tmp/y").as_posix()
    '/tmp/y'
    """
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get("OVERSMOOTH_DATA")
    return Path(env) if env else Path.home() / ".cache" / "oversmooth"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------- leftovers
def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: exists, another user's
        return True
    return True


def remove_stale_parts(folder: Path) -> list[Path]:
    """Delete ``.<name>.<pid>.<token>.part`` files left by dead processes (or older than a day); return them.

    Examples
    --------
    >>> import os, tempfile
    >>> from pathlib import Path
    >>> from oversmooth.graphs._download import remove_stale_parts
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / ".ind.cora.x.999999999.ab12.part").write_bytes(b"half")
    >>> [p.name for p in remove_stale_parts(d)]
    ['.ind.cora.x.999999999.ab12.part']
    """
    removed = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for p in folder.glob(".*.part"):
        parts = p.name.split(".")
        try:
            pid = int(parts[-3])
        except (IndexError, ValueError):
            continue
        try:
            old = now - p.stat().st_mtime > _STALE_AGE_S
        except OSError:
            continue
        if old or not _pid_alive(pid):
            try:
                p.unlink()
                removed.append(p)
            except OSError:
                pass
    return removed


# --------------------------------------------------------------------------- total deadline
class _Deadline:
    """Shuts down every socket it was given when ``seconds`` have passed: a blocked read returns at once."""

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self.end = time.monotonic() + self.seconds
        self.expired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(self.seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        return max(0.01, self.end - time.monotonic())

    def register(self, sock: Any) -> None:
        with self._lock:
            self._socks.append(sock)
            if self.expired:
                self._shutdown(sock)

    @staticmethod
    def _shutdown(sock: Any) -> None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for s in self._socks:
                self._shutdown(s)

    def cancel(self) -> None:
        self._timer.cancel()


def _opener(deadline: _Deadline) -> urllib.request.OpenerDirector:
    class Conn(http.client.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            deadline.register(self.sock)

    class SConn(http.client.HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            deadline.register(self.sock)

    class Handler(urllib.request.HTTPHandler):
        def http_open(self, req: Any) -> Any:
            return self.do_open(Conn, req)

    class SHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: Any) -> Any:
            kw: dict[str, Any] = {"context": getattr(self, "_context", None)}
            if hasattr(self, "_check_hostname"):
                kw["check_hostname"] = self._check_hostname
            return self.do_open(SConn, req, **kw)

    return urllib.request.build_opener(Handler, SHandler)


class _TermAsExit:
    """While active (main thread only), SIGTERM raises SystemExit so that ``finally`` removes the ``.part``."""

    def __enter__(self) -> "_TermAsExit":
        self.prev = None
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
                    self.prev = signal.signal(signal.SIGTERM, self._raise)
            except (ValueError, OSError):  # pragma: no cover - no signals here
                self.prev = None
        return self

    @staticmethod
    def _raise(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    def __exit__(self, *exc: Any) -> None:
        if self.prev is not None:
            signal.signal(signal.SIGTERM, self.prev)


# --------------------------------------------------------------------------- download
def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def _stream(url: str, out: Any, fname: str, deadline: _Deadline, max_bytes: int, what_max: str,
            progress: bool, h: Any) -> tuple[int, int | None]:
    done = 0
    total = None
    try:
        with _opener(deadline).open(url, timeout=deadline.remaining()) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.strip().isdigit() else None
            if total is not None and total > max_bytes:
                raise IntegrityError(f"{fname}: {url} announces {total} bytes (Content-Length), more than {what_max} "
                                     f"({max_bytes} bytes); refused before downloading")
            read = getattr(resp, "read1", resp.read)
            bar = Progress(total or 0, enabled=progress)  # steps are bytes
            while True:
                block = read(_CHUNK)
                if deadline.expired:
                    break
                if not block:
                    break
                done += len(block)
                if done > max_bytes:
                    raise IntegrityError(f"{fname}: {url} sent more than {what_max} ({max_bytes} bytes); cut off, "
                                         "nothing was written to the cache")
                out.write(block)
                h.update(block)
                bar.update(f"downloading {fname} (bytes)", advance=len(block))
            bar.close()
    except http.client.IncompleteRead as exc:
        if not deadline.expired:
            raise IntegrityError(f"{fname}: truncated download from {url} (connection closed after "
                                 f"{done + len(exc.partial)} bytes); nothing was written to the cache") from None
    except urllib.error.HTTPError as exc:
        raise MissingFileError(f"{fname}: download from {url} failed: HTTP {exc.code} {_one_line(exc.reason)}") \
            from None
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
        if isinstance(exc, DataError):
            raise
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
            deadline.expired = True  # the socket's own timeout (set to the time left) fired first
        if not deadline.expired:
            raise DataError(f"{fname}: download from {url} failed: {_one_line(reason)}") from None
    if deadline.expired:
        raise IntegrityError(f"{fname}: download from {url} did not finish within its total deadline of "
                             f"{deadline.seconds:g} s (timeout); nothing was written to the cache")
    return done, total


def download(url: str, dest: Path, *, fname: str, sha256: str | None, max_bytes: int | None,
             timeout: float, progress: bool = False, check: Callable[[Path], None] | None = None) -> None:
    """Fetch ``url`` into ``dest``: size-capped, under one total deadline, verified before the rename.

    Parameters
    ----------
    url : str
    dest : Path
        Final path; the temporary ``.part`` file is created beside it.
    fname : str
        The file's name in messages.
    sha256 : str or None
        Expected hex digest; ``None``: ``check`` must accept the file instead.
    max_bytes : int or None
        The file's known size (anything beyond is refused), or ``None`` for
        :data:`MAX_UNKNOWN_BYTES`.
    timeout : float
        Total seconds for the whole download.
    progress : bool
        Progress bar on stderr.
    check : callable, optional
        Called with the temporary path before the rename; raises to refuse the file.

    Raises
    ------
    IntegrityError, MissingFileError, DataError
        Each naming ``fname`` and ``url``; nothing is left in the cache.
    """
    if not (timeout > 0):
        raise DataError(f"{fname}: timeout must be > 0 seconds, got {timeout}")
    cap = int(max_bytes) if max_bytes is not None else MAX_UNKNOWN_BYTES
    what_max = "the file's known size" if max_bytes is not None else "the maximum for a file of unknown size"
    tmp = dest.parent / f".{fname}.{os.getpid()}.{secrets.token_hex(4)}.part"
    deadline: _Deadline | None = None
    # SIGTERM is turned into SystemExit BEFORE the .part exists, so the finally below always removes it
    with _TermAsExit():
        try:
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                remove_stale_parts(dest.parent)
                open(tmp, "wb").close()
            except OSError as exc:
                raise DataError(f"{fname}: cannot write to the cache folder {dest.parent} ({exc.strerror or exc}); "
                                "pass data_dir= (--data-dir) or set $OVERSMOOTH_DATA to a writable folder") from None
            deadline = _Deadline(timeout)
            with open(tmp, "wb") as out:
                h = hashlib.sha256()
                done, total = _stream(url, out, fname, deadline, cap, what_max, progress, h)
            if total is not None and done != total:
                raise IntegrityError(f"{fname}: truncated download from {url} ({done} of {total} bytes); nothing "
                                     "was written to the cache")
            if sha256 is not None:
                got = h.hexdigest()
                if got != sha256:
                    raise IntegrityError(f"{fname}: SHA-256 mismatch for the download from {url} (expected "
                                         f"{sha256}, got {got}); nothing was written to the cache")
            elif check is not None:
                try:
                    check(tmp)
                except (ValueError, OSError) as exc:
                    raise IntegrityError(f"{fname}: the download from {url} cannot be read ({exc}); nothing was "
                                         "written to the cache") from None
            os.replace(tmp, dest)
        finally:
            if deadline is not None:
                deadline.cancel()
            if tmp.exists():
                try:
                    tmp.unlink()
                except OSError:  # pragma: no cover
                    pass
