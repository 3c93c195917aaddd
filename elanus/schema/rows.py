"""Row dicts to columns of Python values: one pivot, dynamic keys gathered into ``$meta``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from elanus.errors import DataError
from elanus.schema.collection import CollectionSchema
from elanus.schema.column_checks import dump_json
from elanus.schema.field import DYNAMIC_FIELD_NAME

__all__ = ["rows_to_columns"]


def rows_to_columns(
    schema: CollectionSchema, rows: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], int]:
    """Pivot row dicts into columns of Python values (cast later by ``normalize_columns``).

    Keys that are not fields go into ``$meta`` (JSON text) when the dynamic field
    is enabled, else they are an error. A field missing from some rows is filled
    with ``None`` (its default, if any, is applied later); a field missing
    everywhere is left out so the caller decides (auto_id, partial update).
    """
    num_rows = len(rows)
    names = [f.name for f in schema.fields]
    field_names = set(names)
    uniform = _uniform_field_rows(rows, field_names)
    if uniform is not None:
        # Every row a dict with the same field keys (the usual batch): one list
        # comprehension per column instead of a Python step per value.
        out_fast: dict[str, Any] = {
            name: [r[name] for r in rows] for name in names if name in uniform
        }
        if schema.enable_dynamic_field:
            out_fast[DYNAMIC_FIELD_NAME] = ["{}"] * num_rows
        return out_fast, num_rows
    columns: dict[str, list[Any]] = {name: [None] * num_rows for name in names}
    present: set[str] = set()
    meta: list[str] | None = [] if schema.enable_dynamic_field else None
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise DataError(f"row {i} is not a dict: got {type(row).__name__}")
        extra: dict[str, Any] | None = None
        for key, value in row.items():
            if key in field_names:
                columns[key][i] = value
                present.add(key)
            elif key == DYNAMIC_FIELD_NAME and isinstance(value, Mapping):
                extra = {**(extra or {}), **value}
            elif meta is None:
                raise DataError(
                    f"Attempt to insert an unexpected field `{key}` to collection "
                    "without enabling dynamic field"
                )
            else:
                if extra is None:
                    extra = {}
                extra[key] = value
        if meta is not None:
            meta.append(dump_json(extra or {}, DYNAMIC_FIELD_NAME, i))
    out: dict[str, Any] = {name: columns[name] for name in names if name in present}
    if meta is not None:
        out[DYNAMIC_FIELD_NAME] = meta
    return out, num_rows


def _uniform_field_rows(rows: Sequence[Any], field_names: set[str]) -> Any:
    """The shared key set when every row is a plain dict with the same keys, all of them
    fields; None otherwise (the general pivot handles it)."""
    if not rows or type(rows[0]) is not dict:
        return None
    keys = rows[0].keys()
    if not keys <= field_names:
        return None
    for r in rows:
        if type(r) is not dict or r.keys() != keys:
            return None
    return keys
