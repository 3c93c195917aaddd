"""A collection's files, kept through ``elanus.storage`` only (formats: docs/storage.md).

- WAL: ``storage.wal.WriteAheadLog`` under ``collections/<id>/wal``; every
  ``InsertBatch`` / ``DeleteBatch`` is one ``storage.batch_codec.WalBatch``. A user
  write split over partitions is several records tagged ``part`` i of ``parts``;
  replay applies a write only when all its parts are there, so a torn tail drops
  all of a write or none of it.
- Segments: ``storage.segment_files`` (Parquet scalars, memory-mapped vector
  blocks), with each segment's delete records in its ``deletes.arrow``.
- Manifest: ``storage.manifest.ManifestStore``; it alone says which segments are
  live. Directories it does not name (a crash before the commit, a segment a
  compaction replaced) are removed on open.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
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
from elanus.storage.fs import join

__all__ = ["CollectionStorage"]

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


class CollectionStorage:
    """WAL, sealed segment files and manifest of one collection."""

    def __init__(
        self, fs: FileSystem, layout: DataLayout, collection_id: int, *, sync: bool = True
    ) -> None:
        self.fs = fs
        self.layout = layout
        self.collection_id = collection_id
        self.directory = layout.collection_dir(collection_id)
        self.segments_dir = layout.segments_dir(collection_id)
        fs.mkdirs(self.segments_dir)
        self.wal = WriteAheadLog(layout.collection_wal_dir(collection_id), sync=sync)
        self.manifests = ManifestStore(fs, layout.manifest_dir(collection_id))
        self.manifest = self.manifests.load() or Manifest()
        self.skipped_on_replay: list[SkippedWrite] = []

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
        return SealedSegment(segment_id, partition, schema, read_segment(self.fs, path, schema))

    def load(self, schema: CollectionSchema) -> list[SealedSegment]:
        """The manifest's segments with their delete records; garbage directories removed."""
        remove_temp_dirs(self.fs, self.segments_dir)
        live = {self.layout.resolve(self.collection_id, e.path) for e in self.manifest.segments}
        for name in self.fs.list_dir(self.segments_dir):
            if join(self.segments_dir, name) not in live:
                self.fs.delete_dir(join(self.segments_dir, name))
        out = []
        for entry in self.manifest.segments:
            path = self.layout.resolve(self.collection_id, entry.path)
            seg = SealedSegment(
                entry.segment_id, entry.partition, schema, read_segment(self.fs, path, schema)
            )
            deletes = read_segment_deletes(self.fs, path)
            if deletes is not None:
                seg.add_deletes(as_key_array(deletes[0]), deletes[1])
            out.append(seg)
        return out

    def save_deletes(self, segment: SealedSegment) -> None:
        write_segment_deletes(self.fs, segment.path, segment.delete_keys, segment.delete_ts)

    def commit(self, sealed: Sequence[SealedSegment], checkpoint_seq: int | None = None) -> None:
        """Make ``sealed`` the live segments; with ``checkpoint_seq``, every write up to
        it is in them and the WAL before it goes."""
        entries = tuple(
            SegmentEntry(
                segment_id=s.segment_id,
                partition=s.partition_name,
                num_rows=s.num_rows,
                path=DataLayout.segment_rel_path(s.segment_id),
                min_timestamp=s.files.meta.min_timestamp,
                max_timestamp=s.files.meta.max_timestamp,
            )
            for s in sealed
        )
        seq = self.manifest.wal_seq if checkpoint_seq is None else checkpoint_seq
        next_id = max([self.manifest.next_segment_id, *(s.segment_id + 1 for s in sealed)])
        self.manifest = self.manifests.commit(
            Manifest(entries, seq, next_id, self.manifest.version)
        )
        if checkpoint_seq is not None:
            self.wal.truncate_before(checkpoint_seq + 1)

    def remove_segments(self, segments: Sequence[SealedSegment]) -> None:
        """Delete files of segments no longer in the manifest (open maps stay valid)."""
        for seg in segments:
            self.fs.delete_dir(seg.path)

    def save_index(self, segment_id: int, index_name: str, index: Any) -> str:
        """Save a built index beside its segment: a temp directory renamed into place,
        so a crash never leaves half an index where a load would find it."""
        final = self.index_dir(segment_id, index_name)
        tmp = f"{final}.tmp-{uuid.uuid4().hex}"
        index.save(tmp)
        if self.fs.exists(final):
            self.fs.delete_dir(final)
        self.fs.rename_dir(tmp, final)
        return final

    def drop_index(self, index_name: str) -> None:
        for entry in self.manifest.segments:
            path = self.index_dir(entry.segment_id, index_name)
            if self.fs.exists(path):
                self.fs.delete_dir(path)

    def close(self) -> None:
        self.wal.close()

    def destroy(self) -> None:
        self.wal.close()
        self.fs.delete_dir(self.directory)
