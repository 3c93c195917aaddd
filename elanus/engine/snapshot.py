"""What a read sees: an immutable snapshot of a collection's segments.

Writers build new ``SegmentView``s and publish a new ``Snapshot``; a reader takes
the current one and never sees part of a batch. Everything in a view is a
precomputed array: the read path combines them and never replays history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from elanus.schema import CollectionSchema

__all__ = ["SegmentData", "SegmentView", "Snapshot"]


class SegmentData(Protocol):
    """The rows of one segment (growing or sealed). Local row ids run 0..num_rows-1.

    A growing segment only grows; a view of it carries the row count visible at
    the snapshot, and readers look only at rows below it.
    """

    segment_id: int
    partition_name: str

    def column(self, name: str) -> Any:
        """A scalar column (pyarrow Array), ``$meta``, or a vector column
        (2-D numpy array / csr_array). At least ``num_rows`` long."""
        ...

    def primary_keys(self) -> np.ndarray | pa.Array:
        """Primary keys by local row id (int64 numpy array or pyarrow string array)."""
        ...

    def row_timestamps(self) -> np.ndarray:
        """uint64 hybrid timestamp of each row's insert."""
        ...

    def vector_index(self, field_name: str) -> Any | None:
        """The built ``elanus.index`` VectorIndex for the field, or None (search exactly)."""
        ...

    def scalar_index(self, field_name: str) -> Any | None: ...


@dataclass(frozen=True)
class SegmentView:
    """One segment as a snapshot sees it.

    ``deleted`` is a bool mask over the first ``num_rows`` rows: True where the row
    is deleted, or shadowed by a newer row with the same primary key, as of the
    snapshot. A reader uses rows ``~deleted[:num_rows]`` and nothing else.
    """

    data: SegmentData
    num_rows: int
    deleted: np.ndarray
    sealed: bool

    @property
    def segment_id(self) -> int:
        return self.data.segment_id

    @property
    def partition_name(self) -> str:
        return self.data.partition_name

    @cached_property
    def usable(self) -> np.ndarray:
        """``~deleted`` over ``num_rows`` (read-only): the rows an unfiltered read uses.

        Computed once per view: a view never changes, and every request of a
        snapshot (and of later snapshots sharing the view) reads the same mask.
        """
        n = self.num_rows
        deleted = np.asarray(self.deleted[:n], dtype=bool)
        if deleted.size < n:
            deleted = np.concatenate([deleted, np.zeros(n - deleted.size, dtype=bool)])
        mask = ~deleted
        mask.setflags(write=False)
        return mask

    @cached_property
    def live_count(self) -> int:
        return int(np.count_nonzero(self.usable))

    @cached_property
    def min_timestamp(self) -> np.uint64:
        """The oldest write among the view's rows (TTL skips views with none expired)."""
        if self.num_rows == 0:
            return np.uint64(np.iinfo(np.uint64).max)
        return np.uint64(np.min(self.data.row_timestamps()[: self.num_rows]))


@dataclass(frozen=True)
class Snapshot:
    """An immutable list of segment views at one hybrid timestamp."""

    timestamp: int
    schema: CollectionSchema
    segments: tuple[SegmentView, ...]
    # Vector index definitions by field name (IndexSpec-like dicts), for metric defaults.
    index_specs: dict[str, Any] = field(default_factory=dict)
    # The whole collection when this snapshot is cut to some partitions: BM25
    # corpus statistics are collection-wide (docs/fulltext.md).
    collection_wide: Snapshot | None = None
    # The largest topk / query offset+limit the collection allows (16384, or more
    # under ``query_mode=large_topk``: engine/query_mode.py).
    result_window: int = 16384
    # The collection's TTL when read (engine/expiry.py); 0: rows never expire.
    ttl_ms: int = 0

    def in_partitions(self, names: list[str] | None) -> Snapshot:
        if not names:
            return self
        wanted = set(names)
        return Snapshot(
            self.timestamp,
            self.schema,
            tuple(s for s in self.segments if s.partition_name in wanted),
            self.index_specs,
            self.collection_wide or self,
            self.result_window,
            self.ttl_ms,
        )

    def query_encoder(
        self, field_name: str, texts: list[str], analyzer_name: str | None = None
    ) -> Any:
        """Query text on a function output field turned into query vectors
        (``analyzer_name`` picks the analyzer of a multi-analyzer field)."""
        from elanus.engine.fulltext import encode_text_queries

        return encode_text_queries(self, field_name, texts, analyzer_name)

    @property
    def live_count(self) -> int:
        return sum(s.live_count for s in self.segments)
