"""REST v2 schemas and indexes: Milvus's camelCase JSON ⇄ elanus schema values.

Type names on this API are Milvus's protobuf names ("Int64", "VarChar",
"FloatVector", ...); field options sit in ``elementTypeParams``; index settings
are ``{fieldName, indexName, metricType, indexType, params}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymilvus.grpc_gen import schema_pb2

from elanus.engine.api import CollectionInfo, IndexInfo
from elanus.engine.requests import IndexSpec
from elanus.errors import ParameterError, SchemaError
from elanus.schema import CollectionSchema, DataType, FieldSchema, FunctionSchema

__all__ = [
    "collection_json",
    "data_type",
    "index_json",
    "index_specs",
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


def data_type(name: Any) -> DataType:
    """A type as REST writes it ("FloatVector", "VarChar"), or any ``DataType.parse`` form."""
    if isinstance(name, str):
        key = name.strip().replace("_", "").upper()
        for member in DataType:
            if member.name.replace("_", "") == key:
                return member
    try:
        return DataType.parse(name)
    except ValueError:
        raise SchemaError(f"invalid data type: {name}") from None


def type_name(dtype: DataType) -> str:
    """Milvus's name of a type (its protobuf enum name)."""
    return str(schema_pb2.DataType.Name(int(dtype)))


def _int_param(value: Any, key: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SchemaError(f"{key} must be an integer, got {value!r}") from None


def _field(raw: Any, auto_id: bool) -> FieldSchema:
    if not isinstance(raw, Mapping):
        raise SchemaError("each schema field must be an object")
    params: dict[str, Any] = {}
    for key, value in dict(raw.get("elementTypeParams") or {}).items():
        params[key] = (
            _int_param(value, key) if key in ("dim", "max_length", "max_capacity") else value
        )
    element = raw.get("elementDataType")
    primary = bool(raw.get("isPrimary", False))
    return FieldSchema(
        name=str(raw.get("fieldName", "")),
        dtype=data_type(raw.get("dataType", "")),
        description=str(raw.get("description") or ""),
        is_primary=primary,
        auto_id=primary and bool(raw.get("autoId", auto_id)),
        nullable=bool(raw.get("nullable", False)),
        default_value=raw.get("defaultValue"),
        is_partition_key=bool(raw.get("isPartitionKey", False)),
        is_clustering_key=bool(raw.get("isClusteringKey", False)),
        element_type=data_type(element) if element else None,
        params=params,
    )


def _function(raw: Any) -> FunctionSchema:
    if not isinstance(raw, Mapping):
        raise SchemaError("each schema function must be an object")
    try:
        return FunctionSchema.from_dict(
            {
                "name": raw.get("name", ""),
                "description": raw.get("description", ""),
                "type": raw.get("type", 0),
                "input_field_names": list(raw.get("inputFieldNames") or ()),
                "output_field_names": list(raw.get("outputFieldNames") or ()),
                "params": dict(raw.get("params") or {}),
            }
        )
    except ValueError as exc:
        raise SchemaError(str(exc)) from None


def schema_from_json(raw: Any) -> CollectionSchema:
    """The ``schema`` object of a collection create."""
    if not isinstance(raw, Mapping):
        raise SchemaError("schema must be an object")
    auto_id = bool(raw.get("autoId", raw.get("autoID", False)))
    return CollectionSchema(
        fields=tuple(_field(f, auto_id) for f in raw.get("fields") or ()),
        description=str(raw.get("description") or ""),
        enable_dynamic_field=bool(
            raw.get("enableDynamicField", raw.get("enabledDynamicField", False))
        ),
        functions=tuple(_function(f) for f in raw.get("functions") or ()),
    )


def quick_schema(body: Mapping[str, Any]) -> tuple[CollectionSchema, IndexSpec]:
    """Quick setup: a primary key, one float vector of ``dimension``, the dynamic
    field, and an AUTOINDEX on the vector with ``metricType`` (COSINE by default)."""
    dimension = body.get("dimension")
    if not isinstance(dimension, int) or isinstance(dimension, bool):
        raise ParameterError(f"dimension value {dimension!r} is illegal")
    id_type = data_type(body.get("idType") or "Int64")
    pk_name = str(body.get("primaryFieldName") or "id")
    vector_name = str(body.get("vectorFieldName") or "vector")
    params = dict(body.get("params") or {})
    if id_type == DataType.VARCHAR:
        pk_params = {"max_length": _int_param(params.get("max_length", 65535), "max_length")}
    elif id_type == DataType.INT64:
        pk_params = {}
    else:
        raise ParameterError("Primary key type must be in int64 or varchar")
    schema = CollectionSchema(
        fields=(
            FieldSchema(
                name=pk_name,
                dtype=id_type,
                is_primary=True,
                auto_id=bool(body.get("autoID", body.get("autoId", False))),
                params=pk_params,
            ),
            FieldSchema(name=vector_name, dtype=DataType.FLOAT_VECTOR, params={"dim": dimension}),
        ),
        enable_dynamic_field=bool(body.get("enableDynamicField", True)),
    )
    index = IndexSpec(
        field_name=vector_name,
        index_type="AUTOINDEX",
        index_name=vector_name,
        metric_type=str(body.get("metricType") or "COSINE"),
    )
    return schema, index


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
        params = dict(item.get("params") or {})
        index_type = item.get("indexType") or params.pop("index_type", None) or "AUTOINDEX"
        params.pop("index_type", None)
        metric = item.get("metricType") or params.pop("metric_type", None)
        field_name = str(item.get("fieldName") or "")
        specs.append(
            IndexSpec(
                field_name=field_name,
                index_type=str(index_type),
                index_name=str(item.get("indexName") or ""),
                metric_type=None if metric in (None, "") else str(metric),
                params=params,
            )
        )
    return specs


def _kv(mapping: Mapping[str, Any]) -> list[dict[str, str]]:
    return [{"key": str(k), "value": str(v)} for k, v in mapping.items()]


def _field_json(f: FieldSchema) -> dict[str, Any]:
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
    }
    if f.params:
        out["params"] = _kv(f.params)
    if f.element_type is not None:
        out["elementType"] = type_name(f.element_type)
    if f.default_value is not None:
        out["defaultValue"] = f.default_value
    return out


def _function_json(fn: FunctionSchema) -> dict[str, Any]:
    return {
        "name": fn.name,
        "description": fn.description,
        "type": fn.function_type.name,
        "inputFieldNames": list(fn.input_field_names),
        "outputFieldNames": list(fn.output_field_names),
        "params": _kv(fn.params),
    }


def collection_json(
    info: CollectionInfo, indexes: list[IndexInfo], load_state: str
) -> dict[str, Any]:
    """``collections/describe``'s data."""
    schema = info.schema
    pk = next((f for f in schema.fields if f.is_primary), None)
    return {
        "collectionName": info.name,
        "collectionID": info.collection_id,
        "dbName": info.database,
        "description": schema.description,
        "autoId": bool(pk is not None and pk.auto_id),
        "enableDynamicField": schema.enable_dynamic_field,
        "fields": [_field_json(f) for f in schema.fields if not f.is_dynamic],
        "functions": [_function_json(fn) for fn in schema.functions],
        "aliases": list(info.aliases),
        "indexes": [
            {"fieldName": i.field_name, "indexName": i.index_name, "metricType": i.metric_type}
            for i in indexes
        ],
        "load": load_state_name(load_state),
        "shardsNum": info.num_shards,
        "partitionsNum": info.num_partitions,
        "consistencyLevel": info.consistency_level,
        "properties": _kv(info.properties),
        "createTime": info.created_timestamp,
    }


def index_json(info: IndexInfo) -> dict[str, Any]:
    """One entry of ``indexes/describe``'s data."""
    return {
        "fieldName": info.field_name,
        "indexName": info.index_name,
        "indexType": info.index_type,
        "metricType": info.metric_type,
        "params": dict(info.params),
        "indexState": info.state,
        "totalRows": info.total_rows,
        "indexedRows": info.indexed_rows,
        "pendingRows": info.pending_index_rows,
        "failReason": info.fail_reason,
    }
