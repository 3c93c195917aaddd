"""Which rows are visible: newest row per primary key wins, deletes hide older rows.

The state of a collection is a set of rows (key, timestamp, partition) and a set of
delete records (key, timestamp, partition or all). A row is hidden when a delete
of its key with a later timestamp reaches its partition, or when a newer row has
the same key. ``compute_masks`` evaluates that rule from scratch with sorts and
binary searches (recovery, compaction); the write path keeps the same masks
up to date incrementally.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from elanus.engine.keys import as_key_array

__all__ = ["DeleteRecord", "compute_masks", "latest_delete_per_key"]


@dataclass(frozen=True)
class DeleteRecord:
    """Keys deleted at ``timestamp`` (one for all keys, or one per key);
    ``partition`` None means every partition."""

    keys: np.ndarray
    timestamp: int | np.ndarray
    partition: str | None = None

    def key_timestamps(self) -> np.ndarray:
        """The delete timestamp of each key (uint64)."""
        return np.broadcast_to(np.asarray(self.timestamp, dtype=np.uint64), (len(self.keys),))


def latest_delete_per_key(records: Sequence[DeleteRecord]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique keys and the newest delete timestamp of each."""
    if not records:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    keys = np.concatenate([r.keys for r in records])
    ts = np.concatenate([r.key_timestamps() for r in records])
    order = np.lexsort((ts, keys))
    keys, ts = keys[order], ts[order]
    last = np.ones(len(keys), dtype=bool)
    last[:-1] = keys[1:] != keys[:-1]
    return keys[last], ts[last]


def _apply_deletes(
    keys: np.ndarray,
    ts: np.ndarray,
    hidden: np.ndarray,
    scope: np.ndarray,
    records: Sequence[DeleteRecord],
) -> None:
    dkeys, dts = latest_delete_per_key(records)
    if len(dkeys) == 0 or dkeys.dtype.kind != keys.dtype.kind:
        return
    rows = np.flatnonzero(scope)
    sub = keys[rows]
    pos = np.searchsorted(dkeys, sub)
    pos_c = np.minimum(pos, len(dkeys) - 1)
    hit = (pos < len(dkeys)) & (dkeys[pos_c] == sub) & (ts[rows] < dts[pos_c])
    hidden[rows[hit]] = True


def compute_masks(
    segments: Sequence[tuple[object, int, str]],
    deletes: Sequence[DeleteRecord],
) -> list[np.ndarray]:
    """Hidden-row masks for ``(segment data, num_rows, partition)`` in creation order."""
    if not segments:
        return []
    key_parts = [as_key_array(seg.primary_keys())[:n] for seg, n, _ in segments]  # type: ignore[attr-defined]
    ts_parts = [np.asarray(seg.row_timestamps()[:n], dtype=np.uint64) for seg, n, _ in segments]  # type: ignore[attr-defined]
    sizes = [len(k) for k in key_parts]
    keys = np.concatenate(key_parts) if key_parts else np.zeros(0, np.int64)
    ts = np.concatenate(ts_parts) if ts_parts else np.zeros(0, np.uint64)
    total = len(keys)
    hidden = np.zeros(total, dtype=bool)
    if total:
        position = np.arange(total)
        order = np.lexsort((position, ts, keys))
        sk = keys[order]
        shadowed = np.zeros(total, dtype=bool)
        shadowed[:-1] = sk[1:] == sk[:-1]
        hidden[order[shadowed]] = True

        partitions = np.repeat(np.arange(len(segments)), sizes)
        names = [p for _, _, p in segments]
        global_records = [r for r in deletes if r.partition is None]
        _apply_deletes(keys, ts, hidden, np.ones(total, dtype=bool), global_records)
        for name in {r.partition for r in deletes if r.partition is not None}:
            seg_ids = [i for i, p in enumerate(names) if p == name]
            scope = np.isin(partitions, seg_ids)
            _apply_deletes(keys, ts, hidden, scope, [r for r in deletes if r.partition == name])
    bounds = np.cumsum([0, *sizes])
    return [hidden[bounds[i] : bounds[i + 1]].copy() for i in range(len(segments))]
