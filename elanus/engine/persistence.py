"""A collection's files: WAL, sealed segment directories, delete records, manifest.

Layout under the collection's directory::

    wal/                      storage.wal.WriteAheadLog (one record per write)
    segments/<id>/            scalars.parquet ($pk, $ts, scalar fields, $meta),
                              <field>.npy (dense vectors, memory-mapped on load),
                              <field>.sparse.npz, index/ (built indexes)
    deletes/<seq>.parquet     delete records sealed at WAL sequence <seq>
    manifest.json             live segments, delete files and the WAL checkpoint,
                              replaced atomically

The manifest is the only truth about what is live: a segment directory it does
not name (a crash between writing files and the manifest) is removed on open.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp

from elanus.engine.collection import DeleteBatch, InsertBatch
from elanus.engine.keys import as_key_array
from elanus.engine.records import decode_record, encode_record
from elanus.engine.segment import SealedSegment
from elanus.engine.visibility import DeleteRecord
from elanus.schema import CollectionSchema
from elanus.storage.fs import LocalFileSystem, fsync_dir
from elanus.storage.wal import WriteAheadLog

__all__ = ["LocalCollectionStore"]

_PK = "$pk"
_TS = "$ts"


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalCollectionStore:
    """``CollectionStore`` on a local directory."""

    def __init__(self, root: str, *, sync: bool = True) -> None:
        self.root = root
        self.fs = LocalFileSystem()
        os.makedirs(os.path.join(root, "segments"), exist_ok=True)
        os.makedirs(os.path.join(root, "deletes"), exist_ok=True)
        self.wal = WriteAheadLog(os.path.join(root, "wal"), sync=sync)
        self.manifest: dict[str, Any] = {"segments": [], "delete_files": [], "checkpoint_seq": 0}
        path = os.path.join(root, "manifest.json")
        if os.path.exists(path):
            self.manifest = json.loads(self.fs.read_bytes(path))

    # --- WAL ------------------------------------------------------------------------
    def log(self, records: list[InsertBatch | DeleteBatch]) -> int:
        return self.wal.append([encode_record(records)])

    def replay(self) -> Iterator[tuple[int, list[InsertBatch | DeleteBatch]]]:
        for seq, payload in self.wal.replay(int(self.manifest["checkpoint_seq"])):
            yield seq, decode_record(payload)

    # --- segments -------------------------------------------------------------------
    def segment_dir(self, segment_id: int) -> str:
        return os.path.join(self.root, "segments", str(segment_id))

    def _write_segment(self, seg: SealedSegment) -> None:
        final = self.segment_dir(seg.segment_id)
        if os.path.isdir(final):
            return
        tmp = final + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        scalars: dict[str, pa.Array] = {}
        pks = seg.primary_keys()
        scalars[_PK] = pks if isinstance(pks, pa.Array) else pa.array(np.asarray(pks))
        scalars[_TS] = pa.array(seg.row_timestamps())
        for name, col in seg.columns().items():
            if isinstance(col, np.ndarray):
                np.save(os.path.join(tmp, f"{name}.npy"), np.ascontiguousarray(col))
                _fsync(os.path.join(tmp, f"{name}.npy"))
            elif sp.issparse(col):
                sp.save_npz(
                    os.path.join(tmp, f"{name}.sparse.npz"), sp.csr_matrix(col), compressed=False
                )
                _fsync(os.path.join(tmp, f"{name}.sparse.npz"))
            else:
                scalars[name] = col
        pq.write_table(pa.table(scalars), os.path.join(tmp, "scalars.parquet"))
        _fsync(os.path.join(tmp, "scalars.parquet"))
        fsync_dir(tmp)
        os.replace(tmp, final)
        fsync_dir(os.path.dirname(final))

    def _read_segment(self, entry: dict[str, Any], schema: CollectionSchema) -> SealedSegment:
        path = self.segment_dir(int(entry["id"]))
        table = pq.read_table(os.path.join(path, "scalars.parquet"))
        columns: dict[str, Any] = {}
        for name in table.column_names:
            if name not in (_PK, _TS):
                columns[name] = table.column(name).combine_chunks()
        for file in os.listdir(path):
            if file.endswith(".sparse.npz"):
                columns[file[: -len(".sparse.npz")]] = sp.csr_array(
                    sp.load_npz(os.path.join(path, file))
                )
            elif file.endswith(".npy"):
                columns[file[:-4]] = np.load(os.path.join(path, file), mmap_mode="r")
        pk_col = table.column(_PK).combine_chunks()
        pks = as_key_array(pk_col) if pa.types.is_integer(pk_col.type) else pk_col
        ts = table.column(_TS).combine_chunks().to_numpy().astype(np.uint64)
        seg = SealedSegment(int(entry["id"]), str(entry["partition"]), schema, columns, pks, ts)
        seg.persisted = True
        return seg

    def load(self, schema: CollectionSchema) -> tuple[list[SealedSegment], list[DeleteRecord]]:
        live = {str(e["id"]) for e in self.manifest["segments"]}
        for name in os.listdir(os.path.join(self.root, "segments")):
            if name not in live:  # files of a seal or compaction the manifest never named
                shutil.rmtree(os.path.join(self.root, "segments", name), ignore_errors=True)
        segments = [self._read_segment(e, schema) for e in self.manifest["segments"]]
        deletes: list[DeleteRecord] = []
        for file in self.manifest["delete_files"]:
            table = pq.read_table(os.path.join(self.root, "deletes", file))
            keys = as_key_array(table.column("pk").combine_chunks())
            ts = table.column("ts").to_numpy().astype(np.uint64)
            parts = table.column("partition").to_pylist()
            # records were flattened one row per key; regroup by (ts, partition)
            groups: dict[tuple[int, str | None], list[int]] = {}
            for i, (t, p) in enumerate(zip(ts.tolist(), parts)):
                groups.setdefault((t, p), []).append(i)
            for (t, p), rows in groups.items():
                deletes.append(DeleteRecord(keys[np.asarray(rows)], t, p))
        return segments, deletes

    def _write_deletes(self, records: list[DeleteRecord], seq: int) -> str | None:
        if not records:
            return None
        keys = np.concatenate([r.keys for r in records])
        ts = np.concatenate([np.full(len(r.keys), r.timestamp, np.uint64) for r in records])
        parts = [r.partition for r in records for _ in range(len(r.keys))]
        name = f"{seq:020d}.parquet"
        path = os.path.join(self.root, "deletes", name)
        pq.write_table(
            pa.table(
                {
                    "pk": pa.array(keys),
                    "ts": pa.array(ts),
                    "partition": pa.array(parts, pa.string()),
                }
            ),
            path,
        )
        _fsync(path)
        return name

    def _write_manifest(self, sealed: list[SealedSegment]) -> None:
        self.manifest["segments"] = [
            {"id": s.segment_id, "partition": s.partition_name, "rows": s.num_rows} for s in sealed
        ]
        self.fs.write_atomic(
            os.path.join(self.root, "manifest.json"), json.dumps(self.manifest).encode()
        )

    def seal(
        self,
        segments: list[SealedSegment],
        all_sealed: list[SealedSegment],
        new_deletes: list[DeleteRecord],
        checkpoint_seq: int,
    ) -> list[SealedSegment]:
        for seg in segments:
            self._write_segment(seg)
        name = self._write_deletes(new_deletes, checkpoint_seq)
        if name and name not in self.manifest["delete_files"]:
            self.manifest["delete_files"].append(name)
        self.manifest["checkpoint_seq"] = checkpoint_seq
        self._write_manifest(all_sealed)
        self.wal.truncate_before(checkpoint_seq + 1)
        return [self._reload(s) for s in segments]

    def _reload(self, seg: SealedSegment) -> SealedSegment:
        fresh = self._read_segment(
            {"id": seg.segment_id, "partition": seg.partition_name}, seg.schema
        )
        fresh.vector_indexes = seg.vector_indexes
        fresh.scalar_indexes = seg.scalar_indexes
        return fresh

    def replace_segments(
        self,
        removed: list[SealedSegment],
        added: list[SealedSegment],
        all_sealed: list[SealedSegment],
    ) -> list[SealedSegment]:
        for seg in added:
            self._write_segment(seg)
        self._write_manifest(all_sealed)
        for seg in removed:  # readers holding them keep their open maps
            shutil.rmtree(self.segment_dir(seg.segment_id), ignore_errors=True)
        return [self._reload(s) for s in added]

    def close(self) -> None:
        self.wal.close()

    def destroy(self) -> None:
        self.wal.close()
        shutil.rmtree(self.root, ignore_errors=True)
