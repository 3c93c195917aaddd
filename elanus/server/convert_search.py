"""Search, hybrid search and query requests on the wire ⇄ engine requests and results.

pymilvus sends search settings as string KeyValuePairs (``anns_field``, ``topk``,
``metric_type``, ``params`` as JSON, ``offset``, ``round_decimal``,
``group_by_field`` ...), query vectors as a serialized ``PlaceholderGroup`` and
filter parameters as ``expr_template_values``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import orjson
from pymilvus.grpc_gen import common_pb2, milvus_pb2, schema_pb2

from elanus.engine.requests import (
    ConsistencyLevel,
    FunctionScoreSpec,
    HybridSearchRequest,
    QueryRequest,
    QueryResult,
    RankerSpec,
    SearchRequest,
    SearchResults,
)
from elanus.engine.search_by_key import PrimaryKeyQueries
from elanus.errors import NotSupportedError, ParameterError
from elanus.schema import CollectionSchema, DataType
from elanus.server.convert_data import (
    field_data_from_column,
    fields_data_from_columns,
    ids_from_proto,
    ids_to_proto,
    packed_field,
    sparse_from_rows,
)

__all__ = [
    "consistency_from_proto",
    "function_score_from_proto",
    "hybrid_search_from_proto",
    "query_from_proto",
    "query_result_to_proto",
    "search_from_proto",
    "search_result_to_proto",
    "set_iterator_info",
    "template_values",
]

SchemaSource = Callable[[], CollectionSchema]

_PLACEHOLDER_DTYPES: dict[int, str] = {
    common_pb2.FloatVector: "<f4",
    common_pb2.Float16Vector: "<f2",
    common_pb2.BFloat16Vector: "<u2",
    common_pb2.Int8Vector: "i1",
    common_pb2.BinaryVector: "u1",
}

# Field number of ``scores`` in SearchResultData, for writing it as one packed block.
_SCORES_FIELD = schema_pb2.SearchResultData.DESCRIPTOR.fields_by_name["scores"].number


def consistency_from_proto(request: Any) -> tuple[str | None, int]:
    """(consistency level or None for the collection's default, guarantee timestamp)."""
    level: str | None = None
    if not request.use_default_consistency:
        level = ConsistencyLevel.parse(int(request.consistency_level))
    return level, int(request.guarantee_timestamp)


# --- template values ----------------------------------------------------------------


def _template_array(value: schema_pb2.TemplateArrayValue) -> list[Any]:
    which = value.WhichOneof("data")
    if which is None:
        return []
    payload = getattr(value, which)
    if which == "array_data":
        return [_template_array(v) for v in payload.data]
    if which == "json_data":
        return [orjson.loads(v) for v in payload.data]
    return list(payload.data)


def _template_value(value: schema_pb2.TemplateValue) -> Any:
    which = value.WhichOneof("val")
    if which is None:
        return None
    if which == "array_val":
        return _template_array(value.array_val)
    return getattr(value, which)


def template_values(values: Mapping[str, schema_pb2.TemplateValue]) -> dict[str, Any] | None:
    if not values:
        return None
    return {key: _template_value(v) for key, v in values.items()}


# --- search parameters --------------------------------------------------------------


def _loads(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _int(params: Mapping[str, str], key: str, default: int) -> int:
    text = params.get(key)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise ParameterError(f"{key} [{text}] is invalid, should be an integer") from None


def _bool(params: Mapping[str, str], key: str) -> bool:
    return str(params.get(key, "")).strip().lower() == "true"


# Milvus's limit on query vectors per search request.
MAX_NQ = 16384


def decode_placeholder_group(raw: bytes) -> Any:
    """Query vectors: a 2-D numpy array, a csr_array, or a list of str (text search)."""
    group = common_pb2.PlaceholderGroup.FromString(raw)
    if len(group.placeholders) != 1:
        raise ParameterError("a search takes exactly one placeholder of query vectors")
    holder = group.placeholders[0]
    values = list(holder.values)
    if len(values) > MAX_NQ:
        raise ParameterError(
            f"nq [{len(values)}] is invalid, nq (number of search vector per search request) "
            f"should be in range [1, {MAX_NQ}], but got {len(values)}"
        )
    kind = int(holder.type)
    if kind == common_pb2.VarChar:
        return [v.decode("utf-8") for v in values]
    if kind == common_pb2.SparseFloatVector:
        return sparse_from_rows(values)
    dtype = _PLACEHOLDER_DTYPES.get(kind)
    if dtype is None:
        known = kind in common_pb2.PlaceholderType.values()
        label = common_pb2.PlaceholderType.Name(kind) if known else str(kind)
        raise NotSupportedError(f"search with placeholder type {label} is not supported by Elanus")
    if not values:
        raise ParameterError("search needs at least one query vector")
    width = len(values[0])
    if width == 0 or width % np.dtype(dtype).itemsize or any(len(v) != width for v in values):
        raise ParameterError(
            "query vectors must all have the same dimension, a whole number of "
            f"{np.dtype(dtype).itemsize}-byte values"
        )
    flat = np.frombuffer(b"".join(values), dtype=dtype)
    return flat.reshape(len(values), -1)


def _search_from_params(
    params: Mapping[str, str],
    queries: Any,
    *,
    dsl: str,
    filter_params: dict[str, Any] | None,
    output_fields: list[str] | None,
    partition_names: list[str] | None,
    consistency: tuple[str | None, int],
) -> SearchRequest:
    inner = params.get("params")
    search_params: dict[str, Any] = {}
    if inner:
        parsed = _loads(inner)
        if not isinstance(parsed, dict):
            raise ParameterError(f"search params must be a JSON object, got {inner!r}")
        search_params["params"] = parsed
    if params.get("metric_type"):
        search_params["metric_type"] = params["metric_type"]
    for key in ("hints", "analyzer_name", "ignore_growing"):
        if key in params:
            search_params[key] = _loads(params[key]) if key != "analyzer_name" else params[key]
    group_by = params.get("group_by_field") or None
    order_by = params.get("order_by_fields", "").strip()
    if order_by and _bool(params, "iterator"):
        raise ParameterError("order_by_fields is not supported when using search iterator")
    return SearchRequest(
        queries=queries,
        anns_field=params.get("anns_field") or None,
        limit=_int(params, "topk", 10),
        offset=_int(params, "offset", 0),
        filter=dsl,
        filter_params=filter_params,
        output_fields=output_fields,
        partition_names=partition_names,
        search_params=search_params,
        round_decimal=_int(params, "round_decimal", -1),
        group_by_field=group_by,
        group_size=_int(params, "group_size", 1),
        strict_group_size=_bool(params, "strict_group_size"),
        consistency_level=consistency[0],
        guarantee_timestamp=consistency[1],
        order_by=order_by,
        timezone=params.get("timezone", ""),
    )


def _queries_of(request: milvus_pb2.SearchRequest) -> Any:
    if request.HasField("ids") and request.ids.WhichOneof("id_field"):
        if request.placeholder_group:
            raise ParameterError("Either ids or data must be provided, not both")
        return PrimaryKeyQueries(tuple(ids_from_proto(request.ids)))
    return decode_placeholder_group(request.placeholder_group)


def search_from_proto(request: milvus_pb2.SearchRequest) -> SearchRequest:
    if len(request.function_chains):
        raise NotSupportedError("search function chains are not supported by Elanus")
    params = {kv.key: kv.value for kv in request.search_params}
    built = _search_from_params(
        params,
        _queries_of(request),
        dsl=request.dsl,
        filter_params=template_values(request.expr_template_values),
        output_fields=list(request.output_fields) or None,
        partition_names=list(request.partition_names) or None,
        consistency=consistency_from_proto(request),
    )
    if not request.function_score.functions:
        return built
    return replace(built, ranker=function_score_from_proto(request.function_score))


def _kv_value(text: str) -> Any:
    # pymilvus writes scalars with str(): Python's True/False, not JSON's.
    if text in ("True", "False"):
        return text == "True"
    return _loads(text)


def _function_spec(function: schema_pb2.FunctionSchema) -> RankerSpec:
    params: dict[str, Any] = {kv.key: _kv_value(kv.value) for kv in function.params}
    kind = str(params.pop("reranker", function.name)).lower()
    if function.input_field_names:
        params["input_field_names"] = list(function.input_field_names)
    return RankerSpec(kind=kind, params=params)


def function_score_from_proto(score: schema_pb2.FunctionScore) -> FunctionScoreSpec:
    """A search's ``function_score``: its rerank functions and their shared params."""
    return FunctionScoreSpec(
        functions=tuple(_function_spec(f) for f in score.functions),
        params={kv.key: _kv_value(kv.value) for kv in score.params},
    )


def _ranker_from_function_score(score: schema_pb2.FunctionScore) -> RankerSpec:
    if len(score.functions) != 1:
        raise NotSupportedError("hybrid search with more than one rank function")
    return _function_spec(score.functions[0])


def hybrid_search_from_proto(request: milvus_pb2.HybridSearchRequest) -> HybridSearchRequest:
    rank = {kv.key: kv.value for kv in request.rank_params}
    if request.function_score.functions:
        ranker = _ranker_from_function_score(request.function_score)
    else:
        strategy = rank.get("strategy", "rrf")
        inner = _loads(rank.get("params", "{}"))
        ranker = RankerSpec(
            kind=str(strategy).lower(), params=inner if isinstance(inner, dict) else {}
        )
    consistency = consistency_from_proto(request)
    legs = []
    for sub in request.requests:
        params = {kv.key: kv.value for kv in sub.search_params}
        legs.append(
            _search_from_params(
                params,
                _queries_of(sub),
                dsl=sub.dsl,
                filter_params=template_values(sub.expr_template_values),
                output_fields=None,
                partition_names=list(request.partition_names) or None,
                consistency=consistency,
            )
        )
    return HybridSearchRequest(
        requests=legs,
        ranker=ranker,
        limit=_int(rank, "limit", 10),
        offset=_int(rank, "offset", 0),
        output_fields=list(request.output_fields) or None,
        partition_names=list(request.partition_names) or None,
        round_decimal=_int(rank, "round_decimal", -1),
        group_by_field=rank.get("group_by_field") or None,
        group_size=_int(rank, "group_size", 1),
        strict_group_size=_bool(rank, "strict_group_size"),
        consistency_level=consistency[0],
        guarantee_timestamp=consistency[1],
    )


def search_result_to_proto(
    result: SearchResults, limit: int, schema: SchemaSource, group_by_field: str | None = None
) -> schema_pb2.SearchResultData:
    """SearchResults → SearchResultData. ``schema`` is asked for only when an output
    column's wire type cannot be told from the column itself."""
    data = schema_pb2.SearchResultData(
        num_queries=result.nq,
        top_k=limit,
        topks=[int(k) for k in result.topks],
        output_fields=list(result.output_fields),
        primary_field_name=result.primary_field_name,
    )
    data.ids.CopyFrom(ids_to_proto(result.ids))
    scores = np.asarray(result.distances, dtype="<f4")
    data.MergeFromString(packed_field(_SCORES_FIELD, scores.tobytes()))
    if result.fields:
        data.fields_data.extend(
            fields_data_from_columns(
                result.fields, list(result.fields), _schema_if_needed(result.fields, schema)
            )
        )
    if result.group_by_values is not None and group_by_field:
        name = group_by_field
        field = schema().get(name)
        dtype = field.dtype if field is not None else DataType.VARCHAR
        data.group_by_field_value.CopyFrom(
            field_data_from_column(name, dtype, result.group_by_values)
        )
    data.all_search_count = int(sum(result.topks))
    return data


def set_iterator_info(
    data: schema_pb2.SearchResultData, token: str, last_bound: float | None
) -> None:
    """The search iterator's token and bound, which pymilvus sends back next page."""
    info = data.search_iterator_v2_results
    info.token = token
    if last_bound is not None:
        info.last_bound = float(last_bound)


def _schema_if_needed(columns: Mapping[str, Any], schema: SchemaSource) -> CollectionSchema | None:
    import pyarrow as pa

    for column in columns.values():
        if isinstance(column, (pa.Array, pa.ChunkedArray)) and (
            pa.types.is_string(column.type) or pa.types.is_list(column.type)
        ):
            return schema()
        if isinstance(column, np.ndarray) and column.dtype == np.uint16:
            return schema()
    return None


# --- query --------------------------------------------------------------------------


def query_from_proto(request: milvus_pb2.QueryRequest) -> QueryRequest:
    params = {kv.key: kv.value for kv in request.query_params}
    limit_text = params.get("limit")
    level, guarantee = consistency_from_proto(request)
    order_by = params.get("order_by_fields", "").strip()
    if order_by and _bool(params, "iterator"):
        raise ParameterError("ORDER BY with iterator is not supported")
    if order_by and not limit_text:
        raise ParameterError("ORDER BY requires explicit limit")
    return QueryRequest(
        filter=request.expr,
        output_fields=list(request.output_fields) or None,
        partition_names=list(request.partition_names) or None,
        limit=None if not limit_text else _int(params, "limit", 0),
        offset=_int(params, "offset", 0),
        filter_params=template_values(request.expr_template_values),
        consistency_level=level,
        guarantee_timestamp=guarantee,
        order_by_pk=_bool(params, "iterator"),
        order_by=order_by,
        group_by_fields=[f for f in params.get("group_by_fields", "").split(",") if f.strip()]
        or None,
        timezone=params.get("timezone", ""),
    )


def query_result_to_proto(
    result: QueryResult, schema: SchemaSource, collection_name: str
) -> milvus_pb2.QueryResults:
    reply = milvus_pb2.QueryResults(
        collection_name=collection_name,
        output_fields=list(result.output_fields),
    )
    names = list(result.columns)
    reply.fields_data.extend(
        fields_data_from_columns(result.columns, names, _schema_if_needed(result.columns, schema))
    )
    return reply
