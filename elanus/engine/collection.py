"""One collection's live data: its segments, delete masks and published snapshot.

Write path (DESIGN.md, "Data path"): the caller validates the batch; here, under
the collection's write lock, it is stamped, appended to the WAL (durable before
this returns), applied to the partition's growing segment, and a new immutable
``Snapshot`` is published. Readers take ``snapshot`` without a lock.

Group commit: writers queue their write and take the write lock; whoever gets it
first commits every write queued by then with one WAL append and one fsync, and
the others find theirs done when the lock comes to them. A write is published
and acknowledged only after that fsync.

Delete masks are immutable once published: a write that hides rows of a segment
copies that segment's mask, changes the copy, and publishes it with the snapshot.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from elanus.engine.batch_check import check_delete_keys, check_insert_columns
from elanus.engine.expiry import without_expired
from elanus.engine.keys import as_key_array, last_occurrence_mask
from elanus.engine.segment import GrowingSegment, SealedSegment, null_column
from elanus.engine.snapshot import SegmentView, Snapshot
from elanus.engine.timestamps import TimestampOracle
from elanus.engine.visibility import DeleteRecord, compute_masks
from elanus.errors import InternalError
from elanus.schema import DYNAMIC_FIELD_NAME, CollectionSchema
from elanus.storage.fs import storage_errors

if TYPE_CHECKING:
    from elanus.engine.persistence import CollectionStorage

__all__ = ["CollectionData", "DeleteBatch", "InsertBatch", "SkippedWrite"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InsertBatch:
    """Validated rows for one partition, stamped with one timestamp (a WAL record)."""

    timestamp: int
    partition: str
    columns: dict[str, Any]
    primary_keys: Any
    num_rows: int


@dataclass(frozen=True)
class DeleteBatch:
    timestamp: int
    partition: str | None
    keys: np.ndarray


@dataclass(frozen=True)
class SkippedWrite:
    """A logged write that replay could not apply: its WAL sequence and why."""

    seq: int
    reason: str


def _check_records(schema: CollectionSchema, records: list[InsertBatch | DeleteBatch]) -> None:
    """Everything that could make a record fail to apply fails here, before logging."""
    for rec in records:
        if isinstance(rec, InsertBatch):
            check_insert_columns(schema, rec.columns, rec.primary_keys, rec.num_rows)
        else:
            check_delete_keys(schema, rec.keys)


@dataclass(eq=False)
class _PendingWrite:
    """A write waiting for the group commit that will make it durable."""

    make: Callable[[int], list[InsertBatch | DeleteBatch]]
    reads_rows: bool
    done: bool = False
    timestamp: int = 0
    error: BaseException | None = None


class _GrowingMask:
    """A growing segment's mask with spare capacity; published arrays never change
    below the row count they were published with."""

    def __init__(self) -> None:
        self.data = np.zeros(1024, dtype=bool)

    def ensure(self, size: int) -> None:
        if size > len(self.data):
            grown = np.zeros(max(size, 2 * len(self.data)), dtype=bool)
            grown[: len(self.data)] = self.data
            self.data = grown


class CollectionData:
    """Segments, masks and snapshots of one collection (all partitions)."""

    def __init__(
        self,
        collection_id: int,
        schema: CollectionSchema,
        oracle: TimestampOracle,
        store: CollectionStorage,
        *,
        seal_bytes: int = 64 << 20,
        seal_rows: int = 1_000_000,
        ttl_ms: Callable[[], int] = lambda: 0,
    ) -> None:
        self.collection_id = collection_id
        self.schema = schema
        self.oracle = oracle
        self.store = store
        self.seal_bytes = seal_bytes
        self.seal_rows = seal_rows
        self.ttl_ms = ttl_ms
        self.write_lock = threading.RLock()
        self.sealed: list[SealedSegment] = []
        self.growing: dict[str, GrowingSegment] = {}
        self._masks: dict[int, np.ndarray] = {}
        self._gmasks: dict[int, _GrowingMask] = {}
        # Deletes since the last flush; at flush each goes to the segments whose rows it hides.
        self.unsealed_deletes: list[DeleteRecord] = []
        # Called after a write sealed segments (the engine schedules their index builds).
        self.on_seal: Callable[[], None] = lambda: None
        self._queue: list[_PendingWrite] = []
        self._queue_lock = threading.Lock()
        self.last_write_ts = 0
        self.last_seq = 0
        self.index_specs: dict[str, Any] = {}
        self._snapshot = Snapshot(0, schema, ())
        self._stamped: tuple[Snapshot, Snapshot] | None = None
        self.skipped_on_replay: list[SkippedWrite] = []
        # Columns the last load left out of memory (engine/load_settings.py).
        self.unloaded_fields: frozenset[str] = frozenset()

    # --- reading ------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def read(self, timestamp: int) -> Snapshot:
        """The published snapshot, stamped with the read timestamp, expired rows hidden
        as of the wall clock now (engine/expiry.py)."""
        snap = self._snapshot
        # Reads between writes share one stamped snapshot (immutable): no new object
        # per request while neither the published snapshot nor the timestamp moves.
        stamped = self._stamped
        if stamped is not None and stamped[0] is snap and stamped[1].timestamp == timestamp:
            out = stamped[1]
        else:
            out = Snapshot(
                timestamp, snap.schema, snap.segments, snap.index_specs, snap.collection_wide
            )
            self._stamped = (snap, out)
        ttl = self.ttl_ms()
        if ttl <= 0:
            return out
        return without_expired(replace(out, ttl_ms=ttl), self.oracle.wall_ms())

    def _publish(self, timestamp: int) -> None:
        for s in self.sealed:
            s.set_transient(self.unloaded_fields)
        views: list[SegmentView] = [
            SegmentView(s, s.num_rows, self._masks[s.segment_id], True) for s in self.sealed
        ]
        for g in self.growing.values():
            if g.num_rows:
                views.append(SegmentView(g, g.num_rows, self._gmasks[g.segment_id].data, False))
        self._snapshot = Snapshot(
            max(timestamp, self._snapshot.timestamp),
            self.schema,
            tuple(views),
            dict(self.index_specs),
        )

    # --- writing --------------------------------------------------------------------
    def _growing_for(self, partition: str) -> GrowingSegment:
        g = self.growing.get(partition)
        if g is None:
            g = GrowingSegment(self.oracle.now(), partition, self.schema)
            self.growing[partition] = g
            self._gmasks[g.segment_id] = _GrowingMask()
        return g

    def _hide(self, keys: np.ndarray, before_ts: int, partition: str | None) -> None:
        """Hide every row with one of ``keys`` older than ``before_ts`` (copy-on-write)."""
        for seg in self.sealed:
            if partition is not None and seg.partition_name != partition:
                continue
            _, rows = seg.sorted_keys().match(keys)
            if len(rows):
                rows = rows[seg.row_timestamps()[rows] < np.uint64(before_ts)]
                if len(rows) and not self._masks[seg.segment_id][rows].all():
                    mask = self._masks[seg.segment_id].copy()
                    mask[rows] = True
                    self._masks[seg.segment_id] = mask
        for g in self.growing.values():
            if (partition is not None and g.partition_name != partition) or not g.num_rows:
                continue
            _, rows = g.sorted_keys().match(keys)
            if len(rows):
                rows = rows[g.row_timestamps()[rows] < np.uint64(before_ts)]
                gm = self._gmasks[g.segment_id]
                if len(rows) and not gm.data[rows].all():
                    data = gm.data.copy()
                    data[rows] = True
                    gm.data = data

    def _apply_insert(self, batch: InsertBatch, seq: int | None, track: bool = True) -> None:
        keys = as_key_array(batch.primary_keys)
        if track:
            self._hide(keys, batch.timestamp + 1, None)
        g = self._growing_for(batch.partition)
        stamps = np.full(batch.num_rows, batch.timestamp, dtype=np.uint64)
        start = g.append(batch.columns, batch.primary_keys, stamps, seq)
        gm = self._gmasks[g.segment_id]
        gm.ensure(g.num_rows)
        if track:
            # rows past the published count are invisible, so writing them in place is safe
            gm.data[start : start + batch.num_rows] = ~last_occurrence_mask(keys)

    def _apply_delete(self, batch: DeleteBatch, track: bool = True) -> None:
        self.unsealed_deletes.append(DeleteRecord(batch.keys, batch.timestamp, batch.partition))
        if track:
            self._hide(batch.keys, batch.timestamp, batch.partition)

    def write(
        self, make: Callable[[int], list[InsertBatch | DeleteBatch]], *, reads_rows: bool = False
    ) -> int:
        """Stamp, log, apply and publish the batches ``make(timestamp)`` returns.

        ``reads_rows``: ``make`` reads the published rows (a partial upsert), so it
        must not share a group commit with writes queued before it.
        """
        pending = _PendingWrite(make, reads_rows)
        with self._queue_lock:
            self._queue.append(pending)
        with self.write_lock:
            while not pending.done:
                self._commit_group()
        if pending.error is not None:
            raise pending.error
        return pending.timestamp

    def _next_group(self) -> list[_PendingWrite]:
        with self._queue_lock:
            size = 1
            while size < len(self._queue) and not self._queue[size].reads_rows:
                size += 1
            group, self._queue = self._queue[:size], self._queue[size:]
        return group

    def _commit_group(self) -> None:
        """Commit the writes at the head of the queue with one WAL append (write lock held)."""
        group = self._next_group()
        writes: list[tuple[_PendingWrite, list[InsertBatch | DeleteBatch]]] = []
        try:
            for p in group:
                p.timestamp = self.oracle.now()
                try:
                    records = p.make(p.timestamp)
                    _check_records(self.schema, records)
                except Exception as exc:  # bad input of one write fails that writer alone
                    p.error, p.done = exc, True
                    continue
                if records:
                    writes.append((p, records))
                else:
                    p.done = True
            if writes:
                self.last_seq = self.store.log([records for _, records in writes])
        except BaseException as exc:
            for p in group:
                if not p.done:
                    p.error, p.done = exc, True
            return
        for p, records in writes:
            for rec in records:
                if isinstance(rec, InsertBatch):
                    self._apply_insert(rec, self.last_seq)
                else:
                    self._apply_delete(rec)
            self.last_write_ts = max(self.last_write_ts, p.timestamp)
        if writes:
            self._publish(self.last_write_ts)
        for p, _ in writes:
            p.done = True
        if any(
            g.size_bytes >= self.seal_bytes or g.num_rows >= self.seal_rows
            for g in self.growing.values()
        ):
            self.flush()
            self.on_seal()

    def replay(self, records: Iterable[tuple[int, list[InsertBatch | DeleteBatch]]]) -> None:
        """Apply WAL records on open; masks are computed once at the end.

        A logged write that does not fit the schema (a bug in whatever built it)
        is skipped whole, logged and listed in ``skipped_on_replay``: the rest of
        the data stays readable rather than the directory becoming unopenable.
        """
        with self.write_lock:
            for seq, batch in records:
                try:
                    _check_records(self.schema, batch)
                except InternalError as exc:
                    self.skipped_on_replay.append(SkippedWrite(seq, str(exc)))
                    log.error(
                        "collection %d: skipped logged write seq %d on replay: %s",
                        self.collection_id,
                        seq,
                        exc,
                    )
                    self.last_seq = max(self.last_seq, seq)
                    continue
                for rec in batch:
                    if isinstance(rec, InsertBatch):
                        self._apply_insert(rec, seq, track=False)
                    else:
                        self._apply_delete(rec, track=False)
                    self.last_write_ts = max(self.last_write_ts, rec.timestamp)
                self.last_seq = max(self.last_seq, seq)
            self.oracle.observe(self.last_write_ts)
            self.recompute_masks()
            self._publish(self.last_write_ts)

    def _all_deletes(self) -> list[DeleteRecord]:
        records = [
            DeleteRecord(s.delete_keys, s.delete_ts, s.partition_name)
            for s in self.sealed
            if len(s.delete_keys)
        ]
        return records + self.unsealed_deletes

    def recompute_masks(self) -> None:
        entries: list[tuple[object, int, str]] = [
            (s, s.num_rows, s.partition_name) for s in self.sealed
        ]
        growing = [g for g in self.growing.values() if g.num_rows]
        entries += [(g, g.num_rows, g.partition_name) for g in growing]
        masks = compute_masks(entries, self._all_deletes())
        for s, m in zip(self.sealed, masks[: len(self.sealed)]):
            self._masks[s.segment_id] = m
        for g, m in zip(growing, masks[len(self.sealed) :]):
            gm = _GrowingMask()
            gm.ensure(len(m))
            gm.data[: len(m)] = m
            self._gmasks[g.segment_id] = gm

    # --- sealing --------------------------------------------------------------------
    def _seal_columns(self, g: GrowingSegment) -> dict[str, Any]:
        """The growing segment's columns for its files; fields it never saw are null."""
        columns = g.frozen_columns()
        names = [f.name for f in self.schema.fields]
        if self.schema.enable_dynamic_field:
            names.append(DYNAMIC_FIELD_NAME)
        for name in names:
            if name not in columns:
                columns[name] = null_column(self.schema.get(name), g.num_rows)
        return columns

    def flush(self, force: bool = False) -> int:
        """Seal every non-empty growing segment, persist deletes, checkpoint the WAL."""
        with self.write_lock:
            to_seal = [g for g in self.growing.values() if g.num_rows]
            if not to_seal and not self.unsealed_deletes and not force:
                return self.last_write_ts
            new_sealed: list[SealedSegment] = []
            sealed = list(self.sealed)
            # A failure (a full disk) leaves memory as it was and no new files: the
            # rows stay in the log and growing segments, and a later flush retries.
            with self._undo_on_failure("flush", sealed, new_sealed):
                for g in to_seal:
                    path = self.store.segment_path(g.segment_id)
                    if self.store.fs.exists(path):
                        self.store.fs.delete_dir(path)  # left by a flush that failed
                    n = g.num_rows
                    new_sealed.append(
                        self.store.write_segment(
                            g.segment_id,
                            g.partition_name,
                            self.schema,
                            self._seal_columns(g),
                            _cut(g.primary_keys(), n),
                            g.row_timestamps()[:n],
                        )
                    )
                sealed += new_sealed
                for seg in attribute_deletes(self.unsealed_deletes, sealed):
                    self.store.save_deletes(seg)
                self.store.commit(sealed, self.last_seq)
            for g, seg in zip(to_seal, new_sealed):
                self._masks[seg.segment_id] = (
                    self._gmasks.pop(g.segment_id).data[: seg.num_rows].copy()
                )
            self.sealed = sealed
            for g in to_seal:
                del self.growing[g.partition_name]
            self.unsealed_deletes = []
            self._publish(self.last_write_ts)
            return self.last_write_ts

    @contextmanager
    def _undo_on_failure(
        self, action: str, sealed: list[SealedSegment], written: list[SealedSegment]
    ) -> Iterator[None]:
        """Around writing files and committing the manifest: on an error, give the
        sealed segments back their delete records, remove the ``written`` segments'
        files, and raise a ``StorageError`` (an ``OSError`` is one by then)."""
        deletes = [(s, s.delete_keys, s.delete_ts) for s in sealed]
        try:
            with storage_errors(
                f"{action} collection {self.collection_id} in", self.store.directory
            ):
                yield
        except BaseException:
            for seg, keys, stamps in deletes:
                seg.delete_keys, seg.delete_ts = keys, stamps
            self.store.remove_segments(written)
            raise

    def replace_sealed(self, removed: list[SealedSegment], added: list[SealedSegment]) -> None:
        """Swap compacted segments in; masks are recomputed against everything since.

        The removed segments' delete records move to the added ones, keeping only
        those that still hide a row there: the rest went with the rows compaction dropped.
        """
        with self.write_lock:
            if self.store.destroyed:
                self.store.remove_leftovers()  # dropped while the compaction ran
                return
            gone = {s.segment_id for s in removed}
            if not gone.issubset({s.segment_id for s in self.sealed}):
                self.store.remove_segments(added)  # the collection changed under the compaction
                return
            kept = [s for s in self.sealed if s.segment_id not in gone]
            moved = [
                DeleteRecord(s.delete_keys, s.delete_ts, s.partition_name)
                for s in removed
                if len(s.delete_keys)
            ]
            with self._undo_on_failure("compact", self.sealed, added):
                for seg in attribute_deletes(moved, added):
                    self.store.save_deletes(seg)
                self.store.commit(kept + added)
            self.store.remove_segments(removed)
            self.sealed = kept + added
            for sid in gone:
                self._masks.pop(sid, None)
            self.recompute_masks()
            self._publish(self.last_write_ts)

    def drop_partition(self, partition: str) -> None:
        """Forget a partition's rows: its growing rows leave the WAL through a
        checkpoint, its sealed segments leave the manifest."""
        with self.write_lock:
            g = self.growing.pop(partition, None)
            if g is not None:
                self._gmasks.pop(g.segment_id, None)
            self.flush(force=True)
            removed = [s for s in self.sealed if s.partition_name == partition]
            if removed:
                kept = [s for s in self.sealed if s.partition_name != partition]
                with self._undo_on_failure("drop a partition of", self.sealed, []):
                    self.store.commit(kept)
                self.store.remove_segments(removed)
                self.sealed = kept
                for s in removed:
                    self._masks.pop(s.segment_id, None)
            self._publish(self.last_write_ts)

    def set_schema(self, schema: CollectionSchema) -> None:
        with self.write_lock:
            self.schema = schema
            for s in self.sealed:
                s.with_schema(schema)
            for g in self.growing.values():
                g.schema = schema
            self._publish(self.last_write_ts)

    def set_index_specs(self, specs: Mapping[str, Any]) -> None:
        with self.write_lock:
            self.index_specs = dict(specs)
            self._publish(self.last_write_ts)

    def republish(self) -> None:
        with self.write_lock:
            self._publish(self.last_write_ts)

    def stats(self) -> int:
        return self._snapshot.live_count


def attribute_deletes(
    records: list[DeleteRecord], segments: list[SealedSegment]
) -> list[SealedSegment]:
    """Give each segment the delete records that hide some of its rows (an older row
    with the key, in the record's partition); return the segments that got some."""
    touched: list[SealedSegment] = []
    for seg in segments:
        keys: list[np.ndarray] = []
        stamps: list[np.ndarray] = []
        for rec in records:
            if rec.partition is not None and rec.partition != seg.partition_name:
                continue
            qpos, rows = seg.sorted_keys().match(rec.keys)
            if not len(rows):
                continue
            dts = rec.key_timestamps()[qpos]
            hit = np.unique(qpos[seg.row_timestamps()[rows] < dts])
            if len(hit):
                keys.append(rec.keys[hit])
                stamps.append(rec.key_timestamps()[hit])
        if keys:
            seg.add_deletes(np.concatenate(keys), np.concatenate(stamps))
            touched.append(seg)
    return touched


def _cut(keys: Any, n: int) -> Any:
    return keys.slice(0, n) if isinstance(keys, pa.Array) else np.asarray(keys[:n]).copy()
