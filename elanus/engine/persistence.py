"""A collection's files, kept through ``elanus.storage`` only (formats: docs/storage.md).

- WAL: ``storage.wal.WriteAheadLog`` under ``collections/<id>/wal``; every
  ``InsertBatch`` / ``DeleteBatch`` is one ``storage.batch_codec.WalBatch``. A user
  write split over partitions is several records tagged ``part`` i of ``parts``;
  replay applies a write only when all its parts are there, so a torn tail drops
  all of a write or none of it.
- Segments: ``storage.segment_files`` (Parquet scalars, memory-mapped vector
  blocks), with each segment's delete records in its ``deletes.arrow``.
- Manifest: ``storage.manifest.ManifestStore``; it alone says which segments are
  live, and it records the checksum of every file of each (``storage.checksum``).
  With an intact newest manifest, directories it does not name (a crash before
  the commit, a segment a compaction replaced) are removed on open; without one
  they go to ``lost+found``, never deleted.

Opening checks what it finds against what the manifest says must exist (the
WAL reaches the manifest's checkpoint, every segment file is there and matches
its checksum). What does not hold is logged at ERROR and kept in ``problems``;
problems are also recorded in the manifest (``extra["damage"]``) so that the
collection stays reported as degraded across restarts until ``elanus repair``
acknowledges them. A segment that fails its checks is ``unavailable``: kept in
the manifest, left out of the live data.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from elanus.engine.collection import DeleteBatch, InsertBatch, SkippedWrite
from elanus.engine.keys import as_key_array
from elanus.engine.segment import SealedSegment
from elanus.errors import StorageError
from elanus.schema import CollectionSchema
from elanus.storage import (
    BatchKind,
    DataLayout,
    FileSystem,
    Manifest,
    ManifestStore,
    SegmentEntry,
    WalBatch,
    WriteAheadLog,
    decode_batch,
    encode_batch,
    read_segment,
    read_segment_deletes,
    remove_temp_dirs,
    write_segment,
    write_segment_deletes,
)
from elanus.storage.checksum import checksum_file, files_under, verify_file, verify_tree
from elanus.storage.fs import join, remove_write_leftovers
from elanus.storage.lost_found import move_to_lost_found
from elanus.storage.segment_files import (
    DELETES_FILE,
    check_segment,
    segment_checksums,
    verify_segment,
)

__all__ = ["DAMAGE_KEY", "CollectionStorage", "UnavailableSegment", "index_checksums"]

log = logging.getLogger(__name__)

Write = Sequence[InsertBatch | DeleteBatch]


def _encode(collection_id: int, write: Write) -> list[bytes]:
    out = []
    for part, rec in enumerate(write):
        meta: dict[str, Any] = {"part": part, "parts": len(write)}
        if isinstance(rec, InsertBatch):
            batch = WalBatch(
                BatchKind.INSERT,
                collection_id,
                rec.partition,
                rec.timestamp,
                rec.primary_keys,
                rec.columns,
                meta=meta,
            )
        else:
            meta["all_partitions"] = rec.partition is None
            batch = WalBatch(
                BatchKind.DELETE,
                collection_id,
                rec.partition or "",
                rec.timestamp,
                rec.keys,
                meta=meta,
            )
        out.append(encode_batch(batch))
    return out


def _decode(payload: bytes) -> tuple[InsertBatch | DeleteBatch, int, int]:
    """One record as (batch, its part number, parts in its write)."""
    b = decode_batch(payload)
    meta: Mapping[str, Any] = b.meta
    pks = b.primary_keys
    rec: InsertBatch | DeleteBatch
    if b.kind == BatchKind.INSERT:
        n = len(pks) if pks is not None else 0
        rec = InsertBatch(b.timestamp, b.partition, dict(b.columns), pks, n)
    else:
        partition = None if meta.get("all_partitions") else b.partition
        rec = DeleteBatch(b.timestamp, partition, as_key_array(pks))
    return rec, int(meta.get("part", 0)), int(meta.get("parts", 1))


@dataclass(frozen=True)
class UnavailableSegment:
    """A segment the manifest names whose files are missing or damaged."""

    entry: SegmentEntry
    reason: str


_DELETES_NAME = re.compile(r"^deletes(?:-(\d+))?\.arrow$")
DAMAGE_KEY = "damage"


class CollectionStorage:
    """WAL, sealed segment files and manifest of one collection.

    ``existing``: the collection was created before (its files are expected), so
    a missing directory, manifest or log is damage, not a fresh start.
    """

    def __init__(
        self,
        fs: FileSystem,
        layout: DataLayout,
        collection_id: int,
        *,
        sync: bool = True,
        existing: bool = False,
    ) -> None:
        self.fs = fs
        self.layout = layout
        self.collection_id = collection_id
        self.directory = layout.collection_dir(collection_id)
        self.segments_dir = layout.segments_dir(collection_id)
        self.problems: list[str] = []
        self.unavailable: dict[int, UnavailableSegment] = {}
        self._checksums: dict[int, dict[str, str]] = {}
        self._deletes_files: dict[int, str] = {}
        self._stale_files: list[str] = []
        # set by destroy: a background job still holding this store must write nothing
        self.destroyed = False
        if existing and not fs.exists(self.directory):
            self._problem(f"collection directory {self.directory} is missing: its data is lost")
        fs.mkdirs(self.segments_dir)
        self.wal = WriteAheadLog(layout.collection_wal_dir(collection_id), sync=sync)
        self.manifests = ManifestStore(fs, layout.manifest_dir(collection_id))
        self.manifests.remove_temps()
        self.manifest, self._trusted = self._load_manifest(existing)
        self._check_wal(existing)
        self.skipped_on_replay: list[SkippedWrite] = []

    # --- what opening found ---------------------------------------------------------
    @property
    def recorded_damage(self) -> list[str]:
        """Problems found by this or an earlier open, until a repair clears them."""
        return [str(p) for p in self.manifest.extra.get(DAMAGE_KEY, ())]

    @property
    def degraded(self) -> bool:
        return bool(self.recorded_damage or self.unavailable or self.problems)

    def _problem(self, text: str) -> None:
        log.error("collection %d: %s", self.collection_id, text)
        self.problems.append(text)

    def _quarantine(self, path: str, reason: str) -> None:
        target = move_to_lost_found(self.fs, self.layout, path, reason)
        self._problem(f"{path} moved to {target}: {reason}")

    def record_problems(self) -> None:
        """Keep this open's problems in the manifest, so the collection stays reported
        as degraded after a restart (``elanus repair`` clears them)."""
        recorded = self.recorded_damage
        new = [p for p in self.problems if p not in recorded]
        if not new:
            return
        extra = {**self.manifest.extra, DAMAGE_KEY: recorded + new}
        self.manifest = self.manifests.commit(replace(self.manifest, extra=extra))

    def clear_recorded_damage(self) -> None:
        if DAMAGE_KEY in self.manifest.extra:
            extra = {k: v for k, v in self.manifest.extra.items() if k != DAMAGE_KEY}
            self.manifest = self.manifests.commit(replace(self.manifest, extra=extra))

    def _load_manifest(self, existing: bool) -> tuple[Manifest, bool]:
        """The newest readable manifest and whether it can be trusted to name every
        live segment (it is the newest version written)."""
        try:
            loaded = self.manifests.load()
        except StorageError:
            loaded = None
        for path in self.manifests.skipped:
            # moved out of the way so that later commits never prune it
            self._quarantine(path, "damaged manifest version")
        if loaded is not None:
            return loaded, not self.manifests.skipped
        segments = [n for n in self.fs.list_dir(self.segments_dir) if ".tmp-" not in n]
        if self.manifests.skipped:
            self._problem("no readable manifest: the collection's sealed segments are not known")
        elif existing and (segments or self.wal.recovery.first_seq > 1):
            self._problem(
                f"manifest directory {self.manifests.directory} is empty or missing: "
                "the collection's sealed segments are not known"
            )
        return Manifest(), not (self.problems and segments)

    def _check_wal(self, existing: bool) -> None:
        """Compare the log found with what the manifest says it must hold, and make
        sure sequence numbers never restart below what was ever sealed."""
        report = self.wal.recovery
        floor = max([self.manifest.wal_seq, *(e.wal_seq for e in self.manifest.segments)])
        if report.damaged:
            self._problem(
                f"write-ahead log {report.directory} is damaged ({report.reason}): about "
                f"{report.dropped_records} logged records after seq {report.last_seq} are lost"
            )
        if existing and report.found_files == 0:
            self._problem(f"write-ahead log {report.directory} is missing: unsealed writes are lost")
        elif report.found_files == 1 and report.empty_files and floor == 0 and existing:
            self._problem(
                f"write-ahead log file {report.empty_files[0]} is empty: unsealed writes are lost"
            )
        if self.wal.last_seq < floor:
            if report.found_files and not report.damaged:
                self._problem(
                    f"write-ahead log ends at seq {self.wal.last_seq} but the manifest has "
                    f"sealed up to seq {floor}: the log was emptied, truncated or damaged, "
                    f"and writes made after seq {floor} that were not sealed are lost"
                )
            self.wal.skip_to(floor)
        elif report.first_seq > floor + 1:
            self._problem(
                f"write-ahead log starts at seq {report.first_seq} but the manifest has sealed "
                f"only up to seq {floor}: logged writes {floor + 1}..{report.first_seq - 1} "
                "are lost"
            )

    # --- WAL ------------------------------------------------------------------------
    def log(self, writes: Sequence[Write]) -> int:
        """Append the writes as one WAL write and one fsync; returns the last sequence."""
        return self.wal.append([p for w in writes for p in _encode(self.collection_id, w)])

    def replay(self) -> Iterator[tuple[int, list[InsertBatch | DeleteBatch]]]:
        """Whole writes after the manifest's checkpoint, in order."""
        pending: list[InsertBatch | DeleteBatch] = []
        for seq, payload in self.wal.replay(self.manifest.wal_seq):
            try:
                rec, part, parts = _decode(payload)
            except StorageError as exc:
                # An intact frame that does not decode: drop its write, keep the rest.
                self.skipped_on_replay.append(SkippedWrite(seq, str(exc)))
                log.error(
                    "collection %d: skipped WAL record seq %d: %s", self.collection_id, seq, exc
                )
                pending = []
                continue
            if part == 0:
                pending = []  # an earlier write torn before its last part is dropped
            pending.append(rec)
            if part == parts - 1 and len(pending) == parts:
                yield seq, pending
                pending = []

    # --- segments -------------------------------------------------------------------
    def segment_path(self, segment_id: int) -> str:
        return self.layout.segment_dir(self.collection_id, segment_id)

    def index_dir(self, segment_id: int, index_name: str) -> str:
        return self.layout.index_dir(self.collection_id, segment_id, index_name)

    def write_segment(
        self,
        segment_id: int,
        partition: str,
        schema: CollectionSchema,
        columns: Mapping[str, Any],
        pks: Any,
        timestamps: np.ndarray,
    ) -> SealedSegment:
        """Write a sealed segment's files and open them again, memory-mapped."""
        path = self.segment_path(segment_id)
        write_segment(self.fs, path, schema, columns, pks, timestamps)
        self._checksums[segment_id] = segment_checksums(self.fs, path)
        self._deletes_files[segment_id] = ""
        return SealedSegment(segment_id, partition, schema, read_segment(self.fs, path, schema))

    def load(self, schema: CollectionSchema) -> list[SealedSegment]:
        """The manifest's segments that pass their checks, with their delete records.

        Directories the manifest does not name are removed when the manifest is
        the newest one written and the log agrees with it, and moved to
        ``lost+found`` otherwise (with the log damaged, an unnamed segment may hold
        the only copy of rows it lost).
        """
        remove_temp_dirs(self.fs, self.segments_dir)
        live = {self.layout.resolve(self.collection_id, e.path) for e in self.manifest.segments}
        for directory in (self.manifests.directory, *live):
            remove_write_leftovers(self.fs, directory)
        for directory in live:
            remove_temp_dirs(self.fs, join(directory, "indexes"))  # an index save cut short
        self._trusted = self._trusted and not self.problems
        for name in self.fs.list_dir(self.segments_dir):
            path = join(self.segments_dir, name)
            if path in live:
                continue
            if self._trusted:
                self.fs.delete_dir(path)
            else:
                self._quarantine(path, "a segment no readable manifest names")
        out = []
        for entry in self.manifest.segments:
            try:
                out.append(self._open_segment(entry, schema))
            except StorageError as exc:
                self.unavailable[entry.segment_id] = UnavailableSegment(entry, str(exc))
                log.error(
                    "collection %d: segment %d is unavailable: %s",
                    self.collection_id,
                    entry.segment_id,
                    exc,
                )
        self.record_problems()
        return out

    def _open_segment(self, entry: SegmentEntry, schema: CollectionSchema) -> SealedSegment:
        path = self.layout.resolve(self.collection_id, entry.path)
        verified = "segment.json" in entry.checksums
        files = read_segment(self.fs, path, schema, checksums=entry.checksums if verified else None)
        if not verified:
            check_segment(files)
        if files.num_rows != entry.num_rows:
            raise StorageError(
                f"segment {path} holds {files.num_rows} rows, its manifest entry {entry.num_rows}"
            )
        seg = SealedSegment(entry.segment_id, entry.partition, schema, files)
        name = entry.deletes_file or DELETES_FILE
        deletes = read_segment_deletes(
            self.fs, path, name=name, checksum=entry.checksums.get(name) if verified else None
        )
        if deletes is not None:
            seg.add_deletes(as_key_array(deletes[0]), deletes[1])
        if self._trusted:
            for other in self.fs.list_dir(path):
                if _DELETES_NAME.match(other) and other != name:
                    self.fs.delete_file(join(path, other))  # written by an uncommitted flush
        indexes = join(path, "indexes")
        for other in self.fs.list_dir(indexes):
            if ".tmp-" in other:
                self.fs.delete_dir(join(indexes, other))  # an index save cut short
        self._checksums[entry.segment_id] = dict(entry.checksums)
        self._deletes_files[entry.segment_id] = entry.deletes_file
        return seg

    def verify_segment_files(self, segment_id: int) -> None:
        """Check a live segment's files against the manifest again (a scrub);
        ``StorageError`` names the first bad file. Unverifiable (old) segments pass."""
        sums = self._checksums.get(segment_id, {})
        if "segment.json" not in sums:
            return
        path = self.segment_path(segment_id)
        verify_segment(self.fs, path, sums)
        deletes = self._deletes_files.get(segment_id)
        if deletes:
            verify_file(self.fs, join(path, deletes), sums[deletes])

    def mark_unavailable(self, segment: SealedSegment, reason: str) -> None:
        """Take a live segment out of service (its files failed a check); it stays in
        the manifest, reported, until a repair."""
        entry = self._entry(segment, self.manifest.wal_seq)
        self.unavailable[segment.segment_id] = UnavailableSegment(entry, reason)
        self._problem(f"segment {segment.segment_id} is unavailable: {reason}")

    def save_deletes(self, segment: SealedSegment) -> None:
        """Write the segment's delete records under a new name; the next ``commit``
        makes it current and removes the old file."""
        sid = segment.segment_id
        old = self._deletes_files.get(sid, "")
        found = _DELETES_NAME.match(old)
        version = int(found.group(1) or 0) + 1 if found else 1
        name = f"deletes-{version:06d}.arrow"
        checksum = write_segment_deletes(
            self.fs, segment.path, segment.delete_keys, segment.delete_ts, name=name
        )
        sums = self._checksums.setdefault(sid, {})
        stale = old or DELETES_FILE
        sums.pop(stale, None)
        sums[name] = str(checksum)
        self._deletes_files[sid] = name
        self._stale_files.append(join(segment.path, stale))

    def _entry(self, s: SealedSegment, seq: int) -> SegmentEntry:
        """``s`` as the manifest lists it; a segment new to the manifest covers the
        log up to ``seq`` (the checkpoint it is committed with)."""
        known = self.manifest.segment(s.segment_id)
        return SegmentEntry(
            segment_id=s.segment_id,
            partition=s.partition_name,
            num_rows=s.num_rows,
            path=DataLayout.segment_rel_path(s.segment_id),
            min_timestamp=s.files.meta.min_timestamp,
            max_timestamp=s.files.meta.max_timestamp,
            wal_seq=known.wal_seq if known is not None else seq,
            checksums=dict(self._checksums.get(s.segment_id, {})),
            deletes_file=self._deletes_files.get(s.segment_id, ""),
        )

    def commit(self, sealed: Sequence[SealedSegment], checkpoint_seq: int | None = None) -> None:
        """Make ``sealed`` the live segments; with ``checkpoint_seq``, every write up to
        it is in them and the WAL before it goes. Unavailable segments stay listed."""
        seq = self.manifest.wal_seq if checkpoint_seq is None else checkpoint_seq
        seq = max(seq, self.manifest.wal_seq)  # the checkpoint never moves back
        entries = tuple(self._entry(s, seq) for s in sealed)
        entries += tuple(u.entry for u in self.unavailable.values())
        next_id = max([self.manifest.next_segment_id, *(s.segment_id + 1 for s in sealed)])
        self.manifest = self.manifests.commit(
            Manifest(entries, seq, next_id, self.manifest.version, self.manifest.extra)
        )
        # The commit stands from here: a cleanup the disk refuses must not make the
        # caller undo it (and remove files the new manifest names).
        try:
            self._remove_stale_files()
            if checkpoint_seq is not None:
                self.wal.truncate_before(seq + 1)
        except (OSError, StorageError) as exc:
            log.warning("collection %d: cleanup after a commit failed: %s", self.collection_id, exc)

    def _remove_stale_files(self) -> None:
        stale, self._stale_files = self._stale_files, []
        for path in stale:
            self.fs.delete_file(path)

    def commit_checksums(self) -> None:
        """Commit the manifest again with the checksums recorded since (index files)."""
        entries = tuple(
            replace(e, checksums=dict(self._checksums.get(e.segment_id, e.checksums)))
            for e in self.manifest.segments
        )
        self.manifest = self.manifests.commit(replace(self.manifest, segments=entries))

    def remove_segments(self, segments: Sequence[SealedSegment]) -> None:
        """Delete files of segments no longer in the manifest (open maps stay valid)."""
        for seg in segments:
            self.fs.delete_dir(seg.path)
            self._checksums.pop(seg.segment_id, None)
            self._deletes_files.pop(seg.segment_id, None)

    # --- indexes --------------------------------------------------------------------
    def save_index(
        self, segment_id: int, index_name: str, index: Any
    ) -> tuple[str, dict[str, str]]:
        """Save a built index beside its segment: a temp directory renamed into place,
        so a crash never leaves half an index where a load would find it. Returns
        where it went and its files' checksums (for ``record_index``)."""
        final = self.index_dir(segment_id, index_name)
        tmp = f"{final}.tmp-{uuid.uuid4().hex}"
        try:
            index.save(tmp)
            files = files_under(self.fs, tmp)
            sums = {
                f"indexes/{index_name}/{rel}": str(checksum_file(self.fs, join(tmp, rel)))
                for rel in files
            }
            for rel in files:
                self.fs.sync_file(join(tmp, rel))
            if self.fs.exists(final):
                self.fs.delete_dir(final)
            self.fs.rename_dir(tmp, final)
        except BaseException:
            self.fs.delete_dir(tmp)  # a full disk: leave no half-written index behind
            raise
        return final, sums

    def record_index(self, segment_id: int, index_name: str, checksums: Mapping[str, str]) -> None:
        """Keep a saved index's checksums for the next manifest commit."""
        recorded = self._checksums.setdefault(segment_id, {})
        prefix = f"indexes/{index_name}/"
        for key in [k for k in recorded if k.startswith(prefix)]:
            del recorded[key]
        recorded.update(checksums)

    def verify_index(self, segment_id: int, index_name: str) -> str:
        """Check a saved index against its recorded checksums: "verified";
        "unverified" for a segment written before checksums (loaded as it is);
        "unrecorded" when its files were saved but their checksums never committed
        (a crash in between: build it again). Raises ``StorageError`` naming the
        file when one is damaged or missing."""
        recorded = self._checksums.get(segment_id, {})
        if "segment.json" not in recorded:
            return "unverified"
        expected = index_checksums(recorded, index_name)
        if not expected:
            return "unrecorded"
        verify_tree(self.fs, self.index_dir(segment_id, index_name), expected)
        return "verified"

    def forget_index(self, segment_id: int, index_name: str) -> bool:
        """Drop an index's recorded checksums before its files are replaced; True
        when the committed manifest still names them (commit before replacing,
        or a crash would leave new files under old checksums)."""
        prefix = f"indexes/{index_name}/"
        recorded = self._checksums.get(segment_id, {})
        for key in [k for k in recorded if k.startswith(prefix)]:
            del recorded[key]
        entry = self.manifest.segment(segment_id)
        return entry is not None and any(k.startswith(prefix) for k in entry.checksums)

    def drop_index(self, index_name: str) -> None:
        """Remove an index's files from every segment. Its checksums leave the
        manifest first, so a crash half way never leaves recorded checksums over
        a half-deleted directory (caller holds the collection's write lock)."""
        recorded = [self.forget_index(e.segment_id, index_name) for e in self.manifest.segments]
        if any(recorded):
            self.commit_checksums()
        for entry in self.manifest.segments:
            path = self.index_dir(entry.segment_id, index_name)
            if self.fs.exists(path):
                self.fs.delete_dir(path)

    def close(self) -> None:
        self.wal.close()

    def destroy(self) -> None:
        self.destroyed = True
        self.wal.close()
        self.fs.delete_dir(self.directory)

    def remove_leftovers(self) -> None:
        """After ``destroy``: delete what a background job that was already running
        wrote meanwhile (its writes recreate the directory)."""
        if self.destroyed and self.fs.exists(self.directory):
            self.fs.delete_dir(self.directory)


def index_checksums(recorded: Mapping[str, str], index_name: str) -> dict[str, str]:
    """The recorded checksums of one index's files, relative to its directory."""
    prefix = f"indexes/{index_name}/"
    return {k[len(prefix) :]: v for k, v in recorded.items() if k.startswith(prefix)}
