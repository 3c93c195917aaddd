"""REST v2 values: JSON rows and query vectors in, engine columns out as JSON rows.

Rows are pivoted into columns by the schema layer (``rows_to_columns``), the same
step the embedded client takes; the engine casts and checks them. Outgoing
columns become JSON-ready Python values once per column (vectorised), then rows
are zipped; the per-row work is proportional to the rows returned.

JSON has no bytes: binary, float16 and bfloat16 vectors may come in as lists of
numbers or as base64 text of their little-endian bytes, as Milvus's REST API
accepts; binary vectors go out as base64 text, float16/bfloat16 as float lists.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from elanus.engine.requests import QueryResult, SearchResults
from elanus.errors import DataError, ParameterError
from elanus.schema import DYNAMIC_FIELD_NAME, CollectionSchema, DataType, FieldSchema
from elanus.schema.columns import rows_to_columns
from elanus.schema.scalars import timestamptz_text
from elanus.schema.types import dense_vector_numpy_dtype

__all__ = [
    "columns_from_rows",
    "int64_text",
    "json_column",
    "query_rows",
    "query_vectors",
    "search_rows",
    "sparse_row",
]

_BYTE_VECTORS = frozenset(
    {DataType.BINARY_VECTOR, DataType.FLOAT16_VECTOR, DataType.BFLOAT16_VECTOR}
)


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DataError(f"{what}: not valid base64 text") from None


def _byte_rows(f: FieldSchema, values: list[Any]) -> list[Any]:
    """Base64 text rows of a byte-packed vector field as bytes (lists stay lists)."""
    return [_b64(v, f"vector field {f.name}") if isinstance(v, str) else v for v in values]


def _bfloat16_bits(values: Any) -> Any:
    """Float rows of a bfloat16 field as the raw 16-bit patterns the engine stores."""
    import ml_dtypes

    floats = np.asarray(values, dtype=np.float32)
    return floats.astype(ml_dtypes.bfloat16).view(np.uint16)


def sparse_row(value: Any, what: str) -> Any:
    """A sparse vector as JSON writes it: ``{"index": value, ...}`` as it is, or
    Milvus's ``{"indices": [...], "values": [...]}`` as the same mapping."""
    if isinstance(value, Mapping) and set(value) == {"indices", "values"}:
        indices, values = value["indices"], value["values"]
        if not isinstance(indices, list) or not isinstance(values, list):
            raise DataError(f"{what}: indices and values must be lists")
        if len(indices) != len(values):
            raise DataError(f"{what}: indices and values must have the same length")
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in indices):
            raise DataError(f"{what}: sparse vector indices must be integers")
        return dict(zip(indices, values))
    return value


def columns_from_rows(schema: CollectionSchema, rows: Any) -> tuple[dict[str, Any], int]:
    """The ``data`` of an insert/upsert (a list of row objects, or one object)."""
    if isinstance(rows, Mapping):
        rows = [rows]
    if not isinstance(rows, list) or not rows:
        raise DataError("data must be a non-empty list of row objects")
    columns, num_rows = rows_to_columns(schema, rows)
    for f in schema.fields:
        values = columns.get(f.name)
        if values is not None and f.dtype == DataType.SPARSE_FLOAT_VECTOR:
            columns[f.name] = [sparse_row(v, f"vector field {f.name}") for v in values]
            continue
        if values is None or f.dtype not in _BYTE_VECTORS:
            continue
        values = _byte_rows(f, values)
        if f.dtype == DataType.BFLOAT16_VECTOR and all(isinstance(v, list) for v in values):
            values = _bfloat16_bits(values)
        columns[f.name] = values
    return columns, num_rows


def query_vectors(field: FieldSchema | None, data: Any) -> Any:
    """A search's ``data``: dense rows as a matrix of the field's type, sparse rows
    as a csr matrix, texts (full-text search) as a list of str."""
    if not isinstance(data, list) or not data:
        raise ParameterError("search data must be a non-empty list of vectors")
    if all(isinstance(v, str) for v in data) and (
        field is None or field.dtype not in _BYTE_VECTORS
    ):
        return data
    if field is None:
        return np.asarray(data, dtype=np.float32)
    if field.dtype == DataType.SPARSE_FLOAT_VECTOR:
        import scipy.sparse as sp

        from elanus.schema.columns import normalize_column

        rows = [sparse_row(v, f"query vector for {field.name}") for v in data]
        matrix = normalize_column(field, rows, len(rows))
        return sp.csr_array(matrix)
    target = dense_vector_numpy_dtype(field.dtype)
    if field.dtype in _BYTE_VECTORS and all(isinstance(v, str) for v in data):
        raw = [_b64(v, f"query vector for {field.name}") for v in data]
        if len({len(r) for r in raw}) != 1:
            raise ParameterError(f"query vectors for {field.name} differ in length")
        return np.frombuffer(b"".join(raw), dtype=target).reshape(len(raw), -1)
    if field.dtype == DataType.BFLOAT16_VECTOR:
        return _bfloat16_bits(data)
    try:
        return np.asarray(data, dtype=target)
    except (TypeError, ValueError):
        raise ParameterError(
            f"search data for {field.name} must be a list of {field.dtype.name} vectors"
        ) from None


# --- out -------------------------------------------------------------------------


def _sparse_rows(column: Any) -> list[Any]:
    csr = column.tocsr() if hasattr(column, "tocsr") else column
    indptr, indices, data = csr.indptr, csr.indices.tolist(), csr.data.tolist()
    return [
        {str(i): v for i, v in zip(indices[lo:hi], data[lo:hi])}
        for lo, hi in zip(indptr[:-1].tolist(), indptr[1:].tolist())
    ]


def int64_text(field: FieldSchema | None, values: list[Any], allow_int64: bool) -> list[Any]:
    """64-bit integers as Milvus's REST API writes them: JSON numbers only when the
    client sent ``Accept-Type-Allow-Int64: true``, else decimal strings (which
    JavaScript clients can hold without losing digits)."""
    if allow_int64 or field is None or field.dtype != DataType.INT64:
        return values
    return [None if v is None else str(v) for v in values]


def json_column(
    schema: CollectionSchema, name: str, column: Any, allow_int64: bool = True
) -> list[Any]:
    """One output column as JSON-ready values, one per row."""
    field = schema.get(name)
    if not allow_int64 and field is not None and field.dtype == DataType.INT64:
        return int64_text(field, json_column(schema, name, column), False)
    dtype = field.dtype if field is not None else None
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if isinstance(column, pa.Array):
        if name == DYNAMIC_FIELD_NAME or dtype == DataType.JSON:
            return [None if t is None else orjson.loads(t) for t in column.to_pylist()]
        if dtype == DataType.TIMESTAMPTZ and pa.types.is_timestamp(column.type):
            # Milvus's text form, as the gRPC API writes it.
            return list(timestamptz_text(column).to_pylist())
        return list(column.to_pylist())
    if isinstance(column, np.ndarray):
        if dtype == DataType.BINARY_VECTOR:
            return [base64.b64encode(row.tobytes()).decode("ascii") for row in column]
        if dtype == DataType.BFLOAT16_VECTOR:
            import ml_dtypes

            bits = np.ascontiguousarray(column).view(ml_dtypes.bfloat16)
            return list(bits.astype(np.float32).tolist())
        if column.dtype == np.float16:
            return list(column.astype(np.float32).tolist())
        return list(column.tolist())
    if hasattr(column, "tocsr") or hasattr(column, "indptr"):
        return _sparse_rows(column)
    return list(column)


def _rows(
    schema: CollectionSchema,
    columns: Mapping[str, Any],
    names: Sequence[str],
    count: int,
    allow_int64: bool,
) -> list[dict[str, Any]]:
    values = {n: json_column(schema, n, columns[n], allow_int64) for n in names if n in columns}
    meta = values.pop(DYNAMIC_FIELD_NAME, None)
    keys = list(values)
    if keys:
        rows = [dict(zip(keys, row)) for row in zip(*values.values())]
    else:
        rows = [{} for _ in range(count)]
    for row, extra in zip(rows, meta or ()):
        if extra:
            row.update(extra)
    return rows


def query_rows(
    schema: CollectionSchema, result: QueryResult, allow_int64: bool = True
) -> list[dict[str, Any]]:
    """A query's rows, dynamic keys flattened in, as Milvus's REST API answers."""
    return _rows(schema, result.columns, list(result.columns), result.num_rows, allow_int64)


def search_rows(
    schema: CollectionSchema,
    results: SearchResults,
    group_by_field: str | None = None,
    allow_int64: bool = True,
) -> list[Any]:
    """Hits as flat objects (primary key, ``distance``, output fields, and the group
    key when grouping), all queries' hits in one list in query order, as Milvus
    answers; the reply's ``topks`` tells where each query's hits end."""
    pk = results.primary_field_name
    ids = json_column(schema, pk, results.ids, allow_int64)
    distances = np.asarray(results.distances, dtype=np.float32).tolist()
    names = [n for n in results.fields if n != pk]
    rows = _rows(schema, results.fields, names, len(ids), allow_int64)
    for row, key, distance in zip(rows, ids, distances):
        row[pk] = key
        row["distance"] = distance
    if group_by_field and results.group_by_values is not None:
        keys = json_column(schema, group_by_field, results.group_by_values, allow_int64)
        for row, value in zip(rows, keys):
            row.setdefault(group_by_field, value)
    return rows
