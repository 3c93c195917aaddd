"""The last check before a write is logged: every column is exactly what a segment takes.

``normalize_columns`` turns user data into the shared column convention and
rejects bad input with ``DataError``. Once a batch is in the WAL it must apply,
on this write and on every replay after a restart, so the engine checks the
finished batch (after auto ids, function outputs and partial-update fills)
against the schema right before logging. A failure here is a bug in whatever
built the batch, raised as ``InternalError`` naming the field: the write fails
and nothing is logged. Replay runs the same check and skips a record that fails
it instead of leaving the data directory unopenable.

Checks are per column (type, shape, length), never per row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from elanus.errors import InternalError
from elanus.schema import DYNAMIC_FIELD_NAME, CollectionSchema, DataType, FieldSchema
from elanus.schema.arrow import arrow_type
from elanus.schema.types import dense_vector_numpy_dtype, vector_row_width
from elanus.schema.vector_validity import VALIDITY_PREFIX, is_validity_column

__all__ = ["check_delete_keys", "check_insert_columns"]

_SPARSE_WIDTH = 2**32


def check_insert_columns(
    schema: CollectionSchema, columns: dict[str, Any], primary_keys: Any, num_rows: int
) -> None:
    """Raise ``InternalError`` naming the field unless the batch fits the schema exactly."""
    for name, column in columns.items():
        if name == DYNAMIC_FIELD_NAME:
            if not schema.enable_dynamic_field:
                raise InternalError(
                    "write batch carries the dynamic field $meta but the collection has none"
                )
            _check_arrow(name, column, pa.string(), num_rows)
            continue
        if is_validity_column(name):
            owner = schema.get(name[len(VALIDITY_PREFIX) :])
            if owner is None or not (owner.dtype.is_vector and owner.nullable):
                raise InternalError(f"write batch carries {name} for no nullable vector field")
            _check_arrow(name, column, pa.bool_(), num_rows)
            continue
        field = schema.get(name)
        if field is None:
            raise InternalError(f"write batch carries field {name} that is not in the schema")
        _check_field(field, column, num_rows)
    pk = schema.primary_field
    if pk.name not in columns:
        raise InternalError(f"write batch lacks the primary key field {pk.name}")
    if pk.dtype == DataType.INT64:
        if not (
            isinstance(primary_keys, np.ndarray)
            and primary_keys.dtype == np.int64
            and primary_keys.shape == (num_rows,)
        ):
            raise InternalError(
                f"primary keys of field {pk.name} are not {num_rows} int64 values: {_describe(primary_keys)}"
            )
    else:
        _check_arrow(pk.name, primary_keys, pa.string(), num_rows)
        if primary_keys.null_count:
            raise InternalError(f"primary keys of field {pk.name} contain nulls")


def check_delete_keys(schema: CollectionSchema, keys: Any) -> None:
    """Raise ``InternalError`` unless delete keys are a 1-D array of the key's kind."""
    pk = schema.primary_field
    kind = "i" if pk.dtype == DataType.INT64 else "U"
    if not (
        isinstance(keys, np.ndarray)
        and keys.ndim == 1
        and (keys.dtype.kind == kind or len(keys) == 0)
        and (kind == "U" or keys.dtype == np.int64 or len(keys) == 0)
    ):
        raise InternalError(
            f"delete keys of primary key field {pk.name} are not a 1-D {pk.dtype.name} "
            f"array: {_describe(keys)}"
        )


def _check_field(field: FieldSchema, column: Any, num_rows: int) -> None:
    dtype = field.dtype
    if dtype.is_dense_vector:
        width = vector_row_width(dtype, field.dim or 0)
        expected = dense_vector_numpy_dtype(dtype)
        if not (
            isinstance(column, np.ndarray)
            and column.dtype == expected
            and column.shape == (num_rows, width)
        ):
            raise InternalError(
                f"column of vector field {field.name} is not a ({num_rows}, {width}) {expected} "
                f"array: {_describe(column)}"
            )
        return
    if dtype == DataType.SPARSE_FLOAT_VECTOR:
        if not (
            sp.issparse(column)
            and column.format == "csr"
            and column.dtype == np.float32
            and column.shape == (num_rows, _SPARSE_WIDTH)
        ):
            raise InternalError(
                f"column of sparse vector field {field.name} is not a ({num_rows}, 2**32) "
                f"float32 csr array: {_describe(column)}"
            )
        return
    _check_arrow(field.name, column, arrow_type(field), num_rows)


def _check_arrow(name: str, column: Any, expected: pa.DataType, num_rows: int) -> None:
    if not (isinstance(column, pa.Array) and column.type == expected and len(column) == num_rows):
        raise InternalError(
            f"column of field {name} is not {num_rows} values of Arrow type {expected}: "
            f"{_describe(column)}"
        )


def _describe(column: Any) -> str:
    if isinstance(column, pa.Array):
        return f"Arrow {column.type} of length {len(column)}"
    if isinstance(column, np.ndarray):
        return f"numpy {column.dtype} of shape {column.shape}"
    if sp.issparse(column):
        return f"sparse {column.format} {column.dtype} of shape {column.shape}"
    return type(column).__name__
