"""Which values a scalar index covers, and building one for a sealed segment.

A scalar index is keyed by what the filter asks for (``elanus.expr.index_key``): a
field's name, or for a JSON path index ``column["a"]["b"]`` — so one JSON field (or
the dynamic field, column ``$meta``) can carry several path indexes, told apart by
their index names and paths. The JSON values are extracted here, with the filter's
own JSON reader, so an index holds exactly the values a scan compares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from elanus.errors import FieldNotFound, ParameterError
from elanus.expr import index_key, parse_json_path
from elanus.expr.jsonvalues import json_path_values
from elanus.index.scalar import create_scalar_index, json_cast_arrow_type, validate_scalar_index
from elanus.schema import CollectionSchema, DataType, FieldSchema

__all__ = ["ScalarTarget", "build_scalar_index", "extract_json_path", "scalar_target"]

_DYNAMIC = "$meta"


@dataclass(frozen=True)
class ScalarTarget:
    """What one scalar index covers: ``key`` (what filters ask by), the column read,
    the JSON path inside it (empty for a plain field) and the field it is typed as."""

    key: str
    column: str
    path: tuple[str | int, ...]
    field: FieldSchema


def scalar_target(
    schema: CollectionSchema, field_name: str, index_type: str, params: Mapping[str, Any]
) -> ScalarTarget:
    """Resolve and check a scalar index request (Milvus's rules and messages)."""
    field = schema.get(field_name)
    dynamic = field is None and schema.enable_dynamic_field
    if field is None and not dynamic:
        raise FieldNotFound(f"field {field_name} not exist")
    if dynamic or (field is not None and field.dtype == DataType.JSON):
        typed = FieldSchema(field_name, DataType.JSON, nullable=True)
        validate_scalar_index(index_type, typed, params)
        raw_path = str(params.get("json_path") or field_name)
        head, path = parse_json_path(raw_path)
        if head != field_name:
            raise ParameterError(
                f"json_path {raw_path} must start with the field name {field_name}"
            )
        column = field_name
        if field is None:
            # a key of the dynamic field: its values live in the $meta column
            column = _DYNAMIC
            path = path if field_name == _DYNAMIC else (field_name, *path)
        return ScalarTarget(index_key(column, path), column, path, typed)
    assert field is not None
    if "json_path" in params or "json_cast_type" in params:
        raise ParameterError(
            f"json_path and json_cast_type apply only to JSON fields, "
            f"field {field_name} is {field.dtype.name}"
        )
    validate_scalar_index(index_type, field, params)
    return ScalarTarget(field.name, field.name, (), field)


def extract_json_path(arr: pa.Array, path: tuple[str | int, ...], cast_type: str) -> pa.Array:
    """The values at ``path`` cast to ``cast_type`` (``json_cast_arrow_type``): null
    where the path is absent or holds another type; ARRAY_* keep the elements of the
    cast type of list values."""
    cast_type = cast_type.strip().upper()
    if cast_type == "JSON":
        # a JSON-typed path index keeps no values (its filters scan): nothing to read
        return pa.nulls(len(arr), pa.string())
    values = json_path_values(arr, path)
    if cast_type.startswith("ARRAY_"):
        is_list, lengths, flat = values.lists()
        element = cast_type[len("ARRAY_") :]
        keep, typed = _typed(flat, element)
        counts = np.bincount(flat.parents[keep], minlength=values.n) if len(keep) else None
        offsets = np.zeros(values.n + 1, dtype=np.int32)
        if counts is not None:
            np.cumsum(counts, out=offsets[1:])
        return pa.ListArray.from_arrays(
            pa.array(offsets), typed.filter(pa.array(keep)), mask=pa.array(~is_list)
        ).cast(json_cast_arrow_type(cast_type))
    return _typed(values, cast_type)[1]


def _typed(values: Any, element: str) -> tuple[np.ndarray, pa.Array]:
    """(rows holding a value of ``element`` type, the values; null elsewhere)."""
    if element == "DOUBLE":
        mask, nums = values.numbers()
        return mask, pa.array(nums, type=pa.float64(), mask=~mask)
    if element == "BOOL":
        mask, bools = values.bools()
        return mask, pa.array(bools, type=pa.bool_(), mask=~mask)
    mask, strings = values.strings()
    return mask, strings


def build_scalar_index(
    target: ScalarTarget, index_type: str, params: Mapping[str, Any], column: pa.Array
) -> Any:
    """Build the index over one segment's ``column`` (the target's column)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if target.field.dtype == DataType.JSON:
        column = extract_json_path(column, target.path, str(params["json_cast_type"]))
    return create_scalar_index(index_type, target.field, column, params)
