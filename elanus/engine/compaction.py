"""Compaction: plan (plain data) apart from execution.

A plan names, per partition, the sealed segments to rewrite: every segment with
hidden rows, plus small segments to merge. Execution copies the visible rows of
a snapshot (rows past the collection's TTL already hidden) into new segments; ``CollectionData.replace_sealed`` swaps them in
and re-derives masks for anything written meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from elanus.engine.collection import CollectionData
from elanus.engine.column_rows import concat_columns, take_rows
from elanus.engine.segment import SealedSegment
from elanus.engine.snapshot import SegmentView, Snapshot
from elanus.schema import DYNAMIC_FIELD_NAME
from elanus.schema.vector_validity import nullable_vector_fields, validity_column_name
from elanus.storage.fs import storage_errors

__all__ = ["CompactionPlan", "plan_compaction", "run_compaction"]


@dataclass(frozen=True)
class CompactionPlan:
    groups: tuple[tuple[str, tuple[int, ...]], ...]  # (partition, segment ids to merge)

    @property
    def empty(self) -> bool:
        return not self.groups


def plan_compaction(snapshot: Snapshot, min_rows: int) -> CompactionPlan:
    by_partition: dict[str, list[int]] = {}
    for v in snapshot.segments:
        if not v.sealed:
            continue
        dirty = v.live_count < v.num_rows
        small = v.num_rows < min_rows
        if dirty or small:
            by_partition.setdefault(v.partition_name, []).append(v.segment_id)
    groups = []
    for partition, ids in by_partition.items():
        views = [v for v in snapshot.segments if v.segment_id in ids]
        if len(ids) == 1 and views[0].live_count == views[0].num_rows:
            continue  # a lone small segment with nothing hidden: nothing to gain
        groups.append((partition, tuple(ids)))
    return CompactionPlan(tuple(groups))


def _merge(
    views: list[SegmentView], segment_id: int, partition: str, data: CollectionData
) -> SealedSegment | None:
    """The visible rows of ``views`` written as one new segment (None when none is left)."""
    rows = [np.flatnonzero(~v.deleted[: v.num_rows]) for v in views]
    if not sum(len(r) for r in rows):
        return None
    schema = data.schema
    names = [f.name for f in schema.fields]
    names.extend(validity_column_name(f.name) for f in nullable_vector_fields(schema))
    if schema.enable_dynamic_field:
        names.append(DYNAMIC_FIELD_NAME)
    columns = {
        name: concat_columns([take_rows(v.data.column(name), r) for v, r in zip(views, rows)])
        for name in names
    }
    keys = [v.data.primary_keys() for v in views]
    pks = concat_columns([take_rows(k, r) for k, r in zip(keys, rows)])
    ts = np.concatenate([v.data.row_timestamps()[r] for v, r in zip(views, rows)])
    with storage_errors(f"compact collection {data.collection_id} in", data.store.directory):
        return data.store.write_segment(segment_id, partition, schema, columns, pks, ts)


def run_compaction(data: CollectionData, min_rows: int) -> None:
    # Rows past the collection's TTL count as hidden, so compaction drops them for good.
    snapshot = data.read(data.snapshot.timestamp)
    plan = plan_compaction(snapshot, min_rows)
    by_id = {v.segment_id: v for v in snapshot.segments}
    for partition, ids in plan.groups:
        views = [by_id[i] for i in ids]
        removed = [v.data for v in views]
        merged = _merge(views, data.oracle.now(), partition, data)
        data.replace_sealed(removed, [merged] if merged is not None else [])  # type: ignore[arg-type]
