"""REST v2 entities: insert, upsert, delete, query, get, search, hybrid search."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pymilvus.grpc_gen import schema_pb2

from elanus.engine.api import EngineAPI
from elanus.engine.requests import (
    FunctionScoreSpec,
    HybridSearchRequest,
    QueryRequest,
    RankerSpec,
    SearchRequest,
)
from elanus.engine.search_by_key import PrimaryKeyQueries
from elanus.errors import (
    DataError,
    ElanusError,
    FieldNotFound,
    NotSupportedError,
    ParameterError,
)
from elanus.schema import CollectionSchema, DataType, FieldSchema
from elanus.server.convert_search import function_score_from_proto
from elanus.server.rest_array_ops import apply_field_ops, field_ops
from elanus.server.rest_body import (
    InvalidJson,
    MissingParameter,
    Reply,
    RestBody,
    consistency_level,
    describe,
    endpoint,
    go_text,
)
from elanus.server.rest_schema import function_proto
from elanus.server.rest_values import (
    columns_from_rows,
    int64_text,
    query_rows,
    query_vectors,
    search_rows,
)

__all__: list[str] = []

# Milvus's REST API returns this many rows when a search or query names no limit.
DEFAULT_LIMIT = 100
# Search settings that sit beside ``params`` rather than inside it.
_TOP_LEVEL_SEARCH_KEYS = frozenset({"ignore_growing", "hints", "analyzer_name"})


class InvalidInsertData(ParameterError):
    """Rows that cannot be turned into the collection's columns (Milvus's 1804)."""

    code = 1804


def _schema(engine: EngineAPI, body: RestBody) -> CollectionSchema:
    """The collection's schema, read first as Milvus's REST layer reads it (so a
    missing collection is worded as its DescribeCollection words it)."""
    return describe(engine, body.db, body.collection).schema


def _consistency(body: RestBody) -> str | None:
    try:
        return consistency_level(body.get("consistencyLevel"))
    except ParameterError:
        raise ParameterError(
            "consistencyLevel can only be [Strong, Session, Bounded, Eventually, Customized], "
            f"default: Bounded, err:parameter:'{body.get('consistencyLevel')}' is incorrect, "
            "please check it"
        ) from None


def _filter_params(body: RestBody) -> dict[str, Any] | None:
    return body.mapping("exprParams") or None


# --- writes --------------------------------------------------------------------------


def _given_rows(body: RestBody) -> list[Mapping[str, Any]]:
    rows = body.value("data")
    if rows is None or rows == []:
        raise MissingParameter(
            "missing required parameters, error: Key: 'data' "
            "Error:Field validation for 'data' failed on the 'required' tag"
        )
    if isinstance(rows, Mapping):
        rows = [rows]
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise InvalidJson(
            "can only accept json format request, error: data must be a list of row objects"
        )
    return rows


def _columns(schema: CollectionSchema, rows: list[Mapping[str, Any]]) -> tuple[dict[str, Any], int]:
    if not schema.enable_dynamic_field:
        given: set[str] = set()
        for row in rows:
            given.update(row)
        if given - {f.name for f in schema.fields}:
            raise InvalidInsertData(
                "fail to deal the insert data, error: has pass more field without dynamic "
                "schema, please check it"
            )
    try:
        columns, num_rows = columns_from_rows(schema, rows)
    except DataError as exc:
        raise _write_error(exc) from None
    return columns, num_rows


def _write_error(exc: DataError) -> ElanusError:
    """The engine's refusal of the rows as Milvus's REST layer words it."""
    return InvalidInsertData(f"fail to deal the insert data, error: {exc}")


def _keys(schema: CollectionSchema, ids: Any, allow_int64: bool) -> list[Any]:
    return int64_text(schema.primary_field, list(ids), allow_int64)


@endpoint("entities/insert")
def insert(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    schema = _schema(engine, body)
    columns, num_rows = _columns(schema, _given_rows(body))
    try:
        result = engine.insert(
            body.db, body.collection, columns, num_rows, body.optional_text("partitionName") or None
        )
    except DataError as exc:
        raise _write_error(exc) from None
    return {
        "insertCount": result.count,
        "insertIds": _keys(schema, result.ids, body.allow_int64),
    }


@endpoint("entities/upsert")
def upsert(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    schema = _schema(engine, body)
    rows: list[Mapping[str, Any]] = _given_rows(body)
    ops = field_ops(schema, body.value("fieldOps"))
    if ops:
        rows = list(apply_field_ops(engine, body.db, body.collection, schema, rows, ops))
    columns, num_rows = _columns(schema, rows)
    try:
        result = engine.upsert(
            body.db,
            body.collection,
            columns,
            num_rows,
            body.optional_text("partitionName") or None,
            partial_update=body.flag("partialUpdate"),
        )
    except DataError as exc:
        raise _write_error(exc) from None
    return {
        "upsertCount": result.count,
        "upsertIds": _keys(schema, result.ids, body.allow_int64),
    }


def _ids(value: Any) -> list[Any] | None:
    if value is None:
        return None
    return list(value) if isinstance(value, list) else [value]


@endpoint("entities/delete")
def delete(engine: EngineAPI, body: RestBody) -> dict[str, Any]:
    collection = body.collection
    filter_text = body.optional_text("filter")
    ids = _ids(body.value("id"))
    if not filter_text and not ids:
        body.text("filter")  # required, as Milvus binds it
    _schema(engine, body)
    result = engine.delete(
        body.db,
        collection,
        ids=None if filter_text else ids,
        filter=filter_text,
        filter_params=_filter_params(body),
        partition=body.optional_text("partitionName") or None,
    )
    return {"deleteCount": result.count}


# --- reads ---------------------------------------------------------------------------


def _output_fields(body: RestBody) -> list[str] | None:
    """``outputFields``: all fields ("*") when absent, as Milvus's REST API defaults."""
    if body.value("outputFields") is None:
        return ["*"]
    return body.text_list("outputFields") or []


def _query(engine: EngineAPI, body: RestBody, ids: list[Any] | None) -> list[dict[str, Any]]:
    collection = body.collection
    schema = _schema(engine, body)
    outputs = _output_fields(body)
    counting = (
        outputs is not None and len(outputs) == 1 and outputs[0].strip().lower() == "count(*)"
    )
    limit = None if ids is not None else body.integer("limit", DEFAULT_LIMIT)
    request = QueryRequest(
        filter=body.optional_text("filter"),
        ids=ids,
        output_fields=outputs or None,
        partition_names=body.text_list("partitionNames"),
        limit=None if counting or not limit or limit <= 0 else limit,
        offset=max(body.integer("offset", 0), 0),
        filter_params=_filter_params(body),
        consistency_level=_consistency(body),
    )
    result = engine.query(body.db, collection, request)
    return query_rows(schema, result, body.allow_int64)


@endpoint("entities/query")
def query(engine: EngineAPI, body: RestBody) -> list[dict[str, Any]]:
    return _query(engine, body, None)


@endpoint("entities/get")
def get(engine: EngineAPI, body: RestBody) -> list[dict[str, Any]]:
    body.collection  # noqa: B018 (a bad name is refused before the ids are read)
    ids = _ids(body.value("id"))
    if not ids:
        raise MissingParameter(
            "missing required parameters, error: Key: 'id' "
            "Error:Field validation for 'id' failed on the 'required' tag"
        )
    return _query(engine, body, _typed_keys(_schema(engine, body), ids))


def _search_params(raw: Mapping[str, Any], metric: Any = None) -> dict[str, Any]:
    """``searchParams`` (``{metricType, params, ...}``) as the engine's search params;
    a key given both beside and inside ``params`` must agree, as in Milvus."""
    out: dict[str, Any] = {}
    inner_raw = raw.get("params")
    if inner_raw is not None and not isinstance(inner_raw, Mapping):
        raise ParameterError("searchParams.params must be a dict")
    inner = dict(inner_raw or {})
    for key, value in raw.items():
        if key == "ignoreGrowing":  # Milvus's REST name for it
            key = "ignore_growing"
        if key in ("metricType", "metric_type"):
            metric = metric or value
        elif key in _TOP_LEVEL_SEARCH_KEYS:
            out[key] = value
        elif key != "params":
            if key in inner and inner[key] != value:
                raise ParameterError(
                    f"ambiguous parameter: {key}, in search_param: {value}, "
                    f"in search_param.params: {inner[key]}"
                )
            inner[key] = value
    if inner:
        out["params"] = inner
    if metric:
        out["metric_type"] = str(metric)
    return out


def _anns_field(schema: CollectionSchema, name: str) -> FieldSchema | None:
    if name:
        field = schema.get(name)
        if field is None or not field.dtype.is_vector:
            raise FieldNotFound(f"cannot find a vector field: field not found[field={name}]")
        return field
    vectors = schema.vector_fields
    return vectors[0] if len(vectors) == 1 else None


def _vectors(schema: CollectionSchema, anns: str, data: Any) -> Any:
    try:
        return query_vectors(_anns_field(schema, anns), data)
    except ParameterError as exc:
        raise InvalidJson(f"can only accept json format request, error: {exc}") from None


def _function_score(body: RestBody) -> FunctionScoreSpec | None:
    """``functionScore``: rerank functions, read as the gRPC ``function_score``."""
    raw = body.value("functionScore")
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidJson(
            "can only accept json format request, error: functionScore must be an object"
        )
    functions = raw.get("functions") or []
    if not functions:
        return None
    if body.value("functionChains"):
        raise ParameterError("function_score and function_chains cannot be used together")
    score = schema_pb2.FunctionScore(functions=[function_proto(f) for f in functions])
    for key, value in dict(raw.get("params") or {}).items():
        score.params.add(key=str(key), value=go_text(value))
    return function_score_from_proto(score)


def _refuse_chains(body: RestBody, hybrid: bool) -> None:
    if body.value("functionChains"):
        if hybrid:
            raise ParameterError("functionChains is not supported for hybrid search yet")
        raise NotSupportedError("not supported by Elanus: functionChains")
    if body.value("searchAggregation") is not None:
        if hybrid:
            raise ParameterError("searchAggregation is not supported for hybrid search")
        raise NotSupportedError("not supported by Elanus: searchAggregation")


def _typed_keys(schema: CollectionSchema, ids: list[Any]) -> list[Any]:
    """``ids`` of a search by keys as the key's type, read as Milvus reads them:
    an Int64 key from a whole number or its decimal text."""
    if schema.primary_field.dtype != DataType.INT64:
        for i, key in enumerate(ids):
            if not isinstance(key, str):
                raise ParameterError(
                    f"invalid parameter, error: invalid id type at index {i}: expected string, "
                    f"got {go_text(key)}"
                )
        return ids
    out: list[Any] = []
    for i, key in enumerate(ids):
        if isinstance(key, bool):
            raise ParameterError(
                f"invalid parameter, error: invalid id type at index {i}: expected int64"
            )
        if isinstance(key, float) and key == int(key):
            key = int(key)
        elif isinstance(key, str):
            try:
                key = int(key, 10)
            except ValueError:
                raise ParameterError(
                    f"invalid parameter, error: invalid int64 id at index {i}: {key}"
                ) from None
        if not isinstance(key, int):
            raise ParameterError(
                f"invalid parameter, error: invalid int64 id at index {i}: {go_text(key)}"
            )
        out.append(key)
    return out


def _one_search(
    schema: CollectionSchema, sub: RestBody, top: RestBody, params_key: str
) -> SearchRequest:
    """One search: the body of ``entities/search`` or one leg of a hybrid search."""
    anns = sub.optional_text("annsField")
    ids = sub.value("ids") if sub is top else None
    data = sub.value("data")
    if ids and data:
        raise ParameterError(
            "primary keys (ids) and query vectors (data) are mutually exclusive. "
            "Please provide either 'ids' or 'data', not both"
        )
    if not ids and not data:
        raise MissingParameter(
            "either 'ids' (for primary key search) or 'data' (for vector search) must be provided"
            if sub is top
            else "missing required parameters, error: Key: 'data' "
            "Error:Field validation for 'data' failed on the 'required' tag"
        )
    if ids:
        if not isinstance(ids, list):
            raise InvalidJson("can only accept json format request, error: ids must be a list")
        queries: Any = PrimaryKeyQueries(tuple(_typed_keys(schema, ids)))
    else:
        queries = _vectors(schema, anns, data)
    group_by = sub.optional_text("groupingField") or None
    return SearchRequest(
        queries=queries,
        anns_field=anns or None,
        # An explicit limit is the engine's to check (0 is refused, as in Milvus);
        # a hybrid leg without one takes the default.
        limit=sub.integer("limit", DEFAULT_LIMIT)
        if sub is top
        else sub.integer("limit", 0) or DEFAULT_LIMIT,
        offset=sub.integer("offset", 0),
        filter=sub.optional_text("filter"),
        filter_params=_filter_params(sub),
        output_fields=top.text_list("outputFields"),
        partition_names=top.text_list("partitionNames"),
        search_params=_search_params(sub.mapping(params_key), sub.get("metricType")),
        group_by_field=group_by,
        group_size=max(sub.integer("groupSize", 0), 1) if group_by else 1,
        strict_group_size=sub.flag("strictGroupSize") if group_by else False,
        consistency_level=_consistency(top),
    )


def _hits(schema: CollectionSchema, results: Any, body: RestBody, group_by: str | None) -> Reply:
    rows = search_rows(schema, results, group_by, body.allow_int64)
    return Reply(rows, {"topks": list(results.topks)})


@endpoint("entities/search")
def search(engine: EngineAPI, body: RestBody) -> Reply:
    collection = body.collection
    _consistency(body)
    schema = _schema(engine, body)
    ranker = _function_score(body)  # with functionChains too: refused by name first
    _refuse_chains(body, hybrid=False)
    request = _one_search(schema, body, body, "searchParams")
    if ranker is not None:
        request = replace(request, ranker=ranker)
    results = engine.search(body.db, collection, request)
    return _hits(schema, results, body, request.group_by_field)


def _ranker(raw: Any) -> RankerSpec:
    if not isinstance(raw, Mapping) or not raw.get("strategy"):
        raise ParameterError("rerank must be an object naming its strategy (rrf or weighted)")
    params = raw.get("params") or {}
    if not isinstance(params, Mapping):
        raise InvalidJson(
            "can only accept json format request, error: rerank params must be an object"
        )
    return RankerSpec(kind=str(raw["strategy"]).lower(), params=dict(params))


@endpoint("entities/hybrid_search", "entities/advanced_search")
def hybrid_search(engine: EngineAPI, body: RestBody) -> Reply:
    collection = body.collection
    _consistency(body)
    _refuse_chains(body, hybrid=True)
    legs = body.get("search", [])
    if not isinstance(legs, list) or not all(isinstance(leg, Mapping) for leg in legs):
        raise InvalidJson("can only accept json format request, error: search must be a list")
    for leg in legs:
        if leg.get("searchAggregation") is not None:
            raise ParameterError("searchAggregation is not supported for hybrid search")
    schema = _schema(engine, body)
    group_by = body.optional_text("groupingField") or None
    score = _function_score(body)
    if score is not None and len(score.functions) != 1:
        raise NotSupportedError("hybrid search with more than one rank function")
    request = HybridSearchRequest(
        requests=[_one_search(schema, body.with_raw(leg), body, "params") for leg in legs],
        ranker=score.functions[0] if score is not None else _ranker(body.get("rerank")),
        limit=body.integer("limit", DEFAULT_LIMIT) or DEFAULT_LIMIT,
        offset=body.integer("offset", 0),
        output_fields=body.text_list("outputFields"),
        partition_names=body.text_list("partitionNames"),
        group_by_field=group_by,
        group_size=max(body.integer("groupSize", 0), 1) if group_by else 1,
        strict_group_size=body.flag("strictGroupSize") if group_by else False,
        consistency_level=_consistency(body),
    )
    results = engine.hybrid_search(body.db, collection, request)
    return _hits(schema, results, body, group_by)
