"""create_scalar_index: Milvus's scalar index names and parameters → an index object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pyarrow as pa

from elanus.errors import NotSupportedError, ParameterError, StorageError
from elanus.index.scalar.containers import (
    JSON_CAST_TYPES,
    ArrayIndex,
    JsonPathIndex,
    json_cast_arrow_type,
)
from elanus.index.scalar.indexes import BitmapIndex, InvertedIndex, SortIndex, TrieIndex
from elanus.index.scalar.ngram import NgramIndex
from elanus.index.scalar.persist import read_state
from elanus.index.scalar.rtree import RTreeIndex
from elanus.schema import DataType, FieldSchema

__all__ = [
    "SCALAR_INDEX_TYPES",
    "ScalarIndexObject",
    "create_scalar_index",
    "load_scalar_index",
    "validate_scalar_index",
]

ScalarIndexObject = (
    InvertedIndex
    | BitmapIndex
    | TrieIndex
    | SortIndex
    | NgramIndex
    | JsonPathIndex
    | ArrayIndex
    | RTreeIndex
)
_CLASSES: dict[str, Any] = {
    cls.__name__: cls
    for cls in (
        InvertedIndex,
        BitmapIndex,
        TrieIndex,
        SortIndex,
        NgramIndex,
        JsonPathIndex,
        ArrayIndex,
        RTreeIndex,
    )
}

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
    "RTREE": {DataType.GEOMETRY},
}
SCALAR_INDEX_TYPES = frozenset({*_SUPPORTED, "AUTOINDEX"})
# BITMAP takes arrays of the element types it takes as a column
_BITMAP_ELEMENTS = _SUPPORTED["BITMAP"] - {DataType.TEXT}


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


# The cast types each index type takes on a JSON path (Milvus's combinations).
_JSON_PATH_CASTS = {
    "INVERTED": JSON_CAST_TYPES,
    "STL_SORT": frozenset({"DOUBLE", "VARCHAR"}),
    "BITMAP": frozenset({"BOOL", "VARCHAR"}),
}
# Milvus's wording when an index type cannot hold a JSON path at all.
_JSON_REFUSALS = {
    "TRIE": "TRIE are only supported on varchar field",
    "NGRAM": "NGRAM index is not supported on JSON field",
    "RTREE": "RTREE index can only be built on a GEOMETRY field",
}


def _json_params(field: FieldSchema, name: str, params: Mapping[str, Any]) -> str:
    if name not in _JSON_PATH_CASTS:
        raise ParameterError(
            _JSON_REFUSALS.get(name, f"index type {name} is not supported on JSON field")
            + f", field {field.name} is JSON"
        )
    cast = params.get("json_cast_type")
    if cast is None or str(cast).strip() == "":
        raise ParameterError(
            f"json index must specify json_cast_type for field {field.name}, "
            f"one of {sorted(JSON_CAST_TYPES)}"
        )
    cast = str(cast).strip().upper()
    if cast not in JSON_CAST_TYPES:
        raise ParameterError(
            f"json_cast_type {params['json_cast_type']} is not supported, "
            f"supported types are {sorted(JSON_CAST_TYPES)}"
        )
    if cast not in _JSON_PATH_CASTS[name]:
        raise ParameterError(
            f"{name} index on a JSON path takes json_cast_type "
            f"{' or '.join(sorted(_JSON_PATH_CASTS[name]))}, got {cast}"
        )
    if params.get("json_cast_function"):
        raise NotSupportedError(
            f"json_cast_function {params['json_cast_function']} is not supported by Elanus"
        )
    return cast


# Milvus's wording for a BITMAP index on a type it cannot hold.
_BITMAP_TYPES = "bitmap index are only supported on bool, int, string and array field"


def validate_scalar_index(
    index_type: str, field: FieldSchema, params: Mapping[str, Any] | None = None
) -> str:
    """The index type that ``index_type`` means on ``field`` (AUTOINDEX resolved), or
    the error Milvus gives for the combination. For a JSON field (or the dynamic field,
    passed as a JSON field) ``params`` must name ``json_cast_type``; ``json_path``
    defaults to the whole value."""
    params = dict(params or {})
    name = (index_type or "AUTOINDEX").strip().upper()
    dtype = field.dtype
    if name == "AUTOINDEX":
        name = "RTREE" if dtype == DataType.GEOMETRY else "INVERTED"
    if name not in _SUPPORTED:
        raise ParameterError(
            "invalid parameter[expected=valid index]"
            f"[actual=invalid index type: {str(index_type).strip()}], "
            f"scalar index types are {sorted(SCALAR_INDEX_TYPES)}"
        )
    if dtype == DataType.JSON:
        _json_params(field, name, params)
        return name
    if dtype == DataType.GEOMETRY and name != "RTREE":
        raise ParameterError(
            f"index type {name} is not supported on GEOMETRY field {field.name}, "
            "use RTREE or AUTOINDEX"
        )
    if dtype == DataType.ARRAY:
        element = field.element_type
        ok = name == "INVERTED" or (name == "BITMAP" and element in _BITMAP_ELEMENTS)
        if name == "BITMAP" and not ok:
            raise ParameterError(_BITMAP_TYPES)
        if not ok:
            raise ParameterError(
                f"index type {name} is not supported on ARRAY field {field.name} of "
                f"{element.name if element is not None else 'unknown'} elements"
            )
        return name
    if dtype not in _SUPPORTED[name]:
        if name == "BITMAP":
            raise ParameterError(_BITMAP_TYPES)
        if name == "RTREE":
            raise ParameterError(
                f"RTREE index can only be built on a GEOMETRY field, "
                f"field {field.name} is {dtype.name}"
            )
        raise ParameterError(
            f"{name} index is not supported on field {field.name} of type {dtype.name}"
        )
    if name == "BITMAP" and field.is_primary:
        raise ParameterError("create bitmap index on primary key not supported")
    if name == "NGRAM":
        min_gram, max_gram = _gram(params, "min_gram"), _gram(params, "max_gram")
        if min_gram > max_gram:
            raise ParameterError(
                f"NGRAM index min_gram {min_gram} is larger than max_gram {max_gram}"
            )
    return name


def create_scalar_index(
    index_type: str,
    field: FieldSchema,
    column: pa.Array | pa.ChunkedArray,
    params: Mapping[str, Any] | None = None,
) -> ScalarIndexObject:
    """Build a scalar index of ``index_type`` over one segment's ``column`` of ``field``.

    AUTOINDEX (or an empty name) picks INVERTED, as Milvus does for scalar fields
    (RTREE for GEOMETRY). For a JSON path index ``column`` holds the values at
    ``json_path`` already cast (``json_cast_arrow_type``): null where the path is
    absent or holds a value of another type.
    """
    params = dict(params or {})
    name = validate_scalar_index(index_type, field, params)
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    dtype = field.dtype
    if dtype == DataType.JSON:
        cast = _json_params(field, name, params)
        expected = json_cast_arrow_type(cast)
        if column.type != expected:
            column = column.cast(expected)
        if cast.startswith("ARRAY_"):
            kind = {"ARRAY_BOOL": "bool", "ARRAY_DOUBLE": "num", "ARRAY_VARCHAR": "str"}[cast]
            return ArrayIndex(column, kind, cast)
        return JsonPathIndex(cast, column, name)
    if dtype == DataType.ARRAY:
        return ArrayIndex(column)
    if name == "RTREE":
        return RTreeIndex(column)
    if name == "INVERTED":
        return InvertedIndex(column)
    if name == "BITMAP":
        return BitmapIndex(column)
    if name == "STL_SORT":
        return SortIndex(column)
    if name == "TRIE":
        return TrieIndex(column)
    return NgramIndex(column, _gram(params, "min_gram"), _gram(params, "max_gram"))


def load_scalar_index(path: str) -> ScalarIndexObject:
    """An index saved by its ``save(path)``, read back without touching the column."""
    kind, meta, arrays = read_state(path)
    cls = _CLASSES.get(kind)
    if cls is None:
        raise StorageError(f"scalar index {path} is of unknown kind {kind}")
    return cls.restore(meta, arrays)  # type: ignore[no-any-return]
