"""Query (and get, count, delete-by-filter) over a snapshot, as masks and takes.

Rows are found as one usable-row mask per segment (``~deleted`` and the filter, or a
primary-key lookup), turned into (segment, row) positions, ordered by primary key
when a window or an order is asked for, cut by offset/limit, and their output
columns gathered by position. No Python work per row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from elanus.engine.output import COUNT_FIELD, gather_columns, plan_output
from elanus.engine.query_aggregate import execute_aggregation
from elanus.engine.query_aggregate_plan import plan_aggregation, split_group_by, wants_aggregation
from elanus.engine.query_filter import (
    SnapshotMasks,
    compile_request_filter,
    snapshot_masks,
)
from elanus.engine.query_order import order_positions, parse_order_by
from elanus.engine.requests import QueryRequest, QueryResult
from elanus.engine.snapshot import Snapshot
from elanus.errors import ParameterError
from elanus.schema import DataType

__all__ = ["MAX_QUERY_WINDOW", "execute_query", "matching_primary_keys", "matching_positions"]

MAX_QUERY_WINDOW = 16384


def execute_query(snapshot: Snapshot, request: QueryRequest) -> QueryResult:
    """Run a query: filter and/or ids, partitions, output fields, offset/limit, count(*),
    or an aggregation (``group_by_fields`` and/or aggregates in the output fields)."""
    snap = snapshot.in_partitions(request.partition_names)
    requested = [str(f).strip() for f in (request.output_fields or [])]
    group_by = split_group_by(request.group_by_fields)
    if wants_aggregation(requested, group_by, request.order_by or ""):
        return _aggregate(snap, request, requested, group_by)
    is_count = any(f.lower() == COUNT_FIELD for f in requested)
    has_filter = bool(request.filter and request.filter.strip())
    _check_request(request, is_count, has_filter, requested, snap.result_window)
    masks = _masks(snap, request)
    if is_count:
        count = pa.array([masks.total], type=pa.int64())
        return QueryResult({COUNT_FIELD: count}, 1, [COUNT_FIELD])
    output = plan_output(snap.schema, requested, include_primary=True)
    segment_pos, rows = matching_positions(masks)
    if request.order_by:
        keys = parse_order_by(request.order_by, snap.schema)
        order = order_positions(snap, keys, segment_pos, rows)
        start = int(request.offset or 0)
        stop = order.size if request.limit is None else start + int(request.limit)
        order = order[start:stop]
        segment_pos, rows = segment_pos[order], rows[order]
    elif (
        request.order_by_pk or len(snap.segments) > 1 or request.limit is not None or request.offset
    ):
        # Milvus merges its per-segment results in primary-key order, so rows from
        # several segments come back ordered by key whatever the limit.
        segment_pos, rows = _by_primary_key(snap, segment_pos, rows, request)
    columns = gather_columns(snap, output, segment_pos, rows)
    return QueryResult(columns, int(rows.size), list(output.names))


def _aggregate(
    snap: Snapshot, request: QueryRequest, requested: list[str], group_by: tuple[str, ...]
) -> QueryResult:
    plan = compile_request_filter(snap, request.filter, request.filter_params)
    aggregation = plan_aggregation(snap.schema, requested, group_by, request.order_by or "")
    # Distinct group keys without aggregates are as unbounded as plain rows.
    unbounded = plan is None and request.ids is None and request.limit is None
    if not aggregation.aggregates and unbounded:
        raise ParameterError("empty expression should be used with limit")
    _check_window(request, snap.result_window)
    # A single row needs no paging, and Milvus refuses to page the row count.
    if aggregation.counts_rows and not group_by and request.limit is not None:
        raise ParameterError("count entities with pagination is not allowed")
    masks = _masks_of(snap, plan, request.ids)
    offset = int(request.offset or 0) if request.limit is not None else 0
    segment_pos, rows = matching_positions(masks)
    return execute_aggregation(
        snap, segment_pos, rows, aggregation, offset=offset, limit=request.limit
    )


def _check_request(
    request: QueryRequest, is_count: bool, has_filter: bool, requested: list[str], window: int
) -> None:
    if is_count:
        if len(requested) > 1:
            raise ParameterError(f"{COUNT_FIELD} cannot be combined with other output fields")
        # Milvus reads an offset only beside a limit: an offset alone is ignored.
        if request.limit is not None:
            raise ParameterError("count entities with pagination is not allowed")
        return
    if not has_filter and request.ids is None and request.limit is None:
        raise ParameterError("empty expression should be used with limit")
    _check_window(request, window)


def _check_window(request: QueryRequest, max_window: int = MAX_QUERY_WINDOW) -> None:
    if request.limit is not None:
        limit = int(request.limit)
        if limit < 0:
            raise ParameterError(
                f"invalid max query result window, limit [{limit}] is invalid, "
                "should be greater than 0"
            )
        window = limit + int(request.offset or 0)
        if window > max_window:
            raise ParameterError(
                "invalid max query result window, (offset+limit) should be in range "
                f"[1, {max_window}], but got {window}"
            )
    if request.offset and request.offset < 0:
        raise ParameterError(
            f"invalid max query result window, offset [{request.offset}] is invalid, "
            "should be gte than 0"
        )


def _masks(snapshot: Snapshot, request: QueryRequest) -> SnapshotMasks:
    plan = compile_request_filter(snapshot, request.filter, request.filter_params)
    return _masks_of(snapshot, plan, request.ids)


def _masks_of(snapshot: Snapshot, plan: Any | None, ids: list[Any] | None) -> SnapshotMasks:
    masks = snapshot_masks(snapshot, plan)
    if ids is None:
        return masks
    by_ids = snapshot_masks(snapshot, _IdsPlan(_checked_keys(snapshot, list(ids))))
    combined = tuple(a & b for a, b in zip(masks.masks, by_ids.masks))
    return SnapshotMasks(combined, tuple(int(np.count_nonzero(m)) for m in combined))


def _checked_keys(snapshot: Snapshot, keys: list[Any]) -> list[Any]:
    """Primary keys of a lookup, each of the key's own type: a key of another type
    can match no row, and Milvus refuses it rather than answering nothing."""
    pk = snapshot.schema.primary_field
    want_int = pk.dtype == DataType.INT64
    for i, key in enumerate(keys):
        if want_int:
            fits = isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_))
        else:
            fits = isinstance(key, str)
        if not fits:
            raise ParameterError(
                f"invalid parameter, error: invalid id type at index {i}: expected "
                f"{'int64' if want_int else 'string'} for primary key {pk.name!r}, "
                f"got {type(key).__name__} {key!r}"
            )
    return keys


class _IdsPlan:
    """A filter that is exactly a primary-key lookup (``get`` / ``ids=``)."""

    def __init__(self, keys: list[Any]) -> None:
        self.primary_keys = keys


def matching_positions(masks: SnapshotMasks) -> tuple[np.ndarray, np.ndarray]:
    """(segment position, row) of every usable row, segment by segment."""
    rows = [np.flatnonzero(m) for m in masks.masks]
    segs = [np.full(r.size, i, dtype=np.int64) for i, r in enumerate(rows)]
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    return np.concatenate(segs), np.concatenate(rows).astype(np.int64)


def _primary_keys_at(
    snapshot: Snapshot, segment_pos: np.ndarray, rows: np.ndarray
) -> np.ndarray | pa.Array:
    pk = snapshot.schema.primary_field.name
    plan = plan_output(snapshot.schema, [pk], include_primary=False)
    return gather_columns(snapshot, plan, segment_pos, rows)[pk]


def _by_primary_key(
    snapshot: Snapshot, segment_pos: np.ndarray, rows: np.ndarray, request: QueryRequest
) -> tuple[np.ndarray, np.ndarray]:
    """Order by primary key (Milvus's query order) and cut ``offset .. offset+limit``."""
    keys = _primary_keys_at(snapshot, segment_pos, rows)
    if isinstance(keys, (pa.Array, pa.ChunkedArray)):
        order = np.asarray(pc.sort_indices(keys).to_numpy(zero_copy_only=False))
    else:
        order = np.argsort(np.asarray(keys), kind="stable")
    start = int(request.offset or 0)
    stop = order.size if request.limit is None else start + int(request.limit)
    order = order[start:stop]
    return segment_pos[order], rows[order]


def matching_primary_keys(
    snapshot: Snapshot, filter: str, filter_params: dict[str, Any] | None = None
) -> np.ndarray | pa.Array:
    """Primary keys of every usable row that passes ``filter`` (delete by filter)."""
    if not filter or not filter.strip():
        raise ParameterError("delete by filter needs a non-empty expression")
    masks = snapshot_masks(snapshot, compile_request_filter(snapshot, filter, filter_params))
    return _primary_keys_at(snapshot, *matching_positions(masks))
