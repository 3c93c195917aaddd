"""Nullable vector fields on the read path: a row without a vector is never a hit.

The rows of a nullable vector field that hold no vector are zero-filled in the
column (and so in any index built over it); the field's hidden validity column
(``elanus.schema.vector_validity``) is ANDed into each segment's usable-row mask
before the per-segment search, so those rows are simply not candidates, as in
Milvus. See docs/engine.md, "Nullable vector fields".
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from elanus.engine.query_filter import SnapshotMasks
from elanus.engine.snapshot import SegmentView, Snapshot
from elanus.schema import FieldSchema
from elanus.schema.vector_validity import validity_column_name

__all__ = ["mask_null_vectors", "segment_vector_validity"]


def segment_vector_validity(view: SegmentView, field_name: str) -> np.ndarray:
    """Bool mask over the view's rows: True where ``field_name`` holds a vector."""
    n = view.num_rows
    column = view.data.column(validity_column_name(field_name))
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if isinstance(column, pa.Array):
        column = column.slice(0, n).fill_null(False).to_numpy(zero_copy_only=False)
    valid = np.asarray(column, dtype=bool)[:n]
    if valid.size < n:
        valid = np.concatenate([valid, np.zeros(n - valid.size, dtype=bool)])
    return valid


def mask_null_vectors(
    snapshot: Snapshot, field: FieldSchema, masks: SnapshotMasks
) -> SnapshotMasks:
    """``masks`` with the rows where ``field`` holds no vector taken out (unchanged
    when the field is not nullable)."""
    if not (field.dtype.is_vector and field.nullable):
        return masks
    out: list[np.ndarray] = []
    for view, mask in zip(snapshot.segments, masks.masks):
        valid = segment_vector_validity(view, field.name)
        size = min(len(mask), valid.size)
        combined = np.zeros(len(mask), dtype=bool)
        combined[:size] = np.asarray(mask[:size], dtype=bool) & valid[:size]
        out.append(combined)
    return SnapshotMasks(tuple(out), tuple(int(np.count_nonzero(m)) for m in out))
