"""Checks and error messages shared by column normalisation (rows, scalars, vectors).

Each raises ``DataError`` naming the field and, where one row is at fault, the row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from elanus.errors import DataError
from elanus.schema.field import FieldSchema
from elanus.schema.types import DataType

__all__ = ["check_rows", "dump_json", "first_row", "type_error", "type_name"]


def check_rows(f: FieldSchema, got: int, num_rows: int) -> None:
    """Refuse a column whose length is not the batch's row count."""
    if got != num_rows:
        raise DataError(
            f"the num_rows ({got}) of field ({f.name}) is not equal to passed num_rows ({num_rows})"
        )


def type_name(f: FieldSchema) -> str:
    """The field's type as Milvus names it in messages (``ARRAY of INT64``)."""
    if f.dtype == DataType.ARRAY and f.element_type is not None:
        return f"ARRAY of {f.element_type.name}"
    return f.dtype.name


def type_error(f: FieldSchema, row: int, value: Any) -> DataError:
    """Milvus's type-mismatch message for one value, shown shortened."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return DataError(
        f"The data type of field {f.name} doesn't match, expected: {type_name(f)}, "
        f"got {type(value).__name__} {shown} at row {row}"
    )


def first_row(mask: pa.Array | np.ndarray) -> int:
    """The first row where ``mask`` is set (the caller knows one is)."""
    flags = np.asarray(mask.to_numpy(zero_copy_only=False) if isinstance(mask, pa.Array) else mask)
    return int(np.flatnonzero(flags)[0])


def dump_json(value: Any, field: str, row: int) -> str:
    """Canonical JSON text of a value, or of a JSON string after parsing it."""
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8")
    if isinstance(value, str):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise DataError(f"Invalid JSON string for field {field} at row {row}: {exc}") from None
        return orjson.dumps(parsed).decode()
    try:
        return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    except TypeError as exc:
        raise DataError(f"field {field} at row {row} is not JSON serializable: {exc}") from None
