"""A filter over a snapshot: one boolean mask of usable rows per segment.

A row is usable when it is live in the snapshot (not ``deleted``) and passes the
filter. Filters are compiled once per request by ``elanus.expr``; when the plan
says the filter is a primary-key lookup, rows are found by key instead of
evaluating the expression over every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from elanus import expr
from elanus.engine.columns_source import SegmentColumnSource
from elanus.engine.snapshot import SegmentView, Snapshot
from elanus.errors import ExpressionError

__all__ = ["SnapshotMasks", "compile_request_filter", "snapshot_masks", "usable_rows"]


@dataclass(frozen=True)
class SnapshotMasks:
    """Per segment (in snapshot order): the bool mask of usable rows and its count."""

    masks: tuple[np.ndarray, ...]
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return int(sum(self.counts))


def compile_request_filter(
    snapshot: Snapshot, text: str, params: dict[str, Any] | None
) -> Any | None:
    """The compiled filter plan, or None for an empty filter."""
    if text is None or not str(text).strip():
        return None
    return expr.compile_filter(str(text), snapshot.schema, dict(params or {}))


def usable_rows(view: SegmentView) -> np.ndarray:
    """Rows of ``view`` visible in the snapshot: ``~deleted`` over ``num_rows`` (read-only,
    cached on the view)."""
    return view.usable


def snapshot_masks(snapshot: Snapshot, plan: Any | None) -> SnapshotMasks:
    """Usable-row masks of every segment under ``plan`` (None: every live row)."""
    views = snapshot.segments
    if plan is None:
        # No filter: the views' cached masks and counts, no array work at all.
        return SnapshotMasks(tuple(v.usable for v in views), tuple(v.live_count for v in views))
    pk = snapshot.schema.primary_field.name
    masks = tuple(segment_mask(view, plan, pk) for view in views)
    return SnapshotMasks(masks, tuple(int(np.count_nonzero(m)) for m in masks))


def segment_mask(
    view: SegmentView, plan: Any | None, primary_field: str | None = None
) -> np.ndarray:
    mask = view.usable
    if plan is None or view.num_rows == 0 or view.live_count == 0:
        return mask
    keys = getattr(plan, "primary_keys", None)
    if keys is not None:
        # The whole filter is a key lookup: no column needs reading.
        return mask & _key_mask(view, keys)
    passed = _evaluate(plan, SegmentColumnSource(view, primary_field))
    return mask & passed


def _evaluate(plan: Any, source: SegmentColumnSource) -> np.ndarray:
    """Run a compiled filter over one segment: a bool mask of ``source.num_rows``."""
    out = plan.evaluate(source)
    if isinstance(out, (pa.ChunkedArray, pa.Array)):
        # Null (unknown) never matches, as in SQL.
        out = pc.fill_null(out, False).to_numpy(zero_copy_only=False)
    mask = np.asarray(out, dtype=bool)
    if mask.ndim == 0:
        return np.full(source.num_rows, bool(mask))
    if mask.shape[0] != source.num_rows:
        raise ExpressionError(
            f"filter evaluated to {mask.shape[0]} values for a segment of {source.num_rows} rows"
        )
    return mask


def _key_mask(view: SegmentView, keys: Any) -> np.ndarray:
    """Rows whose primary key is in ``keys``: a sorted-key lookup when the segment has one."""
    n = view.num_rows
    mask = np.zeros(n, dtype=bool)
    wanted = _as_keys(keys)
    if wanted.size == 0:
        return mask
    lookup = getattr(view.data, "sorted_keys", None)
    if lookup is not None:
        _, rows = lookup().match(wanted)
        mask[rows[rows < n]] = True
        return mask
    pks = view.data.primary_keys()
    if isinstance(pks, (pa.Array, pa.ChunkedArray)):
        found = pc.is_in(pks.slice(0, n), value_set=pa.array(wanted.tolist(), type=pks.type))
        return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)
    pks = np.asarray(pks)[:n]
    if wanted.dtype.kind != pks.dtype.kind:
        return mask
    return np.isin(pks, wanted)


def _as_keys(keys: Any) -> np.ndarray:
    if isinstance(keys, (pa.Array, pa.ChunkedArray)):
        keys = keys.to_pylist()
    arr = np.asarray(list(keys) if not isinstance(keys, np.ndarray) else keys)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.size == 0:
        return np.asarray([], dtype=np.int64)
    return arr.astype(str)
