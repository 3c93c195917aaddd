"""The filesystem interface every storage module goes through.

Paths are plain strings in the filesystem's own namespace (absolute local paths
for ``LocalFileSystem``; ``bucket/key`` for an object store). Directories are
created with ``mkdirs`` and ``/`` separates path parts.

Durability contract: ``write_atomic`` leaves either the old or the new content,
never a mix, and the new content survives a crash once it returns.
``rename_dir`` is atomic where the backend allows (a local rename; object stores
cannot, which is why the manifest, not directory listings, names live segments).

The WAL does not go through this interface: it needs ``os.write`` + ``os.fsync``
on an open descriptor, and is local-only by design (see docs/storage.md).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, runtime_checkable

import pyarrow as pa
import pyarrow.fs as pafs

from elanus.errors import StorageError

__all__ = [
    "FileSystem",
    "LocalFileSystem",
    "fsync_dir",
    "join",
    "os_error_reason",
    "remove_write_leftovers",
    "storage_errors",
]


def os_error_reason(exc: OSError) -> str:
    """What went wrong in the words of the C library, lower case: "no space left on
    device", "permission denied", "read-only file system"."""
    if exc.errno:
        return os.strerror(exc.errno).lower()
    return str(exc)


@contextmanager
def storage_errors(action: str, path: str) -> Iterator[None]:
    """Turn an ``OSError`` (a full disk, a refused write) into a ``StorageError`` that
    says what could not be done where: ``cannot <action> <path>: <reason>``."""
    try:
        yield
    except OSError as exc:
        raise StorageError(f"cannot {action} {path}: {os_error_reason(exc)}") from exc


def join(*parts: str) -> str:
    """Join path parts with ``/`` (works for local paths and object keys)."""
    return "/".join(p.rstrip("/") if i == 0 else p.strip("/") for i, p in enumerate(parts) if p)


@runtime_checkable
class FileSystem(Protocol):
    """What the storage layer needs from a filesystem.

    ``arrow`` is the underlying ``pyarrow.fs.FileSystem``, for Parquet and Arrow
    IPC readers and writers, which take it as ``filesystem=``.
    """

    @property
    def arrow(self) -> pafs.FileSystem: ...

    def exists(self, path: str) -> bool: ...

    def is_dir(self, path: str) -> bool: ...

    def mkdirs(self, path: str) -> None:
        """Create a directory and its parents; no error when it exists."""
        ...

    def list_dir(self, path: str) -> list[str]:
        """Names (not paths) of the entries directly under ``path``, sorted; [] if absent."""
        ...

    def read_bytes(self, path: str) -> bytes: ...

    def map_file(self, path: str) -> pa.Buffer:
        """The whole file as a read-only buffer, memory-mapped where the backend can."""
        ...

    def write_atomic(self, path: str, data: bytes) -> None:
        """Replace ``path`` with ``data``: write a temp file, sync, rename, sync the dir."""
        ...

    def open_output(self, path: str) -> pa.NativeFile:
        """A new file for writing (truncates). Call ``sync_file`` after closing it."""
        ...

    def open_append(self, path: str) -> pa.NativeFile:
        """Open (or create) a file for appending."""
        ...

    def sync_file(self, path: str) -> None:
        """Make a closed file's content durable (no-op where writes are durable on close)."""
        ...

    def sync_dir(self, path: str) -> None:
        """Make a directory's entries (creations, renames) durable."""
        ...

    def rename_dir(self, src: str, dst: str) -> None:
        """Move a directory to a path that does not exist yet, then sync the parent."""
        ...

    def delete_file(self, path: str) -> None:
        """Delete a file; no error when it is already gone."""
        ...

    def delete_dir(self, path: str) -> None:
        """Delete a directory and everything under it; no error when it is gone."""
        ...

    def local_path(self, path: str) -> str | None:
        """The path on local disk, or None for a remote backend."""
        ...


class LocalFileSystem:
    """``FileSystem`` on local disk: pyarrow's local filesystem plus POSIX fsync."""

    def __init__(self) -> None:
        self._arrow = pafs.LocalFileSystem(use_mmap=True)

    @property
    def arrow(self) -> pafs.FileSystem:
        return self._arrow

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(path)

    def mkdirs(self, path: str) -> None:
        with storage_errors("create directory", path):
            os.makedirs(path, exist_ok=True)

    def list_dir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except FileNotFoundError:
            return []

    def read_bytes(self, path: str) -> bytes:
        with open(path, "rb") as fh:
            return fh.read()

    def map_file(self, path: str) -> pa.Buffer:
        if os.path.getsize(path) == 0:
            return pa.py_buffer(b"")  # mmap of an empty file is an error
        with pa.memory_map(path, "r") as mapped:
            # The buffer keeps the mapping alive after the file object closes.
            return mapped.read_buffer()

    def write_atomic(self, path: str, data: bytes) -> None:
        with storage_errors("write", path):
            self._write_atomic(path, data)

    def _write_atomic(self, path: str, data: bytes) -> None:
        directory = os.path.dirname(path) or "."
        tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            _remove_quietly(tmp)
            raise
        os.close(fd)
        try:
            os.replace(tmp, path)
        except BaseException:
            _remove_quietly(tmp)
            raise
        self.sync_dir(directory)

    def open_output(self, path: str) -> pa.NativeFile:
        return self._arrow.open_output_stream(path)

    def open_append(self, path: str) -> pa.NativeFile:
        return self._arrow.open_append_stream(path)

    def sync_file(self, path: str) -> None:
        with storage_errors("sync", path):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def sync_dir(self, path: str) -> None:
        fsync_dir(path)

    def rename_dir(self, src: str, dst: str) -> None:
        if os.path.exists(dst):
            raise FileExistsError(dst)
        with storage_errors(f"rename {src} to", dst):
            os.rename(src, dst)
        self.sync_dir(os.path.dirname(dst) or ".")

    def delete_file(self, path: str) -> None:
        _remove_quietly(path)

    def delete_dir(self, path: str) -> None:
        shutil.rmtree(path, ignore_errors=True)

    def local_path(self, path: str) -> str | None:
        return path


def fsync_dir(path: str) -> None:
    """fsync a directory so that entries created or renamed in it survive a crash."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # platforms that cannot open directories (Windows) sync on rename
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; nothing more we can do
    finally:
        os.close(fd)


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# ``write_atomic``'s temp name: ``.<name>.<32 hex digits>.tmp``
_WRITE_TEMP = re.compile(r"^\..+\.[0-9a-f]{32}\.tmp$")


def remove_write_leftovers(fs: FileSystem, directory: str) -> int:
    """Delete the temp files of ``write_atomic`` calls a crash cut short in
    ``directory`` (never read: the rename had not happened); return how many.
    Only for a directory no other writer uses (the data directory is locked)."""
    found = [n for n in fs.list_dir(directory) if _WRITE_TEMP.match(n)]
    for name in found:
        fs.delete_file(join(directory, name))
    return len(found)
