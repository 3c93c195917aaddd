"""A real, small filesystem for tests of full disks and refused writes.

A 4 MiB tmpfs is mounted for the test (root only, as CI runs; elsewhere the
test skips), filled by a filler file, made read-only by a bind mount, or has
files made immutable (``chattr +i``, which binds root too).
"""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import elanus
from elanus.errors import ElanusError, StorageError

DIM = 32
OPTIONS = {"compact_min_rows": 100_000}

_FS_IOC_GETFLAGS = 0x80086601
_FS_IOC_SETFLAGS = 0x40086602
_FS_IMMUTABLE_FL = 0x10


@contextmanager
def small_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` for the block; unmounted lazily
    after, so any bind mount below goes with it. Skips the test without root."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    where.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield where
    finally:
        unmount(where)


def unmount(where: Path) -> None:
    subprocess.run(["umount", "-l", str(where)], capture_output=True)


def bind_read_only(directory: Path) -> None:
    """Make ``directory`` read-only (EROFS) through a bind mount over itself."""
    for args in (
        ["--bind", str(directory), str(directory)],
        ["-o", "remount,bind,ro", str(directory)],
    ):
        proc = subprocess.run(["mount", *args], capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"cannot make a read-only bind mount here: {proc.stderr.strip()}")


def set_immutable(path: Path, on: bool) -> None:
    """``chattr +i`` / ``-i``: no new entries in a directory, no opening a file to
    write, even for root (writes through descriptors already open still go)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            raw = fcntl.ioctl(fd, _FS_IOC_GETFLAGS, struct.pack("i", 0))
            flags = struct.unpack("i", raw)[0]
            flags = flags | _FS_IMMUTABLE_FL if on else flags & ~_FS_IMMUTABLE_FL
            fcntl.ioctl(fd, _FS_IOC_SETFLAGS, struct.pack("i", flags))
        except OSError as exc:
            pytest.skip(f"this filesystem has no immutable flag: {exc}")
    finally:
        os.close(fd)


class Filler:
    """Takes every free byte of a filesystem, and gives it back."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "filler"

    def fill(self, leave: int = 0) -> None:
        """Write until the disk is full, then free ``leave`` bytes (rounded to pages)."""
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            for size in (1 << 16, 4096, 1):
                chunk = b"\xab" * size
                while True:
                    try:
                        os.write(fd, chunk)
                    except OSError as exc:
                        assert exc.errno == errno.ENOSPC, exc
                        break
        finally:
            os.close(fd)
        if leave:
            os.truncate(self.path, max(0, self.path.stat().st_size - leave))

    def free(self) -> None:
        self.path.unlink(missing_ok=True)


def rows(start: int, count: int, version: int = 0) -> list[dict[str, Any]]:
    return [
        {"id": i, "tag": f"r{i}v{version}", "vec": [float(i % 97 + version)] * DIM}
        for i in range(start, start + count)
    ]


def open_client(data: Path) -> Any:
    return elanus.MilvusClient(str(data), engine_options=OPTIONS)


def make_collection(client: Any) -> None:
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", elanus.DataType.INT64, is_primary=True)
    schema.add_field("tag", elanus.DataType.VARCHAR, max_length=32)
    schema.add_field("vec", elanus.DataType.FLOAT_VECTOR, dim=DIM)
    params = client.prepare_index_params()
    params.add_index("vec", index_type="FLAT", metric_type="L2")
    client.create_collection("docs", schema=schema, index_params=params)


def contents(client: Any) -> dict[int, str]:
    got = client.query("docs", filter="id >= 0", output_fields=["tag"], limit=16_384)
    return {r["id"]: r["tag"] for r in got}


def expect(*batches: list[dict[str, Any]]) -> dict[int, str]:
    out: dict[int, str] = {}
    for batch in batches:
        out.update({r["id"]: r["tag"] for r in batch})
    return out


def assert_refused(exc: ElanusError, reason: str, where: str) -> None:
    """A ``StorageError`` naming the path and the system's reason."""
    assert isinstance(exc, StorageError), repr(exc)
    assert reason in str(exc).lower(), str(exc)
    assert where in str(exc), str(exc)


def searchable(client: Any) -> bool:
    hits = client.search("docs", data=[[1.0] * DIM], limit=3, anns_field="vec")
    return len(hits[0]) > 0


def wait_compaction(client: Any, job: int) -> None:
    while client.get_compaction_state(job) != "Completed":
        os.sched_yield()


def temp_leftovers(data: Path) -> list[str]:
    return [str(p.relative_to(data)) for p in data.rglob("*") if ".tmp" in p.name]
