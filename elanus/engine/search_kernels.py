"""Searching one segment: the calls into ``elanus.index``, as (query, row, distance) triples.

Each function returns candidates in flat form: ``qidx`` (which query), ``rows``
(local row ids in the segment), ``dist`` (Milvus's sign convention for the metric).
Flat form lets top-k and range results share one merge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from elanus.engine.search_plan import (
    EXACT,
    EXACT_SUBSET,
    INDEX,
    SearchSpec,
    SegmentSearchPlan,
)
from elanus.engine.snapshot import SegmentView
from elanus.index.exact import exact_range_search, exact_search
from elanus.index.metrics import has_missing

__all__ = ["Candidates", "search_segment"]


@dataclass(frozen=True)
class Candidates:
    """Hits of one segment (or of a whole search after the merge), flat."""

    qidx: np.ndarray  # int64
    segment: np.ndarray  # int64, position of the segment in the snapshot
    rows: np.ndarray  # int64, local row id
    dist: np.ndarray  # float32

    @property
    def size(self) -> int:
        return int(self.qidx.size)

    @staticmethod
    def empty() -> Candidates:
        z = np.zeros(0, dtype=np.int64)
        return Candidates(z, z, z, np.zeros(0, dtype=np.float32))

    @staticmethod
    def concat(parts: list[Candidates]) -> Candidates:
        parts = [p for p in parts if p.size]
        if not parts:
            return Candidates.empty()
        if len(parts) == 1:
            return parts[0]
        return Candidates(
            np.concatenate([p.qidx for p in parts]),
            np.concatenate([p.segment for p in parts]),
            np.concatenate([p.rows for p in parts]),
            np.concatenate([p.dist for p in parts]),
        )


def search_segment(
    view: SegmentView,
    plan: SegmentSearchPlan,
    spec: SearchSpec,
    queries: Any,
    usable: np.ndarray,
    k: int,
) -> Candidates:
    """Search one segment for ``k`` hits per query (or all in range) among ``usable`` rows."""
    if spec.metric == "BM25":
        # Scored with the collection's statistics, not a per-segment index's.
        from elanus.engine.fulltext import bm25_segment_search

        found = bm25_segment_search(view, spec.field.name, queries, spec.index_params, usable, k)
        return _tag(found, plan.segment)
    if plan.strategy == INDEX:
        indexed = _index_search(view, plan, spec, queries, usable, k)
        if indexed is not None:
            return _tag(indexed, plan.segment)
        # The index cannot answer this request (e.g. no range search): scan.
    vectors = _vectors(view, spec)
    if plan.strategy in (INDEX, EXACT):
        allowed = None if plan.usable == plan.num_rows else usable
        # A segment's rows below its view's count never change (sealed files, or
        # the published rows of the append-only growing buffer).
        found = _exact(spec, vectors, queries, allowed, k, plan.usable, immutable=True)
        return _tag(found, plan.segment)
    if plan.strategy == EXACT_SUBSET:
        positions = np.flatnonzero(usable)
        q, r, d = _exact(spec, _take_rows(vectors, positions), queries, None, k, plan.usable)
        return _tag((q, positions[r], d), plan.segment)
    return Candidates.empty()


def _vectors(view: SegmentView, spec: SearchSpec) -> Any:
    column = view.data.column(spec.field.name)
    n = view.num_rows
    if sp.issparse(column):
        return column if column.shape[0] == n else sp.csr_array(column[:n])
    arr = np.asarray(column)
    return arr if arr.shape[0] == n else arr[:n]


def _take_rows(vectors: Any, positions: np.ndarray) -> Any:
    if sp.issparse(vectors):
        return sp.csr_array(vectors[positions])
    return vectors[positions]


def _index_search(
    view: SegmentView,
    plan: SegmentSearchPlan,
    spec: SearchSpec,
    queries: Any,
    usable: np.ndarray,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    index = view.data.vector_index(spec.field.name)
    if index is None:
        return None
    # The plan already counted the usable rows: no pass over the mask here.
    allowed = None if plan.usable == plan.num_rows else usable
    if spec.is_range:
        assert spec.radius is not None
        found = index.range_search(
            queries, spec.radius, spec.range_filter, spec.index_params, allowed, limit=k
        )
        return _from_lims(
            np.asarray(found.lims), np.asarray(found.ids), np.asarray(found.distances)
        )
    dist, ids = index.search(queries, min(k, plan.usable), spec.index_params, allowed)
    return _from_matrix(np.asarray(dist), np.asarray(ids))


def _exact(
    spec: SearchSpec,
    vectors: Any,
    queries: Any,
    allowed: np.ndarray | None,
    k: int,
    usable: int,
    immutable: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dtype = spec.field.dtype
    if not spec.is_range:
        dist, ids = exact_search(
            dtype,
            vectors,
            queries,
            spec.metric,
            min(k, usable),
            allowed=allowed,
            params=spec.index_params,
            immutable=immutable,
        )
        return _from_matrix(np.asarray(dist), np.asarray(ids))
    assert spec.radius is not None
    found = exact_range_search(
        dtype,
        vectors,
        queries,
        spec.metric,
        spec.radius,
        spec.range_filter,
        allowed=allowed,
        limit=k,
        params=spec.index_params,
        immutable=immutable,
    )
    return _from_lims(np.asarray(found.lims), np.asarray(found.ids), np.asarray(found.distances))


def within_range(dist: np.ndarray, spec: SearchSpec) -> np.ndarray:
    """Milvus's range: ``radius < d <= range_filter`` for IP-like metrics,
    ``range_filter <= d < radius`` for distance-like ones."""
    radius = spec.radius
    assert radius is not None
    if spec.larger_is_better:
        keep = dist > radius
        if spec.range_filter is not None:
            keep &= dist <= spec.range_filter
    else:
        keep = dist < radius
        if spec.range_filter is not None:
            keep &= dist >= spec.range_filter
    return keep


def _from_matrix(dist: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if dist.ndim == 1:
        dist = dist[None, :]
        ids = ids[None, :]
    nq, k = ids.shape
    if nq == 1 and k and not has_missing(ids):
        # One query with a full top-k (the usual single search): flat views, no masks.
        return (
            np.zeros(k, dtype=np.int64),
            ids.reshape(k).astype(np.int64, copy=False),
            dist.reshape(k).astype(np.float32, copy=False),
        )
    valid = ids >= 0
    qidx = np.nonzero(valid)[0].astype(np.int64)
    return qidx, ids[valid].astype(np.int64), dist[valid].astype(np.float32)


def _from_lims(
    lims: np.ndarray, ids: np.ndarray, dist: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    counts = np.diff(lims.astype(np.int64)).astype(np.int64)
    qidx = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    valid = ids >= 0
    return qidx[valid], ids[valid].astype(np.int64), dist[valid].astype(np.float32)


def _tag(found: tuple[np.ndarray, np.ndarray, np.ndarray], segment: int) -> Candidates:
    qidx, rows, dist = found
    if segment == 0:  # np.zeros is several times cheaper than np.full
        where = np.zeros(qidx.size, dtype=np.int64)
    else:
        where = np.full(qidx.size, segment, dtype=np.int64)
    return Candidates(qidx, where, rows, dist)
