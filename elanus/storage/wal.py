"""Write-ahead log of opaque byte records (format: docs/storage.md, "WAL").

The log is a directory of files named by the sequence number of their first
record (``00000000000000000001.wal``). Each file starts with an 8-byte magic and
holds frames::

    u32 length | u32 crc32 | u64 seq | payload (length bytes)      little-endian

``crc32`` covers length, seq and payload. Sequence numbers start at 1 and run
without gaps across files. One ``append`` call is one ``os.write`` plus one
``fsync``: a batch is durable when ``append`` returns.

The WAL uses local file descriptors directly, not ``storage.fs``: it needs
``fsync`` on an open file and append-in-place, which object stores do not offer.

On open the log is checked frame by frame. The first frame that is torn (short),
fails its checksum, or breaks the sequence ends the valid prefix: that file is
truncated to it, later files are renamed aside to ``*.corrupt``, and a
``RecoveryReport`` (also logged as a warning) says what was dropped. Opening
never fails because of a bad tail.
"""

from __future__ import annotations

import logging
import os
import re
import struct
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from elanus.errors import StorageError
from elanus.storage.fs import fsync_dir, os_error_reason, storage_errors

__all__ = ["DEFAULT_SEGMENT_BYTES", "RecoveryReport", "WriteAheadLog", "inspect_wal"]

log = logging.getLogger(__name__)

MAGIC = b"ELWAL\x00\x01\n"
_HEADER = struct.Struct("<IIQ")
_LEN_SEQ = struct.Struct("<IQ")
_MAX_RECORD = (1 << 32) - 1
_NAME = re.compile(r"^(\d{20})\.wal$")
DEFAULT_SEGMENT_BYTES = 64 << 20


@dataclass(frozen=True)
class RecoveryReport:
    """What opening the log found.

    ``dropped_records`` counts the frames seen in the dropped bytes (a torn
    frame counts as one); it is an estimate, since a corrupt length field makes
    the rest uncountable. ``reason`` is empty when nothing was dropped.
    ``first_seq`` is the sequence the oldest kept file starts at.
    """

    directory: str
    files: int
    records: int
    first_seq: int
    last_seq: int
    dropped_bytes: int = 0
    dropped_records: int = 0
    moved_aside: tuple[str, ...] = ()
    reason: str = ""
    found_files: int = 0
    empty_files: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return self.dropped_bytes == 0 and not self.moved_aside

    @property
    def damaged(self) -> bool:
        """More was lost than one torn final frame, which is all a crash while
        appending leaves: a frame that fails its checksum or breaks the sequence,
        several frames dropped, or files moved aside mean records once written
        whole are gone."""
        if self.moved_aside or self.dropped_records > 1:
            return True
        return bool(self.reason) and "torn" not in self.reason


@dataclass
class _File:
    path: str
    first_seq: int
    size: int


class WriteAheadLog:
    """A thread-safe, append-only log of byte records with sequence numbers.

    ``sync=True`` (the default) fsyncs every ``append`` before it returns.
    ``sync=False`` leaves data in the OS page cache: it survives a process
    crash but not a power loss or kernel crash, until ``sync()`` is called.
    Files rotate once they pass ``segment_bytes``; a batch never spans files.
    """

    def __init__(
        self, directory: str, *, sync: bool = True, segment_bytes: int = DEFAULT_SEGMENT_BYTES
    ) -> None:
        self.directory = directory
        self._sync = sync
        self._segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self._fd: int | None = None
        with storage_errors("open write-ahead log", directory):
            os.makedirs(directory, exist_ok=True)
            self._files, self._last_seq, self.recovery = _recover(directory)
            if not self._files:
                self._files.append(self._create_file(1))
            self._fd = os.open(self._files[-1].path, os.O_WRONLY | os.O_APPEND)
        if not self.recovery.clean:
            log.warning(
                "write-ahead log %s: kept %d records up to seq %d, dropped %d bytes "
                "(about %d records)%s: %s",
                directory,
                self.recovery.records,
                self.recovery.last_seq,
                self.recovery.dropped_bytes,
                self.recovery.dropped_records,
                f", moved aside {list(self.recovery.moved_aside)}"
                if self.recovery.moved_aside
                else "",
                self.recovery.reason,
            )

    @property
    def last_seq(self) -> int:
        """Sequence number of the newest record (0 when none was ever written)."""
        return self._last_seq

    def append(self, records: Sequence[bytes], *, sync: bool | None = None) -> int:
        """Append records as one write; return the sequence number of the last one.

        Records get consecutive sequence numbers. With sync (the log's default
        unless overridden here) the records are on disk when this returns.
        An I/O error leaves the log as it was and raises ``StorageError``.
        """
        if not records:
            return self._last_seq
        with self._lock:
            fd = self._require_open()
            seq = self._last_seq
            parts: list[bytes] = []
            for payload in records:
                if len(payload) > _MAX_RECORD:
                    raise StorageError(f"WAL record of {len(payload)} bytes is too large")
                seq += 1
                parts.append(frame_record(seq, payload))
            data = b"".join(parts)
            current = self._files[-1]
            try:
                _write_all(fd, data)
                if self._sync if sync is None else sync:
                    _datasync(fd)
            except OSError as exc:
                # Never leave a half frame behind: later appends would follow garbage.
                try:
                    os.ftruncate(fd, current.size)
                except OSError:
                    pass
                raise StorageError(
                    f"cannot write to WAL {current.path}: {os_error_reason(exc)}"
                ) from exc
            current.size += len(data)
            self._last_seq = seq
            if current.size >= self._segment_bytes:
                try:
                    self._rotate()
                except OSError as exc:
                    # The batch is durable in the current file: acknowledge it, keep
                    # appending there, and try a new file again after the next batch.
                    log.warning(
                        "write-ahead log %s: cannot start a new file, appending to %s: %s",
                        self.directory,
                        current.path,
                        os_error_reason(exc),
                    )
            return seq

    def skip_to(self, seq: int) -> bool:
        """Make the next record get ``seq + 1`` when the log ends before ``seq``.

        For a log found shorter than what the records it fed are known to have
        reached (a manifest sealed up to ``seq``): numbering must never restart
        below that, or new records would reuse sequence numbers that the next
        recovery takes as already sealed and skips. The files kept so far hold
        only records up to ``seq`` (covered elsewhere); they are moved aside as
        ``*.corrupt``, never deleted. Returns whether anything changed.
        """
        with self._lock:
            if seq <= self._last_seq:
                return False
            old, old_fd = self._files, self._fd
            self._files = [self._create_file(seq + 1)]
            self._fd = os.open(self._files[-1].path, os.O_WRONLY | os.O_APPEND)
            self._last_seq = seq
            if old_fd is not None:
                os.close(old_fd)
            for entry in old:
                os.replace(entry.path, entry.path + ".corrupt")
            fsync_dir(self.directory)
            return True

    def sync(self) -> None:
        """fsync what was appended with ``sync=False``."""
        with self._lock:
            _datasync(self._require_open())

    def replay(self, after_seq: int = 0) -> Iterator[tuple[int, bytes]]:
        """Yield ``(seq, payload)`` for every record with seq > ``after_seq``, in order.

        Sees the records appended before the call; appends made while iterating
        are not yielded. Do not ``truncate_before`` past ``after_seq`` meanwhile.
        """
        with self._lock:
            files = [_File(f.path, f.first_seq, f.size) for f in self._files]
        for i, entry in enumerate(files):
            if i + 1 < len(files) and files[i + 1].first_seq <= after_seq + 1:
                continue
            try:
                with open(entry.path, "rb") as fh:
                    data = fh.read(entry.size)
            except FileNotFoundError:
                continue
            for seq, start, end in _frames(data, entry):
                if seq > after_seq:
                    yield seq, data[start:end]

    def truncate_before(self, seq: int) -> int:
        """Delete the log files whose records all have seq < ``seq``; return how many.

        The file being written is always kept.
        """
        removed = 0
        with self._lock:
            while len(self._files) > 1 and self._files[1].first_seq <= seq:
                os.remove(self._files.pop(0).path)
                removed += 1
            if removed:
                fsync_dir(self.directory)
        return removed

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                try:
                    _datasync(self._fd)
                finally:
                    os.close(self._fd)
                    self._fd = None

    def __enter__(self) -> WriteAheadLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_open(self) -> int:
        if self._fd is None:
            raise StorageError(f"write-ahead log {self.directory} is closed")
        return self._fd

    def _rotate(self) -> None:
        new = self._create_file(self._last_seq + 1)
        old_fd = self._fd
        self._fd = os.open(new.path, os.O_WRONLY | os.O_APPEND)
        self._files.append(new)
        if old_fd is not None:
            _datasync(old_fd)
            os.close(old_fd)

    def _create_file(self, first_seq: int) -> _File:
        path = os.path.join(self.directory, f"{first_seq:020d}.wal")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, MAGIC)
            os.fsync(fd)
        except OSError:
            os.close(fd)
            # no half-made file for recovery to find (a full disk can cut the header)
            os.remove(path)
            raise
        os.close(fd)
        fsync_dir(self.directory)
        return _File(path, first_seq, len(MAGIC))


def frame_record(seq: int, payload: bytes) -> bytes:
    """One record as it lies in a log file (header + payload)."""
    length_seq = _LEN_SEQ.pack(len(payload), seq)
    crc = zlib.crc32(payload, zlib.crc32(length_seq))
    return _HEADER.pack(len(payload), crc, seq) + payload


def _frames(data: bytes, entry: _File) -> Iterator[tuple[int, int, int]]:
    """(seq, payload start, payload end) of each frame; raises on a bad frame."""
    end, seq, reason = _scan(data, entry.first_seq)
    if reason and end < len(data):
        raise StorageError(f"WAL file {entry.path} is corrupt at byte {end}: {reason}")
    offset = len(MAGIC)
    while offset < end:
        length, _, seq = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        yield seq, start, start + length
        offset = start + length


def _scan(data: bytes, first_seq: int) -> tuple[int, int, str]:
    """Walk the frames of one file: (end of the valid prefix, last seq, why it ended)."""
    if data[: len(MAGIC)] != MAGIC:
        torn = len(data) < len(MAGIC) and MAGIC.startswith(data)
        return 0, first_seq - 1, "torn file header" if torn else "bad file header"
    offset = len(MAGIC)
    expected = first_seq
    size = len(data)
    while offset < size:
        if size - offset < _HEADER.size:
            return offset, expected - 1, "torn frame header"
        length, crc, seq = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        if start + length > size:
            return offset, expected - 1, "torn frame payload"
        if seq != expected:
            return offset, expected - 1, f"sequence {seq} where {expected} was expected"
        view = memoryview(data)[start : start + length]
        if zlib.crc32(view, zlib.crc32(_LEN_SEQ.pack(length, seq))) != crc:
            return offset, expected - 1, f"checksum mismatch in record {seq}"
        offset = start + length
        expected += 1
    return offset, expected - 1, ""


def _count_frames(data: bytes, offset: int) -> int:
    """How many frames the bytes from ``offset`` seem to hold, trusting length fields."""
    count = 0
    while offset < len(data):
        count += 1
        if len(data) - offset < _HEADER.size:
            break
        offset += _HEADER.size + _HEADER.unpack_from(data, offset)[0]
    return count


def inspect_wal(directory: str) -> RecoveryReport:
    """What opening the log would find, changing nothing (for ``elanus check``)."""
    if not os.path.isdir(directory):
        return RecoveryReport(directory, 0, 0, 1, 0)
    return _recover(directory, modify=False)[2]


def _recover(directory: str, modify: bool = True) -> tuple[list[_File], int, RecoveryReport]:
    found = sorted(
        (int(m.group(1)), name)
        for name in os.listdir(directory)
        if (m := _NAME.match(name)) is not None
    )
    files: list[_File] = []
    records = 0
    last_seq = found[0][0] - 1 if found else 0
    dropped_bytes = dropped_records = 0
    moved: list[str] = []
    empty: list[str] = []
    reason = ""
    for index, (first_seq, name) in enumerate(found):
        path = os.path.join(directory, name)
        if reason or (files and first_seq != last_seq + 1):
            if not reason:
                reason = f"file {name} starts at seq {first_seq}, expected {last_seq + 1}"
            dropped_bytes += os.path.getsize(path)
            if modify:
                os.replace(path, path + ".corrupt")
            moved.append(name + ".corrupt")
            continue
        with open(path, "rb") as fh:
            data = fh.read()
        if not data:
            empty.append(name)
        end, file_last, why = _scan(data, first_seq)
        records += file_last - first_seq + 1
        last_seq = file_last
        if why:
            torn_creation = not data and index == len(found) - 1
            if not torn_creation:
                reason = f"{name} at byte {end}: {why}"
            dropped_bytes += len(data) - end
            dropped_records += _count_frames(data, max(end, len(MAGIC)))
            if not modify:
                end = max(end, len(MAGIC))
            elif end == 0:
                # The header itself is bad or torn: start the file over, empty.
                with open(path, "wb") as fh:
                    fh.write(MAGIC)
                    fh.flush()
                    os.fsync(fh.fileno())
                end = len(MAGIC)
            else:
                with open(path, "r+b") as fh:
                    fh.truncate(end)
                    os.fsync(fh.fileno())
        files.append(_File(path, first_seq, end))
    if modify and (moved or dropped_bytes):
        fsync_dir(directory)
    first = files[0].first_seq if files else 1
    report = RecoveryReport(
        directory=directory,
        files=len(files),
        records=records,
        first_seq=first,
        last_seq=last_seq,
        dropped_bytes=dropped_bytes,
        dropped_records=dropped_records,
        moved_aside=tuple(moved),
        reason=reason,
        found_files=len(found),
        empty_files=tuple(empty),
    )
    return files, last_seq, report


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _datasync(fd: int) -> None:
    # fdatasync also flushes the file size, which is all an append changes.
    if hasattr(os, "fdatasync"):
        os.fdatasync(fd)
    else:
        os.fsync(fd)
