"""An exclusive lock on a data directory, so two processes never write one directory.

The lock is ``fcntl.flock`` on ``<data dir>/LOCK``; the kernel drops it when the
holder exits, however it exits, so a crash never leaves a stale lock. The holder
writes its pid, host and command line to ``LOCK.info`` for the error the next
opener gets. Two opens in one process conflict too (each opens its own file).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from typing import Any

from elanus.errors import DataDirLockedError, StorageError

__all__ = ["DataDirLock"]

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class DataDirLock:
    """Holds the data directory's lock from ``acquire`` until ``release``.

    ``acquire`` raises ``DataDirLockedError`` naming the directory and the holder
    when another process (or another open in this one) holds it.
    """

    def __init__(self, directory: str) -> None:
        self.directory = os.path.abspath(directory)
        self.lock_path = os.path.join(self.directory, "LOCK")
        self.info_path = os.path.join(self.directory, "LOCK.info")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        if fcntl is None:
            raise StorageError("data directory locking needs fcntl (a POSIX system)")
        os.makedirs(self.directory, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataDirLockedError(
                f"data directory {self.directory} is in use by {self._holder()}; "
                "close that process or use another directory"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise StorageError(f"cannot lock data directory {self.directory}: {exc}") from exc
        self._fd = fd
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(sys.argv) or sys.executable,
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        tmp = f"{self.info_path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(info, fh)
        os.replace(tmp, self.info_path)  # a reader never sees half a record

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.remove(self.info_path)
        except FileNotFoundError:
            pass
        # Closing the descriptor releases the flock.
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _holder(self) -> str:
        try:
            with open(self.info_path, encoding="utf-8") as fh:
                info: dict[str, Any] = json.load(fh)
        except (OSError, ValueError):
            return "another process (no holder details recorded)"
        return (
            f"process {info.get('pid')} on host {info.get('host')} "
            f"(command: {info.get('command')}, since {info.get('since')})"
        )
