"""REST v2 entities: insert, upsert, delete, query, get, search, hybrid search."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from elanus.engine.api import EngineAPI
from elanus.engine.requests import (
    ConsistencyLevel,
    HybridSearchRequest,
    QueryRequest,
    RankerSpec,
    SearchRequest,
)
from elanus.errors import ParameterError
from elanus.schema import CollectionSchema, FieldSchema
from elanus.server.rest_body import RestBody, endpoint
from elanus.server.rest_values import columns_from_rows, query_rows, query_vectors, search_rows

__all__: list[str] = []

# Milvus's REST API returns this many hits when a search names no limit.
DEFAULT_SEARCH_LIMIT = 100
# Search settings that sit beside ``params`` rather than inside it.
_TOP_LEVEL_SEARCH_KEYS = frozenset({"ignore_growing", "hints", "analyzer_name"})


def _schema(engine: EngineAPI, body: RestBody) -> CollectionSchema:
    return engine.describe_collection(body.db, body.collection).schema


def _consistency(body: RestBody) -> str | None:
    level = body.get("consistencyLevel")
    if level is None:
        return None
    try:
        return ConsistencyLevel.parse(level)
    except ValueError as exc:
        raise ParameterError(str(exc)) from None


def _filter_params(body: RestBody) -> dict[str, Any] | None:
    return body.mapping("exprParams") or None


# --- writes --------------------------------------------------------------------------


@endpoint("entities/insert")
def insert(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    columns, num_rows = columns_from_rows(_schema(engine, body), body.get("data"))
    result = engine.insert(
        body.db, body.collection, columns, num_rows, body.get("partitionName") or None
    )
    return {"insertCount": result.count, "insertIds": list(result.ids)}


@endpoint("entities/upsert")
def upsert(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    columns, num_rows = columns_from_rows(_schema(engine, body), body.get("data"))
    result = engine.upsert(
        body.db,
        body.collection,
        columns,
        num_rows,
        body.get("partitionName") or None,
        partial_update=bool(body.get("partialUpdate", False)),
    )
    return {"upsertCount": result.count, "upsertIds": list(result.ids)}


def _ids(value: Any) -> list[Any] | None:
    if value is None:
        return None
    return list(value) if isinstance(value, list) else [value]


@endpoint("entities/delete")
def delete(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    ids = _ids(body.get("id"))
    filter_text = body.get("filter", "")
    if not ids and not filter_text:
        raise ParameterError("delete needs a filter or the ids to delete")
    result = engine.delete(
        body.db,
        body.collection,
        ids=ids,
        filter=filter_text,
        filter_params=_filter_params(body),
        partition=body.get("partitionName") or None,
    )
    return {"deleteCount": result.count}


# --- reads ---------------------------------------------------------------------------


def _query(engine: EngineAPI, body: RestBody, ids: list[Any] | None) -> list[dict[str, Any]]:
    limit = body.get("limit")
    request = QueryRequest(
        filter=body.get("filter", ""),
        ids=ids,
        output_fields=body.text_list("outputFields"),
        partition_names=body.text_list("partitionNames"),
        limit=None if limit is None else body.integer("limit", 0),
        offset=body.integer("offset", 0),
        filter_params=_filter_params(body),
        consistency_level=_consistency(body),
    )
    result = engine.query(body.db, body.collection, request)
    return query_rows(_schema(engine, body), result)


@endpoint("entities/query")
def query(engine: EngineAPI, body: RestBody) -> list[dict[str, Any]]:
    return _query(engine, body, None)


@endpoint("entities/get")
def get(engine: EngineAPI, body: RestBody) -> list[dict[str, Any]]:
    ids = _ids(body.get("id"))
    if not ids:
        raise ParameterError("get needs the ids of the entities (id)")
    return _query(engine, body, ids)


def _search_params(raw: Mapping[str, Any], metric: Any = None) -> dict[str, Any]:
    """``searchParams`` (``{metricType, params, ...}``) as the engine's search params."""
    out: dict[str, Any] = {}
    inner = dict(raw.get("params") or {})
    for key, value in raw.items():
        if key in ("metricType", "metric_type"):
            metric = metric or value
        elif key in _TOP_LEVEL_SEARCH_KEYS:
            out[key] = value
        elif key != "params":
            inner[key] = value
    if inner:
        out["params"] = inner
    if metric:
        out["metric_type"] = str(metric)
    return out


def _anns_field(schema: CollectionSchema, name: str | None) -> FieldSchema | None:
    if name:
        return schema.get(name)
    vectors = schema.vector_fields
    return vectors[0] if len(vectors) == 1 else None


def _one_search(schema: CollectionSchema, raw: Mapping[str, Any], top: RestBody) -> SearchRequest:
    """One search: the body of ``entities/search`` or one leg of a hybrid search."""
    sub = RestBody(raw)
    anns = sub.get("annsField") or None
    params = sub.mapping("searchParams")
    if "params" in raw and "searchParams" not in raw:
        params = {"params": sub.mapping("params")}
    return SearchRequest(
        queries=query_vectors(_anns_field(schema, anns), sub.get("data")),
        anns_field=anns,
        limit=sub.integer("limit", DEFAULT_SEARCH_LIMIT),
        offset=sub.integer("offset", 0),
        filter=sub.get("filter", ""),
        filter_params=_filter_params(sub),
        output_fields=top.text_list("outputFields"),
        partition_names=top.text_list("partitionNames"),
        search_params=_search_params(params, sub.get("metricType")),
        round_decimal=sub.integer("roundDecimal", -1),
        group_by_field=sub.get("groupingField") or None,
        group_size=sub.integer("groupSize", 1),
        strict_group_size=bool(sub.get("strictGroupSize", False)),
        consistency_level=_consistency(top),
    )


@endpoint("entities/search")
def search(engine: EngineAPI, body: RestBody) -> list[Any]:
    schema = _schema(engine, body)
    request = _one_search(schema, body.raw, body)
    results = engine.search(body.db, body.collection, request)
    return search_rows(schema, results, request.group_by_field)


def _ranker(raw: Any) -> RankerSpec:
    if not isinstance(raw, Mapping) or not raw.get("strategy"):
        raise ParameterError("rerank must be an object naming its strategy (rrf or weighted)")
    return RankerSpec(kind=str(raw["strategy"]).lower(), params=dict(raw.get("params") or {}))


@endpoint("entities/hybrid_search")
def hybrid_search(engine: EngineAPI, body: RestBody) -> list[Any]:
    schema = _schema(engine, body)
    legs = body.get("search")
    if not isinstance(legs, list) or not legs:
        raise ParameterError("hybrid search needs a non-empty list of searches (search)")
    for leg in legs:
        if not isinstance(leg, Mapping):
            raise ParameterError("each of a hybrid search's searches must be an object")
    request = HybridSearchRequest(
        requests=[_one_search(schema, leg, body) for leg in legs],
        ranker=_ranker(body.get("rerank")),
        limit=body.integer("limit", DEFAULT_SEARCH_LIMIT),
        offset=body.integer("offset", 0),
        output_fields=body.text_list("outputFields"),
        partition_names=body.text_list("partitionNames"),
        round_decimal=body.integer("roundDecimal", -1),
        group_by_field=body.get("groupingField") or None,
        group_size=body.integer("groupSize", 1),
        strict_group_size=bool(body.get("strictGroupSize", False)),
        consistency_level=_consistency(body),
    )
    results = engine.hybrid_search(body.db, body.collection, request)
    return search_rows(schema, results, request.group_by_field)
