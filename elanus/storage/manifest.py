"""Per-collection manifest: the list of live sealed segments, replaced atomically.

Each version is its own file, ``manifest/<version:020d>.json``, written with
``FileSystem.write_atomic``; the body carries a CRC32 so that a damaged file is
recognised. Loading takes the newest version that reads back whole and falls
back to an older one otherwise. The newest ``keep`` versions are kept.
The manifest, not a directory listing, says which segments are live: a segment
directory that no manifest names is garbage (a crash between writing it and
committing the manifest, or a segment compaction replaced).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from elanus.errors import StorageError
from elanus.storage.fs import FileSystem, join

__all__ = ["Manifest", "ManifestStore", "SegmentEntry"]

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{20})\.json$")
_TEMP = re.compile(r"^\.\d{20}\.json\.[0-9a-f]+\.tmp$")


@dataclass(frozen=True)
class SegmentEntry:
    """One live sealed segment.

    ``path`` is relative to the collection directory. ``wal_seq`` is the highest
    WAL sequence number whose rows the segment holds. ``checksums`` maps each
    file of the segment (path relative to the segment directory, index files
    included) to its ``storage.checksum`` record; empty for segments written
    before checksums were kept, which are then read unverified.
    ``deletes_file`` names the current delete-record file ("" when none or
    unknown). ``extra`` is for the engine; storage keeps it as given (JSON
    values only).
    """

    segment_id: int
    partition: str
    num_rows: int
    path: str
    min_timestamp: int
    max_timestamp: int
    wal_seq: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
    checksums: Mapping[str, str] = field(default_factory=dict)
    deletes_file: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "checksums": dict(self.checksums),
            "deletes_file": self.deletes_file,
            "segment_id": self.segment_id,
            "partition": self.partition,
            "num_rows": self.num_rows,
            "path": self.path,
            "min_timestamp": self.min_timestamp,
            "max_timestamp": self.max_timestamp,
            "wal_seq": self.wal_seq,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SegmentEntry:
        return cls(
            segment_id=int(raw["segment_id"]),
            partition=str(raw["partition"]),
            num_rows=int(raw["num_rows"]),
            path=str(raw["path"]),
            min_timestamp=int(raw["min_timestamp"]),
            max_timestamp=int(raw["max_timestamp"]),
            wal_seq=int(raw.get("wal_seq", 0)),
            extra=dict(raw.get("extra") or {}),
            checksums={str(k): str(v) for k, v in (raw.get("checksums") or {}).items()},
            deletes_file=str(raw.get("deletes_file") or ""),
        )


@dataclass(frozen=True)
class Manifest:
    """One version of a collection's manifest.

    ``wal_seq`` is the WAL sequence number up to which every record of this
    collection is in the listed segments (replay starts after it).
    ``next_segment_id`` is the next id to hand out. ``version`` is assigned by
    ``ManifestStore.commit``.
    """

    segments: tuple[SegmentEntry, ...] = ()
    wal_seq: int = 0
    next_segment_id: int = 1
    version: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        return sum(s.num_rows for s in self.segments)

    def segment(self, segment_id: int) -> SegmentEntry | None:
        for entry in self.segments:
            if entry.segment_id == segment_id:
                return entry
        return None

    def replace_segments(
        self, remove: Iterable[int] = (), add: Iterable[SegmentEntry] = ()
    ) -> Manifest:
        """A copy without the ``remove`` ids and with ``add`` appended (a compaction swap)."""
        gone = set(remove)
        kept = tuple(s for s in self.segments if s.segment_id not in gone)
        return replace(self, segments=kept + tuple(add))

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "wal_seq": self.wal_seq,
            "next_segment_id": self.next_segment_id,
            "segments": [s.to_json() for s in self.segments],
            "extra": dict(self.extra),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Manifest:
        return cls(
            segments=tuple(SegmentEntry.from_json(s) for s in raw["segments"]),
            wal_seq=int(raw["wal_seq"]),
            next_segment_id=int(raw["next_segment_id"]),
            version=int(raw["version"]),
            extra=dict(raw.get("extra") or {}),
        )


class ManifestStore:
    """Reads and commits the manifest versions in one directory. Thread-safe."""

    def __init__(self, fs: FileSystem, directory: str, *, keep: int = 3) -> None:
        self.fs = fs
        self.directory = directory
        self.keep = max(1, keep)
        self._lock = threading.Lock()
        # Newer versions the last ``load`` found damaged and passed over.
        self.skipped: tuple[str, ...] = ()

    def load(self) -> Manifest | None:
        """The newest valid manifest, or None when no version was ever committed.

        Damaged newer versions passed over are listed in ``skipped``.
        """
        versions = self._versions()
        skipped: list[str] = []
        for version in reversed(versions):
            path = self._path(version)
            manifest = _decode(self.fs, path)
            if manifest is not None and manifest.version == version:
                self.skipped = tuple(skipped)
                return manifest
            skipped.append(path)
            log.error("manifest %s is damaged; falling back to an older version", path)
        self.skipped = tuple(skipped)
        if versions:
            raise StorageError(f"no readable manifest in {self.directory}")
        return None

    def commit(self, manifest: Manifest) -> Manifest:
        """Write ``manifest`` as the next version, atomically; return it with its version.

        Raises ``StorageError`` if another version was committed since
        ``manifest.version`` (a lost update); start from ``load()`` again then.
        """
        with self._lock:
            versions = self._versions()
            latest = versions[-1] if versions else 0
            newer = [v for v in versions if v > manifest.version]
            if manifest.version not in (0, *versions) or any(
                _decode(self.fs, self._path(v)) is not None for v in newer
            ):
                raise StorageError(
                    f"manifest in {self.directory} is at version {latest}, "
                    f"not {manifest.version}: reload before committing"
                )
            saved = replace(manifest, version=latest + 1)
            body = json.dumps(saved.to_json(), sort_keys=True)
            doc = {"crc32": zlib.crc32(body.encode()), "manifest": body}
            self.fs.mkdirs(self.directory)
            self.fs.write_atomic(self._path(saved.version), json.dumps(doc).encode())
            for old in versions[: max(0, len(versions) + 1 - self.keep)]:
                try:
                    self.fs.delete_file(self._path(old))
                except OSError as exc:
                    # the commit stands; an old version left over is only clutter
                    log.warning("cannot remove old manifest %s: %s", self._path(old), exc)
            return saved

    def remove_temps(self) -> list[str]:
        """Delete temp files an interrupted commit left (never renamed into place,
        so never a version); the caller holds the directory lock."""
        stale = [n for n in self.fs.list_dir(self.directory) if _TEMP.match(n)]
        for name in stale:
            self.fs.delete_file(join(self.directory, name))
        return stale

    def _versions(self) -> list[int]:
        return sorted(
            int(m.group(1)) for n in self.fs.list_dir(self.directory) if (m := _NAME.match(n))
        )

    def _path(self, version: int) -> str:
        return join(self.directory, f"{version:020d}.json")


def _decode(fs: FileSystem, path: str) -> Manifest | None:
    try:
        doc = json.loads(fs.read_bytes(path))
        body = doc["manifest"]
        if zlib.crc32(body.encode()) != doc["crc32"]:
            return None
        return Manifest.from_json(json.loads(body))
    except (OSError, ValueError, KeyError, TypeError):
        return None
