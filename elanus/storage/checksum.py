"""File checksums: xxh3-64 of a file's bytes plus its size, computed as it is written.

A checksum reads ``xxh3_64:<16 hex digits>:<size>`` wherever it is stored (the
manifest keeps one per file of each segment). The size makes a truncated file
fail before its bytes are even hashed. ``verify_file`` raises ``StorageError``
naming the file: a damaged file is an error, never a wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    "files_under",
    "read_verified",
    "verify_file",
    "verify_tree",
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
    _verified(fs, path, expected, fs.map_file)


def read_verified(fs: FileSystem, path: str, expected: str | FileChecksum) -> bytes:
    """The bytes of ``path``, checked as ``verify_file`` checks it (one read)."""
    data: bytes = _verified(fs, path, expected, fs.read_bytes)
    return data


def _verified(
    fs: FileSystem, path: str, expected: str | FileChecksum, read: Callable[[str], Any]
) -> Any:
    want = FileChecksum.parse(expected) if isinstance(expected, str) else expected
    if want.algorithm != ALGORITHM:
        raise StorageError(f"{path}: checksum algorithm {want.algorithm} is not known here")
    try:
        data = read(path)
        got = checksum_bytes(data)
    except FileNotFoundError:
        raise StorageError(f"{path} is missing") from None
    except OSError as exc:
        raise StorageError(f"{path} cannot be read: {exc}") from exc
    if got.size != want.size:
        raise StorageError(f"{path} has {got.size} bytes, {want.size} were written")
    if got.digest != want.digest:
        raise StorageError(f"{path} fails its checksum (damaged since it was written)")
    return data


def files_under(fs: FileSystem, directory: str, prefix: str = "") -> list[str]:
    """Paths (relative to ``directory``) of every file below it."""
    out: list[str] = []
    for name in fs.list_dir(directory):
        path = f"{directory}/{name}"
        rel = f"{prefix}{name}"
        if fs.is_dir(path):
            out.extend(files_under(fs, path, rel + "/"))
        else:
            out.append(rel)
    return out


def verify_tree(fs: FileSystem, directory: str, expected: Mapping[str, str]) -> None:
    """Check that ``directory`` holds exactly the files ``expected`` names (relative
    path -> checksum record), each matching; ``StorageError`` names what is wrong."""
    if not expected:
        raise StorageError(f"{directory} has no recorded checksums")
    for rel, checksum in expected.items():
        verify_file(fs, f"{directory}/{rel}", checksum)
    extra = sorted(set(files_under(fs, directory)) - set(expected))
    if extra:
        raise StorageError(f"{directory} holds files that were not written with it: {extra}")


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
