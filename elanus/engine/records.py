"""WAL payloads: one user write (all its partition groups) as one record.

A record is a sequence of Arrow IPC streams, each prefixed by its u64 length;
each stream holds one ``InsertBatch`` or ``DeleteBatch`` with kind, timestamp and
partition in the schema metadata. Dense vectors travel as fixed-size lists of
their storage dtype, sparse rows as lists of (uint32 index, float32 value).
Keeping a whole write in one record makes a torn WAL tail drop all of it or none.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from elanus.engine.collection import DeleteBatch, InsertBatch
from elanus.engine.keys import as_key_array

__all__ = ["decode_record", "encode_record", "columns_from_table", "columns_to_table"]

_PK = "$pk"
_SPARSE_INDEX = "$sparse_index:"
_SPARSE_VALUE = "$sparse_value:"


def columns_to_table(columns: dict[str, Any], primary_keys: Any, num_rows: int) -> pa.Table:
    arrays: list[pa.Array] = []
    fields: list[pa.Field] = []
    for name, col in columns.items():
        if isinstance(col, np.ndarray):
            flat = pa.array(np.ascontiguousarray(col).reshape(-1))
            arrays.append(pa.FixedSizeListArray.from_arrays(flat, col.shape[1]))
            fields.append(pa.field(name, arrays[-1].type, metadata={"dtype": col.dtype.str}))
        elif sp.issparse(col):
            csr = sp.csr_array(col)
            offsets = pa.array(csr.indptr.astype(np.int32))
            arrays.append(
                pa.ListArray.from_arrays(offsets, pa.array(csr.indices.astype(np.uint32)))
            )
            fields.append(pa.field(_SPARSE_INDEX + name, arrays[-1].type))
            arrays.append(pa.ListArray.from_arrays(offsets, pa.array(csr.data.astype(np.float32))))
            fields.append(pa.field(_SPARSE_VALUE + name, arrays[-1].type))
        else:
            arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
            arrays.append(arr)
            fields.append(pa.field(name, arr.type))
    pks = (
        primary_keys if isinstance(primary_keys, pa.Array) else pa.array(as_key_array(primary_keys))
    )
    arrays.append(pks)
    fields.append(pa.field(_PK, pks.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def columns_from_table(table: pa.Table) -> tuple[dict[str, Any], Any]:
    columns: dict[str, Any] = {}
    pks: Any = None
    n = table.num_rows
    for f in table.schema:
        col = table.column(f.name).combine_chunks()
        if f.name == _PK:
            pks = as_key_array(col) if pa.types.is_integer(col.type) else col
        elif f.name.startswith(_SPARSE_INDEX):
            name = f.name[len(_SPARSE_INDEX) :]
            values = table.column(_SPARSE_VALUE + name).combine_chunks()
            offsets = col.offsets.to_numpy()
            columns[name] = sp.csr_array(
                (
                    values.values.to_numpy().astype(np.float32),
                    col.values.to_numpy().astype(np.int64),
                    offsets.astype(np.int64),
                ),
                shape=(n, 2**32),
            )
        elif f.name.startswith(_SPARSE_VALUE):
            continue
        elif pa.types.is_fixed_size_list(f.type):
            dtype = np.dtype((f.metadata or {}).get(b"dtype", b"<f4").decode())
            width = f.type.list_size
            flat = col.flatten().to_numpy(zero_copy_only=False)
            columns[f.name] = np.asarray(flat, dtype=dtype).reshape(n, width)
        else:
            columns[f.name] = col
    return columns, pks


def _stream(table: pa.Table, meta: dict[str, str]) -> bytes:
    table = table.replace_schema_metadata(meta)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def encode_record(batches: list[InsertBatch | DeleteBatch]) -> bytes:
    parts: list[bytes] = []
    for b in batches:
        if isinstance(b, InsertBatch):
            table = columns_to_table(b.columns, b.primary_keys, b.num_rows)
            meta = {"kind": "insert", "ts": str(b.timestamp), "partition": b.partition}
        else:
            table = pa.table({_PK: pa.array(b.keys)})
            meta = {"kind": "delete", "ts": str(b.timestamp)}
            if b.partition is not None:
                meta["partition"] = b.partition
        data = _stream(table, meta)
        parts.append(struct.pack("<Q", len(data)) + data)
    return b"".join(parts)


def decode_record(payload: bytes) -> list[InsertBatch | DeleteBatch]:
    out: list[InsertBatch | DeleteBatch] = []
    pos = 0
    while pos < len(payload):
        (size,) = struct.unpack_from("<Q", payload, pos)
        pos += 8
        table = pa.ipc.open_stream(pa.py_buffer(payload[pos : pos + size])).read_all()
        pos += size
        meta = {k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()}
        ts = int(meta["ts"])
        if meta["kind"] == "insert":
            columns, pks = columns_from_table(table)
            out.append(InsertBatch(ts, meta["partition"], columns, pks, table.num_rows))
        else:
            keys = as_key_array(table.column(_PK).combine_chunks())
            out.append(DeleteBatch(ts, meta.get("partition"), keys))
    return out
