"""One sweep per output directory: an advisory lock file holding the owner's PID, host and start time.

The lock is ``OUT/.oversmooth-sweep.lock``, held with ``flock`` (the kernel releases it when
the holder exits, even by SIGKILL, so a lock is never stale). Where ``flock`` is not
available (some network file systems, Windows) the file itself is the lock, created
exclusively; a file naming a process that no longer runs on this host is stale and taken over.

Examples
--------
>>> import tempfile
>>> from oversmooth.experiments.sweep import DirectoryLock, SweepLockedError
>>> out = tempfile.mkdtemp()
>>> with DirectoryLock(out):
...     try:
...         DirectoryLock(out).acquire()
...     except SweepLockedError as exc:
...         print("in use" in str(exc))
True
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
from pathlib import Path
from typing import Any

from ...errors import DataError

__all__ = ["DirectoryLock", "SweepLockedError", "LOCK_FILENAME"]

#: Name of the lock file inside a sweep's output directory.
LOCK_FILENAME = ".oversmooth-sweep.lock"


class SweepLockedError(DataError):
    """The output directory is in use by another running sweep."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class DirectoryLock:
    """Exclusive lock of a sweep's output directory (a context manager).

    Parameters
    ----------
    out : path
        The output directory (created if missing).
    """

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.path = self.out / LOCK_FILENAME
        self._fd: int | None = None
        self._exclusive_file = False

    def _info(self) -> str:
        return json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                           "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")})

    def _holder(self) -> str:
        try:
            info = json.loads(self.path.read_text(encoding="utf-8")[:1000] or "{}")
            return f"pid {int(info['pid'])} on {str(info['host'])[:100]} since {str(info['started'])[:40]}"
        except (OSError, ValueError, KeyError, TypeError):
            return "another process"

    def _refuse(self) -> SweepLockedError:
        return SweepLockedError(f"{self.out} is in use by another sweep ({self._holder()}; lock file {self.path}): "
                                "wait for it to finish, or use another output directory")

    def acquire(self) -> "DirectoryLock":
        """Take the lock or raise :class:`SweepLockedError` naming the holder."""
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise DataError(f"output directory {self.out} is a file, not a directory") from None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self._acquire_exclusive_file()
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise self._refuse() from None
            except OSError:  # pragma: no cover - no flock on this file system
                os.close(fd)
                return self._acquire_exclusive_file()
            try:  # the file we locked must still be the one at the path (a releaser unlinks it)
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                os.ftruncate(fd, 0)
                os.write(fd, self._info().encode())
                self._fd = fd
                return self
            os.close(fd)
        raise self._refuse()  # pragma: no cover - ten lost races in a row

    def _acquire_exclusive_file(self) -> "DirectoryLock":  # pragma: no cover - exercised where flock is missing
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                try:
                    info = json.loads(self.path.read_text(encoding="utf-8")[:1000] or "{}")
                    stale = info.get("host") == socket.gethostname() and not _pid_alive(int(info["pid"]))
                except (OSError, ValueError, KeyError, TypeError):
                    stale = False
                if not stale:
                    raise self._refuse() from None
                self.path.unlink(missing_ok=True)  # its owner is gone: take it over
                continue
            os.write(fd, self._info().encode())
            self._fd, self._exclusive_file = fd, True
            return self
        raise self._refuse()

    def release(self) -> None:
        """Release the lock (removes the lock file)."""
        if self._fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> "DirectoryLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()
