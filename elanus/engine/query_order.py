"""ORDER BY for queries: ``order_by_fields`` as Milvus reads it ("price:desc",
"name:asc:nulls_first", several joined by commas), checked against the schema,
applied to the matching rows before offset/limit.

Rows are sorted column-wise with Arrow: per key, a null flag first (placing nulls
where the key asks: last for ascending, first for descending, unless overridden),
then the value; the primary key breaks ties so pages are stable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from elanus.engine.output import gather_columns, plan_output
from elanus.engine.snapshot import Snapshot
from elanus.errors import ParameterError
from elanus.schema import CollectionSchema, DataType
from elanus.schema.type_names import milvus_type_name

__all__ = ["OrderKey", "order_positions", "parse_order_by"]

_DIRECTIONS = {"asc": True, "ascending": True, "desc": False, "descending": False}
_NULLS = {"nulls_first": True, "nulls_last": False}
# The types Milvus cannot sort by.
_UNSORTABLE = frozenset(
    {
        DataType.JSON,
        DataType.ARRAY,
        DataType.GEOMETRY,
        DataType.FLOAT_VECTOR,
        DataType.BINARY_VECTOR,
        DataType.FLOAT16_VECTOR,
        DataType.BFLOAT16_VECTOR,
        DataType.SPARSE_FLOAT_VECTOR,
        DataType.INT8_VECTOR,
    }
)


@dataclass(frozen=True)
class OrderKey:
    field: str
    ascending: bool = True
    nulls_first: bool = False


def parse_order_by(text: str, schema: CollectionSchema) -> tuple[OrderKey, ...]:
    """The keys of an ``order_by_fields`` value, each checked against ``schema``."""
    keys = []
    for item in text.split(","):
        parts = [p.strip() for p in item.split(":")]
        name = parts[0]
        field = schema.get(name)
        if field is None:
            raise ParameterError(f"order_by field '{name}' does not exist in collection schema")
        if field.dtype in _UNSORTABLE:
            raise ParameterError(
                f"order_by field '{name}' has type {milvus_type_name(field.dtype)} which is not sortable"
            )
        direction = parts[1] if len(parts) > 1 and parts[1] else "asc"
        ascending = _DIRECTIONS.get(direction.lower())
        if ascending is None:
            raise ParameterError(
                f"invalid order direction '{direction}' for field '{name}', must be 'asc' or 'desc'"
            )
        nulls_first = not ascending
        if len(parts) > 2 and parts[2]:
            override = _NULLS.get(parts[2].lower())
            if override is None:
                raise ParameterError(
                    f"invalid null ordering '{parts[2]}' for field '{name}', "
                    "must be 'nulls_first' or 'nulls_last'"
                )
            nulls_first = override
        keys.append(OrderKey(name, ascending, nulls_first))
    return tuple(keys)


def order_positions(
    snapshot: Snapshot,
    keys: tuple[OrderKey, ...],
    segment_pos: np.ndarray,
    rows: np.ndarray,
) -> np.ndarray:
    """The permutation of the hits (``segment_pos``, ``rows``) that sorts them by ``keys``."""
    schema = snapshot.schema
    names = [k.field for k in keys]
    primary = schema.primary_field.name
    wanted = list(dict.fromkeys([*names, primary]))
    plan = plan_output(schema, wanted, include_primary=True)
    columns = gather_columns(snapshot, plan, segment_pos, rows)
    arrays: dict[str, pa.Array] = {}
    sort_keys: list[tuple[str, str]] = []
    for i, key in enumerate(keys):
        values = _arrow(columns[key.field])
        flag = f"null{i}"
        # False sorts first: flag nulls False when they go first, True when last.
        is_null = pc.is_null(values)
        arrays[flag] = pc.invert(is_null) if key.nulls_first else is_null
        arrays[f"key{i}"] = values
        sort_keys += [
            (flag, "ascending"),
            (f"key{i}", "ascending" if key.ascending else "descending"),
        ]
    arrays["pk"] = _arrow(columns[primary])
    sort_keys.append(("pk", "ascending"))
    table = pa.table(arrays)
    return np.asarray(pc.sort_indices(table, sort_keys=sort_keys).to_numpy(zero_copy_only=False))


def _arrow(column: object) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks()
    if isinstance(column, pa.Array):
        return column
    return pa.array(np.asarray(column))
