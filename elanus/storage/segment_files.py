"""Sealed segment files: write once to a temp directory, rename into place, never change.

A segment directory holds (format: docs/storage.md, "Segment files")::

    segment.json             SegmentMeta: row count, timestamps, where each field is
    scalars.parquet          $pk, $ts (uint64) and every scalar field (+ $meta)
    dense.<field>.bin        raw little-endian rows of one dense vector field,
                             memory-mapped on load
    sparse.<field>.arrow     Arrow IPC file, list<struct<index: uint32, value: float32>>
    deletes*.arrow           (pk, timestamp) delete records; each version a new file
    indexes/<index name>/    index files saved by the engine (``segment_index_dir``)

Only the delete records and ``indexes/`` change after the rename; the row data
never does. Every data file is hashed as it is written (``storage.checksum``):
``segment.json`` lists those checksums, and ``segment_checksums`` gives them
with the checksum of ``segment.json`` itself for the manifest to record.
``verify_segment`` checks a segment against such a record, ``check_segment``
checks the structure of one written before checksums were kept.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from elanus.errors import FieldNotFound, StorageError
from elanus.schema import DYNAMIC_FIELD_NAME, CollectionSchema, DataType, FieldSchema
from elanus.schema.arrow import arrow_type
from elanus.schema.types import dense_vector_numpy_dtype, vector_row_width
from elanus.schema.vector_validity import is_validity_column
from elanus.storage.batch_codec import decode_column, encode_column
from elanus.storage.checksum import (
    FileChecksum,
    HashingSink,
    checksum_bytes,
    read_verified,
    verify_file,
)
from elanus.storage.fs import FileSystem, join

__all__ = [
    "DELETES_FILE",
    "PK_COLUMN",
    "TS_COLUMN",
    "SegmentData",
    "SegmentMeta",
    "VectorFile",
    "check_segment",
    "read_segment",
    "read_segment_deletes",
    "remove_temp_dirs",
    "segment_checksums",
    "segment_index_dir",
    "verify_segment",
    "write_segment",
    "write_segment_deletes",
]

PK_COLUMN = "$pk"
TS_COLUMN = "$ts"
FORMAT_VERSION = 1
_META_FILE = "segment.json"
_SCALAR_FILE = "scalars.parquet"
DELETES_FILE = "deletes.arrow"
_TEMP_MARK = ".tmp-"


@dataclass(frozen=True)
class VectorFile:
    """Where one vector field's rows are: ``kind`` is "dense" or "sparse"."""

    file: str
    kind: str
    dtype: str = ""
    width: int = 0


@dataclass(frozen=True)
class SegmentMeta:
    """What ``segment.json`` records about a sealed segment."""

    num_rows: int
    min_timestamp: int
    max_timestamp: int
    pk_type: str  # "int64" or "string"
    scalar_fields: tuple[str, ...]
    vectors: Mapping[str, VectorFile] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    # file name -> storage.checksum record of each data file (empty before checksums)
    checksums: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "checksums": dict(self.checksums),
            "format_version": self.format_version,
            "num_rows": self.num_rows,
            "min_timestamp": self.min_timestamp,
            "max_timestamp": self.max_timestamp,
            "pk_type": self.pk_type,
            "scalar_fields": list(self.scalar_fields),
            "vectors": {name: vars(v) for name, v in self.vectors.items()},
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> SegmentMeta:
        return cls(
            num_rows=int(raw["num_rows"]),
            min_timestamp=int(raw["min_timestamp"]),
            max_timestamp=int(raw["max_timestamp"]),
            pk_type=str(raw["pk_type"]),
            scalar_fields=tuple(raw["scalar_fields"]),
            vectors={name: VectorFile(**v) for name, v in raw["vectors"].items()},
            format_version=int(raw["format_version"]),
            checksums={str(k): str(v) for k, v in (raw.get("checksums") or {}).items()},
        )


def segment_index_dir(segment_path: str, index_name: str) -> str:
    """The directory where the engine saves one index of a segment (not created here)."""
    return join(segment_path, "indexes", index_name)


def write_segment(
    fs: FileSystem,
    path: str,
    schema: CollectionSchema,
    columns: Mapping[str, Any],
    pks: np.ndarray | pa.Array,
    timestamps: np.ndarray,
) -> SegmentMeta:
    """Write a sealed segment at ``path`` (which must not exist) and return its meta.

    ``columns`` holds every field of ``schema`` in the shared column convention
    (and ``$meta`` when the dynamic field is on); scalar fields missing from it
    are stored as nulls (fields added after the rows were written). Row i of every
    column, ``pks`` and ``timestamps`` (uint64) is one entity. The files go to a
    temp directory beside ``path`` that is renamed into place once durable.
    """
    if fs.exists(path):
        raise StorageError(f"segment {path} already exists; segments are immutable")
    ts = np.asarray(timestamps, dtype=np.uint64)
    num_rows = len(ts)
    pk_array = _pk_array(pks)
    if len(pk_array) != num_rows:
        raise StorageError(f"{len(pk_array)} primary keys for {num_rows} timestamps")
    parent = path.rsplit("/", 1)[0] if "/" in path else "."
    fs.mkdirs(parent)
    tmp = f"{path}{_TEMP_MARK}{uuid.uuid4().hex}"
    fs.mkdirs(tmp)
    try:
        scalar_names = [PK_COLUMN, TS_COLUMN]
        arrays: list[pa.Array] = [pk_array, pa.array(ts, type=pa.uint64())]
        vectors: dict[str, VectorFile] = {}
        checksums: dict[str, str] = {}
        for fld in schema.fields:
            column = columns.get(fld.name)
            if fld.dtype.is_vector:
                if column is None:
                    raise StorageError(f"vector field {fld.name} is missing from the segment")
                vectors[fld.name], checksum = _write_vector(fs, tmp, fld, column, num_rows)
                checksums[vectors[fld.name].file] = str(checksum)
            else:
                scalar_names.append(fld.name)
                arrays.append(_scalar_array(fld.name, arrow_type(fld), column, num_rows))
        for name, column in columns.items():
            # nullable vector fields' row validity (elanus.schema.vector_validity)
            if is_validity_column(name):
                scalar_names.append(name)
                arrays.append(_scalar_array(name, pa.bool_(), column, num_rows))
        if schema.enable_dynamic_field:
            scalar_names.append(DYNAMIC_FIELD_NAME)
            arrays.append(
                _scalar_array(
                    DYNAMIC_FIELD_NAME, pa.string(), columns.get(DYNAMIC_FIELD_NAME), num_rows
                )
            )
        table = pa.Table.from_arrays(arrays, names=scalar_names)
        scalar_path = join(tmp, _SCALAR_FILE)
        sink = HashingSink(fs.open_output(scalar_path))
        with sink:
            pq.write_table(table, sink)
        checksums[_SCALAR_FILE] = str(sink.checksum)
        fs.sync_file(scalar_path)
        meta = SegmentMeta(
            num_rows=num_rows,
            min_timestamp=int(ts.min()) if num_rows else 0,
            max_timestamp=int(ts.max()) if num_rows else 0,
            pk_type="string" if pa.types.is_string(pk_array.type) else "int64",
            scalar_fields=tuple(scalar_names[2:]),
            vectors=vectors,
            checksums=checksums,
        )
        fs.write_atomic(join(tmp, _META_FILE), json.dumps(meta.to_json()).encode())
        fs.sync_dir(tmp)
        fs.rename_dir(tmp, path)
    except BaseException:
        fs.delete_dir(tmp)
        raise
    return meta


def read_segment(
    fs: FileSystem,
    path: str,
    schema: CollectionSchema,
    *,
    eager: bool = False,
    checksums: Mapping[str, str] | None = None,
) -> SegmentData:
    """Open a sealed segment. Columns load on first use (all at once with ``eager``).
    With ``checksums``, its files are verified first (as by ``verify_segment``)."""
    if checksums is not None:
        meta = verify_segment(fs, path, checksums)
    else:
        try:
            meta = _parse_meta(path, fs.read_bytes(join(path, _META_FILE)))
        except FileNotFoundError:
            raise StorageError(f"segment {path} not found (no {_META_FILE})") from None
    if meta.format_version > FORMAT_VERSION:
        raise StorageError(f"segment {path} has format {meta.format_version}, newer than this")
    data = SegmentData(fs, path, schema, meta)
    if eager:
        data.load_all()
    return data


def segment_checksums(fs: FileSystem, path: str) -> dict[str, str]:
    """Checksum records of a freshly written segment's files, ``segment.json`` included
    (what the manifest keeps for ``verify_segment``)."""
    raw = fs.read_bytes(join(path, _META_FILE))
    meta = SegmentMeta.from_json(json.loads(raw))
    return {**meta.checksums, _META_FILE: str(checksum_bytes(raw))}


def _parse_meta(path: str, raw: bytes) -> SegmentMeta:
    try:
        return SegmentMeta.from_json(json.loads(raw))
    except (ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"segment {path} has an unreadable {_META_FILE}: {exc}") from exc


def verify_segment(fs: FileSystem, path: str, checksums: Mapping[str, str]) -> SegmentMeta:
    """Check every row-data file of a segment against ``checksums`` (as
    ``segment_checksums`` gave them); ``StorageError`` names the first bad file.
    Returns the verified ``segment.json``."""
    meta_path = join(path, _META_FILE)
    meta = _parse_meta(path, read_verified(fs, meta_path, checksums.get(_META_FILE, "")))
    names = [_SCALAR_FILE, *(v.file for v in meta.vectors.values())]
    for name in names:
        expected = checksums.get(name)
        if expected is None:
            raise StorageError(f"segment {path}: no checksum recorded for {name}")
        verify_file(fs, join(path, name), expected)
    return meta


def check_segment(data: SegmentData) -> None:
    """Check the structure of a segment that has no checksums: every file there, the
    Parquet footer readable with the right row count, vector files the right size."""
    rows = data._parquet_file().metadata.num_rows
    if rows != data.num_rows:
        raise StorageError(
            f"{join(data.path, _SCALAR_FILE)} holds {rows} rows, segment.json says {data.num_rows}"
        )
    for name in data.meta.vectors:
        data.column(name)  # a dense block's size is checked against the row count


class SegmentData:
    """The rows of one sealed segment, read-only; local row ids run 0..num_rows-1.

    Dense vectors are read-only numpy views over a memory map of their file.
    A scalar field that the segment predates reads as all nulls. Thread-safe.
    """

    def __init__(
        self, fs: FileSystem, path: str, schema: CollectionSchema, meta: SegmentMeta
    ) -> None:
        self.fs = fs
        self.path = path
        self.schema = schema
        self.meta = meta
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._parquet: pq.ParquetFile | None = None

    @property
    def num_rows(self) -> int:
        return self.meta.num_rows

    def column(self, name: str) -> Any:
        """A field's column (pyarrow Array, 2-D numpy array or csr_array), or ``$meta``."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        with self._lock:
            if name not in self._cache:
                self._cache[name] = self._load(name)
            return self._cache[name]

    def read_column(self, name: str) -> Any:
        """Like ``column``, but a column not already held is read and not kept (a
        field a load left out of memory)."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        return self._load(name)

    def forget(self, names: frozenset[str]) -> None:
        """Drop the held columns of ``names``; later reads go to the files."""
        with self._lock:
            for name in names:
                self._cache.pop(name, None)

    def held_columns(self) -> frozenset[str]:
        """The columns kept in memory."""
        return frozenset(self._cache)

    def primary_keys(self) -> np.ndarray | pa.Array:
        """int64 numpy array, or a pyarrow string array for VARCHAR keys."""
        return self.column(PK_COLUMN)

    def row_timestamps(self) -> np.ndarray:
        """uint64 timestamp of each row."""
        ts: np.ndarray = self.column(TS_COLUMN)
        return ts

    def load_all(self) -> None:
        names = [PK_COLUMN, TS_COLUMN, *self.meta.scalar_fields, *self.meta.vectors]
        for name in names:
            self.column(name)

    def _load(self, name: str) -> Any:
        vector = self.meta.vectors.get(name)
        if vector is not None:
            return self._load_vector(name, vector)
        if name in (PK_COLUMN, TS_COLUMN) or name in self.meta.scalar_fields:
            try:
                table = self._parquet_file().read(columns=[name])
            except (OSError, pa.ArrowException) as exc:
                raise StorageError(f"{join(self.path, _SCALAR_FILE)} is damaged: {exc}") from exc
            array = table.column(0).combine_chunks()
            if name == TS_COLUMN or (name == PK_COLUMN and self.meta.pk_type == "int64"):
                return array.to_numpy()
            return array
        fld = self.schema.get(name)
        if fld is None or fld.dtype.is_vector:
            raise FieldNotFound(f"field {name} not exist in segment {self.path}")
        return pa.nulls(self.num_rows, type=arrow_type(fld))

    def _parquet_file(self) -> pq.ParquetFile:
        if self._parquet is None:
            path = join(self.path, _SCALAR_FILE)
            try:
                buffer = self.fs.map_file(path)
                self._parquet = pq.ParquetFile(pa.BufferReader(buffer))
            except FileNotFoundError:
                raise StorageError(f"{path} is missing") from None
            except (OSError, pa.ArrowException) as exc:
                raise StorageError(f"{path} is damaged: {exc}") from exc
        return self._parquet

    def _load_vector(self, name: str, vector: VectorFile) -> Any:
        path = join(self.path, vector.file)
        try:
            return self._read_vector(path, vector)
        except FileNotFoundError:
            raise StorageError(f"{path} is missing") from None
        except (OSError, pa.ArrowException) as exc:
            raise StorageError(f"{path} is damaged: {exc}") from exc

    def _read_vector(self, path: str, vector: VectorFile) -> Any:
        buffer = self.fs.map_file(path)
        if vector.kind == "dense":
            dtype = np.dtype(vector.dtype)
            expected = self.num_rows * vector.width * dtype.itemsize
            if buffer.size != expected:
                raise StorageError(
                    f"segment {self.path}: {vector.file} has {buffer.size} bytes, "
                    f"expected {expected}"
                )
            if expected == 0:
                return np.empty((self.num_rows, vector.width), dtype=dtype)
            return np.frombuffer(buffer, dtype=dtype).reshape(self.num_rows, vector.width)
        table = pa.ipc.open_file(buffer).read_all()
        column = table.column(0)
        array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        return decode_column(array, table.schema.field(0).metadata)


def write_segment_deletes(
    fs: FileSystem,
    segment_path: str,
    pks: np.ndarray | pa.Array,
    timestamps: np.ndarray,
    *,
    name: str = DELETES_FILE,
) -> FileChecksum:
    """Write the segment's delete records (pk, timestamp) to ``name``, atomically;
    return the file's checksum.

    The engine passes the full set each time (old records plus new ones), under a
    new name per version, so the manifest that names it and the file agree
    whichever of the two a crash leaves newer.
    """
    pk_array = _pk_array(pks)
    ts = pa.array(np.asarray(timestamps, dtype=np.uint64), type=pa.uint64())
    if len(pk_array) != len(ts):
        raise StorageError(f"{len(pk_array)} deleted keys for {len(ts)} timestamps")
    table = pa.table({PK_COLUMN: pk_array, TS_COLUMN: ts})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    data = sink.getvalue()
    fs.write_atomic(join(segment_path, name), bytes(data))
    return checksum_bytes(data)


def read_segment_deletes(
    fs: FileSystem, segment_path: str, *, name: str = DELETES_FILE, checksum: str | None = None
) -> tuple[np.ndarray | pa.Array, np.ndarray] | None:
    """The segment's delete records as (pks, uint64 timestamps), or None when it has
    none. With ``checksum`` the file must exist and match it."""
    path = join(segment_path, name)
    if checksum:
        verify_file(fs, path, checksum)
    elif not fs.exists(path):
        return None
    try:
        table = pa.ipc.open_file(pa.py_buffer(fs.read_bytes(path))).read_all()
        pk = table.column(PK_COLUMN).combine_chunks()
        ts = table.column(TS_COLUMN).combine_chunks().to_numpy()
    except (OSError, KeyError, pa.ArrowException) as exc:
        raise StorageError(f"{path} is damaged: {exc}") from exc
    return (pk.to_numpy() if pa.types.is_integer(pk.type) else pk), ts


def remove_temp_dirs(fs: FileSystem, segments_dir: str) -> list[str]:
    """Delete segment temp directories a crash left behind; return their names."""
    stale = [name for name in fs.list_dir(segments_dir) if _TEMP_MARK in name]
    for name in stale:
        fs.delete_dir(join(segments_dir, name))
    return stale


def _pk_array(pks: np.ndarray | pa.Array) -> pa.Array:
    if isinstance(pks, pa.ChunkedArray):
        pks = pks.combine_chunks()
    if isinstance(pks, pa.Array):
        if pa.types.is_large_string(pks.type):
            return pks.cast(pa.string())
        if pa.types.is_string(pks.type) or pks.type == pa.int64():
            return pks
        raise StorageError(f"primary keys must be int64 or string, not {pks.type}")
    array = np.asarray(pks)
    if array.dtype.kind in "US" or array.dtype == object:
        return pa.array(array, type=pa.string())
    return pa.array(array.astype(np.int64, copy=False), type=pa.int64())


def _scalar_array(name: str, target: pa.DataType, column: Any, num_rows: int) -> pa.Array:
    if column is None:
        return pa.nulls(num_rows, type=target)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not isinstance(column, pa.Array):
        column = pa.array(column)
    if len(column) != num_rows:
        raise StorageError(f"column {name} has {len(column)} rows, expected {num_rows}")
    if column.type != target:
        try:
            column = column.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise StorageError(f"column {name} of type {column.type} is not {target}") from exc
    return column


def _write_vector(
    fs: FileSystem, directory: str, fld: FieldSchema, column: Any, num_rows: int
) -> tuple[VectorFile, FileChecksum]:
    if fld.dtype == DataType.SPARSE_FLOAT_VECTOR:
        array, meta = encode_column(column)
        if len(array) != num_rows:
            raise StorageError(f"column {fld.name} has {len(array)} rows, expected {num_rows}")
        schema = pa.schema([pa.field(fld.name, array.type, metadata=meta)])
        file = f"sparse.{fld.name}.arrow"
        sink = HashingSink(fs.open_output(join(directory, file)))
        with sink, pa.ipc.new_file(sink, schema) as w:
            w.write_table(pa.Table.from_arrays([array], schema=schema))
        fs.sync_file(join(directory, file))
        return VectorFile(file=file, kind="sparse"), sink.checksum
    dtype = dense_vector_numpy_dtype(fld.dtype)
    width = vector_row_width(fld.dtype, fld.dim or 0)
    matrix = np.asarray(column)
    if matrix.shape != (num_rows, width):
        raise StorageError(
            f"column {fld.name} has shape {matrix.shape}, expected {(num_rows, width)}"
        )
    if matrix.dtype != dtype:
        # Only the byte order may differ; a different element type is a caller bug.
        if matrix.dtype.newbyteorder("=") != dtype.newbyteorder("="):
            raise StorageError(f"column {fld.name} has dtype {matrix.dtype}, expected {dtype}")
        matrix = matrix.astype(dtype)
    file = f"dense.{fld.name}.bin"
    with HashingSink(fs.open_output(join(directory, file))) as sink:
        sink.write(np.ascontiguousarray(matrix).data)
    fs.sync_file(join(directory, file))
    return VectorFile(file=file, kind="dense", dtype=dtype.str, width=width), sink.checksum
