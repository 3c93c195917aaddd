"""Milvus's data types, with the same numeric values as the wire protocol."""

from __future__ import annotations

from enum import IntEnum

import numpy as np

__all__ = [
    "DataType",
    "FunctionType",
    "VECTOR_TYPES",
    "DENSE_VECTOR_TYPES",
    "INTEGER_TYPES",
    "NUMERIC_TYPES",
    "SCALAR_TYPES",
    "dense_vector_numpy_dtype",
    "vector_bytes_per_row",
]


class DataType(IntEnum):
    NONE = 0
    BOOL = 1
    INT8 = 2
    INT16 = 3
    INT32 = 4
    INT64 = 5
    FLOAT = 10
    DOUBLE = 11
    STRING = 20
    VARCHAR = 21
    ARRAY = 22
    JSON = 23
    GEOMETRY = 24
    TEXT = 25
    TIMESTAMPTZ = 26
    BINARY_VECTOR = 100
    FLOAT_VECTOR = 101
    FLOAT16_VECTOR = 102
    BFLOAT16_VECTOR = 103
    SPARSE_FLOAT_VECTOR = 104
    INT8_VECTOR = 105
    UNKNOWN = 999

    @property
    def is_vector(self) -> bool:
        return self in VECTOR_TYPES

    @property
    def is_dense_vector(self) -> bool:
        return self in DENSE_VECTOR_TYPES

    @property
    def is_scalar(self) -> bool:
        return self in SCALAR_TYPES

    @classmethod
    def parse(cls, value: object) -> DataType:
        """Accept a DataType, pymilvus's DataType, an int or a name ("INT64", "Int64")."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            key = value.strip().upper()
            if key in cls.__members__:
                return cls[key]
            raise ValueError(f"unknown data type: {value}")
        inner = getattr(value, "value", value)
        try:
            return cls(int(inner))  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise ValueError(f"unknown data type: {value}") from None


class FunctionType(IntEnum):
    UNKNOWN = 0
    BM25 = 1
    TEXTEMBEDDING = 2
    RERANK = 3

    @classmethod
    def parse(cls, value: object) -> FunctionType:
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            key = value.strip().upper().replace("_", "")
            for member in cls:
                if member.name.replace("_", "") == key:
                    return member
            raise ValueError(f"unknown function type: {value}")
        inner = getattr(value, "value", value)
        return cls(int(inner))  # type: ignore[call-overload]


DENSE_VECTOR_TYPES = frozenset(
    {
        DataType.FLOAT_VECTOR,
        DataType.FLOAT16_VECTOR,
        DataType.BFLOAT16_VECTOR,
        DataType.INT8_VECTOR,
        DataType.BINARY_VECTOR,
    }
)
VECTOR_TYPES = DENSE_VECTOR_TYPES | {DataType.SPARSE_FLOAT_VECTOR}
INTEGER_TYPES = frozenset({DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64})
NUMERIC_TYPES = INTEGER_TYPES | {DataType.FLOAT, DataType.DOUBLE}
SCALAR_TYPES = NUMERIC_TYPES | {
    DataType.BOOL,
    DataType.VARCHAR,
    DataType.STRING,
    DataType.TEXT,
    DataType.JSON,
    DataType.ARRAY,
    DataType.GEOMETRY,
    DataType.TIMESTAMPTZ,
}

_INTEGER_RANGES = {
    DataType.INT8: (-(2**7), 2**7 - 1),
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.INT64: (-(2**63), 2**63 - 1),
}


def integer_range(dtype: DataType) -> tuple[int, int]:
    return _INTEGER_RANGES[dtype]


def dense_vector_numpy_dtype(dtype: DataType) -> np.dtype:
    """How a dense vector type is held in memory and on disk (little-endian).

    bfloat16 is held as its raw 16-bit pattern (uint16): NumPy has no native type,
    and the stored bits are what Milvus's protocol carries.
    """
    if dtype == DataType.FLOAT_VECTOR:
        return np.dtype("<f4")
    if dtype == DataType.FLOAT16_VECTOR:
        return np.dtype("<f2")
    if dtype == DataType.BFLOAT16_VECTOR:
        return np.dtype("<u2")
    if dtype == DataType.INT8_VECTOR:
        return np.dtype("i1")
    if dtype == DataType.BINARY_VECTOR:
        return np.dtype("u1")
    raise ValueError(f"{dtype.name} is not a dense vector type")


def vector_row_width(dtype: DataType, dim: int) -> int:
    """Number of array elements per row: dim, or dim/8 bytes for binary vectors."""
    return dim // 8 if dtype == DataType.BINARY_VECTOR else dim


def vector_bytes_per_row(dtype: DataType, dim: int) -> int:
    return vector_row_width(dtype, dim) * dense_vector_numpy_dtype(dtype).itemsize
