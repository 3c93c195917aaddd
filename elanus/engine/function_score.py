"""Rerank functions on a plain search (Milvus's ``search(..., ranker=...)``).

Two stages, as in Milvus:

1. **boost** functions rescore every candidate the segments returned (each
   segment's best ``limit + offset``), so a boosted row from beyond the plain top-k
   can enter the window. A function's ``filter`` is evaluated with the ordinary
   filter machinery; ``weight`` (times a stable random number when
   ``random_score`` is set) is applied to the score as returned (see
   ``elanus.text.rerank.apply_boost``); candidates are then re-sorted in the
   metric's direction.
2. one other function (decay, model, rrf, weighted) reranks the best
   ``limit + offset`` hits of each query; its scores (larger is better) replace
   the distances. Then the ``offset .. offset + limit`` window is cut.

Model rerank (``elanus.text.rerank_model``) scores each hit's text field
(``input_field_names``) against the query text from the ``queries`` param.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from elanus.engine.output import gather_columns, plan_output
from elanus.engine.query_filter import compile_request_filter, snapshot_masks
from elanus.engine.requests import FunctionScoreSpec, RankerSpec
from elanus.engine.search_kernels import Candidates
from elanus.engine.search_merge import take_window
from elanus.engine.snapshot import Snapshot
from elanus.errors import ParameterError
from elanus.schema import DataType
from elanus.text.rerank import (
    BoostFunction,
    SearchHits,
    apply_boost,
    boost_function_from_params,
    create_reranker,
)
from elanus.text.rerank_model import create_rerank_provider, model_rerank_queries

__all__ = [
    "apply_function_score",
    "input_field",
    "is_model_ranker",
    "model_rerank",
    "ranker_kind",
]

_NUMERIC = frozenset(
    {DataType.INT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.FLOAT, DataType.DOUBLE}
)


def ranker_kind(ranker: RankerSpec) -> str:
    return str(ranker.kind or ranker.params.get("reranker", "")).lower()


def is_model_ranker(ranker: RankerSpec) -> bool:
    return ranker_kind(ranker) == "model"


def input_field(snapshot: Snapshot, ranker: RankerSpec, *, kinds: frozenset[DataType]) -> str:
    """The one input field of a decay or model function, checked against the schema."""
    names = ranker.params.get("input_field_names") or []
    if isinstance(names, str):
        names = [names]
    kind = ranker_kind(ranker)
    if len(names) != 1:
        raise ParameterError(f"{kind} function only supports one input field, got {list(names)}")
    name = str(names[0])
    fs = snapshot.schema.get(name)
    if fs is None:
        raise ParameterError(f"{kind} function input field {name} not found in schema")
    if fs.dtype not in kinds:
        wanted = "numeric" if kinds is _NUMERIC else "VARCHAR"
        raise ParameterError(
            f"{kind} function input field {name} must be {wanted}, got {fs.dtype.name}"
        )
    return name


def _split(score: FunctionScoreSpec) -> tuple[list[RankerSpec], RankerSpec | None]:
    boosts = [f for f in score.functions if ranker_kind(f) == "boost"]
    others = [f for f in score.functions if ranker_kind(f) != "boost"]
    if len(others) > 1:
        raise ParameterError(
            "a search supports at most one rerank function besides boost functions, "
            f"got {[ranker_kind(f) for f in others]}"
        )
    return boosts, (others[0] if others else None)


def apply_function_score(
    snapshot: Snapshot,
    candidates: Candidates,
    nq: int,
    *,
    metric: str,
    larger_is_better: bool,
    offset: int,
    limit: int,
    score: FunctionScoreSpec,
) -> tuple[Candidates, list[int]]:
    """Best-first candidates → the reranked ``offset .. offset + limit`` window and
    its per-query counts."""
    boosts, final = _split(score)
    if not score.functions:
        raise ParameterError("function score needs at least one rerank function")
    cands = candidates
    if boosts:
        cands = _boost(snapshot, cands, boosts, score.params, larger_is_better)
    if final is None:
        return take_window(cands, nq, offset, limit)
    top, _ = take_window(cands, nq, 0, offset + limit)
    if is_model_ranker(final):
        ranked = model_rerank(snapshot, top, nq, final)
    else:
        ranked = _rerank_each(snapshot, top, nq, final, metric)
    return take_window(ranked, nq, offset, limit)


# --- boost ---------------------------------------------------------------------------


def _modes(params: Mapping[str, Any]) -> tuple[str, str]:
    out = []
    for key in ("boost_mode", "function_mode"):
        value = str(params.get(key, "multiply")).strip().lower()
        if value not in ("multiply", "sum"):
            raise ParameterError(f"function score {key} must be multiply or sum, got {value!r}")
        out.append(value)
    return out[0], out[1]


def _boost(
    snapshot: Snapshot,
    cands: Candidates,
    specs: list[RankerSpec],
    params: Mapping[str, Any],
    larger_is_better: bool,
) -> Candidates:
    if cands.size == 0:
        return cands
    if any(s.params.get("input_field_names") for s in specs):
        raise ParameterError("boost function does not take input fields")
    functions = [boost_function_from_params({**s.params, "reranker": "boost"}) for s in specs]
    boost_mode, function_mode = _modes(params)
    matches = [_filter_hits(snapshot, cands, f) for f in functions]
    randoms = [_random_source(snapshot, cands, f) for f in functions]
    boosted = apply_boost(
        cands.dist,
        matches,
        functions,
        random_inputs=randoms,
        boost_mode=boost_mode,
        function_mode=function_mode,
    )
    key = -boosted.astype(np.float64) if larger_is_better else boosted.astype(np.float64)
    # Ties keep the plain ranking (the candidates arrive best-first).
    order = np.lexsort((np.arange(cands.size), key, cands.qidx))
    return Candidates(cands.qidx[order], cands.segment[order], cands.rows[order], boosted[order])


def _filter_hits(snapshot: Snapshot, cands: Candidates, fn: BoostFunction) -> np.ndarray:
    if not fn.filter:
        return np.ones(cands.size, dtype=bool)
    masks = snapshot_masks(snapshot, compile_request_filter(snapshot, fn.filter, None)).masks
    out = np.zeros(cands.size, dtype=bool)
    for seg in np.unique(cands.segment):
        sel = cands.segment == seg
        out[sel] = masks[int(seg)][cands.rows[sel]]
    return out


def _random_source(snapshot: Snapshot, cands: Candidates, fn: BoostFunction) -> np.ndarray | None:
    if fn.random_seed is None:
        return None
    name = fn.random_field or snapshot.schema.primary_field.name
    if snapshot.schema.get(name) is None:
        raise ParameterError(f"boost random_score field {name} not found in schema")
    column = _column(snapshot, cands, name)
    return np.asarray(
        column.to_numpy(zero_copy_only=False) if isinstance(column, pa.Array) else column
    )


def _column(snapshot: Snapshot, cands: Candidates, name: str) -> Any:
    plan = plan_output(snapshot.schema, [name], include_primary=False)
    column = gather_columns(snapshot, plan, cands.segment, cands.rows)[name]
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    return column


# --- one reranker over the window ------------------------------------------------------


def _per_query(cands: Candidates, nq: int) -> list[np.ndarray]:
    """Positions of each query's hits (the candidates are grouped by query)."""
    bounds = np.searchsorted(cands.qidx, np.arange(nq + 1))
    return [np.arange(bounds[q], bounds[q + 1]) for q in range(nq)]


def _reordered(cands: Candidates, parts: list[tuple[np.ndarray, np.ndarray]]) -> Candidates:
    if not parts:
        return Candidates.empty()
    where = np.concatenate([p for p, _ in parts]).astype(np.int64)
    scores = np.concatenate([s for _, s in parts]).astype(np.float32)
    return Candidates(cands.qidx[where], cands.segment[where], cands.rows[where], scores)


def _rerank_each(
    snapshot: Snapshot, cands: Candidates, nq: int, ranker: RankerSpec, metric: str
) -> Candidates:
    kind = ranker_kind(ranker)
    params = {k: v for k, v in ranker.params.items() if k != "input_field_names"}
    reranker = create_reranker({**params, "reranker": kind})
    values = None
    if kind == "decay":
        name = input_field(snapshot, ranker, kinds=_NUMERIC)
        column = _column(snapshot, cands, name)
        if isinstance(column, pa.Array) and column.null_count:
            raise ParameterError(
                f"decay function input field {name} has null values among the hits"
            )
        values = np.asarray(
            column.to_numpy(zero_copy_only=False) if isinstance(column, pa.Array) else column,
            dtype=np.float64,
        )
    parts = []
    for pos in _per_query(cands, nq):
        if pos.size == 0:
            continue
        # Positions stand in for keys: a plain search has each row once.
        hits = SearchHits(
            ids=pos,
            distances=cands.dist[pos],
            metric=metric,
            field_values=None if values is None else values[pos],
        )
        ranked = reranker.rerank([hits], limit=int(pos.size), offset=0)
        parts.append((np.asarray(ranked.ids, dtype=np.int64), np.asarray(ranked.scores)))
    return _reordered(cands, parts)


def model_rerank(snapshot: Snapshot, cands: Candidates, nq: int, ranker: RankerSpec) -> Candidates:
    """Each query's hits ordered by the provider's relevance of their text to the query."""
    name = input_field(snapshot, ranker, kinds=frozenset({DataType.VARCHAR, DataType.TEXT}))
    queries = model_rerank_queries(ranker.params, nq)
    provider = create_rerank_provider(ranker.params)
    column = _column(snapshot, cands, name)
    texts = column.to_pylist() if isinstance(column, pa.Array) else list(column)
    texts = ["" if t is None else str(t) for t in texts]
    parts = []
    for qi, pos in enumerate(_per_query(cands, nq)):
        if pos.size == 0:
            continue
        scores = np.asarray(provider.rerank(queries[qi], [texts[i] for i in pos]), np.float64)
        if scores.shape != (pos.size,):
            raise ParameterError(
                f"rerank provider returned {scores.size} scores for {pos.size} documents"
            )
        order = np.lexsort((np.arange(pos.size), -scores))
        parts.append((pos[order], scores[order]))
    return _reordered(cands, parts)
