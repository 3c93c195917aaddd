"""Vector search over a snapshot: filter → per-segment plan → per-segment top-k → one merge.

A pure function of the snapshot and the request. The steps (docs/search.md):

1. validate the request into a ``SearchSpec`` (field, metric, window, range, grouping);
2. one usable-row mask per segment: ``~deleted`` and the filter;
3. per segment, a strategy from its usable fraction (``search_plan.plan_segments``);
4. segments searched in parallel on a shared thread pool (FAISS and NumPy release
   the GIL), each giving its best ``limit + offset`` hits per query (or all in range);
5. one merge: best-first per query, then offset/limit (or grouping);
6. primary keys and output fields gathered by (segment, row).

A batch of query vectors stays one matrix throughout.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import scipy.sparse as sp

from elanus.engine.function_score import apply_function_score
from elanus.engine.grouping import group_window
from elanus.engine.output import OutputPlan, gather_columns, plan_output
from elanus.engine.query_filter import (
    SnapshotMasks,
    compile_request_filter,
    snapshot_masks,
)
from elanus.engine.requests import SearchRequest, SearchResults
from elanus.engine.search_by_key import PrimaryKeyQueries, resolve_key_queries
from elanus.engine.search_kernels import Candidates, search_segment, within_range
from elanus.engine.search_merge import best_first, take_window
from elanus.engine.search_plan import (
    SKIP,
    SearchSpec,
    SegmentSearchPlan,
    plan_search,
    plan_segments,
)
from elanus.engine.snapshot import Snapshot
from elanus.engine.vector_validity import mask_null_vectors
from elanus.errors import NotSupportedError, ParameterError
from elanus.schema import DataType, FieldSchema
from elanus.schema.types import dense_vector_numpy_dtype, vector_row_width

__all__ = ["SearchOutcome", "execute_search", "prepare_queries", "search_candidates"]

# Grouping asks each segment for this many hits per wanted group slot at first, and
# for four times more while groups stay short and rows remain.
_GROUP_POOL_FACTOR = 4

_pool_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _shared_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            workers = max(2, min(8, os.cpu_count() or 2))
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="elanus-search")
        return _pool


@dataclass(frozen=True)
class SearchOutcome:
    """Best-first candidates of every query (before the window), with the plans used."""

    spec: SearchSpec
    nq: int
    candidates: Candidates
    plans: tuple[SegmentSearchPlan, ...]
    masks: SnapshotMasks


def execute_search(snapshot: Snapshot, request: SearchRequest) -> SearchResults:
    """Run one search request over ``snapshot`` (see the module docstring)."""
    snap = snapshot.in_partitions(request.partition_names)
    spec = plan_search(
        snap,
        anns_field=request.anns_field,
        search_params=request.search_params,
        limit=request.limit,
        offset=request.offset,
        round_decimal=request.round_decimal,
        group_by_field=request.group_by_field,
        group_size=request.group_size,
        strict_group_size=request.strict_group_size,
    )
    output = plan_output(snap.schema, request.output_fields, include_primary=False)
    given = request.queries
    null_queries: np.ndarray | None = None
    if isinstance(given, PrimaryKeyQueries):
        resolved = resolve_key_queries(snapshot, spec.field, given)
        given, null_queries = resolved.values, resolved.null
    queries = prepare_queries(
        snap, spec.field, given, (request.search_params or {}).get("analyzer_name")
    )
    nq = int(queries.shape[0])
    masks = snapshot_masks(
        snap, compile_request_filter(snap, request.filter, request.filter_params)
    )
    masks = mask_null_vectors(snap, spec.field, masks)
    if _ignores_growing(request.search_params):
        masks = _sealed_only(snap, masks)
    if request.ranker is not None and spec.group_by_field is not None:
        raise ParameterError("a search with a rerank function does not support grouping")
    if spec.group_by_field is not None:
        hits, topks, group_keys = _grouped(snap, spec, queries, masks)
    elif request.ranker is not None:
        outcome = search_candidates(snap, spec, queries, masks, spec.k)
        hits, topks = apply_function_score(
            snap,
            outcome.candidates,
            nq,
            metric=spec.metric,
            larger_is_better=spec.larger_is_better,
            offset=spec.offset,
            limit=spec.limit,
            score=request.ranker,
        )
        group_keys = None
    else:
        outcome = search_candidates(snap, spec, queries, masks, spec.k)
        hits, topks = take_window(outcome.candidates, nq, spec.offset, spec.limit)
        group_keys = None
    if null_queries is not None and null_queries.any():
        hits, topks, group_keys = _without_queries(hits, group_keys, null_queries, nq)
    return build_results(snap, spec, hits, topks, nq, output, group_keys)


def _ignores_growing(params: Any) -> bool:
    """Milvus's ``ignore_growing`` search setting (a bool, or its text)."""
    value = (params or {}).get("ignore_growing")
    return str(value).strip().lower() in ("true", "1") if value is not None else False


def _sealed_only(snapshot: Snapshot, masks: SnapshotMasks) -> SnapshotMasks:
    """The masks with every growing segment's rows left out (``ignore_growing``)."""
    keep = [view.sealed for view in snapshot.segments]
    return SnapshotMasks(
        tuple(m if k else np.zeros_like(m) for m, k in zip(masks.masks, keep)),
        tuple(c if k else 0 for c, k in zip(masks.counts, keep)),
    )


def _without_queries(
    hits: Candidates, group_keys: Any, dropped: np.ndarray, nq: int
) -> tuple[Candidates, list[int], Any]:
    """``hits`` less those of the ``dropped`` queries (a key whose stored value is null)."""
    keep = ~dropped[hits.qidx]
    kept = Candidates(hits.qidx[keep], hits.segment[keep], hits.rows[keep], hits.dist[keep])
    if group_keys is not None:
        if isinstance(group_keys, (pa.Array, pa.ChunkedArray)):
            group_keys = group_keys.filter(pa.array(keep))
        else:
            group_keys = np.asarray(group_keys)[keep]
    topks = np.bincount(kept.qidx, minlength=nq).astype(int).tolist() if nq else []
    return kept, topks, group_keys


def search_candidates(
    snapshot: Snapshot,
    spec: SearchSpec,
    queries: Any,
    masks: SnapshotMasks,
    k: int,
) -> SearchOutcome:
    """Every segment's best ``k`` hits per query (all in range for range search), merged."""
    views = snapshot.segments
    plans = plan_segments(
        masks.counts,
        tuple(v.num_rows for v in views),
        tuple(v.data.vector_index(spec.field.name) is not None for v in views),
    )
    work = [p for p in plans if p.strategy != SKIP]

    def run(p: SegmentSearchPlan) -> Candidates:
        return search_segment(views[p.segment], p, spec, queries, masks.masks[p.segment], k)

    if len(work) > 1:
        # The calling thread searches the first segment itself rather than wait idle:
        # one hand-off fewer, which is most of the pool's cost for a single query.
        pool = _shared_pool()
        rest = [pool.submit(run, p) for p in work[1:]]
        first = run(work[0])
        merged = Candidates.concat([first, *(f.result() for f in rest)])
    elif work:
        merged = run(work[0])  # one source: nothing to concatenate or hand to the pool
    else:
        merged = Candidates.empty()
    if spec.is_range and merged.size:
        keep = within_range(merged.dist, spec)
        merged = Candidates(
            merged.qidx[keep], merged.segment[keep], merged.rows[keep], merged.dist[keep]
        )
    nq = int(queries.shape[0])
    return SearchOutcome(spec, nq, best_first(merged, spec.larger_is_better), plans, masks)


def _grouped(
    snapshot: Snapshot, spec: SearchSpec, queries: Any, masks: SnapshotMasks
) -> tuple[Candidates, list[int], Any]:
    """Grouping search: widen the per-segment pool until every group window is full."""
    assert spec.group_by_field is not None
    nq = int(queries.shape[0])
    group_plan = plan_output(snapshot.schema, [spec.group_by_field.name], include_primary=False)
    most = max((int(c) for c in masks.counts), default=0)
    pool = max(1, spec.k * spec.group_size * _GROUP_POOL_FACTOR)
    while True:
        outcome = search_candidates(snapshot, spec, queries, masks, min(pool, max(most, 1)))
        cands = outcome.candidates
        keys = gather_columns(snapshot, group_plan, cands.segment, cands.rows)[
            spec.group_by_field.name
        ]
        window = group_window(
            cands, keys, nq, spec.offset, spec.limit, spec.group_size, strict=spec.strict_group_size
        )
        if window.complete or pool >= most or spec.is_range:
            return window.hits, window.topks, window.keys
        pool *= _GROUP_POOL_FACTOR


def build_results(
    snapshot: Snapshot,
    spec: SearchSpec,
    hits: Candidates,
    topks: list[int],
    nq: int,
    output: Any,
    group_keys: Any = None,
) -> SearchResults:
    """The wire-shaped result: primary keys, distances and output columns of ``hits``."""
    pk = snapshot.schema.primary_field.name
    # One gather for the keys and the output fields: the hits are grouped by segment once.
    gathered = gather_columns(snapshot, _with_key(output, pk), hits.segment, hits.rows)
    ids = gathered[pk]
    fields = {name: gathered[name] for name in output.columns}
    # Candidates are float32 already; nothing writes into the result's array.
    distances = hits.dist.astype(np.float32, copy=False)
    if spec.round_decimal >= 0:
        distances = np.round(distances, spec.round_decimal).astype(np.float32)
    return SearchResults(
        nq=nq,
        topks=topks,
        ids=ids,
        distances=distances,
        fields=fields,
        output_fields=list(output.names),
        primary_field_name=pk,
        group_by_values=group_keys,
        metric_type=spec.metric,
        session_timestamp=snapshot.timestamp,
    )


def _with_key(output: OutputPlan, pk: str) -> OutputPlan:
    """``output`` with the primary key gathered first."""
    return OutputPlan(
        (pk, *(f for f in output.fields if f != pk)),
        output.dynamic_keys,
        output.whole_meta,
    )


# --- query vectors ---------------------------------------------------------------------


def prepare_queries(
    snapshot: Snapshot, fs: FieldSchema, queries: Any, analyzer_name: str | None = None
) -> Any:
    """Query vectors as one matrix of the field's in-memory type, checked against its dim.

    Text queries (a list of str) against the output of a BM25 or text-embedding
    function are turned into vectors by the snapshot's ``query_encoder`` hook;
    ``analyzer_name`` (a search param) picks a multi-analyzer field's analyzer.
    """
    if (
        isinstance(queries, np.ndarray)
        and queries.ndim == 2
        and 0 < queries.shape[0] <= 16384
        and queries.dtype.kind == "f"
        and queries.dtype == dense_vector_numpy_dtype(fs.dtype)
        and queries.shape[1] == (fs.dim or 0)
        and queries.flags.c_contiguous
        and fs.dtype in (DataType.FLOAT_VECTOR, DataType.FLOAT16_VECTOR)
        and np.isfinite(queries).all()
    ):
        # Already the field's in-memory form (the embedded client's usual input).
        return queries
    if _is_text(queries):
        queries = _encode_text(snapshot, fs, list(queries), analyzer_name)
    if fs.dtype == DataType.SPARSE_FLOAT_VECTOR:
        if not sp.issparse(queries):
            raise ParameterError(
                f"search on sparse vector field {fs.name} needs sparse query vectors"
            )
        matrix = sp.csr_array(queries, dtype=np.float32)
        if matrix.shape[0] == 0:
            raise ParameterError(
                "nq (number of search vector per search request) should be in range [1, 16384]"
            )
        return matrix
    if sp.issparse(queries):
        raise ParameterError(f"search on dense vector field {fs.name} got sparse query vectors")
    dtype = dense_vector_numpy_dtype(fs.dtype)
    array = np.asarray(queries)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[0] == 0:
        raise ParameterError(
            "nq (number of search vector per search request) should be in range [1, 16384]"
        )
    if array.shape[0] > 16384:
        raise ParameterError(
            f"nq (number of search vector per search request) should be in range [1, 16384], but got {array.shape[0]}"
        )
    width = vector_row_width(fs.dtype, fs.dim or 0)
    if array.shape[1] != width:
        got = array.shape[1] * 8 if fs.dtype == DataType.BINARY_VECTOR else array.shape[1]
        raise ParameterError(
            f"the dim ({got}) of query vectors does not match the dim ({fs.dim}) of field {fs.name}"
        )
    if array.dtype != dtype:
        if fs.dtype == DataType.BFLOAT16_VECTOR and array.dtype.kind == "f":
            raise ParameterError(
                f"bfloat16 query vectors for {fs.name} must be given as raw 16-bit patterns"
            )
        array = array.astype(dtype)
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ParameterError("query vectors must not contain NaN or infinity")
    return np.ascontiguousarray(array)


def _is_text(queries: Any) -> bool:
    return (
        isinstance(queries, (list, tuple))
        and bool(queries)
        and all(isinstance(q, str) for q in queries)
    )


def _encode_text(
    snapshot: Snapshot, fs: FieldSchema, texts: list[str], analyzer_name: str | None
) -> Any:
    if fs.name not in snapshot.schema.function_output_names:
        raise ParameterError(
            f"field {fs.name} is not the output of a function: text queries need a BM25 "
            "or text-embedding function output field"
        )
    encoder = getattr(snapshot, "query_encoder", None)
    if encoder is None:
        raise NotSupportedError(
            f"full-text / text-embedding search on {fs.name} requires the collection's "
            "function runtime, which this snapshot does not carry"
        )
    if analyzer_name is None:
        return encoder(fs.name, texts)
    return encoder(fs.name, texts, analyzer_name)
