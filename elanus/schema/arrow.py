"""Mapping between schema field types and Arrow types, for memory and for storage.

Scalar fields keep the shared in-memory column convention on disk too (one Arrow
type per field). Vector fields are not Arrow columns in memory, but storage
sometimes needs them in Arrow form (the WAL, sparse vectors in segment files):

- a dense vector row is one fixed-size binary value holding the row's raw
  little-endian bytes, so every element type (float16, bfloat16 bits, int8,
  packed binary) round-trips bit for bit;
- a sparse vector row is a ``list<struct<index: uint32, value: float32>>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import pyarrow as pa

from elanus.schema.collection import CollectionSchema
from elanus.schema.field import DYNAMIC_FIELD_NAME, FieldSchema
from elanus.schema.types import DataType, vector_bytes_per_row

__all__ = [
    "SCALAR_ARROW_TYPES",
    "SPARSE_ARROW_TYPE",
    "arrow_type",
    "dense_storage_type",
    "scalar_arrow_schema",
    "scalar_arrow_type",
]

# VARCHAR comes before STRING so that a reverse lookup (Arrow type -> data type)
# finds VARCHAR for a string column, the type Milvus actually uses.
_SCALAR: dict[DataType, pa.DataType] = {
    DataType.BOOL: pa.bool_(),
    DataType.INT8: pa.int8(),
    DataType.INT16: pa.int16(),
    DataType.INT32: pa.int32(),
    DataType.INT64: pa.int64(),
    DataType.FLOAT: pa.float32(),
    DataType.DOUBLE: pa.float64(),
    DataType.VARCHAR: pa.string(),
    DataType.STRING: pa.string(),
    DataType.TEXT: pa.string(),
    DataType.JSON: pa.string(),
    DataType.GEOMETRY: pa.string(),
    DataType.TIMESTAMPTZ: pa.timestamp("us", tz="UTC"),
}

SCALAR_ARROW_TYPES: Mapping[DataType, pa.DataType] = MappingProxyType(_SCALAR)
"""The Arrow type of every scalar data type other than ARRAY (the shared column convention)."""

SPARSE_ARROW_TYPE: pa.DataType = pa.list_(
    pa.struct([pa.field("index", pa.uint32(), nullable=False), ("value", pa.float32())])
)


def scalar_arrow_type(dtype: DataType, element_type: DataType | None = None) -> pa.DataType:
    """The Arrow type of a scalar column (ARRAY needs its element type)."""
    if dtype == DataType.ARRAY:
        if element_type is None or element_type not in _SCALAR:
            raise ValueError(f"ARRAY needs a scalar element type, got {element_type!r}")
        return pa.list_(_SCALAR[element_type])
    try:
        return _SCALAR[dtype]
    except KeyError:
        raise ValueError(f"{dtype.name} is not a scalar type") from None


def dense_storage_type(field: FieldSchema) -> pa.DataType:
    """Fixed-size binary holding one dense vector row's little-endian bytes."""
    if not field.dtype.is_dense_vector or field.dim is None:
        raise ValueError(f"field {field.name} is not a dense vector field with a dim")
    return pa.binary(vector_bytes_per_row(field.dtype, field.dim))


def arrow_type(field: FieldSchema) -> pa.DataType:
    """The Arrow type a field is stored as (see the module docstring for vectors)."""
    if field.dtype == DataType.SPARSE_FLOAT_VECTOR:
        return SPARSE_ARROW_TYPE
    if field.dtype.is_dense_vector:
        return dense_storage_type(field)
    return scalar_arrow_type(field.dtype, field.element_type)


def scalar_arrow_schema(schema: CollectionSchema) -> pa.Schema:
    """Arrow schema of the scalar fields, plus ``$meta`` when the dynamic field is on."""
    fields = [pa.field(f.name, arrow_type(f)) for f in schema.scalar_fields]
    if schema.enable_dynamic_field:
        fields.append(pa.field(DYNAMIC_FIELD_NAME, pa.string()))
    return pa.schema(fields)
