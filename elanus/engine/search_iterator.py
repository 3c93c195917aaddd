"""Serving pymilvus's iterators from pure search/query calls.

``search_iterator`` (v2) sends, besides an ordinary search: ``iterator=True``,
``search_iter_v2=True``, ``search_iter_batch_size``, and after the first page
``search_iter_last_bound`` (the last distance it saw) and ``search_iter_id`` (the
token the first reply carried), with ``guarantee_timestamp`` pinned to the first
reply's session timestamp so every page reads the same snapshot. The reply must
carry ``search_iterator_v2_results {token, last_bound}``.

A page is the next ``batch_size`` hits strictly after the bound in the metric's
order; hits exactly at the bound are returned unless their keys are in
``exclude_ids`` (the keys the previous page returned at that distance), so equal
distances neither repeat nor vanish.

``query_iterator`` needs no helper: it sends ``iterator=True`` and a filter
``pk > last and (filter)`` with a limit; serve it with ``QueryRequest(order_by_pk=True)``.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa

from elanus.engine.requests import SearchRequest, SearchResults
from elanus.engine.search import execute_search
from elanus.engine.search_plan import MAX_TOPK, larger_is_better, plan_search
from elanus.engine.snapshot import Snapshot
from elanus.errors import ParameterError

__all__ = ["SearchIteratorPage", "new_iterator_token", "search_iterator_page"]


@dataclass(frozen=True)
class SearchIteratorPage:
    """One page: the hits, the bound to send next time, and the keys sitting at it."""

    results: SearchResults
    last_bound: float | None
    ids_at_bound: list[Any]


def new_iterator_token() -> str:
    return uuid.uuid4().hex


def search_iterator_page(
    snapshot: Snapshot,
    request: SearchRequest,
    *,
    batch_size: int,
    last_bound: float | None = None,
    exclude_ids: list[Any] | None = None,
) -> SearchIteratorPage:
    """The next ``batch_size`` hits of a one-query search after ``last_bound``."""
    if batch_size < 0 or batch_size > MAX_TOPK:
        raise ParameterError(f"batch size should be in range [0, {MAX_TOPK}], got {batch_size}")
    spec = plan_search(
        snapshot,
        anns_field=request.anns_field,
        search_params=request.search_params,
        limit=max(1, batch_size),
        offset=0,
    )
    exclude = list(exclude_ids or [])
    params = dict(request.search_params or {})
    inner = dict(params.get("params") or {})
    if last_bound is not None:
        larger = larger_is_better(spec.metric)
        # Everything at or beyond the bound in the metric's order.
        inner["radius"] = -math.inf if larger else math.inf
        inner["range_filter"] = float(last_bound)
    params["params"] = inner
    params.setdefault("metric_type", spec.metric)
    limit = min(MAX_TOPK, max(1, batch_size) + len(exclude))
    res = execute_search(snapshot, replace(request, search_params=params, limit=limit, offset=0))
    keys = res.ids.to_pylist() if isinstance(res.ids, pa.Array) else np.asarray(res.ids).tolist()
    keep = np.ones(len(keys), dtype=bool)
    if exclude:
        keep = ~np.isin(np.asarray(keys, dtype=object), np.asarray(exclude, dtype=object))
    picked = np.flatnonzero(keep)[:batch_size]
    page = _slice(res, picked)
    if picked.size == 0:
        return SearchIteratorPage(page, last_bound, exclude)
    bound = float(page.distances[-1])
    page_keys = [keys[i] for i in picked]
    at_bound = [k for k, d in zip(page_keys, page.distances.tolist()) if d == bound]
    if last_bound is not None and bound == last_bound:
        at_bound = exclude + at_bound
    return SearchIteratorPage(page, bound, at_bound)


def _slice(res: SearchResults, picked: np.ndarray) -> SearchResults:
    def take(column: Any) -> Any:
        if isinstance(column, pa.Array):
            return column.take(pa.array(picked, type=pa.int64()))
        return column[picked]

    return replace(
        res,
        topks=[int(picked.size)] + [0] * (res.nq - 1),
        ids=take(res.ids),
        distances=res.distances[picked],
        fields={name: take(col) for name, col in res.fields.items()},
        group_by_values=None if res.group_by_values is None else take(res.group_by_values),
    )
