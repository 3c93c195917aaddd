"""Hybrid search: several searches on one snapshot, merged by a reranker.

Each sub-request is an ordinary search (its own field, filter, params and limit);
``elanus.text.rerank`` merges their hits per query by primary key (RRF, weighted,
decay); a model reranker scores the union of their hits (``function_score``). Hits keep their (segment, row) so output fields are gathered by position
once, after the merge. Grouping, when asked, applies to the merged ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from elanus.engine.function_score import is_model_ranker, model_rerank
from elanus.engine.grouping import group_window
from elanus.engine.output import gather_columns, plan_output
from elanus.engine.query_filter import compile_request_filter, snapshot_masks
from elanus.engine.requests import HybridSearchRequest, RankerSpec, SearchRequest, SearchResults
from elanus.engine.search import prepare_queries, search_candidates
from elanus.engine.search_kernels import Candidates
from elanus.engine.search_merge import take_window
from elanus.engine.search_plan import SearchSpec, plan_search, resolve_group_field
from elanus.engine.snapshot import Snapshot
from elanus.engine.vector_validity import mask_null_vectors
from elanus.errors import ParameterError
from elanus.text.rerank import Reranker, RRFRanker, SearchHits, create_reranker

__all__ = ["LegHits", "execute_hybrid_search", "make_reranker"]

_MAX_LEGS = 1024


@dataclass(frozen=True)
class LegHits:
    """The window of one sub-request: its hits (flat, best first), spec and primary keys."""

    spec: SearchSpec
    hits: Candidates
    topks: list[int]
    pks: np.ndarray
    decay_values: np.ndarray | None


def make_reranker(ranker: RankerSpec) -> Reranker:
    """A reranker from Milvus's ranker name and params."""
    params = dict(ranker.params or {})
    kind = str(ranker.kind or params.pop("reranker", "") or params.pop("strategy", "")).lower()
    return create_reranker({**params, "reranker": kind})


def _decay_field(ranker: RankerSpec, snapshot: Snapshot) -> str | None:
    if str(ranker.kind).lower() != "decay":
        return None
    names = ranker.params.get("input_field_names") or ranker.params.get("input_field") or []
    if isinstance(names, str):
        names = [names]
    if len(names) != 1:
        raise ParameterError("decay reranker needs exactly one numeric input field")
    name = str(names[0])
    fs = snapshot.schema.get(name)
    if fs is None:
        raise ParameterError(f"decay reranker input field {name} not found in schema")
    return name


def execute_hybrid_search(snapshot: Snapshot, request: HybridSearchRequest) -> SearchResults:
    """Run every sub-request, rerank per query, then offset/limit (or group) and gather."""
    if not request.requests:
        raise ParameterError("hybrid search needs at least one search request")
    if len(request.requests) > _MAX_LEGS:
        raise ParameterError(f"hybrid search supports at most {_MAX_LEGS} search requests")
    _check_result_window(request.limit, request.offset, snapshot.result_window)
    if request.round_decimal != -1 and not 0 <= request.round_decimal <= 6:
        raise ParameterError(
            f"round_decimal {request.round_decimal} is invalid, should be -1 or an integer in range [0, 6]"
        )
    snap = snapshot.in_partitions(request.partition_names)
    model = is_model_ranker(request.ranker)
    # A model reranker scores the union of the legs' hits; RRF only collects it.
    reranker = RRFRanker() if model else make_reranker(request.ranker)
    decay_field = _decay_field(request.ranker, snap)
    output = plan_output(snap.schema, request.output_fields, include_primary=False)
    legs = [_run_leg(snap, leg, decay_field) for leg in request.requests]
    nq = _common_nq(legs)
    group_fs = resolve_group_field(snap.schema, request.group_by_field, request.group_size)
    merged = _rerank_all(legs, nq, reranker)
    if model:
        merged = model_rerank(snap, merged, nq, request.ranker)
    group_keys = None
    if group_fs is not None:
        name = group_fs.name
        key_plan = plan_output(snap.schema, [name], include_primary=False)
        keys = gather_columns(snap, key_plan, merged.segment, merged.rows)[name]
        window = group_window(
            merged, keys, nq, request.offset, request.limit, max(1, request.group_size)
        )
        hits, topks, group_keys = window.hits, window.topks, window.keys
    else:
        hits, topks = take_window(merged, nq, request.offset, request.limit)
    return _results(snap, hits, topks, nq, output, group_keys, request.round_decimal)


def _check_result_window(limit: int, offset: int, window: int) -> None:
    """The merged result's offset+limit, worded as Milvus words a hybrid search's
    (each leg's own limit is checked as a search's topk)."""
    if offset < 0:
        raise ParameterError(
            f"invalid max query result window, offset [{offset}] is invalid, should be gte than 0"
        )
    if not isinstance(limit, int) or limit < 1:
        raise ParameterError(
            f"invalid max query result window, limit [{limit}] is invalid, should be greater than 0"
        )
    if limit + offset > window:
        raise ParameterError(
            "invalid max query result window, (offset+limit) should be in range "
            f"[1, {window}], but got {limit + offset}"
        )


def _common_nq(legs: list[LegHits]) -> int:
    counts = {len(leg.topks) for leg in legs}
    if len(counts) != 1:
        raise ParameterError(
            "the number of query vectors (nq) must be the same in every search request "
            f"of a hybrid search, got {sorted(counts)}"
        )
    return counts.pop()


def _run_leg(snapshot: Snapshot, leg: SearchRequest, decay_field: str | None) -> LegHits:
    spec = plan_search(
        snapshot,
        anns_field=leg.anns_field,
        search_params=leg.search_params,
        limit=leg.limit,
        offset=0,
    )
    queries = prepare_queries(
        snapshot, spec.field, leg.queries, (leg.search_params or {}).get("analyzer_name")
    )
    masks = snapshot_masks(
        snapshot, compile_request_filter(snapshot, leg.filter, leg.filter_params)
    )
    masks = mask_null_vectors(snapshot, spec.field, masks)
    outcome = search_candidates(snapshot, spec, queries, masks, spec.k)
    hits, topks = take_window(outcome.candidates, int(queries.shape[0]), 0, spec.limit)
    pk = snapshot.schema.primary_field.name
    wanted = [pk] + ([decay_field] if decay_field and decay_field != pk else [])
    cols = gather_columns(
        snapshot,
        plan_output(snapshot.schema, wanted, include_primary=False),
        hits.segment,
        hits.rows,
    )
    values = None
    if decay_field is not None:
        raw = cols[decay_field]
        values = np.asarray(
            raw.to_numpy(zero_copy_only=False) if isinstance(raw, pa.Array) else raw,
            dtype=np.float64,
        )
    return LegHits(spec, hits, topks, _key_array(cols[pk]), values)


def _key_array(keys: Any) -> np.ndarray:
    if isinstance(keys, pa.Array):
        if pa.types.is_integer(keys.type):
            return np.asarray(keys.to_numpy(zero_copy_only=False), dtype=np.int64)
        return np.asarray(keys.to_pylist(), dtype=str)
    arr = np.asarray(keys)
    return arr.astype(np.int64) if arr.dtype.kind in "iu" else arr.astype(str)


def _rerank_all(
    legs: list[LegHits],
    nq: int,
    reranker: Reranker,
) -> Candidates:
    """Best-first merged hits of every query, scores as distances (before the window)."""
    parts: list[Candidates] = []
    for qi in range(nq):
        sub: list[SearchHits] = []
        pos_keys: list[np.ndarray] = []
        pos_seg: list[np.ndarray] = []
        pos_row: list[np.ndarray] = []
        for leg in legs:
            sel = leg.hits.qidx == qi
            sub.append(
                SearchHits(
                    ids=leg.pks[sel],
                    distances=leg.hits.dist[sel],
                    metric=leg.spec.metric,
                    field_values=None if leg.decay_values is None else leg.decay_values[sel],
                )
            )
            pos_keys.append(leg.pks[sel])
            pos_seg.append(leg.hits.segment[sel])
            pos_row.append(leg.hits.rows[sel])
        keys = np.concatenate(pos_keys)
        if keys.size == 0:
            continue
        # Everything merged, then cut: the window (or grouping) is applied afterwards.
        ranked = reranker.rerank(sub, limit=int(keys.size), offset=0)
        uniq, first = np.unique(keys, return_index=True)
        where = first[np.searchsorted(uniq, ranked.ids)]
        seg = np.concatenate(pos_seg)[where]
        row = np.concatenate(pos_row)[where]
        parts.append(
            Candidates(
                np.full(where.size, qi, dtype=np.int64),
                seg,
                row,
                np.asarray(ranked.scores, dtype=np.float32),
            )
        )
    return Candidates.concat(parts)


def _results(
    snapshot: Snapshot,
    hits: Candidates,
    topks: list[int],
    nq: int,
    output: Any,
    group_keys: Any,
    round_decimal: int,
) -> SearchResults:
    pk = snapshot.schema.primary_field.name
    ids = gather_columns(
        snapshot, plan_output(snapshot.schema, [pk], include_primary=False), hits.segment, hits.rows
    )[pk]
    scores = hits.dist.astype(np.float32)
    if round_decimal is not None and round_decimal >= 0:
        scores = np.round(scores, round_decimal).astype(np.float32)
    return SearchResults(
        nq=nq,
        topks=topks,
        ids=ids,
        distances=scores,
        fields=gather_columns(snapshot, output, hits.segment, hits.rows),
        output_fields=list(output.names),
        primary_field_name=pk,
        group_by_values=group_keys,
        metric_type="",
        session_timestamp=snapshot.timestamp,
    )
