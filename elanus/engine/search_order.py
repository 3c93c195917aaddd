"""ORDER BY for searches: ``order_by_fields`` re-orders the best hits by scalar values.

Milvus first finds the ``offset + limit`` best hits (groups, when grouping) by
vector score, then sorts those by the keys and only then skips ``offset``. A key
is a scalar field, a dynamic key, or a JSON path (``meta["price"]``,
``dyn["a"]["b"]``); nulls and missing paths go last for ascending keys, first for
descending ones. Ties keep the score order. With grouping the groups move as a
whole, ordered by their best hit's values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from elanus.engine.columns_source import as_arrow_array
from elanus.engine.output import plan_output
from elanus.engine.requests import SearchRequest, SearchResults
from elanus.engine.snapshot import Snapshot
from elanus.errors import ParameterError
from elanus.schema import CollectionSchema, DataType
from elanus.schema.type_names import milvus_type_name

__all__ = ["SearchOrderKey", "ordered_search", "parse_search_order"]

_DIRECTIONS = {"asc": True, "ascending": True, "desc": False, "descending": False}
_SORTABLE = frozenset(
    {
        DataType.BOOL,
        DataType.INT8,
        DataType.INT16,
        DataType.INT32,
        DataType.INT64,
        DataType.FLOAT,
        DataType.DOUBLE,
        DataType.VARCHAR,
        DataType.STRING,
    }
)
_NAME = re.compile(r"^([A-Za-z_$][A-Za-z0-9_$]*)((?:\[(?:\"[^\"]*\"|'[^']*'|\d+)\])*)$")
_STEP = re.compile(r"\[(\"[^\"]*\"|'[^']*'|\d+)\]")


@dataclass(frozen=True)
class SearchOrderKey:
    """One sort key: ``column`` is the output name carrying the value (a schema
    field or a dynamic key), ``path`` the JSON steps below it."""

    column: str
    path: tuple[str | int, ...] = ()
    ascending: bool = True
    dynamic: bool = False


def parse_search_order(text: str, schema: CollectionSchema) -> tuple[SearchOrderKey, ...]:
    """The keys of a search's ``order_by_fields`` ("price:desc,meta[\"a\"]:asc")."""
    keys = []
    for item in text.split(","):
        name, _, direction = item.strip().rpartition(":")
        if not name:
            name, direction = direction, "asc"
        name = name.strip()
        match = _NAME.match(name)
        if match is None:
            raise ParameterError(f"order_by field '{name}' does not exist in collection schema")
        base = match.group(1)
        path = tuple(_step(s) for s in _STEP.findall(match.group(2)))
        field = schema.get(base)
        dynamic = field is None
        if field is None:
            if not schema.enable_dynamic_field:
                raise ParameterError(f"order_by field '{name}' does not exist in collection schema")
        elif not path and field.dtype not in _SORTABLE:
            type_name = milvus_type_name(field.dtype)
            raise ParameterError(
                f"order_by field '{name}' has unsortable type {type_name}; supported types: "
                "bool, int8/16/32/64, float, double, string, varchar; "
                'for JSON fields use path syntax like field["key"]'
            )
        elif path and field.dtype != DataType.JSON:
            raise ParameterError(f"order_by field '{name}' does not exist in collection schema")
        ascending = _DIRECTIONS.get(direction.strip().lower())
        if ascending is None:
            raise ParameterError(
                f"invalid order direction '{direction.strip()}' for field '{name}', "
                "expected 'asc' or 'desc'"
            )
        keys.append(SearchOrderKey(base, path, ascending, dynamic))
    return tuple(keys)


def _step(text: str) -> str | int:
    return text[1:-1] if text[0] in "\"'" else int(text)


def ordered_search(
    snapshot: Snapshot,
    request: SearchRequest,
    run: Callable[[Snapshot, SearchRequest], SearchResults],
) -> SearchResults:
    """``request`` served by ``run`` with its hits re-ordered by ``request.order_by``."""
    keys = parse_search_order(request.order_by, snapshot.schema)
    wanted = plan_output(snapshot.schema, request.output_fields, include_primary=False)
    extra = [k.column for k in keys]
    widened = replace(
        request,
        limit=request.limit + request.offset,
        offset=0,
        output_fields=list(dict.fromkeys([*(request.output_fields or []), *extra])),
        order_by="",
    )
    result = run(snapshot, widened)
    values = [_key_values(result, k) for k in keys]
    picks: list[np.ndarray] = []
    topks: list[int] = []
    offsets = result.offsets
    for q in range(result.nq):
        start, stop = int(offsets[q]), int(offsets[q + 1])
        chosen = _order_one(keys, values, result, start, stop, request.offset, request.limit)
        picks.append(chosen + start)
        topks.append(len(chosen))
    take = np.concatenate(picks) if picks else np.zeros(0, dtype=np.int64)
    fields = {
        name: _take(col, take) for name, col in result.fields.items() if name in wanted.columns
    }
    groups = result.group_by_values
    return replace(
        result,
        topks=topks,
        ids=_take(result.ids, take),
        distances=result.distances[take],
        fields=fields,
        output_fields=list(wanted.names),
        group_by_values=None if groups is None else _take(groups, take),
    )


def _order_one(
    keys: tuple[SearchOrderKey, ...],
    values: list[pa.Array],
    result: SearchResults,
    start: int,
    stop: int,
    offset: int,
    limit: int,
) -> np.ndarray:
    """Positions (relative to ``start``) of one query's hits in their final order."""
    n = stop - start
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    groups = result.group_by_values
    if groups is None:
        heads = np.arange(n, dtype=np.int64)
        members = heads
    else:
        # Groups arrive best-first; a group's first hit is its head.
        labels = as_arrow_array(_take(groups, np.arange(start, stop))).dictionary_encode().indices
        codes = np.asarray(labels.to_numpy(zero_copy_only=False), dtype=np.int64)
        _, heads = np.unique(codes, return_index=True)
        heads = np.sort(heads)
        members = codes
    arrays: dict[str, pa.Array] = {}
    sort_keys: list[tuple[str, str]] = []
    idx = pa.array(heads + start)
    for i, key in enumerate(keys):
        column = values[i].take(idx)
        nulls = pc.is_null(column)
        # Nulls go last ascending, first descending: the flag sorts ascending.
        arrays[f"n{i}"] = nulls if key.ascending else pc.invert(nulls)
        arrays[f"k{i}"] = column
        sort_keys += [
            (f"n{i}", "ascending"),
            (f"k{i}", "ascending" if key.ascending else "descending"),
        ]
    arrays["rank"] = pa.array(np.arange(len(heads)))
    sort_keys.append(("rank", "ascending"))
    order = pc.sort_indices(pa.table(arrays), sort_keys=sort_keys).to_numpy()
    chosen_heads = heads[order][offset : offset + limit]
    if groups is None:
        return np.asarray(chosen_heads, dtype=np.int64)
    head_codes = members[chosen_heads]
    parts = [np.flatnonzero(members == c) for c in head_codes]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _key_values(result: SearchResults, key: SearchOrderKey) -> pa.Array:
    """The key's value for every hit (null where absent)."""
    if not key.dynamic and not key.path:
        return as_arrow_array(result.fields[key.column])
    if key.dynamic:
        texts = as_arrow_array(result.fields["$meta"]).to_pylist()
        path: tuple[str | int, ...] = (key.column, *key.path)
    else:
        texts = as_arrow_array(result.fields[key.column]).to_pylist()
        path = key.path
    # Only the page's candidates are walked (at most offset + limit per query).
    found = [_walk(t, path) for t in texts]
    try:
        return pa.array(found)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # Mixed kinds under one path: numbers before text, as strings compare.
        return pa.array([None if v is None else orjson.dumps(v).decode() for v in found])


def _walk(text: str | None, path: tuple[str | int, ...]) -> Any:
    if text is None:
        return None
    value: Any = orjson.loads(text)
    for step in path:
        if isinstance(step, int) and isinstance(value, list) and 0 <= step < len(value):
            value = value[step]
        elif isinstance(value, dict) and str(step) in value:
            value = value[str(step)]
        else:
            return None
    if isinstance(value, (dict, list)):
        return None
    if isinstance(value, (bool, str)):
        return value
    return None if value is None else float(value)


def _take(column: Any, idx: np.ndarray) -> Any:
    if isinstance(column, (pa.Array, pa.ChunkedArray)):
        return column.take(pa.array(idx, type=pa.int64()))
    if isinstance(column, list):
        return [column[int(i)] for i in idx]
    return column[idx]
