"""Segments in memory: the growing segment that takes writes and sealed, immutable ones.

Both satisfy ``elanus.engine.snapshot.SegmentData``. A growing segment only
appends: rows below a published row count never change, so a snapshot can hold
the segment and its row count while writers keep appending. Column reads of a
growing segment return at least ``num_rows`` rows (dense buffers grow by
doubling; Arrow chunks are concatenated once per new batch and cached).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from elanus.engine.keys import SortedKeys, as_key_array
from elanus.schema import CollectionSchema, DataType, FieldSchema
from elanus.schema.arrow import arrow_type
from elanus.schema.types import dense_vector_numpy_dtype, vector_row_width
from elanus.schema.vector_validity import is_validity_column
from elanus.storage import SegmentData as StoredSegment

__all__ = ["GrowingSegment", "SealedSegment", "null_column"]


def null_column(field: FieldSchema | None, num_rows: int) -> Any:
    """What a row that predates a field holds in it: null (or the default value)."""
    if field is None:  # the dynamic field
        return (
            pa.array(["{}"] * num_rows, type=pa.string()) if num_rows else pa.array([], pa.string())
        )
    if field.dtype.is_dense_vector:
        width = vector_row_width(field.dtype, field.dim or 0)
        return np.zeros((num_rows, width), dtype=dense_vector_numpy_dtype(field.dtype))
    if field.dtype == DataType.SPARSE_FLOAT_VECTOR:
        return sp.csr_array((num_rows, 2**32), dtype=np.float32)
    typ = arrow_type(field)
    if field.default_value is not None:
        return pa.array([field.default_value] * num_rows, type=typ)
    return pa.nulls(num_rows, type=typ)


def column_of_nulls(schema: CollectionSchema, name: str, num_rows: int) -> Any:
    """``null_column`` by column name; a nullable vector field's validity column
    reads False (no vector) where the rows never had one."""
    if is_validity_column(name):
        return pa.array(np.zeros(num_rows, dtype=bool), type=pa.bool_())
    return null_column(schema.get(name), num_rows)


class _DenseBuffer:
    def __init__(self, width: int, dtype: np.dtype) -> None:
        self.data = np.empty((0, width), dtype=dtype)
        self.size = 0

    def append(self, block: np.ndarray) -> None:
        need = self.size + len(block)
        if need > len(self.data):
            grown = np.empty(
                (max(need, 2 * len(self.data), 1024), self.data.shape[1]), self.data.dtype
            )
            grown[: self.size] = self.data[: self.size]
            grown[self.size : need] = block
            self.data = grown  # readers holding the old buffer still see their rows
        else:
            self.data[self.size : need] = block
        self.size = need

    def get(self) -> np.ndarray:
        return self.data


class _ChunkBuffer:
    """Arrow arrays or csr blocks kept as chunks, joined lazily and cached."""

    def __init__(self, sparse: bool, arrow_type: pa.DataType | None) -> None:
        self.sparse = sparse
        self.arrow_type = arrow_type
        self.chunks: list[Any] = []
        self._joined: Any = None
        self._lock = threading.Lock()

    def append(self, block: Any) -> None:
        with self._lock:
            self.chunks.append(block)
            self._joined = None

    def get(self) -> Any:
        with self._lock:
            if self._joined is None:
                if self.sparse:
                    if not self.chunks:
                        self._joined = sp.csr_array((0, 2**32), dtype=np.float32)
                    else:
                        self._joined = sp.csr_array(sp.vstack(self.chunks, format="csr"))
                else:
                    self._joined = (
                        pa.concat_arrays(self.chunks)
                        if self.chunks
                        else pa.array([], type=self.arrow_type or pa.string())
                    )
                    self.chunks = [self._joined]
            return self._joined


def _nbytes(column: Any) -> int:
    if isinstance(column, np.ndarray):
        return int(column.nbytes)
    if isinstance(column, pa.Array):
        return int(column.nbytes)
    if sp.issparse(column):
        return int(column.data.nbytes + column.indices.nbytes)
    return 0


class GrowingSegment:
    """The append-only segment of one partition that takes new rows."""

    def __init__(self, segment_id: int, partition_name: str, schema: CollectionSchema) -> None:
        self.segment_id = segment_id
        self.partition_name = partition_name
        self.schema = schema
        self.num_rows = 0
        self.size_bytes = 0
        self.first_wal_seq: int | None = None
        self._columns: dict[str, _DenseBuffer | _ChunkBuffer] = {}
        pk = schema.primary_field
        self._int_pk = pk.dtype == DataType.INT64
        self._pks: _DenseBuffer | _ChunkBuffer = (
            _DenseBuffer(1, np.dtype(np.int64))
            if self._int_pk
            else _ChunkBuffer(False, pa.string())
        )
        self._ts = _DenseBuffer(1, np.dtype(np.uint64))
        self._sorted: SortedKeys | None = None
        self._sorted_rows = 0
        self._lock = threading.Lock()

    def _buffer_for(self, name: str, value: Any) -> _DenseBuffer | _ChunkBuffer:
        buf = self._columns.get(name)
        if buf is None:
            if isinstance(value, np.ndarray):
                buf = _DenseBuffer(value.shape[1], value.dtype)
            else:
                buf = _ChunkBuffer(sp.issparse(value), getattr(value, "type", None))
            if self.num_rows:  # a field added after rows arrived
                buf.append(column_of_nulls(self.schema, name, self.num_rows))
            self._columns[name] = buf
        return buf

    def append(
        self,
        columns: Mapping[str, Any],
        pks: Any,
        timestamps: np.ndarray,
        wal_seq: int | None = None,
    ) -> int:
        """Append a validated batch; returns its first local row id. Caller holds the write lock."""
        n = len(timestamps)
        start = self.num_rows
        for name, value in columns.items():
            self._buffer_for(name, value).append(value)
            self.size_bytes += _nbytes(value)
        for name, buf in self._columns.items():
            if name not in columns:
                buf.append(column_of_nulls(self.schema, name, n))
        if self._int_pk:
            self._pks.append(as_key_array(pks).reshape(-1, 1))
        else:
            self._pks.append(pks if isinstance(pks, pa.Array) else pa.array(pks, pa.string()))
        self._ts.append(np.asarray(timestamps, dtype=np.uint64).reshape(-1, 1))
        if self.first_wal_seq is None and wal_seq is not None:
            self.first_wal_seq = wal_seq
        self.num_rows = start + n  # published last: readers never look past it
        return start

    # --- SegmentData ------------------------------------------------------------
    def column(self, name: str) -> Any:
        buf = self._columns.get(name)
        if buf is None:
            return column_of_nulls(self.schema, name, self.num_rows)
        return buf.get()

    def primary_keys(self) -> np.ndarray | pa.Array:
        got = self._pks.get()
        return got[:, 0] if isinstance(got, np.ndarray) else got

    def row_timestamps(self) -> np.ndarray:
        return self._ts.get()[:, 0]

    def vector_index(self, field_name: str) -> Any | None:
        return None

    def scalar_index(self, field_name: str) -> Any | None:
        return None

    # --- lookup -----------------------------------------------------------------
    def sorted_keys(self) -> SortedKeys:
        with self._lock:
            n = self.num_rows
            if self._sorted is None or self._sorted_rows != n:
                self._sorted = SortedKeys(as_key_array(self.primary_keys())[:n])
                self._sorted_rows = n
            return self._sorted

    def frozen_columns(self) -> dict[str, Any]:
        """Every column cut to ``num_rows`` (for sealing)."""
        n = self.num_rows
        out: dict[str, Any] = {}
        for name in self._columns:
            col = self.column(name)
            out[name] = col[:n] if not isinstance(col, pa.Array) else col.slice(0, n)
        return out


class SealedSegment:
    """A sealed segment: the rows of its files (``storage.SegmentData``, vectors
    memory-mapped), the delete records that hit its rows, and its built indexes.

    Only the delete records and the indexes change after sealing; the rows never do.
    """

    def __init__(
        self,
        segment_id: int,
        partition_name: str,
        schema: CollectionSchema,
        files: StoredSegment,
    ) -> None:
        self.segment_id = segment_id
        self.partition_name = partition_name
        self.schema = schema
        self.files = files
        self.num_rows = files.num_rows
        self._stored = {*files.meta.scalar_fields, *files.meta.vectors}
        self._sorted: SortedKeys | None = None
        self._lock = threading.Lock()
        pk_kind = np.int64 if files.meta.pk_type == "int64" else np.str_
        # (key, timestamp) of every delete that hides one of these rows; persisted
        # beside the rows, so recovery needs no delete log.
        self.delete_keys: np.ndarray = np.zeros(0, dtype=pk_kind)
        self.delete_ts: np.ndarray = np.zeros(0, dtype=np.uint64)
        self.vector_indexes: dict[str, Any] = {}
        self.scalar_indexes: dict[str, Any] = {}
        # Fields the collection's load left out: read from the files, never kept.
        self.transient: frozenset[str] = frozenset()

    @property
    def path(self) -> str:
        return self.files.path

    def set_transient(self, names: frozenset[str]) -> None:
        if names != self.transient:
            self.transient = names
            self.files.forget(names)

    def column(self, name: str) -> Any:
        if name in self._stored:
            if name in self.transient:
                return self.files.read_column(name)
            return self.files.column(name)
        return column_of_nulls(self.schema, name, self.num_rows)

    def primary_keys(self) -> np.ndarray | pa.Array:
        return self.files.primary_keys()

    def row_timestamps(self) -> np.ndarray:
        return self.files.row_timestamps()

    def vector_index(self, field_name: str) -> Any | None:
        return self.vector_indexes.get(field_name)

    def scalar_index(self, field_name: str) -> Any | None:
        return self.scalar_indexes.get(field_name)

    def sorted_keys(self) -> SortedKeys:
        with self._lock:
            if self._sorted is None:
                self._sorted = SortedKeys(as_key_array(self.primary_keys()))
            return self._sorted

    def add_deletes(self, keys: np.ndarray, timestamps: np.ndarray) -> None:
        """Record deletes that hit rows of this segment (caller holds the write lock)."""
        self.delete_keys = np.concatenate([self.delete_keys, keys])
        self.delete_ts = np.concatenate([self.delete_ts, timestamps.astype(np.uint64)])

    def with_schema(self, schema: CollectionSchema) -> None:
        self.schema = schema
