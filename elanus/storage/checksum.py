"""File checksums: xxh3-64 of a file's bytes plus its size, computed as it is written.

A checksum reads ``xxh3_64:<16 hex digits>:<size>`` wherever it is stored (the
manifest keeps one per file of each segment). The size makes a truncated file
fail before its bytes are even hashed. ``verify_file`` raises ``StorageError``
naming the file: a damaged file is an error, never a wrong answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import xxhash

from elanus.errors import StorageError
from elanus.storage.fs import FileSystem

__all__ = [
    "ALGORITHM",
    "FileChecksum",
    "HashingSink",
    "checksum_bytes",
    "checksum_file",
    "verify_file",
]

ALGORITHM = "xxh3_64"


@dataclass(frozen=True)
class FileChecksum:
    digest: str
    size: int
    algorithm: str = ALGORITHM

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.digest}:{self.size}"

    @classmethod
    def parse(cls, text: str) -> FileChecksum:
        try:
            algorithm, digest, size = text.split(":")
            return cls(digest, int(size), algorithm)
        except ValueError:
            raise StorageError(f"unreadable checksum record {text!r}") from None


def checksum_bytes(data: Any) -> FileChecksum:
    """The checksum of a bytes-like object (bytes, memoryview, ``pyarrow.Buffer``)."""
    view = memoryview(data)
    return FileChecksum(xxhash.xxh3_64_hexdigest(view), view.nbytes)


def checksum_file(fs: FileSystem, path: str) -> FileChecksum:
    """Hash a whole file (memory-mapped where the backend allows)."""
    return checksum_bytes(fs.map_file(path))


def verify_file(fs: FileSystem, path: str, expected: str | FileChecksum) -> None:
    """Raise ``StorageError`` naming ``path`` unless it is whole and matches ``expected``."""
    want = FileChecksum.parse(expected) if isinstance(expected, str) else expected
    if want.algorithm != ALGORITHM:
        raise StorageError(f"{path}: checksum algorithm {want.algorithm} is not known here")
    try:
        got = checksum_file(fs, path)
    except FileNotFoundError:
        raise StorageError(f"{path} is missing") from None
    except OSError as exc:
        raise StorageError(f"{path} cannot be read: {exc}") from exc
    if got.size != want.size:
        raise StorageError(f"{path} has {got.size} bytes, {want.size} were written")
    if got.digest != want.digest:
        raise StorageError(f"{path} fails its checksum (damaged since it was written)")


class HashingSink:
    """A write-only file object that hashes what passes through to ``sink``, so the
    checksum of a file costs no second read (Parquet and Arrow IPC writers take it)."""

    def __init__(self, sink: pa.NativeFile) -> None:
        self._sink = sink
        self._hash = xxhash.xxh3_64()
        self._size = 0
        self.closed = False

    def write(self, data: Any) -> int:
        view = memoryview(data)
        self._hash.update(view)
        self._sink.write(view)
        self._size += view.nbytes
        return view.nbytes

    def tell(self) -> int:
        return self._size

    def flush(self) -> None:
        self._sink.flush()

    def writable(self) -> bool:
        return True

    def __enter__(self) -> HashingSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._sink.close()

    @property
    def checksum(self) -> FileChecksum:
        return FileChecksum(self._hash.hexdigest(), self._size)
