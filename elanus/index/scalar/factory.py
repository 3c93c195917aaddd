"""create_scalar_index: Milvus's scalar index names and parameters → an index object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from elanus.errors import NotSupportedError, ParameterError
from elanus.index.scalar.indexes import BitmapIndex, InvertedIndex, NgramIndex, SortIndex, TrieIndex
from elanus.schema import DataType, FieldSchema

__all__ = ["SCALAR_INDEX_TYPES", "ScalarIndexObject", "create_scalar_index"]

ScalarIndexObject = InvertedIndex | BitmapIndex | TrieIndex | SortIndex | NgramIndex

_NUMERIC = {
    DataType.INT8,
    DataType.INT16,
    DataType.INT32,
    DataType.INT64,
    DataType.FLOAT,
    DataType.DOUBLE,
}
_STRINGS = {DataType.VARCHAR, DataType.STRING, DataType.TEXT}
_SUPPORTED = {
    "INVERTED": _NUMERIC | _STRINGS | {DataType.BOOL, DataType.TIMESTAMPTZ},
    "BITMAP": {DataType.BOOL, DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64}
    | _STRINGS,
    "STL_SORT": _NUMERIC | _STRINGS | {DataType.TIMESTAMPTZ},
    "TRIE": _STRINGS,
    "NGRAM": _STRINGS,
}
SCALAR_INDEX_TYPES = frozenset({*_SUPPORTED, "AUTOINDEX"})


def _gram(params: Mapping[str, Any], key: str) -> int:
    if key not in params:
        raise ParameterError(f"NGRAM index requires parameter {key}")
    try:
        value = int(params[key])
    except (TypeError, ValueError):
        raise ParameterError(
            f"NGRAM index parameter {key} must be an integer, got {params[key]!r}"
        ) from None
    if value < 1:
        raise ParameterError(f"NGRAM index parameter {key} must be positive, got {value}")
    return value


def create_scalar_index(
    index_type: str,
    field: FieldSchema,
    column: pa.Array | pa.ChunkedArray,
    params: Mapping[str, Any] | None = None,
) -> ScalarIndexObject:
    """Build a scalar index of ``index_type`` over one segment's ``column`` of ``field``.

    AUTOINDEX (or an empty name) picks INVERTED, as Milvus does for scalar fields.
    """
    params = dict(params or {})
    name = (index_type or "AUTOINDEX").strip().upper()
    if name == "AUTOINDEX":
        name = "INVERTED"
    if name not in _SUPPORTED:
        raise ParameterError(
            f"invalid index type: {index_type}, scalar index types are {sorted(SCALAR_INDEX_TYPES)}"
        )
    dtype = field.dtype
    if dtype in (DataType.JSON, DataType.ARRAY, DataType.GEOMETRY):
        raise NotSupportedError(
            f"{name} index on a {dtype.name} field is not supported by Elanus yet"
        )
    if dtype not in _SUPPORTED[name]:
        raise ParameterError(
            f"{name} index is not supported on field {field.name} of type {dtype.name}"
        )
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if name == "INVERTED":
        return InvertedIndex(column)
    if name == "BITMAP":
        if field.is_primary:
            raise ParameterError("BITMAP index cannot be built on the primary key field")
        return BitmapIndex(column)
    if name == "STL_SORT":
        return SortIndex(column)
    if name == "TRIE":
        return TrieIndex(column)
    min_gram, max_gram = _gram(params, "min_gram"), _gram(params, "max_gram")
    if min_gram > max_gram:
        raise ParameterError(f"NGRAM index min_gram {min_gram} is larger than max_gram {max_gram}")
    return NgramIndex(column, min_gram, max_gram)
