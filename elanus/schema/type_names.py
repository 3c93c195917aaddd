"""Data types as Milvus's messages spell them ("VarChar", "FloatVector", "JSON")."""

from __future__ import annotations

from types import MappingProxyType

from elanus.schema.types import DataType

__all__ = ["MILVUS_TYPE_NAMES", "milvus_type_name"]

MILVUS_TYPE_NAMES = MappingProxyType(
    {
        DataType.BOOL: "Bool",
        DataType.INT8: "Int8",
        DataType.INT16: "Int16",
        DataType.INT32: "Int32",
        DataType.INT64: "Int64",
        DataType.FLOAT: "Float",
        DataType.DOUBLE: "Double",
        DataType.STRING: "String",
        DataType.VARCHAR: "VarChar",
        DataType.ARRAY: "Array",
        DataType.JSON: "JSON",
        DataType.GEOMETRY: "Geometry",
        DataType.TEXT: "Text",
        DataType.TIMESTAMPTZ: "Timestamptz",
        DataType.BINARY_VECTOR: "BinaryVector",
        DataType.FLOAT_VECTOR: "FloatVector",
        DataType.FLOAT16_VECTOR: "Float16Vector",
        DataType.BFLOAT16_VECTOR: "BFloat16Vector",
        DataType.SPARSE_FLOAT_VECTOR: "SparseFloatVector",
        DataType.INT8_VECTOR: "Int8Vector",
    }
)


def milvus_type_name(dtype: DataType) -> str:
    """Milvus's protobuf name of ``dtype`` (the enum name when Milvus has none)."""
    return MILVUS_TYPE_NAMES.get(dtype, dtype.name)
