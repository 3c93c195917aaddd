"""Encode and decode one write batch as a WAL record (format: docs/storage.md).

A record is an Arrow IPC stream of one record batch. The batch's schema metadata
carries the header (kind, collection id, partition, timestamp, engine metadata);
each column's field metadata says how to turn it back into the shared in-memory
convention:

- ``scalar``: a pyarrow Array, stored as is (nulls kept by Arrow validity);
- ``numpy``: a 1-D numpy array (e.g. int64 primary keys), stored as its Arrow twin;
- ``dense``: a 2-D numpy array, stored as fixed-size binary of each row's
  little-endian bytes (bit-exact for float16, bfloat16 bits, int8, binary);
- ``sparse``: a scipy ``csr_array`` (rows, 2**32), stored as
  ``list<struct<index: uint32, value: float32>>``.

Decoded numpy arrays are read-only views over the record's bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from elanus.errors import StorageError
from elanus.schema.arrow import SPARSE_ARROW_TYPE

__all__ = [
    "BatchKind",
    "WalBatch",
    "decode_batch",
    "decode_column",
    "encode_batch",
    "encode_column",
]

SPARSE_DIM = 1 << 32
_HEADER_KEY = b"elanus.batch"
_KIND_KEY = b"elanus.kind"
_PK = "$pk"
_TS = "$ts"
_COLUMN_PREFIX = "c:"  # keeps column names apart from the reserved $pk/$ts


class BatchKind(IntEnum):
    INSERT = 1
    DELETE = 2
    META = 3  # engine metadata (DDL, markers); the engine owns ``meta``'s shape


@dataclass(frozen=True)
class WalBatch:
    """One write batch as the WAL stores it.

    ``columns`` maps field names (and ``$meta``) to columns in the shared
    convention. ``primary_keys`` are the rows' keys (int64 numpy or pyarrow
    string array): the inserted rows' keys for INSERT, the deleted keys for
    DELETE. ``timestamps`` optionally gives each row its own uint64 timestamp;
    otherwise every row has ``timestamp``. ``meta`` is any JSON-serialisable
    mapping.
    """

    kind: BatchKind
    collection_id: int
    partition: str = ""
    timestamp: int = 0
    primary_keys: np.ndarray | pa.Array | None = None
    columns: Mapping[str, Any] = field(default_factory=dict)
    timestamps: np.ndarray | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


def encode_batch(batch: WalBatch) -> bytes:
    """The batch as Arrow IPC bytes, ready for ``WriteAheadLog.append``."""
    names: list[str] = []
    arrays: list[pa.Array] = []
    fields: list[pa.Field] = []
    entries: list[tuple[str, Any]] = []
    if batch.primary_keys is not None:
        entries.append((_PK, batch.primary_keys))
    if batch.timestamps is not None:
        entries.append((_TS, np.asarray(batch.timestamps, dtype=np.uint64)))
    entries.extend((_COLUMN_PREFIX + name, col) for name, col in batch.columns.items())
    lengths = set()
    for name, column in entries:
        array, meta = encode_column(column)
        lengths.add(len(array))
        names.append(name)
        arrays.append(array)
        fields.append(pa.field(name, array.type, metadata=meta))
    if len(lengths) > 1:
        raise StorageError(f"columns of one batch differ in length: {sorted(lengths)}")
    header = {
        "kind": int(batch.kind),
        "collection_id": int(batch.collection_id),
        "partition": batch.partition,
        "timestamp": int(batch.timestamp),
        "meta": dict(batch.meta),
    }
    schema = pa.schema(fields, metadata={_HEADER_KEY: json.dumps(header).encode()})
    record = pa.RecordBatch.from_arrays(arrays, schema=schema)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        writer.write_batch(record)
    return bytes(sink.getvalue())


def decode_batch(data: bytes | pa.Buffer) -> WalBatch:
    """Inverse of ``encode_batch``. Raises ``StorageError`` on bytes it cannot read."""
    try:
        reader = pa.ipc.open_stream(pa.py_buffer(data) if isinstance(data, bytes) else data)
        record = reader.read_next_batch()
        header = json.loads((record.schema.metadata or {})[_HEADER_KEY])
    except (pa.ArrowInvalid, KeyError, StopIteration, ValueError) as exc:
        raise StorageError(f"cannot decode WAL batch: {exc}") from exc
    pks: np.ndarray | pa.Array | None = None
    ts: np.ndarray | None = None
    columns: dict[str, Any] = {}
    for index, fld in enumerate(record.schema):
        value = decode_column(record.column(index), fld.metadata)
        if fld.name == _PK:
            pks = value
        elif fld.name == _TS:
            ts = np.asarray(value)
        else:
            columns[fld.name[len(_COLUMN_PREFIX) :]] = value
    return WalBatch(
        kind=BatchKind(header["kind"]),
        collection_id=header["collection_id"],
        partition=header["partition"],
        timestamp=header["timestamp"],
        primary_keys=pks,
        columns=columns,
        timestamps=ts,
        meta=header["meta"],
    )


def encode_column(column: Any) -> tuple[pa.Array, dict[bytes, bytes]]:
    """One in-memory column as (Arrow array, field metadata saying how to decode it)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if isinstance(column, pa.Array):
        return column, {_KIND_KEY: b"scalar"}
    if sp.issparse(column):
        return _encode_sparse(column), {_KIND_KEY: b"sparse"}
    if isinstance(column, np.ndarray):
        if column.ndim == 1:
            return pa.array(column), {_KIND_KEY: b"numpy"}
        if column.ndim == 2:
            return _encode_dense(column)
    raise StorageError(f"cannot store a column of type {type(column).__name__}")


def decode_column(array: pa.Array, metadata: Mapping[bytes, bytes] | None) -> Any:
    """Inverse of ``encode_column``."""
    meta = metadata or {}
    kind = meta.get(_KIND_KEY, b"scalar")
    if kind == b"scalar":
        return array
    if kind == b"numpy":
        return array.to_numpy(zero_copy_only=False)
    if kind == b"dense":
        return _decode_dense(array, np.dtype(meta[b"dtype"].decode()), int(meta[b"width"]))
    if kind == b"sparse":
        return _decode_sparse(array)
    raise StorageError(f"unknown column kind {kind!r} in WAL batch")


def _encode_dense(matrix: np.ndarray) -> tuple[pa.Array, dict[bytes, bytes]]:
    rows, width = matrix.shape
    little = matrix.dtype.newbyteorder("<") if matrix.dtype.itemsize > 1 else matrix.dtype
    data = np.ascontiguousarray(matrix, dtype=little)
    row_bytes = width * little.itemsize
    if row_bytes == 0:
        raise StorageError("a dense vector column needs at least one element per row")
    array = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(row_bytes), rows, [None, pa.py_buffer(data)]
    )
    meta = {_KIND_KEY: b"dense", b"dtype": little.str.encode(), b"width": str(width).encode()}
    return array, meta


def _decode_dense(array: pa.Array, dtype: np.dtype, width: int) -> np.ndarray:
    buf = array.buffers()[1]
    row_bytes = width * dtype.itemsize
    if buf is None or len(array) == 0:
        return np.empty((0, width), dtype=dtype)
    flat = np.frombuffer(
        buf, dtype=dtype, count=len(array) * width, offset=array.offset * row_bytes
    )
    return flat.reshape(len(array), width)


def _encode_sparse(matrix: Any) -> pa.Array:
    csr = sp.csr_array(matrix)
    indptr = csr.indptr.astype(np.int32, copy=False)
    values = pa.StructArray.from_arrays(
        [
            pa.array(csr.indices.astype(np.uint32, copy=False)),
            pa.array(csr.data.astype(np.float32, copy=False)),
        ],
        fields=list(SPARSE_ARROW_TYPE.value_type),
    )
    return pa.ListArray.from_arrays(pa.array(indptr), values, type=SPARSE_ARROW_TYPE)


def _decode_sparse(array: pa.Array) -> sp.csr_array:
    indptr = np.asarray(array.offsets.to_numpy(), dtype=np.int64)
    lo, hi = (int(indptr[0]), int(indptr[-1])) if len(indptr) else (0, 0)
    # flatten() honours the struct's own offset; field() would not.
    index_col, value_col = array.values.flatten()
    indices = index_col.to_numpy(zero_copy_only=False)[lo:hi]
    data = value_col.to_numpy(zero_copy_only=False)[lo:hi]
    return sp.csr_array(
        (data, indices.astype(np.int64), indptr - lo), shape=(len(array), SPARSE_DIM)
    )
