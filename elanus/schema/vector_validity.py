"""Nullable vector fields: which rows hold a vector.

A nullable vector field's column keeps the shared convention (a full-length 2-D
matrix, or a CSR array), with null rows zero-filled (dense) or empty (sparse).
Which rows are null travels beside it as a hidden bool column named
``$valid:<field>`` (True = the row holds a vector), so every layer that stores
or moves scalar columns carries it unchanged. Format: docs/engine.md,
"Nullable vector fields".
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from elanus.schema.collection import CollectionSchema
from elanus.schema.field import FieldSchema

__all__ = [
    "VALIDITY_PREFIX",
    "is_validity_column",
    "nullable_vector_fields",
    "split_null_vectors",
    "validity_array",
    "validity_column_name",
]

VALIDITY_PREFIX = "$valid:"


def validity_column_name(field_name: str) -> str:
    """The hidden column that says which rows of ``field_name`` hold a vector."""
    return VALIDITY_PREFIX + field_name


def is_validity_column(name: str) -> bool:
    return name.startswith(VALIDITY_PREFIX)


def nullable_vector_fields(schema: CollectionSchema) -> tuple[FieldSchema, ...]:
    return tuple(f for f in schema.fields if f.dtype.is_vector and f.nullable)


def validity_array(valid: np.ndarray) -> pa.Array:
    """The hidden column's value for a bool mask of rows that hold a vector."""
    return pa.array(np.asarray(valid, dtype=bool), type=pa.bool_())


def split_null_vectors(values: Any, num_rows: int) -> tuple[Any, np.ndarray | None]:
    """Pull the null rows out of per-row vector input.

    Returns the non-null rows (in order) and the bool mask of rows that hold a
    vector, or ``(values, None)`` when the input has no per-row nulls (a numpy
    matrix, a CSR array, or a list without ``None``).
    """
    if values is None:
        return [], np.zeros(num_rows, dtype=bool)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if values.null_count == 0:
            return values, None
        valid = ~np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        return values.drop_null(), valid
    if isinstance(values, np.ndarray) and values.dtype != object:
        return values, None
    if not isinstance(values, (list, tuple)) and not (
        isinstance(values, np.ndarray) and values.dtype == object
    ):
        return values, None
    rows = list(values)
    valid = np.fromiter((r is not None for r in rows), dtype=bool, count=len(rows))
    if valid.all():
        return values, None
    return [r for r in rows if r is not None], valid
