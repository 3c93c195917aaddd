"""``fieldOps`` of a partial upsert: Array fields appended to or removed from.

Milvus merges these in its proxy: it reads the stored rows of the keys being
upserted, applies each field's op to the stored array and writes the result as
an ordinary partial upsert. Elanus does the same here, before the rows become
columns: ``ARRAY_APPEND`` adds the given elements after the stored ones,
``ARRAY_REMOVE`` drops every stored element equal to one given, ``REPLACE`` is an
ordinary partial update. The engine then checks the merged arrays (capacity,
element type) as it checks any write.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elanus.engine.api import EngineAPI
from elanus.engine.requests import QueryRequest
from elanus.errors import ParameterError
from elanus.schema import CollectionSchema, DataType
from elanus.server.rest_schema import type_name

__all__ = ["apply_field_ops", "field_ops"]

_OPS = ("REPLACE", "ARRAY_APPEND", "ARRAY_REMOVE")


def field_ops(schema: CollectionSchema, raw: Any) -> dict[str, str]:
    """``fieldOps`` checked as Milvus checks them: field name → op, REPLACE left out."""
    if raw is None:
        return {}
    if not isinstance(raw, list) or not all(isinstance(op, Mapping) for op in raw):
        raise ParameterError("fieldOps must be a list of {fieldName, op} objects")
    out: dict[str, str] = {}
    seen: set[str] = set()
    for entry in raw:
        name = str(entry.get("fieldName") or "")
        op = str(entry.get("op") or "").strip().upper()
        if op not in _OPS:
            raise ParameterError(f"unsupported partial update op: {entry.get('op')}")
        if not name:
            raise ParameterError("FieldPartialUpdateOp.field_name is required")
        if name in seen:
            raise ParameterError(f'duplicate partial-update op for field "{name}"')
        seen.add(name)
        if op == "REPLACE":
            continue
        field = schema.get(name)
        if field is None:
            raise ParameterError(f'field "{name}" not found in collection schema')
        if field.is_primary:
            raise ParameterError(
                f'field "{name}" is the primary key and cannot carry a partial-update op'
            )
        if field.dtype != DataType.ARRAY:
            raise ParameterError(
                f'op {op} requires Array field, but field "{name}" is {type_name(field.dtype)}'
            )
        out[name] = op
    return out


def apply_field_ops(
    engine: EngineAPI,
    db: str,
    collection: str,
    schema: CollectionSchema,
    rows: list[Mapping[str, Any]],
    ops: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The rows with each op's field merged with its stored value."""
    pk = schema.primary_field.name
    keys = [row.get(pk) for row in rows if row.get(pk) is not None]
    stored: dict[Any, dict[str, Any]] = {}
    if keys:
        result = engine.query(
            db,
            collection,
            QueryRequest(ids=keys, output_fields=[pk, *ops], consistency_level="Strong"),
        )
        columns = {
            name: _values(result.columns[name]) for name in (pk, *ops) if name in result.columns
        }
        for i, key in enumerate(columns.get(pk, [])):
            stored[key] = {name: columns[name][i] for name in ops if name in columns}
    merged: list[dict[str, Any]] = []
    for row in rows:
        out = dict(row)
        before = stored.get(row.get(pk), {})
        for name, op in ops.items():
            if name not in row:
                raise ParameterError(
                    f'partial-update op targets field "{name}" not present in fields_data'
                )
            given = row[name]
            if not isinstance(given, list):
                raise ParameterError(f'partial-update op field "{name}" payload is not an Array')
            old = list(before.get(name) or [])
            if op == "ARRAY_APPEND":
                out[name] = old + given
            else:
                out[name] = [v for v in old if v not in given]
        merged.append(out)
    return merged


def _values(column: Any) -> list[Any]:
    if hasattr(column, "to_pylist"):
        return list(column.to_pylist())
    if hasattr(column, "tolist"):
        return list(column.tolist())
    return list(column)
