"""Collection TTL (``collection.ttl.seconds``): rows expire a fixed time after their write.

A row written at hybrid timestamp ``t`` expires once the wall clock passes
``physical(t) + ttl``. The cut is taken from the clock when a request is served,
not from its read timestamp: Bounded and Eventually reads are stamped at the last
write, which may be long ago, and an expired row must vanish from them as from a
Strong read. Expiry is a mask over a snapshot (no data changes), so a read never
sees part of it; compaction then drops expired rows from sealed segments for good.
Iterators re-apply the cut on each page of the snapshot they keep.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from elanus.engine.snapshot import SegmentView, Snapshot
from elanus.engine.timestamps import compose_timestamp
from elanus.errors import NotSupportedError, ParameterError

__all__ = ["MAX_TTL_SECONDS", "TTL_KEY", "check_ttl_properties", "ttl_ms", "without_expired"]

TTL_KEY = "collection.ttl.seconds"
# Milvus's per-entity TTL (rows expire at the time a TIMESTAMPTZ field holds): refused
# rather than stored, since nothing here would expire those rows.
ENTITY_TTL_KEY = "ttl_field"
# A century, Milvus's upper bound; -1 and 0 mean rows never expire.
MAX_TTL_SECONDS = 3_155_760_000


def check_ttl_properties(properties: Mapping[str, object] | None) -> None:
    """Refuse a TTL that is not a whole number of seconds in [-1, a century], and a
    per-entity TTL field."""
    if properties and ENTITY_TTL_KEY in properties:
        raise NotSupportedError(
            "not supported by Elanus: per-entity TTL (property ttl_field); "
            "collection.ttl.seconds expires rows a fixed time after their write"
        )
    if not properties or TTL_KEY not in properties:
        return
    raw = str(properties[TTL_KEY]).strip()
    try:
        value = int(raw)
    except ValueError:
        raise ParameterError("collection TTL is not a valid positive integer") from None
    if not -1 <= value <= MAX_TTL_SECONDS:
        raise ParameterError(
            f"collection TTL is out of range, expect [-1, {MAX_TTL_SECONDS}], got {value}"
        )


def ttl_ms(properties: Mapping[str, object] | None) -> int:
    """The collection's TTL in milliseconds; 0 when rows never expire."""
    raw = (properties or {}).get(TTL_KEY)
    try:
        seconds = int(str(raw).strip()) if raw not in (None, "") else 0
    except ValueError:
        return 0
    return seconds * 1000 if seconds > 0 else 0


def _expire_view(view: SegmentView, cut: np.uint64) -> SegmentView:
    if view.num_rows == 0 or view.min_timestamp >= cut:
        return view
    stamps = view.data.row_timestamps()[: view.num_rows]
    expired = np.asarray(stamps, dtype=np.uint64) < cut
    deleted = np.asarray(view.deleted[: view.num_rows], dtype=bool)
    if deleted.size < view.num_rows:
        deleted = np.concatenate([deleted, np.zeros(view.num_rows - deleted.size, dtype=bool)])
    return replace(view, deleted=deleted | expired)


def without_expired(snapshot: Snapshot, now_ms: int) -> Snapshot:
    """``snapshot`` with the rows expired at wall-clock ``now_ms`` hidden (itself when
    the collection has no TTL or nothing has expired)."""
    if snapshot.ttl_ms <= 0:
        return snapshot
    cut = np.uint64(compose_timestamp(max(int(now_ms) - snapshot.ttl_ms, 0)))
    views = tuple(_expire_view(v, cut) for v in snapshot.segments)
    if all(a is b for a, b in zip(views, snapshot.segments)):
        return snapshot
    wide = snapshot.collection_wide
    return replace(
        snapshot,
        segments=views,
        collection_wide=None if wide is None else without_expired(wide, now_ms),
    )
