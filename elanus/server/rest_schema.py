"""REST v2 schemas and indexes: Milvus's camelCase JSON ⇄ elanus schema values.

A schema in JSON is first built into the wire form (``schema_pb2``) the way
Milvus's REST layer builds it (type names matched case-sensitively, type params
as text, default values checked against the field's type), then read by the same
``convert_schema`` code the gRPC API uses, so both APIs accept and refuse alike.
Index settings are ``{fieldName, indexName, metricType, indexType, params}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pymilvus.grpc_gen import schema_pb2

from elanus.engine.api import CollectionInfo, IndexInfo
from elanus.engine.requests import IndexSpec
from elanus.errors import NotSupportedError, ParameterError, SchemaError
from elanus.schema import CollectionSchema, DataType, FieldSchema, FunctionSchema
from elanus.server.convert_schema import (
    field_from_proto,
    function_from_proto,
    index_user_params,
    kv_pairs,
    schema_from_proto,
)
from elanus.server.rest_body import RestBody, go_text, invalid

__all__ = [
    "collection_json",
    "field_from_json",
    "function_from_json",
    "function_proto",
    "index_json",
    "index_specs",
    "load_state_name",
    "quick_schema",
    "schema_from_json",
    "type_name",
]

_LOAD_STATES = {
    "NotExist": "LoadStateNotExist",
    "NotLoad": "LoadStateNotLoad",
    "Loading": "LoadStateLoading",
    "Loaded": "LoadStateLoaded",
}


def load_state_name(state: str) -> str:
    return _LOAD_STATES.get(state, f"LoadState{state}")


def type_name(dtype: DataType) -> str:
    """Milvus's name of a type (its protobuf enum name)."""
    return str(schema_pb2.DataType.Name(int(dtype)))


# --- in ----------------------------------------------------------------------------


def _wire_type(name: Any, what: str) -> int:
    """A type name as Milvus matches it: the exact protobuf name."""
    try:
        return int(schema_pb2.DataType.Value(str(name)))
    except ValueError:
        raise ParameterError(
            f"invalid parameter, {what} {go_text(name)} is invalid(case sensitive)."
        ) from None


def _param_text(value: Any) -> str:
    """A type param as Milvus keeps it: text as given, anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value == int(value):
        value = int(value)
    return orjson.dumps(value).decode()


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]interface {}"


_INT_TYPES = frozenset({"Int8", "Int16", "Int32"})
_NUMBER_SLOTS = {"Int64": ("long_data", "long"), "Float": ("float_data", "float")}


def _default_value(out: schema_pb2.FieldSchema, dtype: str, value: Any) -> None:
    """``defaultValue`` into its slot, refused as Milvus refuses a mismatch."""
    shown = f'"{go_text(value)}"(type: {_go_type(value)})'

    def refuse(text: str) -> ParameterError:
        return ParameterError(f"convert defaultValue fail, err:{text}: invalid parameter")

    number = isinstance(value, int | float) and not isinstance(value, bool)
    if dtype == "Bool":
        if not isinstance(value, bool):
            raise refuse(f"cannot use {shown} as bool default value")
        out.default_value.bool_data = value
    elif dtype in _INT_TYPES:
        if not number:
            raise refuse(f'cannot use "{shown} as int default value')
        out.default_value.int_data = int(value)
    elif dtype == "Int64":
        if not number:
            raise refuse(f"cannot use {shown} as long default value")
        out.default_value.long_data = int(value)
    elif dtype in ("Float", "Double"):
        if not number:
            raise refuse(f"cannot use {shown} as float default value")
        if dtype == "Float":
            out.default_value.float_data = float(value)
        else:
            out.default_value.double_data = float(value)
    elif dtype in ("VarChar", "String", "Timestamptz", "Geometry", "Text"):
        if not isinstance(value, str):
            raise refuse(f"cannot use {shown} as string default value")
        out.default_value.string_data = value
    else:
        raise refuse(f"Unexpected default value type: {dtype}")


def _field_proto(raw: Any, auto_id: bool, outputs: set[str]) -> schema_pb2.FieldSchema:
    if not isinstance(raw, Mapping):
        raise SchemaError("each schema field must be an object")
    f = RestBody(raw)
    dtype = f.text("dataType")
    element = f.optional_text("elementDataType")
    if dtype == "ArrayOfStruct" or (dtype == "Array" and element == "Struct"):
        raise NotSupportedError("array of struct fields are not supported by Elanus")
    out = schema_pb2.FieldSchema(
        name=f.text("fieldName"),
        description=f.optional_text("description"),
        data_type=_wire_type(dtype, "data type"),
        is_primary_key=f.flag("isPrimary"),
        is_partition_key=f.flag("isPartitionKey"),
        is_clustering_key=f.flag("isClusteringKey"),
        nullable=f.flag("nullable"),
    )
    out.autoID = out.is_primary_key and auto_id
    if dtype in ("Array", "ArrayOfVector"):
        out.element_type = _wire_type(element, "element data type")
    default = f.value("defaultValue")
    if default is not None:
        _default_value(out, dtype, default)
    for key, value in f.mapping("elementTypeParams").items():
        out.type_params.add(key=str(key), value=_param_text(value))
    out.is_function_output = out.name in outputs
    return out


def function_proto(raw: Any) -> schema_pb2.FunctionSchema:
    """One ``functions`` entry as the wire's ``FunctionSchema`` (type names exact)."""
    if not isinstance(raw, Mapping):
        raise SchemaError("each schema function must be an object")
    fn = RestBody(raw)
    kind = fn.text("type")
    try:
        number = int(schema_pb2.FunctionType.Value(kind))
    except ValueError:
        raise ParameterError(f"Unsupported function type: {kind}") from None
    out = schema_pb2.FunctionSchema(
        name=fn.text("name"),
        description=fn.optional_text("description"),
        type=number,
        input_field_names=fn.text_list("inputFieldNames") or [],
        output_field_names=fn.text_list("outputFieldNames") or [],
    )
    for key, value in fn.mapping("params").items():
        text = orjson.dumps(value).decode() if isinstance(value, list | dict) else go_text(value)
        out.params.add(key=str(key), value=text)
    return out


def schema_from_json(raw: Mapping[str, Any], description: Any = None) -> CollectionSchema:
    """The ``schema`` object of a collection create."""
    body = RestBody(raw)
    if body.value("structFields"):
        raise NotSupportedError("array of struct fields are not supported by Elanus")
    if body.value("externalSource") or body.value("externalSpec"):
        raise NotSupportedError("external collections are not supported by Elanus")
    functions = [function_proto(f) for f in body.get("functions", [])]
    outputs = {name for fn in functions for name in fn.output_field_names}
    auto_id = body.flag("autoID")
    proto = schema_pb2.CollectionSchema(
        description=description if isinstance(description, str) else "",
        enable_dynamic_field=body.flag("enableDynamicField"),
    )
    proto.fields.extend(_field_proto(f, auto_id, outputs) for f in body.get("fields", []))
    proto.functions.extend(functions)
    return schema_from_proto(proto)


def field_from_json(raw: Any) -> FieldSchema:
    """The ``schema`` of ``collections/fields/add``: one field, read as the gRPC
    ``AddCollectionField`` reads its field."""
    if not isinstance(raw, Mapping):
        raise SchemaError("schema must be an object describing the field")
    return field_from_proto(_field_proto(raw, False, set()))


def function_from_json(raw: Any) -> FunctionSchema:
    return function_from_proto(function_proto(raw))


_QUICK_TYPES = {
    "": DataType.FLOAT_VECTOR,
    "FloatVector": DataType.FLOAT_VECTOR,
    "BinaryVector": DataType.BINARY_VECTOR,
    "Float16Vector": DataType.FLOAT16_VECTOR,
    "BFloat16Vector": DataType.BFLOAT16_VECTOR,
    "SparseFloatVector": DataType.SPARSE_FLOAT_VECTOR,
}
_QUICK_TYPE_NAMES = "FloatVector, BinaryVector, Float16Vector, BFloat16Vector, SparseFloatVector"


def _quick_metric(dtype: DataType, metric: str) -> str:
    """The quick setup's metric: its type's default, or one its AUTOINDEX takes."""
    if dtype == DataType.BINARY_VECTOR:
        metric = metric or "HAMMING"
        if metric not in ("HAMMING", "JACCARD"):
            raise invalid(
                "valid index params",
                "invalid index params",
                f"binary vector index does not support metric type: {metric}",
            )
    elif dtype == DataType.SPARSE_FLOAT_VECTOR:
        metric = metric or "IP"
        if metric not in ("IP", "BM25"):
            raise invalid(
                "valid index params",
                "invalid index params",
                "only IP&BM25 is the supported metric type for sparse index",
            )
        if metric == "BM25":
            raise invalid(
                "valid index params",
                "invalid index params",
                "only BM25 Function output field support BM25 metric type",
            )
    else:
        metric = metric or "COSINE"
        if metric not in ("L2", "IP", "COSINE"):
            raise invalid(
                "valid index params",
                "invalid index params",
                f"float vector index does not support metric type: {metric}",
            )
    return metric


def quick_schema(body: RestBody) -> tuple[CollectionSchema, IndexSpec]:
    """Quick setup: a primary key, one vector field (``vectorFieldType``, a float
    vector of ``dimension`` by default), the dynamic field unless
    ``params.enableDynamicField`` says otherwise, and an AUTOINDEX on the vector."""
    if body.get("schema", {}).get("functions"):
        raise invalid(
            "schema", "functions", "functions are not supported for quickly create collection"
        )
    kind = body.optional_text("vectorFieldType")
    if kind not in _QUICK_TYPES:
        raise invalid(
            _QUICK_TYPE_NAMES,
            kind,
            f"vectorFieldType can only be [{_QUICK_TYPE_NAMES}], default: FloatVector",
        )
    vector_type = _QUICK_TYPES[kind]
    dimension = body.integer("dimension", 0)
    if vector_type == DataType.SPARSE_FLOAT_VECTOR and dimension != 0:
        raise invalid(
            0, dimension, "dimension should not be specified for SparseFloatVector quick create"
        )
    if vector_type != DataType.SPARSE_FLOAT_VECTOR and dimension == 0:
        raise invalid(
            "collectionName & dimension",
            "collectionName",
            "dimension is required for quickly create collection(default metric type: COSINE)",
        )
    metric = _quick_metric(vector_type, body.optional_text("metricType"))
    params = body.mapping("params")
    id_kind = body.optional_text("idType")
    if id_kind in ("VarChar", "Varchar"):
        pk = schema_pb2.FieldSchema(data_type=int(DataType.VARCHAR))
        pk.type_params.add(key="max_length", value=go_text(params.get("max_length")))
    elif id_kind in ("", "Int64", "int64"):
        pk = schema_pb2.FieldSchema(data_type=int(DataType.INT64))
    else:
        raise invalid(
            "Int64, Varchar", id_kind, "idType can only be [Int64, VarChar], default: Int64"
        )
    dynamic = True
    if "enableDynamicField" in params:
        text = go_text(params["enableDynamicField"])
        if text.lower() not in ("1", "t", "true", "0", "f", "false"):
            raise ParameterError(
                "parse enableDynamicField fail, err:strconv.ParseBool: parsing "
                f'"{text}": invalid syntax'
            )
        dynamic = text.lower() in ("1", "t", "true")
    pk.name = body.optional_text("primaryFieldName") or "id"
    pk.is_primary_key = True
    pk.autoID = body.flag("autoID")
    vector = schema_pb2.FieldSchema(
        name=body.optional_text("vectorFieldName") or "vector", data_type=int(vector_type)
    )
    if vector_type != DataType.SPARSE_FLOAT_VECTOR:
        vector.type_params.add(key="dim", value=str(dimension))
    proto = schema_pb2.CollectionSchema(
        description=body.optional_text("description"), enable_dynamic_field=dynamic
    )
    proto.fields.extend([pk, vector])
    index = IndexSpec(
        field_name=vector.name, index_type="AUTOINDEX", index_name=vector.name, metric_type=metric
    )
    return schema_from_proto(proto), index


def index_specs(raw: Any) -> list[IndexSpec]:
    """``indexParams``: a list of ``{fieldName, indexName, metricType, indexType, params}``;
    ``params.index_type`` is read as the type too, as Milvus does."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ParameterError("indexParams must be a list of objects")
    specs: list[IndexSpec] = []
    for item in raw:
        if not isinstance(item, Mapping):
            raise ParameterError("each of indexParams must be an object")
        entry = RestBody(item)
        params = entry.mapping("params")
        index_type = entry.optional_text("indexType") or go_text(params.pop("index_type", ""))
        params.pop("index_type", None)
        metric = entry.optional_text("metricType") or params.pop("metric_type", None)
        specs.append(
            IndexSpec(
                field_name=entry.text("fieldName"),
                index_type=index_type or "AUTOINDEX",
                index_name=entry.optional_text("indexName"),
                metric_type=None if metric in (None, "") else str(metric),
                params=params,
            )
        )
    return specs


# --- out ---------------------------------------------------------------------------


def _kv(mapping: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"key": kv.key, "value": kv.value} for kv in kv_pairs(mapping)]


# The slot of Milvus's ``ValueField`` a default sits in, by field type; describe
# writes the value as Go marshals that message: ``{"Data": {"<Slot>": value}}``.
_DEFAULT_SLOTS = {
    DataType.BOOL: "BoolData",
    DataType.INT8: "IntData",
    DataType.INT16: "IntData",
    DataType.INT32: "IntData",
    DataType.INT64: "LongData",
    DataType.FLOAT: "FloatData",
    DataType.DOUBLE: "DoubleData",
}


def _default_json(f: FieldSchema) -> dict[str, Any]:
    return {"Data": {_DEFAULT_SLOTS.get(f.dtype, "StringData"): f.default_value}}


def _field_json(f: FieldSchema, outputs: frozenset[str] | set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": f.name,
        "id": f.field_id,
        "type": type_name(f.dtype),
        "description": f.description,
        "primaryKey": f.is_primary,
        "autoId": f.auto_id,
        "partitionKey": f.is_partition_key,
        "clusteringKey": f.is_clustering_key,
        "nullable": f.nullable,
        "params": _kv(f.params),
    }
    if f.element_type is not None:
        out["elementType"] = type_name(f.element_type)
    if f.default_value is not None:
        out["defaultValue"] = _default_json(f)
    if f.name in outputs or f.is_function_output:
        out["isFunctionOutput"] = True
    return out


def _function_json(fn: FunctionSchema, number: int) -> dict[str, Any]:
    return {
        "name": fn.name,
        "id": number,
        "description": fn.description,
        "type": int(fn.function_type),
        "inputFieldNames": list(fn.input_field_names),
        "outputFieldNames": list(fn.output_field_names),
        "params": _kv(fn.params),
    }


def collection_json(
    info: CollectionInfo, indexes: list[IndexInfo], load_state: str
) -> dict[str, Any]:
    """``collections/describe``'s data."""
    schema = info.schema
    outputs = set(schema.function_output_names)
    return {
        "collectionName": info.name,
        "collectionID": info.collection_id,
        "dbName": info.database,
        "description": schema.description,
        "autoId": schema.primary_field.auto_id,
        "enableDynamicField": schema.enable_dynamic_field,
        "fields": [_field_json(f, outputs) for f in schema.fields if not f.is_dynamic],
        "structFields": [],
        "functions": [_function_json(fn, n) for n, fn in enumerate(schema.functions, 1)],
        "aliases": list(info.aliases),
        "indexes": [
            {
                "fieldName": i.field_name,
                "indexName": i.index_name,
                "metricType": i.metric_type or "COSINE",
            }
            for i in indexes
        ],
        "load": load_state_name(load_state),
        "shardsNum": info.num_shards,
        "partitionsNum": info.num_partitions,
        "consistencyLevel": info.consistency_level,
        "externalSource": "",
        "externalSpec": "",
        "properties": _kv(info.properties),
        "createTime": info.created_timestamp,
    }


_INDEX_STATES = {"Finished": "Finished", "InProgress": "InProgress", "Failed": "Failed"}


def index_json(info: IndexInfo) -> dict[str, Any]:
    """One entry of ``indexes/describe``'s data."""
    user = index_user_params(info)
    return {
        "indexName": info.index_name,
        "fieldName": info.field_name,
        "indexType": info.index_type,
        "metricType": info.metric_type or "",
        "mmap.enabled": info.properties.get("mmap.enabled", ""),
        "indexoffsetcache.enabled": info.properties.get("indexoffsetcache.enabled", ""),
        "warmup": info.properties.get("warmup", ""),
        "totalRows": info.total_rows,
        "pendingRows": info.pending_index_rows,
        "indexedRows": info.indexed_rows,
        "indexState": _INDEX_STATES.get(info.state, "IndexStateNone"),
        "failReason": info.fail_reason,
        "minIndexVersion": 0,
        "maxIndexVersion": 0,
        "indexParams": _kv(user),
    }
